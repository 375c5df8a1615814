use crate::server::{OWNER, PASSWORD, ServerProcess};
use gatehouse_client::api::{Secret, UserListQuery, UserStatus};
use gatehouse_client::{Client, ClientOptions, ConnectionKey, Error, MemoryTokenStore, TokenStore};
use std::sync::Arc;

fn opts() -> ClientOptions {
    ClientOptions::default()
}

async fn sign_in(url: &str, store: &Arc<MemoryTokenStore>) -> Client {
    let (client, me) = Client::sign_in(url, OWNER, Secret::new(PASSWORD.into()), None, store.clone(), &opts()).await.unwrap();
    assert_eq!(me.user.email, OWNER);
    client
}

fn stored(store: &MemoryTokenStore, url: &str) -> Option<String> {
    store.load(&ConnectionKey::new(url, OWNER)).unwrap().map(|s| s.expose().clone())
}

#[tokio::test]
async fn sign_in_keeps_the_refresh_token_in_the_store_and_lists_users() {
    let server = ServerProcess::start(&[]);
    let store = Arc::new(MemoryTokenStore::default());
    let client = sign_in(&server.url, &store).await;
    assert!(stored(&store, &server.url).unwrap().starts_with("ghr_"));

    let page = client.list_users(&UserListQuery { limit: Some(500), ..Default::default() }).await.unwrap();
    assert_eq!(page.counts.all, 125);
    assert_eq!(page.items.len(), 125);
    let narrowed = client.list_users(&UserListQuery { q: Some("RILEY".into()), ..Default::default() }).await.unwrap();
    assert_eq!(narrowed.items.len(), 1);
    assert_eq!(narrowed.items[0].email, "support@acme.test");
    let pending = client.list_users(&UserListQuery { status: Some(UserStatus::Pending), ..Default::default() }).await.unwrap();
    assert!(pending.items.iter().all(|u| u.status == UserStatus::Pending));
    let one = client.get_user(&narrowed.items[0].id).await.unwrap();
    assert_eq!(one, narrowed.items[0]);
}

#[tokio::test]
async fn wrong_password_and_unknown_email_are_one_error_and_store_nothing() {
    let server = ServerProcess::start(&[]);
    let store = Arc::new(MemoryTokenStore::default());
    for (email, password) in [(OWNER, "wrong password"), ("ghost@acme.test", PASSWORD)] {
        let err = Client::sign_in(&server.url, email, Secret::new(password.into()), None, store.clone(), &opts()).await.unwrap_err();
        assert_eq!(err.code(), Some("invalid_credentials"));
        assert_eq!(err.to_string(), "Invalid email or password.");
    }
    assert_eq!(stored(&store, &server.url), None);
}

#[tokio::test]
async fn an_unreachable_server_and_a_malformed_url_are_told_apart() {
    let store = Arc::new(MemoryTokenStore::default());
    // Port 9 (discard) has no listener here: the connection is refused.
    let err = Client::sign_in("http://127.0.0.1:9", OWNER, Secret::new("x".into()), None, store.clone(), &opts()).await.unwrap_err();
    assert!(matches!(err, Error::Unreachable { .. }), "{err:?}");
    assert!(err.to_string().starts_with("Cannot reach server at http://127.0.0.1:9"), "{err}");
    let err = Client::sign_in("gatehouse.example.com", OWNER, Secret::new("x".into()), None, store, &opts()).await.unwrap_err();
    assert!(matches!(err, Error::InvalidServerUrl(_)), "{err:?}");
}

#[tokio::test]
async fn a_stored_session_resumes_and_sign_out_ends_it_everywhere() {
    let server = ServerProcess::start(&[]);
    let store = Arc::new(MemoryTokenStore::default());
    let client = sign_in(&server.url, &store).await;
    let first = stored(&store, &server.url).unwrap();
    drop(client);

    let (resumed, me) = Client::resume(&server.url, OWNER, store.clone(), &opts()).await.unwrap();
    assert_eq!(me.user.email, OWNER);
    assert_ne!(stored(&store, &server.url).unwrap(), first, "resuming rotates the refresh token");

    assert!(resumed.sign_out().await.unwrap(), "the server confirmed the sign-out");
    assert_eq!(stored(&store, &server.url), None);
    let err = Client::resume(&server.url, OWNER, store.clone(), &opts()).await.unwrap_err();
    assert!(matches!(err, Error::NotSignedIn), "{err:?}");
}

#[tokio::test]
async fn access_tokens_near_expiry_are_refreshed_transparently() {
    // Tokens live 20 s, less than the client's 30 s safety margin: every request refreshes.
    let server = ServerProcess::start(&["--access-token-ttl", "20"]);
    let store = Arc::new(MemoryTokenStore::default());
    let client = sign_in(&server.url, &store).await;
    let mut seen = vec![stored(&store, &server.url).unwrap()];
    for _ in 0..3 {
        client.list_users(&UserListQuery::default()).await.unwrap();
        let now = stored(&store, &server.url).unwrap();
        assert!(!seen.contains(&now), "each refresh rotates the stored token");
        seen.push(now);
    }
}

#[tokio::test]
async fn concurrent_requests_share_one_refresh() {
    let server = ServerProcess::start(&["--access-token-ttl", "20"]);
    let store = Arc::new(MemoryTokenStore::default());
    let client = Arc::new(sign_in(&server.url, &store).await);
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { c.list_users(&UserListQuery::default()).await })
        })
        .collect();
    for t in tasks {
        // A second use of one refresh token would revoke the session and fail these.
        t.await.unwrap().unwrap();
    }
}

#[tokio::test]
async fn a_session_killed_by_refresh_token_reuse_sends_the_user_back_with_a_reason() {
    let server = ServerProcess::start(&["--access-token-ttl", "20"]);
    let store = Arc::new(MemoryTokenStore::default());
    let client = sign_in(&server.url, &store).await;
    // Someone else spends the stored refresh token first (a stolen copy).
    let stolen = stored(&store, &server.url).unwrap();
    let res = reqwest::Client::new()
        .post(format!("{}/v1/auth/refresh", server.url))
        .json(&serde_json::json!({"refresh_token": stolen}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // The client's next refresh presents the spent token: the server revokes the session.
    let err = client.list_users(&UserListQuery::default()).await.unwrap_err();
    let Error::SessionExpired { reason } = err else { panic!("expected SessionExpired, got {err:?}") };
    assert!(reason.contains("already used"), "{reason}");
    assert_eq!(stored(&store, &server.url), None, "the dead token is forgotten");
}

#[tokio::test]
async fn edits_carry_etags_retries_replay_and_the_feed_sees_them() {
    use gatehouse_client::api::UserPatch;
    let server = ServerProcess::start(&[]);
    let store = Arc::new(MemoryTokenStore::default());
    let client = sign_in(&server.url, &store).await;
    let head = client.changes("0", 1000).await.unwrap().cursor;
    let casey = client.list_users(&UserListQuery { q: Some("casey".into()), ..Default::default() }).await.unwrap().items.remove(0);
    let read = client.get_user_versioned(&casey.id).await.unwrap();

    let patch = UserPatch { first_name: Some("Cass".into()), ..Default::default() };
    let edited = client.update_user(&casey.id, &read.etag, &patch, "key-1").await.unwrap();
    assert_eq!(edited.value.display_name, "Cass Kim");
    assert_ne!(edited.etag, read.etag);
    // A retry of the same mutation (e.g. after a lost answer) gets the same answer.
    assert_eq!(client.update_user(&casey.id, &read.etag, &patch, "key-1").await.unwrap(), edited);
    // A new mutation on the stale version is a conflict carrying the current user.
    let other = UserPatch { last_name: Some("Lee".into()), ..Default::default() };
    let Error::Api(problem) = client.update_user(&casey.id, &read.etag, &other, "key-2").await.unwrap_err() else { panic!("expected a 412") };
    assert_eq!(problem.code, "precondition_failed");
    assert_eq!(problem.current.unwrap()["first_name"], "Cass");

    let page = client.changes(&head, 100).await.unwrap();
    assert_eq!(page.changes.len(), 1);
    assert_eq!(page.changes[0].user.as_ref().unwrap().first_name, "Cass");
    let Error::Api(problem) = client.changes("-5", 10).await.unwrap_err() else { panic!("expected a 400") };
    assert_eq!(problem.code, "validation_failed");
}
