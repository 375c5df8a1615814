//! The activity log on 1 000 000 events (issue 7), against the real release binary on
//! loopback:
//! - `seed --demo --events 1000000` wall time;
//! - the first page (`limit=50`) of typical filters: p50 and p95 of sequential requests;
//! - the full CSV export: rows per second, MB per second, and the server's peak resident
//!   memory (VmHWM) before and after it, so a flat figure shows the stream is bounded.
//!
//! Run with `cargo xtask bench activity` (or `cargo bench -p gatehouse-server --bench
//! activity_log`). `GATEHOUSE_BENCH_EVENTS` (default 1000000) and
//! `GATEHOUSE_BENCH_REQUESTS` (default 200) change the sizes.

mod common;

use common::{Database, Server, env_u32, ms, percentile, seed_on};
use std::time::Instant;

/// A `/proc/<pid>/status` figure in MiB (Linux).
fn proc_mib(pid: u32, field: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn encode(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}

#[tokio::main]
async fn main() {
    common::each_backend("bench_activity", run).await;
}

async fn run(db: Database) {
    let bin = env!("CARGO_BIN_EXE_gatehouse-server");
    let events = env_u32("GATEHOUSE_BENCH_EVENTS", 1_000_000);
    let requests = env_u32("GATEHOUSE_BENCH_REQUESTS", 200);

    let started = Instant::now();
    let out = seed_on(bin, &db, &["--users", "10000", "--events", &events.to_string()]);
    println!("{}", out.lines().next().unwrap_or_default());
    println!("seed --demo --users 10000 --events {events}: {:.1} s wall", started.elapsed().as_secs_f64());

    let server = Server::start_on(bin, &db);
    let pid = server.child.id();
    let url = server.url.clone();
    let http = reqwest::Client::new();
    let token = server.login(&http, "support@acme.test").await;
    let get = |path: String| {
        let http = http.clone();
        let token = token.clone();
        let url = url.clone();
        async move {
            let res = http.get(format!("{url}{path}")).bearer_auth(&token).send().await.unwrap();
            assert!(res.status().is_success(), "{path}: {}", res.status());
            res.bytes().await.unwrap()
        }
    };

    // Real values to filter by: the busiest user, an attacker's address, a week's range, and
    // a cursor a few thousand events deep.
    let first: serde_json::Value = serde_json::from_slice(&get("/v1/audit-events?limit=500&action=session.signed_in".into()).await).unwrap();
    let user = first["items"][0]["target"]["id"].as_str().unwrap().to_owned();
    let failures: serde_json::Value =
        serde_json::from_slice(&get("/v1/audit-events?limit=500&action=session.sign_in_failed&q=python-requests".into()).await).unwrap();
    let attacker = failures["items"][0]["ip"].as_str().unwrap_or("198.51.100.20").to_owned();
    let now = chrono::Utc::now();
    let (from, to) = (encode(&(now - chrono::Duration::days(40)).to_rfc3339()), encode(&(now - chrono::Duration::days(33)).to_rfc3339()));
    let mut cursor = String::new();
    for _ in 0..10 {
        let page: serde_json::Value = serde_json::from_slice(&get(format!("/v1/audit-events?limit=500&cursor={cursor}")).await).unwrap();
        cursor = page["next_cursor"].as_str().unwrap().to_owned();
    }

    let cases = [
        ("no filter", "limit=50".to_owned()),
        ("one user (actor or target)", format!("limit=50&user_id={user}")),
        ("one user's failed sign-ins", format!("limit=50&user_id={user}&action=session.sign_in_failed")),
        ("action=session.sign_in_failed", "limit=50&action=session.sign_in_failed".to_owned()),
        ("action=session.*,user.*", "limit=50&action=session.*,user.*".to_owned()),
        ("action=user.roles_changed (rare)", "limit=50&action=user.roles_changed".to_owned()),
        ("ip (an attacker)", format!("limit=50&ip={attacker}")),
        ("a week, 5 weeks ago", format!("limit=50&from={from}&to={to}")),
        ("a week + failed sign-ins", format!("limit=50&from={from}&to={to}&action=session.sign_in_failed")),
        ("q=helpdesk (text)", "limit=50&q=helpdesk".to_owned()),
        ("q=cc-310 (text, rarer)", "limit=50&q=cc-310".to_owned()),
        ("cursor 5 000 deep", format!("limit=50&cursor={cursor}")),
    ];
    println!();
    println!("GET /v1/audit-events first page on {events} events ({requests} sequential requests per case)");
    println!("{:<36} {:>10} {:>10} {:>10}", "case", "p50", "p95", "max");
    for (name, query) in &cases {
        for _ in 0..5 {
            get(format!("/v1/audit-events?{query}")).await;
        }
        let mut latencies = Vec::with_capacity(requests as usize);
        for _ in 0..requests {
            let t = Instant::now();
            get(format!("/v1/audit-events?{query}")).await;
            latencies.push(t.elapsed());
        }
        latencies.sort();
        println!(
            "{:<36} {:>10} {:>10} {:>10}",
            name,
            ms(percentile(&latencies, 0.5)),
            ms(percentile(&latencies, 0.95)),
            ms(*latencies.last().unwrap())
        );
    }

    for (name, query) in [
        ("histogram, day, 90 days", "bucket=day&from=".to_owned() + &encode(&(now - chrono::Duration::days(90)).to_rfc3339())),
        ("histogram, failed sign-ins per hour, 48 h", "bucket=hour&action=session.sign_in_failed".to_owned()),
    ] {
        let mut latencies = Vec::new();
        for _ in 0..20 {
            let t = Instant::now();
            get(format!("/v1/audit-events/histogram?{query}")).await;
            latencies.push(t.elapsed());
        }
        latencies.sort();
        println!(
            "{:<36} {:>10} {:>10} {:>10}",
            name,
            ms(percentile(&latencies, 0.5)),
            ms(percentile(&latencies, 0.95)),
            ms(*latencies.last().unwrap())
        );
    }

    let hwm_before = proc_mib(pid, "VmHWM:").unwrap_or(f64::NAN);
    let rss_before = proc_mib(pid, "VmRSS:").unwrap_or(f64::NAN);
    let t = Instant::now();
    let mut res = http.get(format!("{url}/v1/audit-events/export.csv")).bearer_auth(&token).send().await.unwrap();
    assert!(res.status().is_success());
    let total: u64 = res.headers()["x-total-count"].to_str().unwrap().parse().unwrap();
    let (mut bytes, mut lines) = (0u64, 0u64);
    while let Some(chunk) = res.chunk().await.unwrap() {
        bytes += chunk.len() as u64;
        lines += chunk.iter().filter(|b| **b == b'\n').count() as u64;
    }
    let took = t.elapsed().as_secs_f64();
    let hwm_after = proc_mib(pid, "VmHWM:").unwrap_or(f64::NAN);
    println!();
    println!("GET /v1/audit-events/export.csv, no filter: {total} rows, {:.1} MB in {took:.1} s", bytes as f64 / 1e6);
    println!(
        "  throughput: {:.0} rows/s, {:.1} MB/s ({} lines incl. header and line breaks inside details)",
        total as f64 / took,
        bytes as f64 / 1e6 / took,
        lines
    );
    println!("  server memory: RSS {rss_before:.0} MiB before; peak (VmHWM) {hwm_before:.0} MiB before the export, {hwm_after:.0} MiB after");
}
