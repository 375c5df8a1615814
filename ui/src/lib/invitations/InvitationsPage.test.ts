// The invitations page (SPEC I3–I5, I8): the list from the local copy with counts per
// status, search, seat usage, Resend / Revoke / Copy link with a result per row, offline,
// the refresh when the sync revision moves, and the tab in the app only with
// `invitations.manage`.
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DIRECTORY, SESSION, importReport, invitationPage, ipcError, makeInvitation, page } from '../../test/fixtures';
import { callsOf, deferred, mockCommands } from '../../test/ipc';
import type { Invitation, Organization, SessionInfo } from '../bindings';
import UsersPage from '../users/UsersPage.svelte';
import InvitationsPage from './InvitationsPage.svelte';

type Handlers = Record<string, (args: Record<string, unknown>) => unknown>;

const INVITER: SessionInfo = { ...SESSION, permissions: ['users.read', 'invitations.manage'] };
const NOW = new Date('2026-11-23T09:15:00Z');
const OFFLINE = ipcError('unreachable', 'Cannot reach server at https://gatehouse.acme.test');

function org(used: number, limit: number): Organization {
  return { id: 'org-1', name: 'Acme', seat_limit: limit, seats_used: used, invitation_expiry_days: 7, mfa_required: false, audit_retention_days: 365 };
}

function fresh(): Invitation[] {
  return [
    makeInvitation({
      id: 'i-ana',
      email: 'ana@example.com',
      notify_email: 'ana.home@example.org',
      roles: [
        { id: 'r-member', key: 'member', name: 'Member' },
        { id: 'r-manager', key: 'manager', name: 'Manager' },
      ],
      departments: [{ id: 'g-sales', name: 'Sales', kind: 'department' }],
      send_count: 3,
      sent_at: '2026-11-23T07:15:00Z',
      expires_at: '2026-11-30T07:15:00Z',
    }),
    makeInvitation({ id: 'i-ben', email: 'ben@example.com', status: 'accepted', responded_at: '2026-11-21T10:00:00Z' }),
    makeInvitation({ id: 'i-cy', email: 'cy@example.com', status: 'expired', expires_at: '2026-11-21T09:15:00Z' }),
    makeInvitation({ id: 'i-dee', email: 'dee@example.com', status: 'revoked', responded_at: '2026-11-22T10:00:00Z' }),
    makeInvitation({ id: 'i-eve', email: 'eve@example.com', identity_provider: 'microsoft', tenant_id: 'contoso.onmicrosoft.com', invited_by: null }),
  ];
}

/** A local copy the handlers read and change, like the cache does. */
function renderPage(handlers: Handlers = {}, invitations = fresh()) {
  const store = { items: invitations };
  const calls = mockCommands({
    list_invitations: (a) => {
      const q = (a.q as string | null)?.toLowerCase();
      return invitationPage(
        store.items.filter((i) => !q || i.email.includes(q)),
        a.status as string | null,
      );
    },
    organization: () => org(12, 25),
    ...handlers,
  });
  const onChanged = vi.fn();
  const onSessionEnded = vi.fn();
  const result = render(InvitationsPage, { props: { session: INVITER, directory: DIRECTORY, now: NOW, revision: 0, onSessionEnded, onChanged } });
  return { calls, store, onChanged, onSessionEnded, ...result };
}

const rows = () => screen.queryAllByTestId('invitation-row');
const row = (email: string) => rows().find((r) => r.dataset.email === email)!;
const count = (status: string) => screen.getByTestId(`invitations-status-${status}-value`).textContent;
const listArgs = (calls: { cmd: string; args: Record<string, unknown> }[]) => callsOf(calls, 'list_invitations').map((c) => c.args);

afterEach(() => {
  vi.useRealTimers();
});

describe('invitations page', () => {
  it('lists invitations with counts per status, and the status tabs filter', async () => {
    const { calls } = renderPage();
    await waitFor(() => expect(rows()).toHaveLength(5));
    expect(listArgs(calls)[0]).toEqual({ status: null, q: null });
    expect(['all', 'pending', 'accepted', 'declined', 'expired', 'revoked'].map(count)).toEqual(['5', '2', '1', '0', '1', '1']);

    const cells = within(row('ana@example.com'))
      .getAllByRole('cell')
      .map((c) => c.textContent?.replace(/\s+/g, ' ').trim());
    expect(cells.slice(0, 7)).toEqual([
      'ana@example.com via ana.home@example.org',
      'Member, Manager',
      'Sales',
      'Pending',
      'Olivia Owner',
      '2h ago · sent 3 times',
      'in 6d',
    ]);
    // The exact times are on hover.
    expect(within(row('ana@example.com')).getAllByRole('time')[0]).toHaveAttribute('title', expect.stringContaining('2026'));
    expect(within(row('eve@example.com')).getByTestId('invitation-provider')).toHaveTextContent('Microsoft Entra ID only (tenant contoso.onmicrosoft.com)');
    expect(within(row('ben@example.com')).queryByTestId('invitation-send-count')).toBeNull();

    const user = userEvent.setup();
    await user.click(screen.getByTestId('invitations-status-pending'));
    await waitFor(() => expect(rows()).toHaveLength(2));
    expect(rows().map((r) => r.dataset.status)).toEqual(['pending', 'pending']);
    expect(screen.getByTestId('invitations-status-pending')).toHaveAttribute('aria-pressed', 'true');
    expect(listArgs(calls).at(-1)).toEqual({ status: 'pending', q: null });
    // The counts stay those of every status.
    expect(count('all')).toBe('5');

    await user.click(screen.getByTestId('invitations-status-revoked'));
    await waitFor(() => expect(rows().map((r) => r.dataset.email)).toEqual(['dee@example.com']));
    // Choosing the tab shown reads the local copy again.
    const reads = listArgs(calls).length;
    await user.click(screen.getByTestId('invitations-status-revoked'));
    await waitFor(() => expect(listArgs(calls)).toHaveLength(reads + 1));
  });

  it('searches the address after the debounce, and Escape clears the search', async () => {
    const { calls } = renderPage();
    await waitFor(() => expect(rows()).toHaveLength(5));
    const user = userEvent.setup();
    await user.type(screen.getByTestId('invitations-search'), 'ana');
    await waitFor(() => expect(rows().map((r) => r.dataset.email)).toEqual(['ana@example.com']));
    expect(listArgs(calls)).toEqual([
      { status: null, q: null },
      { status: null, q: 'ana' },
    ]);
    await user.keyboard('{Escape}');
    await waitFor(() => expect(rows()).toHaveLength(5));
  });

  it('shows seat usage, warning when every seat is taken', async () => {
    const { unmount } = renderPage();
    const usage = await screen.findByTestId('seat-usage');
    expect(usage).toHaveTextContent('12 of 25 seats used');
    expect(usage).toHaveAttribute('data-full', 'false');
    unmount();

    renderPage({ organization: () => org(25, 25) });
    const full = await screen.findByTestId('seat-usage');
    expect(full).toHaveTextContent('25 of 25 seats used — no seats free');
    expect(full).toHaveAttribute('data-full', 'true');
    expect(full).toHaveClass('full');
  });

  it('offers Resend and Revoke on pending and expired rows, Copy link on pending ones only', async () => {
    renderPage();
    await waitFor(() => expect(rows()).toHaveLength(5));
    const actions = (email: string) =>
      ['invitation-resend', 'invitation-copy-link', 'invitation-revoke'].filter((id) => within(row(email)).queryByTestId(id) !== null);
    expect(actions('ana@example.com')).toEqual(['invitation-resend', 'invitation-copy-link', 'invitation-revoke']);
    expect(actions('cy@example.com')).toEqual(['invitation-resend', 'invitation-revoke']);
    expect(actions('ben@example.com')).toEqual([]);
    expect(actions('dee@example.com')).toEqual([]);
  });

  it('resends an invitation and shows the result on its row', async () => {
    const { calls, store } = renderPage({
      resend_invitation: (a) => {
        const updated = { ...store.items.find((i) => i.id === a.id)!, status: 'pending' as const, send_count: 2, sent_at: '2026-11-23T09:14:00Z', expires_at: '2026-11-30T09:14:00Z' };
        store.items = store.items.map((i) => (i.id === a.id ? updated : i));
        return updated;
      },
    });
    await waitFor(() => expect(rows()).toHaveLength(5));
    await userEvent.setup().click(within(row('cy@example.com')).getByTestId('invitation-resend'));
    expect(await within(row('cy@example.com')).findByTestId('invitation-result')).toHaveTextContent('Sent again; the new link expires in 6d.');
    expect(callsOf(calls, 'resend_invitation').map((c) => c.args)).toEqual([{ id: 'i-cy' }]);
    // Re-read from the local copy: the counts move.
    await waitFor(() => expect(count('expired')).toBe('0'));
    expect(count('pending')).toBe('3');
    expect(row('cy@example.com').dataset.status).toBe('pending');
    expect(within(row('cy@example.com')).getByTestId('invitation-send-count')).toHaveTextContent('sent 2 times');
    expect(within(row('ana@example.com')).queryByTestId('invitation-result')).toBeNull();
  });

  it('revokes only after a confirmation', async () => {
    const { calls, store, onChanged } = renderPage({
      revoke_invitation: (a) => {
        const updated = { ...store.items.find((i) => i.id === a.id)!, status: 'revoked' as const, responded_at: '2026-11-23T09:15:00Z' };
        store.items = store.items.map((i) => (i.id === a.id ? updated : i));
        return updated;
      },
    });
    await waitFor(() => expect(rows()).toHaveLength(5));
    const user = userEvent.setup();

    await user.click(within(row('ana@example.com')).getByTestId('invitation-revoke'));
    await user.click(within(await screen.findByTestId('revoke-invitation-dialog')).getByText('Cancel'));
    expect(screen.queryByTestId('revoke-invitation-dialog')).toBeNull();
    expect(callsOf(calls, 'revoke_invitation')).toHaveLength(0);

    await user.click(within(row('ana@example.com')).getByTestId('invitation-revoke'));
    const dialog = await screen.findByTestId('revoke-invitation-dialog');
    expect(dialog).toHaveTextContent('ana@example.com');
    expect(within(dialog).getByTestId('confirm-revoke-invitation')).toHaveFocus();
    const orgReads = callsOf(calls, 'organization').length;
    await user.keyboard('{Enter}');

    expect(await within(row('ana@example.com')).findByTestId('invitation-result')).toHaveTextContent('Revoked: the link no longer works.');
    expect(callsOf(calls, 'revoke_invitation').map((c) => c.args)).toEqual([{ id: 'i-ana' }]);
    expect(row('ana@example.com').dataset.status).toBe('revoked');
    expect(within(row('ana@example.com')).queryByTestId('invitation-revoke')).toBeNull();
    await waitFor(() => expect(count('revoked')).toBe('2'));
    // The seat came free: usage is read again.
    await waitFor(() => expect(callsOf(calls, 'organization').length).toBeGreaterThan(orgReads));
    expect(onChanged).toHaveBeenCalled();
  });

  it('copies the link to the clipboard, says Copied for a moment, and keeps the link nowhere', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const link = 'https://gatehouse.acme.test/invite?token=ghi_secret123';
    const { calls } = renderPage({ invitation_link: (a) => ({ id: a.id, link, expires_at: '2026-11-30T07:15:00Z' }) });
    await waitFor(() => expect(rows()).toHaveLength(5));
    // user-event puts its own clipboard in place on setup.
    const user = userEvent.setup({ advanceTimers: vi.advanceTimersByTime });
    const writeText = vi.spyOn(navigator.clipboard, 'writeText');

    const button = within(row('ana@example.com')).getByTestId('invitation-copy-link');
    await user.click(button);
    await waitFor(() => expect(button).toHaveTextContent('Copied'));
    expect(writeText).toHaveBeenCalledWith(link);
    expect(callsOf(calls, 'invitation_link').map((c) => c.args)).toEqual([{ id: 'i-ana' }]);
    expect(document.body.innerHTML).not.toContain('ghi_secret123');

    await vi.advanceTimersByTimeAsync(2100);
    await waitFor(() => expect(button).toHaveTextContent('Copy link'));
  });

  it('says so when the clipboard refuses the link', async () => {
    renderPage({ invitation_link: (a) => ({ id: a.id, link: 'https://x.test/i?t=1', expires_at: '2026-11-30T07:15:00Z' }) });
    await waitFor(() => expect(rows()).toHaveLength(5));
    const user = userEvent.setup();
    vi.spyOn(navigator.clipboard, 'writeText').mockRejectedValue(new DOMException('Write permission denied.', 'NotAllowedError'));
    await user.click(within(row('eve@example.com')).getByTestId('invitation-copy-link'));
    expect(await within(row('eve@example.com')).findByTestId('invitation-error')).toHaveTextContent('Could not copy the link');
  });

  it('offline: the list shows from the local copy and each action says it needs the server', async () => {
    renderPage({
      organization: () => {
        throw OFFLINE;
      },
      resend_invitation: () => {
        throw OFFLINE;
      },
      revoke_invitation: () => {
        throw OFFLINE;
      },
      invitation_link: () => {
        throw OFFLINE;
      },
    });
    await waitFor(() => expect(rows()).toHaveLength(5));
    expect(screen.queryByTestId('invitations-error')).toBeNull();
    expect(screen.queryByTestId('seat-usage')).toBeNull();
    const user = userEvent.setup();
    const writeText = vi.spyOn(navigator.clipboard, 'writeText');

    await user.click(within(row('ana@example.com')).getByTestId('invitation-resend'));
    expect(await within(row('ana@example.com')).findByTestId('invitation-error')).toHaveTextContent(
      'Resending needs a connection to the server. Cannot reach server at https://gatehouse.acme.test',
    );
    await user.click(within(row('eve@example.com')).getByTestId('invitation-copy-link'));
    expect(await within(row('eve@example.com')).findByTestId('invitation-error')).toHaveTextContent('Copying the link needs a connection');
    expect(writeText).not.toHaveBeenCalled();
    await user.click(within(row('cy@example.com')).getByTestId('invitation-revoke'));
    await user.click(await screen.findByTestId('confirm-revoke-invitation'));
    expect(await within(row('cy@example.com')).findByTestId('invitation-error')).toHaveTextContent('Revoking needs a connection');
    expect(row('cy@example.com').dataset.status).toBe('expired');
    expect(rows()).toHaveLength(5);
  });

  it('reads the list again when the sync revision moves', async () => {
    const { calls, store, rerender } = renderPage();
    await waitFor(() => expect(rows()).toHaveLength(5));
    store.items = [makeInvitation({ id: 'i-new', email: 'new@example.com' }), ...store.items];
    await rerender({ revision: 1 });
    await waitFor(() => expect(rows()).toHaveLength(6));
    expect(rows()[0].dataset.email).toBe('new@example.com');
    expect(count('pending')).toBe('3');
    expect(callsOf(calls, 'list_invitations')).toHaveLength(2);
  });

  it('shows the list error with Retry, and hands an ended session up', async () => {
    let fail: unknown = ipcError('internal', 'database is locked');
    const { onSessionEnded, unmount } = renderPage({
      list_invitations: () => {
        if (fail) throw fail;
        return invitationPage(fresh());
      },
    });
    expect(await screen.findByTestId('invitations-error')).toHaveTextContent('Could not read the invitations: database is locked');
    fail = null;
    await userEvent.setup().click(screen.getByTestId('invitations-retry'));
    await waitFor(() => expect(rows()).toHaveLength(5));
    expect(screen.queryByTestId('invitations-error')).toBeNull();
    expect(onSessionEnded).not.toHaveBeenCalled();
    unmount();

    fail = ipcError('session_expired', 'Your session ended.');
    const second = renderPage({
      list_invitations: () => {
        throw fail;
      },
    });
    await waitFor(() => expect(second.onSessionEnded).toHaveBeenCalledWith('Your session ended.'));
  });
});

describe('invitations in the app', () => {
  it('shows the Invitations tab only with invitations.manage, and "/" searches it', async () => {
    mockCommands({ list_users: () => page([]), list_invitations: () => invitationPage(fresh()), organization: () => org(12, 25) });
    const { unmount } = render(UsersPage, { props: { session: { ...SESSION, permissions: ['users.read', 'users.manage'] }, onSessionEnded: vi.fn(), onSignedOut: vi.fn() } });
    await screen.findByTestId('users-page');
    expect(screen.queryByTestId('nav-invitations')).toBeNull();
    const user = userEvent.setup();
    await user.keyboard('{Control>}k{/Control}');
    await user.keyboard('go to');
    await waitFor(() => expect(screen.getAllByTestId('palette-result')[0]).toHaveTextContent('Go to Users'));
    expect(screen.getAllByTestId('palette-result').map((o) => o.textContent?.trim())).not.toContain('Go to Invitations');
    unmount();

    render(UsersPage, { props: { session: INVITER, onSessionEnded: vi.fn(), onSignedOut: vi.fn() } });
    await user.click(await screen.findByTestId('nav-invitations'));
    expect(await screen.findByTestId('invitations-page')).toBeInTheDocument();
    expect(screen.getByTestId('nav-invitations')).toHaveAttribute('aria-current', 'page');
    await waitFor(() => expect(rows()).toHaveLength(5));
    await user.click(document.body);
    await user.keyboard('/');
    expect(screen.getByTestId('invitations-search')).toHaveFocus();

    // The palette goes there too.
    await user.click(screen.getByTestId('nav-users'));
    await user.keyboard('{Control>}k{/Control}');
    await user.keyboard('invitations');
    await waitFor(() => expect(screen.getAllByTestId('palette-result')[0]).toHaveTextContent('Go to Invitations'));
    await user.keyboard('{Enter}');
    expect(await screen.findByTestId('invitations-page')).toBeInTheDocument();
  });

  it('keeps the filters of the list while the CSV import is open and after Cancel', async () => {
    const { calls } = renderPage();
    await waitFor(() => expect(rows()).toHaveLength(5));
    const user = userEvent.setup();
    await user.click(screen.getByTestId('invitations-status-pending'));
    await fireEvent.input(screen.getByTestId('invitations-search'), { target: { value: 'eve' } });
    await waitFor(() => expect(rows().map((r) => r.dataset.email)).toEqual(['eve@example.com']));

    await user.click(screen.getByTestId('import-button'));
    expect(await screen.findByTestId('import-view')).toBeInTheDocument();
    expect(screen.queryByTestId('invitations-page')).toBeNull();
    await user.click(screen.getByTestId('import-cancel'));

    expect(await screen.findByTestId('invitations-page')).toBeInTheDocument();
    expect(screen.getByTestId('invitations-search')).toHaveValue('eve');
    expect(screen.getByTestId('invitations-status-pending')).toHaveAttribute('aria-pressed', 'true');
    await waitFor(() => expect(rows().map((r) => r.dataset.email)).toEqual(['eve@example.com']));
    expect(listArgs(calls).at(-1)).toEqual({ status: 'pending', q: 'eve' });
  });
});

describe('invitations page, review fixes', () => {
  it('names the invitation in the accessible name of each row action', async () => {
    renderPage();
    await waitFor(() => expect(rows()).toHaveLength(5));
    const ana = within(row('ana@example.com'));
    expect(ana.getByRole('button', { name: 'Resend the invitation of ana@example.com' })).toBe(ana.getByTestId('invitation-resend'));
    expect(ana.getByRole('button', { name: 'Revoke the invitation of ana@example.com…' })).toBe(ana.getByTestId('invitation-revoke'));
    expect(ana.getByTestId('invitation-resend')).toHaveTextContent('Resend');
    expect(ana.getByTestId('invitation-revoke')).toHaveTextContent('Revoke…');
  });

  it('keeps the seat usage of the latest answer when an older one arrives after it', async () => {
    const first = deferred<Organization>();
    let reads = 0;
    renderPage({ organization: () => (++reads === 1 ? first.promise : org(14, 25)) }).rerender({ revision: 1 });
    expect(await screen.findByTestId('seat-usage')).toHaveTextContent('14 of 25 seats used');
    first.resolve(org(12, 25));
    await new Promise((r) => setTimeout(r, 20));
    expect(screen.getByTestId('seat-usage')).toHaveTextContent('14 of 25 seats used');
  });

  it('moves the focus into the CSV import and back to its button after Cancel', async () => {
    renderPage();
    await waitFor(() => expect(rows()).toHaveLength(5));
    const user = userEvent.setup();
    await user.click(screen.getByTestId('import-button'));
    expect(await screen.findByRole('heading', { name: 'Import invitations from CSV' })).toHaveFocus();
    await user.click(screen.getByTestId('import-cancel'));
    await waitFor(() => expect(screen.getByTestId('import-button')).toHaveFocus());
  });

  it('after an import cancelled part-way, says who was invited and reads the list again', async () => {
    const csv = ['email,role,department', ...Array.from({ length: 250 }, (_, i) => `p${i + 1}@example.com,,`)].join('\n');
    const asRows = (text: string) =>
      text
        .trim()
        .split('\n')
        .slice(1)
        .map((l, i) => ({ line: i + 2, email: l.split(',')[0], role: '', department: '', errors: [] }));
    const { calls, onChanged } = renderPage({
      validate_invitation_csv: (a) => importReport(asRows(a.csv as string)),
      import_invitations: (a) => {
        const batch = asRows(a.csv as string);
        if (batch.length < 200) throw OFFLINE;
        return importReport(batch, { dry_run: false, invitations: batch.map((r) => makeInvitation({ email: r.email })) });
      },
    });
    await waitFor(() => expect(rows()).toHaveLength(5));
    const user = userEvent.setup();
    await user.click(screen.getByTestId('import-button'));
    await fireEvent.input(screen.getByTestId('import-text'), { target: { value: csv } });
    await user.click(screen.getByTestId('import-validate'));
    await waitFor(() => expect(screen.getByTestId('import-send')).toBeEnabled());
    await user.click(screen.getByTestId('import-send'));
    expect(await screen.findByTestId('import-error')).toHaveTextContent('200 invitations were sent before this');
    const reads = callsOf(calls, 'list_invitations').length;

    await user.click(screen.getByTestId('import-cancel'));
    expect(await screen.findByTestId('invitations-notice')).toHaveTextContent('Invited 200 people.');
    await waitFor(() => expect(callsOf(calls, 'list_invitations').length).toBeGreaterThan(reads));
    expect(onChanged).toHaveBeenCalled();
  });
});
