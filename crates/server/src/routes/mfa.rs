//! TOTP MFA (SPEC U11): a user enrols an authenticator app for themselves; an admin can
//! reset it (lost phone); an organization can require it, and then a sign-in without MFA
//! yields a session that may only enrol.

use super::user_edit::{Saved, body_of};
use crate::app::AppState;
use crate::audit::{self, Event};
use crate::auth::{Principal, UsersManage};
use crate::error::{ApiError, Result};
use crate::extract::ClientMeta;
use crate::extract::{ApiJson, ApiPath};
use crate::idempotency::Idempotency;
use crate::store;
use crate::store::users::find_versioned;
use crate::totp;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use gatehouse_api::{Problem, TotpConfirm, TotpEnrollment, User, codes};
use serde_json::json;

/// Paths a session that must enrol MFA may still use.
pub(crate) const ENROLMENT_PATHS: &[&str] = &["/v1/me", "/v1/me/mfa/totp", "/v1/me/mfa/totp/confirm", "/v1/auth/logout"];

fn session_only(principal: &Principal) -> Result<()> {
    if principal.api_key.is_some() {
        return Err(ApiError::forbidden("MFA is enrolled from a signed-in session, not with an API key."));
    }
    Ok(())
}

/// Starts enrolling a TOTP authenticator for the caller: a new secret to scan. It takes
/// effect once a code from it is confirmed; until then any enrolled one keeps working.
#[utoipa::path(
    post, path = "/v1/me/mfa/totp", tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The secret and its `otpauth://` URI", body = TotpEnrollment),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Called with an API key", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`mfa_already_enrolled`: replacing an authenticator takes an admin's Reset MFA", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn start_totp(State(state): State<AppState>, principal: Principal) -> Result<Json<TotpEnrollment>> {
    session_only(&principal)?;
    let secret = totp::new_secret();
    let (email, org, enrolled) = store::users::totp_state(&state.db, &principal.user_id).await?;
    // Otherwise a stolen session could swap in its own authenticator.
    if enrolled {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            codes::MFA_ALREADY_ENROLLED,
            "An authenticator app is already set up. To replace it, ask an administrator to reset your MFA first.",
        ));
    }
    // Sealed with the server key: a copy of the database does not hold anyone's secret.
    let sealed = state.keys.seal(&principal.user_id, &secret);
    store::users::set_pending_totp(&state.db, &principal.user_id, &sealed).await?;
    let issuer = format!("Gatehouse {org}");
    Ok(Json(TotpEnrollment {
        otpauth_uri: totp::otpauth_uri(&issuer, &email, &secret).into(),
        secret: secret.into(),
        digits: totp::DIGITS,
        period: totp::PERIOD,
    }))
}

/// Confirms the enrolment with a current code: MFA is on from now, and a session that had
/// to enrol may do everything its roles allow.
#[utoipa::path(
    post, path = "/v1/me/mfa/totp/confirm", tag = "auth",
    request_body = TotpConfirm,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Enrolled: the caller's user, `mfa_enabled` true", body = User),
        (status = 400, description = "`validation_failed`: the code does not match", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`mfa_not_started`: no enrolment to confirm", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn confirm_totp(
    State(state): State<AppState>,
    principal: Principal,
    meta: ClientMeta,
    ApiJson(body): ApiJson<TotpConfirm>,
) -> Result<Response> {
    session_only(&principal)?;
    let pending = store::users::pending_totp(&state.db, &principal.user_id).await?;
    let Some(stored) = pending else {
        return Err(ApiError::new(StatusCode::CONFLICT, codes::MFA_NOT_STARTED, "Start the enrolment first: there is no new secret to confirm."));
    };
    let secret = state.keys.open(&principal.user_id, &stored)?;
    let now = state.clock.now();
    let Some(step) = totp::verify(secret.expose(), &body.code, now.timestamp(), 0) else {
        return Err(ApiError::field(
            "code",
            codes::MFA_FAILED,
            "That code does not match. Enter the current 6-digit code, and check that the device's clock is right.",
        ));
    };
    let mut tx = crate::store::write(&state.db).await?;
    let was_enrolled = store::users::mfa_enabled(&mut tx, &principal.user_id).await?;
    let confirmed = store::users::confirm_totp(&mut tx, &principal.user_id, &stored, step, now).await?;
    if !confirmed {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            codes::MFA_NOT_STARTED,
            "A newer enrolment replaced this one; confirm a code from the newest secret.",
        ));
    }
    store::sessions::mfa_enrolled(&mut tx, &principal.user_id).await?;
    audit::record(
        &mut tx,
        Event::by(
            &principal,
            &meta,
            ("user", &principal.user_id),
            "user.mfa_enrolled",
            json!({ "method": "totp", "replaced": was_enrolled, "before": { "mfa_enabled": was_enrolled }, "after": { "mfa_enabled": true } }),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    let (user, version) = find_versioned(&state.db, &principal.org_id, &principal.user_id)
        .await?
        .ok_or_else(|| ApiError::unauthorized(codes::SESSION_REVOKED, "The account no longer exists."))?;
    Ok(Saved { body: body_of(&user)?, user, version }.response())
}

/// Resets a user's MFA: their authenticator stops working and trusted devices are
/// withdrawn; they enrol again (at their next sign-in, if the organization requires MFA).
/// Sessions stay: someone who lost their phone is usually still signed in somewhere.
#[utoipa::path(
    post, path = "/v1/users/{id}/reset-mfa", tag = "users",
    params(
        ("id" = String, Path, description = "User id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The user, `mfa_enabled` false (already off: unchanged); `ETag` has its version", body = User),
        (status = 400, description = "`invalid_id`: not a user id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacks `users.manage`, or the user holds a permission the caller lacks", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user in this organization", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn reset_mfa(
    State(state): State<AppState>,
    principal: Principal,
    meta: ClientMeta,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
) -> Result<Response> {
    if id != principal.user_id {
        principal.require::<UsersManage>()?;
    }
    super::paging::check_id("user", &id)?;
    let path = format!("/v1/users/{id}/reset-mfa");
    Idempotency::handle(&state, &principal, &headers, ("POST", &path), &(), async |idem| {
        apply_reset(&state, &principal, &meta, &id, idem).await.map(Saved::response)
    })
    .await
}

async fn apply_reset(state: &AppState, principal: &Principal, meta: &ClientMeta, id: &str, idem: Option<&Idempotency>) -> Result<Saved> {
    let (current, _) = crate::policy::act_on::<crate::policy::ResetMfa>(&state.db, principal, id).await?.into_user();
    if current.id == principal.user_id {
        crate::policy::stepped_up(principal, state.clock.now(), "reset your own MFA")?;
    }
    let now = state.clock.now();
    let mut tx = crate::store::write(&state.db).await?;
    let had_secret = store::users::has_totp(&mut tx, id).await?;
    if had_secret || current.mfa_enabled {
        // (Only then: the row's version, and the change feed, move with this update.)
        store::users::clear_totp(&mut tx, id, now).await?;
    }
    let trusted = store::sessions::withdraw_trusted_devices(&mut tx, id).await?;
    audit::record(
        &mut tx,
        Event::by(
            principal,
            meta,
            ("user", id),
            "user.mfa_reset",
            json!({
                "target": { "name": current.display_name, "email": current.email },
                "before": { "mfa_enabled": current.mfa_enabled },
                "after": { "mfa_enabled": false },
                "had_secret": had_secret,
                "trusted_devices_revoked": trusted,
            }),
        ),
        now,
    )
    .await?;
    Saved::commit(tx, User { mfa_enabled: false, ..current }, idem, now).await
}
