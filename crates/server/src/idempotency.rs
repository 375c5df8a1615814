//! `Idempotency-Key`: a retried mutation gets the stored response instead of a second
//! application. Keys are scoped to the caller and kept at least 24 hours.
//!
//! The handler stores the response of a change in the change's own transaction
//! ([`Idempotency::store`]); responses that changed nothing (errors) are stored on their own
//! ([`Idempotency::finish`]). A duplicate that arrives while the first is still being
//! handled by this process gets 409; across processes the database's write lock orders
//! them, and the second replays the first's response.

use crate::app::AppState;
use crate::auth::Principal;
use crate::error::{ApiError, Result};
use crate::store::idempotency::Stored;
use axum::body::Body;
use axum::http::header::{CONTENT_TYPE, ETAG};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use gatehouse_api::FieldError;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

/// How long a key is remembered at least.
pub const RETENTION: Duration = Duration::hours(24);

/// Keys being handled right now in this process.
#[derive(Debug, Default, Clone)]
pub struct InFlight(Arc<Mutex<HashSet<(String, String)>>>);

/// A request's idempotency key, claimed for the duration of the request.
pub struct Idempotency {
    user_id: String,
    key: String,
    fingerprint: String,
    in_flight: InFlight,
}

impl Drop for Idempotency {
    fn drop(&mut self) {
        let mut set = self.in_flight.0.lock().unwrap_or_else(|p| p.into_inner());
        set.remove(&(self.user_id.clone(), self.key.clone()));
    }
}

/// What a request with a key should do.
pub enum Claim {
    /// No key was sent: handle the request normally.
    None,
    /// A first request with this key: handle it, then store the response.
    Fresh(Idempotency),
    /// A retry: answer with the stored response.
    Replay(Response),
}

impl Idempotency {
    /// Reads the `Idempotency-Key` header and claims it: a fresh key, a replay, or an
    /// error (422 for another payload under the same key, 409 while it is in flight).
    pub async fn claim(
        state: &AppState,
        principal: &Principal,
        headers: &HeaderMap,
        method: &str,
        path: &str,
        body: &impl serde::Serialize,
    ) -> Result<Claim> {
        let Some(raw) = headers.get("idempotency-key") else {
            return Ok(Claim::None);
        };
        let key = raw.to_str().ok().map(str::trim).filter(|k| !k.is_empty() && k.len() <= 255 && k.chars().all(|c| c.is_ascii_graphic()));
        let Some(key) = key else {
            return Err(ApiError::validation(vec![FieldError {
                field: "Idempotency-Key".into(),
                code: "invalid".into(),
                message: "An Idempotency-Key is 1 to 255 visible ASCII characters.".into(),
            }]));
        };
        let canonical = serde_json::to_string(body).map_err(|e| ApiError::Internal(e.into()))?;
        let fingerprint = crate::tokens::hash_token(&format!("{method} {path}\n{canonical}"));
        let scope = (principal.user_id.clone(), key.to_owned());
        {
            let mut set = state.in_flight.0.lock().unwrap_or_else(|p| p.into_inner());
            if !set.insert(scope.clone()) {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "idempotency_key_in_flight",
                    "A request with this Idempotency-Key is still being handled; retry shortly.",
                ));
            }
        }
        let claim = Self { user_id: scope.0, key: scope.1, fingerprint, in_flight: state.in_flight.clone() };
        let stored = crate::store::idempotency::find(&state.db, &claim.user_id, &claim.key).await?;
        match stored {
            None => Ok(Claim::Fresh(claim)),
            Some(s) if s.fingerprint != claim.fingerprint => Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "This Idempotency-Key was used for a different request; use a new key for a new change.",
            )),
            Some(s) => Ok(Claim::Replay(replay(s))),
        }
    }

    /// Runs `act` under the request's `Idempotency-Key`, if it has one: a retry gets the
    /// first answer back, a fresh key has `act`'s answer stored (`act` stores a success in
    /// its own transaction through the `Idempotency` it is given; errors are stored here).
    pub async fn handle(
        state: &AppState,
        principal: &Principal,
        headers: &HeaderMap,
        (method, path): (&str, &str),
        body: &impl serde::Serialize,
        act: impl AsyncFnOnce(Option<&Idempotency>) -> Result<Response>,
    ) -> Result<Response> {
        match Self::claim(state, principal, headers, method, path, body).await? {
            Claim::Replay(response) => Ok(response),
            Claim::None => act(None).await,
            Claim::Fresh(idem) => {
                let result = act(Some(&idem)).await;
                idem.finish(state, result).await
            }
        }
    }

    /// Stores `response`'s parts under the key on `conn`: call it inside the transaction
    /// of the change the response describes.
    pub async fn store(&self, conn: &mut crate::store::Conn, status: StatusCode, etag: Option<&str>, body: &[u8], now: DateTime<Utc>) -> Result<()> {
        let content_type = if status.is_success() { "application/json" } else { "application/problem+json" };
        crate::store::idempotency::forget_before(conn, now - RETENTION * 2).await?;
        crate::store::idempotency::save(
            conn,
            &Stored {
                fingerprint: self.fingerprint.clone(),
                status: i64::from(status.as_u16()),
                content_type: content_type.to_owned(),
                etag: etag.map(str::to_owned),
                body: body.to_vec(),
            },
            (&self.user_id, &self.key),
            now,
        )
        .await?;
        Ok(())
    }

    /// Stores an error answer (which changed nothing) on its own and returns it. Internal
    /// failures and answers that say "not now" (5xx: busy, unavailable; 429: throttled)
    /// are not stored, so the retry they invite can still succeed.
    pub async fn finish(self, state: &AppState, result: Result<Response>) -> Result<Response> {
        match result {
            Err(error @ ApiError::Problem { status, .. }) if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS => Err(error),
            Err(error @ ApiError::Problem { .. }) => {
                let response = error.into_response();
                let status = response.status();
                let bytes = axum::body::to_bytes(response.into_body(), 1024 * 1024).await.map_err(|e| ApiError::Internal(e.into()))?;
                let mut tx = crate::store::write(&state.db).await?;
                self.store(&mut tx, status, None, &bytes, state.clock.now()).await?;
                tx.commit().await?;
                Ok(rebuild(status, "application/problem+json", None, bytes.to_vec()))
            }
            other => other,
        }
    }
}

fn replay(s: Stored) -> Response {
    let status = u16::try_from(s.status).ok().and_then(|s| StatusCode::from_u16(s).ok()).unwrap_or(StatusCode::OK);
    let mut res = rebuild(status, &s.content_type, s.etag.as_deref(), s.body);
    res.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    res
}

fn rebuild(status: StatusCode, content_type: &str, etag: Option<&str>, body: Vec<u8>) -> Response {
    let mut res = Response::new(Body::from(body));
    *res.status_mut() = status;
    if let Ok(v) = HeaderValue::from_str(content_type) {
        res.headers_mut().insert(CONTENT_TYPE, v);
    }
    if let Some(v) = etag.and_then(|e| HeaderValue::from_str(e).ok()) {
        res.headers_mut().insert(ETAG, v);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Config, SystemClock};

    #[tokio::test]
    async fn a_key_in_flight_is_refused_until_its_request_ends() {
        let dir = tempfile::tempdir().unwrap();
        let state = AppState::open(&dir.path().join("t.db"), Arc::new(SystemClock), Config::default()).await.unwrap();
        let principal = Principal {
            user_id: "u1".into(),
            org_id: "o".into(),
            session_id: "s".into(),
            rank: Default::default(),
            api_key: None,
            mfa_pending: false,
            stepped_up_at: None,
        };
        let mut headers = HeaderMap::new();
        headers.insert("idempotency-key", HeaderValue::from_static("k-1"));
        let first = Idempotency::claim(&state, &principal, &headers, "PATCH", "/x", &1).await.unwrap();
        assert!(matches!(first, Claim::Fresh(_)));
        let Err(ApiError::Problem { status, code, .. }) = Idempotency::claim(&state, &principal, &headers, "PATCH", "/x", &1).await else {
            panic!("a second claim while the first is in flight must fail");
        };
        assert_eq!((status, code), (StatusCode::CONFLICT, "idempotency_key_in_flight"));
        // Another caller's identical key is independent.
        let other = Principal { user_id: "u2".into(), ..principal.clone() };
        assert!(matches!(Idempotency::claim(&state, &other, &headers, "PATCH", "/x", &1).await.unwrap(), Claim::Fresh(_)));
        drop(first);
        assert!(matches!(Idempotency::claim(&state, &principal, &headers, "PATCH", "/x", &1).await.unwrap(), Claim::Fresh(_)));
    }
}
