// A user's timeline in their panel (SPEC A2): read when its tab opens, one row opens in
// place with its details, "Load more" pages on, and the full Activity log opens filtered
// to them.
import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { SESSION, activityPage, histogram, makeEvent, makeUser, page } from '../../test/fixtures';
import { callsOf, mockCommands } from '../../test/ipc';
import type { AuditEventQuery, HistogramBucket, SessionInfo } from '../bindings';
import UsersPage from '../users/UsersPage.svelte';

const AUDITOR: SessionInfo = { ...SESSION, permissions: ['users.read', 'users.manage', 'audit.read'] };
const dana = makeUser({ id: 'u-dana', first_name: 'Dana', last_name: 'Scully', display_name: 'Dana Scully', email: 'dana@acme.test' });

const signedIn = makeEvent({ id: 'e-in', action: 'session.signed_in', actor: { type: 'user', id: 'u-dana', name: 'Dana Scully', email: 'dana@acme.test' }, target: { type: 'user', id: 'u-dana', name: 'Dana Scully', email: 'dana@acme.test' } });
const renamed = makeEvent({ id: 'e-renamed', action: 'user.updated', details: { before: { last_name: 'Scully' }, after: { last_name: 'Mulder' } } });
const older = makeEvent({ id: 'e-older', action: 'user.mfa_enrolled' });

function renderPage(session: SessionInfo = AUDITOR) {
  const calls = mockCommands({
    list_users: () => page([dana]),
    activity: (args) => ((args.query as AuditEventQuery).cursor === 'c2' ? activityPage([older]) : activityPage([signedIn, renamed], { next_cursor: 'c2' })),
    activity_histogram: (args) => histogram(args.bucket as HistogramBucket, '2026-03-01T00:00:00Z', [1]),
  });
  render(UsersPage, { props: { session, onSessionEnded: vi.fn(), onSignedOut: vi.fn() } });
  return calls;
}

async function openDana() {
  const user = userEvent.setup();
  const row = await screen.findByTestId('user-row');
  await user.click(within(row).getByText('Dana Scully'));
  return { user, panel: await screen.findByTestId('user-detail') };
}

const queries = (calls: ReturnType<typeof renderPage>) => callsOf(calls, 'activity').map((c) => c.args.query);

describe("the user panel's Activity tab", () => {
  it("reads the user's merged timeline when opened, pages on, and opens an event in place", async () => {
    const calls = renderPage();
    const { user, panel } = await openDana();
    expect(callsOf(calls, 'activity')).toHaveLength(0);

    await user.click(within(panel).getByTestId('tab-activity'));
    const rows = await within(panel).findAllByTestId('user-activity-row');
    expect(rows.map((r) => r.getAttribute('data-event-id'))).toEqual(['e-in', 'e-renamed']);
    expect(queries(calls)).toEqual([{ user_id: 'u-dana', limit: 100 }]);
    expect(rows[0]).toHaveTextContent('Signed in');
    expect(rows[0]).toHaveTextContent('Their own account');
    expect(rows[1]).toHaveTextContent('Profile edited');
    expect(rows[1]).toHaveTextContent('by Olivia Owner');

    await user.click(within(rows[1]).getByRole('button', { name: /Profile edited/ }));
    const diff = within(panel).getByTestId('activity-diff');
    expect(within(diff).getByText('Scully')).toBeInTheDocument();
    expect(within(diff).getByText('Mulder')).toBeInTheDocument();
    expect(within(rows[1]).getByRole('button', { name: /Profile edited/ })).toHaveAttribute('aria-expanded', 'true');

    await user.click(within(panel).getByTestId('user-activity-more'));
    await waitFor(() => expect(within(panel).getAllByTestId('user-activity-row')).toHaveLength(3));
    expect(queries(calls)[1]).toEqual({ user_id: 'u-dana', limit: 100, cursor: 'c2' });
    expect(within(panel).queryByTestId('user-activity-more')).toBeNull();
  });

  it('opens the Activity log filtered to the user, over all time', async () => {
    const calls = renderPage();
    const { user, panel } = await openDana();
    await user.click(within(panel).getByTestId('tab-activity'));
    await within(panel).findAllByTestId('user-activity-row');
    await user.click(within(panel).getByTestId('open-activity-page'));

    expect(await screen.findByTestId('activity-page')).toBeInTheDocument();
    expect(screen.getByTestId('nav-activity')).toHaveAttribute('aria-current', 'page');
    expect(screen.getByTestId('activity-filter-user-chosen')).toHaveTextContent('Dana Scully');
    expect(screen.getByTestId('activity-preset-all')).toHaveAttribute('aria-pressed', 'true');
    await waitFor(() => expect(queries(calls)).toHaveLength(2));
    expect(queries(calls)[1]).toEqual({ user_id: 'u-dana', limit: 100 });

    // From the nav, the log is everyone's again.
    await user.click(screen.getByTestId('nav-users'));
    await user.click(screen.getByTestId('nav-activity'));
    await waitFor(() => expect(queries(calls)).toHaveLength(3));
    expect(queries(calls)[2]).not.toHaveProperty('user_id');
    expect(screen.queryByTestId('activity-filter-user-chosen')).toBeNull();
  });

  it('"/" on the Activity page focuses its text filter', async () => {
    renderPage();
    const user = userEvent.setup();
    await user.click(await screen.findByTestId('nav-activity'));
    await screen.findByTestId('activity-page');
    await user.keyboard('/');
    expect(screen.getByTestId('activity-filter-q')).toHaveFocus();
  });

  it('is not there without audit.read', async () => {
    renderPage({ ...SESSION, permissions: ['users.read', 'users.manage'] });
    const { panel } = await openDana();
    expect(within(panel).queryByTestId('tab-activity')).toBeNull();
    expect(screen.queryByTestId('nav-activity')).toBeNull();
  });
});
