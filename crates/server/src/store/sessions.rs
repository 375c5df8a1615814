//! Sessions: the row every request reads, lists, and revocation.

use super::{Conn, Db};
use crate::error::Result;
use chrono::{DateTime, Utc};
use gatehouse_api::Session;
use sqlx::QueryBuilder;

/// What a request needs of its session and user.
#[derive(sqlx::FromRow)]
pub struct Live {
    /// The user.
    pub user_id: String,
    /// The organization.
    pub org_id: String,
    /// Last written activity.
    pub last_active_at: DateTime<Utc>,
    /// Set once revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// The user's status.
    pub status: String,
    /// The session must enrol MFA first.
    pub mfa_pending: bool,
    /// When it last confirmed its password.
    pub stepped_up_at: Option<DateTime<Utc>>,
    /// Sign-in time.
    pub created_at: DateTime<Utc>,
}

/// The session row read on every request.
pub async fn live(db: &Db, session_id: &str) -> Result<Option<Live>> {
    on!(db, |db| {
        Ok(sqlx::query_as(
            "SELECT s.user_id, s.org_id, s.last_active_at, s.revoked_at, u.status, s.mfa_pending, s.stepped_up_at, s.created_at
         FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1",
        )
        .bind(session_id)
        .fetch_optional(db)
        .await?)
    })
}

/// Writes "last active" of the session and its user.
pub async fn touch(conn: &mut Conn, session_id: &str, user_id: &str, now: DateTime<Utc>) -> Result<()> {
    on!(conn, |conn| {
        sqlx::query("UPDATE sessions SET last_active_at = $1 WHERE id = $2").bind(now).bind(session_id).execute(&mut *conn).await?;
        sqlx::query("UPDATE users SET last_active_at = $1 WHERE id = $2").bind(now).bind(user_id).execute(&mut *conn).await?;
        Ok(())
    })
}

/// A validated page request of sessions.
pub struct PageQuery<'a> {
    /// The organization.
    pub org_id: &'a str,
    /// Only this user's.
    pub user_id: Option<&'a str>,
    /// Only live ones: not revoked and active since then.
    pub live_since: Option<DateTime<Utc>>,
    /// Lower-case search text.
    pub q: Option<&'a str>,
    /// Keyset position: (created_at key, id) of the last row shown.
    pub after: Option<&'a [String]>,
    /// Rows wanted (one more is read to know whether a next page exists).
    pub limit: u32,
}

/// A session and its keyset position.
#[derive(sqlx::FromRow)]
pub struct Listed {
    id: String,
    user_id: String,
    user_name: String,
    user_email: String,
    device: String,
    user_agent: String,
    ip: String,
    created_at: DateTime<Utc>,
    /// The sort key as stored, for the cursor.
    pub created_key: String,
    last_active_at: DateTime<Utc>,
    trusted_device: bool,
    revoked_at: Option<DateTime<Utc>>,
    revoked_reason: Option<String>,
}

impl Listed {
    /// The session id.
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl From<Listed> for Session {
    fn from(r: Listed) -> Self {
        Self {
            id: r.id,
            user_id: r.user_id,
            user_name: r.user_name,
            user_email: r.user_email,
            device: r.device,
            user_agent: r.user_agent,
            ip: r.ip,
            created_at: r.created_at,
            last_active_at: r.last_active_at,
            trusted_device: r.trusted_device,
            revoked_at: r.revoked_at,
            revoked_reason: r.revoked_reason,
        }
    }
}

/// Up to `limit + 1` sessions, newest first.
pub async fn page(db: &Db, query: &PageQuery<'_>) -> Result<Vec<Listed>> {
    let backend = db.backend();
    let select = format!(
        "SELECT s.id, s.user_id, u.display_name AS user_name, u.email AS user_email, s.device, s.user_agent, s.ip, \
         s.created_at, {} AS created_key, s.last_active_at, s.trusted_device, s.revoked_at, s.revoked_reason \
         FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.org_id = ",
        backend.ts_key("s.created_at")
    );
    let (open, close) = backend.ts_param();
    on!(db, |db| {
        let mut qb = QueryBuilder::new(select.clone());
        qb.push_bind(query.org_id.to_owned());
        if let Some(user_id) = query.user_id {
            qb.push(" AND s.user_id = ").push_bind(user_id.to_owned());
        }
        if let Some(since) = query.live_since {
            qb.push(" AND s.revoked_at IS NULL AND s.last_active_at >= ").push_bind(since);
        }
        if let Some(q) = query.q {
            let pattern = gatehouse_api::substring_like_pattern(q);
            qb.push(" AND (u.search_text LIKE ").push_bind(pattern.clone()).push(" ESCAPE '\\'");
            qb.push(" OR s.ip LIKE ").push_bind(pattern.clone()).push(" ESCAPE '\\'");
            qb.push(" OR lower(s.device) LIKE ").push_bind(pattern).push(" ESCAPE '\\')");
        }
        if let Some(after) = query.after {
            qb.push(" AND (s.created_at, s.id) < (")
                .push(open)
                .push_bind(after[0].clone())
                .push(close)
                .push(", ")
                .push_bind(after[1].clone())
                .push(")");
        }
        qb.push(" ORDER BY s.created_at DESC, s.id DESC LIMIT ").push_bind(i64::from(query.limit) + 1);
        Ok(qb.build_query_as().fetch_all(db).await?)
    })
}

/// Ends every live session of `user_id`; returns how many.
pub async fn end_all(conn: &mut Conn, user_id: &str, reason: &str, now: DateTime<Utc>) -> Result<u64> {
    on!(conn, |conn| {
        Ok(sqlx::query("UPDATE sessions SET revoked_at = $1, revoked_reason = $2 WHERE user_id = $3 AND revoked_at IS NULL")
            .bind(now)
            .bind(reason)
            .bind(user_id)
            .execute(conn)
            .await?
            .rows_affected())
    })
}

/// Withdraws every trusted-device grant of `user_id`; returns how many there were.
pub async fn withdraw_trusted_devices(conn: &mut Conn, user_id: &str) -> Result<u64> {
    on!(conn, |conn| {
        Ok(sqlx::query("UPDATE sessions SET trusted_device = FALSE WHERE user_id = $1 AND trusted_device = TRUE")
            .bind(user_id)
            .execute(conn)
            .await?
            .rows_affected())
    })
}

/// What a revocation needs to know of a session.
#[derive(sqlx::FromRow)]
pub struct Brief {
    /// Its user.
    pub user_id: String,
    /// Its device description.
    pub device: String,
    /// Its address.
    pub ip: String,
    /// Set once revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A session of the organization.
pub async fn brief(db: &Db, org_id: &str, id: &str) -> Result<Option<Brief>> {
    on!(db, |db| {
        Ok(sqlx::query_as("SELECT user_id, device, ip, revoked_at FROM sessions WHERE id = $1 AND org_id = $2")
            .bind(id)
            .bind(org_id)
            .fetch_optional(db)
            .await?)
    })
}

/// Revokes one live session (and its trusted device); false when it was no longer live.
pub async fn revoke(conn: &mut Conn, id: &str, now: DateTime<Utc>) -> Result<bool> {
    on!(conn, |conn| {
        let done = sqlx::query(
            "UPDATE sessions SET revoked_at = $1, revoked_reason = 'revoked', trusted_device = FALSE WHERE id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .execute(conn)
        .await?;
        Ok(done.rows_affected() == 1)
    })
}

/// When the session was revoked.
pub async fn revoked_at(db: &Db, id: &str) -> Result<Option<DateTime<Utc>>> {
    on!(db, |db| { Ok(sqlx::query_scalar("SELECT revoked_at FROM sessions WHERE id = $1").bind(id).fetch_optional(db).await?.flatten()) })
}

/// Records that the session confirmed its password now.
pub async fn stepped_up(conn: &mut Conn, id: &str, now: DateTime<Utc>) -> Result<()> {
    on!(conn, |conn| {
        sqlx::query("UPDATE sessions SET stepped_up_at = $1 WHERE id = $2").bind(now).bind(id).execute(conn).await?;
        Ok(())
    })
}

/// The user enrolled MFA: none of their sessions waits for it any more.
pub async fn mfa_enrolled(conn: &mut Conn, user_id: &str) -> Result<()> {
    on!(conn, |conn| {
        sqlx::query("UPDATE sessions SET mfa_pending = FALSE WHERE user_id = $1 AND mfa_pending = TRUE").bind(user_id).execute(conn).await?;
        Ok(())
    })
}

/// A session about to begin.
pub struct NewSession<'a> {
    /// Its id.
    pub id: &'a str,
    /// Its user.
    pub user_id: &'a str,
    /// Its organization.
    pub org_id: &'a str,
    /// The client's User-Agent.
    pub user_agent: &'a str,
    /// The device as people read it.
    pub device: &'a str,
    /// The client's address.
    pub ip: &'a str,
    /// It must enrol MFA before anything else.
    pub mfa_pending: bool,
    /// The hash of the trusted-device token it was granted, if any.
    pub trusted_device_hash: Option<&'a str>,
}

/// Begins a session.
pub async fn create(conn: &mut Conn, new: &NewSession<'_>, now: DateTime<Utc>) -> Result<()> {
    on!(conn, |conn| {
        sqlx::query(
        "INSERT INTO sessions (id, user_id, org_id, user_agent, device, ip, created_at, last_active_at, mfa_pending, trusted_device, trusted_device_hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9, $10)",
    )
    .bind(new.id)
    .bind(new.user_id)
    .bind(new.org_id)
    .bind(new.user_agent)
    .bind(new.device)
    .bind(new.ip)
    .bind(now)
    .bind(new.mfa_pending)
    .bind(new.trusted_device_hash.is_some())
    .bind(new.trusted_device_hash)
    .execute(conn)
    .await?;
        Ok(())
    })
}

/// Whether a session of the user begun after `since` holds the trusted-device token.
pub async fn trusts_device(db: &Db, user_id: &str, token_hash: &str, since: DateTime<Utc>) -> Result<bool> {
    on!(db, |db| {
        let found: Option<i32> = sqlx::query_scalar(
            "SELECT 1 FROM sessions WHERE trusted_device_hash = $1 AND user_id = $2 AND trusted_device = TRUE AND created_at > $3 LIMIT 1",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(since)
        .fetch_optional(db)
        .await?;
        Ok(found.is_some())
    })
}

/// Ends one session (if still live) for `reason`.
pub async fn end(conn: &mut Conn, id: &str, reason: &str, now: DateTime<Utc>) -> Result<()> {
    on!(conn, |conn| {
        sqlx::query("UPDATE sessions SET revoked_at = $1, revoked_reason = $2 WHERE id = $3 AND revoked_at IS NULL")
            .bind(now)
            .bind(reason)
            .bind(id)
            .execute(conn)
            .await?;
        Ok(())
    })
}

/// Stores a refresh token (its hash) of the session.
pub async fn add_refresh_token(conn: &mut Conn, token_hash: &str, session_id: &str, now: DateTime<Utc>, expires_at: DateTime<Utc>) -> Result<()> {
    on!(conn, |conn| {
        sqlx::query("INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(token_hash)
            .bind(session_id)
            .bind(now)
            .bind(expires_at)
            .execute(conn)
            .await?;
        Ok(())
    })
}

/// A refresh token with its session and user.
#[derive(sqlx::FromRow)]
pub struct Refresh {
    /// The session.
    pub session_id: String,
    /// Its user.
    pub user_id: String,
    /// Its organization.
    pub org_id: String,
    /// When the token stops working.
    pub expires_at: DateTime<Utc>,
    /// Set once it was used.
    pub used_at: Option<DateTime<Utc>>,
    /// Set once the session was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// The user's status.
    pub status: String,
    /// The session must enrol MFA first.
    pub mfa_pending: bool,
    /// Sign-in time.
    pub created_at: DateTime<Utc>,
}

/// The refresh token of this hash.
pub async fn refresh_token(conn: &mut Conn, token_hash: &str) -> Result<Option<Refresh>> {
    on!(conn, |conn| {
        Ok(sqlx::query_as(
            "SELECT t.session_id, s.user_id, s.org_id, t.expires_at, t.used_at, s.revoked_at, u.status, s.mfa_pending, s.created_at
         FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id JOIN users u ON u.id = s.user_id
         WHERE t.token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(conn)
        .await?)
    })
}

/// Spends a refresh token; false when it was used meanwhile.
pub async fn spend_refresh_token(conn: &mut Conn, token_hash: &str, now: DateTime<Utc>) -> Result<bool> {
    on!(conn, |conn| {
        let spent = sqlx::query("UPDATE refresh_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL")
            .bind(now)
            .bind(token_hash)
            .execute(conn)
            .await?;
        Ok(spent.rows_affected() == 1)
    })
}

/// Ends the organization's sessions of users without MFA (it was just required), all but
/// `own_session`; returns how many.
pub async fn end_without_mfa(conn: &mut Conn, org_id: &str, own_session: &str, now: DateTime<Utc>) -> Result<u64> {
    on!(conn, |conn| {
        Ok(sqlx::query(
            "UPDATE sessions SET revoked_at = $1, revoked_reason = 'mfa_required' \
         WHERE org_id = $2 AND revoked_at IS NULL AND id <> $3 AND user_id IN (SELECT id FROM users WHERE org_id = $2 AND mfa_enabled = FALSE)",
        )
        .bind(now)
        .bind(org_id)
        .bind(own_session)
        .execute(conn)
        .await?
        .rows_affected())
    })
}

/// Whether session `id` may still stream changes: not revoked, its account active.
pub async fn may_stream(db: &Db, id: &str) -> Result<bool> {
    on!(db, |db| {
        let alive: Option<i32> = sqlx::query_scalar(
            "SELECT 1 FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1 AND s.revoked_at IS NULL AND u.status = 'active'",
        )
        .bind(id)
        .fetch_optional(db)
        .await?;
        Ok(alive.is_some())
    })
}
