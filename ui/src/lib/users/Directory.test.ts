// The users page as a directory (issue 4): the detail panel and its confirmed actions,
// creating users with field errors from the server, bulk actions with a result per
// user, remembered filters, the CSV export's progress, what a Member does not see, and
// the rank rule: an Owner is out of an Admin's reach though both hold the same permissions.
import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { DIRECTORY, SESSION, makeUser, page } from '../../test/fixtures';
import { deactivateBlocked, outranking, roleToggleBlocked } from './permissions';
import { callsOf, deferred, listQueries, mockCommands } from '../../test/ipc';
import type { BulkResponse, Directory, ExportStatus, SessionInfo } from '../bindings';
import UsersPage from './UsersPage.svelte';

const OWNER_SESSION: SessionInfo = {
  ...SESSION,
  permissions: ['users.read', 'users.manage', 'sessions.revoke', 'roles.manage', 'org.settings'],
  owner: true,
};
const MEMBER_SESSION: SessionInfo = { ...SESSION, user_id: 'u-member', permissions: ['users.read'] };

const dana = makeUser({ id: 'u-dana', first_name: 'Dana', last_name: 'Scully', display_name: 'Dana Scully', email: 'dana@acme.test' });
const fox = makeUser({ id: 'u-fox', first_name: 'Fox', last_name: 'Mulder', display_name: 'Fox Mulder', email: 'fox@acme.test' });
const me = makeUser({ id: SESSION.user_id, first_name: 'Olivia', last_name: 'Owner', display_name: 'Olivia Owner', email: 'owner@acme.test' });

function renderPage(session: SessionInfo, handlers: Record<string, (args: Record<string, unknown>) => unknown> = {}) {
  const calls = mockCommands({ list_users: () => page([dana, fox, me]), ...handlers });
  render(UsersPage, { props: { session, onSessionEnded: vi.fn(), onSignedOut: vi.fn() } });
  return calls;
}

async function openRow(name: string) {
  const user = userEvent.setup();
  await screen.findByText('Dana Scully');
  const row = screen.getAllByTestId('user-row').find((r) => r.textContent?.includes(name));
  await user.click(within(row!).getByText(name));
  return { user, panel: await screen.findByTestId('user-detail') };
}

describe('the directory', () => {
  it('deactivates after a confirmation that says what happens, through the outbox', async () => {
    const calls = renderPage(OWNER_SESSION, { user_action: () => ({}) });
    const { user, panel } = await openRow('Dana Scully');
    await user.click(within(panel).getByTestId('detail-deactivate'));
    const confirm = await screen.findByTestId('confirm-deactivate');
    expect(confirm).toHaveTextContent('signed out everywhere at once');
    expect(confirm).toHaveTextContent('API keys are suspended');
    expect(confirm).toHaveTextContent('seat is freed');
    await user.click(within(confirm).getByTestId('confirm-ok'));
    await waitFor(() => expect(callsOf(calls, 'user_action')).toHaveLength(1));
    expect(callsOf(calls, 'user_action')[0].args).toEqual({ userId: 'u-dana', action: 'deactivate' });
  });

  it('disables what the admin may not do and says why', async () => {
    renderPage(OWNER_SESSION);
    const { panel } = await openRow('Olivia Owner');
    const deactivate = within(panel).getByTestId('detail-deactivate');
    expect(deactivate).toBeDisabled();
    expect(deactivate.parentElement).toHaveAttribute('title', 'You cannot deactivate yourself; ask another admin.');
    const remove = within(panel).getByTestId('detail-remove');
    expect(remove).toBeDisabled();
    expect(remove.parentElement?.getAttribute('title')).toContain('Deactivate Olivia Owner first');
  });

  it('toggles a role as a queued edit of the whole role list', async () => {
    const calls = renderPage(OWNER_SESSION, { update_user: () => ({}) });
    const { user, panel } = await openRow('Dana Scully');
    await user.click(within(panel).getByTestId('role-toggle-manager'));
    await waitFor(() => expect(callsOf(calls, 'update_user')).toHaveLength(1));
    expect(callsOf(calls, 'update_user')[0].args).toEqual({ userId: 'u-dana', patch: { roles: ['r-member', 'r-manager'] } });
  });

  it('shows a Member the list and no management actions', async () => {
    renderPage(MEMBER_SESSION);
    await screen.findByText('Dana Scully');
    expect(screen.queryByTestId('add-user')).toBeNull();
    expect(screen.queryByTestId('select-all')).toBeNull();
    expect(screen.queryByTestId('nav-settings')).toBeNull();
    const { panel } = await openRow('Dana Scully');
    expect(within(panel).queryByTestId('detail-actions')).toBeNull();
    expect(within(panel).queryByTestId('detail-roles')).toBeNull();
    expect(panel).toHaveTextContent('Member');
  });

  it('creates a user and shows a taken e-mail on its field', async () => {
    const calls = renderPage(OWNER_SESSION, {
      create_user: () => {
        throw {
          code: 'invalid_input',
          message: 'dana@acme.test is already used by Dana Scully.',
          field: 'email',
          fields: [{ field: 'email', message: 'dana@acme.test is already used by Dana Scully.' }],
        };
      },
    });
    const user = userEvent.setup();
    await user.click(await screen.findByTestId('add-user'));
    const dialog = await screen.findByTestId('create-user-dialog');
    await user.click(within(dialog).getByTestId('create-user-save'));
    // Checked here first: nothing is sent while fields are missing.
    expect(within(dialog).getByTestId('create-first-name-error')).toBeInTheDocument();
    expect(callsOf(calls, 'create_user')).toHaveLength(0);
    await user.type(within(dialog).getByTestId('create-first-name'), 'Dana');
    await user.type(within(dialog).getByTestId('create-last-name'), 'Scully');
    await user.type(within(dialog).getByTestId('create-email'), 'dana@acme.test');
    await user.type(within(dialog).getByTestId('create-password'), 'trust no one');
    await user.click(within(dialog).getByTestId('create-user-save'));
    expect(await within(dialog).findByTestId('create-email-error')).toHaveTextContent('already used by Dana Scully');
    expect(callsOf(calls, 'create_user')[0].args.user).toMatchObject({
      first_name: 'Dana',
      email: 'dana@acme.test',
      roles: ['r-member'],
      departments: [],
    });
  });

  it('keeps the create dialog open until the server answers, so a refusal is not lost', async () => {
    const answer = deferred<never>();
    renderPage(OWNER_SESSION, { create_user: () => answer.promise });
    const user = userEvent.setup();
    await user.click(await screen.findByTestId('add-user'));
    const dialog = await screen.findByTestId('create-user-dialog');
    await user.type(within(dialog).getByTestId('create-first-name'), 'Kim');
    await user.type(within(dialog).getByTestId('create-last-name'), 'Lee');
    await user.type(within(dialog).getByTestId('create-email'), 'kim@acme.test');
    await user.type(within(dialog).getByTestId('create-password'), 'trust no one');
    await user.click(within(dialog).getByTestId('create-user-save'));
    await user.keyboard('{Escape}');
    expect(screen.getByTestId('create-user-dialog')).toBeInTheDocument();
    expect(within(dialog).getByText('Cancel')).toBeDisabled();
    answer.reject({ code: 'server_error', message: 'All 25 seats are taken.', field: null, fields: [] });
    expect(await within(dialog).findByTestId('create-user-error')).toHaveTextContent('All 25 seats are taken.');
    await user.keyboard('{Escape}');
    await waitFor(() => expect(screen.queryByTestId('create-user-dialog')).toBeNull());
  });

  it('ticks Member in the create dialog also when the roles arrive after it opened', async () => {
    const roles = deferred<Directory>();
    renderPage(OWNER_SESSION, { directory: () => roles.promise });
    const user = userEvent.setup();
    await user.click(await screen.findByTestId('add-user'));
    const dialog = await screen.findByTestId('create-user-dialog');
    roles.resolve(DIRECTORY);
    await waitFor(() => expect(within(dialog).getByTestId('create-role-member')).toBeChecked());
  });

  it('applies a bulk role change and reports each user', async () => {
    const answer: BulkResponse = {
      succeeded: 1,
      failed: 1,
      results: [
        { user_id: 'u-dana', ok: true, status: 200 },
        { user_id: 'u-fox', ok: false, status: 403, code: 'forbidden', message: 'Granting the Admin role needs roles.manage.' },
      ],
    };
    const calls = renderPage(OWNER_SESSION, { bulk_action: () => answer });
    const user = userEvent.setup();
    await screen.findByText('Dana Scully');
    const ticks = screen.getAllByTestId('row-select');
    await user.click(ticks[0]);
    await user.click(ticks[1]);
    const bar = screen.getByTestId('bulk-bar');
    expect(within(bar).getByTestId('bulk-count')).toHaveTextContent('2 selected');
    await user.selectOptions(within(bar).getByTestId('bulk-action'), 'add_role');
    await user.selectOptions(within(bar).getByTestId('bulk-target'), 'r-admin');
    await user.click(within(bar).getByTestId('bulk-apply'));
    await user.click(await screen.findByTestId('bulk-confirm-ok'));
    const result = await screen.findByTestId('bulk-result');
    expect(within(result).getByTestId('bulk-summary')).toHaveTextContent('Applied to 1 of 2 users');
    expect(within(result).getByTestId('bulk-failure')).toHaveTextContent('Fox Mulder: Granting the Admin role needs roles.manage.');
    expect(callsOf(calls, 'bulk_action')[0].args.request).toEqual({ action: 'add_role', role: 'r-admin', user_ids: ['u-dana', 'u-fox'] });
  });

  it('leaves out ticked users who outrank the admin, names them, and offers no role the admin may not grant', async () => {
    // A Manager: users.manage, but not roles.manage or org.settings.
    const manager: SessionInfo = { ...OWNER_SESSION, owner: false, permissions: ['users.read', 'users.manage'] };
    const admin = makeUser({ id: 'u-skinner', display_name: 'Walter Skinner', first_name: 'Walter', last_name: 'Skinner', roles: [{ id: 'r-admin', key: 'admin', name: 'Admin' }] });
    const calls = mockCommands({
      list_users: () => page([dana, admin, me]),
      bulk_action: () => ({ action: 'deactivate', succeeded: 1, failed: 0, results: [{ user_id: 'u-dana', ok: true, status: 200 }] }),
    });
    render(UsersPage, { props: { session: manager, onSessionEnded: vi.fn(), onSignedOut: vi.fn() } });
    const user = userEvent.setup();
    await screen.findByText('Walter Skinner');
    const rows = screen.getAllByTestId('user-row');
    for (const name of ['Dana Scully', 'Walter Skinner']) {
      await user.click(within(rows.find((r) => r.textContent?.includes(name))!).getByTestId('row-select'));
    }
    const bar = screen.getByTestId('bulk-bar');
    expect(within(bar).getByTestId('bulk-out-of-reach')).toHaveTextContent('1 out of your reach, left out');
    await user.selectOptions(within(bar).getByTestId('bulk-action'), 'add_role');
    const options = within(within(bar).getByTestId('bulk-target')).getAllByRole('option') as HTMLOptionElement[];
    const disabled = options.filter((o) => o.disabled).map((o) => o.textContent?.trim());
    expect(disabled).toEqual(['Owner (not yours to grant)', 'Admin (not yours to grant)']);
    await user.selectOptions(within(bar).getByTestId('bulk-action'), 'deactivate');
    await user.click(within(bar).getByTestId('bulk-apply'));
    const confirm = await screen.findByTestId('bulk-confirm');
    expect(within(confirm).getByTestId('bulk-left-out')).toHaveTextContent('Left out, as out of your reach: Walter Skinner');
    await user.click(within(confirm).getByTestId('bulk-confirm-ok'));
    await screen.findByTestId('bulk-result');
    expect(callsOf(calls, 'bulk_action')[0].args.request).toEqual({ action: 'deactivate', user_ids: ['u-dana'] });
  });

  it('judges ticked users as the list shows them now, not as they were when ticked', async () => {
    const manager: SessionInfo = { ...OWNER_SESSION, owner: false, permissions: ['users.read', 'users.manage'] };
    let rows = [dana, fox, me];
    mockCommands({ list_users: () => page(rows) });
    render(UsersPage, { props: { session: manager, onSessionEnded: vi.fn(), onSignedOut: vi.fn() } });
    const user = userEvent.setup();
    await screen.findByText('Dana Scully');
    await user.click(within(screen.getAllByTestId('user-row').find((r) => r.textContent?.includes('Dana Scully'))!).getByTestId('row-select'));
    expect(within(screen.getByTestId('bulk-bar')).queryByTestId('bulk-out-of-reach')).toBeNull();
    // Meanwhile Dana was made an Admin; the list is read again.
    rows = [{ ...dana, roles: [{ id: 'r-admin', key: 'admin', name: 'Admin' }] }, fox, me];
    await user.type(screen.getByTestId('users-search'), 'a');
    await waitFor(() => expect(within(screen.getByTestId('bulk-bar')).getByTestId('bulk-out-of-reach')).toHaveTextContent('1 out of your reach'));
  });

  it('remembers the filters across restarts', async () => {
    localStorage.setItem(`gatehouse.filters.${SESSION.server_url}|${SESSION.email}`, JSON.stringify({ q: 'dan', status: 'active', role: 'r-manager', department: '' }));
    const calls = renderPage(OWNER_SESSION);
    await waitFor(() => expect(listQueries(calls).length).toBeGreaterThan(0));
    expect(listQueries(calls)[0]).toEqual({ q: 'dan', status: 'active', role: 'r-manager', limit: 100 });
    const user = userEvent.setup();
    await user.selectOptions(await screen.findByTestId('filter-department'), 'g-sales');
    const saved = JSON.parse(localStorage.getItem(`gatehouse.filters.${SESSION.server_url}|${SESSION.email}`) ?? '{}');
    expect(saved).toEqual({ q: 'dan', status: 'active', role: 'r-manager', department: 'g-sales' });
  });

  it('exports the filtered list with progress', async () => {
    const states: ExportStatus[] = [
      { running: true, done: 500, total: 1000, path: null, error: null },
      { running: false, done: 1000, total: 1000, path: '/home/a/Downloads/gatehouse-users.csv', error: null },
    ];
    const calls = renderPage(OWNER_SESSION, { start_export: () => null, export_status: () => states.shift() ?? states[0] });
    const user = userEvent.setup();
    await screen.findByText('Dana Scully');
    await user.click(screen.getByTestId('export-csv'));
    expect(await screen.findByTestId('export-done')).toHaveTextContent('Saved 1000 users to /home/a/Downloads/gatehouse-users.csv');
    expect(callsOf(calls, 'start_export')[0].args).toEqual({ query: {} });
  });

  it('edits custom attributes in place, refusing a reserved key before queuing', async () => {
    const withAttr = { ...dana, custom_attributes: { cost_center: 'CC-1' } };
    const calls = mockCommands({ list_users: () => page([withAttr, fox, me]), update_user: () => ({}) });
    render(UsersPage, { props: { session: OWNER_SESSION, onSessionEnded: vi.fn(), onSignedOut: vi.fn() } });
    const { user, panel } = await openRow('Dana Scully');
    // A reserved key is told at once and nothing is queued.
    await user.type(within(panel).getByTestId('attr-new-key'), 'email');
    await user.type(within(panel).getByTestId('attr-new-value'), 'x');
    await user.click(within(panel).getByTestId('attr-add'));
    expect(await within(panel).findByTestId('attr-new-error')).toHaveTextContent('names a built-in field');
    expect(callsOf(calls, 'update_user')).toHaveLength(0);
    // A good one is queued as one attribute.
    await user.clear(within(panel).getByTestId('attr-new-key'));
    await user.type(within(panel).getByTestId('attr-new-key'), 'badge');
    await user.click(within(panel).getByTestId('attr-add'));
    await waitFor(() => expect(callsOf(calls, 'update_user')).toHaveLength(1));
    expect(callsOf(calls, 'update_user')[0].args).toEqual({ userId: 'u-dana', patch: { custom_attributes: { badge: 'x' } } });
    // Changing a value queues it on leaving the field; ✕ removes it.
    const value = within(panel).getByTestId('attr-value-cost_center');
    await user.clear(value);
    await user.type(value, 'CC-2{Enter}');
    await user.tab();
    await waitFor(() => expect(callsOf(calls, 'update_user')).toHaveLength(2));
    expect(callsOf(calls, 'update_user')[1].args.patch).toEqual({ custom_attributes: { cost_center: 'CC-2' } });
    await user.click(within(panel).getByTestId('attr-remove-cost_center'));
    await waitFor(() => expect(callsOf(calls, 'update_user')).toHaveLength(3));
    expect(callsOf(calls, 'update_user')[2].args.patch).toEqual({ custom_attributes: { cost_center: null } });
  });

  it("shows the server's field error on the attribute it is about", async () => {
    const refused = {
      code: 'invalid_input',
      message: 'A value has at most 1000 characters.',
      field: null,
      fields: [{ field: 'custom_attributes.badge', message: 'A value has at most 1000 characters.' }],
    };
    renderPage(OWNER_SESSION, {
      update_user: () => {
        throw refused;
      },
    });
    const { user, panel } = await openRow('Dana Scully');
    await user.type(within(panel).getByTestId('attr-new-key'), 'badge');
    await user.type(within(panel).getByTestId('attr-new-value'), 'v');
    await user.click(within(panel).getByTestId('attr-add'));
    expect(await within(panel).findByTestId('attr-new-error')).toHaveTextContent('at most 1000 characters');
    expect(within(panel).getByTestId('attr-new-key')).toHaveValue('badge');
  });

  it('toggles a notification preference as a queued edit of all three', async () => {
    const calls = renderPage(OWNER_SESSION, { update_user: () => ({}) });
    const { user, panel } = await openRow('Dana Scully');
    await user.click(within(panel).getByTestId('notify-weekly_digest'));
    await waitFor(() => expect(callsOf(calls, 'update_user')).toHaveLength(1));
    expect(callsOf(calls, 'update_user')[0].args.patch).toEqual({
      notification_preferences: { security_alerts: true, account_changes: true, weekly_digest: true },
    });
  });

  it('uploads a picture, refusing a file that is too large or not an image before sending', async () => {
    const calls = renderPage(OWNER_SESSION, { upload_avatar: () => dana });
    const { user, panel } = await openRow('Dana Scully');
    await user.click(within(panel).getByTestId('detail-picture'));
    const dialog = await screen.findByTestId('picture-dialog');
    const input = within(dialog).getByTestId('picture-file');
    await user.upload(input, new File([new Uint8Array(600 * 1024)], 'big.png', { type: 'image/png' }));
    expect(await within(dialog).findByTestId('picture-file-error')).toHaveTextContent('at most 512 KiB');
    // (The input's accept list would hide a PDF in the file picker; a drop still arrives.)
    await userEvent.setup({ applyAccept: false }).upload(input, new File(['%PDF'], 'doc.pdf', { type: 'application/pdf' }));
    expect(within(dialog).getByTestId('picture-file-error')).toHaveTextContent('PNG, JPEG, GIF or WebP');
    expect(callsOf(calls, 'upload_avatar')).toHaveLength(0);
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2]);
    await user.upload(input, new File([png], 'me.png', { type: 'image/png' }));
    await waitFor(() => expect(callsOf(calls, 'upload_avatar')).toHaveLength(1));
    expect(callsOf(calls, 'upload_avatar')[0].args).toEqual({ userId: 'u-dana', image: Array.from(png) });
    await waitFor(() => expect(screen.queryByTestId('picture-dialog')).toBeNull());
  });

  it('shows an uploaded picture fetched through the app, and queues a picture URL', async () => {
    const pictured = { ...dana, avatar_url: '/v1/users/u-dana/avatar?v=3' };
    const calls = mockCommands({ list_users: () => page([pictured, fox, me]), avatar: () => 'data:image/png;base64,iVBORw0KGgo=', update_user: () => ({}) });
    render(UsersPage, { props: { session: OWNER_SESSION, onSessionEnded: vi.fn(), onSignedOut: vi.fn() } });
    const { user, panel } = await openRow('Dana Scully');
    expect(await within(panel).findByTestId('user-photo')).toHaveAttribute('src', 'data:image/png;base64,iVBORw0KGgo=');
    expect(callsOf(calls, 'avatar')[0].args).toEqual({ userId: 'u-dana' });
    await user.click(within(panel).getByTestId('detail-picture'));
    const dialog = await screen.findByTestId('picture-dialog');
    await user.type(within(dialog).getByTestId('picture-url'), 'http://example.com/a.png');
    await user.click(within(dialog).getByTestId('picture-url-save'));
    expect(await within(dialog).findByTestId('picture-url-error')).toHaveTextContent('https://');
    await user.clear(within(dialog).getByTestId('picture-url'));
    await user.type(within(dialog).getByTestId('picture-url'), 'https://cdn.example.com/a.png');
    await user.click(within(dialog).getByTestId('picture-url-save'));
    await waitFor(() => expect(callsOf(calls, 'update_user')).toHaveLength(1));
    expect(callsOf(calls, 'update_user')[0].args.patch).toEqual({ avatar_url: 'https://cdn.example.com/a.png' });
  });
});

describe('rank: an Owner outranks an Admin with the same permissions', () => {
  const alex = makeUser({
    id: 'u-alex',
    first_name: 'Alex',
    last_name: 'Morgan',
    display_name: 'Alex Morgan',
    email: 'alex@acme.test',
    mfa_enabled: true,
    roles: [{ id: 'r-owner', key: 'owner', name: 'Owner' }],
  });
  // The fixture's Admin role holds every permission the Owner role holds.
  const ADMIN_SESSION: SessionInfo = { ...OWNER_SESSION, owner: false };
  const REASON = 'Alex Morgan is an Owner and you are not.';
  const withAlex = (session: SessionInfo) => renderPage(session, { list_users: () => page([dana, fox, me, alex]) });

  it('mirrors the server: permissions first, then the Owner bit', () => {
    expect(outranking(ADMIN_SESSION, alex, DIRECTORY)).toBe(REASON);
    expect(outranking(OWNER_SESSION, alex, DIRECTORY)).toBeNull();
    expect(outranking(ADMIN_SESSION, dana, DIRECTORY)).toBeNull();
    // A missing permission is named before the rank (a Manager acting on the Owner).
    expect(outranking(SESSION, alex, DIRECTORY)).toBe('Alex Morgan holds roles.manage, which you do not have.');
    expect(deactivateBlocked(ADMIN_SESSION, alex, DIRECTORY)).toBe(REASON);
    const owner = DIRECTORY.roles.find((r) => r.key === 'owner')!;
    expect(roleToggleBlocked(ADMIN_SESSION, owner.key, owner.permissions)).toBe('Only an Owner can grant or remove the Owner role.');
    expect(roleToggleBlocked(OWNER_SESSION, owner.key, owner.permissions)).toBeNull();
  });

  it("an Admin sees the Owner's Deactivate, Edit and every other change disabled, with the reason", async () => {
    const calls = withAlex(ADMIN_SESSION);
    const { panel } = await openRow('Alex Morgan');
    for (const testid of ['detail-deactivate', 'detail-edit', 'detail-picture', 'reset-password', 'reset-mfa', 'unlock-sign-in', 'force-logout']) {
      const button = within(panel).getByTestId(testid);
      expect(button, testid).toBeDisabled();
      expect(button.parentElement, testid).toHaveAttribute('title', REASON);
    }
    for (const key of ['member', 'manager', 'admin', 'owner']) {
      const toggle = within(panel).getByTestId(`role-toggle-${key}`);
      expect(toggle, key).toBeDisabled();
      expect(toggle.closest('li'), key).toHaveAttribute('title', REASON);
    }
    expect(within(panel).getByTestId('notify-security_alerts')).toBeDisabled();
    expect(callsOf(calls, 'update_user')).toHaveLength(0);
  });

  it('an Owner may act on another Owner', async () => {
    withAlex(OWNER_SESSION);
    const { panel } = await openRow('Alex Morgan');
    for (const testid of ['detail-deactivate', 'detail-edit', 'reset-password', 'unlock-sign-in', 'role-toggle-owner']) {
      expect(within(panel).getByTestId(testid), testid).toBeEnabled();
    }
  });

  it('only an Owner grants or removes the Owner role, though an Admin holds all its permissions', async () => {
    withAlex(ADMIN_SESSION);
    const { user, panel } = await openRow('Dana Scully');
    const owner = within(panel).getByTestId('role-toggle-owner');
    expect(owner).toBeDisabled();
    expect(owner.closest('li')).toHaveAttribute('title', 'Only an Owner can grant or remove the Owner role.');
    expect(within(panel).getByTestId('role-toggle-admin')).toBeEnabled();
    expect(within(panel).getByTestId('detail-deactivate')).toBeEnabled();
    await user.click(within(panel).getByTestId('detail-close'));
  });
});
