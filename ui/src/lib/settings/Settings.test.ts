// Settings (SPEC O1–O3): seat usage and the organization form with its checks, the
// roles editor's permission boxes (only what the admin holds), departments, a
// read-only view for someone without the permissions, setting up your own authenticator
// app, provisioning keys for SCIM, and the demo server's mailbox (there only when the
// server has one).
import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { SESSION } from '../../test/fixtures';
import { callsOf, mockCommands } from '../../test/ipc';
import type { ApiKey, Group, MailMessage, Organization, Role, SessionInfo, TotpSetup } from '../bindings';
import SettingsPage from './SettingsPage.svelte';

const ORG: Organization = { id: 'org-1', name: 'Acme', seat_limit: 50, seats_used: 42, invitation_expiry_days: 7, mfa_required: false, audit_retention_days: 365 };
const ROLES: Role[] = [
  { id: 'r-owner', key: 'owner', name: 'Owner', builtin: true, permissions: ['users.read', 'users.manage', 'roles.manage', 'org.settings'], member_count: 1 },
  { id: 'r-support', key: 'support', name: 'Support', builtin: false, permissions: ['users.read', 'audit.read'], member_count: 3 },
];
const GROUPS: Group[] = [{ id: 'g-sales', name: 'Sales', kind: 'department', member_count: 12 }];
const ADMIN: SessionInfo = { ...SESSION, permissions: ['users.read', 'users.manage', 'roles.manage', 'org.settings', 'audit.read'] };

function renderSettings(session: SessionInfo, handlers: Record<string, (args: Record<string, unknown>) => unknown> = {}) {
  const calls = mockCommands({ organization: () => ORG, roles: () => ROLES, groups: () => GROUPS, api_keys: () => [], ...handlers });
  render(SettingsPage, { props: { session, onChanged: vi.fn() } });
  return calls;
}

describe('settings', () => {
  it('shows seat usage and saves checked organization settings', async () => {
    const calls = renderSettings(ADMIN, { update_organization: (args) => ({ ...ORG, ...(args.patch as object) }) });
    expect(await screen.findByTestId('seat-usage')).toHaveTextContent('42 of 50 seats in use');
    const user = userEvent.setup();
    const seats = screen.getByTestId('org-seat-limit');
    await user.clear(seats);
    await user.type(seats, '0');
    await user.click(screen.getByTestId('org-save'));
    expect(screen.getByTestId('org-seat-limit-error')).toHaveTextContent('at least 1');
    expect(callsOf(calls, 'update_organization')).toHaveLength(0);
    await user.clear(seats);
    await user.type(seats, '60');
    await user.click(screen.getByTestId('org-mfa'));
    const retention = screen.getByTestId('org-retention');
    expect(retention).toHaveValue(365);
    await user.clear(retention);
    await user.type(retention, '20');
    await user.click(screen.getByTestId('org-save'));
    expect(screen.getByTestId('org-retention-error')).toHaveTextContent('Enter 30 to 3650 days.');
    expect(callsOf(calls, 'update_organization')).toHaveLength(0);
    await user.clear(retention);
    await user.type(retention, '730');
    await user.click(screen.getByTestId('org-save'));
    await waitFor(() => expect(callsOf(calls, 'update_organization')).toHaveLength(1));
    expect(callsOf(calls, 'update_organization')[0].args.patch).toEqual({ seat_limit: 60, invitation_expiry_days: 7, audit_retention_days: 730, mfa_required: true });
  });

  it('creates a role with only the permissions the admin holds', async () => {
    const calls = renderSettings(ADMIN, { create_role: (args) => ({ ...(args.role as object), id: 'r-new', key: 'auditor', builtin: false, member_count: 0 }) });
    const user = userEvent.setup();
    await user.click(await screen.findByTestId('role-new'));
    const dialog = await screen.findByTestId('role-dialog');
    expect(within(dialog).getByTestId('perm-sessions.revoke')).toBeDisabled();
    expect(within(dialog).getByTestId('perm-sessions.revoke').closest('label')).toHaveAttribute('title', 'You do not hold sessions.revoke, so you cannot give it.');
    await user.type(within(dialog).getByTestId('role-name'), 'Auditor');
    await user.click(within(dialog).getByTestId('perm-audit.read'));
    await user.click(within(dialog).getByTestId('role-save'));
    await waitFor(() => expect(callsOf(calls, 'create_role')).toHaveLength(1));
    expect(callsOf(calls, 'create_role')[0].args.role).toEqual({ name: 'Auditor', permissions: ['users.read', 'audit.read'] });
  });

  it('deletes a department after asking where its members go', async () => {
    const calls = renderSettings(ADMIN, { delete_group: () => null });
    const user = userEvent.setup();
    const list = await screen.findByTestId('groups-list');
    await user.click(within(list).getByText('Delete…'));
    const dialog = await screen.findByTestId('group-delete-dialog');
    expect(dialog).toHaveTextContent('12 members will no longer be in Sales');
    await user.click(within(dialog).getByTestId('group-delete-ok'));
    await waitFor(() => expect(callsOf(calls, 'delete_group')).toHaveLength(1));
    expect(callsOf(calls, 'delete_group')[0].args).toEqual({ id: 'g-sales', moveTo: null });
  });

  it('is read-only without the permissions, and says so', async () => {
    renderSettings({ ...SESSION, permissions: ['users.read'] });
    expect(await screen.findByTestId('seat-usage')).toBeInTheDocument();
    expect(screen.getByTestId('org-seat-limit')).toBeDisabled();
    expect(screen.queryByTestId('org-save')).toBeNull();
    expect(screen.getByText('Changing these needs the org.settings permission.')).toBeInTheDocument();
    expect(screen.queryByTestId('role-new')).toBeNull();
  });
});

describe('activity kept on this computer', () => {
  it('shows what is cached and saves the window in days, checked first', async () => {
    const oldest = new Date(Date.now() - 29 * 24 * 3_600_000).toISOString();
    const calls = renderSettings(ADMIN, {
      activity_settings: () => ({ window_days: 30, cached_events: 12345, oldest_cached: oldest }),
      set_activity_window: (args) => ({ window_days: args.days, cached_events: 23456, oldest_cached: oldest }),
    });
    const days = await screen.findByTestId('activity-window-days');
    await waitFor(() => expect(days).toHaveValue(30));
    expect(screen.getByTestId('activity-cache-info')).toHaveTextContent(`${(12345).toLocaleString()} events kept here, the oldest from`);
    const user = userEvent.setup();
    await user.clear(days);
    await user.type(days, '400');
    await user.click(screen.getByTestId('activity-window-save'));
    expect(screen.getByTestId('activity-window-error')).toHaveTextContent('Enter 1 to 365 days.');
    expect(callsOf(calls, 'set_activity_window')).toHaveLength(0);
    await user.clear(days);
    await user.type(days, '90');
    await user.click(screen.getByTestId('activity-window-save'));
    await waitFor(() => expect(callsOf(calls, 'set_activity_window').map((c) => c.args)).toEqual([{ days: 90 }]));
    await waitFor(() => expect(screen.getByTestId('activity-cache-info')).toHaveTextContent(`${(23456).toLocaleString()} events kept here`));
    expect(screen.queryByTestId('activity-window-error')).toBeNull();
  });

  it('is not there without audit.read', async () => {
    const calls = renderSettings({ ...SESSION, permissions: ['users.read', 'org.settings'] });
    expect(await screen.findByTestId('seat-usage')).toBeInTheDocument();
    expect(screen.queryByTestId('settings-offline-activity')).toBeNull();
    expect(callsOf(calls, 'activity_settings')).toHaveLength(0);
  });
});

const SETUP: TotpSetup = { secret: 'JBSWY3DPEHPK3PXP', otpauth_uri: 'otpauth://totp/Gatehouse:owner?secret=JBSWY3DPEHPK3PXP', digits: 6, period: 30 };

describe('your account: two-factor authentication', () => {
  it('sets up an authenticator app in a dialog and says it is on', async () => {
    const calls = renderSettings(ADMIN, { start_mfa_enrollment: () => SETUP, confirm_mfa_enrollment: () => ADMIN });
    const user = userEvent.setup();
    expect(screen.queryByTestId('settings-mfa-done')).toBeNull();
    await user.click(await screen.findByTestId('settings-mfa-setup'));
    const dialog = await screen.findByTestId('mfa-dialog');
    expect(dialog).toHaveAccessibleName('Set up two-factor authentication');
    expect(await within(dialog).findByTestId('mfa-qr')).toBeInTheDocument();
    expect(within(dialog).queryByTestId('mfa-signout')).toBeNull();
    await user.type(within(dialog).getByTestId('mfa-code'), '123456{Enter}');

    expect(await screen.findByTestId('settings-mfa-done')).toHaveTextContent('Two-factor authentication is on.');
    expect(screen.getByTestId('settings-mfa-done')).toHaveAttribute('role', 'status');
    expect(screen.queryByTestId('mfa-dialog')).toBeNull();
    expect(callsOf(calls, 'confirm_mfa_enrollment').map((c) => c.args)).toEqual([{ code: '123456' }]);
  });

  it('Escape and Cancel close the dialog without enrolling', async () => {
    const calls = renderSettings(ADMIN, { start_mfa_enrollment: () => SETUP });
    const user = userEvent.setup();
    await user.click(await screen.findByTestId('settings-mfa-setup'));
    await screen.findByTestId('mfa-secret');
    await user.keyboard('{Escape}');
    await waitFor(() => expect(screen.queryByTestId('mfa-dialog')).toBeNull());
    await user.click(screen.getByTestId('settings-mfa-setup'));
    await user.click(await screen.findByTestId('mfa-cancel'));
    await waitFor(() => expect(screen.queryByTestId('mfa-dialog')).toBeNull());
    expect(callsOf(calls, 'confirm_mfa_enrollment')).toHaveLength(0);
    expect(screen.queryByTestId('settings-mfa-done')).toBeNull();
  });
});

function mail(overrides: Partial<MailMessage> = {}): MailMessage {
  return {
    id: 'm-1',
    kind: 'password_reset',
    to: 'dana@acme.test',
    subject: 'Reset your Gatehouse password',
    text: 'Hello Dana,\n\nChoose a new password: https://gatehouse.acme.test/reset-password?token=abc123\n\nThe link works once, for an hour.',
    html: '<p>Hello Dana</p>',
    created_at: new Date(Date.now() - 5 * 60_000).toISOString(),
    sent_at: null,
    attempts: 0,
    last_error: null,
    ...overrides,
  };
}

describe('demo mailbox', () => {
  it('lists the messages with their state and shows a message as text', async () => {
    renderSettings(ADMIN, {
      dev_mailbox: () => [
        mail(),
        mail({ id: 'm-2', to: 'fox@acme.test', subject: 'Welcome', sent_at: new Date().toISOString(), attempts: 1 }),
        mail({ id: 'm-3', to: 'x@acme.test', subject: 'Bounced', attempts: 3, last_error: 'relay refused: 550' }),
      ],
    });
    const list = await screen.findByTestId('mailbox-list');
    const rows = within(list).getAllByTestId('mailbox-row');
    expect(rows).toHaveLength(3);
    expect(rows[0]).toHaveTextContent('Reset your Gatehouse password');
    expect(rows[0]).toHaveTextContent('dana@acme.test');
    expect(rows[0]).toHaveTextContent('5m ago');
    expect(within(rows[0]).getByTestId('mailbox-status')).toHaveTextContent('queued');
    expect(within(rows[1]).getByTestId('mailbox-status')).toHaveTextContent('sent');
    expect(within(rows[2]).getByTestId('mailbox-status')).toHaveTextContent('error: relay refused: 550');
    expect(screen.queryByTestId('mailbox-message')).toBeNull();

    const user = userEvent.setup();
    await user.click(rows[0]);
    const message = await screen.findByTestId('mailbox-message');
    expect(message.tagName).toBe('PRE');
    expect(message.textContent).toContain('https://gatehouse.acme.test/reset-password?token=abc123');
    expect(rows[0]).toHaveAttribute('aria-expanded', 'true');
    await user.click(rows[0]);
    expect(screen.queryByTestId('mailbox-message')).toBeNull();
  });

  it('Refresh reads the mailbox again', async () => {
    let messages = [mail()];
    const calls = renderSettings(ADMIN, { dev_mailbox: () => messages });
    expect(await screen.findAllByTestId('mailbox-row')).toHaveLength(1);
    messages = [mail({ id: 'm-2', subject: 'Newer' }), mail()];
    await userEvent.setup().click(screen.getByTestId('mailbox-refresh'));
    await waitFor(() => expect(screen.getAllByTestId('mailbox-row')).toHaveLength(2));
    expect(screen.getAllByTestId('mailbox-row')[0]).toHaveTextContent('Newer');
    expect(callsOf(calls, 'dev_mailbox')).toHaveLength(2);
  });

  it('is not there when the server has no demo mailbox', async () => {
    const calls = renderSettings(ADMIN, {
      dev_mailbox: () => {
        throw { code: 'not_found', message: 'Not found', field: null, fields: [] };
      },
    });
    await screen.findByTestId('seat-usage');
    await waitFor(() => expect(callsOf(calls, 'dev_mailbox')).toHaveLength(1));
    expect(screen.queryByTestId('mailbox')).toBeNull();
    expect(screen.queryByText('Demo mailbox')).toBeNull();
    expect(screen.queryByRole('alert')).toBeNull();
  });
});

describe('provisioning', () => {
  const key = (id: string, role?: string): ApiKey => ({
    id,
    user_id: SESSION.user_id,
    name: `key ${id}`,
    prefix: `ghk_${id}`,
    created_at: '2026-11-20T08:00:00Z',
    last_used_at: null,
    suspended_at: null,
    suspended_reason: null,
    role,
  });

  it('gives the SCIM address and makes, shows once and lists only provisioning keys', async () => {
    const SECRET = 'ghk_Provisioning0123456789SECRET';
    const calls = renderSettings(ADMIN, {
      api_keys: () => [key('plain'), key('prov', 'scim')],
      create_api_key: (args) => ({ key: { ...key('new', 'scim'), name: args.name as string }, secret: SECRET }),
    });
    const section = await screen.findByTestId('settings-provisioning');
    expect(within(section).getByTestId('scim-base-url')).toHaveValue(`${SESSION.server_url.replace(/\/+$/, '')}/scim/v2`);
    // Only the keys limited to the SCIM role are listed here.
    await waitFor(() => expect(within(section).getAllByTestId('api-key-row').map((r) => r.dataset.keyId)).toEqual(['prov']));
    expect(callsOf(calls, 'api_keys')[0].args).toEqual({ userId: SESSION.user_id });

    const user = userEvent.setup();
    await user.type(within(section).getByTestId('api-key-name'), 'Entra ID');
    await user.click(within(section).getByTestId('api-key-create'));
    const box = await within(section).findByTestId('api-key-secret');
    expect(box).toHaveTextContent('Provisioning key “Entra ID” created');
    expect(within(box).getByDisplayValue(SECRET)).toHaveAttribute('readonly');
    expect(callsOf(calls, 'create_api_key').map((c) => c.args)).toEqual([{ userId: SESSION.user_id, name: 'Entra ID', expiresInDays: 90, role: 'scim' }]);
    expect(within(section).getAllByTestId('api-key-row').map((r) => r.dataset.keyId)).toEqual(['new', 'prov']);
    await user.click(within(box).getByTestId('api-key-secret-done'));
    expect(within(section).queryByDisplayValue(SECRET)).toBeNull();
  });

  it('says which permission is missing instead of offering a key that could not provision', async () => {
    const calls = renderSettings({ ...SESSION, permissions: ['users.read', 'users.manage'] });
    const section = await screen.findByTestId('settings-provisioning');
    expect(within(section).getByTestId('provisioning-needs')).toHaveTextContent('Provisioning keys need the org.settings permission.');
    expect(within(section).queryByTestId('api-key-form')).toBeNull();
    expect(callsOf(calls, 'api_keys')).toHaveLength(0);
  });

  it('is not shown to someone who cannot manage people', async () => {
    renderSettings({ ...SESSION, permissions: ['users.read'] });
    await screen.findByTestId('settings-page');
    expect(screen.queryByTestId('settings-provisioning')).toBeNull();
  });
});
