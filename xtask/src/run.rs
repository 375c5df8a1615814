//! `cargo xtask run`: a demo server with fresh data and the app signed-in-ready.

use crate::ensure::{Needs, ensure};
use crate::headless;
use crate::say;
use crate::test::{cargo_build, npm};
use crate::util::{self, Guard};
use anyhow::{Context, Result, bail};
use std::process::{Command, Stdio};

/// The demo organization's owner (the server's default for `seed --demo`).
pub const OWNER_EMAIL: &str = "owner@acme.test";

/// Runs the app against a freshly seeded demo server until the app exits.
pub fn run(args: &[String]) -> Result<()> {
    let mut users: u32 = 500;
    let mut xvfb = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--users" => users = it.next().context("--users needs a number")?.parse().context("--users")?,
            "--xvfb" => xvfb = true,
            other => bail!("unknown option {other:?} for run (try --users N, --xvfb)"),
        }
    }
    let has_display = ["DISPLAY", "WAYLAND_DISPLAY"].iter().any(|v| std::env::var_os(v).is_some_and(|d| !d.is_empty()));
    if !has_display && !xvfb {
        bail!(
            "no display: neither DISPLAY nor WAYLAND_DISPLAY is set.\n\
             Run this from a desktop session, or add --xvfb to run the app on an invisible \
             virtual display (useful only to check that it starts)."
        );
    }
    ensure(if xvfb { Needs::Headless } else { Needs::Build })?;
    util::run("npm run build", &mut npm("build"))?;
    util::run("cargo build", &mut cargo_build())?;
    let bin = util::target_dir()?.join("debug");

    let dir = util::root().join(".e2e/run");
    util::fresh_dir(&dir)?;
    let db = dir.join("gatehouse.db");
    let password = util::random_password()?;
    say!("seeding a demo organization with {users} users");
    util::run(
        "gatehouse-server seed",
        Command::new(bin.join("gatehouse-server"))
            .arg("seed")
            .arg("--db")
            .arg(&db)
            .args(["--demo", "--users", &users.to_string(), "--owner-email", OWNER_EMAIL])
            // Not --owner-password: command lines are visible to other local users.
            .env("GATEHOUSE_OWNER_PASSWORD", &password),
    )?;
    let mut server = Guard::spawn(
        "gatehouse-server",
        Command::new(bin.join("gatehouse-server"))
            .arg("serve")
            .arg("--db")
            .arg(&db)
            .args(["--listen", "127.0.0.1:0"])
            // No mail relay here: outgoing mail (password resets) is kept for the app's
            // Settings → Demo mailbox.
            .arg("--dev-mailbox")
            .stdin(Stdio::null())
            .stdout(Stdio::piped()),
    )?;
    let line = server.first_line()?;
    let url = line.strip_prefix("listening on ").with_context(|| format!("unexpected first line from the server: {line:?}"))?.to_owned();

    println!();
    println!("  Gatehouse demo server   {url}");
    println!("  Sign in as              {OWNER_EMAIL}");
    println!("  Password                {password}");
    println!("  Outgoing e-mail         in the app: Settings → Demo mailbox");
    println!("  (data in {}; a new database and password on every run)", db.display());
    println!();

    let display = if xvfb { Some(headless::start_xvfb()?) } else { None };
    let mut app = Command::new(bin.join("gatehouse"));
    app.env("GATEHOUSE_SERVER_URL", &url).env("GATEHOUSE_EMAIL", OWNER_EMAIL);
    if let Some(x) = &display {
        app.env("DISPLAY", &x.display).env("WEBKIT_DISABLE_COMPOSITING_MODE", "1");
    }
    let status = app.status().context("starting the app")?;
    say!("app exited ({status}); stopping the server");
    drop(server);
    Ok(())
}
