//! Creating and removing users (SPEC U5, U9), the profile (U6), roles (R1–R3),
//! departments (U13, O2), organization settings (O1), bulk actions (U12) and the CSV
//! export (U14).

use crate::helpers::*;
use gatehouse_api::{AuthMethod, BulkResponse, Group, Organization, Problem, Role, User, UserStatus};
use gatehouse_server::on;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn user_count(s: &TestServer) -> i64 {
    on!(&s.state.db, |db| sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(db).await).unwrap()
}

async fn role_id(s: &TestServer, key: &str) -> String {
    on!(&s.state.db, |db| sqlx::query_scalar("SELECT id FROM roles WHERE key = $1").bind(key).fetch_one(db).await).unwrap()
}

async fn group_id(s: &TestServer, name: &str) -> String {
    on!(&s.state.db, |db| sqlx::query_scalar("SELECT id FROM groups WHERE name = $1").bind(name).fetch_one(db).await).unwrap()
}

fn new_user(email: &str) -> Value {
    json!({"first_name": "Dana", "last_name": "Scully", "email": email, "password": "trust no one 1013"})
}

#[tokio::test]
async fn an_admin_creates_a_user_who_can_sign_in_at_once() {
    let s = TestServer::new().await;
    let admin = s.login("admin@acme.test").await;
    let sales = group_id(&s, "Sales").await;
    let mut body = new_user("Dana.Scully@Acme.test");
    body["roles"] = json!(["manager"]);
    body["departments"] = json!([sales]);
    let res = send(&s, &admin, "POST", "/v1/users", Some(body), &[]).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let location = res.headers().get("location").unwrap().to_str().unwrap().to_owned();
    let etag = res.headers().get("etag").unwrap().to_str().unwrap().to_owned();
    let dana: User = res.json().await.unwrap();
    assert_eq!(location, format!("/v1/users/{}", dana.id));
    assert_eq!((dana.display_name.as_str(), dana.email.as_str(), dana.status), ("Dana Scully", "Dana.Scully@Acme.test", UserStatus::Active));
    assert_eq!(dana.roles.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(), ["manager"]);
    assert_eq!(dana.departments.iter().map(|g| g.name.as_str()).collect::<Vec<_>>(), ["Sales"]);
    assert_eq!(dana.auth_methods, [AuthMethod::Password]);

    // The GET agrees, with the same version; the e-mail signs in in any case.
    let got = s.get(&location, &admin).await;
    assert_eq!(got.headers().get("etag").unwrap().to_str().unwrap(), etag);
    assert_eq!(got.json::<User>().await.unwrap(), dana);
    s.login_raw("dana.scully@acme.test", "trust no one 1013").await.error_for_status().unwrap();

    // Audited with the actor and what was created, never the password.
    let events = events(&s, &dana.id).await;
    assert_eq!(events.len(), 1);
    let (action, actor, details) = &events[0];
    assert_eq!(action, "user.created");
    assert_eq!(actor.as_deref(), Some(id_of(&s, &admin, "admin@acme.test").await.as_str()));
    assert_eq!(details["after"]["email"], "Dana.Scully@Acme.test");
    assert!(!details.to_string().contains("trust no one"), "no password in the audit trail");
    // A member is the default role.
    let res = send(&s, &admin, "POST", "/v1/users", Some(new_user("fox@acme.test")), &[]).await;
    let fox: User = res.json().await.unwrap();
    assert_eq!(fox.roles.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(), ["member"]);
}

#[tokio::test]
async fn a_taken_email_names_its_user_and_bad_fields_are_each_reported_with_nothing_written() {
    let s = TestServer::new().await;
    let admin = s.login(OWNER).await;
    let before = user_count(&s).await;
    let res = send(&s, &admin, "POST", "/v1/users", Some(new_user("MEMBER@acme.test")), &[]).await;
    let p = problem(res, StatusCode::CONFLICT, "email_taken").await;
    assert!(p.detail.contains("Casey Kim"), "{}", p.detail);
    assert_eq!(p.errors[0].field, "email");

    let bad = json!({"first_name": " ", "last_name": "x".repeat(101), "email": "not-an-email", "password": "short"});
    let p = problem(send(&s, &admin, "POST", "/v1/users", Some(bad), &[]).await, StatusCode::BAD_REQUEST, "validation_failed").await;
    let fields: Vec<(&str, &str)> = p.errors.iter().map(|e| (e.field.as_str(), e.code.as_str())).collect();
    assert_eq!(fields, [("first_name", "required"), ("last_name", "too_long"), ("email", "invalid"), ("password", "too_short")]);

    let mut unknown = new_user("dana@acme.test");
    unknown["roles"] = json!(["wizard"]);
    let p = problem(send(&s, &admin, "POST", "/v1/users", Some(unknown), &[]).await, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert_eq!((p.errors[0].field.as_str(), p.errors[0].code.as_str()), ("roles", "unknown_role"));
    let mut unknown = new_user("dana@acme.test");
    unknown["departments"] = json!(["no-such-group"]);
    let p = problem(send(&s, &admin, "POST", "/v1/users", Some(unknown), &[]).await, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert_eq!((p.errors[0].field.as_str(), p.errors[0].code.as_str()), ("departments", "unknown_department"));
    let mut extra = new_user("dana@acme.test");
    extra["is_admin"] = json!(true);
    problem(send(&s, &admin, "POST", "/v1/users", Some(extra), &[]).await, StatusCode::BAD_REQUEST, "malformed_body").await;
    assert_eq!(user_count(&s).await, before, "nothing half-written");
}

#[tokio::test]
async fn a_manager_cannot_create_an_admin_and_seats_run_out() {
    let s = TestServer::new().await;
    let manager = s.login("manager@acme.test").await;
    let mut body = new_user("dana@acme.test");
    body["roles"] = json!(["admin"]);
    let p = problem(send(&s, &manager, "POST", "/v1/users", Some(body), &[]).await, StatusCode::FORBIDDEN, "forbidden").await;
    assert!(p.detail.contains("Admin"), "{}", p.detail);

    let owner = s.login(OWNER).await;
    let org: Organization = s.get("/v1/org", &owner).await.json().await.unwrap();
    assert_eq!(org.seat_limit, org.seats_used + 25, "the demo leaves 25 seats free");
    let res = send(&s, &owner, "PATCH", "/v1/org", Some(json!({"seat_limit": org.seats_used})), &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let p = problem(send(&s, &manager, "POST", "/v1/users", Some(new_user("dana@acme.test")), &[]).await, StatusCode::CONFLICT, "seat_limit_reached")
        .await;
    assert!(p.detail.contains(&org.seats_used.to_string()), "{}", p.detail);
    // Deactivating someone frees a seat; reactivating them needs one again.
    let casey = id_of(&s, &owner, "member@acme.test").await;
    assert_eq!(post(&s, &owner, &format!("/v1/users/{casey}/deactivate"), &[]).await.status(), StatusCode::OK);
    let org: Organization = s.get("/v1/org", &owner).await.json().await.unwrap();
    assert_eq!(org.seats_used + 1, org.seat_limit);
    assert_eq!(send(&s, &manager, "POST", "/v1/users", Some(new_user("dana@acme.test")), &[]).await.status(), StatusCode::CREATED);
    problem(post(&s, &owner, &format!("/v1/users/{casey}/reactivate"), &[]).await, StatusCode::CONFLICT, "seat_limit_reached").await;
}

#[tokio::test]
async fn a_user_is_removed_only_after_deactivation_and_the_feed_and_audit_remember() {
    let s = TestServer::new().await;
    let admin = s.login(OWNER).await;
    let casey = id_of(&s, &admin, "member@acme.test").await;
    let p = problem(send(&s, &admin, "DELETE", &format!("/v1/users/{casey}"), None, &[]).await, StatusCode::CONFLICT, "not_removable").await;
    assert!(p.detail.contains("deactivate them"), "{}", p.detail);
    assert_eq!(post(&s, &admin, &format!("/v1/users/{casey}/deactivate"), &[]).await.status(), StatusCode::OK);
    let res = send(&s, &admin, "DELETE", &format!("/v1/users/{casey}"), None, &[("If-Match", "\"v1\"")]).await;
    problem(res, StatusCode::PRECONDITION_FAILED, "precondition_failed").await;
    let res = send(&s, &admin, "DELETE", &format!("/v1/users/{casey}"), None, &[]).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    problem(s.get(&format!("/v1/users/{casey}"), &admin).await, StatusCode::NOT_FOUND, "not_found").await;
    let feed: Value = s.get("/v1/changes?since=0&limit=1000", &admin).await.json().await.unwrap();
    let tombstone = feed["changes"].as_array().unwrap().iter().find(|c| c["id"] == casey.as_str()).expect("in the feed");
    assert_eq!(tombstone["deleted"], true);
    let actions: Vec<String> = events(&s, &casey).await.into_iter().map(|e| e.0).collect();
    assert_eq!(actions, ["user.deactivated", "user.removed"]);
    let (_, _, details) = events(&s, &casey).await.pop().unwrap();
    assert_eq!(details["before"]["email"], "member@acme.test", "the audit trail keeps who it was");
}

#[tokio::test]
async fn the_profile_takes_an_avatar_url_or_an_uploaded_image_and_notification_preferences() {
    let s = TestServer::new().await;
    let admin = s.login(OWNER).await;
    let casey = id_of(&s, &admin, "member@acme.test").await;
    let path = format!("/v1/users/{casey}");
    let patch = |body: Value| send(&s, &admin, "PATCH", &path, Some(body), &[("If-Match", "*")]);
    let p = problem(patch(json!({"avatar_url": "http://example.com/a.png"})).await, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert_eq!(p.errors[0].field, "avatar_url");
    let user: User = patch(json!({"avatar_url": "https://cdn.example.com/casey.png", "notification_preferences": {"security_alerts": true, "account_changes": false, "weekly_digest": true}}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(user.avatar_url.as_deref(), Some("https://cdn.example.com/casey.png"));
    assert!(user.notification_preferences.weekly_digest && !user.notification_preferences.account_changes);

    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89".to_vec();
    let upload = |bytes: Vec<u8>, kind: &'static str| {
        let req = s.http.put(s.at(&format!("{path}/avatar"))).bearer_auth(admin.access_token.expose()).header("content-type", kind).body(bytes);
        async move { req.send().await.unwrap() }
    };
    let user: User = upload(png.clone(), "image/png").await.json().await.unwrap();
    let url = user.avatar_url.unwrap();
    assert!(url.starts_with(&format!("/v1/users/{casey}/avatar?v=")), "{url}");
    let got = s.get(&url, &admin).await;
    assert_eq!(got.headers().get("content-type").unwrap(), "image/png");
    assert_eq!(got.bytes().await.unwrap().to_vec(), png);

    let p = problem(upload(b"<svg onload=alert(1)>".to_vec(), "image/png").await, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert_eq!((p.errors[0].field.as_str(), p.errors[0].code.as_str()), ("avatar", "not_an_image"));
    let mut big = png.clone();
    big.resize(600 * 1024, 0);
    let p = problem(upload(big, "image/png").await, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert_eq!((p.errors[0].field.as_str(), p.errors[0].code.as_str()), ("avatar", "too_large"));
    // The upload is still the one shown; removing the picture drops it.
    let user: User = s.get(&path, &admin).await.json().await.unwrap();
    assert_eq!(user.avatar_url.as_deref(), Some(url.as_str()));
    let user: User = patch(json!({"avatar_url": ""})).await.json().await.unwrap();
    assert_eq!(user.avatar_url, None);
    problem(s.get(&url, &admin).await, StatusCode::NOT_FOUND, "not_found").await;
    let p = problem(patch(json!({"custom_attributes": {"avatar_url": "x"}})).await, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert_eq!(p.errors[0].code, "reserved_key");
}

#[tokio::test]
async fn custom_roles_are_created_edited_and_deleted_within_what_the_editor_holds() {
    let s = TestServer::new().await;
    let admin = s.login("admin@acme.test").await;
    let res = send(&s, &admin, "POST", "/v1/roles", Some(json!({"name": "HR Admin", "permissions": ["users.manage", "users.read"]})), &[]).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let role: Role = res.json().await.unwrap();
    assert_eq!((role.key.as_str(), role.builtin), ("hr_admin", false));
    assert_eq!(role.permissions, ["users.read", "users.manage"], "in catalogue order");
    problem(send(&s, &admin, "POST", "/v1/roles", Some(json!({"name": "hr admin"})), &[]).await, StatusCode::CONFLICT, "name_taken").await;
    let p = problem(
        send(&s, &admin, "POST", "/v1/roles", Some(json!({"name": "X", "permissions": ["everything"]})), &[]).await,
        StatusCode::BAD_REQUEST,
        "validation_failed",
    )
    .await;
    assert_eq!(p.errors[0].code, "unknown_permission");

    // Built-in roles are fixed; a Manager (no roles.manage) cannot touch roles at all.
    let member_role = role_id(&s, "member").await;
    problem(
        send(&s, &admin, "PATCH", &format!("/v1/roles/{member_role}"), Some(json!({"name": "Guest"})), &[]).await,
        StatusCode::CONFLICT,
        "builtin_role",
    )
    .await;
    let manager = s.login("manager@acme.test").await;
    problem(send(&s, &manager, "POST", "/v1/roles", Some(json!({"name": "Mine"})), &[]).await, StatusCode::FORBIDDEN, "forbidden").await;

    // Giving the role to Casey; renaming it shows in Casey's copy (a new version).
    let casey = id_of(&s, &admin, "member@acme.test").await;
    let res = send(&s, &admin, "PATCH", &format!("/v1/users/{casey}"), Some(json!({"roles": ["member", role.id]})), &[("If-Match", "*")]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let etag = res.headers().get("etag").unwrap().to_str().unwrap().to_owned();
    let res =
        send(&s, &admin, "PATCH", &format!("/v1/roles/{}", role.id), Some(json!({"name": "People Ops", "permissions": ["users.read"]})), &[]).await;
    let renamed: Role = res.json().await.unwrap();
    assert_eq!((renamed.name.as_str(), renamed.member_count), ("People Ops", Some(1)));
    let res = s.get(&format!("/v1/users/{casey}"), &admin).await;
    assert_ne!(res.headers().get("etag").unwrap().to_str().unwrap(), etag);
    let user: User = res.json().await.unwrap();
    assert!(user.roles.iter().any(|r| r.name == "People Ops"));

    // Deleting it leaves Casey a Member; someone whose only role it was becomes one.
    let dana: User = send(
        &s,
        &admin,
        "POST",
        "/v1/users",
        Some(json!({"first_name": "Dana", "last_name": "S", "email": "d@acme.test", "password": "long enough", "roles": [role.id]})),
        &[],
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(send(&s, &admin, "DELETE", &format!("/v1/roles/{}", role.id), None, &[]).await.status(), StatusCode::NO_CONTENT);
    let dana: User = s.get(&format!("/v1/users/{}", dana.id), &admin).await.json().await.unwrap();
    assert_eq!(dana.roles.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(), ["member"]);
    let roles: Vec<Role> = s.get("/v1/roles", &admin).await.json().await.unwrap();
    assert!(roles.iter().all(|r| r.id != role.id));
    let actions: Vec<String> = events(&s, &role.id).await.into_iter().map(|e| e.0).collect();
    assert_eq!(actions, ["role.created", "role.updated", "role.deleted"]);
}

#[tokio::test]
async fn departments_are_created_renamed_and_deleted_with_their_members_moved() {
    let s = TestServer::new().await;
    let admin = s.login(OWNER).await;
    let res = send(&s, &admin, "POST", "/v1/departments", Some(json!({"name": "Legal"})), &[]).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let legal: Group = res.json().await.unwrap();
    problem(send(&s, &admin, "POST", "/v1/departments", Some(json!({"name": "legal"})), &[]).await, StatusCode::CONFLICT, "name_taken").await;
    // The same name as a company is fine: kinds are separate.
    assert_eq!(
        send(&s, &admin, "POST", "/v1/departments", Some(json!({"name": "Legal", "kind": "company"})), &[]).await.status(),
        StatusCode::CREATED
    );
    problem(send(&s, &admin, "POST", "/v1/departments", Some(json!({"name": ""})), &[]).await, StatusCode::BAD_REQUEST, "validation_failed").await;

    let casey = id_of(&s, &admin, "member@acme.test").await;
    let res = send(&s, &admin, "PATCH", &format!("/v1/users/{casey}"), Some(json!({"departments": [legal.id]})), &[("If-Match", "*")]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let renamed: Group = send(&s, &admin, "PATCH", &format!("/v1/departments/{}", legal.id), Some(json!({"name": "Legal & Compliance"})), &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!((renamed.name.as_str(), renamed.member_count), ("Legal & Compliance", 1));
    let user: User = s.get(&format!("/v1/users/{casey}"), &admin).await.json().await.unwrap();
    assert_eq!(user.departments[0].name, "Legal & Compliance");

    let hr = group_id(&s, "HR").await;
    let p = problem(
        send(&s, &admin, "DELETE", &format!("/v1/departments/{}?move_to=nope", legal.id), None, &[]).await,
        StatusCode::BAD_REQUEST,
        "validation_failed",
    )
    .await;
    assert_eq!(p.errors[0].field, "move_to");
    assert_eq!(send(&s, &admin, "DELETE", &format!("/v1/departments/{}?move_to={hr}", legal.id), None, &[]).await.status(), StatusCode::NO_CONTENT);
    let user: User = s.get(&format!("/v1/users/{casey}"), &admin).await.json().await.unwrap();
    assert_eq!(user.departments.iter().map(|g| g.name.as_str()).collect::<Vec<_>>(), ["HR"]);
    let groups: Vec<Group> = s.get("/v1/departments?kind=department", &admin).await.json().await.unwrap();
    assert!(groups.iter().all(|g| g.id != legal.id && g.kind == gatehouse_api::GroupKind::Department));
}

#[tokio::test]
async fn organization_settings_are_checked_and_audited() {
    let s = TestServer::new().await;
    let owner = s.login(OWNER).await;
    // Signed in before MFA becomes required, so this session is not held to enrol first.
    let member = s.login("member@acme.test").await;
    let res = s.get("/v1/org", &owner).await;
    let etag = res.headers().get("etag").unwrap().to_str().unwrap().to_owned();
    let org: Organization = res.json().await.unwrap();
    assert_eq!((org.invitation_expiry_days, org.mfa_required), (7, false), "defaults");
    let p = problem(
        send(&s, &owner, "PATCH", "/v1/org", Some(json!({"seat_limit": org.seats_used - 1, "invitation_expiry_days": 0})), &[]).await,
        StatusCode::BAD_REQUEST,
        "validation_failed",
    )
    .await;
    assert_eq!(p.errors.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), ["invitation_expiry_days"]);
    let p = problem(
        send(&s, &owner, "PATCH", "/v1/org", Some(json!({"seat_limit": org.seats_used - 1})), &[]).await,
        StatusCode::BAD_REQUEST,
        "validation_failed",
    )
    .await;
    assert_eq!(p.errors[0].code, "below_usage");
    let res = send(&s, &owner, "PATCH", "/v1/org", Some(json!({"mfa_required": true, "invitation_expiry_days": 14})), &[("If-Match", &etag)]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let changed: Organization = res.json().await.unwrap();
    assert!(changed.mfa_required && changed.invitation_expiry_days == 14);
    problem(
        send(&s, &owner, "PATCH", "/v1/org", Some(json!({"mfa_required": false})), &[("If-Match", &etag)]).await,
        StatusCode::PRECONDITION_FAILED,
        "precondition_failed",
    )
    .await;
    // Requiring MFA ended the member's session (they have none); signed in again, they
    // may enrol and nothing else, and settings are not theirs anyway.
    problem(send(&s, &member, "PATCH", "/v1/org", Some(json!({"mfa_required": false})), &[]).await, StatusCode::UNAUTHORIZED, "session_revoked")
        .await;
    let (action, _, details) = events(&s, &org.id).await.pop().unwrap();
    assert_eq!(action, "organization.updated");
    assert_eq!(details["before"], json!({"mfa_required": false, "invitation_expiry_days": 7}));
}

#[tokio::test]
async fn bulk_actions_report_each_user_and_partial_failure() {
    let s = TestServer::new().await;
    let manager = s.login("manager@acme.test").await;
    let page: Value = s.get("/v1/users?status=active&role=member&limit=3", &manager).await.json().await.unwrap();
    let three: Vec<String> = page["items"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(three.len(), 3);
    let support = role_id(&s, "support").await;
    let res = send(&s, &manager, "POST", "/v1/users/bulk", Some(json!({"action": "add_role", "role": support, "user_ids": three})), &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let answer: BulkResponse = res.json().await.unwrap();
    assert_eq!((answer.succeeded, answer.failed), (3, 0));
    for (item, id) in answer.results.iter().zip(&three) {
        assert_eq!(&item.user_id, id);
        assert!(item.user.as_ref().unwrap().roles.iter().any(|r| r.key == "support"));
        assert_eq!(events(&s, id).await.last().unwrap().0, "user.roles_changed");
    }

    // A Manager deactivating an Admin, a stranger and themselves: each refused, the rest done.
    let admin = id_of(&s, &manager, "admin@acme.test").await;
    let me = id_of(&s, &manager, "manager@acme.test").await;
    let ids = json!([three[0], admin, "nobody", me, three[0]]);
    let answer: BulkResponse =
        send(&s, &manager, "POST", "/v1/users/bulk", Some(json!({"action": "deactivate", "user_ids": ids})), &[]).await.json().await.unwrap();
    assert_eq!((answer.succeeded, answer.failed), (1, 3), "the repeated id counts once");
    let codes: Vec<(u16, Option<&str>)> = answer.results.iter().map(|r| (r.status, r.code.as_deref())).collect();
    assert_eq!(codes, [(200, None), (403, Some("forbidden")), (404, Some("not_found")), (409, Some("cannot_deactivate_self"))]);

    let p = problem(
        send(&s, &manager, "POST", "/v1/users/bulk", Some(json!({"action": "add_role", "role": "wizard", "user_ids": three})), &[]).await,
        StatusCode::BAD_REQUEST,
        "validation_failed",
    )
    .await;
    assert_eq!(p.errors[0].field, "role");
    problem(
        send(&s, &manager, "POST", "/v1/users/bulk", Some(json!({"action": "logout", "user_ids": []})), &[]).await,
        StatusCode::BAD_REQUEST,
        "validation_failed",
    )
    .await;

    // Force logout ends the sessions.
    let casey_session = s.login("member@acme.test").await;
    let casey = id_of(&s, &manager, "member@acme.test").await;
    let answer: BulkResponse =
        send(&s, &manager, "POST", "/v1/users/bulk", Some(json!({"action": "logout", "user_ids": [casey]})), &[]).await.json().await.unwrap();
    assert_eq!(answer.succeeded, 1);
    problem(s.get("/v1/me", &casey_session).await, StatusCode::UNAUTHORIZED, "session_revoked").await;
}

#[tokio::test]
async fn the_filtered_list_exports_as_csv() {
    let s = TestServer::with_users(2500).await;
    let admin = s.login(OWNER).await;
    let page: Value = s.get("/v1/users?status=deactivated&limit=1", &admin).await.json().await.unwrap();
    let expected = page["counts"]["deactivated"].as_u64().unwrap() as usize;
    let res = s.get("/v1/users/export.csv?status=deactivated", &admin).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers().get("content-type").unwrap(), "text/csv; charset=utf-8");
    let text = res.text().await.unwrap();
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert!(lines[0].starts_with("id,first_name,last_name,display_name,email,status,roles"));
    assert_eq!(lines.len() - 1, expected);
    assert!(lines[1..].iter().all(|l| l.contains(",deactivated,")));

    let all = s.get("/v1/users/export.csv", &admin).await.text().await.unwrap();
    let total: i64 = on!(&s.state.db, |db| sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(db).await).unwrap();
    assert_eq!(all.split("\r\n").filter(|l| !l.is_empty()).count() as i64 - 1, total, "every user, across chunks");
    let p: Problem = s.get("/v1/users/export.csv?status=gone", &admin).await.json().await.unwrap();
    assert_eq!(p.errors[0].field, "status");
}
