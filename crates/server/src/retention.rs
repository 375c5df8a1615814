//! What security records are kept, and for how long: login attempts, ended sessions (with
//! their refresh tokens), spent or expired refresh tokens and dead reset links are deleted
//! once older than the configured retention, hourly. Audit events have their own,
//! per-organization retention (`store::audit::purge_expired`). [`spawn_maintenance`]
//! is the hourly upkeep that runs both and prunes the change feed.

use crate::error::Result;
use chrono::{DateTime, Utc};

/// Deletes what is older than `keep` at `now`; returns how many rows went.
pub async fn purge(db: &crate::store::Db, now: DateTime<Utc>, keep: chrono::Duration) -> Result<u64> {
    crate::store::maintenance::purge_security_records(db, now - keep).await
}

/// Starts the periodic upkeep, hourly: pruning the change feed and purging audit events
/// past their organization's retention.
pub fn spawn_maintenance(state: crate::app::AppState) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            tick.tick().await;
            match crate::store::changes::prune(&state.db, state.clock.now(), state.config.change_retention).await {
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
