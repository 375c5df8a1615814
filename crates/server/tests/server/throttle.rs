//! Sign-in abuse under parallel requests (SPEC S5): guesses are reserved before hashing,
//! the lock is per address and client network, an admin can lift it, and refused attempts
//! do not each leave a row.

use crate::helpers::*;
use gatehouse_server::Config;
use gatehouse_server::on;
use reqwest::StatusCode;
use serde_json::json;

const MEMBER: &str = "member@acme.test";

/// A server that believes `X-Forwarded-For` from loopback, so a test can be several networks.
async fn behind_proxy() -> TestServer {
    TestServer::with_config(20, Config { trusted_proxies: vec!["127.0.0.0/8".parse().unwrap()], ..Config::default() }).await
}

async fn login_from(s: &TestServer, ip: &str, email: &str, password: &str) -> reqwest::Response {
    s.http.post(s.at("/v1/auth/login")).header("x-forwarded-for", ip).json(&json!({"email": email, "password": password})).send().await.unwrap()
}

/// Login attempts of `email` from `ip` with `reason` (the demo's own history has others).
async fn count(s: &TestServer, email: &str, ip: &str, reason: &str) -> i64 {
    on!(&s.state.db, |db| sqlx::query_scalar("SELECT COUNT(*) FROM login_attempts WHERE email = $1 AND ip = $2 AND reason = $3")
        .bind(email)
        .bind(ip)
        .bind(reason)
        .fetch_one(db)
        .await)
    .unwrap()
}

#[tokio::test]
async fn forty_parallel_guesses_get_five_checks() {
    let s = behind_proxy().await;
    let guesses = (0..40).map(|i| {
        let s = &s;
        async move { login_from(s, "203.0.113.7", MEMBER, &format!("wrong password {i}")).await.status() }
    });
    let statuses = futures_util::future::join_all(guesses).await;
    let checked = statuses.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count();
    let refused = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!((checked, refused), (5, 35), "{statuses:?}");
    // Five guesses were hashed and recorded; the 35 refusals left a row or two, not 35
    // (one a minute per reason: `rate_limited` while the five were being checked, `locked`
    // once they had failed).
    assert_eq!(count(&s, MEMBER, "203.0.113.7", "bad_password").await, 5);
    let refusals = count(&s, MEMBER, "203.0.113.7", "locked").await + count(&s, MEMBER, "203.0.113.7", "rate_limited").await;
    assert!((1..=2).contains(&refusals), "{refusals} refusal rows");
    assert_eq!(count(&s, MEMBER, "203.0.113.7", "checking").await, 0);
    // Now the five have failed: locked. A minute on, a refusal is recorded again.
    s.advance(chrono::Duration::seconds(61));
    let locked = count(&s, MEMBER, "203.0.113.7", "locked").await;
    problem(login_from(&s, "203.0.113.7", MEMBER, PASSWORD).await, StatusCode::TOO_MANY_REQUESTS, "account_locked").await;
    assert_eq!(count(&s, MEMBER, "203.0.113.7", "locked").await, locked + 1);
}

#[tokio::test]
async fn a_burst_of_sign_ins_still_being_checked_is_asked_to_wait_a_second_not_told_the_account_is_locked() {
    let s = behind_proxy().await;
    // Five sign-ins of the member from one network are being hashed right now.
    for _ in 0..5 {
        on!(&s.state.db, |db| sqlx::query(
            "INSERT INTO login_attempts (at, email, network, ip, user_agent, result, reason) VALUES ($1, $2, '203.0.113.0/24', '203.0.113.7', 'x', 'failure', 'checking')",
        )
        .bind(s.clock_now())
        .bind(MEMBER)
        .execute(db)
        .await.map(|r| r.rows_affected()))
        .unwrap();
    }
    let res = login_from(&s, "203.0.113.8", MEMBER, PASSWORD).await;
    assert_eq!(res.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("1"));
    let p = problem(res, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    assert!(p.detail.contains("try again in a second"), "{}", p.detail);
    // They turn out right: the limit is free again at once.
    on!(&s.state.db, |db| sqlx::query("UPDATE login_attempts SET result = 'success', reason = NULL WHERE reason = 'checking'")
        .execute(db)
        .await
        .map(|r| r.rows_affected()))
    .unwrap();
    assert_eq!(login_from(&s, "203.0.113.8", MEMBER, PASSWORD).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_lock_holds_for_the_guessing_network_only_and_an_admin_lifts_it() {
    let s = behind_proxy().await;
    for i in 0..5 {
        assert_eq!(login_from(&s, "198.51.100.20", OWNER, &format!("guess {i}")).await.status(), StatusCode::UNAUTHORIZED);
    }
    // The attacker's network, any address in it, is locked out of the Owner's account…
    problem(login_from(&s, "198.51.100.99", OWNER, PASSWORD).await, StatusCode::TOO_MANY_REQUESTS, "account_locked").await;
    // …and the Owner, from the office, is not.
    assert_eq!(login_from(&s, "203.0.113.50", OWNER, PASSWORD).await.status(), StatusCode::OK);

    // An admin lifts a member's lock at once, and it is recorded.
    for i in 0..5 {
        login_from(&s, "192.0.2.10", MEMBER, &format!("guess {i}")).await;
    }
    problem(login_from(&s, "192.0.2.10", MEMBER, PASSWORD).await, StatusCode::TOO_MANY_REQUESTS, "account_locked").await;
    let owner = s.login(OWNER).await;
    let member_id = id_of(&s, &owner, MEMBER).await;
    let manager = s.login("manager@acme.test").await;
    let owner_id = id_of(&s, &owner, OWNER).await;
    // The rule: a Manager may not unlock (nor lock-manage) the Owner; the Owner may unlock anyone.
    problem(post(&s, &manager, &format!("/v1/users/{owner_id}/unlock"), &[]).await, StatusCode::FORBIDDEN, "forbidden").await;
    let res = post(&s, &owner, &format!("/v1/users/{member_id}/unlock"), &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let done: gatehouse_api::SignInUnlocked = res.json().await.unwrap();
    assert_eq!((done.email.as_str(), done.unlocked_at), (MEMBER, s.clock_now()));
    assert_eq!(login_from(&s, "192.0.2.10", MEMBER, PASSWORD).await.status(), StatusCode::OK);
    let actions: Vec<String> = events(&s, &member_id).await.into_iter().map(|(a, _, _)| a).collect();
    assert!(actions.contains(&"user.sign_in_unlocked".to_owned()), "{actions:?}");
}

#[tokio::test]
async fn a_full_hash_pool_answers_503_with_retry_after() {
    // One slot and no queue: a check arriving while another runs is refused at once
    // (the pool's unit test makes that happen for certain), and its guess is given back.
    let s = TestServer::with_config(20, Config { hash_concurrency: 1, hash_queue: 0, ..Config::default() }).await;
    let parallel = (0..4).map(|i| {
        let s = &s;
        async move { s.login_raw(MEMBER, &format!("wrong {i}")).await }
    });
    let answers = futures_util::future::join_all(parallel).await;
    let busy: Vec<&reqwest::Response> = answers.iter().filter(|r| r.status() == StatusCode::SERVICE_UNAVAILABLE).collect();
    for r in &busy {
        assert_eq!(r.headers()["retry-after"], "1");
    }
    // However many were turned away, none counts as a guess: the member still signs in.
    let checked = count(&s, MEMBER, "127.0.0.1", "bad_password").await;
    assert_eq!(usize::try_from(checked).unwrap() + busy.len(), 4);
    assert_eq!(count(&s, MEMBER, "127.0.0.1", "checking").await, 0);
    assert_eq!(s.login_raw(MEMBER, PASSWORD).await.status(), StatusCode::OK);
}
