//! The server's keys: they sign access tokens and invitation links and encrypt TOTP
//! secrets. They live outside the database — in a key file beside it (created 0600) or in
//! the `GATEHOUSE_KEYS` environment variable — so a copy of the database alone (a backup,
//! a stolen disk image) neither forges tokens nor reads anyone's authenticator secret.
//!
//! Every key has an id. The first key is current: it signs and encrypts. The others still
//! verify and decrypt, which is what lets a key be rotated without ending every session:
//! `gatehouse-server keys rotate` puts a new key first, re-encrypts the TOTP secrets, and
//! tokens signed with the old key keep working until they expire; `keys retire` removes
//! the old key once nothing needs it.
//!
//! The file has one key per line, `<id> <created> <base64 of 32 bytes>`; `#` starts a
//! comment. The variable holds the same lines, or the same entries separated by commas.

use crate::store::{Db, secrets};
use crate::tokens::{hex, random_bytes};
use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE_NO_PAD as B64URL};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use gatehouse_api::Secret;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The id the key inherited from the database gets: tokens from before ids existed name no
/// key, and are checked against this one.
pub const LEGACY_KEY_ID: &str = "k0";

/// How a sealed secret starts: `gh1:<key id>:<base64 of nonce ‖ ciphertext>`. A TOTP secret
/// is base32, which has no `:`, so a value without this prefix is a secret stored before
/// encryption existed.
const SEALED_PREFIX: &str = "gh1:";

/// The server's keys, current first.
#[derive(Clone)]
pub struct ServerKeys {
    keys: Vec<Key>,
}

#[derive(Clone)]
struct Key {
    id: String,
    created: String,
    secret: Secret<[u8; 32]>,
}

impl Key {
    fn generate(created: &str) -> Self {
        Self { id: format!("k{}", hex(&random_bytes::<4>())), created: created.to_owned(), secret: Secret::new(random_bytes::<32>()) }
    }

    /// The encryption key, derived so that no byte string is ever both a MAC key and a
    /// cipher key.
    fn cipher(&self) -> XChaCha20Poly1305 {
        let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(self.secret.expose()) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC takes keys of any length"),
        };
        mac.update(b"gatehouse totp-secret seal v1");
        XChaCha20Poly1305::new(&mac.finalize().into_bytes())
    }
}

/// Why a sealed secret could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// It was sealed with a key this server does not have.
    #[error("sealed with key {0}, which is not among the server's keys (was the key file replaced or a key retired too early?)")]
    UnknownKey(String),
    /// The key is there but the value does not decrypt: altered, or moved to another user.
    #[error("does not decrypt: altered, or copied from another user")]
    Corrupt,
}

impl ServerKeys {
    /// One new random key.
    pub fn generate(today: &str) -> Self {
        Self { keys: vec![Key::generate(today)] }
    }

    /// One key of known bytes named `id` (tests, and the key inherited from the database).
    pub fn single(id: &str, bytes: [u8; 32]) -> Self {
        Self { keys: vec![Key { id: id.to_owned(), created: today(), secret: Secret::new(bytes) }] }
    }

    fn checked(keys: Vec<Key>) -> anyhow::Result<Self> {
        if keys.is_empty() {
            bail!("no keys");
        }
        for (i, key) in keys.iter().enumerate() {
            if key.id.is_empty() || !key.id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()) || key.id.len() > 32 {
                bail!("key id {:?} must be 1 to 32 lowercase letters and digits", key.id);
            }
            if keys[..i].iter().any(|k| k.id == key.id) {
                bail!("key id {} appears twice", key.id);
            }
        }
        Ok(Self { keys })
    }

    /// Parses the key file's text (or the variable's).
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let mut keys = Vec::new();
        let entries = text.lines().flat_map(|line| line.split('#').next().unwrap_or_default().split(','));
        for (n, line) in entries.enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (id, created, material) = match fields[..] {
                [id, created, material] => (id, created, material),
                [id, material] => (id, "-", material),
                _ => bail!("entry {}: expected `<id> <created> <base64 key>`", n + 1),
            };
            let bytes = B64.decode(material).ok().and_then(|b| <[u8; 32]>::try_from(b).ok());
            let Some(bytes) = bytes else { bail!("entry {} (key {id}): the key must be 32 bytes in standard base64", n + 1) };
            keys.push(Key { id: id.to_owned(), created: created.to_owned(), secret: Secret::new(bytes) });
        }
        Self::checked(keys).context("reading the server keys")
    }

    /// The key file's text.
    pub fn render(&self) -> String {
        let mut out = String::from(
            "# Gatehouse server keys: they sign access tokens and invitation links and encrypt TOTP secrets.\n\
             # Keep this file private (0600) and back it up with the database: without it, every signed-in\n\
             # user signs in again and every enrolled user enrols their authenticator again.\n\
             # The first key is current; the others still verify and decrypt. See `gatehouse-server keys --help`.\n",
        );
        for key in &self.keys {
            out.push_str(&format!("{} {} {}\n", key.id, key.created, B64.encode(key.secret.expose())));
        }
        out
    }

    /// The current key's id.
    pub fn current_id(&self) -> &str {
        &self.keys[0].id
    }

    /// (id, created) of every key, current first.
    pub fn list(&self) -> Vec<(&str, &str)> {
        self.keys.iter().map(|k| (k.id.as_str(), k.created.as_str())).collect()
    }

    /// The MAC key named `id`.
    pub(crate) fn mac_key(&self, id: &str) -> Option<&[u8]> {
        self.keys.iter().find(|k| k.id == id).map(|k| k.secret.expose().as_slice())
    }

    /// These keys with a new current one in front.
    pub fn rotated(&self, today: &str) -> Self {
        let mut keys = vec![Key::generate(today)];
        keys.extend(self.keys.iter().cloned());
        Self { keys }
    }

    /// These keys without `id`, which must not be the current one.
    pub fn without(&self, id: &str) -> anyhow::Result<Self> {
        if self.current_id() == id {
            bail!("{id} is the current key; rotate first, then retire it");
        }
        if !self.keys.iter().any(|k| k.id == id) {
            bail!("there is no key {id}");
        }
        Ok(Self { keys: self.keys.iter().filter(|k| k.id != id).cloned().collect() })
    }

    /// Encrypts `plaintext` (a TOTP secret) for the user `owner`: the user's id is bound in,
    /// so a sealed value copied onto another user's row does not open.
    pub fn seal(&self, owner: &str, plaintext: &str) -> String {
        let key = &self.keys[0];
        let nonce = random_bytes::<24>();
        let sealed = match key.cipher().encrypt(XNonce::from_slice(&nonce), Payload { msg: plaintext.as_bytes(), aad: owner.as_bytes() }) {
            Ok(sealed) => sealed,
            Err(_) => unreachable!("XChaCha20-Poly1305 encrypts any message shorter than 256 GiB"),
        };
        let mut blob = nonce.to_vec();
        blob.extend(sealed);
        format!("{SEALED_PREFIX}{}:{}", key.id, B64URL.encode(blob))
    }

    /// Decrypts what [`Self::seal`] made for `owner`. A value stored before encryption
    /// existed comes back as it is.
    pub fn open(&self, owner: &str, stored: &str) -> Result<Secret, OpenError> {
        let Some(rest) = stored.strip_prefix(SEALED_PREFIX) else { return Ok(Secret::new(stored.to_owned())) };
        let (id, blob) = rest.split_once(':').ok_or(OpenError::Corrupt)?;
        let key = self.keys.iter().find(|k| k.id == id).ok_or_else(|| OpenError::UnknownKey(id.to_owned()))?;
        let blob = B64URL.decode(blob).map_err(|_| OpenError::Corrupt)?;
        if blob.len() < 24 {
            return Err(OpenError::Corrupt);
        }
        let (nonce, sealed) = blob.split_at(24);
        let plain =
            key.cipher().decrypt(XNonce::from_slice(nonce), Payload { msg: sealed, aad: owner.as_bytes() }).map_err(|_| OpenError::Corrupt)?;
        String::from_utf8(plain).map(Secret::new).map_err(|_| OpenError::Corrupt)
    }

    /// Whether `stored` is sealed with the current key (nothing to re-encrypt).
    fn is_current(&self, stored: &str) -> bool {
        stored.strip_prefix(SEALED_PREFIX).and_then(|r| r.split_once(':')).is_some_and(|(id, _)| id == self.current_id())
    }
}

impl std::fmt::Debug for ServerKeys {
    /// Ids only: key material never reaches a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerKeys").field("ids", &self.keys.iter().map(|k| k.id.as_str()).collect::<Vec<_>>()).finish()
    }
}

/// Today's date as a key's `created`, `YYYY-MM-DD` (UTC).
pub fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}

/// The keys a running server uses, and where they came from. The key file is looked at
/// again (a `stat`) at most every [`RECHECK_INTERVAL`] before signing, and whenever a token
/// or a sealed secret names a key this process lacks; it is read again only when it
/// changed. So a rotation or a retirement made by `gatehouse-server keys` reaches every
/// running process within a second, without a restart, and a made-up key id costs a
/// `stat`, never a read that could crowd out a real one.
#[derive(Debug)]
pub struct KeyRing {
    source: KeySource,
    keys: std::sync::RwLock<Arc<ServerKeys>>,
    seen: std::sync::Mutex<Seen>,
}

/// The key file as it was when last read, and when it was last looked at.
#[derive(Debug, Default)]
struct Seen {
    stamp: Option<Stamp>,
    checked: Option<std::time::Instant>,
}

/// What tells a changed file: its size, modification time and inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<std::time::SystemTime>,
    inode: u64,
}

fn stamp(path: &Path) -> Option<Stamp> {
    let meta = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&meta);
    #[cfg(not(unix))]
    let inode = 0;
    Some(Stamp { len: meta.len(), modified: meta.modified().ok(), inode })
}

/// The longest a running process signs with keys the key file no longer holds.
pub const RECHECK_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

impl KeyRing {
    /// Keys loaded from `source`.
    pub fn new(source: KeySource, keys: ServerKeys) -> Self {
        let stamp = match &source {
            KeySource::File(path) => stamp(path),
            KeySource::Inline(_) => None,
        };
        Self { source, keys: std::sync::RwLock::new(Arc::new(keys)), seen: std::sync::Mutex::new(Seen { stamp, checked: None }) }
    }

    /// Fixed keys, never reloaded (tests).
    pub fn fixed(keys: ServerKeys) -> Self {
        Self::new(KeySource::Inline(Secret::new(String::new())), keys)
    }

    fn loaded(&self) -> Arc<ServerKeys> {
        self.keys.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// The keys as they are now.
    pub fn current(&self) -> Arc<ServerKeys> {
        self.refresh(false);
        self.loaded()
    }

    /// Reads the key file again if it changed since it was read; `force`: look now, however
    /// recently it was looked at. A file that is gone or unreadable leaves the keys in
    /// memory as they are (and says so once per change).
    fn refresh(&self, force: bool) {
        let KeySource::File(path) = &self.source else { return };
        let mut seen = self.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if !force && seen.checked.is_some_and(|t| t.elapsed() < RECHECK_INTERVAL) {
            return;
        }
        seen.checked = Some(std::time::Instant::now());
        let now = stamp(path);
        if now == seen.stamp {
            return;
        }
        seen.stamp = now;
        match read_file(path) {
            Ok(Some(fresh)) => {
                tracing::info!(key = fresh.current_id(), "the key file changed: using its keys");
                *self.keys.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(fresh);
            }
            Ok(None) => tracing::warn!(file = %path.display(), "the key file is gone; keeping the keys read before"),
            Err(e) => tracing::warn!(error = %format!("{e:#}"), "re-reading the key file failed; keeping the keys read before"),
        }
    }

    /// Keys that include `id`: the current ones, or the key file's if it changed and now
    /// has it; `None` if neither has it.
    pub fn with_key(&self, id: &str) -> Option<Arc<ServerKeys>> {
        let keys = self.current();
        if keys.mac_key(id).is_some() {
            return Some(keys);
        }
        self.refresh(true);
        Some(self.loaded()).filter(|k| k.mac_key(id).is_some())
    }

    /// [`ServerKeys::seal`] with the current key.
    pub fn seal(&self, owner: &str, plaintext: &str) -> String {
        self.current().seal(owner, plaintext)
    }

    /// [`ServerKeys::open`], reading the key file again if the value names a newer key.
    pub fn open(&self, owner: &str, stored: &str) -> Result<Secret, OpenError> {
        match self.current().open(owner, stored) {
            Err(OpenError::UnknownKey(id)) => match self.with_key(&id) {
                Some(keys) => keys.open(owner, stored),
                None => Err(OpenError::UnknownKey(id)),
            },
            other => other,
        }
    }
}

/// Where the keys come from.
#[derive(Clone, Debug)]
pub enum KeySource {
    /// A key file, created with a new key (0600) when missing.
    File(PathBuf),
    /// The keys themselves (the `GATEHOUSE_KEYS` variable): nothing is written.
    Inline(Secret),
}

impl KeySource {
    /// Why a PostgreSQL database needs its keys named.
    pub const NEEDED_WITH_POSTGRES: &str = "with a PostgreSQL database, give the server keys with --keys-file or GATEHOUSE_KEYS: \
         every server node must use the same keys, so none is made up beside a database file";

    /// The variable if set, else the file given, else the file beside a SQLite database
    /// (`db`); a PostgreSQL database has no file to put keys beside.
    pub fn choose(inline: Option<String>, file: Option<PathBuf>, db: Option<&Path>) -> anyhow::Result<Self> {
        match (inline.filter(|s| !s.trim().is_empty()), file, db) {
            (Some(text), _, _) => Ok(Self::Inline(Secret::new(text))),
            (None, Some(file), _) => Ok(Self::File(file)),
            (None, None, Some(db)) => Ok(Self::File(key_file_beside(db))),
            (None, None, None) => anyhow::bail!("{}", Self::NEEDED_WITH_POSTGRES),
        }
    }
}

/// `gatehouse.db` → `gatehouse.keys`, in the same directory.
pub fn key_file_beside(db: &Path) -> PathBuf {
    db.with_extension("keys")
}

/// Loads the keys from `source`, creating the key file when it is missing.
///
/// Databases from before key files kept the signing key in `server_secrets`: that key moves
/// into the new file as [`LEGACY_KEY_ID`], current, so every token already out keeps
/// working, and leaves the database. `keys rotate` then gives a key the database never held.
pub async fn load(pool: &Db, source: &KeySource) -> anyhow::Result<ServerKeys> {
    let legacy = secrets::legacy_signing_key(pool).await?;
    let keys = match source {
        KeySource::Inline(text) => {
            let keys = ServerKeys::parse(text.expose()).context("GATEHOUSE_KEYS")?;
            if legacy.is_some() {
                tracing::warn!(
                    "the signing key in the database is dropped for the keys in GATEHOUSE_KEYS: signed-in apps refresh their \
                     access token, and invitation links sent before now must be resent"
                );
            }
            keys
        }
        KeySource::File(path) => match read_file(path)? {
            Some(keys) => keys,
            None => {
                let sealed = secrets::count_with_prefix(pool, SEALED_PREFIX).await?;
                if sealed > 0 {
                    bail!(
                        "the key file {} is missing, but {sealed} TOTP secrets in the database are encrypted with the keys it held; \
                         restore it from the backup of this server (or pass --keys-file / GATEHOUSE_KEYS where the keys are). \
                         A new key would leave those users unable to sign in",
                        path.display()
                    );
                }
                let fresh = match legacy.as_deref().and_then(|b| <[u8; 32]>::try_from(b).ok()) {
                    Some(bytes) => ServerKeys::single(LEGACY_KEY_ID, bytes),
                    None => ServerKeys::generate(&today()),
                };
                create_file(path, &fresh)?;
                // Another server process may have created it first: what is on disk wins.
                let keys = read_file(path)?.with_context(|| format!("{} vanished while being created", path.display()))?;
                tracing::info!(file = %path.display(), key = keys.current_id(), "created the server key file");
                keys
            }
        },
    };
    if legacy.is_some() {
        secrets::forget_legacy_signing_key(pool).await?;
    }
    Ok(keys)
}

/// The keys in `path`; `None` if there is no such file. A file others can read is
/// tightened to 0600.
fn read_file(path: &Path) -> anyhow::Result<Option<ServerKeys>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading the key file {}", path.display())),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(path)?;
        if meta.permissions().mode() & 0o077 != 0 {
            // A read-only mount (a container's secret) cannot be tightened: say so and go on.
            match std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)) {
                Ok(()) => tracing::warn!(file = %path.display(), "the key file was readable by others; restricted it to its owner"),
                Err(e) => tracing::warn!(file = %path.display(), error = %e, "the key file is readable by others and cannot be restricted"),
            }
        }
    }
    ServerKeys::parse(&text).with_context(|| format!("in the key file {}", path.display())).map(Some)
}

/// Writes `keys` to a private temporary file beside `path`, synced, and returns its path.
fn write_private_temp(path: &Path, keys: &ServerKeys) -> anyhow::Result<PathBuf> {
    use std::io::Write;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let tmp = dir.join(format!(".{}.{}.tmp", path.file_name().and_then(|n| n.to_str()).unwrap_or("keys"), hex(&random_bytes::<6>())));
    let mut open = std::fs::OpenOptions::new();
    open.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
    let mut file = open.open(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    file.write_all(keys.render().as_bytes())?;
    file.sync_all()?;
    Ok(tmp)
}

/// Creates `path` holding `keys` unless it exists: written whole to a temporary file, then
/// linked into place, so no process ever reads half a key file and two starting at once
/// agree on one.
fn create_file(path: &Path, keys: &ServerKeys) -> anyhow::Result<()> {
    let tmp = write_private_temp(path, keys)?;
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => sync_dir(path),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e).with_context(|| format!("creating the key file {}", path.display())),
    }
}

/// Replaces the key file at `path` with `keys`, atomically.
pub fn replace_file(path: &Path, keys: &ServerKeys) -> anyhow::Result<()> {
    let tmp = write_private_temp(path, keys)?;
    std::fs::rename(&tmp, path).with_context(|| format!("replacing the key file {}", path.display()))?;
    sync_dir(path)
}

/// Makes the new directory entry of `path` durable before anything relies on it (the
/// database key it replaces is deleted, secrets are sealed with it).
fn sync_dir(path: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        std::fs::File::open(dir).and_then(|d| d.sync_all()).with_context(|| format!("syncing {}", dir.display()))?;
    }
    Ok(())
}

/// Re-encrypts with the current key every TOTP secret stored in plain text or under an
/// older key; returns how many. Each row is replaced only if it still holds what was read,
/// so a user enrolling meanwhile loses nothing. A secret that does not open is left as it
/// is and reported.
pub async fn reseal(pool: &Db, keys: &ServerKeys) -> anyhow::Result<u64> {
    let current = format!("{SEALED_PREFIX}{}:", keys.current_id());
    let mut changed = 0;
    for column in secrets::TotpColumn::ALL {
        let rows = secrets::without_prefix(pool, column, &current).await?;
        for (user, stored) in rows {
            if keys.is_current(&stored) {
                continue;
            }
            match keys.open(&user, &stored) {
                Ok(plain) => {
                    let sealed = keys.seal(&user, plain.expose());
                    changed += u64::from(secrets::replace(pool, column, &user, &stored, &sealed).await?);
                }
                Err(e) => tracing::error!(user = %user, column = column.as_str(), error = %e, "a TOTP secret could not be re-encrypted"),
            }
        }
    }
    Ok(changed)
}

/// How many stored TOTP secrets still need the key `id`.
pub async fn secrets_under(pool: &Db, id: &str) -> anyhow::Result<i64> {
    Ok(secrets::count_with_prefix(pool, &format!("{SEALED_PREFIX}{id}:")).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_running_server_picks_up_a_key_another_process_rotated_in() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gatehouse.keys");
        let old = ServerKeys::generate("2026-12-01");
        create_file(&path, &old).unwrap();
        let ring = KeyRing::new(KeySource::File(path.clone()), read_file(&path).unwrap().unwrap());
        // Another process rotates and seals a secret with the new key.
        let rotated = old.rotated("2026-12-07");
        replace_file(&path, &rotated).unwrap();
        let sealed = rotated.seal("u", "SECRET");
        assert_eq!(ring.open("u", &sealed).unwrap().expose(), "SECRET");
        assert_eq!(ring.current().current_id(), rotated.current_id(), "and signs with it from now on");
        // Made-up key ids, however many, are not found and do not stop the next rotation
        // from being taken up.
        for _ in 0..5 {
            assert!(ring.with_key("kmadeup").is_none());
        }
        let again = rotated.rotated("2026-12-08");
        replace_file(&path, &again).unwrap();
        assert!(ring.with_key("kmadeup").is_none());
        assert!(ring.with_key(again.current_id()).is_some());
        // A retired key stops verifying in the running process too, at its next look at the
        // file (within RECHECK_INTERVAL; here at once).
        replace_file(&path, &again.without(old.current_id()).unwrap()).unwrap();
        ring.refresh(true);
        assert!(ring.with_key(old.current_id()).is_none());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }

    #[test]
    fn sealed_secrets_open_only_for_their_user_and_with_their_key() {
        let keys = ServerKeys::generate("2026-12-07");
        let sealed = keys.seal("user-1", "JBSWY3DPEHPK3PXP");
        assert!(sealed.starts_with(&format!("gh1:{}:", keys.current_id())));
        assert!(!sealed.contains("JBSWY3DPEHPK3PXP"));
        assert_eq!(keys.open("user-1", &sealed).unwrap().expose(), "JBSWY3DPEHPK3PXP");
        assert!(matches!(keys.open("user-2", &sealed), Err(OpenError::Corrupt)), "bound to its user");
        let other = ServerKeys::generate("2026-12-07");
        assert!(matches!(other.open("user-1", &sealed), Err(OpenError::UnknownKey(_))));
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(matches!(keys.open("user-1", &tampered), Err(OpenError::Corrupt)));
        // Two seals of one secret differ (random nonces).
        assert_ne!(keys.seal("user-1", "JBSWY3DPEHPK3PXP"), sealed);
        // Legacy plain text passes through.
        assert_eq!(keys.open("user-1", "JBSWY3DPEHPK3PXP").unwrap().expose(), "JBSWY3DPEHPK3PXP");
    }

    #[test]
    fn rotation_keeps_old_keys_for_opening_and_retiring_refuses_the_current() {
        let keys = ServerKeys::generate("2026-12-01");
        let sealed = keys.seal("u", "SECRET");
        let rotated = keys.rotated("2026-12-07");
        assert_ne!(rotated.current_id(), keys.current_id());
        assert_eq!(rotated.open("u", &sealed).unwrap().expose(), "SECRET");
        assert!(rotated.without(rotated.current_id()).is_err());
        let retired = rotated.without(keys.current_id()).unwrap();
        assert_eq!(retired.list().len(), 1);
        assert!(retired.without("nope").is_err());
    }

    #[test]
    fn the_file_format_round_trips_and_bad_entries_say_what_is_wrong() {
        let keys = ServerKeys::generate("2026-12-01").rotated("2026-12-07");
        let parsed = ServerKeys::parse(&keys.render()).unwrap();
        assert_eq!(parsed.list(), keys.list());
        assert_eq!(parsed.open("u", &keys.seal("u", "S")).unwrap().expose(), "S");
        // The variable's comma-separated form.
        let inline = keys.render().lines().filter(|l| !l.starts_with('#')).collect::<Vec<_>>().join(",");
        assert_eq!(ServerKeys::parse(&inline).unwrap().list(), keys.list());

        let err = format!("{:#}", ServerKeys::parse("k1 2026-01-01 c2hvcnQ=").err().unwrap());
        assert!(err.contains("32 bytes"), "{err}");
        let err = format!("{:#}", ServerKeys::parse("# only a comment\n").err().unwrap());
        assert!(err.contains("no keys"), "{err}");
        let twice = format!("k1 {}\nk1 {}", B64.encode([1u8; 32]), B64.encode([2u8; 32]));
        assert!(format!("{:#}", ServerKeys::parse(&twice).err().unwrap()).contains("twice"));
        for bad_id in ["k:1", "K1"] {
            assert!(ServerKeys::parse(&format!("{bad_id} {}", B64.encode([1u8; 32]))).is_err(), "{bad_id}");
        }
    }

    #[test]
    fn debug_output_never_shows_key_material() {
        let keys = ServerKeys::single("k1", [0x41; 32]);
        let shown = format!("{keys:?}");
        assert_eq!(shown, r#"ServerKeys { ids: ["k1"] }"#);
        assert!(!shown.contains(&B64.encode([0x41u8; 32])));
    }
}
