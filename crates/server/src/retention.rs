//! What security records are kept, and for how long: login attempts, ended sessions (with
//! their refresh tokens), spent or expired refresh tokens and dead reset links are deleted
//! once older than the configured retention, hourly. Audit events have their own,
//! per-organization retention (`store::audit::purge_expired`). [`spawn_maintenance`]
//! is the hourly upkeep that runs both and prunes the change feed.

use crate::error::Result;
use chrono::{DateTime, Utc};
use sqlx::SqlitePool;

/// Deletes what is older than `keep` at `now`; returns how many rows went.
pub async fn purge(db: &SqlitePool, now: DateTime<Utc>, keep: chrono::Duration) -> Result<u64> {
    let cutoff = now - keep;
    let mut tx = crate::db::write(db).await?;
    let mut gone = 0;
    for sql in [
        "DELETE FROM login_attempts WHERE at < ?1",
        // A spent token is kept a while for reuse detection; an expired one is dead.
        "DELETE FROM refresh_tokens WHERE (used_at IS NOT NULL AND used_at < ?1) OR expires_at < ?1",
        // Their refresh tokens go with them (ON DELETE CASCADE).
        "DELETE FROM sessions WHERE revoked_at IS NOT NULL AND revoked_at < ?1",
        "DELETE FROM password_resets WHERE (used_at IS NOT NULL AND used_at < ?1) OR (superseded_at IS NOT NULL AND superseded_at < ?1) OR expires_at < ?1",
        "DELETE FROM sign_in_unlocks WHERE at < ?1",
    ] {
        gone += sqlx::query(sql).bind(cutoff).execute(&mut *tx).await?.rows_affected();
    }
    tx.commit().await?;
    Ok(gone)
}

/// Starts the periodic upkeep, hourly: pruning the change feed and purging audit events
/// past their organization's retention.
pub fn spawn_maintenance(state: crate::app::AppState) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            tick.tick().await;
            match crate::routes::changes::prune(&state.db, state.clock.now(), state.config.change_retention).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(dropped = n, "pruned the change feed"),
                Err(e) => tracing::warn!(error = %e, "pruning the change feed failed"),
            }
            match purge(&state.db, state.clock.now(), state.config.security_retention).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(dropped = n, "purged old login attempts, sessions, refresh tokens and reset links"),
                Err(e) => tracing::warn!(error = %e, "purging old security records failed"),
            }
            match crate::store::audit::purge_expired(&state.db, state.clock.now()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(dropped = n, "purged audit events past their retention"),
                Err(e) => tracing::warn!(error = %e, "purging audit events failed"),
            }
        }
    });
}
