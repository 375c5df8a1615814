//! Sign-in failures are shown in the form, and nothing reaches the keyring.

use crate::keyring_token;
use anyhow::ensure;
use gatehouse_e2e::{Ctx, OWNER_EMAIL, OWNER_PASSWORD, e2e};

/// Nothing listens on the discard port; connecting is refused at once.
const UNREACHABLE: &str = "http://127.0.0.1:9";

#[test]
fn wrong_password_and_unreachable_server_are_reported() {
    e2e(20, |Ctx { app, server_url, .. }| async move {
        app.wait_signed_out().await?;

        app.submit_signin(&server_url, OWNER_EMAIL, "not-the-Password-42").await?;
        app.wait_text("signin-error", "\"Invalid email or password\"", |t| t.contains("Invalid email or password")).await?;
        ensure!(app.visible("users-page").await?.is_none(), "signed in with a wrong password");

        app.submit_signin(UNREACHABLE, OWNER_EMAIL, OWNER_PASSWORD).await?;
        app.wait_text("signin-error", "\"Cannot reach server\"", |t| t.contains("Cannot reach server")).await?;
        ensure!(app.visible("signin-form").await?.is_some(), "the sign-in form went away");

        for url in [server_url.as_str(), UNREACHABLE] {
            ensure!(keyring_token(url, OWNER_EMAIL).await?.is_none(), "a failed sign-in left a token in the keyring for {url}");
        }
        Ok(())
    });
}

#[test]
fn malformed_server_url_is_flagged_on_its_field() {
    e2e(20, |Ctx { app, .. }| async move {
        app.wait_signed_out().await?;
        app.submit_signin("not a url", OWNER_EMAIL, OWNER_PASSWORD).await?;
        app.wait_visible("signin-server-url-error").await?;
        ensure!(app.visible("users-page").await?.is_none(), "signed in without a server");
        Ok(())
    });
}
