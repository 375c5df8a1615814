// Enrolling an authenticator app when the organization requires MFA: the app shows only
// the enrolment (QR code, the key in blocks, a code to confirm) until it is done, then the
// normal UI; wrong codes and offline say why; Sign out is the one other way out.
import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import QRCode from 'qrcode';
import { describe, expect, it, vi } from 'vitest';
import App from '../../App.svelte';
import { SESSION, ipcError, page, signedIn } from '../../test/fixtures';
import { callsOf, mockCommands } from '../../test/ipc';
import type { SessionInfo, TotpSetup } from '../bindings';
import { codeDigits, groupSecret } from './mfa';

type Handlers = Record<string, (args: Record<string, unknown>) => unknown>;

const MUST_ENROL: SessionInfo = { ...SESSION, mfa_enrollment_required: true };
const SETUP: TotpSetup = {
  secret: 'JBSWY3DPEHPK3PXPJBSWY3DP',
  otpauth_uri: 'otpauth://totp/Gatehouse:owner%40acme.test?secret=JBSWY3DPEHPK3PXPJBSWY3DP&issuer=Gatehouse&digits=6&period=30',
  digits: 6,
  period: 30,
};

function start(handlers: Handlers = {}) {
  const calls = mockCommands({
    current_session: () => signedIn(MUST_ENROL),
    start_mfa_enrollment: () => SETUP,
    confirm_mfa_enrollment: () => ({ ...MUST_ENROL, mfa_enrollment_required: false }),
    list_users: () => page([]),
    ...handlers,
  });
  render(App);
  return calls;
}

describe('MFA enrolment required by the organization', () => {
  it('shows only the enrolment, with a QR code and the key in blocks of four', async () => {
    const calls = start();
    expect(await screen.findByRole('heading', { name: 'Set up two-factor authentication' })).toBeInTheDocument();
    expect(screen.getByTestId('mfa-required-note')).toHaveTextContent('Acme requires two-factor authentication');
    expect(screen.queryByTestId('users-page')).toBeNull();
    expect(callsOf(calls, 'list_users')).toHaveLength(0);

    const qr = await screen.findByTestId('mfa-qr');
    expect(qr).toHaveAttribute('role', 'img');
    expect(qr).toHaveAccessibleName('QR code for your authenticator app');
    expect(qr.querySelector('svg')).not.toBeNull();
    expect(qr.querySelector('script')).toBeNull();
    expect(screen.getByTestId('mfa-secret')).toHaveTextContent('JBSW Y3DP EHPK 3PXP JBSW Y3DP');
    // The link is there for whoever cannot scan, folded away.
    const uri = screen.getByTestId('mfa-uri');
    expect(uri).toHaveTextContent(SETUP.otpauth_uri);
    expect(uri.closest('details')).not.toHaveAttribute('open');

    const code = screen.getByTestId('mfa-code');
    expect(code).toHaveAttribute('inputmode', 'numeric');
    expect(code).toHaveAttribute('autocomplete', 'one-time-code');
    expect(code).toHaveAccessibleName('Enter the 6-digit code the app shows');
    await waitFor(() => expect(code).toHaveFocus());
    expect(callsOf(calls, 'start_mfa_enrollment')).toHaveLength(1);
  });

  it('Enter in the code field confirms, then the app opens as usual', async () => {
    const calls = start();
    const user = userEvent.setup();
    const code = await screen.findByTestId('mfa-code');
    // Pasted with the app's space: only the digits are kept and sent.
    await user.click(code);
    await user.paste('123 456');
    expect(code).toHaveValue('123456');
    await user.keyboard('{Enter}');

    expect(await screen.findByTestId('users-page')).toBeInTheDocument();
    expect(screen.queryByTestId('mfa-enrollment')).toBeNull();
    expect(callsOf(calls, 'confirm_mfa_enrollment').map((c) => c.args)).toEqual([{ code: '123456' }]);
  });

  it('shows a wrong code and lets the next one through', async () => {
    let tries = 0;
    const calls = start({
      confirm_mfa_enrollment: () => {
        tries += 1;
        if (tries === 1) throw ipcError('invalid_input', 'That code is not right, or has expired.', 'totp');
        return { ...MUST_ENROL, mfa_enrollment_required: false };
      },
    });
    const user = userEvent.setup();
    const code = await screen.findByTestId('mfa-code');
    await user.type(code, '000000');
    await user.click(screen.getByTestId('mfa-confirm'));

    const error = await screen.findByTestId('mfa-error');
    expect(error).toHaveTextContent('That code is not right, or has expired.');
    expect(error).toHaveAttribute('role', 'alert');
    expect(code).toHaveAttribute('aria-invalid', 'true');
    expect(screen.queryByTestId('users-page')).toBeNull();

    await user.clear(code);
    await user.type(code, '654321');
    await user.click(screen.getByTestId('mfa-confirm'));
    expect(await screen.findByTestId('users-page')).toBeInTheDocument();
    expect(callsOf(calls, 'confirm_mfa_enrollment').map((c) => c.args.code)).toEqual(['000000', '654321']);
  });

  it('asks for all six digits before calling Rust', async () => {
    const calls = start();
    const user = userEvent.setup();
    await user.type(await screen.findByTestId('mfa-code'), '123');
    await user.click(screen.getByTestId('mfa-confirm'));
    expect(await screen.findByTestId('mfa-error')).toHaveTextContent('Enter the 6-digit code your authenticator app shows.');
    expect(callsOf(calls, 'confirm_mfa_enrollment')).toHaveLength(0);
  });

  it('offline, says that setting it up needs a connection, and retries', async () => {
    let online = false;
    const calls = start({
      start_mfa_enrollment: () => {
        if (!online) throw ipcError('unreachable', 'Cannot reach server at https://gatehouse.acme.test');
        return SETUP;
      },
    });
    const error = await screen.findByTestId('mfa-error');
    expect(error).toHaveTextContent('needs a connection to the server. Cannot reach server at https://gatehouse.acme.test');
    expect(screen.getByTestId('mfa-confirm')).toBeDisabled();
    online = true;
    await userEvent.setup().click(screen.getByTestId('mfa-retry'));
    expect(await screen.findByTestId('mfa-secret')).toBeInTheDocument();
    expect(screen.queryByTestId('mfa-error')).toBeNull();
    expect(callsOf(calls, 'start_mfa_enrollment')).toHaveLength(2);
  });

  it('offers a new secret when the server refuses this one (replaced elsewhere)', async () => {
    const calls = start({
      confirm_mfa_enrollment: () => {
        throw ipcError('server_error', 'A newer enrolment replaced this one; confirm a code from the newest secret.');
      },
    });
    await screen.findByTestId('mfa-secret');
    const user = userEvent.setup();
    await user.type(screen.getByTestId('mfa-code'), '123456');
    await user.click(screen.getByTestId('mfa-confirm'));
    expect(await screen.findByTestId('mfa-error')).toHaveTextContent('A newer enrolment replaced this one');
    await user.click(screen.getByTestId('mfa-retry'));
    await waitFor(() => expect(callsOf(calls, 'start_mfa_enrollment')).toHaveLength(2));
    await waitFor(() => expect(screen.queryByTestId('mfa-error')).toBeNull());
  });

  it('Sign out signs out and goes back to sign-in', async () => {
    const calls = start({ sign_out: () => null });
    await screen.findByTestId('mfa-secret');
    await userEvent.setup().click(screen.getByTestId('mfa-signout'));
    expect(await screen.findByTestId('signin-form')).toBeInTheDocument();
    expect(screen.getByTestId('signin-email')).toHaveValue(SESSION.email);
    expect(callsOf(calls, 'sign_out').map((c) => c.args)).toEqual([{ discardPending: false, removeCopy: false }]);
  });

  it('when the session ended meanwhile, goes to sign-in and says why', async () => {
    start({
      start_mfa_enrollment: () => {
        throw ipcError('session_expired', 'the session expired');
      },
    });
    expect(await screen.findByTestId('signin-notice')).toHaveTextContent('Your session ended: the session expired');
  });

  it('without a QR code, shows the link unfolded', async () => {
    vi.spyOn(QRCode, 'toString').mockRejectedValue(new Error('data too long') as never);
    start();
    const uri = await screen.findByTestId('mfa-uri');
    await waitFor(() => expect(uri.closest('details')).toHaveAttribute('open'));
    expect(uri).toBeVisible();
    expect(screen.queryByTestId('mfa-qr')).toBeNull();
    expect(screen.getByTestId('mfa-qr-failed')).toHaveTextContent('could not be drawn');
  });

  it('Copy puts the key (without spaces) on the clipboard', async () => {
    start();
    const user = userEvent.setup();
    const copy = await screen.findByTestId('mfa-copy');
    await user.click(copy);
    expect(copy).toHaveTextContent('Copied');
    expect(await navigator.clipboard.readText()).toBe(SETUP.secret);
  });

  it('a session that signs in needing enrolment gets the enrolment, not the users page', async () => {
    mockCommands({
      current_session: () => ({ session: null, last_connection: null, signed_out_reason: null }),
      sign_in: () => MUST_ENROL,
      start_mfa_enrollment: () => SETUP,
    });
    render(App);
    const user = userEvent.setup();
    await user.type(await screen.findByTestId('signin-server-url'), 'https://gatehouse.acme.test');
    await user.type(screen.getByTestId('signin-email'), 'owner@acme.test');
    await user.type(screen.getByTestId('signin-password'), 'pw');
    await user.click(screen.getByTestId('signin-submit'));
    const form = await screen.findByTestId('mfa-enrollment');
    expect(within(form).getByTestId('mfa-code')).toBeInTheDocument();
    expect(screen.queryByTestId('users-page')).toBeNull();
  });
});

describe('mfa helpers', () => {
  it('groups a secret in fours and keeps only the digits of a code', () => {
    expect(groupSecret('JBSWY3DPEHPK3PXP')).toBe('JBSW Y3DP EHPK 3PXP');
    expect(groupSecret('JBSW Y3DP EH')).toBe('JBSW Y3DP EH');
    expect(groupSecret('')).toBe('');
    expect(codeDigits(' 123-456 7', 6)).toBe('123456');
    expect(codeDigits('12a', 6)).toBe('12');
  });
});
