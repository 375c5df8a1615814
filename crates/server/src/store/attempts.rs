//! Login attempts: the sign-in log and the brute-force counters read from it.

use super::Conn;
use crate::error::Result;

/// Forgets one attempt (a reservation whose guess turned out right).
pub async fn forget(conn: &mut Conn, id: i64) -> Result<()> {
    sqlx::query("DELETE FROM login_attempts WHERE id = $1").bind(id).execute(conn).await?;
    Ok(())
}

/// Settles a reserved attempt with its result.
pub async fn settle(conn: &mut Conn, id: i64, result: &str, reason: Option<&str>) -> Result<()> {
    sqlx::query("UPDATE login_attempts SET result = $1, reason = $2 WHERE id = $3").bind(result).bind(reason).bind(id).execute(conn).await?;
    Ok(())
}
