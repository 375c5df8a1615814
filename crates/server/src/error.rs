//! The server's one error type, answered as RFC 9457 `application/problem+json`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gatehouse_api::{FieldError, Problem, codes, problem_type};

/// Result alias for handlers and the data layer.
pub type Result<T, E = ApiError> = std::result::Result<T, E>;

/// An error a handler answers with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A problem the client caused or must act on; answered as is.
    #[error("{code}: {detail}")]
    Problem {
        /// HTTP status.
        status: StatusCode,
        /// Stable problem code.
        code: &'static str,
        /// Human-readable explanation.
        detail: String,
        /// Per-field errors for `validation_failed`.
        errors: Vec<FieldError>,
        /// The resource as it is now and its ETag, for `precondition_failed`.
        current: Option<Box<(serde_json::Value, String)>>,
        /// Seconds for a `Retry-After` header (429).
        retry_after: Option<u64>,
        /// Seat usage, with `seat_limit_reached`.
        seats: Option<gatehouse_api::SeatUsage>,
    },
    /// A failure of ours; logged in full, answered as a bare 500.
    #[error("internal error: {0:#}")]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        // Contention and a database out of reach are not failures of ours to hide behind a
        // 500: the client waits and tries again (the app's outbox does so by itself).
        match crate::store::transient(&e) {
            Some(crate::store::Transient::Busy) => {
                tracing::warn!(error = %e, "the database stayed busy past the timeout");
                return Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    codes::SERVER_BUSY,
                    "The server is busy with other changes; try again in a moment.",
                )
                .with_retry_after(1);
            }
            Some(crate::store::Transient::Unavailable) => {
                tracing::error!(error = %e, "the database cannot be reached");
                return Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    codes::DATABASE_UNAVAILABLE,
                    "The server cannot reach its database right now; try again in a moment.",
                )
                .with_retry_after(2);
            }
            None => {}
        }
        // Text PostgreSQL cannot store (a NUL character; SQLite keeps it): the request's fault,
        // whichever field or parameter carried it.
        if let sqlx::Error::Database(db) = &e
            && db.code().is_some_and(|c| c == "22021" || c == "22P05")
        {
            return Self::new(StatusCode::BAD_REQUEST, codes::VALIDATION_FAILED, "Text cannot contain NUL (U+0000) or other unstorable characters.");
        }
        Self::Internal(e.into())
    }
}

impl From<crate::keys::OpenError> for ApiError {
    fn from(e: crate::keys::OpenError) -> Self {
        Self::Internal(anyhow::Error::new(e).context("opening a TOTP secret"))
    }
}

impl ApiError {
    /// A problem with no field errors.
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self::Problem { status, code, detail: detail.into(), errors: Vec::new(), current: None, retry_after: None, seats: None }
    }

    /// 400 `validation_failed` with per-field errors.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [one] => one.message.clone(),
            _ => format!("{} fields are invalid", errors.len()),
        };
        Self::Problem {
            status: StatusCode::BAD_REQUEST,
            code: codes::VALIDATION_FAILED,
            detail,
            errors,
            current: None,
            retry_after: None,
            seats: None,
        }
    }

    /// 400 `validation_failed` for one field.
    pub fn field(field: &str, code: &str, message: impl Into<String>) -> Self {
        Self::validation(vec![FieldError { field: field.into(), code: code.into(), message: message.into() }])
    }

    /// 409 with `code`, also reported on `field` so a form shows it there (a taken e-mail
    /// or name).
    pub fn field_conflict(code: &'static str, field: &str, detail: impl Into<String>, message: impl Into<String>) -> Self {
        let errors = vec![FieldError { field: field.into(), code: code.into(), message: message.into() }];
        Self::Problem { status: StatusCode::CONFLICT, code, detail: detail.into(), errors, current: None, retry_after: None, seats: None }
    }

    /// 401 with the given code.
    pub fn unauthorized(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, detail)
    }

    /// 403 `forbidden`.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, codes::FORBIDDEN, detail)
    }

    /// 412 `precondition_failed` carrying the resource as it is now.
    pub fn stale(current: serde_json::Value, etag: String) -> Self {
        Self::Problem {
            status: StatusCode::PRECONDITION_FAILED,
            code: codes::PRECONDITION_FAILED,
            detail: "The resource changed since you read it; `current` holds it as it is now.".into(),
            errors: Vec::new(),
            current: Some(Box::new((current, etag))),
            retry_after: None,
            seats: None,
        }
    }

    /// 404 `not_found`.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, codes::NOT_FOUND, detail)
    }

    /// Adds a `Retry-After` of `seconds` to the answer.
    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        if let Self::Problem { retry_after, .. } = &mut self {
            *retry_after = Some(seconds);
        }
        self
    }

    /// Adds the seat usage to a `seat_limit_reached` answer.
    pub fn with_seats(mut self, usage: gatehouse_api::SeatUsage) -> Self {
        if let Self::Problem { seats, .. } = &mut self {
            *seats = Some(usage);
        }
        self
    }

    /// The problem document this error is answered with.
    pub fn problem(&self) -> Problem {
        match self {
            Self::Problem { status, code, detail, errors, current, seats, .. } => Problem {
                type_: problem_type(code),
                title: status.canonical_reason().unwrap_or("Error").to_owned(),
                status: status.as_u16(),
                detail: detail.clone(),
                code: (*code).to_owned(),
                errors: errors.clone(),
                current: current.as_deref().map(|(c, _)| c.clone()),
                current_etag: current.as_deref().map(|(_, e)| e.clone()),
                seats: *seats,
            },
            Self::Internal(_) => Problem {
                type_: problem_type(codes::INTERNAL),
                title: "Internal Server Error".to_owned(),
                status: 500,
                detail: "The server failed to handle the request; the cause is in its log.".to_owned(),
                code: codes::INTERNAL.to_owned(),
                errors: Vec::new(),
                current: None,
                current_etag: None,
                seats: None,
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Internal(e) = &self {
            tracing::error!(error = format!("{e:#}"), "request failed");
        }
        let problem = self.problem();
        let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, axum::Json(problem)).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if let Self::Problem { retry_after: Some(seconds), .. } = &self
            && let Ok(v) = HeaderValue::from_str(&seconds.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"gatehouse\""));
        }
        response
    }
}
