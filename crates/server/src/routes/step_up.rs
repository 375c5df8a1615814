//! `POST /v1/auth/step-up`: the signed-in person confirms their password (and TOTP code)
//! before a sensitive change to their own account — a new e-mail, an MFA reset, an API
//! key ([`crate::policy::stepped_up`]). A wrong password here is a guess like any other:
//! it is throttled and counts towards the account's lock.

use super::auth::{LoginCandidate, checked_guess, record_failure, second_factor};
use crate::app::AppState;
use crate::auth::Principal;
use crate::error::{ApiError, Result};
use crate::extract::ApiJson;
use crate::extract::ClientMeta;
use axum::Json;
use axum::extract::State;
use gatehouse_api::{LoginRequest, Problem, StepUpRequest, SteppedUp, codes};

/// Confirms the caller's password (and TOTP code when enrolled); for
/// [`crate::policy::STEP_UP_WINDOW`] the session may then change its own e-mail, reset its
/// own MFA and create API keys.
#[utoipa::path(
    post, path = "/v1/auth/step-up", tag = "auth",
    request_body = StepUpRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Confirmed, until `until`", body = SteppedUp),
        (status = 400, description = "Missing password", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`invalid_credentials`: wrong password; `mfa_required`/`mfa_failed`: the code is missing or wrong", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "An API key cannot step up", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`account_locked` or `rate_limited`, with `Retry-After`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`server_busy`, with `Retry-After`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn step_up(
    State(state): State<AppState>,
    principal: Principal,
    meta: ClientMeta,
    ApiJson(req): ApiJson<StepUpRequest>,
) -> Result<Json<SteppedUp>> {
    if principal.api_key.is_some() {
        return Err(ApiError::forbidden("An API key has no password to confirm; sign in as its owner."));
    }
    if req.password.expose().is_empty() {
        return Err(ApiError::field("password", "required", "Enter your password."));
    }
    let (email, id, org_id, status, password_hash) = crate::store::users::credentials(&state.db, &principal.user_id).await?;
    let candidate = LoginCandidate { id, org_id, status, password_hash };
    let (reserved, ok) = checked_guess(&state, &meta, &email, Some(&candidate), &req.password).await?;
    let now = state.clock.now();
    if !ok {
        record_failure(&state, &meta, &email, Some(&candidate), "bad_password", now, Some(&reserved)).await?;
        return Err(ApiError::unauthorized(codes::INVALID_CREDENTIALS, "That is not your password."));
    }
    // The code is asked for even on a trusted device: this is the moment it matters.
    let login = LoginRequest {
        email: email.clone(),
        password: req.password.clone(),
        totp: req.totp.clone(),
        trust_device: false,
        trusted_device_token: None,
    };
    if let Err((reason, error)) = second_factor(&state, &candidate, &login, now).await {
        record_failure(&state, &meta, &email, Some(&candidate), reason, now, Some(&reserved)).await?;
        return Err(error);
    }
    let mut tx = crate::store::write(&state.db).await?;
    // Not a sign-in: the guess is given back rather than listed as one.
    crate::store::attempts::forget(&mut tx, reserved.id).await?;
    crate::store::sessions::stepped_up(&mut tx, &principal.session_id, now).await?;
    let event = crate::audit::Event {
        org_id: &principal.org_id,
        actor_id: Some(&principal.user_id),
        via: None,
        target_type: "user",
        target_id: &principal.user_id,
        action: "session.stepped_up",
        ip: &meta.ip,
        user_agent: &meta.user_agent,
        details: serde_json::json!({ "session": { "id": principal.session_id } }),
    };
    crate::audit::record(&mut tx, event, now).await?;
    tx.commit().await?;
    Ok(Json(SteppedUp { until: now + crate::policy::STEP_UP_WINDOW }))
}
