//! Removing this computer's copy of an organization (issue 18): at sign-out when the admin
//! asks for it, and when the server revoked the session (`Client::sync` does it then), so a
//! laptop whose admin was shut out does not keep the directory readable.
//!
//! Queued changes are the admin's own unsent work, and only the sign-out question (keep or
//! discard) may drop them. So when the outbox is empty the files go; when it is not, every
//! table but the outbox is emptied and the file is rewritten (`VACUUM`) and its WAL
//! truncated, so the removed rows do not linger in free pages or old WAL frames either.

use crate::cache::Cache;
use crate::error::{Error, Result};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
use sqlx::{ConnectOptions, Connection};
use std::path::{Path, PathBuf};

/// What [`Cache::remove`] left on this computer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// Nothing: the database file and its companions are deleted.
    Everything,
    /// Only this many queued changes, kept to be sent at the next sign-in; the directory,
    /// invitations, activity and every other table are emptied.
    KeptQueuedChanges(u32),
}

/// Tables a removal keeps: the queued changes, the sequence that numbers them (so a number
/// is never reused), and the record of applied migrations.
const KEPT_TABLES: [&str; 3] = ["outbox", "sqlite_sequence", "_sqlx_migrations"];

/// The files SQLite keeps beside a database file.
pub(crate) fn companions(path: &Path) -> [PathBuf; 3] {
    ["-wal", "-shm", "-journal"].map(|suffix| {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    })
}

fn cache_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Cache(format!("removing {}: {e}", path.display()))
}

impl Cache {
    /// Removes this computer's copy of the organization: the whole file when no change is
    /// queued, else everything but the queued changes ([`Removal`]). Every later use of
    /// this `Cache` (and its clones) fails with `Error::NotSignedIn`; open it again for a
    /// new session. Calling it again, also concurrently, does nothing more.
    pub async fn remove(&self) -> Result<Removal> {
        let mut done = self.removal.lock().await;
        if let Some(removal) = *done {
            return Ok(removal);
        }
        // Nothing may write while the copy goes; closing waits for what is running.
        self.db.close().await;
        self.feed.close().await;
        let path = self.path.as_path();
        let removal = if path.exists() { empty(path).await? } else { Removal::Everything };
        if removal == Removal::Everything {
            for file in std::iter::once(path.to_owned()).chain(companions(path)) {
                match std::fs::remove_file(&file) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(cache_error(&file, e)),
                    _ => {}
                }
            }
        }
        *done = Some(removal);
        Ok(removal)
    }
}

/// Empties every table but the outbox, on a connection of its own (the pools are closed);
/// `Everything` when the outbox is empty too, so the caller deletes the files.
async fn empty(path: &Path) -> Result<Removal> {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .journal_mode(SqliteJournalMode::Wal)
        .busy_timeout(std::time::Duration::from_secs(10));
    let mut conn = options.connect().await.map_err(|e| cache_error(path, e))?;
    let queued: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox").fetch_one(&mut conn).await?;
    if queued == 0 {
        conn.close().await?;
        return Ok(Removal::Everything);
    }
    // Every table not kept by name, so a table added later is removed too. Deleting users
    // fills users_touched through its triggers: it is emptied last.
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN (?, ?, ?) ORDER BY name = 'users_touched', name",
    )
    .bind(KEPT_TABLES[0])
    .bind(KEPT_TABLES[1])
    .bind(KEPT_TABLES[2])
    .fetch_all(&mut conn)
    .await?;
    let mut tx = conn.begin().await?;
    for table in &tables {
        sqlx::query(&format!("DELETE FROM \"{}\"", table.replace('"', "\"\""))).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    // The deleted rows are still in free pages and WAL frames until the file is rewritten.
    sqlx::query("VACUUM").execute(&mut conn).await?;
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&mut conn).await?;
    conn.close().await?;
    Ok(Removal::KeptQueuedChanges(u32::try_from(queued).unwrap_or(u32::MAX)))
}
