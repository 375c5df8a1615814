import { cleanup, render, screen, waitFor } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import App from '../../App.svelte';
import { SESSION, ipcError, page, signedOut } from '../../test/fixtures';
import { callsOf, deferred, mockCommands } from '../../test/ipc';
import type { CurrentSession, SessionInfo } from '../bindings';

async function startSignedOut(current: CurrentSession = signedOut(), signIn?: (args: Record<string, unknown>) => unknown) {
  const calls = mockCommands({
    current_session: () => current,
    sign_in: signIn ?? (() => SESSION),
    list_users: () => page([]),
  });
  render(App);
  await screen.findByTestId('signin-form');
  return calls;
}

async function fill(server: string, email: string, password: string) {
  const user = userEvent.setup();
  const url = screen.getByTestId('signin-server-url');
  await user.clear(url);
  if (server) await user.type(url, server);
  const mail = screen.getByTestId('signin-email');
  await user.clear(mail);
  if (email) await user.type(mail, email);
  if (password) await user.type(screen.getByTestId('signin-password'), password);
  return user;
}

describe('sign-in', () => {
  it('has labelled fields', async () => {
    await startSignedOut();
    expect(screen.getByLabelText('Server URL')).toBe(screen.getByTestId('signin-server-url'));
    expect(screen.getByLabelText('E-mail')).toBe(screen.getByTestId('signin-email'));
    expect(screen.getByLabelText('Password')).toBe(screen.getByTestId('signin-password'));
  });

  it('rejects a server address without a scheme before calling Rust', async () => {
    const calls = await startSignedOut();
    const user = await fill('gatehouse.example.com', 'owner@acme.test', 'pw');
    await user.click(screen.getByTestId('signin-submit'));

    const error = await screen.findByTestId('signin-server-url-error');
    expect(error).toHaveTextContent('Enter a full server address, like https://gatehouse.example.com');
    expect(error).toHaveAttribute('role', 'alert');
    expect(screen.getByTestId('signin-server-url')).toHaveAttribute('aria-invalid', 'true');
    expect(callsOf(calls, 'sign_in')).toHaveLength(0);
  });

  it('rejects a non-http scheme, an e-mail without @ and an empty password', async () => {
    const calls = await startSignedOut();
    const user = await fill('ftp://gatehouse.example.com', 'owner', '');
    await user.click(screen.getByTestId('signin-submit'));

    expect(await screen.findByTestId('signin-server-url-error')).toBeInTheDocument();
    expect(screen.getByTestId('signin-email-error')).toHaveTextContent(/valid e-mail/);
    expect(screen.getByTestId('signin-password-error')).toHaveTextContent('Enter your password');
    expect(callsOf(calls, 'sign_in')).toHaveLength(0);
  });

  it('sends the trimmed form to sign_in and opens the users page', async () => {
    const calls = await startSignedOut();
    const user = await fill(' https://gatehouse.acme.test ', 'owner@acme.test', 'hunter2');
    await user.click(screen.getByTestId('signin-submit'));

    expect(await screen.findByTestId('users-page')).toBeInTheDocument();
    expect(callsOf(calls, 'sign_in')).toEqual([
      {
        cmd: 'sign_in',
        args: { args: { server_url: 'https://gatehouse.acme.test', email: 'owner@acme.test', password: 'hunter2' } },
      },
    ]);
  });

  it('shows "Invalid email or password" for invalid_credentials', async () => {
    await startSignedOut(signedOut(), () => {
      throw ipcError('invalid_credentials', 'server said: bad credentials');
    });
    const user = await fill('https://gatehouse.acme.test', 'owner@acme.test', 'wrong');
    await user.click(screen.getByTestId('signin-submit'));

    const error = await screen.findByTestId('signin-error');
    expect(error.textContent?.trim()).toBe('Invalid email or password');
    expect(error).toHaveAttribute('role', 'alert');
    expect(screen.getByTestId('signin-password')).toHaveValue('wrong');
    expect(screen.queryByTestId('users-page')).not.toBeInTheDocument();
  });

  it('shows the message from Rust when the server is unreachable', async () => {
    await startSignedOut(signedOut(), () => {
      throw ipcError('unreachable', 'Cannot reach server at https://down.acme.test');
    });
    const user = await fill('https://down.acme.test', 'owner@acme.test', 'pw');
    await user.click(screen.getByTestId('signin-submit'));

    expect(await screen.findByTestId('signin-error')).toHaveTextContent(
      'Cannot reach server at https://down.acme.test',
    );
  });

  it('puts an error that names a field under that field', async () => {
    await startSignedOut(signedOut(), () => {
      throw ipcError('invalid_input', 'No account uses this e-mail', 'email');
    });
    const user = await fill('https://gatehouse.acme.test', 'nobody@acme.test', 'pw');
    await user.click(screen.getByTestId('signin-submit'));

    expect(await screen.findByTestId('signin-email-error')).toHaveTextContent('No account uses this e-mail');
    expect(screen.queryByTestId('signin-error')).not.toBeInTheDocument();
  });

  it('shows why a plain http:// server elsewhere is refused, and how to allow it, on the server URL', async () => {
    const why =
      "http://10.0.0.5 is not encrypted: your password and your organization's data would cross the network readable by " +
      "anyone on it. Use the server's https:// address. Plain http:// is allowed only to this computer (localhost), " +
      'unless the app is started with GATEHOUSE_ALLOW_INSECURE_HTTP=1 on a network you trust.';
    // With the field Rust names, and without one: the address is at fault either way.
    for (const field of ['server_url', null]) {
      const calls = await startSignedOut(signedOut(), () => {
        throw ipcError('insecure_url', why, field);
      });
      const user = await fill('http://10.0.0.5:8080', 'owner@acme.test', 'pw');
      await user.click(screen.getByTestId('signin-submit'));

      expect(await screen.findByTestId('signin-server-url-error')).toHaveTextContent(why);
      const url = screen.getByTestId('signin-server-url');
      expect(url).toHaveAttribute('aria-invalid', 'true');
      expect(url).toHaveAccessibleDescription(expect.stringContaining('GATEHOUSE_ALLOW_INSECURE_HTTP=1'));
      expect(url).toHaveFocus();
      expect(screen.queryByTestId('signin-error')).not.toBeInTheDocument();
      expect(callsOf(calls, 'sign_in')).toHaveLength(1);
      cleanup();
    }
  });

  it('disables the button and says "Signing in…" while pending', async () => {
    const pending = deferred<SessionInfo>();
    await startSignedOut(signedOut(), () => pending.promise);
    const user = await fill('https://gatehouse.acme.test', 'owner@acme.test', 'pw');
    await user.click(screen.getByTestId('signin-submit'));

    const button = screen.getByTestId('signin-submit');
    await waitFor(() => expect(button).toBeDisabled());
    expect(button).toHaveTextContent('Signing in…');

    pending.reject(ipcError('invalid_credentials', 'nope'));
    await screen.findByTestId('signin-error');
    expect(button).toBeEnabled();
    expect(button).toHaveTextContent('Sign in');
  });

  it('prefills from last_connection, focuses the password and shows why the session ended', async () => {
    await startSignedOut(
      signedOut({
        last_connection: { server_url: 'https://gatehouse.acme.test', email: 'owner@acme.test' },
        signed_out_reason: 'the session was revoked by an administrator',
      }),
    );

    expect(screen.getByTestId('signin-server-url')).toHaveValue('https://gatehouse.acme.test');
    expect(screen.getByTestId('signin-email')).toHaveValue('owner@acme.test');
    expect(screen.getByTestId('signin-password')).toHaveFocus();
    expect(screen.getByTestId('signin-notice')).toHaveTextContent(
      'Your session ended: the session was revoked by an administrator',
    );
  });

  it('shows no notice and focuses the server URL on a first start', async () => {
    await startSignedOut();
    expect(screen.queryByTestId('signin-notice')).not.toBeInTheDocument();
    expect(screen.getByTestId('signin-server-url')).toHaveFocus();
  });

  it('goes straight to the users page when a session is resumed', async () => {
    mockCommands({
      current_session: () => ({ session: SESSION, last_connection: null, signed_out_reason: null }),
      list_users: () => page([]),
    });
    render(App);
    expect(await screen.findByTestId('users-page')).toBeInTheDocument();
    expect(screen.queryByTestId('signin-form')).not.toBeInTheDocument();
  });
});

describe('sign-in with an authentication code', () => {
  const MFA_MESSAGE = 'Enter the 6-digit code from your authenticator app.';

  /** sign_in answers mfa_required without a code, `answer` with one. */
  function needsCode(answer: (totp: string) => unknown = () => SESSION) {
    return (args: Record<string, unknown>) => {
      const a = args.args as { totp?: string };
      if (a.totp === undefined) throw ipcError('mfa_required', MFA_MESSAGE);
      return answer(a.totp);
    };
  }

  it('asks for the code, keeps e-mail and password, and sends the code with them', async () => {
    const calls = await startSignedOut(signedOut(), needsCode());
    const user = await fill('https://gatehouse.acme.test', 'owner@acme.test', 'hunter2');
    expect(screen.queryByTestId('signin-totp')).toBeNull();
    await user.click(screen.getByTestId('signin-submit'));

    const code = await screen.findByTestId('signin-totp');
    expect(code).toHaveFocus();
    expect(screen.getByLabelText('Authentication code')).toBe(code);
    expect(code).toHaveAttribute('inputmode', 'numeric');
    expect(code).toHaveAttribute('autocomplete', 'one-time-code');
    expect(screen.getByTestId('signin-totp-hint')).toHaveTextContent(MFA_MESSAGE);
    expect(code).toHaveAttribute('aria-describedby', 'signin-totp-hint');
    expect(screen.queryByTestId('signin-error')).toBeNull();
    expect(screen.getByTestId('signin-email')).toHaveValue('owner@acme.test');
    expect(screen.getByTestId('signin-password')).toHaveValue('hunter2');

    await user.type(code, '123 456{Enter}');
    expect(await screen.findByTestId('users-page')).toBeInTheDocument();
    expect(callsOf(calls, 'sign_in').map((c) => c.args.args)).toEqual([
      { server_url: 'https://gatehouse.acme.test', email: 'owner@acme.test', password: 'hunter2' },
      { server_url: 'https://gatehouse.acme.test', email: 'owner@acme.test', password: 'hunter2', totp: '123456' },
    ]);
  });

  it('checks the code before calling Rust', async () => {
    const calls = await startSignedOut(signedOut(), needsCode());
    const user = await fill('https://gatehouse.acme.test', 'owner@acme.test', 'pw');
    await user.click(screen.getByTestId('signin-submit'));
    await screen.findByTestId('signin-totp');
    await user.click(screen.getByTestId('signin-submit'));

    expect(await screen.findByTestId('signin-totp-error')).toHaveTextContent('Enter the code your authenticator app shows');
    expect(screen.getByTestId('signin-totp')).toHaveFocus();
    expect(callsOf(calls, 'sign_in')).toHaveLength(1);
  });

  it('shows a wrong code on the code field', async () => {
    await startSignedOut(
      signedOut(),
      needsCode(() => {
        throw ipcError('invalid_input', 'That code is not right, or has expired.', 'totp');
      }),
    );
    const user = await fill('https://gatehouse.acme.test', 'owner@acme.test', 'pw');
    await user.click(screen.getByTestId('signin-submit'));
    await user.type(await screen.findByTestId('signin-totp'), '000000');
    await user.click(screen.getByTestId('signin-submit'));

    const error = await screen.findByTestId('signin-totp-error');
    expect(error).toHaveTextContent('That code is not right, or has expired.');
    expect(error).toHaveAttribute('role', 'alert');
    expect(screen.getByTestId('signin-totp')).toHaveAttribute('aria-invalid', 'true');
    expect(screen.getByTestId('signin-totp')).toHaveFocus();
    expect(screen.queryByTestId('signin-error')).toBeNull();
    expect(screen.queryByTestId('users-page')).toBeNull();
  });

  it('puts the code away when the e-mail changes', async () => {
    const calls = await startSignedOut(signedOut(), needsCode());
    const user = await fill('https://gatehouse.acme.test', 'owner@acme.test', 'pw');
    await user.click(screen.getByTestId('signin-submit'));
    await user.type(await screen.findByTestId('signin-totp'), '123456');

    await user.type(screen.getByTestId('signin-email'), 'x');
    expect(screen.queryByTestId('signin-totp')).toBeNull();
    await user.click(screen.getByTestId('signin-submit'));
    // Asked again, for the other account, with an empty field.
    expect(await screen.findByTestId('signin-totp')).toHaveValue('');
    expect(callsOf(calls, 'sign_in').map((c) => c.args.args)).toEqual([
      { server_url: 'https://gatehouse.acme.test', email: 'owner@acme.test', password: 'pw' },
      { server_url: 'https://gatehouse.acme.test', email: 'owner@acme.test' + 'x', password: 'pw' },
    ]);
  });

  it('sends a reset link for the address typed, and says the same whether or not it exists', async () => {
    const calls = mockCommands({
      current_session: () => signedOut(),
      request_password_reset: () => null,
      list_users: () => page([]),
    });
    render(App);
    await screen.findByTestId('signin-form');
    const user = await fill('http://127.0.0.1:8080', 'ada@acme.test', '');
    await user.click(screen.getByTestId('signin-forgot'));

    expect(await screen.findByTestId('signin-reset-sent')).toHaveTextContent('If ada@acme.test has an account, a link');
    expect(callsOf(calls, 'request_password_reset').map((c) => c.args)).toEqual([{ serverUrl: 'http://127.0.0.1:8080', email: 'ada@acme.test' }]);
    expect(callsOf(calls, 'sign_in')).toHaveLength(0);
  });

  it('asks for the e-mail address before sending a reset link', async () => {
    const calls = await startSignedOut();
    const user = await fill('http://127.0.0.1:8080', '', '');
    await user.click(screen.getByTestId('signin-forgot'));

    expect(await screen.findByTestId('signin-email-error')).toBeInTheDocument();
    expect(screen.queryByTestId('signin-password-error')).toBeNull();
    expect(screen.getByTestId('signin-email')).toHaveFocus();
    expect(callsOf(calls, 'request_password_reset')).toHaveLength(0);
  });

  it('shows why a reset link could not be asked for', async () => {
    mockCommands({
      current_session: () => signedOut(),
      request_password_reset: () => {
        throw ipcError('server_error', 'This server has no mail relay, so it cannot send a reset link.');
      },
      list_users: () => page([]),
    });
    render(App);
    await screen.findByTestId('signin-form');
    const user = await fill('http://127.0.0.1:8080', 'ada@acme.test', '');
    await user.click(screen.getByTestId('signin-forgot'));

    expect(await screen.findByTestId('signin-error')).toHaveTextContent('no mail relay');
    expect(screen.queryByTestId('signin-reset-sent')).toBeNull();
  });
});
