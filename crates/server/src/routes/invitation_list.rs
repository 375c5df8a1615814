//! `GET /v1/invitations`: the organization's invitations, newest first, with counts per
//! status (Expired is a pending invitation past its expiry, decided at `now`).

use super::paging::{self, Errors};
use crate::app::AppState;
use crate::auth::{InvitationsManage, Principal};
use crate::error::{ApiError, Result};
use crate::extract::QueryPairs;
use crate::store;
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use gatehouse_api::{InvitationPage, InvitationStatus, Problem};

/// The parsed query of the list.
struct ListQuery {
    status: Option<InvitationStatus>,
    q: Option<String>,
    limit: u32,
    /// The last row of the previous page: its `created_at` and id.
    after: Option<(DateTime<Utc>, String)>,
}

fn parse_list(pairs: &QueryPairs) -> Result<ListQuery> {
    let mut errors = Errors::default();
    let status = match pairs.get("status") {
        None => None,
        Some(s) => match InvitationStatus::parse(s) {
            Some(s) => Some(s),
            None => {
                errors.add("status", "invalid", "`status` is pending, accepted, declined, expired or revoked.");
                None
            }
        },
    };
    let q = pairs.get("q").map(|q| q.trim().to_lowercase()).filter(|q| !q.is_empty());
    let limit = paging::limit(pairs.get("limit").or(Some("100")), &mut errors);
    let fp = paging::fingerprint(&[status.map_or("", |s| s.as_str()), q.as_deref().unwrap_or("")]);
    let after = paging::decode(pairs.get("cursor"), &fp, 2, &mut errors).and_then(|k| match DateTime::parse_from_rfc3339(&k[0]) {
        Ok(t) => Some((t.with_timezone(&Utc), k[1].clone())),
        Err(_) => {
            errors.add("cursor", gatehouse_api::codes::INVALID_CURSOR, "This cursor was not issued by this server.");
            None
        }
    });
    if !errors.0.is_empty() {
        return Err(ApiError::validation(errors.0));
    }
    Ok(ListQuery { status, q, limit, after })
}

/// The organization's invitations, newest first, with counts per status.
#[utoipa::path(
    get, path = "/v1/invitations", tag = "invitations",
    params(
        ("status" = Option<String>, Query, description = "pending, accepted, declined, expired or revoked"),
        ("q" = Option<String>, Query, description = "Substring of the address"),
        ("limit" = Option<u32>, Query, description = "1–500, default 100"),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of invitations", body = InvitationPage),
        (status = 400, description = "`validation_failed`: a bad status, limit or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacks `invitations.manage`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_invitations(State(state): State<AppState>, principal: Principal, pairs: QueryPairs) -> Result<Json<InvitationPage>> {
    let granted = principal.require::<InvitationsManage>()?;
    let org = granted.org_id();
    let query = parse_list(&pairs)?;
    let now = state.clock.now();
    let mut rows = store::invitations::page(&state.db, org, query.status, query.q.as_deref(), query.after.as_ref(), query.limit + 1, now).await?;
    let more = rows.len() > query.limit as usize;
    rows.truncate(query.limit as usize);
    let fp = paging::fingerprint(&[query.status.map_or("", |s| s.as_str()), query.q.as_deref().unwrap_or("")]);
    let next_cursor = rows.last().filter(|_| more).map(|last| paging::encode(&fp, &[&last.created_at.to_rfc3339(), &last.id]));
    let counts = store::invitations::counts(&state.db, org, query.q.as_deref(), now).await?;
    let items = rows.iter().map(|r| r.to_api(now)).collect::<Result<Vec<_>>>()?;
    Ok(Json(InvitationPage { items, next_cursor, counts }))
}
