//! The User resource: a Gatehouse user as SCIM shows it, and `GET /Users`, `GET /Users/{id}`.

use super::discovery::{DEFAULT_PAGE, ENTERPRISE, LIST_RESPONSE, MAX_PAGE, USER};
use super::error::{ScimError, ScimResult};
use super::{base_url, scim_json};
use crate::app::AppState;
use crate::auth::{Principal, UsersRead};
use crate::error::ApiError;
use crate::store::scim::{self as sql, Extras};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gatehouse_api::{GroupKind, User, UserStatus};
use serde_json::{Value, json};
use std::collections::HashMap;

/// The weak ETag of a version, as `meta.version` and the `ETag` header carry it.
pub fn version_tag(version: i64) -> String {
    format!("W/\"{version}\"")
}

/// `user` as a SCIM User.
pub fn resource(base: &str, user: &User, version: i64, extras: &Extras) -> Value {
    let location = format!("{base}/Users/{}", user.id);
    let mut v = json!({
        "schemas": [USER],
        "id": user.id,
        "userName": user.email,
        "name": {"givenName": user.first_name, "familyName": user.last_name},
        "displayName": user.display_name,
        "active": user.status == UserStatus::Active,
        "emails": [{"value": user.email, "type": "work"}],
        "meta": {
            "resourceType": "User",
            "created": user.created_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "lastModified": extras.modified_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "location": location,
            "version": version_tag(version),
        }
    });
    if let Some(external) = &extras.external_id {
        v["externalId"] = json!(external);
    }
    if !user.roles.is_empty() {
        v["roles"] = Value::Array(user.roles.iter().map(|r| json!({"value": r.key})).collect());
    }
    if !user.departments.is_empty() {
        v["groups"] = Value::Array(
            user.departments.iter().map(|g| json!({"value": g.id, "$ref": format!("{base}/Groups/{}", g.id), "display": g.name})).collect(),
        );
    }
    let department = user.departments.iter().find(|g| g.kind == GroupKind::Department);
    let company = user.departments.iter().find(|g| g.kind == GroupKind::Company);
    if department.is_some() || company.is_some() {
        let mut ext = serde_json::Map::new();
        if let Some(d) = department {
            ext.insert("department".into(), json!(d.name));
        }
        if let Some(c) = company {
            ext.insert("organization".into(), json!(c.name));
        }
        v["schemas"] = json!([USER, ENTERPRISE]);
        v[ENTERPRISE] = Value::Object(ext);
    }
    v
}

/// The query parameters of a list (RFC 7644 §3.4.2, RFC 9865).
#[derive(Debug, Default, serde::Deserialize)]
pub struct ListParams {
    filter: Option<String>,
    #[serde(rename = "sortBy")]
    sort_by: Option<String>,
    #[serde(rename = "sortOrder")]
    sort_order: Option<String>,
    #[serde(rename = "startIndex")]
    start_index: Option<String>,
    count: Option<String>,
    attributes: Option<String>,
    #[serde(rename = "excludedAttributes")]
    excluded_attributes: Option<String>,
}

/// `attributes` and `excludedAttributes`, as paths.
#[derive(Debug, Default)]
pub struct Projection {
    only: Vec<super::filter::AttrPath>,
    except: Vec<super::filter::AttrPath>,
}

impl Projection {
    /// From the two comma-separated lists.
    pub fn parse(attributes: Option<&str>, excluded: Option<&str>) -> ScimResult<Self> {
        let list = |s: Option<&str>| -> ScimResult<Vec<super::filter::AttrPath>> {
            s.unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(|p| super::filter::parse_attr(p).map_err(|e| ScimError::bad("invalidValue", format!("attributes: {e}"))))
                .collect()
        };
        Ok(Self { only: list(attributes)?, except: list(excluded)? })
    }

    /// `resource` with only the asked-for attributes (`id`, `schemas` and `meta` always
    /// stay: they are returned "always").
    pub fn apply(&self, mut resource: Value) -> Value {
        let Some(obj) = resource.as_object_mut() else { return resource };
        if !self.only.is_empty() {
            let keys: Vec<String> = obj.keys().cloned().collect();
            for key in keys {
                if ["schemas", "id", "meta"].contains(&key.as_str()) {
                    continue;
                }
                if key.starts_with("urn:") {
                    // An extension object: keep the attributes named with its URI.
                    let wanted: Vec<&str> = self
                        .only
                        .iter()
                        .filter(|p| p.uri.as_deref().is_some_and(|u| u.eq_ignore_ascii_case(&key)))
                        .map(|p| p.name.as_str())
                        .collect();
                    match obj.get_mut(&key).and_then(Value::as_object_mut) {
                        Some(ext) if !wanted.is_empty() => ext.retain(|k, _| wanted.contains(&k.to_ascii_lowercase().as_str())),
                        _ => {
                            obj.remove(&key);
                        }
                    }
                    continue;
                }
                let lower = key.to_ascii_lowercase();
                let subs: Vec<&super::filter::AttrPath> =
                    self.only.iter().filter(|p| p.uri.as_deref().is_none_or(|u| !u.eq_ignore_ascii_case(ENTERPRISE)) && p.name == lower).collect();
                if subs.is_empty() {
                    obj.remove(&key);
                } else if subs.iter().all(|p| p.sub.is_some()) {
                    let keep: Vec<String> = subs.iter().filter_map(|p| p.sub.clone()).collect();
                    retain_subs(obj.get_mut(&key), &keep);
                }
            }
        }
        for p in &self.except {
            if ["schemas", "id"].contains(&p.name.as_str()) {
                continue;
            }
            let target = match &p.uri {
                Some(uri) if uri.eq_ignore_ascii_case(ENTERPRISE) => obj.get_mut(ENTERPRISE).and_then(Value::as_object_mut),
                _ => Some(&mut *obj),
            };
            let Some(target) = target else { continue };
            let key = target.keys().find(|k| k.to_ascii_lowercase() == p.name).cloned();
            let Some(key) = key else { continue };
            match &p.sub {
                None => {
                    target.remove(&key);
                }
                Some(sub) => drop_sub(target.get_mut(&key), sub),
            }
        }
        resource
    }
}

fn retain_subs(value: Option<&mut Value>, keep: &[String]) {
    match value {
        Some(Value::Object(o)) => o.retain(|k, _| keep.contains(&k.to_ascii_lowercase())),
        Some(Value::Array(items)) => {
            for item in items {
                retain_subs(Some(item), keep);
            }
        }
        _ => {}
    }
}

fn drop_sub(value: Option<&mut Value>, sub: &str) {
    match value {
        Some(Value::Object(o)) => o.retain(|k, _| k.to_ascii_lowercase() != sub),
        Some(Value::Array(items)) => {
            for item in items {
                drop_sub(Some(item), sub);
            }
        }
        _ => {}
    }
}

/// A positive whole number parameter, or a SCIM error naming it.
fn number(name: &str, value: Option<&str>) -> ScimResult<Option<i64>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v.parse::<i64>().map(Some).map_err(|_| ScimError::bad("invalidValue", format!("{name} must be a whole number, not `{v}`"))),
    }
}

/// `GET /Users`.
pub async fn list(State(state): State<AppState>, principal: Result<Principal, ApiError>, Query(params): Query<ListParams>) -> ScimResult<Response> {
    let principal = principal?;
    let granted = principal.require::<UsersRead>()?;
    let org = granted.org_id().to_owned();
    let backend = state.db.backend();
    let condition = match params.filter.as_deref().map(str::trim).filter(|f| !f.is_empty()) {
        Some(f) => {
            let parsed = super::filter::parse(f).map_err(|e| ScimError::bad("invalidFilter", format!("The filter does not parse: {e}.")))?;
            Some(sql::condition(backend, sql::USER_ATTRIBUTES, sql::USER_URIS, &parsed, 2).map_err(|e| ScimError::bad("invalidFilter", e.0))?)
        }
        None => None,
    };
    let sort = match params.sort_by.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => {
            let path = super::filter::parse_attr(s).map_err(|e| ScimError::bad("invalidValue", format!("sortBy: {e}")))?;
            Some(sql::sort_column(sql::USER_ATTRIBUTES, sql::USER_URIS, &path).map_err(|e| ScimError::bad("invalidValue", e.0))?)
        }
        None => None,
    };
    let descending = match params.sort_order.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("") | Some("ascending") => false,
        Some("descending") => true,
        Some(other) => return Err(ScimError::bad("invalidValue", format!("sortOrder is ascending or descending, not `{other}`"))),
    };
    // RFC 7644 §3.4.2.4: a startIndex below 1 is 1, a negative count is 0.
    let start = number("startIndex", params.start_index.as_deref())?.unwrap_or(1).max(1);
    let count = number("count", params.count.as_deref())?.unwrap_or(i64::from(DEFAULT_PAGE)).clamp(0, i64::from(MAX_PAGE));
    let projection = Projection::parse(params.attributes.as_deref(), params.excluded_attributes.as_deref())?;

    let (ids, total) = sql::user_page(&state.db, &org, condition.as_ref(), sort, descending, start - 1, count).await?;
    let base = base_url(&state);
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let mut users = crate::store::users::find_users(&state.db, &org, &refs).await?;
    let extras = sql::user_extras(&state.db, &org, &refs).await?;
    let mut resources = Vec::with_capacity(ids.len());
    for id in &ids {
        // A user removed between the page and the read is left out.
        if let (Some((user, version)), Some(extra)) = (users.remove(id), extras.get(id)) {
            resources.push(projection.apply(resource(&base, &user, version, extra)));
        }
    }
    let body = json!({
        "schemas": [LIST_RESPONSE],
        "totalResults": total,
        "startIndex": start,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    });
    Ok(scim_json(StatusCode::OK, &body))
}

/// `GET /Users/{id}`: 304 when `If-None-Match` holds the current version.
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
    let not_found = || ScimError::not_found(format!("No user with id `{id}` in this organization."));
    let (user, version) = crate::store::users::find_versioned(&state.db, &org, &id).await?.ok_or_else(not_found)?;
    let extras = sql::user_extras(&state.db, &org, &[id.as_str()]).await?;
    let extra = extras.get(&id).ok_or_else(not_found)?;
    let tag = version_tag(version);
    if let Some(none_match) = headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok())
        && none_match.split(',').any(|t| t.trim() == tag || t.trim() == "*")
    {
        let mut res = StatusCode::NOT_MODIFIED.into_response();
        if let Ok(v) = HeaderValue::from_str(&tag) {
            res.headers_mut().insert(header::ETAG, v);
        }
        return Ok(res);
    }
    let mut res = scim_json(StatusCode::OK, &projection.apply(resource(&base_url(&state), &user, version, extra)));
    if let Ok(v) = HeaderValue::from_str(&tag) {
        res.headers_mut().insert(header::ETAG, v);
    }
    Ok(res)
}
