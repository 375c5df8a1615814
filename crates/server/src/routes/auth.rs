//! Sign-in, token refresh, sign-out and `GET /v1/me`.

use crate::app::AppState;
use crate::auth::{Principal, verify_password};
use crate::error::{ApiError, Result};
use crate::extract::{ApiJson, ClientMeta};
pub(crate) use crate::store::users::LoginCandidate;
use crate::store::{self, Conn};
use crate::throttle::{self, Reservation};
use crate::tokens::{hash_token, new_refresh_token};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use gatehouse_api::{FieldError, LoginRequest, Me, OrganizationRef, Problem, RefreshRequest, TokenResponse, codes};

/// Why an invitee cannot sign in: their invitation is open (`pending`) or has expired.
async fn pending_reason(state: &AppState, user_id: &str, now: DateTime<Utc>) -> Result<&'static str> {
    let expires = store::invitations::open_expiry(&state.db, user_id).await?;
    Ok(if expires.is_some_and(|e| e <= now) { "expired_invite" } else { "pending" })
}

/// "Firefox on Linux" from a User-Agent; "Gatehouse desktop on Linux" for our own app.
pub fn describe_device(user_agent: &str) -> String {
    if let Some(rest) = user_agent.strip_prefix("gatehouse-desktop/") {
        let os = rest.split_once(' ').map(|(_, os)| os.trim_matches(|c| c == '(' || c == ')')).unwrap_or("");
        return if os.is_empty() { "Gatehouse desktop".into() } else { format!("Gatehouse desktop on {os}") };
    }
    match woothee::parser::Parser::new().parse(user_agent) {
        Some(r) if r.name != "UNKNOWN" && r.os != "UNKNOWN" => format!("{} on {}", r.name, r.os),
        Some(r) if r.name != "UNKNOWN" => r.name.to_string(),
        _ if user_agent.is_empty() => "Unknown device".into(),
        _ => user_agent.chars().take(60).collect(),
    }
}

fn validate_login(req: &LoginRequest) -> Result<()> {
    let mut errors = Vec::new();
    if req.email.trim().is_empty() {
        errors.push(FieldError { field: "email".into(), code: "required".into(), message: "Enter your e-mail address.".into() });
    } else if req.email.len() > 320 {
        errors.push(FieldError { field: "email".into(), code: "too_long".into(), message: "An e-mail address has at most 320 characters.".into() });
    }
    if req.password.expose().is_empty() {
        errors.push(FieldError { field: "password".into(), code: "required".into(), message: "Enter your password.".into() });
    } else if req.password.expose().len() > 1024 {
        errors.push(FieldError { field: "password".into(), code: "too_long".into(), message: "A password has at most 1024 characters.".into() });
    }
    if errors.is_empty() { Ok(()) } else { Err(ApiError::validation(errors)) }
}

/// Signs in with e-mail and password; creates a session.
#[utoipa::path(
    post, path = "/v1/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in: a new session and its tokens", body = TokenResponse),
        (status = 400, description = "Missing or malformed fields", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`invalid_credentials`: wrong e-mail or password (never says which); `mfa_required`: the account has MFA, send `totp`; `mfa_failed`: wrong or reused code", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`account_disabled`: right password, but the account is deactivated or pending", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`account_locked` or `rate_limited`, with `Retry-After`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn login(State(state): State<AppState>, meta: ClientMeta, ApiJson(req): ApiJson<LoginRequest>) -> Result<Json<TokenResponse>> {
    validate_login(&req)?;
    let email = req.email.trim().to_lowercase();
    let candidate = store::users::login_candidate(&state.db, &email).await?;
    // The guess is reserved before any hashing: a locked account or a throttled address
    // costs none, and parallel guesses cannot all slip under the limit.
    let (reserved, ok) = checked_guess(&state, &meta, &email, candidate.as_ref(), &req.password).await?;
    let now = state.clock.now();
    let Some(user) = candidate.as_ref().filter(|_| ok) else {
        // An invitee has no password yet: support staff see why they cannot sign in (the
        // answer stays the same, so it reveals nothing).
        let reason = match candidate.as_ref() {
            None => "unknown_user",
            Some(c) if c.status == "pending" => pending_reason(&state, &c.id, now).await?,
            Some(_) => "bad_password",
        };
        record_failure(&state, &meta, &email, candidate.as_ref(), reason, now, Some(&reserved)).await?;
        return Err(ApiError::unauthorized(codes::INVALID_CREDENTIALS, "Invalid email or password."));
    };
    if user.status != "active" {
        let reason = if user.status == "pending" { pending_reason(&state, &user.id, now).await? } else { "deactivated" };
        record_failure(&state, &meta, &email, Some(user), reason, now, Some(&reserved)).await?;
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            codes::ACCOUNT_DISABLED,
            "This account is not active; ask an administrator to reactivate it.",
        ));
    }

    let mfa = match second_factor(&state, user, &req, now).await {
        Ok(mfa) => mfa,
        Err((reason, error)) => {
            record_failure(&state, &meta, &email, Some(user), reason, now, Some(&reserved)).await?;
            return Err(error);
        }
    };
    let trusted_token = mfa.grant_trust.then(new_device_token);

    let mut tx = crate::store::write(&state.db).await?;
    let session_id = uuid::Uuid::now_v7().to_string();
    store::sessions::create(
        &mut tx,
        &store::sessions::NewSession {
            id: &session_id,
            user_id: &user.id,
            org_id: &user.org_id,
            user_agent: &meta.user_agent,
            device: &describe_device(&meta.user_agent),
            ip: &meta.ip,
            mfa_pending: mfa.enrolment_required,
            trusted_device_hash: trusted_token.as_ref().map(|t| hash_token(t.expose())).as_deref(),
        },
        now,
    )
    .await?;
    if trusted_token.is_some() {
        crate::audit::record(
            &mut tx,
            crate::audit::Event {
                org_id: &user.org_id,
                actor_id: Some(&user.id),
        via: None,
                target_type: "user",
                target_id: &user.id,
                action: "session.trusted_device_granted",
                ip: &meta.ip, user_agent: &meta.user_agent,
                details: serde_json::json!({ "session": { "id": session_id }, "device": describe_device(&meta.user_agent), "days": TRUSTED_DEVICE_DAYS }),
            },
            now,
        )
        .await?;
    }
    store::users::signed_in(&mut tx, &user.id, now).await?;
    let mut response = issue_tokens(&state, &mut tx, &session_id, now).await?;
    store::attempts::settle(&mut tx, reserved.id, "success", None).await?;
    let signed_in = |action: &'static str, details: serde_json::Value| crate::audit::Event {
        org_id: &user.org_id,
        actor_id: Some(&user.id),
        via: None,
        target_type: "user",
        target_id: &user.id,
        action,
        ip: &meta.ip,
        user_agent: &meta.user_agent,
        details,
    };
    let session = serde_json::json!({ "id": session_id, "device": describe_device(&meta.user_agent) });
    if mfa.verified {
        crate::audit::record(&mut tx, signed_in("session.mfa_verified", serde_json::json!({ "session": session, "method": "totp" })), now).await?;
    }
    let how = if mfa.verified {
        "password+totp"
    } else if mfa.trusted_device {
        "password+trusted_device"
    } else {
        "password"
    };
    crate::audit::record(&mut tx, signed_in("session.signed_in", serde_json::json!({ "session": session, "method": how })), now).await?;
    tx.commit().await?;
    response.mfa_enrollment_required = mfa.enrolment_required;
    response.trusted_device_token = trusted_token;
    Ok(Json(response))
}

/// How long a trusted device skips the TOTP code.
const TRUSTED_DEVICE_DAYS: i64 = 30;

fn new_device_token() -> gatehouse_api::Secret {
    crate::tokens::new_token("ghd_")
}

/// What the second factor decided for a sign-in whose password was right.
pub(crate) struct SecondFactor {
    /// The organization requires MFA and the account has none: the session may only enrol.
    enrolment_required: bool,
    /// A good code came with `trust_device`: grant a trusted-device token.
    grant_trust: bool,
    /// A TOTP code was checked and was right.
    verified: bool,
    /// A trusted device's token stood in for the code.
    trusted_device: bool,
}

/// The TOTP check (SPEC U11, C2): an enrolled account needs a current code, or a trusted
/// device's token; a refusal comes with its login-attempt reason.
pub(crate) async fn second_factor(
    state: &AppState,
    user: &LoginCandidate,
    req: &LoginRequest,
    now: DateTime<Utc>,
) -> std::result::Result<SecondFactor, (&'static str, ApiError)> {
    let internal = |e: ApiError| ("internal", e);
    let mfa = store::users::mfa_state(&state.db, &user.id).await.map_err(internal)?;
    let Some(secret) = mfa.totp_secret else {
        return Ok(SecondFactor { enrolment_required: mfa.mfa_required, grant_trust: false, verified: false, trusted_device: false });
    };
    let secret = state.keys.open(&user.id, &secret).map_err(|e| ("internal", ApiError::from(e)))?;
    if let Some(token) = &req.trusted_device_token {
        let since = now - chrono::Duration::days(TRUSTED_DEVICE_DAYS);
        if store::sessions::trusts_device(&state.db, &user.id, &hash_token(token.expose()), since).await.map_err(internal)? {
            return Ok(SecondFactor { enrolment_required: false, grant_trust: false, verified: false, trusted_device: true });
        }
    }
    let Some(code) = req.totp.as_deref().filter(|c| !c.trim().is_empty()) else {
        return Err(("mfa_required", ApiError::unauthorized(codes::MFA_REQUIRED, "Enter the 6-digit code from your authenticator app.")));
    };
    let failed = || ("mfa_failed", ApiError::unauthorized(codes::MFA_FAILED, "That code is not right, or was already used; enter the current one."));
    let step = crate::totp::verify(secret.expose(), code, now.timestamp(), mfa.totp_last_step).ok_or_else(failed)?;
    // A code works once, even when two sign-ins race with it.
    if !store::users::spend_totp_step(&state.db, &user.id, step).await.map_err(internal)? {
        return Err(failed());
    }
    Ok(SecondFactor { enrolment_required: false, grant_trust: req.trust_device, verified: true, trusted_device: false })
}

/// One password guess at `email`: reserved against the limits (a refusal is recorded and
/// answered 429), then checked against `candidate`'s hash in the bounded pool (a full pool
/// answers 503 and gives the guess back). Whether it matched, and the reservation the
/// caller settles.
pub(crate) async fn checked_guess(
    state: &AppState,
    meta: &ClientMeta,
    email: &str,
    candidate: Option<&LoginCandidate>,
    password: &gatehouse_api::Secret,
) -> Result<(Reservation, bool)> {
    let org_id = guess_org(state, candidate).await?;
    let guess =
        throttle::Guess { email, user_id: candidate.map(|c| c.id.as_str()), org_id: org_id.as_deref(), ip: &meta.ip, user_agent: &meta.user_agent };
    let reserved = match throttle::reserve(&state.db, &state.config.sign_in_limits, &guess, state.clock.now()).await? {
        Ok(r) => r,
        Err(refusal) => {
            record_failure(state, meta, email, candidate, refusal.reason(), state.clock.now(), None).await?;
            return Err(refusal.into_error());
        }
    };
    let hash = candidate.and_then(|c| c.password_hash.clone());
    let password = password.clone();
    match state.hashes.run(move || verify_password(password.expose(), hash.as_deref())).await {
        Ok(ok) => Ok((reserved, ok)),
        Err(busy) => {
            // Never checked: the guess is given back.
            let mut tx = store::write(&state.db).await?;
            store::attempts::forget(&mut tx, reserved.id).await?;
            tx.commit().await?;
            Err(busy)
        }
    }
}

/// The organization a guess at `email` belongs to: the account's; for an unknown address,
/// the only organization on a server with one, whose security staff need to see it.
async fn guess_org(state: &AppState, user: Option<&LoginCandidate>) -> Result<Option<String>> {
    Ok(match user {
        Some(u) => Some(u.org_id.clone()),
        None => store::org::the_only_one(&state.db).await?,
    })
}

/// Records a refused sign-in: its login attempt and its `session.sign_in_failed` event,
/// together. A checked guess settles its reservation; a refusal before any check (locked,
/// rate limited) writes a row of its own, at most one a minute per address and client.
pub(crate) async fn record_failure(
    state: &AppState,
    meta: &ClientMeta,
    email: &str,
    user: Option<&LoginCandidate>,
    reason: &str,
    at: DateTime<Utc>,
    reserved: Option<&Reservation>,
) -> Result<()> {
    let org_id = guess_org(state, user).await?;
    let mut tx = crate::store::write(&state.db).await?;
    let user_id = user.map(|u| u.id.as_str());
    match reserved {
        Some(r) => store::attempts::settle(&mut tx, r.id, "failure", Some(reason)).await?,
        None => {
            // One statement decides and writes, so a parallel flood records once.
            if !crate::store::attempts::record_refusal(&mut tx, email, user_id, org_id.as_deref(), &meta.ip, &meta.user_agent, reason, at).await? {
                return Ok(());
            }
        }
    }
    if let Some(org) = &org_id {
        let (target_type, target_id) = user_id.map_or(("email", email), |id| ("user", id));
        let event = crate::audit::Event {
            org_id: org,
            actor_id: None,
            via: None,
            target_type,
            target_id,
            action: "session.sign_in_failed",
            ip: &meta.ip,
            user_agent: &meta.user_agent,
            details: serde_json::json!({ "reason": reason, "email": email }),
        };
        crate::audit::record(&mut tx, event, at).await?;
    }
    tx.commit().await?;
    Ok(())
}

async fn issue_tokens(state: &AppState, tx: &mut Conn, session_id: &str, now: DateTime<Utc>) -> Result<TokenResponse> {
    let refresh = new_refresh_token();
    store::sessions::add_refresh_token(tx, &hash_token(refresh.expose()), session_id, now, now + state.config.refresh_token_ttl).await?;
    let ttl = state.config.access_token_ttl;
    Ok(TokenResponse {
        access_token: state.key.issue_access(session_id, now + ttl),
        refresh_token: refresh,
        expires_in: u32::try_from(ttl.num_seconds()).unwrap_or(u32::MAX),
        token_type: "Bearer".into(),
        session_id: session_id.to_owned(),
        mfa_enrollment_required: false,
        trusted_device_token: None,
    })
}

/// Exchanges a refresh token for a new pair; the old refresh token is spent.
#[utoipa::path(
    post, path = "/v1/auth/refresh", tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "New tokens; the refresh token presented is now spent", body = TokenResponse),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`invalid_refresh_token` (unknown, expired, or reused — reuse revokes the session) or `session_revoked`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn refresh(State(state): State<AppState>, meta: ClientMeta, ApiJson(req): ApiJson<RefreshRequest>) -> Result<Json<TokenResponse>> {
    let now = state.clock.now();
    let hash = hash_token(req.refresh_token.expose());
    let mut tx = crate::store::write(&state.db).await?;
    let row = store::sessions::refresh_token(&mut tx, &hash).await?;
    let Some(row) = row else {
        return Err(ApiError::unauthorized(codes::INVALID_REFRESH_TOKEN, "The refresh token is not valid; sign in again."));
    };
    if row.revoked_at.is_some() {
        return Err(ApiError::unauthorized(codes::SESSION_REVOKED, "The session was revoked; sign in again."));
    }
    if row.used_at.is_some() {
        // A spent token came back: someone holds a copy. End the session for everyone.
        store::sessions::end(&mut tx, &row.session_id, "refresh_token_reuse", now).await?;
        crate::audit::record(
            &mut tx,
            crate::audit::Event {
                org_id: &row.org_id,
                actor_id: None,
                via: None,
                target_type: "user",
                target_id: &row.user_id,
                action: "session.refresh_token_reused",
                ip: &meta.ip,
                user_agent: &meta.user_agent,
                details: serde_json::json!({ "session": { "id": row.session_id }, "revoked": true }),
            },
            now,
        )
        .await?;
        tx.commit().await?;
        tracing::warn!(session_id = %row.session_id, "refresh token reuse: session revoked");
        return Err(ApiError::unauthorized(
            codes::INVALID_REFRESH_TOKEN,
            "This refresh token was already used, so the session has been revoked; sign in again.",
        ));
    }
    if row.expires_at <= now {
        return Err(ApiError::unauthorized(codes::INVALID_REFRESH_TOKEN, "The refresh token has expired; sign in again."));
    }
    if row.status != "active" {
        return Err(ApiError::unauthorized(codes::SESSION_REVOKED, "The account is no longer active."));
    }
    if now - row.created_at >= state.config.session_max_age {
        return Err(ApiError::unauthorized(codes::SESSION_REVOKED, "The session has reached its maximum age; sign in again."));
    }
    if !store::sessions::spend_refresh_token(&mut tx, &hash, now).await? {
        return Err(ApiError::unauthorized(codes::INVALID_REFRESH_TOKEN, "The refresh token was just used; sign in again."));
    }
    let mut response = issue_tokens(&state, &mut tx, &row.session_id, now).await?;
    tx.commit().await?;
    response.mfa_enrollment_required = row.mfa_pending;
    Ok(Json(response))
}

/// Signs out: revokes the caller's session.
#[utoipa::path(
    post, path = "/v1/auth/logout", tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "The session is revoked"),
        (status = 401, description = "Not signed in, or already signed out", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn logout(State(state): State<AppState>, principal: Principal, meta: ClientMeta) -> Result<StatusCode> {
    let now = state.clock.now();
    let mut tx = crate::store::write(&state.db).await?;
    store::sessions::end(&mut tx, &principal.session_id, "logout", now).await?;
    let event = crate::audit::Event::by(
        &principal,
        &meta,
        ("user", &principal.user_id),
        "session.signed_out",
        serde_json::json!({ "session": { "id": principal.session_id } }),
    );
    crate::audit::record(&mut tx, event, now).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in account, its organization, session and permissions.
#[utoipa::path(
    get, path = "/v1/me", tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = Me),
        (status = 401, description = "Not signed in, or the session was revoked", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn me(State(state): State<AppState>, principal: Principal) -> Result<Json<Me>> {
    let user = crate::store::users::find_user(&state.db, &principal.org_id, &principal.user_id)
        .await?
        .ok_or_else(|| ApiError::unauthorized(codes::SESSION_REVOKED, "The account no longer exists."))?;
    let (id, name) = store::org::id_and_name(&state.db, &principal.org_id).await?;
    let organization = OrganizationRef { id, name };
    Ok(Json(Me {
        user,
        organization,
        session_id: principal.session_id,
        permissions: principal.rank.permissions.into_iter().collect(),
        mfa_enrollment_required: principal.mfa_pending,
    }))
}

#[cfg(test)]
mod tests {
    use super::describe_device;

    #[test]
    fn devices_are_described_from_user_agents() {
        let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
        assert_eq!(describe_device(firefox), "Firefox on Linux");
        assert_eq!(describe_device("gatehouse-desktop/0.1.0 (Linux)"), "Gatehouse desktop on Linux");
        assert_eq!(describe_device(""), "Unknown device");
    }
}
