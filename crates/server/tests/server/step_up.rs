//! Step-up (issue 18): changing one's own e-mail, resetting one's own MFA and creating a
//! key need the password confirmed within the last few minutes; the old address hears of
//! an e-mail change; a wrong password here counts towards the lock.

use crate::helpers::*;
use gatehouse_server::on;
use reqwest::StatusCode;
use serde_json::{Value, json};

const MEMBER: &str = "member@acme.test";

#[tokio::test]
async fn own_email_changes_need_a_fresh_password_and_tell_the_old_address() {
    let s = TestServer::new().await;
    let admin = s.login("admin@acme.test").await;
    let me = id_of(&s, &admin, "admin@acme.test").await;
    let path = format!("/v1/users/{me}");
    let change = |to: &'static str| send(&s, &admin, "PATCH", &path, Some(json!({"email": to})), &[("If-Match", "*")]);
    problem(change("sam@elsewhere.test").await, StatusCode::FORBIDDEN, "step_up_required").await;
    // A name change needs none.
    let res = send(&s, &admin, "PATCH", &format!("/v1/users/{me}"), Some(json!({"first_name": "Samuel"})), &[("If-Match", "*")]).await;
    assert_eq!(res.status(), StatusCode::OK);
    // A wrong password is refused, and counts as a guess.
    let res = send(&s, &admin, "POST", "/v1/auth/step-up", Some(json!({"password": "not it"})), &[]).await;
    problem(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    let guesses: i64 = on!(&s.state.db, |db| sqlx::query_scalar(
        "SELECT COUNT(*) FROM login_attempts WHERE email = 'admin@acme.test' AND reason = 'bad_password' AND ip = '127.0.0.1'"
    )
    .fetch_one(db)
    .await)
    .unwrap();
    assert_eq!(guesses, 1);
    step_up(&s, &admin).await;
    assert_eq!(change("sam@elsewhere.test").await.status(), StatusCode::OK);
    let notice: (String, String) =
        on!(&s.state.db, |db| sqlx::query_as("SELECT to_addr, text_body FROM mail_outbox WHERE kind = 'email_changed'").fetch_one(db).await).unwrap();
    assert_eq!(notice.0, "admin@acme.test");
    assert!(notice.1.contains("sam@elsewhere.test"), "{}", notice.1);
    // The window closes.
    s.advance(chrono::Duration::minutes(6));
    let admin = s.login("sam@elsewhere.test").await;
    let res = send(&s, &admin, "PATCH", &format!("/v1/users/{me}"), Some(json!({"email": "admin@acme.test"})), &[("If-Match", "*")]).await;
    problem(res, StatusCode::FORBIDDEN, "step_up_required").await;
}

#[tokio::test]
async fn own_mfa_reset_needs_a_fresh_password_and_a_key_cannot_step_up() {
    let s = TestServer::new().await;
    let member = s.login(MEMBER).await;
    let id = id_of(&s, &s.login(OWNER).await, MEMBER).await;
    problem(post(&s, &member, &format!("/v1/users/{id}/reset-mfa"), &[]).await, StatusCode::FORBIDDEN, "step_up_required").await;
    step_up(&s, &member).await;
    assert_eq!(post(&s, &member, &format!("/v1/users/{id}/reset-mfa"), &[]).await.status(), StatusCode::OK);
    let res = send(&s, &member, "POST", &format!("/v1/users/{id}/api-keys"), Some(json!({"name": "ci"})), &[]).await;
    let secret = res.json::<Value>().await.unwrap()["secret"].as_str().unwrap().to_owned();
    let res = s.http.post(s.at("/v1/auth/step-up")).bearer_auth(&secret).json(&json!({"password": PASSWORD})).send().await.unwrap();
    problem(res, StatusCode::FORBIDDEN, "forbidden").await;
}
