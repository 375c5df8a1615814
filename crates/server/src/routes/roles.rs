//! `/v1/roles` (SPEC R1–R3, O3): the built-in roles and custom roles with permission sets.
//! Built-in roles are fixed. Nobody creates, edits or deletes a role with a permission
//! they do not hold themselves, so the roles editor cannot be used to climb.

use crate::app::AppState;
use crate::audit::{self, Event};
use crate::auth::{Principal, RolesManage, UsersRead};
use crate::error::{ApiError, Result};
use crate::extract::ClientMeta;
use crate::extract::{ApiJson, ApiPath};
use crate::store::{self, Conn};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use gatehouse_api::{MAX_GROUP_NAME_CHARS, NewRole, PERMISSIONS, Problem, Role, RolePatch, codes, is_permission};
use serde_json::json;

/// A stored role as the API shows it, with its version.
trait IntoRole {
    fn into_role(self) -> Result<(Role, i64)>;
}

impl IntoRole for store::roles::Row {
    fn into_role(self) -> Result<(Role, i64)> {
        let permissions: Vec<String> = serde_json::from_str(&self.permissions).map_err(|e| ApiError::Internal(e.into()))?;
        let role = Role {
            id: self.id,
            key: self.key,
            name: self.name,
            builtin: self.builtin,
            permissions: ordered(&permissions),
            member_count: Some(u32::try_from(self.member_count).unwrap_or(u32::MAX)),
        };
        Ok((role, self.version))
    }
}

/// `perms` in the order of [`PERMISSIONS`], duplicates dropped.
fn ordered(perms: &[String]) -> Vec<String> {
    PERMISSIONS.iter().filter(|(k, _)| perms.iter().any(|p| p == k)).map(|(k, _)| (*k).to_owned()).collect()
}

/// A trimmed display name of a role, department or organization, or the field error.
pub(crate) fn checked_name(field: &str, name: &str) -> Result<String> {
    let name = name.trim();
    let n = name.chars().count();
    if n == 0 {
        Err(ApiError::field(field, "required", "A name cannot be empty."))
    } else if n > MAX_GROUP_NAME_CHARS {
        Err(ApiError::field(field, "too_long", format!("A name has at most {MAX_GROUP_NAME_CHARS} characters.")))
    } else if name.chars().any(char::is_control) {
        Err(ApiError::field(field, "invalid", "A name cannot contain control characters."))
    } else {
        Ok(name.to_owned())
    }
}

/// The permissions asked for, checked: known, and each held by the caller (the rule's
/// [`crate::policy::edit_role`]).
fn checked_permissions(principal: &Principal, perms: &[String], changing: &[String]) -> Result<Vec<String>> {
    let unknown: Vec<String> = perms.iter().filter(|p| !is_permission(p)).map(|p| format!("`{p}`")).collect();
    if !unknown.is_empty() {
        return Err(ApiError::field("permissions", "unknown_permission", format!("Unknown permission {}.", unknown.join(", "))));
    }
    crate::policy::edit_role(principal, changing, perms)?;
    Ok(ordered(perms))
}

fn key_from(name: &str) -> String {
    let mut key = String::new();
    for c in name.to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            key.push(c);
        } else if !key.ends_with('_') && !key.is_empty() {
            key.push('_');
        }
    }
    let key = key.trim_end_matches('_').to_owned();
    if key.starts_with(|c: char| c.is_ascii_lowercase()) { key } else { format!("role_{key}") }
}

async fn load(conn: &mut Conn, org: &str, id: &str) -> Result<(Role, i64)> {
    let row = store::roles::find(conn, org, id).await?;
    row.ok_or_else(|| ApiError::not_found(format!("No role with id `{id}` in this organization.")))?.into_role()
}

fn name_taken(name: &str) -> ApiError {
    let message = format!("There is already a role called {name}.");
    ApiError::field_conflict(codes::NAME_TAKEN, "name", message.clone(), message)
}

/// The organization's roles: built-in first, then by name, each with its member count.
#[utoipa::path(
    get, path = "/v1/roles", tag = "roles",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every role of the organization", body = Vec<Role>),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacks `users.read`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_roles(State(state): State<AppState>, principal: Principal) -> Result<Json<Vec<Role>>> {
    let granted = principal.require::<UsersRead>()?;
    let rows = store::roles::list(&state.db, granted.org_id()).await?;
    Ok(Json(rows.into_iter().map(|r| r.into_role().map(|(role, _)| role)).collect::<Result<_>>()?))
}

/// Creates a custom role.
#[utoipa::path(
    post, path = "/v1/roles", tag = "roles",
    request_body = NewRole,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The new role", body = Role),
        (status = 400, description = "Invalid name or key, unknown permission", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacks `roles.manage`, or a permission given to the role", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`name_taken`: a role has this name or key", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_role(State(state): State<AppState>, principal: Principal, meta: ClientMeta, ApiJson(new): ApiJson<NewRole>) -> Result<Response> {
    let granted = principal.require::<RolesManage>()?;
    let org = granted.org_id();
    let name = checked_name("name", &new.name)?;
    let key = match &new.key {
        Some(k) if gatehouse_api::attribute_key_problem(k).is_some() => {
            return Err(ApiError::field("key", "invalid", "A key is 1–64 lower-case letters, digits or `_`, starting with a letter."));
        }
        Some(k) => k.clone(),
        None => key_from(&name),
    };
    let permissions = checked_permissions(&principal, &new.permissions, &[])?;
    let now = state.clock.now();
    let id = uuid::Uuid::now_v7().to_string();
    let mut tx = crate::store::write(&state.db).await?;
    if store::roles::clashes(&mut tx, org, &name, Some(&key), None).await? {
        return Err(name_taken(&name));
    }
    let perms_json = serde_json::to_string(&permissions).map_err(|e| ApiError::Internal(e.into()))?;
    store::roles::create(&mut tx, &id, org, &key, &name, &perms_json, now).await?;
    let (role, version) = load(&mut tx, org, &id).await?;
    let event = Event::by(
        &principal,
        &meta,
        ("role", &id),
        "role.created",
        json!({ "target": { "name": name }, "before": null, "after": { "name": role.name, "key": role.key, "permissions": role.permissions } }),
    );
    audit::record(&mut tx, event, now).await?;
    tx.commit().await?;
    Ok(super::json_with_etag(StatusCode::CREATED, role, version))
}

/// Renames a custom role or replaces its permissions; members get the new permissions on
/// their next request.
#[utoipa::path(
    patch, path = "/v1/roles/{id}", tag = "roles",
    params(
        ("id" = String, Path, description = "Role id"),
        ("If-Match" = Option<String>, Header, description = "The ETag the admin saw; a stale one gets 412"),
    ),
    request_body = RolePatch,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The role as changed", body = Role),
        (status = 400, description = "Invalid name, unknown permission", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacks `roles.manage`, or a permission added or removed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such role", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`builtin_role` or `name_taken`", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`precondition_failed`: the role changed; `current` holds it", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn patch_role(
    State(state): State<AppState>,
    principal: Principal,
    meta: ClientMeta,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    ApiJson(patch): ApiJson<RolePatch>,
) -> Result<Response> {
    let granted = principal.require::<RolesManage>()?;
    let org = granted.org_id();
    let name = patch.name.as_deref().map(|n| checked_name("name", n)).transpose()?;
    let mut tx = crate::store::write(&state.db).await?;
    let (before, version) = load(&mut tx, org, &id).await?;
    super::check_if_match(super::if_match(&headers).as_deref(), &before, version)?;
    if before.builtin {
        return Err(builtin(&before.name));
    }
    let permissions = match &patch.permissions {
        Some(p) => {
            let changing: Vec<String> = before.permissions.iter().filter(|old| !p.contains(old)).cloned().collect();
            checked_permissions(&principal, p, &changing)?
        }
        None => before.permissions.clone(),
    };
    let name = name.unwrap_or_else(|| before.name.clone());
    if name != before.name && store::roles::clashes(&mut tx, org, &name, None, Some(&id)).await? {
        return Err(name_taken(&name));
    }
    if name == before.name && permissions == before.permissions {
        return Ok(super::json_with_etag(StatusCode::OK, before, version));
    }
    let perms_json = serde_json::to_string(&permissions).map_err(|e| ApiError::Internal(e.into()))?;
    store::roles::update(&mut tx, &id, &name, &perms_json).await?;
    if name != before.name {
        // Members show the role's name: their copies change too.
        store::roles::touch_members(&mut tx, &id).await?;
    }
    let (after, version) = load(&mut tx, org, &id).await?;
    let now = state.clock.now();
    let was = json!({ "name": before.name, "permissions": before.permissions });
    let is = json!({ "name": after.name, "permissions": after.permissions });
    let mut details = audit::diff(&was, &is);
    details["target"] = json!({ "name": before.name });
    let event = Event::by(&principal, &meta, ("role", &id), "role.updated", details);
    audit::record(&mut tx, event, now).await?;
    tx.commit().await?;
    Ok(super::json_with_etag(StatusCode::OK, after, version))
}

/// Deletes a custom role. Its members lose it; anyone left without a role becomes a Member.
#[utoipa::path(
    delete, path = "/v1/roles/{id}", tag = "roles",
    params(
        ("id" = String, Path, description = "Role id"),
        ("If-Match" = Option<String>, Header, description = "The ETag the admin saw; a stale one gets 412"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacks `roles.manage`, or a permission the role has", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such role", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`builtin_role`", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`precondition_failed`: the role changed; `current` holds it", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn delete_role(
    State(state): State<AppState>,
    principal: Principal,
    meta: ClientMeta,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
) -> Result<Response> {
    let granted = principal.require::<RolesManage>()?;
    let org = granted.org_id();
    let mut tx = crate::store::write(&state.db).await?;
    let (role, version) = load(&mut tx, org, &id).await?;
    super::check_if_match(super::if_match(&headers).as_deref(), &role, version)?;
    if role.builtin {
        return Err(builtin(&role.name));
    }
    checked_permissions(&principal, &[], &role.permissions)?;
    let members = store::roles::members(&mut tx, &id).await?;
    store::roles::delete(&mut tx, &id).await?;
    let member_role = store::roles::id_of_key(&mut tx, org, "member").await?;
    let mut made_members = 0u64;
    if let Some(member_role) = member_role {
        for user in &members {
            made_members += store::roles::grant_if_roleless(&mut tx, user, &member_role).await?;
        }
    }
    let details = json!({
        "target": { "name": role.name },
        "before": { "name": role.name, "key": role.key, "permissions": role.permissions },
        "after": null,
        "members": members.len(),
        "made_members": made_members,
    });
    let event = Event::by(&principal, &meta, ("role", &id), "role.deleted", details);
    audit::record(&mut tx, event, state.clock.now()).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn builtin(name: &str) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        codes::BUILTIN_ROLE,
        format!("{name} is a built-in role; it cannot be changed or deleted. Create a custom role instead."),
    )
}

#[cfg(test)]
mod tests {
    use super::key_from;

    #[test]
    fn keys_come_from_names() {
        assert_eq!(key_from("HR Admin"), "hr_admin");
        assert_eq!(key_from("  Tenant -- admin! "), "tenant_admin");
        assert_eq!(key_from("2nd line"), "role_2nd_line");
    }
}
