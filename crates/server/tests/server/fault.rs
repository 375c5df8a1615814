//! A server node killed (SIGKILL) in the middle of a request while another node serves
//! the same database (issue 19): nothing is half-applied, and the retry through the other
//! node either replays the stored answer or applies the change, once.

use crate::helpers::*;
use gatehouse_server::on;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, BufReader};

/// A `gatehouse-server serve` process on the test's database; killed when dropped.
async fn node(s: &TestServer) -> (tokio::process::Child, String) {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_gatehouse-server"))
        .args(["serve", "--listen", "127.0.0.1:0", "--db", &s.location.expose()])
        .arg("--keys-file")
        .arg(s.dir.path().join("test.keys"))
        .env("GATEHOUSE_LOG", "error")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next_line().await.unwrap().expect("the node printed its address");
    let url = first.strip_prefix("listening on ").unwrap().to_owned();
    // Keep reading so the node never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, url)
}

#[tokio::test]
async fn a_node_killed_mid_request_leaves_nothing_half_applied_and_the_retry_through_another_applies_once() {
    let s = TestServer::new().await;
    // Both nodes are processes with the real clock (the in-process server's is the test's).
    let (mut doomed, doomed_url) = node(&s).await;
    let (_survivor, survivor_url) = node(&s).await;
    let http = reqwest::Client::new();
    let login: Value = http
        .post(format!("{survivor_url}/v1/auth/login"))
        .json(&json!({"email": OWNER, "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["access_token"].as_str().unwrap().to_owned();
    let page: Value = http.get(format!("{survivor_url}/v1/users?q=member@acme.test")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    let id = page["items"][0]["id"].as_str().unwrap().to_owned();
    let got = http.get(format!("{survivor_url}/v1/users/{id}")).bearer_auth(&token).send().await.unwrap();
    let etag = got.headers()["etag"].to_str().unwrap().to_owned();
    let state = || async {
        let version: i64 =
            on!(&s.state.db, |db| sqlx::query_scalar("SELECT version FROM users WHERE id = $1").bind(&id).fetch_one(db).await).unwrap();
        let events: i64 =
            on!(&s.state.db, |db| sqlx::query_scalar("SELECT COUNT(*) FROM audit_events WHERE target_id = $1 AND action = 'user.updated'")
                .bind(&id)
                .fetch_one(db)
                .await)
            .unwrap();
        let answers: i64 =
            on!(&s.state.db, |db| sqlx::query_scalar("SELECT COUNT(*) FROM idempotency_keys WHERE key = 'killed-mid-edit'").fetch_one(db).await)
                .unwrap();
        (version, events, answers)
    };
    let before = state().await;
    let edit = |url: &str| {
        http.patch(format!("{url}/v1/users/{id}"))
            .bearer_auth(&token)
            .header("if-match", &etag)
            .header("idempotency-key", "killed-mid-edit")
            .json(&json!({"first_name": "Survived", "last_name": "Killtest"}))
            .send()
    };

    // The edit goes to the doomed node, which is killed while it may be anywhere in it:
    // not reached yet, mid-transaction, committed but not answered, or answered.
    let sent = tokio::spawn(edit(&doomed_url));
    tokio::task::yield_now().await;
    doomed.start_kill().unwrap();
    doomed.wait().await.unwrap();
    let _ = sent.await.unwrap();

    // Whatever the moment, the change and its stored answer went together or not at all.
    let after_kill = state().await;
    let applied = after_kill != before;
    if applied {
        assert_eq!(after_kill, (before.0 + 1, before.1 + 1, before.2 + 1), "applied whole");
    }

    // The client retries through the other node: the same request, the same key.
    let retry = edit(&survivor_url).await.unwrap();
    assert_eq!(retry.status(), StatusCode::OK);
    let replayed = retry.headers().get("idempotent-replayed").is_some_and(|v| v == "true");
    assert_eq!(replayed, applied, "a change the killed node committed is replayed, not applied again");
    let body: Value = retry.json().await.unwrap();
    assert_eq!(body["first_name"], "Survived");
    assert_eq!(state().await, (before.0 + 1, before.1 + 1, before.2 + 1), "applied exactly once");
}
