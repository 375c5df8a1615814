//! Audit events (SPEC A1): every mutation records who did what to whom, from where, with
//! the values before and after, in the mutation's own transaction.

use crate::error::{ApiError, Result};
use chrono::{DateTime, Utc};
use serde_json::Value;

/// One event to record.
pub struct Event<'a> {
    /// The organization it happened in.
    pub org_id: &'a str,
    /// The acting user; `None` for the system or someone not signed in.
    pub actor_id: Option<&'a str>,
    /// The API key the actor used, when they used one: recorded with who created it.
    pub via: Option<&'a crate::auth::KeyRef>,
    /// What kind of thing was acted on: `user`, `api_key`, `role`, `group`,
    /// `organization`, or `email` (an address typed at a failed sign-in).
    pub target_type: &'a str,
    /// Its id.
    pub target_id: &'a str,
    /// `noun.verb`, e.g. `user.deactivated`: one of `gatehouse_api::AUDIT_ACTIONS` or a
    /// host product's `app.…`.
    pub action: &'a str,
    /// Where the request came from.
    pub ip: &'a str,
    /// The requester's User-Agent.
    pub user_agent: &'a str,
    /// What changed: `{"before": …, "after": …}` and anything else worth keeping. A
    /// `target: {name, email}` object names the target as it was.
    pub details: Value,
}

impl<'a> Event<'a> {
    /// What the signed-in `principal` did from `meta`'s client to `(target_type,
    /// target_id)` in their organization: the usual event of an API request.
    pub fn by(
        principal: &'a crate::auth::Principal,
        meta: &'a crate::extract::ClientMeta,
        (target_type, target_id): (&'a str, &'a str),
        action: &'a str,
        details: Value,
    ) -> Self {
        Self {
            org_id: &principal.org_id,
            actor_id: Some(&principal.user_id),
            via: principal.via(),
            target_type,
            target_id,
            action,
            ip: &meta.ip,
            user_agent: &meta.user_agent,
            details,
        }
    }
}

/// Appends `event` inside `tx`, with the names of its actor and target as they are now
/// (so it still reads right after a rename or removal) and the text `q` searches.
pub async fn record(tx: &mut crate::store::Conn, event: Event<'_>, at: DateTime<Utc>) -> Result<String> {
    let given = event.details.get("target");
    let given_text = |key: &str| given.and_then(|t| t.get(key)).and_then(Value::as_str).map(str::to_owned);
    let (mut target_name, mut target_email) = (given_text("name"), given_text("email"));
    let target_is_user = event.target_type == "user";
    let lookup: Vec<&str> = event.actor_id.into_iter().chain((target_is_user && target_name.is_none()).then_some(event.target_id)).collect();
    let named = crate::store::audit::names(tx, &lookup).await?;
    let find = |id: &str| named.iter().find(|n| n.id == id);
    let actor = event.actor_id.and_then(find);
    if target_is_user
        && target_name.is_none()
        && let Some(t) = find(event.target_id)
    {
        target_name = Some(t.display_name.clone());
        target_email.get_or_insert_with(|| t.email.clone());
    }
    if event.target_type == "email" {
        target_email.get_or_insert_with(|| event.target_id.to_owned());
    }
    if target_name.is_none() && !target_is_user {
        // Roles, departments, API keys: their name as the change left it (or had it).
        target_name = ["after", "before"]
            .iter()
            .find_map(|side| event.details.get(side).and_then(|d| d.get("name")).and_then(Value::as_str))
            .or_else(|| event.details.get("name").and_then(Value::as_str))
            .map(str::to_owned);
    }
    let mut details = event.details;
    if let (Some(key), Value::Object(map)) = (event.via, &mut details) {
        map.insert("via_api_key".into(), serde_json::to_value(key).map_err(|e| ApiError::Internal(e.into()))?);
    }
    let details = serde_json::to_string(&details).map_err(|e| ApiError::Internal(e.into()))?;
    let search = search_text(
        event.action,
        [actor.map(|a| a.display_name.as_str()), actor.map(|a| a.email.as_str()), target_name.as_deref(), target_email.as_deref()],
        event.ip,
        &details,
    );
    let id = uuid::Uuid::now_v7().to_string();
    crate::store::audit::insert(
        tx,
        crate::store::audit::NewEvent {
            id: &id,
            org_id: event.org_id,
            at,
            actor_id: event.actor_id,
            target_type: event.target_type,
            target_id: event.target_id,
            action: event.action,
            ip: event.ip,
            details: &details,
            user_agent: event.user_agent,
            actor_name: actor.map(|a| a.display_name.as_str()),
            actor_email: actor.map(|a| a.email.as_str()),
            target_name: target_name.as_deref(),
            target_email: target_email.as_deref(),
            search: &search,
        },
    )
    .await?;
    Ok(id)
}

pub use gatehouse_api::audit_search_text as search_text;

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

/// The events of one user edit, from its [`diff`]: `user.roles_changed` for roles,
/// `user.departments_changed` for departments, `user.updated` for the rest of the
/// profile; each only when its part changed, so one edit may be one, two or three events.
pub fn user_edit_events(diff: &Value) -> Vec<(&'static str, Value)> {
    let parts: [(&'static str, &[&str]); 3] =
        [("user.updated", &[]), ("user.roles_changed", &["roles"]), ("user.departments_changed", &["departments"])];
    let claimed = |k: &str| parts.iter().any(|(_, keys)| keys.contains(&k));
    let side = |name: &str| diff.get(name).and_then(Value::as_object).cloned().unwrap_or_default();
    let (before, after) = (side("before"), side("after"));
    parts
        .iter()
        .filter_map(|(action, keys)| {
            let mine = |k: &String| {
                if keys.is_empty() { !claimed(k) } else { keys.contains(&k.as_str()) }
            };
            let was: serde_json::Map<String, Value> = before.iter().filter(|(k, _)| mine(k)).map(|(k, v)| (k.clone(), v.clone())).collect();
            let now: serde_json::Map<String, Value> = after.iter().filter(|(k, _)| mine(k)).map(|(k, v)| (k.clone(), v.clone())).collect();
            (!was.is_empty() || !now.is_empty()).then(|| (*action, serde_json::json!({ "before": was, "after": now })))
        })
        .collect()
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

    #[test]
    fn a_user_edit_is_one_event_per_part_that_changed() {
        let only_title = diff(&json!({"title": "a", "roles": ["x"]}), &json!({"title": "b", "roles": ["x"]}));
        let events = user_edit_events(&only_title);
        assert_eq!(events, vec![("user.updated", json!({"before": {"title": "a"}, "after": {"title": "b"}}))]);
        let all = diff(&json!({"title": "a", "roles": ["x"], "departments": []}), &json!({"title": "b", "roles": ["y"], "departments": ["d"]}));
        let actions: Vec<&str> = user_edit_events(&all).into_iter().map(|(a, _)| a).collect();
        assert_eq!(actions, ["user.updated", "user.roles_changed", "user.departments_changed"]);
        let roles = user_edit_events(&diff(&json!({"roles": ["x"]}), &json!({"roles": []})));
        assert_eq!(roles, vec![("user.roles_changed", json!({"before": {"roles": ["x"]}, "after": {"roles": []}}))]);
        assert!(user_edit_events(&diff(&json!({"a": 1}), &json!({"a": 1}))).is_empty());
    }
}
