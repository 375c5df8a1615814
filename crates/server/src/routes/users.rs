//! `GET /v1/users`, `GET /v1/users/{id}`, and loading users with their roles and groups.

use crate::app::AppState;
use crate::auth::{Granted, Principal, UsersRead};
use crate::error::{ApiError, Result};
use crate::extract::{ApiPath, QueryPairs};
use crate::store::{self, Db};
use axum::Json;
use axum::extract::State;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use gatehouse_api::{DEFAULT_USER_PAGE, FieldError, MAX_USER_PAGE, Problem, User, UserCounts, UserListQuery, UserPage, UserStatus, codes};

/// A validated `GET /v1/users` query.
pub(crate) struct ListQuery {
    filter: store::users::Filter,
    limit: u32,
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
        let filter = store::users::Filter {
            q,
            status,
            role: pairs.get("role").map(str::to_owned),
            department: pairs.get("department").map(str::to_owned),
            after: None,
        };
        let mut query = Self { filter, limit, asked: String::new() };
        query.asked = query.fingerprint();
        if let Some(cursor) = pairs.get("cursor") {
            match decode_cursor(cursor) {
                Some((fingerprint, name, id)) if fingerprint == query.asked => query.filter.after = Some((name, id)),
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
            self.filter.q.as_deref().unwrap_or(""),
            self.filter.status.map(UserStatus::as_str).unwrap_or(""),
            self.filter.role.as_deref().unwrap_or(""),
            self.filter.department.as_deref().unwrap_or("")
        );
        crate::tokens::hash_token(&text)[..12].to_owned()
    }

    /// Replaces the role key/id and department name/id by ids of this organization.
    pub(crate) async fn resolve(&mut self, db: &Db, org_id: &str) -> Result<()> {
        self.filter.resolve(db, org_id).await
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

/// The next `limit` users of `query` (from its `after` position), and moves `after` past them.
pub(crate) async fn next_page(db: &Db, granted: &Granted<UsersRead>, query: &mut ListQuery, limit: u32) -> Result<Vec<User>> {
    let rows = store::users::page(db, granted.org_id(), &query.filter, limit).await?;
    if let Some(last) = rows.last() {
        query.filter.after = Some((last.sort_name.clone(), last.id.clone()));
    }
    Ok(store::users::hydrate(rows)?.into_iter().map(|(u, _)| u).collect())
}

async fn list(db: &Db, granted: &Granted<UsersRead>, query: &ListQuery) -> Result<UserPage> {
    let mut rows = store::users::page(db, granted.org_id(), &query.filter, query.limit + 1).await?;
    let next_cursor = if rows.len() > query.limit as usize {
        rows.truncate(query.limit as usize);
        rows.last().map(|last| encode_cursor(&query.asked, &last.sort_name, &last.id))
    } else {
        None
    };
    let counts = UserCounts::from_rows(store::users::counts(db, granted.org_id(), &query.filter).await?);
    Ok(UserPage { items: store::users::hydrate(rows)?.into_iter().map(|(u, _)| u).collect(), next_cursor, counts })
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
    let (user, version) = store::users::find_versioned(&state.db, granted.org_id(), &id).await?.ok_or_else(not_found)?;
    super::user_edit::user_response(&user, version)
}
