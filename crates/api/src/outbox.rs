//! The client's outbox as the desktop UI sees it (SPEC C3): edits made in the app, kept
//! durably until the server confirms them. These types travel over IPC, not HTTP.

use crate::UserPatch;
use serde::{Deserialize, Serialize};

/// Where an outbox entry stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum OutboxState {
    /// Waiting to be sent (or being retried after a network failure).
    Pending,
    /// Someone else changed the same fields first; the admin decides.
    Conflict,
    /// The server refused it (a 4xx other than a conflict); editable and retryable.
    Failed,
}

impl OutboxState {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Conflict => "conflict",
            Self::Failed => "failed",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Self::Pending),
            "conflict" => Some(Self::Conflict),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// What an outbox entry does to its user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum OutboxAction {
    /// Change fields (`patch`).
    Edit,
    /// Deactivate: the user's sessions end, their seat is freed.
    Deactivate,
    /// Reactivate with the roles and departments kept.
    Reactivate,
    /// Remove from the organization (only once deactivated).
    Remove,
    /// Force logout: end every session and trusted device of the user. Until the server
    /// confirms it, the user's sessions still work ("not yet effective").
    Logout,
}

impl OutboxAction {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Edit => "edit",
            Self::Deactivate => "deactivate",
            Self::Reactivate => "reactivate",
            Self::Remove => "remove",
            Self::Logout => "logout",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "edit" => Some(Self::Edit),
            "deactivate" => Some(Self::Deactivate),
            "reactivate" => Some(Self::Reactivate),
            "remove" => Some(Self::Remove),
            "logout" => Some(Self::Logout),
            _ => None,
        }
    }
}

/// One field of a conflicted edit: what the admin wanted, what the server has now, and
/// what both started from, as display text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FieldConflict {
    /// The field: `first_name`, `email`, `roles`, `custom_attributes.cost_center`, …
    pub field: String,
    /// The admin's value.
    pub mine: String,
    /// The server's value now.
    pub theirs: String,
    /// The value the edit was made on.
    pub base: String,
    /// Whether the server's value moved away from the base (a real clash), rather than
    /// only the admin's.
    pub clashes: bool,
}

/// One outbox entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OutboxEntry {
    /// Position in the queue; entries replay in this order.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub seq: i64,
    /// The user edited.
    pub user_id: String,
    /// Their display name when edited (for the drawer).
    pub user_name: String,
    /// What the entry does.
    pub action: OutboxAction,
    /// The edit, for `action = edit` (empty otherwise).
    pub patch: UserPatch,
    /// Where it stands.
    pub state: OutboxState,
    /// Sending attempts so far.
    pub attempts: u32,
    /// The server's refusal (failed) or the network failure of the last attempt (pending).
    pub last_error: Option<String>,
    /// Field errors of a refusal, as `field: message`.
    pub field_errors: Vec<String>,
    /// Field by field, for a conflict.
    pub conflicts: Vec<FieldConflict>,
    /// When it was queued (RFC 3339).
    pub created_at: String,
}

/// How the admin settles a conflicted (or failed) entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Resolution {
    /// Drop the edit; the server's values stay.
    KeepTheirs,
    /// Send the edit again on top of the server's current version.
    ReapplyMine,
    /// Send this edit instead, on top of the server's current version.
    Edit {
        /// The edit to send.
        patch: UserPatch,
    },
}

/// What the app says about its link to the server (SPEC C3: always online or not, and
/// when it last synced).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SyncStatus {
    /// The server answered the last request.
    pub online: bool,
    /// Last completed sync (RFC 3339), if any.
    pub last_synced_at: Option<String>,
    /// A sync is running.
    pub syncing: bool,
    /// Changes applied so far by the running sync.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub applied: u64,
    /// Changes the running sync will apply in all, as far as known.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub total: u64,
    /// The running sync is the first one (the cache was empty): show a progress bar.
    pub first_sync: bool,
    /// Entries per state.
    pub pending: u32,
    /// Conflicted entries.
    pub conflicts: u32,
    /// Failed entries.
    pub failed: u32,
    /// Why the app is offline or the last sync failed, for a person.
    pub error: Option<String>,
    /// Moves whenever what the local copy shows changed: the UI re-reads then.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub revision: u64,
    /// Set once the session ended (revoked, expired): back to sign-in with this reason.
    pub session_ended: Option<String>,
}
