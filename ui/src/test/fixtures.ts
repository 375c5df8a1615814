// Test data shaped exactly like the generated bindings.
import type { CachedUserPage, CurrentSession, Directory, IpcError, SessionInfo, SyncStatus, User } from '../lib/bindings';

export const SESSION: SessionInfo = {
  server_url: 'https://gatehouse.acme.test',
  email: 'owner@acme.test',
  user_id: 'u-owner',
  display_name: 'Olivia Owner',
  organization: { id: 'org-1', name: 'Acme' },
  permissions: ['users.read', 'users.manage'],
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
