//! `GET /v1/changes`: the ordered feed of upserts and tombstones the client syncs from.

use crate::app::AppState;
use crate::auth::{Principal, UsersRead};
use crate::error::{ApiError, Result};
use crate::extract::QueryPairs;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use gatehouse_api::{Change, ChangeKind, ChangePage, DEFAULT_CHANGE_PAGE, MAX_CHANGE_PAGE, OrganizationRef, Problem, codes};
use std::collections::HashMap;

use crate::store::changes::Entry as Row;

fn parse(pairs: &QueryPairs) -> Result<(i64, u32, bool)> {
    let since = match pairs.get("since") {
        None => 0,
        Some(s) => s
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| ApiError::field("since", codes::INVALID_CURSOR, "`since` must be a cursor from an earlier page (or 0)."))?,
    };
    let limit = match pairs.get("limit") {
        None => DEFAULT_CHANGE_PAGE,
        Some(l) => l
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_CHANGE_PAGE).contains(n))
            .ok_or_else(|| ApiError::field("limit", "out_of_range", format!("`limit` must be a whole number from 1 to {MAX_CHANGE_PAGE}.")))?,
    };
    let count = match pairs.get("count") {
        None | Some("true") => true,
        Some("false") => false,
        Some(_) => {
            return Err(ApiError::field("count", "invalid", "`count` is true or false."));
        }
    };
    Ok((since, limit, count))
}

/// The organization's changes after a cursor.
#[utoipa::path(
    get, path = "/v1/changes", tag = "sync",
    params(
        ("since" = Option<String>, Query, description = "The `cursor` of the previous page; 0 or absent for the whole feed"),
        ("limit" = Option<u32>, Query, description = "Changes per page, 1–1000 (default 500)"),
        ("count" = Option<bool>, Query, description = "false: skip counting `remaining` (reported as 0); a sync needs the count once, on its first page"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Changes after `since`, oldest first, the latest per resource", body = ChangePage),
        (status = 400, description = "Invalid `since` or `limit`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacks `users.read`", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "`changes_expired`: the cursor is older than the retention window; resync in full", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_changes(State(state): State<AppState>, principal: Principal, pairs: QueryPairs) -> Result<Json<ChangePage>> {
    let granted = principal.require::<UsersRead>()?;
    let org = granted.org_id();
    let (since, limit, count) = parse(&pairs)?;
    let db = &state.db;
    let pruned = crate::store::changes::pruned_through(db, org).await?;
    if pruned.is_some_and(|p| since < p) {
        return Err(ApiError::new(
            StatusCode::GONE,
            codes::CHANGES_EXPIRED,
            "Changes this old are no longer kept; sync everything again, then follow the feed from its new cursor.",
        ));
    }
    let rows = crate::store::changes::after(db, org, since, limit).await?;
    let has_more = rows.len() == limit as usize;
    let last_seq = rows.last().map_or(since, |r| r.seq);
    let cursor = last_seq.to_string();
    // The latest change per resource wins; it carries the resource as it is now.
    let mut latest: HashMap<(String, String), usize> = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        latest.insert((r.kind.clone(), r.entity_id.clone()), i);
    }
    let rows: Vec<&Row> = rows.iter().enumerate().filter(|(i, r)| latest[&(r.kind.clone(), r.entity_id.clone())] == *i).map(|(_, r)| r).collect();
    let ids = |kind: &str| -> Vec<&str> { rows.iter().filter(|r| r.kind == kind && !r.deleted).map(|r| r.entity_id.as_str()).collect() };
    let mut users = crate::store::users::find_users(db, org, &ids("user")).await?;
    let mut roles = crate::store::changes::roles(db, org, &ids("role")).await?;
    let mut groups = crate::store::changes::groups(db, org, &ids("group")).await?;
    // Invitations carry addresses and messages: only for those who manage them.
    let sees_invitations = principal.holds(<crate::auth::InvitationsManage as crate::auth::Permission>::KEY);
    let mut invitations =
        if sees_invitations { crate::store::invitations::find_many(db, org, &ids("invitation"), state.clock.now()).await? } else { HashMap::new() };
    let (id, name) = crate::store::org::id_and_name(db, org).await?;
    let organization = Some(OrganizationRef { id, name });

    let changes = rows
        .into_iter()
        .filter_map(|r| {
            let kind = match r.kind.as_str() {
                "user" => ChangeKind::User,
                "role" => ChangeKind::Role,
                "group" => ChangeKind::Group,
                "organization" => ChangeKind::Organization,
                "invitation" if sees_invitations => ChangeKind::Invitation,
                _ => return None,
            };
            let mut change = Change {
                seq: r.seq,
                kind,
                id: r.entity_id.clone(),
                deleted: r.deleted,
                etag: None,
                user: None,
                role: None,
                group: None,
                organization: None,
                invitation: None,
            };
            if !r.deleted {
                match kind {
                    ChangeKind::User => {
                        if let Some((user, version)) = users.remove(&r.entity_id) {
                            change.etag = Some(super::user_edit::etag(version));
                            change.user = Some(user);
                        }
                    }
                    ChangeKind::Role => change.role = roles.remove(&r.entity_id),
                    ChangeKind::Group => change.group = groups.remove(&r.entity_id),
                    ChangeKind::Organization => change.organization = organization.clone(),
                    ChangeKind::Invitation => change.invitation = invitations.remove(&r.entity_id),
                }
                // Gone since this change was written (its delete is further on): a tombstone now.
                change.deleted = change.user.is_none()
                    && change.role.is_none()
                    && change.group.is_none()
                    && change.organization.is_none()
                    && change.invitation.is_none();
            }
            Some(change)
        })
        .collect();
    let remaining: i64 = if has_more && count { crate::store::changes::remaining(db, org, last_seq).await? } else { 0 };
    Ok(Json(ChangePage { changes, cursor, has_more, remaining: u64::try_from(remaining).unwrap_or(0) }))
}

/// How often the stream looks for new changes (a cheap indexed `MAX`).
const STREAM_POLL: std::time::Duration = std::time::Duration::from_millis(500);

/// Server-sent events: `changed` with the feed's newest cursor, at once and whenever it
/// moves (by any server process on this database); `session_revoked` then the end, when
/// the session is revoked.
#[utoipa::path(
    get, path = "/v1/changes/stream", tag = "sync",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`text/event-stream`: `event: changed` with `data: <cursor>`; `event: session_revoked` before the stream ends", content_type = "text/event-stream", body = String),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacks `users.read`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn stream_changes(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<axum::response::sse::Sse<impl futures_util::Stream<Item = std::result::Result<axum::response::sse::Event, std::convert::Infallible>>>> {
    use axum::response::sse::{Event, KeepAlive, Sse};
    let granted = principal.require::<UsersRead>()?;
    let org = granted.org_id().to_owned();
    let who = principal.api_key.as_ref().map_or(principal.session_id.clone(), |k| format!("key:{}", k.id));
    let slot = state.streams.take(&who).ok_or_else(|| {
        ApiError::new(
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            gatehouse_api::codes::TOO_MANY_STREAMS,
            format!("This session already has {} change streams open; close one first.", crate::app::MAX_STREAMS_PER_SESSION),
        )
    })?;
    let first = crate::store::changes::head(&state.db, &org).await?;
    let session = principal.session_id;
    let db = state.db;
    // State: (last cursor sent, first event pending, finished).
    let events = futures_util::stream::unfold((first, true, false), move |(sent, initial, done)| {
        let (db, org, session) = (db.clone(), org.clone(), session.clone());
        // The stream owns its slot: dropping the stream (the client went away) frees it.
        let _slot = &slot;
        async move {
            if done {
                return None;
            }
            if initial {
                return Some((Ok(Event::default().event("changed").data(sent.to_string())), (sent, false, false)));
            }
            loop {
                tokio::time::sleep(STREAM_POLL).await;
                match crate::store::sessions::may_stream(&db, &session).await {
                    Ok(true) => {}
                    Ok(false) => {
                        return Some((Ok(Event::default().event("session_revoked").data("")), (sent, false, true)));
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "change stream: session check failed");
                        continue;
                    }
                }
                match crate::store::changes::head(&db, &org).await {
                    Ok(now) if now > sent => {
                        return Some((Ok(Event::default().event("changed").data(now.to_string())), (now, false, false)));
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "change stream: reading the feed head failed")
                    }
                }
            }
        }
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}
