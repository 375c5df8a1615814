//! Not a test: `cargo xtask screenshot` runs this to capture docs/screenshot.png from
//! the real app window under Xvfb, signed in to a demo organization.

use anyhow::{Context, ensure};
use gatehouse_e2e::config::ENV_SCREENSHOT;
use gatehouse_e2e::{Ctx, OWNER_EMAIL, OWNER_PASSWORD, e2e};
use std::path::PathBuf;

#[test]
#[ignore = "writes the README screenshot; run by `cargo xtask screenshot`"]
fn users_page() {
    let out = PathBuf::from(std::env::var_os(ENV_SCREENSHOT).unwrap_or_else(|| panic!("{ENV_SCREENSHOT} is not set")));
    e2e(500, |Ctx { app, server_url, .. }| async move {
        // Fill the virtual screen; without a window manager nothing else places it.
        if let Err(e) = app.client.set_window_rect(0, 0, 1280, 800).await {
            gatehouse_e2e::log(&format!("could not resize the window: {e}"));
        }
        app.wait_signed_out().await?;
        app.submit_signin(&server_url, OWNER_EMAIL, OWNER_PASSWORD).await?;
        app.wait_visible("users-page").await?;
        app.poll("a screenful of rows", || async { Ok((app.rows().await?.len() >= 10).then_some(())) }).await?;
        app.poll("the count badges", || async { Ok(app.count("count-all").await.ok()) }).await?;
        // Move focus off the form and let fonts and one more frame settle.
        app.client.execute("document.activeElement && document.activeElement.blur()", vec![]).await?;
        app.client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 document.fonts.ready.then(() =>
                   requestAnimationFrame(() => requestAnimationFrame(() => done(true))));",
                vec![],
            )
            .await?;
        let status =
            tokio::process::Command::new("import").args(["-window", "root"]).arg(&out).status().await.context("running ImageMagick's import")?;
        ensure!(status.success() && out.is_file(), "import failed ({status})");
        gatehouse_e2e::log(&format!("wrote {}", out.display()));
        Ok(())
    });
}
