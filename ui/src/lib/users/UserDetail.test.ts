// The user panel's force logout (SPEC S2, S3, C3) — confirmed with the server's time,
// or queued and plainly NOT yet effective, also after reopening — and its Sessions and
// Login attempts tabs, read only when opened; Reset password, Reset MFA and Unlock
// sign-in, which go straight to the server.
import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { SESSION, confirmedLogout, ipcError, logoutEntry, makeAttempt, makeSession, makeUser, page, queuedLogout, syncStatus, todayAt } from '../../test/fixtures';
import { callsOf, mockCommands } from '../../test/ipc';
import type { LogoutStatus, SessionInfo } from '../bindings';
import UsersPage from './UsersPage.svelte';

type Handlers = Record<string, (args: Record<string, unknown>) => unknown>;

const IT: SessionInfo = { ...SESSION, permissions: ['users.read', 'users.manage', 'sessions.revoke', 'audit.read'] };
const dana = makeUser({ id: 'u-dana', first_name: 'Dana', last_name: 'Scully', display_name: 'Dana Scully', email: 'dana@acme.test' });
const fox = makeUser({ id: 'u-fox', first_name: 'Fox', last_name: 'Mulder', display_name: 'Fox Mulder', email: 'fox@acme.test' });
const me = makeUser({ id: SESSION.user_id, first_name: 'Olivia', last_name: 'Owner', display_name: 'Olivia Owner', email: SESSION.email });

function hms(iso: string): string {
  const d = new Date(iso);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

function renderPage(handlers: Handlers = {}, session: SessionInfo = IT) {
  const calls = mockCommands({ list_users: () => page([dana, fox, me]), ...handlers });
  render(UsersPage, { props: { session, onSessionEnded: vi.fn(), onSignedOut: vi.fn() } });
  return calls;
}

async function open(name: string) {
  const user = userEvent.setup();
  const row = (await screen.findAllByTestId('user-row')).find((r) => r.textContent?.includes(name));
  await user.click(within(row!).getByText(name));
  return { user, panel: await screen.findByTestId('user-detail') };
}

describe('force logout from the user panel', () => {
  it('asks first, Enter confirms, then shows the time the server confirmed', async () => {
    const at = todayAt(9, 16, 7);
    const calls = renderPage({ force_logout: (args) => confirmedLogout(args.userId as string, at, 3) });
    const { user, panel } = await open('Dana Scully');
    await user.click(within(panel).getByTestId('force-logout'));
    const dialog = await screen.findByTestId('force-logout-dialog');
    expect(dialog).toHaveTextContent('Every session of Dana Scully ends at its next request');
    expect(callsOf(calls, 'force_logout')).toHaveLength(0);
    expect(within(dialog).getByTestId('confirm-force-logout')).toHaveFocus();
    await user.keyboard('{Enter}');

    const status = await within(panel).findByTestId('logout-status');
    expect(status).toHaveTextContent(`Signed out everywhere · confirmed ${hms(at)} (3 sessions)`);
    expect(within(panel).queryByTestId('logout-not-effective')).toBeNull();
    expect(callsOf(calls, 'force_logout').map((c) => c.args)).toEqual([{ userId: 'u-dana', suspendApiKeys: false }]);
  });

  it('can suspend the user\'s API keys too, when ticked', async () => {
    const at = todayAt(9, 16, 7);
    const calls = renderPage({ force_logout: (args) => confirmedLogout(args.userId as string, at, 3) });
    const { user, panel } = await open('Dana Scully');
    await user.click(within(panel).getByTestId('force-logout'));
    const dialog = await screen.findByTestId('force-logout-dialog');
    const tick = within(dialog).getByTestId('force-logout-suspend-keys');
    expect(tick).not.toBeChecked();
    await user.click(tick);
    await user.click(within(dialog).getByTestId('confirm-force-logout'));
    await within(panel).findByTestId('logout-status');
    expect(callsOf(calls, 'force_logout').map((c) => c.args)).toEqual([{ userId: 'u-dana', suspendApiKeys: true }]);
    // Asked afresh the next time.
    await user.click(within(panel).getByTestId('force-logout'));
    expect(within(await screen.findByTestId('force-logout-dialog')).getByTestId('force-logout-suspend-keys')).not.toBeChecked();
  });

  it('offline, says in red that it is not yet effective — also after closing and reopening', async () => {
    let status: LogoutStatus = { user_id: 'u-dana', queued: null, confirmed: null };
    const calls = renderPage({
      force_logout: () => (status = queuedLogout('u-dana', 'Dana Scully')),
      logout_status: () => status,
    });
    const { user, panel } = await open('Dana Scully');
    await user.click(within(panel).getByTestId('force-logout'));
    await user.click(await screen.findByTestId('confirm-force-logout'));
    expect(await within(panel).findByTestId('logout-not-effective')).toHaveTextContent('Force logout queued — not yet effective');
    expect(within(panel).getByTestId('logout-status')).not.toHaveTextContent('Signed out everywhere');

    await user.click(within(panel).getByTestId('detail-close'));
    await waitFor(() => expect(screen.queryByTestId('user-detail')).toBeNull());
    const again = await open('Dana Scully');
    expect(await within(again.panel).findByTestId('logout-not-effective')).toBeInTheDocument();
    expect(callsOf(calls, 'logout_status').map((c) => c.args)).toContainEqual({ userId: 'u-dana' });
  });

  it("a refused force logout shows the server's reason, not a success", async () => {
    const refused = { ...queuedLogout('u-dana', 'Dana Scully') };
    refused.queued = logoutEntry('u-dana', 'Dana Scully', { state: 'failed', last_error: 'Dana Scully holds org.settings, which you do not have.' });
    renderPage({ force_logout: () => refused });
    const { user, panel } = await open('Dana Scully');
    await user.click(within(panel).getByTestId('force-logout'));
    await user.click(await screen.findByTestId('confirm-force-logout'));
    const status = await within(panel).findByTestId('logout-status');
    expect(status).toHaveTextContent('Force logout refused: Dana Scully holds org.settings');
    expect(status).toHaveAttribute('data-kind', 'failed');
  });

  it('is not offered for yourself', async () => {
    renderPage();
    const { user, panel } = await open('Olivia Owner');
    expect(within(panel).queryByTestId('force-logout')).toBeNull();
    await user.click(within(panel).getByTestId('detail-close'));
    const other = await open('Dana Scully');
    expect(within(other.panel).getByTestId('force-logout')).toBeInTheDocument();
  });

  it('is not offered without sessions.revoke, and then no tabs either', async () => {
    const calls = renderPage({}, { ...SESSION, permissions: ['users.read', 'users.manage'] });
    const { panel } = await open('Dana Scully');
    expect(within(panel).queryByTestId('force-logout')).toBeNull();
    expect(within(panel).queryByTestId('tab-sessions')).toBeNull();
    expect(within(panel).queryByTestId('tab-attempts')).toBeNull();
    expect(callsOf(calls, 'logout_status')).toHaveLength(0);
  });
});

describe('the user panel tabs', () => {
  it("reads the user's sessions and login attempts only when their tab opens", async () => {
    const calls = renderPage({
      user_sessions: () => ({ items: [makeSession({ id: 's-1', user_id: 'u-dana', device: 'Safari on iOS' })], next_cursor: null }),
      login_attempts: () => ({ items: [makeAttempt({ id: 5, user_id: 'u-dana', email: 'dana@acme.test', reason: 'mfa_failed' })], next_cursor: null }),
    });
    const { user, panel } = await open('Dana Scully');
    expect(within(panel).getByTestId('tab-profile')).toHaveAttribute('aria-selected', 'true');
    expect(callsOf(calls, 'user_sessions')).toHaveLength(0);
    expect(callsOf(calls, 'login_attempts')).toHaveLength(0);

    await user.click(within(panel).getByTestId('tab-sessions'));
    expect(await within(panel).findByTestId('user-session-row')).toHaveTextContent('Safari on iOS');
    expect(callsOf(calls, 'user_sessions').map((c) => c.args)).toEqual([{ userId: 'u-dana', query: { state: 'all', limit: 50 } }]);
    expect(callsOf(calls, 'login_attempts')).toHaveLength(0);

    await user.click(within(panel).getByTestId('tab-attempts'));
    expect(await within(panel).findByTestId('user-attempt-row')).toHaveTextContent('MFA failed');
    expect(callsOf(calls, 'login_attempts').map((c) => c.args.query)).toEqual([{ user_id: 'u-dana', limit: 50 }]);

    // The full page, filtered to Dana.
    await user.click(within(panel).getByTestId('open-attempts-page'));
    expect(await screen.findByTestId('attempts-user-filter')).toHaveTextContent('User: Dana Scully');
    expect(screen.getByTestId('nav-attempts')).toHaveAttribute('aria-current', 'page');
    await waitFor(() => expect(callsOf(calls, 'login_attempts')).toHaveLength(2));
    expect(callsOf(calls, 'login_attempts')[1].args.query).toEqual({ user_id: 'u-dana', limit: 50 });
  });

  it('offline, a tab says so instead of an empty list', async () => {
    renderPage({
      user_sessions: () => {
        throw ipcError('unreachable', 'Cannot reach server');
      },
    });
    const { user, panel } = await open('Dana Scully');
    await user.click(within(panel).getByTestId('tab-sessions'));
    expect(await within(panel).findByTestId('user-sessions-error')).toHaveTextContent('Offline');
    expect(within(panel).queryByTestId('user-sessions-empty')).toBeNull();
  });
});

describe('a queued force logout in Changes', () => {
  it('is labelled Force logout and, while pending, says it is not yet effective', async () => {
    renderPage({ outbox: () => [logoutEntry('u-dana', 'Dana Scully')], sync_status: () => syncStatus({ pending: 1 }) });
    await userEvent.setup().click(await screen.findByTestId('outbox-button'));
    const entry = await screen.findByTestId('outbox-entry');
    expect(within(entry).getByTestId('outbox-action')).toHaveTextContent('Force logout');
    expect(within(entry).getByTestId('logout-not-effective')).toHaveTextContent(
      "Not yet effective — the user's sessions still work until the server confirms",
    );
  });

  it('once refused, no longer claims to be on its way', async () => {
    renderPage({ outbox: () => [logoutEntry('u-dana', 'Dana Scully', { state: 'failed', last_error: 'Refused' })] });
    await userEvent.setup().click(await screen.findByTestId('outbox-button'));
    const entry = await screen.findByTestId('outbox-entry');
    expect(within(entry).getByTestId('outbox-error')).toHaveTextContent('Refused');
    expect(within(entry).queryByTestId('logout-not-effective')).toBeNull();
  });
});

function hm(iso: string): string {
  const d = new Date(iso);
  return [d.getHours(), d.getMinutes()].map((n) => String(n).padStart(2, '0')).join(':');
}

describe('reset password and reset MFA from the user panel', () => {
  const kim = makeUser({ id: 'u-kim', first_name: 'Kim', last_name: 'Lee', display_name: 'Kim Lee', email: 'kim@acme.test', mfa_enabled: true });
  const pat = makeUser({ id: 'u-pat', first_name: 'Pat', last_name: 'Pending', display_name: 'Pat Pending', email: 'pat@acme.test', status: 'pending' });
  const withKim = (handlers: Handlers = {}, session: SessionInfo = IT) =>
    renderPage({ list_users: () => page([dana, kim, pat, me]), ...handlers }, session);

  it('asks first, then says where the link went and until when it works', async () => {
    const expires = todayAt(10, 16, 7);
    const calls = withKim({ reset_password: (a) => ({ user_id: a.userId, sent_to: 'kim@acme.test', expires_at: expires }) });
    const { user, panel } = await open('Kim Lee');
    await user.click(within(panel).getByTestId('reset-password'));
    const dialog = await screen.findByTestId('reset-password-dialog');
    expect(dialog).toHaveTextContent(
      'Gatehouse e-mails kim@acme.test a link to choose a new password. The link works once and expires (after an hour, unless the server is set otherwise); their current password keeps working until they use it.',
    );
    expect(within(dialog).getByTestId('confirm-reset-password')).toHaveFocus();
    expect(callsOf(calls, 'reset_password')).toHaveLength(0);
    await user.keyboard('{Enter}');

    const result = await within(panel).findByTestId('reset-password-result');
    expect(result).toHaveTextContent(`Reset link sent to kim@acme.test; it works until ${hm(expires)}.`);
    expect(result).toHaveAttribute('role', 'status');
    expect(screen.queryByTestId('reset-password-dialog')).toBeNull();
    expect(callsOf(calls, 'reset_password').map((c) => c.args)).toEqual([{ userId: 'u-kim', suspendApiKeys: false }]);
  });

  it('can suspend their API keys with the reset, and says how many', async () => {
    const expires = todayAt(10, 16, 7);
    const calls = withKim({ reset_password: (a) => ({ user_id: a.userId, sent_to: 'kim@acme.test', expires_at: expires, api_keys_suspended: 2 }) });
    const { user, panel } = await open('Kim Lee');
    await user.click(within(panel).getByTestId('reset-password'));
    const dialog = await screen.findByTestId('reset-password-dialog');
    await user.click(within(dialog).getByTestId('reset-password-suspend-keys'));
    await user.click(within(dialog).getByTestId('confirm-reset-password'));
    const result = await within(panel).findByTestId('reset-password-result');
    expect(result).toHaveTextContent(`Reset link sent to kim@acme.test; it works until ${hm(expires)}. 2 API keys suspended.`);
    expect(callsOf(calls, 'reset_password').map((c) => c.args)).toEqual([{ userId: 'u-kim', suspendApiKeys: true }]);
  });

  it('Escape and Cancel send nothing', async () => {
    const calls = withKim();
    const { user, panel } = await open('Kim Lee');
    await user.click(within(panel).getByTestId('reset-password'));
    await screen.findByTestId('reset-password-dialog');
    await user.keyboard('{Escape}');
    await waitFor(() => expect(screen.queryByTestId('reset-password-dialog')).toBeNull());
    // The panel stays open: Escape closed only the dialog.
    expect(screen.getByTestId('user-detail')).toBeInTheDocument();
    await user.click(within(panel).getByTestId('reset-mfa'));
    await user.click(within(await screen.findByTestId('reset-mfa-dialog')).getByText('Cancel'));
    expect(callsOf(calls, 'reset_password')).toHaveLength(0);
    expect(callsOf(calls, 'reset_mfa')).toHaveLength(0);
  });

  it('Reset MFA shows Not enrolled at once, from the answer', async () => {
    const calls = withKim({ reset_mfa: (a) => ({ ...kim, id: a.userId as string, mfa_enabled: false }) });
    const { user, panel } = await open('Kim Lee');
    expect(within(panel).getByTestId('detail-mfa')).toHaveTextContent('Enrolled');
    await user.click(within(panel).getByTestId('reset-mfa'));
    const dialog = await screen.findByTestId('reset-mfa-dialog');
    expect(dialog).toHaveTextContent(
      "Kim Lee's authenticator app and trusted devices stop working. They set up MFA again — at their next sign-in if your organization requires it.",
    );
    expect(within(dialog).getByTestId('confirm-reset-mfa')).toHaveFocus();
    await user.click(within(dialog).getByTestId('confirm-reset-mfa'));

    expect(await within(panel).findByTestId('reset-mfa-result')).toHaveTextContent('MFA reset.');
    // The local copy still says enrolled until the next sync; the panel does not.
    expect(within(panel).getByTestId('detail-mfa')).toHaveTextContent('Not enrolled');
    expect(within(panel).queryByTestId('reset-mfa')).toBeNull();
    expect(callsOf(calls, 'reset_mfa').map((c) => c.args)).toEqual([{ userId: 'u-kim' }]);
  });

  it('offline, shows why in the panel and no success', async () => {
    withKim({
      reset_password: () => {
        throw ipcError('unreachable', 'Cannot reach server at https://gatehouse.acme.test');
      },
      reset_mfa: () => {
        throw ipcError('unreachable', 'Cannot reach server at https://gatehouse.acme.test');
      },
    });
    const { user, panel } = await open('Kim Lee');
    await user.click(within(panel).getByTestId('reset-password'));
    await user.click(await screen.findByTestId('confirm-reset-password'));
    const error = await within(panel).findByTestId('detail-error');
    expect(error).toHaveTextContent('Resetting a password needs a connection to the server. Cannot reach server at https://gatehouse.acme.test');
    expect(within(panel).queryByTestId('reset-password-result')).toBeNull();

    await user.click(within(panel).getByTestId('reset-mfa'));
    await user.click(await screen.findByTestId('confirm-reset-mfa'));
    await waitFor(() => expect(within(panel).getByTestId('detail-error')).toHaveTextContent('Resetting MFA needs a connection'));
    expect(within(panel).getByTestId('detail-mfa')).toHaveTextContent('Enrolled');
    expect(within(panel).queryByTestId('reset-mfa-result')).toBeNull();
  });

  it('a refusal shows the server message', async () => {
    withKim({
      reset_password: () => {
        throw ipcError('forbidden', 'Kim Lee holds org.settings, which you do not have.');
      },
    });
    const { user, panel } = await open('Kim Lee');
    await user.click(within(panel).getByTestId('reset-password'));
    await user.click(await screen.findByTestId('confirm-reset-password'));
    expect(await within(panel).findByTestId('detail-error')).toHaveTextContent('Kim Lee holds org.settings, which you do not have.');
  });

  it('offers Reset password to active users and Reset MFA to enrolled ones, yourself included', async () => {
    withKim();
    const { user, panel } = await open('Dana Scully');
    expect(within(panel).getByTestId('reset-password')).toBeInTheDocument();
    expect(within(panel).queryByTestId('reset-mfa')).toBeNull();
    await user.click(within(panel).getByTestId('detail-close'));
    const pending = await open('Pat Pending');
    expect(within(pending.panel).queryByTestId('reset-password')).toBeNull();
    await user.click(within(pending.panel).getByTestId('detail-close'));
    const self = await open('Olivia Owner');
    expect(within(self.panel).getByTestId('reset-password')).toBeInTheDocument();
  });

  it('an invitee cannot be deactivated: the panel says to revoke the invitation', async () => {
    withKim();
    const { panel } = await open('Pat Pending');
    const deactivate = within(panel).getByTestId('detail-deactivate');
    expect(deactivate).toBeDisabled();
    expect(deactivate.parentElement).toHaveAttribute('title', 'Pat Pending has not joined yet; revoke their invitation under Invitations instead.');
  });

  it('are not offered without users.manage', async () => {
    withKim({}, { ...SESSION, permissions: ['users.read', 'sessions.revoke'] });
    const { panel } = await open('Kim Lee');
    expect(within(panel).getByTestId('force-logout')).toBeInTheDocument();
    expect(within(panel).queryByTestId('reset-password')).toBeNull();
    expect(within(panel).queryByTestId('reset-mfa')).toBeNull();
    expect(within(panel).queryByTestId('unlock-sign-in')).toBeNull();
  });
});

describe('unlock sign-in from the user panel', () => {
  const kim = makeUser({ id: 'u-kim', first_name: 'Kim', last_name: 'Lee', display_name: 'Kim Lee', email: 'kim@acme.test' });
  const withKim = (handlers: Handlers = {}) => renderPage({ list_users: () => page([dana, kim, me]), ...handlers });

  it('unlocks at one click, without a confirmation, and says when', async () => {
    const at = todayAt(9, 30, 0);
    const calls = withKim({ unlock_sign_in: (a) => ({ user_id: a.userId, email: 'kim@acme.test', unlocked_at: at }) });
    const { user, panel } = await open('Kim Lee');
    await user.click(within(panel).getByTestId('unlock-sign-in'));
    const result = await within(panel).findByTestId('unlock-result');
    expect(result).toHaveTextContent(`Sign-in unlocked at ${hm(at)}; kim@acme.test can sign in again.`);
    expect(result).toHaveAttribute('role', 'status');
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(callsOf(calls, 'unlock_sign_in').map((c) => c.args)).toEqual([{ userId: 'u-kim' }]);

    // The line is about Kim: another user's panel does not show it.
    await user.click(within(panel).getByTestId('detail-close'));
    const other = await open('Dana Scully');
    expect(within(other.panel).queryByTestId('unlock-result')).toBeNull();
  });

  it('offline or refused, says why and no success', async () => {
    let answer = ipcError('unreachable', 'Cannot reach server at https://gatehouse.acme.test');
    withKim({
      unlock_sign_in: () => {
        throw answer;
      },
    });
    const { user, panel } = await open('Kim Lee');
    await user.click(within(panel).getByTestId('unlock-sign-in'));
    expect(await within(panel).findByTestId('detail-error')).toHaveTextContent('Unlocking sign-in needs a connection to the server.');
    answer = ipcError('forbidden', 'Kim Lee is an Owner and you are not, so you cannot unlock their sign-in.');
    await user.click(within(panel).getByTestId('unlock-sign-in'));
    await waitFor(() => expect(within(panel).getByTestId('detail-error')).toHaveTextContent('so you cannot unlock their sign-in'));
    expect(within(panel).queryByTestId('unlock-result')).toBeNull();
  });
});

