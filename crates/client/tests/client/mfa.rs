//! MFA and password resets through the client, against a real server: enrolment, signing
//! in with a code, an admin's Reset MFA (idempotent) and Reset password (the e-mail lands
//! in the demo mailbox).

use crate::outbox::sign_in;
use crate::server::{OWNER, PASSWORD, ServerProcess};
use gatehouse_client::api::Secret;
use gatehouse_client::{Client, ClientOptions, Error, MemoryTokenStore};
use gatehouse_server::totp;
use std::sync::Arc;

const MEMBER: &str = "member@acme.test";

/// The code an authenticator app shows `steps_ahead` steps from now.
fn code(secret: &str, steps_ahead: i64) -> String {
    let key = totp::base32_decode(secret).unwrap();
    format!("{:06}", totp::code_at(&key, totp::step_of(chrono::Utc::now().timestamp()) + steps_ahead))
}

async fn sign_in_with(url: &str, code: Option<String>) -> Result<Client, Error> {
    let store = Arc::new(MemoryTokenStore::default());
    Client::sign_in(url, MEMBER, Secret::new(PASSWORD.into()), code, store, &ClientOptions::default()).await.map(|(c, _)| c)
}

fn code_of(e: &Error) -> &str {
    match e {
        Error::Api(p) => &p.code,
        other => panic!("expected a problem, got {other:?}"),
    }
}

#[tokio::test]
async fn enrol_sign_in_with_a_code_then_an_admin_resets_mfa_and_the_password() {
    let server = ServerProcess::start(&["--dev-mailbox"]);
    let admin = sign_in(&server.url, OWNER).await;
    let member = sign_in(&server.url, MEMBER).await;
    let member_id = member.me().await.unwrap().user.id;

    let enrolment = member.start_totp().await.unwrap();
    let secret = enrolment.secret.expose().clone();
    assert!(!format!("{enrolment:?}").contains(&secret), "the secret never shows in Debug output");
    let wrong = member.confirm_totp("000000x").await.unwrap_err();
    assert_eq!(code_of(&wrong), "validation_failed");
    assert!(member.confirm_totp(&code(&secret, 0)).await.unwrap().mfa_enabled);

    let Err(refused) = sign_in_with(&server.url, None).await else { panic!("a code is needed") };
    assert_eq!(code_of(&refused), "mfa_required");
    // The enrolment spent this step's code; the next step's is already accepted.
    let signed_in = sign_in_with(&server.url, Some(code(&secret, 1))).await.unwrap();
    assert!(!signed_in.me().await.unwrap().mfa_enrollment_required);

    // Reset MFA, twice with one key: one change, the same answer.
    let once = admin.reset_mfa(&member_id, "reset-mfa-key").await.unwrap();
    let twice = admin.reset_mfa(&member_id, "reset-mfa-key").await.unwrap();
    assert!(!once.mfa_enabled);
    assert_eq!(once, twice);
    sign_in_with(&server.url, None).await.expect("no code needed after the reset");

    let sent = admin.reset_password(&member_id, "reset-password-key", false).await.unwrap();
    assert_eq!(sent.sent_to, MEMBER);
    admin.reset_password(&member_id, "reset-password-key", false).await.unwrap();
    let mail = admin.mailbox().await.unwrap();
    assert_eq!(mail.len(), 1, "a retried reset sends no second e-mail");
    assert_eq!(mail[0].to, MEMBER);
    assert!(mail[0].text.contains("/reset-password?token=ghp_"));

    // "Forgot password" from the sign-in screen: no session needed, nothing revealed.
    let opts = ClientOptions::default();
    Client::request_password_reset(&server.url, "nobody@acme.test", &opts).await.unwrap();
    Client::request_password_reset(&server.url, "admin@acme.test", &opts).await.unwrap();
    // The server does the work after answering: wait for the message.
    let mut mail = admin.mailbox().await.unwrap();
    for _ in 0..400 {
        if mail.len() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        mail = admin.mailbox().await.unwrap();
    }
    assert_eq!((mail.len(), mail[0].to.as_str()), (2, "admin@acme.test"));
    let bad = Client::request_password_reset(&server.url, "no address", &opts).await.unwrap_err();
    assert_eq!(code_of(&bad), "validation_failed");
}
