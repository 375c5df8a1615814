//! `PATCH /v1/users/{id}` with ETag / If-Match (SPEC: updates take If-Match; 428 without
//! it, 412 with a stale one, the 412 carrying the current representation).

use crate::helpers::*;
use gatehouse_api::{TokenResponse, User};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn user_id(s: &TestServer, t: &TokenResponse, email: &str) -> String {
    let page: Value = s.get(&format!("/v1/users?q={email}"), t).await.json().await.unwrap();
    page["items"][0]["id"].as_str().unwrap().to_owned()
}

async fn get_with_etag(s: &TestServer, t: &TokenResponse, id: &str) -> (User, String) {
    let res = s.get(&format!("/v1/users/{id}"), t).await;
    assert_eq!(res.status(), StatusCode::OK);
    let etag = res.headers().get("etag").expect("GET has an ETag").to_str().unwrap().to_owned();
    (res.json().await.unwrap(), etag)
}

async fn patch(s: &TestServer, t: &TokenResponse, id: &str, if_match: Option<&str>, body: Value) -> reqwest::Response {
    let mut req = s.http.patch(s.at(&format!("/v1/users/{id}"))).bearer_auth(t.access_token.expose()).json(&body);
    if let Some(tag) = if_match {
        req = req.header("if-match", tag);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn an_edit_with_the_current_etag_applies_and_returns_the_next_etag() {
    let s = TestServer::new().await;
    let t = s.login(OWNER).await;
    let id = user_id(&s, &t, "casey").await;
    let (before, etag) = get_with_etag(&s, &t, &id).await;
    assert_eq!(before.display_name, "Casey Kim");

    let res = patch(&s, &t, &id, Some(&etag), json!({"first_name": "  Cassie ", "email": "Cassie.Kim@acme.test"})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let next = res.headers().get("etag").unwrap().to_str().unwrap().to_owned();
    assert_ne!(next, etag);
    let after: User = res.json().await.unwrap();
    assert_eq!((after.display_name.as_str(), after.email.as_str(), after.last_name.as_str()), ("Cassie Kim", "Cassie.Kim@acme.test", "Kim"));
    assert_eq!(get_with_etag(&s, &t, &id).await, (after.clone(), next.clone()));
    // The new name is searchable and sorts as edited; the new e-mail signs in.
    let found: Value = s.get("/v1/users?q=cassie", &t).await.json().await.unwrap();
    assert_eq!(found["items"][0]["id"], id.as_str());
    s.login("cassie.kim@ACME.test").await;

    // A no-op edit changes nothing, not even the version.
    let res = patch(&s, &t, &id, Some(&next), json!({"last_name": "Kim"})).await;
    assert_eq!(res.headers().get("etag").unwrap().to_str().unwrap(), next);
}

#[tokio::test]
async fn a_stale_etag_gets_412_with_the_current_user_and_changes_nothing() {
    let s = TestServer::new().await;
    let t = s.login(OWNER).await;
    let id = user_id(&s, &t, "casey").await;
    let (_, etag) = get_with_etag(&s, &t, &id).await;
    // Someone else edits first.
    assert_eq!(patch(&s, &t, &id, Some(&etag), json!({"last_name": "Park"})).await.status(), StatusCode::OK);

    let p = problem(patch(&s, &t, &id, Some(&etag), json!({"last_name": "Lee"})).await, StatusCode::PRECONDITION_FAILED, "precondition_failed").await;
    let current: User = serde_json::from_value(p.current.expect("412 carries the current user")).unwrap();
    assert_eq!(current.last_name, "Park");
    let (now, _) = get_with_etag(&s, &t, &id).await;
    assert_eq!(now.last_name, "Park", "the stale edit was not applied");
}

#[tokio::test]
async fn role_and_group_changes_move_the_etag_too() {
    let s = TestServer::new().await;
    let t = s.login(OWNER).await;
    let id = user_id(&s, &t, "casey").await;
    let (_, etag) = get_with_etag(&s, &t, &id).await;
    sqlx::query("INSERT INTO user_roles (user_id, role_id) SELECT ?, id FROM roles WHERE key = 'manager'")
        .bind(&id)
        .execute(&s.state.db)
        .await
        .unwrap();
    let (_, after_role) = get_with_etag(&s, &t, &id).await;
    assert_ne!(after_role, etag);
    problem(patch(&s, &t, &id, Some(&etag), json!({"first_name": "X"})).await, StatusCode::PRECONDITION_FAILED, "precondition_failed").await;
    sqlx::query("DELETE FROM user_groups WHERE user_id = ?").bind(&id).execute(&s.state.db).await.unwrap();
    assert_ne!(get_with_etag(&s, &t, &id).await.1, after_role);
}

#[tokio::test]
async fn edits_need_if_match_permission_valid_fields_and_a_free_email() {
    let s = TestServer::new().await;
    let t = s.login(OWNER).await;
    let id = user_id(&s, &t, "casey").await;
    let (_, etag) = get_with_etag(&s, &t, &id).await;

    problem(patch(&s, &t, &id, None, json!({"first_name": "X"})).await, StatusCode::PRECONDITION_REQUIRED, "precondition_required").await;
    problem(patch(&s, &t, &id, Some("W/\"v1\""), json!({"first_name": "X"})).await, StatusCode::PRECONDITION_FAILED, "precondition_failed").await;
    problem(patch(&s, &t, "nobody", Some(&etag), json!({"first_name": "X"})).await, StatusCode::NOT_FOUND, "not_found").await;

    let long = "n".repeat(101);
    let p = problem(
        patch(&s, &t, &id, Some(&etag), json!({"first_name": " ", "last_name": long, "email": "not-an-email"})).await,
        StatusCode::BAD_REQUEST,
        "validation_failed",
    )
    .await;
    let fields: Vec<_> = p.errors.iter().map(|e| (e.field.as_str(), e.code.as_str())).collect();
    assert_eq!(fields, [("first_name", "required"), ("last_name", "too_long"), ("email", "invalid")]);
    problem(patch(&s, &t, &id, Some(&etag), json!({"roles": ["owner"]})).await, StatusCode::BAD_REQUEST, "malformed_body").await;

    let p = problem(patch(&s, &t, &id, Some(&etag), json!({"email": "ADMIN@acme.test"})).await, StatusCode::CONFLICT, "email_taken").await;
    assert!(p.detail.contains("Sam Rivera"), "names who has it: {}", p.detail);
    assert_eq!(p.errors[0].field, "email");

    // Nothing above changed the user.
    assert_eq!(get_with_etag(&s, &t, &id).await.1, etag);

    let member = s.login("member@acme.test").await;
    problem(patch(&s, &member, &id, Some(&etag), json!({"first_name": "X"})).await, StatusCode::FORBIDDEN, "forbidden").await;
}

async fn patch_keyed(s: &TestServer, t: &TokenResponse, id: &str, if_match: &str, key: &str, body: Value) -> reqwest::Response {
    s.http
        .patch(s.at(&format!("/v1/users/{id}")))
        .bearer_auth(t.access_token.expose())
        .header("if-match", if_match)
        .header("idempotency-key", key)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn version(s: &TestServer, id: &str) -> i64 {
    sqlx::query_scalar("SELECT version FROM users WHERE id = ?").bind(id).fetch_one(&s.state.db).await.unwrap()
}

#[tokio::test]
async fn a_retried_edit_replays_the_stored_response_and_applies_once() {
    let s = TestServer::new().await;
    let t = s.login(OWNER).await;
    let id = user_id(&s, &t, "casey").await;
    let (_, etag) = get_with_etag(&s, &t, &id).await;
    let v0 = version(&s, &id).await;

    let first = patch_keyed(&s, &t, &id, &etag, "edit-1", json!({"first_name": "Cass"})).await;
    assert_eq!(first.status(), StatusCode::OK);
    let first_etag = first.headers().get("etag").unwrap().clone();
    let first_body = first.bytes().await.unwrap();
    assert_eq!(version(&s, &id).await, v0 + 1);

    // The retry (say, the first answer was lost) carries the now-stale If-Match: without the
    // key it would be a 412; with it, it is the same answer, and nothing is applied again.
    let retry = patch_keyed(&s, &t, &id, &etag, "edit-1", json!({"first_name": "Cass"})).await;
    assert_eq!(retry.status(), StatusCode::OK);
    assert_eq!(retry.headers().get("idempotent-replayed").unwrap(), "true");
    assert_eq!(retry.headers().get("etag").unwrap(), &first_etag);
    assert_eq!(retry.bytes().await.unwrap(), first_body);
    assert_eq!(version(&s, &id).await, v0 + 1);

    let p = problem(patch_keyed(&s, &t, &id, &etag, "edit-1", json!({"first_name": "Other"})).await, StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused").await;
    assert!(p.detail.contains("different request"));
}

#[tokio::test]
async fn error_answers_are_replayed_too_and_bad_keys_are_refused() {
    let s = TestServer::new().await;
    let t = s.login(OWNER).await;
    let id = user_id(&s, &t, "casey").await;
    let p1 = problem(patch_keyed(&s, &t, &id, "\"v0\"", "stale-1", json!({"first_name": "X"})).await, StatusCode::PRECONDITION_FAILED, "precondition_failed").await;
    let res = patch_keyed(&s, &t, &id, "\"v0\"", "stale-1", json!({"first_name": "X"})).await;
    assert_eq!(res.headers().get("idempotent-replayed").unwrap(), "true");
    assert_eq!(problem(res, StatusCode::PRECONDITION_FAILED, "precondition_failed").await, p1);

    let (_, etag) = get_with_etag(&s, &t, &id).await;
    for bad in ["", &"k".repeat(256), "with space"] {
        let p = problem(patch_keyed(&s, &t, &id, &etag, bad, json!({"first_name": "X"})).await, StatusCode::BAD_REQUEST, "validation_failed").await;
        assert_eq!(p.errors[0].field, "Idempotency-Key", "{bad:?}");
    }
}

#[tokio::test]
async fn concurrent_duplicates_never_apply_twice() {
    let s = TestServer::new().await;
    let t = s.login(OWNER).await;
    let id = user_id(&s, &t, "casey").await;
    let (_, etag) = get_with_etag(&s, &t, &id).await;
    let v0 = version(&s, &id).await;
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (http, url, token, etag) = (s.http.clone(), s.at(&format!("/v1/users/{id}")), t.access_token.expose().clone(), etag.clone());
            tokio::spawn(async move {
                let req = http.patch(url).bearer_auth(token).header("if-match", etag).header("idempotency-key", "burst-1");
                req.json(&json!({"last_name": "Burst"})).send().await.unwrap().status()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    assert!(statuses.iter().all(|s| *s == StatusCode::OK || *s == StatusCode::CONFLICT), "{statuses:?}");
    assert!(statuses.contains(&StatusCode::OK), "{statuses:?}");
    assert_eq!(version(&s, &id).await, v0 + 1, "applied exactly once");
}
