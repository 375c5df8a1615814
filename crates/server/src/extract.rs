//! Extractors whose rejections are problem documents, not axum's plain-text defaults.

use crate::error::ApiError;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use gatehouse_api::codes;
use serde::de::DeserializeOwned;

/// `Json<T>` that rejects with `malformed_body` (or 413/415) problem documents.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Self(v)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send the body as JSON with `Content-Type: application/json`.",
        ),
        JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "The request body is too large.")
        }
        // The serde message names the field and the expected type, which is what the
        // caller needs; it never echoes values of secret fields (they are plain strings).
        JsonRejection::JsonDataError(e) => ApiError::new(StatusCode::BAD_REQUEST, codes::MALFORMED_BODY, e.body_text()),
        other => ApiError::new(StatusCode::BAD_REQUEST, codes::MALFORMED_BODY, other.body_text()),
    }
}

/// The query string as ordered key/value pairs, validated by each handler field by field
/// so an error can name the field.
pub struct QueryPairs(pub Vec<(String, String)>);

impl QueryPairs {
    /// The last value given for `key`, if any and non-empty.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for QueryPairs {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<Vec<(String, String)>>::from_request_parts(parts, state)
            .await
            .map(|q| Self(q.0))
            .map_err(|e: QueryRejection| ApiError::new(StatusCode::BAD_REQUEST, codes::VALIDATION_FAILED, e.body_text()))
    }
}

/// `Path<T>` that rejects with a `validation_failed` problem (e.g. an invalid UTF-8
/// percent-escape in an id) instead of axum's plain text.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Self(p.0))
            .map_err(|e: PathRejection| ApiError::new(StatusCode::BAD_REQUEST, codes::VALIDATION_FAILED, e.body_text()))
    }
}

/// Where a request came from: client address and User-Agent.
pub struct ClientMeta {
    /// The client's IP address: the peer's, or from `X-Forwarded-For` when the peer is a
    /// configured trusted proxy.
    pub ip: String,
    /// The raw User-Agent header.
    pub user_agent: String,
}

impl FromRequestParts<crate::app::AppState> for ClientMeta {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &crate::app::AppState) -> Result<Self, ApiError> {
        let peer = parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
        let forwarded: Vec<&str> = parts.headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).collect();
        let ip = crate::net::client_ip(peer, &forwarded, &state.config.trusted_proxies).map(|ip| ip.to_string()).unwrap_or_default();
        let user_agent = parts
            .headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(512).collect())
            .unwrap_or_default();
        Ok(Self { ip, user_agent })
    }
}
