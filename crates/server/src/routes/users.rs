//! `GET /v1/users`, `GET /v1/users/{id}`, and loading users with their roles and groups.

use crate::app::AppState;
use crate::auth::{Granted, Principal, UsersRead};
use crate::error::{ApiError, Result};
use crate::extract::{ApiPath, QueryPairs};
use axum::Json;
use axum::extract::State;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::{DateTime, Utc};
use gatehouse_api::{
    AuthMethod, DEFAULT_USER_PAGE, FieldError, GroupKind, GroupRef, MAX_USER_PAGE, Problem, RoleRef, User, UserCounts, UserListQuery, UserPage,
    UserStatus, codes,
};
use sqlx::{QueryBuilder, Sqlite, SqlitePool};
use std::collections::HashMap;

#[derive(sqlx::FromRow, serde::Deserialize)]
struct UserRow {
    id: String,
    email: String,
    first_name: String,
    last_name: String,
    display_name: String,
    sort_name: String,
    status: String,
    mfa_enabled: bool,
    last_active_at: Option<DateTime<Utc>>,
    last_login_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    version: i64,
    attributes: String,
    avatar_url: Option<String>,
    identities: String,
    notifications: String,
    has_password: bool,
    /// `[{id, key, name}]`, Owner first then by name.
    #[serde(deserialize_with = "json_text")]
    roles_json: String,
    /// `[{id, name, kind}]`, by name.
    #[serde(deserialize_with = "json_text")]
    groups_json: String,
}

/// A JSON array as text, whether SQLite's `json_object` nested it as an array (it keeps
/// `json_group_array`'s JSON subtype) or as a string.
fn json_text<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    Ok(match <serde_json::Value as serde::Deserialize>::deserialize(d)? {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    })
}

/// A user's roles as a JSON array `[{id, key, name}]`, Owner first, then by name.
macro_rules! roles_json {
    () => {
        "(SELECT json_group_array(json_object('id', x.id, 'key', x.key, 'name', x.name)) FROM \
           (SELECT r.id, r.key, r.name FROM user_roles ur JOIN roles r ON r.id = ur.role_id \
            WHERE ur.user_id = u.id ORDER BY r.builtin DESC, r.name) x)"
    };
}

/// A user's groups as a JSON array `[{id, name, kind}]`, by name.
macro_rules! groups_json {
    () => {
        "(SELECT json_group_array(json_object('id', x.id, 'name', x.name, 'kind', x.kind)) FROM \
           (SELECT g.id, g.name, g.kind FROM user_groups ug JOIN groups g ON g.id = ug.group_id \
            WHERE ug.user_id = u.id ORDER BY g.name) x)"
    };
}

/// A user's row with its roles and groups as JSON arrays: one row per user, so a page
/// of a thousand is a thousand rows, not three times as many.
const USER_COLUMNS: &str = concat!(
    "u.id, u.email, u.first_name, u.last_name, u.display_name, u.sort_name, u.status, \
     u.mfa_enabled, u.last_active_at, u.last_login_at, u.created_at, u.version, u.attributes, \
     u.avatar_url, u.identities, u.notifications, u.password_hash IS NOT NULL AS has_password, ",
    roles_json!(),
    " AS roles_json, ",
    groups_json!(),
    " AS groups_json"
);

/// The same as one JSON object (a [`UserRow`]), for aggregating many users into one value.
const USER_JSON: &str = concat!(
    "json_object('id', u.id, 'email', u.email, 'first_name', u.first_name, 'last_name', u.last_name, \
     'display_name', u.display_name, 'sort_name', u.sort_name, 'status', u.status, \
     'mfa_enabled', json(CASE WHEN u.mfa_enabled THEN 'true' ELSE 'false' END), \
     'last_active_at', u.last_active_at, 'last_login_at', u.last_login_at, 'created_at', u.created_at, \
     'version', u.version, 'attributes', u.attributes, 'avatar_url', u.avatar_url, 'identities', u.identities, \
     'notifications', u.notifications, \
     'has_password', json(CASE WHEN u.password_hash IS NOT NULL THEN 'true' ELSE 'false' END), 'roles_json', ",
    roles_json!(),
    ", 'groups_json', ",
    groups_json!(),
    ")"
);

/// A validated `GET /v1/users` query.
pub(crate) struct ListQuery {
    q: Option<String>,
    status: Option<UserStatus>,
    role: Option<String>,
    department: Option<String>,
    limit: u32,
    after: Option<(String, String)>,
    /// The filters as asked (before role and department are resolved to ids), which is
    /// what a cursor is tied to.
    asked: String,
}

impl ListQuery {
    pub(crate) fn parse(pairs: &QueryPairs) -> Result<Self> {
        let mut errors = Vec::new();
        let mut field = |field: &str, code: &str, message: String| errors.push(FieldError { field: field.into(), code: code.into(), message });
        let q = pairs.get("q").map(|q| q.trim().to_lowercase()).filter(|q| !q.is_empty());
        if q.as_ref().is_some_and(|q| q.chars().count() > 200) {
            field("q", "too_long", "Search text is limited to 200 characters.".into());
        }
        let status = match pairs.get("status") {
            None => None,
            Some(s) => {
                let parsed = UserStatus::parse(s);
                if parsed.is_none() {
                    field("status", "invalid", format!("Unknown status `{s}`; use active, pending or deactivated."));
                }
                parsed
            }
        };
        let limit = match pairs.get("limit") {
            None => DEFAULT_USER_PAGE,
            Some(l) => match l.parse::<u32>() {
                Ok(n) if (1..=MAX_USER_PAGE).contains(&n) => n,
                _ => {
                    field("limit", "out_of_range", format!("`limit` must be a whole number from 1 to {MAX_USER_PAGE}."));
                    DEFAULT_USER_PAGE
                }
            },
        };
        let mut query = Self {
            q,
            status,
            role: pairs.get("role").map(str::to_owned),
            department: pairs.get("department").map(str::to_owned),
            limit,
            after: None,
            asked: String::new(),
        };
        query.asked = query.fingerprint();
        if let Some(cursor) = pairs.get("cursor") {
            match decode_cursor(cursor) {
                Some((fingerprint, name, id)) if fingerprint == query.asked => query.after = Some((name, id)),
                Some(_) => field("cursor", codes::INVALID_CURSOR, "This cursor belongs to a different search or filter.".into()),
                None => field("cursor", codes::INVALID_CURSOR, "This cursor was not issued by this server.".into()),
            }
        }
        if errors.is_empty() { Ok(query) } else { Err(ApiError::validation(errors)) }
    }

    /// Identifies the filters a cursor was issued for, so it cannot page another query.
    fn fingerprint(&self) -> String {
        let text = format!(
            "{}\u{1f}{}\u{1f}{}\u{1f}{}",
            self.q.as_deref().unwrap_or(""),
            self.status.map(UserStatus::as_str).unwrap_or(""),
            self.role.as_deref().unwrap_or(""),
            self.department.as_deref().unwrap_or("")
        );
        crate::tokens::hash_token(&text)[..12].to_owned()
    }

    /// Appends the filters shared by the page and the counts (all but status and cursor);
    /// role and department are already resolved to ids.
    fn push_filters(&self, qb: &mut QueryBuilder<'_, Sqlite>, org_id: &str) {
        qb.push(" WHERE u.org_id = ").push_bind(org_id.to_owned());
        if let Some(q) = &self.q {
            qb.push(" AND u.search_text LIKE ").push_bind(gatehouse_api::substring_like_pattern(q)).push(" ESCAPE '\\'");
        }
        // `IN (subquery)` builds the member set once from the (role_id|group_id, user_id)
        // index; a correlated EXISTS would do one lookup per user instead.
        if let Some(role_id) = &self.role {
            qb.push(" AND u.id IN (SELECT user_id FROM user_roles WHERE role_id = ").push_bind(role_id.clone()).push(")");
        }
        if let Some(group_id) = &self.department {
            qb.push(" AND u.id IN (SELECT user_id FROM user_groups WHERE group_id = ").push_bind(group_id.clone()).push(")");
        }
    }

    /// Replaces the role key/id and department name/id by ids of this organization.
    pub(crate) async fn resolve(&mut self, db: &SqlitePool, org_id: &str) -> Result<()> {
        let mut errors = Vec::new();
        if let Some(role) = self.role.take() {
            let id: Option<String> = sqlx::query_scalar("SELECT id FROM roles WHERE org_id = ? AND (id = ? OR key = ?)")
                .bind(org_id)
                .bind(&role)
                .bind(&role)
                .fetch_optional(db)
                .await?;
            match id {
                Some(id) => self.role = Some(id),
                None => errors.push(FieldError {
                    field: "role".into(),
                    code: "unknown".into(),
                    message: format!("No role `{role}` in this organization."),
                }),
            }
        }
        if let Some(dept) = self.department.take() {
            let id: Option<String> =
                sqlx::query_scalar("SELECT id FROM groups WHERE org_id = ? AND (id = ? OR lower(name) = lower(?)) ORDER BY kind LIMIT 1")
                    .bind(org_id)
                    .bind(&dept)
                    .bind(&dept)
                    .fetch_optional(db)
                    .await?;
            match id {
                Some(id) => self.department = Some(id),
                None => errors.push(FieldError {
                    field: "department".into(),
                    code: "unknown".into(),
                    message: format!("No department or company `{dept}` in this organization."),
                }),
            }
        }
        if errors.is_empty() { Ok(()) } else { Err(ApiError::validation(errors)) }
    }
}

fn encode_cursor(fingerprint: &str, sort_name: &str, id: &str) -> String {
    B64.encode(serde_json::json!([fingerprint, sort_name, id]).to_string())
}

fn decode_cursor(cursor: &str) -> Option<(String, String, String)> {
    let bytes = B64.decode(cursor).ok()?;
    let (f, n, i): (String, String, String) = serde_json::from_slice(&bytes).ok()?;
    Some((f, n, i))
}

/// Lists the organization's users.
#[utoipa::path(
    get, path = "/v1/users", tag = "users",
    params(UserListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of users with count badges", body = UserPage),
        (status = 400, description = "Invalid filter, limit or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in, or the session was revoked", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacks `users.read`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_users(State(state): State<AppState>, principal: Principal, pairs: QueryPairs) -> Result<Json<UserPage>> {
    let granted = principal.require::<UsersRead>()?;
    let mut query = ListQuery::parse(&pairs)?;
    query.resolve(&state.db, granted.org_id()).await?;
    Ok(Json(list(&state.db, &granted, &query).await?))
}

/// Up to `limit` users matching `query` after its `after` position, in list order, each
/// with its sort key.
async fn page_rows(db: &SqlitePool, granted: &Granted<UsersRead>, query: &ListQuery, limit: u32) -> Result<Vec<UserRow>> {
    let mut qb = QueryBuilder::<Sqlite>::new(format!("SELECT {USER_COLUMNS} FROM users u"));
    query.push_filters(&mut qb, granted.org_id());
    if let Some(status) = query.status {
        qb.push(" AND u.status = ").push_bind(status.as_str());
    }
    if let Some((name, id)) = &query.after {
        qb.push(" AND (u.sort_name, u.id) > (").push_bind(name.clone()).push(", ").push_bind(id.clone()).push(")");
    }
    qb.push(" ORDER BY u.sort_name, u.id LIMIT ").push_bind(i64::from(limit));
    Ok(qb.build_query_as().fetch_all(db).await?)
}

/// The next `limit` users of `query` (from its `after` position), and moves `after` past them.
pub(crate) async fn next_page(db: &SqlitePool, granted: &Granted<UsersRead>, query: &mut ListQuery, limit: u32) -> Result<Vec<User>> {
    let rows = page_rows(db, granted, query, limit).await?;
    if let Some(last) = rows.last() {
        query.after = Some((last.sort_name.clone(), last.id.clone()));
    }
    Ok(hydrate(rows)?.into_iter().map(|(u, _)| u).collect())
}

async fn list(db: &SqlitePool, granted: &Granted<UsersRead>, query: &ListQuery) -> Result<UserPage> {
    let mut rows = page_rows(db, granted, query, query.limit + 1).await?;
    let next_cursor = if rows.len() > query.limit as usize {
        rows.truncate(query.limit as usize);
        rows.last().map(|last| encode_cursor(&query.asked, &last.sort_name, &last.id))
    } else {
        None
    };

    let totals: Vec<(String, i64)> = if query.q.is_none() && query.role.is_none() && query.department.is_none() {
        // Unfiltered badges come from the trigger-maintained totals (migration 0002).
        sqlx::query_as("SELECT status, n FROM user_status_counts WHERE org_id = ?").bind(granted.org_id()).fetch_all(db).await?
    } else {
        let mut cq = QueryBuilder::<Sqlite>::new("SELECT u.status, COUNT(*) FROM users u");
        query.push_filters(&mut cq, granted.org_id());
        cq.push(" GROUP BY u.status");
        cq.build_query_as().fetch_all(db).await?
    };
    let counts = UserCounts::from_rows(totals);
    Ok(UserPage { items: hydrate(rows)?.into_iter().map(|(u, _)| u).collect(), next_cursor, counts })
}

/// Gets one user of the organization.
#[utoipa::path(
    get, path = "/v1/users/{id}", tag = "users",
    params(("id" = String, Path, description = "User id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The user; the `ETag` header is its version, for `If-Match`", body = User),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacks `users.read`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user in this organization", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_user(State(state): State<AppState>, principal: Principal, ApiPath(id): ApiPath<String>) -> Result<Response> {
    let granted = principal.require::<UsersRead>()?;
    let not_found = || ApiError::not_found(format!("No user with id `{id}` in this organization."));
    let (user, version) = find_versioned(&state.db, granted.org_id(), &id).await?.ok_or_else(not_found)?;
    super::user_edit::user_response(&user, version)
}

/// Loads one user of `org_id` with roles and groups.
pub async fn find_user(db: &SqlitePool, org_id: &str, id: &str) -> Result<Option<User>> {
    Ok(find_versioned(db, org_id, id).await?.map(|(user, _)| user))
}

/// Loads one user of `org_id` with its version (the ETag's source), read with the row.
pub async fn find_versioned(db: &SqlitePool, org_id: &str, id: &str) -> Result<Option<(User, i64)>> {
    let row: Option<UserRow> = sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = ? AND u.org_id = ?"))
        .bind(id)
        .bind(org_id)
        .fetch_optional(db)
        .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(hydrate(vec![row])?.pop())
}

/// Loads the users of `org_id` among `ids`, by id, with their versions; missing ones are
/// simply absent.
pub async fn find_users(db: &SqlitePool, org_id: &str, ids: &[&str]) -> Result<HashMap<String, (User, i64)>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    // By primary key: `+` keeps the planner off the organization's sort index, which it
    // would otherwise scan whole (every user of the organization) for an `IN` list.
    // One JSON value for all of them: sqlx hands rows one by one from its SQLite thread,
    // and for a feed page of a thousand users that costs more than SQLite's own work.
    let mut qb = QueryBuilder::<Sqlite>::new(format!("SELECT json_group_array({USER_JSON}) FROM users u WHERE +u.org_id = "));
    qb.push_bind(org_id.to_owned()).push(" AND u.id IN ");
    super::push_id_list(&mut qb, ids);
    let json: String = qb.build_query_scalar().fetch_one(db).await?;
    let rows: Vec<UserRow> = serde_json::from_str(&json).map_err(|e| ApiError::Internal(anyhow::anyhow!("reading users: {e}")))?;
    Ok(hydrate(rows)?.into_iter().map(|(u, v)| (u.id.clone(), (u, v))).collect())
}

/// Users from their rows, each with its version.
fn hydrate(rows: Vec<UserRow>) -> Result<Vec<(User, i64)>> {
    #[derive(serde::Deserialize)]
    struct Group {
        id: String,
        name: String,
        kind: String,
    }
    rows.into_iter()
        .map(|r| {
            let unreadable = |what: &str, e: serde_json::Error| ApiError::Internal(anyhow::anyhow!("user {} has unreadable {what}: {e}", r.id));
            let status =
                UserStatus::parse(&r.status).ok_or_else(|| ApiError::Internal(anyhow::anyhow!("user {} has unknown status {}", r.id, r.status)))?;
            let custom_attributes = serde_json::from_str(&r.attributes).map_err(|e| unreadable("attributes", e))?;
            let roles: Vec<RoleRef> = serde_json::from_str(&r.roles_json).map_err(|e| unreadable("roles", e))?;
            let groups: Vec<Group> = serde_json::from_str(&r.groups_json).map_err(|e| unreadable("groups", e))?;
            let mut auth_methods: Vec<AuthMethod> = serde_json::from_str(&r.identities).map_err(|e| unreadable("identities", e))?;
            if r.has_password {
                auth_methods.push(AuthMethod::Password);
            }
            auth_methods.sort();
            auth_methods.dedup();
            let notification_preferences = serde_json::from_str(&r.notifications).map_err(|e| unreadable("notification preferences", e))?;
            let user = User {
                roles,
                departments: groups.into_iter().map(|g| GroupRef { id: g.id, name: g.name, kind: GroupKind::parse(&g.kind) }).collect(),
                id: r.id,
                email: r.email,
                first_name: r.first_name,
                last_name: r.last_name,
                display_name: r.display_name,
                status,
                mfa_enabled: r.mfa_enabled,
                last_active_at: r.last_active_at,
                last_login_at: r.last_login_at,
                created_at: r.created_at,
                custom_attributes,
                avatar_url: r.avatar_url,
                auth_methods,
                notification_preferences,
            };
            Ok((user, r.version))
        })
        .collect()
}

/// The union of the permissions of a user's roles, sorted.
pub async fn permissions_of(db: &SqlitePool, user_id: &str) -> Result<Vec<String>> {
    let lists: Vec<String> = sqlx::query_scalar("SELECT r.permissions FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = ?")
        .bind(user_id)
        .fetch_all(db)
        .await?;
    let mut all = Vec::new();
    for list in lists {
        let perms: Vec<String> = serde_json::from_str(&list).map_err(|e| ApiError::Internal(e.into()))?;
        all.extend(perms);
    }
    all.sort();
    all.dedup();
    Ok(all)
}
