//! Idempotency keys: the answer of a change, stored under the caller's key in the
//! change's own transaction.

use super::{Conn, Db};
use crate::error::Result;
use chrono::{DateTime, Utc};

/// An answer as stored.
#[derive(sqlx::FromRow)]
pub struct Stored {
    /// A digest of the request: the same key with another request is refused.
    pub fingerprint: String,
    /// The HTTP status.
    pub status: i64,
    /// Its `Content-Type`.
    pub content_type: String,
    /// Its `ETag`, if it had one.
    pub etag: Option<String>,
    /// Its body.
    pub body: Vec<u8>,
}

/// The answer stored under `user_id`'s `key`.
pub async fn find(db: &Db, user_id: &str, key: &str) -> Result<Option<Stored>> {
    on!(db, |db| {
        Ok(sqlx::query_as("SELECT fingerprint, status, content_type, etag, body FROM idempotency_keys WHERE user_id = $1 AND key = $2")
            .bind(user_id)
            .bind(key)
            .fetch_optional(db)
            .await?)
    })
}

/// Forgets the keys stored before `cutoff`.
pub async fn forget_before(conn: &mut Conn, cutoff: DateTime<Utc>) -> Result<()> {
    on!(conn, |conn| {
        sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1").bind(cutoff).execute(&mut *conn).await?;
        Ok(())
    })
}

/// Stores `answer` under `(user_id, key)`; a second store of one key is refused by its
/// primary key, so one key holds one answer.
pub async fn save(conn: &mut Conn, answer: &Stored, (user_id, key): (&str, &str), now: DateTime<Utc>) -> Result<()> {
    on!(conn, |conn| {
        sqlx::query(
            "INSERT INTO idempotency_keys (user_id, key, fingerprint, status, content_type, etag, body, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(user_id)
        .bind(key)
        .bind(&answer.fingerprint)
        .bind(answer.status)
        .bind(&answer.content_type)
        .bind(&answer.etag)
        .bind(&answer.body)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        Ok(())
    })
}
