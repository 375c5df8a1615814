// Generated from Rust by `cargo xtask bindings` (src-tauri/src/bindings.rs). Do not edit:
// `cargo xtask test` fails when this file differs from what the Rust code generates.
import { invoke } from "@tauri-apps/api/core";

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
field: string | null, };

export type IpcErrorCode = "invalid_input" | "invalid_credentials" | "unreachable" | "session_expired" | "not_signed_in" | "forbidden" | "invalid" | "not_found" | "keyring_unavailable" | "server_error" | "internal";

export type OrganizationRef = { 
/**
 * Organization id.
 */
id: string, 
/**
 * Display name, e.g. "Acme".
 */
name: string, };

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
permissions: Array<string>, };

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
password: string, };

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
custom_attributes: { [key in string]: string }, };

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

export type UserPage = { 
/**
 * Users, ordered by display name (case-insensitive), then id.
 */
items: Array<User>, 
/**
 * Pass as `cursor` to get the next page; `null` on the last page.
 */
next_cursor: string | null, 
/**
 * Count badges.
 */
counts: UserCounts, };

export type UserStatus = "pending" | "active" | "deactivated";

/** Every Tauri command of the app; each rejects with an `IpcError`. */
export const commands = {
  /** Signs in to a server; the refresh token goes to the OS keyring. */
  signIn: (args: SignInArgs) => invoke<SessionInfo>("sign_in", { args }),
  /** Signs out: revokes the session on the server and deletes the keyring entry. */
  signOut: () => invoke<null>("sign_out"),
  /** The resumed session, if any, and the last connection to prefill sign-in. */
  currentSession: () => invoke<CurrentSession>("current_session"),
  /** One page of the organization's users. */
  listUsers: (query: UserListQuery) => invoke<UserPage>("list_users", { query }),
};
