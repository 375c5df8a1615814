//! Installs what the build and the tests need and are missing: Debian packages,
//! tauri-driver, and the UI's npm dependencies.

use crate::say;
use crate::util::{self, run};
use anyhow::{Context, Result, bail};
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// Packages to build and run the Tauri app.
const BUILD_PACKAGES: &[&str] = &[
    "libwebkit2gtk-4.1-dev",
    "build-essential",
    "file",
    "libssl-dev",
    "librsvg2-dev",
    "libayatana-appindicator3-dev",
    "libdbus-1-dev",
    "pkg-config",
];

/// Extra packages for the headless tests and the screenshot.
const TEST_PACKAGES: &[&str] = &[
    "webkit2gtk-driver",
    "xvfb",
    "gnome-keyring",
    "dbus-x11",
    "imagemagick",
    // The server's second backend: its suite runs on a throwaway cluster (pg.rs).
    "postgresql",
];

/// The tauri-driver release verified on these machines (see CI-NOTES).
const TAURI_DRIVER_VERSION: &str = "2.1.0";

/// What a subcommand needs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// Build and run the app on a real display.
    Build,
    /// Also drive it headless: Xvfb, WebDriver, a keyring.
    Headless,
}

/// Installs whatever is missing for `needs`.
pub fn ensure(needs: Needs) -> Result<()> {
    let mut packages = BUILD_PACKAGES.to_vec();
    if needs == Needs::Headless {
        packages.extend_from_slice(TEST_PACKAGES);
    }
    apt(&packages)?;
    if needs == Needs::Headless {
        tauri_driver()?;
    }
    npm()
}

pub(crate) fn apt(packages: &[&str]) -> Result<()> {
    if util::on_path("dpkg-query").is_none() {
        say!("not a Debian system; assuming these are installed: {}", packages.join(" "));
        return Ok(());
    }
    let missing: Vec<&str> = packages.iter().copied().filter(|p| !installed(p)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let install = format!("apt-get install -y {}", missing.join(" "));
    if !util::is_root() {
        bail!("missing system packages; run:\n    sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive {install}");
    }
    say!("installing {}", missing.join(" "));
    run("apt-get update", Command::new("apt-get").args(["update", "-q"]))?;
    run(
        "apt-get install",
        Command::new("apt-get")
            .env("DEBIAN_FRONTEND", "noninteractive")
            // With recommends, as the verified recipe in CI-NOTES: the headless keyring and
            // the webview's fonts come partly through them.
            .args(["install", "-y", "-q"])
            .args(&missing)
            .stdin(Stdio::null()),
    )
}

fn installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .stderr(Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success() && o.stdout.ends_with(b"install ok installed"))
}

/// Path of tauri-driver, installing it with cargo if it is nowhere to be found.
pub fn tauri_driver() -> Result<PathBuf> {
    let in_cargo_home = util::toolchain_env().into_iter().find(|(k, _)| k == "CARGO_HOME").map(|(_, v)| PathBuf::from(v).join("bin/tauri-driver"));
    let found = || util::on_path("tauri-driver").or(in_cargo_home.clone().filter(|p| p.is_file()));
    if let Some(path) = found() {
        return Ok(path);
    }
    say!("installing tauri-driver {TAURI_DRIVER_VERSION} (cargo install, takes a minute)");
    run(
        "cargo install tauri-driver",
        util::cargo()
            .args(["install", "tauri-driver", "--locked", "--version", TAURI_DRIVER_VERSION])
            // Its own target dir: the shared one is for the workspace's debug builds.
            .env_remove("CARGO_TARGET_DIR"),
    )?;
    found().context("tauri-driver installed but not found in PATH or $CARGO_HOME/bin")
}

fn npm() -> Result<()> {
    let ui = util::root().join("ui");
    if !ui.join("package.json").is_file() {
        bail!("ui/package.json is missing");
    }
    let lock = ui.join("package-lock.json");
    let marker = ui.join("node_modules/.package-lock.json");
    let mtime = |p: &PathBuf| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let stale = match (mtime(&marker), mtime(&lock)) {
        (None, _) => true,
        (Some(m), Some(l)) => m < l,
        (Some(_), None) => false,
    };
    if !stale {
        return Ok(());
    }
    // `npm install --no-save`, not `npm ci`: npm 11 (with this machine's
    // omit-lockfile-registry-resolved) leaves other platforms' optional packages (rollup's
    // native builds) out of the lockfile, and `npm ci` then refuses the lockfile as out of
    // sync. `install` still takes every pinned version from the lockfile and, with
    // --no-save, never rewrites it.
    say!("installing UI dependencies (npm install)");
    run("npm install", Command::new("npm").args(["install", "--no-save", "--no-audit", "--no-fund"]).current_dir(&ui).stdin(Stdio::null()))
}
