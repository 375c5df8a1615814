import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import App from '../../App.svelte';
import { SESSION, ipcError, makeUser, page, signedIn, syncStatus } from '../../test/fixtures';
import { callsOf, deferred, listQueries, mockCommands } from '../../test/ipc';
import type { UserListQuery, CachedUserPage } from '../bindings';
import UsersPage from './UsersPage.svelte';

const HOUR = 3_600_000;

function renderPage(listUsers: (query: UserListQuery) => unknown) {
  const calls = mockCommands({
    list_users: (args) => listUsers(args.query as UserListQuery),
    sign_out: () => null,
  });
  const onSessionEnded = vi.fn();
  const onSignedOut = vi.fn();
  render(UsersPage, { props: { session: SESSION, onSessionEnded, onSignedOut } });
  return { calls, onSessionEnded, onSignedOut };
}

const alice = makeUser({
  id: 'u-alice',
  email: 'alice@acme.test',
  first_name: 'Alice',
  last_name: 'Archer',
  display_name: 'Alice Archer',
  status: 'active',
  mfa_enabled: true,
  roles: [
    { id: 'r-admin', key: 'admin', name: 'Admin' },
    { id: 'r-manager', key: 'manager', name: 'Manager' },
  ],
  departments: [
    { id: 'g-eng', name: 'Engineering', kind: 'department' },
    { id: 'g-sales', name: 'Sales', kind: 'department' },
  ],
  last_active_at: new Date(Date.now() - 2 * HOUR - 60_000).toISOString(),
  last_login_at: new Date(Date.now() - 50 * HOUR).toISOString(),
});
const bob = makeUser({
  id: 'u-bob',
  email: 'bob@acme.test',
  first_name: 'Bob',
  last_name: 'Baker',
  display_name: 'Bob Baker',
  status: 'pending',
  last_active_at: null,
  last_login_at: null,
});
const carol = makeUser({
  id: 'u-carol',
  email: 'carol@acme.test',
  first_name: 'Carol',
  last_name: 'Cole',
  display_name: 'Carol Cole',
  status: 'deactivated',
  last_active_at: null,
  last_login_at: new Date(Date.now() - 3 * 24 * HOUR - HOUR).toISOString(),
});
const COUNTS = { active: 12, pending: 3, deactivated: 2, all: 17 };

function last<T>(items: T[]): T | undefined {
  return items[items.length - 1];
}

function rows() {
  return screen.queryAllByTestId('user-row');
}

describe('users page', () => {
  it('shows the organization, the signed-in admin, rows and count badges', async () => {
    const { calls } = renderPage(() => page([alice, bob, carol], { counts: COUNTS }));

    await waitFor(() => expect(rows()).toHaveLength(3));
    expect(screen.getByTestId('org-name')).toHaveTextContent('Acme');
    expect(screen.getByTestId('session-user')).toHaveTextContent('Olivia Owner');
    expect(listQueries(calls)).toEqual([{ limit: 100 }]);

    expect(screen.getByTestId('count-active-value')).toHaveTextContent('12');
    expect(screen.getByTestId('count-pending-value')).toHaveTextContent('3');
    expect(screen.getByTestId('count-deactivated-value')).toHaveTextContent('2');
    expect(screen.getByTestId('count-all-value')).toHaveTextContent('17');
    expect(screen.getByTestId('count-pending')).toHaveTextContent('Pending');
    expect(screen.getByTestId('count-all')).toHaveAttribute('aria-pressed', 'true');
    expect(screen.getByTestId('count-active')).toHaveAttribute('aria-pressed', 'false');

    const [a, b, c] = rows();
    expect(a).toHaveAttribute('data-user-id', 'u-alice');
    expect(a).toHaveAttribute('data-email', 'alice@acme.test');
    const aCells = within(a).getAllByRole('cell');
    expect(aCells.map((cell) => cell.textContent?.replace(/\s+/g, ' ').trim())).toEqual([
      '', // the tick box for bulk actions
      'AA Alice Archer',
      'alice@acme.test',
      'AdminManager',
      'Active',
      'Enabled',
      'Engineering, Sales',
      '2h ago',
    ]);
    // Exact time on hover, from last_active_at (not the older last_login_at).
    expect(within(a).getByText('2h ago')).toHaveAttribute(
      'title',
      new Date(alice.last_active_at!).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }),
    );

    expect(within(b).getByText('Pending')).toBeInTheDocument();
    expect(within(b).getByText('Off')).toBeInTheDocument();
    expect(within(b).getByText('never')).toBeInTheDocument();

    // Falls back to last_login_at.
    expect(within(c).getByText('Deactivated')).toBeInTheDocument();
    expect(within(c).getByText('3d ago')).toBeInTheDocument();
  });

  it('refreshes when a sync landed between its first list and its first status poll', async () => {
    // The first list is read as the page opens; the worker's first sync can finish
    // before the page first asks for the status, whose revision then already moved.
    const lists = [page([]), page([alice])];
    const calls = mockCommands({ list_users: () => lists.shift() ?? page([alice]), sync_status: () => syncStatus({ revision: 1 }) });
    render(UsersPage, { props: { session: SESSION, onSessionEnded: vi.fn(), onSignedOut: vi.fn() } });
    expect(await screen.findByText('Alice Archer')).toBeInTheDocument();
    expect(callsOf(calls, 'list_users')).toHaveLength(2);
  });

  it('shows loading, then the empty state', async () => {
    const pending = deferred<CachedUserPage>();
    renderPage(() => pending.promise);
    expect(await screen.findByTestId('users-loading')).toBeInTheDocument();
    expect(screen.queryByTestId('users-empty')).not.toBeInTheDocument();

    pending.resolve(page([], { counts: { active: 0, pending: 0, deactivated: 0, all: 0 } }));
    expect(await screen.findByTestId('users-empty')).toHaveTextContent('No users match');
    expect(screen.queryByTestId('users-loading')).not.toBeInTheDocument();
  });

  it('searches with q after the debounce, once for a quickly typed word', async () => {
    const { calls } = renderPage((query) =>
      page(query.q ? [alice] : [alice, bob, carol], { counts: COUNTS }),
    );
    await waitFor(() => expect(rows()).toHaveLength(3));

    const user = userEvent.setup();
    await user.type(screen.getByTestId('users-search'), 'alice');
    // Not sent on each keystroke.
    expect(listQueries(calls)).toHaveLength(1);

    await waitFor(() => expect(listQueries(calls)).toHaveLength(2));
    expect(listQueries(calls)[1]).toEqual({ q: 'alice', limit: 100 });
    await waitFor(() => expect(rows()).toHaveLength(1));
    expect(rows()[0]).toHaveAttribute('data-email', 'alice@acme.test');
  });

  it('"/" focuses the search box and Escape clears it', async () => {
    const { calls } = renderPage(() => page([alice], { counts: COUNTS }));
    await waitFor(() => expect(rows()).toHaveLength(1));
    const search = screen.getByTestId('users-search');
    const user = userEvent.setup();

    await user.keyboard('/');
    expect(search).toHaveFocus();
    expect(search).toHaveValue('');

    await user.type(search, 'bob');
    await waitFor(() => expect(last(listQueries(calls))).toEqual({ q: 'bob', limit: 100 }));

    await user.keyboard('{Escape}');
    expect(search).toHaveValue('');
    await waitFor(() => expect(last(listQueries(calls))).toEqual({ limit: 100 }));
  });

  it('searches when the box changes without input events (WebDriver clear)', async () => {
    const { calls } = renderPage(() => page([alice], { counts: COUNTS }));
    await waitFor(() => expect(rows()).toHaveLength(1));
    await fireEvent.change(screen.getByTestId('users-search'), { target: { value: 'carol' } });
    await waitFor(() => expect(last(listQueries(calls))).toEqual({ q: 'carol', limit: 100 }));
  });

  it('a count badge filters by status', async () => {
    const { calls } = renderPage((query) =>
      page(query.status === 'pending' ? [bob] : [alice, bob, carol], { counts: COUNTS }),
    );
    await waitFor(() => expect(rows()).toHaveLength(3));

    await userEvent.setup().click(screen.getByTestId('count-pending'));

    await waitFor(() => expect(rows()).toHaveLength(1));
    expect(last(listQueries(calls))).toEqual({ status: 'pending', limit: 100 });
    expect(rows()[0]).toHaveAttribute('data-user-id', 'u-bob');
    expect(screen.getByTestId('count-pending')).toHaveAttribute('aria-pressed', 'true');
    expect(screen.getByTestId('count-all')).toHaveAttribute('aria-pressed', 'false');

    await userEvent.setup().click(screen.getByTestId('count-all'));
    await waitFor(() => expect(rows()).toHaveLength(3));
    expect(last(listQueries(calls))).toEqual({ limit: 100 });
  });

  it('loads the next page when scrolled near the end', async () => {
    const first = Array.from({ length: 100 }, (_, i) => makeUser({ id: `p1-${i}` }));
    const second = Array.from({ length: 20 }, (_, i) => makeUser({ id: `p2-${i}` }));
    const { calls } = renderPage((query) =>
      query.cursor === 'c2'
        ? page(second, { counts: COUNTS })
        : page(first, { counts: COUNTS, next_cursor: 'c2' }),
    );
    await waitFor(() => expect(rows().length).toBeGreaterThan(0));
    // Only the visible window is rendered, and the next page is not fetched yet.
    expect(rows().length).toBeLessThan(60);
    expect(listQueries(calls)).toHaveLength(1);

    const table = screen.getByTestId('users-table');
    Object.defineProperty(table, 'scrollTop', { configurable: true, writable: true, value: 100 * 44 - 700 });
    await fireEvent.scroll(table);

    await waitFor(() => expect(listQueries(calls)).toHaveLength(2));
    expect(listQueries(calls)[1]).toEqual({ limit: 100, cursor: 'c2' });
    await waitFor(() =>
      expect(rows().some((row) => row.getAttribute('data-user-id') === 'p2-0')).toBe(true),
    );
  });

  it('shows a Retry banner when the server is unreachable', async () => {
    let fail = true;
    const { calls } = renderPage(() => {
      if (fail) throw ipcError('unreachable', 'Cannot reach server at https://gatehouse.acme.test');
      return page([alice], { counts: COUNTS });
    });

    expect(await screen.findByTestId('users-error')).toHaveTextContent(
      'Cannot reach server at https://gatehouse.acme.test',
    );
    expect(screen.queryByTestId('users-empty')).not.toBeInTheDocument();

    fail = false;
    await userEvent.setup().click(screen.getByTestId('users-retry'));
    await waitFor(() => expect(rows()).toHaveLength(1));
    expect(screen.queryByTestId('users-error')).not.toBeInTheDocument();
    expect(listQueries(calls)).toHaveLength(2);
  });

  it('reports an expired session upwards', async () => {
    const { onSessionEnded } = renderPage(() => {
      throw ipcError('session_expired', 'your session expired');
    });
    await waitFor(() => expect(onSessionEnded).toHaveBeenCalledWith('your session expired'));
    expect(screen.queryByTestId('users-error')).not.toBeInTheDocument();
  });
});

describe('session flow', () => {
  it('an expired session returns to sign-in with the reason and the e-mail prefilled', async () => {
    mockCommands({
      current_session: () => signedIn(),
      list_users: () => {
        throw ipcError('session_expired', 'the refresh token was revoked');
      },
    });
    render(App);

    expect(await screen.findByTestId('signin-form')).toBeInTheDocument();
    expect(screen.getByTestId('signin-notice')).toHaveTextContent(
      'Your session ended: the refresh token was revoked',
    );
    expect(screen.getByTestId('signin-email')).toHaveValue(SESSION.email);
    expect(screen.getByTestId('signin-server-url')).toHaveValue(SESSION.server_url);
  });

  it('Sign out calls sign_out and shows sign-in prefilled from the ended session', async () => {
    const calls = mockCommands({
      current_session: () => signedIn(),
      list_users: () => page([alice], { counts: COUNTS }),
      sign_out: () => null,
    });
    render(App);
    await waitFor(() => expect(rows()).toHaveLength(1));

    const user = userEvent.setup();
    await user.click(screen.getByTestId('signout-button'));
    await user.click(await screen.findByTestId('signout-confirm'));

    expect(await screen.findByTestId('signin-form')).toBeInTheDocument();
    expect(callsOf(calls, 'sign_out').map((c) => c.args)).toEqual([{ discardPending: false, removeCopy: true }]);
    expect(screen.queryByTestId('users-page')).not.toBeInTheDocument();
    expect(screen.queryByTestId('signin-notice')).not.toBeInTheDocument();
    expect(screen.getByTestId('signin-email')).toHaveValue(SESSION.email);
    expect(screen.getByTestId('signin-server-url')).toHaveValue(SESSION.server_url);
  });

  it('stays on the users page and says so when sign_out fails', async () => {
    mockCommands({
      current_session: () => signedIn(),
      list_users: () => page([alice], { counts: COUNTS }),
      sign_out: () => {
        throw ipcError('keyring_unavailable', 'The system keyring is locked');
      },
    });
    render(App);
    await waitFor(() => expect(rows()).toHaveLength(1));

    const user = userEvent.setup();
    await user.click(screen.getByTestId('signout-button'));
    await user.click(await screen.findByTestId('signout-confirm'));

    expect(await screen.findByTestId('signout-error')).toHaveTextContent('The system keyring is locked');
    expect(screen.getByTestId('users-page')).toBeInTheDocument();
  });
});
