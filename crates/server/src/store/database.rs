//! The database: connection, migrations at start-up, file modes.

use anyhow::Context;
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Opens (creating if needed) the SQLite database at `path` and applies migrations.
pub async fn connect(path: &Path) -> anyhow::Result<SqlitePool> {
    private_files(path)?;
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
    sqlx::migrate!("./migrations/sqlite").run(&pool).await.context("applying database migrations")?;
    Ok(pool)
}

/// The database holds password hashes, sessions and everyone's details: its directory is
/// created 0700 and the file 0600 before SQLite opens it (SQLite gives the `-wal` and
/// `-shm` files the database file's mode), and existing files are tightened to 0600.
fn private_files(path: &Path) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty() && !d.exists()) {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut open = std::fs::OpenOptions::new();
    open.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
    open.open(path).with_context(|| format!("creating {}", path.display()))?;
    #[cfg(unix)]
    for suffix in ["", "-wal", "-shm"] {
        use std::os::unix::fs::PermissionsExt;
        let file = PathBuf::from(format!("{}{suffix}", path.display()));
        if let Ok(meta) = std::fs::metadata(&file)
            && meta.permissions().mode() & 0o077 != 0
        {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).with_context(|| format!("restricting {}", file.display()))?;
        }
    }
    Ok(())
}

/// Opens a write transaction, the one way every change is written.
///
/// `BEGIN IMMEDIATE` takes SQLite's write lock at the start, waiting for it up to the busy
/// timeout while another writer holds it. A deferred `BEGIN` would read first and upgrade
/// at its first write, which SQLite refuses at once ("database is locked") when another
/// connection wrote meanwhile, whatever the timeout: under contention that was a 500.
///
/// The `BEGIN` runs in a task of its own: a request dropped while it waits for the lock (its
/// client went away) must not leave the connection inside a transaction with no guard to
/// end it — the connection would go back to the pool holding the write lock, and every
/// later write would wait for it in vain (the client's `fault` test, which kills clients
/// mid-replay, hung so). Spawned, the transaction always reaches its guard, and a guard
/// nobody takes rolls back when dropped.
pub async fn write(pool: &SqlitePool) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
    let pool = pool.clone();
    match tokio::spawn(async move { pool.begin_with("BEGIN IMMEDIATE").await }).await {
        Ok(begun) => begun,
        Err(e) => Err(sqlx::Error::Protocol(format!("beginning a write transaction: {e}"))),
    }
}

/// Whether `e` is SQLite saying another writer kept the database busy past the timeout:
/// contention, answered 503 with `Retry-After`, never a 500.
pub fn is_busy(e: &sqlx::Error) -> bool {
    match e {
        // SQLITE_BUSY (5) and SQLITE_LOCKED (6), with their extended codes.
        sqlx::Error::Database(db) => db.code().and_then(|c| c.parse::<i32>().ok()).is_some_and(|c| matches!(c & 0xff, 5 | 6)),
        sqlx::Error::PoolTimedOut => true,
        _ => false,
    }
}

/// Where the database lives when `--db` is not given: the platform data directory
/// (`~/.local/share/gatehouse-server/gatehouse.db` on Linux).
pub fn default_db_path() -> anyhow::Result<PathBuf> {
    let dirs =
        directories::ProjectDirs::from("dev", "gatehouse", "gatehouse-server").context("no home directory to put the database in; pass --db")?;
    Ok(dirs.data_dir().join("gatehouse.db"))
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &std::path::Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[tokio::test]
    async fn a_writer_waits_for_the_lock_and_a_lock_held_past_the_timeout_reads_as_busy() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("g.db");
        let pool = super::connect(&path).await.unwrap();
        let mut holder = super::write(&pool).await.unwrap();
        sqlx::query("INSERT INTO organizations (id, name, created_at) VALUES ('o', 'Org', '2026-01-01T00:00:00Z')")
            .execute(&mut *holder)
            .await
            .unwrap();
        // Another process with no patience: its write transaction is refused as busy.
        let impatient = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(sqlx::sqlite::SqliteConnectOptions::new().filename(&path).busy_timeout(std::time::Duration::ZERO))
            .await
            .unwrap();
        let refused = super::write(&impatient).await.expect_err("the lock is held");
        assert!(super::is_busy(&refused), "{refused:?}");
        assert_eq!(crate::ApiError::from(refused).problem().status, 503);
        // A patient writer (the server's own pool) waits and then goes ahead.
        let waiting = tokio::spawn({
            let pool = pool.clone();
            async move {
                let mut tx = super::write(&pool).await.unwrap();
                sqlx::query("UPDATE organizations SET name = 'Later' WHERE id = 'o'").execute(&mut *tx).await.unwrap();
                tx.commit().await.unwrap();
            }
        });
        holder.commit().await.unwrap();
        waiting.await.unwrap();
        let name: String = sqlx::query_scalar("SELECT name FROM organizations WHERE id = 'o'").fetch_one(&pool).await.unwrap();
        assert_eq!(name, "Later");
        assert!(!super::is_busy(&sqlx::Error::RowNotFound));
    }

    #[tokio::test]
    async fn the_database_is_private_to_its_owner() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("new").join("data");
        let path = dir.join("gatehouse.db");
        let pool = super::connect(&path).await.unwrap();
        sqlx::query("INSERT INTO organizations (id, name, created_at) VALUES ('o', 'Org', '2026-01-01T00:00:00Z')").execute(&pool).await.unwrap();
        assert_eq!(mode(&dir), 0o700);
        for suffix in ["", "-wal", "-shm"] {
            let file = std::path::PathBuf::from(format!("{}{suffix}", path.display()));
            assert_eq!(mode(&file), 0o600, "{}", file.display());
        }
        pool.close().await;
        // A database left readable by an older version is tightened at the next start.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        super::connect(&path).await.unwrap().close().await;
        assert_eq!(mode(&path), 0o600);
    }
}
