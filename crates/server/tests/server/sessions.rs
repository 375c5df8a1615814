//! Sessions, force logout, login attempts and brute-force protection (issue 5).

use crate::helpers::*;
use chrono::Duration;
use gatehouse_api::{ForcedLogout, LoginAttemptPage, Revocation, RevokeOutcome, SessionPage};
use gatehouse_server::on;
use gatehouse_server::{Config, SignInLimits};
use reqwest::StatusCode;
use serde_json::json;

const MEMBER: &str = "member@acme.test";

async fn sessions(s: &TestServer, t: &gatehouse_api::TokenResponse, query: &str) -> SessionPage {
    let res = s.get(&format!("/v1/sessions{query}"), t).await;
    assert_eq!(res.status(), StatusCode::OK, "GET /v1/sessions{query}");
    res.json().await.unwrap()
}

async fn delete(s: &TestServer, t: &gatehouse_api::TokenResponse, path: &str) -> reqwest::Response {
    send(s, t, "DELETE", path, None, &[]).await
}

#[tokio::test]
async fn a_revoked_session_is_refused_on_its_next_request_by_every_server_process() {
    let s = TestServer::new().await;
    let node2 = s.second_node().await;
    let owner = s.login(OWNER).await;
    let member = s.login(MEMBER).await;
    // The member's session works on both nodes.
    for base in [&s.url, &node2] {
        let res = s.http.get(format!("{base}/v1/me")).bearer_auth(member.access_token.expose()).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }

    // Revoked through node 1 …
    let res = delete(&s, &owner, &format!("/v1/sessions/{}", member.session_id)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let first: Revocation = res.json().await.unwrap();
    assert_eq!(first.outcome, RevokeOutcome::Revoked);
    assert_eq!(first.revoked_at, Some(s.clock_now()));

    // … the very next request is refused on node 2, with the access token still unexpired.
    let res = s.http.get(format!("{node2}/v1/me")).bearer_auth(member.access_token.expose()).send().await.unwrap();
    problem(res, StatusCode::UNAUTHORIZED, "session_revoked").await;
    problem(s.get("/v1/me", &member).await, StatusCode::UNAUTHORIZED, "session_revoked").await;
    // And the refresh token is dead too.
    problem(s.refresh(member.refresh_token.expose()).await, StatusCode::UNAUTHORIZED, "session_revoked").await;

    // Repeating it is harmless and keeps the original time.
    s.advance(Duration::minutes(3));
    let again: Revocation = delete(&s, &owner, &format!("/v1/sessions/{}", member.session_id)).await.json().await.unwrap();
    assert_eq!((again.outcome, again.revoked_at), (RevokeOutcome::AlreadyRevoked, first.revoked_at));
    // An unknown (well-formed) id is a success that says so; a malformed one is a 400.
    let unknown: Revocation = delete(&s, &owner, "/v1/sessions/0192f4c1-7d3e-7a10-9b1c-2f4e5d6c7b8a").await.json().await.unwrap();
    assert_eq!((unknown.outcome, unknown.revoked_at), (RevokeOutcome::Unknown, None));
    let p = problem(delete(&s, &owner, "/v1/sessions/not-a-session").await, StatusCode::BAD_REQUEST, "invalid_id").await;
    assert!(p.detail.contains("not-a-session"), "{}", p.detail);

    // Audited once, with the device and address of the session.
    let member_id = id_of(&s, &owner, MEMBER).await;
    let revoked: Vec<_> = events(&s, &member_id).await.into_iter().filter(|(a, _, _)| a == "session.revoked").collect();
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0].2["session"]["id"], member.session_id.as_str());
    assert_eq!(revoked[0].2["session"]["device"], "Firefox on Linux");
}

#[tokio::test]
async fn force_logout_ends_every_session_of_the_user_once() {
    let s = TestServer::new().await;
    let owner = s.login(OWNER).await;
    let laptop = s.login(MEMBER).await;
    let phone = s.login(MEMBER).await;
    let member_id = id_of(&s, &owner, MEMBER).await;
    let seeded_live = sessions(&s, &owner, &format!("?q={MEMBER}")).await.items.len();
    assert!(seeded_live >= 2);

    let path = format!("/v1/users/{member_id}/logout");
    let res = post(&s, &owner, &path, &[("Idempotency-Key", "logout-1")]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let done: ForcedLogout = res.json().await.unwrap();
    assert_eq!(done.sessions_revoked as usize, seeded_live);
    assert_eq!(done.confirmed_at, s.clock_now());
    for t in [&laptop, &phone] {
        problem(s.get("/v1/me", t).await, StatusCode::UNAUTHORIZED, "session_revoked").await;
    }
    // The user's sessions all show as revoked for that reason.
    let page: SessionPage = s.get(&format!("/v1/users/{member_id}/sessions?state=all&limit=500"), &owner).await.json().await.unwrap();
    assert!(page.items.iter().all(|x| x.revoked_at.is_some()));
    assert!(page.items.iter().any(|x| x.id == laptop.session_id && x.revoked_reason.as_deref() == Some("forced_logout")));
    assert!(s.get(&format!("/v1/users/{member_id}/sessions"), &owner).await.json::<SessionPage>().await.unwrap().items.is_empty());

    // A retry with the same key gets the first answer; without one, nothing is left to end.
    s.advance(Duration::seconds(5));
    let replay: ForcedLogout = post(&s, &owner, &path, &[("Idempotency-Key", "logout-1")]).await.json().await.unwrap();
    assert_eq!(replay, done);
    let fresh: ForcedLogout = post(&s, &owner, &path, &[]).await.json().await.unwrap();
    assert_eq!(fresh.sessions_revoked, 0);
    let logged: Vec<_> = events(&s, &member_id).await.into_iter().filter(|(a, _, _)| a == "user.force_logout").collect();
    assert_eq!(logged.len(), 2, "one event per request that ran, none for the replay");
    assert_eq!(logged[0].2["sessions_revoked"], seeded_live);

    // Bad input.
    problem(post(&s, &owner, "/v1/users/nope/logout", &[]).await, StatusCode::BAD_REQUEST, "invalid_id").await;
    problem(post(&s, &owner, "/v1/users/0192f4c1-7d3e-7a10-9b1c-2f4e5d6c7b8a/logout", &[]).await, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn a_manager_cannot_end_an_owners_sessions() {
    let s = TestServer::new().await;
    let owner = s.login(OWNER).await;
    let manager = s.login("manager@acme.test").await;
    let owner_id = id_of(&s, &owner, OWNER).await;
    let p = problem(post(&s, &manager, &format!("/v1/users/{owner_id}/logout"), &[]).await, StatusCode::FORBIDDEN, "forbidden").await;
    assert!(p.detail.contains("permission, which you do not have") && p.detail.contains("force them to sign out"), "{}", p.detail);
    let p = problem(delete(&s, &manager, &format!("/v1/sessions/{}", owner.session_id)).await, StatusCode::FORBIDDEN, "forbidden").await;
    assert!(p.detail.contains("revoke their sessions"), "{}", p.detail);
    // The owner's session is untouched.
    assert_eq!(s.get("/v1/me", &owner).await.status(), StatusCode::OK);
    // A manager may end a member's sessions.
    let member_id = id_of(&s, &owner, MEMBER).await;
    assert_eq!(post(&s, &manager, &format!("/v1/users/{member_id}/logout"), &[]).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn session_lists_search_and_page_without_gaps() {
    let s = TestServer::with_users(300).await;
    let owner = s.login(OWNER).await;
    let all = sessions(&s, &owner, "?state=all&limit=500").await;
    assert!(all.items.len() > 100, "the seed has sessions: {}", all.items.len());
    assert!(all.next_cursor.is_none());
    assert!(all.items.windows(2).all(|w| (w[0].created_at, &w[0].id) >= (w[1].created_at, &w[1].id)), "newest first");

    // Paging through 7 at a time gives the same sessions, each once.
    let mut paged = Vec::new();
    let mut cursor = None::<String>;
    loop {
        let q = match &cursor {
            Some(c) => format!("?state=all&limit=7&cursor={c}"),
            None => "?state=all&limit=7".into(),
        };
        let page = sessions(&s, &owner, &q).await;
        paged.extend(page.items.into_iter().map(|x| x.id));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(paged, all.items.iter().map(|x| x.id.clone()).collect::<Vec<_>>());

    // "active" leaves out revoked sessions.
    let active = sessions(&s, &owner, "?limit=500").await;
    assert!(active.items.iter().all(|x| x.revoked_at.is_none()));
    assert!(active.items.len() < all.items.len());

    // Search by IP, device and user.
    let by_ip = sessions(&s, &owner, "?state=all&q=203.0.113.17&limit=500").await;
    assert!(!by_ip.items.is_empty() && by_ip.items.iter().all(|x| x.ip.contains("203.0.113.17")));
    let by_device = sessions(&s, &owner, "?state=all&q=firefox&limit=500").await;
    assert!(!by_device.items.is_empty() && by_device.items.iter().all(|x| x.device.to_lowercase().contains("firefox")));
    let someone = &all.items[3];
    let by_user = sessions(&s, &owner, &format!("?state=all&q={}&limit=500", someone.user_email)).await;
    assert!(by_user.items.iter().any(|x| x.id == someone.id) && by_user.items.iter().all(|x| x.user_id == someone.user_id));

    // A cursor belongs to its query; bad values name their field.
    let first = sessions(&s, &owner, "?state=all&limit=7").await.next_cursor.unwrap();
    let p = problem(s.get(&format!("/v1/sessions?limit=7&cursor={first}"), &owner).await, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert_eq!(p.errors[0].field, "cursor");
    let p = problem(s.get("/v1/sessions?state=maybe&limit=0", &owner).await, StatusCode::BAD_REQUEST, "validation_failed").await;
    let fields: Vec<&str> = p.errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["state", "limit"]);
}

#[tokio::test]
async fn an_account_locks_after_repeated_failures_and_unlocks_when_they_age_out() {
    let s = TestServer::new().await;
    for _ in 0..5 {
        problem(s.login_raw(MEMBER, "wrong password").await, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    }
    // Even the right password is refused now, without checking it.
    let res = s.login_raw(MEMBER, PASSWORD).await;
    let retry: i64 = res.headers().get("retry-after").unwrap().to_str().unwrap().parse().unwrap();
    assert_eq!(retry, 15 * 60);
    let p = problem(res, StatusCode::TOO_MANY_REQUESTS, "account_locked").await;
    assert!(p.detail.contains("15 min"), "{}", p.detail);
    // Other accounts are not affected.
    s.login(OWNER).await;
    // Unknown addresses lock the same way, so a lock tells nothing about who exists.
    for _ in 0..5 {
        problem(s.login_raw("nobody@acme.test", "x").await, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    }
    problem(s.login_raw("nobody@acme.test", "x").await, StatusCode::TOO_MANY_REQUESTS, "account_locked").await;

    // The lock lifts as the failures leave the 15-minute window.
    s.advance(Duration::minutes(14));
    problem(s.login_raw(MEMBER, PASSWORD).await, StatusCode::TOO_MANY_REQUESTS, "account_locked").await;
    s.advance(Duration::minutes(1));
    s.login(MEMBER).await;

    // Support staff see why.
    let owner = s.login(OWNER).await;
    let member_id = id_of(&s, &owner, MEMBER).await;
    let page: LoginAttemptPage = s.get(&format!("/v1/login-attempts?user_id={member_id}"), &owner).await.json().await.unwrap();
    let reasons: Vec<Option<&str>> = page.items.iter().take(8).map(|a| a.reason.as_deref()).collect();
    assert_eq!(
        reasons,
        [
            None,
            Some("locked"),
            Some("locked"),
            Some("bad_password"),
            Some("bad_password"),
            Some("bad_password"),
            Some("bad_password"),
            Some("bad_password")
        ]
    );
}

#[tokio::test]
async fn an_address_with_too_many_failures_is_rate_limited() {
    let limits = SignInLimits { ip_failures: 4, ip_window: Duration::minutes(5), ..SignInLimits::default() };
    let s = TestServer::with_config(40, Config { sign_in_limits: limits, ..Config::default() }).await;
    for i in 0..4 {
        problem(s.login_raw(&format!("guess{i}@acme.test"), "x").await, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    }
    // Any account, right password or not: this address must wait.
    let res = s.login_raw(OWNER, PASSWORD).await;
    assert_eq!(res.headers().get("retry-after").unwrap(), "300");
    problem(res, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    s.advance(Duration::minutes(5));
    let owner = s.login(OWNER).await;
    let page: LoginAttemptPage = s.get("/v1/login-attempts?reason=rate_limited", &owner).await.json().await.unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!((page.items[0].email.as_str(), page.items[0].ip.as_str()), (OWNER, "127.0.0.1"));
    // Unknown addresses are attributed to the server's only organization.
    let unknown: LoginAttemptPage = s.get("/v1/login-attempts?reason=unknown_user", &owner).await.json().await.unwrap();
    assert_eq!(unknown.items.len(), 4);
    assert!(unknown.items.iter().all(|a| a.user_id.is_none()));
}

#[tokio::test]
async fn forwarded_addresses_are_believed_only_from_trusted_proxies() {
    let login_via = |s: &TestServer| {
        s.http
            .post(s.at("/v1/auth/login"))
            .header("x-forwarded-for", "192.0.2.1, 198.51.100.23")
            .json(&json!({"email": OWNER, "password": PASSWORD}))
            .send()
    };
    let direct = TestServer::new().await;
    let t = tokens(login_via(&direct).await.unwrap()).await;
    let page = sessions(&direct, &t, &format!("?q={OWNER}")).await;
    assert_eq!(page.items.iter().find(|x| x.id == t.session_id).unwrap().ip, "127.0.0.1", "an untrusted peer's header is ignored");

    let config = Config { trusted_proxies: vec!["127.0.0.0/8".parse().unwrap()], ..Config::default() };
    let proxied = TestServer::with_config(40, config).await;
    let t = tokens(login_via(&proxied).await.unwrap()).await;
    let page = sessions(&proxied, &t, &format!("?q={OWNER}")).await;
    assert_eq!(page.items.iter().find(|x| x.id == t.session_id).unwrap().ip, "198.51.100.23", "the proxy's client, not a forged first hop");
}

#[tokio::test]
async fn login_attempts_filter_and_page() {
    let s = TestServer::with_users(300).await;
    let owner = s.login(OWNER).await;
    let get = |q: &str| {
        let q = q.to_owned();
        let s = &s;
        let owner = &owner;
        async move {
            let res = s.get(&format!("/v1/login-attempts{q}"), owner).await;
            assert_eq!(res.status(), StatusCode::OK, "{q}");
            res.json::<LoginAttemptPage>().await.unwrap()
        }
    };
    let all = get("?limit=500").await;
    assert!(all.items.windows(2).all(|w| w[0].id > w[1].id), "newest first");
    let failures = get("?result=failure&reason=bad_password&limit=500").await;
    assert!(!failures.items.is_empty());
    assert!(failures.items.iter().all(|a| a.reason.as_deref() == Some("bad_password")));
    // The seeded burst from one address.
    let burst = get("?ip=198.51.100.66&limit=500").await;
    assert_eq!(burst.items.len(), 40);
    let first = burst.items.last().unwrap().at;
    let window = get(&format!(
        "?ip=198.51.100.66&from={}&to={}",
        (first + Duration::seconds(70)).to_rfc3339().replace('+', "%2B"),
        (first + Duration::seconds(140)).to_rfc3339().replace('+', "%2B")
    ))
    .await;
    assert_eq!(window.items.len(), 10, "7 s apart: 10 in [70 s, 140 s)");
    let someone = failures.items[0].email.clone();
    assert!(get(&format!("?email={}", &someone[..6])).await.items.iter().all(|a| a.email.contains(&someone[..6])));

    // Pages join up.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = get(&format!("?ip=198.51.100.66&limit=15{}", cursor.as_ref().map(|c| format!("&cursor={c}")).unwrap_or_default())).await;
        seen.extend(page.items.iter().map(|a| a.id));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen, burst.items.iter().map(|a| a.id).collect::<Vec<_>>());

    // Every bad filter is named.
    let p = problem(
        s.get("/v1/login-attempts?result=maybe&reason=sunspots&ip=nope&from=yesterday", &owner).await,
        StatusCode::BAD_REQUEST,
        "validation_failed",
    )
    .await;
    let fields: Vec<&str> = p.errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["result", "reason", "ip", "from"]);
}

#[tokio::test]
async fn api_keys_are_shown_once_stored_hashed_and_suspended_with_their_user() {
    let s = TestServer::new().await;
    let owner = s.login(OWNER).await;
    let member_id = id_of(&s, &owner, MEMBER).await;
    let path = format!("/v1/users/{member_id}/api-keys");
    // Only the member mints their own key; the owner may not mint one that acts as them.
    let p = problem(send(&s, &owner, "POST", &path, Some(json!({"name": "Not mine"})), &[]).await, StatusCode::FORBIDDEN, "forbidden").await;
    assert!(p.detail.contains("for themselves"), "{}", p.detail);
    let member = s.login(MEMBER).await;
    // Not without the password confirmed lately.
    problem(send(&s, &member, "POST", &path, Some(json!({"name": "Too soon"})), &[]).await, StatusCode::FORBIDDEN, "step_up_required").await;
    step_up(&s, &member).await;
    let res = send(&s, &member, "POST", &path, Some(json!({"name": "  CI deploys "})), &[]).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: gatehouse_api::CreatedApiKey = res.json().await.unwrap();
    let secret = created.secret.expose().clone();
    assert!(secret.starts_with("ghk_") && secret.starts_with(&created.key.prefix));
    assert_eq!(created.key.name, "CI deploys");
    // Only a hash is stored; the list never shows the secret.
    let stored: String =
        on!(&s.state.db, |db| sqlx::query_scalar("SELECT key_hash FROM api_keys WHERE id = $1").bind(&created.key.id).fetch_one(db).await).unwrap();
    assert_ne!(stored, secret);
    assert!(!stored.contains(&secret[4..]));
    let listed = s.get(&path, &owner).await.text().await.unwrap();
    assert!(!listed.contains(&secret[4..]), "the list holds no secret");

    // The key acts as the member, and its use is recorded.
    let me: serde_json::Value = s.get_with("/v1/me", &secret).await.json().await.unwrap();
    assert_eq!(me["user"]["email"], MEMBER);
    let keys: Vec<gatehouse_api::ApiKey> = s.get(&path, &owner).await.json().await.unwrap();
    assert_eq!(keys[0].last_used_at, Some(s.clock_now()));

    // Deactivating the member suspends the key on its next request; reactivating restores it.
    assert_eq!(post(&s, &owner, &format!("/v1/users/{member_id}/deactivate"), &[]).await.status(), StatusCode::OK);
    problem(s.get_with("/v1/me", &secret).await, StatusCode::UNAUTHORIZED, "api_key_suspended").await;
    let keys: Vec<gatehouse_api::ApiKey> = s.get(&path, &owner).await.json().await.unwrap();
    assert_eq!(keys[0].suspended_reason.as_deref(), Some("user_deactivated"));
    problem(post(&s, &owner, &format!("/v1/api-keys/{}/restore", created.key.id), &[]).await, StatusCode::CONFLICT, "not_active").await;
    assert_eq!(post(&s, &owner, &format!("/v1/users/{member_id}/reactivate"), &[]).await.status(), StatusCode::OK);
    assert_eq!(s.get_with("/v1/me", &secret).await.status(), StatusCode::OK);

    // Suspended by hand: refused, and a reactivation does not bring it back; restored by hand.
    let key: gatehouse_api::ApiKey = post(&s, &owner, &format!("/v1/api-keys/{}/suspend", created.key.id), &[]).await.json().await.unwrap();
    assert_eq!(key.suspended_reason.as_deref(), Some("admin"));
    problem(s.get_with("/v1/me", &secret).await, StatusCode::UNAUTHORIZED, "api_key_suspended").await;
    post(&s, &owner, &format!("/v1/users/{member_id}/deactivate"), &[]).await;
    post(&s, &owner, &format!("/v1/users/{member_id}/reactivate"), &[]).await;
    problem(s.get_with("/v1/me", &secret).await, StatusCode::UNAUTHORIZED, "api_key_suspended").await;
    // Its owner cannot undo an administrator's suspension.
    let member = s.login(MEMBER).await;
    let p = problem(post(&s, &member, &format!("/v1/api-keys/{}/restore", created.key.id), &[]).await, StatusCode::FORBIDDEN, "forbidden").await;
    assert!(p.detail.contains("administrator suspended"), "{}", p.detail);
    let key: gatehouse_api::ApiKey = post(&s, &owner, &format!("/v1/api-keys/{}/restore", created.key.id), &[]).await.json().await.unwrap();
    assert!(key.suspended_at.is_none());
    assert_eq!(s.get_with("/v1/me", &secret).await.status(), StatusCode::OK);
    let actions: Vec<String> = events(&s, &member_id).await.into_iter().map(|(a, _, _)| a).filter(|a| a.starts_with("api_key.")).collect();
    assert_eq!(actions, ["api_key.created", "api_key.suspended", "api_key.restored"]);

    // Bad input, and someone else's keys.
    step_up(&s, &member).await;
    let p = problem(send(&s, &member, "POST", &path, Some(json!({"name": " "})), &[]).await, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert_eq!(p.errors[0].field, "name");
    problem(post(&s, &owner, "/v1/api-keys/nope/suspend", &[]).await, StatusCode::BAD_REQUEST, "invalid_id").await;
    problem(s.get_with("/v1/me", "ghk_not-a-key").await, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    let member = s.login(MEMBER).await;
    let owner_id = id_of(&s, &owner, OWNER).await;
    problem(s.get(&format!("/v1/users/{owner_id}/api-keys"), &member).await, StatusCode::FORBIDDEN, "forbidden").await;
    // Anyone manages their own.
    step_up(&s, &member).await;
    assert_eq!(
        send(&s, &member, "POST", &format!("/v1/users/{member_id}/api-keys"), Some(json!({"name": "mine"})), &[]).await.status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn a_force_logout_can_suspend_the_users_keys_too() {
    let s = TestServer::new().await;
    let owner = s.login(OWNER).await;
    let member = s.login(MEMBER).await;
    let member_id = id_of(&s, &owner, MEMBER).await;
    step_up(&s, &member).await;
    let res = send(&s, &member, "POST", &format!("/v1/users/{member_id}/api-keys"), Some(json!({"name": "laptop script"})), &[]).await;
    let secret = res.json::<gatehouse_api::CreatedApiKey>().await.unwrap().secret.expose().clone();
    problem(
        post(&s, &owner, &format!("/v1/users/{member_id}/logout?suspend_api_keys=maybe"), &[]).await,
        StatusCode::BAD_REQUEST,
        "validation_failed",
    )
    .await;
    // Without the option the key keeps working.
    let done: gatehouse_api::ForcedLogout = post(&s, &owner, &format!("/v1/users/{member_id}/logout"), &[]).await.json().await.unwrap();
    assert_eq!(done.api_keys_suspended, None);
    assert_eq!(s.get_with("/v1/me", &secret).await.status(), StatusCode::OK);
    // With the option (a Manager reaches the Member's keys), the key is refused from its
    // next request.
    let manager = s.login("manager@acme.test").await;
    let done: gatehouse_api::ForcedLogout =
        post(&s, &manager, &format!("/v1/users/{member_id}/logout?suspend_api_keys=true"), &[]).await.json().await.unwrap();
    assert_eq!(done.api_keys_suspended, Some(1));
    problem(s.get_with("/v1/me", &secret).await, StatusCode::UNAUTHORIZED, "api_key_suspended").await;
    // The member cannot restore what was suspended over them.
    let member = s.login(MEMBER).await;
    let keys: Vec<gatehouse_api::ApiKey> = s.get(&format!("/v1/users/{member_id}/api-keys"), &member).await.json().await.unwrap();
    problem(post(&s, &member, &format!("/v1/api-keys/{}/restore", keys[0].id), &[]).await, StatusCode::FORBIDDEN, "forbidden").await;
}

#[tokio::test]
async fn a_password_reset_can_suspend_the_users_keys_too() {
    let s = TestServer::with_config(40, gatehouse_server::Config { dev_mailbox: true, ..gatehouse_server::Config::default() }).await;
    let admin = s.login("admin@acme.test").await;
    let member = s.login(MEMBER).await;
    let member_id = id_of(&s, &admin, MEMBER).await;
    step_up(&s, &member).await;
    let res = send(&s, &member, "POST", &format!("/v1/users/{member_id}/api-keys"), Some(json!({"name": "laptop script"})), &[]).await;
    let secret = res.json::<gatehouse_api::CreatedApiKey>().await.unwrap().secret.expose().clone();
    let path = format!("/v1/users/{member_id}/reset-password");
    problem(post(&s, &admin, &format!("{path}?suspend_api_keys=yes"), &[]).await, StatusCode::BAD_REQUEST, "validation_failed").await;
    // Without the option the key keeps working.
    let sent: gatehouse_api::PasswordResetSent = post(&s, &admin, &path, &[]).await.json().await.unwrap();
    assert_eq!(sent.api_keys_suspended, None);
    assert_eq!(s.get_with("/v1/me", &secret).await.status(), StatusCode::OK);
    // With it, the key is refused from its next request and the event says so.
    let sent: gatehouse_api::PasswordResetSent = post(&s, &admin, &format!("{path}?suspend_api_keys=true"), &[]).await.json().await.unwrap();
    assert_eq!(sent.api_keys_suspended, Some(1));
    problem(s.get_with("/v1/me", &secret).await, StatusCode::UNAUTHORIZED, "api_key_suspended").await;
    let evs = events(&s, &member_id).await;
    let last = evs.iter().rev().find(|e| e.0 == "user.password_reset_requested").unwrap();
    assert_eq!(last.2["api_keys_suspended"], 1, "{:?}", last.2);
    // A Member cannot reset (or suspend the keys of) anyone.
    let other = id_of(&s, &admin, "support@acme.test").await;
    problem(post(&s, &member, &format!("/v1/users/{other}/reset-password?suspend_api_keys=true"), &[]).await, StatusCode::FORBIDDEN, "forbidden")
        .await;
}

#[tokio::test]
async fn api_keys_can_be_given_a_lifetime_and_stop_working_when_it_ends() {
    let s = TestServer::new().await;
    let member = s.login(MEMBER).await;
    let member_id = id_of(&s, &s.login(OWNER).await, MEMBER).await;
    step_up(&s, &member).await;
    let path = format!("/v1/users/{member_id}/api-keys");
    for bad in [json!(0), json!(3651), json!(-1), json!("ten")] {
        let res = send(&s, &member, "POST", &path, Some(json!({"name": "ci", "expires_in_days": bad})), &[]).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
    let p = problem(
        send(&s, &member, "POST", &path, Some(json!({"name": "ci", "expires_in_days": 0})), &[]).await,
        StatusCode::BAD_REQUEST,
        "validation_failed",
    )
    .await;
    assert_eq!((p.errors[0].field.as_str(), p.errors[0].code.as_str()), ("expires_in_days", "out_of_range"));

    let res = send(&s, &member, "POST", &path, Some(json!({"name": "ci", "expires_in_days": 7})), &[]).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: gatehouse_api::CreatedApiKey = res.json().await.unwrap();
    assert_eq!(created.key.expires_at, Some(s.clock_now() + Duration::days(7)));
    let forever: gatehouse_api::CreatedApiKey = send(&s, &member, "POST", &path, Some(json!({"name": "forever"})), &[]).await.json().await.unwrap();
    assert_eq!(forever.key.expires_at, None, "no lifetime: it does not expire");
    let listed: Vec<gatehouse_api::ApiKey> = s.get(&path, &s.login(MEMBER).await).await.json().await.unwrap();
    assert_eq!(listed.iter().find(|k| k.id == created.key.id).unwrap().expires_at, created.key.expires_at);

    s.advance(Duration::days(7) - Duration::seconds(1));
    assert_eq!(s.get_with("/v1/me", created.secret.expose()).await.status(), StatusCode::OK);
    s.advance(Duration::seconds(1));
    let p = problem(s.get_with("/v1/me", created.secret.expose()).await, StatusCode::UNAUTHORIZED, "api_key_expired").await;
    assert!(p.detail.contains("create a new one"), "{p:?}");
    assert_eq!(s.get_with("/v1/me", forever.secret.expose()).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn suspending_keys_along_with_a_logout_or_reset_asks_the_same_rule_as_by_hand() {
    let s = TestServer::with_config(40, Config { dev_mailbox: true, ..Config::default() }).await;
    let owner = s.login(OWNER).await;
    let key_of = async |email: &str| {
        let t = s.login(email).await;
        step_up(&s, &t).await;
        let id = id_of(&s, &owner, email).await;
        let res = send(&s, &t, "POST", &format!("/v1/users/{id}/api-keys"), Some(json!({"name": "script"})), &[]).await;
        (id, t, res.json::<gatehouse_api::CreatedApiKey>().await.unwrap().secret.expose().clone())
    };

    // A Manager reaches neither the Admin's sessions nor their keys: refused, nothing ends.
    let (admin_id, admin, admin_key) = key_of("admin@acme.test").await;
    let manager = s.login("manager@acme.test").await;
    for path in [format!("/v1/users/{admin_id}/logout?suspend_api_keys=true"), format!("/v1/users/{admin_id}/reset-password?suspend_api_keys=true")] {
        problem(post(&s, &manager, &path, &[]).await, StatusCode::FORBIDDEN, "forbidden").await;
    }
    assert_eq!(s.get_with("/v1/me", &admin_key).await.status(), StatusCode::OK);
    assert_eq!(s.get("/v1/me", &admin).await.status(), StatusCode::OK);

    // A desk role that may end sessions but not manage keys: the option is refused (and the
    // logout with it: nothing half-done), while a plain logout goes through.
    let role: serde_json::Value =
        send(&s, &owner, "POST", "/v1/roles", Some(json!({"name": "Desk", "permissions": ["users.read", "sessions.revoke"]})), &[])
            .await
            .json()
            .await
            .unwrap();
    let desk_id = id_of(&s, &owner, "support@acme.test").await;
    let etag = s.get(&format!("/v1/users/{desk_id}"), &owner).await.headers().get("etag").unwrap().to_str().unwrap().to_owned();
    let res = send(&s, &owner, "PATCH", &format!("/v1/users/{desk_id}"), Some(json!({"roles": [role["id"]]})), &[("if-match", &etag)]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let desk = s.login("support@acme.test").await;
    let (member_id, member, member_key) = key_of(MEMBER).await;
    problem(post(&s, &desk, &format!("/v1/users/{member_id}/logout?suspend_api_keys=true"), &[]).await, StatusCode::FORBIDDEN, "forbidden").await;
    assert_eq!(s.get_with("/v1/me", &member_key).await.status(), StatusCode::OK);
    assert_eq!(s.get("/v1/me", &member).await.status(), StatusCode::OK, "the session was not ended either");
    let done: ForcedLogout = post(&s, &desk, &format!("/v1/users/{member_id}/logout"), &[]).await.json().await.unwrap();
    assert_eq!(done.api_keys_suspended, None);
    assert_eq!(s.get_with("/v1/me", &member_key).await.status(), StatusCode::OK);
}
