//! API keys (SPEC S6): long-lived credentials of a user for scripts and integrations.
//! The secret is shown once, when created; the server keeps only its SHA-256.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Prefix of every API key, so secret scanners can spot one.
pub const API_KEY_PREFIX: &str = "ghk_";

/// Longest API key name, in characters.
pub const MAX_API_KEY_NAME_CHARS: usize = 100;

/// The longest lifetime a key can be given, in days (ten years).
pub const MAX_API_KEY_DAYS: u32 = 3650;

/// An API key, without its secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ApiKey {
    /// Key id.
    pub id: String,
    /// The user it acts as.
    pub user_id: String,
    /// What it is for, e.g. "CI deploys".
    pub name: String,
    /// The first characters of the secret (`ghk_AbCd…`), to tell keys apart.
    pub prefix: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// Last request made with it (written at most once a minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was suspended; a suspended key is refused.
    pub suspended_at: Option<DateTime<Utc>>,
    /// `admin` (by hand; restored by hand) or `user_deactivated` (restored when the user is
    /// reactivated).
    pub suspended_reason: Option<String>,
    /// When it stops working for good; absent: never.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub expires_at: Option<DateTime<Utc>>,
    /// The role it is limited to (its key, e.g. `scim` for a provisioning key): the key
    /// reaches only what both its user and that role reach. Absent: all its user reaches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub role: Option<String>,
}

/// `POST /v1/users/{id}/api-keys` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NewApiKey {
    /// What it is for (1–100 characters).
    pub name: String,
    /// Days until it stops working (1–3650); absent: it never expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub expires_in_days: Option<u32>,
    /// Limit the key to this role (its key): `scim` makes a provisioning key for an
    /// identity provider, with the built-in "SCIM provisioning" role (made when missing).
    /// Absent: the key reaches all its user reaches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub role: Option<String>,
}

/// A key just created, with its secret: shown this once, never again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CreatedApiKey {
    /// The key.
    pub key: ApiKey,
    /// The secret to send as `Authorization: Bearer ghk_…`.
    pub secret: crate::Secret,
}

impl NewApiKey {
    /// The name's problems, as field errors (empty when valid).
    pub fn field_errors(&self) -> Vec<crate::FieldError> {
        let name = self.name.trim();
        let problem = if name.is_empty() {
            Some(("required", "Name the key after what will use it.".to_owned()))
        } else if name.chars().count() > MAX_API_KEY_NAME_CHARS {
            Some(("too_long", format!("A key's name has at most {MAX_API_KEY_NAME_CHARS} characters.")))
        } else if name.chars().any(char::is_control) {
            Some(("invalid", "A key's name cannot contain control characters.".to_owned()))
        } else {
            None
        };
        let mut errors: Vec<crate::FieldError> =
            problem.map(|(code, message)| crate::FieldError { field: "name".into(), code: code.into(), message }).into_iter().collect();
        if self.expires_in_days.is_some_and(|d| d == 0 || d > MAX_API_KEY_DAYS) {
            errors.push(crate::FieldError {
                field: "expires_in_days".into(),
                code: "out_of_range".into(),
                message: format!("A key lasts from 1 to {MAX_API_KEY_DAYS} days; leave it empty for a key that does not expire."),
            });
        }
        if let Some(role) = &self.role
            && (role.is_empty() || role.chars().count() > MAX_API_KEY_NAME_CHARS || role.chars().any(char::is_control))
        {
            errors.push(crate::FieldError {
                field: "role".into(),
                code: "invalid".into(),
                message: "Name a role by its key, e.g. `scim` for a provisioning key; leave it out for a key with all its user's permissions.".into(),
            });
        }
        errors
    }
}
