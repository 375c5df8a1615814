//! The outbox against a real server: optimistic edits, in-order replay, exactly once,
//! conflicts settled field by field, refusals kept editable, and an unreachable server.

use crate::server::{OWNER, PASSWORD, ServerProcess};
use gatehouse_client::api::{OutboxState, Resolution, Secret, User, UserListQuery, UserPatch};
use gatehouse_client::outbox::etag_version;
use gatehouse_client::{Cache, Client, ClientOptions, MemoryTokenStore};
use std::sync::Arc;

pub async fn sign_in(url: &str, email: &str) -> Client {
    let store = Arc::new(MemoryTokenStore::default());
    Client::sign_in(url, email, Secret::new(PASSWORD.into()), None, store, &ClientOptions::default()).await.unwrap().0
}

async fn setup() -> (ServerProcess, Client, Cache, tempfile::TempDir) {
    let server = ServerProcess::start(&[]);
    let client = sign_in(&server.url, OWNER).await;
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(&dir.path().join("cache.db")).await.unwrap();
    client.sync(&cache, |_| {}).await.unwrap();
    (server, client, cache, dir)
}

async fn find(cache: &Cache, q: &str) -> User {
    let page = cache.list_users(&UserListQuery { q: Some(q.into()), ..Default::default() }).await.unwrap();
    assert_eq!(page.items.len(), 1, "exactly one user matches {q}");
    page.items.into_iter().next().unwrap()
}

fn rename(first: &str) -> UserPatch {
    UserPatch { first_name: Some(first.into()), ..Default::default() }
}

async fn version(client: &Client, id: &str) -> i64 {
    etag_version(&client.get_user_versioned(id).await.unwrap().etag).unwrap()
}

#[tokio::test]
async fn an_edit_shows_at_once_as_pending_then_replays_once_and_is_confirmed() {
    let (_server, client, cache, _dir) = setup().await;
    let casey = find(&cache, "casey").await;
    let v0 = version(&client, &casey.id).await;

    let entry = cache.enqueue_user_edit(&casey.id, &rename("Cassie")).await.unwrap();
    assert_eq!(entry.state, OutboxState::Pending);
    // Shown at once, searchable under the new name, marked pending; the server has not seen it.
    assert_eq!(find(&cache, "cassie").await.display_name, "Cassie Kim");
    assert_eq!(cache.local_states(&[&casey.id]).await.unwrap().get(&casey.id), Some(&OutboxState::Pending));
    assert_eq!(client.get_user(&casey.id).await.unwrap().first_name, "Casey");

    // A second edit of the same user builds on the first.
    let support = find(&cache, "riley").await.roles;
    let roles: Vec<String> = support.iter().map(|r| r.id.clone()).collect();
    cache.enqueue_user_edit(&casey.id, &UserPatch { roles: Some(roles.clone()), ..Default::default() }).await.unwrap();
    assert_eq!(cache.outbox_counts().await.unwrap(), (2, 0, 0));

    let outcome = client.replay(&cache).await.unwrap();
    assert_eq!((outcome.confirmed, outcome.conflicts, outcome.failed, outcome.retry_at), (2, 0, 0, None));
    let now = client.get_user(&casey.id).await.unwrap();
    assert_eq!(now.first_name, "Cassie");
    assert_eq!(now.roles.iter().map(|r| r.id.clone()).collect::<std::collections::BTreeSet<_>>(), roles.into_iter().collect());
    assert_eq!(version(&client, &casey.id).await, v0 + 2, "one rename and one role change, each applied once");
    assert!(cache.outbox().await.unwrap().is_empty());
    assert!(cache.local_states(&[&casey.id]).await.unwrap().is_empty(), "the pending mark is gone once confirmed");
    // Replaying again sends nothing.
    assert_eq!(client.replay(&cache).await.unwrap().confirmed, 0);
    assert_eq!(version(&client, &casey.id).await, v0 + 2);
}

#[tokio::test]
async fn a_request_the_server_applied_but_whose_answer_was_lost_is_not_applied_again() {
    let (_server, client, cache, dir) = setup().await;
    let casey = find(&cache, "casey").await;
    let v0 = version(&client, &casey.id).await;
    let entry = cache.enqueue_user_edit(&casey.id, &rename("Cass")).await.unwrap();
    // The app sent it and crashed before recording the answer: same key, same If-Match.
    let (key, etag): (String, String) = {
        let db = sqlx::SqlitePool::connect(&format!("sqlite://{}", dir.path().join("cache.db").display())).await.unwrap();
        let row = sqlx::query_as("SELECT idempotency_key, base_etag FROM outbox WHERE seq = ?").bind(entry.seq).fetch_one(&db).await.unwrap();
        db.close().await;
        row
    };
    client.update_user(&casey.id, &etag, &rename("Cass"), &key).await.unwrap();
    // Meanwhile someone renames the user again.
    let admin = crate::outbox::sign_in(&client_url(&client), "admin@acme.test").await;
    let now = admin.get_user_versioned(&casey.id).await.unwrap();
    admin.update_user(&casey.id, &now.etag, &UserPatch { last_name: Some("Park".into()), ..Default::default() }, "admin-edit-1").await.unwrap();

    let outcome = client.replay(&cache).await.unwrap();
    assert_eq!(outcome.confirmed, 1, "the stored answer confirms the entry");
    assert_eq!(version(&client, &casey.id).await, v0 + 2, "the lost answer's edit and the admin's, nothing twice");
    let server = client.get_user(&casey.id).await.unwrap();
    assert_eq!((server.first_name.as_str(), server.last_name.as_str()), ("Cass", "Park"));
}

fn client_url(client: &Client) -> String {
    client.key().server_url.clone()
}

#[tokio::test]
async fn edits_of_other_fields_rebase_and_clashing_edits_become_conflicts_settled_by_the_admin() {
    let (server, client, cache, _dir) = setup().await;
    let admin = sign_in(&server.url, "admin@acme.test").await;
    let casey = find(&cache, "casey").await;
    cache.enqueue_user_edit(&casey.id, &rename("Cassie")).await.unwrap();
    cache.enqueue_user_edit(&casey.id, &UserPatch { email: Some("cassie@acme.test".into()), ..Default::default() }).await.unwrap();
    // On the server, someone else changes the last name (no clash) and the first name (clash).
    let now = admin.get_user_versioned(&casey.id).await.unwrap();
    let patch = UserPatch { first_name: Some("Kasey".into()), last_name: Some("Park".into()), ..Default::default() };
    admin.update_user(&casey.id, &now.etag, &patch, "k1").await.unwrap();

    let outcome = client.replay(&cache).await.unwrap();
    assert_eq!((outcome.confirmed, outcome.conflicts), (1, 1), "the e-mail edit rebased and applied; the rename clashed");
    let entries = cache.outbox().await.unwrap();
    assert_eq!(entries.len(), 1);
    let conflict = &entries[0];
    assert_eq!(conflict.state, OutboxState::Conflict);
    let f = &conflict.conflicts[0];
    assert_eq!((f.field.as_str(), f.mine.as_str(), f.theirs.as_str(), f.base.as_str(), f.clashes), ("first_name", "Cassie", "Kasey", "Casey", true));
    assert_eq!(cache.local_states(&[&casey.id]).await.unwrap()[&casey.id], OutboxState::Conflict);
    // While in conflict the row shows the server's values, not the disputed edit.
    let shown = find(&cache, "cassie@acme.test").await;
    assert_eq!(shown.first_name, "Kasey");

    // Reapply mine: sent on top of the server's version, applied.
    cache.settle(conflict.seq, &Resolution::ReapplyMine).await.unwrap();
    assert_eq!(client.replay(&cache).await.unwrap().confirmed, 1);
    let server_now = client.get_user(&casey.id).await.unwrap();
    assert_eq!((server_now.first_name.as_str(), server_now.last_name.as_str(), server_now.email.as_str()), ("Cassie", "Park", "cassie@acme.test"));

    // Keep theirs: the edit is dropped, the server's value stays.
    cache.enqueue_user_edit(&casey.id, &rename("Cee")).await.unwrap();
    let now = admin.get_user_versioned(&casey.id).await.unwrap();
    admin.update_user(&casey.id, &now.etag, &rename("Kay"), "k2").await.unwrap();
    assert_eq!(client.replay(&cache).await.unwrap().conflicts, 1);
    let seq = cache.outbox().await.unwrap()[0].seq;
    cache.settle(seq, &Resolution::KeepTheirs).await.unwrap();
    assert!(cache.outbox().await.unwrap().is_empty());
    assert_eq!(client.get_user(&casey.id).await.unwrap().first_name, "Kay");
    assert!(cache.local_states(&[&casey.id]).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_refused_edit_keeps_the_servers_message_and_can_be_edited_and_retried() {
    let (_server, client, cache, _dir) = setup().await;
    let casey = find(&cache, "casey").await;
    let jordan = find(&cache, "jordan").await;
    // Taken by Sam Rivera: the server refuses it.
    cache.enqueue_user_edit(&casey.id, &UserPatch { email: Some("admin@acme.test".into()), ..Default::default() }).await.unwrap();
    cache.enqueue_user_edit(&jordan.id, &rename("Jordy")).await.unwrap();
    let outcome = client.replay(&cache).await.unwrap();
    assert_eq!((outcome.confirmed, outcome.failed), (1, 1), "a refusal does not hold up the queue");
    let failed = cache.outbox().await.unwrap().remove(0);
    assert_eq!(failed.state, OutboxState::Failed);
    assert!(failed.last_error.as_deref().unwrap().contains("Sam Rivera"), "{:?}", failed.last_error);
    assert!(failed.field_errors[0].starts_with("email: "), "{:?}", failed.field_errors);
    // Retrying unchanged fails again (a new key, so the server judges it afresh).
    cache.settle(failed.seq, &Resolution::ReapplyMine).await.unwrap();
    assert_eq!(client.replay(&cache).await.unwrap().failed, 1);
    // Edited to a free address, it goes through.
    let patch = UserPatch { email: Some("casey.kim@acme.test".into()), ..Default::default() };
    cache.settle(failed.seq, &Resolution::Edit { patch }).await.unwrap();
    assert_eq!(client.replay(&cache).await.unwrap().confirmed, 1);
    assert_eq!(client.get_user(&casey.id).await.unwrap().email, "casey.kim@acme.test");
    assert_eq!(client.get_user(&jordan.id).await.unwrap().first_name, "Jordy");
}

#[tokio::test]
async fn an_own_e_mail_change_refused_for_a_step_up_is_kept_and_goes_out_once_confirmed() {
    let (_server, client, cache, _dir) = setup().await;
    let me = find(&cache, OWNER).await;
    let entry = cache.enqueue_user_edit(&me.id, &UserPatch { email: Some("alex@acme.test".into()), ..Default::default() }).await.unwrap();
    // Sent at once, the refusal comes back with its code, and the change stays, refused.
    let outcome = client.send_entry(&cache, entry.seq).await.unwrap();
    assert_eq!(outcome.failed, 1);
    assert_eq!(outcome.refusal.as_ref().map(|p| p.code.as_str()), Some("step_up_required"));
    let kept = cache.entry(entry.seq).await.unwrap();
    assert_eq!(kept.state, OutboxState::Failed);
    assert!(kept.last_error.as_deref().unwrap_or_default().contains("confirm your password"), "{:?}", kept.last_error);
    assert_eq!(client.get_user(&me.id).await.unwrap().email, OWNER);

    client.step_up(Secret::new(PASSWORD.into()), None).await.unwrap();
    cache.settle(entry.seq, &Resolution::ReapplyMine).await.unwrap();
    let outcome = client.send_entry(&cache, entry.seq).await.unwrap();
    assert_eq!((outcome.confirmed, outcome.refusal), (1, None));
    assert_eq!(client.get_user(&me.id).await.unwrap().email, "alex@acme.test");
    assert!(cache.outbox().await.unwrap().is_empty());
}

#[tokio::test]
async fn while_the_server_is_down_edits_wait_with_backoff_and_go_out_when_it_is_back() {
    let (mut server, client, cache, _dir) = setup().await;
    let casey = find(&cache, "casey").await;
    server.kill();
    // Offline: reads and edits work from the cache.
    cache.enqueue_user_edit(&casey.id, &rename("Offline")).await.unwrap();
    assert_eq!(find(&cache, "offline").await.id, casey.id);
    let outcome = client.replay(&cache).await.unwrap();
    let retry_at = outcome.retry_at.expect("the entry waits");
    assert!(retry_at > chrono::Utc::now().timestamp_millis(), "in the future");
    assert!(outcome.last_error.unwrap().contains("Cannot reach"));
    let entry = cache.outbox().await.unwrap().remove(0);
    assert_eq!((entry.state, entry.attempts), (OutboxState::Pending, 1));
    // Before the backoff ends nothing is sent, even though the server is back.
    server.restart();
    assert!(client.replay(&cache).await.unwrap().retry_at.is_some());
    // Back online: the app retries at once.
    cache.retry_now().await.unwrap();
    assert_eq!(client.replay(&cache).await.unwrap().confirmed, 1);
    assert_eq!(client.get_user(&casey.id).await.unwrap().first_name, "Offline");
}

#[tokio::test]
async fn the_feed_keeps_queued_edits_on_top_and_a_full_resync_keeps_the_outbox() {
    let (server, client, cache, _dir) = setup().await;
    let admin = sign_in(&server.url, "admin@acme.test").await;
    let casey = find(&cache, "casey").await;
    cache.enqueue_user_edit(&casey.id, &rename("Mine")).await.unwrap();
    let now = admin.get_user_versioned(&casey.id).await.unwrap();
    admin.update_user(&casey.id, &now.etag, &UserPatch { last_name: Some("Theirs".into()), ..Default::default() }, "t1").await.unwrap();
    client.sync(&cache, |_| {}).await.unwrap();
    assert_eq!(find(&cache, "member@acme.test").await.display_name, "Mine Theirs", "the server's change under the queued edit");
    cache.reset().await.unwrap();
    client.sync(&cache, |_| {}).await.unwrap();
    assert_eq!(cache.outbox_counts().await.unwrap(), (1, 0, 0), "a full resync keeps queued edits");
    assert_eq!(find(&cache, "member@acme.test").await.display_name, "Mine Theirs");
    assert_eq!(client.replay(&cache).await.unwrap().confirmed, 1);
    assert_eq!(client.get_user(&casey.id).await.unwrap().display_name, "Mine Theirs");
}

#[tokio::test]
async fn the_change_stream_says_when_someone_else_edits() {
    let (server, client, cache, _dir) = setup().await;
    let head: i64 = cache.cursor().await.unwrap().unwrap().parse().unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let watcher = Arc::new(client);
    let w = watcher.clone();
    let task = tokio::spawn(async move { w.watch_changes(|e| { let _ = tx.send(e); }).await });
    let gatehouse_client::StreamEvent::Changed(first) = rx.recv().await.unwrap();
    assert_eq!(first, head, "the stream starts with the feed's head");
    let admin = sign_in(&server.url, "admin@acme.test").await;
    let casey = find(&cache, "casey").await;
    let now = admin.get_user_versioned(&casey.id).await.unwrap();
    admin.update_user(&casey.id, &now.etag, &rename("Streamed"), "s1").await.unwrap();
    let gatehouse_client::StreamEvent::Changed(next) = tokio::time::timeout(std::time::Duration::from_secs(10), rx.recv()).await.unwrap().unwrap();
    assert!(next > head);
    watcher.sync(&cache, |_| {}).await.unwrap();
    assert_eq!(find(&cache, "streamed").await.id, casey.id);
    task.abort();
}

#[tokio::test]
async fn a_malformed_edit_is_refused_with_field_errors_and_nothing_is_queued() {
    let (_server, _client, cache, _dir) = setup().await;
    let casey = find(&cache, "casey").await;
    let bad = UserPatch {
        email: Some("not-an-address".into()),
        custom_attributes: Some([("status".to_owned(), Some("vip".into()))].into()),
        ..Default::default()
    };
    let err = cache.enqueue_user_edit(&casey.id, &bad).await.unwrap_err();
    let gatehouse_client::Error::Api(problem) = err else { panic!("expected the server's kind of refusal, got {err:?}") };
    assert_eq!(problem.code, "validation_failed");
    let fields: Vec<&str> = problem.errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["email", "custom_attributes.status"]);
    assert_eq!(cache.outbox_counts().await.unwrap(), (0, 0, 0), "nothing queued");
    assert_eq!(find(&cache, "casey").await, casey, "the local copy is untouched");
}
