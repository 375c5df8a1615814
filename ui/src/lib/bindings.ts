// Generated from Rust by `cargo xtask bindings` (src-tauri/src/bindings.rs). Do not edit:
// `cargo xtask test` fails when this file differs from what the Rust code generates.
import { invoke } from "@tauri-apps/api/core";

export type ActivityExportStatus = { 
/**
 * An export is being written.
 */
running: boolean, 
/**
 * Events written so far.
 */
done: number, 
/**
 * Events the server said it will write.
 */
total: number | null, 
/**
 * The finished file.
 */
path: string | null, 
/**
 * Why it failed.
 */
error: string | null, 
/**
 * The admin cancelled it; nothing was kept.
 */
cancelled: boolean, };

export type ActivityPage = { 
/**
 * Events, newest first.
 */
items: Array<AuditEvent>, 
/**
 * Pass as `cursor` with the same filters for the next page; `None` on the last.
 */
next_cursor: string | null, 
/**
 * Served from the local cache: the server could not be reached.
 */
offline: boolean, 
/**
 * The oldest time the cache covers (events from then on are kept for offline reading).
 */
window_start: string, 
/**
 * Offline, and the query reaches before `window_start`: older events need a connection.
 */
beyond_window: boolean, };

export type ActivitySettings = { 
/**
 * Days kept (1–365).
 */
window_days: number, 
/**
 * Events in the cache now.
 */
cached_events: number, 
/**
 * The oldest cached event's time.
 */
oldest_cached: string | null, };

export type ApiKey = { 
/**
 * Key id.
 */
id: string, 
/**
 * The user it acts as.
 */
user_id: string, 
/**
 * What it is for, e.g. "CI deploys".
 */
name: string, 
/**
 * The first characters of the secret (`ghk_AbCd…`), to tell keys apart.
 */
prefix: string, 
/**
 * When it was created.
 */
created_at: string, 
/**
 * Last request made with it (written at most once a minute).
 */
last_used_at: string | null, 
/**
 * When it was suspended; a suspended key is refused.
 */
suspended_at: string | null, 
/**
 * `admin` (by hand; restored by hand) or `user_deactivated` (restored when the user is
 * reactivated).
 */
suspended_reason: string | null, 
/**
 * When it stops working for good; absent: never.
 */
expires_at?: string, 
/**
 * The role it is limited to (its key, e.g. `scim` for a provisioning key): the key
 * reaches only what both its user and that role reach. Absent: all its user reaches.
 */
role?: string, };

export type AuditEvent = { 
/**
 * Event id.
 */
id: string, 
/**
 * When it happened.
 */
at: string, 
/**
 * `noun.verb`, one of [`AUDIT_ACTIONS`] or `app.…`.
 */
action: string, 
/**
 * Who did it; `null` for the system or someone not signed in (a failed sign-in).
 */
actor: AuditParty | null, 
/**
 * What it was done to.
 */
target: AuditParty, 
/**
 * Where the request came from.
 */
ip: string, 
/**
 * The requester's user agent.
 */
user_agent: string, 
/**
 * What changed: `{"before": {…}, "after": {…}}` for edits, and whatever else the
 * action keeps (a failure reason, a session id, a host product's payload).
 */
details: Record<string, unknown>, };

export type AuditEventQuery = { 
/**
 * Events where this user (id) is the actor or the target.
 */
user_id?: string | null, 
/**
 * Events this user (id) did.
 */
actor_id?: string | null, 
/**
 * Actions, comma-separated; `area.*` takes every action starting `area.`
 * (e.g. `session.*,user.deactivated`).
 */
action?: string | null, 
/**
 * From this time on (RFC 3339, inclusive).
 */
from?: string | null, 
/**
 * Before this time (RFC 3339, exclusive).
 */
to?: string | null, 
/**
 * Exactly this IP address.
 */
ip?: string | null, 
/**
 * Case-insensitive text in names, e-mail addresses, the action and the details.
 */
q?: string | null, 
/**
 * Page size, 1–500 (default 50).
 */
limit?: number | null, 
/**
 * `next_cursor` of the previous page (of the same filters).
 */
cursor?: string | null, };

export type AuditParty = { 
/**
 * `user`, `api_key`, `role`, `group`, `organization`, `email` (an unknown address
 * typed at sign-in) or `system`.
 */
type: string, 
/**
 * Its id (for `email`, the address).
 */
id: string, 
/**
 * A name for people: display name, key name, role name…
 */
name: string | null, 
/**
 * A user's e-mail address.
 */
email: string | null, };

export type AuthMethod = "password" | "google" | "microsoft" | "saml";

export type BulkItem = { 
/**
 * The user.
 */
user_id: string, 
/**
 * Applied (or nothing to do).
 */
ok: boolean, 
/**
 * The HTTP status the single-user request would have had.
 */
status: number, 
/**
 * The problem code when refused.
 */
code?: string | null, 
/**
 * Why, for a person, when refused.
 */
message?: string | null, 
/**
 * The user afterwards, when applied (not for logout, which leaves the user as is).
 */
user?: User | null, 
/**
 * The user's ETag afterwards, with `user`.
 */
etag?: string | null, };

export type BulkRequest = { 
/**
 * The users, 1–5 000 ids.
 */
user_ids: Array<string>, } & ({ "action": "add_role", 
/**
 * The role.
 */
role: string, } | { "action": "remove_role", 
/**
 * The role.
 */
role: string, } | { "action": "add_department", 
/**
 * The group.
 */
department: string, } | { "action": "remove_department", 
/**
 * The group.
 */
department: string, } | { "action": "deactivate" } | { "action": "reactivate" } | { "action": "logout" });

export type BulkResponse = { 
/**
 * Users it was applied to.
 */
succeeded: number, 
/**
 * Users it was refused for.
 */
failed: number, 
/**
 * One per user.
 */
results: Array<BulkItem>, };

export type CachedUserPage = { 
/**
 * Users, ordered by display name, then id.
 */
items: Array<User>, 
/**
 * Pass as `cursor` for the next page; `null` on the last.
 */
next_cursor: string | null, 
/**
 * Count badges.
 */
counts: UserCounts, 
/**
 * Users with queued edits: pending, conflict or failed.
 */
local: { [key in string]: OutboxState }, };

export type CreatedApiKey = { 
/**
 * The key.
 */
key: ApiKey, 
/**
 * The secret to send as `Authorization: Bearer ghk_…`.
 */
secret: string, };

export type CurrentSession = { 
/**
 * The resumed session, if the keyring held a live one.
 */
session: SessionInfo | null, 
/**
 * Where to sign in: the last connection, or the one the app was started for.
 */
last_connection: SavedConnection | null, 
/**
 * Why a stored session could not be resumed, for the sign-in screen.
 */
signed_out_reason: string | null, };

export type Directory = { 
/**
 * Roles: built-in first (Owner, Admin, Manager, Member), then custom ones by name.
 */
roles: Array<Role>, 
/**
 * Departments, then companies, each by name.
 */
groups: Array<GroupRef>, };

export type ExportStatus = { 
/**
 * An export is being written.
 */
running: boolean, 
/**
 * Users written so far.
 */
done: number, 
/**
 * Users to write.
 */
total: number, 
/**
 * The finished file.
 */
path: string | null, 
/**
 * Why it failed.
 */
error: string | null, };

export type FieldConflict = { 
/**
 * The field: `first_name`, `email`, `roles`, `custom_attributes.cost_center`, …
 */
field: string, 
/**
 * The admin's value.
 */
mine: string, 
/**
 * The server's value now.
 */
theirs: string, 
/**
 * The value the edit was made on.
 */
base: string, 
/**
 * Whether the server's value moved away from the base (a real clash), rather than
 * only the admin's.
 */
clashes: boolean, };

export type FieldError = { 
/**
 * The field's name as it appears in the request (`email`, `limit`, …).
 */
field: string, 
/**
 * Stable code for the field problem (`invalid`, `required`, `too_long`, …).
 */
code: string, 
/**
 * What is wrong, for a person.
 */
message: string, };

export type ForcedLogout = { 
/**
 * The user.
 */
user_id: string, 
/**
 * Live sessions this request ended.
 */
sessions_revoked: number, 
/**
 * Trusted-device grants this request withdrew.
 */
trusted_devices_revoked: number, 
/**
 * API keys this request suspended (`?suspend_api_keys=true`).
 */
api_keys_suspended?: number, 
/**
 * The server's time of the revocation: every request of the user's sessions from
 * then on is refused.
 */
confirmed_at: string, };

export type Group = { 
/**
 * Group id.
 */
id: string, 
/**
 * Display name, unique per kind in the organization.
 */
name: string, 
/**
 * Department or company.
 */
kind: GroupKind, 
/**
 * Users in it.
 */
member_count: number, };

export type GroupKind = "department" | "company";

export type GroupRef = { 
/**
 * Group id.
 */
id: string, 
/**
 * Display name.
 */
name: string, 
/**
 * Department or company.
 */
kind: GroupKind, };

export type Histogram = { 
/**
 * Bucket width.
 */
bucket: HistogramBucket, 
/**
 * Start of the first bucket (inclusive).
 */
from: string, 
/**
 * End of the last bucket (exclusive).
 */
to: string, 
/**
 * The bars, oldest first.
 */
bars: Array<HistogramBar>, 
/**
 * Sum of the bars.
 */
total: number, };

export type HistogramBar = { 
/**
 * Start of the bucket.
 */
start: string, 
/**
 * Events in `[start, start + bucket)`.
 */
count: number, };

export type HistogramBucket = "hour" | "day";

export type IdentityProvider = "any" | "google" | "microsoft";

export type ImportReport = { 
/**
 * Whether this was only a check.
 */
dry_run: boolean, 
/**
 * Every data row, in file order.
 */
rows: Array<ImportRow>, 
/**
 * Rows with at least one error.
 */
invalid: number, 
/**
 * Seats before the import.
 */
seats: SeatUsage, 
/**
 * Seats the valid rows would take beyond the limit (0 when they fit).
 */
seats_short: number, 
/**
 * The invitations sent (empty on a dry run or when anything was invalid).
 */
invitations: Array<Invitation>, };

export type ImportRow = { 
/**
 * Its line in the file (the header is line 1).
 */
line: number, 
/**
 * The `email` column, trimmed.
 */
email: string, 
/**
 * The `role` column, trimmed.
 */
role: string, 
/**
 * The `department` column, trimmed.
 */
department: string, 
/**
 * Empty when the row is valid; `field` is `email`, `role`, `department` or `row`.
 */
errors: Array<FieldError>, };

export type Invitation = { 
/**
 * Invitation id.
 */
id: string, 
/**
 * The address invited (the account's e-mail once accepted).
 */
email: string, 
/**
 * Where the e-mail went when not to `email`.
 */
notify_email: string | null, 
/**
 * The pending user it holds a seat for (and, once accepted, the member).
 */
user_id: string | null, 
/**
 * Roles the invitee gets.
 */
roles: Array<RoleRef>, 
/**
 * Departments the invitee joins.
 */
departments: Array<GroupRef>, 
/**
 * The personal message in the e-mail.
 */
message: string | null, 
/**
 * Which sign-in may accept it.
 */
identity_provider: IdentityProvider, 
/**
 * With Microsoft: the Entra ID tenant the invitee must sign in from.
 */
tenant_id: string | null, 
/**
 * Where it stands now (Expired is computed from `expires_at`).
 */
status: InvitationStatus, 
/**
 * Who invited.
 */
invited_by: Inviter | null, 
/**
 * When it was first sent.
 */
created_at: string, 
/**
 * When the latest e-mail went out (a resend moves it).
 */
sent_at: string, 
/**
 * How many times it was sent.
 */
send_count: number, 
/**
 * When the link stops working.
 */
expires_at: string, 
/**
 * When it was accepted, declined or revoked.
 */
responded_at: string | null, };

export type InvitationCounts = { 
/**
 * Pending.
 */
pending: number, 
/**
 * Accepted.
 */
accepted: number, 
/**
 * Declined.
 */
declined: number, 
/**
 * Expired.
 */
expired: number, 
/**
 * Revoked.
 */
revoked: number, };

export type InvitationLink = { 
/**
 * The invitation.
 */
id: string, 
/**
 * Where the invitee accepts; it carries the token, so treat it like a password.
 */
link: string, 
/**
 * When it stops working.
 */
expires_at: string, };

export type InvitationPage = { 
/**
 * The invitations.
 */
items: Array<Invitation>, 
/**
 * Pass as `cursor` for the next page; absent on the last.
 */
next_cursor: string | null, 
/**
 * Per status, with the search applied but not the status filter.
 */
counts: InvitationCounts, };

export type InvitationStatus = "pending" | "accepted" | "declined" | "expired" | "revoked";

export type InvitationsCreated = { 
/**
 * One invitation per address, in the order given.
 */
invitations: Array<Invitation>, 
/**
 * Seats after the invitations.
 */
seats: SeatUsage, };

export type Inviter = { 
/**
 * Their user id.
 */
id: string, 
/**
 * Their name when they invited.
 */
name: string, };

export type IpcError = { 
/**
 * What kind of failure.
 */
code: IpcErrorCode, 
/**
 * For a person.
 */
message: string, 
/**
 * The input field at fault, when there is one (`server_url`, `email`, `password`).
 */
field: string | null, 
/**
 * Every field at fault with its message, when the server named several.
 */
fields: Array<IpcFieldError>, };

export type IpcErrorCode = "invalid_input" | "insecure_url" | "invalid_credentials" | "mfa_required" | "unreachable" | "session_expired" | "not_signed_in" | "forbidden" | "step_up_required" | "invalid" | "not_found" | "keyring_unavailable" | "server_error" | "internal";

export type IpcFieldError = { 
/**
 * The field: `email`, `first_name`, `custom_attributes.cost_center`, …
 */
field: string, 
/**
 * For a person.
 */
message: string, };

export type LoginAttempt = { 
/**
 * Attempt id (increasing).
 */
id: number, 
/**
 * When.
 */
at: string, 
/**
 * The e-mail address typed (lower-cased).
 */
email: string, 
/**
 * The user it belongs to, when the address is known.
 */
user_id: string | null, 
/**
 * Their display name now.
 */
user_name: string | null, 
/**
 * Where from.
 */
ip: string, 
/**
 * Browser and OS.
 */
device: string, 
/**
 * Success or failure.
 */
result: LoginResult, 
/**
 * For a failure: one of [`LOGIN_FAILURE_REASONS`].
 */
reason: string | null, };

export type LoginAttemptPage = { 
/**
 * Attempts, newest first.
 */
items: Array<LoginAttempt>, 
/**
 * Pass as `cursor` to get the next page; `null` on the last page.
 */
next_cursor: string | null, };

export type LoginAttemptQuery = { 
/**
 * `success` or `failure`.
 */
result?: LoginResult | null, 
/**
 * A failure reason, e.g. `bad_password`.
 */
reason?: string | null, 
/**
 * Attempts of this user (id).
 */
user_id?: string | null, 
/**
 * Case-insensitive search in the e-mail address typed.
 */
email?: string | null, 
/**
 * Exactly this IP address.
 */
ip?: string | null, 
/**
 * From this time on (RFC 3339, inclusive).
 */
from?: string | null, 
/**
 * Before this time (RFC 3339, exclusive).
 */
to?: string | null, 
/**
 * Page size, 1–500 (default 50).
 */
limit?: number | null, 
/**
 * `next_cursor` of the previous page.
 */
cursor?: string | null, };

export type LoginResult = "success" | "failure";

export type LogoutStatus = { 
/**
 * The user.
 */
user_id: string, 
/**
 * A force logout not confirmed by the server yet: `pending` (not yet effective: the
 * user's sessions still work) or `failed` (refused; `last_error` says why).
 */
queued: OutboxEntry | null, 
/**
 * The last force logout the server confirmed, with its time.
 */
confirmed: ForcedLogout | null, };

export type MailMessage = { 
/**
 * Message id.
 */
id: string, 
/**
 * What it is about, e.g. `password_reset`.
 */
kind: string, 
/**
 * Recipient.
 */
to: string, 
/**
 * Subject line.
 */
subject: string, 
/**
 * The plain-text part.
 */
text: string, 
/**
 * The HTML part.
 */
html: string, 
/**
 * When it was queued.
 */
created_at: string, 
/**
 * When the relay accepted it; absent while queued or without a relay.
 */
sent_at: string | null, 
/**
 * Delivery attempts so far.
 */
attempts: number, 
/**
 * The last delivery error, if any.
 */
last_error: string | null, };

export type NewGroup = { 
/**
 * Display name, 1–100 characters.
 */
name: string, 
/**
 * Department (the default) or company.
 */
kind: GroupKind, };

export type NewInvitations = { 
/**
 * The addresses to invite (at most [`MAX_INVITES_PER_REQUEST`]).
 */
emails: Array<string>, 
/**
 * Role keys or ids; none means Member.
 */
roles: Array<string>, 
/**
 * Department ids or names.
 */
departments: Array<string>, 
/**
 * A personal message for the e-mail.
 */
message: string | null, 
/**
 * Send the e-mail here instead of to the invited address (with one address only).
 */
notify_email: string | null, 
/**
 * Which sign-in may accept it (default Any).
 */
identity_provider: IdentityProvider, 
/**
 * With Microsoft: the tenant id the invitee must sign in from.
 */
tenant_id: string | null, };

export type NewRole = { 
/**
 * Display name, 1–100 characters, unique in the organization.
 */
name: string, 
/**
 * Stable key (lower-case letters, digits, `_`); derived from the name when absent.
 */
key?: string | null, 
/**
 * Permission keys; the caller must hold each of them.
 */
permissions: Array<string>, };

export type NewUser = { 
/**
 * First name (1–100 characters).
 */
first_name: string, 
/**
 * Last name (1–100 characters).
 */
last_name: string, 
/**
 * E-mail address; unique, compared case-insensitively.
 */
email: string, 
/**
 * Initial password (8–256 characters); the user signs in with it.
 */
password: string, 
/**
 * Roles by id or key; `member` when empty.
 */
roles: Array<string>, 
/**
 * Departments and companies by id.
 */
departments: Array<string>, };

export type NotificationPreferences = { 
/**
 * New sign-ins, password and MFA changes.
 */
security_alerts: boolean, 
/**
 * Changes to the user's roles and departments.
 */
account_changes: boolean, 
/**
 * A weekly summary of the organization's activity.
 */
weekly_digest: boolean, };

export type Organization = { 
/**
 * Organization id.
 */
id: string, 
/**
 * Display name.
 */
name: string, 
/**
 * Most users that may be active or invited at once.
 */
seat_limit: number, 
/**
 * Seats taken: active and pending users (deactivated ones free theirs).
 */
seats_used: number, 
/**
 * Days an invitation stays valid.
 */
invitation_expiry_days: number, 
/**
 * Every member must enroll MFA.
 */
mfa_required: boolean, 
/**
 * Days audit events are kept before they are purged (SPEC A1).
 */
audit_retention_days: number, };

export type OrganizationPatch = { 
/**
 * New display name.
 */
name?: string | null, 
/**
 * New seat limit, 1–1 000 000; not below the seats in use.
 */
seat_limit?: number | null, 
/**
 * New invitation lifetime in days, 1–90.
 */
invitation_expiry_days?: number | null, 
/**
 * Require MFA of every member.
 */
mfa_required?: boolean | null, 
/**
 * Days to keep audit events, 30–3650.
 */
audit_retention_days?: number | null, };

export type OrganizationRef = { 
/**
 * Organization id.
 */
id: string, 
/**
 * Display name, e.g. "Acme".
 */
name: string, };

export type OutboxAction = "edit" | "deactivate" | "reactivate" | "remove" | "logout";

export type OutboxEntry = { 
/**
 * Position in the queue; entries replay in this order.
 */
seq: number, 
/**
 * The user edited.
 */
user_id: string, 
/**
 * Their display name when edited (for the drawer).
 */
user_name: string, 
/**
 * What the entry does.
 */
action: OutboxAction, 
/**
 * The edit, for `action = edit` (empty otherwise).
 */
patch: UserPatch, 
/**
 * Where it stands.
 */
state: OutboxState, 
/**
 * Sending attempts so far.
 */
attempts: number, 
/**
 * The server's refusal (failed) or the network failure of the last attempt (pending).
 */
last_error: string | null, 
/**
 * Field errors of a refusal, as `field: message`.
 */
field_errors: Array<string>, 
/**
 * Field by field, for a conflict.
 */
conflicts: Array<FieldConflict>, 
/**
 * When it was queued (RFC 3339).
 */
created_at: string, };

export type OutboxState = "pending" | "conflict" | "failed";

export type PasswordResetSent = { 
/**
 * The user.
 */
user_id: string, 
/**
 * Where the link was sent.
 */
sent_to: string, 
/**
 * When the link stops working.
 */
expires_at: string, 
/**
 * API keys this request suspended (`?suspend_api_keys=true`).
 */
api_keys_suspended?: number, };

export type Resolution = { "action": "keep_theirs" } | { "action": "reapply_mine" } | { "action": "edit", 
/**
 * The edit to send.
 */
patch: UserPatch, };

export type Revocation = { 
/**
 * The session.
 */
session_id: string, 
/**
 * What the server found.
 */
outcome: RevokeOutcome, 
/**
 * When the session was revoked: from this request on its tokens are refused.
 */
revoked_at: string | null, };

export type RevokeOutcome = "revoked" | "already_revoked" | "unknown";

export type Role = { 
/**
 * Role id.
 */
id: string, 
/**
 * Stable key.
 */
key: string, 
/**
 * Display name.
 */
name: string, 
/**
 * Owner, Admin, Manager and Member are built in.
 */
builtin: boolean, 
/**
 * Permission keys, in the order of [`crate::PERMISSIONS`].
 */
permissions: Array<string>, 
/**
 * Users holding the role (`GET /v1/roles`; absent in the change feed).
 */
member_count?: number | null, };

export type RolePatch = { 
/**
 * New display name.
 */
name?: string | null, 
/**
 * The role's permissions from now on (replaces them all).
 */
permissions?: Array<string> | null, };

export type RoleRef = { 
/**
 * Role id.
 */
id: string, 
/**
 * Stable key: `owner`, `admin`, `manager`, `member`, or a custom role's key.
 */
key: string, 
/**
 * Display name.
 */
name: string, };

export type SavedConnection = { 
/**
 * Server base URL.
 */
server_url: string, 
/**
 * Account e-mail.
 */
email: string, };

export type SeatUsage = { 
/**
 * Active and pending users.
 */
used: number, 
/**
 * The organization's seat limit.
 */
limit: number, };

export type Session = { 
/**
 * Session id.
 */
id: string, 
/**
 * The user signed in.
 */
user_id: string, 
/**
 * Their display name now.
 */
user_name: string, 
/**
 * Their e-mail address now.
 */
user_email: string, 
/**
 * Browser and OS, e.g. "Firefox on Linux".
 */
device: string, 
/**
 * The raw User-Agent it signed in with.
 */
user_agent: string, 
/**
 * The address it signed in from (the direct peer, or `X-Forwarded-For` from a
 * trusted proxy).
 */
ip: string, 
/**
 * When it signed in.
 */
created_at: string, 
/**
 * Its last request (written at most once a minute).
 */
last_active_at: string, 
/**
 * The device is remembered as trusted (skips MFA until revoked).
 */
trusted_device: boolean, 
/**
 * When it was revoked or ended, as the server recorded it.
 */
revoked_at: string | null, 
/**
 * Why: `logout`, `revoked`, `forced_logout`, `user_deactivated`,
 * `refresh_token_reuse`, …
 */
revoked_reason: string | null, };

export type SessionInfo = { 
/**
 * Server base URL.
 */
server_url: string, 
/**
 * Account e-mail.
 */
email: string, 
/**
 * Account id.
 */
user_id: string, 
/**
 * Account display name.
 */
display_name: string, 
/**
 * The account's organization.
 */
organization: OrganizationRef, 
/**
 * Permission keys, for hiding what the account may not do.
 */
permissions: Array<string>, 
/**
 * The organization requires MFA and the account has none: the app shows only the
 * enrolment until it is done.
 */
mfa_enrollment_required: boolean, 
/**
 * The account has an authenticator: confirming the password asks for its code too.
 * (A session cached by an older version reads as without, and the server asks.)
 */
mfa_enabled: boolean, 
/**
 * The account holds the Owner role, which outranks an Admin with the same
 * permissions: the UI mirrors the server's rule with it.
 */
owner: boolean, };

export type SessionPage = { 
/**
 * Sessions, by sign-in time, newest first.
 */
items: Array<Session>, 
/**
 * Pass as `cursor` to get the next page; `null` on the last page.
 */
next_cursor: string | null, };

export type SessionQuery = { 
/**
 * Case-insensitive search in the user's name and e-mail, the IP and the device.
 */
q?: string | null, 
/**
 * `active` (default): live sessions only; `all`: revoked and ended ones too.
 */
state?: string | null, 
/**
 * Page size, 1–500 (default 50).
 */
limit?: number | null, 
/**
 * `next_cursor` of the previous page.
 */
cursor?: string | null, };

export type SignInArgs = { 
/**
 * Server base URL as typed.
 */
server_url: string, 
/**
 * Account e-mail.
 */
email: string, 
/**
 * Password; redacted in every `Debug` output.
 */
password: string, 
/**
 * The current TOTP code, when the account has MFA (asked for after `mfa_required`).
 */
totp?: string, };

export type SignInUnlocked = { 
/**
 * The user.
 */
user_id: string, 
/**
 * The address whose lock was lifted.
 */
email: string, 
/**
 * The server's time of the unlock: guesses before it no longer count.
 */
unlocked_at: string, };

export type SteppedUp = { 
/**
 * Until when this session may change its own e-mail, MFA and API keys.
 */
until: string, };

export type SyncStatus = { 
/**
 * The server answered the last request.
 */
online: boolean, 
/**
 * Last completed sync (RFC 3339), if any.
 */
last_synced_at: string | null, 
/**
 * A sync is running.
 */
syncing: boolean, 
/**
 * Changes applied so far by the running sync.
 */
applied: number, 
/**
 * Changes the running sync will apply in all, as far as known.
 */
total: number, 
/**
 * The running sync is the first one (the cache was empty): show a progress bar.
 */
first_sync: boolean, 
/**
 * Entries per state.
 */
pending: number, 
/**
 * Conflicted entries.
 */
conflicts: number, 
/**
 * Failed entries.
 */
failed: number, 
/**
 * Why the app is offline or the last sync failed, for a person.
 */
error: string | null, 
/**
 * Moves whenever what the local copy shows changed: the UI re-reads then.
 */
revision: number, 
/**
 * Set once the session ended (revoked, expired): back to sign-in with this reason.
 */
session_ended: string | null, };

export type TotpSetup = { 
/**
 * The base32 secret, for typing in by hand.
 */
secret: string, 
/**
 * The `otpauth://` URI, for a QR code.
 */
otpauth_uri: string, 
/**
 * Digits per code.
 */
digits: number, 
/**
 * Seconds per code.
 */
period: number, };

export type User = { 
/**
 * User id.
 */
id: string, 
/**
 * E-mail address, as entered.
 */
email: string, 
/**
 * First name.
 */
first_name: string, 
/**
 * Last name.
 */
last_name: string, 
/**
 * Display name ("First Last" unless set otherwise).
 */
display_name: string, 
/**
 * Lifecycle state.
 */
status: UserStatus, 
/**
 * Roles, several per user.
 */
roles: Array<RoleRef>, 
/**
 * Departments and companies.
 */
departments: Array<GroupRef>, 
/**
 * Whether the user has MFA enrolled.
 */
mfa_enabled: boolean, 
/**
 * Last request made by any of the user's sessions.
 */
last_active_at: string | null, 
/**
 * Last successful sign-in.
 */
last_login_at: string | null, 
/**
 * When the user was created.
 */
created_at: string, 
/**
 * Custom attributes (SPEC U6): key to value, keys sorted.
 */
custom_attributes: { [key in string]: string }, 
/**
 * Picture: an `https` URL, or this server's `/v1/users/{id}/avatar?v=…` after an upload.
 */
avatar_url: string | null, 
/**
 * How the user can sign in (SPEC U6).
 */
auth_methods: Array<AuthMethod>, 
/**
 * What the user is notified about by e-mail.
 */
notification_preferences: NotificationPreferences, };

export type UserCounts = { 
/**
 * Active users.
 */
active: number, 
/**
 * Pending (invited) users.
 */
pending: number, 
/**
 * Deactivated users.
 */
deactivated: number, 
/**
 * All users.
 */
all: number, };

export type UserListQuery = { 
/**
 * Case-insensitive search in name and e-mail.
 */
q?: string | null, 
/**
 * `active`, `pending` or `deactivated`.
 */
status?: UserStatus | null, 
/**
 * A role key (`admin`) or role id.
 */
role?: string | null, 
/**
 * A department/company id or name.
 */
department?: string | null, 
/**
 * Page size, 1–500 (default 50).
 */
limit?: number | null, 
/**
 * `next_cursor` of the previous page.
 */
cursor?: string | null, };

export type UserPatch = { 
/**
 * New first name (1–100 characters).
 */
first_name?: string | null, 
/**
 * New last name (1–100 characters).
 */
last_name?: string | null, 
/**
 * New e-mail address; unique in the server, compared case-insensitively.
 */
email?: string | null, 
/**
 * The user's roles from now on, by id or key (replaces them all). Granting or taking
 * a role needs every permission the role has; the `owner` role needs an Owner.
 */
roles?: Array<string> | null, 
/**
 * The user's departments and companies from now on, by id (replaces them all).
 */
departments?: Array<string> | null, 
/**
 * Custom attributes to set (a value) or remove (`null`); keys not named stay.
 */
custom_attributes?: Record<string, string | null>, 
/**
 * A new picture URL (`https` only); an empty string removes the picture.
 */
avatar_url?: string | null, 
/**
 * The user's notification preferences from now on.
 */
notification_preferences?: NotificationPreferences | null, };

export type UserStatus = "pending" | "active" | "deactivated";

/** Every Tauri command of the app; each rejects with an `IpcError`. */
export const commands = {
  /** Signs in to a server; the refresh token goes to the OS keyring. */
  signIn: (args: SignInArgs) => invoke<SessionInfo>("sign_in", { args }),
  /** Signs out: revokes the session on the server and deletes the keyring entry. Queued changes are kept for the next sign-in, or dropped with `discard_pending`; `remove_copy` also deletes this computer's copy of the organization (kept changes stay). */
  signOut: (discardPending: boolean, removeCopy: boolean) => invoke<null>("sign_out", { discardPending, removeCopy }),
  /** The resumed session, if any, and the last connection to prefill sign-in. */
  currentSession: () => invoke<CurrentSession>("current_session"),
  /** One page of the organization's users, from the local copy. */
  listUsers: (query: UserListQuery) => invoke<CachedUserPage>("list_users", { query }),
  /** Online or not, last sync, sync progress and queued-change counts. */
  syncStatus: () => invoke<SyncStatus>("sync_status"),
  /** Syncs and sends queued changes now. */
  syncNow: () => invoke<null>("sync_now"),
  /** Queues an edit of a user: shown at once, sent when the server is reachable. */
  updateUser: (userId: string, patch: UserPatch) => invoke<OutboxEntry>("update_user", { userId, patch }),
  /** The queued changes, oldest first. */
  outbox: () => invoke<Array<OutboxEntry>>("outbox"),
  /** Settles a conflicted or refused change. */
  settleChange: (seq: number, resolution: Resolution) => invoke<null>("settle_change", { seq, resolution }),
  /** Drops a queued change. */
  discardChange: (seq: number) => invoke<null>("discard_change", { seq }),
  /** Sends a queued change now (a refused one is put back first); null once the server confirmed it, else the change as it waits. A refusal rejects with the server's code and the change stays in the queue, refused. */
  sendChange: (seq: number) => invoke<OutboxEntry | null>("send_change", { seq }),
  /** Roles and departments from the local copy (readable offline). */
  directory: () => invoke<Directory>("directory"),
  /** Queues a deactivation, reactivation or removal: shown at once, sent when online. */
  userAction: (userId: string, action: OutboxAction) => invoke<OutboxEntry>("user_action", { userId, action }),
  /** Creates a user on the server (needs a connection: the password is never stored here). */
  createUser: (user: NewUser) => invoke<User>("create_user", { user }),
  /** Uploads a user's picture (PNG, JPEG, GIF or WebP, at most 512 KiB). */
  uploadAvatar: (userId: string, image: Array<number>) => invoke<User>("upload_avatar", { userId, image }),
  /** A user's uploaded picture as a `data:` URL, or null when there is none. */
  avatar: (userId: string) => invoke<string | null>("avatar", { userId }),
  /** Applies one action to many users on the server; a result per user. */
  bulkAction: (request: BulkRequest) => invoke<BulkResponse>("bulk_action", { request }),
  /** The organization's settings and seat usage. */
  organization: () => invoke<Organization>("organization"),
  /** Changes the organization's settings. */
  updateOrganization: (patch: OrganizationPatch) => invoke<Organization>("update_organization", { patch }),
  /** Every role with its permissions and member count. */
  roles: () => invoke<Array<Role>>("roles"),
  /** Creates a custom role. */
  createRole: (role: NewRole) => invoke<Role>("create_role", { role }),
  /** Renames a custom role or changes its permissions. */
  updateRole: (id: string, patch: RolePatch) => invoke<Role>("update_role", { id, patch }),
  /** Deletes a custom role. */
  deleteRole: (id: string) => invoke<null>("delete_role", { id }),
  /** Every department and company with its member count. */
  groups: () => invoke<Array<Group>>("groups"),
  /** Creates a department or company. */
  createGroup: (group: NewGroup) => invoke<Group>("create_group", { group }),
  /** Renames a department or company. */
  renameGroup: (id: string, name: string) => invoke<Group>("rename_group", { id, name }),
  /** Deletes a department or company, moving its members to `move_to` if given. */
  deleteGroup: (id: string, moveTo: string | null) => invoke<null>("delete_group", { id, moveTo }),
  /** Starts exporting the filtered list (local copy) to a CSV file in Downloads. */
  startExport: (query: UserListQuery) => invoke<null>("start_export", { query }),
  /** How the running or last export went. */
  exportStatus: () => invoke<ExportStatus>("export_status"),
  /** Force logout: queues it durably, then sends it at once; says whether the server confirmed it (and when) or it waits, not yet effective. */
  forceLogout: (userId: string, suspendApiKeys: boolean) => invoke<LogoutStatus>("force_logout", { userId, suspendApiKeys }),
  /** Where the last force logout of a user stands (queued, refused or confirmed). */
  logoutStatus: (userId: string) => invoke<LogoutStatus>("logout_status", { userId }),
  /** Starts enrolling an authenticator app for the signed-in account: a secret to scan. */
  startMfaEnrollment: () => invoke<TotpSetup>("start_mfa_enrollment"),
  /** Confirms the enrolment with a current code; MFA is on from now. */
  confirmMfaEnrollment: (code: string) => invoke<SessionInfo>("confirm_mfa_enrollment", { code }),
  /** "Forgot password": asks the server to e-mail the address a reset link. */
  requestPasswordReset: (serverUrl: string, email: string) => invoke<null>("request_password_reset", { serverUrl, email }),
  /** E-mails a user a single-use, expiring link to choose a new password. */
  resetPassword: (userId: string, suspendApiKeys: boolean) => invoke<PasswordResetSent>("reset_password", { userId, suspendApiKeys }),
  /** Resets a user's MFA: they enrol again; their trusted devices are withdrawn. */
  resetMfa: (userId: string) => invoke<User>("reset_mfa", { userId }),
  /** Confirms the signed-in account's password (and TOTP code when enrolled): for a few minutes it may change its own e-mail, reset its own MFA and create API keys. */
  stepUp: (password: string, totp: string | null) => invoke<SteppedUp>("step_up", { password, totp }),
  /** Lifts the sign-in lock of a user's address: earlier failed sign-ins stop counting. */
  unlockSignIn: (userId: string) => invoke<SignInUnlocked>("unlock_sign_in", { userId }),
  /** Invitations from the local copy (readable offline), newest first, with counts. */
  listInvitations: (status: InvitationStatus | null, q: string | null) => invoke<InvitationPage>("list_invitations", { status, q }),
  /** Invites one or many addresses (online); each gets an e-mail and takes a seat. */
  invite: (invitations: NewInvitations) => invoke<InvitationsCreated>("invite", { invitations }),
  /** Sends an invitation again with a new link and expiry; older links stop working. */
  resendInvitation: (id: string) => invoke<Invitation>("resend_invitation", { id }),
  /** Withdraws an invitation: its link stops working and its seat is freed. */
  revokeInvitation: (id: string) => invoke<Invitation>("revoke_invitation", { id }),
  /** An invitation's link, to share by another channel (it is never stored here). */
  invitationLink: (id: string) => invoke<InvitationLink>("invitation_link", { id }),
  /** Checks a CSV file of people to invite, row by row; nothing is sent. */
  validateInvitationCsv: (csv: string) => invoke<ImportReport>("validate_invitation_csv", { csv }),
  /** Invites every row of a CSV file when all are valid (one batch; `idempotency_key` makes a retry of the same batch safe). */
  importInvitations: (csv: string, idempotencyKey: string) => invoke<ImportReport>("import_invitations", { csv, idempotencyKey }),
  /** A demo server's outgoing mail (the messages a real relay would deliver). */
  devMailbox: () => invoke<Array<MailMessage>>("dev_mailbox"),
  /** One page of the organization's sessions (live from the server). */
  listSessions: (query: SessionQuery) => invoke<SessionPage>("list_sessions", { query }),
  /** One page of a user's sessions (live from the server). */
  userSessions: (userId: string, query: SessionQuery) => invoke<SessionPage>("user_sessions", { userId, query }),
  /** Revokes one session; its next request is refused. Repeats answer with the original time. */
  revokeSession: (sessionId: string) => invoke<Revocation>("revoke_session", { sessionId }),
  /** One page of login attempts, filtered (live from the server). */
  loginAttempts: (query: LoginAttemptQuery) => invoke<LoginAttemptPage>("login_attempts", { query }),
  /** A user's API keys, newest first, without their secrets. */
  apiKeys: (userId: string) => invoke<Array<ApiKey>>("api_keys", { userId }),
  /** Creates an API key, limited to `role` when given (`scim`: a provisioning key); the answer carries its secret, to be shown once and never stored. */
  createApiKey: (userId: string, name: string, expiresInDays: number | null, role: string | null) => invoke<CreatedApiKey>("create_api_key", { userId, name, expiresInDays, role }),
  /** Suspends (true) or restores (false) an API key. */
  setApiKeySuspended: (keyId: string, suspended: boolean) => invoke<ApiKey>("set_api_key_suspended", { keyId, suspended }),
  /** One page of the activity log, newest first: from the server, or from the cached window when it cannot be reached (`offline`; `beyond_window` when older events need a connection). A `user_id` alone reads the user's timeline. */
  activity: (query: AuditEventQuery) => invoke<ActivityPage>("activity", { query }),
  /** Matching events per hour or day, every bucket present, oldest first (offline: the part inside the cached window). */
  activityHistogram: (query: AuditEventQuery, bucket: HistogramBucket) => invoke<Histogram>("activity_histogram", { query, bucket }),
  /** Asks where to save (native dialog), then exports the filtered log from the server as CSV; the chosen path, or null when the dialog was cancelled. */
  startActivityExport: (query: AuditEventQuery) => invoke<string | null>("start_activity_export", { query }),
  /** How the running or last activity export went. */
  activityExportStatus: () => invoke<ActivityExportStatus>("activity_export_status"),
  /** Stops the running activity export; its partial file is deleted. */
  cancelActivityExport: () => invoke<null>("cancel_activity_export"),
  /** How many days of activity are kept for reading offline, and what is cached. */
  activitySettings: () => invoke<ActivitySettings>("activity_settings"),
  /** Keeps `days` (1–365) of activity for reading offline. */
  setActivityWindow: (days: number) => invoke<ActivitySettings>("set_activity_window", { days }),
};

/** The permission catalogue, in the server's order: [key, what it allows]. */
export const PERMISSIONS: readonly (readonly [string, string])[] = [["users.read","See the user list and profiles"],["users.manage","Create, edit, deactivate, reactivate and remove users"],["invitations.manage","Invite people and manage pending invitations"],["sessions.revoke","See sessions and force users to sign out"],["audit.read","Read the activity log and login attempts"],["audit.write","Record a host product's events in the activity log (with an API key)"],["roles.manage","Create and edit custom roles"],["org.settings","Change organization settings, departments and companies"]];

/** Custom attribute keys that name built-in fields. */
export const RESERVED_ATTRIBUTE_KEYS: readonly string[] = ["id","email","first_name","last_name","display_name","name","status","roles","departments","password","mfa_enabled","created_at","last_active_at","last_login_at","org_id","organization","version","etag","avatar","avatar_url","auth_methods","notification_preferences"];

export const MAX_CUSTOM_ATTRIBUTES = 50;
export const MAX_ATTRIBUTE_VALUE_CHARS = 1000;
export const MAX_NAME_CHARS = 100;
/** The largest uploaded picture, in bytes. */
export const MAX_AVATAR_BYTES = 524288;

/** Why a sign-in failed: [reason, label]. */
export const LOGIN_FAILURE_REASONS: readonly (readonly [string, string])[] = [["bad_password","Wrong password"],["unknown_user","Unknown user"],["mfa_failed","MFA failed"],["mfa_required","MFA code missing"],["deactivated","Deactivated"],["pending","Invitation not accepted"],["expired_invite","Invitation expired"],["locked","Account locked"],["rate_limited","Too many attempts from this IP"],["checking","Being checked, or interrupted while checked"]];

/** Invitation limits: a CSV import's bytes, addresses per invitation, a message's and a tenant ID's characters. */
export const MAX_IMPORT_BYTES = 5242880;
export const MAX_INVITES_PER_REQUEST = 500;
export const MAX_INVITATION_MESSAGE_CHARS = 2000;
export const MAX_TENANT_ID_CHARS = 200;

/** Every action the server records: [action, area, label]. */
export const AUDIT_ACTIONS: readonly (readonly [string, string, string])[] = [["session.signed_in","Sign-in","Signed in"],["session.signed_out","Sign-in","Signed out"],["session.sign_in_failed","Sign-in","Sign-in failed"],["session.mfa_verified","Sign-in","MFA verified"],["session.trusted_device_granted","Sign-in","Trusted device granted"],["session.stepped_up","Sign-in","Password confirmed"],["session.revoked","Sessions","Session revoked"],["session.refresh_token_reused","Sessions","Refresh token reused"],["user.force_logout","Sessions","Forced logout"],["user.created","Users","User created"],["user.updated","Users","Profile edited"],["user.roles_changed","Users","Roles changed"],["user.departments_changed","Users","Departments changed"],["user.deactivated","Users","Deactivated"],["user.reactivated","Users","Reactivated"],["user.removed","Users","Removed"],["invitation.sent","Invitations","Invitation sent"],["invitation.resent","Invitations","Invitation resent"],["invitation.revoked","Invitations","Invitation revoked"],["invitation.accepted","Invitations","Invitation accepted"],["invitation.declined","Invitations","Invitation declined"],["user.password_reset_requested","Security","Password reset requested"],["user.password_reset_completed","Security","Password reset completed"],["user.mfa_enrolled","Security","MFA enrolled"],["user.mfa_reset","Security","MFA reset"],["user.sign_in_unlocked","Security","Sign-in unlocked"],["api_key.created","API keys","API key created"],["api_key.used","API keys","API key used"],["api_key.suspended","API keys","API key suspended"],["api_key.restored","API keys","API key restored"],["organization.updated","Organization","Settings changed"],["role.created","Organization","Role created"],["role.updated","Organization","Role edited"],["role.deleted","Organization","Role deleted"],["group.created","Organization","Department created"],["group.updated","Organization","Department renamed"],["group.deleted","Organization","Department deleted"]];
/** Days of activity a connection keeps for reading offline: the default and the bounds. */
export const DEFAULT_ACTIVITY_WINDOW_DAYS = 30;
export const MIN_ACTIVITY_WINDOW_DAYS = 1;
export const MAX_ACTIVITY_WINDOW_DAYS = 365;

/** Days an organization may keep its audit events. */
export const MIN_AUDIT_RETENTION_DAYS = 30;
export const MAX_AUDIT_RETENTION_DAYS = 3650;
