//! Access and refresh tokens.
//!
//! An access token is `gha_<key id>.<payload>.<mac>`: the payload names the session and the
//! expiry, the MAC (HMAC-SHA-256 over the key id and the payload, with the server key of
//! that id — see [`crate::keys`]) makes it unforgeable. Tokens from before key ids,
//! `gha_<payload>.<mac>`, are checked against the key inherited from the database. It proves nothing on its own: every request
//! also checks the session row, which is what makes revocation effective at once.
//! A refresh token is `ghr_<256 random bits>`; only its SHA-256 is stored.

use crate::keys::{KeyRing, LEGACY_KEY_ID, ServerKeys};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::{DateTime, TimeZone, Utc};
use gatehouse_api::{ACCESS_TOKEN_PREFIX, INVITATION_TOKEN_PREFIX, REFRESH_TOKEN_PREFIX, Secret};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::sync::Arc;

type HmacSha256 = Hmac<Sha256>;

/// Signs and verifies tokens with the server's keys: the current one signs, any verifies.
#[derive(Clone, Debug)]
pub struct SigningKey(Arc<KeyRing>);

impl SigningKey {
    /// Signs with the keys of `ring`.
    pub fn new(ring: Arc<KeyRing>) -> Self {
        Self(ring)
    }

    /// Fixed keys, for tests.
    pub fn fixed(keys: ServerKeys) -> Self {
        Self(Arc::new(KeyRing::fixed(keys)))
    }

    /// One key of raw bytes, for tests: `id` names it.
    pub fn from_bytes(id: &str, bytes: [u8; 32]) -> Self {
        Self::fixed(ServerKeys::single(id, bytes))
    }

    fn mac(keys: &ServerKeys, id: &str) -> Option<HmacSha256> {
        // HMAC accepts keys of any length, so this cannot fail.
        Some(match HmacSha256::new_from_slice(keys.mac_key(id)?) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC takes keys of any length"),
        })
    }

    /// `<prefix><key id>.<payload>.<mac>`, the payload base64url-encoded.
    fn sign(&self, prefix: &str, payload: &str) -> Secret {
        let keys = self.0.current();
        let id = keys.current_id();
        let signed = format!("{id}.{}", B64.encode(payload));
        let Some(mut mac) = Self::mac(&keys, id) else { unreachable!("the current key is among the keys") };
        mac.update(signed.as_bytes());
        let sig = B64.encode(mac.finalize().into_bytes());
        Secret::new(format!("{prefix}{signed}.{sig}"))
    }

    /// The payload of a token [`Self::sign`] made with `prefix`; `None` if forged, malformed
    /// or signed with a key the server no longer has.
    fn verified(&self, prefix: &str, token: &str) -> Option<String> {
        let body = token.strip_prefix(prefix)?;
        let (signed, sig) = body.rsplit_once('.')?;
        let (id, payload) = match signed.split_once('.') {
            Some((id, payload)) => (id, payload),
            // From before key ids: the key that came from the database.
            None => (LEGACY_KEY_ID, signed),
        };
        let sig = B64.decode(sig).ok()?;
        let keys = self.0.with_key(id)?;
        let mut mac = Self::mac(&keys, id)?;
        mac.update(signed.as_bytes());
        mac.verify_slice(&sig).ok()?;
        String::from_utf8(B64.decode(payload).ok()?).ok()
    }

    /// Issues an access token for `session_id` that expires at `expires_at`.
    pub fn issue_access(&self, session_id: &str, expires_at: DateTime<Utc>) -> Secret {
        self.sign(ACCESS_TOKEN_PREFIX, &format!("1:{session_id}:{}", expires_at.timestamp()))
    }

    /// Verifies an access token's MAC and returns (session id, expiry); `None` if forged
    /// or malformed. Expiry is the caller's to check against its clock.
    pub fn verify_access(&self, token: &str) -> Option<(String, DateTime<Utc>)> {
        let decoded = self.verified(ACCESS_TOKEN_PREFIX, token)?;
        let mut parts = decoded.splitn(3, ':');
        if parts.next()? != "1" {
            return None;
        }
        let session_id = parts.next()?.to_owned();
        let exp = Utc.timestamp_opt(parts.next()?.parse().ok()?, 0).single()?;
        Some((session_id, exp))
    }

    /// The token of invitation `id` at `generation`: an HMAC under this key, so nothing
    /// secret is stored and a resend (a new generation) invalidates every older link.
    pub fn invitation_token(&self, id: &str, generation: i64) -> Secret {
        self.sign(INVITATION_TOKEN_PREFIX, &format!("inv:{id}:{generation}"))
    }

    /// The (invitation id, generation) an invitation token names; `None` if forged or
    /// malformed.
    pub fn verify_invitation(&self, token: &str) -> Option<(String, i64)> {
        let decoded = self.verified(INVITATION_TOKEN_PREFIX, token.trim())?;
        let rest = decoded.strip_prefix("inv:")?;
        let (id, generation) = rest.rsplit_once(':')?;
        Some((id.to_owned(), generation.parse().ok()?))
    }
}

/// A fresh random refresh token.
pub fn new_refresh_token() -> Secret {
    new_token(REFRESH_TOKEN_PREFIX)
}

/// A fresh random 256-bit token with `prefix` (`ghp_` reset links, `ghd_` trusted devices…).
pub fn new_token(prefix: &str) -> Secret {
    Secret::new(format!("{prefix}{}", B64.encode(random_bytes::<32>())))
}

/// The stored form of a refresh token (hex SHA-256).
pub fn hash_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    hex(&digest)
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `N` bytes from the OS random source.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    buf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_token_round_trips_and_rejects_tampering() {
        let key = SigningKey::from_bytes("k1", [7; 32]);
        let exp = Utc.timestamp_opt(2_000_000_000, 0).unwrap();
        let token = key.issue_access("sess-1", exp);
        assert!(token.expose().starts_with("gha_"));
        assert_eq!(key.verify_access(token.expose()), Some(("sess-1".to_owned(), exp)));

        let other = SigningKey::from_bytes("k1", [8; 32]);
        assert_eq!(other.verify_access(token.expose()), None, "another key's token is forged");

        let forged = token.expose().replacen("gha_", "gha_x", 1);
        assert_eq!(key.verify_access(&forged), None);
        assert_eq!(key.verify_access("gha_"), None);
        assert_eq!(key.verify_access("Bearer nonsense"), None);
    }

    #[test]
    fn invitation_tokens_name_their_generation_and_resist_forgery() {
        let key = SigningKey::from_bytes("k1", [7; 32]);
        let token = key.invitation_token("0190-abc", 3);
        assert!(token.expose().starts_with("ghi_"));
        assert_eq!(key.verify_invitation(token.expose()), Some(("0190-abc".to_owned(), 3)));
        assert_eq!(SigningKey::from_bytes("k1", [8; 32]).verify_invitation(token.expose()), None);
        // An access token's MAC does not make an invitation token.
        let access = key.issue_access("s", Utc.timestamp_opt(2_000_000_000, 0).unwrap());
        assert_eq!(key.verify_invitation(&access.expose().replacen("gha_", "ghi_", 1)), None);
        assert_eq!(key.verify_invitation("ghi_garbage"), None);
    }

    #[test]
    fn tokens_name_their_key_so_rotation_keeps_them_valid() {
        let exp = Utc.timestamp_opt(2_000_000_000, 0).unwrap();
        let old = ServerKeys::generate("2026-12-01");
        let before = SigningKey::fixed(old.clone()).issue_access("s", exp);
        assert!(before.expose().starts_with(&format!("gha_{}.", old.current_id())));
        let rotated = SigningKey::fixed(old.rotated("2026-12-07"));
        assert_eq!(rotated.verify_access(before.expose()), Some(("s".to_owned(), exp)), "signed by the old key, still valid");
        let after = rotated.issue_access("s", exp);
        assert!(!after.expose().starts_with(&format!("gha_{}.", old.current_id())), "the new key signs");
        // Once the old key is retired, its tokens stop verifying.
        let retired = SigningKey::fixed(old.rotated("2026-12-07").without(old.current_id()).unwrap());
        assert_eq!(retired.verify_access(before.expose()), None);
        // A token cannot claim another key id: the id is under the MAC.
        let relabelled = before.expose().replacen(old.current_id(), rotated.0.current().current_id(), 1);
        assert_eq!(rotated.verify_access(&relabelled), None);
    }

    #[test]
    fn tokens_from_before_key_ids_verify_with_the_inherited_key() {
        // `gha_<payload>.<mac>` with HMAC over the payload, as servers before key files made.
        let raw = [5u8; 32];
        let payload = B64.encode("1:sess-9:2000000000");
        let mut mac = HmacSha256::new_from_slice(&raw).unwrap();
        mac.update(payload.as_bytes());
        let legacy = format!("gha_{payload}.{}", B64.encode(mac.finalize().into_bytes()));
        let inherited = SigningKey::from_bytes(LEGACY_KEY_ID, raw);
        assert_eq!(inherited.verify_access(&legacy).map(|(s, _)| s), Some("sess-9".to_owned()));
        assert_eq!(SigningKey::from_bytes("k1", raw).verify_access(&legacy), None, "only the inherited key checks them");
    }

    #[test]
    fn refresh_tokens_are_random_and_hashed() {
        let a = new_refresh_token();
        let b = new_refresh_token();
        assert_ne!(a.expose(), b.expose());
        assert!(a.expose().starts_with("ghr_"));
        assert_eq!(hash_token(a.expose()).len(), 64);
        assert_ne!(hash_token(a.expose()), hash_token(b.expose()));
    }
}
