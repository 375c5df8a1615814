//! Login attempts: the sign-in log and the brute-force counters read from it.

use super::{Conn, Db};
use crate::error::Result;
use crate::throttle::Guess;
use chrono::{DateTime, Utc};
use sqlx::QueryBuilder;

/// Failures that count towards a lock or a rate limit: guesses (and guesses being
/// checked), not refusals of ours.
const GUESSES: &str = "('bad_password', 'unknown_user', 'mfa_failed', 'checking')";

/// [`GUESSES`] that were checked and failed (not those still being checked).
const SETTLED_GUESSES: &str = "('bad_password', 'unknown_user', 'mfa_failed')";

/// A limit's window: at most `failures` guesses after `since` (0: no limit).
pub struct Window {
    /// How many guesses the window holds.
    pub failures: u32,
    /// Where it starts.
    pub since: DateTime<Utc>,
}

/// Reserves `guess` as an attempt being checked, in one statement that also counts both
/// windows — the client address's and the address-and-network's (after its last unlock)
/// — unless either is full. The reserved attempt's id.
///
/// No unlock yet compares as `'-infinity'`: PostgreSQL reads it as the earliest time, SQLite
/// as text below every stored RFC 3339 time.
pub async fn reserve(db: &Db, guess: &Guess<'_>, network: &str, ip: Window, account: Window, now: DateTime<Utc>) -> Result<Option<i64>> {
    // Counting and inserting must not interleave with another guess's: on PostgreSQL two
    // statements at once would each count without the other's row.
    let mut tx = super::write(db).await?;
    let reserved: Option<i64> = on!(&mut tx, |conn| {
        let sql = format!(
            "INSERT INTO login_attempts (at, email, network, user_id, org_id, ip, user_agent, result, reason) \
         SELECT $1, $2, $3, $4, $5, $6, $7, 'failure', 'checking' \
         WHERE ($8 = 0 OR $6 = '' OR (SELECT COUNT(*) FROM login_attempts WHERE ip = $6 AND at > $9 AND result = 'failure' AND reason IN {GUESSES}) < $8) \
           AND ($10 = 0 OR (SELECT COUNT(*) FROM login_attempts WHERE email = $2 AND network = $3 AND result = 'failure' AND reason IN {GUESSES} \
                 AND at > $11 AND at > COALESCE((SELECT MAX(at) FROM sign_in_unlocks WHERE email = $2), '-infinity')) < $10) \
         RETURNING id"
        );
        sqlx::query_scalar(&sql)
            .bind(now)
            .bind(guess.email)
            .bind(network)
            .bind(guess.user_id)
            .bind(guess.org_id)
            .bind(guess.ip)
            .bind(guess.user_agent)
            .bind(i64::from(ip.failures))
            .bind(ip.since)
            .bind(i64::from(account.failures))
            .bind(account.since)
            .fetch_optional(conn)
            .await?
    });
    tx.commit().await?;
    Ok(reserved)
}

/// When the `n`th latest guess from `ip` after `since` was made (only those checked and
/// failed when `settled`): the guess that fills the window, which frees it when it leaves.
pub async fn nth_latest_from_ip(db: &Db, ip: &str, since: DateTime<Utc>, n: u32, settled: bool) -> Result<Option<DateTime<Utc>>> {
    on!(db, |db| {
        let reasons = if settled { SETTLED_GUESSES } else { GUESSES };
        Ok(sqlx::query_scalar(&format!(
        "SELECT at FROM login_attempts WHERE ip = $1 AND at > $2 AND result = 'failure' AND reason IN {reasons} ORDER BY at DESC LIMIT 1 OFFSET $3"
    ))
    .bind(ip)
    .bind(since)
    .bind(i64::from(n) - 1)
    .fetch_optional(db)
    .await?)
    })
}

/// When the `n`th latest checked and failed guess at `email` from `network` after `since`
/// (and after the address's last unlock) was made.
pub async fn nth_latest_for_account(db: &Db, email: &str, network: &str, since: DateTime<Utc>, n: u32) -> Result<Option<DateTime<Utc>>> {
    on!(db, |db| {
        Ok(sqlx::query_scalar(&format!(
            "SELECT at FROM login_attempts WHERE email = $1 AND network = $2 AND at > $3 AND result = 'failure' AND reason IN {SETTLED_GUESSES} \
         AND at > COALESCE((SELECT MAX(at) FROM sign_in_unlocks WHERE email = $1), '-infinity') ORDER BY at DESC LIMIT 1 OFFSET $4"
        ))
        .bind(email)
        .bind(network)
        .bind(since)
        .bind(i64::from(n) - 1)
        .fetch_optional(db)
        .await?)
    })
}

/// Forgets one attempt (a reservation whose guess turned out right).
pub async fn forget(conn: &mut Conn, id: i64) -> Result<()> {
    on!(conn, |conn| {
        sqlx::query("DELETE FROM login_attempts WHERE id = $1").bind(id).execute(conn).await?;
        Ok(())
    })
}

/// Settles a reserved attempt with its result.
pub async fn settle(conn: &mut Conn, id: i64, result: &str, reason: Option<&str>) -> Result<()> {
    on!(conn, |conn| {
        sqlx::query("UPDATE login_attempts SET result = $1, reason = $2 WHERE id = $3").bind(result).bind(reason).bind(id).execute(conn).await?;
        Ok(())
    })
}

/// Records a refusal (locked, rate limited) unless one like it (address, client, reason)
/// was recorded within the last minute, in one statement: a flood of refused attempts
/// leaves a row a minute, not a row a request. Whether it was recorded.
#[allow(clippy::too_many_arguments)]
pub async fn record_refusal(
    conn: &mut Conn,
    email: &str,
    user_id: Option<&str>,
    org_id: Option<&str>,
    ip: &str,
    user_agent: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    on!(conn, |conn| {
        let inserted = sqlx::query(
            "INSERT INTO login_attempts (at, email, network, user_id, org_id, ip, user_agent, result, reason) \
         SELECT $1, $2, $3, $4, $5, $6, $7, 'failure', $8 \
         WHERE NOT EXISTS (SELECT 1 FROM login_attempts WHERE email = $2 AND ip = $6 AND reason = $8 AND at > $9)",
        )
        .bind(now)
        .bind(email)
        .bind(crate::throttle::network_of(ip))
        .bind(user_id)
        .bind(org_id)
        .bind(ip)
        .bind(user_agent)
        .bind(reason)
        .bind(now - chrono::Duration::minutes(1))
        .execute(&mut *conn)
        .await?;
        Ok(inserted.rows_affected() == 1)
    })
}

/// Lifts the lock of an address: guesses before `now` no longer count against it.
pub async fn unlock(conn: &mut Conn, email: &str, now: DateTime<Utc>) -> Result<()> {
    on!(conn, |conn| {
        sqlx::query("INSERT INTO sign_in_unlocks (email, at) VALUES ($1, $2)").bind(email).bind(now).execute(&mut *conn).await?;
        Ok(())
    })
}

/// What a page of the sign-in log is narrowed to.
pub struct Filter<'a> {
    /// `success` or `failure`.
    pub result: Option<&'a str>,
    /// A failure reason.
    pub reason: Option<&'a str>,
    /// Attempts at this account.
    pub user_id: Option<&'a str>,
    /// Attempts whose typed address contains this (lower-cased).
    pub email: Option<&'a str>,
    /// From this client address.
    pub ip: Option<&'a str>,
    /// At or after.
    pub from: Option<DateTime<Utc>>,
    /// Before.
    pub to: Option<DateTime<Utc>>,
}

/// One attempt as the sign-in log lists it.
#[derive(sqlx::FromRow)]
pub struct Listed {
    /// Its id: the page order.
    pub id: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// The address typed.
    pub email: String,
    /// The account it named, if one.
    pub user_id: Option<String>,
    /// That account's display name now.
    pub user_name: Option<String>,
    /// The client address.
    pub ip: String,
    /// The client's User-Agent.
    pub user_agent: String,
    /// `success` or `failure`.
    pub result: String,
    /// Why it failed.
    pub reason: Option<String>,
}

/// Up to `limit` attempts of `org` that `filter` takes, newest first, before the attempt
/// `before`.
pub async fn page(db: &Db, org: &str, filter: &Filter<'_>, before: Option<i64>, limit: u32) -> Result<Vec<Listed>> {
    on!(db, |db| {
        let mut qb = QueryBuilder::new(
            "SELECT a.id, a.at, a.email, a.user_id, u.display_name AS user_name, a.ip, a.user_agent, a.result, a.reason \
         FROM login_attempts a LEFT JOIN users u ON u.id = a.user_id WHERE a.org_id = ",
        );
        qb.push_bind(org.to_owned());
        if let Some(r) = filter.result {
            qb.push(" AND a.result = ").push_bind(r.to_owned());
        }
        if let Some(r) = filter.reason {
            qb.push(" AND a.reason = ").push_bind(r.to_owned());
        }
        if let Some(u) = filter.user_id {
            qb.push(" AND a.user_id = ").push_bind(u.to_owned());
        }
        if let Some(e) = filter.email {
            let pattern = gatehouse_api::substring_like_pattern(e);
            qb.push(" AND a.email LIKE ").push_bind(pattern).push(" ESCAPE '\\'");
        }
        if let Some(ip) = filter.ip {
            qb.push(" AND a.ip = ").push_bind(ip.to_owned());
        }
        if let Some(f) = filter.from {
            qb.push(" AND a.at >= ").push_bind(f);
        }
        if let Some(t) = filter.to {
            qb.push(" AND a.at < ").push_bind(t);
        }
        if let Some(before) = before {
            qb.push(" AND a.id < ").push_bind(before);
        }
        qb.push(" ORDER BY a.id DESC LIMIT ").push_bind(i64::from(limit));
        Ok(qb.build_query_as().fetch_all(db).await?)
    })
}
