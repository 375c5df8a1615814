//! The users directory (issue 4) in the real app against a real server: an admin creates
//! a user, changes their roles, deactivates them (their session dies at its next
//! request), reactivates them, changes a role on three users at once and exports the
//! filtered list to CSV; a Member sees the list and no management actions.

use anyhow::{Result, ensure};
use gatehouse_api::User;
use gatehouse_e2e::{Api, App, Ctx, OWNER_EMAIL, OWNER_PASSWORD, e2e};

/// Polls the server until `check` holds for the user with this e-mail.
async fn wait_server(app: &App, api: &Api, email: &str, what: &str, check: impl Fn(&User) -> bool) -> Result<User> {
    app.poll(&format!("the server to show {email} {what}"), || async {
        let page = api.users(Some(email), 1).await?;
        Ok(page.items.into_iter().next().filter(|u| check(u)))
    })
    .await
}

#[test]
fn an_admin_creates_edits_deactivates_reactivates_and_bulk_changes_users() {
    e2e(60, |Ctx { app, server_url, .. }| async move {
        let api = Api::login(&server_url, OWNER_EMAIL, OWNER_PASSWORD).await?;
        app.wait_signed_out().await?;
        app.submit_signin(&server_url, OWNER_EMAIL, OWNER_PASSWORD).await?;
        app.wait_visible("users-page").await?;

        // Create: the dialog checks the fields, the server creates the user.
        app.click("add-user").await?;
        app.wait_visible("create-user-dialog").await?;
        app.fill("create-first-name", "Dana").await?;
        app.fill("create-last-name", "Scully").await?;
        app.fill("create-email", "dana.scully@acme.test").await?;
        app.fill("create-password", "trust no one 1013").await?;
        app.click("create-user-save").await?;
        app.poll("the create dialog to close", || async { Ok(app.visible("create-user-dialog").await?.is_none().then_some(())) }).await?;
        let dana = wait_server(&app, &api, "dana.scully@acme.test", "created as a Member", |u| {
            u.roles.iter().map(|r| r.key.as_str()).collect::<Vec<_>>() == ["member"]
        })
        .await?;
        // The new user's panel opens; their row arrives through the sync.
        app.fill("users-search", "dana.scully").await?;
        app.poll("Dana's row", || async { Ok(app.rows().await?.iter().any(|r| r.id == dana.id).then_some(())) }).await?;
        app.wait_text("detail-name", "Dana's panel", |t| t.contains("Dana Scully")).await?;

        // Roles: toggling Manager on is a queued edit that reaches the server.
        app.click("role-toggle-manager").await?;
        wait_server(&app, &api, &dana.email, "as Manager and Member", |u| {
            let mut keys: Vec<&str> = u.roles.iter().map(|r| r.key.as_str()).collect();
            keys.sort_unstable();
            keys == ["manager", "member"]
        })
        .await?;

        // A custom attribute, added in the panel: queued, then on the server.
        app.fill("attr-new-key", "cost_center").await?;
        app.fill("attr-new-value", "CC-1013").await?;
        app.click("attr-add").await?;
        wait_server(&app, &api, &dana.email, "with cost_center CC-1013", |u| {
            u.custom_attributes.get("cost_center").map(String::as_str) == Some("CC-1013")
        })
        .await?;

        // Deactivate, after the confirmation: Dana's own session ends at its next request.
        let dana_session = Api::login(&server_url, &dana.email, "trust no one 1013").await?;
        ensure!(dana_session.me_status().await? == 200, "Dana's session works before");
        app.click("detail-deactivate").await?;
        app.wait_text("confirm-deactivate", "the consequences", |t| t.contains("signed out everywhere")).await?;
        app.click("confirm-ok").await?;
        wait_server(&app, &api, &dana.email, "deactivated", |u| u.status == gatehouse_api::UserStatus::Deactivated).await?;
        let status = dana_session.me_status().await?;
        ensure!(status == 401, "Dana's session still answers {status} after deactivation");
        app.wait_text("detail-status", "Deactivated in the panel", |t| t.contains("Deactivated")).await?;

        // Reactivate: same roles as before.
        app.click("detail-reactivate").await?;
        app.wait_visible("confirm-reactivate").await?;
        app.click("confirm-ok").await?;
        let back = wait_server(&app, &api, &dana.email, "active again", |u| u.status == gatehouse_api::UserStatus::Active).await?;
        ensure!(back.roles.len() == 2, "reactivated with roles {:?}", back.roles);
        app.click("detail-close").await?;

        // Bulk: tick three Members and give them the Support role.
        app.fill("users-search", "").await?;
        let member_role = api.role_id("member").await?;
        app.select("filter-role", &member_role).await?;
        let rows = app
            .poll("three Members listed", || async {
                let rows = app.rows().await?;
                Ok((rows.len() >= 3 && rows.iter().take(3).all(|r| r.text.contains("Member"))).then_some(rows))
            })
            .await?;
        let three: Vec<String> = rows.iter().take(3).map(|r| r.id.clone()).collect();
        for id in &three {
            app.click_css(&format!("{} [data-testid=\"row-select\"]", App::row_css(id))).await?;
        }
        app.wait_text("bulk-count", "3 selected", |t| t.contains("3 selected")).await?;
        let support = api.role_id("support").await?;
        app.select("bulk-action", "add_role").await?;
        app.select("bulk-target", &support).await?;
        app.click("bulk-apply").await?;
        app.click("bulk-confirm-ok").await?;
        app.wait_text("bulk-summary", "3 of 3 applied", |t| t.contains("Applied to 3 of 3")).await?;
        for id in &three {
            let (user, _) = api.user(id).await?;
            ensure!(user.roles.iter().any(|r| r.key == "support"), "{} lacks Support after the bulk change", user.email);
        }
        app.click("bulk-result-close").await?;

        // Export the filtered list (Members) to CSV, from the local copy, with progress.
        app.click("export-csv").await?;
        let done = app.wait_text("export-done", "where the file went", |t| t.contains(".csv")).await?;
        let path = done.rsplit_once(" to ").map(|(_, p)| p.trim().to_owned()).unwrap_or_default();
        let csv = std::fs::read_to_string(&path).map_err(|e| anyhow::anyhow!("reading the export {path}: {e}"))?;
        let mut lines = csv.lines();
        ensure!(lines.next() == gatehouse_api::USERS_CSV_HEADER.lines().next(), "the export starts with the header");
        let rows: Vec<&str> = lines.collect();
        let members = api.count_with_role(&member_role).await?;
        ensure!(rows.len() == members as usize, "the export has {} rows for {members} Members", rows.len());
        for id in &three {
            ensure!(rows.iter().any(|r| r.starts_with(id.as_str())), "the export lacks {id}");
        }
        Ok(())
    });
}

#[test]
fn a_member_sees_the_list_and_no_management_actions() {
    e2e(30, |Ctx { app, server_url, .. }| async move {
        app.wait_signed_out().await?;
        app.submit_signin(&server_url, "member@acme.test", OWNER_PASSWORD).await?;
        app.wait_visible("users-page").await?;
        let rows = app.poll("the list", || async { Ok(Some(app.rows().await?).filter(|r| r.len() > 5)) }).await?;
        for absent in ["add-user", "select-all", "nav-settings", "bulk-bar"] {
            ensure!(app.visible(absent).await?.is_none(), "a Member sees [{absent}]");
        }
        app.open_row(&rows[0].id).await?;
        app.wait_visible("user-detail").await?;
        for absent in ["detail-actions", "detail-deactivate", "detail-roles", "detail-edit"] {
            ensure!(app.visible(absent).await?.is_none(), "a Member sees [{absent}] in the panel");
        }
        Ok(())
    });
}
