// The activity log page (SPEC A3–A5): every filter reaches `activity` as the server's
// query (an area as `noun.*` where it can be, a range refused before asking when it
// ends before it starts), paging with the cursor, an event's details with its edit as a
// before/after table, a chart bar narrowing the range, the CSV export with progress,
// and the offline banner.
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { activityPage, histogram, makeEvent, makeUser, page } from '../../test/fixtures';
import { callsOf, mockCommands, type Call } from '../../test/ipc';
import type { ActivityExportStatus, AuditEventQuery, HistogramBucket } from '../bindings';
import { localToUtc } from '../sessions/format';
import ActivityPage from './ActivityPage.svelte';

type Handlers = Record<string, (args: Record<string, unknown>) => unknown>;

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const dana = makeUser({ id: 'u-dana', first_name: 'Dana', last_name: 'Scully', display_name: 'Dana Scully', email: 'dana@acme.test' });
const fox = makeUser({ id: 'u-fox', first_name: 'Fox', last_name: 'Mulder', display_name: 'Fox Mulder', email: 'fox@acme.test' });

const edit = makeEvent({
  id: 'e-edit',
  action: 'user.roles_changed',
  details: {
    before: { roles: [{ id: 'r-member', name: 'Member' }], title: 'Agent' },
    after: { roles: [{ id: 'r-member', name: 'Member' }, { id: 'r-manager', name: 'Manager' }], title: null },
  },
});
const failed = makeEvent({
  id: 'e-failed',
  action: 'session.sign_in_failed',
  actor: null,
  target: { type: 'email', id: 'nobody@acme.test', name: null, email: 'nobody@acme.test' },
  ip: '203.0.113.9',
  details: { reason: 'unknown_user', email: 'nobody@acme.test' },
});
const host = makeEvent({ id: 'e-host', action: 'app.agent_interaction', details: { agent: 'helpdesk-bot', tokens: 812 } });

function renderActivity(handlers: Handlers = {}, user: { id: string; name: string } | null = null) {
  const calls = mockCommands({
    activity: () => activityPage([edit, failed, host]),
    activity_histogram: (args) => histogram(args.bucket as HistogramBucket, (args.query as AuditEventQuery).from!, [0, 0]),
    list_users: (args) => {
      const q = String((args.query as { q?: string }).q ?? '').toLowerCase();
      return page([dana, fox].filter((u) => u.display_name.toLowerCase().includes(q) || u.email.includes(q)));
    },
    ...handlers,
  });
  const view = render(ActivityPage, { props: { now: new Date(), user, onSessionEnded: vi.fn() } });
  return { calls, ...view };
}

const queries = (calls: Call[]) => callsOf(calls, 'activity').map((c) => c.args.query as AuditEventQuery);
const lastQuery = (calls: Call[]) => queries(calls).at(-1)!;
const histograms = (calls: Call[], bucket: HistogramBucket) =>
  callsOf(calls, 'activity_histogram')
    .filter((c) => c.args.bucket === bucket)
    .map((c) => c.args.query as AuditEventQuery);
const rows = () => screen.queryAllByTestId('activity-row');

/** How long before now `iso` is, in ms. */
const ago = (iso: string | null | undefined) => Date.now() - Date.parse(iso ?? '');

/** The query without its computed start, which `ago` checks on its own. */
function withoutFrom(query: AuditEventQuery): AuditEventQuery {
  const { from: _from, ...rest } = query;
  return rest;
}

async function pickUser(testid: string, text: string, name: string) {
  const user = userEvent.setup();
  await user.type(screen.getByTestId(testid), text);
  const option = (await screen.findAllByTestId('activity-user-option')).find((o) => o.textContent?.includes(name));
  await user.click(option!);
}

describe('activity log filters', () => {
  it('starts with the last 30 days, then sends user, actor, IP and text', async () => {
    const { calls } = renderActivity();
    await waitFor(() => expect(rows()).toHaveLength(3));
    expect(queries(calls)).toHaveLength(1);
    expect(withoutFrom(queries(calls)[0])).toEqual({ limit: 100 });
    expect(Math.abs(ago(queries(calls)[0].from) - 30 * DAY)).toBeLessThan(60_000);

    await pickUser('activity-filter-user', 'dana', 'Dana Scully');
    await waitFor(() => expect(lastQuery(calls).user_id).toBe('u-dana'));
    expect(callsOf(calls, 'list_users').at(-1)!.args.query).toEqual({ q: 'dana', limit: 8 });
    expect(screen.getByTestId('activity-filter-user-chosen')).toHaveTextContent('Dana Scully');

    await pickUser('activity-filter-actor', 'fox', 'Fox Mulder');
    await waitFor(() => expect(lastQuery(calls).actor_id).toBe('u-fox'));

    const user = userEvent.setup();
    // Debounced: one query per box typed in, not one per keystroke.
    const before = queries(calls).length;
    await user.type(screen.getByTestId('activity-filter-ip'), '203.0.113.9');
    await waitFor(() => expect(lastQuery(calls).ip).toBe('203.0.113.9'));
    await user.type(screen.getByTestId('activity-filter-q'), 'laptop');
    await waitFor(() => expect(lastQuery(calls).q).toBe('laptop'));
    expect(queries(calls).length).toBe(before + 2);
    expect(withoutFrom(lastQuery(calls))).toEqual({ user_id: 'u-dana', actor_id: 'u-fox', ip: '203.0.113.9', q: 'laptop', limit: 100 });

    // The user's chip clears that filter alone.
    await user.click(screen.getByTestId('activity-filter-user-clear'));
    await waitFor(() => expect(lastQuery(calls).user_id).toBeUndefined());
    expect(lastQuery(calls).actor_id).toBe('u-fox');

    await user.click(screen.getByTestId('activity-clear'));
    await waitFor(() => expect(withoutFrom(lastQuery(calls))).toEqual({ limit: 100 }));
    expect(screen.getByTestId('activity-filter-ip')).toHaveValue('');
    expect(screen.getByTestId('activity-filter-actor')).toBeInTheDocument();
  });

  it('sends a whole area as noun.* only where the area holds every action of that noun', async () => {
    const { calls } = renderActivity();
    await waitFor(() => expect(rows()).toHaveLength(3));
    const user = userEvent.setup();
    const button = screen.getByTestId('activity-filter-action');
    await user.click(button);
    expect(button).toHaveAttribute('aria-expanded', 'true');

    await user.click(screen.getByTestId('action-area-invitations'));
    await waitFor(() => expect(lastQuery(calls).action).toBe('invitation.*'));

    // Sign-in is six session.* actions, but Sessions holds more of them: named one by one.
    await user.click(screen.getByTestId('action-area-sign-in'));
    await waitFor(() =>
      expect(lastQuery(calls).action).toBe(
        'session.signed_in,session.signed_out,session.sign_in_failed,session.mfa_verified,session.trusted_device_granted,session.stepped_up,invitation.*',
      ),
    );
    // With Sessions too, every session.* action is chosen.
    await user.click(screen.getByTestId('action-area-sessions'));
    await waitFor(() => expect(lastQuery(calls).action).toBe('session.*,user.force_logout,invitation.*'));

    await user.click(screen.getByTestId('action-session.revoked'));
    await user.click(screen.getByTestId('action-app.*'));
    await waitFor(() => expect(lastQuery(calls).action).toContain('app.*'));
    expect(lastQuery(calls).action).toBe(
      'session.signed_in,session.signed_out,session.sign_in_failed,session.mfa_verified,session.trusted_device_granted,session.stepped_up,session.refresh_token_reused,user.force_logout,invitation.*,app.*',
    );
    expect(screen.getByTestId('action-area-sessions')).toHaveProperty('indeterminate', true);

    // Escape closes the popover and gives the focus back to its button.
    await user.keyboard('{Escape}');
    expect(screen.queryByTestId('activity-action-popover')).toBeNull();
    expect(button).toHaveFocus();
    expect(button).toHaveAttribute('aria-expanded', 'false');
    expect(screen.getByTestId('activity-chip-actions')).toHaveTextContent('Actions: 14 actions');

    await user.click(within(screen.getByTestId('activity-chip-actions')).getByRole('button'));
    await waitFor(() => expect(lastQuery(calls).action).toBeUndefined());
  });

  it('a preset asks from that long ago on, open-ended', async () => {
    const { calls } = renderActivity();
    await waitFor(() => expect(queries(calls)).toHaveLength(1));
    const user = userEvent.setup();
    for (const [preset, span] of [
      ['24h', DAY],
      ['7d', 7 * DAY],
      ['90d', 90 * DAY],
    ] as const) {
      const before = queries(calls).length;
      await user.click(screen.getByTestId(`activity-preset-${preset}`));
      await waitFor(() => expect(queries(calls).length).toBe(before + 1));
      expect(Math.abs(ago(lastQuery(calls).from) - span)).toBeLessThan(60_000);
      expect(lastQuery(calls).to).toBeUndefined();
      expect(screen.getByTestId(`activity-preset-${preset}`)).toHaveAttribute('aria-pressed', 'true');
    }
    await user.click(screen.getByTestId('activity-preset-all'));
    await waitFor(() => expect(lastQuery(calls)).toEqual({ limit: 100 }));
    expect(screen.getByTestId('activity-chip-range')).toHaveTextContent('All time');
  });

  it('a custom range that ends before it starts is refused without asking the server', async () => {
    const { calls } = renderActivity();
    await waitFor(() => expect(queries(calls)).toHaveLength(1));
    const from = screen.getByTestId('activity-filter-from');
    const to = screen.getByTestId('activity-filter-to');
    await fireEvent.change(from, { target: { value: '2026-03-10T08:30' } });
    await waitFor(() => expect(queries(calls)).toHaveLength(2));
    expect(lastQuery(calls)).toEqual({ from: localToUtc('2026-03-10T08:30'), limit: 100 });

    await fireEvent.change(to, { target: { value: '2026-03-09T17:00' } });
    expect(await screen.findByTestId('activity-range-error')).toHaveTextContent('The end of the range must be after its start.');
    expect(to).toHaveAttribute('aria-invalid', 'true');
    await fireEvent.change(to, { target: { value: '2026-03-10T08:30' } });
    expect(screen.getByTestId('activity-range-error')).toBeInTheDocument();
    await new Promise((r) => setTimeout(r, 50));
    expect(queries(calls)).toHaveLength(2);

    await fireEvent.change(to, { target: { value: '2026-03-11T17:45' } });
    await waitFor(() => expect(queries(calls)).toHaveLength(3));
    expect(lastQuery(calls)).toEqual({ from: localToUtc('2026-03-10T08:30'), to: localToUtc('2026-03-11T17:45'), limit: 100 });
    expect(screen.queryByTestId('activity-range-error')).toBeNull();
    expect(screen.getByTestId('activity-preset-30d')).toHaveAttribute('aria-pressed', 'false');
  });

  it('Ctrl+F focuses the text filter', async () => {
    renderActivity();
    await waitFor(() => expect(rows()).toHaveLength(3));
    await userEvent.setup().keyboard('{Control>}f{/Control}');
    expect(screen.getByTestId('activity-filter-q')).toHaveFocus();
  });
});

describe('activity log results', () => {
  it('shows time, action, actor → target and IP; a host action reads as itself', async () => {
    renderActivity();
    await waitFor(() => expect(rows()).toHaveLength(3));
    const [r0, r1, r2] = rows();
    expect(r0).toHaveAttribute('data-event-id', 'e-edit');
    expect(r0).toHaveAttribute('data-action', 'user.roles_changed');
    expect(r0).toHaveTextContent('Roles changed');
    expect(r0).toHaveTextContent('Olivia Owner → Dana Scully dana@acme.test');
    expect(r0).toHaveTextContent('198.51.100.7');
    expect(r0.querySelector('time')).toHaveAttribute('datetime', edit.at);
    expect(r1).toHaveTextContent('Sign-in failed');
    expect(r1).toHaveTextContent('Not signed in → nobody@acme.test');
    expect(r2).toHaveTextContent('app.agent_interaction');
    expect(screen.getByTestId('activity-count')).toHaveTextContent('3 events shown');
  });

  it('loads more with the cursor', async () => {
    const older = makeEvent({ id: 'e-older' });
    const { calls } = renderActivity({
      activity: (args) => ((args.query as AuditEventQuery).cursor === 'c2' ? activityPage([older]) : activityPage([edit, failed], { next_cursor: 'c2' })),
    });
    await waitFor(() => expect(rows()).toHaveLength(2));
    expect(screen.getByTestId('activity-count')).toHaveTextContent('2 events shown, more to load');
    await userEvent.setup().click(screen.getByTestId('activity-load-more'));
    await waitFor(() => expect(rows()).toHaveLength(3));
    expect(withoutFrom(queries(calls)[1])).toEqual({ limit: 100, cursor: 'c2' });
    expect(queries(calls)[1].from).toBe(queries(calls)[0].from);
    expect(rows()[2]).toHaveAttribute('data-event-id', 'e-older');
    expect(screen.queryByTestId('activity-load-more')).toBeNull();
  });

  it('an event opens in the details pane: the edit as before → after, the rest, user agent and id', async () => {
    renderActivity();
    await waitFor(() => expect(rows()).toHaveLength(3));
    const user = userEvent.setup();
    await user.click(rows()[0]);
    const detail = screen.getByTestId('activity-detail');
    expect(detail).toHaveAttribute('data-event-id', 'e-edit');
    const diff = within(detail).getByTestId('activity-diff');
    const cells = within(diff)
      .getAllByRole('row')
      .slice(1)
      .map((r) => [...r.querySelectorAll('th, td')].map((c) => c.textContent));
    expect(cells).toEqual([
      ['roles', 'Member', 'Member, Manager'],
      ['title', 'Agent', '—'],
    ]);
    expect(within(detail).getByTestId('activity-event-id')).toHaveTextContent('e-edit');
    expect(detail).toHaveTextContent(edit.user_agent);

    // The keyboard: ↓ moves, Enter opens; a failed sign-in shows its reason by label.
    screen.getByTestId('activity-list').focus();
    await user.keyboard('{ArrowDown}{Enter}');
    expect(detail).toHaveAttribute('data-event-id', 'e-failed');
    expect(within(detail).queryByTestId('activity-diff')).toBeNull();
    expect(within(detail).getByTestId('activity-detail-other')).toHaveTextContent('reason Unknown user');
    expect(within(detail).getByTestId('activity-detail-other')).toHaveTextContent('email nobody@acme.test');
    expect(within(detail).getByTestId('activity-detail-actor')).toHaveTextContent('Not signed in');
    expect(rows()[1]).toHaveAttribute('aria-selected', 'true');

    await user.keyboard('{ArrowDown}{Enter}');
    expect(within(detail).getByTestId('activity-detail-other')).toHaveTextContent('agent helpdesk-bot');
    expect(within(detail).getByTestId('activity-detail-other')).toHaveTextContent('tokens 812');
  });
});

describe('activity charts', () => {
  it('shows events per day and failed sign-ins per hour for the filter, and a bar narrows the range to its day', async () => {
    const dayStart = '2026-03-03T00:00:00Z'; // a Tuesday
    const { calls } = renderActivity({
      activity_histogram: (args) =>
        args.bucket === 'day' ? histogram('day', '2026-03-02T00:00:00Z', [4, 120, 7]) : histogram('hour', '2026-03-03T10:00:00Z', [0, 3, 1]),
    });
    const bars = await screen.findAllByTestId('chart-day-bar');
    expect(bars).toHaveLength(3);
    const tuesday = bars.find((b) => b.getAttribute('data-start') === dayStart)!;
    expect(tuesday).toHaveAttribute('aria-label', 'Tue 3 Mar: 120 events');
    expect(tuesday).toHaveAttribute('role', 'button');
    expect(screen.getByTestId('chart-day-total')).toHaveTextContent('131 events');
    expect(screen.getByTestId('chart-hour-total')).toHaveTextContent('4 failed sign-ins');
    expect(screen.getAllByTestId('chart-hour-bar')[1].getAttribute('aria-label')).toMatch(/^\w{3} \d{1,2} Mar \d\d:00: 3 failed sign-ins$/);

    // The day chart covers the list's range; the hour chart its last 48 hours, failed sign-ins only.
    const day = histograms(calls, 'day')[0];
    expect(Math.abs(ago(day.from) - 30 * DAY)).toBeLessThan(60_000);
    expect(Math.abs(ago(day.to))).toBeLessThan(60_000);
    const hour = histograms(calls, 'hour')[0];
    expect(hour.action).toBe('session.sign_in_failed');
    expect(Math.abs(ago(hour.from) - 48 * HOUR)).toBeLessThan(60_000);

    await userEvent.setup().click(tuesday);
    const nextDay = '2026-03-04T00:00:00Z';
    await waitFor(() => expect(lastQuery(calls)).toEqual({ from: dayStart, to: nextDay, limit: 100 }));
    await waitFor(() => expect(histograms(calls, 'day').at(-1)).toEqual({ from: dayStart, to: nextDay }));
    // Shorter than 48 hours: the hour chart shows all of it.
    expect(histograms(calls, 'hour').at(-1)).toEqual({ action: 'session.sign_in_failed', from: dayStart, to: nextDay });
    expect(screen.getByTestId('activity-chip-range')).toBeInTheDocument();
  });

  it('the keyboard moves between bars and Enter narrows to an hour; filtered-out failures are not charted', async () => {
    const { calls } = renderActivity({
      activity_histogram: (args) => (args.bucket === 'day' ? histogram('day', '2026-03-02T00:00:00Z', [1, 2]) : histogram('hour', '2026-03-03T10:00:00Z', [5, 0, 2])),
    });
    const bars = await screen.findAllByTestId('chart-hour-bar');
    // One tab stop per chart: the newest bar.
    expect(bars.map((b) => b.getAttribute('tabindex'))).toEqual(['-1', '-1', '0']);
    bars[2].focus();
    const user = userEvent.setup();
    await user.keyboard('{ArrowLeft}');
    expect(bars[1]).toHaveFocus();
    await user.keyboard('{Enter}');
    await waitFor(() => expect(lastQuery(calls)).toEqual({ from: '2026-03-03T11:00:00Z', to: '2026-03-03T12:00:00Z', limit: 100 }));

    await user.click(screen.getByTestId('activity-filter-action'));
    await user.click(screen.getByTestId('action-user.deactivated'));
    await waitFor(() => expect(screen.getByTestId('chart-hour')).toHaveTextContent('Failed sign-ins are not among the chosen actions.'));
    expect(histograms(calls, 'hour').every((q) => q.action === 'session.sign_in_failed')).toBe(true);
    expect(histograms(calls, 'day').at(-1)!.action).toBe('user.deactivated');
  });

  it('says when a range has no events', async () => {
    renderActivity();
    await waitFor(() => expect(screen.getByTestId('chart-day')).toHaveTextContent('No events in this range'));
    expect(screen.getByTestId('chart-day-total')).toHaveTextContent('0 events');
  });
});

function status(overrides: Partial<ActivityExportStatus> = {}): ActivityExportStatus {
  return { running: false, done: 0, total: null, path: null, error: null, cancelled: false, ...overrides };
}

describe('activity export', () => {
  it('a cancelled Save dialog does nothing', async () => {
    const { calls } = renderActivity({ start_activity_export: () => null });
    await waitFor(() => expect(rows()).toHaveLength(3));
    await userEvent.setup().click(screen.getByTestId('activity-export'));
    await waitFor(() => expect(callsOf(calls, 'start_activity_export')).toHaveLength(1));
    await new Promise((r) => setTimeout(r, 400));
    expect(screen.queryByTestId('activity-export-progress')).toBeNull();
    expect(screen.queryByTestId('activity-export-done')).toBeNull();
    // Only the look at mount for an export already running; no polling.
    expect(callsOf(calls, 'activity_export_status')).toHaveLength(1);
  });

  it('exports the current filter with progress, then says where it saved', async () => {
    const answers = [status({ running: true, done: 50, total: 200 }), status({ running: false, done: 200, total: 200, path: '/home/riley/activity.csv' })];
    let polls = 0;
    const { calls } = renderActivity({
      start_activity_export: () => '/home/riley/activity.csv',
      activity_export_status: () => (polls++ === 0 ? status() : answers[Math.min(polls - 2, 1)]),
    });
    await waitFor(() => expect(rows()).toHaveLength(3));
    const user = userEvent.setup();
    await user.click(screen.getByTestId('activity-preset-7d'));
    await user.click(screen.getByTestId('activity-export'));
    const progress = await screen.findByTestId('activity-export-progress');
    await waitFor(() => expect(progress).toHaveTextContent('Exporting… 50 of 200 (25%)'));
    expect(progress.querySelector('progress')).toHaveAttribute('value', '50');
    expect(screen.getByTestId('activity-export')).toBeDisabled();
    expect(await screen.findByTestId('activity-export-done')).toHaveTextContent('Saved 200 events to /home/riley/activity.csv');
    const query = callsOf(calls, 'start_activity_export')[0].args.query as AuditEventQuery;
    expect(Object.keys(query)).toEqual(['from']);
    expect(query.from).toBe(lastQuery(calls).from);
    expect(Math.abs(ago(query.from) - 7 * DAY)).toBeLessThan(60_000);
  });

  it('shows an indeterminate bar without a total, cancels, and shows an error', async () => {
    let current = status();
    const { calls } = renderActivity({
      start_activity_export: () => '/tmp/a.csv',
      activity_export_status: () => current,
      cancel_activity_export: () => {
        current = status({ done: 10, cancelled: true });
        return null;
      },
    });
    await waitFor(() => expect(rows()).toHaveLength(3));
    current = status({ running: true, done: 10 });
    const user = userEvent.setup();
    await user.click(screen.getByTestId('activity-export'));
    const progress = await screen.findByTestId('activity-export-progress');
    await waitFor(() => expect(progress).toHaveTextContent('Exporting… 10 events'));
    expect(progress.querySelector('progress')).not.toHaveAttribute('value');
    await user.click(screen.getByTestId('activity-export-cancel'));
    expect(await screen.findByTestId('activity-export-cancelled')).toHaveTextContent('Export cancelled.');
    expect(callsOf(calls, 'cancel_activity_export')).toHaveLength(1);

    current = status({ running: true, done: 0, total: 5 });
    await user.click(screen.getByTestId('activity-export'));
    await screen.findByTestId('activity-export-progress');
    current = status({ error: 'Could not write /tmp/a.csv: disk full' });
    expect(await screen.findByTestId('activity-export-error')).toHaveTextContent('Export failed: Could not write /tmp/a.csv: disk full');
  });

  it('stops asking how the export goes once the page is closed', async () => {
    const { calls, unmount } = renderActivity({
      start_activity_export: () => '/tmp/a.csv',
      activity_export_status: () => status({ running: true, done: 1, total: 100 }),
    });
    await waitFor(() => expect(rows()).toHaveLength(3));
    await userEvent.setup().click(screen.getByTestId('activity-export'));
    await screen.findByTestId('activity-export-progress');
    unmount();
    const asked = callsOf(calls, 'activity_export_status').length;
    await new Promise((r) => setTimeout(r, 700));
    expect(callsOf(calls, 'activity_export_status')).toHaveLength(asked);
  });
});

describe('activity offline', () => {
  it('says how many days this computer keeps, and that older events need a connection', async () => {
    renderActivity({
      activity: () => activityPage([edit], { offline: true, window_start: new Date(Date.now() - 14 * DAY).toISOString(), beyond_window: true }),
    });
    const banner = await screen.findByTestId('activity-offline-banner');
    expect(banner).toHaveTextContent('Offline — showing the last 14 days cached on this computer. Older events need a connection to the server.');
    expect(screen.getByTestId('activity-beyond-window')).toHaveTextContent('Older events need a connection to the server.');
    expect(screen.queryByTestId('activity-load-more')).toBeNull();
  });

  it('online, shows no banner', async () => {
    renderActivity();
    await waitFor(() => expect(rows()).toHaveLength(3));
    expect(screen.queryByTestId('activity-offline-banner')).toBeNull();
    expect(screen.queryByTestId('activity-beyond-window')).toBeNull();
  });
});
