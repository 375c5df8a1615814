//! Sessions, force logout and login attempts through the client, against a real server:
//! a force logout queued offline is "not yet effective" until the server confirms it, is
//! sent exactly once, and ends the user's sessions on their next request.

use crate::outbox::sign_in;
use crate::server::{OWNER, PASSWORD, ServerProcess};
use gatehouse_client::api::{AuditEventQuery, LoginAttemptQuery, LoginResult, OutboxAction, OutboxState, RevokeOutcome, Secret, SessionQuery, UserListQuery};
use gatehouse_client::{Cache, Error};

async fn id_of(cache: &Cache, q: &str) -> String {
    let page = cache.list_users(&UserListQuery { q: Some(q.into()), ..Default::default() }).await.unwrap();
    assert_eq!(page.items.len(), 1, "exactly one user matches {q}");
    page.items[0].id.clone()
}

fn named(name: &str) -> gatehouse_client::api::NewApiKey {
    gatehouse_client::api::NewApiKey { name: name.into(), expires_in_days: None, role: None }
}

fn session_ended(e: &Error) -> bool {
    matches!(e, Error::SessionExpired { .. }) || matches!(e, Error::Api(p) if p.code == "session_revoked")
}

#[tokio::test]
async fn force_logout_ends_the_users_sessions_on_their_next_request() {
    let server = ServerProcess::start(&[]);
    let admin = sign_in(&server.url, OWNER).await;
    let member = sign_in(&server.url, "member@acme.test").await;
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(&dir.path().join("cache.db")).await.unwrap();
    admin.sync(&cache, |_| {}).await.unwrap();
    let member_id = id_of(&cache, "member@acme.test").await;
    member.me().await.unwrap();

    let entry = cache.enqueue_user_action(&member_id, OutboxAction::Logout).await.unwrap();
    assert_eq!((entry.action, entry.state), (OutboxAction::Logout, OutboxState::Pending));
    let outcome = admin.send_entry(&cache, entry.seq).await.unwrap();
    assert_eq!(outcome.confirmed, 1);
    let confirmed = cache.logout_confirmation(&member_id).await.unwrap().expect("the confirmation is kept");
    assert!(confirmed.sessions_revoked >= 1);
    assert!(cache.outbox().await.unwrap().is_empty());

    let err = member.me().await.unwrap_err();
    assert!(session_ended(&err), "the member's next request is refused: {err:?}");
    // The admin's list shows the member's sessions as revoked at the confirmed time.
    let page = admin.user_sessions(&member_id, &SessionQuery { state: Some("all".into()), limit: Some(500), ..Default::default() }).await.unwrap();
    let latest = page.items.iter().find(|s| s.revoked_reason.as_deref() == Some("forced_logout")).expect("a forced-out session");
    assert_eq!(latest.revoked_at, Some(confirmed.confirmed_at));
}

#[tokio::test]
async fn a_force_logout_queued_offline_waits_not_yet_effective_and_is_sent_once() {
    let started = chrono::Utc::now();
    let mut server = ServerProcess::start(&[]);
    let admin = sign_in(&server.url, OWNER).await;
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(&dir.path().join("cache.db")).await.unwrap();
    admin.sync(&cache, |_| {}).await.unwrap();
    let member_id = id_of(&cache, "member@acme.test").await;

    server.kill();
    let entry = cache.enqueue_user_action(&member_id, OutboxAction::Logout).await.unwrap();
    let outcome = admin.send_entry(&cache, entry.seq).await.unwrap();
    assert_eq!(outcome.confirmed, 0);
    assert!(outcome.retry_at.is_some(), "it waits with backoff");
    // Durable and marked: the user's row is pending, nothing is confirmed.
    assert_eq!(cache.local_states(&[&member_id]).await.unwrap().get(&member_id), Some(&OutboxState::Pending));
    assert!(cache.logout_confirmation(&member_id).await.unwrap().is_none());
    assert_eq!(cache.queued_logout(&member_id).await.unwrap().map(|e| e.seq), Some(entry.seq), "shown as queued");
    let reopened = Cache::open(&dir.path().join("cache.db")).await.unwrap();
    assert_eq!(reopened.outbox().await.unwrap()[0].action, OutboxAction::Logout, "kept across a restart");

    // Meanwhile the member signs in again (the server is back); the queued logout still ends it.
    server.restart();
    let member = sign_in(&server.url, "member@acme.test").await;
    member.me().await.unwrap();
    cache.retry_now().await.unwrap();
    let outcome = admin.replay(&cache).await.unwrap();
    assert_eq!(outcome.confirmed, 1);
    assert!(session_ended(&member.me().await.unwrap_err()));
    assert!(cache.logout_confirmation(&member_id).await.unwrap().is_some());
    assert!(cache.local_states(&[&member_id]).await.unwrap().is_empty(), "the pending mark is gone");
    assert!(cache.queued_logout(&member_id).await.unwrap().is_none());
    // Exactly once: one audited force logout.
    assert_eq!(admin.replay(&cache).await.unwrap().confirmed, 0);
    // (The seeded history has force logouts of its own: only this test's count.)
    let audited = AuditEventQuery { action: Some("user.force_logout".into()), user_id: Some(member_id.clone()), from: Some(started), ..Default::default() };
    let events = admin.audit_events(&audited).await.unwrap().items;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].target.id, member_id);
}

#[tokio::test]
async fn a_queued_force_logout_can_suspend_the_users_keys_and_keeps_that_across_a_restart() {
    let mut server = ServerProcess::start(&[]);
    let admin = sign_in(&server.url, OWNER).await;
    let member = sign_in(&server.url, "member@acme.test").await;
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(&dir.path().join("cache.db")).await.unwrap();
    admin.sync(&cache, |_| {}).await.unwrap();
    let member_id = id_of(&cache, "member@acme.test").await;
    member.step_up(Secret::new(PASSWORD.into()), None).await.unwrap();
    let key = member.create_api_key(&member_id, &gatehouse_client::api::NewApiKey { name: "sync job".into(), expires_in_days: Some(30), role: None }).await.unwrap();
    assert!(key.key.expires_at.is_some(), "a lifetime was asked for");

    server.kill();
    let entry = cache.enqueue_logout(&member_id, true).await.unwrap();
    assert_eq!(admin.send_entry(&cache, entry.seq).await.unwrap().confirmed, 0);
    drop(cache);
    let cache = Cache::open(&dir.path().join("cache.db")).await.unwrap();
    server.restart();
    cache.retry_now().await.unwrap();
    assert_eq!(admin.replay(&cache).await.unwrap().confirmed, 1);
    let keys = admin.api_keys(&member_id).await.unwrap();
    assert_eq!(keys[0].suspended_reason.as_deref(), Some("admin"), "the option survived the restart: {keys:?}");
    assert!(cache.logout_confirmation(&member_id).await.unwrap().is_some());
}

#[tokio::test]
async fn sessions_revoke_and_login_attempts_read_live() {
    let server = ServerProcess::start(&[]);
    let admin = sign_in(&server.url, OWNER).await;
    let member = sign_in(&server.url, "member@acme.test").await;
    let page = admin.list_sessions(&SessionQuery { q: Some("member@acme.test".into()), ..Default::default() }).await.unwrap();
    let live = page.items.iter().find(|s| s.device.starts_with("Gatehouse desktop") || s.user_agent.contains("gatehouse")).expect("the member's new session");
    let first = admin.revoke_session(&live.id).await.unwrap();
    assert_eq!(first.outcome, RevokeOutcome::Revoked);
    let again = admin.revoke_session(&live.id).await.unwrap();
    assert_eq!((again.outcome, again.revoked_at), (RevokeOutcome::AlreadyRevoked, first.revoked_at));
    assert!(session_ended(&member.me().await.unwrap_err()));
    let bad = admin.revoke_session("not-an-id").await.unwrap_err();
    assert!(matches!(&bad, Error::Api(p) if p.code == "invalid_id"), "{bad:?}");

    let attempts = admin
        .login_attempts(&LoginAttemptQuery { result: Some(LoginResult::Success), email: Some("member@".into()), ..Default::default() })
        .await
        .unwrap();
    assert!(!attempts.items.is_empty());
    assert!(attempts.items.iter().all(|a| a.result == LoginResult::Success && a.email.contains("member@")));
}

#[tokio::test]
async fn api_keys_are_created_listed_and_suspended() {
    let server = ServerProcess::start(&[]);
    let admin = sign_in(&server.url, OWNER).await;
    let member = admin.list_users(&UserListQuery { q: Some("member@acme.test".into()), ..Default::default() }).await.unwrap().items.remove(0);
    // A key is minted by its owner, for themselves; an admin sees and suspends it.
    let refused = admin.create_api_key(&member.id, &named("Not theirs")).await.unwrap_err();
    assert_eq!(refused.code(), Some("forbidden"));
    let own = sign_in(&server.url, "member@acme.test").await;
    // Creating a key needs the password confirmed first.
    assert_eq!(own.create_api_key(&member.id, &named("Too soon")).await.unwrap_err().code(), Some("step_up_required"));
    own.step_up(Secret::new(PASSWORD.into()), None).await.unwrap();
    let created = own.create_api_key(&member.id, &named("Backups")).await.unwrap();
    assert!(created.secret.expose().starts_with("ghk_"));
    assert_eq!(format!("{:?}", created.secret), "<redacted>", "the secret never prints");
    let keys = admin.api_keys(&member.id).await.unwrap();
    assert_eq!((keys.len(), keys[0].name.as_str()), (1, "Backups"));
    let suspended = admin.set_api_key_suspended(&created.key.id, true).await.unwrap();
    assert_eq!(suspended.suspended_reason.as_deref(), Some("admin"));
    assert!(admin.set_api_key_suspended(&created.key.id, false).await.unwrap().suspended_at.is_none());
    let bad = own.create_api_key(&member.id, &named("")).await.unwrap_err();
    assert_eq!(bad.code(), Some("validation_failed"));
}

#[tokio::test]
async fn five_wrong_passwords_lock_an_account_until_the_owner_unlocks_it() {
    let server = ServerProcess::start(&[]);
    let owner = sign_in(&server.url, OWNER).await;
    let member = owner.list_users(&UserListQuery { q: Some("member@acme.test".into()), ..Default::default() }).await.unwrap().items.remove(0);
    let try_sign_in = |password: &'static str| {
        let url = server.url.clone();
        async move {
            let store = std::sync::Arc::new(gatehouse_client::MemoryTokenStore::default());
            gatehouse_client::Client::sign_in(&url, "member@acme.test", Secret::new(password.into()), None, store, &gatehouse_client::ClientOptions::default()).await
        }
    };
    for _ in 0..5 {
        assert_eq!(try_sign_in("not the password").await.unwrap_err().code(), Some("invalid_credentials"));
    }
    // Locked: even the right password is refused now.
    assert_eq!(try_sign_in(PASSWORD).await.unwrap_err().code(), Some("account_locked"));

    // Someone without users.manage cannot lift it.
    let support = sign_in(&server.url, "support@acme.test").await;
    assert_eq!(support.unlock_sign_in(&member.id).await.unwrap_err().code(), Some("forbidden"));
    assert_eq!(try_sign_in(PASSWORD).await.unwrap_err().code(), Some("account_locked"));

    let before = chrono::Utc::now() - chrono::TimeDelta::seconds(5);
    let unlocked = owner.unlock_sign_in(&member.id).await.unwrap();
    assert_eq!((unlocked.user_id.as_str(), unlocked.email.as_str()), (member.id.as_str(), "member@acme.test"));
    assert!(unlocked.unlocked_at > before, "the server's time of the unlock");
    let (_, me) = try_sign_in(PASSWORD).await.expect("signs in once unlocked");
    assert_eq!(me.user.id, member.id);
    // Recorded, with who did it.
    let audited = AuditEventQuery { action: Some("user.sign_in_unlocked".into()), user_id: Some(member.id.clone()), ..Default::default() };
    assert_eq!(owner.audit_events(&audited).await.unwrap().items.len(), 1);
}
