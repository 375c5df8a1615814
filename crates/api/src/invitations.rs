//! Invitations (SPEC I1–I9): inviting people by e-mail, the invitee's accept or decline,
//! CSV import and seats.

use crate::{FieldError, GroupRef, RoleRef, Secret};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Prefix of invitation tokens (the secret part of an invitation link).
pub const INVITATION_TOKEN_PREFIX: &str = "ghi_";
/// Most addresses one invitation request may carry.
pub const MAX_INVITES_PER_REQUEST: usize = 500;
/// Longest personal message, in characters.
pub const MAX_INVITATION_MESSAGE_CHARS: usize = 2000;
/// Largest CSV file the import takes, in bytes.
pub const MAX_IMPORT_BYTES: usize = 5 * 1024 * 1024;
/// Most data rows a CSV import takes.
pub const MAX_IMPORT_ROWS: usize = 20_000;
/// The header a CSV import starts with (`role` and `department` may be empty; several are
/// separated by `;`).
pub const IMPORT_CSV_HEADER: &str = "email,role,department";
/// Longest identity-provider tenant id, in characters.
pub const MAX_TENANT_ID_CHARS: usize = 200;

/// Which sign-in an invitation may be accepted with (SPEC I2).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum IdentityProvider {
    /// A password or any provider.
    #[default]
    Any,
    /// A Google account.
    Google,
    /// A Microsoft Entra ID account (optionally of one tenant).
    Microsoft,
}

impl IdentityProvider {
    /// The wire (and database) spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Any => "any",
            Self::Google => "google",
            Self::Microsoft => "microsoft",
        }
    }

    /// Parses the wire spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "any" => Some(Self::Any),
            "google" => Some(Self::Google),
            "microsoft" => Some(Self::Microsoft),
            _ => None,
        }
    }
}

/// Where an invitation stands (SPEC I4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum InvitationStatus {
    /// Sent, not yet answered, not expired.
    Pending,
    /// The invitee accepted: they are an active member.
    Accepted,
    /// The invitee declined.
    Declined,
    /// Not answered in time; a resend revives it.
    Expired,
    /// Withdrawn by an admin: the link no longer works.
    Revoked,
}

impl InvitationStatus {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Accepted => "accepted",
            Self::Declined => "declined",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
        }
    }

    /// Parses the wire spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Self::Pending),
            "accepted" => Some(Self::Accepted),
            "declined" => Some(Self::Declined),
            "expired" => Some(Self::Expired),
            "revoked" => Some(Self::Revoked),
            _ => None,
        }
    }

    /// Every status, in the order the app shows them.
    pub const ALL: [Self; 5] = [Self::Pending, Self::Accepted, Self::Declined, Self::Expired, Self::Revoked];
}

/// Who sent an invitation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Inviter {
    /// Their user id.
    pub id: String,
    /// Their name when they invited.
    pub name: String,
}

/// An invitation, as admins see it (never with its link: that is
/// `GET /v1/invitations/{id}/link`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Invitation {
    /// Invitation id.
    pub id: String,
    /// The address invited (the account's e-mail once accepted).
    pub email: String,
    /// Where the e-mail went when not to `email`.
    pub notify_email: Option<String>,
    /// The pending user it holds a seat for (and, once accepted, the member).
    pub user_id: Option<String>,
    /// Roles the invitee gets.
    pub roles: Vec<RoleRef>,
    /// Departments the invitee joins.
    pub departments: Vec<GroupRef>,
    /// The personal message in the e-mail.
    pub message: Option<String>,
    /// Which sign-in may accept it.
    pub identity_provider: IdentityProvider,
    /// With Microsoft: the Entra ID tenant the invitee must sign in from.
    pub tenant_id: Option<String>,
    /// Where it stands now (Expired is computed from `expires_at`).
    pub status: InvitationStatus,
    /// Who invited.
    pub invited_by: Option<Inviter>,
    /// When it was first sent.
    pub created_at: DateTime<Utc>,
    /// When the latest e-mail went out (a resend moves it).
    pub sent_at: DateTime<Utc>,
    /// How many times it was sent.
    pub send_count: u32,
    /// When the link stops working.
    pub expires_at: DateTime<Utc>,
    /// When it was accepted, declined or revoked.
    pub responded_at: Option<DateTime<Utc>>,
}

/// `POST /v1/invitations`: invite one or many addresses with the same roles and
/// departments (SPEC I1).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NewInvitations {
    /// The addresses to invite (at most [`MAX_INVITES_PER_REQUEST`]).
    pub emails: Vec<String>,
    /// Role keys or ids; none means Member.
    pub roles: Vec<String>,
    /// Department ids or names.
    pub departments: Vec<String>,
    /// A personal message for the e-mail.
    pub message: Option<String>,
    /// Send the e-mail here instead of to the invited address (with one address only).
    pub notify_email: Option<String>,
    /// Which sign-in may accept it (default Any).
    pub identity_provider: IdentityProvider,
    /// With Microsoft: the tenant id the invitee must sign in from.
    pub tenant_id: Option<String>,
}

/// Seats in use against the limit (SPEC I8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SeatUsage {
    /// Active and pending users.
    pub used: u32,
    /// The organization's seat limit.
    pub limit: u32,
}

/// The answer to `POST /v1/invitations`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct InvitationsCreated {
    /// One invitation per address, in the order given.
    pub invitations: Vec<Invitation>,
    /// Seats after the invitations.
    pub seats: SeatUsage,
}

/// `GET /v1/invitations/{id}/link`: the link to share by another channel (SPEC I5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct InvitationLink {
    /// The invitation.
    pub id: String,
    /// Where the invitee accepts; it carries the token, so treat it like a password.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub link: Secret,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// Query of `GET /v1/invitations`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct InvitationQuery {
    /// Only these statuses (comma-separated on the wire).
    #[serde(default)]
    pub status: Option<InvitationStatus>,
    /// Substring of the address (case-insensitive).
    #[serde(default)]
    pub q: Option<String>,
    /// Page size, 1–500 (default 100).
    #[serde(default)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// Invitations per status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct InvitationCounts {
    /// Pending.
    pub pending: u32,
    /// Accepted.
    pub accepted: u32,
    /// Declined.
    pub declined: u32,
    /// Expired.
    pub expired: u32,
    /// Revoked.
    pub revoked: u32,
}

impl InvitationCounts {
    /// Adds `n` invitations of `status`.
    pub fn add(&mut self, status: InvitationStatus, n: u32) {
        let slot = match status {
            InvitationStatus::Pending => &mut self.pending,
            InvitationStatus::Accepted => &mut self.accepted,
            InvitationStatus::Declined => &mut self.declined,
            InvitationStatus::Expired => &mut self.expired,
            InvitationStatus::Revoked => &mut self.revoked,
        };
        *slot = slot.saturating_add(n);
    }
}

/// A page of invitations, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct InvitationPage {
    /// The invitations.
    pub items: Vec<Invitation>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
    /// Per status, with the search applied but not the status filter.
    pub counts: InvitationCounts,
}

/// One data row of a CSV import, with what is wrong with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ImportRow {
    /// Its line in the file (the header is line 1).
    pub line: u32,
    /// The `email` column, trimmed.
    pub email: String,
    /// The `role` column, trimmed.
    pub role: String,
    /// The `department` column, trimmed.
    pub department: String,
    /// Empty when the row is valid; `field` is `email`, `role`, `department` or `row`.
    pub errors: Vec<FieldError>,
}

/// The answer to `POST /v1/invitations/import`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ImportReport {
    /// Whether this was only a check.
    pub dry_run: bool,
    /// Every data row, in file order.
    pub rows: Vec<ImportRow>,
    /// Rows with at least one error.
    pub invalid: u32,
    /// Seats before the import.
    pub seats: SeatUsage,
    /// Seats the valid rows would take beyond the limit (0 when they fit).
    pub seats_short: u32,
    /// The invitations sent (empty on a dry run or when anything was invalid).
    pub invitations: Vec<Invitation>,
}

/// `POST /v1/invitations/accept`: the invitee joins (SPEC I7).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AcceptInvitation {
    /// The token from the link.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub token: Secret,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// A password, unless signing in with an identity provider.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub password: Option<Secret>,
    /// The identity provider the invitee signed in with (`any` or absent: a password).
    pub provider: Option<IdentityProvider>,
    /// With Microsoft: the tenant id the invitee signed in from.
    pub tenant_id: Option<String>,
}

/// `POST /v1/invitations/decline`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeclineInvitation {
    /// The token from the link.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub token: Secret,
}

/// The answer to an accepted invitation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AcceptedInvitation {
    /// The new member's user id.
    pub user_id: String,
    /// Their e-mail address (what they sign in with).
    pub email: String,
    /// The organization they joined.
    pub organization: String,
}

/// Splits what an admin typed into addresses: commas, semicolons, spaces and new lines
/// separate them; empty pieces are dropped, duplicates (case-insensitive) kept once.
pub fn split_addresses(text: &str) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    text.split([',', ';', '\n', '\r', ' ', '\t'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .filter(|s| seen.insert(s.to_lowercase()))
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_split_on_commas_and_lines_once_each() {
        assert_eq!(
            split_addresses(" a@x.test, b@x.test\nA@X.test;\r\n\tc@x.test ,, "),
            vec!["a@x.test".to_owned(), "b@x.test".into(), "c@x.test".into()]
        );
        assert!(split_addresses(" , \n").is_empty());
    }

    #[test]
    fn statuses_round_trip() {
        for s in InvitationStatus::ALL {
            assert_eq!(InvitationStatus::parse(s.as_str()), Some(s));
        }
        for p in [IdentityProvider::Any, IdentityProvider::Google, IdentityProvider::Microsoft] {
            assert_eq!(IdentityProvider::parse(p.as_str()), Some(p));
        }
        assert_eq!(InvitationStatus::parse("nope"), None);
    }

    #[test]
    fn an_invitation_link_is_redacted_in_debug() {
        let link = InvitationLink { id: "i".into(), link: Secret::new("http://x/accept-invitation?token=ghi_abc".into()), expires_at: Utc::now() };
        assert!(!format!("{link:?}").contains("ghi_abc"));
    }
}
