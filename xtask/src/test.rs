//! `cargo xtask test`: every test of the project, ending in one `summary:` line.
//!
//! UI checks and tests run here; the Rust tests and the end-to-end suite run in a
//! private D-Bus session with a throwaway keyring (`test-inner`, see headless.rs).

use crate::ensure::{Needs, ensure};
use crate::headless::{self, Sandbox};
use crate::report::Tally;
use crate::say;
use crate::util;
use anyhow::{Result, bail};
use std::process::{Command, ExitCode, Stdio};
use std::time::Duration;

/// Limits per step; CI allows 90 minutes for everything.
const UI_LIMIT: Duration = Duration::from_secs(15 * 60);
const BUILD_LIMIT: Duration = Duration::from_secs(40 * 60);

/// The Rust and end-to-end tests together (override: GATEHOUSE_TEST_TIMEOUT_MINS).
fn tests_limit() -> Duration {
    let mins = std::env::var("GATEHOUSE_TEST_TIMEOUT_MINS").ok().and_then(|m| m.parse().ok());
    Duration::from_secs(mins.unwrap_or(40) * 60)
}

/// Which parts to run; all by default.
#[derive(Clone, Copy)]
pub struct Parts {
    pub ui: bool,
    pub rust: bool,
    pub e2e: bool,
}

impl Parts {
    /// Parses `--no-ui|--no-rust|--no-e2e`, `--only ui|rust|e2e`; the rest after `--`
    /// goes to the end-to-end test binary (e.g. a test name filter).
    pub fn parse(args: &[String]) -> Result<(Self, Vec<String>)> {
        let mut parts = Parts { ui: true, rust: true, e2e: true };
        let mut it = args.iter();
        while let Some(a) = it.next() {
            match a.as_str() {
                "--no-ui" => parts.ui = false,
                "--no-rust" => parts.rust = false,
                "--no-e2e" => parts.e2e = false,
                "--only" => {
                    let which = it.next().map(String::as_str).unwrap_or("");
                    parts = Parts { ui: false, rust: false, e2e: false };
                    match which {
                        "ui" => parts.ui = true,
                        "rust" => parts.rust = true,
                        "e2e" => parts.e2e = true,
                        _ => bail!("--only takes ui, rust or e2e"),
                    }
                }
                "--" => return Ok((parts, it.cloned().collect())),
                other => bail!("unknown option {other:?} for test"),
            }
        }
        Ok((parts, Vec::new()))
    }

    fn to_args(self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if !self.rust {
            v.push("--no-rust");
        }
        if !self.e2e {
            v.push("--no-e2e");
        }
        v
    }
}

/// `npm run <script>` in ui/.
pub fn npm(script: &str) -> Command {
    let mut cmd = Command::new("npm");
    cmd.args(["run", script]).current_dir(util::root().join("ui")).stdin(Stdio::null());
    cmd
}

/// `cargo build` of the server and the app (after the UI it embeds).
pub fn cargo_build() -> Command {
    let mut cmd = util::cargo();
    cmd.args(["build", "-p", "gatehouse-server", "-p", "gatehouse-app"]);
    cmd
}

/// The outer `cargo xtask test`.
pub fn test(args: &[String]) -> ExitCode {
    util::become_subreaper();
    let mut tally = Tally::default();
    let (parts, extra) = match Parts::parse(args) {
        Ok(p) => p,
        Err(e) => {
            tally.fail("arguments", &e);
            return tally.finish();
        }
    };
    let needs = if parts.e2e || parts.rust { Needs::Headless } else { Needs::Build };
    if let Err(e) = ensure(needs) {
        tally.fail("install prerequisites", &e);
        return tally.finish();
    }
    if parts.ui {
        tally.step("ui: npm run check", UI_LIMIT, &mut npm("check"));
        tally.step("ui: npm test", UI_LIMIT, &mut npm("test"));
    }
    // The app embeds ui/dist, so the UI is built even when only Rust tests run.
    if !tally.step("ui: npm run build", UI_LIMIT, &mut npm("build")) || !(parts.rust || parts.e2e) {
        return tally.finish();
    }
    if !tally.step("cargo build (server, app)", BUILD_LIMIT, &mut cargo_build()) {
        return tally.finish();
    }
    if parts.rust {
        // House rules (no unwrap/expect/panic in library code, …) live in the crates'
        // lint attributes; warnings fail the run.
        tally.step(
            "cargo clippy (warnings are errors)",
            BUILD_LIMIT,
            util::cargo().args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]),
        );
        // rustfmt.toml's layout, so far held by the crates formatted to it.
        tally.step(
            "cargo fmt --check (server, api)",
            BUILD_LIMIT,
            util::cargo().args(["fmt", "--check", "-p", "gatehouse-server", "-p", "gatehouse-api"]),
        );
    }
    let inner = util::target_dir().and_then(|target| {
        let sandbox = Sandbox::create("test")?;
        say!("throwaway HOME {}", sandbox.home.display());
        let mut inner_args = vec!["test-inner"];
        inner_args.extend(parts.to_args());
        inner_args.push("--");
        inner_args.extend(extra.iter().map(String::as_str));
        sandbox.inner_command(&target, &inner_args)
    });
    match inner {
        Ok(mut cmd) => {
            tally.step("rust and end-to-end tests (private D-Bus session)", tests_limit(), &mut cmd);
        }
        Err(e) => tally.fail("prepare the test sandbox", &e),
    }
    tally.finish()
}

/// The inner half, inside `dbus-run-session`: Rust tests, then the end-to-end suite.
pub fn test_inner(args: &[String]) -> ExitCode {
    util::become_subreaper();
    let code = test_inner_steps(args);
    // The keyring daemon and anything a crashed test left behind.
    util::kill_descendants();
    code
}

fn test_inner_steps(args: &[String]) -> ExitCode {
    let (parts, extra) = match Parts::parse(args) {
        Ok(p) => p,
        Err(e) => return fail("arguments", &e),
    };
    let env = match headless::unlock_keyring() {
        Ok(env) => env,
        Err(e) => return fail("unlock the throwaway keyring", &e),
    };
    // One throwaway cluster for the Rust tests and the end-to-end suite; stopped and
    // deleted when it goes out of scope.
    let postgres = match crate::pg::Cluster::start("test") {
        Ok(c) => c,
        Err(e) => return fail("start PostgreSQL", &e),
    };
    let env: Vec<(String, String)> = env.into_iter().chain(postgres.env()).collect();
    let mut ok = true;
    if parts.rust {
        // The public SCIM conformance checkers, which the server suite runs against a
        // real server (tests/server/scim_conformance.rs).
        let checkers = match crate::python::scim_checkers() {
            Ok(bin) => bin,
            Err(e) => return fail("install the SCIM conformance checkers", &e),
        };
        let mut cmd = util::cargo();
        cmd.args(["test", "--workspace", "--exclude", "gatehouse-e2e", "--no-fail-fast"])
            .envs(env.iter().map(|(k, v)| (k, v)))
            .env("GATEHOUSE_SCIM_CHECKERS", &checkers)
            .stdin(Stdio::null());
        if let Err(e) = util::run("cargo test --workspace", &mut cmd) {
            fail("rust tests", &e);
            ok = false;
        }
        // The server suite again, every test's server on a database of its own on the
        // cluster instead of a SQLite file: the same test binary, nothing rebuilt.
        let mut cmd = util::cargo();
        cmd.envs(env.iter().map(|(k, v)| (k, v)))
            .env("GATEHOUSE_SCIM_CHECKERS", &checkers)
            .env("GATEHOUSE_TEST_BACKEND", "postgres")
            .args(["test", "-p", "gatehouse-server", "--test", "server", "--no-fail-fast"])
            .stdin(Stdio::null());
        if let Err(e) = util::run("cargo test -p gatehouse-server --test server (PostgreSQL)", &mut cmd) {
            fail("server tests on PostgreSQL", &e);
            ok = false;
        }
    }
    if parts.e2e {
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        if let Err(e) = headless::run_e2e(&env, &[], &extra) {
            fail("end-to-end tests", &e);
            ok = false;
        }
    }
    if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

fn fail(step: &str, e: &anyhow::Error) -> ExitCode {
    eprintln!("xtask: step failed: {step}: {e:#}");
    ExitCode::FAILURE
}
