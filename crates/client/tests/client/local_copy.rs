//! This computer's copy of an organization (issue 18, data at rest): its files are private
//! to their owner, signing out can remove it (never silently dropping queued changes), and
//! a session the server revoked removes it.

use crate::outbox::sign_in;
use crate::server::{OWNER, ServerProcess};
use gatehouse_client::api::{OutboxAction, UserListQuery, UserPatch};
use gatehouse_client::{Cache, Error, Removal};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Every file in `dir`, with its mode.
fn files(dir: &Path) -> Vec<(String, u32)> {
    let mut found: Vec<(String, u32)> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), mode(&p))).collect();
    found.sort();
    found
}

async fn id_of(cache: &Cache, q: &str) -> String {
    cache.list_users(&UserListQuery { q: Some(q.into()), ..Default::default() }).await.unwrap().items.remove(0).id
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// What is on disk of the cache at `path`: the file and its companions, end to end.
fn bytes_on_disk(path: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for suffix in ["", "-wal", "-shm", "-journal"] {
        if let Ok(bytes) = std::fs::read(format!("{}{suffix}", path.display())) {
            all.extend(bytes);
        }
    }
    all
}

#[tokio::test]
async fn the_cache_is_written_0600_in_a_0700_directory() {
    // The usual umask, which would leave SQLite's files readable by everyone (0644).
    // SAFETY: umask only sets the process's file-creation mask.
    unsafe { libc::umask(0o022) };
    let server = ServerProcess::start_seeded(&["--events", "300"], &[]);
    let admin = sign_in(&server.url, OWNER).await;
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("data/connections");
    let cache = Cache::open(&dir.join("acme.db")).await.unwrap();
    admin.sync(&cache, |_| {}).await.unwrap();
    admin.refresh_activity_window(&cache, chrono::Utc::now()).await.unwrap();
    let casey = id_of(&cache, "member@acme.test").await;
    cache.enqueue_user_edit(&casey, &UserPatch { first_name: Some("Cassie".into()), ..Default::default() }).await.unwrap();

    // While it is open and written: the database, its WAL and its shared memory.
    let open = files(&dir);
    let names: Vec<&str> = open.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["acme.db", "acme.db-shm", "acme.db-wal"], "{open:?}");
    assert!(open.iter().all(|(_, m)| *m == 0o600), "every cache file is 0600: {open:?}");
    assert_eq!((mode(&dir), mode(&root.path().join("data"))), (0o700, 0o700), "the directories it made are 0700");

    // A cache of an older version, world-readable in a world-readable folder, is tightened.
    drop(cache);
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    for (name, _) in &open {
        std::fs::set_permissions(dir.join(name), std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let cache = Cache::open(&dir.join("acme.db")).await.unwrap();
    assert_eq!(cache.outbox().await.unwrap().len(), 1);
    assert_eq!(mode(&dir), 0o700);
    let reopened = files(&dir);
    assert!(reopened.iter().all(|(_, m)| *m == 0o600), "{reopened:?}");
}

#[tokio::test]
async fn signing_out_with_removal_deletes_the_copy_and_keeps_only_what_was_kept() {
    let server = ServerProcess::start_seeded(&["--events", "300"], &[]);
    let admin = sign_in(&server.url, OWNER).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("acme.db");
    let cache = Cache::open(&path).await.unwrap();
    admin.sync(&cache, |_| {}).await.unwrap();
    admin.refresh_activity_window(&cache, chrono::Utc::now()).await.unwrap();
    assert!(cache.activity_stats().await.unwrap().0 > 0, "activity is cached");
    assert!(contains(&bytes_on_disk(&path), "riley"), "the directory is on disk before");

    // Nothing queued: the files go, and the closed cache refuses to be used.
    admin.sign_out().await.unwrap();
    assert_eq!(cache.remove().await.unwrap(), Removal::Everything);
    assert_eq!(files(dir.path()), Vec::<(String, u32)>::new(), "no file is left");
    assert!(matches!(cache.list_users(&UserListQuery::default()).await, Err(Error::NotSignedIn)));
    assert_eq!(cache.remove().await.unwrap(), Removal::Everything, "a second removal does nothing more");

    // Changes queued and kept: only they stay; the directory, activity and invitations go.
    let admin = sign_in(&server.url, OWNER).await;
    let cache = Cache::open(&path).await.unwrap();
    admin.sync(&cache, |_| {}).await.unwrap();
    admin.refresh_activity_window(&cache, chrono::Utc::now()).await.unwrap();
    let casey = id_of(&cache, "member@acme.test").await;
    cache.enqueue_user_edit(&casey, &UserPatch { first_name: Some("Cassie".into()), ..Default::default() }).await.unwrap();
    admin.sign_out().await.unwrap();
    assert_eq!(cache.remove().await.unwrap(), Removal::KeptQueuedChanges(1));
    assert_eq!(files(dir.path()).iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["acme.db"], "no WAL left behind");
    let disk = bytes_on_disk(&path);
    assert!(!contains(&disk, "riley"), "other users' rows are gone from the file, free pages included");
    assert!(contains(&disk, "Cassie"), "the queued edit is kept");

    let kept = Cache::open(&path).await.unwrap();
    assert_eq!(kept.list_users(&UserListQuery::default()).await.unwrap().items.len(), 0);
    assert_eq!(kept.activity_stats().await.unwrap().0, 0);
    assert!(kept.list_invitations(None, None, chrono::Utc::now()).await.unwrap().items.is_empty());
    assert_eq!(kept.cursor().await.unwrap(), None, "the next sign-in syncs in full");
    // It goes out at the next sign-in, as the admin chose.
    let admin = sign_in(&server.url, OWNER).await;
    admin.sync(&kept, |_| {}).await.unwrap();
    assert_eq!(admin.replay(&kept).await.unwrap().confirmed, 1);
    let shown = kept.list_users(&UserListQuery { q: Some("member@acme.test".into()), ..Default::default() }).await.unwrap();
    assert_eq!(shown.items[0].first_name, "Cassie");
}

#[tokio::test]
async fn a_session_revoked_on_the_server_removes_the_copy_at_the_next_sync() {
    let server = ServerProcess::start(&[]);
    let admin = sign_in(&server.url, OWNER).await;
    let member = sign_in(&server.url, "member@acme.test").await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("member.db");
    let cache = Cache::open(&path).await.unwrap();
    member.sync(&cache, |_| {}).await.unwrap();
    assert!(!member.session_revoked());

    // An admin forces the member out (every session of theirs is revoked).
    let admin_dir = tempfile::tempdir().unwrap();
    let admin_cache = Cache::open(&admin_dir.path().join("admin.db")).await.unwrap();
    admin.sync(&admin_cache, |_| {}).await.unwrap();
    let member_id = id_of(&admin_cache, "member@acme.test").await;
    let entry = admin_cache.enqueue_user_action(&member_id, OutboxAction::Logout).await.unwrap();
    assert_eq!(admin.send_entry(&admin_cache, entry.seq).await.unwrap().confirmed, 1);

    let err = member.sync(&cache, |_| {}).await.unwrap_err();
    assert!(matches!(err, Error::SessionExpired { .. }), "{err:?}");
    assert!(member.session_revoked());
    assert_eq!(files(dir.path()), Vec::<(String, u32)>::new(), "the revoked session's copy is gone");
    assert!(matches!(cache.list_users(&UserListQuery::default()).await, Err(Error::NotSignedIn)));
    assert!(!admin_cache.list_users(&UserListQuery::default()).await.unwrap().items.is_empty(), "the admin's copy is untouched");
}

#[tokio::test]
async fn a_revocation_seen_by_another_request_first_still_removes_the_copy() {
    let server = ServerProcess::start(&[]);
    let admin = sign_in(&server.url, OWNER).await;
    let member = sign_in(&server.url, "member@acme.test").await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("member.db");
    let cache = Cache::open(&path).await.unwrap();
    member.sync(&cache, |_| {}).await.unwrap();
    let casey = id_of(&cache, "member@acme.test").await;
    // A change of the member's own, queued: the revocation must not drop it.
    cache.enqueue_user_edit(&casey, &UserPatch { first_name: Some("Cassie".into()), ..Default::default() }).await.unwrap();

    let sessions = admin.user_sessions(&casey, &Default::default()).await.unwrap();
    for session in sessions.items.iter().filter(|s| s.revoked_at.is_none()) {
        admin.revoke_session(&session.id).await.unwrap();
    }
    // Any request learns it first (here the account's own), then the keyring entry is gone.
    assert!(matches!(member.me().await.unwrap_err(), Error::SessionExpired { .. }));
    let err = member.sync(&cache, |_| {}).await.unwrap_err();
    assert!(matches!(err, Error::NotSignedIn), "{err:?}");
    let kept = Cache::open(&path).await.unwrap();
    assert_eq!(kept.outbox().await.unwrap().len(), 1, "the queued change is kept");
    assert!(kept.list_users(&UserListQuery::default()).await.unwrap().items.is_empty(), "the directory is gone");
}

#[tokio::test]
async fn signing_out_oneself_is_not_a_revocation_and_keeps_the_copy() {
    let server = ServerProcess::start(&[]);
    let admin = sign_in(&server.url, OWNER).await;
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(&dir.path().join("acme.db")).await.unwrap();
    admin.sync(&cache, |_| {}).await.unwrap();
    // Keeping the copy at sign-out is the admin's choice: a later sync must not undo it.
    admin.sign_out().await.unwrap();
    assert!(matches!(admin.sync(&cache, |_| {}).await, Err(Error::NotSignedIn)));
    assert!(!admin.session_revoked());
    assert!(!cache.list_users(&UserListQuery::default()).await.unwrap().items.is_empty());
}
