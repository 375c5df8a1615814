use serde::{Deserialize, Serialize};

/// An RFC 9457 problem document (`application/problem+json`) with a stable `code`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Problem {
    /// A URI naming the problem type: `urn:gatehouse:problem:<code>`.
    #[serde(rename = "type")]
    pub type_: String,
    /// Short, human-readable summary of the problem type.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// Explanation specific to this occurrence.
    pub detail: String,
    /// Stable machine-readable code, e.g. `invalid_credentials`.
    pub code: String,
    /// Per-field errors, present with `validation_failed`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// The resource as it is now, with `precondition_failed` (a stale `If-Match`), so the
    /// client can show what changed without another request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub current: Option<serde_json::Value>,
    /// The ETag of `current`: an edit that keeps or re-applies its change sends it as
    /// `If-Match`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_etag: Option<String>,
    /// Seats in use and the limit, with `seat_limit_reached`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seats: Option<crate::SeatUsage>,
}

impl Problem {
    /// A `validation_failed` problem (400) with these field errors, as the server answers
    /// it; clients build it too when they refuse an edit before sending it.
    pub fn validation_failed(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [one] => one.message.clone(),
            _ => format!("{} fields are invalid", errors.len()),
        };
        Self {
            type_: problem_type(codes::VALIDATION_FAILED),
            title: "Bad Request".into(),
            status: 400,
            detail,
            code: codes::VALIDATION_FAILED.into(),
            errors,
            current: None,
            current_etag: None,
            seats: None,
        }
    }
}

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FieldError {
    /// The field's name as it appears in the request (`email`, `limit`, …).
    pub field: String,
    /// Stable code for the field problem (`invalid`, `required`, `too_long`, …).
    pub code: String,
    /// What is wrong, for a person.
    pub message: String,
}

/// The `type` URI for a problem code.
pub fn problem_type(code: &str) -> String {
    format!("urn:gatehouse:problem:{code}")
}

/// Stable problem codes the server answers with; clients branch on these.
pub mod codes {
    /// Wrong e-mail or password (never says which).
    pub const INVALID_CREDENTIALS: &str = "invalid_credentials";
    /// No or malformed `Authorization` header.
    pub const UNAUTHENTICATED: &str = "unauthenticated";
    /// The access token's lifetime is over; refresh it.
    pub const TOKEN_EXPIRED: &str = "token_expired";
    /// The session was revoked or ended; sign in again.
    pub const SESSION_REVOKED: &str = "session_revoked";
    /// The refresh token is unknown, expired or already used.
    pub const INVALID_REFRESH_TOKEN: &str = "invalid_refresh_token";
    /// The account may not sign in (deactivated or pending).
    pub const ACCOUNT_DISABLED: &str = "account_disabled";
    /// The caller lacks the permission.
    pub const FORBIDDEN: &str = "forbidden";
    /// No such resource.
    pub const NOT_FOUND: &str = "not_found";
    /// The request is malformed; see `errors`.
    pub const VALIDATION_FAILED: &str = "validation_failed";
    /// The body is not JSON, or not the expected shape.
    pub const MALFORMED_BODY: &str = "malformed_body";
    /// An update without `If-Match` (428).
    pub const PRECONDITION_REQUIRED: &str = "precondition_required";
    /// An update whose `If-Match` is stale (412); `current` holds the resource now.
    pub const PRECONDITION_FAILED: &str = "precondition_failed";
    /// The e-mail address belongs to another user (409).
    pub const EMAIL_TAKEN: &str = "email_taken";
    /// The edit would leave the organization without an Owner (409).
    pub const LAST_OWNER: &str = "last_owner";
    /// Nobody deactivates themselves (SPEC R3).
    pub const CANNOT_DEACTIVATE_SELF: &str = "cannot_deactivate_self";
    /// Reactivating a user who was never active (still invited).
    pub const NOT_DEACTIVATED: &str = "not_deactivated";
    /// The organization has no free seat (SPEC O1).
    pub const SEAT_LIMIT_REACHED: &str = "seat_limit_reached";
    /// A built-in role cannot be edited or deleted.
    pub const BUILTIN_ROLE: &str = "builtin_role";
    /// Another role or group of the organization already has this name.
    pub const NAME_TAKEN: &str = "name_taken";
    /// The user must be deactivated before they can be removed.
    pub const NOT_REMOVABLE: &str = "not_removable";
    /// A change-feed cursor older than the retention window (410): resync in full.
    pub const CHANGES_EXPIRED: &str = "changes_expired";
    /// A paging cursor that this server did not issue for this query.
    pub const INVALID_CURSOR: &str = "invalid_cursor";
    /// An id in the path that is not of the shape this server issues (400).
    pub const INVALID_ID: &str = "invalid_id";
    /// Too many failed sign-ins for this account in a short time: locked for a while (429).
    pub const ACCOUNT_LOCKED: &str = "account_locked";
    /// Too many sign-in attempts from this address: slow down (429, `Retry-After`).
    pub const RATE_LIMITED: &str = "rate_limited";
    /// The API key is suspended (by an administrator, or with its deactivated user).
    pub const API_KEY_SUSPENDED: &str = "api_key_suspended";
    /// The API key is past its expiry and works no more (401).
    pub const API_KEY_EXPIRED: &str = "api_key_expired";
    /// The account has MFA enrolled and the sign-in sent no TOTP code (401).
    pub const MFA_REQUIRED: &str = "mfa_required";
    /// The TOTP code is wrong, stale or already used (401).
    pub const MFA_FAILED: &str = "mfa_failed";
    /// The organization requires MFA and this session must enrol before anything else (403).
    pub const MFA_ENROLLMENT_REQUIRED: &str = "mfa_enrollment_required";
    /// The account already has an authenticator; replacing it takes an admin's reset (409).
    pub const MFA_ALREADY_ENROLLED: &str = "mfa_already_enrolled";
    /// Confirming a TOTP enrolment that was never started, or was replaced (409).
    pub const MFA_NOT_STARTED: &str = "mfa_not_started";
    /// A password-reset token that this server never issued (400).
    pub const RESET_TOKEN_INVALID: &str = "reset_token_invalid";
    /// A password-reset token past its expiry, or replaced by a newer one (410).
    pub const RESET_TOKEN_EXPIRED: &str = "reset_token_expired";
    /// A password-reset token that was already used (410).
    pub const RESET_TOKEN_USED: &str = "reset_token_used";
    /// The account cannot receive a reset e-mail: it is not active (409).
    pub const CANNOT_RESET: &str = "cannot_reset";
    /// The server has no mail relay, so it cannot send the e-mail asked for (503).
    pub const MAIL_NOT_CONFIGURED: &str = "mail_not_configured";
    /// The demo mailbox is not enabled on this server (404).
    pub const MAILBOX_DISABLED: &str = "mailbox_disabled";
    /// Unexpected server failure; the detail says nothing internal.
    pub const INTERNAL: &str = "internal";
    /// The user is invited and has not joined: revoke the invitation instead of deactivating.
    pub const NOT_JOINED: &str = "not_joined";
    /// An invitation token that names no invitation (mistyped or forged link).
    pub const INVITATION_INVALID: &str = "invitation_invalid";
    /// The invitation expired; an admin can resend it.
    pub const INVITATION_EXPIRED: &str = "invitation_expired";
    /// The invitation was revoked by an admin.
    pub const INVITATION_REVOKED: &str = "invitation_revoked";
    /// The invitation was already accepted or declined.
    pub const INVITATION_USED: &str = "invitation_used";
    /// A resend of the link replaced this one.
    pub const INVITATION_SUPERSEDED: &str = "invitation_superseded";
    /// The invitee signed in with another identity provider or tenant than the invitation requires.
    pub const IDENTITY_PROVIDER_MISMATCH: &str = "identity_provider_mismatch";
    /// The address already has a pending invitation.
    pub const ALREADY_INVITED: &str = "already_invited";
    /// The invitation is not pending or expired, so it cannot be resent or revoked.
    pub const INVITATION_NOT_PENDING: &str = "invitation_not_pending";
    /// A CSV import that is not a CSV file of the expected shape.
    pub const INVALID_CSV: &str = "invalid_csv";
    /// A CSV import that is not UTF-8 text.
    pub const CSV_NOT_UTF8: &str = "csv_not_utf8";
    /// A CSV import with rows that failed validation (nothing was sent).
    pub const IMPORT_INVALID: &str = "import_invalid";
    /// A request body over the size limit.
    pub const PAYLOAD_TOO_LARGE: &str = "payload_too_large";
    /// A field that should be an RFC 3339 time is not one.
    pub const INVALID_TIME: &str = "invalid_time";
    /// An activity filter names an action the server does not know.
    pub const UNKNOWN_ACTION: &str = "unknown_action";
    /// A `to` at or before its `from`.
    pub const RANGE_REVERSED: &str = "range_reversed";
    /// A histogram range with more bars than it may have.
    pub const RANGE_TOO_LARGE: &str = "range_too_large";
    /// A host product posted an event outside its namespace (`app.…`).
    pub const RESERVED_ACTION: &str = "reserved_action";
    /// Only an API key may do this (a host product posting its own events).
    pub const API_KEY_REQUIRED: &str = "api_key_required";
    /// The server is checking too many passwords at once; retry after `Retry-After`.
    pub const SERVER_BUSY: &str = "server_busy";
    /// The server cannot reach its database (PostgreSQL restarting or out of reach); retry
    /// after `Retry-After`: it reconnects by itself.
    pub const DATABASE_UNAVAILABLE: &str = "database_unavailable";
    /// The address cannot be used in this organization (it belongs elsewhere on this
    /// server; which, or whether, is not said).
    pub const EMAIL_UNAVAILABLE: &str = "email_unavailable";
    /// Another user of the organization has this external id (SCIM `externalId`).
    pub const EXTERNAL_ID_TAKEN: &str = "external_id_taken";
    /// Someone else on the server is known by this SCIM `userName`.
    pub const USER_NAME_TAKEN: &str = "user_name_taken";
    /// The request took longer than the server allows and was stopped.
    pub const REQUEST_TIMEOUT: &str = "request_timeout";
    /// The session has as many change streams open as it may.
    pub const TOO_MANY_STREAMS: &str = "too_many_streams";
    /// The action needs the caller's password (and TOTP code) confirmed within the last
    /// few minutes: `POST /v1/auth/step-up`, then retry.
    pub const STEP_UP_REQUIRED: &str = "step_up_required";
}
