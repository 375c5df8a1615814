//! API keys: their rows, and the key a request authenticates with.

use super::{Conn, Db};
use crate::error::Result;
use chrono::{DateTime, Utc};
use gatehouse_api::ApiKey;

/// The columns of a [`Row`].
const COLUMNS: &str = "id, user_id, name, prefix, created_at, last_used_at, suspended_at, suspended_reason, suspended_by, expires_at,
     (SELECT r.key FROM roles r WHERE r.id = api_keys.role_id) AS role_key";

/// An API key as stored (never its secret).
#[derive(sqlx::FromRow)]
pub struct Row {
    id: String,
    /// Its user.
    pub user_id: String,
    name: String,
    prefix: String,
    created_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
    suspended_at: Option<DateTime<Utc>>,
    suspended_reason: Option<String>,
    /// Who suspended it, when suspended by hand.
    pub suspended_by: Option<String>,
    expires_at: Option<DateTime<Utc>>,
    /// The key of the role it is limited to, if any.
    role_key: Option<String>,
}

impl From<Row> for ApiKey {
    fn from(r: Row) -> Self {
        Self {
            id: r.id,
            user_id: r.user_id,
            name: r.name,
            prefix: r.prefix,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            suspended_at: r.suspended_at,
            suspended_reason: r.suspended_reason,
            expires_at: r.expires_at,
            role: r.role_key,
        }
    }
}

/// A user's keys, newest first.
pub async fn of_user(db: &Db, user_id: &str) -> Result<Vec<ApiKey>> {
    on!(db, |db| {
        let rows: Vec<Row> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM api_keys WHERE user_id = $1 ORDER BY created_at DESC, id DESC"))
            .bind(user_id)
            .fetch_all(db)
            .await?;
        Ok(rows.into_iter().map(ApiKey::from).collect())
    })
}

/// A key of the organization.
pub async fn find(db: &Db, org_id: &str, id: &str) -> Result<Option<Row>> {
    on!(db, |db| {
        Ok(sqlx::query_as(&format!("SELECT {COLUMNS} FROM api_keys WHERE id = $1 AND org_id = $2")).bind(id).bind(org_id).fetch_optional(db).await?)
    })
}

/// Stores a new key (the hash of its secret), created by `created_by`.
pub async fn create(conn: &mut Conn, org_id: &str, key: &ApiKey, key_hash: &str, created_by: &str) -> Result<()> {
    on!(conn, |conn| {
        sqlx::query(
        "INSERT INTO api_keys (id, org_id, user_id, name, prefix, key_hash, created_at, created_by, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&key.id)
    .bind(org_id)
    .bind(&key.user_id)
    .bind(&key.name)
    .bind(&key.prefix)
    .bind(key_hash)
    .bind(key.created_at)
    .bind(created_by)
    .bind(key.expires_at)
    .execute(conn)
    .await?;
        Ok(())
    })
}

/// Suspends (`at` set) or restores (`None`) one key.
pub async fn set_suspension(conn: &mut Conn, id: &str, at: Option<DateTime<Utc>>, reason: Option<&str>, by: Option<&str>) -> Result<()> {
    on!(conn, |conn| {
        sqlx::query("UPDATE api_keys SET suspended_at = $1, suspended_reason = $2, suspended_by = $3 WHERE id = $4")
            .bind(at)
            .bind(reason)
            .bind(by)
            .bind(id)
            .execute(conn)
            .await?;
        Ok(())
    })
}

/// Suspends every working key of the user, by hand of `by`; returns how many. Expired keys
/// work no more already: they are neither touched nor counted.
pub async fn suspend_working(conn: &mut Conn, user_id: &str, by: &str, now: DateTime<Utc>) -> Result<u64> {
    on!(conn, |conn| {
        Ok(sqlx::query(
            "UPDATE api_keys SET suspended_at = $1, suspended_reason = 'admin', suspended_by = $2 \
         WHERE user_id = $3 AND suspended_at IS NULL AND (expires_at IS NULL OR expires_at > $1)",
        )
        .bind(now)
        .bind(by)
        .bind(user_id)
        .execute(conn)
        .await?
        .rows_affected())
    })
}

/// Suspends the user's keys because the user was deactivated; returns how many.
pub async fn suspend_for_deactivation(conn: &mut Conn, user_id: &str, now: DateTime<Utc>) -> Result<u64> {
    on!(conn, |conn| {
        Ok(sqlx::query("UPDATE api_keys SET suspended_at = $1, suspended_reason = 'user_deactivated' WHERE user_id = $2 AND suspended_at IS NULL")
            .bind(now)
            .bind(user_id)
            .execute(conn)
            .await?
            .rows_affected())
    })
}

/// Restores the keys deactivation suspended (not those suspended by hand); returns how many.
pub async fn restore_after_reactivation(conn: &mut Conn, user_id: &str) -> Result<u64> {
    on!(conn, |conn| {
        Ok(sqlx::query(
            "UPDATE api_keys SET suspended_at = NULL, suspended_reason = NULL WHERE user_id = $1 AND suspended_reason = 'user_deactivated'",
        )
        .bind(user_id)
        .execute(conn)
        .await?
        .rows_affected())
    })
}

#[derive(sqlx::FromRow)]
/// A key as a request presents it, with its user's status.
pub struct Presented {
    /// The key.
    pub id: String,
    /// Its user.
    pub user_id: String,
    /// Its organization.
    pub org_id: String,
    /// Its name.
    pub name: String,
    /// The first characters of its secret, to recognise it by.
    pub prefix: String,
    /// When it was last used.
    pub last_used_at: Option<DateTime<Utc>>,
    /// When its last `api_key.used` event was recorded.
    pub used_event_at: Option<DateTime<Utc>>,
    /// Set while suspended.
    pub suspended_at: Option<DateTime<Utc>>,
    /// When it stops working, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// Who created it.
    pub created_by: Option<String>,
    /// Its user's status.
    pub status: String,
    /// The role it is limited to, when it is: (key, permissions as JSON).
    pub role_key: Option<String>,
    /// That role's permissions, a JSON array.
    pub role_permissions: Option<String>,
}

/// Limits key `id` to role `role_id`.
pub async fn limit_to_role(conn: &mut Conn, id: &str, role_id: &str) -> Result<()> {
    on!(conn, |conn| {
        sqlx::query("UPDATE api_keys SET role_id = $1 WHERE id = $2").bind(role_id).bind(id).execute(conn).await?;
        Ok(())
    })
}

/// The key whose secret hashes to `key_hash`.
pub async fn by_hash(db: &Db, key_hash: &str) -> Result<Option<Presented>> {
    on!(db, |db| {
        Ok(sqlx::query_as(
        "SELECT k.id, k.user_id, k.org_id, k.name, k.prefix, k.last_used_at, k.used_event_at, k.suspended_at, k.expires_at, k.created_by, u.status,
                r.key AS role_key, r.permissions AS role_permissions
         FROM api_keys k JOIN users u ON u.id = k.user_id LEFT JOIN roles r ON r.id = k.role_id WHERE k.key_hash = $1",
    )
    .bind(key_hash)
    .fetch_optional(db)
    .await?)
    })
}

/// Moves `used_event_at` from `seen` to now: true for the one request of several racing
/// that does, which records the `api_key.used` event.
pub async fn claim_used_event(conn: &mut Conn, id: &str, seen: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Result<bool> {
    on!(conn, |conn| {
        let claimed =
            sqlx::query("UPDATE api_keys SET last_used_at = $1, used_event_at = $1 WHERE id = $2 AND used_event_at IS NOT DISTINCT FROM $3")
                .bind(now)
                .bind(id)
                .bind(seen)
                .execute(conn)
                .await?;
        Ok(claimed.rows_affected() == 1)
    })
}

/// Writes "last used".
pub async fn touch(db: &Db, id: &str, now: DateTime<Utc>) -> Result<()> {
    on!(db, |db| {
        sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2").bind(now).bind(id).execute(db).await?;
        Ok(())
    })
}
