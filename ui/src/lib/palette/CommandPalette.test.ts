// The command palette (SPEC C4): a force logout from anywhere in Ctrl+K, the name, ↓,
// Enter, Enter — keyboard only — with the server's answer shown; navigation commands;
// Escape back to where the admin was; superseded searches dropped.
import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { SESSION, confirmedLogout, makeUser, page, queuedLogout, todayAt } from '../../test/fixtures';
import { callsOf, deferred, listQueries, mockCommands } from '../../test/ipc';
import type { CachedUserPage, SessionInfo, UserListQuery } from '../bindings';
import UsersPage from '../users/UsersPage.svelte';

function last<T>(items: T[]): T | undefined {
  return items[items.length - 1];
}

type Handlers = Record<string, (args: Record<string, unknown>) => unknown>;

const IT: SessionInfo = { ...SESSION, permissions: ['users.read', 'sessions.revoke', 'audit.read'] };
const dana = makeUser({ id: 'u-dana', first_name: 'Dana', last_name: 'Scully', display_name: 'Dana Scully', email: 'dana@acme.test' });
const fox = makeUser({ id: 'u-fox', first_name: 'Fox', last_name: 'Mulder', display_name: 'Fox Mulder', email: 'fox@acme.test' });
const foxy = makeUser({ id: 'u-foxy', first_name: 'Foxy', last_name: 'Brown', display_name: 'Foxy Brown', email: 'foxy@acme.test' });
// A Manager (users.manage): out of reach of IT staff who hold only sessions.revoke.
const skinner = makeUser({
  id: 'u-skinner',
  first_name: 'Walter',
  last_name: 'Skinner',
  display_name: 'Walter Skinner',
  email: 'skinner@acme.test',
  roles: [{ id: 'r-manager', key: 'manager', name: 'Manager' }],
});
const everyone = [dana, fox, foxy, skinner];

function hms(iso: string): string {
  const d = new Date(iso);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

/** The local copy answers a search by name, as the Rust side does. */
function search(query: UserListQuery) {
  const q = (query.q ?? '').toLowerCase();
  return page(everyone.filter((u) => u.display_name.toLowerCase().includes(q)));
}

function renderApp(handlers: Handlers = {}, session: SessionInfo = IT) {
  const calls = mockCommands({
    list_users: (args) => search(args.query as UserListQuery),
    list_sessions: () => ({ items: [], next_cursor: null }),
    ...handlers,
  });
  render(UsersPage, { props: { session, onSessionEnded: vi.fn(), onSignedOut: vi.fn() } });
  return calls;
}

/** The palette's own searches (the users page asks for 100 at a time). */
const paletteQueries = (calls: Parameters<typeof listQueries>[0]) => listQueries(calls).filter((q) => q.limit === 8);

describe('command palette', () => {
  it('Ctrl+K, the name, ↓, Enter, Enter force-logs-out that user — no mouse, even from a text box', async () => {
    const at = todayAt(9, 16, 7);
    const calls = renderApp({ force_logout: (args) => confirmedLogout(args.userId as string, at, 2) });
    await screen.findAllByTestId('user-row');
    const user = userEvent.setup();
    // Start from the search box: the shortcut must work where typing goes.
    screen.getByTestId('users-search').focus();

    await user.keyboard('{Control>}k{/Control}');
    const palette = await screen.findByTestId('command-palette');
    expect(palette).toHaveAttribute('role', 'dialog');
    expect(within(palette).getByTestId('palette-input')).toHaveFocus();
    // Nothing typed into the page's search box.
    expect(screen.getByTestId('users-search')).toHaveValue('');

    await user.keyboard('Fox M');
    await user.keyboard('{ArrowDown}');
    await user.keyboard('{Enter}');
    const confirm = await within(palette).findByTestId('palette-confirm');
    expect(confirm).toHaveTextContent('Force logout Fox Mulder?');
    expect(callsOf(calls, 'force_logout')).toHaveLength(0);
    await user.keyboard('{Enter}');

    const status = await within(palette).findByTestId('palette-result-status');
    expect(status).toHaveTextContent(`Fox Mulder: Signed out everywhere · confirmed ${hms(at)} (2 sessions)`);
    expect(callsOf(calls, 'force_logout').map((c) => c.args)).toEqual([{ userId: 'u-fox', suspendApiKeys: false }]);
    expect(last(paletteQueries(calls))).toEqual({ q: 'Fox M', limit: 8 });
  });

  it('lists Open then Force logout for each user, with the keyboard selection marked', async () => {
    renderApp();
    await screen.findAllByTestId('user-row');
    const user = userEvent.setup();
    await user.keyboard('{Control>}k{/Control}');
    await user.keyboard('fox');
    await waitFor(() => expect(screen.getAllByTestId('palette-result').map((o) => o.textContent?.replace(/\s+/g, ' ').trim())).toEqual([
      'Open Fox Mulder fox@acme.test',
      'Force logout Fox Mulder fox@acme.test',
      'Open Foxy Brown foxy@acme.test',
      'Force logout Foxy Brown foxy@acme.test',
    ]));
    const options = () => screen.getAllByTestId('palette-result');
    expect(screen.getByRole('listbox')).toBeInTheDocument();
    expect(options()[0]).toHaveAttribute('aria-selected', 'true');
    await user.keyboard('{ArrowDown}{ArrowDown}{ArrowDown}');
    expect(options()[3]).toHaveAttribute('aria-selected', 'true');
    expect(options()[0]).toHaveAttribute('aria-selected', 'false');
    await user.keyboard('{ArrowDown}'); // stays on the last
    expect(options()[3]).toHaveAttribute('aria-selected', 'true');
    await user.keyboard('{ArrowUp}');
    expect(options()[2]).toHaveAttribute('aria-selected', 'true');
    expect(screen.getByTestId('palette-input')).toHaveAttribute('aria-activedescendant', options()[2].id);
  });

  it('offline, says the force logout is queued and not yet effective', async () => {
    renderApp({ force_logout: () => queuedLogout('u-dana', 'Dana Scully') });
    await screen.findAllByTestId('user-row');
    const user = userEvent.setup();
    await user.keyboard('{Control>}k{/Control}');
    await user.keyboard('Dana{ArrowDown}{Enter}{Enter}');
    const status = await screen.findByTestId('palette-result-status');
    expect(within(status).getByTestId('logout-not-effective')).toHaveTextContent('queued — not yet effective');
    expect(status).not.toHaveTextContent('Signed out everywhere');
  });

  it('Enter on "Open" opens the user; Escape in the confirmation goes back without sending', async () => {
    const calls = renderApp({ force_logout: () => confirmedLogout('u-dana', '2026-11-23T09:00:00Z') });
    await screen.findAllByTestId('user-row');
    const user = userEvent.setup();
    await user.keyboard('{Control>}k{/Control}');
    await user.keyboard('Dana{ArrowDown}{Enter}');
    await screen.findByTestId('palette-confirm');
    await user.keyboard('{Escape}');
    expect(screen.queryByTestId('palette-confirm')).toBeNull();
    expect(screen.getByTestId('command-palette')).toBeInTheDocument();
    expect(screen.getByTestId('palette-input')).toHaveFocus();
    expect(callsOf(calls, 'force_logout')).toHaveLength(0);

    await user.keyboard('{ArrowUp}{Enter}');
    const panel = await screen.findByTestId('user-detail');
    expect(panel).toHaveAttribute('data-user-id', 'u-dana');
    expect(screen.queryByTestId('command-palette')).toBeNull();
  });

  it('Escape closes it and gives the focus back', async () => {
    renderApp();
    await screen.findAllByTestId('user-row');
    const user = userEvent.setup();
    const search = screen.getByTestId('users-search');
    search.focus();
    await user.keyboard('{Meta>}k{/Meta}'); // Cmd+K on macOS
    expect(await screen.findByTestId('palette-input')).toHaveFocus();
    await user.keyboard('{Escape}');
    expect(screen.queryByTestId('command-palette')).toBeNull();
    expect(search).toHaveFocus();
  });

  it('goes to a page by name', async () => {
    renderApp();
    await screen.findAllByTestId('user-row');
    const user = userEvent.setup();
    await user.keyboard('{Control>}k{/Control}');
    await user.keyboard('sessions');
    await waitFor(() => expect(screen.getAllByTestId('palette-result')[0]).toHaveTextContent('Go to Sessions'));
    await user.keyboard('{Enter}');
    expect(await screen.findByTestId('sessions-table')).toBeInTheDocument();
    expect(screen.getByTestId('nav-sessions')).toHaveAttribute('aria-current', 'page');
  });

  it('offers no force logout without sessions.revoke', async () => {
    renderApp({}, { ...SESSION, permissions: ['users.read'] });
    await screen.findAllByTestId('user-row');
    const user = userEvent.setup();
    await user.keyboard('{Control>}k{/Control}');
    await user.keyboard('dana');
    await waitFor(() => expect(screen.getAllByTestId('palette-result')[0]).toHaveTextContent('Open Dana Scully'));
    expect(screen.getAllByTestId('palette-result').map((o) => o.dataset.kind)).toEqual(['open']);
  });

  it('drops the answer to a superseded search', async () => {
    const slow = deferred<CachedUserPage>();
    let first = true;
    renderApp({
      list_users: (args) => {
        const query = args.query as UserListQuery;
        if (query.limit === 8 && first) {
          first = false;
          return slow.promise;
        }
        return search(query);
      },
    });
    await screen.findAllByTestId('user-row');
    const user = userEvent.setup();
    await user.keyboard('{Control>}k{/Control}');
    await user.keyboard('Dana');
    await new Promise((r) => setTimeout(r, 150)); // the slow search is on its way
    await user.clear(screen.getByTestId('palette-input'));
    await user.keyboard('Foxy');
    await waitFor(() => expect(screen.getAllByTestId('palette-result')[0]).toHaveTextContent('Open Foxy Brown'));
    slow.resolve(page([dana]));
    await new Promise((r) => setTimeout(r, 50));
    expect(screen.getAllByTestId('palette-result').every((o) => !o.textContent?.includes('Dana'))).toBe(true);
  });
  it('offers no force logout of someone out of reach, as the server would refuse it', async () => {
    renderApp();
    await screen.findAllByTestId('user-row');
    const user = userEvent.setup();
    await user.keyboard('{Control>}k{/Control}');
    const palette = await screen.findByTestId('command-palette');
    await user.keyboard('Walter');
    await waitFor(() => expect(within(palette).getAllByTestId('palette-result').some((r) => r.getAttribute('data-user-id') === 'u-skinner')).toBe(true));
    const theirs = within(palette)
      .getAllByTestId('palette-result')
      .filter((r) => r.getAttribute('data-user-id') === 'u-skinner')
      .map((r) => r.getAttribute('data-kind'));
    expect(theirs).toEqual(['open']);
  });
});
