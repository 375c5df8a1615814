//! How long security records live (issue 18): a session's absolute lifetime, "MFA
//! required" ending sessions without MFA, and the retention purge, with the clock moved
//! by hand.

use crate::helpers::*;
use chrono::Duration;
use gatehouse_server::Config;
use gatehouse_server::on;
use reqwest::StatusCode;
use serde_json::json;

const MEMBER: &str = "member@acme.test";

#[tokio::test]
async fn a_session_ends_thirty_days_after_sign_in_however_active() {
    let s = TestServer::with_config(20, Config { access_token_ttl: Duration::days(60), ..Config::default() }).await;
    let member = s.login(MEMBER).await;
    let mut refresh = member.refresh_token.expose().clone();
    // Active all along: refreshed every ten days.
    for _ in 0..2 {
        s.advance(Duration::days(10));
        let t = tokens(s.refresh(&refresh).await).await;
        refresh = t.refresh_token.expose().clone();
        assert_eq!(s.get("/v1/me", &t).await.status(), StatusCode::OK);
    }
    s.advance(Duration::days(10));
    problem(s.get("/v1/me", &member).await, StatusCode::UNAUTHORIZED, "session_revoked").await;
    problem(s.refresh(&refresh).await, StatusCode::UNAUTHORIZED, "session_revoked").await;
}

#[tokio::test]
async fn requiring_mfa_ends_the_sessions_that_lack_it() {
    let s = TestServer::new().await;
    let owner = s.login(OWNER).await;
    let member = s.login(MEMBER).await;
    let res = send(&s, &owner, "PATCH", "/v1/org", Some(json!({"mfa_required": true})), &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    problem(s.get("/v1/me", &member).await, StatusCode::UNAUTHORIZED, "session_revoked").await;
    // The admin who turned it on keeps this session; their next sign-in must enrol.
    assert_eq!(s.get("/v1/users", &owner).await.status(), StatusCode::OK);
    let again: serde_json::Value = s.login_raw(OWNER, PASSWORD).await.json().await.unwrap();
    assert_eq!(again["mfa_enrollment_required"], true);
}

#[tokio::test]
async fn old_attempts_sessions_tokens_and_reset_links_are_purged() {
    let s = TestServer::new().await;
    let owner = s.login(OWNER).await;
    assert_eq!(s.login_raw(MEMBER, "wrong").await.status(), StatusCode::UNAUTHORIZED);
    let member = s.login(MEMBER).await;
    assert_eq!(send(&s, &member, "POST", "/v1/auth/logout", None, &[]).await.status(), StatusCode::NO_CONTENT);
    let count = |table: &'static str| {
        let db = s.state.db.clone();
        async move { on!(&db, |db| sqlx::query_scalar::<_, i64>(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(db).await).unwrap() }
    };
    let (attempts, sessions) = (count("login_attempts").await, count("sessions").await);
    assert!(attempts >= 3 && sessions >= 2);
    // Within the retention nothing goes.
    let keep = Duration::days(90);
    gatehouse_server::retention::purge(&s.state.db, s.clock_now(), keep).await.unwrap();
    assert_eq!((count("login_attempts").await, count("sessions").await), (attempts, sessions));
    s.advance(Duration::days(91));
    let fresh = s.login(OWNER).await;
    let gone = gatehouse_server::retention::purge(&s.state.db, s.clock_now(), keep).await.unwrap();
    assert!(gone > 0);
    // Only this sign-in's attempt is left; the ended session and its tokens went, the
    // live ones stay (the owner's first session is still live: not ended, not purged).
    assert_eq!(count("login_attempts").await, 1);
    let live: i64 =
        on!(&s.state.db, |db| sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE revoked_at IS NOT NULL").fetch_one(db).await).unwrap();
    assert_eq!(live, 0);
    assert!(count("sessions").await >= 2, "live sessions stay");
    drop((owner, fresh));
}
