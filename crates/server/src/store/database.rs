//! The database: where it is, connection, migrations at start-up, file modes, the one way
//! to write.

use super::{Db, Tx};
use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

/// Where the database is: a SQLite file (a path, or `sqlite:` and a path), or a PostgreSQL
/// server (`postgres://…` or `postgresql://…`).
#[derive(Clone, PartialEq, Eq)]
pub enum Location {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// The connection URL, which may hold a password: never printed whole.
    Postgres(String),
}

impl Location {
    /// The path or the whole URL, password and all: for `--db` of a process this one
    /// starts, never for a log.
    pub fn expose(&self) -> String {
        match self {
            Self::Sqlite(path) => path.display().to_string(),
            Self::Postgres(url) => url.clone(),
        }
    }

    /// The SQLite file, if the database is one.
    pub fn file(&self) -> Option<&Path> {
        match self {
            Self::Sqlite(path) => Some(path),
            Self::Postgres(_) => None,
        }
    }
}

impl FromStr for Location {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            PgConnectOptions::from_str(s).map_err(|e| format!("not a PostgreSQL URL: {e}"))?;
            return Ok(Self::Postgres(s.to_owned()));
        }
        let path = s.strip_prefix("sqlite://").or_else(|| s.strip_prefix("sqlite:")).unwrap_or(s);
        if path.is_empty() {
            return Err("give a SQLite file path or a postgres:// URL".into());
        }
        if path.contains("://") {
            return Err(format!(
                "unknown database URL scheme in {:?}: use a file path, sqlite:PATH or postgres://…",
                s.split("://").next().unwrap_or(s)
            ));
        }
        Ok(Self::Sqlite(PathBuf::from(path)))
    }
}

/// What logs and messages show: the file, or the PostgreSQL server and database without
/// user or password.
impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "{}", path.display()),
            Self::Postgres(url) => match PgConnectOptions::from_str(url) {
                Ok(o) => write!(f, "postgres://{}:{}/{}", o.get_host(), o.get_port(), o.get_database().unwrap_or("")),
                Err(_) => f.write_str("postgres://…"),
            },
        }
    }
}

impl std::fmt::Debug for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Location({self})")
    }
}

impl From<&Path> for Location {
    fn from(p: &Path) -> Self {
        Self::Sqlite(p.to_owned())
    }
}

impl From<&PathBuf> for Location {
    fn from(p: &PathBuf) -> Self {
        Self::Sqlite(p.clone())
    }
}

impl From<PathBuf> for Location {
    fn from(p: PathBuf) -> Self {
        Self::Sqlite(p)
    }
}

/// Opens the database (creating a SQLite file if needed) and applies migrations.
pub async fn connect(location: &Location) -> anyhow::Result<Db> {
    match location {
        Location::Sqlite(path) => connect_sqlite(path).await.map(Db::Sqlite),
        Location::Postgres(url) => connect_postgres(url).await.with_context(|| format!("opening database {location}")).map(Db::Postgres),
    }
}

/// Creates an empty database `name` (replacing one of that name) on the PostgreSQL server
/// that `server_url` reaches (a URL of any database there, e.g. `…/postgres`), and returns
/// where it is: how tests, benchmarks and scripts give each run a database of its own.
pub async fn create_postgres_database(server_url: &str, name: &str) -> anyhow::Result<Location> {
    use sqlx::{ConnectOptions, Connection};
    anyhow::ensure!(
        !name.is_empty() && name.len() <= 63 && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
        "a database name is lower-case letters, digits and _ (at most 63): {name:?}"
    );
    let mut admin = PgConnectOptions::from_str(server_url)?.connect().await.context("connecting to PostgreSQL")?;
    sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name}")).execute(&mut admin).await?;
    sqlx::raw_sql(&format!("CREATE DATABASE {name}")).execute(&mut admin).await?;
    admin.close().await?;
    let base = server_url.split('?').next().unwrap_or(server_url);
    let (server, _database) = base.rsplit_once('/').context("a postgres://…/database URL")?;
    Ok(Location::Postgres(format!("{server}/{name}")))
}

/// Several server nodes may share one PostgreSQL database; sqlx's migrator takes an
/// advisory lock, so nodes starting at once apply each migration once.
async fn connect_postgres(url: &str) -> anyhow::Result<sqlx::PgPool> {
    let options = PgConnectOptions::from_str(url)?
        .application_name("gatehouse-server")
        // Time buckets and text renderings of timestamps are in UTC whatever the server's zone.
        .options([("TimeZone", "UTC")]);
    let pool = PgPoolOptions::new().max_connections(16).acquire_timeout(LOCK_WAIT).connect_with(options).await?;
    sqlx::migrate!("./migrations/postgres").run(&pool).await.context("applying database migrations")?;
    Ok(pool)
}

async fn connect_sqlite(path: &Path) -> anyhow::Result<sqlx::SqlitePool> {
    private_files(path)?;
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        // Several server processes may share one database file.
        .busy_timeout(LOCK_WAIT);
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

/// Opens a write transaction, the one way every change is written. Writers take turns, on
/// both backends: what the store keeps true across statements (the last owner, seats, the
/// feed's order, an Idempotency-Key answered once) holds because no other writer runs
/// between them.
///
/// SQLite: `BEGIN IMMEDIATE` takes SQLite's write lock at the start, waiting for it up to the busy
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
///
/// PostgreSQL: a READ COMMITTED transaction that first takes one transaction-scoped
/// advisory lock ([`WRITE_LOCK`]), held to its commit, across every node on the database:
/// the same one-writer-at-a-time as SQLite's, so each statement sees every write committed
/// before it, and change-feed sequence numbers commit in the order they were taken (a
/// reader by `seq` never skips one). Waiting for the lock is bounded by `lock_timeout`,
/// like SQLite's busy timeout. Reads take no lock and run on every node at once.
///
/// The bounded retry of a unit of work: because the lock is the unit's first step, a
/// busy or serialization error can only meet it here, before it has done anything — past
/// the lock no writer runs beside it (SQLite holds its write lock to the commit, and a WAL
/// commit waits for no reader; PostgreSQL's writers are serialized by the lock, readers
/// take no row locks, and READ COMMITTED raises no serialization failures). So retrying
/// the whole unit is retrying its beginning, which this does: a [`transient`] failure to
/// begin (the lock not had within the timeout, the pool exhausted, PostgreSQL refusing
/// connections for a moment) is tried again after [`BEGIN_BACKOFF`]; only when the last
/// try fails too is the request answered 503 with `Retry-After`, never 500.
pub async fn write(db: &Db) -> sqlx::Result<Tx> {
    retry_transient(BEGIN_BACKOFF, || begin_write(db.clone())).await
}

/// How long one try to begin a write transaction waits for the write lock (SQLite's busy
/// timeout, PostgreSQL's `lock_timeout`) or for a free connection of the pool.
pub const LOCK_WAIT: Duration = Duration::from_secs(3);

/// The pauses between tries to begin a write transaction: three tries in all, so a write
/// waits at most about 3 × [`LOCK_WAIT`] and half a second before it is answered 503.
pub const BEGIN_BACKOFF: &[Duration] = &[Duration::from_millis(100), Duration::from_millis(400)];

/// Runs `attempt` until it succeeds, fails for good, or has been tried once more than
/// `backoff` has pauses; a [`transient`] failure waits the next pause and tries again.
async fn retry_transient<T, F: Future<Output = sqlx::Result<T>>>(backoff: &[Duration], mut attempt: impl FnMut() -> F) -> sqlx::Result<T> {
    let mut pauses = backoff.iter();
    loop {
        match attempt().await {
            Err(e) if transient(&e).is_some() => match pauses.next() {
                Some(pause) => {
                    tracing::debug!(error = %e, "beginning a write transaction: trying again in {pause:?}");
                    tokio::time::sleep(*pause).await;
                }
                None => return Err(e),
            },
            done => return done,
        }
    }
}

async fn begin_write(db: Db) -> sqlx::Result<Tx> {
    let begun = match db {
        Db::Sqlite(pool) => tokio::spawn(async move { pool.begin_with("BEGIN IMMEDIATE").await.map(Tx::Sqlite) }).await,
        Db::Postgres(pool) => tokio::spawn(begin_postgres(pool)).await,
    };
    match begun {
        Ok(begun) => begun,
        Err(e) => Err(sqlx::Error::Protocol(format!("beginning a write transaction: {e}"))),
    }
}

/// Opens a read transaction: one consistent view for reads that belong together (an entity
/// and its version, what a dry run counts), taking no write lock. Commit it or drop it.
pub async fn read(db: &Db) -> sqlx::Result<Tx> {
    Ok(match db {
        Db::Sqlite(pool) => Tx::Sqlite(pool.begin().await?),
        Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
    })
}

/// The advisory lock every PostgreSQL write transaction holds ("gatehous" in ASCII).
pub const WRITE_LOCK: i64 = 0x6761_7465_686f_7573;

fn begin_postgres(pool: sqlx::PgPool) -> std::pin::Pin<Box<dyn Future<Output = sqlx::Result<Tx>> + Send>> {
    Box::pin(async move {
        let mut tx = pool.begin().await?;
        sqlx::query("SELECT set_config('lock_timeout', $1, true), pg_advisory_xact_lock($2)")
            .bind(format!("{}ms", LOCK_WAIT.as_millis()))
            .bind(WRITE_LOCK)
            .execute(&mut *tx)
            .await?;
        Ok(Tx::Postgres(tx))
    })
}

/// Why a database error is only for now: the request can be made again as it was, and is
/// answered 503 with `Retry-After`, never 500.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transient {
    /// Another writer kept the database past the timeout (contention).
    Busy,
    /// The database cannot be reached: PostgreSQL restarting, down or cut off.
    Unavailable,
}

/// Whether `e` is [`Transient`], and which.
pub fn transient(e: &sqlx::Error) -> Option<Transient> {
    match e {
        sqlx::Error::Database(db) => {
            let code = db.code()?;
            match code.parse::<i32>() {
                // SQLite: SQLITE_BUSY (5) and SQLITE_LOCKED (6), with their extended codes.
                Ok(c) if code.len() < 5 => matches!(c & 0xff, 5 | 6).then_some(Transient::Busy),
                // PostgreSQL SQLSTATEs are five characters: serialization_failure,
                // deadlock_detected, lock_not_available, query_canceled (a timeout)…
                _ if matches!(&*code, "40001" | "40P01" | "55P03" | "57014") => Some(Transient::Busy),
                // …admin_shutdown, crash_shutdown, cannot_connect_now, too_many_connections,
                // and the connection exceptions.
                _ if matches!(&*code, "57P01" | "57P02" | "57P03" | "53300") || code.starts_with("08") => Some(Transient::Unavailable),
                _ => None,
            }
        }
        // Waiting for a connection means a pool full of busy ones; a broken or refused
        // connection means the server went away.
        sqlx::Error::PoolTimedOut => Some(Transient::Busy),
        sqlx::Error::Io(_) | sqlx::Error::PoolClosed | sqlx::Error::Tls(_) => Some(Transient::Unavailable),
        _ => None,
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
        let pool = super::connect(&(&path).into()).await.unwrap();
        let mut holder = super::write(&pool).await.unwrap();
        crate::on!(&mut holder, |c| sqlx::query("INSERT INTO organizations (id, name, created_at) VALUES ('o', 'Org', '2026-01-01T00:00:00Z')")
            .execute(c)
            .await
            .map(drop))
        .unwrap();
        // Another process with no patience: its write transaction is refused as busy.
        let impatient = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(sqlx::sqlite::SqliteConnectOptions::new().filename(&path).busy_timeout(std::time::Duration::ZERO))
            .await
            .unwrap();
        let refused = super::write(&super::Db::Sqlite(impatient)).await.expect_err("the lock is held");
        assert_eq!(super::transient(&refused), Some(super::Transient::Busy), "{refused:?}");
        assert_eq!(crate::ApiError::from(refused).problem().status, 503);
        // A patient writer (the server's own pool) waits and then goes ahead.
        let waiting = tokio::spawn({
            let pool = pool.clone();
            async move {
                let mut tx = super::write(&pool).await.unwrap();
                crate::on!(&mut tx, |c| sqlx::query("UPDATE organizations SET name = 'Later' WHERE id = 'o'").execute(c).await.map(drop)).unwrap();
                tx.commit().await.unwrap();
            }
        });
        holder.commit().await.unwrap();
        waiting.await.unwrap();
        let name: String = crate::on!(&pool, |p| sqlx::query_scalar("SELECT name FROM organizations WHERE id = 'o'").fetch_one(p).await).unwrap();
        assert_eq!(name, "Later");
        assert_eq!(super::transient(&sqlx::Error::RowNotFound), None);
    }

    #[test]
    fn a_location_is_a_file_or_a_postgres_url_and_shows_no_password() {
        use super::Location;
        assert_eq!("data/g.db".parse::<Location>().unwrap(), Location::Sqlite("data/g.db".into()));
        assert_eq!("sqlite:/var/lib/g.db".parse::<Location>().unwrap(), Location::Sqlite("/var/lib/g.db".into()));
        assert_eq!("sqlite:///var/lib/g.db".parse::<Location>().unwrap(), Location::Sqlite("/var/lib/g.db".into()));
        let pg: Location = "postgres://gate:s3cret@db.internal:5433/gatehouse".parse().unwrap();
        assert_eq!(pg.file(), None);
        let shown = format!("{pg} {pg:?}");
        assert!(!shown.contains("s3cret") && !shown.contains("gate:"), "{shown}");
        assert!(shown.contains("db.internal:5433/gatehouse"), "{shown}");
        assert!("mysql://db/x".parse::<Location>().unwrap_err().contains("unknown database URL scheme"));
        assert!("".parse::<Location>().is_err());
    }

    #[tokio::test]
    async fn beginning_a_write_is_tried_again_after_a_transient_failure_and_only_a_bounded_number_of_times() {
        use std::sync::atomic::{AtomicU32, Ordering};
        let none = [std::time::Duration::ZERO; 2];
        // Busy twice, then the lock is had: the third try goes ahead.
        let tries = AtomicU32::new(0);
        let got = super::retry_transient(&none, || async {
            match tries.fetch_add(1, Ordering::SeqCst) {
                0 => Err(sqlx::Error::PoolTimedOut),
                1 => Err(sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused))),
                n => Ok(n),
            }
        })
        .await;
        assert_eq!(got.unwrap(), 2);
        // Busy every time: three tries (two pauses), then the error is the caller's.
        let tries = AtomicU32::new(0);
        let got = super::retry_transient(&none, || async {
            tries.fetch_add(1, Ordering::SeqCst);
            Err::<(), _>(sqlx::Error::PoolTimedOut)
        })
        .await;
        assert!(matches!(got, Err(sqlx::Error::PoolTimedOut)));
        assert_eq!(tries.load(Ordering::SeqCst), 3);
        // Not transient: never tried again.
        let tries = AtomicU32::new(0);
        let got = super::retry_transient(&none, || async {
            tries.fetch_add(1, Ordering::SeqCst);
            Err::<(), _>(sqlx::Error::RowNotFound)
        })
        .await;
        assert!(matches!(got, Err(sqlx::Error::RowNotFound)));
        assert_eq!(tries.load(Ordering::SeqCst), 1);
        assert_eq!(super::BEGIN_BACKOFF.len(), 2, "three tries in all, as the doc says");
    }

    #[test]
    fn the_write_lock_is_the_one_the_statement_names() {
        // The constant's doc says "gatehous" in ASCII; the value is what PostgreSQL gets.
        assert_eq!(super::WRITE_LOCK.to_be_bytes(), *b"gatehous");
    }

    #[tokio::test]
    async fn the_database_is_private_to_its_owner() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("new").join("data");
        let path = dir.join("gatehouse.db");
        let pool = super::connect(&(&path).into()).await.unwrap();
        crate::on!(&pool, |p| sqlx::query("INSERT INTO organizations (id, name, created_at) VALUES ('o', 'Org', '2026-01-01T00:00:00Z')")
            .execute(p)
            .await
            .map(drop))
        .unwrap();
        assert_eq!(mode(&dir), 0o700);
        for suffix in ["", "-wal", "-shm"] {
            let file = std::path::PathBuf::from(format!("{}{suffix}", path.display()));
            assert_eq!(mode(&file), 0o600, "{}", file.display());
        }
        pool.close().await;
        // A database left readable by an older version is tightened at the next start.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        super::connect(&(&path).into()).await.unwrap().close().await;
        assert_eq!(mode(&path), 0o600);
    }
}
