//! Errors across IPC: `{ code, message, field }` with a closed set of codes.

use gatehouse_client::Error;
use gatehouse_client::api::codes;
use serde::Serialize;
use ts_rs::TS;

/// What the UI branches on. Add a code only when the UI needs to tell it apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum IpcErrorCode {
    /// A field the user typed is invalid; `field` names it.
    InvalidInput,
    /// The server URL is plain `http://` to another computer (`field` is `server_url`);
    /// the message says why it is refused and how to allow it.
    InsecureUrl,
    /// Wrong e-mail or password.
    InvalidCredentials,
    /// The password was right; the account has MFA: ask for the code and sign in again.
    MfaRequired,
    /// The server cannot be reached.
    Unreachable,
    /// The session ended; back to sign-in with the message as the reason.
    SessionExpired,
    /// No session: sign in first.
    NotSignedIn,
    /// The account may not do this.
    Forbidden,
    /// The server wants the signed-in person's password (and TOTP code) confirmed first:
    /// the UI asks for it (`step_up`) and tries once more.
    StepUpRequired,
    /// The request cannot be done as asked (an empty edit, …); the message says why.
    Invalid,
    /// The thing asked for is not there (a user not synced, a change already sent).
    NotFound,
    /// The OS keyring is locked, missing or refused.
    KeyringUnavailable,
    /// The server answered with an error the UI shows as is.
    ServerError,
    /// A bug of ours.
    Internal,
}

/// The error every command rejects with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct IpcError {
    /// What kind of failure.
    pub code: IpcErrorCode,
    /// For a person.
    pub message: String,
    /// The input field at fault, when there is one (`server_url`, `email`, `password`).
    pub field: Option<String>,
    /// Every field at fault with its message, when the server named several.
    pub fields: Vec<IpcFieldError>,
}

/// One field's error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct IpcFieldError {
    /// The field: `email`, `first_name`, `custom_attributes.cost_center`, …
    pub field: String,
    /// For a person.
    pub message: String,
}

impl IpcError {
    /// An error without a field.
    pub fn new(code: IpcErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), field: None, fields: Vec::new() }
    }

    /// An `invalid_input` error on `field`.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self { code: IpcErrorCode::InvalidInput, message: message.into(), field: Some(field.into()), fields: Vec::new() }
    }
}

impl From<Error> for IpcError {
    fn from(e: Error) -> Self {
        use IpcErrorCode as C;
        match e {
            Error::InvalidServerUrl(msg) => Self::field("server_url", msg),
            Error::InsecureUrl(msg) => Self { code: C::InsecureUrl, ..Self::field("server_url", msg) },
            Error::Unreachable { .. } => Self::new(C::Unreachable, e.to_string()),
            Error::SessionExpired { reason } => Self::new(C::SessionExpired, reason),
            Error::NotSignedIn => Self::new(C::NotSignedIn, "Sign in to continue."),
            Error::Keyring(_) => Self::new(C::KeyringUnavailable, e.to_string()),
            Error::Protocol(_) => Self::new(C::ServerError, e.to_string()),
            Error::Cache(_) => Self::new(C::Internal, e.to_string()),
            Error::Invalid(msg) => Self::new(C::Invalid, msg),
            Error::NotFound(msg) => Self::new(C::NotFound, msg),
            Error::Api(p) => match p.code.as_str() {
                codes::INVALID_CREDENTIALS => Self::new(C::InvalidCredentials, "Invalid email or password"),
                codes::MFA_REQUIRED => Self::new(C::MfaRequired, p.detail),
                codes::MFA_FAILED => Self::field("totp", p.detail),
                // Field by field, also for a taken e-mail or name (shown on the field).
                codes::VALIDATION_FAILED | codes::EMAIL_TAKEN | codes::NAME_TAKEN | codes::ALREADY_INVITED => match p.errors.first() {
                    Some(f) => Self {
                        fields: p.errors.iter().map(|e| IpcFieldError { field: e.field.clone(), message: e.message.clone() }).collect(),
                        ..Self::field(&f.field, f.message.clone())
                    },
                    None => Self::new(C::InvalidInput, p.detail),
                },
                codes::FORBIDDEN | codes::ACCOUNT_DISABLED | codes::MFA_ENROLLMENT_REQUIRED => Self::new(C::Forbidden, p.detail),
                codes::STEP_UP_REQUIRED => Self::new(C::StepUpRequired, p.detail),
                _ => Self::new(C::ServerError, p.detail),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_client::api::{FieldError, Problem, problem_type};

    fn problem(code: &str, errors: Vec<FieldError>) -> Error {
        Error::Api(Box::new(Problem {
            type_: problem_type(code),
            title: "t".into(),
            status: 400,
            detail: "detail".into(),
            code: code.into(),
            errors,
            current: None,
            current_etag: None,
            seats: None,
        }))
    }

    #[test]
    fn client_errors_map_to_the_codes_the_ui_branches_on() {
        assert_eq!(IpcError::from(problem("invalid_credentials", vec![])).message, "Invalid email or password");
        let field = FieldError { field: "email".into(), code: "required".into(), message: "Enter it".into() };
        let mapped = IpcError::from(problem("validation_failed", vec![field.clone(), FieldError { field: "password".into(), ..field }]));
        assert_eq!((mapped.field.as_deref(), mapped.message.as_str()), (Some("email"), "Enter it"));
        assert_eq!(mapped.fields.iter().map(|f| f.field.as_str()).collect::<Vec<_>>(), ["email", "password"], "every field, for forms");
        let taken = FieldError { field: "email".into(), code: "email_taken".into(), message: "used by Ann".into() };
        assert_eq!(IpcError::from(problem("email_taken", vec![taken])).field.as_deref(), Some("email"), "shown on the field");
        let unreachable = Error::Unreachable { url: "http://h:1".into(), reason: "Connection refused".into() };
        let e = IpcError::from(unreachable);
        assert_eq!((e.code, e.message.as_str()), (IpcErrorCode::Unreachable, "Cannot reach server at http://h:1: Connection refused"));
        assert_eq!(IpcError::from(Error::InvalidServerUrl("bad".into())).field.as_deref(), Some("server_url"));
        // Its own code (the form shows the whole explanation), on the server URL field.
        let insecure = IpcError::from(Error::InsecureUrl("why and how".into()));
        assert_eq!((insecure.code, insecure.field.as_deref(), insecure.message.as_str()), (IpcErrorCode::InsecureUrl, Some("server_url"), "why and how"));
        assert_eq!(serde_json::to_value(insecure.code).unwrap(), "insecure_url");
        assert_eq!(IpcError::from(Error::SessionExpired { reason: "why".into() }).code, IpcErrorCode::SessionExpired);
        // Sign-in asks for the code, and shows a wrong one on its field.
        assert_eq!(IpcError::from(problem("mfa_required", vec![])).code, IpcErrorCode::MfaRequired);
        let wrong = IpcError::from(problem("mfa_failed", vec![]));
        assert_eq!((wrong.code, wrong.field.as_deref()), (IpcErrorCode::InvalidInput, Some("totp")));
        // Its own code, so the UI asks for the password and retries; the message says what for.
        let step_up = IpcError::from(problem("step_up_required", vec![]));
        assert_eq!((step_up.code, step_up.message.as_str()), (IpcErrorCode::StepUpRequired, "detail"));
        assert_eq!(serde_json::to_value(step_up.code).unwrap(), "step_up_required");
        assert_eq!(IpcError::from(problem("forbidden", vec![])).code, IpcErrorCode::Forbidden);
    }

    #[test]
    fn serializes_as_code_message_field() {
        let json = serde_json::to_value(IpcError::field("email", "m")).unwrap();
        assert_eq!(json, serde_json::json!({"code": "invalid_input", "message": "m", "field": "email", "fields": []}));
    }
}
