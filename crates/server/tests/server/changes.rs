//! The change feed: ordered upserts and tombstones, latest per resource, 410 past retention.

use crate::helpers::*;
use chrono::Duration;
use gatehouse_api::{ChangeKind, ChangePage, TokenResponse, UserStatus};
use gatehouse_server::on;
use reqwest::StatusCode;
use serde_json::json;
use std::collections::HashMap;

async fn feed(s: &TestServer, t: &TokenResponse, since: &str, limit: u32) -> ChangePage {
    let res = s.get(&format!("/v1/changes?since={since}&limit={limit}"), t).await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

/// Follows the feed from `since` to its end; returns the changes and the final cursor.
async fn follow(s: &TestServer, t: &TokenResponse, since: &str, limit: u32) -> (Vec<gatehouse_api::Change>, String) {
    let mut all = Vec::new();
    let mut cursor = since.to_owned();
    loop {
        let page = feed(s, t, &cursor, limit).await;
        let seqs: Vec<i64> = page.changes.iter().map(|c| c.seq).collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "ordered by seq");
        all.extend(page.changes);
        cursor = page.cursor;
        if !page.has_more {
            return (all, cursor);
        }
    }
}

#[tokio::test]
async fn the_feed_from_zero_holds_everything_once_in_order() {
    let s = TestServer::new().await;
    let t = s.login(OWNER).await;
    let (changes, cursor) = follow(&s, &t, "0", 7).await;
    let mut latest: HashMap<(ChangeKind, String), i64> = HashMap::new();
    for c in &changes {
        latest.insert((c.kind, c.id.clone()), c.seq);
    }
    let count = |k: ChangeKind| latest.keys().filter(|(kind, _)| *kind == k).count();
    assert_eq!(count(ChangeKind::User), 45, "every user");
    assert_eq!(count(ChangeKind::Role), 5);
    assert_eq!(count(ChangeKind::Group), 6);
    assert_eq!(count(ChangeKind::Organization), 1);
    let user = changes.iter().rev().find(|c| c.kind == ChangeKind::User).unwrap();
    assert!(!user.deleted && user.user.as_ref().is_some_and(|u| u.id == user.id));
    let role = changes.iter().find(|c| c.kind == ChangeKind::Role).unwrap();
    assert!(!role.role.as_ref().unwrap().permissions.is_empty());
    // Caught up: nothing after the cursor.
    let page = feed(&s, &t, &cursor, 100).await;
    assert!(page.changes.is_empty() && !page.has_more);
    assert_eq!(page.cursor, cursor, "the cursor stays put when nothing happened");
}

#[tokio::test]
async fn edits_memberships_and_deletes_appear_after_the_cursor_latest_first_wins() {
    let s = TestServer::new().await;
    let t = s.login(OWNER).await;
    let (_, head) = follow(&s, &t, "0", 500).await;
    let page: serde_json::Value = s.get("/v1/users?q=casey", &t).await.json().await.unwrap();
    let casey = page["items"][0]["id"].as_str().unwrap().to_owned();
    let etag = s.get(&format!("/v1/users/{casey}"), &t).await.headers()["etag"].to_str().unwrap().to_owned();
    let res = s
        .http
        .patch(s.at(&format!("/v1/users/{casey}")))
        .bearer_auth(t.access_token.expose())
        .header("if-match", etag)
        .json(&json!({"first_name": "Cass"}))
        .send()
        .await
        .unwrap();
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    s.http
        .patch(s.at(&format!("/v1/users/{casey}")))
        .bearer_auth(t.access_token.expose())
        .header("if-match", etag)
        .json(&json!({"first_name": "Cassandra"}))
        .send()
        .await
        .unwrap();
    on!(&s.state.db, |db| sqlx::query("INSERT INTO user_roles (user_id, role_id) SELECT $1, id FROM roles WHERE key = 'manager'")
        .bind(&casey)
        .execute(db)
        .await
        .map(|r| r.rows_affected()))
    .unwrap();
    let gone: String =
        on!(&s.state.db, |db| sqlx::query_scalar("SELECT id FROM users WHERE status = 'pending' LIMIT 1").fetch_one(db).await).unwrap();
    on!(&s.state.db, |db| sqlx::query("DELETE FROM users WHERE id = $1").bind(&gone).execute(db).await.map(|r| r.rows_affected())).unwrap();
    // Last active is not a change: it would flood every client every minute.
    on!(&s.state.db, |db| sqlx::query("UPDATE users SET last_active_at = '2030-01-01T00:00:00Z' WHERE id <> $1")
        .bind(&casey)
        .execute(db)
        .await
        .map(|r| r.rows_affected()))
    .unwrap();

    let page = feed(&s, &t, &head, 100).await;
    // (The pending user's invitation has its own entries.)
    let ids: Vec<(&str, bool)> = page.changes.iter().filter(|c| c.kind != ChangeKind::Invitation).map(|c| (c.id.as_str(), c.deleted)).collect();
    assert_eq!(ids, [(casey.as_str(), false), (gone.as_str(), true)], "one entry per resource, in order");
    let now = page.changes[0].user.as_ref().unwrap();
    assert_eq!(now.first_name, "Cassandra");
    assert!(now.roles.iter().any(|r| r.key == "manager"));
    let etag = s.get(&format!("/v1/users/{casey}"), &t).await.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(page.changes[0].etag.as_deref(), Some(etag.as_str()), "the feed carries the ETag an edit needs");
    assert!(page.changes[1].user.is_none() && page.changes[1].etag.is_none());
}

#[tokio::test]
async fn cursors_past_retention_get_410_and_bad_cursors_400() {
    let s = TestServer::new().await;
    let t = s.login(OWNER).await;
    let (_, head) = follow(&s, &t, "0", 500).await;
    let dropped = gatehouse_server::store::changes::prune(&s.state.db, chrono::Utc::now() + Duration::days(31), Duration::days(30)).await.unwrap();
    assert!(dropped > 50);
    problem(s.get("/v1/changes?since=0", &t).await, StatusCode::GONE, "changes_expired").await;
    // The newest cursor is still good: nothing after it was pruned.
    assert!(feed(&s, &t, &head, 10).await.changes.is_empty());
    for (q, field) in [("since=-1", "since"), ("since=abc", "since"), ("limit=0", "limit"), ("limit=1001", "limit"), ("count=maybe", "count")] {
        let p = problem(s.get(&format!("/v1/changes?{q}"), &t).await, StatusCode::BAD_REQUEST, "validation_failed").await;
        assert_eq!(p.errors[0].field, field, "{q}");
    }
}

#[tokio::test]
async fn another_organizations_changes_are_not_in_the_feed() {
    let s = TestServer::new().await;
    let t = s.login(OWNER).await;
    let (_, head) = follow(&s, &t, "0", 500).await;
    on!(&s.state.db, |db| sqlx::query("INSERT INTO organizations (id, name, created_at) VALUES ('other', 'Other', '2026-01-01T00:00:00Z')")
        .execute(db)
        .await
        .map(|r| r.rows_affected()))
    .unwrap();
    on!(&s.state.db, |db| sqlx::query(
        "INSERT INTO users (id, org_id, email, email_lower, first_name, last_name, display_name, sort_name, search_text, status, created_at, updated_at) \
         VALUES ('o1', 'other', 'x@other.test', 'x@other.test', 'X', 'Y', 'X Y', 'x y', 'x y x@other.test', 'active', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
    )
    .execute(db)
    .await.map(|r| r.rows_affected()))
    .unwrap();
    assert!(feed(&s, &t, &head, 100).await.changes.is_empty());
}

/// Reads server-sent events until one named `event`; returns its data.
async fn next_event(res: &mut reqwest::Response, buf: &mut String, event: &str) -> String {
    let read = async {
        loop {
            while let Some(end) = buf.find("\n\n") {
                let block: String = buf.drain(..end + 2).collect();
                let name = block.lines().find_map(|l| l.strip_prefix("event: ").or_else(|| l.strip_prefix("event:"))).unwrap_or("");
                let data = block.lines().find_map(|l| l.strip_prefix("data: ").or_else(|| l.strip_prefix("data:"))).unwrap_or("");
                if name == event {
                    return Some(data.to_owned());
                }
            }
            match res.chunk().await.unwrap() {
                Some(bytes) => buf.push_str(&String::from_utf8_lossy(&bytes)),
                None => return None,
            }
        }
    };
    // A generous bound so a broken stream fails the test instead of hanging it.
    tokio::time::timeout(std::time::Duration::from_secs(30), read)
        .await
        .expect("no event in 30 s")
        .unwrap_or_else(|| panic!("stream ended before `{event}`"))
}

#[tokio::test]
async fn the_stream_says_when_the_feed_moves_and_ends_when_the_session_is_revoked() {
    let s = TestServer::new().await;
    let t = s.login(OWNER).await;
    let mut stream = s.get("/v1/changes/stream", &t).await;
    assert_eq!(stream.status(), StatusCode::OK);
    assert!(stream.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let mut buf = String::new();
    let first: i64 = next_event(&mut stream, &mut buf, "changed").await.parse().unwrap();
    let (_, head) = follow(&s, &t, "0", 500).await;
    assert_eq!(first.to_string(), head, "the first event is the feed's head");

    on!(&s.state.db, |db| sqlx::query("UPDATE users SET first_name = 'Streamed' WHERE email = 'member@acme.test'")
        .execute(db)
        .await
        .map(|r| r.rows_affected()))
    .unwrap();
    let moved: i64 = next_event(&mut stream, &mut buf, "changed").await.parse().unwrap();
    assert!(moved > first);
    let page = feed(&s, &t, &first.to_string(), 10).await;
    assert_eq!(page.cursor, moved.to_string());
    assert_eq!(page.changes[0].user.as_ref().unwrap().first_name, "Streamed");

    // Signing out (here: the session is revoked) ends the stream with a reason.
    s.http.post(s.at("/v1/auth/logout")).bearer_auth(t.access_token.expose()).send().await.unwrap();
    next_event(&mut stream, &mut buf, "session_revoked").await;
    assert!(stream.chunk().await.unwrap().is_none(), "the stream ends");
}

/// Several server processes on one database (several nodes on PostgreSQL): a stream held
/// open on one node hears of a change made through another, and ends when the session is
/// revoked through the other.
#[tokio::test]
async fn a_stream_on_one_node_hears_of_changes_and_revocations_made_through_another() {
    let s = TestServer::new().await;
    let t = s.login(OWNER).await;
    let other = s.second_node().await;
    let mut stream = s.http.get(format!("{other}/v1/changes/stream")).bearer_auth(t.access_token.expose()).send().await.unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    let mut buf = String::new();
    let first: i64 = next_event(&mut stream, &mut buf, "changed").await.parse().unwrap();

    let member = id_of(&s, &t, "member@acme.test").await;
    assert_eq!(post(&s, &t, &format!("/v1/users/{member}/deactivate"), &[]).await.status(), StatusCode::OK);
    let moved: i64 = next_event(&mut stream, &mut buf, "changed").await.parse().unwrap();
    assert!(moved > first);
    let page = feed(&s, &t, &first.to_string(), 10).await;
    assert!(page.changes.iter().any(|c| c.id == member && c.user.as_ref().is_some_and(|u| u.status == UserStatus::Deactivated)), "{page:?}");

    s.http.post(s.at("/v1/auth/logout")).bearer_auth(t.access_token.expose()).send().await.unwrap();
    next_event(&mut stream, &mut buf, "session_revoked").await;
    assert!(stream.chunk().await.unwrap().is_none(), "the stream ends");
}

#[tokio::test]
async fn remaining_counts_what_is_left_unless_the_client_says_count_false() {
    let s = TestServer::new().await;
    let t = s.login(OWNER).await;
    let (all, _) = follow(&s, &t, "0", 500).await;
    let first = feed(&s, &t, "0", 10).await;
    assert!(first.has_more);
    assert_eq!(first.remaining, all.len() as u64 - 10, "every entry after the first page's cursor");
    let res = s.get(&format!("/v1/changes?since={}&limit=10&count=false", first.cursor), &t).await;
    assert_eq!(res.status(), StatusCode::OK);
    let next: ChangePage = res.json().await.unwrap();
    assert!(next.has_more && next.changes.len() == 10);
    assert_eq!(next.remaining, 0, "not counted");
}
