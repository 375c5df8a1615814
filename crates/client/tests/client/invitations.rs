//! Invitations through the client against a real server: inviting and the CSV import go
//! online (a retry with the same key e-mails nobody twice); the invitations reach the
//! cache through the change feed and stay readable offline.

use crate::outbox::sign_in;
use crate::server::{OWNER, ServerProcess};
use gatehouse_client::api::{IdentityProvider, InvitationStatus, NewInvitations, codes};
use gatehouse_client::{Cache, Error};

async fn mail_count(server: &ServerProcess, kind: &str) -> i64 {
    let db = sqlx::SqlitePool::connect(&format!("sqlite://{}", server.db_path().display())).await.unwrap();
    sqlx::query_scalar("SELECT COUNT(*) FROM mail_outbox WHERE kind = ?").bind(kind).fetch_one(&db).await.unwrap()
}

#[tokio::test]
async fn invitations_sync_into_the_cache_and_stay_readable_offline() {
    let mut server = ServerProcess::start(&["--dev-mailbox"]);
    let client = sign_in(&server.url, OWNER).await;
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(&dir.path().join("cache.db")).await.unwrap();
    client.sync(&cache, |_| {}).await.unwrap();
    let seeded = cache.list_invitations(None, None, chrono::Utc::now()).await.unwrap();
    assert!(seeded.counts.pending > 0 && seeded.counts.expired > 0, "the demo has live and expired invitations: {:?}", seeded.counts);

    let new = NewInvitations {
        emails: vec!["new.hire@example.test".into(), "second.hire@example.test".into()],
        roles: vec!["manager".into()],
        identity_provider: IdentityProvider::Any,
        message: Some("Welcome aboard".into()),
        ..Default::default()
    };
    let created = client.invite(&new, "key-1").await.unwrap();
    assert_eq!(created.invitations.len(), 2);
    assert!(created.invitations.iter().all(|i| i.status == InvitationStatus::Pending && i.roles[0].key == "manager"));
    // A retry of the same submission (its answer lost) e-mails nobody twice.
    let again = client.invite(&new, "key-1").await.unwrap();
    assert_eq!(again.invitations[0].id, created.invitations[0].id);
    let before = mail_count(&server, "invitation").await;
    assert_eq!(before, 2, "two e-mails, not four");
    // The same addresses with a new key are refused: they have open invitations.
    let refused = client.invite(&new, "key-2").await.unwrap_err();
    assert!(matches!(&refused, Error::Api(p) if p.code == codes::ALREADY_INVITED), "{refused:?}");

    client.sync(&cache, |_| {}).await.unwrap();
    let pending = cache.list_invitations(Some(InvitationStatus::Pending), Some("hire@example"), chrono::Utc::now()).await.unwrap();
    assert_eq!(pending.items.len(), 2, "both came through the feed");
    assert_eq!(pending.counts.pending, 2, "the counts apply the search");

    let id = created.invitations[0].id.clone();
    let link = client.invitation_link(&id).await.unwrap();
    assert!(link.link.expose().contains("token=ghi_"));
    client.revoke_invitation(&id, "key-3").await.unwrap();
    client.sync(&cache, |_| {}).await.unwrap();
    let revoked = cache.list_invitations(Some(InvitationStatus::Revoked), Some("new.hire"), chrono::Utc::now()).await.unwrap();
    assert_eq!(revoked.items.len(), 1);

    // A week later (as the cache's reader sees it) the other one has expired, offline.
    server.kill();
    let later = chrono::Utc::now() + chrono::Duration::days(8);
    let expired = cache.list_invitations(Some(InvitationStatus::Expired), Some("second.hire"), later).await.unwrap();
    assert_eq!(expired.items.len(), 1, "expiry is judged on reading, without the server");
    assert!(matches!(client.invitation_link(&created.invitations[1].id).await, Err(Error::Unreachable { .. })));

    // Nothing secret reached the cache file.
    drop(cache);
    let mut read = 0;
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        // The WAL and shared-memory files go away as the pool closes behind `drop`.
        let Ok(bytes) = std::fs::read(entry.unwrap().path()) else { continue };
        read += 1;
        assert!(!String::from_utf8_lossy(&bytes).contains("ghi_"), "no invitation token in the cache");
    }
    assert!(read > 0, "the cache file was read");
}

#[tokio::test]
async fn the_csv_import_reports_each_row_and_sends_only_a_valid_file() {
    let server = ServerProcess::start(&["--dev-mailbox"]);
    let client = sign_in(&server.url, OWNER).await;
    let csv = "email,role,department\r\nok.one@example.test,member,Sales\r\nnot-an-address,member,Sales\r\nok.two@example.test,Wizard,Sales\r\n";
    let report = client.import_invitations(csv, true, None).await.unwrap();
    assert_eq!((report.rows.len(), report.invalid), (3, 2));
    assert!(report.rows[0].errors.is_empty());
    assert_eq!(report.rows[1].errors[0].field, "email");
    assert_eq!(report.rows[2].errors[0].code, "unknown_role");
    let refused = client.import_invitations(csv, false, Some("import-1")).await.unwrap_err();
    assert!(matches!(&refused, Error::Api(p) if p.code == codes::IMPORT_INVALID), "{refused:?}");
    assert_eq!(mail_count(&server, "invitation").await, 0, "nothing was sent");

    let fixed = "email,role,department\r\nok.one@example.test,member,Sales\r\nok.three@example.test,member,Sales\r\nok.two@example.test,Manager,Sales\r\n";
    let sent = client.import_invitations(fixed, false, Some("import-2")).await.unwrap();
    assert_eq!((sent.invalid, sent.invitations.len()), (0, 3));
    let replayed = client.import_invitations(fixed, false, Some("import-2")).await.unwrap();
    assert_eq!(replayed.invitations.len(), 3, "a retry replays the answer");
    assert_eq!(mail_count(&server, "invitation").await, 3, "and sends nothing again");
}
