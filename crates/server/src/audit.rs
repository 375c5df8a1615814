//! Audit events (SPEC A1): every mutation records who did what to whom, from where, with
//! the values before and after, in the mutation's own transaction.

use crate::error::{ApiError, Result};
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{Sqlite, Transaction};

/// One event to record.
pub struct Event<'a> {
    /// The organization it happened in.
    pub org_id: &'a str,
    /// The acting user; `None` for the system.
    pub actor_id: Option<&'a str>,
    /// What kind of thing was acted on: `user`, `role`, `group`, `organization`.
    pub target_type: &'a str,
    /// Its id.
    pub target_id: &'a str,
    /// `noun.verb`, e.g. `user.deactivated`.
    pub action: &'a str,
    /// Where the request came from.
    pub ip: &'a str,
    /// What changed: `{"before": …, "after": …}` and anything else worth keeping.
    pub details: Value,
}

/// Appends `event` inside `tx`.
pub async fn record(tx: &mut Transaction<'_, Sqlite>, event: Event<'_>, at: DateTime<Utc>) -> Result<()> {
    let details = serde_json::to_string(&event.details).map_err(|e| ApiError::Internal(e.into()))?;
    sqlx::query("INSERT INTO audit_events (id, org_id, at, actor_id, target_type, target_id, action, ip, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(event.org_id)
        .bind(at)
        .bind(event.actor_id)
        .bind(event.target_type)
        .bind(event.target_id)
        .bind(event.action)
        .bind(event.ip)
        .bind(details)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The fields of `before` and `after` (JSON objects) that differ, as
/// `{"before": {field: old}, "after": {field: new}}`.
pub fn diff(before: &Value, after: &Value) -> Value {
    let (mut was, mut now) = (serde_json::Map::new(), serde_json::Map::new());
    if let (Value::Object(b), Value::Object(a)) = (before, after) {
        for (key, old) in b {
            let new = a.get(key).unwrap_or(&Value::Null);
            if new != old {
                was.insert(key.clone(), old.clone());
                now.insert(key.clone(), new.clone());
            }
        }
        for (key, new) in a.iter().filter(|(k, _)| !b.contains_key(*k)) {
            was.insert(key.clone(), Value::Null);
            now.insert(key.clone(), new.clone());
        }
    }
    serde_json::json!({ "before": was, "after": now })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn diff_keeps_only_what_changed() {
        let d = diff(&json!({"a": 1, "b": [1], "c": "x"}), &json!({"a": 1, "b": [2], "d": true}));
        assert_eq!(d, json!({"before": {"b": [1], "c": "x", "d": null}, "after": {"b": [2], "c": null, "d": true}}));
    }
}
