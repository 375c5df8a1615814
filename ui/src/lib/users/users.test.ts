import { describe, expect, it, vi } from 'vitest';
import { ipcError, makeUser, page } from '../../test/fixtures';
import { deferred } from '../../test/ipc';
import type { Backend } from '../backend';
import type { UserListQuery, CachedUserPage } from '../bindings';
import { UsersList } from './users.svelte';

function backendWith(listUsers: (q: UserListQuery) => Promise<CachedUserPage>): Backend {
  return {
    currentSession: vi.fn(),
    signIn: vi.fn(),
    signOut: vi.fn(),
    listUsers,
    syncStatus: vi.fn(),
    syncNow: vi.fn(),
    updateUser: vi.fn(),
    outbox: vi.fn(),
    settleChange: vi.fn(),
    discardChange: vi.fn(),
    sendChange: vi.fn(),
    directory: vi.fn(),
    userAction: vi.fn(),
    createUser: vi.fn(),
    uploadAvatar: vi.fn(),
    avatar: vi.fn(),
    bulkAction: vi.fn(),
    organization: vi.fn(),
    updateOrganization: vi.fn(),
    roles: vi.fn(),
    createRole: vi.fn(),
    updateRole: vi.fn(),
    deleteRole: vi.fn(),
    groups: vi.fn(),
    createGroup: vi.fn(),
    renameGroup: vi.fn(),
    deleteGroup: vi.fn(),
    startExport: vi.fn(),
    exportStatus: vi.fn(),
    forceLogout: vi.fn(),
    logoutStatus: vi.fn(),
    listSessions: vi.fn(),
    userSessions: vi.fn(),
    revokeSession: vi.fn(),
    loginAttempts: vi.fn(),
    apiKeys: vi.fn(),
    createApiKey: vi.fn(),
    setApiKeySuspended: vi.fn(),
    startMfaEnrollment: vi.fn(),
    confirmMfaEnrollment: vi.fn(),
    requestPasswordReset: vi.fn(),
    resetPassword: vi.fn(),
    resetMfa: vi.fn(),
    stepUp: vi.fn(),
    unlockSignIn: vi.fn(),
    devMailbox: vi.fn(),
    listInvitations: vi.fn(),
    invite: vi.fn(),
    resendInvitation: vi.fn(),
    revokeInvitation: vi.fn(),
    invitationLink: vi.fn(),
    validateInvitationCsv: vi.fn(),
    importInvitations: vi.fn(),
    activity: vi.fn(),
    activityHistogram: vi.fn(),
    startActivityExport: vi.fn(),
    activityExportStatus: vi.fn(),
    cancelActivityExport: vi.fn(),
    activitySettings: vi.fn(),
    setActivityWindow: vi.fn(),
  };
}

describe('UsersList', () => {
  it('drops the answer to a superseded query', async () => {
    const slow = deferred<CachedUserPage>();
    const fast = deferred<CachedUserPage>();
    const answers = [slow, fast];
    const list = new UsersList(
      backendWith(() => answers.shift()!.promise),
      () => {},
    );

    const first = list.reload();
    list.setQuery('bob');
    const bob = makeUser({ id: 'bob' });
    fast.resolve(page([bob]));
    await Promise.resolve();
    slow.resolve(page([makeUser({ id: 'stale' })]));
    await first;
    await vi.waitFor(() => expect(list.loading).toBe(false));

    expect(list.items.map((u) => u.id)).toEqual(['bob']);
  });

  it('appends the next page without duplicating ids', async () => {
    const a = makeUser({ id: 'a' });
    const b = makeUser({ id: 'b' });
    const c = makeUser({ id: 'c' });
    const list = new UsersList(
      backendWith(async (q) => (q.cursor ? page([b, c]) : page([a, b], { next_cursor: 'n' }))),
      () => {},
    );
    await list.reload();
    expect(list.hasMore).toBe(true);
    await list.loadMore();
    expect(list.items.map((u) => u.id)).toEqual(['a', 'b', 'c']);
    expect(list.hasMore).toBe(false);
  });

  it('hands session_expired and not_signed_in to the session, other errors to the banner', async () => {
    const ended = vi.fn();
    let error = ipcError('not_signed_in', 'not signed in');
    const list = new UsersList(
      backendWith(async () => {
        throw error;
      }),
      ended,
    );
    await list.reload();
    expect(ended).toHaveBeenCalledWith('not signed in');
    expect(list.error).toBeNull();

    error = ipcError('forbidden', 'You may not list users');
    await list.reload();
    expect(ended).toHaveBeenCalledTimes(1);
    expect(list.error).toEqual(error);
  });
});
