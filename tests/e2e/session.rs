//! A session that dies on the server sends the app back to sign-in, saying why, and the
//! dead refresh token leaves the keyring.

use crate::keyring_token;
use anyhow::ensure;
use gatehouse_e2e::{App, Ctx, OWNER_EMAIL, OWNER_PASSWORD, e2e, e2e_with};

#[test]
fn a_stolen_refresh_token_ends_the_session_and_the_app_says_why() {
    // Access tokens that live 20 s are inside the client's 30 s refresh margin, so every
    // request of the app refreshes: its next request presents the refresh token.
    e2e_with(50, &["--access-token-ttl", "20"], |Ctx { app, server_url, .. }| async move {
        app.wait_signed_out().await?;
        app.submit_signin(&server_url, OWNER_EMAIL, OWNER_PASSWORD).await?;
        app.wait_visible("users-page").await?;
        app.poll("user rows", || async { Ok((!app.rows().await?.is_empty()).then_some(())) }).await?;

        // Someone with a copy of the refresh token spends it first.
        let stolen = app.poll("a refresh token in the keyring", || async { keyring_token(&server_url, OWNER_EMAIL).await }).await?;
        reqwest::Client::new()
            .post(format!("{server_url}/v1/auth/refresh"))
            .json(&serde_json::json!({ "refresh_token": stolen.expose() }))
            .send()
            .await?;

        // The app's next request (sync now) presents the spent token; the server revokes
        // the whole session, and the app goes back to sign-in with the reason.
        app.click("sync-now").await?;
        app.wait_visible("signin-form").await?;
        app.wait_text("signin-notice", "a reason mentioning the session", |t| t.to_lowercase().contains("session")).await?;
        ensure!(app.visible("users-page").await?.is_none(), "still on the users page");
        ensure!(keyring_token(&server_url, OWNER_EMAIL).await?.is_none(), "the dead refresh token is still in the keyring");
        Ok(())
    });
}

#[test]
fn a_restarted_app_resumes_the_session_from_the_keyring() {
    e2e(50, |Ctx { cfg, app, server_url, .. }| async move {
        app.wait_signed_out().await?;
        app.submit_signin(&server_url, OWNER_EMAIL, OWNER_PASSWORD).await?;
        app.wait_visible("users-page").await?;
        app.close().await;

        // A new process: the saved connection and the keyring's refresh token sign it in.
        let again = App::launch(&cfg).await?;
        let resumed = async {
            again.wait_visible("users-page").await?;
            again.poll("user rows", || async { Ok((!again.rows().await?.is_empty()).then_some(())) }).await?;
            again.sign_out().await?;
            again.wait_visible("signin-form").await?;
            ensure!(keyring_token(&server_url, OWNER_EMAIL).await?.is_none(), "sign-out after a resume left the token in the keyring");
            anyhow::Ok(())
        }
        .await;
        again.close().await;
        resumed
    });
}
