//! Login attempts (SPEC S4): every sign-in attempt, successful or not, with why it failed —
//! including the refusals of brute-force protection (`locked`, `rate_limited`, SPEC S5).

use super::paging::{self, Errors};
use crate::app::AppState;
use crate::auth::{AuditRead, Principal};
use crate::error::{ApiError, Result};
use crate::extract::ApiPath;
use crate::extract::QueryPairs;
use crate::policy;
use crate::store;
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use gatehouse_api::{LOGIN_FAILURE_REASONS, LoginAttempt, LoginAttemptPage, LoginAttemptQuery, LoginResult, Problem, SignInUnlocked};

struct Query {
    result: Option<LoginResult>,
    reason: Option<String>,
    user_id: Option<String>,
    email: Option<String>,
    ip: Option<String>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    limit: u32,
    before: Option<i64>,
    fingerprint: String,
}

fn time(pairs: &QueryPairs, field: &str, errors: &mut Errors) -> Option<DateTime<Utc>> {
    let raw = pairs.get(field)?;
    match DateTime::parse_from_rfc3339(raw) {
        Ok(t) => Some(t.to_utc()),
        Err(_) => {
            errors.add(field, "invalid", format!("`{field}` must be an RFC 3339 time such as 2026-03-01T09:00:00Z."));
            None
        }
    }
}

impl Query {
    fn parse(pairs: &QueryPairs) -> Result<Self> {
        let mut errors = Errors::default();
        let result = pairs.get("result").and_then(|r| {
            let parsed = LoginResult::parse(r);
            if parsed.is_none() {
                errors.add("result", "invalid", format!("Unknown result `{r}`; use success or failure."));
            }
            parsed
        });
        let reason = pairs.get("reason").map(str::to_owned);
        if let Some(r) = &reason
            && !LOGIN_FAILURE_REASONS.iter().any(|(k, _)| k == r)
        {
            let known: Vec<&str> = LOGIN_FAILURE_REASONS.iter().map(|(k, _)| *k).collect();
            errors.add("reason", "invalid", format!("Unknown reason `{r}`; use one of {}.", known.join(", ")));
        }
        let user_id = pairs.get("user_id").map(str::to_owned);
        let email = pairs.get("email").map(|e| e.trim().to_lowercase()).filter(|e| !e.is_empty());
        if email.as_ref().is_some_and(|e| e.chars().count() > 320) {
            errors.add("email", "too_long", "An e-mail address has at most 320 characters.");
        }
        let ip = pairs.get("ip").map(|i| i.trim().to_owned()).filter(|i| !i.is_empty());
        if let Some(ip) = &ip
            && ip.parse::<std::net::IpAddr>().is_err()
        {
            errors.add("ip", "invalid", format!("`{}` is not an IP address.", ip.chars().take(60).collect::<String>()));
        }
        let from = time(pairs, "from", &mut errors);
        let to = time(pairs, "to", &mut errors);
        if let (Some(f), Some(t)) = (from, to)
            && f >= t
        {
            errors.add("to", "invalid", "`to` must be after `from`.");
        }
        let limit = paging::limit(pairs.get("limit"), &mut errors);
        let from_s = from.map(|t| t.to_rfc3339()).unwrap_or_default();
        let to_s = to.map(|t| t.to_rfc3339()).unwrap_or_default();
        let fingerprint = paging::fingerprint(&[
            "attempts",
            result.map(LoginResult::as_str).unwrap_or(""),
            reason.as_deref().unwrap_or(""),
            user_id.as_deref().unwrap_or(""),
            email.as_deref().unwrap_or(""),
            ip.as_deref().unwrap_or(""),
            &from_s,
            &to_s,
        ]);
        let before = paging::decode(pairs.get("cursor"), &fingerprint, 1, &mut errors).and_then(|k| {
            let id = k[0].parse::<i64>().ok();
            if id.is_none() {
                errors.add("cursor", gatehouse_api::codes::INVALID_CURSOR, "This cursor was not issued by this server.");
            }
            id
        });
        if errors.0.is_empty() {
            Ok(Self { result, reason, user_id, email, ip, from, to, limit, before, fingerprint })
        } else {
            Err(ApiError::validation(errors.0))
        }
    }
}

/// Lists sign-in attempts, newest first.
#[utoipa::path(
    get, path = "/v1/login-attempts", tag = "sessions",
    params(LoginAttemptQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of login attempts", body = LoginAttemptPage),
        (status = 400, description = "An invalid filter, limit or cursor; `errors` names each", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in, or the session was revoked", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacks `audit.read`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_attempts(State(state): State<AppState>, principal: Principal, pairs: QueryPairs) -> Result<Json<LoginAttemptPage>> {
    let granted = principal.require::<AuditRead>()?;
    let query = Query::parse(&pairs)?;
    let filter = store::attempts::Filter {
        result: query.result.map(LoginResult::as_str),
        reason: query.reason.as_deref(),
        user_id: query.user_id.as_deref(),
        email: query.email.as_deref(),
        ip: query.ip.as_deref(),
        from: query.from,
        to: query.to,
    };
    let mut rows = store::attempts::page(&state.db, granted.org_id(), &filter, query.before, query.limit + 1).await?;
    let next_cursor = if rows.len() > query.limit as usize {
        rows.truncate(query.limit as usize);
        rows.last().map(|r| paging::encode(&query.fingerprint, &[&r.id.to_string()]))
    } else {
        None
    };
    let items = rows
        .into_iter()
        .map(|r| LoginAttempt {
            id: r.id,
            at: r.at,
            email: r.email,
            user_id: r.user_id,
            user_name: r.user_name,
            ip: r.ip,
            device: super::auth::describe_device(&r.user_agent),
            result: LoginResult::parse(&r.result).unwrap_or(LoginResult::Failure),
            reason: r.reason,
        })
        .collect();
    Ok(Json(LoginAttemptPage { items, next_cursor }))
}

/// Lifts a sign-in lock of the user's address (SPEC S5): the failed sign-ins so far stop
/// counting, from every network. The per-address rate limit is not affected.
#[utoipa::path(
    post, path = "/v1/users/{id}/unlock", tag = "sessions",
    params(("id" = String, Path, description = "User id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Unlocked (also when it was not locked)", body = SignInUnlocked),
        (status = 400, description = "`invalid_id`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacks `users.manage`, or the user holds a permission the caller lacks (or is an Owner)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user in this organization", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn unlock_sign_in(
    State(state): State<AppState>,
    principal: Principal,
    meta: crate::extract::ClientMeta,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<SignInUnlocked>> {
    principal.require::<crate::auth::UsersManage>()?;
    paging::check_id("user", &id)?;
    let target = policy::act_on::<policy::Unlock>(&state.db, &principal, &id).await?;
    let user = target.user();
    let now = state.clock.now();
    let email = user.email.to_lowercase();
    let mut tx = crate::store::write(&state.db).await?;
    crate::store::attempts::unlock(&mut tx, &email, now).await?;
    let event = crate::audit::Event::by(
        &principal,
        &meta,
        ("user", &user.id),
        "user.sign_in_unlocked",
        serde_json::json!({ "target": { "name": user.display_name, "email": user.email } }),
    );
    crate::audit::record(&mut tx, event, now).await?;
    tx.commit().await?;
    Ok(Json(SignInUnlocked { user_id: user.id.clone(), email, unlocked_at: now }))
}
