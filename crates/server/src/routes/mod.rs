//! HTTP routes. Every route is registered through `utoipa_axum::routes!`, so a route
//! without an OpenAPI description does not compile.

pub mod auth;
pub mod changes;
pub mod lifecycle;
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
        .routes(routes!(auth::me))
        .routes(routes!(users::list_users))
        .routes(routes!(changes::list_changes))
        .routes(routes!(changes::stream_changes))
        .routes(routes!(users::get_user, user_edit::patch_user))
        .routes(routes!(lifecycle::deactivate_user))
        .routes(routes!(lifecycle::reactivate_user))
}

/// Appends `(?, ?, …)` with one bound parameter per id, for `… IN` clauses.
pub(crate) fn push_id_list(qb: &mut sqlx::QueryBuilder<'_, sqlx::Sqlite>, ids: &[&str]) {
    qb.push("(");
    let mut sep = qb.separated(", ");
    for id in ids {
        sep.push_bind((*id).to_owned());
    }
    qb.push(")");
}

/// Fallback for unknown paths.
pub async fn not_found() -> ApiError {
    ApiError::not_found("There is no such endpoint; see /openapi.json.")
}

/// Fallback for a known path with the wrong method.
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "This endpoint does not accept that method.")
}
