//! `cargo xtask bench`: the server benchmarks recorded in BENCHMARKS.md.

use crate::util;
use anyhow::Result;

/// Runs `crates/server/benches/users_api.rs` (release build): seeding 100 000 users and
/// `GET /v1/users` latency and throughput over loopback. Extra arguments go to the bench.
pub fn bench(args: &[String]) -> Result<()> {
    util::run(
        "server benchmarks",
        util::cargo()
            .args(["bench", "-p", "gatehouse-server", "--bench", "users_api", "--"])
            .args(args)
            .env("GATEHOUSE_LOG", "error"),
    )
}
