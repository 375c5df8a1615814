//! TOTP MFA (SPEC U11, C2): enrolment, sign-in with a code, trusted devices, the
//! organization's "MFA required", and an admin's reset.

use crate::helpers::*;
use chrono::Duration;
use gatehouse_api::{TokenResponse, TotpEnrollment, User};
use gatehouse_server::on;
use gatehouse_server::totp;
use reqwest::StatusCode;
use serde_json::{Value, json};

const MEMBER: &str = "member@acme.test";

pub fn code_now(s: &TestServer, secret: &str) -> String {
    let key = totp::base32_decode(secret).unwrap();
    format!("{:06}", totp::code_at(&key, totp::step_of(s.clock_now().timestamp())))
}

async fn login_with(s: &TestServer, body: Value) -> reqwest::Response {
    s.http.post(s.at("/v1/auth/login")).json(&body).send().await.unwrap()
}

/// Enrols `t`'s user; returns the secret.
pub async fn enrol(s: &TestServer, t: &TokenResponse) -> String {
    let res = send(s, t, "POST", "/v1/me/mfa/totp", None, &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let e: TotpEnrollment = res.json().await.unwrap();
    let secret = e.secret.expose().clone();
    assert!(e.otpauth_uri.expose().starts_with("otpauth://totp/Gatehouse%20Acme:"), "{}", e.otpauth_uri.expose());
    assert!(e.otpauth_uri.expose().contains(&format!("secret={secret}")));
    let res = send(s, t, "POST", "/v1/me/mfa/totp/confirm", Some(json!({"code": code_now(s, &secret)})), &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let user: User = res.json().await.unwrap();
    assert!(user.mfa_enabled);
    secret
}

#[tokio::test]
async fn an_enrolled_account_signs_in_with_a_code_once_and_can_trust_a_device() {
    let s = TestServer::new().await;
    let member = s.login(MEMBER).await;

    // Confirming needs a started enrolment and a right code; a wrong one changes nothing.
    problem(
        send(&s, &member, "POST", "/v1/me/mfa/totp/confirm", Some(json!({"code": "123456"})), &[]).await,
        StatusCode::CONFLICT,
        "mfa_not_started",
    )
    .await;
    let res = send(&s, &member, "POST", "/v1/me/mfa/totp", None, &[]).await;
    let started: TotpEnrollment = res.json().await.unwrap();
    let wrong = if code_now(&s, started.secret.expose()) == "000000" { "111111" } else { "000000" };
    let p = problem(
        send(&s, &member, "POST", "/v1/me/mfa/totp/confirm", Some(json!({"code": wrong})), &[]).await,
        StatusCode::BAD_REQUEST,
        "validation_failed",
    )
    .await;
    assert_eq!(p.errors[0].field, "code");
    assert_eq!(p.errors[0].code, "mfa_failed");
    let secret = enrol(&s, &member).await;
    let member_id = id_of(&s, &s.login(OWNER).await, MEMBER).await;
    // Replacing the authenticator takes an admin's reset: a stolen session cannot swap in its own.
    problem(send(&s, &member, "POST", "/v1/me/mfa/totp", None, &[]).await, StatusCode::CONFLICT, "mfa_already_enrolled").await;
    assert_eq!(events(&s, &member_id).await.iter().filter(|e| e.0 == "user.mfa_enrolled").count(), 1);

    // Without a code: refused, and the attempt says why.
    problem(login_with(&s, json!({"email": MEMBER, "password": PASSWORD})).await, StatusCode::UNAUTHORIZED, "mfa_required").await;
    // The code the enrolment used is spent; a wrong one is a failed guess.
    let spent = code_now(&s, &secret);
    problem(login_with(&s, json!({"email": MEMBER, "password": PASSWORD, "totp": spent})).await, StatusCode::UNAUTHORIZED, "mfa_failed").await;
    problem(login_with(&s, json!({"email": MEMBER, "password": PASSWORD, "totp": "12345"})).await, StatusCode::UNAUTHORIZED, "mfa_failed").await;
    // (The seed's history of attempts is older than the test clock.)
    let reasons: Vec<String> = on!(&s.state.db, |db| sqlx::query_scalar(
        "SELECT reason FROM login_attempts WHERE email = $1 AND result = 'failure' AND at >= $2 ORDER BY id"
    )
    .bind(MEMBER)
    .bind(s.clock_now())
    .fetch_all(db)
    .await)
    .unwrap();
    assert_eq!(reasons, ["mfa_required", "mfa_failed", "mfa_failed"]);

    // The next step's code works, once; asking to trust the device returns a token.
    s.advance(Duration::seconds(30));
    let code = code_now(&s, &secret);
    let trusted = tokens(login_with(&s, json!({"email": MEMBER, "password": PASSWORD, "totp": code, "trust_device": true})).await).await;
    let device = trusted.trusted_device_token.clone().expect("a trusted-device token");
    assert!(!trusted.mfa_enrollment_required);
    problem(login_with(&s, json!({"email": MEMBER, "password": PASSWORD, "totp": code})).await, StatusCode::UNAUTHORIZED, "mfa_failed").await;

    // The trusted device skips the code; a made-up token does not.
    tokens(login_with(&s, json!({"email": MEMBER, "password": PASSWORD, "trusted_device_token": device.expose()})).await).await;
    problem(
        login_with(&s, json!({"email": MEMBER, "password": PASSWORD, "trusted_device_token": "ghd_made_up"})).await,
        StatusCode::UNAUTHORIZED,
        "mfa_required",
    )
    .await;
    assert!(events(&s, &member_id).await.iter().any(|e| e.0 == "session.trusted_device_granted"));

    // A force logout withdraws the grant.
    let owner = s.login(OWNER).await;
    assert_eq!(post(&s, &owner, &format!("/v1/users/{member_id}/logout"), &[]).await.status(), StatusCode::OK);
    problem(
        login_with(&s, json!({"email": MEMBER, "password": PASSWORD, "trusted_device_token": device.expose()})).await,
        StatusCode::UNAUTHORIZED,
        "mfa_required",
    )
    .await;
    // And the trusted device expires after 30 days anyway (a fresh grant, then time).
    s.advance(Duration::seconds(30));
    let again =
        tokens(login_with(&s, json!({"email": MEMBER, "password": PASSWORD, "totp": code_now(&s, &secret), "trust_device": true})).await).await;
    let device = again.trusted_device_token.unwrap();
    s.advance(Duration::days(31));
    problem(
        login_with(&s, json!({"email": MEMBER, "password": PASSWORD, "trusted_device_token": device.expose()})).await,
        StatusCode::UNAUTHORIZED,
        "mfa_required",
    )
    .await;
}

#[tokio::test]
async fn mfa_required_lets_an_unenrolled_account_do_nothing_but_enrol() {
    let s = TestServer::new().await;
    let owner = s.login(OWNER).await;
    let res = send(&s, &owner, "PATCH", "/v1/org", Some(json!({"mfa_required": true})), &[]).await;
    assert_eq!(res.status(), StatusCode::OK);

    let member = s.login(MEMBER).await;
    assert!(member.mfa_enrollment_required);
    problem(s.get("/v1/users", &member).await, StatusCode::FORBIDDEN, "mfa_enrollment_required").await;
    problem(post(&s, &member, "/v1/users/bulk", &[]).await, StatusCode::FORBIDDEN, "mfa_enrollment_required").await;
    assert_eq!(s.get("/v1/me", &member).await.status(), StatusCode::OK);

    // Sessions that existed before the setting keep working ("on their next sign-in").
    assert_eq!(s.get("/v1/users", &owner).await.status(), StatusCode::OK);

    enrol(&s, &member).await;
    // The same session may now do what its roles allow.
    assert_eq!(s.get("/v1/users", &member).await.status(), StatusCode::OK);
    // And the next sign-in asks for the code.
    problem(login_with(&s, json!({"email": MEMBER, "password": PASSWORD})).await, StatusCode::UNAUTHORIZED, "mfa_required").await;
}

#[tokio::test]
async fn an_admin_resets_mfa_with_the_rank_rule_and_idempotently() {
    let s = TestServer::new().await;
    let owner = s.login(OWNER).await;
    let member = s.login(MEMBER).await;
    let member_id = id_of(&s, &owner, MEMBER).await;
    enrol(&s, &member).await;
    s.advance(Duration::seconds(30));

    problem(post(&s, &owner, "/v1/users/not-an-id/reset-mfa", &[]).await, StatusCode::BAD_REQUEST, "invalid_id").await;
    // A Manager may not reset an Owner's MFA: the refusal names the missing permission.
    let manager = s.login("manager@acme.test").await;
    let owner_id = id_of(&s, &owner, OWNER).await;
    let p = problem(post(&s, &manager, &format!("/v1/users/{owner_id}/reset-mfa"), &[]).await, StatusCode::FORBIDDEN, "forbidden").await;
    assert!(p.detail.contains("permission"), "{}", p.detail);
    // A Member may not reset anyone's.
    problem(post(&s, &member, &format!("/v1/users/{owner_id}/reset-mfa"), &[]).await, StatusCode::FORBIDDEN, "forbidden").await;

    let path = format!("/v1/users/{member_id}/reset-mfa");
    let res = post(&s, &owner, &path, &[("idempotency-key", "reset-mfa-1")]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let etag = res.headers().get("etag").unwrap().to_str().unwrap().to_owned();
    let user: User = res.json().await.unwrap();
    assert!(!user.mfa_enabled);
    // A retry with the key answers the same and records nothing more.
    let again = post(&s, &owner, &path, &[("idempotency-key", "reset-mfa-1")]).await;
    assert_eq!(again.headers().get("etag").unwrap().to_str().unwrap(), etag);
    let resets = events(&s, &member_id).await.into_iter().filter(|e| e.0 == "user.mfa_reset").collect::<Vec<_>>();
    assert_eq!(resets.len(), 1);
    assert_eq!(resets[0].2["before"]["mfa_enabled"], true);
    // Resetting an account without MFA changes nothing, not even its version.
    let unchanged = post(&s, &owner, &path, &[]).await;
    assert_eq!(unchanged.headers().get("etag").unwrap().to_str().unwrap(), etag);

    // The member may enrol a new authenticator now.
    assert_eq!(send(&s, &member, "POST", "/v1/me/mfa/totp", None, &[]).await.status(), StatusCode::OK);
    // The member signs in with the password alone again, and the session they had stays.
    tokens(login_with(&s, json!({"email": MEMBER, "password": PASSWORD})).await).await;
    assert_eq!(s.get("/v1/me", &member).await.status(), StatusCode::OK);
    // The change reached the change feed, so every client's cache shows it.
    let changed: i64 =
        on!(&s.state.db, |db| sqlx::query_scalar("SELECT count(*) FROM changes WHERE entity_id = $1").bind(&member_id).fetch_one(db).await).unwrap();
    assert!(changed >= 2, "enrolment and reset each enter the feed");
}

#[tokio::test]
async fn api_keys_cannot_enrol_mfa() {
    let s = TestServer::new().await;
    let member = s.login(MEMBER).await;
    let id = id_of(&s, &s.login(OWNER).await, MEMBER).await;
    step_up(&s, &member).await;
    let res = send(&s, &member, "POST", &format!("/v1/users/{id}/api-keys"), Some(json!({"name": "ci"})), &[]).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let key: Value = res.json().await.unwrap();
    let secret = key["secret"].as_str().unwrap();
    let res = s.http.post(s.at("/v1/me/mfa/totp")).bearer_auth(secret).send().await.unwrap();
    problem(res, StatusCode::FORBIDDEN, "forbidden").await;
}
