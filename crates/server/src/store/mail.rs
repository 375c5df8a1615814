//! The mail outbox: queued messages and their delivery.

use super::{Conn, Db};
use crate::error::Result;
use chrono::{DateTime, Utc};
use gatehouse_api::MailMessage;

/// Queues a message under `id`.
pub async fn enqueue(conn: &mut Conn, id: &str, org_id: &str, mail: &crate::mail::Mail, now: DateTime<Utc>) -> Result<()> {
    on!(conn, |conn| {
        sqlx::query(
            "INSERT INTO mail_outbox (id, org_id, kind, to_addr, subject, text_body, html_body, created_at, next_attempt_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
        )
        .bind(id)
        .bind(org_id)
        .bind(mail.kind)
        .bind(&mail.to)
        .bind(&mail.subject)
        .bind(&mail.text)
        .bind(&mail.html)
        .bind(now)
        .execute(conn)
        .await?;
        Ok(())
    })
}

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

/// The organization's newest `limit` messages, newest first.
pub async fn latest(db: &Db, org_id: &str, limit: u32) -> Result<Vec<MailMessage>> {
    on!(db, |db| {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, kind, to_addr, subject, text_body, html_body, created_at, sent_at, attempts, last_error \
         FROM mail_outbox WHERE org_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
        )
        .bind(org_id)
        .bind(i64::from(limit))
        .fetch_all(db)
        .await?;
        Ok(rows
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
            .collect())
    })
}

/// A message due for delivery.
#[derive(sqlx::FromRow)]
pub struct Due {
    /// Its id.
    pub id: String,
    /// The recipient.
    pub to_addr: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text_body: String,
    /// HTML body.
    pub html_body: String,
    /// Attempts so far.
    pub attempts: i64,
    /// When it became due (the lease compares it).
    pub next_attempt_at: DateTime<Utc>,
}

/// Up to `limit` messages due by `now`, oldest due first.
pub async fn due(db: &Db, now: DateTime<Utc>, limit: u32) -> Result<Vec<Due>> {
    on!(db, |db| {
        Ok(sqlx::query_as(
            "SELECT id, to_addr, subject, text_body, html_body, attempts, next_attempt_at FROM mail_outbox \
         WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $1 ORDER BY next_attempt_at LIMIT $2",
        )
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(db)
        .await?)
    })
}

/// Takes a due message for this worker until `until`; false when another worker has it.
pub async fn lease(db: &Db, m: &Due, until: DateTime<Utc>) -> Result<bool> {
    on!(db, |db| {
        let claimed = sqlx::query("UPDATE mail_outbox SET next_attempt_at = $1 WHERE id = $2 AND next_attempt_at = $3 AND sent_at IS NULL")
            .bind(until)
            .bind(&m.id)
            .bind(m.next_attempt_at)
            .execute(db)
            .await?;
        Ok(claimed.rows_affected() == 1)
    })
}

/// Records a delivery; without `keep_body` the body goes (it may hold a link).
pub async fn sent(db: &Db, id: &str, attempts: i64, keep_body: bool, now: DateTime<Utc>) -> Result<()> {
    on!(db, |db| {
        let blank = if keep_body { "" } else { ", text_body = '', html_body = ''" };
        sqlx::query(&format!("UPDATE mail_outbox SET sent_at = $1, attempts = $2, last_error = NULL{blank} WHERE id = $3"))
            .bind(now)
            .bind(attempts)
            .bind(id)
            .execute(db)
            .await?;
        Ok(())
    })
}

/// A failed delivery attempt.
pub struct Failed<'a> {
    /// Attempts so far, this one included.
    pub attempts: i64,
    /// What the relay said.
    pub error: &'a str,
    /// When to try again.
    pub retry_at: DateTime<Utc>,
    /// Set when given up on.
    pub given_up: Option<DateTime<Utc>>,
}

/// Records a failed attempt; without `keep_body` the body goes.
pub async fn failed(db: &Db, id: &str, f: &Failed<'_>, keep_body: bool) -> Result<()> {
    on!(db, |db| {
        let blank = if keep_body { "" } else { ", text_body = '', html_body = ''" };
        sqlx::query(&format!("UPDATE mail_outbox SET attempts = $1, last_error = $2, next_attempt_at = $3, failed_at = $4{blank} WHERE id = $5"))
            .bind(f.attempts)
            .bind(f.error)
            .bind(f.retry_at)
            .bind(f.given_up)
            .bind(id)
            .execute(db)
            .await?;
        Ok(())
    })
}
