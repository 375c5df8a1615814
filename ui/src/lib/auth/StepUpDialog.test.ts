// The password confirmation (step-up): asked only when the server answers
// `step_up_required`, with the authenticator code when the account has one or the server
// asks for it, the server's refusals shown on their field, and the action tried once more
// on success — or not at all when cancelled.
import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { ipcError } from '../../test/fixtures';
import { callsOf, mockCommands } from '../../test/ipc';
import StepUpDialog from './StepUpDialog.svelte';
import { StepUp } from './stepup.svelte';

type Handlers = Record<string, (args: Record<string, unknown>) => unknown>;

function setup(handlers: Handlers = {}, mfa = false) {
  const calls = mockCommands(handlers);
  const stepUp = new StepUp();
  render(StepUpDialog, { props: { stepUp, mfa } });
  return { calls, stepUp, user: userEvent.setup() };
}

const REFUSED = ipcError('step_up_required', 'To reset your MFA, confirm your password (and authenticator code) first, then try again.');

/** An action refused for a step-up the first `refusals` times, then done. */
function action(refusals = 1) {
  let left = refusals;
  return vi.fn(async () => {
    if (left-- > 0) throw REFUSED;
    return 'done';
  });
}

describe('the step-up dialog', () => {
  it('is not shown for an action the server takes, nor for another refusal', async () => {
    const { stepUp } = setup();
    await expect(stepUp.run(async () => 42)).resolves.toBe(42);
    const forbidden = ipcError('forbidden', 'No.');
    await expect(
      stepUp.run(async () => {
        throw forbidden;
      }),
    ).rejects.toEqual(forbidden);
    expect(screen.queryByTestId('step-up-dialog')).toBeNull();
  });

  it('asks for the code too when the account has MFA, and sends both', async () => {
    const { calls, stepUp, user } = setup({ step_up: () => ({ until: '2026-11-23T09:20:00Z' }) }, true);
    const reset = action();
    const done = stepUp.run(reset, 'reset your MFA');
    const dialog = await screen.findByTestId('step-up-dialog');
    expect(within(dialog).getByTestId('step-up-reason')).toHaveTextContent(
      'To reset your MFA, enter your password and the code from your authenticator app again.',
    );
    // Nothing goes out without a password.
    await user.click(within(dialog).getByTestId('step-up-confirm'));
    expect(within(dialog).getByTestId('step-up-password-error')).toHaveTextContent('Enter your password.');
    expect(callsOf(calls, 'step_up')).toHaveLength(0);

    await user.type(within(dialog).getByTestId('step-up-password'), 'pw');
    await user.type(within(dialog).getByTestId('step-up-totp'), '123456');
    await user.click(within(dialog).getByTestId('step-up-confirm'));
    await expect(done).resolves.toBe('done');
    expect(callsOf(calls, 'step_up').map((c) => c.args)).toEqual([{ password: 'pw', totp: '123456' }]);
    expect(reset).toHaveBeenCalledTimes(2);
    await waitFor(() => expect(screen.queryByTestId('step-up-dialog')).toBeNull());
  });

  it('shows the code field when the server asks for it, and a wrong code on it', async () => {
    const answers: (() => unknown)[] = [
      () => {
        throw ipcError('mfa_required', 'Enter the code from your authenticator app.');
      },
      () => {
        throw ipcError('invalid_input', 'That code is wrong or was already used.', 'totp');
      },
      () => ({ until: '2026-11-23T09:20:00Z' }),
    ];
    const { calls, stepUp, user } = setup({ step_up: () => answers.shift()!() });
    const done = stepUp.run(action());
    const dialog = await screen.findByTestId('step-up-dialog');
    expect(within(dialog).queryByTestId('step-up-totp')).toBeNull();
    await user.type(within(dialog).getByTestId('step-up-password'), 'pw');
    await user.click(within(dialog).getByTestId('step-up-confirm'));

    const code = await within(dialog).findByTestId('step-up-totp');
    expect(within(dialog).getByTestId('step-up-totp-error')).toHaveTextContent('Enter the code from your authenticator app.');
    await waitFor(() => expect(code).toHaveFocus());
    await user.type(code, '000000');
    await user.click(within(dialog).getByTestId('step-up-confirm'));
    expect(await within(dialog).findByTestId('step-up-totp-error')).toHaveTextContent('That code is wrong or was already used.');

    await user.clear(code);
    await user.type(code, '123456');
    await user.click(within(dialog).getByTestId('step-up-confirm'));
    await expect(done).resolves.toBe('done');
    expect(callsOf(calls, 'step_up').map((c) => c.args)).toEqual([
      { password: 'pw', totp: null },
      { password: 'pw', totp: '000000' },
      { password: 'pw', totp: '123456' },
    ]);
  });

  it('offline or locked, says so in the dialog and keeps it open', async () => {
    const { stepUp, user } = setup({
      step_up: () => {
        throw ipcError('unreachable', 'Cannot reach server at https://gatehouse.acme.test');
      },
    });
    void stepUp.run(action()).catch(() => {});
    const dialog = await screen.findByTestId('step-up-dialog');
    await user.type(within(dialog).getByTestId('step-up-password'), 'pw');
    await user.click(within(dialog).getByTestId('step-up-confirm'));
    expect(await within(dialog).findByTestId('step-up-error')).toHaveTextContent(
      'Confirming your password needs a connection to the server. Cannot reach server at https://gatehouse.acme.test',
    );
    expect(screen.getByTestId('step-up-dialog')).toBeInTheDocument();
  });

  it('Cancel does not try again: the action rejects with the server’s refusal', async () => {
    const { calls, stepUp, user } = setup();
    const reset = action();
    // Awaited below; attached now, as the rejection comes during the click.
    const refused = expect(stepUp.run(reset)).rejects.toEqual(REFUSED);
    const dialog = await screen.findByTestId('step-up-dialog');
    await user.type(within(dialog).getByTestId('step-up-password'), 'typed');
    await user.click(within(dialog).getByText('Cancel'));
    await refused;
    expect(reset).toHaveBeenCalledTimes(1);
    expect(callsOf(calls, 'step_up')).toHaveLength(0);
    expect(screen.queryByTestId('step-up-dialog')).toBeNull();

    // Asked again, the form starts empty: the password typed before is gone.
    void stepUp.run(action()).catch(() => {});
    expect(within(await screen.findByTestId('step-up-dialog')).getByTestId('step-up-password')).toHaveValue('');
  });

  it('tries only once more: a second refusal is the answer', async () => {
    const { stepUp, user } = setup({ step_up: () => ({ until: '2026-11-23T09:20:00Z' }) });
    const stubborn = action(5);
    const refused = expect(stepUp.run(stubborn)).rejects.toEqual(REFUSED);
    const dialog = await screen.findByTestId('step-up-dialog');
    await user.type(within(dialog).getByTestId('step-up-password'), 'pw');
    await user.click(within(dialog).getByTestId('step-up-confirm'));
    await refused;
    expect(stubborn).toHaveBeenCalledTimes(2);
  });
});
