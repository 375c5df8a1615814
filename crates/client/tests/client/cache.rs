//! The local cache, filled by syncing from a real server, answers lists like the server.

use crate::server::{OWNER, PASSWORD, ServerProcess};
use gatehouse_client::api::{Secret, UserListQuery, UserPatch, UserStatus};
use gatehouse_client::{Cache, Client, ClientOptions, MemoryTokenStore};
use std::sync::{Arc, Mutex};

async fn setup() -> (ServerProcess, Client, Cache, tempfile::TempDir) {
    let server = ServerProcess::start(&[]);
    let store = Arc::new(MemoryTokenStore::default());
    let (client, _) = Client::sign_in(&server.url, OWNER, Secret::new(PASSWORD.into()), None, store, &ClientOptions::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(&dir.path().join("cache.db")).await.unwrap();
    (server, client, cache, dir)
}

/// Lists that exercise search, status, role and department filters, and no match.
fn list_queries() -> [UserListQuery; 7] {
    [
        UserListQuery::default(),
        UserListQuery { q: Some("RILEY".into()), ..Default::default() },
        UserListQuery { q: Some("acme.test".into()), status: Some(UserStatus::Pending), ..Default::default() },
        UserListQuery { q: Some("a".into()), status: Some(UserStatus::Active), ..Default::default() },
        UserListQuery { role: Some("manager".into()), ..Default::default() },
        UserListQuery { department: Some("hr".into()), status: Some(UserStatus::Active), ..Default::default() },
        UserListQuery { q: Some("zzz-nobody".into()), ..Default::default() },
    ]
}

fn all(q: UserListQuery) -> UserListQuery {
    UserListQuery { limit: Some(500), ..q }
}

#[tokio::test]
async fn a_first_sync_makes_the_cache_answer_exactly_like_the_server() {
    let (_server, client, cache, _dir) = setup().await;
    let seen = Mutex::new(Vec::new());
    let outcome = client.sync(&cache, |p| seen.lock().unwrap().push(p)).await.unwrap();
    let invitations = cache.list_invitations(None, None, chrono::Utc::now()).await.unwrap().items.len() as u64;
    assert_eq!(invitations, 12, "the demo invites each of its 12 pending users");
    assert_eq!(outcome.applied, 125 + 5 + 6 + 1 + invitations, "each user, role, group, invitation and the organization once");
    assert_eq!(seen.lock().unwrap().last().map(|p| p.more), Some(false), "progress ends with nothing more");
    assert_eq!(cache.cursor().await.unwrap(), Some(outcome.cursor.clone()));

    for query in list_queries() {
        let from_server = client.list_users(&all(query.clone())).await.unwrap();
        let from_cache = cache.list_users(&all(query.clone())).await.unwrap();
        assert_eq!(from_cache.items, from_server.items, "{query:?}");
        assert_eq!(from_cache.counts, from_server.counts, "{query:?}");
    }

    // Keyset paging through the cache visits every user once, in order.
    let mut cursor = None;
    let mut ids = Vec::new();
    loop {
        let page = cache.list_users(&UserListQuery { limit: Some(40), cursor: cursor.clone(), ..Default::default() }).await.unwrap();
        ids.extend(page.items.into_iter().map(|u| u.id));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let server_ids: Vec<String> = client.list_users(&all(UserListQuery::default())).await.unwrap().items.into_iter().map(|u| u.id).collect();
    assert_eq!(ids, server_ids);
}

#[tokio::test]
async fn while_the_list_index_is_first_built_sqlite_gives_the_same_answers() {
    let (_server, client, cache, dir) = setup().await;
    client.sync(&cache, |_| {}).await.unwrap();
    // As after a restart: a fresh handle on the file, its index being built elsewhere.
    let reopened = Cache::open(&dir.path().join("cache.db")).await.unwrap();
    let hold = reopened.hold_index_for_tests().await;
    for query in list_queries() {
        let from_server = client.list_users(&all(query.clone())).await.unwrap();
        let from_sqlite = reopened.list_users(&all(query.clone())).await.unwrap();
        assert_eq!(from_sqlite.items, from_server.items, "{query:?}");
        assert_eq!(from_sqlite.counts, from_server.counts, "{query:?}");
    }
    // Its cursors page like the index's: two pages from SQLite, the rest from the
    // index once it is built.
    let active = |cursor: Option<String>| UserListQuery { limit: Some(40), status: Some(UserStatus::Active), cursor, ..Default::default() };
    let mut cursor = None;
    let mut ids = Vec::new();
    for _ in 0..2 {
        let page = reopened.list_users(&active(cursor.clone())).await.unwrap();
        ids.extend(page.items.into_iter().map(|u| u.id));
        cursor = page.next_cursor;
    }
    drop(hold);
    while let Some(c) = cursor.take() {
        let page = reopened.list_users(&active(Some(c))).await.unwrap();
        ids.extend(page.items.into_iter().map(|u| u.id));
        cursor = page.next_cursor;
    }
    let server_ids: Vec<String> =
        client.list_users(&all(UserListQuery { status: Some(UserStatus::Active), ..Default::default() })).await.unwrap().items.into_iter().map(|u| u.id).collect();
    assert_eq!(ids, server_ids);
}

#[tokio::test]
async fn a_delta_sync_brings_only_what_changed_and_survives_reopening() {
    let (_server, client, cache, dir) = setup().await;
    client.sync(&cache, |_| {}).await.unwrap();
    let casey = cache.list_users(&UserListQuery { q: Some("casey".into()), ..Default::default() }).await.unwrap().items.remove(0);
    let read = client.get_user_versioned(&casey.id).await.unwrap();
    client.update_user(&casey.id, &read.etag, &UserPatch { first_name: Some("Cass".into()), ..Default::default() }, "k1").await.unwrap();

    let outcome = client.sync(&cache, |_| {}).await.unwrap();
    assert_eq!(outcome.applied, 1);
    assert!(!outcome.resynced);
    // The same cache, its list index already loaded, takes the change in.
    let renamed = cache.list_users(&UserListQuery { q: Some("cass kim".into()), ..Default::default() }).await.unwrap();
    assert_eq!(renamed.items.iter().map(|u| u.id.as_str()).collect::<Vec<_>>(), [casey.id.as_str()]);
    for query in [UserListQuery::default(), UserListQuery { q: Some("cas".into()), ..Default::default() }] {
        let from_server = client.list_users(&all(query.clone())).await.unwrap();
        let from_cache = cache.list_users(&all(query.clone())).await.unwrap();
        assert_eq!(from_cache.items, from_server.items, "{query:?}");
        assert_eq!(from_cache.counts, from_server.counts, "{query:?}");
    }
    drop(cache);
    // Offline-readable: a reopened cache answers without the server.
    let reopened = Cache::open(&dir.path().join("cache.db")).await.unwrap();
    let found = reopened.list_users(&UserListQuery { q: Some("cass kim".into()), ..Default::default() }).await.unwrap();
    assert_eq!(found.items.len(), 1);
    assert_eq!(found.items[0].first_name, "Cass");
    assert_eq!(client.sync(&reopened, |_| {}).await.unwrap().applied, 0, "nothing new");
}
