//! The store: every SQL statement of the server, one module per aggregate.
//!
//! Handlers read authenticate → policy → validate → call the store → answer, and name no
//! table. Each function takes the pool ([`Db`]) for a read that stands alone, or the
//! connection of a write transaction ([`Conn`], from [`crate::store::write`]) when it is part
//! of a unit of work: the caller decides the transaction, the store the statements.
//!
//! The statements are written to run unchanged on the other backend the SPEC plans
//! (PostgreSQL): numbered placeholders (`$1`, which SQLite also reads), `TRUE`/`FALSE`,
//! `ON CONFLICT … DO NOTHING`, `IS NOT DISTINCT FROM`. What only one backend has (its
//! JSON aggregates, index hints) stays behind a function here, not in a handler.

mod database;
pub use database::{connect, default_db_path, is_busy, write};

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
pub mod secrets;
pub mod sessions;
pub mod users;

/// The database pool.
pub type Db = sqlx::SqlitePool;
/// A connection inside a transaction (`&mut *tx`).
pub type Conn = sqlx::SqliteConnection;
/// A write transaction, begun by [`crate::store::write`].
pub type Tx = sqlx::Transaction<'static, sqlx::Sqlite>;

/// Appends a parenthesized list with one bound parameter per id (in the backend's placeholder syntax), for `… IN` clauses.
pub fn push_id_list(qb: &mut sqlx::QueryBuilder<'_, sqlx::Sqlite>, ids: &[&str]) {
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
        let mut qb = sqlx::QueryBuilder::<sqlx::Sqlite>::new(select);
        push_id_list(&mut qb, chunk);
        out.extend(qb.build_query_as::<(String, String)>().fetch_all(db).await?);
    }
    Ok(out)
}
