//! IT staff ending sessions (issue 5): a second client signed in as the user is refused on
//! its very next request after a force logout from the user panel, after a revocation on
//! the Sessions page, and after a force logout done with the keyboard only in the command
//! palette.

use anyhow::{Result, ensure};
use gatehouse_e2e::{Api, App, Ctx, OWNER_EMAIL, OWNER_PASSWORD, e2e};

const MEMBER: &str = "member@acme.test";
const MEMBER_NAME: &str = "Casey Kim";

/// WebDriver key codes.
const CONTROL: &str = "\u{E009}";
const ARROW_DOWN: &str = "\u{E015}";
const ENTER: &str = "\u{E007}";

async fn signed_in_as_owner(app: &App, server_url: &str) -> Result<()> {
    app.wait_signed_out().await?;
    app.submit_signin(server_url, OWNER_EMAIL, OWNER_PASSWORD).await?;
    app.wait_visible("users-page").await?;
    app.poll("user rows", || async { Ok((app.rows().await?.len() >= 2).then_some(())) }).await
}

/// Waits until the second client's session is refused (401) on its next request.
async fn refused(app: &App, client: &Api) -> Result<()> {
    let status = client.me_status().await?;
    ensure!(status == 401, "the second client's next request got {status}, not 401");
    // And it stays refused.
    app.poll("the refusal to last", || async { Ok((client.me_status().await? == 401).then_some(())) }).await
}

#[test]
fn force_logout_from_the_panel_and_revoke_on_the_sessions_page_take_effect_at_once() {
    e2e(300, |Ctx { app, server_url, .. }| async move {
        let owner = Api::login(&server_url, OWNER_EMAIL, OWNER_PASSWORD).await?;
        let member_id = owner.users(Some(MEMBER), 1).await?.items.remove(0).id;
        signed_in_as_owner(&app, &server_url).await?;

        // The member is signed in elsewhere (a second client).
        let laptop = Api::login(&server_url, MEMBER, OWNER_PASSWORD).await?;
        ensure!(laptop.me_status().await? == 200, "the member's session works before");

        // Force logout from the user panel, with its confirmation.
        app.fill("users-search", MEMBER).await?;
        app.open_row(&member_id).await?;
        app.click("force-logout").await?;
        app.click("confirm-force-logout").await?;
        let status = app.wait_text("logout-status", "the confirmed force logout", |t| t.contains("confirmed")).await?;
        ensure!(!status.contains("not yet effective"), "shown as not effective after the server confirmed: {status}");
        refused(&app, &laptop).await?;

        // Sessions page: the member signs in again; that one session is revoked by row.
        let phone = Api::login(&server_url, MEMBER, OWNER_PASSWORD).await?;
        ensure!(phone.me_status().await? == 200);
        app.click("nav-sessions").await?;
        app.fill("sessions-search", MEMBER).await?;
        let row = format!("[data-testid=\"session-row\"][data-session-id=\"{}\"]", phone.session_id);
        // Only once the search has narrowed the list (its answer replaces the rows).
        app.poll("the member's new session in the searched list", || async {
            let all_member = app
                .call(
                    "execute",
                    app.client.execute(
                        "const rows = [...document.querySelectorAll('[data-testid=\"session-row\"]')]; \
                         return rows.length > 0 && rows.every(r => r.textContent.includes(arguments[0]));",
                        vec![serde_json::json!(MEMBER)],
                    ),
                )
                .await?;
            Ok(if all_member.as_bool() == Some(true) { app.attr(&row, "data-session-id").await? } else { None })
        })
        .await?;
        app.click_css(&format!("{row} [data-testid=\"revoke-session\"]")).await?;
        app.click("confirm-revoke").await?;
        app.poll("the row to show the confirmed revocation", || async {
            Ok(app.text_of(&format!("{row} [data-testid=\"revoked-confirmed\"]")).await?.filter(|t| t.contains("confirmed")))
        })
        .await?;
        refused(&app, &phone).await
    });
}

#[test]
fn a_force_logout_from_the_command_palette_needs_only_the_keyboard() {
    e2e(300, |Ctx { app, server_url, .. }| async move {
        signed_in_as_owner(&app, &server_url).await?;
        let laptop = Api::login(&server_url, MEMBER, OWNER_PASSWORD).await?;
        ensure!(laptop.me_status().await? == 200);

        // Ctrl+K from anywhere, the name, ArrowDown to "Force logout Casey Kim", Enter,
        // Enter to confirm: four keystrokes besides the name, no mouse.
        app.keys(&format!("{CONTROL}k")).await?;
        app.wait_visible("command-palette").await?;
        app.poll("the palette's input to have focus", || async { Ok((app.focused_testid().await? == "palette-input").then_some(())) }).await?;
        app.keys(MEMBER_NAME).await?;
        app.poll("the member among the results", || async {
            Ok(app.text_of("[data-testid=\"palette-result\"]").await?.filter(|t| t.contains(MEMBER_NAME)))
        })
        .await?;
        app.keys(ARROW_DOWN).await?;
        app.keys(ENTER).await?;
        app.wait_visible("palette-confirm").await?;
        app.keys(ENTER).await?;
        app.wait_text("palette-result-status", "the confirmed force logout", |t| t.contains("confirmed")).await?;
        refused(&app, &laptop).await
    });
}
