//! `POST /v1/users/bulk` (SPEC U12): one action applied to many users, each on its own
//! through the same code (guards, audit, versions) as the single-user endpoint, with a
//! result per user. A refusal for one user does not stop the others.

use super::lifecycle::{self, Change};
use super::user_edit::{self, etag, resolve_groups, resolve_roles};
use crate::app::AppState;
use crate::auth::{Principal, SessionsRevoke, UsersManage};
use crate::error::{ApiError, Result};
use crate::extract::ApiJson;
use crate::extract::ClientMeta;
use crate::idempotency::{Claim, Idempotency};
use crate::store::users::find_versioned;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use gatehouse_api::{BulkAction, BulkItem, BulkRequest, BulkResponse, MAX_BULK_USERS, Problem, User, UserPatch, codes};

/// Applies one action to each of the users named; answers 200 with a result per user
/// even when some were refused.
#[utoipa::path(
    post, path = "/v1/users/bulk", tag = "users",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer")),
    request_body = BulkRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One result per user, in request order; `failed` counts refusals", body = BulkResponse),
        (status = 400, description = "No users, too many, or an unknown role or department", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacks `users.manage` (`sessions.revoke` for logout)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn bulk(
    State(state): State<AppState>,
    principal: Principal,
    meta: ClientMeta,
    headers: HeaderMap,
    ApiJson(request): ApiJson<BulkRequest>,
) -> Result<Response> {
    let org = match request.action {
        BulkAction::Logout => principal.require::<SessionsRevoke>()?.org_id().to_owned(),
        _ => principal.require::<UsersManage>()?.org_id().to_owned(),
    };
    match Idempotency::claim(&state, &principal, &headers, "POST", "/v1/users/bulk", &request).await? {
        Claim::Replay(response) => Ok(response),
        Claim::None => Ok(run(&state, &principal, &meta, &org, request).await?.into_response()),
        Claim::Fresh(idem) => {
            let result = run(&state, &principal, &meta, &org, request).await;
            if let Ok(answer) = &result {
                let body = serde_json::to_vec(&answer.0).map_err(|e| ApiError::Internal(e.into()))?;
                let mut tx = crate::store::write(&state.db).await?;
                idem.store(&mut tx, StatusCode::OK, None, &body, state.clock.now()).await?;
                tx.commit().await?;
            }
            idem.finish(&state, result.map(IntoResponse::into_response)).await
        }
    }
}

async fn run(state: &AppState, principal: &Principal, meta: &ClientMeta, org: &str, request: BulkRequest) -> Result<axum::Json<BulkResponse>> {
    let mut ids: Vec<String> = Vec::with_capacity(request.user_ids.len());
    for id in request.user_ids {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    if ids.is_empty() {
        return Err(ApiError::field("user_ids", "required", "Name at least one user."));
    }
    if ids.len() > MAX_BULK_USERS {
        return Err(ApiError::field("user_ids", "too_many", format!("A bulk action takes at most {MAX_BULK_USERS} users; split the selection.")));
    }
    // The role or group is resolved once, so an unknown one refuses the whole request.
    let membership = match &request.action {
        BulkAction::AddRole { role } | BulkAction::RemoveRole { role } => {
            Some(resolve_roles(&state.db, org, std::slice::from_ref(role)).await.map_err(|e| rename_field(e, "role"))?.remove(0).id)
        }
        BulkAction::AddDepartment { department } | BulkAction::RemoveDepartment { department } => {
            Some(resolve_groups(&state.db, org, std::slice::from_ref(department)).await.map_err(|e| rename_field(e, "department"))?.remove(0).id)
        }
        _ => None,
    };
    let mut results = Vec::with_capacity(ids.len());
    for id in ids {
        let outcome = one(state, principal, meta, org, &id, &request.action, membership.as_deref()).await;
        results.push(match outcome {
            Ok(saved) => {
                let (user, etag) = saved.map(|(u, v)| (u, etag(v))).unzip();
                BulkItem { user_id: id, ok: true, status: 200, code: None, message: None, user, etag }
            }
            Err(error) => {
                if let ApiError::Internal(e) = &error {
                    tracing::error!(error = %e, user = %id, "bulk action failed for a user");
                }
                let problem = error.problem();
                BulkItem {
                    user_id: id,
                    ok: false,
                    status: problem.status,
                    code: Some(problem.code),
                    message: Some(problem.detail),
                    user: None,
                    etag: None,
                }
            }
        });
    }
    let succeeded = results.iter().filter(|r| r.ok).count() as u32;
    let failed = results.len() as u32 - succeeded;
    Ok(axum::Json(BulkResponse { succeeded, failed, results }))
}

fn rename_field(error: ApiError, field: &str) -> ApiError {
    match error {
        ApiError::Problem { status, code, detail, mut errors, current, retry_after, seats } => {
            for e in &mut errors {
                e.field = field.to_owned();
            }
            ApiError::Problem { status, code, detail, errors, current, retry_after, seats }
        }
        other => other,
    }
}

/// The action for one user; the user afterwards with its version (`None` for logout,
/// which does not change the user).
async fn one(
    state: &AppState,
    principal: &Principal,
    meta: &ClientMeta,
    org: &str,
    id: &str,
    action: &BulkAction,
    membership: Option<&str>,
) -> Result<Option<(User, i64)>> {
    let db = &state.db;
    let not_found = || ApiError::not_found(format!("No user with id `{id}` in this organization."));
    match action {
        BulkAction::Deactivate | BulkAction::Reactivate => {
            let change = if matches!(action, BulkAction::Deactivate) { Change::Deactivate } else { Change::Reactivate };
            let saved = lifecycle::apply(state, principal, meta, org, id, None, change, None).await?;
            Ok(Some((saved.user, saved.version)))
        }
        BulkAction::Logout => {
            super::sessions::logout_user(state, principal, meta, id, false, None).await?;
            Ok(None)
        }
        BulkAction::AddRole { .. } | BulkAction::RemoveRole { .. } | BulkAction::AddDepartment { .. } | BulkAction::RemoveDepartment { .. } => {
            let target = membership.unwrap_or_default();
            // A concurrent edit between the read and the write is retried once on top of it.
            for attempt in 0..2 {
                let (user, version) = find_versioned(db, org, id).await?.ok_or_else(not_found)?;
                let mut roles: Vec<String> = user.roles.iter().map(|r| r.id.clone()).collect();
                let mut groups: Vec<String> = user.departments.iter().map(|g| g.id.clone()).collect();
                let (list, adding) = match action {
                    BulkAction::AddRole { .. } => (&mut roles, true),
                    BulkAction::RemoveRole { .. } => (&mut roles, false),
                    BulkAction::AddDepartment { .. } => (&mut groups, true),
                    _ => (&mut groups, false),
                };
                let had = list.iter().any(|x| x == target);
                if had == adding {
                    return Ok(Some((user, version)));
                }
                if adding {
                    list.push(target.to_owned());
                } else {
                    list.retain(|x| x != target);
                }
                let patch = if matches!(action, BulkAction::AddRole { .. } | BulkAction::RemoveRole { .. }) {
                    UserPatch { roles: Some(roles), ..UserPatch::default() }
                } else {
                    UserPatch { departments: Some(groups), ..UserPatch::default() }
                };
                match user_edit::apply(state, principal, meta, org, id, Some(&etag(version)), patch, None).await {
                    Err(ApiError::Problem { code, .. }) if code == codes::PRECONDITION_FAILED && attempt == 0 => {
                        continue;
                    }
                    other => {
                        let saved = other?;
                        return Ok(Some((saved.user, saved.version)));
                    }
                }
            }
            Err(ApiError::new(StatusCode::CONFLICT, codes::PRECONDITION_FAILED, "The user kept changing; try again."))
        }
    }
}
