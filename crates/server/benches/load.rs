//! `cargo xtask bench load` (issue 19): N concurrent admins (default 64) on the ordinary
//! mix — list, read, edit with If-Match, force logout, reset MFA, sign-in, invite,
//! deactivate and reactivate — against the real release binary on loopback. Prints the
//! answers by class (the target is 0 answers 5xx), p50/p99 per operation and throughput.
//!
//! `GATEHOUSE_BENCH_CLIENTS` (64), `GATEHOUSE_BENCH_ROUNDS` (rounds of the mix per client,
//! 4) and `GATEHOUSE_BENCH_USERS` (2 000) change the sizes.
//!
//! One run measures three set-ups side by side: SQLite, PostgreSQL with one node, and
//! PostgreSQL with two nodes (the clients split between them), the last two on the cluster
//! in `GATEHOUSE_BENCH_POSTGRES` (`cargo xtask bench load` starts one).
//!
//! After each mix it measures how soon a change stream hears of an edit: the stream is
//! open on the last node, the edit goes through the first (with two nodes, another
//! process), timed from sending the edit to the stream's `changed` event. The edits are
//! spread over the stream's polling period, as edits at random moments would be.

mod common;

use common::{Database, Server, env_u32, ms, percentile, seed_on};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const OPS: [&str; 9] = ["list", "read", "edit", "force logout", "reset MFA", "sign-in", "invite", "deactivate", "reactivate"];

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let mut rates = Vec::new();
    rates.push(("SQLite, one node", run("SQLite, one node", Database::sqlite(&dir.path().join("load.db")), 1).await));
    for (label, name, nodes) in [("PostgreSQL, one node", "load_one", 1), ("PostgreSQL, two nodes", "load_two", 2)] {
        match Database::postgres(name, dir.path()).await {
            Some(db) => rates.push((label, run(label, db, nodes).await)),
            None => println!("load: {label}: skipped, GATEHOUSE_BENCH_POSTGRES is not set (cargo xtask bench load sets it)"),
        }
    }
    let base = rates[0].1;
    for (label, rate) in &rates {
        println!("load: summary {label:<22} {rate:>6.0} requests/s  ({:.2}× SQLite)", rate / base);
    }
}

/// The mix on `db` served by `nodes` server processes; prints its figures and returns
/// the throughput (requests per second).
async fn run(label: &str, db: Database, nodes: usize) -> f64 {
    println!("load: --- {label} ---");
    let bin = env!("CARGO_BIN_EXE_gatehouse-server");
    let clients = env_u32("GATEHOUSE_BENCH_CLIENTS", 64) as usize;
    let rounds = env_u32("GATEHOUSE_BENCH_ROUNDS", 4) as usize;
    let users = env_u32("GATEHOUSE_BENCH_USERS", 2_000);
    seed_on(bin, &db, &["--users", &users.to_string(), "--events", "1000"]);
    let servers: Vec<Server> = (0..nodes).map(|_| Server::start_on(bin, &db)).collect();
    let server = &servers[0];
    let url = server.url.clone();
    let urls: Vec<String> = servers.iter().map(|s| s.url.clone()).collect();
    let http = reqwest::Client::builder().pool_max_idle_per_host(clients).build().unwrap();
    let token = server.login(&http, "owner@acme.test").await;

    // Each client works on users of its own (as admins each on their own task), all active.
    let mut targets: Vec<(String, bool)> = Vec::new();
    let mut next = format!("{url}/v1/users?limit=500&status=active");
    while targets.len() < clients * 2 {
        let page: Value = http.get(&next).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        for u in page["items"].as_array().unwrap() {
            let staff = ["owner@acme.test", "admin@acme.test", "manager@acme.test", "member@acme.test", "support@acme.test"];
            if u["email"].as_str().is_some_and(|e| !staff.contains(&e)) {
                targets.push((u["id"].as_str().unwrap().to_owned(), u["mfa_enabled"].as_bool().unwrap_or(false)));
            }
        }
        match page["next_cursor"].as_str() {
            Some(c) => next = format!("{url}/v1/users?limit=500&status=active&cursor={c}"),
            None => break,
        }
    }
    assert!(targets.len() >= clients * 2, "the seed has too few active users for {clients} clients");

    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        // Client c talks to node c mod n, as a load balancer would spread them.
        let (http, url, token) = (http.clone(), urls[c % urls.len()].clone(), token.clone());
        let (a, b) = (targets[2 * c].clone(), targets[2 * c + 1].clone());
        tasks.push(tokio::spawn(async move {
            let mut out: Vec<(&'static str, u16, String, Duration)> = Vec::new();
            for round in 0..rounds {
                for op in OPS {
                    let t = Instant::now();
                    let status = match op {
                        "list" => http.get(format!("{url}/v1/users?limit=50")).bearer_auth(&token).send().await,
                        "read" => http.get(format!("{url}/v1/users/{}", a.0)).bearer_auth(&token).send().await,
                        "edit" => {
                            let read = http.get(format!("{url}/v1/users/{}", a.0)).bearer_auth(&token).send().await.unwrap();
                            let etag = read.headers().get("etag").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
                            http.patch(format!("{url}/v1/users/{}", a.0))
                                .bearer_auth(&token)
                                .header("if-match", etag)
                                .json(&json!({"first_name": format!("Load{c}r{round}")}))
                                .send()
                                .await
                        }
                        "force logout" => http.post(format!("{url}/v1/users/{}/logout", a.0)).bearer_auth(&token).send().await,
                        "reset MFA" => {
                            let id = if a.1 { &a.0 } else { &b.0 };
                            http.post(format!("{url}/v1/users/{id}/reset-mfa")).bearer_auth(&token).send().await
                        }
                        "sign-in" => {
                            let who = ["admin@acme.test", "manager@acme.test", "member@acme.test", "support@acme.test"][c % 4];
                            http.post(format!("{url}/v1/auth/login")).json(&json!({"email": who, "password": common::PASSWORD})).send().await
                        }
                        "invite" => {
                            let email = format!("load-{c}-{round}@invited.example");
                            http.post(format!("{url}/v1/invitations")).bearer_auth(&token).json(&json!({"emails": [email]})).send().await
                        }
                        "deactivate" => http.post(format!("{url}/v1/users/{}/deactivate", b.0)).bearer_auth(&token).send().await,
                        _ => http.post(format!("{url}/v1/users/{}/reactivate", b.0)).bearer_auth(&token).send().await,
                    };
                    let (status, code) = match status {
                        Ok(r) if r.status().is_success() => (r.status().as_u16(), String::new()),
                        Ok(r) => {
                            let status = r.status().as_u16();
                            let body: Value = r.json().await.unwrap_or_default();
                            (status, body["code"].as_str().unwrap_or_default().to_owned())
                        }
                        Err(_) => (0, "no answer".to_owned()),
                    };
                    out.push((op, status, code, t.elapsed()));
                }
            }
            out
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let wall = started.elapsed();

    let mut by_class: BTreeMap<String, usize> = BTreeMap::new();
    for (_, status, _, _) in &all {
        let class = match status {
            0 => "no answer".to_owned(),
            s => format!("{}xx", s / 100),
        };
        *by_class.entry(class).or_default() += 1;
    }
    let five = all.iter().filter(|(_, s, _, _)| *s >= 500 || *s == 0).count();
    println!(
        "load: {clients} clients × {rounds} rounds of {} operations = {} requests in {:.2} s ({:.0} requests/s)",
        OPS.len(),
        all.len(),
        wall.as_secs_f64(),
        all.len() as f64 / wall.as_secs_f64()
    );
    println!("load: answers by class {by_class:?}; 5xx or none: {five}");
    for op in OPS {
        let mut lat: Vec<Duration> = all.iter().filter(|(o, ..)| *o == op).map(|(.., d)| *d).collect();
        lat.sort();
        // Status, with the problem code of refusals (seat limit, sign-in throttling…).
        let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
        for (_, s, code, _) in all.iter().filter(|(o, ..)| *o == op) {
            let key = if code.is_empty() { s.to_string() } else { format!("{s} {code}") };
            *statuses.entry(key).or_default() += 1;
        }
        println!("load: {op:<13} p50 {:>10}  p99 {:>10}  statuses {statuses:?}", ms(percentile(&lat, 0.5)), ms(percentile(&lat, 0.99)));
    }
    let mut lat: Vec<Duration> = all.iter().map(|(.., d)| *d).collect();
    lat.sort();
    println!("load: every operation  p50 {}  p99 {}", ms(percentile(&lat, 0.5)), ms(percentile(&lat, 0.99)));
    let rate = all.len() as f64 / wall.as_secs_f64();
    stream_notice(&http, &urls, &token, &targets[0].0).await;
    rate
}

/// Edits `user` through the first node `ROUNDS` times and times each until a change
/// stream open on the last node sends `changed` with a newer cursor.
async fn stream_notice(http: &reqwest::Client, urls: &[String], token: &str, user: &str) {
    const ROUNDS: usize = 20;
    let (writer, listener) = (&urls[0], &urls[urls.len() - 1]);
    let mut stream = http.get(format!("{listener}/v1/changes/stream")).bearer_auth(token).send().await.unwrap();
    assert!(stream.status().is_success(), "the change stream answered {}", stream.status());
    let mut buf = String::new();
    let mut head = next_changed(&mut stream, &mut buf).await;
    let mut lat = Vec::new();
    for round in 0..ROUNDS {
        let read = http.get(format!("{writer}/v1/users/{user}")).bearer_auth(token).send().await.unwrap();
        let etag = read.headers().get("etag").unwrap().to_str().unwrap().to_owned();
        // The stream looks every 500 ms and its last event came just now: spread the edits
        // over that period, as edits at random moments would fall.
        tokio::time::sleep(Duration::from_millis((round as u64 * 131) % 500)).await;
        let t = Instant::now();
        let edit = http
            .patch(format!("{writer}/v1/users/{user}"))
            .bearer_auth(token)
            .header("if-match", etag)
            .json(&json!({"last_name": format!("Stream{round}")}))
            .send()
            .await
            .unwrap();
        assert!(edit.status().is_success(), "the edit answered {}", edit.status());
        loop {
            let now = next_changed(&mut stream, &mut buf).await;
            if now > head {
                head = now;
                break;
            }
        }
        lat.push(t.elapsed());
    }
    lat.sort();
    let across = if urls.len() > 1 { "edit on node 1, stream on node 2" } else { "edit and stream on one node" };
    println!(
        "load: stream notice ({across}, {ROUNDS} edits) p50 {}  p95 {}  max {}",
        ms(percentile(&lat, 0.5)),
        ms(percentile(&lat, 0.95)),
        ms(lat[lat.len() - 1])
    );
}

/// The cursor of the stream's next `changed` event (keep-alive comments skipped).
async fn next_changed(stream: &mut reqwest::Response, buf: &mut String) -> i64 {
    loop {
        while let Some(end) = buf.find("\n\n") {
            let event: String = buf.drain(..end + 2).collect();
            let kind = event.lines().find_map(|l| l.strip_prefix("event:")).map(str::trim);
            let data = event.lines().find_map(|l| l.strip_prefix("data:")).map(str::trim);
            if kind == Some("changed") {
                return data.unwrap().parse().unwrap();
            }
        }
        let chunk = stream.chunk().await.unwrap().expect("the change stream ended");
        buf.push_str(std::str::from_utf8(&chunk).unwrap());
    }
}
