//! `cargo xtask bench app`: the figures that need the real app (issue 3): search over
//! the cache through IPC, and the memory of all app processes with 100 000 users cached.
//! Release builds of app and server, driven by the e2e crate's ignored `bench` test in a
//! private D-Bus session under Xvfb, like the end-to-end suite.

use crate::ensure::{Needs, ensure};
use crate::headless::{self, ENV_APP, ENV_SERVER, Sandbox};
use crate::test::npm;
use crate::util;
use anyhow::{Context, Result};

/// The test in gatehouse-e2e that measures.
const TEST: &str = "bench::search_through_ipc_and_memory_with_a_full_cache";

/// Outer half: release builds, then the inner half in a private D-Bus session.
pub fn bench_app() -> Result<()> {
    ensure(Needs::Headless)?;
    util::run("npm run build", &mut npm("build"))?;
    util::run("cargo build --release (server, app)", util::cargo().args(["build", "--release", "-p", "gatehouse-server", "-p", "gatehouse-app"]))?;
    // The test driver itself is the e2e crate's debug build; only what it measures is release.
    util::run("cargo build (e2e driver)", util::cargo().args(["test", "--no-run", "-p", "gatehouse-e2e", "--test", "e2e"]))?;
    let target = util::target_dir()?;
    let sandbox = Sandbox::create("bench")?;
    let exe = std::env::consts::EXE_SUFFIX;
    let mut cmd = sandbox.inner_command(&target, &["bench-app-inner"])?;
    cmd.env(ENV_APP, target.join(format!("release/gatehouse{exe}")))
        .env(ENV_SERVER, target.join(format!("release/gatehouse-server{exe}")))
        // Seeding and first-syncing 100 000 users takes longer than a UI step.
        .env("GATEHOUSE_E2E_TIMEOUT_SECS", "600")
        // The sessions page is measured with 30 000 sessions on the server (issue 5).
        .env("GATEHOUSE_E2E_SEED_SESSIONS", "30000")
        // Each command's time goes to the app's log (.e2e/bench/home/.local/share/…).
        .env("GATEHOUSE_LOG", "info,tao=warn,wry=warn,gatehouse_app=debug,gatehouse_client=debug");
    util::run("app benchmarks", &mut cmd)
}

/// Inner half: keyring, Xvfb, tauri-driver, then the ignored test (its output shown).
pub fn bench_app_inner() -> Result<()> {
    util::become_subreaper();
    let result = headless::unlock_keyring()
        .context("unlocking the throwaway keyring")
        .and_then(|env| headless::run_e2e(&env, &["--test", "e2e"], &["--ignored", "--exact", "--nocapture", TEST]));
    util::kill_descendants();
    result
}
