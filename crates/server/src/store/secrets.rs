//! What the server keys touch in the database: the signing key of databases from before
//! key files, and the sealed TOTP secrets that rotation re-encrypts.

use super::Db;
use crate::error::Result;

/// The signing key older databases kept in `server_secrets`, if this one still does.
pub async fn legacy_signing_key(db: &Db) -> Result<Option<Vec<u8>>> {
    on!(db, |db| { Ok(sqlx::query_scalar("SELECT value FROM server_secrets WHERE name = 'access_token_key'").fetch_optional(db).await?) })
}

/// Deletes the legacy signing key (it has moved into the key file).
pub async fn forget_legacy_signing_key(db: &Db) -> Result<()> {
    on!(db, |db| {
        sqlx::query("DELETE FROM server_secrets WHERE name = 'access_token_key'").execute(db).await?;
        Ok(())
    })
}

/// The two columns a TOTP secret is stored in.
#[derive(Debug, Clone, Copy)]
pub enum TotpColumn {
    /// An enrolled user's secret.
    Enrolled,
    /// A secret handed out at enrolment, not yet confirmed.
    Pending,
}

impl TotpColumn {
    /// Both.
    pub const ALL: [Self; 2] = [Self::Enrolled, Self::Pending];

    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enrolled => "totp_secret",
            Self::Pending => "totp_pending_secret",
        }
    }
}

/// How many secrets (in either column) are stored with this prefix: `gh1:` for every
/// sealed one, `gh1:<key id>:` for those under one key.
pub async fn count_with_prefix(db: &Db, prefix: &str) -> Result<i64> {
    on!(db, |db| {
        let pattern = gatehouse_api::prefix_like_pattern(prefix);
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE totp_secret LIKE $1 ESCAPE '\\' OR totp_pending_secret LIKE $1 ESCAPE '\\'")
            .bind(pattern)
            .fetch_one(db)
            .await?)
    })
}

/// Every (user id, stored secret) of `column` not stored with `prefix`.
pub async fn without_prefix(db: &Db, column: TotpColumn, prefix: &str) -> Result<Vec<(String, String)>> {
    on!(db, |db| {
        let pattern = gatehouse_api::prefix_like_pattern(prefix);
        let column = column.as_str();
        Ok(sqlx::query_as(&format!("SELECT id, {column} FROM users WHERE {column} IS NOT NULL AND {column} NOT LIKE $1 ESCAPE '\\'"))
            .bind(pattern)
            .fetch_all(db)
            .await?)
    })
}

/// Replaces user `id`'s secret in `column` with `new` if it still is `old`; whether it was.
pub async fn replace(db: &Db, column: TotpColumn, id: &str, old: &str, new: &str) -> Result<bool> {
    on!(db, |db| {
        let column = column.as_str();
        let done =
            sqlx::query(&format!("UPDATE users SET {column} = $1 WHERE id = $2 AND {column} = $3")).bind(new).bind(id).bind(old).execute(db).await?;
        Ok(done.rows_affected() == 1)
    })
}
