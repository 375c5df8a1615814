//! `cargo xtask screenshot`: docs/screenshot.png of the real app window, signed in
//! as the demo owner, taken by the e2e crate's ignored `screenshot` test under Xvfb.

use crate::ensure::{Needs, ensure};
use crate::headless::{self, ENV_SCREENSHOT, Sandbox};
use crate::say;
use crate::test::{cargo_build, npm};
use crate::util;
use anyhow::{Context, Result, bail};
use std::process::Command;

/// The test in gatehouse-e2e that drives the app and captures the screen.
const TEST: &str = "screenshot::users_page";

/// Outer half: build, then run the inner half in a private D-Bus session.
pub fn screenshot(args: &[String]) -> Result<()> {
    let out = match args {
        [] => util::root().join("docs/screenshot.png"),
        [flag, path] if flag == "--out" => std::path::absolute(path)?,
        _ => bail!("usage: cargo xtask screenshot [--out PATH]"),
    };
    ensure(Needs::Headless)?;
    util::run("npm run build", &mut npm("build"))?;
    util::run("cargo build", &mut cargo_build())?;
    let target = util::target_dir()?;
    let sandbox = Sandbox::create("screenshot")?;
    if let Some(parent) = out.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let _ = std::fs::remove_file(&out);
    let mut cmd = sandbox.inner_command(&target, &["screenshot-inner"])?;
    util::run("screenshot", cmd.env(ENV_SCREENSHOT, &out))?;
    if !out.is_file() {
        bail!("the screenshot test passed but wrote no {}", out.display());
    }
    let size = Command::new("identify")
        .args(["-format", "%wx%h %[channels]"])
        .arg(&out)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    say!("wrote {} ({size})", out.display());
    Ok(())
}

/// Inner half: keyring, Xvfb, tauri-driver, then the ignored test.
pub fn screenshot_inner() -> Result<()> {
    util::become_subreaper();
    let result = headless::unlock_keyring()
        .context("unlocking the throwaway keyring")
        .and_then(|env| headless::run_e2e(&env, &["--test", "e2e"], &["--ignored", "--exact", TEST]));
    util::kill_descendants();
    result
}
