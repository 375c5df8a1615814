//! Under contention nothing answers 500 (issue 19): many admins at once doing the ordinary
//! mix — list, read, edit with If-Match, force logout, reset MFA — wait for the database's
//! write lock instead of failing with "database is locked".

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_ordinary_mix_of_concurrent_writes_never_answers_500() {
    let s = TestServer::with_users(120).await;
    let owner = s.login(OWNER).await;
    let users: serde_json::Value = s.get("/v1/users?limit=100&status=active", &owner).await.json().await.unwrap();
    let mut targets: Vec<(String, bool)> = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["email"] != OWNER)
        .map(|u| (u["id"].as_str().unwrap().to_owned(), u["mfa_enabled"].as_bool().unwrap()))
        .collect();
    targets.truncate(48);
    assert!(targets.iter().any(|t| t.1), "some seeded users have MFA to reset");

    let mut tasks = Vec::new();
    for (round, (id, mfa)) in targets.into_iter().enumerate() {
        let (http, base, token) = (s.http.clone(), s.url.clone(), owner.access_token.expose().clone());
        tasks.push(tokio::spawn(async move {
            let mut statuses = Vec::new();
            let at = |p: &str| format!("{base}{p}");
            // Read, then edit with the ETag it gave.
            let read = http.get(at(&format!("/v1/users/{id}"))).bearer_auth(&token).send().await.unwrap();
            statuses.push(read.status());
            let etag = read.headers().get("etag").unwrap().to_str().unwrap().to_owned();
            let edit = http
                .patch(at(&format!("/v1/users/{id}")))
                .bearer_auth(&token)
                .header("if-match", etag)
                .json(&json!({"first_name": format!("Busy{round}")}))
                .send()
                .await
                .unwrap();
            statuses.push(edit.status());
            let action = if mfa { "reset-mfa" } else { "logout" };
            statuses.push(http.post(at(&format!("/v1/users/{id}/{action}"))).bearer_auth(&token).send().await.unwrap().status());
            statuses.push(http.post(at(&format!("/v1/users/{id}/logout"))).bearer_auth(&token).send().await.unwrap().status());
            statuses.push(http.get(at("/v1/users?limit=50")).bearer_auth(&token).send().await.unwrap().status());
            statuses
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let failed: Vec<&StatusCode> = all.iter().filter(|st| st.is_server_error()).collect();
    assert!(failed.is_empty(), "{} of {} answers were 5xx: {failed:?}", failed.len(), all.len());
    assert!(all.iter().all(|st| st.is_success()), "every request was ordinary and allowed: {all:?}");
}
