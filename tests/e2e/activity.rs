//! Support staff reviewing activity (issue 7): a support user sees the Activity and Login
//! attempts pages and no management actions, narrows the log to one user's failed
//! sign-ins, opens an event, and exports the filtered log to a CSV file that holds
//! exactly the events the server has for that filter.

use anyhow::{Context, ensure};
use gatehouse_e2e::{Api, Ctx, OWNER_EMAIL, OWNER_PASSWORD, e2e};

const MEMBER: &str = "member@acme.test";
const SUPPORT: &str = "support@acme.test";

#[test]
fn support_filters_one_users_failed_sign_ins_opens_one_and_exports_them() {
    e2e(40, |Ctx { app, server_url, .. }| async move {
        let owner = Api::login(&server_url, OWNER_EMAIL, OWNER_PASSWORD).await?;
        let member_id = owner.users(Some(MEMBER), 1).await?.items.remove(0).id;
        // Three failed sign-ins of the member, from this machine.
        let http = reqwest::Client::new();
        for _ in 0..3 {
            let res = http
                .post(format!("{server_url}/v1/auth/login"))
                .json(&serde_json::json!({"email": MEMBER, "password": "not the password"}))
                .send()
                .await?;
            ensure!(res.status() == 401, "a wrong password got {}", res.status());
        }
        let filter = format!("user_id={member_id}&action=session.sign_in_failed");
        let expected = owner.get_json(&format!("/v1/audit-events?{filter}&limit=500")).await?;
        let expected: Vec<String> =
            expected["items"].as_array().context("items")?.iter().filter_map(|e| e["id"].as_str().map(str::to_owned)).collect();
        ensure!(expected.len() >= 3, "the server has the failures: {expected:?}");
        let newest = expected[0].clone();

        // The support user signs in: Activity and Login attempts, nothing that manages.
        app.wait_signed_out().await?;
        app.submit_signin(&server_url, SUPPORT, OWNER_PASSWORD).await?;
        app.wait_visible("users-page").await?;
        app.wait_visible("nav-activity").await?;
        app.wait_visible("nav-attempts").await?;
        for absent in ["nav-invitations", "nav-sessions", "add-user"] {
            ensure!(app.visible(absent).await?.is_none(), "a support user sees {absent}");
        }
        // The member's panel: an Activity tab, no management buttons.
        app.poll("user rows", || async { Ok((app.rows().await?.len() >= 2).then_some(())) }).await?;
        app.fill("users-search", MEMBER).await?;
        app.poll("the search to narrow the list to the member", || async {
            let rows = app.rows().await?;
            Ok((rows.len() == 1 && rows[0].id == member_id).then_some(()))
        })
        .await?;
        app.open_row(&member_id).await?;
        app.wait_visible("user-detail").await?;
        for absent in ["detail-edit", "force-logout", "reset-password", "reset-mfa"] {
            ensure!(app.visible(absent).await?.is_none(), "a support user's panel shows {absent}");
        }
        // Its Activity tab: the member's timeline, newest first, starting with the failures.
        app.click("tab-activity").await?;
        app.poll("the member's timeline", || async {
            let rows = app.attr_pairs("[data-testid=\"user-activity-row\"]", "data-event-id", "data-action").await?;
            Ok((rows.first().is_some_and(|(id, _)| *id == newest)).then_some(()))
        })
        .await?;
        app.click("detail-close").await?;

        app.click("nav-activity").await?;
        app.wait_visible("activity-page").await?;
        app.poll("the first events", || async { Ok((app.attr("[data-testid=\"activity-row\"]", "data-event-id").await?.is_some()).then_some(())) })
            .await?;

        // The user, from the picker; then the action, from its area.
        app.fill("activity-filter-user", "Casey").await?;
        app.click_css(&format!("[data-testid=\"activity-user-option\"][data-user-id=\"{member_id}\"]")).await?;
        app.wait_visible("activity-filter-user-chosen").await?;
        app.click("activity-filter-action").await?;
        app.click("action-session.sign_in_failed").await?;
        app.click("activity-filter-action").await?;
        // The page opens on the last 30 days; the server's list above is of all time.
        app.click("activity-preset-all").await?;

        // Only the member's failed sign-ins remain, newest first.
        let shown = app
            .poll("only the member's failed sign-ins", || async {
                let rows = app.attr_pairs("[data-testid=\"activity-row\"]", "data-event-id", "data-action").await?;
                let narrowed = !rows.is_empty() && rows.iter().all(|(_, a)| a == "session.sign_in_failed") && rows[0].0 == newest;
                Ok(narrowed.then_some(rows))
            })
            .await?;
        let ids: Vec<&str> = shown.iter().map(|(id, _)| id.as_str()).collect();
        ensure!(ids.iter().zip(&expected).all(|(a, b)| a == b), "the list {ids:?} is the server's {expected:?}");

        // Open the newest: its details say why it failed and from where.
        app.click_css(&format!("[data-testid=\"activity-row\"][data-event-id=\"{newest}\"]")).await?;
        let detail = app
            .wait_text("activity-detail", "the event's details", |t| {
                t.contains("127.0.0.1") && (t.contains("bad_password") || t.contains("Wrong password"))
            })
            .await?;
        ensure!(detail.contains(MEMBER), "the details name the address typed: {detail}");

        // Export the filter: the file holds exactly the server's events for it.
        app.click("activity-export").await?;
        app.wait_visible("activity-export-done").await?;
        let path = app.attr("[data-testid=\"activity-export-done\"]", "title").await?.context("the saved path")?;
        let exports = std::env::var("GATEHOUSE_EXPORT_DIR").context("GATEHOUSE_EXPORT_DIR (set by cargo xtask test)")?;
        ensure!(path.starts_with(&exports) && path.ends_with(".csv"), "saved to {path}, not under {exports}");
        let bytes = std::fs::read(&path).with_context(|| format!("reading {path}"))?;
        ensure!(!std::path::Path::new(&format!("{path}.part")).exists(), "the partial file was left behind");
        let mut reader = csv::Reader::from_reader(bytes.as_slice());
        let header: Vec<String> = reader.headers()?.iter().map(str::to_owned).collect();
        ensure!(header.join(",") == gatehouse_api::AUDIT_CSV_HEADER.trim_end(), "header {header:?}");
        let mut rows = Vec::new();
        for record in reader.records() {
            rows.push(record?);
        }
        let exported: Vec<&str> = rows.iter().map(|r| &r[0]).collect();
        ensure!(exported == expected, "the file's events {exported:?} are the server's {expected:?}");
        for r in &rows {
            ensure!(&r[2] == "session.sign_in_failed" && &r[6] == member_id.as_str(), "a row of another filter: {r:?}");
            ensure!(r[10].contains("reason"), "details kept: {}", &r[10]);
        }
        Ok(())
    });
}
