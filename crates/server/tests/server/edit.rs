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
