use crate::helpers::*;
use chrono::Duration;
use gatehouse_api::{Me, TokenResponse};
use gatehouse_server::on;

use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn login_issues_prefixed_tokens_and_a_session_with_device_and_ip() {
    let s = TestServer::new().await;
    let t = s.login("OWNER@acme.test").await;
    assert!(t.access_token.expose().starts_with("gha_"));
    assert!(t.refresh_token.expose().starts_with("ghr_"));
    assert_eq!(t.expires_in, 15 * 60);
    let me: Me = s.get("/v1/me", &t).await.json().await.unwrap();
    assert_eq!(me.user.email, OWNER);
    assert_eq!(me.organization.name, "Acme");
    assert_eq!(me.session_id, t.session_id);
    assert!(me.permissions.contains(&"users.manage".to_owned()));
    let (device, ip, last_active): (String, String, chrono::DateTime<chrono::Utc>) =
        on!(&s.state.db, |db| sqlx::query_as("SELECT device, ip, last_active_at FROM sessions WHERE id = $1")
            .bind(&t.session_id)
            .fetch_one(db)
            .await)
        .unwrap();
    assert_eq!(device, "Firefox on Linux");
    assert_eq!(ip, "127.0.0.1");
    assert_eq!(last_active.date_naive().to_string(), "2026-03-01");
}

#[tokio::test]
async fn wrong_password_and_unknown_email_look_the_same_but_are_recorded_apart() {
    let s = TestServer::new().await;
    let wrong = problem(s.login_raw(OWNER, "not the password").await, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    let unknown = problem(s.login_raw("nobody@acme.test", PASSWORD).await, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    assert_eq!(wrong, unknown, "no user enumeration through the answer");
    let reasons: Vec<(String, Option<String>, String)> =
        on!(&s.state.db, |db| sqlx::query_as("SELECT email, reason, result FROM login_attempts WHERE ip = '127.0.0.1' ORDER BY id")
            .fetch_all(db)
            .await)
        .unwrap();
    assert_eq!(
        reasons,
        vec![
            (OWNER.to_owned(), Some("bad_password".to_owned()), "failure".to_owned()),
            ("nobody@acme.test".to_owned(), Some("unknown_user".to_owned()), "failure".to_owned()),
        ]
    );
}

#[tokio::test]
async fn a_deactivated_account_cannot_sign_in() {
    let s = TestServer::new().await;
    on!(&s.state.db, |db| sqlx::query("UPDATE users SET status = 'deactivated' WHERE email = 'member@acme.test'")
        .execute(db)
        .await
        .map(|r| r.rows_affected()))
    .unwrap();
    problem(s.login_raw("member@acme.test", PASSWORD).await, StatusCode::FORBIDDEN, "account_disabled").await;
    // With a wrong password it is still only "invalid credentials".
    problem(s.login_raw("member@acme.test", "guess").await, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
}

#[tokio::test]
async fn bad_login_bodies_get_specific_problems_never_500() {
    let s = TestServer::new().await;
    let url = s.at("/v1/auth/login");
    let p =
        problem(s.http.post(&url).json(&json!({"email": "", "password": ""})).send().await.unwrap(), StatusCode::BAD_REQUEST, "validation_failed")
            .await;
    let fields: Vec<_> = p.errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["email", "password"]);
    problem(s.http.post(&url).json(&json!({"email": 5})).send().await.unwrap(), StatusCode::BAD_REQUEST, "malformed_body").await;
    problem(
        s.http.post(&url).header("content-type", "application/json").body("{not json").send().await.unwrap(),
        StatusCode::BAD_REQUEST,
        "malformed_body",
    )
    .await;
    problem(s.http.post(&url).body("email=a").send().await.unwrap(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type").await;
    let huge = "x".repeat(2 * 1024 * 1024);
    problem(
        s.http.post(&url).json(&json!({"email": huge, "password": "p"})).send().await.unwrap(),
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    )
    .await;
    let long = "p".repeat(2000);
    problem(s.http.post(&url).json(&json!({"email": OWNER, "password": long})).send().await.unwrap(), StatusCode::BAD_REQUEST, "validation_failed")
        .await;
    problem(s.http.get(&url).send().await.unwrap(), StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
}

#[tokio::test]
async fn requests_without_a_valid_bearer_token_are_refused() {
    let s = TestServer::new().await;
    problem(s.http.get(s.at("/v1/me")).send().await.unwrap(), StatusCode::UNAUTHORIZED, "unauthenticated").await;
    problem(s.get_with("/v1/me", "gha_forged.signature").await, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    let res = s.http.get(s.at("/v1/me")).header("authorization", "Basic abc").send().await.unwrap();
    assert_eq!(res.headers().get("www-authenticate").unwrap(), "Bearer realm=\"gatehouse\"");
    problem(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_whole_session() {
    let s = TestServer::new().await;
    let first = s.login(OWNER).await;
    let second: TokenResponse = tokens(s.refresh(first.refresh_token.expose()).await).await;
    assert_ne!(second.refresh_token.expose(), first.refresh_token.expose());
    assert_eq!(second.session_id, first.session_id);
    assert_eq!(s.get("/v1/me", &second).await.status(), StatusCode::OK);

    // The first refresh token comes back: a stolen copy. The session dies for everyone.
    problem(s.refresh(first.refresh_token.expose()).await, StatusCode::UNAUTHORIZED, "invalid_refresh_token").await;
    problem(s.get("/v1/me", &second).await, StatusCode::UNAUTHORIZED, "session_revoked").await;
    problem(s.refresh(second.refresh_token.expose()).await, StatusCode::UNAUTHORIZED, "session_revoked").await;
    let reason: String =
        on!(&s.state.db, |db| sqlx::query_scalar("SELECT revoked_reason FROM sessions WHERE id = $1").bind(&first.session_id).fetch_one(db).await)
            .unwrap();
    assert_eq!(reason, "refresh_token_reuse");
    let owner_id: String =
        on!(&s.state.db, |db| sqlx::query_scalar("SELECT user_id FROM sessions WHERE id = $1").bind(&first.session_id).fetch_one(db).await).unwrap();
    let reused: Vec<_> = events(&s, &owner_id).await.into_iter().filter(|(a, _, _)| a == "session.refresh_token_reused").collect();
    assert_eq!(reused.len(), 1, "the reuse is audited once, by the system");
    assert_eq!((reused[0].1.as_deref(), reused[0].2["session"]["id"].as_str()), (None, Some(first.session_id.as_str())));
    problem(s.refresh("ghr_never-issued").await, StatusCode::UNAUTHORIZED, "invalid_refresh_token").await;
}

#[tokio::test]
async fn access_tokens_expire_and_refresh_tokens_too() {
    let s = TestServer::new().await;
    let t = s.login(OWNER).await;
    s.advance(Duration::minutes(16));
    problem(s.get("/v1/me", &t).await, StatusCode::UNAUTHORIZED, "token_expired").await;
    let fresh: TokenResponse = tokens(s.refresh(t.refresh_token.expose()).await).await;
    assert_eq!(s.get("/v1/me", &fresh).await.status(), StatusCode::OK);
    s.advance(Duration::days(31));
    problem(s.refresh(fresh.refresh_token.expose()).await, StatusCode::UNAUTHORIZED, "invalid_refresh_token").await;
}

#[tokio::test]
async fn logout_is_effective_on_the_very_next_request_on_every_node() {
    let s = TestServer::new().await;
    let node_b = s.second_node().await;
    let t = s.login(OWNER).await;
    let on_b = |path: &str| s.http.get(format!("{node_b}{path}")).bearer_auth(t.access_token.expose()).send();
    assert_eq!(on_b("/v1/me").await.unwrap().status(), StatusCode::OK);
    let res = s.http.post(s.at("/v1/auth/logout")).bearer_auth(t.access_token.expose()).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    problem(s.get("/v1/me", &t).await, StatusCode::UNAUTHORIZED, "session_revoked").await;
    problem(on_b("/v1/me").await.unwrap(), StatusCode::UNAUTHORIZED, "session_revoked").await;
    problem(s.refresh(t.refresh_token.expose()).await, StatusCode::UNAUTHORIZED, "session_revoked").await;
}

#[tokio::test]
async fn deactivating_a_user_ends_their_sessions_at_once() {
    let s = TestServer::new().await;
    let t = s.login("member@acme.test").await;
    assert_eq!(s.get("/v1/users", &t).await.status(), StatusCode::OK);
    on!(&s.state.db, |db| sqlx::query("UPDATE users SET status = 'deactivated' WHERE email = 'member@acme.test'")
        .execute(db)
        .await
        .map(|r| r.rows_affected()))
    .unwrap();
    problem(s.get("/v1/users", &t).await, StatusCode::UNAUTHORIZED, "session_revoked").await;
}

#[tokio::test]
async fn last_active_is_kept_without_a_write_on_every_request() {
    let s = TestServer::new().await;
    let t = s.login(OWNER).await;
    let last = || async {
        on!(&s.state.db, |db| sqlx::query_scalar::<_, chrono::DateTime<chrono::Utc>>("SELECT last_active_at FROM sessions WHERE id = $1")
            .bind(&t.session_id)
            .fetch_one(db)
            .await)
        .unwrap()
    };
    let at_login = last().await;
    s.advance(Duration::seconds(30));
    s.get("/v1/me", &t).await;
    assert_eq!(last().await, at_login, "within the granularity, no write");
    s.advance(Duration::seconds(60));
    s.get("/v1/me", &t).await;
    assert!(last().await > at_login);
}
