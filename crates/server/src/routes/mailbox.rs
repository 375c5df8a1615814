//! `GET /v1/dev/mailbox`: the demo server's outgoing mail, so the app (and someone trying
//! Gatehouse without a mail server) can read the messages a real relay would deliver.

use crate::app::AppState;
use crate::auth::{Principal, UsersManage};
use crate::error::{ApiError, Result};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use gatehouse_api::{MailMessage, Problem, codes};

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    kind: String,
    to_addr: String,
    subject: String,
    text_body: String,
    html_body: String,
    created_at: DateTime<Utc>,
    sent_at: Option<DateTime<Utc>>,
    attempts: i64,
    last_error: Option<String>,
}

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
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, kind, to_addr, subject, text_body, html_body, created_at, sent_at, attempts, last_error \
         FROM mail_outbox WHERE org_id = ? ORDER BY created_at DESC, id DESC LIMIT 100",
    )
    .bind(granted.org_id())
    .fetch_all(&state.db)
    .await?;
    let mut readable = std::collections::HashMap::<String, bool>::new();
    let mut shown = Vec::with_capacity(rows.len());
    for row in rows {
        let to = row.to_addr.to_lowercase();
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
    Ok(Json(
        shown
            .into_iter()
            .map(|r| MailMessage {
                id: r.id,
                kind: r.kind,
                to: r.to_addr,
                subject: r.subject,
                text: r.text_body,
                html: r.html_body,
                created_at: r.created_at,
                sent_at: r.sent_at,
                attempts: u32::try_from(r.attempts).unwrap_or(0),
                last_error: r.last_error,
            })
            .collect(),
    ))
}

/// Whether the caller may read mail sent to `email`: their own, an address without an
/// account, or an account whose every permission the caller holds too.
async fn may_read_mail_of(state: &AppState, principal: &Principal, org: &str, email: &str) -> Result<bool> {
    let user: Option<String> =
        sqlx::query_scalar("SELECT id FROM users WHERE email_lower = ? AND org_id = ?").bind(email).bind(org).fetch_optional(&state.db).await?;
    let Some(id) = user else { return Ok(true) };
    if id == principal.user_id {
        return Ok(true);
    }
    // The same rule as acting on them: a message may hold their reset link.
    let theirs = crate::policy::rank_of(&state.db, &id).await?;
    Ok(crate::policy::decide::<crate::policy::ReadMail>(principal, false, "", &theirs).is_ok())
}
