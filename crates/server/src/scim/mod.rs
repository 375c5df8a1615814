//! SCIM 2.0 service provider (RFC 7643, RFC 7644; SPEC P1, P2) at `/scim/v2`: identity
//! providers provision the organization's people and groups through it.
//!
//! Every answer is `application/scim+json`; every error is SCIM's error schema
//! ([`error`]), including unknown paths and methods. Callers authenticate as on `/v1` (an
//! API key, normally of a user holding the SCIM provisioning role) and every action asks
//! the same policy as `/v1`.

pub mod discovery;
pub mod error;
pub mod filter;
mod users;

use crate::app::AppState;
use crate::auth::Principal;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use error::{SCIM_JSON, ScimError, ScimResult};
use serde_json::Value;

/// Where the SCIM routes are mounted.
pub const BASE_PATH: &str = "/scim/v2";

/// The SCIM routes, to be nested at [`BASE_PATH`].
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ServiceProviderConfig", get(service_provider_config))
        .route("/ResourceTypes", get(resource_types))
        .route("/ResourceTypes/{id}", get(resource_type))
        .route("/Schemas", get(schemas))
        .route("/Schemas/{id}", get(schema))
        .route("/Users", get(users::list))
        .route("/Users/{id}", get(users::get))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
}

/// The absolute base URL resources' `meta.location` starts with.
pub fn base_url(state: &AppState) -> String {
    format!("{}{BASE_PATH}", state.config.public_url.trim_end_matches('/'))
}

/// A SCIM JSON answer.
pub fn scim_json(status: StatusCode, body: &Value) -> Response {
    let mut res = (status, body.to_string()).into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON));
    res
}

/// Who may read the service's description: anyone signed in (RFC 7644 §4 allows it
/// without, but the organization's roles are in the schema).
fn caller(principal: Result<Principal, crate::error::ApiError>) -> ScimResult<Principal> {
    principal.map_err(ScimError::from)
}

async fn service_provider_config(State(state): State<AppState>, principal: Result<Principal, crate::error::ApiError>) -> ScimResult<Response> {
    caller(principal)?;
    Ok(scim_json(StatusCode::OK, &discovery::service_provider_config(&base_url(&state))))
}

async fn resource_types(State(state): State<AppState>, principal: Result<Principal, crate::error::ApiError>) -> ScimResult<Response> {
    caller(principal)?;
    Ok(scim_json(StatusCode::OK, &discovery::list(discovery::resource_types(&base_url(&state)))))
}

async fn resource_type(
    State(state): State<AppState>,
    principal: Result<Principal, crate::error::ApiError>,
    Path(id): Path<String>,
) -> ScimResult<Response> {
    caller(principal)?;
    let found = discovery::resource_types(&base_url(&state)).into_iter().find(|rt| rt["id"] == id.as_str());
    let found = found.ok_or_else(|| ScimError::not_found(format!("No resource type `{id}`: this service has User and Group.")))?;
    Ok(scim_json(StatusCode::OK, &found))
}

/// The role keys a caller may give through `roles` (the schema's canonical values).
async fn grantable_roles(state: &AppState, principal: &Principal) -> ScimResult<Vec<String>> {
    let mut keys = Vec::new();
    for role in crate::store::roles::grantable(&state.db, &principal.org_id).await? {
        if crate::routes::user_edit::may_grant(principal, &[&role]).is_ok() {
            keys.push(role.key);
        }
    }
    keys.sort();
    Ok(keys)
}

async fn schemas(State(state): State<AppState>, principal: Result<Principal, crate::error::ApiError>) -> ScimResult<Response> {
    let principal = caller(principal)?;
    let roles = grantable_roles(&state, &principal).await?;
    Ok(scim_json(StatusCode::OK, &discovery::list(discovery::schemas(&base_url(&state), roles))))
}

async fn schema(State(state): State<AppState>, principal: Result<Principal, crate::error::ApiError>, Path(id): Path<String>) -> ScimResult<Response> {
    let principal = caller(principal)?;
    let roles = grantable_roles(&state, &principal).await?;
    let found = discovery::schemas(&base_url(&state), roles).into_iter().find(|s| s["id"].as_str().is_some_and(|s| s.eq_ignore_ascii_case(&id)));
    let found = found.ok_or_else(|| ScimError::not_found(format!("No schema `{id}` here; GET /Schemas lists them.")))?;
    Ok(scim_json(StatusCode::OK, &found))
}

async fn not_found() -> ScimError {
    ScimError::not_found("No such SCIM endpoint: this service has /ServiceProviderConfig, /ResourceTypes, /Schemas, /Users and /Groups.")
}

async fn method_not_allowed() -> ScimError {
    ScimError::new(StatusCode::METHOD_NOT_ALLOWED, None, "This endpoint does not take that method.")
}
