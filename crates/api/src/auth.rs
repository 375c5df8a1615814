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
    /// After a good TOTP code: remember this device, so its next sign-ins skip the code
    /// (until a force logout or an MFA reset withdraws it).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub trust_device: bool,
    /// The token a previous sign-in with `trust_device` returned: stands in for the code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub trusted_device_token: Option<Secret>,
}

/// `POST /v1/auth/step-up` body: the signed-in person's password again (and a TOTP code
/// when enrolled), before a sensitive change to their own account.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StepUpRequest {
    /// The account's password.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub password: Secret,
    /// A TOTP code, when the account has MFA enrolled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp: Option<String>,
}

/// `POST /v1/auth/step-up` answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SteppedUp {
    /// Until when this session may change its own e-mail, MFA and API keys.
    pub until: chrono::DateTime<chrono::Utc>,
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
    /// The organization requires MFA and the account has none: until it enrols
    /// (`POST /v1/me/mfa/totp`, then `…/confirm`) the session may do nothing else.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub mfa_enrollment_required: bool,
    /// Present when the sign-in asked for `trust_device`: send it with later sign-ins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub trusted_device_token: Option<Secret>,
}

/// `POST /v1/me/mfa/totp`: a new TOTP secret to put in an authenticator app. It takes
/// effect only once a code from it is confirmed.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TotpEnrollment {
    /// The shared secret, base32 (RFC 4648, no padding), for typing in by hand.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub secret: Secret,
    /// The `otpauth://totp/…` URI authenticator apps read from a QR code.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub otpauth_uri: Secret,
    /// Digits per code (6).
    pub digits: u32,
    /// Seconds per code (30).
    pub period: u32,
}

/// `POST /v1/me/mfa/totp/confirm` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TotpConfirm {
    /// A current code from the authenticator app.
    pub code: String,
}

/// `POST /v1/auth/password-reset` body: "forgot password". The answer is the same whether
/// or not the address has an account.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PasswordResetRequest {
    /// The account's e-mail address.
    pub email: String,
}

/// `POST /v1/auth/password-reset/complete` body: the token from the e-mailed link and the
/// new password.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PasswordResetComplete {
    /// The token from the link.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub token: Secret,
    /// The new password (8–256 characters).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub password: Secret,
}

/// `POST /v1/users/{id}/reset-password`: the e-mail is queued.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PasswordResetSent {
    /// The user.
    pub user_id: String,
    /// Where the link was sent.
    pub sent_to: String,
    /// When the link stops working.
    pub expires_at: chrono::DateTime<chrono::Utc>,
    /// API keys this request suspended (`?suspend_api_keys=true`).
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub api_keys_suspended: Option<u32>,
}

/// One message of the demo server's mailbox (`GET /v1/dev/mailbox`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MailMessage {
    /// Message id.
    pub id: String,
    /// What it is about, e.g. `password_reset`.
    pub kind: String,
    /// Recipient.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// The plain-text part.
    pub text: String,
    /// The HTML part.
    pub html: String,
    /// When it was queued.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// When the relay accepted it; absent while queued or without a relay.
    pub sent_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Delivery attempts so far.
    pub attempts: u32,
    /// The last delivery error, if any.
    pub last_error: Option<String>,
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
    /// The organization requires MFA and this session has not enrolled yet: until it does,
    /// only `/v1/me`, the enrolment and sign-out answer.
    #[serde(default)]
    pub mfa_enrollment_required: bool,
}
