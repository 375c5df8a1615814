//! `GET /v1/dev/mailbox`: the demo server's outgoing mail, so the app (and someone trying
//! Gatehouse without a mail server) can read the messages a real relay would deliver.

use crate::app::AppState;
use crate::auth::{Principal, UsersManage};
use crate::error::{ApiError, Result};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use gatehouse_api::{MailMessage, Problem, codes};

/// The organization's last 100 outgoing messages, newest first (demo mode only). Mail to
/// an account holding a permission the caller lacks is left out: its reset link would let
/// a Manager take over an Owner's account.
#[utoipa::path(
    get, path = "/v1/dev/mailbox", tag = "organization",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Messages, newest first", body = Vec<MailMessage>),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacks `users.manage`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`mailbox_disabled`: not a demo server", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn mailbox(State(state): State<AppState>, principal: Principal) -> Result<Json<Vec<MailMessage>>> {
    let granted = principal.require::<UsersManage>()?;
    if !state.config.dev_mailbox {
        return Err(ApiError::new(StatusCode::NOT_FOUND, codes::MAILBOX_DISABLED, "The mailbox exists only on demo servers (--dev-mailbox)."));
    }
    let rows = crate::store::mail::latest(&state.db, granted.org_id(), 100).await?;
    let mut readable = std::collections::HashMap::<String, bool>::new();
    let mut shown = Vec::with_capacity(rows.len());
    for row in rows {
        let to = row.to.to_lowercase();
        let ok = match readable.get(&to) {
            Some(ok) => *ok,
            None => {
                let ok = may_read_mail_of(&state, &principal, granted.org_id(), &to).await?;
                readable.insert(to, ok);
                ok
            }
        };
        if ok {
            shown.push(row);
        }
    }
    Ok(Json(shown))
}

/// Whether the caller may read mail sent to `email`: their own, an address without an
/// account, or an account whose every permission the caller holds too.
async fn may_read_mail_of(state: &AppState, principal: &Principal, org: &str, email: &str) -> Result<bool> {
    let user = crate::store::users::id_by_email(&state.db, org, email).await?;
    let Some(id) = user else { return Ok(true) };
    if id == principal.user_id {
        return Ok(true);
    }
    // The same rule as acting on them: a message may hold their reset link.
    let theirs = crate::policy::rank_of(&state.db, &id).await?;
    Ok(crate::policy::decide::<crate::policy::ReadMail>(principal, false, "", &theirs).is_ok())
}
