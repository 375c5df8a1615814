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

/// `gatehouse-server seed --demo <args> --db <db>` with [`PASSWORD`]; its stdout.
pub fn seed(bin: &str, db: &Path, args: &[&str]) -> String {
    let out = Command::new(bin).args(["seed", "--demo"]).args(args).arg("--db").arg(db).env("GATEHOUSE_OWNER_PASSWORD", PASSWORD).output().unwrap();
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
        let mut child = Command::new(bin)
            .args(["serve", "--listen", "127.0.0.1:0", "--db"])
            .arg(db)
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
