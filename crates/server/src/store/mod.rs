//! The store: every SQL statement of the server, one module per aggregate.
//!
//! Handlers read authenticate → policy → validate → call the store → answer, and name no
//! table. Each function takes the pool ([`Db`]) for a read that stands alone, or the
//! connection of a write transaction ([`Conn`], from [`crate::store::write`]) when it is part
//! of a unit of work: the caller decides the transaction, the store the statements.
//!
//! Two backends, SQLite and PostgreSQL: [`Db`] and [`Tx`] say which, and [`on!`] compiles
//! a function's statements once per backend (each against its own sqlx driver, so a type
//! one of them cannot bind or decode is a compile error, not a surprise at run time).
//! Statements are written once where both read them alike — numbered placeholders (`$1`,
//! which SQLite also reads), `TRUE`/`FALSE`, `ON CONFLICT … DO NOTHING`, `IS NOT DISTINCT
//! FROM` — and per backend, chosen with [`Db::backend`], where they differ (JSON
//! aggregates, index hints, time buckets).

mod database;
pub use database::{Location, Transient, connect, create_postgres_database, default_db_path, read, transient, write};

/// `on!(db, |db| body)` runs `body` with `db` bound to the backend's own pool (from a
/// `&Db`) or connection (from a `&mut Tx`): the body is compiled for SQLite and for
/// PostgreSQL. It is not a closure: `?` and `return` leave the enclosing function.
/// Exported for the server's tests, which look into the database on either backend.
#[macro_export]
#[doc(hidden)]
macro_rules! on {
    ($target:expr, |$name:ident| $body:expr) => {
        match $crate::store::Target::pick($target) {
            $crate::store::Pick::Sqlite($name) => $body,
            $crate::store::Pick::Postgres($name) => $body,
        }
    };
}

/// Which database a [`Db`] or [`Tx`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file: the embedded default.
    Sqlite,
    /// A PostgreSQL server, which several server nodes can share.
    Postgres,
}

impl Backend {
    /// A timestamp column as the text a keyset cursor carries: SQLite's stored RFC 3339
    /// text itself; PostgreSQL's `timestamptz` rendered exactly (microseconds, in UTC).
    pub fn ts_key(self, column: &str) -> String {
        match self {
            Self::Sqlite => column.to_owned(),
            Self::Postgres => format!("CAST({column} AS TEXT)"),
        }
    }

    /// What goes around a bound time to give the hour it falls in, as `audit_hourly.hour`
    /// keeps it: SQLite's first 13 characters (`2026-03-01T09`), PostgreSQL's start of
    /// the UTC hour.
    pub fn hour_of(self) -> (&'static str, &'static str) {
        match self {
            Self::Sqlite => ("substr(", ", 1, 13)"),
            Self::Postgres => ("date_trunc('hour', ", ", 'UTC')"),
        }
    }

    /// `items` (one JSON value per row) as a JSON array, as text; `[]` for no rows.
    pub fn json_array_agg(self, item: &str) -> String {
        match self {
            Self::Sqlite => format!("json_group_array({item})"),
            Self::Postgres => format!("COALESCE(json_agg({item}), '[]')::text"),
        }
    }

    /// The function that builds a JSON object from key, value, key, value….
    pub fn json_object(self) -> &'static str {
        match self {
            Self::Sqlite => "json_object",
            Self::Postgres => "json_build_object",
        }
    }

    /// What goes around a bound cursor text (from [`Self::ts_key`]) to compare it with the
    /// column again: nothing on SQLite, a cast back to `timestamptz` on PostgreSQL.
    pub fn ts_param(self) -> (&'static str, &'static str) {
        match self {
            Self::Sqlite => ("", ""),
            Self::Postgres => ("CAST(", " AS timestamptz)"),
        }
    }
}

/// The database pool.
#[derive(Clone, Debug)]
pub enum Db {
    /// On a SQLite file.
    Sqlite(sqlx::SqlitePool),
    /// On a PostgreSQL server.
    Postgres(sqlx::PgPool),
}

impl Db {
    /// Which database this is.
    pub fn backend(&self) -> Backend {
        match self {
            Self::Sqlite(_) => Backend::Sqlite,
            Self::Postgres(_) => Backend::Postgres,
        }
    }

    /// Closes every connection (waiting for those in use).
    pub async fn close(&self) {
        on!(self, |pool| pool.close().await)
    }
}

/// A write transaction, begun by [`crate::store::write`]; dropped uncommitted, it rolls back.
#[derive(Debug)]
pub enum Tx {
    /// On SQLite.
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    /// On PostgreSQL.
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// What store functions that take part in a unit of work receive (`&mut tx`).
pub type Conn = Tx;

impl Tx {
    /// Which database this is.
    pub fn backend(&self) -> Backend {
        match self {
            Self::Sqlite(_) => Backend::Sqlite,
            Self::Postgres(_) => Backend::Postgres,
        }
    }

    /// Makes the changes durable and visible.
    pub async fn commit(self) -> sqlx::Result<()> {
        match self {
            Self::Sqlite(tx) => tx.commit().await,
            Self::Postgres(tx) => tx.commit().await,
        }
    }

    /// Undoes the changes.
    pub async fn rollback(self) -> sqlx::Result<()> {
        match self {
            Self::Sqlite(tx) => tx.rollback().await,
            Self::Postgres(tx) => tx.rollback().await,
        }
    }
}

/// One value per backend, for [`on!`].
#[doc(hidden)]
pub enum Pick<S, P> {
    Sqlite(S),
    Postgres(P),
}

/// What [`on!`] can run on: a pool or a transaction's connection.
#[doc(hidden)]
pub trait Target {
    type Sqlite;
    type Postgres;
    fn pick(self) -> Pick<Self::Sqlite, Self::Postgres>;
}

impl<'a> Target for &'a Db {
    type Sqlite = &'a sqlx::SqlitePool;
    type Postgres = &'a sqlx::PgPool;
    fn pick(self) -> Pick<Self::Sqlite, Self::Postgres> {
        match self {
            Db::Sqlite(p) => Pick::Sqlite(p),
            Db::Postgres(p) => Pick::Postgres(p),
        }
    }
}

impl<'a> Target for &'a mut Tx {
    type Sqlite = &'a mut sqlx::SqliteConnection;
    type Postgres = &'a mut sqlx::PgConnection;
    fn pick(self) -> Pick<Self::Sqlite, Self::Postgres> {
        match self {
            Tx::Sqlite(tx) => Pick::Sqlite(&mut **tx),
            Tx::Postgres(tx) => Pick::Postgres(&mut **tx),
        }
    }
}

pub mod api_keys;
pub mod attempts;
pub mod audit;
pub mod changes;
pub mod demo;
pub mod groups;
pub mod idempotency;
pub mod invitations;
pub mod mail;
pub mod maintenance;
pub mod org;
pub mod password_resets;
pub mod roles;
pub mod scim;
pub mod secrets;
pub mod sessions;
pub mod users;

/// Appends a parenthesized list with one bound parameter per id (in the backend's placeholder syntax), for `… IN` clauses.
pub fn push_id_list<'a, DB: sqlx::Database>(qb: &mut sqlx::QueryBuilder<'a, DB>, ids: &[&str])
where
    String: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    qb.push("(");
    let mut sep = qb.separated(", ");
    for id in ids {
        sep.push_bind((*id).to_owned());
    }
    qb.push(")");
}

/// `(email_lower, org_id)` pairs that `select` (ending in `email_lower IN `) finds for
/// these addresses, 500 at a time.
async fn email_owners(db: &Db, select: &str, emails: &[&str]) -> crate::error::Result<std::collections::HashMap<String, String>> {
    let mut out = std::collections::HashMap::new();
    for chunk in emails.chunks(500) {
        on!(db, |db| {
            let mut qb = sqlx::QueryBuilder::new(select);
            push_id_list(&mut qb, chunk);
            out.extend(qb.build_query_as::<(String, String)>().fetch_all(db).await?);
        })
    }
    Ok(out)
}
