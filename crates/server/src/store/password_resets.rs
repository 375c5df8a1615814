//! Password-reset links (their hashes).

use super::{Conn, Db};
use crate::error::Result;
use chrono::{DateTime, Utc};

#[derive(sqlx::FromRow)]
/// A reset link as stored, with its user's status.
pub struct Link {
    /// Its user.
    pub user_id: String,
    /// Its organization.
    pub org_id: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// Set once used.
    pub used_at: Option<DateTime<Utc>>,
    /// Set once a newer link replaced it.
    pub superseded_at: Option<DateTime<Utc>>,
    /// Its user's status.
    pub status: String,
}

/// Stores a new link for the user and supersedes the ones still open.
pub async fn replace(
    conn: &mut Conn,
    token_hash: &str,
    user_id: &str,
    org_id: &str,
    requested_by: Option<&str>,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<()> {
    withdraw_all(conn, user_id, now).await?;
    on!(conn, |conn| {
        sqlx::query(
            "INSERT INTO password_resets (token_hash, user_id, org_id, requested_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(org_id)
        .bind(requested_by)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *conn)
        .await?;
        Ok(())
    })
}

/// When the user's newest link was made.
pub async fn latest(conn: &mut Conn, user_id: &str) -> Result<Option<DateTime<Utc>>> {
    on!(conn, |conn| {
        Ok(sqlx::query_scalar("SELECT max(created_at) FROM password_resets WHERE user_id = $1").bind(user_id).fetch_one(conn).await?)
    })
}

/// The link whose token hashes to `token_hash`.
pub async fn by_hash(db: &Db, token_hash: &str) -> Result<Option<Link>> {
    on!(db, |db| {
        Ok(sqlx::query_as(
            "SELECT r.user_id, r.org_id, r.expires_at, r.used_at, r.superseded_at, u.status \
         FROM password_resets r JOIN users u ON u.id = r.user_id WHERE r.token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(db)
        .await?)
    })
}

/// Spends an open link; false when it was used or superseded meanwhile.
pub async fn spend(conn: &mut Conn, token_hash: &str, now: DateTime<Utc>) -> Result<bool> {
    on!(conn, |conn| {
        let spent = sqlx::query("UPDATE password_resets SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND superseded_at IS NULL")
            .bind(now)
            .bind(token_hash)
            .execute(conn)
            .await?;
        Ok(spent.rows_affected() == 1)
    })
}

/// Supersedes every working reset link of `user_id` (their address changed, or a new
/// link replaces them).
pub async fn withdraw_all(conn: &mut Conn, user_id: &str, now: DateTime<Utc>) -> Result<()> {
    on!(conn, |conn| {
        sqlx::query("UPDATE password_resets SET superseded_at = $1 WHERE user_id = $2 AND used_at IS NULL AND superseded_at IS NULL")
            .bind(now)
            .bind(user_id)
            .execute(&mut *conn)
            .await?;
        Ok(())
    })
}
