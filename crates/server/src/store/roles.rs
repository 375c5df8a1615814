//! Roles and role memberships.

use super::Conn;
use super::Db;
use crate::error::Result;
use chrono::{DateTime, Utc};

/// A role as stored, with its member count.
#[derive(sqlx::FromRow)]
pub struct Row {
    /// Its id.
    pub id: String,
    /// Its stable key (`owner`, `admin`, …).
    pub key: String,
    /// Its name.
    pub name: String,
    /// One of the built-in roles.
    pub builtin: bool,
    /// A JSON array of permission keys.
    pub permissions: String,
    /// Its version, for `If-Match`.
    pub version: i64,
    /// How many users hold it.
    pub member_count: i64,
}

const SELECT: &str = "SELECT r.id, r.key, r.name, r.builtin, r.permissions, r.version, \
     (SELECT COUNT(*) FROM user_roles ur WHERE ur.role_id = r.id) AS member_count FROM roles r";

/// A role of the organization.
pub async fn find(conn: &mut Conn, org_id: &str, id: &str) -> Result<Option<Row>> {
    on!(conn, |conn| { Ok(sqlx::query_as(&format!("{SELECT} WHERE r.org_id = $1 AND r.id = $2")).bind(org_id).bind(id).fetch_optional(conn).await?) })
}

/// The organization's roles: built-in ones first, then by age and name.
pub async fn list(db: &Db, org_id: &str) -> Result<Vec<Row>> {
    on!(db, |db| {
        Ok(sqlx::query_as(&format!("{SELECT} WHERE r.org_id = $1 ORDER BY r.builtin DESC, r.created_at, r.name")).bind(org_id).fetch_all(db).await?)
    })
}

/// Whether another role of the organization (not `except`) has this name (in any case)
/// or, when given, this key.
pub async fn clashes(conn: &mut Conn, org_id: &str, name: &str, key: Option<&str>, except: Option<&str>) -> Result<bool> {
    on!(conn, |conn| {
        let found: Option<i32> =
            sqlx::query_scalar("SELECT 1 FROM roles WHERE org_id = $1 AND (lower(name) = lower($2) OR key = $3) AND id IS DISTINCT FROM $4 LIMIT 1")
                .bind(org_id)
                .bind(name)
                .bind(key)
                .bind(except)
                .fetch_optional(conn)
                .await?;
        Ok(found.is_some())
    })
}

/// Stores a new custom role.
pub async fn create(conn: &mut Conn, id: &str, org_id: &str, key: &str, name: &str, permissions_json: &str, now: DateTime<Utc>) -> Result<()> {
    on!(conn, |conn| {
        sqlx::query("INSERT INTO roles (id, org_id, key, name, builtin, permissions, created_at) VALUES ($1, $2, $3, $4, FALSE, $5, $6)")
            .bind(id)
            .bind(org_id)
            .bind(key)
            .bind(name)
            .bind(permissions_json)
            .bind(now)
            .execute(conn)
            .await?;
        Ok(())
    })
}

/// The id of the organization's built-in role `key`, made (`name`, `permissions_json`)
/// when it has none yet.
pub async fn ensure_builtin(conn: &mut Conn, org_id: &str, key: &str, name: &str, permissions_json: &str, now: DateTime<Utc>) -> Result<String> {
    on!(conn, |conn| {
        let found: Option<String> =
            sqlx::query_scalar("SELECT id FROM roles WHERE org_id = $1 AND key = $2").bind(org_id).bind(key).fetch_optional(&mut *conn).await?;
        if let Some(id) = found {
            return Ok(id);
        }
        let id = uuid::Uuid::now_v7().to_string();
        sqlx::query("INSERT INTO roles (id, org_id, key, name, builtin, permissions, created_at) VALUES ($1, $2, $3, $4, TRUE, $5, $6)")
            .bind(&id)
            .bind(org_id)
            .bind(key)
            .bind(name)
            .bind(permissions_json)
            .bind(now)
            .execute(&mut *conn)
            .await?;
        Ok(id)
    })
}

/// Saves a role's name and permissions and moves its version.
pub async fn update(conn: &mut Conn, id: &str, name: &str, permissions_json: &str) -> Result<()> {
    on!(conn, |conn| {
        sqlx::query("UPDATE roles SET name = $1, permissions = $2, version = version + 1 WHERE id = $3")
            .bind(name)
            .bind(permissions_json)
            .bind(id)
            .execute(conn)
            .await?;
        Ok(())
    })
}

/// Moves the version of every holder of the role (their copies show its name).
pub async fn touch_members(conn: &mut Conn, role_id: &str) -> Result<()> {
    on!(conn, |conn| {
        sqlx::query("UPDATE users SET version = version + 1 WHERE id IN (SELECT user_id FROM user_roles WHERE role_id = $1)")
            .bind(role_id)
            .execute(conn)
            .await?;
        Ok(())
    })
}

/// The holders of the role.
pub async fn members(conn: &mut Conn, role_id: &str) -> Result<Vec<String>> {
    on!(conn, |conn| { Ok(sqlx::query_scalar("SELECT user_id FROM user_roles WHERE role_id = $1").bind(role_id).fetch_all(conn).await?) })
}

/// Deletes a role (its memberships go with it).
pub async fn delete(conn: &mut Conn, id: &str) -> Result<()> {
    on!(conn, |conn| {
        sqlx::query("DELETE FROM roles WHERE id = $1").bind(id).execute(conn).await?;
        Ok(())
    })
}

/// The id of the organization's role with this key.
pub async fn id_of_key(conn: &mut Conn, org_id: &str, key: &str) -> Result<Option<String>> {
    on!(conn, |conn| {
        Ok(sqlx::query_scalar("SELECT id FROM roles WHERE org_id = $1 AND key = $2").bind(org_id).bind(key).fetch_optional(conn).await?)
    })
}

/// Gives the user the role if they hold none; returns 1 when it did.
pub async fn grant_if_roleless(conn: &mut Conn, user_id: &str, role_id: &str) -> Result<u64> {
    on!(conn, |conn| {
        Ok(sqlx::query("INSERT INTO user_roles (user_id, role_id) SELECT $1, $2 WHERE NOT EXISTS (SELECT 1 FROM user_roles WHERE user_id = $1)")
            .bind(user_id)
            .bind(role_id)
            .execute(conn)
            .await?
            .rows_affected())
    })
}

/// The key and permissions (JSON) of each role `user_id` holds.
pub async fn held_by(db: &Db, user_id: &str) -> Result<Vec<(String, String)>> {
    on!(db, |db| {
        Ok(sqlx::query_as("SELECT r.key, r.permissions FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = $1")
            .bind(user_id)
            .fetch_all(db)
            .await?)
    })
}

/// A role as granting it needs: who it is and what it holds.
#[derive(sqlx::FromRow, Clone)]
pub struct Grantable {
    /// Its id.
    pub id: String,
    /// Its stable key.
    pub key: String,
    /// Its name.
    pub name: String,
    /// One of the built-in roles.
    pub builtin: bool,
    /// A JSON array of permission keys.
    pub permissions: String,
}

/// Every role of the organization, as granting needs them.
pub async fn grantable(db: &Db, org_id: &str) -> Result<Vec<Grantable>> {
    on!(db, |db| { Ok(sqlx::query_as("SELECT id, key, name, builtin, permissions FROM roles WHERE org_id = $1").bind(org_id).fetch_all(db).await?) })
}
