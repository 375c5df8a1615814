//! The audit log (SPEC A1–A5): events as recorded, and the reads of the activity log, its
//! export and its histogram.
//!
//! A page is read along one index range per *driver* — the filter that narrows most
//! (a user, an actor, an IP address, or each action asked for) — newest first with the
//! `(at, id)` keyset, and the other filters are checked on the rows it yields. So the
//! first page of any filter costs one short index walk, even on millions of events.

use super::{Backend, Conn, Db};
use crate::error::Result;
use chrono::{DateTime, Utc};
use gatehouse_api::{AuditEvent, AuditParty};
use sqlx::QueryBuilder;

/// A checked filter of the activity log (list, export and histogram share it; the
/// handlers parse it).
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Events by or about this user.
    pub user_id: Option<String>,
    /// Events by this user.
    pub actor_id: Option<String>,
    /// Exact actions.
    pub actions: Vec<String>,
    /// `noun.` prefixes (from `noun.*`).
    pub prefixes: Vec<String>,
    /// At or after.
    pub from: Option<DateTime<Utc>>,
    /// Before.
    pub to: Option<DateTime<Utc>>,
    /// From this address.
    pub ip: Option<String>,
    /// Lower-cased.
    pub q: Option<String>,
}

impl Filter {
    /// Appends ` AND …` for every filter except the driver's own column.
    fn push_conditions<'a, DB: sqlx::Database>(&self, qb: &mut QueryBuilder<'a, DB>, actions: &[String], driver: &Driver)
    where
        String: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
        DateTime<Utc>: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    {
        if let Some(u) = &self.user_id
            && !matches!(driver, Driver::Actor(_) | Driver::Target(_))
        {
            qb.push(" AND (actor_id = ").push_bind(u.clone()).push(" OR target_id = ").push_bind(u.clone()).push(")");
        }
        if let Some(a) = &self.actor_id
            && !matches!(driver, Driver::Actor(a2) if a2 == a)
        {
            qb.push(" AND actor_id = ").push_bind(a.clone());
        }
        if !matches!(driver, Driver::Action(_)) && (!self.actions.is_empty() || !self.prefixes.is_empty()) {
            qb.push(" AND action IN (");
            let mut sep = qb.separated(", ");
            for a in actions {
                sep.push_bind(a.clone());
            }
            if actions.is_empty() {
                // Prefixes with no event yet: nothing can match.
                sep.push("NULL");
            }
            qb.push(")");
        }
        if let Some(ip) = &self.ip
            && !matches!(driver, Driver::Ip)
        {
            qb.push(" AND ip = ").push_bind(ip.clone());
        }
        if let Some(from) = self.from {
            qb.push(" AND at >= ").push_bind(from);
        }
        if let Some(to) = self.to {
            qb.push(" AND at < ").push_bind(to);
        }
        if let Some(q) = &self.q {
            // `search` is lower case, as is `q`.
            qb.push(" AND search LIKE ").push_bind(gatehouse_api::substring_like_pattern(q)).push(" ESCAPE '\\'");
        }
    }

    /// The exact actions the filter takes: its own and every action of its prefixes that
    /// the organization's log holds.
    async fn expand_actions(&self, db: &Db, org: &str) -> Result<Vec<String>> {
        on!(db, |db| {
            let mut actions = self.actions.clone();
            for prefix in &self.prefixes {
                let pattern = gatehouse_api::prefix_like_pattern(prefix);
                let found: Vec<String> = sqlx::query_scalar("SELECT action FROM audit_actions WHERE org_id = $1 AND action LIKE $2 ESCAPE '\\'")
                    .bind(org)
                    .bind(pattern)
                    .fetch_all(db)
                    .await?;
                actions.extend(found);
            }
            actions.sort();
            actions.dedup();
            Ok(actions)
        })
    }

    /// Whether only actions and the time narrow the filter: then the hourly counts answer
    /// a histogram.
    pub fn by_action_and_time_only(&self) -> bool {
        self.user_id.is_none() && self.actor_id.is_none() && self.ip.is_none() && self.q.is_none()
    }

    /// The filter's exact actions (see [`Self::expand_actions`]); `None` when it takes all.
    async fn actions_taken(&self, db: &Db, org: &str) -> Result<Option<Vec<String>>> {
        if self.actions.is_empty() && self.prefixes.is_empty() {
            return Ok(None);
        }
        Ok(Some(self.expand_actions(db, org).await?))
    }

    /// The `WHERE` of every event of `org` the filter takes (for counts and histograms,
    /// which need no order).
    fn push_where<'a, DB: sqlx::Database>(&self, qb: &mut QueryBuilder<'a, DB>, actions: &[String], org: &str)
    where
        String: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
        DateTime<Utc>: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    {
        qb.push(" WHERE org_id = ").push_bind(org.to_owned());
        self.push_conditions(qb, actions, &Driver::Org);
    }
}

/// The index one branch of a page walks.
enum Driver {
    Org,
    Actor(String),
    Target(String),
    Action(String),
    Ip,
}

/// The columns of an event row, `at` also as the keyset's text (see [`super::Backend::ts_key`]).
fn columns(backend: Backend) -> String {
    format!(
        "id, at, {} AS at_key, action, actor_id, actor_name, actor_email, target_type, target_id, target_name, target_email, ip, user_agent, details",
        backend.ts_key("at")
    )
}

#[derive(sqlx::FromRow)]
/// An event as stored.
pub struct Row {
    id: String,
    at: DateTime<Utc>,
    /// `at` as the keyset compares it.
    at_key: String,
    action: String,
    actor_id: Option<String>,
    actor_name: Option<String>,
    actor_email: Option<String>,
    target_type: String,
    target_id: String,
    target_name: Option<String>,
    target_email: Option<String>,
    ip: String,
    user_agent: String,
    details: String,
}

impl Row {
    /// The row's `(at, id)` keyset.
    pub fn key(&self) -> (String, String) {
        (self.at_key.clone(), self.id.clone())
    }

    /// The event as the API shows it.
    pub fn into_event(self) -> AuditEvent {
        let actor = self.actor_id.map(|id| AuditParty { kind: "user".into(), id, name: self.actor_name, email: self.actor_email });
        let details = serde_json::from_str(&self.details).unwrap_or_else(|_| serde_json::json!({}));
        AuditEvent {
            id: self.id,
            at: self.at,
            action: self.action,
            actor,
            target: AuditParty { kind: self.target_type, id: self.target_id, name: self.target_name, email: self.target_email },
            ip: self.ip,
            user_agent: self.user_agent,
            details,
        }
    }
}

/// Up to `limit` events of `org` that `filter` takes, newest first, after the keyset
/// `after` (`(at, id)` of the last row of the previous page).
pub async fn page(db: &Db, org: &str, filter: &Filter, after: Option<&(String, String)>, limit: u32) -> Result<Vec<Row>> {
    let actions = filter.expand_actions(db, org).await?;
    let backend = db.backend();
    let columns = columns(backend);
    on!(db, |db| {
        let has_actions = !filter.actions.is_empty() || !filter.prefixes.is_empty();
        if has_actions && actions.is_empty() {
            return Ok(Vec::new());
        }
        let drivers: Vec<Driver> = if let Some(u) = &filter.user_id {
            vec![Driver::Actor(u.clone()), Driver::Target(u.clone())]
        } else if let Some(a) = &filter.actor_id {
            vec![Driver::Actor(a.clone())]
        } else if filter.ip.is_some() {
            vec![Driver::Ip]
        } else if has_actions {
            actions.iter().map(|a| Driver::Action(a.clone())).collect()
        } else {
            vec![Driver::Org]
        };
        let n = i64::from(limit);
        let mut qb = QueryBuilder::new("");
        let several = drivers.len() > 1;
        if several {
            qb.push(format!("SELECT {columns} FROM ("));
        }
        for (i, driver) in drivers.iter().enumerate() {
            if i > 0 {
                qb.push(" UNION ");
            }
            if several {
                qb.push("SELECT * FROM (");
            }
            // SQLite's planner has no statistics to go on: name the index each range walks, so
            // a residual filter's index (say, the action's) is never walked instead.
            // PostgreSQL's has, and no such hint.
            let index = match (backend, driver) {
                (Backend::Postgres, _) => "",
                (Backend::Sqlite, Driver::Org) => " INDEXED BY audit_events_org_at",
                (Backend::Sqlite, Driver::Actor(_)) => " INDEXED BY audit_events_actor",
                (Backend::Sqlite, Driver::Target(_)) => " INDEXED BY audit_events_target",
                (Backend::Sqlite, Driver::Action(_)) => " INDEXED BY audit_events_action",
                (Backend::Sqlite, Driver::Ip) => " INDEXED BY audit_events_ip",
            };
            qb.push(format!("SELECT {columns} FROM audit_events{index} WHERE org_id = ")).push_bind(org.to_owned());
            match driver {
                Driver::Org => {}
                Driver::Actor(a) => {
                    qb.push(" AND actor_id = ").push_bind(a.clone());
                }
                Driver::Target(t) => {
                    qb.push(" AND target_id = ").push_bind(t.clone());
                }
                Driver::Action(a) => {
                    qb.push(" AND action = ").push_bind(a.clone());
                }
                Driver::Ip => {
                    qb.push(" AND ip = ").push_bind(filter.ip.clone().unwrap_or_default());
                }
            }
            filter.push_conditions(&mut qb, &actions, driver);
            if let Some((at, id)) = after {
                let (open, close) = backend.ts_param();
                qb.push(" AND (at, id) < (").push(open).push_bind(at.clone()).push(close).push(", ").push_bind(id.clone()).push(")");
            }
            qb.push(" ORDER BY at DESC, id DESC LIMIT ").push_bind(n);
            if several {
                qb.push(format!(") AS branch{i}"));
            }
        }
        if several {
            qb.push(") AS page ORDER BY at DESC, id DESC LIMIT ").push_bind(n);
        }
        Ok(qb.build_query_as().fetch_all(db).await?)
    })
}

/// Deletes events older than each organization's retention, a batch at a time so the
/// writers are never held up for long; returns how many went.
pub async fn purge_expired(db: &Db, now: DateTime<Utc>) -> Result<u64> {
    let (batch, hours) = match db.backend() {
        Backend::Sqlite => (
            "DELETE FROM audit_events WHERE rowid IN (SELECT rowid FROM audit_events WHERE org_id = $1 AND at < $2 ORDER BY at LIMIT 5000)",
            "DELETE FROM audit_hourly WHERE org_id = $1 AND hour < substr($2, 1, 13)",
        ),
        Backend::Postgres => (
            "DELETE FROM audit_events WHERE id IN (SELECT id FROM audit_events WHERE org_id = $1 AND at < $2 ORDER BY at LIMIT 5000)",
            "DELETE FROM audit_hourly WHERE org_id = $1 AND hour < date_trunc('hour', $2, 'UTC')",
        ),
    };
    on!(db, |db| {
        let orgs: Vec<(String, i64)> = sqlx::query_as("SELECT id, audit_retention_days FROM organizations").fetch_all(db).await?;
        let mut total = 0;
        for (org, days) in orgs {
            // On an hour boundary, so the hourly counts go with exactly the events they count.
            let cutoff = chrono::DurationRound::duration_trunc(now - chrono::Duration::days(days), chrono::Duration::hours(1))
                .unwrap_or(now - chrono::Duration::days(days));
            loop {
                let gone = sqlx::query(batch).bind(&org).bind(cutoff).execute(db).await?.rows_affected();
                total += gone;
                if gone < 5000 {
                    break;
                }
            }
            sqlx::query(hours).bind(&org).bind(cutoff).execute(db).await?;
        }
        Ok(total)
    })
}

/// The names an event is recorded with: a user's as they are now.
#[derive(sqlx::FromRow)]
pub struct Named {
    /// The user's id.
    pub id: String,
    /// Their display name.
    pub display_name: String,
    /// Their e-mail address.
    pub email: String,
}

/// The names of the users `ids`.
pub async fn names(conn: &mut Conn, ids: &[&str]) -> Result<Vec<Named>> {
    on!(conn, |conn| {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = QueryBuilder::new("SELECT id, display_name, email FROM users WHERE id IN ");
        super::push_id_list(&mut q, ids);
        Ok(q.build_query_as().fetch_all(&mut *conn).await?)
    })
}

/// An event as [`insert`] writes it.
pub struct NewEvent<'a> {
    /// The `id` column.
    pub id: &'a str,
    /// The `org_id` column.
    pub org_id: &'a str,
    /// The `at` column.
    pub at: DateTime<Utc>,
    /// The `actor_id` column.
    pub actor_id: Option<&'a str>,
    /// The `target_type` column.
    pub target_type: &'a str,
    /// The `target_id` column.
    pub target_id: &'a str,
    /// The `action` column.
    pub action: &'a str,
    /// The `ip` column.
    pub ip: &'a str,
    /// The `details` column.
    pub details: &'a str,
    /// The `user_agent` column.
    pub user_agent: &'a str,
    /// The `actor_name` column.
    pub actor_name: Option<&'a str>,
    /// The `actor_email` column.
    pub actor_email: Option<&'a str>,
    /// The `target_name` column.
    pub target_name: Option<&'a str>,
    /// The `target_email` column.
    pub target_email: Option<&'a str>,
    /// The `search` column.
    pub search: &'a str,
}

/// Appends `e`, notes its action among the organization's, and counts it in its hour.
pub async fn insert(conn: &mut Conn, e: NewEvent<'_>) -> Result<()> {
    let (open, close) = conn.backend().hour_of();
    let count = format!(
        "INSERT INTO audit_hourly (org_id, hour, action, count) VALUES ($1, {open}$2{close}, $3, 1) \
         ON CONFLICT (org_id, hour, action) DO UPDATE SET count = audit_hourly.count + 1"
    );
    on!(conn, |conn| {
        sqlx::query(
            "INSERT INTO audit_events (id, org_id, at, actor_id, target_type, target_id, action, ip, details, user_agent, \
         actor_name, actor_email, target_name, target_email, search) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(e.id)
        .bind(e.org_id)
        .bind(e.at)
        .bind(e.actor_id)
        .bind(e.target_type)
        .bind(e.target_id)
        .bind(e.action)
        .bind(e.ip)
        .bind(e.details)
        .bind(e.user_agent)
        .bind(e.actor_name)
        .bind(e.actor_email)
        .bind(e.target_name)
        .bind(e.target_email)
        .bind(e.search)
        .execute(&mut *conn)
        .await?;
        sqlx::query("INSERT INTO audit_actions (org_id, action) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(e.org_id)
            .bind(e.action)
            .execute(&mut *conn)
            .await?;
        sqlx::query(&count).bind(e.org_id).bind(e.at).bind(e.action).execute(&mut *conn).await?;
        Ok(())
    })
}

/// Event `id`, as the log shows it.
pub async fn by_id(conn: &mut Conn, id: &str) -> Result<Row> {
    let columns = columns(conn.backend());
    on!(conn, |conn| { Ok(sqlx::query_as(&format!("SELECT {columns} FROM audit_events WHERE id = $1")).bind(id).fetch_one(&mut *conn).await?) })
}

/// Whether `org`'s log has an event about `target_id` (a removed user's timeline stays).
pub async fn mentions(db: &Db, org: &str, target_id: &str) -> Result<bool> {
    on!(db, |db| {
        let logged: Option<i32> = sqlx::query_scalar("SELECT 1 FROM audit_events WHERE org_id = $1 AND target_id = $2 LIMIT 1")
            .bind(org)
            .bind(target_id)
            .fetch_optional(db)
            .await?;
        Ok(logged.is_some())
    })
}

/// How many events of `org` `filter` takes.
pub async fn count(db: &Db, org: &str, filter: &Filter) -> Result<i64> {
    let actions = filter.expand_actions(db, org).await?;
    on!(db, |db| {
        let mut count = QueryBuilder::new("SELECT COUNT(*) FROM audit_events");
        filter.push_where(&mut count, &actions, org);
        Ok(count.build_query_scalar().fetch_one(db).await?)
    })
}

/// How long a bucket's key is: an RFC 3339 time's first 13 characters are its hour, 10
/// its day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    /// `2026-03-01T09`.
    Hour = 13,
    /// `2026-03-01`.
    Day = 10,
}

/// The number of events of `org` that `filter` takes per bucket, keyed by the bucket's
/// first characters (see [`Bucket`]); `filter`'s `from` and `to` bound it. Read from the
/// hourly counts when only actions and the time narrow the filter: a few thousand rows
/// for a quarter of a whole log.
pub async fn histogram(db: &Db, org: &str, filter: &Filter, bucket: Bucket) -> Result<Vec<(String, i64)>> {
    let hourly = filter.by_action_and_time_only();
    let taken = if hourly { filter.actions_taken(db, org).await? } else { None };
    let actions = if hourly { Vec::new() } else { filter.expand_actions(db, org).await? };
    let prefix = bucket as usize;
    // The bucket's key, the first characters of the RFC 3339 time; and the hour a bound
    // time falls in.
    let backend = db.backend();
    let key = |column: &str| match backend {
        Backend::Sqlite => format!("substr({column}, 1, {prefix})"),
        Backend::Postgres => format!("to_char({column} AT TIME ZONE 'UTC', '{}')", if prefix == 10 { "YYYY-MM-DD" } else { "YYYY-MM-DD\"T\"HH24" }),
    };
    let hour_of = backend.hour_of();
    on!(db, |db| {
        let mut qb;
        if hourly {
            qb = QueryBuilder::new(format!("SELECT {} AS b, CAST(SUM(count) AS BIGINT) FROM audit_hourly WHERE org_id = ", key("hour")));
            qb.push_bind(org.to_owned());
            if let Some(start) = filter.from {
                qb.push(" AND hour >= ").push(hour_of.0).push_bind(start).push(hour_of.1);
            }
            if let Some(end) = filter.to {
                qb.push(" AND hour < ").push(hour_of.0).push_bind(end).push(hour_of.1);
            }
            if let Some(actions) = taken.clone() {
                qb.push(" AND action IN (");
                let mut sep = qb.separated(", ");
                sep.push("NULL");
                for a in actions {
                    sep.push_bind(a);
                }
                qb.push(")");
            }
        } else {
            qb = QueryBuilder::new(format!("SELECT {} AS b, COUNT(*) FROM audit_events", key("at")));
            filter.push_where(&mut qb, &actions, org);
        }
        qb.push(" GROUP BY b");
        Ok(qb.build_query_as().fetch_all(db).await?)
    })
}
