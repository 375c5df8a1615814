//! The PostgreSQL schema (`migrations/postgres`, issue 19) on a real PostgreSQL 15, the
//! throwaway cluster `cargo xtask test` starts: every migration applies to an empty
//! database, a second run applies nothing, and the triggers do what SQLite's do
//! (`smoke.sql` asserts their effects and raises on a wrong one).

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection};
use std::str::FromStr;

/// The maintenance database of the test cluster; `None` (the test says so and passes)
/// only outside CI, where no cluster may be running.
fn cluster() -> Option<String> {
    match std::env::var("GATEHOUSE_TEST_POSTGRES") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => panic!("GATEHOUSE_TEST_POSTGRES is not set: `cargo xtask test` starts PostgreSQL and sets it"),
        _ => {
            eprintln!("no PostgreSQL (GATEHOUSE_TEST_POSTGRES unset): run through `cargo xtask test`");
            None
        }
    }
}

/// A new, empty database on the cluster, for one test.
async fn fresh_database(maintenance: &str, name: &str) -> PgConnectOptions {
    let options = PgConnectOptions::from_str(maintenance).unwrap();
    let mut admin = options.connect().await.unwrap();
    let db = format!("{name}_{}", std::process::id());
    sqlx::query(&format!("DROP DATABASE IF EXISTS {db}")).execute(&mut admin).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {db}")).execute(&mut admin).await.unwrap();
    admin.close().await.unwrap();
    options.database(&db)
}

#[tokio::test]
async fn every_postgres_migration_applies_once_and_the_triggers_behave_as_on_sqlite() {
    let Some(url) = cluster() else { return };
    let pool = PgPoolOptions::new().max_connections(2).connect_with(fresh_database(&url, "schema").await).await.unwrap();
    let migrator = sqlx::migrate!("./migrations/postgres");
    let sqlite = sqlx::migrate!("./migrations/sqlite");
    let numbers = |m: &sqlx::migrate::Migrator| m.iter().map(|m| (m.version, m.description.to_string())).collect::<Vec<_>>();
    assert_eq!(numbers(&migrator), numbers(&sqlite), "the backends' migrations have the same numbers and names");
    migrator.run(&pool).await.unwrap();
    let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success").fetch_one(&pool).await.unwrap();
    assert_eq!(applied, migrator.iter().count() as i64);
    // Again: nothing to do, nothing fails.
    migrator.run(&pool).await.unwrap();
    let mut conn = pool.acquire().await.unwrap();
    sqlx::raw_sql(include_str!("../../migrations/postgres/smoke.sql")).execute(&mut *conn).await.unwrap();
}
