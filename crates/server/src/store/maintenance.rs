//! Upkeep: the deletions of the hourly maintenance that belong to no one aggregate.

use super::Db;
use crate::error::Result;
use chrono::{DateTime, Utc};

/// Deletes the security records older than `cutoff` (see [`crate::retention`]); returns
/// how many rows went.
pub async fn purge_security_records(db: &Db, cutoff: DateTime<Utc>) -> Result<u64> {
    let mut tx = crate::store::write(db).await?;
    let mut gone = 0;
    for sql in [
        "DELETE FROM login_attempts WHERE at < $1",
        // A spent token is kept a while for reuse detection; an expired one is dead.
        "DELETE FROM refresh_tokens WHERE (used_at IS NOT NULL AND used_at < $1) OR expires_at < $1",
        // Their refresh tokens go with them (ON DELETE CASCADE).
        "DELETE FROM sessions WHERE revoked_at IS NOT NULL AND revoked_at < $1",
        "DELETE FROM password_resets WHERE (used_at IS NOT NULL AND used_at < $1) OR (superseded_at IS NOT NULL AND superseded_at < $1) OR expires_at < $1",
        "DELETE FROM sign_in_unlocks WHERE at < $1",
    ] {
        gone += on!(&mut tx, |conn| sqlx::query(sql).bind(cutoff).execute(conn).await?.rows_affected());
    }
    tx.commit().await?;
    Ok(gone)
}
