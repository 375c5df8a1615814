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

/// The feed's keyset on PostgreSQL, where writers run at once: a transaction can take its
/// id first and its sequence number last. Read by `seq` alone (below the oldest
/// transaction in flight), the row of the transaction that commits last is skipped for
/// good; read by `(tx, seq)`, every row arrives (migrations/postgres/README.md).
#[tokio::test]
async fn the_feed_read_by_transaction_and_sequence_never_skips_a_change_committed_out_of_order() {
    let Some(url) = cluster() else { return };
    let options = fresh_database(&url, "feed").await;
    let pool = PgPoolOptions::new().max_connections(4).connect_with(options.clone()).await.unwrap();
    sqlx::migrate!("./migrations/postgres").run(&pool).await.unwrap();
    let (mut early, mut late) = (options.connect().await.unwrap(), options.connect().await.unwrap());
    let write = "INSERT INTO changes (org_id, kind, entity_id) VALUES ('o', 'user', $1) RETURNING seq";
    // `early` takes its transaction id first…
    sqlx::raw_sql("BEGIN").execute(&mut early).await.unwrap();
    sqlx::query("SELECT pg_current_xact_id()").execute(&mut early).await.unwrap();
    // …`late` writes first (the lower seq) and is still open when `early` writes and commits.
    sqlx::raw_sql("BEGIN").execute(&mut late).await.unwrap();
    let late_seq: i64 = sqlx::query_scalar(write).bind("late").fetch_one(&mut late).await.unwrap();
    let early_seq: i64 = sqlx::query_scalar(write).bind("early").fetch_one(&mut early).await.unwrap();
    assert!(late_seq < early_seq);
    sqlx::raw_sql("COMMIT").execute(&mut early).await.unwrap();

    let settled = "tx < pg_snapshot_xmin(pg_current_snapshot())";
    let by_seq = format!("SELECT entity_id, seq FROM changes WHERE org_id = 'o' AND seq > $1 AND {settled} ORDER BY seq");
    let by_tx_seq = format!(
        "SELECT entity_id, tx::text, seq FROM changes WHERE org_id = 'o' AND (tx, seq) > ($1::text::xid8, $2) AND {settled} ORDER BY tx, seq"
    );
    // While `late` is open, both readers see only `early`'s row.
    let seq_page: Vec<(String, i64)> = sqlx::query_as(&by_seq).bind(0_i64).fetch_all(&pool).await.unwrap();
    assert_eq!(seq_page, vec![("early".to_owned(), early_seq)]);
    let keyset_page: Vec<(String, String, i64)> = sqlx::query_as(&by_tx_seq).bind("0").bind(0_i64).fetch_all(&pool).await.unwrap();
    assert_eq!(keyset_page.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(), ["early"]);
    let (cursor_tx, cursor_seq) = (keyset_page[0].1.clone(), keyset_page[0].2);

    sqlx::raw_sql("COMMIT").execute(&mut late).await.unwrap();
    // After `late` commits: past the seq cursor its lower seq is gone for good…
    let seq_next: Vec<(String, i64)> = sqlx::query_as(&by_seq).bind(early_seq).fetch_all(&pool).await.unwrap();
    assert!(seq_next.is_empty(), "a seq cursor skips the late commit: {seq_next:?}");
    // …past the (tx, seq) cursor it arrives.
    let keyset_next: Vec<(String, String, i64)> = sqlx::query_as(&by_tx_seq).bind(&cursor_tx).bind(cursor_seq).fetch_all(&pool).await.unwrap();
    assert_eq!(keyset_next.iter().map(|r| (r.0.as_str(), r.2)).collect::<Vec<_>>(), [("late", late_seq)]);
}
