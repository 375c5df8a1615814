//! Sign-in abuse (SPEC S5): guesses are reserved before any password is hashed, and the
//! hashing itself runs in a bounded pool.
//!
//! A guess is a `login_attempts` row written as `failure`/`checking` by one statement that
//! also counts the window: SQLite runs one writer at a time, so N parallel guesses for one
//! account see each other's reservations and at most the configured number are checked.
//! The row is settled afterwards with the real result; a process that dies mid-check
//! leaves it counted, which fails closed. The account lock counts by typed address *and*
//! the client's network (/24, /64), so guessing from one network cannot keep the Owner
//! out from another, and an administrator's unlock starts the address's count afresh.

use crate::app::SignInLimits;
use crate::error::{ApiError, Result};
use crate::store::{self, Db};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use gatehouse_api::codes;
use std::net::IpAddr;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// The network a client address belongs to for the account lock: its /24 (IPv4) or /64
/// (IPv6); anything else as it is.
pub fn network_of(ip: &str) -> String {
    match ip.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.0/24")
        }
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => network_of(&v4.to_string()),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        Err(_) => ip.to_owned(),
    }
}

/// Why a sign-in is refused before its password is even checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Too many failed sign-ins from this address.
    RateLimited {
        /// Seconds until the window frees a guess.
        retry_after: i64,
    },
    /// Too many failed sign-ins for this address typed, from this network.
    Locked {
        /// Seconds until the window frees a guess.
        retry_after: i64,
    },
    /// A limit is full only of sign-ins still being checked (a burst): try again in a second.
    Busy,
}

impl Refusal {
    /// The login attempt's reason.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::RateLimited { .. } | Self::Busy => "rate_limited",
            Self::Locked { .. } => "locked",
        }
    }

    /// The 429 answer, with `Retry-After`.
    pub fn into_error(self) -> ApiError {
        let (code, seconds, detail) = match self {
            Self::Busy => {
                return ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    codes::RATE_LIMITED,
                    "Other sign-ins with this address are being checked right now; try again in a second.",
                )
                .with_retry_after(1);
            }
            Self::RateLimited { retry_after } => {
                (codes::RATE_LIMITED, retry_after, "Too many failed sign-ins from your network address; wait before trying again.")
            }
            Self::Locked { retry_after } => (
                codes::ACCOUNT_LOCKED,
                retry_after,
                "Too many failed sign-ins for this account from your network; it is locked for a while. Wait, or ask an administrator to unlock it.",
            ),
        };
        let minutes = (seconds + 59) / 60;
        ApiError::new(StatusCode::TOO_MANY_REQUESTS, code, format!("{detail} Try again in {minutes} min."))
            .with_retry_after(u64::try_from(seconds).unwrap_or(1).max(1))
    }
}

/// One guess, reserved: the login attempt row that the check settles.
#[derive(Debug)]
pub struct Reservation {
    /// The row's id.
    pub id: i64,
}

/// Who is guessing, as the reservation records it.
pub struct Guess<'a> {
    /// The address typed, lower-cased.
    pub email: &'a str,
    /// The account it names, if any.
    pub user_id: Option<&'a str>,
    /// That account's organization (or the only one).
    pub org_id: Option<&'a str>,
    /// The client's address.
    pub ip: &'a str,
    /// The client's User-Agent.
    pub user_agent: &'a str,
}

/// Reserves a guess unless a limit is reached; counting and reserving are one statement.
pub async fn reserve(db: &Db, limits: &SignInLimits, guess: &Guess<'_>, now: DateTime<Utc>) -> Result<std::result::Result<Reservation, Refusal>> {
    let network = network_of(guess.ip);
    let ip_since = now - limits.ip_window;
    let account_since = now - limits.account_window;
    let reserved = store::attempts::reserve(
        db,
        guess,
        &network,
        store::attempts::Window { failures: limits.ip_failures, since: ip_since },
        store::attempts::Window { failures: limits.account_failures, since: account_since },
        now,
    )
    .await?;
    if let Some(id) = reserved {
        return Ok(Ok(Reservation { id }));
    }
    let left = |oldest: Option<DateTime<Utc>>, window: chrono::Duration| oldest.map_or(1, |o| (o + window - now).num_seconds().max(1));
    // Which limit it was, and when it frees a guess: the oldest guess that fills it.
    let ip_full: Option<DateTime<Utc>> = if limits.ip_failures == 0 || guess.ip.is_empty() {
        None
    } else {
        store::attempts::nth_latest_from_ip(db, guess.ip, ip_since, limits.ip_failures, false).await?
    };
    // Guesses still being checked fill a limit only while they are hashed: when settled
    // failures alone do not fill it, a burst of sign-ins (a script, many devices at once)
    // is told to try again in a second, not that the account is locked for minutes.
    if ip_full.is_some() {
        let settled = store::attempts::nth_latest_from_ip(db, guess.ip, ip_since, limits.ip_failures, true).await?;
        return Ok(Err(match settled {
            Some(_) => Refusal::RateLimited { retry_after: left(settled, limits.ip_window) },
            None => Refusal::Busy,
        }));
    }
    let oldest = store::attempts::nth_latest_for_account(db, guess.email, &network, account_since, limits.account_failures.max(1)).await?;
    Ok(Err(match oldest {
        Some(_) => Refusal::Locked { retry_after: left(oldest, limits.account_window) },
        None => Refusal::Busy,
    }))
}

/// How many argon2 computations run at once, and how many more may wait: each takes
/// 19 MiB and tens of milliseconds of a core, so an unbounded burst would exhaust memory
/// and starve everything else. Past the queue, requests are answered 503 at once.
pub struct HashPool {
    running: Arc<Semaphore>,
    admitted: Arc<Semaphore>,
}

impl HashPool {
    /// A pool running `concurrent` hashes with `queued` more waiting.
    pub fn new(concurrent: usize, queued: usize) -> Self {
        Self { running: Arc::new(Semaphore::new(concurrent.max(1))), admitted: Arc::new(Semaphore::new(concurrent.max(1) + queued)) }
    }

    /// Runs `work` (CPU-heavy) on a blocking thread when a slot is free; `server_busy`
    /// (503, `Retry-After: 1`) when the pool and its queue are full.
    pub async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        let Ok(_admitted) = self.admitted.clone().try_acquire_owned() else {
            return Err(busy());
        };
        let _running = self.running.clone().acquire_owned().await.map_err(|e| ApiError::Internal(e.into()))?;
        tokio::task::spawn_blocking(work).await.map_err(|e| ApiError::Internal(e.into()))
    }
}

fn busy() -> ApiError {
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, codes::SERVER_BUSY, "The server is checking too many passwords at once; try again in a second.")
        .with_retry_after(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_are_slash_24_and_slash_64() {
        assert_eq!(network_of("203.0.113.77"), "203.0.113.0/24");
        assert_eq!(network_of("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
        assert_eq!(network_of("::ffff:198.51.100.9"), "198.51.100.0/24");
        assert_eq!(network_of(""), "");
    }

    #[tokio::test]
    async fn a_full_pool_refuses_at_once_instead_of_queueing() {
        let pool = Arc::new(HashPool::new(1, 1));
        let gate = Arc::new(std::sync::Barrier::new(2));
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        // One running (held at the barrier), one waiting for it: the pool is full.
        let running = {
            let (pool, gate) = (pool.clone(), gate.clone());
            tokio::spawn(async move {
                pool.run(move || {
                    let _ = started_tx.send(());
                    gate.wait();
                })
                .await
            })
        };
        tokio::task::spawn_blocking(move || started_rx.recv()).await.unwrap().unwrap();
        let waiting = {
            let pool = pool.clone();
            tokio::spawn(async move { pool.run(|| 2).await })
        };
        while pool.admitted.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        let refused = pool.run(|| 3).await.unwrap_err();
        assert_eq!(refused.problem().code, codes::SERVER_BUSY);
        tokio::task::spawn_blocking(move || gate.wait()).await.unwrap();
        running.await.unwrap().unwrap();
        assert_eq!(waiting.await.unwrap().unwrap(), 2);
        // Freed again.
        assert_eq!(pool.run(|| 4).await.unwrap(), 4);
    }
}
