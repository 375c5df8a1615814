//! The activity log (SPEC A2, A3): the organization's audit events, filtered and paged
//! newest first, and one user's merged timeline.
//!
//! A page is read along one index range per *driver* — the filter that narrows most
//! (a user, an actor, an IP address, or each action asked for) — newest first with the
//! `(at, id)` keyset, and the other filters are checked on the rows it yields. So the
//! first page of any filter costs one short index walk, even on millions of events.

use super::paging::{self, Errors};
use crate::app::AppState;
use crate::auth::{AuditRead, Granted, Principal};
use crate::error::{ApiError, Result};
use crate::extract::{ApiPath, QueryPairs};
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use gatehouse_api::{AUDIT_ACTIONS, AuditEvent, AuditEventPage, AuditEventQuery, AuditParty, HOST_ACTION_PREFIX, Problem, codes, is_known_action};
use sqlx::{QueryBuilder, Sqlite, SqlitePool};

/// Longest text filter, in characters.
const MAX_Q_CHARS: usize = 200;
/// Most actions one filter may name.
const MAX_ACTIONS: usize = 64;

/// A parsed, checked filter of the activity log (list, export and histogram share it).
#[derive(Debug, Clone, Default)]
pub(crate) struct Filter {
    pub user_id: Option<String>,
    pub actor_id: Option<String>,
    /// Exact actions.
    pub actions: Vec<String>,
    /// `noun.` prefixes (from `noun.*`).
    pub prefixes: Vec<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub ip: Option<String>,
    /// Lower-cased.
    pub q: Option<String>,
}

fn time(pairs: &QueryPairs, field: &str, errors: &mut Errors) -> Option<DateTime<Utc>> {
    let raw = pairs.get(field)?.trim();
    if raw.is_empty() {
        return None;
    }
    match DateTime::parse_from_rfc3339(raw) {
        Ok(t) => Some(t.to_utc()),
        Err(_) => {
            let shown: String = raw.chars().take(40).collect();
            errors.add(field, codes::INVALID_TIME, format!("`{shown}` is not an RFC 3339 time; write e.g. 2026-03-01T09:00:00Z."));
            None
        }
    }
}

fn id(pairs: &QueryPairs, field: &str, errors: &mut Errors) -> Option<String> {
    let raw = pairs.get(field)?.trim();
    if raw.is_empty() {
        return None;
    }
    if uuid::Uuid::try_parse(raw).is_err() {
        let shown: String = raw.chars().take(60).collect();
        errors.add(field, codes::INVALID_ID, format!("`{shown}` is not a user id; ids look like 0192f4c1-7d3e-7a10-9b1c-2f4e5d6c7b8a."));
        return None;
    }
    Some(raw.to_owned())
}

/// The nouns whose every action `noun.*` may take: the server's own and host products'.
fn is_known_prefix(prefix: &str) -> bool {
    prefix == HOST_ACTION_PREFIX || AUDIT_ACTIONS.iter().any(|(a, _, _)| a.starts_with(prefix))
}

impl Filter {
    /// Parses the filters of `pairs` (not `limit` or `cursor`), collecting every error.
    pub(crate) fn parse(pairs: &QueryPairs, errors: &mut Errors) -> Self {
        let mut f = Self { user_id: id(pairs, "user_id", errors), actor_id: id(pairs, "actor_id", errors), ..Self::default() };
        if let Some(list) = pairs.get("action") {
            for action in list.split(',').map(str::trim).filter(|a| !a.is_empty()) {
                if let Some(noun) = action.strip_suffix('*') {
                    if noun.ends_with('.') && is_known_prefix(noun) {
                        f.prefixes.push(noun.to_owned());
                        continue;
                    }
                } else if is_known_action(action) {
                    f.actions.push(action.to_owned());
                    continue;
                }
                let shown: String = action.chars().take(60).collect();
                errors.add(
                    "action",
                    codes::UNKNOWN_ACTION,
                    format!(
                        "Unknown action `{shown}`; use actions such as user.deactivated, prefixes such as session.*, or app.… for host products."
                    ),
                );
            }
            f.actions.sort();
            f.actions.dedup();
            f.prefixes.sort();
            f.prefixes.dedup();
            if f.actions.len() + f.prefixes.len() > MAX_ACTIONS {
                errors.add("action", "too_many", format!("At most {MAX_ACTIONS} actions in one filter."));
            }
        }
        f.from = time(pairs, "from", errors);
        f.to = time(pairs, "to", errors);
        if let (Some(from), Some(to)) = (f.from, f.to)
            && to <= from
        {
            errors.add("to", codes::RANGE_REVERSED, "`to` must be after `from`.");
        }
        f.ip = pairs.get("ip").map(str::trim).filter(|i| !i.is_empty()).map(str::to_owned);
        if let Some(ip) = &f.ip
            && ip.parse::<std::net::IpAddr>().is_err()
        {
            errors.add("ip", "invalid", format!("`{}` is not an IP address.", ip.chars().take(60).collect::<String>()));
        }
        f.q = pairs.get("q").map(str::trim).filter(|q| !q.is_empty()).map(str::to_lowercase);
        if f.q.as_ref().is_some_and(|q| q.chars().count() > MAX_Q_CHARS) {
            errors.add("q", "too_long", format!("A text filter has at most {MAX_Q_CHARS} characters."));
        }
        f
    }

    /// A digest of the filters, which cursors carry: a cursor of another filter is refused.
    fn fingerprint(&self, scope: &str) -> String {
        let times = |t: Option<DateTime<Utc>>| t.map(|t| t.to_rfc3339()).unwrap_or_default();
        paging::fingerprint(&[
            scope,
            self.user_id.as_deref().unwrap_or(""),
            self.actor_id.as_deref().unwrap_or(""),
            &self.actions.join(","),
            &self.prefixes.join(","),
            &times(self.from),
            &times(self.to),
            self.ip.as_deref().unwrap_or(""),
            self.q.as_deref().unwrap_or(""),
        ])
    }

    /// Appends ` AND …` for every filter except the driver's own column.
    fn push_conditions(&self, qb: &mut QueryBuilder<'_, Sqlite>, actions: &[String], driver: &Driver) {
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
            qb.push(" AND search LIKE ").push_bind(gatehouse_api::substring_like_pattern(q)).push(" ESCAPE '\\'");
        }
    }

    /// The exact actions the filter takes: its own and every action of its prefixes that
    /// the organization's log holds.
    async fn expand_actions(&self, db: &SqlitePool, org: &str) -> Result<Vec<String>> {
        let mut actions = self.actions.clone();
        for prefix in &self.prefixes {
            let pattern = format!("{}%", prefix.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
            let found: Vec<String> = sqlx::query_scalar("SELECT action FROM audit_actions WHERE org_id = ? AND action LIKE ? ESCAPE '\\'")
                .bind(org)
                .bind(pattern)
                .fetch_all(db)
                .await?;
            actions.extend(found);
        }
        actions.sort();
        actions.dedup();
        Ok(actions)
    }

    /// Whether only actions and the time narrow the filter: then the hourly counts answer
    /// a histogram.
    pub(crate) fn by_action_and_time_only(&self) -> bool {
        self.user_id.is_none() && self.actor_id.is_none() && self.ip.is_none() && self.q.is_none()
    }

    /// The filter's exact actions (see [`Self::expand_actions`]); `None` when it takes all.
    pub(crate) async fn actions_taken(&self, db: &SqlitePool, org: &str) -> Result<Option<Vec<String>>> {
        if self.actions.is_empty() && self.prefixes.is_empty() {
            return Ok(None);
        }
        Ok(Some(self.expand_actions(db, org).await?))
    }

    /// The `WHERE` of every event of `org` the filter takes (for counts and histograms,
    /// which need no order).
    pub(crate) async fn push_where(&self, qb: &mut QueryBuilder<'_, Sqlite>, db: &SqlitePool, org: &str) -> Result<()> {
        let actions = self.expand_actions(db, org).await?;
        qb.push(" WHERE org_id = ").push_bind(org.to_owned());
        self.push_conditions(qb, &actions, &Driver::Org);
        Ok(())
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

/// The columns of an event row.
pub(crate) const COLUMNS: &str =
    "id, at, action, actor_id, actor_name, actor_email, target_type, target_id, target_name, target_email, ip, user_agent, details";

#[derive(sqlx::FromRow)]
pub(crate) struct Row {
    id: String,
    /// As stored: the keyset compares this text.
    at: String,
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
    pub(crate) fn key(&self) -> (String, String) {
        (self.at.clone(), self.id.clone())
    }

    pub(crate) fn into_event(self) -> AuditEvent {
        let at = DateTime::parse_from_rfc3339(&self.at).map(|t| t.to_utc()).unwrap_or_default();
        let actor = self.actor_id.map(|id| AuditParty { kind: "user".into(), id, name: self.actor_name, email: self.actor_email });
        let details = serde_json::from_str(&self.details).unwrap_or_else(|_| serde_json::json!({}));
        AuditEvent {
            id: self.id,
            at,
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
pub(crate) async fn page(db: &SqlitePool, org: &str, filter: &Filter, after: Option<&(String, String)>, limit: u32) -> Result<Vec<Row>> {
    let actions = filter.expand_actions(db, org).await?;
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
    let mut qb = QueryBuilder::<Sqlite>::new("");
    let several = drivers.len() > 1;
    if several {
        qb.push(format!("SELECT {COLUMNS} FROM ("));
    }
    for (i, driver) in drivers.iter().enumerate() {
        if i > 0 {
            qb.push(" UNION ");
        }
        if several {
            qb.push("SELECT * FROM (");
        }
        // The planner has no statistics to go on: name the index each range walks, so a
        // residual filter's index (say, the action's) is never walked instead.
        let index = match driver {
            Driver::Org => "audit_events_org_at",
            Driver::Actor(_) => "audit_events_actor",
            Driver::Target(_) => "audit_events_target",
            Driver::Action(_) => "audit_events_action",
            Driver::Ip => "audit_events_ip",
        };
        qb.push(format!("SELECT {COLUMNS} FROM audit_events INDEXED BY {index} WHERE org_id = ")).push_bind(org.to_owned());
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
            qb.push(" AND (at, id) < (").push_bind(at.clone()).push(", ").push_bind(id.clone()).push(")");
        }
        qb.push(" ORDER BY at DESC, id DESC LIMIT ").push_bind(n);
        if several {
            qb.push(")");
        }
    }
    if several {
        qb.push(") ORDER BY at DESC, id DESC LIMIT ").push_bind(n);
    }
    Ok(qb.build_query_as().fetch_all(db).await?)
}

/// A page request: the filter, the size and where it starts.
pub(crate) struct PageQuery {
    pub filter: Filter,
    limit: u32,
    after: Option<(String, String)>,
    fingerprint: String,
}

impl PageQuery {
    fn parse(pairs: &QueryPairs, scope: &str, forced_user: Option<&str>) -> Result<Self> {
        let mut errors = Errors::default();
        let mut filter = Filter::parse(pairs, &mut errors);
        if let Some(u) = forced_user {
            filter.user_id = Some(u.to_owned());
        }
        let limit = paging::limit(pairs.get("limit"), &mut errors);
        let fingerprint = filter.fingerprint(scope);
        let after = paging::decode(pairs.get("cursor"), &fingerprint, 2, &mut errors).map(|k| (k[0].clone(), k[1].clone()));
        if errors.0.is_empty() { Ok(Self { filter, limit, after, fingerprint }) } else { Err(ApiError::validation(errors.0)) }
    }

    async fn run(self, db: &SqlitePool, granted: &Granted<AuditRead>) -> Result<AuditEventPage> {
        let mut rows = page(db, granted.org_id(), &self.filter, self.after.as_ref(), self.limit + 1).await?;
        let next_cursor = if rows.len() > self.limit as usize {
            rows.truncate(self.limit as usize);
            rows.last().map(|r| paging::encode(&self.fingerprint, &[&r.at, &r.id]))
        } else {
            None
        };
        Ok(AuditEventPage { items: rows.into_iter().map(Row::into_event).collect(), next_cursor })
    }
}

/// The organization's activity log, newest first.
#[utoipa::path(
    get, path = "/v1/audit-events", tag = "activity",
    params(AuditEventQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of events", body = AuditEventPage),
        (status = 400, description = "A malformed time, an unknown action, `to` before `from`, an invalid IP, limit or cursor (also a cursor of another filter); `errors` names each", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in, or the session was revoked", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacks `audit.read`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_events(State(state): State<AppState>, principal: Principal, pairs: QueryPairs) -> Result<Json<AuditEventPage>> {
    let granted = principal.require::<AuditRead>()?;
    let query = PageQuery::parse(&pairs, "events", None)?;
    Ok(Json(query.run(&state.db, &granted).await?))
}

/// One user's timeline (SPEC A2): what they did and what was done to them, merged, newest
/// first. Takes the filters of the log except `user_id`.
#[utoipa::path(
    get, path = "/v1/users/{id}/activity", tag = "activity",
    params(("id" = String, Path, description = "User id"), AuditEventQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of the user's events", body = AuditEventPage),
        (status = 400, description = "An invalid id, filter, limit or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacks `audit.read`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user in this organization (a removed user's events stay in the log)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn user_activity(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
    pairs: QueryPairs,
) -> Result<Json<AuditEventPage>> {
    let granted = principal.require::<AuditRead>()?;
    paging::check_id("user", &id)?;
    let query = PageQuery::parse(&pairs, "user-activity", Some(&id))?;
    let known: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM users WHERE id = ? AND org_id = ?").bind(&id).bind(granted.org_id()).fetch_optional(&state.db).await?;
    if known.is_none() {
        let logged: Option<i64> = sqlx::query_scalar("SELECT 1 FROM audit_events WHERE org_id = ? AND target_id = ? LIMIT 1")
            .bind(granted.org_id())
            .bind(&id)
            .fetch_optional(&state.db)
            .await?;
        if logged.is_none() {
            return Err(ApiError::not_found("No user with this id in your organization."));
        }
    }
    Ok(Json(query.run(&state.db, &granted).await?))
}

/// Deletes events older than each organization's retention, a batch at a time so the
/// writers are never held up for long; returns how many went.
pub async fn purge_expired(db: &SqlitePool, now: DateTime<Utc>) -> Result<u64> {
    let orgs: Vec<(String, i64)> = sqlx::query_as("SELECT id, audit_retention_days FROM organizations").fetch_all(db).await?;
    let mut total = 0;
    for (org, days) in orgs {
        // On an hour boundary, so the hourly counts go with exactly the events they count.
        let cutoff = chrono::DurationRound::duration_trunc(now - chrono::Duration::days(days), chrono::Duration::hours(1))
            .unwrap_or(now - chrono::Duration::days(days));
        loop {
            let gone = sqlx::query(
                "DELETE FROM audit_events WHERE rowid IN (SELECT rowid FROM audit_events WHERE org_id = ? AND at < ? ORDER BY at LIMIT 5000)",
            )
            .bind(&org)
            .bind(cutoff)
            .execute(db)
            .await?
            .rows_affected();
            total += gone;
            if gone < 5000 {
                break;
            }
        }
        sqlx::query("DELETE FROM audit_hourly WHERE org_id = ? AND hour < substr(?, 1, 13)").bind(&org).bind(cutoff).execute(db).await?;
    }
    Ok(total)
}
