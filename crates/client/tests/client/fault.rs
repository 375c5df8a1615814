//! Fault injection (issue 3): randomized trials that SIGKILL the client process in the
//! middle of replaying its outbox and kill the server in the middle of requests, then
//! check that the server holds exactly the queued edits: nothing lost, nothing twice.
//!
//! The client process is this test binary run again as `fault::replay_child`: a real OS
//! process that opens the cache file, signs in and replays, like the app does. Each edit
//! sets a unique value, so every applied edit moves the user's version by exactly one:
//! an edit applied twice shows as a version too far, a lost one as a value or version
//! missing. `GATEHOUSE_FAULT_TRIALS` (default 200) and `GATEHOUSE_FAULT_SEED` reproduce a run.

use crate::outbox::sign_in;
use crate::server::{OWNER, PASSWORD, ServerProcess};
use gatehouse_client::api::{Secret, UserListQuery, UserPatch};
use gatehouse_client::outbox::etag_version;
use gatehouse_client::{Cache, Client, ClientOptions, MemoryTokenStore};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

/// A small deterministic PRNG (xorshift64*), so a failing run can be replayed by seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// Exit codes of the child.
const CHILD_DONE: i32 = 0;
const CHILD_AGAIN: i32 = 3;

/// The client process of the trials (run by them, not on its own).
#[tokio::test]
#[ignore = "the client process of the fault-injection trials, which run it"]
async fn replay_child() {
    let (Ok(url), Ok(path)) = (std::env::var("GATEHOUSE_FAULT_URL"), std::env::var("GATEHOUSE_FAULT_CACHE")) else {
        panic!("only the fault-injection trials run this");
    };
    let cache = Cache::open(path.as_ref()).await.expect("cache opens");
    // The app retries at once when it sees the server again.
    cache.retry_now().await.expect("cache writable");
    let store = Arc::new(MemoryTokenStore::default());
    let code = match Client::sign_in(&url, OWNER, Secret::new(PASSWORD.into()), None, store, &ClientOptions::default()).await {
        Ok((client, _)) => {
            // The trials aim their kills at what follows this line.
            println!("replaying");
            let replayed = client.replay(&cache).await;
            match replayed {
                Ok(_) if cache.outbox_counts().await.expect("counts") == (0, 0, 0) => CHILD_DONE,
                Ok(_) | Err(_) => CHILD_AGAIN,
            }
        }
        Err(_) => CHILD_AGAIN,
    };
    std::process::exit(code);
}

fn spawn_child(url: &str, cache: &std::path::Path) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["fault::replay_child", "--exact", "--ignored", "--test-threads=1", "--quiet", "--nocapture"])
        .env("GATEHOUSE_FAULT_URL", url)
        .env("GATEHOUSE_FAULT_CACHE", cache)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// What the server must hold for one user.
struct Expected {
    first_name: String,
    mark: String,
    version: i64,
}

#[tokio::test]
async fn killing_the_client_mid_replay_and_the_server_mid_request_loses_nothing_and_applies_nothing_twice() {
    let trials: u32 = std::env::var("GATEHOUSE_FAULT_TRIALS").ok().and_then(|t| t.parse().ok()).unwrap_or(200);
    let seed: u64 = std::env::var("GATEHOUSE_FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1);
    eprintln!("fault injection: {trials} trials, GATEHOUSE_FAULT_SEED={seed}");
    let mut rng = Rng(seed);

    let mut server = ServerProcess::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let cache_path = dir.path().join("cache.db");
    let cache = Cache::open(&cache_path).await.unwrap();
    let checker = sign_in(&server.url, "admin@acme.test").await;
    let owner = sign_in(&server.url, OWNER).await;
    owner.sync(&cache, |_| {}).await.unwrap();
    let page = cache.list_users(&UserListQuery { limit: Some(12), ..Default::default() }).await.unwrap();
    let ids: Vec<String> = page.items.iter().map(|u| u.id.clone()).collect();
    let mut expected: HashMap<String, Expected> = HashMap::new();
    for id in &ids {
        let v = checker.get_user_versioned(id).await.unwrap();
        expected.insert(id.clone(), Expected { first_name: v.value.first_name.clone(), mark: String::new(), version: etag_version(&v.etag).unwrap() });
    }

    let (mut client_kills, mut server_kills, mut runs, mut queued) = (0u32, 0u32, 0u32, 0i64);
    let (mut undisturbed, mut undisturbed_runs) = (Duration::ZERO, 0u32);
    for trial in 0..trials {
        // Queue 1–4 edits of random users, each setting values no other edit sets.
        let edits = 1 + rng.below(4);
        for e in 0..edits {
            let id = &ids[rng.below(ids.len() as u64) as usize];
            let mark = format!("t{trial}e{e}");
            let first = format!("F{trial}x{e}");
            let patch = UserPatch {
                first_name: Some(first.clone()),
                custom_attributes: Some([("mark".to_owned(), Some(mark.clone()))].into()),
                ..Default::default()
            };
            cache.enqueue_user_edit(id, &patch).await.unwrap();
            let exp = expected.get_mut(id).unwrap();
            exp.first_name = first;
            exp.mark = mark;
            exp.version += 1;
            queued += 1;
        }
        // Replay in client processes killed at random moments, with the server killed at
        // random moments too, until one run finishes the outbox.
        let mut attempt = 0;
        loop {
            attempt += 1;
            runs += 1;
            let mut child = spawn_child(&server.url, &cache_path);
            // Tells when the child starts replaying.
            let (tx, replaying) = std::sync::mpsc::channel();
            let out = child.stdout.take().unwrap();
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    if line == "replaying" {
                        let _ = tx.send(());
                    }
                }
            });
            let calm = attempt > 6; // never starve: later runs go undisturbed
            let kill_client = !calm && rng.chance(70);
            let kill_server = !calm && rng.chance(30);
            // Within the replay: a few milliseconds, in which 1–4 requests go out.
            let client_at = Duration::from_micros(rng.below(20_000));
            let server_at = Duration::from_micros(rng.below(20_000));
            let started = std::time::Instant::now();
            if (kill_client || kill_server) && replaying.recv_timeout(Duration::from_secs(30)).is_ok() {
                let since = std::time::Instant::now();
                let (mut client_done, mut server_done) = (!kill_client, !kill_server);
                while !(client_done && server_done) {
                    let now = since.elapsed();
                    if !client_done && now >= client_at {
                        // Counted only when it cut a running process short.
                        if child.try_wait().unwrap().is_none() {
                            let _ = child.kill();
                            client_kills += 1;
                        }
                        client_done = true;
                    }
                    if !server_done && now >= server_at {
                        server.kill();
                        server_kills += 1;
                        server.restart();
                        server_done = true;
                    }
                    std::thread::sleep(Duration::from_micros(200));
                }
            }
            let status = child.wait().unwrap();
            if !kill_client {
                undisturbed += started.elapsed();
                undisturbed_runs += 1;
            }
            if status.code() == Some(CHILD_DONE) {
                break;
            }
            assert!(attempt < 40, "trial {trial} (seed {seed}): the outbox never drained");
        }
        assert_eq!(cache.outbox_counts().await.unwrap(), (0, 0, 0), "trial {trial} (seed {seed}): nothing conflicted or failed");
        // The server holds exactly what was queued, each edit applied once.
        for id in &ids {
            let exp = &expected[id];
            let now = checker.get_user_versioned(id).await.unwrap();
            let mark = now.value.custom_attributes.get("mark").cloned().unwrap_or_default();
            assert_eq!(
                (now.value.first_name.as_str(), mark.as_str(), etag_version(&now.etag).unwrap()),
                (exp.first_name.as_str(), exp.mark.as_str(), exp.version),
                "trial {trial} (seed {seed}), user {id}: (name, last edit, version)"
            );
        }
    }
    // Each edit reached the server as a fresh request exactly once: one stored response per
    // edit. A client that re-sent an edit under a new key would show more (its second
    // application writes the same values, so only this count can tell).
    let db = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=ro", server.db_path().display())).await.unwrap();
    let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM idempotency_keys WHERE status = 200").fetch_one(&db).await.unwrap();
    assert_eq!(applied, queued, "seed {seed}: requests applied vs edits queued");
    db.close().await;
    // After a final sync the cache shows the server's state, marks cleared.
    owner.sync(&cache, |_| {}).await.unwrap();
    let marks = cache.local_states(&ids.iter().map(String::as_str).collect::<Vec<_>>()).await.unwrap();
    assert!(marks.is_empty(), "{marks:?}");
    eprintln!(
        "fault injection: {trials} trials, {runs} client runs, {client_kills} client processes killed while running, \
         {server_kills} server kills; an unkilled client run took {:?} on average",
        undisturbed / undisturbed_runs.max(1)
    );
}
