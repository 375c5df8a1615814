//! Deactivating and reactivating a user (SPEC U8, R3). Deactivation ends every session of
//! the user at once (their next request is refused), frees their seat (seats count active
//! users) and keeps everything else; reactivation restores the same user with the same
//! roles and departments. Both are audited in their own transaction.

use super::user_edit::{Saved, body_of, etag};
use crate::app::AppState;
use crate::audit::{self, Event};
use crate::auth::{Principal, UsersManage};
use crate::error::{ApiError, Result};
use crate::extract::ApiPath;
use crate::extract::ClientMeta;
use crate::idempotency::Idempotency;
use crate::policy;
use crate::store::users::find_versioned;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use gatehouse_api::{Problem, User, UserStatus, codes};
use serde_json::json;

/// Ends every live session of `user_id` (their next request is refused) and withdraws
/// their trusted devices; returns how many sessions ended.
pub(crate) async fn end_sessions(tx: &mut crate::store::Conn, user_id: &str, reason: &str, now: chrono::DateTime<chrono::Utc>) -> Result<u64> {
    Ok(super::sessions::end_all(tx, user_id, reason, now).await?.0)
}

/// What to do to the user.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    /// Deactivate.
    Deactivate,
    /// Reactivate.
    Reactivate,
}

impl Change {
    fn path(self, id: &str) -> String {
        match self {
            Self::Deactivate => format!("/v1/users/{id}/deactivate"),
            Self::Reactivate => format!("/v1/users/{id}/reactivate"),
        }
    }
}

/// Deactivates a user: their sessions end at once, their seat is freed, their history,
/// roles and departments are kept. `If-Match` is optional; when sent it must be current.
#[utoipa::path(
    post, path = "/v1/users/{id}/deactivate", tag = "users",
    params(
        ("id" = String, Path, description = "User id"),
        ("If-Match" = Option<String>, Header, description = "The ETag the admin saw; a stale one gets 412"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The deactivated user (already deactivated: unchanged); `ETag` has its version", body = User),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacks `users.manage`, or the user holds a permission the caller lacks", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user in this organization", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`cannot_deactivate_self`, or `last_owner`: it would leave no active Owner", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`precondition_failed`: the user changed; `current` holds it", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn deactivate_user(
    State(state): State<AppState>,
    principal: Principal,
    meta: ClientMeta,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
) -> Result<Response> {
    run(&state, &principal, &meta, &id, &headers, Change::Deactivate).await
}

/// Reactivates a deactivated user with the roles and departments they had.
#[utoipa::path(
    post, path = "/v1/users/{id}/reactivate", tag = "users",
    params(
        ("id" = String, Path, description = "User id"),
        ("If-Match" = Option<String>, Header, description = "The ETag the admin saw; a stale one gets 412"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The active user (already active: unchanged); `ETag` has its version", body = User),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacks `users.manage`, or the user holds a permission the caller lacks", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user in this organization", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`not_deactivated`: the user is pending (invited), they join by accepting; `seat_limit_reached`", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`precondition_failed`: the user changed; `current` holds it", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn reactivate_user(
    State(state): State<AppState>,
    principal: Principal,
    meta: ClientMeta,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
) -> Result<Response> {
    run(&state, &principal, &meta, &id, &headers, Change::Reactivate).await
}

async fn run(state: &AppState, principal: &Principal, meta: &ClientMeta, id: &str, headers: &HeaderMap, change: Change) -> Result<Response> {
    let granted = principal.require::<UsersManage>()?;
    let org = granted.org_id().to_owned();
    let if_match = super::if_match(headers);
    Idempotency::handle(state, principal, headers, ("POST", &change.path(id)), &if_match, async |idem| {
        apply(state, principal, meta, &org, id, if_match.as_deref(), change, idem).await.map(Saved::response)
    })
    .await
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn apply(
    state: &AppState,
    principal: &Principal,
    meta: &ClientMeta,
    org: &str,
    id: &str,
    if_match: Option<&str>,
    change: Change,
    idem: Option<&Idempotency>,
) -> Result<Saved> {
    let db = &state.db;
    let not_found = || ApiError::not_found(format!("No user with id `{id}` in this organization."));
    let (current, version) = policy::act_on::<policy::ChangeStatus>(db, principal, id).await?.into_user();
    let stale = |user: &User, version: i64| -> Result<Saved> {
        Err(ApiError::stale(serde_json::to_value(user).map_err(|e| ApiError::Internal(e.into()))?, etag(version)))
    };
    super::check_if_match(if_match, &current, version)?;
    let now = state.clock.now();
    let Some(target) = target_of(principal, &current, change)? else {
        // Already so: nothing changes, not even the version.
        let body = body_of(&current)?;
        if let Some(idem) = idem {
            let mut tx = crate::store::write(db).await?;
            idem.store(&mut tx, StatusCode::OK, Some(&etag(version)), &body, now).await?;
            tx.commit().await?;
        }
        return Ok(Saved { user: current, body, version });
    };

    let mut tx = crate::store::write(db).await?;
    if !write(&mut tx, principal, meta, org, &current, version, change, target, now).await? {
        drop(tx);
        let (now_user, now_version) = find_versioned(db, org, id).await?.ok_or_else(not_found)?;
        return stale(&now_user, now_version);
    }
    Saved::commit(tx, User { status: target, ..current }, idem, now).await
}

/// The status `change` gives `current` (`None`: it has it already), or why it may not.
pub(crate) fn target_of(principal: &Principal, current: &User, change: Change) -> Result<Option<UserStatus>> {
    if change == Change::Deactivate && current.id == principal.user_id {
        return Err(ApiError::new(StatusCode::CONFLICT, codes::CANNOT_DEACTIVATE_SELF, "You cannot deactivate yourself; ask another admin."));
    }
    Ok(match (change, current.status) {
        (Change::Deactivate, UserStatus::Deactivated) | (Change::Reactivate, UserStatus::Active) => None,
        // An invitee's access is their invitation: revoking it frees the seat and kills the
        // link, where a deactivation would leave a live link to a dead account.
        (Change::Deactivate, UserStatus::Pending) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                codes::NOT_JOINED,
                format!("{} is invited and has not joined yet; revoke their invitation (Invitations) instead.", current.display_name),
            ));
        }
        (Change::Deactivate, _) => Some(UserStatus::Deactivated),
        (Change::Reactivate, UserStatus::Deactivated) => Some(UserStatus::Active),
        (Change::Reactivate, UserStatus::Pending) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                codes::NOT_DEACTIVATED,
                format!("{} is invited and has not joined yet; there is nothing to reactivate.", current.display_name),
            ));
        }
    })
}

/// The writes of changing `current` (read at `version`) to `target`, in the caller's
/// transaction: the status; on deactivation the last-Owner guard, the sessions ended and
/// the keys suspended; on reactivation the seat guard and the keys restored; the audit
/// event. `Ok(false)`: the user changed since `version`, and nothing was written.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn write(
    tx: &mut crate::store::Conn,
    principal: &Principal,
    meta: &ClientMeta,
    org: &str,
    current: &User,
    version: i64,
    change: Change,
    target: UserStatus,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<bool> {
    let id = current.id.as_str();
    // The write first: it takes the write lock, so the guard below reads a settled state.
    if !crate::store::users::set_status(tx, org, id, target, version, now).await? {
        return Ok(false);
    }
    let mut sessions_ended = 0;
    // Suspended by deactivation, or restored by reactivation.
    let mut api_keys = 0;
    if change == Change::Reactivate {
        super::org::ensure_seats(tx, org, 1).await?;
    }
    if change == Change::Deactivate {
        if crate::store::users::active_owners(tx, org).await? == 0 {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                codes::LAST_OWNER,
                format!("{} is the organization's last active Owner; make someone else an Owner first.", current.display_name),
            ));
        }
        sessions_ended = end_sessions(tx, id, "user_deactivated", now).await?;
        api_keys = super::apikeys::suspend_for_deactivation(tx, id, now).await?;
    }
    if change == Change::Reactivate {
        api_keys = super::apikeys::restore_after_reactivation(tx, id).await?;
    }
    let action = match change {
        Change::Deactivate => "user.deactivated",
        Change::Reactivate => "user.reactivated",
    };
    audit::record(
        tx,
        Event::by(
            principal,
            meta,
            ("user", id),
            action,
            json!({
                "target": { "name": current.display_name, "email": current.email },
                "before": { "status": current.status.as_str() },
                "after": { "status": target.as_str() },
                "sessions_ended": sessions_ended,
                "api_keys": api_keys,
            }),
        ),
        now,
    )
    .await?;
    Ok(true)
}
