// The sessions page (SPEC S1–S3): the list read live from the server, search, revoking
// one or many with the server's time per row, force logout from a row, and offline.
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { SESSION, confirmedLogout, ipcError, makeSession, page, queuedLogout } from '../../test/fixtures';
import { callsOf, mockCommands } from '../../test/ipc';
import type { Revocation, SessionInfo, SessionPage } from '../bindings';
import UsersPage from '../users/UsersPage.svelte';
import SessionsPage from './SessionsPage.svelte';

function last<T>(items: T[]): T | undefined {
  return items[items.length - 1];
}

type Handlers = Record<string, (args: Record<string, unknown>) => unknown>;

const IT: SessionInfo = { ...SESSION, permissions: ['users.read', 'sessions.revoke'] };
const NOW = new Date('2026-11-23T09:15:00Z');

const dana1 = makeSession({ id: 's-dana-1', user_id: 'u-dana', user_name: 'Dana Scully', user_email: 'dana@acme.test', ip: '203.0.113.5', trusted_device: true });
const dana2 = makeSession({ id: 's-dana-2', user_id: 'u-dana', user_name: 'Dana Scully', user_email: 'dana@acme.test', device: 'Safari on macOS', ip: '203.0.113.6' });
const fox = makeSession({ id: 's-fox', user_id: 'u-fox', user_name: 'Fox Mulder', user_email: 'fox@acme.test', device: 'Chrome on Windows', ip: '198.51.100.9' });

function sessionsPage(items = [dana1, dana2, fox], next_cursor: string | null = null): SessionPage {
  return { items, next_cursor };
}

function revoked(id: string, at: string): Revocation {
  return { session_id: id, outcome: 'revoked', revoked_at: at };
}

/** "HH:MM:SS" of `iso` in local time, as the page shows a confirmation of today. */
function hms(iso: string): string {
  const d = new Date(iso);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

function renderSessions(handlers: Handlers, session: SessionInfo = IT) {
  const calls = mockCommands({ list_sessions: () => sessionsPage(), ...handlers });
  const onChanged = vi.fn();
  const onSessionEnded = vi.fn();
  render(SessionsPage, { props: { session, now: NOW, onSessionEnded, onChanged } });
  return { calls, onChanged, onSessionEnded };
}

const queries = (calls: { cmd: string; args: Record<string, unknown> }[]) => callsOf(calls, 'list_sessions').map((c) => c.args.query);
const rows = () => screen.queryAllByTestId('session-row');
const row = (id: string) => rows().find((r) => r.dataset.sessionId === id)!;

describe('sessions page', () => {
  it('lists sessions with user, device, IP, times and status, and marks the first rows', async () => {
    const mark = vi.spyOn(performance, 'mark');
    const { calls } = renderSessions({});
    await waitFor(() => expect(rows()).toHaveLength(3));
    expect(queries(calls)).toEqual([{ state: 'active', limit: 50 }]);
    const cells = within(row('s-dana-1'))
      .getAllByRole('cell')
      .map((c) => c.textContent?.replace(/\s+/g, ' ').trim());
    expect(cells).toEqual([
      '', // the tick box
      'Dana Scully dana@acme.test',
      'Firefox on Linux Trusted',
      '203.0.113.5',
      '3d ago',
      '15m ago',
      'Active',
      'Revoke Force logout user',
    ]);
    expect(mark).toHaveBeenCalledWith('gatehouse:sessions-first-rows');
  });

  it('does not offer a force logout of yourself', async () => {
    const mine = makeSession({ id: 's-mine', user_id: SESSION.user_id, user_name: SESSION.display_name });
    renderSessions({ list_sessions: () => sessionsPage([mine, fox]) });
    await waitFor(() => expect(rows()).toHaveLength(2));
    expect(within(row('s-mine')).queryByTestId('force-logout-user')).toBeNull();
    expect(within(row('s-fox')).getByTestId('force-logout-user')).toBeInTheDocument();
  });

  it('searches user, IP and device on the server after the debounce, and shows ended ones on request', async () => {
    const { calls } = renderSessions({
      list_sessions: (args) => {
        const q = (args.query as { q?: string }).q;
        return sessionsPage(q === 'chrome' ? [fox] : [dana1, dana2, fox]);
      },
    });
    await waitFor(() => expect(rows()).toHaveLength(3));
    const user = userEvent.setup();
    await user.type(screen.getByTestId('sessions-search'), 'chrome');
    expect(queries(calls)).toHaveLength(1); // not per keystroke
    await waitFor(() => expect(rows()).toHaveLength(1));
    expect(queries(calls)).toEqual([
      { state: 'active', limit: 50 },
      { q: 'chrome', state: 'active', limit: 50 },
    ]);
    await user.selectOptions(screen.getByTestId('sessions-state'), 'all');
    await waitFor(() => expect(queries(calls)).toHaveLength(3));
    expect(queries(calls)[2]).toEqual({ q: 'chrome', state: 'all', limit: 50 });
  });

  it('loads the next page with the cursor, keeping the rows shown', async () => {
    const more = makeSession({ id: 's-more' });
    const { calls } = renderSessions({
      list_sessions: (args) => ((args.query as { cursor?: string }).cursor === 'c2' ? sessionsPage([more]) : sessionsPage([dana1, dana2, fox], 'c2')),
    });
    await waitFor(() => expect(rows()).toHaveLength(3));
    await userEvent.setup().click(screen.getByTestId('sessions-more'));
    await waitFor(() => expect(rows()).toHaveLength(4));
    expect(queries(calls)[1]).toEqual({ state: 'active', limit: 50, cursor: 'c2' });
    expect(screen.queryByTestId('sessions-more')).toBeNull();
  });

  it('revokes one session after a confirmation and shows the time the server confirmed', async () => {
    const at = '2026-11-23T09:16:07Z';
    const { calls } = renderSessions({ revoke_session: (args) => revoked(args.sessionId as string, at) });
    await waitFor(() => expect(rows()).toHaveLength(3));
    const user = userEvent.setup();

    // Cancelled: nothing sent.
    await user.click(within(row('s-dana-2')).getByTestId('revoke-session'));
    await user.click(within(await screen.findByTestId('revoke-dialog')).getByText('Cancel'));
    expect(callsOf(calls, 'revoke_session')).toHaveLength(0);

    await user.click(within(row('s-dana-2')).getByTestId('revoke-session'));
    const dialog = await screen.findByTestId('revoke-dialog');
    expect(dialog).toHaveTextContent('Dana Scully on Safari on macOS (203.0.113.6)');
    // The confirming button has the focus: Enter revokes.
    expect(within(dialog).getByTestId('confirm-revoke')).toHaveFocus();
    await user.keyboard('{Enter}');

    const confirmed = await within(row('s-dana-2')).findByTestId('revoked-confirmed');
    expect(confirmed).toHaveTextContent(`Revoked · confirmed ${hms(at)}`);
    expect(callsOf(calls, 'revoke_session').map((c) => c.args)).toEqual([{ sessionId: 's-dana-2' }]);
    expect(within(row('s-dana-2')).queryByTestId('revoke-session')).toBeNull();
    // The others are untouched.
    expect(within(row('s-dana-1')).queryByTestId('revoked-confirmed')).toBeNull();
    expect(within(row('s-dana-1')).getByTestId('session-status')).toHaveTextContent('Active');
  });

  it('revokes the selected sessions one by one with a result per row', async () => {
    const at = '2026-11-23T09:17:01Z';
    const { calls } = renderSessions({
      revoke_session: (args) => {
        if (args.sessionId === 's-fox') throw ipcError('forbidden', 'Fox Mulder holds org.settings, which you do not have.');
        return revoked(args.sessionId as string, at);
      },
    });
    await waitFor(() => expect(rows()).toHaveLength(3));
    const user = userEvent.setup();
    for (const id of ['s-dana-1', 's-dana-2', 's-fox']) await user.click(within(row(id)).getByTestId('session-select'));
    const button = screen.getByTestId('revoke-selected');
    expect(button).toHaveTextContent('Revoke 3 sessions');
    await user.click(button);
    await user.click(within(await screen.findByTestId('revoke-selected-dialog')).getByTestId('confirm-revoke-selected'));

    expect(await screen.findByTestId('revoke-summary')).toHaveTextContent('Revoked 2 of 3 sessions');
    expect(callsOf(calls, 'revoke_session').map((c) => c.args.sessionId)).toEqual(['s-dana-1', 's-dana-2', 's-fox']);
    expect(within(row('s-dana-1')).getByTestId('revoked-confirmed')).toHaveTextContent(`confirmed ${hms(at)}`);
    expect(within(row('s-dana-2')).getByTestId('revoked-confirmed')).toHaveTextContent(`confirmed ${hms(at)}`);
    expect(within(row('s-fox')).queryByTestId('revoked-confirmed')).toBeNull();
    expect(within(row('s-fox')).getByTestId('revoke-error')).toHaveTextContent('Fox Mulder holds org.settings');
    // The one not revoked stays selected for another try.
    expect(within(row('s-fox')).getByTestId('session-select')).toBeChecked();
    expect(screen.getByTestId('revoke-selected')).toHaveTextContent('Revoke 1 session');
  });

  it('offline: keeps the rows shown, says so, and Retry sends what was not', async () => {
    let online = false;
    const at = '2026-11-23T09:20:30Z';
    const { calls } = renderSessions({
      list_sessions: (args) => {
        if (!online && (args.query as { q?: string }).q) throw ipcError('unreachable', 'Cannot reach server at https://gatehouse.acme.test');
        return sessionsPage();
      },
      revoke_session: (args) => {
        if (!online) throw ipcError('unreachable', 'Cannot reach server at https://gatehouse.acme.test');
        return revoked(args.sessionId as string, at);
      },
    });
    await waitFor(() => expect(rows()).toHaveLength(3));
    const user = userEvent.setup();

    await user.click(within(row('s-fox')).getByTestId('revoke-session'));
    await user.click(await screen.findByTestId('confirm-revoke'));
    expect(await within(row('s-fox')).findByTestId('revoke-error')).toHaveTextContent('the server is unreachable');
    const banner = screen.getByTestId('sessions-error');
    expect(banner).toHaveTextContent('1 revocation was not sent');

    // A search that cannot reach the server keeps the rows already shown.
    await fireEvent.input(screen.getByTestId('sessions-search'), { target: { value: 'dana' } });
    await waitFor(() => expect(banner).toHaveTextContent('Offline: sessions are read live from the server'));
    expect(banner).toHaveTextContent('The list below is from before.');
    expect(rows()).toHaveLength(3);

    online = true;
    await user.click(screen.getByTestId('sessions-retry'));
    expect(await within(row('s-fox')).findByTestId('revoked-confirmed')).toHaveTextContent(`confirmed ${hms(at)}`);
    await waitFor(() => expect(screen.queryByTestId('sessions-error')).toBeNull());
    expect(callsOf(calls, 'revoke_session').map((c) => c.args.sessionId)).toEqual(['s-fox', 's-fox']);
    expect(last(queries(calls))).toEqual({ q: 'dana', state: 'active', limit: 50 });
  });

  it("force logout from a row: confirmed, the user's rows read revoked; offline, it says not yet effective", async () => {
    const at = '2026-11-23T09:18:42Z';
    const { calls, onChanged } = renderSessions({
      force_logout: (args) => (args.userId === 'u-dana' ? confirmedLogout('u-dana', at, 2) : queuedLogout('u-fox', 'Fox Mulder')),
    });
    await waitFor(() => expect(rows()).toHaveLength(3));
    const user = userEvent.setup();

    await user.click(within(row('s-dana-1')).getByTestId('force-logout-user'));
    expect(await screen.findByTestId('confirm-force-logout')).toHaveFocus();
    await user.keyboard('{Enter}');
    const status = await screen.findByTestId('logout-status');
    expect(status).toHaveTextContent(`Dana Scully: Signed out everywhere · confirmed ${hms(at)} (2 sessions)`);
    expect(within(row('s-dana-1')).getByTestId('revoked-confirmed')).toHaveTextContent(hms(at));
    expect(within(row('s-dana-2')).getByTestId('revoked-confirmed')).toHaveTextContent(hms(at));
    expect(within(row('s-fox')).getByTestId('session-status')).toHaveTextContent('Active');
    expect(onChanged).toHaveBeenCalled();

    await user.click(within(row('s-fox')).getByTestId('force-logout-user'));
    await user.click(await screen.findByTestId('confirm-force-logout'));
    expect(await screen.findByTestId('logout-not-effective')).toHaveTextContent('Force logout queued — not yet effective');
    // Queued is not done: Fox's session still works and says so.
    expect(within(row('s-fox')).getByTestId('session-status')).toHaveTextContent('Active');
    expect(callsOf(calls, 'force_logout').map((c) => c.args)).toEqual([
      { userId: 'u-dana', suspendApiKeys: false },
      { userId: 'u-fox', suspendApiKeys: false },
    ]);
  });
});

describe('sessions in the app', () => {
  it('shows Sessions and Login attempts in the nav only with their permissions, and "/" searches the page shown', async () => {
    mockCommands({ list_users: () => page([]), list_sessions: () => sessionsPage(), login_attempts: () => ({ items: [], next_cursor: null }) });
    const { unmount } = render(UsersPage, { props: { session: SESSION, onSessionEnded: vi.fn(), onSignedOut: vi.fn() } });
    await screen.findByTestId('users-page');
    expect(screen.queryByTestId('nav-sessions')).toBeNull();
    expect(screen.queryByTestId('nav-attempts')).toBeNull();
    unmount();

    render(UsersPage, { props: { session: { ...IT, permissions: [...IT.permissions, 'audit.read'] }, onSessionEnded: vi.fn(), onSignedOut: vi.fn() } });
    const user = userEvent.setup();
    await user.click(await screen.findByTestId('nav-sessions'));
    await waitFor(() => expect(rows()).toHaveLength(3));
    expect(screen.getByTestId('nav-sessions')).toHaveAttribute('aria-current', 'page');
    await user.click(document.body);
    await user.keyboard('/');
    expect(screen.getByTestId('sessions-search')).toHaveFocus();

    await user.click(screen.getByTestId('nav-attempts'));
    expect(await screen.findByTestId('attempts-table')).toBeInTheDocument();
    await user.click(document.body);
    await user.keyboard('/');
    expect(screen.getByTestId('attempts-email')).toHaveFocus();
  });
});
