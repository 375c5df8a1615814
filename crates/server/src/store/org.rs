//! Organizations and their settings.

use super::{Conn, Db};
use crate::error::Result;

/// The organization's id and name.
pub async fn id_and_name(db: &Db, id: &str) -> Result<(String, String)> {
    on!(db, |db| { Ok(sqlx::query_as("SELECT id, name FROM organizations WHERE id = $1").bind(id).fetch_one(db).await?) })
}

/// The only organization of a server that has one.
pub async fn the_only_one(db: &Db) -> Result<Option<String>> {
    on!(db, |db| {
        let orgs: Vec<String> = sqlx::query_scalar("SELECT id FROM organizations LIMIT 2").fetch_all(db).await?;
        Ok(if orgs.len() == 1 { orgs.into_iter().next() } else { None })
    })
}

/// The id of the organization named `name` (without regard to case), if exactly one is.
pub async fn id_by_name(db: &Db, name: &str) -> Result<Option<String>> {
    on!(db, |db| {
        let orgs: Vec<String> =
            sqlx::query_scalar("SELECT id FROM organizations WHERE lower(name) = lower($1) LIMIT 2").bind(name).fetch_all(db).await?;
        Ok(if orgs.len() == 1 { orgs.into_iter().next() } else { None })
    })
}

/// The organization's longest-standing active Owner.
pub async fn first_active_owner(db: &Db, org_id: &str) -> Result<Option<String>> {
    on!(db, |db| {
        Ok(sqlx::query_scalar(
            "SELECT u.id FROM users u JOIN user_roles ur ON ur.user_id = u.id JOIN roles r ON r.id = ur.role_id \
             WHERE u.org_id = $1 AND u.status = 'active' AND r.key = 'owner' ORDER BY u.created_at, u.id LIMIT 1",
        )
        .bind(org_id)
        .fetch_optional(db)
        .await?)
    })
}

/// The organization's name.
pub async fn name(conn: &mut Conn, id: &str) -> Result<String> {
    on!(conn, |conn| { Ok(sqlx::query_scalar("SELECT name FROM organizations WHERE id = $1").bind(id).fetch_one(conn).await?) })
}

/// Seats in use: active and pending users (deactivated ones free theirs).
pub async fn seats_used(conn: &mut Conn, org_id: &str) -> Result<u32> {
    on!(conn, |conn| {
        let n: i64 = sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM user_status_counts WHERE org_id = $1 AND status IN ('active', 'pending')",
        )
        .bind(org_id)
        .fetch_one(conn)
        .await?;
        Ok(u32::try_from(n.max(0)).unwrap_or(u32::MAX))
    })
}

/// The organization's seat limit.
pub async fn seat_limit(conn: &mut Conn, org_id: &str) -> Result<u32> {
    on!(conn, |conn| {
        let limit: i64 = sqlx::query_scalar("SELECT seat_limit FROM organizations WHERE id = $1").bind(org_id).fetch_one(conn).await?;
        Ok(u32::try_from(limit).unwrap_or(0))
    })
}

/// The organization's settings as stored.
#[derive(sqlx::FromRow)]
pub struct Settings {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Seats it may use.
    pub seat_limit: i64,
    /// How long invitations work.
    pub invitation_expiry_days: i64,
    /// Everyone must use MFA.
    pub mfa_required: bool,
    /// How long the activity log is kept.
    pub audit_retention_days: i64,
    /// Its version, for `If-Match`.
    pub version: i64,
}

/// The organization's settings.
pub async fn settings(conn: &mut Conn, org_id: &str) -> Result<Settings> {
    on!(conn, |conn| {
        Ok(sqlx::query_as(
            "SELECT id, name, seat_limit, invitation_expiry_days, mfa_required, audit_retention_days, version FROM organizations WHERE id = $1",
        )
        .bind(org_id)
        .fetch_one(conn)
        .await?)
    })
}

/// Saves the settings and moves the version.
pub async fn save_settings(conn: &mut Conn, org_id: &str, to: &gatehouse_api::Organization) -> Result<()> {
    on!(conn, |conn| {
        sqlx::query(
            "UPDATE organizations SET name = $1, seat_limit = $2, invitation_expiry_days = $3, mfa_required = $4, audit_retention_days = $5, \
         version = version + 1 WHERE id = $6",
        )
        .bind(&to.name)
        .bind(i64::from(to.seat_limit))
        .bind(i64::from(to.invitation_expiry_days))
        .bind(to.mfa_required)
        .bind(i64::from(to.audit_retention_days))
        .bind(org_id)
        .execute(conn)
        .await?;
        Ok(())
    })
}

/// How many days the organization's invitations work for.
pub async fn invitation_expiry_days(conn: &mut Conn, id: &str) -> Result<i64> {
    on!(conn, |conn| {
        Ok(sqlx::query_scalar("SELECT invitation_expiry_days FROM organizations WHERE id = $1").bind(id).fetch_one(&mut *conn).await?)
    })
}
