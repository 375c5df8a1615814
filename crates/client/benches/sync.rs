//! Client benchmarks for BENCHMARKS.md (issue 3), against the real release server on
//! loopback with 100 000 users:
//! - first sync: the whole feed into an empty cache, in users per second;
//! - delta sync of 100 changes made by another admin (p50/p95 over rounds);
//! - search over the cache, as the list asks for it (p50/p95 over typed queries);
//! - force logout round trip (issue 5): `Client::force_logout` until the server confirms.
//!
//! Run with `cargo xtask bench`, which builds the release server and passes it in
//! `GATEHOUSE_SERVER_BIN`, and starts a PostgreSQL cluster (`GATEHOUSE_BENCH_POSTGRES`):
//! every figure is measured against a server on SQLite, then on PostgreSQL, in one run.
//! `GATEHOUSE_BENCH_USERS`, `GATEHOUSE_BENCH_ROUNDS` and `GATEHOUSE_BENCH_SEARCHES` change
//! the sizes.

use gatehouse_api::{Secret, UserListQuery, UserStatus};
use gatehouse_client::keyring_store::MemoryTokenStore;
use gatehouse_client::{Cache, Client, ClientOptions};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PASSWORD: &str = "bench-password-123";
const OWNER: &str = "owner@acme.test";

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
    let bin = std::env::var("GATEHOUSE_SERVER_BIN").expect("GATEHOUSE_SERVER_BIN: the release gatehouse-server (cargo xtask bench sets it)");
    let users = env_u32("GATEHOUSE_BENCH_USERS", 100_000);
    let rounds = env_u32("GATEHOUSE_BENCH_ROUNDS", 20);
    let searches = env_u32("GATEHOUSE_BENCH_SEARCHES", 200);
    let dir = tempfile::tempdir().unwrap();
    println!("=== server on SQLite ===");
    run(&bin, vec!["--db".into(), dir.path().join("server.db").into()], dir.path(), users, rounds, searches).await;
    match std::env::var("GATEHOUSE_BENCH_POSTGRES").ok().filter(|u| !u.is_empty()) {
        Some(cluster) => {
            let location = gatehouse_server::store::create_postgres_database(&cluster, "client_bench").await.unwrap();
            let keys = dir.path().join("client_bench.keys");
            println!();
            println!("=== server on PostgreSQL ===");
            let pg_dir = dir.path().join("postgres");
            std::fs::create_dir(&pg_dir).unwrap();
            run(&bin, vec!["--db".into(), location.expose().into(), "--keys-file".into(), keys.into()], &pg_dir, users, rounds, searches).await;
        }
        None => println!("=== server on PostgreSQL: skipped, GATEHOUSE_BENCH_POSTGRES is not set (cargo xtask bench sets it) ==="),
    }
}

/// Every figure against a server seeded and served on `db` (`--db …` and its keys);
/// the client's caches in `dir`.
async fn run(bin: &str, db: Vec<std::ffi::OsString>, dir: &std::path::Path, users: u32, rounds: u32, searches: u32) {
    let out = Command::new(bin)
        .args(["seed", "--demo", "--users", &users.to_string()])
        .args(&db)
        .env("GATEHOUSE_OWNER_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert!(out.status.success(), "seed failed: {}", String::from_utf8_lossy(&out.stderr));
    let mut child =
        Command::new(bin).args(["serve", "--listen", "127.0.0.1:0"]).args(&db).env("GATEHOUSE_LOG", "error").stdout(Stdio::piped()).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.trim().strip_prefix("listening on ").unwrap().to_owned();

    let store = Arc::new(MemoryTokenStore::default());
    let (client, _) = Client::sign_in(&url, OWNER, Secret::new(PASSWORD.to_owned()), None, store, &ClientOptions::default()).await.unwrap();

    // First sync, three times into a fresh cache; the best run is the figure (the
    // others show the spread).
    println!("first sync ({users} users on the server, into an empty cache; 3 runs)");
    let on_server = client.list_users(&UserListQuery { limit: Some(1), ..Default::default() }).await.unwrap().counts.all;
    // The feed alone (server work, HTTP and JSON decoding, nothing written): the bound
    // on what the cache side can reach.
    let t = Instant::now();
    let (mut cursor, mut entries, mut pages) = ("0".to_owned(), 0usize, Vec::new());
    loop {
        let page = client.changes(&cursor, 1000).await.unwrap();
        entries += page.changes.len();
        cursor = page.cursor.clone();
        let more = page.has_more;
        pages.push(page);
        if !more {
            break;
        }
    }
    let took = t.elapsed();
    println!(
        "  the feed alone: {entries} entries fetched and decoded in {:.2} s = {:.0} entries/s",
        took.as_secs_f64(),
        entries as f64 / took.as_secs_f64()
    );
    // The cache alone: the same pages written into an empty cache, nothing fetched.
    let c = Cache::open(&dir.join("cache-write-only.db")).await.unwrap();
    let t = Instant::now();
    for page in &pages {
        c.apply(page).await.unwrap();
    }
    let took = t.elapsed();
    println!("  the cache alone: {entries} entries written in {:.2} s = {:.0} entries/s", took.as_secs_f64(), entries as f64 / took.as_secs_f64());
    drop((c, pages));
    let mut cache = None;
    let mut runs = Vec::new();
    for run in 0..3 {
        let path = dir.join(format!("cache-{run}.db"));
        let c = Cache::open(&path).await.unwrap();
        let t = Instant::now();
        let outcome = client.sync(&c, |_| {}).await.unwrap();
        let took = t.elapsed();
        let cached = c.list_users(&UserListQuery { limit: Some(1), ..Default::default() }).await.unwrap().counts.all;
        println!(
            "  run {}: {} feed entries in {:.2} s = {:.0} users/s",
            run + 1,
            outcome.applied,
            took.as_secs_f64(),
            f64::from(cached) / took.as_secs_f64()
        );
        assert_eq!(cached, on_server, "the cache holds {cached} users after the first sync, the server {on_server}");
        runs.push(f64::from(cached) / took.as_secs_f64());
        cache = Some(c);
    }
    let best = runs.iter().copied().fold(0.0, f64::max);
    println!("first sync throughput (best of 3): {best:.0} users/s (target >= 50000)");
    let cache = cache.unwrap();

    // Delta sync: another admin changes 100 users, then the client syncs.
    let http = reqwest::Client::new();
    let admin: serde_json::Value = http
        .post(format!("{url}/v1/auth/login"))
        .json(&serde_json::json!({"email": OWNER, "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = admin["access_token"].as_str().unwrap().to_owned();
    let targets = cache.list_users(&UserListQuery { limit: Some(100), status: Some(UserStatus::Active), ..Default::default() }).await.unwrap().items;
    let mut deltas = Vec::new();
    for round in 0..rounds {
        for user in &targets {
            let res = http.get(format!("{url}/v1/users/{}", user.id)).bearer_auth(&token).send().await.unwrap();
            let etag = res.headers()["etag"].to_str().unwrap().to_owned();
            let res = http
                .patch(format!("{url}/v1/users/{}", user.id))
                .bearer_auth(&token)
                .header("If-Match", etag)
                .json(&serde_json::json!({ "custom_attributes": { "bench_round": round.to_string() } }))
                .send()
                .await
                .unwrap();
            assert!(res.status().is_success(), "PATCH failed: {}", res.status());
        }
        let t = Instant::now();
        let outcome = client.sync(&cache, |_| {}).await.unwrap();
        deltas.push(t.elapsed());
        assert_eq!(outcome.applied, targets.len() as u64, "the delta sync applied {} changes", outcome.applied);
    }
    deltas.sort();
    println!();
    println!(
        "delta sync of {} changes ({rounds} rounds): p50 {}, p95 {}, max {} (target <= 50 ms)",
        targets.len(),
        ms(percentile(&deltas, 0.50)),
        ms(percentile(&deltas, 0.95)),
        ms(*deltas.last().unwrap())
    );

    // Search over the cache: what the list asks for while someone types.
    let queries = ["a", "an", "ana", "sara", "abbott", "smith", "@acme", "zzz-no-match", "o", "owner@"];
    let mut latencies = Vec::new();
    let mut filtered = Vec::new();
    for _ in 0..searches {
        for q in queries {
            let query = UserListQuery { q: Some(q.to_owned()), limit: Some(100), ..Default::default() };
            let t = Instant::now();
            let page = cache.list_users(&query).await.unwrap();
            latencies.push(t.elapsed());
            std::hint::black_box(page);
        }
        let query = UserListQuery {
            q: Some("an".to_owned()),
            status: Some(UserStatus::Active),
            department: Some("Sales".to_owned()),
            limit: Some(100),
            ..Default::default()
        };
        let t = Instant::now();
        std::hint::black_box(cache.list_users(&query).await.unwrap());
        filtered.push(t.elapsed());
    }
    latencies.sort();
    filtered.sort();
    println!();
    println!("search over the cache ({on_server} users, page of 100 with count badges)");
    println!(
        "  {} typed queries x {searches}: p50 {}, p95 {} (target p95 <= 5 ms)",
        queries.len(),
        ms(percentile(&latencies, 0.50)),
        ms(percentile(&latencies, 0.95))
    );
    println!("  q=an&status=active&department=Sales x {searches}: p50 {}, p95 {}", ms(percentile(&filtered, 0.50)), ms(percentile(&filtered, 0.95)));

    // After a restart (issue 4): the app reopens the cache file; its first list is
    // answered from SQLite and starts building the in-memory index in the background.
    println!();
    println!("after a restart ({on_server} users cached; 3 runs, each on a freshly opened cache)");
    let first_page = UserListQuery { limit: Some(100), ..Default::default() };
    for run in 0..3 {
        let reopened = Cache::open(&dir.join("cache-2.db")).await.unwrap();
        let t = Instant::now();
        std::hint::black_box(reopened.list_users(&first_page).await.unwrap());
        let from_sqlite = t.elapsed();
        let t = Instant::now();
        reopened.build_index().await.unwrap();
        let build = t.elapsed();
        let t = Instant::now();
        std::hint::black_box(reopened.list_users(&first_page).await.unwrap());
        let from_index = t.elapsed();
        println!(
            "  run {}: first page with counts (from SQLite) {}; the index built {} later; the same page from it {}",
            run + 1,
            ms(from_sqlite),
            ms(build),
            ms(from_index)
        );
    }

    // Force logout (issue 5): the client's call, from sending to the server's confirmation,
    // on loopback. Each round the member signs in again first (not timed), so every
    // round ends a live session.
    println!();
    let rounds_logout = env_u32("GATEHOUSE_BENCH_LOGOUTS", 100);
    let member = client.list_users(&UserListQuery { q: Some("member@acme.test".into()), ..Default::default() }).await.unwrap().items.remove(0);
    let mut logouts = Vec::new();
    for round in 0..rounds_logout {
        let store = Arc::new(MemoryTokenStore::default());
        let (member_client, _) =
            Client::sign_in(&url, "member@acme.test", Secret::new(PASSWORD.to_owned()), None, store, &ClientOptions::default()).await.unwrap();
        let t = Instant::now();
        let done = client.force_logout(&member.id, &format!("bench-logout-{round}"), false).await.unwrap();
        logouts.push(t.elapsed());
        assert!(done.sessions_revoked >= 1);
        assert!(member_client.me().await.is_err(), "the member's next request is refused");
    }
    logouts.sort();
    println!(
        "force logout round trip ({rounds_logout} rounds, a live session each): p50 {}, p95 {}, max {} (target p95 <= 20 ms)",
        ms(percentile(&logouts, 0.50)),
        ms(percentile(&logouts, 0.95)),
        ms(*logouts.last().unwrap())
    );

    let _ = child.kill();
    let _ = child.wait();
}
