//! The directory around users: roles and permissions (SPEC R1–R3), departments and
//! companies (U13, O2), the organization's settings (O1), creating users (U5) and bulk
//! actions (U12).

use crate::{GroupKind, GroupRef, Role, User};
use serde::{Deserialize, Serialize};

/// Every permission a role can hold, with what it allows, in the order the roles editor
/// shows them (SPEC R2).
pub const PERMISSIONS: &[(&str, &str)] = &[
    ("users.read", "See the user list and profiles"),
    ("users.manage", "Create, edit, deactivate, reactivate and remove users"),
    ("invitations.manage", "Invite people and manage pending invitations"),
    ("sessions.revoke", "See sessions and force users to sign out"),
    ("audit.read", "Read the activity log and login attempts"),
    ("audit.write", "Record a host product's events in the activity log (with an API key)"),
    ("roles.manage", "Create and edit custom roles"),
    ("org.settings", "Change organization settings, departments and companies"),
];

/// Whether `key` names a permission in [`PERMISSIONS`].
pub fn is_permission(key: &str) -> bool {
    PERMISSIONS.iter().any(|(k, _)| *k == key)
}

/// `POST /v1/roles`: a custom role.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NewRole {
    /// Display name, 1–100 characters, unique in the organization.
    pub name: String,
    /// Stable key (lower-case letters, digits, `_`); derived from the name when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Permission keys; the caller must hold each of them.
    #[serde(default)]
    pub permissions: Vec<String>,
}

/// `PATCH /v1/roles/{id}`: what changes in a custom role.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RolePatch {
    /// New display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The role's permissions from now on (replaces them all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Vec<String>>,
}

/// A department or company (`GET /v1/departments`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Group {
    /// Group id.
    pub id: String,
    /// Display name, unique per kind in the organization.
    pub name: String,
    /// Department or company.
    pub kind: GroupKind,
    /// Users in it.
    pub member_count: u32,
}

/// `POST /v1/departments`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NewGroup {
    /// Display name, 1–100 characters.
    pub name: String,
    /// Department (the default) or company.
    #[serde(default = "department")]
    pub kind: GroupKind,
}

fn department() -> GroupKind {
    GroupKind::Department
}

/// `PATCH /v1/departments/{id}`: rename.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct GroupPatch {
    /// New display name.
    pub name: String,
}

/// The organization and its settings (`GET /v1/org`, SPEC O1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Organization {
    /// Organization id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Most users that may be active or invited at once.
    pub seat_limit: u32,
    /// Seats taken: active and pending users (deactivated ones free theirs).
    pub seats_used: u32,
    /// Days an invitation stays valid.
    pub invitation_expiry_days: u32,
    /// Every member must enroll MFA.
    pub mfa_required: bool,
    /// Days audit events are kept before they are purged (SPEC A1).
    pub audit_retention_days: u32,
}

/// `PATCH /v1/org`: the settings to change.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OrganizationPatch {
    /// New display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New seat limit, 1–1 000 000; not below the seats in use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seat_limit: Option<u32>,
    /// New invitation lifetime in days, 1–90.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invitation_expiry_days: Option<u32>,
    /// Require MFA of every member.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfa_required: Option<bool>,
    /// Days to keep audit events, 30–3650.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_retention_days: Option<u32>,
}

/// Longest role, department or organization name.
pub const MAX_GROUP_NAME_CHARS: usize = 100;
/// Fewest characters of an initial password.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Most characters of a password.
pub const MAX_PASSWORD_CHARS: usize = 256;

/// `POST /v1/users`: a user created directly (SPEC U5), active at once.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NewUser {
    /// First name (1–100 characters).
    pub first_name: String,
    /// Last name (1–100 characters).
    pub last_name: String,
    /// E-mail address; unique, compared case-insensitively.
    pub email: String,
    /// Initial password (8–256 characters); the user signs in with it.
    pub password: crate::Secret,
    /// Roles by id or key; `member` when empty.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Departments and companies by id.
    #[serde(default)]
    pub departments: Vec<String>,
}

/// What a bulk request does to each user (SPEC U12).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum BulkAction {
    /// Grant a role (id or key).
    AddRole {
        /// The role.
        role: String,
    },
    /// Take a role away (id or key).
    RemoveRole {
        /// The role.
        role: String,
    },
    /// Add to a department or company (id).
    AddDepartment {
        /// The group.
        department: String,
    },
    /// Remove from a department or company (id).
    RemoveDepartment {
        /// The group.
        department: String,
    },
    /// Deactivate: sessions end at once.
    Deactivate,
    /// Reactivate with the roles and departments kept.
    Reactivate,
    /// End every session of the user (force logout).
    Logout,
}

/// Most users one bulk request can name.
pub const MAX_BULK_USERS: usize = 5000;

/// `POST /v1/users/bulk`. (Flattened, so unknown fields cannot be refused; serde's
/// `deny_unknown_fields` does not combine with `flatten`.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BulkRequest {
    /// The action, applied to each user on its own.
    #[serde(flatten)]
    pub action: BulkAction,
    /// The users, 1–5 000 ids.
    pub user_ids: Vec<String>,
}

/// The outcome for one user of a bulk request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BulkItem {
    /// The user.
    pub user_id: String,
    /// Applied (or nothing to do).
    pub ok: bool,
    /// The HTTP status the single-user request would have had.
    pub status: u16,
    /// The problem code when refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Why, for a person, when refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The user afterwards, when applied (not for logout, which leaves the user as is).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    /// The user's ETag afterwards, with `user`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
}

/// `POST /v1/users/bulk` answer: one item per user, in request order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BulkResponse {
    /// Users it was applied to.
    pub succeeded: u32,
    /// Users it was refused for.
    pub failed: u32,
    /// One per user.
    pub results: Vec<BulkItem>,
}

/// The roles and departments the app's local copy holds, for filters, role toggles and
/// pickers (readable offline).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Directory {
    /// Roles: built-in first (Owner, Admin, Manager, Member), then custom ones by name.
    pub roles: Vec<Role>,
    /// Departments, then companies, each by name.
    pub groups: Vec<GroupRef>,
}

/// The header row of a user list exported as CSV (SPEC U14), server and app alike.
pub const USERS_CSV_HEADER: &str =
    "id,first_name,last_name,display_name,email,status,roles,departments,mfa_enabled,last_active_at,last_login_at,created_at\r\n";

/// One CSV field: quoted when it holds a comma, quote or line break; a leading `=`, `+`,
/// `-`, `@`, tab or carriage return is defused with `'` so a spreadsheet does not run it
/// as a formula (CSV injection).
pub fn csv_field(out: &mut String, value: &str) {
    let defuse = value.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let quote = defuse || value.contains([',', '"', '\n', '\r']);
    if quote {
        out.push('"');
    }
    if defuse {
        out.push('\'');
    }
    for c in value.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    if quote {
        out.push('"');
    }
}

/// A user as one CSV record, line end included.
pub fn users_csv_record(out: &mut String, user: &User) {
    let time = |t: Option<chrono::DateTime<chrono::Utc>>| t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)).unwrap_or_default();
    let roles = user.roles.iter().map(|r| r.name.as_str()).collect::<Vec<_>>().join("; ");
    let groups = user.departments.iter().map(|g| g.name.as_str()).collect::<Vec<_>>().join("; ");
    let fields = [
        user.id.as_str(),
        &user.first_name,
        &user.last_name,
        &user.display_name,
        &user.email,
        user.status.as_str(),
        &roles,
        &groups,
        if user.mfa_enabled { "true" } else { "false" },
        &time(user.last_active_at),
        &time(user.last_login_at),
        &time(Some(user.created_at)),
    ];
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        csv_field(out, field);
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    fn field(v: &str) -> String {
        let mut s = String::new();
        csv_field(&mut s, v);
        s
    }

    #[test]
    fn fields_are_quoted_and_defused() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
        assert_eq!(field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(field("-1"), "\"'-1\"");
    }
}
