//! The signed-in connection's background work (SPEC C3, C6): sync the local cache from
//! the change feed, replay the outbox, and follow the change stream so the app catches up
//! within a second of any change. Everything the UI reads comes from the cache, so the
//! app keeps working while this says "offline".

use gatehouse_client::api::SyncStatus;
use gatehouse_client::{Cache, Client, Error};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// Delta sync when nothing else prompts one (the stream usually does first).
const ONLINE_INTERVAL: Duration = Duration::from_secs(30);
/// How often an offline app looks for its server again.
const OFFLINE_INTERVAL: Duration = Duration::from_secs(5);
/// A sync this big leaves a lot of freed scratch memory behind.
const BIG_SYNC: u64 = 5000;
/// How often the list refreshes while a first sync fills it.
const FIRST_SYNC_REFRESH: Duration = Duration::from_secs(1);

/// Shared between the worker and the commands.
pub struct Shared {
    /// What the UI polls; `revision` moves whenever what the cache shows changed.
    status: Mutex<SyncStatus>,
    wake: Notify,
    /// Asks the activity task to refresh the cached window (a stored permit, so refreshes
    /// asked for while one runs make one more, not many).
    activity: Notify,
}

impl Shared {
    fn new() -> Self {
        Self {
            status: Mutex::new(SyncStatus {
                online: false,
                last_synced_at: None,
                syncing: false,
                applied: 0,
                total: 0,
                first_sync: false,
                pending: 0,
                conflicts: 0,
                failed: 0,
                error: None,
                revision: 0,
                session_ended: None,
            }),
            wake: Notify::new(),
            activity: Notify::new(),
        }
    }

    /// The status as the UI polls it.
    pub fn status(&self) -> SyncStatus {
        lock(&self.status).clone()
    }

    fn update(&self, f: impl FnOnce(&mut SyncStatus)) {
        f(&mut lock(&self.status));
    }

    /// Something the UI shows changed in the cache.
    pub fn touched(&self) {
        self.update(|s| s.revision += 1);
    }

    /// Ask the worker to sync and replay now.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Ask for the cached activity window to be brought up to date (a no-op for an
    /// account that may not read the log: nothing listens).
    pub fn refresh_activity(&self) {
        self.activity.notify_one();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The running worker of one connection; stops when dropped.
pub struct Worker {
    pub shared: Arc<Shared>,
    tasks: Vec<tauri::async_runtime::JoinHandle<()>>,
}

impl Drop for Worker {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Worker {
    /// Starts syncing `cache` from `client`; with `activity`, also the cached window of the
    /// activity log, after each sync that reached the server.
    pub fn start(client: Arc<Client>, cache: Cache, last_synced_at: Option<String>, activity: bool) -> Self {
        let shared = Arc::new(Shared::new());
        shared.update(|s| s.last_synced_at = last_synced_at);
        let mut tasks = vec![tauri::async_runtime::spawn(follow_stream(client.clone(), shared.clone()))];
        if activity {
            tasks.push(tauri::async_runtime::spawn(refresh_activity(client.clone(), cache.clone(), shared.clone())));
        }
        tasks.push(tauri::async_runtime::spawn(run(client, cache, shared.clone())));
        Self { shared, tasks }
    }
}

async fn refresh_counts(cache: &Cache, shared: &Shared) {
    if let Ok((pending, conflicts, failed)) = cache.outbox_counts().await {
        shared.update(|s| {
            s.pending = pending;
            s.conflicts = conflicts;
            s.failed = failed;
        });
    }
}

async fn run(client: Arc<Client>, cache: Cache, shared: Arc<Shared>) {
    let mut was_online = false;
    loop {
        refresh_counts(&cache, &shared).await;
        let first = matches!(cache.cursor().await, Ok(None));
        shared.update(|s| {
            s.syncing = true;
            s.first_sync = first;
            s.applied = 0;
            s.total = 0;
        });
        // During a first sync the list fills in as pages arrive, but at most once a
        // second: each refresh re-reads a list index that every page invalidates.
        let shown = Mutex::new(Instant::now());
        let progress = |p: gatehouse_client::SyncProgress| {
            shared.update(|s| {
                s.applied = p.applied;
                s.total = p.applied + p.remaining;
            });
            if first && lock(&shown).elapsed() >= FIRST_SYNC_REFRESH {
                *lock(&shown) = Instant::now();
                shared.touched();
            }
        };
        let synced = client.sync(&cache, progress).await;
        shared.update(|s| s.syncing = false);
        let online = match synced {
            Ok(outcome) => {
                if outcome.applied > BIG_SYNC {
                    // Build the list index now, before the UI asks, and hand the sync's
                    // scratch memory back to the system.
                    let _ = cache.build_index().await;
                    release_free_memory();
                }
                if outcome.applied > 0 {
                    shared.touched();
                }
                let now = chrono_now();
                cache.set_meta("last_synced_at", &now).await.ok();
                shared.update(|s| {
                    s.online = true;
                    s.error = None;
                    s.last_synced_at = Some(now);
                });
                true
            }
            Err(e) => {
                if let Some(reason) = ended(&e) {
                    end(&shared, reason);
                    return;
                }
                tracing::info!(error = %e, "sync failed");
                shared.update(|s| {
                    s.online = matches!(e, Error::Api(_));
                    s.error = Some(e.to_string());
                });
                !matches!(e, Error::Unreachable { .. } | Error::Protocol(_))
            }
        };
        if online {
            if !was_online {
                // Back online: queued changes go out now, not after their backoff.
                cache.retry_now().await.ok();
            }
            match client.replay(&cache).await {
                Ok(outcome) => {
                    if outcome.confirmed + outcome.conflicts + outcome.failed > 0 {
                        shared.touched();
                    }
                    if let Some(why) = outcome.last_error {
                        shared.update(|s| {
                            s.online = false;
                            s.error = Some(why);
                        });
                    }
                }
                Err(e) => {
                    if let Some(reason) = ended(&e) {
                        end(&shared, reason);
                        return;
                    }
                    tracing::warn!(error = %e, "replay failed");
                }
            }
        }
        was_online = online && lock(&shared.status).online;
        if was_online {
            // On its own task: the user sync never waits for the activity log.
            shared.refresh_activity();
        }
        refresh_counts(&cache, &shared).await;
        let wait = if was_online { ONLINE_INTERVAL } else { OFFLINE_INTERVAL };
        let _ = tokio::time::timeout(wait, shared.wake.notified()).await;
    }
}

/// Keeps the cached activity window up to date, one refresh at a time, whenever asked.
/// Failures wait for the next ask: the main loop decides what offline or a session's end
/// means.
async fn refresh_activity(client: Arc<Client>, cache: Cache, shared: Arc<Shared>) {
    loop {
        shared.activity.notified().await;
        let started = Instant::now();
        match client.refresh_activity_window(&cache, chrono::Utc::now()).await {
            Ok(r) => tracing::debug!(fetched = r.fetched, pruned = r.pruned, ms = started.elapsed().as_millis() as u64, "activity window refreshed"),
            Err(e) => tracing::info!(error = %e, "activity refresh failed"),
        }
    }
}

/// Wakes the worker whenever the server says the feed moved; reconnects after failures.
async fn follow_stream(client: Arc<Client>, shared: Arc<Shared>) {
    loop {
        let result = client.watch_changes(|_| shared.wake()).await;
        if let Err(e) = &result {
            if let Some(reason) = ended(e) {
                end(&shared, reason);
                shared.wake();
                return;
            }
            tracing::debug!(error = %e, "change stream interrupted");
        }
        // Reconnecting is also "on reconnect": sync once the stream is back.
        tokio::time::sleep(OFFLINE_INTERVAL).await;
        shared.wake();
    }
}

fn ended(e: &Error) -> Option<String> {
    match e {
        Error::SessionExpired { reason } => Some(reason.clone()),
        Error::NotSignedIn => Some("Sign in to continue.".into()),
        _ => None,
    }
}

fn end(shared: &Shared, reason: String) {
    tracing::info!("session ended: {reason}");
    shared.update(|s| {
        s.online = false;
        s.session_ended = Some(reason);
    });
}

/// Returns freed heap pages to the system: glibc keeps them per thread otherwise, and a
/// first sync of 100 000 users frees hundreds of megabytes on several threads.
fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free pages of the heap; no live allocation moves.
    unsafe {
        libc::malloc_trim(0);
    }
}

fn chrono_now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
