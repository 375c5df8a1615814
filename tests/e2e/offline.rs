//! The offline journey (issue 3): the server goes away, the admin edits users anyway,
//! the edits show as pending while the app says it is offline; the server comes back,
//! the edits reach it, the marks go, and an edit that collided with another admin's is
//! put in front of the admin and settled as they choose.

use anyhow::{Context, Result, ensure};
use gatehouse_api::User;
use gatehouse_e2e::{Api, App, Ctx, OWNER_EMAIL, OWNER_PASSWORD, e2e};
use serde_json::json;

#[test]
fn edits_made_offline_reach_the_server_once_it_is_back_and_a_conflict_is_settled() {
    e2e(60, |Ctx { app, server_url, server, .. }| async move {
        let api = Api::login(&server_url, OWNER_EMAIL, OWNER_PASSWORD).await?;
        let page = api.users(None, 100).await?;
        let others: Vec<_> = page.items.into_iter().filter(|u| !u.email.eq_ignore_ascii_case(OWNER_EMAIL)).collect();
        ensure!(others.len() >= 2, "the seed made fewer than two users besides the owner");
        let (quiet, contested) = (others[0].clone(), others[1].clone());

        app.wait_signed_out().await?;
        app.submit_signin(&server_url, OWNER_EMAIL, OWNER_PASSWORD).await?;
        app.wait_visible("users-page").await?;
        wait_online(&app, true).await?;
        app.wait_text("last-synced", "a last sync time", |t| t.contains("Last synced")).await?;

        // The server goes away; the app notices on its own and says so.
        server.lock().await.stop().await?;
        wait_online(&app, false).await?;
        app.wait_text("sync-state", "\"Offline\"", |t| t.contains("Offline")).await?;

        // Everything synced stays readable, and edits are taken: both users get one.
        edit_first_name(&app, &quiet, "Offlinequiet").await?;
        edit_first_name(&app, &contested, "Mine").await?;
        for user in [&quiet, &contested] {
            wait_mark(&app, user, "pending").await?;
        }
        app.wait_text("outbox-count", "2 queued changes", |t| t.trim() == "2").await?;
        app.fill("users-search", &quiet.email).await?;
        app.poll("the row to show the new first name", || async {
            Ok(app.rows().await?.iter().any(|r| r.id == quiet.id && r.text.contains("Offlinequiet")).then_some(()))
        })
        .await?;

        // Meanwhile another admin, through another server on the same database, changes
        // the second user's first name: the app's queued edit of it is now stale.
        {
            let (mut other, other_url) = server.lock().await.another_instance().await?;
            let other_api = Api::login(&other_url, OWNER_EMAIL, OWNER_PASSWORD).await?;
            other_api.patch_user(&contested.id, json!({ "first_name": "Theirs" })).await?;
            other.kill().await.context("stopping the other server")?;
        }

        // The server comes back: the first edit goes through and its mark goes; the
        // second comes back as a conflict.
        server.lock().await.resume().await?;
        wait_online(&app, true).await?;
        wait_mark(&app, &quiet, "").await?;
        wait_mark(&app, &contested, "conflict").await?;
        let (on_server, _) = api.user(&quiet.id).await?;
        ensure!(on_server.first_name == "Offlinequiet", "the server has first name {:?}", on_server.first_name);
        ensure!(on_server.last_name == quiet.last_name, "the server's last name changed to {:?}", on_server.last_name);

        // The conflict, field by field, in the changes drawer; the admin reapplies theirs.
        app.click("outbox-button").await?;
        app.wait_visible("outbox-drawer").await?;
        let state = app.attr("[data-testid=\"outbox-entry\"]", "data-state").await?;
        ensure!(state.as_deref() == Some("conflict"), "the drawer's entry is {state:?}, not a conflict");
        app.wait_text("conflict-mine", "my first name", |t| t.contains("Mine")).await?;
        app.wait_text("conflict-theirs", "their first name", |t| t.contains("Theirs")).await?;
        app.click("reapply-mine").await?;
        app.wait_visible("outbox-empty").await?;
        wait_mark(&app, &contested, "").await?;
        let (on_server, _) = api.user(&contested.id).await?;
        ensure!(on_server.first_name == "Mine", "after reapplying mine the server has {:?}", on_server.first_name);
        Ok(())
    });
}

/// Waits until the indicator says online (or offline).
async fn wait_online(app: &App, online: bool) -> Result<()> {
    let want = if online { "true" } else { "false" };
    app.poll(&format!("the sync indicator to say online={want}"), || async {
        Ok((app.attr("[data-testid=\"sync-indicator\"]", "data-online").await?.as_deref() == Some(want)).then_some(()))
    })
    .await
}

/// Searches for the user (an edit may move its row out of view) and waits until its
/// row carries this pending mark ("" for none).
async fn wait_mark(app: &App, user: &User, mark: &str) -> Result<()> {
    app.fill("users-search", &user.email).await?;
    app.poll(&format!("{}'s row to be marked {mark:?}", user.email), || async {
        Ok((app.row_local_state(&user.id).await?.as_deref() == Some(mark)).then_some(()))
    })
    .await
}

/// Opens the user, sets the first name in the edit dialog and saves.
async fn edit_first_name(app: &App, user: &User, name: &str) -> Result<()> {
    app.fill("users-search", &user.email).await?;
    app.open_row(&user.id).await?;
    app.click("detail-edit").await?;
    app.wait_visible("edit-user-dialog").await?;
    app.fill("edit-first-name", name).await?;
    app.click("edit-user-save").await?;
    app.poll("the edit dialog to close", || async { Ok(app.visible("edit-user-dialog").await?.is_none().then_some(())) }).await?;
    app.click("detail-close").await?;
    Ok(())
}
