// The offline-tolerant parts of the users page (SPEC C3, C6): status, first-sync
// progress, pending marks, queuing an edit, the Changes drawer and sign-out with
// unsent changes. The Rust side is behind mockIPC; each test says how it answers.
import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { SESSION, makeUser, page, syncStatus } from '../../test/fixtures';
import { callsOf, mockCommands } from '../../test/ipc';
import type { OutboxEntry, SyncStatus } from '../bindings';
import UsersPage from '../users/UsersPage.svelte';
import { firstSyncPercent, lastSyncedText } from './monitor.svelte';
import { describePatch, diffNameEmail, validateNameEmail } from './patch';

const casey = makeUser({ id: 'u-casey', first_name: 'Casey', last_name: 'Kim', display_name: 'Casey Kim', email: 'casey@acme.test' });

function conflictEntry(): OutboxEntry {
  return {
    seq: 7,
    action: 'edit',
    user_id: 'u-casey',
    user_name: 'Casey Kim',
    patch: { first_name: 'Cassie' },
    state: 'conflict',
    attempts: 1,
    last_error: 'Someone changed this user on the server in the meantime.',
    field_errors: [],
    conflicts: [{ field: 'first_name', mine: 'Cassie', theirs: 'Kasey', base: 'Casey', clashes: true }],
    created_at: '2026-11-23T10:00:00.000Z',
  };
}

function renderWith(status: () => SyncStatus, extra: Record<string, (args: Record<string, unknown>) => unknown> = {}) {
  const calls = mockCommands({
    list_users: () => page([casey], { local: { 'u-casey': 'pending' } }),
    sync_status: () => status(),
    sign_out: () => null,
    ...extra,
  });
  const onSignedOut = vi.fn();
  render(UsersPage, { props: { session: SESSION, onSessionEnded: vi.fn(), onSignedOut } });
  return { calls, onSignedOut };
}

describe('sync status helpers', () => {
  it('says when the app last synced and how far the first sync is', () => {
    const now = new Date('2026-11-23T10:10:00Z');
    expect(lastSyncedText(syncStatus({ last_synced_at: null }), now)).toBe('Not synced yet');
    expect(lastSyncedText(syncStatus({ last_synced_at: '2026-11-23T10:09:40Z' }), now)).toBe('Last synced just now');
    expect(lastSyncedText(syncStatus({ last_synced_at: '2026-11-23T10:05:00Z' }), now)).toBe('Last synced 5 min ago');
    expect(firstSyncPercent(syncStatus({ syncing: true, first_sync: true, applied: 250, total: 1000 }))).toBe(25);
    expect(firstSyncPercent(syncStatus({ syncing: true, first_sync: false, applied: 250, total: 1000 }))).toBeNull();
  });

  it('turns a name/e-mail form into the smallest patch and checks it', () => {
    const before = { first_name: 'Casey', last_name: 'Kim', email: 'casey@acme.test' };
    expect(diffNameEmail(before, { ...before, first_name: ' Cassie ' })).toEqual({ first_name: 'Cassie' });
    expect(validateNameEmail({ ...before, first_name: ' ', email: 'nope' })).toEqual({
      first_name: 'Enter a first name.',
      email: '“nope” is not an e-mail address.',
    });
    expect(describePatch({ email: 'x@y.z', custom_attributes: { cc: null } })).toEqual(['E-mail → x@y.z', 'Attribute “cc” removed']);
  });
});

describe('users page, offline-tolerant', () => {
  it('shows offline with the last sync, the queued count, and the pending mark on the row', async () => {
    renderWith(() => syncStatus({ online: false, pending: 2, error: 'Cannot reach server' }));
    const indicator = await screen.findByTestId('sync-indicator');
    await waitFor(() => expect(indicator.dataset.online).toBe('false'));
    expect(within(indicator).getByTestId('sync-state').textContent).toBe('Offline');
    expect(within(indicator).getByTestId('last-synced').textContent).toContain('Last synced just now');
    await waitFor(() => expect(screen.getByTestId('outbox-count').textContent).toBe('2'));
    const mark = await screen.findByTestId('row-local-state');
    expect(mark.textContent).toBe('Pending');
  });

  it('shows a progress bar during the first sync', async () => {
    renderWith(() => syncStatus({ syncing: true, first_sync: true, applied: 400, total: 1000, last_synced_at: null }));
    const bar = (await screen.findByTestId('sync-progress')) as HTMLProgressElement;
    expect(bar.value).toBe(40);
    expect(screen.getByTestId('first-sync').textContent).toContain('400 of 1000');
  });

  it('queues an edit from the row: only the changed field, with field errors first', async () => {
    const user = userEvent.setup();
    const { calls } = renderWith(() => syncStatus(), { update_user: () => ({ ...conflictEntry(), state: 'pending', conflicts: [] }) });
    await user.click(await screen.findByText('Casey Kim'));
    await user.click(await screen.findByTestId('detail-edit'));
    const dialog = await screen.findByTestId('edit-user-dialog');
    const email = within(dialog).getByTestId('edit-email');
    await user.clear(email);
    await user.type(email, 'not-an-address');
    await user.click(within(dialog).getByTestId('edit-user-save'));
    expect(await within(dialog).findByTestId('edit-email-error')).toBeTruthy();
    expect(callsOf(calls, 'update_user')).toHaveLength(0);
    await user.clear(email);
    await user.type(email, 'cassie@acme.test');
    await user.click(within(dialog).getByTestId('edit-user-save'));
    await waitFor(() => expect(callsOf(calls, 'update_user')).toHaveLength(1));
    expect(callsOf(calls, 'update_user')[0].args).toEqual({ userId: 'u-casey', patch: { email: 'cassie@acme.test' } });
    await waitFor(() => expect(screen.queryByTestId('edit-user-dialog')).toBeNull());
  });

  it('shows a conflict field by field and settles it', async () => {
    const user = userEvent.setup();
    let entries = [conflictEntry()];
    const { calls } = renderWith(() => syncStatus({ conflicts: entries.length }), {
      outbox: () => entries,
      settle_change: () => {
        entries = [];
        return null;
      },
    });
    await user.click(await screen.findByTestId('outbox-button'));
    const row = await screen.findByTestId('conflict-field');
    expect(within(row).getByTestId('conflict-mine').textContent).toBe('Cassie');
    expect(within(row).getByTestId('conflict-theirs').textContent).toBe('Kasey');
    await user.click(screen.getByTestId('reapply-mine'));
    await waitFor(() => expect(callsOf(calls, 'settle_change')).toHaveLength(1));
    expect(callsOf(calls, 'settle_change')[0].args).toEqual({ seq: 7, resolution: { action: 'reapply_mine' } });
    expect(await screen.findByTestId('outbox-empty')).toBeTruthy();
  });

  it('asks before signing out with unsent changes, and passes the choice on', async () => {
    const user = userEvent.setup();
    const { calls, onSignedOut } = renderWith(() => syncStatus({ pending: 1 }));
    await waitFor(() => expect(screen.getByTestId('outbox-count').textContent).toBe('1'));
    await user.click(screen.getByTestId('signout-button'));
    expect(await screen.findByTestId('signout-pending')).toHaveTextContent('1 change is not saved on the server yet');
    expect(callsOf(calls, 'sign_out')).toHaveLength(0);
    await user.click(screen.getByTestId('signout-keep'));
    await waitFor(() => expect(onSignedOut).toHaveBeenCalled());
    // The copy goes (the default), the kept change stays: Rust keeps the outbox.
    expect(callsOf(calls, 'sign_out')[0].args).toEqual({ discardPending: false, removeCopy: true });
  });
});
