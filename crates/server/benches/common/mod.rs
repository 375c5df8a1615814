//! What the server benchmarks share: sizes from the environment, percentiles, and the
//! real release binary seeded, served on a free loopback port and signed in to.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// The owner's (and the staff accounts') password in every bench database.
pub const PASSWORD: &str = "bench-password-123";

/// A size from the environment, or `default`.
pub fn env_u32(name: &str, default: u32) -> u32 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The `p` quantile (0–1) of sorted latencies.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx]
}

/// Milliseconds with two decimals.
pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// Where a bench server keeps its data: the arguments `seed` and `serve` get.
#[derive(Clone)]
pub struct Database {
    /// `--db …` and, for PostgreSQL, `--keys-file …`.
    pub args: Vec<std::ffi::OsString>,
}

impl Database {
    /// A SQLite file.
    pub fn sqlite(path: &Path) -> Self {
        Self { args: vec!["--db".into(), path.into()] }
    }

    /// A new database `name` on the PostgreSQL cluster in `GATEHOUSE_BENCH_POSTGRES`
    /// (`cargo xtask bench` starts one), keys in `dir`; `None` without a cluster.
    pub async fn postgres(name: &str, dir: &Path) -> Option<Self> {
        let cluster = std::env::var("GATEHOUSE_BENCH_POSTGRES").ok().filter(|u| !u.is_empty())?;
        let location = gatehouse_server::store::create_postgres_database(&cluster, name).await.unwrap();
        Some(Self { args: vec!["--db".into(), location.expose().into(), "--keys-file".into(), dir.join(format!("{name}.keys")).into()] })
    }
}

/// Runs `bench` on a SQLite file, then, side by side in the same run, on a PostgreSQL
/// database `name` when `GATEHOUSE_BENCH_POSTGRES` gives a cluster (`cargo xtask bench` does).
pub async fn each_backend<F: std::future::Future<Output = ()>>(name: &str, bench: impl Fn(Database) -> F) {
    let dir = tempfile::tempdir().unwrap();
    println!("--- SQLite ---");
    bench(Database::sqlite(&dir.path().join(format!("{name}.db")))).await;
    match Database::postgres(name, dir.path()).await {
        Some(db) => {
            println!("--- PostgreSQL ---");
            bench(db).await;
        }
        None => println!("--- PostgreSQL: skipped, GATEHOUSE_BENCH_POSTGRES is not set (cargo xtask bench sets it) ---"),
    }
}

/// `gatehouse-server seed --demo <args> --db <db>` with [`PASSWORD`]; its stdout.
pub fn seed(bin: &str, db: &Path, args: &[&str]) -> String {
    seed_on(bin, &Database::sqlite(db), args)
}

/// [`seed`] on any [`Database`].
pub fn seed_on(bin: &str, db: &Database, args: &[&str]) -> String {
    let out = Command::new(bin).args(["seed", "--demo"]).args(args).args(&db.args).env("GATEHOUSE_OWNER_PASSWORD", PASSWORD).output().unwrap();
    assert!(out.status.success(), "seed failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The server process, stopped when the bench ends, panics included.
pub struct Server {
    pub child: std::process::Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

impl Server {
    /// Serves `db` on a free loopback port.
    pub fn start(bin: &str, db: &Path) -> Self {
        Self::start_on(bin, &Database::sqlite(db))
    }

    /// Serves any [`Database`] on a free loopback port.
    pub fn start_on(bin: &str, db: &Database) -> Self {
        let mut child = Command::new(bin)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(&db.args)
            .env("GATEHOUSE_LOG", "error")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let url = line.trim().strip_prefix("listening on ").unwrap().to_owned();
        Self { child, url }
    }

    /// An access token of `email` (password [`PASSWORD`]).
    pub async fn login(&self, http: &reqwest::Client, email: &str) -> String {
        let login: serde_json::Value = http
            .post(format!("{}/v1/auth/login", self.url))
            .json(&serde_json::json!({"email": email, "password": PASSWORD}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        login["access_token"].as_str().unwrap().to_owned()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
