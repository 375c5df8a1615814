//! `GET /v1/changes`: the ordered feed of upserts and tombstones the client syncs from.

use crate::app::AppState;
use crate::auth::{Principal, UsersRead};
use crate::error::{ApiError, Result};
use crate::extract::QueryPairs;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use gatehouse_api::{
    Change, ChangeKind, ChangePage, DEFAULT_CHANGE_PAGE, GroupKind, GroupRef, MAX_CHANGE_PAGE, OrganizationRef, Problem, Role, codes,
};
use sqlx::{QueryBuilder, Sqlite, SqlitePool};
use std::collections::HashMap;

struct Row {
    seq: i64,
    kind: String,
    entity_id: String,
    deleted: bool,
}

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
    let pruned: Option<i64> = sqlx::query_scalar("SELECT pruned_through FROM change_retention WHERE org_id = ?").bind(org).fetch_optional(db).await?;
    if pruned.is_some_and(|p| since < p) {
        return Err(ApiError::new(
            StatusCode::GONE,
            codes::CHANGES_EXPIRED,
            "Changes this old are no longer kept; sync everything again, then follow the feed from its new cursor.",
        ));
    }
    // As one JSON value, not a row per change: sqlx hands rows over one at a time.
    let rows: String = sqlx::query_scalar(
        "SELECT json_group_array(json_array(seq, kind, entity_id, deleted)) FROM \
         (SELECT seq, kind, entity_id, deleted FROM changes WHERE org_id = ? AND seq > ? ORDER BY seq LIMIT ?)",
    )
    .bind(org)
    .bind(since)
    .bind(i64::from(limit))
    .fetch_one(db)
    .await?;
    let rows: Vec<Row> = serde_json::from_str::<Vec<(i64, String, String, i64)>>(&rows)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("reading the feed: {e}")))?
        .into_iter()
        .map(|(seq, kind, entity_id, deleted)| Row { seq, kind, entity_id, deleted: deleted != 0 })
        .collect();
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
    let mut roles = load_roles(db, org, &ids("role")).await?;
    let mut groups = load_groups(db, org, &ids("group")).await?;
    // Invitations carry addresses and messages: only for those who manage them.
    let sees_invitations = principal.holds(<crate::auth::InvitationsManage as crate::auth::Permission>::KEY);
    let mut invitations =
        if sees_invitations { super::invitations::find_many(db, org, &ids("invitation"), state.clock.now()).await? } else { HashMap::new() };
    let organization: Option<OrganizationRef> = sqlx::query_as::<_, (String, String)>("SELECT id, name FROM organizations WHERE id = ?")
        .bind(org)
        .fetch_optional(db)
        .await?
        .map(|(id, name)| OrganizationRef { id, name });

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
    let remaining: i64 = if has_more && count {
        sqlx::query_scalar("SELECT COUNT(*) FROM changes WHERE org_id = ? AND seq > ?").bind(org).bind(last_seq).fetch_one(db).await?
    } else {
        0
    };
    Ok(Json(ChangePage { changes, cursor, has_more, remaining: u64::try_from(remaining).unwrap_or(0) }))
}

async fn load_roles(db: &SqlitePool, org: &str, ids: &[&str]) -> Result<HashMap<String, Role>> {
    let mut out = HashMap::new();
    for (id, key, name, builtin, permissions) in
        by_ids::<(String, String, String, bool, String)>(db, "SELECT id, key, name, builtin, permissions FROM roles", org, ids).await?
    {
        let permissions = serde_json::from_str(&permissions).map_err(|e| ApiError::Internal(e.into()))?;
        out.insert(id.clone(), Role { id, key, name, builtin, permissions, member_count: None });
    }
    Ok(out)
}

async fn load_groups(db: &SqlitePool, org: &str, ids: &[&str]) -> Result<HashMap<String, GroupRef>> {
    let rows = by_ids::<(String, String, String)>(db, "SELECT id, name, kind FROM groups", org, ids).await?;
    Ok(rows.into_iter().map(|(id, name, kind)| (id.clone(), GroupRef { id, name, kind: GroupKind::parse(&kind) })).collect())
}

async fn by_ids<T>(db: &SqlitePool, select: &str, org: &str, ids: &[&str]) -> Result<Vec<T>>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> + Send + Unpin,
{
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut qb = QueryBuilder::<Sqlite>::new(select);
    qb.push(" WHERE org_id = ").push_bind(org.to_owned()).push(" AND id IN ");
    crate::store::push_id_list(&mut qb, ids);
    Ok(qb.build_query_as().fetch_all(db).await?)
}

/// Drops changes older than `window` and records, per organization, the newest sequence
/// number dropped, so older cursors get 410. Returns the number of changes dropped.
pub async fn prune(db: &SqlitePool, now: DateTime<Utc>, window: Duration) -> Result<u64> {
    let cutoff = (now - window).format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
    let mut tx = crate::db::write(db).await?;
    sqlx::query(
        "INSERT INTO change_retention (org_id, pruned_through) \
         SELECT org_id, MAX(seq) FROM changes WHERE at < ? GROUP BY org_id \
         ON CONFLICT (org_id) DO UPDATE SET pruned_through = MAX(pruned_through, excluded.pruned_through)",
    )
    .bind(&cutoff)
    .execute(&mut *tx)
    .await?;
    let dropped = sqlx::query("DELETE FROM changes WHERE at < ?").bind(&cutoff).execute(&mut *tx).await?.rows_affected();
    tx.commit().await?;
    Ok(dropped)
}

/// How often the stream looks for new changes (a cheap indexed `MAX`).
const STREAM_POLL: std::time::Duration = std::time::Duration::from_millis(500);

/// The newest sequence number of the organization's feed.
async fn head(db: &SqlitePool, org: &str) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM changes WHERE org_id = ?").bind(org).fetch_one(db).await?)
}

/// Whether the session may still stream (not revoked, account active).
async fn session_alive(db: &SqlitePool, session_id: &str) -> Result<bool> {
    let alive: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ? AND s.revoked_at IS NULL AND u.status = 'active'",
    )
    .bind(session_id)
    .fetch_optional(db)
    .await?;
    Ok(alive.is_some())
}

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
    let first = head(&state.db, &org).await?;
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
                match session_alive(&db, &session).await {
                    Ok(true) => {}
                    Ok(false) => {
                        return Some((Ok(Event::default().event("session_revoked").data("")), (sent, false, true)));
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "change stream: session check failed");
                        continue;
                    }
                }
                match head(&db, &org).await {
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
