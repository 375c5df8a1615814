use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Lifecycle state of a user (SPEC U4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum UserStatus {
    /// Invited, not yet accepted.
    Pending,
    /// Can sign in.
    Active,
    /// Cannot sign in; history kept.
    Deactivated,
}

impl UserStatus {
    /// The wire (and database) spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Deactivated => "deactivated",
        }
    }

    /// Parses the wire spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Self::Pending),
            "active" => Some(Self::Active),
            "deactivated" => Some(Self::Deactivated),
            _ => None,
        }
    }
}

/// A role as shown on a user (badge).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RoleRef {
    /// Role id.
    pub id: String,
    /// Stable key: `owner`, `admin`, `manager`, `member`, or a custom role's key.
    pub key: String,
    /// Display name.
    pub name: String,
}

/// Kind of a group (SPEC U13): departments and companies are both groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum GroupKind {
    /// A department.
    Department,
    /// A company.
    Company,
}

impl GroupKind {
    /// The wire (and database) spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Department => "department",
            Self::Company => "company",
        }
    }

    /// Parses the wire (and database) spelling; anything but `company` is a department.
    pub fn parse(s: &str) -> Self {
        if s == "company" { Self::Company } else { Self::Department }
    }
}

/// A department or company a user belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct GroupRef {
    /// Group id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Department or company.
    pub kind: GroupKind,
}

/// A user of the organization (SPEC U1 columns and U6 basics).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct User {
    /// User id.
    pub id: String,
    /// E-mail address, as entered.
    pub email: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Display name ("First Last" unless set otherwise).
    pub display_name: String,
    /// Lifecycle state.
    pub status: UserStatus,
    /// Roles, several per user.
    pub roles: Vec<RoleRef>,
    /// Departments and companies.
    pub departments: Vec<GroupRef>,
    /// Whether the user has MFA enrolled.
    pub mfa_enabled: bool,
    /// Last request made by any of the user's sessions.
    pub last_active_at: Option<DateTime<Utc>>,
    /// Last successful sign-in.
    pub last_login_at: Option<DateTime<Utc>>,
    /// When the user was created.
    pub created_at: DateTime<Utc>,
    /// Custom attributes (SPEC U6): key to value, keys sorted.
    #[serde(default)]
    pub custom_attributes: BTreeMap<String, String>,
    /// Picture: an `https` URL, or this server's `/v1/users/{id}/avatar?v=…` after an upload.
    #[serde(default)]
    pub avatar_url: Option<String>,
    /// How the user can sign in (SPEC U6).
    #[serde(default)]
    pub auth_methods: Vec<AuthMethod>,
    /// What the user is notified about by e-mail.
    #[serde(default)]
    pub notification_preferences: NotificationPreferences,
}

/// A way of signing in (SPEC U6). External providers are recorded, not yet federated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum AuthMethod {
    /// E-mail and password.
    Password,
    /// Google account.
    Google,
    /// Microsoft account.
    Microsoft,
    /// The organization's SAML identity provider.
    Saml,
}

/// E-mail notifications a user receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NotificationPreferences {
    /// New sign-ins, password and MFA changes.
    pub security_alerts: bool,
    /// Changes to the user's roles and departments.
    pub account_changes: bool,
    /// A weekly summary of the organization's activity.
    pub weekly_digest: bool,
}

impl Default for NotificationPreferences {
    fn default() -> Self {
        Self { security_alerts: true, account_changes: true, weekly_digest: false }
    }
}

/// Largest uploaded avatar, in bytes.
pub const MAX_AVATAR_BYTES: usize = 512 * 1024;
/// Longest avatar URL.
pub const MAX_AVATAR_URL_CHARS: usize = 2000;

/// Per-status totals for the count badges (SPEC U2), over the current search and
/// role/department filters, ignoring the status filter so the badges work as tabs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct UserCounts {
    /// Active users.
    pub active: u32,
    /// Pending (invited) users.
    pub pending: u32,
    /// Deactivated users.
    pub deactivated: u32,
    /// All users.
    pub all: u32,
}

impl UserCounts {
    /// Totals from `(status, count)` rows, as a `GROUP BY status` query returns them.
    pub fn from_rows(rows: impl IntoIterator<Item = (String, i64)>) -> Self {
        let mut counts = Self::default();
        for (status, n) in rows {
            let n = u32::try_from(n).unwrap_or(u32::MAX);
            match UserStatus::parse(&status) {
                Some(UserStatus::Active) => counts.active = n,
                Some(UserStatus::Pending) => counts.pending = n,
                Some(UserStatus::Deactivated) => counts.deactivated = n,
                None => continue,
            }
            counts.all = counts.all.saturating_add(n);
        }
        counts
    }
}

/// The `LIKE … ESCAPE '\'` pattern that finds `needle` anywhere, with `%`, `_` and `\`
/// in it taken literally. Server and client cache search the same way through it.
pub fn substring_like_pattern(needle: &str) -> String {
    format!("%{}%", escape_like(needle))
}

/// A `LIKE … ESCAPE '\'` pattern matching text that starts with `prefix`.
pub fn prefix_like_pattern(prefix: &str) -> String {
    format!("{}%", escape_like(prefix))
}

fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// One page of `GET /v1/users`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct UserPage {
    /// Users, ordered by display name (case-insensitive), then id.
    pub items: Vec<User>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
    /// Count badges.
    pub counts: UserCounts,
}

/// Query of `GET /v1/users`. All filters combine.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct UserListQuery {
    /// Case-insensitive search in name and e-mail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// `active`, `pending` or `deactivated`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<UserStatus>,
    /// A role key (`admin`) or role id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// A department/company id or name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// Page size, 1–500 (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// Largest page `GET /v1/users` serves.
pub const MAX_USER_PAGE: u32 = 500;
/// Page size when none is asked for.
pub const DEFAULT_USER_PAGE: u32 = 50;

/// `PATCH /v1/users/{id}` body: the fields to change; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct UserPatch {
    /// New first name (1–100 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// New last name (1–100 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// New e-mail address; unique in the server, compared case-insensitively.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The user's roles from now on, by id or key (replaces them all). Granting or taking
    /// a role needs every permission the role has; the `owner` role needs an Owner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    /// The user's departments and companies from now on, by id (replaces them all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub departments: Option<Vec<String>>,
    /// Custom attributes to set (a value) or remove (`null`); keys not named stay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(type = "Record<string, string | null>"))]
    pub custom_attributes: Option<BTreeMap<String, Option<String>>>,
    /// A new picture URL (`https` only); an empty string removes the picture.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar_url: Option<String>,
    /// The user's notification preferences from now on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification_preferences: Option<NotificationPreferences>,
}

impl UserPatch {
    /// Whether the patch changes nothing at all.
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }

    /// What is wrong with the patch's shape, a field error each: names, e-mail syntax,
    /// custom attribute keys and values, the picture URL. The server answers these as
    /// `validation_failed`; the app checks them before it queues an edit, so a bad edit
    /// is refused at once instead of failing later, offline, in the outbox. (Roles,
    /// departments and uniqueness need the server's data and are checked there.)
    pub fn field_errors(&self) -> Vec<crate::FieldError> {
        let mut errors = Vec::new();
        let mut error = |field: &str, code: &str, message: String| errors.push(crate::FieldError { field: field.into(), code: code.into(), message });
        for (field, value) in [("first_name", &self.first_name), ("last_name", &self.last_name)] {
            if let Some(v) = value {
                let n = v.trim().chars().count();
                if n == 0 {
                    error(field, "required", "A name cannot be empty.".into());
                } else if n > MAX_NAME_CHARS {
                    error(field, "too_long", format!("A name has at most {MAX_NAME_CHARS} characters."));
                } else if v.chars().any(char::is_control) {
                    error(field, "invalid", "A name cannot contain control characters.".into());
                }
            }
        }
        if let Some(email) = &self.email
            && !valid_email(email.trim())
        {
            error("email", "invalid", format!("`{}` is not an e-mail address.", email.trim()));
        }
        for (key, value) in self.custom_attributes.iter().flatten() {
            let field = format!("custom_attributes.{key}");
            if let Some(problem) = attribute_key_problem(key) {
                let code = if RESERVED_ATTRIBUTE_KEYS.contains(&key.as_str()) { "reserved_key" } else { "invalid_key" };
                error(&field, code, problem.into());
            } else if let Some(v) = value {
                if v.chars().count() > MAX_ATTRIBUTE_VALUE_CHARS {
                    error(&field, "too_long", format!("A value has at most {MAX_ATTRIBUTE_VALUE_CHARS} characters."));
                } else if v.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
                    error(&field, "invalid", "A value cannot contain control characters.".into());
                }
            }
        }
        if let Some(url) = &self.avatar_url
            && let Some(problem) = avatar_url_problem(url.trim())
        {
            error("avatar_url", "invalid", problem.into());
        }
        errors
    }
}

/// A plausible e-mail address: one `@`, a local part, a dotted domain, no spaces.
pub fn valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && email.len() <= 320
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// The image type `bytes` start like, if it is one a picture may be (PNG, JPEG, GIF,
/// WebP): judged by the bytes, not by a name or a declared type.
pub fn image_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// Why `url` cannot be a picture URL, or `None` when it can (empty removes the picture).
pub fn avatar_url_problem(url: &str) -> Option<&'static str> {
    if url.is_empty() {
        return None;
    }
    let host = url.strip_prefix("https://").map(|rest| rest.split(['/', '?', '#']).next().unwrap_or(""));
    if url.chars().count() > MAX_AVATAR_URL_CHARS {
        Some("A picture URL has at most 2000 characters.")
    } else if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Some("A picture URL cannot contain spaces.")
    } else if host.is_none_or(|h| h.is_empty() || !h.contains('.') || h.contains('@')) {
        Some("A picture URL must be an https:// address; or upload an image instead.")
    } else {
        None
    }
}

/// Longest first or last name accepted.
pub const MAX_NAME_CHARS: usize = 100;
/// Most custom attributes a user can have.
pub const MAX_CUSTOM_ATTRIBUTES: usize = 50;
/// Longest custom attribute value, in characters.
pub const MAX_ATTRIBUTE_VALUE_CHARS: usize = 1000;
/// Custom attribute keys that name built-in fields, so they cannot be custom.
pub const RESERVED_ATTRIBUTE_KEYS: &[&str] = &[
    "id",
    "email",
    "first_name",
    "last_name",
    "display_name",
    "name",
    "status",
    "roles",
    "departments",
    "password",
    "mfa_enabled",
    "created_at",
    "last_active_at",
    "last_login_at",
    "org_id",
    "organization",
    "version",
    "etag",
    "avatar",
    "avatar_url",
    "auth_methods",
    "notification_preferences",
];

/// Why a custom attribute key cannot be used, or `None` when it can: 1–64 characters,
/// lower-case letters, digits and `_`, starting with a letter, and not a built-in field.
pub fn attribute_key_problem(key: &str) -> Option<&'static str> {
    let mut chars = key.chars();
    let well_formed = key.len() <= 64
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !well_formed {
        Some("A key is 1–64 lower-case letters, digits or `_`, starting with a letter.")
    } else if RESERVED_ATTRIBUTE_KEYS.contains(&key) {
        Some("This key names a built-in field; choose another.")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_from_rows_sum_known_statuses() {
        let rows = [("active".to_owned(), 7), ("pending".to_owned(), 2), ("bogus".to_owned(), 5), ("deactivated".to_owned(), 1)];
        assert_eq!(UserCounts::from_rows(rows), UserCounts { active: 7, pending: 2, deactivated: 1, all: 10 });
    }

    #[test]
    fn attribute_keys() {
        assert_eq!(attribute_key_problem("cost_center"), None);
        assert_eq!(attribute_key_problem("badge2"), None);
        for bad in ["", "Cost", "2fa", "a-b", "a b", &"a".repeat(65)] {
            assert!(attribute_key_problem(bad).is_some(), "{bad:?}");
        }
        assert!(attribute_key_problem("email").unwrap().contains("built-in"));
    }

    #[test]
    fn email_syntax() {
        for ok in ["a@b.co", "first.last+tag@sub.example.org"] {
            assert!(valid_email(ok), "{ok}");
        }
        for bad in ["", "a", "a@", "@b.co", "a@b", "a@.b", "a@b.", "a b@c.de", "a@b@c.de", "a\u{0}@b.co"] {
            assert!(!valid_email(bad), "{bad:?}");
        }
    }

    #[test]
    fn patch_field_errors_name_each_bad_field() {
        let patch = UserPatch {
            first_name: Some("  ".into()),
            email: Some("nope".into()),
            custom_attributes: Some(
                [("email".to_owned(), Some("x".into())), ("Bad".to_owned(), None), ("ok".to_owned(), Some("v".repeat(1001)))].into(),
            ),
            avatar_url: Some("http://insecure.example/a.png".into()),
            ..Default::default()
        };
        let got: Vec<(String, String)> = patch.field_errors().into_iter().map(|e| (e.field, e.code)).collect();
        let want = [
            ("first_name", "required"),
            ("email", "invalid"),
            ("custom_attributes.Bad", "invalid_key"),
            ("custom_attributes.email", "reserved_key"),
            ("custom_attributes.ok", "too_long"),
            ("avatar_url", "invalid"),
        ];
        assert_eq!(got, want.map(|(f, c)| (f.to_owned(), c.to_owned())));
        let fine = UserPatch {
            custom_attributes: Some([("cost_center".to_owned(), Some("CC-1".into()))].into()),
            avatar_url: Some(String::new()),
            ..Default::default()
        };
        assert!(fine.field_errors().is_empty());
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(substring_like_pattern("a_b%c\\d"), "%a\\_b\\%c\\\\d%");
        assert_eq!(substring_like_pattern("ann"), "%ann%");
    }
}
