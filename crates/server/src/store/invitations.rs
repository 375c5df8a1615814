//! Invitations.

use super::Db;
use crate::error::Result;
use chrono::{DateTime, Utc};

/// When the user's open invitation expires, if they have one.
pub async fn open_expiry(db: &Db, user_id: &str) -> Result<Option<DateTime<Utc>>> {
    Ok(sqlx::query_scalar("SELECT expires_at FROM invitations WHERE user_id = $1 AND status = 'pending'").bind(user_id).fetch_optional(db).await?)
}
