use crate::{GroupRef, OrganizationRef, User};
use serde::{Deserialize, Serialize};

/// What kind of resource a change is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum ChangeKind {
    /// A user (its row, roles or groups).
    User,
    /// A role.
    Role,
    /// A department or company.
    Group,
    /// The organization.
    Organization,
    /// An invitation (only for callers with `invitations.manage`).
    Invitation,
}

/// A role with its permissions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Role {
    /// Role id.
    pub id: String,
    /// Stable key.
    pub key: String,
    /// Display name.
    pub name: String,
    /// Owner, Admin, Manager and Member are built in.
    pub builtin: bool,
    /// Permission keys, in the order of [`crate::PERMISSIONS`].
    pub permissions: Vec<String>,
    /// Users holding the role (`GET /v1/roles`; absent in the change feed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_count: Option<u32>,
}

/// One entry of the change feed: the resource as it is now, or a tombstone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Change {
    /// Position in the feed; increases with every change.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub seq: i64,
    /// The resource's kind.
    pub kind: ChangeKind,
    /// The resource's id.
    pub id: String,
    /// The resource is gone: remove it.
    pub deleted: bool,
    /// The user's ETag now (for `If-Match`), for `kind = user` and not deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// The user now, for `kind = user` and not deleted.
    pub user: Option<User>,
    /// The role now, for `kind = role` and not deleted.
    pub role: Option<Role>,
    /// The group now, for `kind = group` and not deleted.
    pub group: Option<GroupRef>,
    /// The organization now, for `kind = organization`.
    pub organization: Option<OrganizationRef>,
    /// The invitation now, for `kind = invitation` and not deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invitation: Option<crate::Invitation>,
}

/// One page of `GET /v1/changes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ChangePage {
    /// Changes after `since`, oldest first, at most one per resource (its latest).
    pub changes: Vec<Change>,
    /// Pass as `since` for the next page.
    pub cursor: String,
    /// More changes follow right away.
    pub has_more: bool,
    /// Feed entries after `cursor` right now: with what a sync applied so far, the
    /// denominator of its progress bar. 0 when the request said `count=false` (counting
    /// costs the server a scan of what is left, so a sync asks on its first page only).
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub remaining: u64,
}

/// Largest page of the change feed.
pub const MAX_CHANGE_PAGE: u32 = 1000;
/// Change feed page size when none is asked for.
pub const DEFAULT_CHANGE_PAGE: u32 = 500;
