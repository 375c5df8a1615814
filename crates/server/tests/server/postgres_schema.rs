//! The PostgreSQL schema (`migrations/postgres`, issue 19) on a real PostgreSQL 15, the
//! throwaway cluster `cargo xtask test` starts: every migration applies to an empty
//! database, a second run applies nothing, and the triggers do what SQLite's do
//! (`smoke.sql` asserts their effects and raises on a wrong one).

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
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
    let location = gatehouse_server::store::create_postgres_database(maintenance, &format!("{name}_{}", std::process::id())).await.unwrap();
    PgConnectOptions::from_str(&location.expose()).unwrap()
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

/// The change feed with several writers (several server nodes) on PostgreSQL: a sequence
/// number is taken at insert and committed later, so if writers overlapped, a row could
/// commit with a higher `seq` than one still in flight, and a reader paging by `seq` past
/// it would skip the late one for good. Every write transaction takes the store's one
/// advisory lock first: a second writer begun while the first is open waits for it, so
/// sequence numbers commit in order.
#[tokio::test]
async fn writers_take_turns_so_the_feed_read_by_sequence_never_skips_a_change() {
    use gatehouse_server::on;
    use gatehouse_server::store;
    let Some(url) = cluster() else { return };
    let location = store::create_postgres_database(&url, &format!("feed_{}", std::process::id())).await.unwrap();
    let db = store::connect(&location).await.unwrap();
    let change = |entity: &'static str| format!("INSERT INTO changes (org_id, kind, entity_id) VALUES ('o', 'user', '{entity}')");

    let mut first = store::write(&db).await.unwrap();
    on!(&mut first, |c| sqlx::query(&change("first")).execute(c).await.map(drop)).unwrap();
    // A second writer (another node's request) begins while the first is open…
    let second = tokio::spawn({
        let db = db.clone();
        async move {
            let mut tx = store::write(&db).await.unwrap();
            on!(&mut tx, |c| sqlx::query(&change("second")).execute(c).await.map(drop)).unwrap();
            tx.commit().await.unwrap();
        }
    });
    // …and waits for the lock: PostgreSQL shows its request not granted.
    let waiting = "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while on!(&db, |p| sqlx::query_scalar::<_, i64>(waiting).fetch_one(p).await).unwrap() != 1 {
        assert!(std::time::Instant::now() < deadline, "the second writer never waited for the lock");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(store::changes::after(&db, "o", 0, 10).await.unwrap().is_empty(), "nothing is committed yet");
    first.commit().await.unwrap();
    second.await.unwrap();
    // The second writer's row came after the first's commit, so its number is higher: a
    // reader that saw only `first` and asks for what follows its `seq` gets `second`.
    let feed = store::changes::after(&db, "o", 0, 10).await.unwrap();
    assert_eq!(feed.iter().map(|c| c.entity_id.as_str()).collect::<Vec<_>>(), ["first", "second"]);
    let next = store::changes::after(&db, "o", feed[0].seq, 10).await.unwrap();
    assert_eq!(next.iter().map(|c| c.entity_id.as_str()).collect::<Vec<_>>(), ["second"]);
    db.close().await;
}
