//! `PATCH /v1/users/{id}`: optimistic concurrency with `ETag`/`If-Match`.

use crate::app::AppState;
use crate::auth::{Principal, UsersManage};
use crate::error::{ApiError, Result};
use crate::extract::{ApiJson, ApiPath};
use crate::idempotency::{Claim, Idempotency};
use axum::extract::State;
use axum::http::header::{ETAG, IF_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use gatehouse_api::{FieldError, MAX_NAME_CHARS, Problem, User, UserPatch, codes};
use super::users::{find_user, find_versioned};

/// The ETag of a user at `version`.
pub fn etag(version: i64) -> String {
    format!("\"v{version}\"")
}

/// A user as a JSON response with its ETag header.
pub fn user_response(user: &User, version: i64) -> Result<Response> {
    Ok(with_body(body_of(user)?, version))
}

/// A plausible e-mail address: one `@`, a local part, a dotted domain, no spaces.
pub fn valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else { return false };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && email.len() <= 320
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn validate(patch: &UserPatch) -> Result<()> {
    let mut errors = Vec::new();
    for (field, value) in [("first_name", &patch.first_name), ("last_name", &patch.last_name)] {
        if let Some(v) = value {
            let n = v.trim().chars().count();
            if n == 0 {
                errors.push(FieldError { field: field.into(), code: "required".into(), message: "A name cannot be empty.".into() });
            } else if n > MAX_NAME_CHARS {
                errors.push(FieldError {
                    field: field.into(),
                    code: "too_long".into(),
                    message: format!("A name has at most {MAX_NAME_CHARS} characters."),
                });
            } else if v.chars().any(char::is_control) {
                errors.push(FieldError { field: field.into(), code: "invalid".into(), message: "A name cannot contain control characters.".into() });
            }
        }
    }
    if let Some(email) = &patch.email
        && !valid_email(email.trim())
    {
        errors.push(FieldError { field: "email".into(), code: "invalid".into(), message: format!("`{}` is not an e-mail address.", email.trim()) });
    }
    if errors.is_empty() { Ok(()) } else { Err(ApiError::validation(errors)) }
}

/// Edits a user's name or e-mail. Needs `If-Match` with the ETag of the version edited.
#[utoipa::path(
    patch, path = "/v1/users/{id}", tag = "users",
    params(
        ("id" = String, Path, description = "User id"),
        ("If-Match" = String, Header, description = "The ETag from the GET (or PATCH) this edit is based on"),
    ),
    request_body = UserPatch,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The edited user; the `ETag` header has its new version", body = User),
        (status = 400, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacks `users.manage`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user in this organization", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`email_taken`: the address belongs to another user, named in the detail", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`precondition_failed`: the user changed; `current` holds it", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "`precondition_required`: no `If-Match`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn patch_user(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    ApiJson(patch): ApiJson<UserPatch>,
) -> Result<Response> {
    let granted = principal.require::<UsersManage>()?;
    let if_match = headers.get(IF_MATCH).and_then(|v| v.to_str().ok()).map(|v| v.trim().to_owned());
    let fingerprinted = (&if_match, &patch);
    match Idempotency::claim(&state, &principal, &headers, "PATCH", &format!("/v1/users/{id}"), &fingerprinted).await? {
        Claim::Replay(response) => Ok(response),
        Claim::None => apply(&state, granted.org_id(), &id, if_match.as_deref(), patch, None).await,
        Claim::Fresh(idem) => {
            let result = apply(&state, granted.org_id(), &id, if_match.as_deref(), patch, Some(&idem)).await;
            idem.finish(&state, result).await
        }
    }
}

/// The edit itself; with `idem`, its response is stored in the edit's transaction.
async fn apply(state: &AppState, org: &str, id: &str, if_match: Option<&str>, patch: UserPatch, idem: Option<&Idempotency>) -> Result<Response> {
    let if_match = if_match.ok_or_else(|| {
        ApiError::new(StatusCode::PRECONDITION_REQUIRED, codes::PRECONDITION_REQUIRED, "Send `If-Match` with the user's ETag.")
    })?;
    validate(&patch)?;
    let db = &state.db;
    let not_found = || ApiError::not_found(format!("No user with id `{id}` in this organization."));
    let (current, version) = find_versioned(db, org, id).await?.ok_or_else(not_found)?;
    let stale = || async {
        let now = find_user(db, org, id).await?.ok_or_else(not_found)?;
        Err::<Response, _>(ApiError::stale(serde_json::to_value(&now).map_err(|e| ApiError::Internal(e.into()))?))
    };
    if if_match != "*" && if_match != etag(version) {
        return stale().await;
    }

    let first = patch.first_name.as_deref().map(str::trim).unwrap_or(&current.first_name).to_owned();
    let last = patch.last_name.as_deref().map(str::trim).unwrap_or(&current.last_name).to_owned();
    let email = patch.email.as_deref().map(str::trim).unwrap_or(&current.email).to_owned();
    if (first.as_str(), last.as_str(), email.as_str()) == (current.first_name.as_str(), current.last_name.as_str(), current.email.as_str()) {
        let response = body_of(&current)?;
        if let Some(idem) = idem {
            idem.store(&mut *db.acquire().await?, StatusCode::OK, Some(&etag(version)), &response, state.clock.now()).await?;
        }
        return Ok(with_body(response, version));
    }
    let email_lower = email.to_lowercase();
    let taken: Option<String> = sqlx::query_scalar("SELECT display_name FROM users WHERE email_lower = ? AND id <> ?")
        .bind(&email_lower)
        .bind(id)
        .fetch_optional(db)
        .await?;
    if let Some(owner) = taken {
        return Err(email_taken(&email, &owner));
    }
    let display = format!("{first} {last}");
    let now = state.clock.now();
    let mut tx = db.begin().await?;
    let updated = sqlx::query(
        "UPDATE users SET first_name = ?, last_name = ?, display_name = ?, sort_name = ?, search_text = ?, email = ?, \
         email_lower = ?, updated_at = ? WHERE id = ? AND org_id = ? AND version = ?",
    )
    .bind(&first)
    .bind(&last)
    .bind(&display)
    .bind(display.to_lowercase())
    .bind(format!("{} {email_lower}", display.to_lowercase()))
    .bind(&email)
    .bind(&email_lower)
    .bind(now)
    .bind(id)
    .bind(org)
    .bind(version)
    .execute(&mut *tx)
    .await;
    match updated {
        // Another edit won the race between our read and this write.
        Ok(r) if r.rows_affected() == 0 => {
            drop(tx);
            stale().await
        }
        Ok(_) => {
            // Roles and groups are as read: the version guard proves nothing else changed.
            let version: i64 = sqlx::query_scalar("SELECT version FROM users WHERE id = ?").bind(id).fetch_one(&mut *tx).await?;
            let user = User { first_name: first, last_name: last, display_name: display, email, ..current };
            let response = body_of(&user)?;
            if let Some(idem) = idem {
                idem.store(&mut tx, StatusCode::OK, Some(&etag(version)), &response, now).await?;
            }
            tx.commit().await?;
            Ok(with_body(response, version))
        }
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(email_taken(&email, "another user")),
        Err(e) => Err(e.into()),
    }
}

fn body_of(user: &User) -> Result<Vec<u8>> {
    serde_json::to_vec(user).map_err(|e| ApiError::Internal(e.into()))
}

fn with_body(body: Vec<u8>, version: i64) -> Response {
    let mut res = Response::new(axum::body::Body::from(body));
    res.headers_mut().insert(axum::http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Ok(v) = HeaderValue::from_str(&etag(version)) {
        res.headers_mut().insert(ETAG, v);
    }
    res
}

fn email_taken(email: &str, owner: &str) -> ApiError {
    ApiError::Problem {
        status: StatusCode::CONFLICT,
        code: codes::EMAIL_TAKEN,
        detail: format!("This email is already used by {owner}."),
        errors: vec![FieldError { field: "email".into(), code: codes::EMAIL_TAKEN.into(), message: format!("{email} is already used by {owner}.") }],
        current: None,
    }
}

#[cfg(test)]
mod tests {
    use super::valid_email;

    #[test]
    fn email_syntax() {
        for ok in ["a@b.co", "first.last+tag@sub.example.org"] {
            assert!(valid_email(ok), "{ok}");
        }
        for bad in ["", "a", "a@", "@b.co", "a@b", "a@.b", "a@b.", "a b@c.de", "a@b@c.de", "a\u{0}@b.co"] {
            assert!(!valid_email(bad), "{bad:?}");
        }
    }
}
