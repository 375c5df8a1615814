//! Password resets (SPEC U10) and outgoing mail (I9): the e-mail goes through a real SMTP
//! listener, the test follows its link, and the link works once and expires.

use crate::helpers::*;
use crate::smtp::SmtpSink;
use chrono::Duration;
use gatehouse_api::{MailMessage, PasswordResetSent};
use gatehouse_server::Config;
use gatehouse_server::mail::SmtpRelay;
use gatehouse_server::on;
use reqwest::StatusCode;
use serde_json::json;

const MEMBER: &str = "member@acme.test";
const NEW_PASSWORD: &str = "a brand new passphrase";

async fn with_smtp(sink: &SmtpSink) -> TestServer {
    TestServer::with_config(40, Config { smtp: Some(SmtpRelay { url: sink.url.clone().into() }), ..Config::default() }).await
}

async fn demo() -> TestServer {
    TestServer::with_config(40, Config { dev_mailbox: true, ..Config::default() }).await
}

fn token_of(link: &str) -> String {
    link.split("token=").nth(1).unwrap().to_owned()
}

async fn complete(s: &TestServer, token: &str, password: &str) -> reqwest::Response {
    s.http.post(s.at("/v1/auth/password-reset/complete")).json(&json!({"token": token, "password": password})).send().await.unwrap()
}

async fn mailbox(s: &TestServer) -> Vec<MailMessage> {
    let owner = s.login(OWNER).await;
    let res = s.get("/v1/dev/mailbox", &owner).await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

#[tokio::test]
async fn a_reset_email_arrives_over_smtp_and_its_link_sets_a_new_password_once() {
    let sink = SmtpSink::start().await;
    let s = with_smtp(&sink).await;
    let owner = s.login(OWNER).await;
    let member_session = s.login(MEMBER).await;
    let member_id = id_of(&s, &owner, MEMBER).await;

    let res = post(&s, &owner, &format!("/v1/users/{member_id}/reset-password"), &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let sent: PasswordResetSent = res.json().await.unwrap();
    assert_eq!(sent.sent_to, MEMBER);
    assert_eq!(sent.expires_at, s.clock_now() + Duration::hours(1));
    // Until the link is used, the old password still works.
    assert_eq!(s.login_raw(MEMBER, PASSWORD).await.status(), StatusCode::OK);

    let mail = sink.wait_for(1).await.remove(0);
    assert_eq!(mail.to, [MEMBER]);
    let text = mail.decoded();
    assert!(text.contains("Subject: Reset your Acme password"), "{text}");
    assert!(text.contains("Content-Type: text/plain"), "a plain-text part");
    assert!(text.contains("Content-Type: text/html"), "an HTML part");
    assert!(text.contains("Owner") || text.contains("administrator"), "says who asked");
    let link = mail.link("/reset-password?token=");
    assert!(link.starts_with(&s.url), "{link} leads to this server");

    // The page behind the link: a form, with a CSP that allows no script.
    let page = s.http.get(&link).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let csp = page.headers().get("content-security-policy").unwrap().to_str().unwrap().to_owned();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert_eq!(page.headers().get("referrer-policy").unwrap(), "no-referrer");
    let html = page.text().await.unwrap();
    assert!(html.contains("name=\"token\"") && html.contains("type=\"password\""));

    // Two different passwords: the form comes back with the reason; nothing is spent.
    let token = token_of(&link);
    let form = |p: &str, c: &str| [("token", token.clone()), ("password", p.to_owned()), ("confirm", c.to_owned())];
    let res = s.http.post(s.at("/reset-password")).form(&form(NEW_PASSWORD, "something else")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("differ"));
    let res = s.http.post(s.at("/reset-password")).form(&form("short", "short")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("at least 8 characters"));

    let res = s.http.post(s.at("/reset-password")).form(&form(NEW_PASSWORD, NEW_PASSWORD)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("Password changed"));

    // The new password works, the old one does not, and the member was signed out.
    problem(s.login_raw(MEMBER, PASSWORD).await, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    assert_eq!(s.login_raw(MEMBER, NEW_PASSWORD).await.status(), StatusCode::OK);
    problem(s.get("/v1/me", &member_session).await, StatusCode::UNAUTHORIZED, "session_revoked").await;
    // The link worked once.
    problem(complete(&s, &token, "yet another password").await, StatusCode::GONE, "reset_token_used").await;
    let res = s.http.post(s.at("/reset-password")).form(&form(NEW_PASSWORD, NEW_PASSWORD)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::GONE);
    assert!(res.text().await.unwrap().contains("already used"));

    let actions: Vec<String> = events(&s, &member_id).await.into_iter().map(|e| e.0).collect();
    assert_eq!(actions.iter().filter(|a| *a == "user.password_reset_requested").count(), 1);
    assert_eq!(actions.iter().filter(|a| *a == "user.password_reset_completed").count(), 1);

    // Delivered mail keeps no body (it held the link) outside demo mode.
    let (text_body, sent): (String, Option<chrono::DateTime<chrono::Utc>>) =
        on!(&s.state.db, |db| sqlx::query_as("SELECT text_body, sent_at FROM mail_outbox").fetch_one(db).await).unwrap();
    assert!(sent.is_some());
    assert_eq!(text_body, "");
}

#[tokio::test]
async fn mail_the_relay_refuses_for_now_is_retried_with_backoff() {
    let sink = SmtpSink::start().await;
    sink.fail_next(1);
    let s = with_smtp(&sink).await;
    let owner = s.login(OWNER).await;
    let member_id = id_of(&s, &owner, MEMBER).await;
    assert_eq!(post(&s, &owner, &format!("/v1/users/{member_id}/reset-password"), &[]).await.status(), StatusCode::OK);

    // The first attempt is refused; the request did not wait for it.
    let mut row = (0_i64, None::<String>);
    for _ in 0..400 {
        row = on!(&s.state.db, |db| sqlx::query_as("SELECT attempts, last_error FROM mail_outbox").fetch_one(db).await).unwrap();
        if row.0 > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(row.0, 1);
    assert!(row.1.as_deref().unwrap_or("").contains("451"), "{:?}", row.1);
    assert!(sink.received().is_empty());

    // Once the backoff has passed, the next pass delivers it.
    s.advance(Duration::seconds(11));
    s.state.wake_mailer();
    let mail = sink.wait_for(1).await;
    assert_eq!(mail[0].to, [MEMBER]);
}

#[tokio::test]
async fn links_expire_are_replaced_by_newer_ones_and_bad_tokens_get_their_own_codes() {
    let s = demo().await;
    let owner = s.login(OWNER).await;
    let member_id = id_of(&s, &owner, MEMBER).await;
    let path = format!("/v1/users/{member_id}/reset-password");

    assert_eq!(post(&s, &owner, &path, &[]).await.status(), StatusCode::OK);
    assert_eq!(post(&s, &owner, &path, &[]).await.status(), StatusCode::OK);
    // The demo mailbox keeps both messages, newest first, with both parts.
    let messages = mailbox(&s).await;
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0].kind, "password_reset");
    assert!(messages[0].html.contains("<a href="));
    let link_of = |m: &MailMessage| m.text.split_whitespace().find(|w| w.contains("/reset-password?token=")).unwrap().to_owned();
    let (newer, older) = (token_of(&link_of(&messages[0])), token_of(&link_of(&messages[1])));

    problem(complete(&s, &older, NEW_PASSWORD).await, StatusCode::GONE, "reset_token_expired").await;
    problem(complete(&s, "ghp_never_issued", NEW_PASSWORD).await, StatusCode::BAD_REQUEST, "reset_token_invalid").await;
    let p = problem(complete(&s, &newer, "short").await, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert_eq!(p.errors[0].field, "password");
    // A bad password spends nothing; time does.
    s.advance(Duration::minutes(61));
    problem(complete(&s, &newer, NEW_PASSWORD).await, StatusCode::GONE, "reset_token_expired").await;
    assert_eq!(s.login_raw(MEMBER, PASSWORD).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn who_may_ask_for_a_reset_and_what_forgot_password_reveals() {
    let s = demo().await;
    let owner = s.login(OWNER).await;
    let manager = s.login("manager@acme.test").await;
    let owner_id = id_of(&s, &owner, OWNER).await;
    let member_id = id_of(&s, &owner, MEMBER).await;

    let p = problem(post(&s, &manager, &format!("/v1/users/{owner_id}/reset-password"), &[]).await, StatusCode::FORBIDDEN, "forbidden").await;
    assert!(p.detail.contains("permission"));
    problem(post(&s, &owner, "/v1/users/12/reset-password", &[]).await, StatusCode::BAD_REQUEST, "invalid_id").await;
    assert_eq!(post(&s, &owner, &format!("/v1/users/{member_id}/deactivate"), &[]).await.status(), StatusCode::OK);
    problem(post(&s, &owner, &format!("/v1/users/{member_id}/reset-password"), &[]).await, StatusCode::CONFLICT, "cannot_reset").await;
    assert!(mailbox(&s).await.is_empty());

    // Forgot password: the same answer for known and unknown addresses, and mail only for
    // the known one; a second ask within a minute sends nothing more.
    let forgot = |email: &str| s.http.post(s.at("/v1/auth/password-reset")).json(&json!({"email": email})).send();
    assert_eq!(forgot("nobody@acme.test").await.unwrap().status(), StatusCode::ACCEPTED);
    assert_eq!(forgot("Admin@Acme.test").await.unwrap().status(), StatusCode::ACCEPTED);
    assert_eq!(forgot("admin@acme.test").await.unwrap().status(), StatusCode::ACCEPTED);
    // The work runs after the answer (so its timing tells nothing): wait for all three.
    for _ in 0..400 {
        if s.state.background_done.load(std::sync::atomic::Ordering::SeqCst) >= 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(s.state.background_done.load(std::sync::atomic::Ordering::SeqCst), 3);
    let messages = mailbox(&s).await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].to, "admin@acme.test");
    assert!(messages[0].text.contains("Someone (hopefully you)"));
    // A Manager does not see mail to an account that outranks them: its link would be theirs.
    let seen: Vec<MailMessage> = s.get("/v1/dev/mailbox", &manager).await.json().await.unwrap();
    assert!(seen.iter().all(|m| m.to != "admin@acme.test"), "{seen:?}");
    let p = problem(forgot("not an address").await.unwrap(), StatusCode::BAD_REQUEST, "validation_failed").await;
    assert_eq!(p.errors[0].field, "email");
}

#[tokio::test]
async fn without_a_relay_resets_are_refused_plainly_and_there_is_no_mailbox() {
    let s = TestServer::new().await;
    let owner = s.login(OWNER).await;
    let member_id = id_of(&s, &owner, MEMBER).await;
    let p = problem(
        post(&s, &owner, &format!("/v1/users/{member_id}/reset-password"), &[]).await,
        StatusCode::SERVICE_UNAVAILABLE,
        "mail_not_configured",
    )
    .await;
    assert!(p.detail.contains("--smtp-url"));
    problem(s.get("/v1/dev/mailbox", &owner).await, StatusCode::NOT_FOUND, "mailbox_disabled").await;
    let queued: i64 = on!(&s.state.db, |db| sqlx::query_scalar("SELECT count(*) FROM mail_outbox").fetch_one(db).await).unwrap();
    assert_eq!(queued, 0);
    // "Not now" is not the final answer of an Idempotency-Key: its retry is handled afresh
    // (the app's outbox retries 5xx with the same key, e.g. once the relay is set up).
    let keyed = [("idempotency-key", "reset-while-no-relay")];
    for _ in 0..2 {
        let res = post(&s, &owner, &format!("/v1/users/{member_id}/reset-password"), &keyed).await;
        assert!(res.headers().get("idempotent-replayed").is_none(), "handled afresh, not replayed");
        problem(res, StatusCode::SERVICE_UNAVAILABLE, "mail_not_configured").await;
    }
    let stored: i64 =
        on!(&s.state.db, |db| sqlx::query_scalar("SELECT count(*) FROM idempotency_keys WHERE key = 'reset-while-no-relay'").fetch_one(db).await)
            .unwrap();
    assert_eq!(stored, 0);
}

#[tokio::test]
async fn a_new_email_address_ends_the_links_sent_to_the_old_one() {
    let s = demo().await;
    let owner = s.login(OWNER).await;
    let member_id = id_of(&s, &owner, MEMBER).await;
    assert_eq!(post(&s, &owner, &format!("/v1/users/{member_id}/reset-password"), &[]).await.status(), StatusCode::OK);
    let link = mailbox(&s).await[0].text.split_whitespace().find(|w| w.contains("token=")).unwrap().to_owned();

    let etag = s.get(&format!("/v1/users/{member_id}"), &owner).await.headers().get("etag").unwrap().to_str().unwrap().to_owned();
    let res =
        send(&s, &owner, "PATCH", &format!("/v1/users/{member_id}"), Some(json!({"email": "casey@elsewhere.test"})), &[("If-Match", &etag)]).await;
    assert_eq!(res.status(), StatusCode::OK);
    problem(complete(&s, &token_of(&link), NEW_PASSWORD).await, StatusCode::GONE, "reset_token_expired").await;
}
