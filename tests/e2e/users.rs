//! The main journey: sign in as the owner, see the users, search, sign out, and check
//! that the refresh token lived in the keyring only and is gone afterwards, that the
//! app's files were private, and that signing out removed the local copy.

use crate::keyring_token;
use anyhow::{Result, ensure};
use gatehouse_api::{ACCESS_TOKEN_PREFIX, REFRESH_TOKEN_PREFIX, UserCounts};
use gatehouse_e2e::scan::scan_app_dirs;
use gatehouse_e2e::{Api, App, Ctx, OWNER_EMAIL, OWNER_PASSWORD, e2e};

#[test]
fn owner_signs_in_searches_and_signs_out_leaving_no_secret_on_disk() {
    e2e(300, owner_signs_in_searches_and_signs_out);
}

/// The same on a server whose database is PostgreSQL (issue 19): the app cannot tell.
#[test]
fn the_same_against_a_server_on_postgresql() {
    gatehouse_e2e::e2e_on(gatehouse_e2e::Database::Postgres, 300, &[], owner_signs_in_searches_and_signs_out);
}

async fn owner_signs_in_searches_and_signs_out(Ctx { cfg, app, server_url, .. }: Ctx) -> Result<()> {
    {
        let api = Api::login(&server_url, OWNER_EMAIL, OWNER_PASSWORD).await?;
        let all_counts = api.counts(None).await?;
        ensure!(all_counts.all >= 300, "the seed made {} users, not 300+", all_counts.all);

        app.wait_signed_out().await?;
        // Earlier tests' connections may have left copies of their own.
        let data = cfg.home.join(".local/share/dev.gatehouse.app");
        let copies = data.join("connections");
        let earlier = files_in(&copies);
        app.submit_signin(&server_url, OWNER_EMAIL, OWNER_PASSWORD).await?;
        app.wait_visible("users-page").await?;
        app.wait_text("org-name", "\"Acme\"", |t| t.contains("Acme")).await?;
        app.wait_text("session-user", "the signed-in user", |t| !t.trim().is_empty()).await?;

        // The list and the badges show the seeded organization.
        let before = app
            .poll("several user rows", || async {
                let rows = app.rows().await?;
                Ok((rows.len() >= 2).then_some(rows))
            })
            .await?;
        wait_counts(&app, all_counts).await?;

        // A distinctive search narrows the list to matching users only.
        let target = api.some_other_user().await?;
        let needle = target.email.to_lowercase();
        let search_counts = api.counts(Some(&target.email)).await?;
        app.fill("users-search", &target.email).await?;
        let after = app
            .poll("the search to narrow the list", || async {
                let rows = app.rows().await?;
                let all_match = rows.iter().all(|r| r.email.to_lowercase().contains(&needle) || r.text.to_lowercase().contains(&needle));
                let found = rows.iter().any(|r| r.id == target.id);
                Ok((found && all_match && rows.len() < before.len()).then_some(rows))
            })
            .await?;
        ensure!(after.len() as u32 <= search_counts.all.max(1), "more rows than matches");
        wait_counts(&app, search_counts).await?;

        // While signed in, the keyring holds the refresh token for this connection.
        let token = app.poll("a refresh token in the keyring", || async { keyring_token(&server_url, OWNER_EMAIL).await }).await?;
        let token = token.into_inner();
        ensure!(token.starts_with(REFRESH_TOKEN_PREFIX), "the keyring entry is not a refresh token (prefix {REFRESH_TOKEN_PREFIX})");

        // The app's files while signed in: private to the account (issue 18).
        let ours: Vec<_> = files_in(&copies).into_iter().filter(|f| !earlier.contains(f)).collect();
        ensure!(
            ours.iter().any(|f| f.extension().is_some_and(|e| e == "db")),
            "no local copy of this connection under {} while signed in",
            copies.display()
        );
        check_private(&data)?;

        // Signing out returns to the form and deletes the keyring entry, and (the
        // dialog's default) this computer's copy of the organization.
        app.sign_out().await?;
        app.wait_visible("signin-form").await?;
        app.poll("the keyring entry to be deleted", || async { Ok(keyring_token(&server_url, OWNER_EMAIL).await?.is_none().then_some(())) }).await?;
        app.poll("the local copy to be removed", || async { Ok(ours.iter().all(|f| !f.exists()).then_some(())) }).await?;

        // Quit so everything the app buffers is on disk, then look at all of it.
        app.close().await;
        let needles: [(&str, &[u8]); 4] = [
            ("an access token prefix", ACCESS_TOKEN_PREFIX.as_bytes()),
            ("a refresh token prefix", REFRESH_TOKEN_PREFIX.as_bytes()),
            ("the refresh token", token.as_bytes()),
            ("the owner's password", OWNER_PASSWORD.as_bytes()),
        ];
        let scan = scan_app_dirs(&cfg.home, &needles)?;
        ensure!(
            !scan.files.is_empty(),
            "found no files of the app under {} (.local/share, .config, .cache, .local/state), \
             so the scan for leaked secrets would prove nothing",
            cfg.home.display()
        );
        ensure!(scan.hits.is_empty(), "secrets on disk (outside the keyring): {:?}", scan.hits);
        gatehouse_e2e::log(&format!("scanned {} files of the app: no secrets", scan.files.len()));
        Ok(())
    }
}

/// The files directly in `dir` (none when it does not exist).
fn files_in(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir).map(|entries| entries.flatten().map(|e| e.path()).filter(|p| p.is_file()).collect()).unwrap_or_default()
}

/// The app's own files hold the organization's data: 0600 files in 0700 directories
/// (its data directory, the local copies, the log). The web view's own storage is not ours.
fn check_private(data: &std::path::Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| -> Result<u32> { Ok(std::fs::metadata(p)?.permissions().mode() & 0o777) };
    for dir in [data.to_owned(), data.join("connections"), data.join("logs")] {
        ensure!(mode(&dir)? == 0o700, "{} is {:o}, not 700", dir.display(), mode(&dir)?);
    }
    let mut files = files_in(&data.join("connections"));
    files.push(data.join("connections.json"));
    files.push(data.join("logs/gatehouse.log"));
    for file in files {
        ensure!(mode(&file)? == 0o600, "{} is {:o}, not 600", file.display(), mode(&file)?);
    }
    Ok(())
}

/// Waits until the four count badges show exactly these totals.
async fn wait_counts(app: &App, expected: UserCounts) -> Result<()> {
    app.poll(&format!("the count badges to show {expected:?}"), || async {
        let shown = UserCounts {
            active: app.count("count-active").await?,
            pending: app.count("count-pending").await?,
            deactivated: app.count("count-deactivated").await?,
            all: app.count("count-all").await?,
        };
        ensure!(shown.all >= shown.active, "count-all {} < count-active {}", shown.all, shown.active);
        Ok((shown == expected).then_some(()))
    })
    .await
}
