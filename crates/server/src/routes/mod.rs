//! HTTP routes. Every route is registered through `utoipa_axum::routes!`, so a route
//! without an OpenAPI description does not compile.

pub mod activity;
pub mod activity_export;
pub mod apikeys;
pub mod attempts;
pub mod auth;
pub mod avatar;
pub mod bulk;
pub mod changes;
pub mod export;
pub mod groups;
pub mod host_events;
pub mod invitation_actions;
pub mod invitation_import;
pub mod invitation_list;
pub mod invitations;
pub mod invitee;
pub mod lifecycle;
pub mod mailbox;
pub mod mfa;
pub mod org;
pub(crate) mod paging;
pub mod resets;
pub mod roles;
pub mod sessions;
pub mod step_up;
pub mod user_create;
pub mod user_edit;
pub mod users;

use crate::app::AppState;
use crate::error::ApiError;
use crate::openapi::ApiDoc;
use axum::http::StatusCode;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The API routes with their OpenAPI description.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(auth::login))
        .routes(routes!(auth::refresh))
        .routes(routes!(auth::logout))
        .routes(routes!(step_up::step_up))
        .routes(routes!(auth::me))
        .routes(routes!(mfa::start_totp))
        .routes(routes!(mfa::confirm_totp))
        .routes(routes!(mfa::reset_mfa))
        .routes(routes!(resets::reset_password))
        .routes(routes!(resets::request_reset))
        .routes(routes!(resets::complete_reset))
        .routes(routes!(mailbox::mailbox))
        .routes(routes!(users::list_users, user_create::create_user))
        .routes(routes!(export::export_users))
        .routes(routes!(activity::list_events, host_events::post_event))
        .routes(routes!(activity_export::export_events))
        .routes(routes!(activity_export::histogram))
        .routes(routes!(activity::user_activity))
        .routes(routes!(bulk::bulk))
        .routes(routes!(changes::list_changes))
        .routes(routes!(changes::stream_changes))
        .routes(routes!(users::get_user, user_edit::patch_user, user_create::remove_user))
        .routes(routes!(avatar::put_avatar, avatar::get_avatar))
        .routes(routes!(lifecycle::deactivate_user))
        .routes(routes!(lifecycle::reactivate_user))
        .routes(routes!(roles::list_roles, roles::create_role))
        .routes(routes!(roles::patch_role, roles::delete_role))
        .routes(routes!(groups::list_groups, groups::create_group))
        .routes(routes!(groups::patch_group, groups::delete_group))
        .routes(routes!(org::get_org, org::patch_org))
        .routes(routes!(sessions::list_sessions))
        .routes(routes!(sessions::revoke_session))
        .routes(routes!(sessions::user_sessions))
        .routes(routes!(sessions::force_logout))
        .routes(routes!(attempts::list_attempts))
        .routes(routes!(attempts::unlock_sign_in))
        .routes(routes!(apikeys::list_keys, apikeys::create_key))
        .routes(routes!(apikeys::suspend_key))
        .routes(routes!(apikeys::restore_key))
        .routes(routes!(invitation_list::list_invitations, invitations::create_invitations))
        .routes(routes!(invitation_import::import_invitations))
        .routes(routes!(invitation_actions::resend_invitation))
        .routes(routes!(invitation_actions::revoke_invitation))
        .routes(routes!(invitation_actions::invitation_link))
        .routes(routes!(invitee::accept_invitation))
        .routes(routes!(invitee::decline_invitation))
}

/// The `If-Match` header, trimmed, if sent.
pub(crate) fn if_match(headers: &axum::http::HeaderMap) -> Option<String> {
    headers.get(axum::http::header::IF_MATCH).and_then(|v| v.to_str().ok()).map(|v| v.trim().to_owned())
}

/// Checks an optional `If-Match` tag against `version` of `current`: absent or `*`
/// passes, a stale one is 412 with `current` in the problem.
pub(crate) fn check_if_match<T: serde::Serialize>(tag: Option<&str>, current: &T, version: i64) -> crate::error::Result<()> {
    let etag = user_edit::etag(version);
    match tag {
        Some(tag) if tag != "*" && tag != etag => {
            Err(ApiError::stale(serde_json::to_value(current).map_err(|e| ApiError::Internal(e.into()))?, etag))
        }
        _ => Ok(()),
    }
}

/// A JSON body already serialized (e.g. the one stored under an Idempotency-Key), answered
/// with `status`.
pub(crate) fn json_body(status: StatusCode, body: Vec<u8>) -> axum::response::Response {
    let mut res = axum::response::Response::new(axum::body::Body::from(body));
    *res.status_mut() = status;
    res.headers_mut().insert(axum::http::header::CONTENT_TYPE, axum::http::HeaderValue::from_static("application/json"));
    res
}

/// `value` as a JSON response with `status` and the `ETag` of `version`.
pub(crate) fn json_with_etag<T: serde::Serialize>(status: StatusCode, value: T, version: i64) -> axum::response::Response {
    use axum::response::IntoResponse;
    let mut res = (status, axum::Json(value)).into_response();
    if let Ok(v) = axum::http::HeaderValue::from_str(&user_edit::etag(version)) {
        res.headers_mut().insert(axum::http::header::ETAG, v);
    }
    res
}

/// Fallback for unknown paths.
pub async fn not_found() -> ApiError {
    ApiError::not_found("There is no such endpoint; see /openapi.json.")
}

/// Fallback for a known path with the wrong method.
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "This endpoint does not accept that method.")
}
