//! `POST /v1/audit-events`: a host product records its own events ("agent interaction",
//! …) in the organization's log, with an API key, under its own namespace `app.…`.

use crate::app::AppState;
use crate::audit::{self, Event};
use crate::auth::{AuditWrite, Principal};
use crate::error::{ApiError, Result};
use crate::extract::ApiJson;
use crate::extract::ClientMeta;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use gatehouse_api::{AuditEvent, HOST_ACTION_PREFIX, MAX_HOST_EVENT_DETAILS, NewAuditEvent, Problem, codes, is_host_action, is_known_action};

/// Keys of `details` that the server writes: the target's name as shown, and the key used.
const HOST_RESERVED_DETAILS: &[&str] = &["target", "api_key", "via_api_key", "reported_ip"];

fn check(new: &NewAuditEvent) -> Result<()> {
    let action = new.action.trim();
    if is_known_action(action) && !is_host_action(action) {
        return Err(ApiError::field(
            "action",
            codes::RESERVED_ACTION,
            format!("`{action}` is recorded by Gatehouse itself; a host product's actions start with `{HOST_ACTION_PREFIX}`."),
        ));
    }
    if !is_host_action(action) {
        let shown: String = action.chars().take(80).collect();
        return Err(ApiError::field(
            "action",
            codes::RESERVED_ACTION,
            format!(
                "`{shown}` is not a host-product action: write `{HOST_ACTION_PREFIX}` and 1–64 lower-case letters, digits, `_` or `.`, e.g. app.agent_interaction."
            ),
        ));
    }
    if let Some(ip) = &new.ip
        && ip.parse::<std::net::IpAddr>().is_err()
    {
        return Err(ApiError::field("ip", "invalid", format!("`{}` is not an IP address.", ip.chars().take(60).collect::<String>())));
    }
    if let Some(details) = &new.details {
        // What the log shows as the target, and the key it names, come from the server.
        if let Some(key) = HOST_RESERVED_DETAILS.iter().find(|k| details.get(**k).is_some()) {
            return Err(ApiError::field("details", "reserved", format!("`details.{key}` is written by Gatehouse itself; name it otherwise.")));
        }
        if !details.is_object() {
            return Err(ApiError::field("details", "invalid", "`details` must be a JSON object."));
        }
        if details.to_string().len() > MAX_HOST_EVENT_DETAILS {
            return Err(ApiError::field("details", "too_long", format!("`details` may hold at most {} KiB of JSON.", MAX_HOST_EVENT_DETAILS / 1024)));
        }
    }
    if let Some(u) = &new.user_id {
        super::paging::check_id("user", u)?;
    }
    Ok(())
}

/// Records a host product's event; the caller must be an API key, which is its actor.
#[utoipa::path(
    post, path = "/v1/audit-events", tag = "activity",
    request_body = NewAuditEvent,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The event as recorded", body = AuditEvent),
        (status = 400, description = "An action outside `app.…` (`reserved_action`), an invalid IP, user id or details", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an API key (`api_key_required`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user in the key's organization", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn post_event(
    State(state): State<AppState>,
    principal: Principal,
    meta: ClientMeta,
    ApiJson(new): ApiJson<NewAuditEvent>,
) -> Result<(StatusCode, Json<AuditEvent>)> {
    let Some(key) = principal.api_key.clone() else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            codes::API_KEY_REQUIRED,
            "Host products post events with an API key, not a user's session.",
        ));
    };
    principal.require::<AuditWrite>()?;
    check(&new)?;
    let target = new.user_id.clone().unwrap_or_else(|| principal.user_id.clone());
    if !crate::store::users::exists(&state.db, &principal.org_id, &target).await? {
        return Err(ApiError::not_found("No user with this id in the key's organization."));
    }
    let mut details = new.details.clone().unwrap_or_else(|| serde_json::json!({}));
    details["api_key"] = serde_json::json!({ "id": key.id, "name": key.name });
    // The recorded address is the one the request came from; the host's word for where
    // its end user was is kept beside it, as a claim.
    if let Some(reported) = &new.ip {
        details["reported_ip"] = serde_json::json!(reported);
    }
    let now = state.clock.now();
    let ip = meta.ip.clone();
    let mut tx = crate::store::write(&state.db).await?;
    let event = Event {
        org_id: &principal.org_id,
        actor_id: Some(&principal.user_id),
        via: principal.via(),
        target_type: "user",
        target_id: &target,
        action: new.action.trim(),
        ip: &ip,
        user_agent: &meta.user_agent,
        details,
    };
    let id = audit::record(&mut tx, event, now).await?;
    let row = crate::store::audit::by_id(&mut tx, &id).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(row.into_event())))
}
