//! Sessions, force logout and login attempts (SPEC S1–S5).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One sign-in session of a user (SPEC S1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Session {
    /// Session id.
    pub id: String,
    /// The user signed in.
    pub user_id: String,
    /// Their display name now.
    pub user_name: String,
    /// Their e-mail address now.
    pub user_email: String,
    /// Browser and OS, e.g. "Firefox on Linux".
    pub device: String,
    /// The raw User-Agent it signed in with.
    pub user_agent: String,
    /// The address it signed in from (the direct peer, or `X-Forwarded-For` from a
    /// trusted proxy).
    pub ip: String,
    /// When it signed in.
    pub created_at: DateTime<Utc>,
    /// Its last request (written at most once a minute).
    pub last_active_at: DateTime<Utc>,
    /// The device is remembered as trusted (skips MFA until revoked).
    pub trusted_device: bool,
    /// When it was revoked or ended, as the server recorded it.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Why: `logout`, `revoked`, `forced_logout`, `user_deactivated`,
    /// `refresh_token_reuse`, …
    pub revoked_reason: Option<String>,
}

/// A page of sessions, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SessionPage {
    /// Sessions, by sign-in time, newest first.
    pub items: Vec<Session>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Query of `GET /v1/sessions` and `GET /v1/users/{id}/sessions`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SessionQuery {
    /// Case-insensitive search in the user's name and e-mail, the IP and the device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// `active` (default): live sessions only; `all`: revoked and ended ones too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Page size, 1–500 (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// What a revocation found (SPEC S2, S3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum RevokeOutcome {
    /// Revoked now.
    Revoked,
    /// It was revoked before; `revoked_at` is that original time.
    AlreadyRevoked,
    /// No such session in this organization (never existed, or removed with its user).
    Unknown,
}

/// `DELETE /v1/sessions/{id}` answer. Repeating it is harmless: an already revoked
/// session answers with its original time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Revocation {
    /// The session.
    pub session_id: String,
    /// What the server found.
    pub outcome: RevokeOutcome,
    /// When the session was revoked: from this request on its tokens are refused.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// `POST /v1/users/{id}/logout` answer: every session and trusted device of the user ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ForcedLogout {
    /// The user.
    pub user_id: String,
    /// Live sessions this request ended.
    pub sessions_revoked: u32,
    /// Trusted-device grants this request withdrew.
    pub trusted_devices_revoked: u32,
    /// API keys this request suspended (`?suspend_api_keys=true`).
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub api_keys_suspended: Option<u32>,
    /// The server's time of the revocation: every request of the user's sessions from
    /// then on is refused.
    pub confirmed_at: DateTime<Utc>,
}

/// `POST /v1/users/{id}/unlock` answer: the address's failed sign-ins no longer count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SignInUnlocked {
    /// The user.
    pub user_id: String,
    /// The address whose lock was lifted.
    pub email: String,
    /// The server's time of the unlock: guesses before it no longer count.
    pub unlocked_at: DateTime<Utc>,
}

/// Outcome of one sign-in attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum LoginResult {
    /// Signed in.
    Success,
    /// Refused; `reason` says why.
    Failure,
}

impl LoginResult {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "success" => Some(Self::Success),
            "failure" => Some(Self::Failure),
            _ => None,
        }
    }
}

/// Why a sign-in failed (SPEC S4, S5).
pub const LOGIN_FAILURE_REASONS: &[(&str, &str)] = &[
    ("bad_password", "Wrong password"),
    ("unknown_user", "Unknown user"),
    ("mfa_failed", "MFA failed"),
    ("mfa_required", "MFA code missing"),
    ("deactivated", "Deactivated"),
    ("pending", "Invitation not accepted"),
    ("expired_invite", "Invitation expired"),
    ("locked", "Account locked"),
    ("rate_limited", "Too many attempts from this IP"),
    ("checking", "Being checked, or interrupted while checked"),
];

/// One sign-in attempt (SPEC S4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LoginAttempt {
    /// Attempt id (increasing).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub id: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// The e-mail address typed (lower-cased).
    pub email: String,
    /// The user it belongs to, when the address is known.
    pub user_id: Option<String>,
    /// Their display name now.
    pub user_name: Option<String>,
    /// Where from.
    pub ip: String,
    /// Browser and OS.
    pub device: String,
    /// Success or failure.
    pub result: LoginResult,
    /// For a failure: one of [`LOGIN_FAILURE_REASONS`].
    pub reason: Option<String>,
}

/// A page of login attempts, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LoginAttemptPage {
    /// Attempts, newest first.
    pub items: Vec<LoginAttempt>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Query of `GET /v1/login-attempts`. All filters combine.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LoginAttemptQuery {
    /// `success` or `failure`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<LoginResult>,
    /// A failure reason, e.g. `bad_password`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Attempts of this user (id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Case-insensitive search in the e-mail address typed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Exactly this IP address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// From this time on (RFC 3339, inclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<DateTime<Utc>>,
    /// Before this time (RFC 3339, exclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<DateTime<Utc>>,
    /// Page size, 1–500 (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}
