// Login attempts (SPEC S4, S5): every filter reaches `login_attempts` as the server's
// query (times from local to UTC), rows read as the admin expects, paging, and a page
// opened for one user.
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { ipcError, makeAttempt } from '../../test/fixtures';
import { callsOf, mockCommands } from '../../test/ipc';
import type { LoginAttemptPage } from '../bindings';
import { failureLabel, localToUtc } from './format';
import LoginAttemptsPage from './LoginAttemptsPage.svelte';

function last<T>(items: T[]): T | undefined {
  return items[items.length - 1];
}

const NOW = new Date('2026-11-23T09:20:00Z');
const failed = makeAttempt({ id: 12, email: 'dana@acme.test', user_id: 'u-dana', user_name: 'Dana Scully', reason: 'locked', ip: '198.51.100.7' });
const ok = makeAttempt({ id: 11, email: 'fox@acme.test', user_id: 'u-fox', user_name: 'Fox Mulder', result: 'success', reason: null, device: 'Firefox on Linux' });
const stranger = makeAttempt({ id: 10, email: 'nobody@acme.test', user_id: null, user_name: null, reason: 'unknown_user' });

function answer(items = [failed, ok, stranger], next_cursor: string | null = null): LoginAttemptPage {
  return { items, next_cursor };
}

function renderAttempts(handlers: Record<string, (args: Record<string, unknown>) => unknown> = {}, user: { id: string; name: string } | null = null) {
  const calls = mockCommands({ login_attempts: () => answer(), ...handlers });
  render(LoginAttemptsPage, { props: { now: NOW, user, onSessionEnded: vi.fn() } });
  return calls;
}

const queries = (calls: { cmd: string; args: Record<string, unknown> }[]) => callsOf(calls, 'login_attempts').map((c) => c.args.query);
const rows = () => screen.queryAllByTestId('attempt-row');

describe('login attempts', () => {
  it('shows time, e-mail and user, IP, device, result and reason', async () => {
    renderAttempts();
    await waitFor(() => expect(rows()).toHaveLength(3));
    const cells = (i: number) =>
      within(rows()[i])
        .getAllByRole('cell')
        .map((c) => c.textContent?.replace(/\s+/g, ' ').trim());
    const stamp = new Date(failed.at).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
    expect(cells(0)).toEqual([stamp, 'dana@acme.test Dana Scully', '198.51.100.7', 'Chrome on Windows', 'Failed', 'Account locked']);
    expect(cells(1).slice(1)).toEqual(['fox@acme.test Fox Mulder', '198.51.100.7', 'Firefox on Linux', 'Success', '']);
    expect(cells(2)[1]).toBe('nobody@acme.test No such user');
    expect(cells(2)[5]).toBe('Unknown user');
    expect(rows()[0]).toHaveAttribute('data-result', 'failure');
  });

  it('sends each filter to login_attempts, with the time range in UTC', async () => {
    const calls = renderAttempts();
    await waitFor(() => expect(queries(calls)).toEqual([{ limit: 50 }]));
    const user = userEvent.setup();

    await user.selectOptions(screen.getByTestId('attempts-result'), 'failure');
    await waitFor(() => expect(last(queries(calls))).toEqual({ result: 'failure', limit: 50 }));
    await user.selectOptions(screen.getByTestId('attempts-reason'), 'rate_limited');
    await waitFor(() => expect(last(queries(calls))).toEqual({ result: 'failure', reason: 'rate_limited', limit: 50 }));

    const before = queries(calls).length;
    await user.type(screen.getByTestId('attempts-email'), 'dana');
    await user.type(screen.getByTestId('attempts-ip'), '198.51.100.7');
    // Debounced: one query for both boxes, not one per keystroke.
    await waitFor(() => expect(last(queries(calls))).toMatchObject({ email: 'dana', ip: '198.51.100.7' }));
    expect(queries(calls).length).toBe(before + 1);

    await fireEvent.change(screen.getByTestId('attempts-from'), { target: { value: '2026-11-20T08:30' } });
    await fireEvent.change(screen.getByTestId('attempts-to'), { target: { value: '2026-11-21T17:45' } });
    await waitFor(() =>
      expect(last(queries(calls))).toEqual({
        result: 'failure',
        reason: 'rate_limited',
        email: 'dana',
        ip: '198.51.100.7',
        from: new Date(2026, 10, 20, 8, 30).toISOString().replace('.000Z', 'Z'),
        to: new Date(2026, 10, 21, 17, 45).toISOString().replace('.000Z', 'Z'),
        limit: 50,
      }),
    );

    await user.click(screen.getByTestId('attempts-clear'));
    await waitFor(() => expect(last(queries(calls))).toEqual({ limit: 50 }));
    expect(screen.getByTestId('attempts-email')).toHaveValue('');
  });

  it('loads more with the cursor', async () => {
    const older = makeAttempt({ id: 3 });
    const calls = renderAttempts({
      login_attempts: (args) => ((args.query as { cursor?: string }).cursor === 'a2' ? answer([older]) : answer([failed, ok], 'a2')),
    });
    await waitFor(() => expect(rows()).toHaveLength(2));
    await userEvent.setup().click(screen.getByTestId('attempts-more'));
    await waitFor(() => expect(rows()).toHaveLength(3));
    expect(queries(calls)[1]).toEqual({ limit: 50, cursor: 'a2' });
  });

  it("opened for one user, asks for that user's attempts until the filter is cleared", async () => {
    const calls = renderAttempts({}, { id: 'u-dana', name: 'Dana Scully' });
    await waitFor(() => expect(queries(calls)).toEqual([{ user_id: 'u-dana', limit: 50 }]));
    expect(screen.getByTestId('attempts-user-filter')).toHaveTextContent('User: Dana Scully');
    await userEvent.setup().click(screen.getByTestId('attempts-user-clear'));
    await waitFor(() => expect(last(queries(calls))).toEqual({ limit: 50 }));
    expect(screen.queryByTestId('attempts-user-filter')).toBeNull();
  });

  it('offline: keeps the rows shown and retries', async () => {
    let online = true;
    const calls = renderAttempts({
      login_attempts: () => {
        if (!online) throw ipcError('unreachable', 'Cannot reach server');
        return answer();
      },
    });
    await waitFor(() => expect(rows()).toHaveLength(3));
    online = false;
    await userEvent.setup().selectOptions(screen.getByTestId('attempts-result'), 'success');
    expect(await screen.findByTestId('attempts-error')).toHaveTextContent('Offline');
    expect(rows()).toHaveLength(3);
    online = true;
    await userEvent.setup().click(screen.getByTestId('attempts-retry'));
    await waitFor(() => expect(screen.queryByTestId('attempts-error')).toBeNull());
    expect(last(queries(calls))).toEqual({ result: 'success', limit: 50 });
  });
});

describe('attempt helpers', () => {
  it('reads a datetime-local value as local time and writes RFC 3339 UTC', () => {
    expect(localToUtc('2026-11-20T08:30')).toBe(new Date(2026, 10, 20, 8, 30).toISOString().replace('.000Z', 'Z'));
    expect(localToUtc('2026-11-20T08:30')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    // Away from UTC, so the conversion shows (this machine's zone may well be UTC).
    vi.stubEnv('TZ', 'America/New_York');
    try {
      expect(localToUtc('2026-11-20T08:30')).toBe('2026-11-20T13:30:00Z');
      expect(localToUtc('2026-07-01T23:15')).toBe('2026-07-02T03:15:00Z');
    } finally {
      vi.unstubAllEnvs();
    }
    expect(localToUtc('')).toBeUndefined();
    expect(localToUtc('not a time')).toBeUndefined();
  });

  it('labels failure reasons from the server, and an unknown one as itself', () => {
    expect(failureLabel('bad_password')).toBe('Wrong password');
    expect(failureLabel('something_new')).toBe('something_new');
    expect(failureLabel(null)).toBe('');
  });
});
