//! `cargo xtask bench [server|activity|load|scim|client|app]`: the benchmarks recorded in BENCHMARKS.md;
//! all of them without an argument. Each prints its figures; none asserts on them.

use crate::util;
use anyhow::{Result, bail};

/// Runs the chosen benchmarks (release builds). Arguments after the names go to the
/// bench binaries.
pub fn bench(args: &[String]) -> Result<()> {
    let (names, rest): (Vec<&String>, Vec<&String>) =
        args.iter().partition(|a| ["server", "activity", "load", "scim", "client", "app"].contains(&a.as_str()));
    if let Some(unknown) = rest.iter().find(|a| !a.starts_with('-')) {
        bail!("unknown benchmark {unknown:?}: choose server, activity, load, scim, client or app");
    }
    let all = names.is_empty();
    let wants = |n: &str| all || names.iter().any(|a| *a == n);
    // The server and client benchmarks measure SQLite and, side by side in the same run,
    // PostgreSQL.
    let postgres = if wants("server") || wants("activity") || wants("load") || wants("client") {
        crate::ensure::apt(&["postgresql"])?;
        Some(crate::pg::Cluster::start("bench")?)
    } else {
        None
    };
    let cluster = postgres.as_ref().map(|c| c.url("postgres")).unwrap_or_default();
    if wants("server") {
        util::run(
            "server benchmarks",
            util::cargo()
                .args(["bench", "-p", "gatehouse-server", "--bench", "users_api", "--"])
                .args(&rest)
                .env("GATEHOUSE_LOG", "error")
                .env("GATEHOUSE_BENCH_POSTGRES", &cluster),
        )?;
    }
    if wants("activity") {
        util::run(
            "activity log benchmarks",
            util::cargo()
                .args(["bench", "-p", "gatehouse-server", "--bench", "activity_log", "--"])
                .args(&rest)
                .env("GATEHOUSE_LOG", "error")
                .env("GATEHOUSE_BENCH_POSTGRES", &cluster),
        )?;
    }
    if wants("load") {
        // SQLite and, side by side in the same run, PostgreSQL with one and two nodes.
        util::run(
            "load benchmark",
            util::cargo()
                .args(["bench", "-p", "gatehouse-server", "--bench", "load", "--"])
                .args(&rest)
                .env("GATEHOUSE_LOG", "error")
                .env("GATEHOUSE_BENCH_POSTGRES", &cluster),
        )?;
    }
    if wants("scim") {
        // scim2-server, the peer measured beside ours, comes from the same pinned
        // environment as the conformance checkers.
        let tools = crate::python::scim_checkers()?;
        util::run(
            "SCIM benchmark",
            util::cargo()
                .args(["bench", "-p", "gatehouse-server", "--bench", "scim", "--"])
                .args(&rest)
                .env("GATEHOUSE_LOG", "error")
                .env("GATEHOUSE_SCIM_TOOLS", tools),
        )?;
    }
    if wants("client") {
        // The client crate's keyring talks to the Secret Service through libdbus.
        crate::ensure::apt(&["build-essential", "pkg-config", "libdbus-1-dev"])?;
        util::run("building the release server", util::cargo().args(["build", "--release", "-p", "gatehouse-server"]))?;
        let server = util::target_dir()?.join("release").join(format!("gatehouse-server{}", std::env::consts::EXE_SUFFIX));
        util::run(
            "client benchmarks",
            util::cargo()
                .args(["bench", "-p", "gatehouse-client", "--bench", "sync", "--"])
                .args(&rest)
                .env("GATEHOUSE_SERVER_BIN", server)
                .env("GATEHOUSE_LOG", "error")
                .env("GATEHOUSE_BENCH_POSTGRES", &cluster),
        )?;
    }
    if wants("app") {
        crate::bench_app::bench_app()?;
    }
    Ok(())
}
