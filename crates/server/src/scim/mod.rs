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
mod groups;
pub mod patch;
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
        .route("/.search", axum::routing::post(search))
        .route("/Users/.search", axum::routing::post(|s, p, b| search_one(s, p, b, Listed::Users)))
        .route("/Groups/.search", axum::routing::post(|s, p, b| search_one(s, p, b, Listed::Groups)))
        .route("/Users", get(|s, p, q| list(s, p, q, Listed::Users)).post(users::create))
        .route("/Users/{id}", get(users::get).put(users::replace).patch(users::patch).delete(users::delete))
        .route("/Groups", get(|s, p, q| list(s, p, q, Listed::Groups)).post(groups::create))
        .route("/Groups/{id}", get(groups::get).put(groups::replace).patch(groups::patch).delete(groups::delete))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
}

/// The absolute base URL resources' `meta.location` starts with.
pub fn base_url(state: &AppState) -> String {
    format!("{}{BASE_PATH}", state.config.public_url.trim_end_matches('/'))
}

/// Checks `If-Match` against `current`, the resource's version tag: absent, `*` or a
/// list holding it passes; else 412 naming the current version.
pub fn check_if_match(headers: &axum::http::HeaderMap, current: &str, what: &str) -> ScimResult<()> {
    match headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok()).map(str::trim) {
        Some(tag) if tag != "*" && !tag.split(',').any(|t| t.trim() == current) => {
            Err(ScimError::new(StatusCode::PRECONDITION_FAILED, None, format!("The {what} changed: its version is now {current}.")))
        }
        _ => Ok(()),
    }
}

/// A resource read: 304 when `If-None-Match` holds its tag, else `resource()` with its
/// `ETag`.
pub fn read_answer(headers: &axum::http::HeaderMap, tag: &str, resource: impl FnOnce() -> Value) -> Response {
    let unchanged = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|none_match| none_match.split(',').any(|t| t.trim() == tag || t.trim() == "*"));
    let res = if unchanged { StatusCode::NOT_MODIFIED.into_response() } else { scim_json(StatusCode::OK, &resource()) };
    with_etag(res, tag)
}

/// The answer to a write: `resource` with its `ETag`, and on 201 its `Location`
/// (`meta.location`).
pub fn write_answer(status: StatusCode, resource: &Value, tag: &str) -> Response {
    let mut res = with_etag(scim_json(status, resource), tag);
    if status == StatusCode::CREATED
        && let Some(location) = resource["meta"]["location"].as_str()
        && let Ok(v) = HeaderValue::from_str(location)
    {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

/// `res` with the `ETag` header `tag`.
pub fn with_etag(mut res: Response, tag: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(tag) {
        res.headers_mut().insert(header::ETAG, v);
    }
    res
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

/// A resource type that lists: what its filters may name, and how a page is read.
#[derive(Clone, Copy)]
enum Listed {
    Users,
    Groups,
}

impl Listed {
    /// `params` read for this type.
    fn query(self, state: &AppState, params: &users::ListParams) -> ScimResult<users::ListQuery> {
        let (attributes, uris) = match self {
            Self::Users => (crate::store::scim::USER_ATTRIBUTES, crate::store::scim::USER_URIS),
            Self::Groups => (crate::store::scim::GROUP_ATTRIBUTES, crate::store::scim::GROUP_URIS),
        };
        users::ListQuery::read(params, state.db.backend(), attributes, uris)
    }

    /// Resources `offset` on, at most `limit`: (how many match in all, the page).
    async fn page(self, state: &AppState, org: &str, q: &users::ListQuery, offset: i64, limit: i64) -> ScimResult<(i64, Vec<Value>)> {
        match self {
            Self::Users => users::page(state, org, q, offset, limit).await,
            Self::Groups => groups::page(state, org, q, offset, limit).await,
        }
    }

    /// A list of this type for `params`.
    async fn answer(self, state: &AppState, principal: Principal, params: &users::ListParams) -> ScimResult<Response> {
        let granted = principal.require::<crate::auth::UsersRead>()?;
        let q = self.query(state, params)?;
        let (total, resources) = self.page(state, granted.org_id(), &q, q.start - 1, q.count).await?;
        Ok(q.answer(total, resources))
    }
}

/// `GET /Users`, `GET /Groups`.
async fn list(
    State(state): State<AppState>,
    principal: Result<Principal, crate::error::ApiError>,
    axum::extract::Query(params): axum::extract::Query<users::ListParams>,
    listed: Listed,
) -> ScimResult<Response> {
    listed.answer(&state, caller(principal)?, &params).await
}

/// `POST /Users/.search`, `POST /Groups/.search`: a list with its parameters in the body.
async fn search_one(
    State(state): State<AppState>,
    principal: Result<Principal, crate::error::ApiError>,
    body: axum::body::Bytes,
    listed: Listed,
) -> ScimResult<Response> {
    let principal = caller(principal)?;
    let params = users::ListParams::from_search(&users::json_body(&body)?)?;
    listed.answer(&state, principal, &params).await
}

/// `POST /.search` (RFC 7644 §3.4.3): users and groups in one list, users first; a
/// filter or sort that one resource type cannot take leaves that type out.
async fn search(
    State(state): State<AppState>,
    principal: Result<Principal, crate::error::ApiError>,
    body: axum::body::Bytes,
) -> ScimResult<Response> {
    let principal = caller(principal)?;
    let granted = principal.require::<crate::auth::UsersRead>()?;
    let org = granted.org_id().to_owned();
    let params = users::ListParams::from_search(&users::json_body(&body)?)?;
    let for_users = Listed::Users.query(&state, &params);
    let for_groups = Listed::Groups.query(&state, &params);
    let (for_users, for_groups) = match (for_users, for_groups) {
        (Err(e), Err(_)) => return Err(e),
        pair => pair,
    };
    let (start, count) = match (&for_users, &for_groups) {
        (Ok(q), _) | (_, Ok(q)) => (q.start, q.count),
        _ => (1, 0),
    };
    let (mut total, mut resources) = (0, Vec::new());
    if let Ok(q) = &for_users {
        (total, resources) = Listed::Users.page(&state, &org, q, start - 1, count).await?;
    }
    if let Ok(q) = &for_groups {
        let offset = (start - 1 - total).max(0);
        let room = count - i64::try_from(resources.len()).unwrap_or(i64::MAX);
        let (groups_total, groups) = Listed::Groups.page(&state, &org, q, offset, room.max(0)).await?;
        total += groups_total;
        resources.extend(groups);
    }
    Ok(users::list_response(start, total, resources))
}

async fn not_found() -> ScimError {
    ScimError::not_found("No such SCIM endpoint: this service has /ServiceProviderConfig, /ResourceTypes, /Schemas, /Users and /Groups.")
}

async fn method_not_allowed() -> ScimError {
    ScimError::new(StatusCode::METHOD_NOT_ALLOWED, None, "This endpoint does not take that method.")
}
