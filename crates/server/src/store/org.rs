//! Organizations and their settings.

use super::Db;
use crate::error::Result;

/// The organization's id and name.
pub async fn id_and_name(db: &Db, id: &str) -> Result<(String, String)> {
    Ok(sqlx::query_as("SELECT id, name FROM organizations WHERE id = $1").bind(id).fetch_one(db).await?)
}

/// The only organization of a server that has one.
pub async fn the_only_one(db: &Db) -> Result<Option<String>> {
    let orgs: Vec<String> = sqlx::query_scalar("SELECT id FROM organizations LIMIT 2").fetch_all(db).await?;
    Ok(if orgs.len() == 1 { orgs.into_iter().next() } else { None })
}

/// The organization's name.
pub async fn name(conn: &mut super::Conn, id: &str) -> Result<String> {
    Ok(sqlx::query_scalar("SELECT name FROM organizations WHERE id = $1").bind(id).fetch_one(conn).await?)
}
