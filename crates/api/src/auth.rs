use crate::Secret;
use serde::{Deserialize, Serialize};

/// `POST /v1/auth/login` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    /// The account's e-mail address (matched case-insensitively).
    pub email: String,
    /// The account's password.
    pub password: Secret,
    /// A TOTP code, when the account has MFA enrolled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp: Option<String>,
}

/// `POST /v1/auth/refresh` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefreshRequest {
    /// The refresh token from the last login or refresh; it is single-use.
    pub refresh_token: Secret,
}

/// Tokens issued by login and refresh.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenResponse {
    /// Bearer token for API requests; short-lived, bound to the session.
    pub access_token: Secret,
    /// Single-use token that obtains the next pair; reusing one revokes the session.
    pub refresh_token: Secret,
    /// Seconds until the access token expires.
    pub expires_in: u32,
    /// Always `Bearer`.
    pub token_type: String,
    /// The session these tokens belong to.
    pub session_id: String,
}

/// The organization an account belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OrganizationRef {
    /// Organization id.
    pub id: String,
    /// Display name, e.g. "Acme".
    pub name: String,
}

/// `GET /v1/me`: the signed-in account, its session and what it may do.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Me {
    /// The account.
    pub user: crate::User,
    /// The organization it belongs to.
    pub organization: OrganizationRef,
    /// The current session's id.
    pub session_id: String,
    /// Permission keys granted by the account's roles, e.g. `users.read`.
    pub permissions: Vec<String>,
}
