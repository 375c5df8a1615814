// Changes to one's own account that the server takes only after the password is
// confirmed (step-up): a new e-mail (queued, then sent at once; refused, it is kept in
// Changes, where Retry asks for the password too) and an MFA reset. Someone else's
// e-mail is queued as any edit.
import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { SESSION, ipcError, makeUser, page, syncStatus } from '../../test/fixtures';
import { callsOf, mockCommands } from '../../test/ipc';
import type { OutboxEntry, SessionInfo } from '../bindings';
import UsersPage from './UsersPage.svelte';

type Handlers = Record<string, (args: Record<string, unknown>) => unknown>;

const me = makeUser({ id: SESSION.user_id, first_name: 'Olivia', last_name: 'Owner', display_name: 'Olivia Owner', email: SESSION.email, mfa_enabled: true });
const dana = makeUser({ id: 'u-dana', first_name: 'Dana', last_name: 'Scully', display_name: 'Dana Scully', email: 'dana@acme.test' });
const REFUSED = 'To change your e-mail, confirm your password (and authenticator code) first, then try again.';
const STEPPED_UP = { until: '2026-11-23T09:20:00Z' };

function ownEmailEntry(overrides: Partial<OutboxEntry> = {}): OutboxEntry {
  return {
    seq: 9,
    action: 'edit',
    user_id: SESSION.user_id,
    user_name: 'Olivia Owner',
    patch: { email: 'olivia@acme.test' },
    state: 'pending',
    attempts: 0,
    last_error: null,
    field_errors: [],
    conflicts: [],
    created_at: '2026-11-23T09:00:00.000Z',
    ...overrides,
  };
}

/** `send_change` refused for a step-up until `step_up` was called. */
function stepUpGate() {
  let confirmed = false;
  return {
    step_up: () => {
      confirmed = true;
      return STEPPED_UP;
    },
    send_change: () => {
      if (!confirmed) throw ipcError('step_up_required', REFUSED);
      return null;
    },
  };
}

function renderPage(handlers: Handlers = {}, session: SessionInfo = SESSION) {
  const calls = mockCommands({ list_users: () => page([dana, me]), update_user: () => ownEmailEntry(), ...handlers });
  render(UsersPage, { props: { session, onSessionEnded: vi.fn(), onSignedOut: vi.fn() } });
  return calls;
}

async function open(name: string) {
  const user = userEvent.setup();
  const row = (await screen.findAllByTestId('user-row')).find((r) => r.textContent?.includes(name));
  await user.click(within(row!).getByText(name));
  return { user, panel: await screen.findByTestId('user-detail') };
}

async function editEmail(name: string, email: string) {
  const { user, panel } = await open(name);
  await user.click(within(panel).getByTestId('detail-edit'));
  const dialog = await screen.findByTestId('edit-user-dialog');
  await user.clear(within(dialog).getByTestId('edit-email'));
  await user.type(within(dialog).getByTestId('edit-email'), email);
  return { user, dialog };
}

async function confirmPassword(user: ReturnType<typeof userEvent.setup>, password = 'pw') {
  const stepUp = await screen.findByTestId('step-up-dialog');
  await user.type(within(stepUp).getByTestId('step-up-password'), password);
  await user.click(within(stepUp).getByTestId('step-up-confirm'));
}

describe('changing your own e-mail', () => {
  it('is queued, sent at once, and asks for the password when the server wants it', async () => {
    const calls = renderPage(stepUpGate());
    const { user, dialog } = await editEmail('Olivia Owner', 'olivia@acme.test');
    expect(within(dialog).getByTestId('edit-own-email-hint')).toHaveTextContent('changed on the server at once, after you confirm your password');
    await user.click(within(dialog).getByTestId('edit-user-save'));

    await confirmPassword(user);
    await waitFor(() => expect(screen.queryByTestId('edit-user-dialog')).toBeNull());
    expect(callsOf(calls, 'update_user').map((c) => c.args)).toEqual([{ userId: SESSION.user_id, patch: { email: 'olivia@acme.test' } }]);
    expect(callsOf(calls, 'step_up').map((c) => c.args)).toEqual([{ password: 'pw', totp: null }]);
    expect(callsOf(calls, 'send_change').map((c) => c.args)).toEqual([{ seq: 9 }, { seq: 9 }]);
  });

  it('cancelled, is kept in Changes and says so; saving again sends the same change, not a second one', async () => {
    const calls = renderPage({ ...stepUpGate(), settle_change: () => null });
    const { user, dialog } = await editEmail('Olivia Owner', 'olivia@acme.test');
    await user.click(within(dialog).getByTestId('edit-user-save'));
    await screen.findByTestId('step-up-dialog');
    await user.click(within(screen.getByTestId('step-up-dialog')).getByText('Cancel'));

    const error = await within(dialog).findByTestId('edit-user-error');
    expect(error).toHaveTextContent(REFUSED);
    expect(error).toHaveTextContent('Your change is kept under Changes as refused');
    expect(screen.getByTestId('edit-user-dialog')).toBeInTheDocument();

    await user.click(within(dialog).getByTestId('edit-user-save'));
    await confirmPassword(user);
    await waitFor(() => expect(screen.queryByTestId('edit-user-dialog')).toBeNull());
    expect(callsOf(calls, 'update_user')).toHaveLength(1);
    expect(callsOf(calls, 'settle_change').map((c) => c.args)).toEqual([{ seq: 9, resolution: { action: 'edit', patch: { email: 'olivia@acme.test' } } }]);
    expect(callsOf(calls, 'send_change')).toHaveLength(3);
  });

  it("offline, stays queued; someone else's e-mail is queued as any edit", async () => {
    const calls = renderPage({ send_change: () => ownEmailEntry({ last_error: 'Cannot reach server', attempts: 1 }) });
    const own = await editEmail('Olivia Owner', 'olivia@acme.test');
    await own.user.click(within(own.dialog).getByTestId('edit-user-save'));
    await waitFor(() => expect(screen.queryByTestId('edit-user-dialog')).toBeNull());
    expect(screen.queryByTestId('step-up-dialog')).toBeNull();
    expect(callsOf(calls, 'send_change')).toHaveLength(1);

    await own.user.click(screen.getByTestId('detail-close'));
    const other = await editEmail('Dana Scully', 'dana.scully@acme.test');
    expect(within(other.dialog).queryByTestId('edit-own-email-hint')).toBeNull();
    await other.user.click(within(other.dialog).getByTestId('edit-user-save'));
    await waitFor(() => expect(screen.queryByTestId('edit-user-dialog')).toBeNull());
    expect(callsOf(calls, 'update_user').map((c) => c.args)[1]).toEqual({ userId: 'u-dana', patch: { email: 'dana.scully@acme.test' } });
    expect(callsOf(calls, 'send_change')).toHaveLength(1);
  });

  it('refused later by the sync, Retry in Changes asks for the password and sends it', async () => {
    let entries = [ownEmailEntry({ state: 'failed', attempts: 1, last_error: REFUSED })];
    const gate = stepUpGate();
    const calls = renderPage(
      {
        ...gate,
        outbox: () => entries,
        sync_status: () => syncStatus({ failed: entries.length }),
        send_change: () => {
          const answer = gate.send_change();
          entries = [];
          return answer;
        },
      },
      { ...SESSION, mfa_enabled: true },
    );
    const user = userEvent.setup();
    await user.click(await screen.findByTestId('outbox-button'));
    const entry = await screen.findByTestId('outbox-entry');
    expect(within(entry).getByTestId('outbox-error')).toHaveTextContent(REFUSED);
    await user.click(within(entry).getByTestId('retry-change'));

    const stepUp = await screen.findByTestId('step-up-dialog');
    expect(within(stepUp).getByTestId('step-up-reason')).toHaveTextContent('To change your e-mail, enter your password and the code from your authenticator app again.');
    await user.type(within(stepUp).getByTestId('step-up-password'), 'pw');
    await user.type(within(stepUp).getByTestId('step-up-totp'), '123456');
    await user.click(within(stepUp).getByTestId('step-up-confirm'));
    expect(await screen.findByTestId('outbox-empty')).toBeInTheDocument();
    expect(callsOf(calls, 'step_up').map((c) => c.args)).toEqual([{ password: 'pw', totp: '123456' }]);
    expect(callsOf(calls, 'send_change').map((c) => c.args)).toEqual([{ seq: 9 }, { seq: 9 }]);
  });
});

describe('resetting your own MFA', () => {
  it('asks for the password and code, then resets', async () => {
    let confirmed = false;
    const calls = renderPage(
      {
        reset_mfa: (a) => {
          if (!confirmed) throw ipcError('step_up_required', 'To reset your MFA, confirm your password (and authenticator code) first, then try again.');
          return { ...me, id: a.userId as string, mfa_enabled: false };
        },
        step_up: () => {
          confirmed = true;
          return STEPPED_UP;
        },
      },
      { ...SESSION, mfa_enabled: true },
    );
    const { user, panel } = await open('Olivia Owner');
    await user.click(within(panel).getByTestId('reset-mfa'));
    await user.click(within(await screen.findByTestId('reset-mfa-dialog')).getByTestId('confirm-reset-mfa'));
    const stepUp = await screen.findByTestId('step-up-dialog');
    expect(within(stepUp).getByTestId('step-up-reason')).toHaveTextContent('To reset your MFA, enter your password and the code');
    await user.type(within(stepUp).getByTestId('step-up-password'), 'pw');
    await user.type(within(stepUp).getByTestId('step-up-totp'), '654321');
    await user.click(within(stepUp).getByTestId('step-up-confirm'));

    expect(await within(panel).findByTestId('reset-mfa-result')).toHaveTextContent('MFA reset.');
    expect(within(panel).getByTestId('detail-mfa')).toHaveTextContent('Not enrolled');
    expect(callsOf(calls, 'reset_mfa').map((c) => c.args)).toEqual([{ userId: SESSION.user_id }, { userId: SESSION.user_id }]);
    expect(callsOf(calls, 'step_up').map((c) => c.args)).toEqual([{ password: 'pw', totp: '654321' }]);
  });
});
