//! TOTP MFA in the app (issue 5, SPEC U11, C2): an enrolled account signs in with the code
//! the app asks for; when the organization requires MFA, an account without it sees only
//! the enrolment — secret and QR code — and gets in once a code from it is confirmed.

use anyhow::{Context, ensure};
use gatehouse_e2e::{Api, Ctx, OWNER_EMAIL, OWNER_PASSWORD, e2e, totp_code};
use serde_json::json;

const MEMBER: &str = "member@acme.test";
const MANAGER: &str = "manager@acme.test";

#[test]
fn sign_in_asks_for_the_code_and_mfa_required_makes_an_account_enrol_first() {
    e2e(200, |Ctx { app, server_url, .. }| async move {
        // The member enrols an authenticator (over the API, as their phone would).
        let member = Api::login(&server_url, MEMBER, OWNER_PASSWORD).await?;
        let started = member.post_json("/v1/me/mfa/totp", json!({})).await?;
        let secret = started["secret"].as_str().context("no secret")?.to_owned();
        member.post_json("/v1/me/mfa/totp/confirm", json!({ "code": totp_code(&secret, 0)? })).await?;

        // Signing in: the password first, then the app asks for the code.
        app.wait_signed_out().await?;
        app.submit_signin(&server_url, MEMBER, OWNER_PASSWORD).await?;
        app.wait_visible("signin-totp").await?;
        app.fill("signin-totp", "000000").await?;
        app.click("signin-submit").await?;
        // A wrong code is shown, and nothing else changes (a right one is unlikely to be 000000).
        app.poll("the wrong code's message", || async {
            Ok(app.text_of("[data-testid=\"signin-form\"]").await?.filter(|t| t.to_lowercase().contains("code")))
        })
        .await?;
        // The enrolment spent this step's code; the next step's is accepted already.
        app.fill("signin-totp", &totp_code(&secret, 1)?).await?;
        app.click("signin-submit").await?;
        app.wait_visible("users-page").await?;
        app.sign_out().await?;

        // The organization now requires MFA; the manager has none.
        let owner = Api::login(&server_url, OWNER_EMAIL, OWNER_PASSWORD).await?;
        owner.patch_json("/v1/org", json!({ "mfa_required": true })).await?;
        app.wait_signed_out().await?;
        app.submit_signin(&server_url, MANAGER, OWNER_PASSWORD).await?;
        app.wait_visible("mfa-secret").await?;
        ensure!(app.text_of("[data-testid=\"users-page\"]").await?.is_none(), "the app shows the directory before enrolment");
        app.wait_visible("mfa-qr").await?;
        let shown = app.text_of("[data-testid=\"mfa-secret\"]").await?.context("no secret shown")?;
        let secret: String = shown.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
        app.fill("mfa-code", &totp_code(&secret, 0)?).await?;
        app.click("mfa-confirm").await?;
        app.wait_visible("users-page").await?;
        Ok(())
    });
}
