//! Server benchmarks for BENCHMARKS.md, against the real release binary on loopback:
//! - `seed --demo --users 100000` wall time;
//! - `GET /v1/users?limit=100` latency (p50/p99) sequentially, and throughput with
//!   concurrent clients, for the first page, a search, and a deep cursor page;
//! - `POST /v1/users/bulk`: a role added to 1 000 users, and taken away again, each
//!   user through the same guards, audit event and version bump as a single edit;
//! - `GET /v1/sessions` over 50 000 sessions (first page, search, deep cursor) and a bulk
//!   force logout of 1 000 users (issue 5).
//!
//! Run with `cargo xtask bench` (or `cargo bench -p gatehouse-server --bench users_api`).
//! `GATEHOUSE_BENCH_USERS` and `GATEHOUSE_BENCH_REQUESTS` change the sizes.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const PASSWORD: &str = "bench-password-123";

fn env_u32(name: &str, default: u32) -> u32 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() {
    let bin = env!("CARGO_BIN_EXE_gatehouse-server");
    let users = env_u32("GATEHOUSE_BENCH_USERS", 100_000);
    let requests = env_u32("GATEHOUSE_BENCH_REQUESTS", 400);
    let sessions = env_u32("GATEHOUSE_BENCH_SESSIONS", 50_000);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bench.db");

    let started = Instant::now();
    let out = Command::new(bin)
        .args(["seed", "--demo", "--users", &users.to_string(), "--sessions", &sessions.to_string(), "--db"])
        .arg(&db)
        .env("GATEHOUSE_OWNER_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    let seed_time = started.elapsed();
    assert!(out.status.success(), "seed failed: {}", String::from_utf8_lossy(&out.stderr));
    println!("seed --demo --users {users} --sessions {sessions}: {:.2} s wall (including the owner's argon2 hash and the commit)", seed_time.as_secs_f64());

    let mut child = Server(
        Command::new(bin)
            .args(["serve", "--listen", "127.0.0.1:0", "--db"])
            .arg(&db)
            .env("GATEHOUSE_LOG", "error")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    BufReader::new(child.0.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.trim().strip_prefix("listening on ").unwrap().to_owned();

    let http = reqwest::Client::new();
    let login: serde_json::Value = http
        .post(format!("{url}/v1/auth/login"))
        .json(&serde_json::json!({"email": "owner@acme.test", "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["access_token"].as_str().unwrap().to_owned();

    // A cursor ~half-way through the list, to show keyset paging does not slow with depth.
    let mut deep_cursor = String::new();
    let mut page_url = format!("{url}/v1/users?limit=500");
    for _ in 0..(users / 1000).max(1) {
        let page: serde_json::Value = http.get(&page_url).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        match page["next_cursor"].as_str() {
            Some(c) => {
                deep_cursor = c.to_owned();
                page_url = format!("{url}/v1/users?limit=500&cursor={c}");
            }
            None => break,
        }
    }

    // The same for sessions (issue 5): keyset paging over 50 000 sessions.
    let mut deep_session_cursor = String::new();
    let mut page_url = format!("{url}/v1/sessions?state=all&limit=500");
    for _ in 0..(sessions / 1000).max(1) {
        let page: serde_json::Value = http.get(&page_url).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        match page["next_cursor"].as_str() {
            Some(c) => {
                deep_session_cursor = c.to_owned();
                page_url = format!("{url}/v1/sessions?state=all&limit=500&cursor={c}");
            }
            None => break,
        }
    }

    let cases = [
        ("first page", format!("{url}/v1/users?limit=100")),
        ("search q=ana", format!("{url}/v1/users?limit=100&q=ana")),
        ("status=active&department=Sales", format!("{url}/v1/users?limit=100&status=active&department=Sales")),
        ("deep cursor (~middle)", format!("{url}/v1/users?limit=100&cursor={deep_cursor}")),
        ("sessions: first page (live)", format!("{url}/v1/sessions?limit=100")),
        ("sessions: search q=10.0.1", format!("{url}/v1/sessions?limit=100&q=10.0.1")),
        ("sessions: deep cursor (~middle)", format!("{url}/v1/sessions?state=all&limit=100&cursor={deep_session_cursor}")),
        ("login attempts: failures", format!("{url}/v1/login-attempts?limit=100&result=failure")),
    ];
    // The deep cursor was issued for limit=500 without filters: same filters, so it is valid.
    println!();
    println!("GET /v1/users, /v1/sessions, /v1/login-attempts ({users} users, {sessions} sessions; {requests} sequential requests per case, then 16 concurrent clients)");
    println!("{:<34} {:>10} {:>10} {:>12}", "case", "p50", "p99", "throughput");
    for (name, case_url) in &cases {
        for _ in 0..20 {
            let res = http.get(case_url).bearer_auth(&token).send().await.unwrap();
            assert!(res.status().is_success(), "{name}: {}", res.status());
            res.bytes().await.unwrap();
        }
        let mut latencies = Vec::with_capacity(requests as usize);
        for _ in 0..requests {
            let t = Instant::now();
            let res = http.get(case_url).bearer_auth(&token).send().await.unwrap();
            res.bytes().await.unwrap();
            latencies.push(t.elapsed());
        }
        latencies.sort();

        let concurrency = 16;
        let per_task = requests / concurrency;
        let t = Instant::now();
        let tasks: Vec<_> = (0..concurrency)
            .map(|_| {
                let (http, case_url, token) = (http.clone(), case_url.clone(), token.clone());
                tokio::spawn(async move {
                    for _ in 0..per_task {
                        http.get(&case_url).bearer_auth(&token).send().await.unwrap().bytes().await.unwrap();
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        let rps = f64::from(per_task * concurrency) / t.elapsed().as_secs_f64();
        println!(
            "{:<34} {:>10} {:>10} {:>8.0} req/s",
            name,
            ms(percentile(&latencies, 0.50)),
            ms(percentile(&latencies, 0.99)),
            rps
        );
    }

    // Bulk role change: 1 000 active Members get the Support role, then lose it again.
    let roles: serde_json::Value = http.get(format!("{url}/v1/roles")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    let support = roles.as_array().unwrap().iter().find(|r| r["key"] == "support").unwrap()["id"].as_str().unwrap().to_owned();
    let mut ids = Vec::new();
    let mut page_url = format!("{url}/v1/users?limit=500&status=active&role=member");
    while ids.len() < 1000 {
        let page: serde_json::Value = http.get(&page_url).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        let items = page["items"].as_array().unwrap_or_else(|| panic!("listing members for the bulk case: {page}"));
        ids.extend(items.iter().map(|u| u["id"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(c) => page_url = format!("{url}/v1/users?limit=500&status=active&role=member&cursor={c}"),
            None => break,
        }
    }
    ids.truncate(1000);
    println!();
    println!("POST /v1/users/bulk ({} users, one role, {users} users in the organization)", ids.len());
    for action in ["add_role", "remove_role"] {
        let t = Instant::now();
        let res = http
            .post(format!("{url}/v1/users/bulk"))
            .bearer_auth(&token)
            .json(&serde_json::json!({"action": action, "role": support, "user_ids": ids}))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "bulk {action}: {}", res.status());
        let answer: serde_json::Value = res.json().await.unwrap();
        let elapsed = t.elapsed();
        assert_eq!(answer["succeeded"].as_u64(), Some(ids.len() as u64), "bulk {action}: {}", answer["failed"]);
        println!(
            "{:<34} {:>10} {:>10.0} users/s",
            action,
            ms(elapsed),
            ids.len() as f64 / elapsed.as_secs_f64()
        );
    }

    // Bulk force logout (issue 5): 1 000 users with live sessions, each ended, trusted
    // devices withdrawn and audited like a single force logout.
    let mut with_sessions: Vec<String> = Vec::new();
    let mut page_url = format!("{url}/v1/sessions?limit=500");
    while with_sessions.len() < 1000 {
        let page: serde_json::Value = http.get(&page_url).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        for s in page["items"].as_array().unwrap() {
            let id = s["user_id"].as_str().unwrap().to_owned();
            if !with_sessions.contains(&id) && s["user_email"] != "owner@acme.test" {
                with_sessions.push(id);
            }
        }
        match page["next_cursor"].as_str() {
            Some(c) => page_url = format!("{url}/v1/sessions?limit=500&cursor={c}"),
            None => break,
        }
    }
    with_sessions.truncate(1000);
    let live_before: usize = count_live(&http, &url, &token).await;
    let t = Instant::now();
    let res = http
        .post(format!("{url}/v1/users/bulk"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"action": "logout", "user_ids": with_sessions}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "bulk logout: {}", res.status());
    let answer: serde_json::Value = res.json().await.unwrap();
    let elapsed = t.elapsed();
    assert_eq!(answer["succeeded"].as_u64(), Some(with_sessions.len() as u64), "bulk logout: {}", answer["failed"]);
    let live_after = count_live(&http, &url, &token).await;
    println!();
    println!(
        "bulk force logout of {} users with live sessions: {} ({:.0} users/s; {} live sessions ended; target <= 2 s)",
        with_sessions.len(),
        ms(elapsed),
        with_sessions.len() as f64 / elapsed.as_secs_f64(),
        live_before - live_after
    );
    drop(child);
}

/// Live sessions in the organization, counted by paging.
async fn count_live(http: &reqwest::Client, url: &str, token: &str) -> usize {
    let mut n = 0;
    let mut page_url = format!("{url}/v1/sessions?limit=500");
    loop {
        let page: serde_json::Value = http.get(&page_url).bearer_auth(token).send().await.unwrap().json().await.unwrap();
        n += page["items"].as_array().unwrap().len();
        match page["next_cursor"].as_str() {
            Some(c) => page_url = format!("{url}/v1/sessions?limit=500&cursor={c}"),
            None => return n,
        }
    }
}

/// The server process, stopped when the bench ends, panics included.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
