//! `PATCH /v1/users/{id}` with ETag / If-Match (SPEC: updates take If-Match; 428 without
//! it, 412 with a stale one, the 412 carrying the current representation).

use crate::helpers::*;
use gatehouse_api::{TokenResponse, User};
use gatehouse_server::on;
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
    let (now, now_tag) = get_with_etag(&s, &t, &id).await;
    assert_eq!(p.current_etag.as_deref(), Some(now_tag.as_str()), "412 carries the current ETag");
    assert_eq!(now.last_name, "Park", "the stale edit was not applied");
}

#[tokio::test]
async fn role_and_group_changes_move_the_etag_too() {
    let s = TestServer::new().await;
    let t = s.login(OWNER).await;
    let id = user_id(&s, &t, "casey").await;
    let (_, etag) = get_with_etag(&s, &t, &id).await;
    on!(&s.state.db, |db| sqlx::query("INSERT INTO user_roles (user_id, role_id) SELECT $1, id FROM roles WHERE key = 'manager'")
        .bind(&id)
        .execute(db)
        .await
        .map(|r| r.rows_affected()))
    .unwrap();
    let (_, after_role) = get_with_etag(&s, &t, &id).await;
    assert_ne!(after_role, etag);
    problem(patch(&s, &t, &id, Some(&etag), json!({"first_name": "X"})).await, StatusCode::PRECONDITION_FAILED, "precondition_failed").await;
    on!(&s.state.db, |db| sqlx::query("DELETE FROM user_groups WHERE user_id = $1").bind(&id).execute(db).await.map(|r| r.rows_affected())).unwrap();
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
    // Lifecycle has its own actions; PATCH does not take it.
    problem(patch(&s, &t, &id, Some(&etag), json!({"status": "deactivated"})).await, StatusCode::BAD_REQUEST, "malformed_body").await;

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
    on!(&s.state.db, |db| sqlx::query_scalar("SELECT version FROM users WHERE id = $1").bind(id).fetch_one(db).await).unwrap()
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

    let p = problem(
        patch_keyed(&s, &t, &id, &etag, "edit-1", json!({"first_name": "Other"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
    )
    .await;
    assert!(p.detail.contains("different request"));
}

#[tokio::test]
async fn error_answers_are_replayed_too_and_bad_keys_are_refused() {
    let s = TestServer::new().await;
    let t = s.login(OWNER).await;
    let id = user_id(&s, &t, "casey").await;
    let p1 = problem(
        patch_keyed(&s, &t, &id, "\"v0\"", "stale-1", json!({"first_name": "X"})).await,
        StatusCode::PRECONDITION_FAILED,
        "precondition_failed",
    )
    .await;
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

async fn group_id(s: &TestServer, name: &str) -> String {
    on!(&s.state.db, |db| sqlx::query_scalar("SELECT id FROM groups WHERE name = $1").bind(name).fetch_one(db).await).unwrap()
}

#[tokio::test]
async fn roles_departments_and_custom_attributes_are_edited_in_one_patch() {
    let s = TestServer::new().await;
    let t = s.login(OWNER).await;
    let id = user_id(&s, &t, "casey").await;
    let (_, etag) = get_with_etag(&s, &t, &id).await;
    let (sales, hr) = (group_id(&s, "Sales").await, group_id(&s, "HR").await);
    let body = json!({
        "roles": ["manager", "support"],
        "departments": [sales, hr],
        "custom_attributes": {"cost_center": "CC-42", "badge": "7"},
    });
    let res = patch(&s, &t, &id, Some(&etag), body).await;
    assert_eq!(res.status(), StatusCode::OK);
    let etag = res.headers().get("etag").unwrap().to_str().unwrap().to_owned();
    let after: User = res.json().await.unwrap();
    let keys: Vec<&str> = after.roles.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys, ["manager", "support"], "built-in roles first, then by name");
    let depts: Vec<&str> = after.departments.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(depts, ["HR", "Sales"]);
    assert_eq!(after.custom_attributes.get("cost_center").map(String::as_str), Some("CC-42"));
    assert_eq!(get_with_etag(&s, &t, &id).await, (after.clone(), etag.clone()), "the response is what the server stored");
    // The role took effect at once: the user may now manage users.
    let casey = s.login("member@acme.test").await;
    assert_eq!(patch(&s, &casey, &id, Some(&etag), json!({"first_name": "Casey"})).await.status(), StatusCode::OK);
    // Attributes merge: null removes one key, others stay.
    let (_, etag) = get_with_etag(&s, &t, &id).await;
    let after: User = patch(&s, &t, &id, Some(&etag), json!({"custom_attributes": {"badge": null}})).await.json().await.unwrap();
    assert_eq!(after.custom_attributes.into_iter().collect::<Vec<_>>(), [("cost_center".to_owned(), "CC-42".to_owned())]);
    // Filters see the new memberships.
    let page: Value = s.get("/v1/users?role=support&department=HR", &t).await.json().await.unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn unknown_roles_departments_and_reserved_keys_are_field_errors_that_change_nothing() {
    let s = TestServer::new().await;
    let t = s.login(OWNER).await;
    let id = user_id(&s, &t, "casey").await;
    let (before, etag) = get_with_etag(&s, &t, &id).await;
    let cases = [
        (json!({"roles": ["member", "wizard"]}), "roles", "unknown_role"),
        (json!({"departments": ["grp_nope"]}), "departments", "unknown_department"),
        (json!({"custom_attributes": {"email": "x@y.z"}}), "custom_attributes.email", "reserved_key"),
        (json!({"custom_attributes": {"Bad Key": "x"}}), "custom_attributes.Bad Key", "invalid_key"),
        (json!({"custom_attributes": {"note": "x".repeat(1001)}}), "custom_attributes.note", "too_long"),
    ];
    for (body, field, code) in cases {
        let p = problem(patch(&s, &t, &id, Some(&etag), body.clone()).await, StatusCode::BAD_REQUEST, "validation_failed").await;
        assert_eq!((p.errors[0].field.as_str(), p.errors[0].code.as_str()), (field, code), "{body}");
    }
    let too_many: serde_json::Map<String, Value> = (0..51).map(|i| (format!("k{i}"), json!("v"))).collect();
    let p =
        problem(patch(&s, &t, &id, Some(&etag), json!({"custom_attributes": too_many})).await, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert_eq!(p.errors[0].code, "too_many");
    assert_eq!(get_with_etag(&s, &t, &id).await, (before, etag), "nothing was written");
}

#[tokio::test]
async fn a_manager_cannot_grant_admin_or_owner_and_only_an_owner_grants_owner() {
    let s = TestServer::new().await;
    let owner = s.login(OWNER).await;
    let id = user_id(&s, &owner, "casey").await;
    let manager = s.login("manager@acme.test").await;
    let (_, etag) = get_with_etag(&s, &manager, &id).await;
    for role in ["admin", "owner"] {
        let p = problem(patch(&s, &manager, &id, Some(&etag), json!({"roles": ["member", role]})).await, StatusCode::FORBIDDEN, "forbidden").await;
        assert!(p.detail.contains("role"), "{}", p.detail);
    }
    // A manager may hand out roles within their own permissions.
    assert_eq!(patch(&s, &manager, &id, Some(&etag), json!({"roles": ["member", "support"]})).await.status(), StatusCode::OK);
    // An Admin holds every permission the Owner role has, but is not an Owner.
    let admin = s.login("admin@acme.test").await;
    let (_, etag) = get_with_etag(&s, &admin, &id).await;
    let p = problem(patch(&s, &admin, &id, Some(&etag), json!({"roles": ["owner"]})).await, StatusCode::FORBIDDEN, "forbidden").await;
    assert!(p.detail.contains("Owner"), "{}", p.detail);
    assert_eq!(patch(&s, &owner, &id, Some(&etag), json!({"roles": ["owner"]})).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_last_owner_cannot_be_demoted() {
    let s = TestServer::new().await;
    let t = s.login(OWNER).await;
    let me = user_id(&s, &t, "owner@acme.test").await;
    let (_, etag) = get_with_etag(&s, &t, &me).await;
    let p = problem(patch(&s, &t, &me, Some(&etag), json!({"roles": ["admin"]})).await, StatusCode::CONFLICT, "last_owner").await;
    assert!(p.detail.contains("last Owner"), "{}", p.detail);
    // With a second Owner, the first may step down.
    let casey = user_id(&s, &t, "casey").await;
    let (_, casey_tag) = get_with_etag(&s, &t, &casey).await;
    assert_eq!(patch(&s, &t, &casey, Some(&casey_tag), json!({"roles": ["owner"]})).await.status(), StatusCode::OK);
    assert_eq!(patch(&s, &t, &me, Some(&etag), json!({"roles": ["admin"]})).await.status(), StatusCode::OK);
}
