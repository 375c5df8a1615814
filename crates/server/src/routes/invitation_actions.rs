//! Resend, revoke and copy the link of an invitation (SPEC I5).

use super::invitations::{Sender, expiry, link, record, send, sender_of};
use super::paging;
use crate::app::AppState;
use crate::auth::{InvitationsManage, Principal};
use crate::error::{ApiError, Result};
use crate::extract::ApiPath;
use crate::extract::ClientMeta;
use crate::idempotency::Idempotency;
use crate::policy::{self, OnInvitation, Rank};
use crate::store::invitations::{Row, find};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use gatehouse_api::{Invitation, InvitationLink, InvitationStatus, Problem, codes};
use serde_json::json;

/// The invitation, once the policy agrees the caller may hand out what it grants: its
/// link, a resend and a revocation each pass on (or withdraw) the roles it carries.
async fn load_for_action(state: &AppState, principal: &Principal, id: &str, doing: &str) -> Result<(Row, OnInvitation)> {
    principal.require::<InvitationsManage>()?;
    paging::check_id("invitation", id)?;
    let mut tx = crate::store::read(&state.db).await?;
    let row = find(&mut tx, &principal.org_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No invitation with id `{id}` in this organization.")))?;
    tx.commit().await?;
    let rank = granted_rank(state, &principal.org_id, &row).await?;
    let yes = policy::on_invitation(principal, &row.email, &rank, doing)?;
    Ok((row, yes))
}

/// What accepting the invitation would grant: its roles as they are now (a role deleted
/// since grants nothing), and whatever its pending user already holds.
async fn granted_rank(state: &AppState, org: &str, row: &Row) -> Result<Rank> {
    let mut rank = match &row.user_id {
        Some(user) => policy::rank_of(&state.db, user).await?,
        None => Rank::default(),
    };
    let ids: Vec<String> = row.to_api(state.clock.now())?.roles.into_iter().map(|r| r.id).collect();
    for (key, permissions) in known_roles(state, org, &ids).await? {
        rank.join(Rank::of_role(&key, permissions));
    }
    Ok(rank)
}

/// The (key, permissions) of the roles of `org` among `ids`.
async fn known_roles(state: &AppState, org: &str, ids: &[String]) -> Result<Vec<(String, Vec<String>)>> {
    let all = crate::store::roles::grantable(&state.db, org).await?;
    all.into_iter()
        .filter(|r| ids.contains(&r.id))
        .map(|r| Ok((r.key, serde_json::from_str(&r.permissions).map_err(|e| ApiError::Internal(e.into()))?)))
        .collect()
}

fn not_open(row: &Row, now: DateTime<Utc>, doing: &str) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        codes::INVITATION_NOT_PENDING,
        format!("The invitation of {} is {}, so it cannot be {doing}.", row.email, row.status_at(now).as_str()),
    )
}

/// Sends the invitation again with a new link and a new expiry; older links stop working.
/// Works on pending and expired invitations.
#[utoipa::path(
    post, path = "/v1/invitations/{id}/resend", tag = "invitations",
    params(
        ("id" = String, Path, description = "Invitation id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer (and send no second e-mail)"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The invitation with its new expiry", body = Invitation),
        (status = 400, description = "`invalid_id`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacks `invitations.manage`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such invitation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invitation_not_pending`: accepted, declined or revoked", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn resend_invitation(
    State(state): State<AppState>,
    principal: Principal,
    meta: ClientMeta,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
) -> Result<Response> {
    let granted = principal.require::<InvitationsManage>()?;
    let org = granted.org_id().to_owned();
    let path = format!("/v1/invitations/{id}/resend");
    Idempotency::handle(&state, &principal, &headers, ("POST", &path), &(), async |idem| {
        let (row, yes) = load_for_action(&state, &principal, &id, "resend it").await?;
        let now = state.clock.now();
        if row.status != "pending" {
            return Err(not_open(&row, now, "resent"));
        }
        let names = sender_of(&state.db, &principal).await?;
        let sender = Sender::caller(&principal, &meta, &org, &names);
        let mut tx = crate::store::write(&state.db).await?;
        let expires_at = expiry(&mut tx, &org, now).await?;
        if !crate::store::invitations::renew(&mut tx, &row.id, row.generation, now, expires_at).await? {
            return Err(ApiError::new(StatusCode::CONFLICT, codes::INVITATION_NOT_PENDING, "The invitation changed meanwhile; look again."));
        }
        let row = find(&mut tx, &org, &row.id).await?.ok_or_else(|| ApiError::not_found("The invitation is gone."))?;
        send(&state, &mut tx, &sender, &row, &yes, now).await?;
        record(&mut tx, &sender, &row, "invitation.resent", json!({ "expires_at": row.expires_at, "send_count": row.send_count }), now).await?;
        let body = serde_json::to_vec(&row.to_api(now)?).map_err(|e| ApiError::Internal(e.into()))?;
        if let Some(idem) = idem {
            idem.store(&mut tx, StatusCode::OK, None, &body, now).await?;
        }
        tx.commit().await?;
        state.wake_mailer();
        Ok(super::json_body(StatusCode::OK, body))
    })
    .await
}

/// Withdraws an invitation: its link stops working at once and its seat is freed (the
/// pending user is removed). Revoking a revoked invitation answers it as it is.
#[utoipa::path(
    post, path = "/v1/invitations/{id}/revoke", tag = "invitations",
    params(
        ("id" = String, Path, description = "Invitation id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The revoked invitation", body = Invitation),
        (status = 400, description = "`invalid_id`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacks `invitations.manage`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such invitation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invitation_not_pending`: already accepted or declined", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn revoke_invitation(
    State(state): State<AppState>,
    principal: Principal,
    meta: ClientMeta,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
) -> Result<Response> {
    let granted = principal.require::<InvitationsManage>()?;
    let org = granted.org_id().to_owned();
    let path = format!("/v1/invitations/{id}/revoke");
    Idempotency::handle(&state, &principal, &headers, ("POST", &path), &(), async |idem| {
        let (row, yes) = load_for_action(&state, &principal, &id, "revoke it").await?;
        let now = state.clock.now();
        match row.status.as_str() {
            "revoked" => {
                return Ok(super::json_body(StatusCode::OK, serde_json::to_vec(&row.to_api(now)?).map_err(|e| ApiError::Internal(e.into()))?));
            }
            "pending" => {}
            _ => return Err(not_open(&row, now, "revoked")),
        }
        let names = sender_of(&state.db, &principal).await?;
        let sender = Sender::caller(&principal, &meta, &org, &names);
        let mut tx = crate::store::write(&state.db).await?;
        let closed = close(&mut tx, &org, &row, "revoked", &yes, now).await?;
        // Against the pending user it held the seat for (`closed` no longer names them).
        record(&mut tx, &sender, &row, "invitation.revoked", json!({}), now).await?;
        let body = serde_json::to_vec(&closed.to_api(now)?).map_err(|e| ApiError::Internal(e.into()))?;
        if let Some(idem) = idem {
            idem.store(&mut tx, StatusCode::OK, None, &body, now).await?;
        }
        tx.commit().await?;
        Ok(super::json_body(StatusCode::OK, body))
    })
    .await
}

/// Who may end a pending invitation: an administrator the rule agreed to
/// ([`OnInvitation`]: a revocation withdraws the access it carries), or the invitee
/// holding its link (`invitee::Open`, made only from a verified token: a decline).
pub(crate) trait MayClose {}
impl MayClose for OnInvitation {}

/// Ends a pending invitation as `status` (revoked or declined) inside `tx` and removes
/// its pending user, which frees the seat. Refused when it stopped being pending meanwhile.
pub(crate) async fn close(tx: &mut crate::store::Tx, org: &str, row: &Row, status: &str, _may: &impl MayClose, now: DateTime<Utc>) -> Result<Row> {
    if !crate::store::invitations::close(tx, &row.id, status, now).await? {
        return Err(ApiError::new(StatusCode::CONFLICT, codes::INVITATION_NOT_PENDING, "The invitation was answered or withdrawn meanwhile."));
    }
    if let Some(user) = &row.user_id {
        crate::store::users::delete_pending(tx, org, user).await?;
    }
    find(tx, org, &row.id).await?.ok_or_else(|| ApiError::not_found("The invitation is gone."))
}

/// The invitation's current link, to share by another channel (SPEC I5). It carries the
/// token: whoever has it can join as the invitee.
#[utoipa::path(
    get, path = "/v1/invitations/{id}/link", tag = "invitations",
    params(("id" = String, Path, description = "Invitation id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The link and its expiry", body = InvitationLink),
        (status = 400, description = "`invalid_id`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacks `invitations.manage`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such invitation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invitation_not_pending`: the link no longer works (expired: resend it)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn invitation_link(State(state): State<AppState>, principal: Principal, ApiPath(id): ApiPath<String>) -> Result<Json<InvitationLink>> {
    let (row, yes) = load_for_action(&state, &principal, &id, "see its link").await?;
    let now = state.clock.now();
    if row.status_at(now) != InvitationStatus::Pending {
        return Err(not_open(&row, now, "shared (resend it for a new link)"));
    }
    Ok(Json(InvitationLink { id: row.id.clone(), link: link(&state, &row.id, row.generation, &yes), expires_at: row.expires_at }))
}
