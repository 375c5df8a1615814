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

/// The organization's last 100 outgoing messages, newest first (demo mode only).
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
    Ok(Json(
        rows.into_iter()
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
