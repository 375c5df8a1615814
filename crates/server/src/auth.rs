//! Authentication (who is calling) and permissions (what they may do).
//!
//! [`Principal`] is an extractor: a handler that takes one has an authenticated caller
//! whose session was checked on this very request. Permissions are types: a data-layer
//! function that needs `users.read` takes a [`Granted<UsersRead>`], which only
//! [`Principal::require`] makes, so a forgotten check does not compile.

use crate::app::AppState;
use crate::error::{ApiError, Result};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Params, Version};
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use gatehouse_api::codes;
use std::marker::PhantomData;

/// argon2id with OWASP's minimum: 19 MiB, 2 iterations, 1 lane.
fn argon2() -> Argon2<'static> {
    match Params::new(19 * 1024, 2, 1, None) {
        Ok(params) => Argon2::new(Algorithm::Argon2id, Version::V0x13, params),
        Err(_) => unreachable!("constant argon2 parameters are valid"),
    }
}

/// Hashes a password (PHC string). CPU-heavy: call from a blocking thread.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    argon2().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| anyhow::anyhow!("hashing password: {e}"))
}

/// Verifies a password against a PHC hash; `None` hash burns the same time and fails,
/// so response time does not tell whether an account exists. CPU-heavy.
pub fn verify_password(password: &str, hash: Option<&str>) -> bool {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash_password("dummy password for timing").unwrap_or_default());
    let (hash, real) = match hash {
        Some(h) => (h, true),
        None => (dummy.as_str(), false),
    };
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    argon2().verify_password(password.as_bytes(), &parsed).is_ok() && real
}

/// An authenticated caller: a live session of an active user.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The user.
    pub user_id: String,
    /// The user's organization.
    pub org_id: String,
    /// The session the access token belongs to.
    pub session_id: String,
    /// The user's reach: their roles' permissions, and whether they are an Owner.
    pub rank: crate::policy::Rank,
    /// The API key used instead of a session (then `session_id` is empty).
    pub api_key: Option<KeyRef>,
    /// The session must enrol MFA before anything else (SPEC U11).
    pub mfa_pending: bool,
    /// When the session last confirmed its password (`POST /v1/auth/step-up`).
    pub stepped_up_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A permission, as a type.
pub trait Permission {
    /// The permission key, as stored in roles.
    const KEY: &'static str;
}

/// `users.read`: list and view users.
pub struct UsersRead;
impl Permission for UsersRead {
    const KEY: &'static str = "users.read";
}

/// `users.manage`: create, edit, deactivate users.
pub struct UsersManage;
impl Permission for UsersManage {
    const KEY: &'static str = "users.manage";
}

/// `invitations.manage`: invite people, resend and revoke invitations, import CSV.
pub struct InvitationsManage;
impl Permission for InvitationsManage {
    const KEY: &'static str = "invitations.manage";
}

/// `sessions.revoke`: see sessions and force users to sign out.
pub struct SessionsRevoke;
impl Permission for SessionsRevoke {
    const KEY: &'static str = "sessions.revoke";
}

/// `audit.read`: the activity log and login attempts.
pub struct AuditRead;
impl Permission for AuditRead {
    const KEY: &'static str = "audit.read";
}

/// `audit.write`: record a host product's events (with an API key).
pub struct AuditWrite;
impl Permission for AuditWrite {
    const KEY: &'static str = "audit.write";
}

/// `roles.manage`: create, edit and delete custom roles.
pub struct RolesManage;
impl Permission for RolesManage {
    const KEY: &'static str = "roles.manage";
}

/// `org.settings`: organization settings, departments and companies.
pub struct OrgSettings;
impl Permission for OrgSettings {
    const KEY: &'static str = "org.settings";
}

/// Proof that the caller holds permission `P` in organization `org_id`.
pub struct Granted<P> {
    org_id: String,
    _p: PhantomData<P>,
}

impl<P> Granted<P> {
    /// The organization the permission holds in.
    pub fn org_id(&self) -> &str {
        &self.org_id
    }
}

/// The API key a request came with, as audit events name it: the key, and who created it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct KeyRef {
    /// The key's id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The first characters of its secret, as listed.
    pub prefix: String,
    /// The user who created it.
    pub created_by: Option<String>,
}

impl Principal {
    /// Whether the caller holds the permission `key`.
    pub fn holds(&self, key: &str) -> bool {
        self.rank.holds(key)
    }

    /// The key to name in audit events, when the request came with one.
    pub fn via(&self) -> Option<&KeyRef> {
        self.api_key.as_ref()
    }

    /// Checks that the caller holds `P`.
    pub fn require<P: Permission>(&self) -> Result<Granted<P>> {
        if self.rank.holds(P::KEY) {
            Ok(Granted { org_id: self.org_id.clone(), _p: PhantomData })
        } else {
            Err(ApiError::forbidden(format!("This needs the `{}` permission.", P::KEY)))
        }
    }
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| ApiError::unauthorized(codes::UNAUTHENTICATED, "Send `Authorization: Bearer <access token>`."))?;
        let token = header
            .strip_prefix("Bearer ")
            .ok_or_else(|| ApiError::unauthorized(codes::UNAUTHENTICATED, "The Authorization header must use the Bearer scheme."))?;
        let token = token.trim();
        if token.starts_with(gatehouse_api::API_KEY_PREFIX) {
            let token = token.to_owned();
            let meta = crate::extract::ClientMeta::from_request_parts(parts, state).await?;
            return api_key_principal(state, &token, &meta, parts.uri.path()).await;
        }
        let (session_id, expires_at) =
            state.key.verify_access(token).ok_or_else(|| ApiError::unauthorized(codes::UNAUTHENTICATED, "The access token is not valid."))?;
        let now = state.clock.now();
        if expires_at <= now {
            return Err(ApiError::unauthorized(codes::TOKEN_EXPIRED, "The access token has expired; refresh it."));
        }
        // The session row is read on every request: that is what makes a revocation
        // effective on the revoked session's very next request.
        let row = crate::store::sessions::live(&state.db, &session_id).await?;
        let row = row.ok_or_else(|| ApiError::unauthorized(codes::SESSION_REVOKED, "The session no longer exists."))?;
        if row.revoked_at.is_some() {
            return Err(ApiError::unauthorized(codes::SESSION_REVOKED, "The session was revoked; sign in again."));
        }
        if row.status != "active" {
            return Err(ApiError::unauthorized(codes::SESSION_REVOKED, "The account is no longer active."));
        }
        if now - row.created_at >= state.config.session_max_age {
            return Err(ApiError::unauthorized(codes::SESSION_REVOKED, "The session has reached its maximum age; sign in again."));
        }
        if row.mfa_pending && !crate::routes::mfa::ENROLMENT_PATHS.contains(&parts.uri.path()) {
            return Err(ApiError::new(
                axum::http::StatusCode::FORBIDDEN,
                codes::MFA_ENROLLMENT_REQUIRED,
                "Your organization requires MFA: set up an authenticator app before doing anything else.",
            ));
        }
        if now - row.last_active_at >= state.config.last_active_granularity {
            touch_session(state, &session_id, &row.user_id, now).await?;
        }
        let rank = crate::policy::rank_of(&state.db, &row.user_id).await?;
        Ok(Self {
            user_id: row.user_id,
            org_id: row.org_id,
            session_id,
            rank,
            api_key: None,
            mfa_pending: row.mfa_pending,
            stepped_up_at: row.stepped_up_at,
        })
    }
}

/// How often a key in use leaves an `api_key.used` event: its first request, then at
/// most once an hour, so a busy integration does not drown the log.
pub const API_KEY_USED_EVERY: chrono::TimeDelta = chrono::TimeDelta::hours(1);

/// An API key acts as its user, checked on every request like a session: a suspended key,
/// or one whose user is no longer active, is refused at once.
async fn api_key_principal(state: &AppState, token: &str, meta: &crate::extract::ClientMeta, path: &str) -> Result<Principal> {
    let row = crate::store::api_keys::by_hash(&state.db, &crate::tokens::hash_token(token)).await?;
    let row = row.ok_or_else(|| ApiError::unauthorized(codes::UNAUTHENTICATED, "The API key is not valid."))?;
    if row.suspended_at.is_some() {
        return Err(ApiError::unauthorized(codes::API_KEY_SUSPENDED, "This API key is suspended; ask an administrator to restore it."));
    }
    if row.status != "active" {
        return Err(ApiError::unauthorized(codes::API_KEY_SUSPENDED, "The API key's user is no longer active."));
    }
    let now = state.clock.now();
    if let Some(expired) = row.expires_at.filter(|at| *at <= now) {
        return Err(ApiError::unauthorized(
            codes::API_KEY_EXPIRED,
            format!("This API key expired on {}; create a new one.", expired.format("%Y-%m-%d %H:%M UTC")),
        ));
    }
    let key = KeyRef { id: row.id.clone(), name: row.name.clone(), prefix: row.prefix.clone(), created_by: row.created_by.clone() };
    if row.used_event_at.is_none_or(|t| now - t >= API_KEY_USED_EVERY) {
        let mut tx = crate::store::write(&state.db).await?;
        // Only the request that moves `used_event_at` records, even when several race.
        if crate::store::api_keys::claim_used_event(&mut tx, &row.id, row.used_event_at, now).await? {
            let event = crate::audit::Event {
                org_id: &row.org_id,
                actor_id: Some(&row.user_id),
                via: Some(&key),
                target_type: "user",
                target_id: &row.user_id,
                action: "api_key.used",
                ip: &meta.ip,
                user_agent: &meta.user_agent,
                details: serde_json::json!({ "api_key": { "id": key.id, "name": key.name, "prefix": key.prefix }, "path": path }),
            };
            crate::audit::record(&mut tx, event, now).await?;
        }
        tx.commit().await?;
    } else if row.last_used_at.is_none_or(|t| now - t >= state.config.last_active_granularity) {
        crate::store::api_keys::touch(&state.db, &row.id, now).await?;
    }
    let mut rank = crate::policy::rank_of(&state.db, &row.user_id).await?;
    if let (Some(role), Some(permissions)) = (&row.role_key, &row.role_permissions) {
        let permissions: Vec<String> = serde_json::from_str(permissions).map_err(|e| ApiError::Internal(e.into()))?;
        rank = rank.within(&crate::policy::Rank::of_role(role, permissions));
    }
    Ok(Principal {
        user_id: row.user_id,
        org_id: row.org_id,
        session_id: String::new(),
        rank,
        api_key: Some(key),
        mfa_pending: false,
        stepped_up_at: None,
    })
}

async fn touch_session(state: &AppState, session_id: &str, user_id: &str, now: chrono::DateTime<chrono::Utc>) -> Result<()> {
    let mut tx = crate::store::write(&state.db).await?;
    crate::store::sessions::touch(&mut tx, session_id, user_id, now).await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_hash() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_password("correct horse", Some(&h)));
        assert!(!verify_password("wrong horse", Some(&h)));
        assert!(!verify_password("correct horse", None));
        assert!(!verify_password("correct horse", Some("not a phc string")));
    }
}
