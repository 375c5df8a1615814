//! The User resource: a Gatehouse user as SCIM shows it, and `GET /Users`, `GET /Users/{id}`.

use super::discovery::{DEFAULT_PAGE, ENTERPRISE, LIST_RESPONSE, MAX_PAGE, USER};
use super::error::{ScimError, ScimResult};
use super::{base_url, scim_json};
use crate::app::AppState;
use crate::auth::{Principal, UsersRead};
use crate::error::ApiError;
use crate::store::scim::{self as sql, Extras};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
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
        "userName": extras.user_name.as_deref().unwrap_or(&user.email),
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
    // The display name is shown when it is one of its own, not the default made from the
    // names (or the address): a provider that removes it gets the default back, unseen.
    if user.display_name != default_display(&user.first_name, &user.last_name, &user.email) {
        v["displayName"] = json!(user.display_name);
    }
    let mut name = serde_json::Map::new();
    for (k, v) in [("givenName", &user.first_name), ("familyName", &user.last_name)] {
        if !v.is_empty() {
            name.insert(k.into(), json!(v));
        }
    }
    if !name.is_empty() {
        v["name"] = Value::Object(name);
    }
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

impl ListParams {
    /// From a `POST …/.search` body (RFC 7644 §3.4.3): the same parameters as JSON,
    /// `attributes` as lists, numbers as numbers.
    pub fn from_search(body: &Value) -> ScimResult<Self> {
        let obj = body.as_object().ok_or_else(|| ScimError::bad("invalidSyntax", "A search is a JSON object (a SearchRequest)."))?;
        let text = |name: &str| -> ScimResult<Option<String>> {
            match key(obj, name) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(Value::Number(n)) => Ok(Some(n.to_string())),
                Some(Value::Array(items)) => Ok(Some(items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(","))),
                Some(other) => Err(ScimError::bad("invalidValue", format!("{name} cannot be {other}"))),
            }
        };
        Ok(Self {
            filter: text("filter")?,
            sort_by: text("sortBy")?,
            sort_order: text("sortOrder")?,
            start_index: text("startIndex")?,
            count: text("count")?,
            attributes: text("attributes")?,
            excluded_attributes: text("excludedAttributes")?,
        })
    }
}

/// `attributes` and `excludedAttributes`, as paths.
#[derive(Debug, Default)]
pub struct Projection {
    only: Vec<super::filter::AttrPath>,
    except: Vec<super::filter::AttrPath>,
}

impl Projection {
    /// Whether the top-level attribute `name` (lower-case) is in the answer.
    pub fn includes(&self, name: &str) -> bool {
        let named = |paths: &[super::filter::AttrPath]| paths.iter().any(|p| p.name == name && p.sub.is_none());
        !named(&self.except) && (self.only.is_empty() || self.only.iter().any(|p| p.name == name))
    }

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

/// A whole number parameter, or a SCIM error naming it.
fn number(name: &str, value: Option<&str>) -> ScimResult<Option<i64>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v.parse::<i64>().map(Some).map_err(|_| ScimError::bad("invalidValue", format!("{name} must be a whole number, not `{v}`"))),
    }
}

/// A list request, read: the filter as SQL, the order, the page and the projection.
pub struct ListQuery {
    /// The filter's condition.
    pub condition: Option<sql::Condition>,
    /// The column to sort by.
    pub sort: Option<&'static str>,
    /// Descending order.
    pub descending: bool,
    /// `startIndex`, 1 or more.
    pub start: i64,
    /// `count`, 0 to [`MAX_PAGE`].
    pub count: i64,
    /// `attributes` and `excludedAttributes`.
    pub projection: Projection,
}

impl ListQuery {
    /// Reads `params` for a resource type of `attributes` and `uris`.
    pub fn read(params: &ListParams, backend: crate::store::Backend, attributes: sql::Attributes, uris: sql::Uris) -> ScimResult<Self> {
        let condition = match params.filter.as_deref().map(str::trim).filter(|f| !f.is_empty()) {
            Some(f) => {
                let parsed = super::filter::parse(f).map_err(|e| ScimError::bad("invalidFilter", format!("The filter does not parse: {e}.")))?;
                Some(sql::condition(backend, attributes, uris, &parsed, 2).map_err(|e| ScimError::bad("invalidFilter", e.0))?)
            }
            None => None,
        };
        let sort = match params.sort_by.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => {
                let path = super::filter::parse_attr(s).map_err(|e| ScimError::bad("invalidValue", format!("sortBy: {e}")))?;
                Some(sql::sort_column(attributes, uris, &path).map_err(|e| ScimError::bad("invalidValue", e.0))?)
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
        Ok(Self { condition, sort, descending, start, count, projection })
    }

    /// The ListResponse of `resources`, `total` in all.
    pub fn answer(&self, total: i64, resources: Vec<Value>) -> Response {
        list_response(self.start, total, resources)
    }
}

/// A ListResponse: `resources` from `start`, `total` in all.
pub fn list_response(start: i64, total: i64, resources: Vec<Value>) -> Response {
    let body = json!({
        "schemas": [LIST_RESPONSE],
        "totalResults": total,
        "startIndex": start,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    });
    scim_json(StatusCode::OK, &body)
}

/// Users `offset` on, at most `limit`, for `q`: (how many match in all, the page).
pub(super) async fn page(state: &AppState, org: &str, q: &ListQuery, offset: i64, limit: i64) -> ScimResult<(i64, Vec<Value>)> {
    let (ids, total) = sql::user_page(&state.db, org, q.condition.as_ref(), q.sort, q.descending, offset, limit).await?;
    let base = base_url(state);
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let mut users = crate::store::users::find_users(&state.db, org, &refs).await?;
    let extras = sql::user_extras(&state.db, org, &refs).await?;
    let mut resources = Vec::with_capacity(ids.len());
    for id in &ids {
        // A user removed between the page and the read is left out.
        if let (Some((user, version)), Some(extra)) = (users.remove(id), extras.get(id)) {
            resources.push(q.projection.apply(resource(&base, &user, version, extra)));
        }
    }
    Ok((total, resources))
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
    Ok(super::read_answer(&headers, &tag, || projection.apply(resource(&base_url(&state), &user, version, extra))))
}

/// What a User body (a POST, a PUT, or a resource after PATCH) asks for.
#[derive(Debug, Default, PartialEq)]
pub struct Wanted {
    /// `userName`: the address.
    pub user_name: Option<String>,
    /// `name.givenName`.
    pub given: Option<String>,
    /// `name.familyName`.
    pub family: Option<String>,
    /// `displayName`.
    pub display: Option<String>,
    /// `active` (booleans, or Entra's "True"/"False").
    pub active: Option<bool>,
    /// `externalId`.
    pub external_id: Option<String>,
    /// `roles[].value`, when `roles` is there.
    pub roles: Option<Vec<String>>,
    /// `password` (write-only).
    pub password: Option<String>,
    /// The first work (or only) address of `emails`.
    pub email: Option<String>,
    /// The enterprise extension's `department` (`Some(None)`: none), when named.
    pub department: Option<Option<String>>,
    /// The enterprise extension's `organization`: the company, likewise.
    pub organization: Option<Option<String>>,
}

/// The `value`s of the multi-valued attribute `name` (each `{"value": …}` or a bare
/// string), when it is there; `what` says what a value is, for the refusal.
pub(super) fn values(obj: &serde_json::Map<String, Value>, name: &str, what: &str) -> ScimResult<Option<Vec<String>>> {
    let Some(found) = key(obj, name) else { return Ok(None) };
    let Value::Array(items) = found else {
        return Err(ScimError::bad("invalidValue", format!("{name} is a list")));
    };
    let value = |item: &Value| match item {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => key(o, "value").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    };
    items
        .iter()
        .map(|item| value(item).ok_or_else(|| ScimError::bad("invalidValue", format!("each of {name} is {{\"value\": <{what}>}}"))))
        .collect::<ScimResult<Vec<_>>>()
        .map(Some)
}

/// The value of `obj`'s key `name`, whatever its case (Entra capitalises some).
pub(super) fn key<'a>(obj: &'a serde_json::Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v).filter(|v| !v.is_null())
}

pub(super) fn string(obj: &serde_json::Map<String, Value>, name: &str) -> ScimResult<Option<String>> {
    match key(obj, name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_owned())),
        Some(other) => Err(ScimError::bad("invalidValue", format!("{name} is a string, not {other}"))),
    }
}

impl Wanted {
    /// Reads `body`, a User; unknown attributes and read-only ones are ignored.
    pub fn read(body: &Value) -> ScimResult<Self> {
        let obj = body.as_object().ok_or_else(|| ScimError::bad("invalidSyntax", "A User is a JSON object."))?;
        let name = match key(obj, "name") {
            Some(Value::Object(n)) => Some(n),
            None => None,
            Some(_) => return Err(ScimError::bad("invalidValue", "name is an object with givenName and familyName")),
        };
        let active = match key(obj, "active") {
            None => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Some(true),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Some(false),
            Some(other) => return Err(ScimError::bad("invalidValue", format!("active is true or false, not {other}"))),
        };
        let roles = values(obj, "roles", "a role key")?;
        let email = match key(obj, "emails") {
            Some(Value::Array(items)) => {
                let value = |i: &Value| i.as_object().and_then(|o| key(o, "value")).and_then(Value::as_str).map(|s| s.trim().to_owned());
                let work = items.iter().find(|i| i.as_object().and_then(|o| key(o, "type")).and_then(Value::as_str) == Some("work"));
                let primary = items.iter().find(|i| i.as_object().and_then(|o| key(o, "primary")) == Some(&Value::Bool(true)));
                work.or(primary).or(items.first()).and_then(value)
            }
            None => None,
            Some(_) => return Err(ScimError::bad("invalidValue", "emails is a list")),
        };
        let (department, organization) = match key(obj, ENTERPRISE) {
            Some(Value::Object(ext)) => (
                string(ext, "department")?.map(|d| Some(d).filter(|d| !d.is_empty())),
                string(ext, "organization")?.map(|o| Some(o).filter(|o| !o.is_empty())),
            ),
            Some(_) => return Err(ScimError::bad("invalidValue", format!("{ENTERPRISE} is an object"))),
            None => (None, None),
        };
        // Entra may also send them with the URI in the name.
        let department = match department {
            None => string(obj, &format!("{ENTERPRISE}:department"))?.map(|d| Some(d).filter(|d| !d.is_empty())),
            found => found,
        };
        let organization = match organization {
            None => string(obj, &format!("{ENTERPRISE}:organization"))?.map(|o| Some(o).filter(|o| !o.is_empty())),
            found => found,
        };
        Ok(Self {
            department,
            organization,
            user_name: string(obj, "userName")?,
            given: name.map(|n| string(n, "givenName")).transpose()?.flatten(),
            family: name.map(|n| string(n, "familyName")).transpose()?.flatten(),
            display: string(obj, "displayName")?,
            active,
            external_id: string(obj, "externalId")?.filter(|e| !e.is_empty()),
            roles,
            password: string(obj, "password")?,
            email,
        })
    }

    /// The address: the (work) e-mail, else a `userName` that is one.
    fn address(&self) -> Option<String> {
        let looks_like = |s: &String| gatehouse_api::UserPatch { email: Some(s.clone()), ..Default::default() }.field_errors().is_empty();
        self.email.clone().filter(|e| !e.is_empty()).or_else(|| self.user_name.clone().filter(looks_like))
    }

    /// The `userName` to keep beside `address`: none when it is the address.
    fn user_name_beside(&self, address: &str) -> Option<String> {
        self.user_name.clone().filter(|u| !u.is_empty() && !u.eq_ignore_ascii_case(address))
    }

    /// The display name asked for, else [`default_display`].
    fn display_or(&self, address: &str) -> String {
        self.display
            .clone()
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| default_display(self.given.as_deref().unwrap_or(""), self.family.as_deref().unwrap_or(""), address))
    }
}

/// The group ids a person has once the enterprise extension's `department` and
/// `organization` are applied to `current`, or `None` when neither is named. Naming one
/// replaces the person's groups of that kind by the group of that name (made when there
/// is none: `org.settings`, as in the app); `Some(None)` takes them out of that kind.
async fn groups_after(
    state: &AppState,
    principal: &Principal,
    meta: &crate::extract::ClientMeta,
    current: &[gatehouse_api::GroupRef],
    wanted: &Wanted,
) -> ScimResult<Option<Vec<String>>> {
    if wanted.department.is_none() && wanted.organization.is_none() {
        return Ok(None);
    }
    let mut ids: Vec<String> = current.iter().map(|g| g.id.clone()).collect();
    for (kind, want) in [(GroupKind::Department, &wanted.department), (GroupKind::Company, &wanted.organization)] {
        let Some(want) = want else { continue };
        let shown = current.iter().find(|g| g.kind == kind);
        if let (Some(name), Some(g)) = (want, shown)
            && g.name == *name
        {
            continue;
        }
        ids.retain(|id| !current.iter().any(|g| g.id == *id && g.kind == kind));
        if let Some(name) = want {
            let existing = crate::store::groups::list(&state.db, &principal.org_id, Some(kind.as_str())).await?;
            let id = match existing.into_iter().find(|g| g.name.eq_ignore_ascii_case(name)) {
                Some(g) => g.id,
                None => crate::routes::groups::add(state, principal, meta, kind, name, None).await?.0.id,
            };
            ids.push(id);
        }
    }
    Ok(Some(ids))
}

/// A person's display name when none is given: "given family", else their address.
fn default_display(given: &str, family: &str, address: &str) -> String {
    let names = format!("{given} {family}");
    if names.trim().is_empty() { address.to_owned() } else { names.trim().to_owned() }
}

/// Every Gatehouse user has an address: in `emails`, or as the `userName`.
fn no_address() -> ScimError {
    ScimError::bad("invalidValue", "An e-mail address is required: give it in emails (type work), or make the userName an address.")
}

/// A request body as JSON, or SCIM's `invalidSyntax`.
pub(super) fn json_body(body: &[u8]) -> ScimResult<Value> {
    serde_json::from_slice(body).map_err(|e| ScimError::bad("invalidSyntax", format!("The body is not JSON: {e}.")))
}

/// The resource as it is now, with its ETag: the answer to every write.
async fn answer(state: &AppState, org: &str, id: &str, status: StatusCode) -> ScimResult<Response> {
    let not_found = || ScimError::not_found(format!("No user with id `{id}` in this organization."));
    let (user, version) = crate::store::users::find_versioned(&state.db, org, id).await?.ok_or_else(not_found)?;
    let extras = sql::user_extras(&state.db, org, &[id]).await?;
    let extra = extras.get(id).ok_or_else(not_found)?;
    Ok(super::write_answer(status, &resource(&base_url(state), &user, version, extra), &version_tag(version)))
}

/// `POST /Users`: a user added through the same operation as `POST /v1/users` (seat,
/// the policy on the roles given, the audit event, the change feed).
pub async fn create(
    State(state): State<AppState>,
    principal: Result<Principal, ApiError>,
    meta: Result<crate::extract::ClientMeta, ApiError>,
    body: axum::body::Bytes,
) -> ScimResult<Response> {
    let (principal, meta) = (principal?, meta?);
    let granted = principal.require::<crate::auth::UsersManage>()?;
    let org = granted.org_id().to_owned();
    let wanted = Wanted::read(&json_body(&body)?)?;
    if wanted.user_name.as_deref().is_none_or(str::is_empty) {
        return Err(ScimError::bad("invalidValue", "userName is required."));
    }
    let email = wanted.address().ok_or_else(no_address)?;
    if let Some(password) = &wanted.password
        && let Some(e) = crate::routes::user_create::password_error(password)
    {
        return Err(ScimError::bad("invalidValue", format!("password: {}", e.message)));
    }
    let account = crate::routes::user_create::Account {
        display_name: wanted.display_or(&email),
        first_name: wanted.given.clone().unwrap_or_default(),
        last_name: wanted.family.clone().unwrap_or_default(),
        user_name: wanted.user_name_beside(&email),
        email,
        roles: wanted.roles.clone().unwrap_or_default(),
        departments: groups_after(&state, &principal, &meta, &[], &wanted).await?.unwrap_or_default(),
        default_role: false,
        password: wanted.password.clone().map(gatehouse_api::Secret::new),
        active: wanted.active.unwrap_or(true),
        external_id: wanted.external_id.clone(),
    };
    let saved = crate::routes::user_create::add_account(&state, &principal, &meta, &org, account, None).await?;
    answer(&state, &org, &saved.user.id, StatusCode::CREATED).await
}

/// `PUT /Users/{id}`: the body is the user from now on. Read-only attributes are ignored;
/// `roles` left out are left as they are (a profile update from Okta carries none).
pub async fn replace(
    State(state): State<AppState>,
    principal: Result<Principal, ApiError>,
    meta: Result<crate::extract::ClientMeta, ApiError>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ScimResult<Response> {
    let (principal, meta) = (principal?, meta?);
    principal.require::<crate::auth::UsersManage>()?;
    let wanted = Wanted::read(&json_body(&body)?)?;
    update(&state, &principal, &meta, &id, &headers, wanted).await
}

/// `PATCH /Users/{id}`: the operations applied to the user as SCIM shows them, then saved
/// like a PUT of the result.
pub async fn patch(
    State(state): State<AppState>,
    principal: Result<Principal, ApiError>,
    meta: Result<crate::extract::ClientMeta, ApiError>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ScimResult<Response> {
    let (principal, meta) = (principal?, meta?);
    let granted = principal.require::<crate::auth::UsersManage>()?;
    let org = granted.org_id().to_owned();
    let body = json_body(&body)?;
    let not_found = || ScimError::not_found(format!("No user with id `{id}` in this organization."));
    let (user, version) = crate::store::users::find_versioned(&state.db, &org, &id).await?.ok_or_else(not_found)?;
    let extras = sql::user_extras(&state.db, &org, &[id.as_str()]).await?;
    let current = resource(&base_url(&state), &user, version, extras.get(&id).ok_or_else(not_found)?);
    let patched = super::patch::apply(current, &body, USER)?;
    let mut wanted = Wanted::read(&patched)?;
    // A removed `roles` is no roles; a removed `active` leaves the status as it is.
    wanted.roles.get_or_insert_with(Vec::new);
    wanted.department.get_or_insert(None);
    wanted.organization.get_or_insert(None);
    update(&state, &principal, &meta, &id, &headers, wanted).await
}

/// Saves `wanted` over user `id`: the profile through the `/v1` edit, then the status
/// through deactivation or reactivation, each with its own guards and audit events.
async fn update(
    state: &AppState,
    principal: &Principal,
    meta: &crate::extract::ClientMeta,
    id: &str,
    headers: &HeaderMap,
    wanted: Wanted,
) -> ScimResult<Response> {
    let granted = principal.require::<crate::auth::UsersManage>()?;
    let org = granted.org_id().to_owned();
    let not_found = || ScimError::not_found(format!("No user with id `{id}` in this organization."));
    let (user, version) = crate::store::users::find_versioned(&state.db, &org, id).await?.ok_or_else(not_found)?;
    super::check_if_match(headers, &version_tag(version), "user")?;
    if wanted.user_name.as_deref().is_none_or(str::is_empty) {
        return Err(ScimError::bad("invalidValue", "userName is required."));
    }
    let email = wanted.address().ok_or_else(no_address)?;
    if wanted.password.is_some() {
        return Err(ScimError::bad("mutability", "A password is set only when the user is created; changing it takes a password reset."));
    }
    let patch = gatehouse_api::UserPatch {
        first_name: Some(wanted.given.clone().unwrap_or_default()),
        last_name: Some(wanted.family.clone().unwrap_or_default()),
        email: Some(email.clone()),
        roles: wanted.roles.clone(),
        departments: groups_after(state, principal, meta, &user.departments, &wanted).await?,
        ..Default::default()
    };
    let provisioned = crate::routes::user_edit::Provisioned {
        display_name: wanted.display_or(&email),
        external_id: wanted.external_id.clone(),
        user_name: wanted.user_name_beside(&email),
    };
    let saved = crate::routes::user_edit::apply_with(
        state,
        principal,
        meta,
        &org,
        id,
        Some(&crate::routes::user_edit::etag(version)),
        patch,
        Some(&provisioned),
        None,
    )
    .await
    .map_err(|e| match e {
        // Another edit came between the read and the write: SCIM's 412.
        ApiError::Problem { status: StatusCode::PRECONDITION_FAILED, .. } => {
            ScimError::new(StatusCode::PRECONDITION_FAILED, None, "The user changed while being saved; read it again.")
        }
        e => e.into(),
    })?;
    let change = match (wanted.active, user.status) {
        (Some(false), UserStatus::Active) => Some(crate::routes::lifecycle::Change::Deactivate),
        (Some(true), UserStatus::Deactivated) => Some(crate::routes::lifecycle::Change::Reactivate),
        _ => None,
    };
    if let Some(change) = change {
        let tag = crate::routes::user_edit::etag(saved.version);
        crate::routes::lifecycle::apply(state, principal, meta, &org, id, Some(&tag), change, None).await?;
    }
    answer(state, &org, id, StatusCode::OK).await
}

/// `DELETE /Users/{id}`: deactivated (sessions end, keys suspended, seat freed) and then
/// removed, as `/v1` removes only deactivated users, in one transaction: both happen or
/// neither. Both rules are asked (removing, and deactivating an active user); the audit
/// trail keeps both events.
pub async fn delete(
    State(state): State<AppState>,
    principal: Result<Principal, ApiError>,
    meta: Result<crate::extract::ClientMeta, ApiError>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ScimResult<Response> {
    let (principal, meta) = (principal?, meta?);
    let granted = principal.require::<crate::auth::UsersManage>()?;
    let org = granted.org_id().to_owned();
    use crate::routes::lifecycle::{self, Change};
    let (user, mut version) = crate::policy::act_on::<crate::policy::Remove>(&state.db, &principal, &id).await?.into_user();
    super::check_if_match(&headers, &version_tag(version), "user")?;
    let deactivate = match user.status {
        UserStatus::Active => {
            crate::policy::act_on::<crate::policy::ChangeStatus>(&state.db, &principal, &id).await?;
            lifecycle::target_of(&principal, &user, Change::Deactivate)?
        }
        UserStatus::Deactivated => None,
        UserStatus::Pending => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                gatehouse_api::codes::NOT_REMOVABLE,
                format!("{} is invited and has not joined yet; revoke their invitation instead.", user.display_name),
            )
            .into());
        }
    };
    let now = state.clock.now();
    let mut tx = crate::store::write(&state.db).await?;
    let mut removed = user.clone();
    if let Some(target) = deactivate {
        if !lifecycle::write(&mut tx, &principal, &meta, &org, &user, version, Change::Deactivate, target, now).await? {
            return Err(ScimError::new(StatusCode::PRECONDITION_FAILED, None, "The user changed while being deleted; look again."));
        }
        version = crate::store::users::version_now(&mut tx, &id).await?;
        removed = User { status: target, ..user };
    }
    crate::routes::user_create::write_removal(&mut tx, &principal, &meta, &org, &removed, version, now).await?;
    tx.commit().await.map_err(ApiError::from)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
