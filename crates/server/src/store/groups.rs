//! Groups: departments and companies, and their memberships.

use super::{Conn, Db};
use crate::error::Result;
use chrono::{DateTime, Utc};
use gatehouse_api::{Group, GroupKind, GroupRef};

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    name: String,
    kind: String,
    version: i64,
    member_count: i64,
}

const SELECT: &str = "SELECT g.id, g.name, g.kind, g.version, \
     (SELECT COUNT(*) FROM user_groups ug WHERE ug.group_id = g.id) AS member_count FROM groups g";

impl Row {
    fn into_group(self) -> (Group, i64) {
        let group = Group {
            id: self.id,
            name: self.name,
            kind: GroupKind::parse(&self.kind),
            member_count: u32::try_from(self.member_count).unwrap_or(u32::MAX),
        };
        (group, self.version)
    }
}

/// A group of the organization, with its version.
pub async fn find(conn: &mut Conn, org_id: &str, id: &str) -> Result<Option<(Group, i64)>> {
    on!(conn, |conn| {
        let row: Option<Row> =
            sqlx::query_as(&format!("{SELECT} WHERE g.org_id = $1 AND g.id = $2")).bind(org_id).bind(id).fetch_optional(conn).await?;
        Ok(row.map(Row::into_group))
    })
}

/// The organization's groups (of one kind, if given), companies after departments, by name.
pub async fn list(db: &Db, org_id: &str, kind: Option<&str>) -> Result<Vec<Group>> {
    on!(db, |db| {
        let rows: Vec<Row> =
            sqlx::query_as(&format!("{SELECT} WHERE g.org_id = $1 AND g.kind = coalesce($2, g.kind) ORDER BY g.kind DESC, lower(g.name)"))
                .bind(org_id)
                .bind(kind)
                .fetch_all(db)
                .await?;
        Ok(rows.into_iter().map(|r| r.into_group().0).collect())
    })
}

/// Whether another group (not `except`) of this kind has this name, in any case.
pub async fn clashes(conn: &mut Conn, org_id: &str, kind: GroupKind, name: &str, except: Option<&str>) -> Result<bool> {
    on!(conn, |conn| {
        let found: Option<i32> =
            sqlx::query_scalar("SELECT 1 FROM groups WHERE org_id = $1 AND kind = $2 AND lower(name) = lower($3) AND id IS DISTINCT FROM $4 LIMIT 1")
                .bind(org_id)
                .bind(kind.as_str())
                .bind(name)
                .bind(except)
                .fetch_optional(conn)
                .await?;
        Ok(found.is_some())
    })
}

/// Stores a new group.
pub async fn create(conn: &mut Conn, id: &str, org_id: &str, kind: GroupKind, name: &str, now: DateTime<Utc>) -> Result<()> {
    on!(conn, |conn| {
        sqlx::query("INSERT INTO groups (id, org_id, kind, name, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(id)
            .bind(org_id)
            .bind(kind.as_str())
            .bind(name)
            .bind(now)
            .execute(conn)
            .await?;
        Ok(())
    })
}

/// Renames a group (and sets its kind), moving its version and its members' (their
/// copies show its name and kind).
pub async fn rename(conn: &mut Conn, id: &str, name: &str, kind: GroupKind) -> Result<()> {
    on!(conn, |conn| {
        sqlx::query("UPDATE groups SET name = $1, kind = $2, version = version + 1 WHERE id = $3")
            .bind(name)
            .bind(kind.as_str())
            .bind(id)
            .execute(&mut *conn)
            .await?;
        sqlx::query("UPDATE users SET version = version + 1 WHERE id IN (SELECT user_id FROM user_groups WHERE group_id = $1)")
            .bind(id)
            .execute(&mut *conn)
            .await?;
        Ok(())
    })
}

/// Adds the members of `from` to `to` (those already in it stay once); returns how many
/// were added.
pub async fn copy_members(conn: &mut Conn, from: &str, to: &str) -> Result<u64> {
    on!(conn, |conn| {
        Ok(sqlx::query("INSERT INTO user_groups (user_id, group_id) SELECT user_id, $1 FROM user_groups WHERE group_id = $2 ON CONFLICT DO NOTHING")
            .bind(to)
            .bind(from)
            .execute(conn)
            .await?
            .rows_affected())
    })
}

/// Deletes a group (its memberships go with it).
pub async fn delete(conn: &mut Conn, id: &str) -> Result<()> {
    on!(conn, |conn| {
        sqlx::query("DELETE FROM groups WHERE id = $1").bind(id).execute(conn).await?;
        Ok(())
    })
}

/// Every department and company of the organization, by reference.
pub async fn refs(db: &Db, org_id: &str) -> Result<Vec<GroupRef>> {
    on!(db, |db| {
        let rows: Vec<(String, String, String)> =
            sqlx::query_as("SELECT id, name, kind FROM groups WHERE org_id = $1").bind(org_id).fetch_all(db).await?;
        Ok(rows.into_iter().map(|(id, name, kind)| GroupRef { id, name, kind: GroupKind::parse(&kind) }).collect())
    })
}
