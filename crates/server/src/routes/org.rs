//! `GET/PATCH /v1/org`: the organization's settings (SPEC O1) — seat limit and usage,
//! invitation expiry, MFA required.

use crate::app::AppState;
use crate::audit::{self, Event};
use crate::auth::{OrgSettings, Principal};
use crate::error::{ApiError, Result};
use crate::extract::ApiJson;
use crate::extract::ClientMeta;
use crate::store::{self, Conn};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use gatehouse_api::{
    FieldError, MAX_AUDIT_RETENTION_DAYS, MAX_GROUP_NAME_CHARS, MIN_AUDIT_RETENTION_DAYS, Organization, OrganizationPatch, Problem, SeatUsage, codes,
};

/// Highest seat limit accepted.
pub const MAX_SEAT_LIMIT: u32 = 1_000_000;
/// Longest invitation lifetime, in days.
pub const MAX_INVITATION_DAYS: u32 = 90;

/// Seats in use: active and pending users (deactivated ones free theirs).
pub(crate) async fn seats_used(conn: &mut Conn, org: &str) -> Result<u32> {
    store::org::seats_used(conn, org).await
}

/// Seats in use and the limit, as `conn` sees them.
pub(crate) async fn seat_usage(conn: &mut Conn, org: &str) -> Result<SeatUsage> {
    let limit = store::org::seat_limit(conn, org).await?;
    Ok(SeatUsage { used: seats_used(conn, org).await?, limit })
}

/// `seat_limit_reached` for `wanted` more seats than `usage` leaves free, with the usage.
pub(crate) fn seats_refused(usage: SeatUsage, wanted: u32) -> ApiError {
    let free = usage.limit.saturating_sub(usage.used);
    ApiError::new(
        StatusCode::CONFLICT,
        codes::SEAT_LIMIT_REACHED,
        format!(
            "{} of {} seats are in use, so {free} more can be taken and this needs {wanted}; raise the seat limit in Settings, or revoke invitations or deactivate users first.",
            usage.used, usage.limit
        ),
    )
    .with_seats(usage)
}

/// Refuses when `org` has more seats in use than its limit, as `conn` sees it. Called
/// after the writes that took `taken` seats, inside their transaction, so two concurrent
/// requests cannot both take the last seat; the refusal reports the usage without them.
pub(crate) async fn ensure_seats(conn: &mut Conn, org: &str, taken: u32) -> Result<()> {
    let usage = seat_usage(conn, org).await?;
    if usage.used > usage.limit {
        return Err(seats_refused(SeatUsage { used: usage.used.saturating_sub(taken), ..usage }, taken));
    }
    Ok(())
}

async fn load(conn: &mut Conn, org: &str) -> Result<(Organization, i64)> {
    let row = store::org::settings(conn, org).await?;
    let seats_used = seats_used(conn, org).await?;
    let org = Organization {
        id: row.id,
        name: row.name,
        seat_limit: u32::try_from(row.seat_limit).unwrap_or(0),
        seats_used,
        invitation_expiry_days: u32::try_from(row.invitation_expiry_days).unwrap_or(0),
        mfa_required: row.mfa_required,
        audit_retention_days: u32::try_from(row.audit_retention_days).unwrap_or(0),
    };
    Ok((org, row.version))
}

/// The signed-in user's organization and its settings.
#[utoipa::path(
    get, path = "/v1/org", tag = "organization",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The organization; `ETag` has its version", body = Organization),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_org(State(state): State<AppState>, principal: Principal) -> Result<Response> {
    let mut tx = crate::store::read(&state.db).await?;
    let (org, version) = load(&mut tx, &principal.org_id).await?;
    tx.commit().await?;
    Ok(super::json_with_etag(StatusCode::OK, org, version))
}

fn validate(patch: &OrganizationPatch) -> Result<()> {
    let mut errors = Vec::new();
    let mut error = |field: &str, code: &str, message: String| errors.push(FieldError { field: field.into(), code: code.into(), message });
    if let Some(name) = &patch.name {
        let n = name.trim().chars().count();
        if n == 0 {
            error("name", "required", "The organization needs a name.".into());
        } else if n > MAX_GROUP_NAME_CHARS || name.chars().any(char::is_control) {
            error("name", "invalid", format!("A name is at most {MAX_GROUP_NAME_CHARS} characters, without control characters."));
        }
    }
    if let Some(limit) = patch.seat_limit
        && !(1..=MAX_SEAT_LIMIT).contains(&limit)
    {
        error("seat_limit", "out_of_range", format!("The seat limit is a whole number from 1 to {MAX_SEAT_LIMIT}."));
    }
    if let Some(days) = patch.invitation_expiry_days
        && !(1..=MAX_INVITATION_DAYS).contains(&days)
    {
        error("invitation_expiry_days", "out_of_range", format!("Invitations last from 1 to {MAX_INVITATION_DAYS} days."));
    }
    if let Some(days) = patch.audit_retention_days
        && !(MIN_AUDIT_RETENTION_DAYS..=MAX_AUDIT_RETENTION_DAYS).contains(&days)
    {
        error(
            "audit_retention_days",
            "out_of_range",
            format!("Audit events are kept from {MIN_AUDIT_RETENTION_DAYS} to {MAX_AUDIT_RETENTION_DAYS} days."),
        );
    }
    if errors.is_empty() { Ok(()) } else { Err(ApiError::validation(errors)) }
}

/// Turning "MFA required" on ends the live sessions of members without MFA: they sign in
/// again and enrol before anything else. The admin turning it on keeps this session (to
/// enrol in, or to undo a mistake); their next sign-in enrols too. Returns how many ended.
async fn end_sessions_without_mfa(tx: &mut Conn, org: &str, own_session: &str, now: chrono::DateTime<chrono::Utc>) -> Result<u64> {
    let ended = store::sessions::end_without_mfa(tx, org, own_session, now).await?;
    Ok(ended)
}

/// Changes the organization's settings. `If-Match` is optional; a stale one gets 412.
#[utoipa::path(
    patch, path = "/v1/org", tag = "organization",
    params(("If-Match" = Option<String>, Header, description = "The ETag the admin saw")),
    request_body = OrganizationPatch,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The organization as changed", body = Organization),
        (status = 400, description = "Invalid fields, or a seat limit below the seats in use", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacks `org.settings`", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`precondition_failed`: the settings changed; `current` holds them", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn patch_org(
    State(state): State<AppState>,
    principal: Principal,
    meta: ClientMeta,
    headers: HeaderMap,
    ApiJson(patch): ApiJson<OrganizationPatch>,
) -> Result<Response> {
    let granted = principal.require::<OrgSettings>()?;
    let org_id = granted.org_id();
    validate(&patch)?;
    let now = state.clock.now();
    let mut tx = crate::store::write(&state.db).await?;
    let (before, version) = load(&mut tx, org_id).await?;
    super::check_if_match(super::if_match(&headers).as_deref(), &before, version)?;
    let after = Organization {
        name: patch.name.as_deref().map(str::trim).map_or(before.name.clone(), str::to_owned),
        seat_limit: patch.seat_limit.unwrap_or(before.seat_limit),
        invitation_expiry_days: patch.invitation_expiry_days.unwrap_or(before.invitation_expiry_days),
        mfa_required: patch.mfa_required.unwrap_or(before.mfa_required),
        audit_retention_days: patch.audit_retention_days.unwrap_or(before.audit_retention_days),
        ..before.clone()
    };
    if after.seat_limit < before.seats_used {
        return Err(ApiError::field("seat_limit", "below_usage", format!("{} seats are in use; the limit cannot go below that.", before.seats_used)));
    }
    if after == before {
        return Ok(super::json_with_etag(StatusCode::OK, before, version));
    }
    store::org::save_settings(&mut tx, org_id, &after).await?;
    let was = serde_json::to_value(&before).map_err(|e| ApiError::Internal(e.into()))?;
    let now_value = serde_json::to_value(&after).map_err(|e| ApiError::Internal(e.into()))?;
    let event = Event::by(&principal, &meta, ("organization", org_id), "organization.updated", audit::diff(&was, &now_value));
    let mut details_ended = 0;
    if after.mfa_required && !before.mfa_required {
        details_ended = end_sessions_without_mfa(&mut tx, org_id, &principal.session_id, now).await?;
    }
    let mut event = event;
    if details_ended > 0
        && let serde_json::Value::Object(map) = &mut event.details
    {
        map.insert("sessions_ended_without_mfa".into(), details_ended.into());
    }
    audit::record(&mut tx, event, now).await?;
    tx.commit().await?;
    Ok(super::json_with_etag(StatusCode::OK, after, version + 1))
}
