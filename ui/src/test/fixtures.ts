// Test data shaped exactly like the generated bindings.
import type {
  ActivityPage,
  AuditEvent,
  CachedUserPage,
  Histogram,
  HistogramBucket,
  CurrentSession,
  Directory,
  ImportReport,
  ImportRow,
  Invitation,
  InvitationPage,
  IpcError,
  LoginAttempt,
  LogoutStatus,
  OutboxEntry,
  Session,
  SessionInfo,
  SyncStatus,
  User,
} from '../lib/bindings';

export const SESSION: SessionInfo = {
  server_url: 'https://gatehouse.acme.test',
  email: 'owner@acme.test',
  user_id: 'u-owner',
  display_name: 'Olivia Owner',
  organization: { id: 'org-1', name: 'Acme' },
  permissions: ['users.read', 'users.manage'],
  mfa_enrollment_required: false,
  mfa_enabled: false,
  owner: false,
};

export function signedOut(overrides: Partial<CurrentSession> = {}): CurrentSession {
  return { session: null, last_connection: null, signed_out_reason: null, ...overrides };
}

export function signedIn(session: SessionInfo = SESSION): CurrentSession {
  return {
    session,
    last_connection: { server_url: session.server_url, email: session.email },
    signed_out_reason: null,
  };
}

export function ipcError(code: IpcError['code'], message: string, field: string | null = null): IpcError {
  return { code, message, field, fields: [] };
}

let seq = 0;

export function makeUser(overrides: Partial<User> = {}): User {
  seq += 1;
  const first = overrides.first_name ?? `First${seq}`;
  const last = overrides.last_name ?? `Last${seq}`;
  return {
    id: `u-${seq}`,
    email: `user${seq}@acme.test`,
    first_name: first,
    last_name: last,
    display_name: `${first} ${last}`,
    status: 'active',
    roles: [{ id: 'r-member', key: 'member', name: 'Member' }],
    departments: [],
    mfa_enabled: false,
    last_active_at: null,
    last_login_at: null,
    created_at: '2024-01-01T00:00:00Z',
    custom_attributes: {},
    avatar_url: null,
    auth_methods: ['password'],
    notification_preferences: { security_alerts: true, account_changes: true, weekly_digest: false },
    ...overrides,
  };
}

export function page(items: User[], overrides: Partial<CachedUserPage> = {}): CachedUserPage {
  return {
    items,
    next_cursor: null,
    counts: { active: items.length, pending: 0, deactivated: 0, all: items.length },
    local: {},
    ...overrides,
  };
}

export function syncStatus(overrides: Partial<SyncStatus> = {}): SyncStatus {
  return {
    online: true,
    last_synced_at: new Date().toISOString(),
    syncing: false,
    applied: 0,
    total: 0,
    first_sync: false,
    pending: 0,
    conflicts: 0,
    failed: 0,
    error: null,
    revision: 0,
    session_ended: null,
    ...overrides,
  };
}

export const DIRECTORY: Directory = {
  roles: [
    { id: 'r-owner', key: 'owner', name: 'Owner', builtin: true, permissions: ['users.read', 'users.manage', 'roles.manage', 'org.settings'] },
    { id: 'r-admin', key: 'admin', name: 'Admin', builtin: true, permissions: ['users.read', 'users.manage', 'roles.manage', 'org.settings'] },
    { id: 'r-manager', key: 'manager', name: 'Manager', builtin: true, permissions: ['users.read', 'users.manage'] },
    { id: 'r-member', key: 'member', name: 'Member', builtin: true, permissions: ['users.read'] },
  ],
  groups: [
    { id: 'g-sales', name: 'Sales', kind: 'department' },
    { id: 'g-eng', name: 'Engineering', kind: 'department' },
  ],
};

export function makeSession(overrides: Partial<Session> = {}): Session {
  seq += 1;
  return {
    id: `s-${seq}`,
    user_id: `u-${seq}`,
    user_name: `User ${seq}`,
    user_email: `user${seq}@acme.test`,
    device: 'Firefox on Linux',
    user_agent: 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
    ip: `203.0.113.${seq % 250}`,
    created_at: '2026-11-20T08:00:00Z',
    last_active_at: '2026-11-23T09:00:00Z',
    trusted_device: false,
    revoked_at: null,
    revoked_reason: null,
    ...overrides,
  };
}

export function makeAttempt(overrides: Partial<LoginAttempt> = {}): LoginAttempt {
  seq += 1;
  return {
    id: seq,
    at: '2026-11-23T09:15:30Z',
    email: `user${seq}@acme.test`,
    user_id: `u-${seq}`,
    user_name: `User ${seq}`,
    ip: '198.51.100.7',
    device: 'Chrome on Windows',
    result: 'failure',
    reason: 'bad_password',
    ...overrides,
  };
}

/** A queued force logout of `userId`, as the outbox holds it. */
export function logoutEntry(userId: string, userName: string, overrides: Partial<OutboxEntry> = {}): OutboxEntry {
  return {
    seq: 41,
    action: 'logout',
    user_id: userId,
    user_name: userName,
    patch: {},
    state: 'pending',
    attempts: 1,
    last_error: 'Cannot reach server',
    field_errors: [],
    conflicts: [],
    created_at: new Date().toISOString(),
    ...overrides,
  };
}

/** The answer of `force_logout` / `logout_status` once the server confirmed it at `at`. */
export function confirmedLogout(userId: string, at: string, sessions = 2): LogoutStatus {
  return {
    user_id: userId,
    queued: null,
    confirmed: { user_id: userId, sessions_revoked: sessions, trusted_devices_revoked: 1, confirmed_at: at },
  };
}

/** The answer of `force_logout` offline: queued, not yet effective. */
export function queuedLogout(userId: string, userName: string): LogoutStatus {
  return { user_id: userId, queued: logoutEntry(userId, userName), confirmed: null };
}

/** An ISO time today (local) at h:m:s, so a test's "today" is the day it runs. */
export function todayAt(h: number, m: number, s: number): string {
  const d = new Date();
  d.setHours(h, m, s, 0);
  return d.toISOString();
}

export function makeInvitation(overrides: Partial<Invitation> = {}): Invitation {
  seq += 1;
  return {
    id: `i-${seq}`,
    email: `invitee${seq}@example.com`,
    notify_email: null,
    user_id: `u-p${seq}`,
    roles: [{ id: 'r-member', key: 'member', name: 'Member' }],
    departments: [],
    message: null,
    identity_provider: 'any',
    tenant_id: null,
    status: 'pending',
    invited_by: { id: 'u-owner', name: 'Olivia Owner' },
    created_at: '2026-11-20T09:00:00Z',
    sent_at: '2026-11-20T09:00:00Z',
    send_count: 1,
    expires_at: '2026-11-27T09:00:00Z',
    responded_at: null,
    ...overrides,
  };
}

/** A `list_invitations` answer: the counts are those of `all`, the items those of `status`. */
export function invitationPage(all: Invitation[], status: string | null = null): InvitationPage {
  const counts = { pending: 0, accepted: 0, declined: 0, expired: 0, revoked: 0 };
  for (const i of all) counts[i.status] += 1;
  return { items: status ? all.filter((i) => i.status === status) : all, next_cursor: null, counts };
}

/** An import report of `rows` (a dry run unless `invitations` are given). */
export function importReport(rows: ImportRow[], overrides: Partial<ImportReport> = {}): ImportReport {
  return {
    dry_run: true,
    rows,
    invalid: rows.filter((r) => r.errors.length > 0).length,
    seats: { used: 5, limit: 1000 },
    seats_short: 0,
    invitations: [],
    ...overrides,
  };
}

/** An audit event: a profile edit of Dana by the owner unless told otherwise. */
export function makeEvent(overrides: Partial<AuditEvent> = {}): AuditEvent {
  seq += 1;
  return {
    id: `e-${seq}`,
    at: new Date(Date.now() - seq * 60_000).toISOString(),
    action: 'user.updated',
    actor: { type: 'user', id: 'u-owner', name: 'Olivia Owner', email: 'owner@acme.test' },
    target: { type: 'user', id: 'u-dana', name: 'Dana Scully', email: 'dana@acme.test' },
    ip: '198.51.100.7',
    user_agent: 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
    details: {},
    ...overrides,
  };
}

/** An `activity` answer from the server (online). */
export function activityPage(items: AuditEvent[], overrides: Partial<ActivityPage> = {}): ActivityPage {
  return {
    items,
    next_cursor: null,
    offline: false,
    window_start: new Date(Date.now() - 30 * 24 * 3_600_000).toISOString(),
    beyond_window: false,
    ...overrides,
  };
}

/** A histogram of `counts`, one bar per bucket from `from` on. */
export function histogram(bucket: HistogramBucket, from: string, counts: number[]): Histogram {
  const step = bucket === 'day' ? 24 * 3_600_000 : 3_600_000;
  const start = Date.parse(from);
  const bars = counts.map((count, i) => ({ start: new Date(start + i * step).toISOString().replace('.000Z', 'Z'), count }));
  return {
    bucket,
    from: bars[0]?.start ?? from,
    to: new Date(start + counts.length * step).toISOString().replace('.000Z', 'Z'),
    bars,
    total: counts.reduce((a, b) => a + b, 0),
  };
}
