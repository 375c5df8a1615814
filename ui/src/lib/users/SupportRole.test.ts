// The demo's support role (users.read + audit.read, SPEC R2 and "support staff"): it
// reads the directory, the activity log and login attempts, and is offered no
// management action anywhere — not on the list, in a user's panel, in the command
// palette, on Settings, nor the Invitations and Sessions pages.
import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { SESSION, activityPage, histogram, makeAttempt, makeEvent, makeUser, page } from '../../test/fixtures';
import { callsOf, mockCommands } from '../../test/ipc';
import type { AuditEventQuery, HistogramBucket, Organization, SessionInfo } from '../bindings';
import UsersPage from './UsersPage.svelte';

const SUPPORT: SessionInfo = { ...SESSION, email: 'support@acme.test', user_id: 'u-support', display_name: 'Riley Chen', permissions: ['users.read', 'audit.read'] };
const dana = makeUser({ id: 'u-dana', first_name: 'Dana', last_name: 'Scully', display_name: 'Dana Scully', email: 'dana@acme.test', mfa_enabled: true, custom_attributes: { cost_center: 'CC-7' } });
const ORG: Organization = { id: 'org-1', name: 'Acme', seat_limit: 50, seats_used: 42, invitation_expiry_days: 7, mfa_required: false, audit_retention_days: 365 };

/** Test ids of every control that changes users, invitations, sessions or the organization. */
const MANAGEMENT = [
  'add-user',
  'select-all',
  'row-select',
  'bulk-bar',
  'detail-actions',
  'detail-edit',
  'detail-picture',
  'detail-deactivate',
  'detail-reactivate',
  'detail-remove',
  'reset-password',
  'reset-mfa',
  'unlock-sign-in',
  'force-logout',
  'detail-roles',
  'detail-groups',
  'attr-add',
  'attr-remove-cost_center',
  'nav-invitations',
  'nav-sessions',
  'org-save',
  'group-add',
  'role-new',
];

function renderSupport() {
  const calls = mockCommands({
    list_users: () => page([dana]),
    activity: () => activityPage([makeEvent({ id: 'e-1' })]),
    activity_histogram: (args) => histogram(args.bucket as HistogramBucket, (args.query as AuditEventQuery).from!, [2]),
    login_attempts: () => ({ items: [makeAttempt({ id: 1, user_id: 'u-dana', email: 'dana@acme.test' })], next_cursor: null }),
    organization: () => ORG,
    roles: () => [],
    groups: () => [],
    dev_mailbox: () => {
      throw { code: 'not_found', message: 'No mailbox', field: null, fields: [] };
    },
  });
  render(UsersPage, { props: { session: SUPPORT, onSessionEnded: vi.fn(), onSignedOut: vi.fn() } });
  return calls;
}

function expectNoManagement() {
  for (const testid of MANAGEMENT) expect(screen.queryAllByTestId(testid), testid).toHaveLength(0);
}

describe('the support role', () => {
  it('reads users, their activity and login attempts, and is offered no management action', async () => {
    const calls = renderSupport();
    const user = userEvent.setup();
    await screen.findByText('Dana Scully');
    expect(['nav-users', 'nav-activity', 'nav-attempts', 'nav-settings'].map((id) => !!screen.queryByTestId(id))).toEqual([true, true, true, true]);
    expectNoManagement();

    // The panel: read only, with the activity and login attempts tabs and no sessions or keys.
    await user.click(screen.getByText('Dana Scully'));
    const panel = await screen.findByTestId('user-detail');
    expectNoManagement();
    expect(within(panel).getAllByRole('tab').map((t) => t.textContent?.trim())).toEqual(['Profile', 'Activity', 'Login attempts']);
    expect(within(panel).getByTestId('notify-security_alerts')).toBeDisabled();
    expect(within(panel).queryByTestId('attr-value-cost_center')).toBeNull();
    expect(panel).toHaveTextContent('CC-7');
    await user.click(within(panel).getByTestId('tab-activity'));
    expect(await within(panel).findByTestId('user-activity-row')).toBeInTheDocument();
    await user.click(within(panel).getByTestId('detail-close'));

    // The command palette opens users but forces no logout.
    await user.keyboard('{Control>}k{/Control}');
    await user.type(await screen.findByTestId('palette-input'), 'dana');
    const kinds = () => screen.getAllByTestId('palette-result').map((r) => r.getAttribute('data-kind'));
    await waitFor(() => expect(kinds()).toContain('open'));
    expect(kinds()).not.toContain('logout');
    await user.clear(screen.getByTestId('palette-input'));
    await user.type(screen.getByTestId('palette-input'), 'go to');
    await waitFor(() => expect(screen.getAllByTestId('palette-result').map((r) => r.textContent?.trim())).toEqual(['Go to Users', 'Go to Login attempts', 'Go to Activity log']));
    await user.keyboard('{Escape}');

    await user.click(screen.getByTestId('nav-activity'));
    expect(await screen.findAllByTestId('activity-row')).toHaveLength(1);
    expect(screen.getByTestId('activity-export')).toBeEnabled();
    expectNoManagement();

    await user.click(screen.getByTestId('nav-attempts'));
    expect(await screen.findAllByTestId('attempt-row')).toHaveLength(1);
    expectNoManagement();

    // Settings: the organization read only; this computer's offline window is theirs to set.
    await user.click(screen.getByTestId('nav-settings'));
    expect(await screen.findByTestId('seat-usage')).toHaveTextContent('42 of 50 seats in use');
    expect(screen.getByTestId('org-seat-limit')).toBeDisabled();
    expect(screen.getByTestId('org-mfa')).toBeDisabled();
    expect(await screen.findByTestId('activity-window-days')).toHaveValue(30);
    expectNoManagement();

    expect(callsOf(calls, 'list_sessions')).toHaveLength(0);
    expect(callsOf(calls, 'list_invitations')).toHaveLength(0);
  });
});
