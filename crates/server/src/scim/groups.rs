//! The Group resource: a department or company, its kind in Gatehouse's extension, and
//! `GET|POST /Groups`, `GET|PUT|PATCH|DELETE /Groups/{id}`.
//!
//! Writing a group (its name, kind, external id or members) needs `org.settings`, as the
//! app's departments do; each membership is then also that member's edit.
//!
//! Membership is a property of people in Gatehouse (`/v1` edits a user's departments):
//! adding or taking a member is that user's edit, through the same operation, rule and
//! audit event as in the app. A member id that names nobody in the organization is passed
//! over, as providers push groups whose members are not all provisioned yet.

use super::base_url;
use super::discovery::{GATEHOUSE_GROUP, GROUP};
use super::error::{ScimError, ScimResult};
use super::users::{ListQuery, Projection, json_body, key, string, values};
use crate::app::AppState;
use crate::auth::{OrgSettings, Principal, UsersRead};
use crate::error::ApiError;
use crate::extract::ClientMeta;
use crate::store::scim::{self as sql, GroupRow};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use gatehouse_api::GroupKind;
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};

/// The weak ETag of a group: its name's version and its members'.
pub fn version_tag(g: &GroupRow) -> String {
    format!("W/\"{}.{}\"", g.version, g.members_version)
}

/// `g` as a SCIM Group; `members` when they were asked for.
pub fn resource(base: &str, g: &GroupRow, members: Option<&[String]>) -> Value {
    let mut v = json!({
        "schemas": [GROUP, GATEHOUSE_GROUP],
        "id": g.id,
        "displayName": g.name,
        GATEHOUSE_GROUP: {"kind": g.kind},
        "meta": {
            "resourceType": "Group",
            "created": g.created_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "lastModified": g.modified_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "location": format!("{base}/Groups/{}", g.id),
            "version": version_tag(g),
        }
    });
    if let Some(external) = &g.external_id {
        v["externalId"] = json!(external);
    }
    if let Some(members) = members.filter(|m| !m.is_empty()) {
        v["members"] = Value::Array(members.iter().map(|id| json!({"value": id, "$ref": format!("{base}/Users/{id}"), "type": "User"})).collect());
    }
    v
}

async fn load(state: &AppState, org: &str, id: &str, with_members: bool) -> ScimResult<(GroupRow, Option<Vec<String>>)> {
    let not_found = || ScimError::not_found(format!("No group with id `{id}` in this organization."));
    let mut rows = sql::groups(&state.db, org, &[id]).await?;
    let g = rows.remove(id).ok_or_else(not_found)?;
    let members = if with_members { Some(sql::members(&state.db, &[id]).await?.remove(id).unwrap_or_default()) } else { None };
    Ok((g, members))
}

/// Groups `offset` on, at most `limit`, for `q`: (how many match in all, the page).
pub(super) async fn page(state: &AppState, org: &str, q: &ListQuery, offset: i64, limit: i64) -> ScimResult<(i64, Vec<Value>)> {
    let (ids, total) = sql::group_page(&state.db, org, q.condition.as_ref(), q.sort, q.descending, offset, limit).await?;
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let mut rows = sql::groups(&state.db, org, &refs).await?;
    let mut members = if q.projection.includes("members") { Some(sql::members(&state.db, &refs).await?) } else { None };
    let base = base_url(state);
    let mut resources = Vec::with_capacity(ids.len());
    for id in &ids {
        if let Some(g) = rows.remove(id) {
            let m = members.as_mut().map(|m| m.remove(id).unwrap_or_default());
            resources.push(q.projection.apply(resource(&base, &g, m.as_deref())));
        }
    }
    Ok((total, resources))
}

/// `GET /Groups/{id}`: 304 when `If-None-Match` holds the current version.
pub async fn get(
    State(state): State<AppState>,
    principal: Result<Principal, ApiError>,
    Path(id): Path<String>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> ScimResult<Response> {
    let principal = principal?;
    let granted = principal.require::<UsersRead>()?;
    let org = granted.org_id().to_owned();
    let projection = Projection::parse(params.get("attributes").map(String::as_str), params.get("excludedAttributes").map(String::as_str))?;
    // Members are read only when shown (Entra asks with `excludedAttributes=members`).
    let (g, members) = load(&state, &org, &id, projection.includes("members")).await?;
    let tag = version_tag(&g);
    Ok(super::read_answer(&headers, &tag, || projection.apply(resource(&base_url(&state), &g, members.as_deref()))))
}

/// What a Group body asks for.
#[derive(Debug, Default)]
struct Wanted {
    name: Option<String>,
    kind: Option<GroupKind>,
    external_id: Option<String>,
    members: Option<Vec<String>>,
}

impl Wanted {
    fn read(body: &Value) -> ScimResult<Self> {
        let obj = body.as_object().ok_or_else(|| ScimError::bad("invalidSyntax", "A Group is a JSON object."))?;
        let kind = match key(obj, GATEHOUSE_GROUP) {
            Some(Value::Object(ext)) => match string(ext, "kind")?.as_deref() {
                None => None,
                Some("department") => Some(GroupKind::Department),
                Some("company") => Some(GroupKind::Company),
                Some(other) => return Err(ScimError::bad("invalidValue", format!("kind is department or company, not `{other}`"))),
            },
            _ => None,
        };
        let members = values(obj, "members", "a user id")?;
        Ok(Self { name: string(obj, "displayName")?, kind, external_id: string(obj, "externalId")?.filter(|e| !e.is_empty()), members })
    }
}

/// Makes the members of group `id` be `wanted` (ids of people in `org`; others passed
/// over): each added or taken member is that person's edit.
async fn set_members(state: &AppState, principal: &Principal, meta: &ClientMeta, org: &str, id: &str, wanted: &[String]) -> ScimResult<()> {
    let now: BTreeSet<String> = sql::members(&state.db, &[id]).await?.remove(id).unwrap_or_default().into_iter().collect();
    let wanted: BTreeSet<String> = wanted.iter().cloned().collect();
    for user_id in wanted.symmetric_difference(&now) {
        let Some(user) = crate::store::users::find_user(&state.db, org, user_id).await? else { continue };
        let mut groups: Vec<String> = user.departments.iter().map(|g| g.id.clone()).filter(|g| g != id).collect();
        if wanted.contains(user_id) {
            groups.push(id.to_owned());
        }
        let patch = gatehouse_api::UserPatch { departments: Some(groups), ..Default::default() };
        crate::routes::user_edit::apply(state, principal, meta, org, user_id, Some("*"), patch, None).await?;
    }
    Ok(())
}

/// The group as it is now, with its ETag: the answer to every write.
async fn answer(state: &AppState, org: &str, id: &str, status: StatusCode) -> ScimResult<Response> {
    let (g, members) = load(state, org, id, true).await?;
    Ok(super::write_answer(status, &resource(&base_url(state), &g, members.as_deref()), &version_tag(&g)))
}

/// `POST /Groups`: a department (or, with the extension's `kind`, a company).
pub async fn create(
    State(state): State<AppState>,
    principal: Result<Principal, ApiError>,
    meta: Result<ClientMeta, ApiError>,
    body: axum::body::Bytes,
) -> ScimResult<Response> {
    let (principal, meta) = (principal?, meta?);
    principal.require::<OrgSettings>()?;
    let org = principal.org_id.clone();
    let wanted = Wanted::read(&json_body(&body)?)?;
    let name = wanted.name.clone().filter(|n| !n.is_empty()).ok_or_else(|| ScimError::bad("invalidValue", "displayName is required."))?;
    let kind = wanted.kind.unwrap_or(GroupKind::Department);
    let (group, _) = crate::routes::groups::add(&state, &principal, &meta, kind, &name, wanted.external_id.as_deref()).await?;
    if let Some(members) = &wanted.members {
        set_members(&state, &principal, &meta, &org, &group.id, members).await?;
    }
    answer(&state, &org, &group.id, StatusCode::CREATED).await
}

/// Checks `If-Match` against the group's SCIM version.
fn check_if_match(headers: &HeaderMap, g: &GroupRow) -> ScimResult<()> {
    super::check_if_match(headers, &version_tag(g), "group")
}

/// Saves `wanted` over group `id`: a rename, the external id, the members.
async fn update(state: &AppState, principal: &Principal, meta: &ClientMeta, id: &str, headers: &HeaderMap, wanted: Wanted) -> ScimResult<Response> {
    let org = principal.org_id.clone();
    let (g, _) = load(state, &org, id, false).await?;
    check_if_match(headers, &g)?;
    let name = wanted.name.clone().filter(|n| !n.is_empty()).ok_or_else(|| ScimError::bad("invalidValue", "displayName is required."))?;
    crate::routes::groups::rename(state, principal, meta, id, None, &name, wanted.kind).await?;
    if wanted.external_id != g.external_id {
        crate::routes::groups::set_external_id(state, principal, id, wanted.external_id.as_deref()).await?;
    }
    set_members(state, principal, meta, &org, id, wanted.members.as_deref().unwrap_or_default()).await?;
    answer(state, &org, id, StatusCode::OK).await
}

/// `PUT /Groups/{id}`: the body is the group from now on (members left out: none).
pub async fn replace(
    State(state): State<AppState>,
    principal: Result<Principal, ApiError>,
    meta: Result<ClientMeta, ApiError>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ScimResult<Response> {
    let (principal, meta) = (principal?, meta?);
    principal.require::<OrgSettings>()?;
    let wanted = Wanted::read(&json_body(&body)?)?;
    update(&state, &principal, &meta, &id, &headers, wanted).await
}

/// `PATCH /Groups/{id}`: the operations applied to the group as SCIM shows it (members
/// included), then saved like a PUT of the result.
pub async fn patch(
    State(state): State<AppState>,
    principal: Result<Principal, ApiError>,
    meta: Result<ClientMeta, ApiError>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ScimResult<Response> {
    let (principal, meta) = (principal?, meta?);
    principal.require::<OrgSettings>()?;
    let body = json_body(&body)?;
    let (g, members) = load(&state, &principal.org_id, &id, true).await?;
    let current = resource(&base_url(&state), &g, members.as_deref());
    let patched = super::patch::apply(current, &body, GROUP)?;
    let wanted = Wanted::read(&patched)?;
    update(&state, &principal, &meta, &id, &headers, wanted).await
}

/// `DELETE /Groups/{id}`: the group goes; its members stay, without it.
pub async fn delete(
    State(state): State<AppState>,
    principal: Result<Principal, ApiError>,
    meta: Result<ClientMeta, ApiError>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ScimResult<Response> {
    let (principal, meta) = (principal?, meta?);
    principal.require::<OrgSettings>()?;
    let (g, _) = load(&state, &principal.org_id, &id, false).await?;
    check_if_match(&headers, &g)?;
    crate::routes::groups::remove(&state, &principal, &meta, &id, None, None).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
