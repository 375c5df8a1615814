//! `/v1/departments` (SPEC U13, O2): departments and companies, both groups with a kind.
//! Deleting one moves its members to another group when asked, else just removes it
//! from them.

use super::roles::checked_name;
use crate::app::AppState;
use crate::audit::{self, Event};
use crate::auth::{OrgSettings, Principal, UsersRead};
use crate::error::{ApiError, Result};
use crate::extract::ClientMeta;
use crate::extract::{ApiJson, ApiPath, QueryPairs};
use crate::store::{self, Conn};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use gatehouse_api::{Group, GroupKind, GroupPatch, NewGroup, Problem, codes};
use serde_json::json;

async fn load(conn: &mut Conn, org: &str, id: &str) -> Result<(Group, i64)> {
    store::groups::find(conn, org, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No department or company with id `{id}` in this organization.")))
}

async fn ensure_name_free(conn: &mut Conn, org: &str, kind: GroupKind, name: &str, except: Option<&str>) -> Result<()> {
    match store::groups::clashes(conn, org, kind, name, except).await? {
        true => {
            let message = format!("There is already a {} called {name}.", kind.as_str());
            Err(ApiError::field_conflict(codes::NAME_TAKEN, "name", message.clone(), message))
        }
        false => Ok(()),
    }
}

/// Departments and companies, by kind then name, each with its member count.
#[utoipa::path(
    get, path = "/v1/departments", tag = "departments",
    params(("kind" = Option<GroupKind>, Query, description = "Only departments or only companies")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The groups", body = Vec<Group>),
        (status = 400, description = "Unknown kind", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacks `users.read`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_groups(State(state): State<AppState>, principal: Principal, pairs: QueryPairs) -> Result<Json<Vec<Group>>> {
    let granted = principal.require::<UsersRead>()?;
    let kind = match pairs.get("kind") {
        None => None,
        Some(k @ ("department" | "company")) => Some(k.to_owned()),
        Some(other) => {
            return Err(ApiError::field("kind", "invalid", format!("Unknown kind `{other}`; use department or company.")));
        }
    };
    Ok(Json(store::groups::list(&state.db, granted.org_id(), kind.as_deref()).await?))
}

/// Creates a department or company.
#[utoipa::path(
    post, path = "/v1/departments", tag = "departments",
    request_body = NewGroup,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The new group", body = Group),
        (status = 400, description = "Invalid name", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacks `org.settings`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`name_taken`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_group(
    State(state): State<AppState>,
    principal: Principal,
    meta: ClientMeta,
    ApiJson(new): ApiJson<NewGroup>,
) -> Result<Response> {
    let (group, version) = add(&state, &principal, &meta, new.kind, &new.name, None).await?;
    Ok(super::json_with_etag(StatusCode::CREATED, group, version))
}

/// Adds a department or company `name` (with an identity provider's `external_id`):
/// `org.settings`, a free name, the audit event, in one transaction.
pub(crate) async fn add(
    state: &AppState,
    principal: &Principal,
    meta: &ClientMeta,
    kind: GroupKind,
    name: &str,
    external_id: Option<&str>,
) -> Result<(Group, i64)> {
    let granted = principal.require::<OrgSettings>()?;
    let org = granted.org_id();
    let name = checked_name("name", name)?;
    let id = uuid::Uuid::now_v7().to_string();
    let now = state.clock.now();
    let mut tx = crate::store::write(&state.db).await?;
    ensure_name_free(&mut tx, org, kind, &name, None).await?;
    if let Some(external) = external_id
        && store::scim::external_id_holder(&mut tx, store::scim::Owner::Group, org, external, None).await?.is_some()
    {
        let message = format!("Another group has the external id `{external}`.");
        return Err(ApiError::field_conflict(codes::EXTERNAL_ID_TAKEN, "external_id", message.clone(), message));
    }
    store::groups::create(&mut tx, &id, org, kind, &name, now).await?;
    if let Some(external) = external_id {
        store::scim::set_external_id(&mut tx, store::scim::Owner::Group, org, &id, Some(external)).await?;
    }
    let (group, version) = load(&mut tx, org, &id).await?;
    let details = json!({ "target": { "name": name }, "before": null, "after": { "name": name, "kind": kind.as_str() } });
    let event = Event::by(principal, meta, ("group", &id), "group.created", details);
    audit::record(&mut tx, event, now).await?;
    tx.commit().await?;
    Ok((group, version))
}

/// Renames a department or company.
#[utoipa::path(
    patch, path = "/v1/departments/{id}", tag = "departments",
    params(
        ("id" = String, Path, description = "Group id"),
        ("If-Match" = Option<String>, Header, description = "The ETag the admin saw; a stale one gets 412"),
    ),
    request_body = GroupPatch,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The renamed group", body = Group),
        (status = 400, description = "Invalid name", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacks `org.settings`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such group", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`name_taken`", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`precondition_failed`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn patch_group(
    State(state): State<AppState>,
    principal: Principal,
    meta: ClientMeta,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    ApiJson(patch): ApiJson<GroupPatch>,
) -> Result<Response> {
    let (group, version) = rename(&state, &principal, &meta, &id, super::if_match(&headers).as_deref(), &patch.name, None).await?;
    Ok(super::json_with_etag(StatusCode::OK, group, version))
}

/// Renames group `id` (its members' copies show the new name), and with `kind` makes a
/// department a company or back (SCIM): `org.settings`, the `If-Match` tag if any, a name
/// free among groups of its kind, the audit event, in one transaction.
pub(crate) async fn rename(
    state: &AppState,
    principal: &Principal,
    meta: &ClientMeta,
    id: &str,
    if_match: Option<&str>,
    name: &str,
    kind: Option<GroupKind>,
) -> Result<(Group, i64)> {
    let granted = principal.require::<OrgSettings>()?;
    let org = granted.org_id();
    let name = checked_name("name", name)?;
    let mut tx = crate::store::write(&state.db).await?;
    let (before, version) = load(&mut tx, org, id).await?;
    super::check_if_match(if_match, &before, version)?;
    let kind = kind.unwrap_or(before.kind);
    if name == before.name && kind == before.kind {
        return Ok((before, version));
    }
    ensure_name_free(&mut tx, org, kind, &name, Some(id)).await?;
    // Members show the group's name and kind: their copies change too.
    store::groups::rename(&mut tx, id, &name, kind).await?;
    let (after, version) = load(&mut tx, org, id).await?;
    let details = json!({ "target": { "name": before.name }, "before": { "name": before.name, "kind": before.kind.as_str() },
        "after": { "name": after.name, "kind": after.kind.as_str() } });
    let event = Event::by(principal, meta, ("group", id), "group.updated", details);
    audit::record(&mut tx, event, state.clock.now()).await?;
    tx.commit().await?;
    Ok((after, version))
}

/// Deletes a department or company. With `move_to`, its members join that group first.
#[utoipa::path(
    delete, path = "/v1/departments/{id}", tag = "departments",
    params(
        ("id" = String, Path, description = "Group id"),
        ("move_to" = Option<String>, Query, description = "A group to move the members to"),
        ("If-Match" = Option<String>, Header, description = "The ETag the admin saw; a stale one gets 412"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "`move_to` is unknown or the group itself", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacks `org.settings`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such group", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`precondition_failed`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn delete_group(
    State(state): State<AppState>,
    principal: Principal,
    meta: ClientMeta,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    pairs: QueryPairs,
) -> Result<Response> {
    remove(&state, &principal, &meta, &id, super::if_match(&headers).as_deref(), pairs.get("move_to")).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Sets (or clears) the external id of group `id` (SCIM `externalId`): `org.settings`,
/// and no other group of the organization with it.
pub(crate) async fn set_external_id(state: &AppState, principal: &Principal, id: &str, external: Option<&str>) -> Result<()> {
    let granted = principal.require::<OrgSettings>()?;
    let org = granted.org_id();
    let mut tx = crate::store::write(&state.db).await?;
    load(&mut tx, org, id).await?;
    if let Some(external) = external
        && store::scim::external_id_holder(&mut tx, store::scim::Owner::Group, org, external, Some(id)).await?.is_some()
    {
        let message = format!("Another group has the external id `{external}`.");
        return Err(ApiError::field_conflict(codes::EXTERNAL_ID_TAKEN, "external_id", message.clone(), message));
    }
    store::scim::set_external_id(&mut tx, store::scim::Owner::Group, org, id, external).await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes group `id`, its members moved to `move_to` when given: `org.settings`, the
/// `If-Match` tag if any, the audit event, in one transaction.
pub(crate) async fn remove(
    state: &AppState,
    principal: &Principal,
    meta: &ClientMeta,
    id: &str,
    if_match: Option<&str>,
    move_to: Option<&str>,
) -> Result<()> {
    let granted = principal.require::<OrgSettings>()?;
    let org = granted.org_id();
    let mut tx = crate::store::write(&state.db).await?;
    let (group, version) = load(&mut tx, org, id).await?;
    super::check_if_match(if_match, &group, version)?;
    let target = match move_to {
        None | Some("") => None,
        Some(to) if to == id => {
            return Err(ApiError::field("move_to", "invalid", "Members cannot move to the group being deleted."));
        }
        Some(to) => match load(&mut tx, org, to).await {
            Ok((g, _)) => Some(g),
            Err(ApiError::Problem { status: StatusCode::NOT_FOUND, .. }) => {
                return Err(ApiError::field("move_to", "unknown_department", format!("No department or company `{to}` in this organization.")));
            }
            Err(e) => return Err(e),
        },
    };
    let mut moved = 0;
    if let Some(to) = &target {
        moved = store::groups::copy_members(&mut tx, id, &to.id).await?;
    }
    store::groups::delete(&mut tx, id).await?;
    let details = json!({
        "target": { "name": group.name },
        "before": { "name": group.name, "kind": group.kind.as_str() },
        "after": null,
        "members": group.member_count,
        "moved_to": target.as_ref().map(|g| json!({ "id": g.id, "name": g.name })),
        "moved": moved,
    });
    let event = Event::by(principal, meta, ("group", id), "group.deleted", details);
    audit::record(&mut tx, event, state.clock.now()).await?;
    tx.commit().await?;
    Ok(())
}
