//! The activity log (SPEC A1–A5): append-only audit events, their filters, the per-user
//! timeline, the histogram behind the charts and the CSV export.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Every action the server records, with the area it is grouped under in filters and a
/// label for people: `(action, area, label)`. Host products add their own under
/// [`HOST_ACTION_PREFIX`].
pub const AUDIT_ACTIONS: &[(&str, &str, &str)] = &[
    ("session.signed_in", "Sign-in", "Signed in"),
    ("session.signed_out", "Sign-in", "Signed out"),
    ("session.sign_in_failed", "Sign-in", "Sign-in failed"),
    ("session.mfa_verified", "Sign-in", "MFA verified"),
    ("session.trusted_device_granted", "Sign-in", "Trusted device granted"),
    ("session.stepped_up", "Sign-in", "Password confirmed"),
    ("session.revoked", "Sessions", "Session revoked"),
    ("session.refresh_token_reused", "Sessions", "Refresh token reused"),
    ("user.force_logout", "Sessions", "Forced logout"),
    ("user.created", "Users", "User created"),
    ("user.updated", "Users", "Profile edited"),
    ("user.roles_changed", "Users", "Roles changed"),
    ("user.departments_changed", "Users", "Departments changed"),
    ("user.deactivated", "Users", "Deactivated"),
    ("user.reactivated", "Users", "Reactivated"),
    ("user.removed", "Users", "Removed"),
    ("invitation.sent", "Invitations", "Invitation sent"),
    ("invitation.resent", "Invitations", "Invitation resent"),
    ("invitation.revoked", "Invitations", "Invitation revoked"),
    ("invitation.accepted", "Invitations", "Invitation accepted"),
    ("invitation.declined", "Invitations", "Invitation declined"),
    ("user.password_reset_requested", "Security", "Password reset requested"),
    ("user.password_reset_completed", "Security", "Password reset completed"),
    ("user.mfa_enrolled", "Security", "MFA enrolled"),
    ("user.mfa_reset", "Security", "MFA reset"),
    ("user.sign_in_unlocked", "Security", "Sign-in unlocked"),
    ("api_key.created", "API keys", "API key created"),
    ("api_key.used", "API keys", "API key used"),
    ("api_key.suspended", "API keys", "API key suspended"),
    ("api_key.restored", "API keys", "API key restored"),
    ("organization.updated", "Organization", "Settings changed"),
    ("role.created", "Organization", "Role created"),
    ("role.updated", "Organization", "Role edited"),
    ("role.deleted", "Organization", "Role deleted"),
    ("group.created", "Organization", "Department created"),
    ("group.updated", "Organization", "Department renamed"),
    ("group.deleted", "Organization", "Department deleted"),
];

/// The namespace host products post their own events under (`app.agent_interaction`, …).
pub const HOST_ACTION_PREFIX: &str = "app.";

/// The label of `action`, or the action itself for a host product's.
pub fn audit_action_label(action: &str) -> &str {
    AUDIT_ACTIONS.iter().find(|(a, _, _)| *a == action).map_or(action, |(_, _, label)| label)
}

/// Whether `action` is something the server records or a well-formed host-product action.
pub fn is_known_action(action: &str) -> bool {
    AUDIT_ACTIONS.iter().any(|(a, _, _)| *a == action) || is_host_action(action)
}

/// `app.` followed by 1–64 lower-case letters, digits, `_` or `.`.
pub fn is_host_action(action: &str) -> bool {
    action.strip_prefix(HOST_ACTION_PREFIX).is_some_and(|rest| {
        (1..=64).contains(&rest.len())
            && rest.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.')
            && !rest.starts_with('.')
            && !rest.ends_with('.')
    })
}

/// Default number of days of activity the desktop client keeps for offline reading.
pub const DEFAULT_ACTIVITY_WINDOW_DAYS: u32 = 30;
/// Retention bounds of an organization's audit log, in days.
pub const MIN_AUDIT_RETENTION_DAYS: u32 = 30;
/// See [`MIN_AUDIT_RETENTION_DAYS`].
pub const MAX_AUDIT_RETENTION_DAYS: u32 = 3650;

/// Someone or something named in an event, as it was when the event happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AuditParty {
    /// `user`, `api_key`, `role`, `group`, `organization`, `email` (an unknown address
    /// typed at sign-in) or `system`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Its id (for `email`, the address).
    pub id: String,
    /// A name for people: display name, key name, role name…
    pub name: Option<String>,
    /// A user's e-mail address.
    pub email: Option<String>,
}

/// One audit event (SPEC A1). Never edited, never deleted except by retention.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AuditEvent {
    /// Event id.
    pub id: String,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// `noun.verb`, one of [`AUDIT_ACTIONS`] or `app.…`.
    pub action: String,
    /// Who did it; `null` for the system or someone not signed in (a failed sign-in).
    pub actor: Option<AuditParty>,
    /// What it was done to.
    pub target: AuditParty,
    /// Where the request came from.
    pub ip: String,
    /// The requester's user agent.
    pub user_agent: String,
    /// What changed: `{"before": {…}, "after": {…}}` for edits, and whatever else the
    /// action keeps (a failure reason, a session id, a host product's payload).
    #[cfg_attr(feature = "ts", ts(type = "Record<string, unknown>"))]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub details: serde_json::Value,
}

/// What a text filter (`q`) matches in an event, on the server and in the app's offline
/// copy alike: its action, the names and addresses of who did it and to whom, its IP and
/// details (as JSON), lower-cased.
pub fn audit_search_text(action: &str, names: [Option<&str>; 4], ip: &str, details: &str) -> String {
    let mut parts: Vec<&str> = vec![action];
    parts.extend(names.into_iter().flatten());
    parts.push(ip);
    parts.push(details);
    parts.join("\n").to_lowercase()
}

impl AuditEvent {
    /// [`audit_search_text`] of this event.
    pub fn search_text(&self) -> String {
        let actor = self.actor.as_ref();
        let names = [
            actor.and_then(|a| a.name.as_deref()),
            actor.and_then(|a| a.email.as_deref()),
            self.target.name.as_deref(),
            self.target.email.as_deref(),
        ];
        audit_search_text(&self.action, names, &self.ip, &self.details.to_string())
    }
}

/// A page of audit events, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AuditEventPage {
    /// Events, newest first.
    pub items: Vec<AuditEvent>,
    /// Pass as `cursor` with the same filters for the next page; `null` on the last one.
    pub next_cursor: Option<String>,
}

/// Filters of `GET /v1/audit-events`, its export and histogram. All combine.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AuditEventQuery {
    /// Events where this user (id) is the actor or the target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Events this user (id) did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_id: Option<String>,
    /// Actions, comma-separated; `area.*` takes every action starting `area.`
    /// (e.g. `session.*,user.deactivated`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// From this time on (RFC 3339, inclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<DateTime<Utc>>,
    /// Before this time (RFC 3339, exclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<DateTime<Utc>>,
    /// Exactly this IP address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// Case-insensitive text in names, e-mail addresses, the action and the details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// Page size, 1–500 (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page (of the same filters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// Bucket width of the histogram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum HistogramBucket {
    /// One bar per hour.
    Hour,
    /// One bar per day.
    Day,
}

impl HistogramBucket {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hour => "hour",
            Self::Day => "day",
        }
    }
}

/// One bar of the histogram.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct HistogramBar {
    /// Start of the bucket.
    pub start: DateTime<Utc>,
    /// Events in `[start, start + bucket)`.
    pub count: u32,
}

/// `GET /v1/audit-events/histogram`: matching events counted per hour or day, every
/// bucket of the range present (zeros included), oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Histogram {
    /// Bucket width.
    pub bucket: HistogramBucket,
    /// Start of the first bucket (inclusive).
    pub from: DateTime<Utc>,
    /// End of the last bucket (exclusive).
    pub to: DateTime<Utc>,
    /// The bars, oldest first.
    pub bars: Vec<HistogramBar>,
    /// Sum of the bars.
    pub total: u32,
}

/// Most buckets one histogram answers (a year of days; three months of hours).
pub const MAX_HISTOGRAM_BARS: usize = 2208;

/// Body of `POST /v1/audit-events`: a host product's own event, posted with an API key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NewAuditEvent {
    /// `app.` followed by the host product's own name, e.g. `app.agent_interaction`.
    pub action: String,
    /// The user it concerns (id); the key's own user when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Where the end user was (their IP), when the host product knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// Anything worth keeping, a JSON object of at most 16 KiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(type = "Record<string, unknown> | null"))]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub details: Option<serde_json::Value>,
}

/// Largest `details` a host product may post, in bytes of JSON.
pub const MAX_HOST_EVENT_DETAILS: usize = 16 * 1024;

/// The header row of the activity export (SPEC A4).
pub const AUDIT_CSV_HEADER: &str = "id,time,action,actor_id,actor,target_type,target_id,target,ip,user_agent,details\r\n";

/// Appends `event` as one CSV record (RFC 4180) to `out`. A cell that a spreadsheet would
/// run as a formula gets a leading `'`.
pub fn audit_csv_record(out: &mut String, event: &AuditEvent) {
    let actor_id = event.actor.as_ref().map_or("", |a| a.id.as_str());
    let actor = event.actor.as_ref().map(party_text).unwrap_or_default();
    let details = if event.details.as_object().is_some_and(|o| o.is_empty()) { String::new() } else { event.details.to_string() };
    let cells = [
        event.id.clone(),
        event.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        event.action.clone(),
        actor_id.to_owned(),
        actor,
        event.target.kind.clone(),
        event.target.id.clone(),
        party_text(&event.target),
        event.ip.clone(),
        event.user_agent.clone(),
        details,
    ];
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        crate::csv_field(out, cell);
    }
    out.push_str("\r\n");
}

fn party_text(p: &AuditParty) -> String {
    match (&p.name, &p.email) {
        (Some(n), Some(e)) if n != e => format!("{n} <{e}>"),
        (Some(n), _) => n.clone(),
        (None, Some(e)) => e.clone(),
        (None, None) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_actions_are_namespaced_and_tidy() {
        assert!(is_host_action("app.agent_interaction"));
        assert!(is_host_action("app.chat.message_sent"));
        for bad in ["app.", "app..x", "app.x.", "app.Agent", "user.created", "app.a b", &format!("app.{}", "x".repeat(65))] {
            assert!(!is_host_action(bad), "{bad}");
        }
        assert!(is_known_action("session.signed_in"));
        assert!(!is_known_action("session.nonsense"));
    }

    #[test]
    fn every_action_has_one_entry() {
        let mut seen = std::collections::HashSet::new();
        for (a, _, _) in AUDIT_ACTIONS {
            assert!(seen.insert(a), "{a} twice");
            assert!(a.split_once('.').is_some_and(|(n, v)| !n.is_empty() && !v.is_empty()), "{a}");
        }
        assert_eq!(audit_action_label("user.deactivated"), "Deactivated");
        assert_eq!(audit_action_label("app.x"), "app.x");
    }

    #[test]
    fn csv_records_quote_and_defuse() {
        let event = AuditEvent {
            id: "e1".into(),
            at: DateTime::parse_from_rfc3339("2026-03-01T09:00:00Z").unwrap().to_utc(),
            action: "user.updated".into(),
            actor: Some(AuditParty { kind: "user".into(), id: "u1".into(), name: Some("Ada, L".into()), email: Some("ada@x.io".into()) }),
            target: AuditParty { kind: "user".into(), id: "u2".into(), name: Some("=cmd()".into()), email: None },
            ip: "10.0.0.1".into(),
            user_agent: "UA \"1\"".into(),
            details: serde_json::json!({"before": {"title": "a"}}),
        };
        let mut out = String::new();
        audit_csv_record(&mut out, &event);
        assert_eq!(
            out,
            "e1,2026-03-01T09:00:00.000Z,user.updated,u1,\"Ada, L <ada@x.io>\",user,u2,\"'=cmd()\",10.0.0.1,\"UA \"\"1\"\"\",\"{\"\"before\"\":{\"\"title\"\":\"\"a\"\"}}\"\r\n"
        );
    }
}
