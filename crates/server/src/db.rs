//! The database: connection, migrations at start-up, the token signing key.

use crate::tokens::{SigningKey, random_bytes};
use anyhow::Context;
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Opens (creating if needed) the SQLite database at `path` and applies migrations.
pub async fn connect(path: &Path) -> anyhow::Result<SqlitePool> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        // Several server processes may share one database file.
        .busy_timeout(Duration::from_secs(10));
    let pool =
        SqlitePoolOptions::new().max_connections(8).connect_with(options).await.with_context(|| format!("opening database {}", path.display()))?;
    sqlx::migrate!("./migrations").run(&pool).await.context("applying database migrations")?;
    Ok(pool)
}

/// The key that signs access tokens, created on first start and shared by every server
/// process on this database.
pub async fn signing_key(pool: &SqlitePool) -> anyhow::Result<SigningKey> {
    sqlx::query("INSERT OR IGNORE INTO server_secrets (name, value) VALUES ('access_token_key', ?)")
        .bind(random_bytes::<32>().to_vec())
        .execute(pool)
        .await?;
    let key: Vec<u8> = sqlx::query_scalar("SELECT value FROM server_secrets WHERE name = 'access_token_key'").fetch_one(pool).await?;
    Ok(SigningKey::new(key))
}

/// Where the database lives when `--db` is not given: the platform data directory
/// (`~/.local/share/gatehouse-server/gatehouse.db` on Linux).
pub fn default_db_path() -> anyhow::Result<PathBuf> {
    let dirs =
        directories::ProjectDirs::from("dev", "gatehouse", "gatehouse-server").context("no home directory to put the database in; pass --db")?;
    Ok(dirs.data_dir().join("gatehouse.db"))
}
