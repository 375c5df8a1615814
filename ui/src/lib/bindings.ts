// Generated from Rust by `cargo xtask bindings` (src-tauri/src/bindings.rs). Do not edit:
// `cargo xtask test` fails when this file differs from what the Rust code generates.
import { invoke } from "@tauri-apps/api/core";

export type CurrentSession = { session: SessionInfo | null, last_connection: SavedConnection | null, signed_out_reason: string | null, };

export type GroupKind = "department" | "company";

export type GroupRef = { id: string, name: string, kind: GroupKind, };

export type IpcError = { code: IpcErrorCode, message: string, field: string | null, };

export type IpcErrorCode = "invalid_input" | "invalid_credentials" | "unreachable" | "session_expired" | "not_signed_in" | "forbidden" | "keyring_unavailable" | "server_error" | "internal";

export type OrganizationRef = { id: string, name: string, };

export type RoleRef = { id: string, key: string, name: string, };

export type SavedConnection = { server_url: string, email: string, };

export type SessionInfo = { server_url: string, email: string, user_id: string, display_name: string, organization: OrganizationRef, permissions: Array<string>, };

export type SignInArgs = { server_url: string, email: string, password: string, };

export type User = { id: string, email: string, first_name: string, last_name: string, display_name: string, status: UserStatus, roles: Array<RoleRef>, departments: Array<GroupRef>, mfa_enabled: boolean, last_active_at: string | null, last_login_at: string | null, created_at: string, };

export type UserCounts = { active: number, pending: number, deactivated: number, all: number, };

export type UserListQuery = { q?: string, status?: UserStatus, role?: string, department?: string, limit?: number, cursor?: string, };

export type UserPage = { items: Array<User>, next_cursor: string | null, counts: UserCounts, };

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
