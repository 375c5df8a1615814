//! Deactivate, reactivate and remove through the outbox; creating users, bulk actions,
//! roles, departments and settings online; the directory and the CSV export offline.

use crate::outbox::sign_in;
use crate::server::{OWNER, ServerProcess};
use gatehouse_client::api::{
    BulkAction, BulkRequest, NewRole, NewUser, OrganizationPatch, OutboxAction, OutboxState, User, UserListQuery, UserStatus,
};
use gatehouse_client::{Cache, Error};

async fn find(cache: &Cache, q: &str) -> User {
    let page = cache.list_users(&UserListQuery { q: Some(q.into()), ..Default::default() }).await.unwrap();
    assert_eq!(page.items.len(), 1, "exactly one user matches {q}");
    page.items.into_iter().next().unwrap()
}

#[tokio::test]
async fn lifecycle_actions_queue_show_at_once_and_replay_exactly_once() {
    let server = ServerProcess::start(&[]);
    let client = sign_in(&server.url, OWNER).await;
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(&dir.path().join("cache.db")).await.unwrap();
    client.sync(&cache, |_| {}).await.unwrap();
    let casey = find(&cache, "casey").await;

    // Removing an active user is refused locally, before anything is queued.
    let refused = cache.enqueue_user_action(&casey.id, OutboxAction::Remove).await;
    assert!(matches!(refused, Err(Error::Invalid(m)) if m.contains("deactivate them")));

    let entry = cache.enqueue_user_action(&casey.id, OutboxAction::Deactivate).await.unwrap();
    assert_eq!((entry.action, entry.state), (OutboxAction::Deactivate, OutboxState::Pending));
    assert_eq!(find(&cache, "casey").await.status, UserStatus::Deactivated, "shown at once");
    assert_eq!(client.get_user(&casey.id).await.unwrap().status, UserStatus::Active, "not sent yet");
    // Queued on top of the pending deactivation: the removal.
    cache.enqueue_user_action(&casey.id, OutboxAction::Remove).await.unwrap();
    let outcome = client.replay(&cache).await.unwrap();
    assert_eq!((outcome.confirmed, outcome.failed), (2, 0));
    assert!(matches!(client.get_user(&casey.id).await, Err(Error::Api(p)) if p.status == 404));
    assert!(cache.list_users(&UserListQuery { q: Some("casey".into()), ..Default::default() }).await.unwrap().items.is_empty());
    assert!(cache.outbox().await.unwrap().is_empty());
    let removed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_events WHERE target_id = ? AND action = 'user.removed'")
        .bind(&casey.id)
        .fetch_one(&sqlx::SqlitePool::connect(&format!("sqlite://{}", server.db_path().display())).await.unwrap())
        .await
        .unwrap();
    assert_eq!(removed, 1, "removed exactly once");

    // A refusal (the last Owner deactivating themselves) is kept with the server's reason.
    let me = find(&cache, "owner@acme.test").await;
    cache.enqueue_user_action(&me.id, OutboxAction::Deactivate).await.unwrap();
    assert_eq!(client.replay(&cache).await.unwrap().failed, 1);
    let entry = cache.outbox().await.unwrap().pop().unwrap();
    assert_eq!(entry.state, OutboxState::Failed);
    assert!(entry.last_error.unwrap().contains("cannot deactivate yourself"));
    assert_eq!(find(&cache, "owner@acme.test").await.status, UserStatus::Active, "the refused change is not shown");
}

#[tokio::test]
async fn creating_bulk_changes_and_the_directory_online_and_offline() {
    let server = ServerProcess::start(&[]);
    let client = sign_in(&server.url, OWNER).await;
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(&dir.path().join("cache.db")).await.unwrap();
    client.sync(&cache, |_| {}).await.unwrap();

    let directory = cache.directory().await.unwrap();
    let keys: Vec<&str> = directory.roles.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(&keys[..4], ["owner", "admin", "manager", "member"]);
    let sales = directory.groups.iter().find(|g| g.name == "Sales").unwrap().id.clone();

    let new = NewUser {
        first_name: "Dana".into(),
        last_name: "Scully".into(),
        email: "dana@acme.test".into(),
        password: "trust no one".into(),
        roles: vec!["manager".into()],
        departments: vec![sales],
    };
    let dana = client.create_user(&new, "create-dana").await.unwrap();
    let again = client.create_user(&new, "create-dana").await.unwrap();
    assert_eq!(dana.value.id, again.value.id, "a retry with the same key creates nobody new");
    let Err(Error::Api(p)) = client.create_user(&new, "another-key").await else { panic!("duplicate accepted") };
    assert_eq!(p.code, "email_taken");
    assert!(p.detail.contains("Dana Scully"));

    let role = client.create_role(&NewRole { name: "Auditor".into(), key: None, permissions: vec!["users.read".into(), "audit.read".into()] }).await.unwrap();
    client.sync(&cache, |_| {}).await.unwrap();
    assert_eq!(find(&cache, "dana@").await.display_name, "Dana Scully");
    assert!(cache.directory().await.unwrap().roles.iter().any(|r| r.key == "auditor"), "new roles arrive through the feed");

    let ids: Vec<String> = cache
        .list_users(&UserListQuery { status: Some(UserStatus::Active), role: Some("member".into()), limit: Some(3), ..Default::default() })
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|u| u.id)
        .collect();
    let answer = client.bulk(&BulkRequest { action: BulkAction::AddRole { role: role.id.clone() }, user_ids: ids.clone() }, "bulk-1").await.unwrap();
    assert_eq!((answer.succeeded, answer.failed), (3, 0));
    assert!(answer.results.iter().all(|r| r.etag.is_some()));
    client.sync(&cache, |_| {}).await.unwrap();
    let auditors = cache.list_users(&UserListQuery { role: Some(role.id.clone()), ..Default::default() }).await.unwrap();
    assert_eq!(auditors.counts.all, 3);

    let org = client.update_organization(&OrganizationPatch { invitation_expiry_days: Some(3), ..Default::default() }).await.unwrap();
    assert_eq!(org.invitation_expiry_days, 3);
    let Err(Error::Api(p)) = client.update_organization(&OrganizationPatch { seat_limit: Some(1), ..Default::default() }).await else { panic!() };
    assert_eq!(p.errors[0].code, "below_usage");

    // The export reads the local copy: it works with the server gone.
    drop(server);
    let mut csv = Vec::new();
    let seen = std::sync::Mutex::new(Vec::new());
    let written = cache
        .export_csv(&UserListQuery { role: Some(role.id.clone()), ..Default::default() }, &mut csv, |done, total| seen.lock().unwrap().push((done, total)))
        .await
        .unwrap();
    assert_eq!(written, 3);
    let text = String::from_utf8(csv).unwrap();
    assert_eq!(text.lines().count(), 4);
    assert!(text.lines().skip(1).all(|l| l.contains("Auditor")));
    assert_eq!(seen.into_inner().unwrap().last(), Some(&(3, 3)));
}

#[tokio::test]
async fn a_picture_uploads_and_comes_back_as_the_same_bytes() {
    let server = ServerProcess::start(&[]);
    let client = sign_in(&server.url, OWNER).await;
    let casey = client.list_users(&UserListQuery { q: Some("casey".into()), ..Default::default() }).await.unwrap().items.remove(0);
    assert_eq!(client.avatar(&casey.id).await.unwrap(), None, "no picture yet");

    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR-not-really-but-the-bytes-say-png".to_vec();
    let saved = client.upload_avatar(&casey.id, &png, "image/png").await.unwrap();
    let url = saved.value.avatar_url.clone().unwrap();
    assert!(url.starts_with(&format!("/v1/users/{}/avatar", casey.id)), "{url}");
    assert_eq!(client.avatar(&casey.id).await.unwrap(), Some(("image/png".to_owned(), png)));

    // Not an image: the server's field error, and the picture stays.
    let err = client.upload_avatar(&casey.id, b"%PDF-1.7", "image/png").await.unwrap_err();
    assert!(matches!(&err, Error::Api(p) if p.errors.first().is_some_and(|e| e.field == "avatar")), "{err:?}");
    assert_eq!(client.get_user(&casey.id).await.unwrap().avatar_url.as_deref(), Some(url.as_str()));
}
