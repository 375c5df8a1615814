//! `GET /v1/users/export.csv` (SPEC U14): the filtered user list as CSV, streamed a page
//! at a time, so a hundred thousand users never sit in memory at once.

use super::users::{ListQuery, next_page};
use crate::app::AppState;
use crate::auth::{Principal, UsersRead};
use crate::error::Result;
use crate::extract::QueryPairs;
use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderValue;
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::Response;
use gatehouse_api::{Problem, USERS_CSV_HEADER, users_csv_record};

/// Users per database read while streaming.
const CHUNK: u32 = 1000;

/// The users matching the filters, as CSV (RFC 4180, UTF-8), in list order.
#[utoipa::path(
    get, path = "/v1/users/export.csv", tag = "users",
    params(
        ("q" = Option<String>, Query, description = "Search in name and e-mail"),
        ("status" = Option<String>, Query, description = "`active`, `pending` or `deactivated`"),
        ("role" = Option<String>, Query, description = "A role key or id"),
        ("department" = Option<String>, Query, description = "A department/company id or name"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "CSV with a header row", content_type = "text/csv", body = String),
        (status = 400, description = "Invalid filter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacks `users.read`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn export_users(State(state): State<AppState>, principal: Principal, pairs: QueryPairs) -> Result<Response> {
    let granted = principal.require::<UsersRead>()?;
    let mut query = ListQuery::parse(&pairs)?;
    query.resolve(&state.db, granted.org_id()).await?;
    let db = state.db.clone();
    let first = Some(USERS_CSV_HEADER.to_owned());
    let stream = futures_util::stream::unfold((db, granted, query, first, false), |(db, granted, mut query, first, done)| async move {
        if let Some(header) = first {
            return Some((Ok::<_, std::io::Error>(header), (db, granted, query, None, false)));
        }
        if done {
            return None;
        }
        match next_page(&db, &granted, &mut query, CHUNK).await {
            Ok(users) if users.is_empty() => None,
            Ok(users) => {
                let mut out = String::with_capacity(users.len() * 160);
                for user in &users {
                    users_csv_record(&mut out, user);
                }
                let done = users.len() < CHUNK as usize;
                Some((Ok(out), (db, granted, query, None, done)))
            }
            Err(e) => {
                // Headers are gone already: cutting the body short is the only signal left.
                tracing::error!(error = ?e, "user export failed midway");
                Some((Err(std::io::Error::other("export failed")), (db, granted, query, None, true)))
            }
        }
    });
    Ok(csv_response(stream, "attachment; filename=\"users.csv\""))
}

/// A streamed CSV download (`disposition` names the file); never cached.
pub(crate) fn csv_response<S>(stream: S, disposition: &'static str) -> Response
where
    S: futures_util::Stream<Item = std::io::Result<String>> + Send + 'static,
{
    let mut res = Response::new(Body::from_stream(stream));
    let headers = res.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    headers.insert(CONTENT_DISPOSITION, HeaderValue::from_static(disposition));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}
