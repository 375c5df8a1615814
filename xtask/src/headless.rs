//! The headless desktop the end-to-end tests and the screenshot run in (CI-NOTES):
//! a throwaway HOME, a private D-Bus session with an unlocked gnome-keyring, Xvfb and
//! tauri-driver.
//!
//! The outer xtask prepares the sandbox and re-executes itself under
//! `dbus-run-session`; the inner one (hidden subcommands) starts the rest, so the bus,
//! the keyring daemon and every child end together with it.

use crate::say;
use crate::util::{self, Guard};
use anyhow::{Context, Result, bail};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Screen size of the virtual display (also the screenshot's size).
pub const SCREEN: &str = "1280x800x24";

/// Environment contract with the gatehouse-e2e crate (see tests/src/config.rs).
pub const ENV_APP: &str = "GATEHOUSE_E2E_APP";
pub const ENV_SERVER: &str = "GATEHOUSE_E2E_SERVER";
pub const ENV_WEBDRIVER: &str = "GATEHOUSE_E2E_WEBDRIVER";
pub const ENV_HOME: &str = "GATEHOUSE_E2E_HOME";
pub const ENV_ARTIFACTS: &str = "GATEHOUSE_E2E_ARTIFACTS";
pub const ENV_SCREENSHOT: &str = "GATEHOUSE_E2E_SCREENSHOT";

/// A throwaway home under `.e2e/<name>/` (git-ignored, kept afterwards for inspection).
pub struct Sandbox {
    pub home: PathBuf,
    pub runtime: PathBuf,
    pub artifacts: PathBuf,
}

impl Sandbox {
    /// Creates the sandbox afresh.
    pub fn create(name: &str) -> Result<Self> {
        let dir = util::root().join(".e2e").join(name);
        util::fresh_dir(&dir)?;
        let sb = Self { home: dir.join("home"), runtime: dir.join("runtime"), artifacts: dir.join("artifacts") };
        for d in [&sb.home, &sb.home.join("exports"), &sb.runtime, &sb.artifacts] {
            std::fs::create_dir_all(d)?;
        }
        std::fs::set_permissions(&sb.runtime, std::fs::Permissions::from_mode(0o700))?;
        Ok(sb)
    }

    /// `dbus-run-session -- <this xtask> <inner…>` with the sandbox's environment and the
    /// paths of the built binaries.
    pub fn inner_command(&self, target: &Path, inner: &[&str]) -> Result<Command> {
        let exe = std::env::current_exe().context("locating the xtask executable")?;
        let mut cmd = Command::new("dbus-run-session");
        cmd.arg("--").arg(exe).args(inner).current_dir(util::root());
        // Pin cargo's and rustup's homes first: they default to $HOME, which changes.
        cmd.envs(util::toolchain_env());
        let xdg = |sub: &str| self.home.join(sub);
        cmd.env("HOME", &self.home)
            .env("XDG_RUNTIME_DIR", &self.runtime)
            .env("XDG_CONFIG_HOME", xdg(".config"))
            .env("XDG_DATA_HOME", xdg(".local/share"))
            .env("XDG_CACHE_HOME", xdg(".cache"))
            .env("XDG_STATE_HOME", xdg(".local/state"))
            .env("CARGO_TARGET_DIR", target)
            // GTK otherwise looks for an accessibility bus that is not there.
            .env("NO_AT_BRIDGE", "1")
            .env(ENV_APP, target.join("debug/gatehouse"))
            .env(ENV_SERVER, target.join("debug/gatehouse-server"))
            .env(ENV_HOME, &self.home)
            // WebDriver cannot drive a native Save dialog: the app's exports go here.
            .env("GATEHOUSE_EXPORT_DIR", self.home.join("exports"))
            .env(ENV_ARTIFACTS, &self.artifacts);
        for var in ["DBUS_SESSION_BUS_ADDRESS", "DISPLAY", "WAYLAND_DISPLAY", "GNOME_KEYRING_CONTROL"] {
            cmd.env_remove(var);
        }
        Ok(cmd)
    }
}

/// Inside the private bus: unlocks a login keyring with a non-empty throwaway password
/// (an empty one creates no collection and every write fails with NoStorageAccess).
pub fn unlock_keyring() -> Result<Vec<(String, String)>> {
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
        bail!("not inside a D-Bus session (run through `cargo xtask test`)");
    }
    let mut child = Command::new("gnome-keyring-daemon")
        .args(["--daemonize", "--unlock", "--components=secrets"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .context("starting gnome-keyring-daemon")?;
    child.stdin.take().context("stdin")?.write_all(b"throwaway")?;
    let out = child.wait_with_output()?;
    if !out.status.success() {
        bail!("gnome-keyring-daemon failed ({})", out.status);
    }
    // It may print variables such as GNOME_KEYRING_CONTROL for its clients.
    Ok(String::from_utf8_lossy(&out.stdout).lines().filter_map(|l| l.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned()))).collect())
}

/// A running Xvfb.
pub struct Xvfb {
    _guard: Guard,
    /// `:N`, for `DISPLAY`.
    pub display: String,
}

/// Starts Xvfb on a free display (it picks one and reports it through -displayfd).
pub fn start_xvfb() -> Result<Xvfb> {
    let mut guard = Guard::spawn(
        "Xvfb",
        Command::new("Xvfb")
            .args(["-displayfd", "1", "-screen", "0", SCREEN, "-nolisten", "tcp"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null()),
    )?;
    let mut line = String::new();
    let out = guard.child().stdout.take().context("Xvfb stdout")?;
    BufReader::new(out).read_line(&mut line)?;
    let n: u32 = line.trim().parse().with_context(|| format!("Xvfb reported {line:?}"))?;
    say!("Xvfb on :{n}");
    Ok(Xvfb { _guard: guard, display: format!(":{n}") })
}

/// A running tauri-driver.
pub struct Driver {
    _guard: Guard,
    /// `http://127.0.0.1:PORT`, for the WebDriver client.
    pub url: String,
}

/// Starts tauri-driver (which starts WebKitWebDriver, which starts the app) with our
/// environment, so the app sees the sandbox's HOME, bus and display.
pub fn start_driver(display: &str, env: &[(String, String)]) -> Result<Driver> {
    let exe = crate::ensure::tauri_driver()?;
    let (port, native) = (util::free_port()?, util::free_port()?);
    let mut guard = Guard::spawn(
        "tauri-driver",
        Command::new(exe)
            .args(["--port", &port.to_string(), "--native-port", &native.to_string()])
            .env("DISPLAY", display)
            .env("WEBKIT_DISABLE_COMPOSITING_MODE", "1")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null()),
    )?;
    util::wait_port(port, Duration::from_secs(30), guard.child())?;
    util::wait_port(native, Duration::from_secs(30), guard.child())?;
    say!("tauri-driver on port {port}");
    Ok(Driver { _guard: guard, url: format!("http://127.0.0.1:{port}") })
}

/// Inside the bus: starts Xvfb and tauri-driver, runs `cargo test -p gatehouse-e2e`
/// with `test_args`, and stops both again whatever happened.
pub fn run_e2e(env: &[(String, String)], cargo_args: &[&str], test_args: &[&str]) -> Result<()> {
    let x = start_xvfb()?;
    let driver = start_driver(&x.display, env)?;
    let mut cmd = util::cargo();
    cmd.args(["test", "-p", "gatehouse-e2e", "--no-fail-fast"])
        .args(cargo_args)
        .arg("--")
        .arg("--test-threads=1")
        .args(test_args)
        .env("DISPLAY", &x.display)
        .env("WEBKIT_DISABLE_COMPOSITING_MODE", "1")
        .env(ENV_WEBDRIVER, &driver.url)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null());
    util::run("cargo test -p gatehouse-e2e", &mut cmd)
}
