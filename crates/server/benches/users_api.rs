//! Server benchmarks for BENCHMARKS.md, against the real release binary on loopback:
//! - `seed --demo --users 100000` wall time;
//! - `GET /v1/users?limit=100` latency (p50/p99) sequentially, and throughput with
//!   concurrent clients, for the first page, a search, and a deep cursor page;
//! - `POST /v1/users/bulk`: a role added to 1 000 users, and taken away again, each
//!   user through the same guards, audit event and version bump as a single edit;
//! - `GET /v1/sessions` over 50 000 sessions (first page, search, deep cursor) and a bulk
//!   force logout of 1 000 users (issue 5);
//! - `POST /v1/invitations/import?dry_run=true`: validating a 10 000-row CSV file of
//!   people to invite against the organization (median and p95 of several runs).
//!
//! Run with `cargo xtask bench` (or `cargo bench -p gatehouse-server --bench users_api`).
//! `GATEHOUSE_BENCH_USERS`, `GATEHOUSE_BENCH_REQUESTS`, `GATEHOUSE_BENCH_IMPORT_ROWS` and
//! `GATEHOUSE_BENCH_IMPORT_RUNS` change the sizes.

mod common;

use common::{Database, Server, env_u32, ms, percentile, seed_on};
use std::time::Instant;

#[tokio::main]
async fn main() {
    common::each_backend("bench_users", run).await;
}

async fn run(db: Database) {
    let bin = env!("CARGO_BIN_EXE_gatehouse-server");
    let users = env_u32("GATEHOUSE_BENCH_USERS", 100_000);
    let requests = env_u32("GATEHOUSE_BENCH_REQUESTS", 400);
    let sessions = env_u32("GATEHOUSE_BENCH_SESSIONS", 50_000);

    let started = Instant::now();
    seed_on(bin, &db, &["--users", &users.to_string(), "--sessions", &sessions.to_string()]);
    let seed_time = started.elapsed();
    println!(
        "seed --demo --users {users} --sessions {sessions}: {:.2} s wall (including the owner's argon2 hash and the commit)",
        seed_time.as_secs_f64()
    );

    let child = Server::start_on(bin, &db);
    let url = child.url.clone();
    let http = reqwest::Client::new();
    let token = child.login(&http, "owner@acme.test").await;

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
    println!(
        "GET /v1/users, /v1/sessions, /v1/login-attempts ({users} users, {sessions} sessions; {requests} sequential requests per case, then 16 concurrent clients)"
    );
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
        println!("{:<34} {:>10} {:>10} {:>8.0} req/s", name, ms(percentile(&latencies, 0.50)), ms(percentile(&latencies, 0.99)), rps);
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
        println!("{:<34} {:>10} {:>10.0} users/s", action, ms(elapsed), ids.len() as f64 / elapsed.as_secs_f64());
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

    bench_import(&http, &url, &token, users).await;
    drop(child);
}

/// Validating a CSV import (issue 6): a dry run of `GATEHOUSE_BENCH_IMPORT_ROWS` new
/// addresses with roles and departments, each checked for syntax, duplicates, existing
/// members and open invitations, roles (and whether the caller may grant them) and
/// departments. Timed from sending the file to the whole report received.
async fn bench_import(http: &reqwest::Client, url: &str, token: &str, users: u32) {
    let rows = env_u32("GATEHOUSE_BENCH_IMPORT_ROWS", 10_000);
    let runs = env_u32("GATEHOUSE_BENCH_IMPORT_RUNS", 20).max(1);
    // Seats for every row, so the report is the one of an import that would go through.
    let org: serde_json::Value = http.get(format!("{url}/v1/org")).bearer_auth(token).send().await.unwrap().json().await.unwrap();
    let limit = (org["seats_used"].as_u64().unwrap() + u64::from(rows)).max(org["seat_limit"].as_u64().unwrap());
    let res = http.patch(format!("{url}/v1/org")).bearer_auth(token).json(&serde_json::json!({"seat_limit": limit})).send().await.unwrap();
    assert!(res.status().is_success(), "raising the seat limit: {}", res.status());

    let mut csv = String::from("email,role,department\r\n");
    for i in 0..rows {
        let role = ["member", "Support", "manager;member"][i as usize % 3];
        let department = ["Sales", "Engineering", "Support;HR", ""][i as usize % 4];
        csv.push_str(&format!("new.person{i}@invited.test,{role},{department}\r\n"));
    }
    let import_url = format!("{url}/v1/invitations/import?dry_run=true");
    let check = |body: &[u8]| {
        let report: serde_json::Value = serde_json::from_slice(body).unwrap();
        assert_eq!(report["rows"].as_array().map(Vec::len), Some(rows as usize), "every row reported");
        assert_eq!(report["invalid"], 0, "a valid file");
        assert_eq!(report["seats_short"], 0);
    };
    // One untimed run warms the server's caches (and checks the report).
    let res = http.post(&import_url).bearer_auth(token).header("content-type", "text/csv").body(csv.clone()).send().await.unwrap();
    assert!(res.status().is_success(), "import dry run: {}", res.status());
    check(&res.bytes().await.unwrap());
    let mut times = Vec::with_capacity(runs as usize);
    let mut report_bytes = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let res = http.post(&import_url).bearer_auth(token).header("content-type", "text/csv").body(csv.clone()).send().await.unwrap();
        assert!(res.status().is_success(), "import dry run: {}", res.status());
        let body = res.bytes().await.unwrap();
        times.push(t.elapsed());
        report_bytes = body.len();
    }
    times.sort();
    println!();
    println!(
        "POST /v1/invitations/import?dry_run=true, {rows} rows ({} KiB file, {} KiB report; {users} users in the organization; {runs} runs): median {}, p95 {}, max {} (target <= 1 s)",
        csv.len() / 1024,
        report_bytes / 1024,
        ms(percentile(&times, 0.50)),
        ms(percentile(&times, 0.95)),
        ms(times[times.len() - 1])
    );
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
