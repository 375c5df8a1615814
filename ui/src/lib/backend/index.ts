// The one door from the UI to Rust. Components never call `invoke` or `commands`
// themselves: they take a `Backend` from context, so tests can swap the transport
// (they keep the Tauri one and intercept it with `mockIPC`).
import { getContext, setContext } from 'svelte';
import {
  commands,
  type CachedUserPage,
  type CurrentSession,
  type IpcError,
  type IpcErrorCode,
  type OutboxEntry,
  type Resolution,
  type SessionInfo,
  type SignInArgs,
  type SyncStatus,
  type UserListQuery,
  type UserPatch,
  type BulkRequest,
  type BulkResponse,
  type Directory,
  type ExportStatus,
  type Group,
  type LoginAttemptPage,
  type LoginAttemptQuery,
  type LogoutStatus,
  type NewGroup,
  type NewRole,
  type NewUser,
  type Organization,
  type OrganizationPatch,
  type OutboxAction,
  type Revocation,
  type Role,
  type RolePatch,
  type SessionPage,
  type SessionQuery,
  type User,
  type ApiKey,
  type CreatedApiKey,
  type MailMessage,
  type PasswordResetSent,
  type TotpSetup,
  type ImportReport,
  type Invitation,
  type InvitationLink,
  type InvitationPage,
  type InvitationStatus,
  type InvitationsCreated,
  type NewInvitations,
  type ActivityExportStatus,
  type ActivityPage,
  type ActivitySettings,
  type AuditEventQuery,
  type Histogram,
  type HistogramBucket,
  type SignInUnlocked,
  type SteppedUp,
} from '../bindings';

export type { IpcError, IpcErrorCode };

export interface Backend {
  currentSession(): Promise<CurrentSession>;
  signIn(args: SignInArgs): Promise<SessionInfo>;
  /** Signs out; queued changes stay for the next sign-in unless `discardPending`. With
   * `removeCopy`, this computer's copy of the organization is deleted too (kept changes stay). */
  signOut(discardPending?: boolean, removeCopy?: boolean): Promise<void>;
  listUsers(query: UserListQuery): Promise<CachedUserPage>;
  syncStatus(): Promise<SyncStatus>;
  syncNow(): Promise<void>;
  updateUser(userId: string, patch: UserPatch): Promise<OutboxEntry>;
  outbox(): Promise<OutboxEntry[]>;
  settleChange(seq: number, resolution: Resolution): Promise<void>;
  discardChange(seq: number): Promise<void>;
  /** Sends a queued change now (a refused one is put back first): null once the server
   * confirmed it, else the change as it waits (offline). A refusal rejects with the
   * server's code, e.g. `step_up_required`; the change stays in Changes, refused. */
  sendChange(seq: number): Promise<OutboxEntry | null>;
  directory(): Promise<Directory>;
  userAction(userId: string, action: OutboxAction): Promise<OutboxEntry>;
  createUser(user: NewUser): Promise<User>;
  /** Uploads a user's picture (online only). */
  uploadAvatar(userId: string, image: Uint8Array): Promise<User>;
  /** A user's uploaded picture as a data: URL, or null. */
  avatar(userId: string): Promise<string | null>;
  bulkAction(request: BulkRequest): Promise<BulkResponse>;
  organization(): Promise<Organization>;
  updateOrganization(patch: OrganizationPatch): Promise<Organization>;
  roles(): Promise<Role[]>;
  createRole(role: NewRole): Promise<Role>;
  updateRole(id: string, patch: RolePatch): Promise<Role>;
  deleteRole(id: string): Promise<void>;
  groups(): Promise<Group[]>;
  createGroup(group: NewGroup): Promise<Group>;
  renameGroup(id: string, name: string): Promise<Group>;
  deleteGroup(id: string, moveTo: string | null): Promise<void>;
  startExport(query: UserListQuery): Promise<void>;
  exportStatus(): Promise<ExportStatus>;
  /** Queues a force logout durably and sends it at once: `confirmed` when the server
   * took it, else `queued` (pending: not yet effective; failed: refused). With
   * `suspendApiKeys`, the user's working API keys are suspended too. */
  forceLogout(userId: string, suspendApiKeys: boolean): Promise<LogoutStatus>;
  /** Where the last force logout of a user stands. */
  logoutStatus(userId: string): Promise<LogoutStatus>;
  /** One page of the organization's sessions (online only). */
  listSessions(query: SessionQuery): Promise<SessionPage>;
  /** One page of one user's sessions (online only). */
  userSessions(userId: string, query: SessionQuery): Promise<SessionPage>;
  /** Revokes one session (online only; a repeat answers with the original time). */
  revokeSession(sessionId: string): Promise<Revocation>;
  /** One page of login attempts (online only). */
  loginAttempts(query: LoginAttemptQuery): Promise<LoginAttemptPage>;
  /** A user's API keys, newest first, without their secrets (online only). */
  apiKeys(userId: string): Promise<ApiKey[]>;
  /** Creates an API key that expires after `expiresInDays` (null: never); the answer
   * carries its secret, shown once and never stored (online only). */
  createApiKey(userId: string, name: string, expiresInDays: number | null, role?: string): Promise<CreatedApiKey>;
  /** Suspends (true) or restores (false) an API key (online only). */
  setApiKeySuspended(keyId: string, suspended: boolean): Promise<ApiKey>;
  /** Starts enrolling an authenticator app for the signed-in account: a secret to scan (online only). */
  startMfaEnrollment(): Promise<TotpSetup>;
  /** Confirms the enrolment with a current code; answers with the session, now without
   * `mfa_enrollment_required` (online only). */
  confirmMfaEnrollment(code: string): Promise<SessionInfo>;
  /** "Forgot password" before signing in: the server e-mails a reset link if the address has an account. */
  requestPasswordReset(serverUrl: string, email: string): Promise<void>;
  /** E-mails a user a single-use link, valid for an hour, to choose a new password; with
   * `suspendApiKeys`, their working API keys are suspended too (online only). */
  resetPassword(userId: string, suspendApiKeys: boolean): Promise<PasswordResetSent>;
  /** Resets a user's MFA; answers with the user as the server has it now (online only). */
  resetMfa(userId: string): Promise<User>;
  /** Confirms the signed-in account's password (and authenticator code) for a few minutes:
   * what changing one's own e-mail, resetting one's own MFA and creating a key need (online only). */
  stepUp(password: string, totp: string | null): Promise<SteppedUp>;
  /** Lifts the sign-in lock of a user's address; earlier failed sign-ins stop counting (online only). */
  unlockSignIn(userId: string): Promise<SignInUnlocked>;
  /** A demo server's outgoing mail, newest first; rejects on a server without a demo mailbox. */
  devMailbox(): Promise<MailMessage[]>;
  /** Invitations from the local copy (readable offline), newest first, with counts per status. */
  listInvitations(status: InvitationStatus | null, q: string | null): Promise<InvitationPage>;
  /** Invites one or many addresses with the same roles and terms (online only). */
  invite(invitations: NewInvitations): Promise<InvitationsCreated>;
  /** Sends an invitation again with a new link and expiry (online only). */
  resendInvitation(id: string): Promise<Invitation>;
  /** Withdraws an invitation: its link stops working at once (online only). */
  revokeInvitation(id: string): Promise<Invitation>;
  /** An invitation's link, to hand on at once and not keep: it carries the token (online only). */
  invitationLink(id: string): Promise<InvitationLink>;
  /** Checks a CSV of `email,role,department` row by row; nothing is sent (online only). */
  validateInvitationCsv(csv: string): Promise<ImportReport>;
  /** Invites every row of one CSV batch, refused unless all are valid; a retry with the
   * same `idempotencyKey` gets the first answer (online only). */
  importInvitations(csv: string, idempotencyKey: string): Promise<ImportReport>;
  /** One page of the activity log, newest first: from the server, or offline from the
   * events cached on this computer (the page says which, and what the cache covers). */
  activity(query: AuditEventQuery): Promise<ActivityPage>;
  /** Matching events counted per hour or day, every bucket present, oldest first. */
  activityHistogram(query: AuditEventQuery, bucket: HistogramBucket): Promise<Histogram>;
  /** Asks where to save (a native dialog) and starts exporting the filtered log to CSV;
   * null when the admin cancelled the dialog. */
  startActivityExport(query: AuditEventQuery): Promise<string | null>;
  /** How the running (or last) activity export stands. */
  activityExportStatus(): Promise<ActivityExportStatus>;
  cancelActivityExport(): Promise<void>;
  /** How many days of activity this computer keeps for reading offline, and what it holds. */
  activitySettings(): Promise<ActivitySettings>;
  setActivityWindow(days: number): Promise<ActivitySettings>;
}

// A record, not a list, so that a code added in Rust (and so in the bindings) fails the
// type check here until it is listed.
const KNOWN_CODES: Record<IpcErrorCode, true> = {
  invalid_input: true,
  insecure_url: true,
  invalid_credentials: true,
  mfa_required: true,
  unreachable: true,
  session_expired: true,
  not_signed_in: true,
  forbidden: true,
  step_up_required: true,
  invalid: true,
  not_found: true,
  keyring_unavailable: true,
  server_error: true,
  internal: true,
};
const CODES = Object.keys(KNOWN_CODES) as readonly IpcErrorCode[];

export function isIpcError(value: unknown): value is IpcError {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.code === 'string' &&
    (CODES as readonly string[]).includes(v.code) &&
    typeof v.message === 'string'
  );
}

/** Every rejection becomes an `IpcError`, even Tauri's own string errors (e.g. an unknown command). */
export function toIpcError(reason: unknown): IpcError {
  if (isIpcError(reason)) {
    return { code: reason.code, message: reason.message, field: reason.field ?? null, fields: reason.fields ?? [] };
  }
  const message =
    reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : 'Unexpected error';
  return { code: 'internal', message, field: null, fields: [] };
}

async function call<T>(promise: () => Promise<T>): Promise<T> {
  try {
    return await promise();
  } catch (reason) {
    throw toIpcError(reason);
  }
}

/** Drops empty and undefined keys so the Rust side sees only the filters that are set. */
export function compactQuery(query: UserListQuery): UserListQuery {
  const out: UserListQuery = {};
  if (query.q && query.q.trim() !== '') out.q = query.q.trim();
  if (query.status) out.status = query.status;
  if (query.role) out.role = query.role;
  if (query.department) out.department = query.department;
  if (query.limit !== undefined) out.limit = query.limit;
  if (query.cursor) out.cursor = query.cursor;
  return out;
}

/** `compactQuery` for sessions. */
export function compactSessionQuery(query: SessionQuery): SessionQuery {
  const out: SessionQuery = {};
  if (query.q && query.q.trim() !== '') out.q = query.q.trim();
  if (query.state) out.state = query.state;
  if (query.limit != null) out.limit = query.limit;
  if (query.cursor) out.cursor = query.cursor;
  return out;
}

/** `compactQuery` for login attempts. */
export function compactAttemptQuery(query: LoginAttemptQuery): LoginAttemptQuery {
  const out: LoginAttemptQuery = {};
  if (query.result) out.result = query.result;
  if (query.reason) out.reason = query.reason;
  if (query.user_id) out.user_id = query.user_id;
  if (query.email && query.email.trim() !== '') out.email = query.email.trim();
  if (query.ip && query.ip.trim() !== '') out.ip = query.ip.trim();
  if (query.from) out.from = query.from;
  if (query.to) out.to = query.to;
  if (query.limit != null) out.limit = query.limit;
  if (query.cursor) out.cursor = query.cursor;
  return out;
}

/** `compactQuery` for the activity log; the paging fields are left out for the
 * histogram and the export, which take the filters only. */
export function compactActivityQuery(query: AuditEventQuery): AuditEventQuery {
  const out: AuditEventQuery = {};
  for (const key of ['user_id', 'actor_id', 'action', 'from', 'to', 'ip', 'q', 'cursor'] as const) {
    const value = query[key]?.trim();
    if (value) out[key] = value;
  }
  if (query.limit != null) out.limit = query.limit;
  return out;
}

export const tauriBackend: Backend = {
  currentSession: () => call(() => commands.currentSession()),
  signIn: (args) => call(() => commands.signIn(args)),
  signOut: async (discardPending = false, removeCopy = false) => {
    await call(() => commands.signOut(discardPending, removeCopy));
  },
  listUsers: (query) => call(() => commands.listUsers(compactQuery(query))),
  syncStatus: () => call(() => commands.syncStatus()),
  syncNow: async () => {
    await call(() => commands.syncNow());
  },
  updateUser: (userId, patch) => call(() => commands.updateUser(userId, patch)),
  outbox: () => call(() => commands.outbox()),
  settleChange: async (seq, resolution) => {
    await call(() => commands.settleChange(seq, resolution));
  },
  discardChange: async (seq) => {
    await call(() => commands.discardChange(seq));
  },
  sendChange: (seq) => call(() => commands.sendChange(seq)),
  directory: () => call(() => commands.directory()),
  userAction: (userId, action) => call(() => commands.userAction(userId, action)),
  createUser: (user) => call(() => commands.createUser(user)),
  uploadAvatar: (userId, image) => call(() => commands.uploadAvatar(userId, Array.from(image))),
  avatar: (userId) => call(() => commands.avatar(userId)),
  bulkAction: (request) => call(() => commands.bulkAction(request)),
  organization: () => call(() => commands.organization()),
  updateOrganization: (patch) => call(() => commands.updateOrganization(patch)),
  roles: () => call(() => commands.roles()),
  createRole: (role) => call(() => commands.createRole(role)),
  updateRole: (id, patch) => call(() => commands.updateRole(id, patch)),
  deleteRole: async (id) => {
    await call(() => commands.deleteRole(id));
  },
  groups: () => call(() => commands.groups()),
  createGroup: (group) => call(() => commands.createGroup(group)),
  renameGroup: (id, name) => call(() => commands.renameGroup(id, name)),
  deleteGroup: async (id, moveTo) => {
    await call(() => commands.deleteGroup(id, moveTo));
  },
  startExport: async (query) => {
    await call(() => commands.startExport(compactQuery(query)));
  },
  exportStatus: () => call(() => commands.exportStatus()),
  forceLogout: (userId, suspendApiKeys) => call(() => commands.forceLogout(userId, suspendApiKeys)),
  logoutStatus: (userId) => call(() => commands.logoutStatus(userId)),
  listSessions: (query) => call(() => commands.listSessions(compactSessionQuery(query))),
  userSessions: (userId, query) => call(() => commands.userSessions(userId, compactSessionQuery(query))),
  revokeSession: (sessionId) => call(() => commands.revokeSession(sessionId)),
  loginAttempts: (query) => call(() => commands.loginAttempts(compactAttemptQuery(query))),
  apiKeys: (userId) => call(() => commands.apiKeys(userId)),
  createApiKey: (userId, name, expiresInDays, role) => call(() => commands.createApiKey(userId, name, expiresInDays, role ?? null)),
  setApiKeySuspended: (keyId, suspended) => call(() => commands.setApiKeySuspended(keyId, suspended)),
  startMfaEnrollment: () => call(() => commands.startMfaEnrollment()),
  confirmMfaEnrollment: (code) => call(() => commands.confirmMfaEnrollment(code)),
  requestPasswordReset: async (serverUrl, email) => {
    await call(() => commands.requestPasswordReset(serverUrl, email));
  },
  resetPassword: (userId, suspendApiKeys) => call(() => commands.resetPassword(userId, suspendApiKeys)),
  resetMfa: (userId) => call(() => commands.resetMfa(userId)),
  stepUp: (password, totp) => call(() => commands.stepUp(password, totp && totp.trim() !== '' ? totp.trim() : null)),
  unlockSignIn: (userId) => call(() => commands.unlockSignIn(userId)),
  devMailbox: () => call(() => commands.devMailbox()),
  listInvitations: (status, q) => call(() => commands.listInvitations(status, q && q.trim() !== '' ? q.trim() : null)),
  invite: (invitations) => call(() => commands.invite(invitations)),
  resendInvitation: (id) => call(() => commands.resendInvitation(id)),
  revokeInvitation: (id) => call(() => commands.revokeInvitation(id)),
  invitationLink: (id) => call(() => commands.invitationLink(id)),
  validateInvitationCsv: (csv) => call(() => commands.validateInvitationCsv(csv)),
  importInvitations: (csv, idempotencyKey) => call(() => commands.importInvitations(csv, idempotencyKey)),
  activity: (query) => call(() => commands.activity(compactActivityQuery(query))),
  activityHistogram: (query, bucket) => call(() => commands.activityHistogram(compactActivityQuery(query), bucket)),
  startActivityExport: (query) => call(() => commands.startActivityExport(compactActivityQuery(query))),
  activityExportStatus: () => call(() => commands.activityExportStatus()),
  cancelActivityExport: async () => {
    await call(() => commands.cancelActivityExport());
  },
  activitySettings: () => call(() => commands.activitySettings()),
  setActivityWindow: (days) => call(() => commands.setActivityWindow(days)),
};

const KEY = Symbol('gatehouse.backend');

export function setBackend(backend: Backend): void {
  setContext(KEY, backend);
}

/** The backend set by an ancestor, or the Tauri one. */
export function getBackend(): Backend {
  return getContext<Backend | undefined>(KEY) ?? tauriBackend;
}
