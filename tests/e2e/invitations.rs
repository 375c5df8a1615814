//! Invitations (issue 6, SPEC I1–I9): a CSV import with two bad rows is fixed in the app,
//! checked again and sent; the invitations then show as Pending. An invitation made in
//! the invite dialog is accepted through the e-mailed link, and the new member is active.

use anyhow::{Context, ensure};
use gatehouse_e2e::{Api, Ctx, OWNER_EMAIL, OWNER_PASSWORD, e2e_with};
use serde_json::Value;

const ROW: &str = "[data-testid=\"invitation-row\"]";

/// The invitations listed on the page, as (e-mail, status).
async fn listed(app: &gatehouse_e2e::App) -> anyhow::Result<Vec<(String, String)>> {
    app.attr_pairs(ROW, "data-email", "data-status").await
}

/// Signs the app in as the owner and opens Invitations; the owner's API session, to check
/// the server.
async fn open_invitations(app: &gatehouse_e2e::App, server_url: &str) -> anyhow::Result<Api> {
    let owner = Api::login(server_url, OWNER_EMAIL, OWNER_PASSWORD).await?;
    app.wait_signed_out().await?;
    app.submit_signin(server_url, OWNER_EMAIL, OWNER_PASSWORD).await?;
    app.wait_visible("users-page").await?;
    app.click("nav-invitations").await?;
    app.wait_visible("invitations-page").await?;
    Ok(owner)
}

#[test]
fn a_csv_import_with_two_bad_rows_is_fixed_in_place_and_sent() {
    e2e_with(300, &["--dev-mailbox"], |Ctx { app, server_url, .. }| async move {
        let owner = open_invitations(&app, &server_url).await?;
        app.wait_text("seat-usage", "the seat usage", |t| t.contains("seats")).await?;

        app.click("import-button").await?;
        app.wait_visible("import-view").await?;
        // Line 3: not an address; line 5: no such department.
        let csv = "email,role,department\nada.new@example.test,member,Sales\nbrian.example.test,member,Sales\n\
                   cleo.new@example.test,manager,Engineering\ndev.new@example.test,member,Marketing\n";
        app.paste("import-text", csv).await?;
        app.click("import-validate").await?;
        app.wait_text("import-summary", "the check's summary", |t| t.contains('2')).await?;
        let rows = app.attr_pairs("[data-testid=\"import-row\"]", "data-line", "data-valid").await?;
        let bad: Vec<&str> = rows.iter().filter(|(_, v)| v == "false").map(|(l, _)| l.as_str()).collect();
        ensure!(bad == ["3", "5"], "invalid rows are {bad:?} of {rows:?}");
        app.wait_text("import-row-error-3", "the reason of line 3", |t| t.contains("not an e-mail address")).await?;
        app.wait_text("import-row-error-5", "the reason of line 5", |t| t.contains("no department")).await?;
        let send_disabled = app.attr("[data-testid=\"import-send\"]", "disabled").await?;
        ensure!(send_disabled.is_some(), "Send is enabled with invalid rows");
        ensure!(
            owner.get_json("/v1/invitations?q=new%40example.test").await?["items"].as_array().is_some_and(Vec::is_empty),
            "a check sent something"
        );

        // Fixed in place, checked again, sent.
        app.fill("import-email-3", "brian.new@example.test").await?;
        app.fill("import-department-5", "Sales").await?;
        app.click("import-revalidate").await?;
        app.poll("Send to be enabled after the fixes", || async {
            Ok(app.attr("[data-testid=\"import-send\"]", "disabled").await?.is_none().then_some(()))
        })
        .await?;
        app.click("import-send").await?;
        app.wait_text("import-done", "the import's result", |t| t.contains('4')).await?;

        // The server has four pending invitations, each with its e-mail.
        let listed_on_server: Value = owner.get_json("/v1/invitations?status=pending&q=new%40example.test").await?;
        let emails: Vec<&str> = listed_on_server["items"].as_array().context("items")?.iter().filter_map(|i| i["email"].as_str()).collect();
        ensure!(emails.len() == 4, "the server has {emails:?}");
        let mail = owner.mailbox().await?;
        for email in ["ada.new@example.test", "brian.new@example.test", "cleo.new@example.test", "dev.new@example.test"] {
            ensure!(mail.iter().any(|m| m.to == email && m.kind == "invitation"), "no invitation e-mail to {email}");
        }

        // And the app lists them as Pending.
        if app.visible("import-view").await?.is_some() && app.visible("import-close").await?.is_some() {
            app.click("import-close").await?;
        }
        app.wait_visible("invitations-page").await?;
        app.click("invitations-status-pending").await?;
        app.fill("invitations-search", "new@example.test").await?;
        app.poll("the four imported invitations listed as pending", || async {
            let rows = listed(&app).await?;
            Ok((rows.len() == 4 && rows.iter().all(|(e, s)| e.ends_with("new@example.test") && s == "pending")).then_some(rows))
        })
        .await?;
        Ok(())
    });
}

#[test]
fn an_invitation_from_the_dialog_is_accepted_through_its_link() {
    e2e_with(300, &["--dev-mailbox"], |Ctx { app, server_url, .. }| async move {
        let owner = open_invitations(&app, &server_url).await?;
        app.click("invite-button").await?;
        app.wait_visible("invite-dialog").await?;
        app.fill("invite-emails", "erin.joins@example.test").await?;
        app.fill("invite-message", "See you on Monday").await?;
        app.click("invite-submit").await?;
        // The dialog closes once the server has answered; the focus goes back to the page.
        app.wait_text("invitations-notice", "the invite's notice", |t| t.contains("Invited 1 person")).await?;
        app.fill("invitations-search", "erin.joins").await?;
        app.poll("the invitation listed as pending", || async {
            Ok(listed(&app).await?.into_iter().find(|(e, s)| e == "erin.joins@example.test" && s == "pending"))
        })
        .await?;

        // The invitee follows the e-mailed link and accepts with a name and password.
        let mail = owner.mailbox().await?.into_iter().find(|m| m.to == "erin.joins@example.test").context("no invitation e-mail")?;
        ensure!(mail.text.contains("See you on Monday") && mail.html.contains("<a href="), "the message and an HTML part");
        let link = mail.text.split_whitespace().find(|w| w.contains("/accept-invitation?token=")).context("no link")?.to_owned();
        let http = reqwest::Client::new();
        ensure!(http.get(&link).send().await?.status() == 200, "the link's page");
        let token = link.split("token=").nth(1).context("no token")?.to_owned();
        let password = "erin's own passphrase";
        let form = [
            ("token", token.as_str()),
            ("action", "accept"),
            ("first_name", "Erin"),
            ("last_name", "Joins"),
            ("password", password),
            ("confirm", password),
        ];
        let done = http.post(format!("{server_url}/accept-invitation")).form(&form).send().await?;
        ensure!(done.status() == 200 && done.text().await?.contains("Welcome"), "accepting failed");
        Api::login(&server_url, "erin.joins@example.test", password).await.context("the new member signs in")?;

        // The app shows the invitation accepted and the member active (through the feed).
        app.poll("the invitation shown as accepted", || async {
            app.click("invitations-status-all").await?;
            Ok(listed(&app).await?.into_iter().find(|(e, s)| e == "erin.joins@example.test" && s == "accepted"))
        })
        .await?;
        app.click("nav-users").await?;
        app.fill("users-search", "erin.joins").await?;
        app.poll("Erin Joins active in the directory", || async {
            Ok(app
                .rows()
                .await?
                .into_iter()
                .find(|r| r.email == "erin.joins@example.test" && r.text.contains("Erin Joins") && r.text.contains("Active")))
        })
        .await?;
        Ok(())
    });
}
