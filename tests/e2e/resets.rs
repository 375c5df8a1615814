//! Password reset from the user panel (issue 5, SPEC U10): the admin confirms in the app,
//! the server e-mails a single-use link (kept in the demo mailbox, shown in Settings), and
//! following it sets a new password and ends the user's sessions.

use anyhow::{Context, ensure};
use gatehouse_e2e::{Api, Ctx, OWNER_EMAIL, OWNER_PASSWORD, e2e_with};

const MEMBER: &str = "member@acme.test";
const NEW_PASSWORD: &str = "a new passphrase from the e-mail";

#[test]
fn a_password_reset_from_the_panel_emails_a_link_that_works_once() {
    e2e_with(300, &["--dev-mailbox"], |Ctx { app, server_url, .. }| async move {
        let owner = Api::login(&server_url, OWNER_EMAIL, OWNER_PASSWORD).await?;
        let member_id = owner.users(Some(MEMBER), 1).await?.items.remove(0).id;
        let laptop = Api::login(&server_url, MEMBER, OWNER_PASSWORD).await?;

        app.wait_signed_out().await?;
        app.submit_signin(&server_url, OWNER_EMAIL, OWNER_PASSWORD).await?;
        app.wait_visible("users-page").await?;
        app.fill("users-search", MEMBER).await?;
        app.open_row(&member_id).await?;
        app.click("reset-password").await?;
        app.click("confirm-reset-password").await?;
        app.wait_text("reset-password-result", "the sent reset link", |t| t.contains(MEMBER)).await?;

        // The e-mail: in the demo mailbox, and shown in the app's Settings.
        let mail = owner.mailbox().await?.into_iter().find(|m| m.to == MEMBER && m.kind == "password_reset").context("no reset e-mail")?;
        ensure!(mail.html.contains("<a href="), "an HTML part with the link");
        app.click("nav-settings").await?;
        app.poll("the message in Settings → Demo mailbox", || async {
            Ok(app.text_of("[data-testid=\"mailbox-list\"]").await?.filter(|t| t.contains(&mail.subject)))
        })
        .await?;

        // Following the link: a form; setting the password signs the member out everywhere.
        let link = mail.text.split_whitespace().find(|w| w.contains("/reset-password?token=")).context("no link in the e-mail")?.to_owned();
        let http = reqwest::Client::new();
        let page = http.get(&link).send().await?;
        ensure!(page.status() == 200, "the link's page answered {}", page.status());
        let token = link.split("token=").nth(1).context("no token")?.to_owned();
        let form = [("token", token.as_str()), ("password", NEW_PASSWORD), ("confirm", NEW_PASSWORD)];
        let done = http.post(format!("{server_url}/reset-password")).form(&form).send().await?;
        ensure!(done.status() == 200 && done.text().await?.contains("Password changed"), "the new password was not taken");
        ensure!(laptop.me_status().await? == 401, "the member's old session still works");
        Api::login(&server_url, MEMBER, NEW_PASSWORD).await.context("signing in with the new password")?;
        ensure!(Api::login(&server_url, MEMBER, OWNER_PASSWORD).await.is_err(), "the old password still works");
        // The link worked once.
        let again = http.post(format!("{server_url}/reset-password")).form(&form).send().await?;
        ensure!(again.status() == 410, "a used link answered {}", again.status());
        Ok(())
    });
}
