// The invite dialog (SPEC I1, I2, I8): several addresses parsed and checked before
// sending, Member by default, roles the admin may not grant disabled with the reason,
// the tenant only for Microsoft, the server's field errors on their fields, and the
// seat limit.
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { DIRECTORY, SESSION, invitationPage, ipcError, makeInvitation } from '../../test/fixtures';
import { callsOf, deferred, mockCommands } from '../../test/ipc';
import type { IpcError, NewInvitations, Organization, SessionInfo } from '../bindings';
import InvitationsPage from './InvitationsPage.svelte';

type Handlers = Record<string, (args: Record<string, unknown>) => unknown>;

const INVITER: SessionInfo = { ...SESSION, permissions: ['users.read', 'invitations.manage'] };
const ORG: Organization = { id: 'org-1', name: 'Acme', seat_limit: 25, seats_used: 12, invitation_expiry_days: 14, mfa_required: false, audit_retention_days: 365 };

async function openDialog(handlers: Handlers = {}, session: SessionInfo = INVITER) {
  // Seats taken move with the invitations, as on the server.
  let used = ORG.seats_used;
  const calls = mockCommands({
    list_invitations: () => invitationPage([]),
    organization: () => ({ ...ORG, seats_used: used }),
    invite: (args) => {
      const req = args.invitations as NewInvitations;
      used += req.emails.length;
      return { invitations: req.emails.map((email) => makeInvitation({ email })), seats: { used, limit: ORG.seat_limit } };
    },
    ...handlers,
  });
  render(InvitationsPage, { props: { session, directory: DIRECTORY, now: new Date(), revision: 0, onSessionEnded: vi.fn(), onChanged: vi.fn() } });
  const user = userEvent.setup();
  await screen.findByTestId('seat-usage');
  await user.click(screen.getByTestId('invite-button'));
  const dialog = await screen.findByTestId('invite-dialog');
  return { calls, user, dialog };
}

const sent = (calls: { cmd: string; args: Record<string, unknown> }[]) => callsOf(calls, 'invite').map((c) => c.args.invitations as NewInvitations);

describe('invite dialog', () => {
  it('invites several addresses separated by commas, semicolons and lines, as Member by default', async () => {
    const { calls, user, dialog } = await openDialog();
    const emails = within(dialog).getByTestId('invite-emails');
    expect(emails).toHaveFocus();
    expect(within(dialog).getByTestId('invite-count')).toHaveTextContent('No addresses yet');
    await user.type(emails, 'ana@example.com, ben@example.com;{Enter}cy@example.com');
    expect(within(dialog).getByTestId('invite-count')).toHaveTextContent('3 addresses');
    expect(within(dialog).getByTestId('invite-seats')).toHaveTextContent('13 seats free; this invites 3');
    expect(within(dialog).getByTestId('invite-role-member')).toBeChecked();
    // A separate notification address goes with one invited address only.
    expect(within(dialog).queryByTestId('invite-notify-email')).toBeNull();
    expect(dialog).toHaveTextContent('Invitations expire after 14 days');

    await user.click(within(dialog).getByTestId('invite-department-g-sales'));
    await user.type(within(dialog).getByTestId('invite-message'), '  Welcome aboard!  ');
    expect(within(dialog).getByTestId('invite-submit')).toHaveTextContent('Invite 3 people');
    await user.click(within(dialog).getByTestId('invite-submit'));

    expect(await screen.findByTestId('invitations-notice')).toHaveTextContent('Invited 3 people.');
    expect(screen.queryByTestId('invite-dialog')).toBeNull();
    expect(sent(calls)).toEqual([
      {
        emails: ['ana@example.com', 'ben@example.com', 'cy@example.com'],
        roles: ['member'],
        departments: ['g-sales'],
        message: 'Welcome aboard!',
        notify_email: null,
        identity_provider: 'any',
        tenant_id: null,
      },
    ]);
    expect(screen.getByTestId('seat-usage')).toHaveTextContent('15 of 25 seats used');
  });

  it('names the addresses that are not e-mail addresses and sends nothing', async () => {
    const { calls, user, dialog } = await openDialog();
    await fireEvent.input(within(dialog).getByTestId('invite-emails'), { target: { value: 'ana@example.com, bob@, carl example.com\nd@localhost' } });
    expect(within(dialog).getByTestId('invite-count')).toHaveTextContent('4 addresses');
    await user.click(within(dialog).getByTestId('invite-submit'));
    const error = within(dialog).getByTestId('invite-emails-error');
    expect(error).toHaveTextContent('Not e-mail addresses: bob@, carl example.com, d@localhost.');
    expect(within(dialog).getByTestId('invite-emails')).toHaveAttribute('aria-invalid', 'true');
    expect(callsOf(calls, 'invite')).toHaveLength(0);

    await fireEvent.input(within(dialog).getByTestId('invite-emails'), { target: { value: 'ana@example.com\nANA@example.com' } });
    await user.click(within(dialog).getByTestId('invite-submit'));
    expect(within(dialog).getByTestId('invite-emails-error')).toHaveTextContent('ANA@example.com is listed twice.');
    expect(callsOf(calls, 'invite')).toHaveLength(0);
  });

  it('disables roles the admin cannot grant and says why', async () => {
    const { dialog } = await openDialog();
    const manager = within(dialog).getByTestId('invite-role-manager');
    expect(manager).toBeDisabled();
    expect(manager.closest('label')).toHaveAttribute('title', 'This role includes users.manage, which you do not have.');
    expect(within(dialog).getByTestId('invite-role-owner')).toBeDisabled();
    expect(within(dialog).getByTestId('invite-role-member')).toBeEnabled();
  });

  it('asks for a tenant only for Microsoft Entra ID, and for a notification address only with one address', async () => {
    const { calls, user, dialog } = await openDialog();
    const provider = within(dialog).getByTestId('invite-provider');
    expect(within(dialog).queryByTestId('invite-tenant')).toBeNull();
    await user.selectOptions(provider, 'microsoft');
    expect(within(dialog).getByTestId('invite-tenant')).toBeInTheDocument();
    await user.selectOptions(provider, 'google');
    expect(within(dialog).queryByTestId('invite-tenant')).toBeNull();
    await user.selectOptions(provider, 'microsoft');
    await user.type(within(dialog).getByTestId('invite-tenant'), 'contoso.onmicrosoft.com');

    await user.type(within(dialog).getByTestId('invite-emails'), 'dana@example.com');
    await user.type(within(dialog).getByTestId('invite-notify-email'), 'dana.private@example.org');
    // Ctrl+Enter in the addresses sends.
    await user.click(within(dialog).getByTestId('invite-emails'));
    await user.keyboard('{Control>}{Enter}{/Control}');

    await screen.findByTestId('invitations-notice');
    expect(sent(calls)).toEqual([
      {
        emails: ['dana@example.com'],
        roles: ['member'],
        departments: [],
        message: null,
        notify_email: 'dana.private@example.org',
        identity_provider: 'microsoft',
        tenant_id: 'contoso.onmicrosoft.com',
      },
    ]);
    expect(screen.getByTestId('invitations-notice')).toHaveTextContent('Invited 1 person.');
  });

  it("puts the server's field errors on their fields", async () => {
    const refusal: IpcError = {
      code: 'invalid_input',
      message: 'ana@example.com already has an invitation; resend it from the Invitations list instead.',
      field: 'emails',
      fields: [
        { field: 'emails', message: 'ana@example.com already has an invitation; resend it from the Invitations list instead.' },
        { field: 'tenant_id', message: 'A tenant ID is one word, such as a GUID or contoso.onmicrosoft.com.' },
      ],
    };
    const { user, dialog } = await openDialog({
      invite: () => {
        throw refusal;
      },
    });
    await user.type(within(dialog).getByTestId('invite-emails'), 'ana@example.com');
    await user.selectOptions(within(dialog).getByTestId('invite-provider'), 'microsoft');
    await user.type(within(dialog).getByTestId('invite-tenant'), 'contoso');
    await user.click(within(dialog).getByTestId('invite-submit'));

    expect(await within(dialog).findByTestId('invite-emails-error')).toHaveTextContent('ana@example.com already has an invitation');
    expect(within(dialog).getByTestId('invite-tenant-error')).toHaveTextContent('A tenant ID is one word');
    expect(within(dialog).getByTestId('invite-tenant')).toHaveAttribute('aria-invalid', 'true');
    expect(within(dialog).queryByTestId('invite-error')).toBeNull();
    expect(screen.getByTestId('invite-dialog')).toBeInTheDocument();
  });

  it('shows the seat limit refusal with the usage, and keeps what was typed', async () => {
    const message =
      '24 of 25 seats are in use, so 1 more can be invited and this needs 2; raise the seat limit in Settings, or revoke invitations or deactivate users first.';
    const { calls, user, dialog } = await openDialog({
      organization: () => ({ ...ORG, seats_used: 24 }),
      invite: () => {
        throw ipcError('server_error', message);
      },
    });
    await user.type(within(dialog).getByTestId('invite-emails'), 'ana@example.com, ben@example.com');
    const seats = within(dialog).getByTestId('invite-seats');
    expect(seats).toHaveTextContent('1 seat free; this invites 2 — 1 more than are free');
    expect(seats).toHaveClass('warn');
    await user.click(within(dialog).getByTestId('invite-submit'));

    expect(await within(dialog).findByTestId('invite-error')).toHaveTextContent(message);
    expect(within(dialog).getByTestId('invite-emails')).toHaveValue('ana@example.com, ben@example.com');
    expect(callsOf(calls, 'invite')).toHaveLength(1);
    expect(screen.queryByTestId('invitations-notice')).toBeNull();
  });

  it('offline: says inviting needs the server; Escape closes the dialog', async () => {
    const { user, dialog } = await openDialog({
      invite: () => {
        throw ipcError('unreachable', 'Cannot reach server at https://gatehouse.acme.test');
      },
    });
    await user.type(within(dialog).getByTestId('invite-emails'), 'ana@example.com');
    await user.click(within(dialog).getByTestId('invite-submit'));
    expect(await within(dialog).findByTestId('invite-error')).toHaveTextContent('Inviting needs a connection to the server. Cannot reach server');
    await user.keyboard('{Escape}');
    await waitFor(() => expect(screen.queryByTestId('invite-dialog')).toBeNull());
    expect(screen.getByTestId('invite-button')).toHaveFocus();
  });
});

describe('invite dialog, while inviting', () => {
  it('stays open until the server answers, so a refusal is not lost', async () => {
    const answer = deferred<never>();
    const { user, dialog } = await openDialog({ invite: () => answer.promise });
    await user.type(within(dialog).getByTestId('invite-emails'), 'ana@example.com');
    await user.click(within(dialog).getByTestId('invite-submit'));
    expect(within(dialog).getByTestId('invite-submit')).toHaveTextContent('Inviting…');
    await user.click(within(dialog).getByTestId('invite-emails'));
    await user.keyboard('{Escape}');
    expect(screen.getByTestId('invite-dialog')).toBeInTheDocument();
    expect(within(dialog).getByText('Cancel')).toBeDisabled();

    answer.reject(ipcError('server_error', 'Every seat is taken.'));
    expect(await within(dialog).findByTestId('invite-error')).toHaveTextContent('Every seat is taken.');
    expect(within(dialog).getByText('Cancel')).toBeEnabled();
    await user.keyboard('{Escape}');
    await waitFor(() => expect(screen.queryByTestId('invite-dialog')).toBeNull());
  });
});
