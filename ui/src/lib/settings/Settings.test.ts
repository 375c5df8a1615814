// Settings (SPEC O1–O3): seat usage and the organization form with its checks, the
// roles editor's permission boxes (only what the admin holds), departments, and a
// read-only view for someone without the permissions.
import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { SESSION } from '../../test/fixtures';
import { callsOf, mockCommands } from '../../test/ipc';
import type { Group, Organization, Role, SessionInfo } from '../bindings';
import SettingsPage from './SettingsPage.svelte';

const ORG: Organization = { id: 'org-1', name: 'Acme', seat_limit: 50, seats_used: 42, invitation_expiry_days: 7, mfa_required: false };
const ROLES: Role[] = [
  { id: 'r-owner', key: 'owner', name: 'Owner', builtin: true, permissions: ['users.read', 'users.manage', 'roles.manage', 'org.settings'], member_count: 1 },
  { id: 'r-support', key: 'support', name: 'Support', builtin: false, permissions: ['users.read', 'audit.read'], member_count: 3 },
];
const GROUPS: Group[] = [{ id: 'g-sales', name: 'Sales', kind: 'department', member_count: 12 }];
const ADMIN: SessionInfo = { ...SESSION, permissions: ['users.read', 'users.manage', 'roles.manage', 'org.settings', 'audit.read'] };

function renderSettings(session: SessionInfo, handlers: Record<string, (args: Record<string, unknown>) => unknown> = {}) {
  const calls = mockCommands({ organization: () => ORG, roles: () => ROLES, groups: () => GROUPS, ...handlers });
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
    await user.click(screen.getByTestId('org-save'));
    await waitFor(() => expect(callsOf(calls, 'update_organization')).toHaveLength(1));
    expect(callsOf(calls, 'update_organization')[0].args.patch).toEqual({ seat_limit: 60, invitation_expiry_days: 7, mfa_required: true });
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
