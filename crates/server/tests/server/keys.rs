//! The server keys live outside the database (issue 18, data at rest): TOTP secrets are
//! encrypted with them, tokens name the key that signed them, and a key rotates without
//! signing anyone out.

use crate::helpers::*;
use crate::mfa::{code_now, enrol};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::Duration;
use gatehouse_server::keys::{self, KeySource, ServerKeys};
use gatehouse_server::on;
use gatehouse_server::{AppState, Config};
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::json;

const MEMBER: &str = "member@acme.test";

fn key_file(s: &TestServer) -> std::path::PathBuf {
    s.dir.path().join("test.keys")
}

async fn stored_secret(s: &TestServer, email: &str) -> (Option<String>, Option<String>) {
    on!(&s.state.db, |db| sqlx::query_as("SELECT totp_secret, totp_pending_secret FROM users WHERE email = $1").bind(email).fetch_one(db).await)
        .unwrap()
}

async fn sign_in_with_code(s: &TestServer, url: &str, secret: &str) -> reqwest::Response {
    s.http
        .post(format!("{url}/v1/auth/login"))
        .json(&json!({"email": MEMBER, "password": PASSWORD, "totp": code_now(s, secret)}))
        .send()
        .await
        .unwrap()
}

async fn me(s: &TestServer, url: &str, access: &str) -> StatusCode {
    s.http.get(format!("{url}/v1/me")).bearer_auth(access).send().await.unwrap().status()
}

#[tokio::test]
async fn totp_secrets_are_stored_encrypted_with_a_key_that_is_not_in_the_database() {
    let s = TestServer::new().await;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(key_file(&s)).unwrap().permissions().mode() & 0o777, 0o600, "the key file is private");
    }
    let secrets: i64 = on!(&s.state.db, |db| sqlx::query_scalar("SELECT COUNT(*) FROM server_secrets").fetch_one(db).await).unwrap();
    assert_eq!(secrets, 0, "no key material in the database");

    let member = s.login(MEMBER).await;
    let started: gatehouse_api::TotpEnrollment = send(&s, &member, "POST", "/v1/me/mfa/totp", None, &[]).await.json().await.unwrap();
    let (_, pending) = stored_secret(&s, MEMBER).await;
    let pending = pending.unwrap();
    assert!(pending.starts_with("gh1:") && !pending.contains(started.secret.expose()), "the pending secret is sealed: {pending}");
    let secret = enrol(&s, &member).await;
    let (stored, pending) = stored_secret(&s, MEMBER).await;
    let stored = stored.unwrap();
    assert!(stored.starts_with(&format!("gh1:{}:", s.state.keys.current().current_id())), "{stored}");
    assert!(!stored.contains(&secret));
    assert_eq!(pending, None);
    // Seeded users' secrets are sealed too: no plain secret anywhere in the table.
    let plain: i64 =
        on!(&s.state.db, |db| sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE totp_secret IS NOT NULL AND totp_secret NOT LIKE 'gh1:%'")
            .fetch_one(db)
            .await)
        .unwrap();
    assert_eq!(plain, 0);

    // Sealed, it still signs in.
    s.advance(Duration::seconds(30));
    assert_eq!(sign_in_with_code(&s, &s.url, &secret).await.status(), StatusCode::OK);

    // A sealed secret moved onto another user's row does not open for them: the id is bound in.
    on!(&s.state.db, |db| sqlx::query("UPDATE users SET totp_secret = $1, mfa_enabled = TRUE WHERE email = 'manager@acme.test'")
        .bind(&stored)
        .execute(db)
        .await
        .map(|r| r.rows_affected()))
    .unwrap();
    s.advance(Duration::seconds(30));
    let res = s
        .http
        .post(s.at("/v1/auth/login"))
        .json(&json!({"email": "manager@acme.test", "password": PASSWORD, "totp": code_now(&s, &secret)}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR, "refused, and logged as the tampering it is");
}

#[tokio::test]
async fn rotating_the_key_signs_nobody_out_and_retiring_it_only_ends_its_access_tokens() {
    let s = TestServer::new().await;
    let member = s.login(MEMBER).await;
    let secret = enrol(&s, &member).await;
    let owner = s.login(OWNER).await;
    let old = keys::ServerKeys::parse(&std::fs::read_to_string(key_file(&s)).unwrap()).unwrap();
    assert!(owner.access_token.expose().starts_with(&format!("gha_{}.", old.current_id())), "a token names its key");

    // `gatehouse-server keys rotate`, as another process would run it.
    let rotated = old.rotated("2026-03-01");
    keys::replace_file(&key_file(&s), &rotated).unwrap();
    assert!(keys::reseal(&s.state.db, &rotated).await.unwrap() >= 1);
    assert_eq!(keys::secrets_under(&s.state.db, old.current_id()).await.unwrap(), 0, "every secret moved to the new key");

    // The running server keeps its sessions, opens the re-encrypted secret (it reads the
    // key file again) and from then on signs with the new key.
    assert_eq!(me(&s, &s.url, owner.access_token.expose()).await, StatusCode::OK);
    s.advance(Duration::seconds(30));
    let res = sign_in_with_code(&s, &s.url, &secret).await;
    assert_eq!(res.status(), StatusCode::OK);
    let fresh = tokens(res).await;
    assert!(fresh.access_token.expose().starts_with(&format!("gha_{}.", rotated.current_id())));
    // A server started after the rotation takes the old key's tokens too.
    let node = s.second_node().await;
    assert_eq!(me(&s, &node, owner.access_token.expose()).await, StatusCode::OK);
    assert_eq!(me(&s, &node, fresh.access_token.expose()).await, StatusCode::OK);

    // Retired, the old key's access tokens stop working, but the session does not end: its
    // refresh token (random, not signed) gets a new access token.
    keys::replace_file(&key_file(&s), &rotated.without(old.current_id()).unwrap()).unwrap();
    let after = s.second_node().await;
    assert_eq!(me(&s, &after, owner.access_token.expose()).await, StatusCode::UNAUTHORIZED);
    let res = s.http.post(format!("{after}/v1/auth/refresh")).json(&json!({"refresh_token": owner.refresh_token})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let renewed = tokens(res).await;
    assert_eq!(me(&s, &after, renewed.access_token.expose()).await, StatusCode::OK);
}

#[tokio::test]
async fn an_older_database_moves_its_key_out_and_encrypts_plain_secrets_without_signing_anyone_out() {
    let s = TestServer::new().await;
    let owner = s.login(OWNER).await;
    // The database as versions before key files left it: the signing key in
    // `server_secrets`, TOTP secrets in plain text, no key file.
    let legacy = [3u8; 32];
    std::fs::remove_file(key_file(&s)).unwrap();
    on!(&s.state.db, |db| sqlx::query("INSERT INTO server_secrets (name, value) VALUES ('access_token_key', $1)")
        .bind(legacy.to_vec())
        .execute(db)
        .await
        .map(|r| r.rows_affected()))
    .unwrap();
    on!(&s.state.db, |db| sqlx::query("UPDATE users SET totp_secret = 'JBSWY3DPEHPK3PXP' WHERE totp_secret IS NOT NULL")
        .execute(db)
        .await
        .map(|r| r.rows_affected()))
    .unwrap();
    let enrolled: i64 =
        on!(&s.state.db, |db| sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE totp_secret IS NOT NULL").fetch_one(db).await).unwrap();
    assert!(enrolled > 0);
    // An access token that server signed: `gha_<payload>.<mac>`, no key id.
    let (session,): (String,) = on!(&s.state.db, |db| {
        sqlx::query_as(
        "SELECT s.id FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email = $1 AND s.revoked_at IS NULL ORDER BY s.created_at DESC LIMIT 1",
    )
    .bind(OWNER)
    .fetch_one(db)
    .await
    })
    .unwrap();
    let payload = B64.encode(format!("1:{session}:{}", (s.clock_now() + Duration::minutes(10)).timestamp()));
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&legacy).unwrap();
    mac.update(payload.as_bytes());
    let old_token = format!("gha_{payload}.{}", B64.encode(mac.finalize().into_bytes()));
    drop(owner);

    let url = s.second_node().await;
    // The key left the database for the new key file, under the id old tokens imply.
    let left: i64 = on!(&s.state.db, |db| sqlx::query_scalar("SELECT COUNT(*) FROM server_secrets").fetch_one(db).await).unwrap();
    assert_eq!(left, 0);
    let text = std::fs::read_to_string(key_file(&s)).unwrap();
    assert_eq!(ServerKeys::parse(&text).unwrap().current_id(), keys::LEGACY_KEY_ID);
    assert_eq!(me(&s, &url, &old_token).await, StatusCode::OK, "tokens out before the upgrade keep working");
    // Every plain secret is sealed now.
    let plain: i64 =
        on!(&s.state.db, |db| sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE totp_secret IS NOT NULL AND totp_secret NOT LIKE 'gh1:k0:%'")
            .fetch_one(db)
            .await)
        .unwrap();
    assert_eq!(plain, 0);
}

#[tokio::test]
async fn a_lost_key_file_stops_the_start_instead_of_locking_enrolled_users_out() {
    let s = TestServer::new().await;
    std::fs::remove_file(key_file(&s)).unwrap();
    let config = Config { key_source: Some(KeySource::File(key_file(&s))), ..Config::default() };
    let err = AppState::open(s.location.clone(), s.clock.clone(), config).await.err().expect("refused");
    let message = format!("{err:#}");
    assert!(message.contains("is missing") && message.contains("restore it"), "{message}");
    assert!(!key_file(&s).exists(), "no new key was made in its place");
}

#[tokio::test]
async fn keys_can_come_from_the_environment_instead_of_a_file() {
    let inline = ServerKeys::generate("2026-03-01");
    let text = inline.render().lines().filter(|l| !l.starts_with('#')).collect::<Vec<_>>().join(",");
    let config = Config { key_source: Some(KeySource::Inline(text.into())), ..Config::default() };
    let s = TestServer::with_config(10, config).await;
    assert!(!key_file(&s).exists(), "nothing written beside the database");
    let owner = s.login(OWNER).await;
    assert!(owner.access_token.expose().starts_with(&format!("gha_{}.", inline.current_id())));
    let sealed: i64 = on!(&s.state.db, |db| sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE totp_secret LIKE $1")
        .bind(format!("gh1:{}:%", inline.current_id()))
        .fetch_one(db)
        .await)
    .unwrap();
    let enrolled: i64 =
        on!(&s.state.db, |db| sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE totp_secret IS NOT NULL").fetch_one(db).await).unwrap();
    assert_eq!(sealed, enrolled);
}
