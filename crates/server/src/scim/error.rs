//! SCIM's error schema (RFC 7644 §3.12): every answer under `/scim/v2` that is not a
//! success is `application/scim+json` with `schemas`, `status` (a string), `scimType`
//! where one applies, and `detail`. The `/v1` API's problems map onto it, so the domain
//! operations' refusals (seats, the policy, uniqueness) read the same through SCIM.

use crate::error::ApiError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gatehouse_api::codes;
use serde_json::json;

/// The error message schema.
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// The media type of every SCIM body.
pub const SCIM_JSON: &str = "application/scim+json";

/// A SCIM error answer.
#[derive(Debug)]
pub struct ScimError {
    /// HTTP status.
    pub status: StatusCode,
    /// RFC 7644's `scimType`, for 400 and 409.
    pub scim_type: Option<&'static str>,
    /// What went wrong, for a person.
    pub detail: String,
    /// Seconds for `Retry-After` (503).
    pub retry_after: Option<u64>,
    /// A failure of ours, logged when answered.
    internal: Option<anyhow::Error>,
}

/// Result alias for SCIM handlers.
pub type ScimResult<T> = std::result::Result<T, ScimError>;

impl ScimError {
    /// An error with a status, an optional `scimType` and a detail.
    pub fn new(status: StatusCode, scim_type: Option<&'static str>, detail: impl Into<String>) -> Self {
        Self { status, scim_type, detail: detail.into(), retry_after: None, internal: None }
    }

    /// 400 with `scimType`.
    pub fn bad(scim_type: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Some(scim_type), detail)
    }

    /// The same error, its detail starting with `prefix: `.
    pub fn prefixed(mut self, prefix: &str) -> Self {
        self.detail = format!("{prefix}: {}", self.detail);
        self
    }

    /// 404.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, None, detail)
    }
}

impl From<ApiError> for ScimError {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::Internal(err) => Self {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                scim_type: None,
                detail: "The server failed to handle the request; the cause is in its log.".into(),
                retry_after: None,
                internal: Some(err),
            },
            ApiError::Problem { status, code, detail, errors, retry_after, .. } => {
                let scim_type = match (status, code) {
                    (
                        StatusCode::CONFLICT,
                        codes::EMAIL_TAKEN | codes::EMAIL_UNAVAILABLE | codes::NAME_TAKEN | codes::EXTERNAL_ID_TAKEN | codes::USER_NAME_TAKEN,
                    ) => Some("uniqueness"),
                    (StatusCode::BAD_REQUEST, _) => Some("invalidValue"),
                    (StatusCode::UNPROCESSABLE_ENTITY, _) => Some("invalidValue"),
                    _ => None,
                };
                // A 422 (a rule the value breaks) is a 400 in SCIM's vocabulary.
                let status = if status == StatusCode::UNPROCESSABLE_ENTITY { StatusCode::BAD_REQUEST } else { status };
                let mut detail = detail;
                for f in errors {
                    detail.push_str(&format!(" {}: {}", f.field, f.message));
                }
                Self { status, scim_type, detail, retry_after, internal: None }
            }
        }
    }
}

impl From<sqlx::Error> for ScimError {
    fn from(e: sqlx::Error) -> Self {
        ApiError::from(e).into()
    }
}

impl IntoResponse for ScimError {
    fn into_response(self) -> Response {
        if let Some(e) = &self.internal {
            tracing::error!(error = format!("{e:#}"), "SCIM request failed");
        }
        let mut body = json!({"schemas": [ERROR_SCHEMA], "status": self.status.as_u16().to_string(), "detail": self.detail});
        if let Some(t) = self.scim_type {
            body["scimType"] = json!(t);
        }
        let mut response = (self.status, body.to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON));
        if let Some(seconds) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&seconds.to_string())
        {
            headers.insert(header::RETRY_AFTER, v);
        }
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"gatehouse-scim\""));
        }
        response
    }
}
