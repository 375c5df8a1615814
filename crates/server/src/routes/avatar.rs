//! `PUT/GET /v1/users/{id}/avatar` (SPEC U6): an uploaded picture, checked to be a PNG,
//! JPEG, GIF or WebP image by its bytes (not only its declared type) and size-limited.
//! The user's `avatar_url` then points here; a URL set through PATCH replaces it.

use super::user_edit::{Saved, body_of};
use crate::app::AppState;
use crate::audit::{self, Event};
use crate::auth::{Principal, UsersRead};
use crate::error::{ApiError, Result};
use crate::extract::ApiPath;
use crate::extract::ClientMeta;
use crate::policy;
use axum::body::Body;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;
use gatehouse_api::{MAX_AVATAR_BYTES, Problem, User};
use serde_json::json;

/// Uploads the user's picture (PNG, JPEG, GIF or WebP, at most 512 KiB) as the body.
#[utoipa::path(
    put, path = "/v1/users/{id}/avatar", tag = "users",
    params(("id" = String, Path, description = "User id")),
    request_body(content = Vec<u8>, content_type = "image/png", description = "The image bytes; JPEG, GIF and WebP work too"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The user with the new `avatar_url`", body = User),
        (status = 400, description = "`validation_failed` on field `avatar`: not an image, or too large", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacks `users.manage` (anyone may set their own)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn put_avatar(
    State(state): State<AppState>,
    principal: Principal,
    meta: ClientMeta,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    // Asked before the body is read: a refusal costs no upload.
    let (current, _) = policy::act_on::<policy::ChangePicture>(&state.db, &principal, &id).await?.into_user();
    let bytes = axum::body::to_bytes(body, MAX_AVATAR_BYTES + 1).await.map_err(|_| too_large())?;
    if bytes.len() > MAX_AVATAR_BYTES {
        return Err(too_large());
    }
    let Some(kind) = gatehouse_api::image_type(&bytes) else {
        return Err(ApiError::field("avatar", "not_an_image", "This file is not a PNG, JPEG, GIF or WebP image."));
    };
    let declared = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !declared.is_empty() && !declared.starts_with("image/") && declared != "application/octet-stream" {
        return Err(ApiError::field("avatar", "not_an_image", format!("Send the image with an image/* type, not `{declared}`.")));
    }
    let db = &state.db;
    let digest = <sha2::Sha256 as sha2::Digest>::digest(&bytes);
    let version_tag = crate::tokens::hex(&digest[..6]);
    let url = format!("/v1/users/{id}/avatar?v={version_tag}");
    let now = state.clock.now();
    let mut tx = crate::store::write(db).await?;
    crate::store::users::set_avatar(&mut tx, &id, kind, bytes.as_ref(), &url, now).await?;
    let event = Event::by(
        &principal,
        &meta,
        ("user", &id),
        "user.updated",
        json!({
            "target": { "name": current.display_name, "email": current.email },
            "before": { "avatar_url": current.avatar_url },
            "after": { "avatar_url": url, "avatar_bytes": bytes.len(), "avatar_type": kind },
        }),
    );
    audit::record(&mut tx, event, now).await?;
    let version = crate::store::users::version(&mut tx, &id).await?;
    tx.commit().await?;
    let user = User { avatar_url: Some(url), ..current };
    let body = body_of(&user)?;
    Ok(Saved { user, body, version }.response())
}

fn too_large() -> ApiError {
    ApiError::field("avatar", "too_large", format!("A picture is at most {} KiB; choose a smaller one.", MAX_AVATAR_BYTES / 1024))
}

/// The user's uploaded picture.
#[utoipa::path(
    get, path = "/v1/users/{id}/avatar", tag = "users",
    params(("id" = String, Path, description = "User id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The image", content_type = "image/png", body = Vec<u8>),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacks `users.read`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user, or no uploaded picture", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_avatar(State(state): State<AppState>, principal: Principal, ApiPath(id): ApiPath<String>) -> Result<Response> {
    let granted = principal.require::<UsersRead>()?;
    let row = crate::store::users::avatar(&state.db, granted.org_id(), &id).await?;
    let (kind, bytes) = row.ok_or_else(|| ApiError::not_found("This user has no uploaded picture."))?;
    let mut res = Response::new(Body::from(bytes));
    res.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_str(&kind).unwrap_or(HeaderValue::from_static("application/octet-stream")));
    res.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("private, max-age=86400"));
    Ok(res)
}
