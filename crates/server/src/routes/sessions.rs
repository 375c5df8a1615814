//! Sessions (SPEC S1–S3): lists, revoking one, and force logout of a user.
//!
//! Revocation is a write to the session row, and every request reads that row
//! ([`crate::auth::Principal`]), so a revoked session's very next request is refused —
//! on every server process sharing the database, with no token-lifetime grace.

use super::paging::{self, Errors};
use crate::app::AppState;
use crate::audit::{self, Event};
use crate::auth::{Principal, SessionsRevoke};
use crate::error::{ApiError, Result};
use crate::extract::ClientMeta;
use crate::extract::{ApiPath, QueryPairs};
use crate::idempotency::Idempotency;
use crate::policy::{self, RevokeSessions};
use crate::store::{self, Conn};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use gatehouse_api::{ForcedLogout, Problem, Revocation, RevokeOutcome, Session, SessionPage, SessionQuery};
use serde_json::json;

/// A validated session-list query.
struct ListQuery {
    q: Option<String>,
    all: bool,
    limit: u32,
    after: Option<Vec<String>>,
    fingerprint: String,
}

impl ListQuery {
    fn parse(pairs: &QueryPairs, scope: &str) -> Result<Self> {
        let mut errors = Errors::default();
        let q = pairs.get("q").map(|q| q.trim().to_lowercase()).filter(|q| !q.is_empty());
        if q.as_ref().is_some_and(|q| q.chars().count() > 200) {
            errors.add("q", "too_long", "Search text is limited to 200 characters.");
        }
        let all = match pairs.get("state") {
            None | Some("active") => false,
            Some("all") => true,
            Some(other) => {
                errors.add("state", "invalid", format!("Unknown state `{other}`; use active or all."));
                false
            }
        };
        let limit = paging::limit(pairs.get("limit"), &mut errors);
        let fingerprint = paging::fingerprint(&["sessions", scope, q.as_deref().unwrap_or(""), if all { "all" } else { "active" }]);
        let after = paging::decode(pairs.get("cursor"), &fingerprint, 2, &mut errors);
        if errors.0.is_empty() { Ok(Self { q, all, limit, after, fingerprint }) } else { Err(ApiError::validation(errors.0)) }
    }
}

/// One page of sessions of the organization (or of one user), newest first.
async fn page(state: &AppState, org_id: &str, user_id: Option<&str>, query: &ListQuery) -> Result<SessionPage> {
    let mut rows = store::sessions::page(
        &state.db,
        &store::sessions::PageQuery {
            org_id,
            user_id,
            // Live: not revoked, and its refresh token could still be used.
            live_since: (!query.all).then(|| state.clock.now() - state.config.refresh_token_ttl),
            q: query.q.as_deref(),
            after: query.after.as_deref(),
            limit: query.limit,
        },
    )
    .await?;
    let next_cursor = if rows.len() > query.limit as usize {
        rows.truncate(query.limit as usize);
        rows.last().map(|r| paging::encode(&query.fingerprint, &[&r.created_key, r.id()]))
    } else {
        None
    };
    Ok(SessionPage { items: rows.into_iter().map(Session::from).collect(), next_cursor })
}

/// Lists the organization's sessions, newest first.
#[utoipa::path(
    get, path = "/v1/sessions", tag = "sessions",
    params(SessionQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of sessions", body = SessionPage),
        (status = 400, description = "Invalid state, limit or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in, or the session was revoked", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacks `sessions.revoke`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_sessions(State(state): State<AppState>, principal: Principal, pairs: QueryPairs) -> Result<Json<SessionPage>> {
    let granted = principal.require::<SessionsRevoke>()?;
    let query = ListQuery::parse(&pairs, "")?;
    Ok(Json(page(&state, granted.org_id(), None, &query).await?))
}

/// Lists one user's sessions, newest first.
#[utoipa::path(
    get, path = "/v1/users/{id}/sessions", tag = "sessions",
    params(("id" = String, Path, description = "User id"), SessionQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of the user's sessions", body = SessionPage),
        (status = 400, description = "`invalid_id`, or an invalid state, limit or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in, or the session was revoked", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacks `sessions.revoke`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user in this organization", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn user_sessions(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
    pairs: QueryPairs,
) -> Result<Json<SessionPage>> {
    let granted = principal.require::<SessionsRevoke>()?;
    paging::check_id("user", &id)?;
    let query = ListQuery::parse(&pairs, &id)?;
    if !store::users::exists(&state.db, granted.org_id(), &id).await? {
        return Err(ApiError::not_found(format!("No user with id `{id}` in this organization.")));
    }
    Ok(Json(page(&state, granted.org_id(), Some(&id), &query).await?))
}

/// Ends every live session of `user_id` and withdraws its trusted devices; returns (sessions
/// ended, trusted devices withdrawn).
pub(crate) async fn end_all(tx: &mut Conn, user_id: &str, reason: &str, now: DateTime<Utc>) -> Result<(u64, u64)> {
    let trusted = store::sessions::withdraw_trusted_devices(tx, user_id).await?;
    let ended = store::sessions::end_all(tx, user_id, reason, now).await?;
    Ok((ended, trusted))
}

/// Revokes one session: its access and refresh tokens are refused from its next request
/// on. Idempotent: an already revoked session answers with its original time, an unknown
/// one with `unknown`.
#[utoipa::path(
    delete, path = "/v1/sessions/{id}", tag = "sessions",
    params(("id" = String, Path, description = "Session id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Revoked now, revoked before (with the original time), or unknown", body = Revocation),
        (status = 400, description = "`invalid_id`: not a session id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in, or the session was revoked", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacks `sessions.revoke`, or the session's user holds a permission the caller lacks", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn revoke_session(
    State(state): State<AppState>,
    principal: Principal,
    meta: ClientMeta,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Revocation>> {
    let granted = principal.require::<SessionsRevoke>()?;
    paging::check_id("session", &id)?;
    let org = granted.org_id();
    let Some(store::sessions::Brief { user_id, device, ip, revoked_at }) = store::sessions::brief(&state.db, org, &id).await? else {
        return Ok(Json(Revocation { session_id: id, outcome: RevokeOutcome::Unknown, revoked_at: None }));
    };
    let user = policy::act_on::<RevokeSessions>(&state.db, &principal, &user_id).await?.into_user().0;
    if let Some(at) = revoked_at {
        return Ok(Json(Revocation { session_id: id, outcome: RevokeOutcome::AlreadyRevoked, revoked_at: Some(at) }));
    }
    let now = state.clock.now();
    let mut tx = crate::store::write(&state.db).await?;
    if !store::sessions::revoke(&mut tx, &id, now).await? {
        // Someone revoked it a moment ago: theirs is the original time.
        drop(tx);
        let at = store::sessions::revoked_at(&state.db, &id).await?;
        return Ok(Json(Revocation { session_id: id, outcome: RevokeOutcome::AlreadyRevoked, revoked_at: at }));
    }
    audit::record(
        &mut tx,
        Event::by(
            &principal,
            &meta,
            ("user", &user_id),
            "session.revoked",
            json!({
                "target": { "name": user.display_name, "email": user.email },
                "session": { "id": id, "device": device, "ip": ip },
            }),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Json(Revocation { session_id: id, outcome: RevokeOutcome::Revoked, revoked_at: Some(now) }))
}

/// Force logout: ends every session of the user and withdraws their trusted devices; each
/// session's next request is refused.
#[utoipa::path(
    post, path = "/v1/users/{id}/logout", tag = "sessions",
    params(
        ("id" = String, Path, description = "User id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer"),
        ("suspend_api_keys" = Option<bool>, Query, description = "Also suspend the user's working API keys (a lost laptop, a departure); needs `users.manage` too"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Done; `confirmed_at` is when it took effect (with nothing left to end, the counts are 0)", body = ForcedLogout),
        (status = 400, description = "`invalid_id`: not a user id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in, or the session was revoked", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacks `sessions.revoke`, or the user holds a permission the caller lacks", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user in this organization", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn force_logout(
    State(state): State<AppState>,
    principal: Principal,
    meta: ClientMeta,
    ApiPath(id): ApiPath<String>,
    query: crate::extract::QueryPairs,
    headers: HeaderMap,
) -> Result<Response> {
    // The early answer for callers without the permission; `logout_user` asks the policy.
    principal.require::<SessionsRevoke>()?;
    paging::check_id("user", &id)?;
    let suspend_keys = suspend_keys_asked(&query)?;
    let path = format!("/v1/users/{id}/logout");
    Idempotency::handle(&state, &principal, &headers, ("POST", &path), &suspend_keys, async |idem| {
        logout_user(&state, &principal, &meta, &id, suspend_keys, idem).await.map(json_response)
    })
    .await
}

/// `?suspend_api_keys=true|false` of a force logout or a password reset (default false).
pub(crate) fn suspend_keys_asked(query: &crate::extract::QueryPairs) -> Result<bool> {
    match query.get("suspend_api_keys") {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(ApiError::field("suspend_api_keys", "invalid", "`suspend_api_keys` is `true` or `false`.")),
    }
}

fn json_response((_, body): (ForcedLogout, Vec<u8>)) -> Response {
    super::json_body(StatusCode::OK, body)
}

/// Force logout of one user (also each user of a bulk logout): the checks, the sessions
/// and trusted devices ended, the audit event, in one transaction; the answer and its JSON.
pub(crate) async fn logout_user(
    state: &AppState,
    principal: &Principal,
    meta: &ClientMeta,
    id: &str,
    suspend_keys: bool,
    idem: Option<&Idempotency>,
) -> Result<(ForcedLogout, Vec<u8>)> {
    let user = policy::act_on::<policy::ForceLogout>(&state.db, principal, id).await?.into_user().0;
    let keys_of = super::apikeys::may_suspend_all(&state.db, principal, id, suspend_keys).await?;
    let now = state.clock.now();
    let mut tx = crate::store::write(&state.db).await?;
    let (sessions, trusted) = end_all(&mut tx, id, "forced_logout", now).await?;
    let keys = super::apikeys::suspend_all(&mut tx, keys_of.as_ref(), principal, now).await?;
    audit::record(
        &mut tx,
        Event::by(
            principal,
            meta,
            ("user", id),
            "user.force_logout",
            json!({
                "target": { "name": user.display_name, "email": user.email },
                "sessions_revoked": sessions,
                "trusted_devices_revoked": trusted,
                "api_keys_suspended": keys,
            }),
        ),
        now,
    )
    .await?;
    let done = ForcedLogout {
        user_id: id.to_owned(),
        sessions_revoked: u32::try_from(sessions).unwrap_or(u32::MAX),
        trusted_devices_revoked: u32::try_from(trusted).unwrap_or(u32::MAX),
        api_keys_suspended: keys,
        confirmed_at: now,
    };
    let body = serde_json::to_vec(&done).map_err(|e| ApiError::Internal(e.into()))?;
    if let Some(idem) = idem {
        idem.store(&mut tx, StatusCode::OK, None, &body, now).await?;
    }
    tx.commit().await?;
    Ok((done, body))
}
