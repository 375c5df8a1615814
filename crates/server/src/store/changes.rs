//! The change feed (SPEC S4): what changed, in order, for the client to sync from. The
//! rows are written by the schema's triggers; this reads and prunes them.

use super::{Backend, Db};
use crate::error::{ApiError, Result};
use chrono::{DateTime, Duration, Utc};
use gatehouse_api::{GroupKind, GroupRef, Role};
use sqlx::QueryBuilder;
use std::collections::HashMap;

/// One change: a resource upserted or deleted.
pub struct Entry {
    /// The feed's order.
    pub seq: i64,
    /// `user`, `role`, `group`, `organization` or `invitation`.
    pub kind: String,
    /// The resource's id.
    pub entity_id: String,
    /// Whether it was deleted.
    pub deleted: bool,
}

/// The newest sequence number pruned from `org`'s feed, if any was.
pub async fn pruned_through(db: &Db, org: &str) -> Result<Option<i64>> {
    on!(db, |db| { Ok(sqlx::query_scalar("SELECT pruned_through FROM change_retention WHERE org_id = $1").bind(org).fetch_optional(db).await?) })
}

/// Up to `limit` changes of `org` after `since`, oldest first.
pub async fn after(db: &Db, org: &str, since: i64, limit: u32) -> Result<Vec<Entry>> {
    // As one JSON value, not a row per change: sqlx hands rows over one at a time.
    let page = "(SELECT seq, kind, entity_id, deleted FROM changes WHERE org_id = $1 AND seq > $2 ORDER BY seq LIMIT $3) AS page";
    let sql = match db.backend() {
        Backend::Sqlite => format!("SELECT json_group_array(json_array(seq, kind, entity_id, deleted)) FROM {page}"),
        Backend::Postgres => {
            format!("SELECT COALESCE(json_agg(json_build_array(seq, kind, entity_id, deleted) ORDER BY seq), '[]')::text FROM {page}")
        }
    };
    /// SQLite's 0/1, PostgreSQL's boolean.
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Flag {
        Bool(bool),
        Int(i64),
    }
    on!(db, |db| {
        let rows: String = sqlx::query_scalar(&sql).bind(org).bind(since).bind(i64::from(limit)).fetch_one(db).await?;
        Ok(serde_json::from_str::<Vec<(i64, String, String, Flag)>>(&rows)
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("reading the feed: {e}")))?
            .into_iter()
            .map(|(seq, kind, entity_id, deleted)| Entry { seq, kind, entity_id, deleted: matches!(deleted, Flag::Bool(true) | Flag::Int(1..)) })
            .collect())
    })
}

/// How many changes of `org` follow `seq`.
pub async fn remaining(db: &Db, org: &str, seq: i64) -> Result<i64> {
    on!(db, |db| { Ok(sqlx::query_scalar("SELECT COUNT(*) FROM changes WHERE org_id = $1 AND seq > $2").bind(org).bind(seq).fetch_one(db).await?) })
}

/// The newest sequence number of `org`'s feed.
pub async fn head(db: &Db, org: &str) -> Result<i64> {
    on!(db, |db| { Ok(sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM changes WHERE org_id = $1").bind(org).fetch_one(db).await?) })
}

/// The roles `ids` of `org`, as the feed carries them (no member counts).
pub async fn roles(db: &Db, org: &str, ids: &[&str]) -> Result<HashMap<String, Role>> {
    let mut out = HashMap::new();
    for (id, key, name, builtin, permissions) in
        by_ids::<(String, String, String, bool, String)>(db, "SELECT id, key, name, builtin, permissions FROM roles", org, ids).await?
    {
        let permissions = serde_json::from_str(&permissions).map_err(|e| ApiError::Internal(e.into()))?;
        out.insert(id.clone(), Role { id, key, name, builtin, permissions, member_count: None });
    }
    Ok(out)
}

/// The departments and companies `ids` of `org`.
pub async fn groups(db: &Db, org: &str, ids: &[&str]) -> Result<HashMap<String, GroupRef>> {
    let rows = by_ids::<(String, String, String)>(db, "SELECT id, name, kind FROM groups", org, ids).await?;
    Ok(rows.into_iter().map(|(id, name, kind)| (id.clone(), GroupRef { id, name, kind: GroupKind::parse(&kind) })).collect())
}

async fn by_ids<T>(db: &Db, select: &str, org: &str, ids: &[&str]) -> Result<Vec<T>>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
{
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    on!(db, |db| {
        let mut qb = QueryBuilder::new(select);
        qb.push(" WHERE org_id = ").push_bind(org.to_owned()).push(" AND id IN ");
        super::push_id_list(&mut qb, ids);
        Ok(qb.build_query_as().fetch_all(db).await?)
    })
}

/// Drops changes older than `window` and records, per organization, the newest sequence
/// number dropped, so older cursors get 410. Returns the number of changes dropped.
pub async fn prune(db: &Db, now: DateTime<Utc>, window: Duration) -> Result<u64> {
    let cutoff = now - window;
    let greatest = match db.backend() {
        Backend::Sqlite => "MAX",
        Backend::Postgres => "GREATEST",
    };
    let record = format!(
        "INSERT INTO change_retention (org_id, pruned_through) \
         SELECT org_id, MAX(seq) FROM changes WHERE at < $1 GROUP BY org_id \
         ON CONFLICT (org_id) DO UPDATE SET pruned_through = {greatest}(change_retention.pruned_through, excluded.pruned_through)"
    );
    let mut tx = crate::store::write(db).await?;
    let dropped = on!(&mut tx, |conn| {
        // SQLite's trigger writes `at` as RFC 3339 text with milliseconds and `Z`: the
        // cutoff is compared as that text.
        match db.backend() {
            Backend::Sqlite => {
                let cutoff = cutoff.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
                sqlx::query(&record).bind(&cutoff).execute(&mut *conn).await?;
                sqlx::query("DELETE FROM changes WHERE at < $1").bind(&cutoff).execute(&mut *conn).await?.rows_affected()
            }
            Backend::Postgres => {
                sqlx::query(&record).bind(cutoff).execute(&mut *conn).await?;
                sqlx::query("DELETE FROM changes WHERE at < $1").bind(cutoff).execute(&mut *conn).await?.rows_affected()
            }
        }
    });
    tx.commit().await?;
    Ok(dropped)
}
