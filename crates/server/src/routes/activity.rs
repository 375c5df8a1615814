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
pub(crate) use crate::store::audit::Filter;
use crate::store::audit::{Row, page};
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use gatehouse_api::{AUDIT_ACTIONS, AuditEventPage, AuditEventQuery, HOST_ACTION_PREFIX, Problem, codes, is_known_action};

/// Longest text filter, in characters.
const MAX_Q_CHARS: usize = 200;
/// Most actions one filter may name.
const MAX_ACTIONS: usize = 64;

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

    async fn run(self, db: &crate::store::Db, granted: &Granted<AuditRead>) -> Result<AuditEventPage> {
        let mut rows = page(db, granted.org_id(), &self.filter, self.after.as_ref(), self.limit + 1).await?;
        let next_cursor = if rows.len() > self.limit as usize {
            rows.truncate(self.limit as usize);
            rows.last().map(|r| {
                let (at, id) = r.key();
                paging::encode(&self.fingerprint, &[&at, &id])
            })
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
    if !crate::store::users::exists(&state.db, granted.org_id(), &id).await?
        && !crate::store::audit::mentions(&state.db, granted.org_id(), &id).await?
    {
        return Err(ApiError::not_found("No user with this id in your organization."));
    }
    Ok(Json(query.run(&state.db, &granted).await?))
}
