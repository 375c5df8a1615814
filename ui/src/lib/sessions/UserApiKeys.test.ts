// The user panel's API keys tab: listed with their status, created (by their owner, for
// themselves, after confirming the password when the server asks) with the secret shown
// once (and gone on Done), a refused name shown under the field, suspended only after a
// confirmation, and the tab offered to yourself or to users.manage only.
import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { SESSION, ipcError, makeUser, page } from '../../test/fixtures';
import { callsOf, mockCommands } from '../../test/ipc';
import type { ApiKey, SessionInfo } from '../bindings';
import UsersPage from '../users/UsersPage.svelte';

type Handlers = Record<string, (args: Record<string, unknown>) => unknown>;

const MANAGER: SessionInfo = { ...SESSION, permissions: ['users.read', 'users.manage'] };
const READER: SessionInfo = { ...SESSION, permissions: ['users.read'] };
const dana = makeUser({ id: 'u-dana', first_name: 'Dana', last_name: 'Scully', display_name: 'Dana Scully', email: 'dana@acme.test' });
const fox = makeUser({ id: 'u-fox', first_name: 'Fox', last_name: 'Mulder', display_name: 'Fox Mulder', email: 'fox@acme.test', status: 'deactivated' });
const me = makeUser({ id: SESSION.user_id, first_name: 'Olivia', last_name: 'Owner', display_name: 'Olivia Owner', email: SESSION.email });

function makeKey(overrides: Partial<ApiKey> = {}): ApiKey {
  return {
    id: 'k-1',
    user_id: 'u-dana',
    name: 'CI deploys',
    prefix: 'ghk_AbCd',
    created_at: '2026-11-20T08:00:00Z',
    last_used_at: null,
    suspended_at: null,
    suspended_reason: null,
    ...overrides,
  };
}

function renderPage(handlers: Handlers = {}, session: SessionInfo = MANAGER) {
  const calls = mockCommands({ list_users: () => page([dana, fox, me]), ...handlers });
  render(UsersPage, { props: { session, onSessionEnded: vi.fn(), onSignedOut: vi.fn() } });
  return calls;
}

async function openKeys(name: string) {
  const user = userEvent.setup();
  const row = (await screen.findAllByTestId('user-row')).find((r) => r.textContent?.includes(name));
  await user.click(within(row!).getByText(name));
  const panel = await screen.findByTestId('user-detail');
  await user.click(within(panel).getByTestId('tab-api-keys'));
  return { user, panel: await within(panel).findByTestId('detail-api-keys') };
}

function rowOf(panel: HTMLElement, keyId: string): HTMLElement {
  const row = within(panel)
    .getAllByTestId('api-key-row')
    .find((r) => r.dataset.keyId === keyId);
  if (!row) throw new Error(`no row for ${keyId}`);
  return row;
}

describe('the API keys tab', () => {
  it('lists the keys, read when the tab opens, with their status', async () => {
    const calls = renderPage({
      api_keys: (args) =>
        args.userId === 'u-fox'
          ? [
              makeKey({ id: 'k-dep', user_id: 'u-fox', name: 'Nightly sync', suspended_at: '2026-11-22T08:00:00Z', suspended_reason: 'user_deactivated' }),
              makeKey({ id: 'k-adm', user_id: 'u-fox', name: 'Old script', prefix: 'ghk_Zz99', suspended_at: '2026-11-21T08:00:00Z', suspended_reason: 'admin' }),
              makeKey({ id: 'k-live', user_id: 'u-fox', name: 'CI deploys', prefix: 'ghk_AbCd', last_used_at: '2026-11-23T09:00:00Z' }),
            ]
          : [],
    });
    const user = userEvent.setup();
    const row = (await screen.findAllByTestId('user-row')).find((r) => r.textContent?.includes('Fox Mulder'));
    await user.click(within(row!).getByText('Fox Mulder'));
    const detail = await screen.findByTestId('user-detail');
    expect(callsOf(calls, 'api_keys')).toHaveLength(0);
    await user.click(within(detail).getByTestId('tab-api-keys'));
    const panel = await within(detail).findByTestId('detail-api-keys');

    await waitFor(() => expect(within(panel).getAllByTestId('api-key-row')).toHaveLength(3));
    expect(callsOf(calls, 'api_keys').map((c) => c.args)).toEqual([{ userId: 'u-fox' }]);

    const live = rowOf(panel, 'k-live');
    expect(live).toHaveTextContent('CI deploys');
    expect(within(live).getByTestId('api-key-prefix')).toHaveTextContent('ghk_AbCd…');
    expect(within(live).getByTestId('api-key-status')).toHaveTextContent('Active');
    expect(within(live).getByTestId('api-key-last-used')).not.toHaveTextContent('Never');
    expect(within(live).getByTestId('api-key-suspend')).toBeInTheDocument();

    const byAdmin = rowOf(panel, 'k-adm');
    expect(within(byAdmin).getByTestId('api-key-status')).toHaveTextContent('Suspended');
    expect(within(byAdmin).getByTestId('api-key-status').closest('[title]')).toHaveAttribute('title', 'Suspended by an administrator');
    expect(within(byAdmin).getByTestId('api-key-last-used')).toHaveTextContent('Never');
    expect(within(byAdmin).getByTestId('api-key-restore')).toBeInTheDocument();
    expect(within(byAdmin).queryByTestId('api-key-suspend')).toBeNull();

    // Fox is deactivated: the key his deactivation suspended comes back with him, not by hand.
    const byDeactivation = rowOf(panel, 'k-dep');
    expect(within(byDeactivation).getByTestId('api-key-status').closest('[title]')).toHaveAttribute(
      'title',
      'Suspended while the user is deactivated; comes back on reactivation',
    );
    expect(within(byDeactivation).queryByTestId('api-key-restore')).toBeNull();
    expect(within(byDeactivation).getByTestId('api-key-restore-note')).toHaveTextContent('Comes back when Fox Mulder is reactivated');
  });

  it('says "No API keys." when there are none, and offline asks for a connection with Retry', async () => {
    let online = false;
    renderPage({
      api_keys: () => {
        if (!online) throw ipcError('unreachable', 'Cannot reach server');
        return [];
      },
    });
    const { user, panel } = await openKeys('Dana Scully');
    expect(await within(panel).findByTestId('api-keys-error')).toHaveTextContent('API keys need a connection');
    expect(within(panel).queryByTestId('api-keys-empty')).toBeNull();

    online = true;
    await user.click(within(panel).getByTestId('api-keys-retry'));
    expect(await within(panel).findByTestId('api-keys-empty')).toHaveTextContent('No API keys.');
    expect(within(panel).queryByTestId('api-keys-error')).toBeNull();
  });

  it('creating a key shows its secret once; Done removes it from the page', async () => {
    const SECRET = 'ghk_NewKey0123456789abcdefSECRET';
    const created = makeKey({ id: 'k-new', user_id: SESSION.user_id, name: 'Terraform', prefix: 'ghk_NewK' });
    const calls = renderPage({ api_keys: () => [makeKey({ user_id: SESSION.user_id })], create_api_key: () => ({ key: created, secret: SECRET }) });
    const { user, panel } = await openKeys('Olivia Owner');
    await within(panel).findByTestId('api-key-row');
    const clipboard = vi.spyOn(navigator.clipboard, 'writeText');

    expect(within(panel).getByTestId('api-key-name')).toHaveAttribute('maxlength', '100');
    await user.type(within(panel).getByTestId('api-key-name'), '  Terraform ');
    await user.click(within(panel).getByTestId('api-key-create'));

    const box = await within(panel).findByTestId('api-key-secret');
    expect(box).toHaveAttribute('role', 'alert');
    expect(box).toHaveTextContent('Copy it now: it is shown only this once.');
    expect(within(box).getByDisplayValue(SECRET)).toHaveAttribute('readonly');
    // Keys expire after 90 days unless another lifetime is chosen.
    expect(callsOf(calls, 'create_api_key').map((c) => c.args)).toEqual([{ userId: SESSION.user_id, name: 'Terraform', expiresInDays: 90, role: null }]);
    // The new key is listed, without its secret.
    expect(rowOf(panel, 'k-new')).toHaveTextContent('Terraform');
    expect(rowOf(panel, 'k-new')).not.toHaveTextContent(SECRET);
    expect(within(panel).getByTestId('api-key-name')).toHaveValue('');

    await user.click(within(box).getByTestId('api-key-copy'));
    expect(clipboard).toHaveBeenCalledWith(SECRET);
    expect(within(box).getByTestId('api-key-copy')).toHaveTextContent('Copied');

    await user.click(within(box).getByTestId('api-key-secret-done'));
    expect(within(panel).queryByTestId('api-key-secret')).toBeNull();
    expect(screen.queryByDisplayValue(SECRET)).toBeNull();
    expect(document.body.innerHTML).not.toContain(SECRET);
    expect(JSON.stringify({ ...localStorage })).not.toContain(SECRET);
    expect(JSON.stringify({ ...sessionStorage })).not.toContain(SECRET);
    expect(within(panel).getAllByTestId('api-key-row')).toHaveLength(2);
  });

  it('a refused name is shown under the field and nothing is added', async () => {
    const calls = renderPage({
      api_keys: () => [makeKey()],
      create_api_key: () => {
        throw ipcError('invalid_input', 'A key with this name already exists.', 'name');
      },
    });
    const { user, panel } = await openKeys('Olivia Owner');
    await within(panel).findByTestId('api-key-row');
    await user.type(within(panel).getByTestId('api-key-name'), 'CI deploys');
    await user.click(within(panel).getByTestId('api-key-create'));

    expect(await within(panel).findByTestId('api-key-name-error')).toHaveTextContent('A key with this name already exists.');
    expect(within(panel).getByTestId('api-key-name')).toHaveAttribute('aria-invalid', 'true');
    expect(within(panel).getByTestId('api-key-name')).toHaveValue('CI deploys');
    expect(callsOf(calls, 'create_api_key')).toHaveLength(1);
    expect(within(panel).getAllByTestId('api-key-row')).toHaveLength(1);
    expect(within(panel).queryByTestId('api-key-secret')).toBeNull();

    // An empty name is not even sent.
    await user.clear(within(panel).getByTestId('api-key-name'));
    await user.click(within(panel).getByTestId('api-key-create'));
    expect(await within(panel).findByTestId('api-key-name-error')).toHaveTextContent('Give the key a name');
    expect(callsOf(calls, 'create_api_key')).toHaveLength(1);
  });

  it('suspend asks first, then shows Suspended; Restore brings it back', async () => {
    const calls = renderPage({
      api_keys: () => [makeKey()],
      set_api_key_suspended: (args) =>
        makeKey(args.suspended ? { suspended_at: '2026-11-23T09:30:00Z', suspended_reason: 'admin' } : {}),
    });
    const { user, panel } = await openKeys('Dana Scully');
    const row = await within(panel).findByTestId('api-key-row');
    await user.click(within(row).getByTestId('api-key-suspend'));

    const dialog = await screen.findByTestId('confirm-api-key-suspend');
    expect(dialog).toHaveTextContent('CI deploys');
    expect(callsOf(calls, 'set_api_key_suspended')).toHaveLength(0);
    expect(within(row).getByTestId('api-key-status')).toHaveTextContent('Active');

    // Cancel leaves it alone.
    await user.click(within(dialog).getByText('Cancel'));
    await waitFor(() => expect(screen.queryByTestId('confirm-api-key-suspend')).toBeNull());
    expect(callsOf(calls, 'set_api_key_suspended')).toHaveLength(0);

    await user.click(within(row).getByTestId('api-key-suspend'));
    await user.click(within(await screen.findByTestId('confirm-api-key-suspend')).getByTestId('confirm-api-key-suspend-ok'));
    await waitFor(() => expect(within(rowOf(panel, 'k-1')).getByTestId('api-key-status')).toHaveTextContent('Suspended'));
    expect(callsOf(calls, 'set_api_key_suspended').map((c) => c.args)).toEqual([{ keyId: 'k-1', suspended: true }]);
    expect(screen.queryByTestId('confirm-api-key-suspend')).toBeNull();

    await user.click(within(rowOf(panel, 'k-1')).getByTestId('api-key-restore'));
    await waitFor(() => expect(within(rowOf(panel, 'k-1')).getByTestId('api-key-status')).toHaveTextContent('Active'));
    expect(callsOf(calls, 'set_api_key_suspended').map((c) => c.args)[1]).toEqual({ keyId: 'k-1', suspended: false });
  });

  it('asks for the password when the server wants it, then creates the key on the one retry', async () => {
    const SECRET = 'ghk_AfterStepUp0123456789abcdef';
    const created = makeKey({ id: 'k-new', user_id: SESSION.user_id, name: 'Backups', prefix: 'ghk_Afte' });
    let steppedUp = false;
    const calls = renderPage({
      api_keys: () => [],
      create_api_key: () => {
        if (!steppedUp) throw ipcError('step_up_required', 'To create an API key, confirm your password (and authenticator code) first, then try again.');
        return { key: created, secret: SECRET };
      },
      step_up: (args) => {
        if (args.password !== 'hunter2') throw ipcError('invalid_input', 'That is not your password.', 'password');
        steppedUp = true;
        return { until: '2026-11-23T09:20:00Z' };
      },
    });
    const { user, panel } = await openKeys('Olivia Owner');
    await within(panel).findByTestId('api-keys-empty');
    await user.type(within(panel).getByTestId('api-key-name'), 'Backups');
    await user.click(within(panel).getByTestId('api-key-create'));

    const dialog = await screen.findByTestId('step-up-dialog');
    expect(within(dialog).getByTestId('step-up-reason')).toHaveTextContent('To create an API key, enter your password again.');
    // No authenticator on this account: no code is asked for.
    expect(within(dialog).queryByTestId('step-up-totp')).toBeNull();
    expect(within(dialog).getByTestId('step-up-password')).toHaveFocus();
    await user.type(within(dialog).getByTestId('step-up-password'), 'wrong');
    await user.click(within(dialog).getByTestId('step-up-confirm'));
    expect(await within(dialog).findByTestId('step-up-password-error')).toHaveTextContent('That is not your password.');
    expect(callsOf(calls, 'create_api_key')).toHaveLength(1);

    await user.clear(within(dialog).getByTestId('step-up-password'));
    await user.type(within(dialog).getByTestId('step-up-password'), 'hunter2');
    await user.click(within(dialog).getByTestId('step-up-confirm'));

    expect(await within(panel).findByTestId('api-key-secret')).toHaveTextContent('API key “Backups” created');
    expect(screen.queryByTestId('step-up-dialog')).toBeNull();
    expect(callsOf(calls, 'step_up').map((c) => c.args)).toEqual([
      { password: 'wrong', totp: null },
      { password: 'hunter2', totp: null },
    ]);
    // Tried once more, the same request.
    expect(callsOf(calls, 'create_api_key').map((c) => c.args)).toEqual([
      { userId: SESSION.user_id, name: 'Backups', expiresInDays: 90, role: null },
      { userId: SESSION.user_id, name: 'Backups', expiresInDays: 90, role: null },
    ]);
    // The password is in no field, storage or page once the dialog is gone.
    expect(document.body.innerHTML).not.toContain('hunter2');
    expect(JSON.stringify({ ...localStorage, ...sessionStorage })).not.toContain('hunter2');
  });

  it('cancelling the password confirmation creates nothing and says why', async () => {
    const calls = renderPage({
      api_keys: () => [],
      create_api_key: () => {
        throw ipcError('step_up_required', 'To create an API key, confirm your password (and authenticator code) first, then try again.');
      },
    });
    const { user, panel } = await openKeys('Olivia Owner');
    await within(panel).findByTestId('api-keys-empty');
    await user.type(within(panel).getByTestId('api-key-name'), 'Backups');
    await user.click(within(panel).getByTestId('api-key-create'));
    await screen.findByTestId('step-up-dialog');
    await user.keyboard('{Escape}');
    expect(await within(panel).findByTestId('api-key-name-error')).toHaveTextContent('To create an API key, confirm your password');
    expect(screen.queryByTestId('step-up-dialog')).toBeNull();
    expect(callsOf(calls, 'create_api_key')).toHaveLength(1);
    expect(callsOf(calls, 'step_up')).toHaveLength(0);
    expect(within(panel).getByTestId('api-key-name')).toHaveValue('Backups');
  });

  it("on someone else's panel offers no Create, and says why", async () => {
    renderPage({ api_keys: () => [makeKey()] });
    const { panel } = await openKeys('Dana Scully');
    await within(panel).findByTestId('api-key-row');
    expect(within(panel).queryByTestId('api-key-form')).toBeNull();
    expect(within(panel).queryByTestId('api-key-create')).toBeNull();
    expect(within(panel).getByTestId('api-key-create-note')).toHaveTextContent('API keys are created by their owner, for themselves.');
    // Suspending theirs stays an admin's to do.
    expect(within(panel).getByTestId('api-key-suspend')).toBeInTheDocument();
  });

  it('is hidden for another user without users.manage, shown for yourself', async () => {
    const calls = renderPage({ api_keys: (args) => [makeKey({ user_id: args.userId as string, name: 'My laptop' })] }, READER);
    const user = userEvent.setup();
    const danaRow = (await screen.findAllByTestId('user-row')).find((r) => r.textContent?.includes('Dana Scully'));
    await user.click(within(danaRow!).getByText('Dana Scully'));
    const other = await screen.findByTestId('user-detail');
    expect(other).toHaveAttribute('data-user-id', 'u-dana');
    expect(within(other).queryByTestId('tab-api-keys')).toBeNull();
    expect(within(other).queryByTestId('detail-api-keys')).toBeNull();

    await user.click(within(other).getByTestId('detail-close'));
    await waitFor(() => expect(screen.queryByTestId('user-detail')).toBeNull());
    const meRow = (await screen.findAllByTestId('user-row')).find((r) => r.textContent?.includes('Olivia Owner'));
    await user.click(within(meRow!).getByText('Olivia Owner'));
    const mine = await screen.findByTestId('user-detail');
    await user.click(within(mine).getByTestId('tab-api-keys'));
    const panel = await within(mine).findByTestId('detail-api-keys');
    expect(await within(panel).findByTestId('api-key-row')).toHaveTextContent('My laptop');
    expect(callsOf(calls, 'api_keys').map((c) => c.args)).toEqual([{ userId: SESSION.user_id }]);
  });
  it('a key can be given another lifetime or none, and the list says when each expires', async () => {
    const soon = new Date(Date.now() + 3 * 86_400_000).toISOString();
    const past = new Date(Date.now() - 86_400_000).toISOString();
    const keys = [
      makeKey({ id: 'k-soon', user_id: SESSION.user_id, name: 'Soon', expires_at: soon }),
      makeKey({ id: 'k-past', user_id: SESSION.user_id, name: 'Past', expires_at: past }),
      makeKey({ id: 'k-never', user_id: SESSION.user_id, name: 'Forever' }),
    ];
    const created = makeKey({ id: 'k-new', user_id: SESSION.user_id, name: 'Cron' });
    const calls = renderPage({ api_keys: () => keys, create_api_key: () => ({ key: created, secret: 'ghk_x' }) });
    const { user, panel } = await openKeys('Olivia Owner');
    const rows = await within(panel).findAllByTestId('api-key-row');
    const row = (id: string) => rows.find((r) => r.getAttribute('data-key-id') === id)!;
    expect(within(row('k-soon')).getByTestId('api-key-expires')).toHaveTextContent('expires');
    expect(within(row('k-soon')).getByTestId('api-key-status')).toHaveTextContent('Active');
    expect(within(row('k-past')).getByTestId('api-key-status')).toHaveTextContent('Expired');
    expect(within(row('k-past')).getByTestId('api-key-expires')).toHaveTextContent('expired 1d ago');
    expect(within(row('k-never')).getByTestId('api-key-expires')).toHaveTextContent('never expires');

    await user.selectOptions(within(panel).getByTestId('api-key-lifetime'), 'Never expires');
    await user.type(within(panel).getByTestId('api-key-name'), 'Cron');
    await user.click(within(panel).getByTestId('api-key-create'));
    await within(panel).findByTestId('api-key-secret');
    expect(callsOf(calls, 'create_api_key').map((c) => c.args)).toEqual([{ userId: SESSION.user_id, name: 'Cron', expiresInDays: null, role: null }]);
  });
});
