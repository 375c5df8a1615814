// The CSV import (SPEC I6): every row checked before anything is sent, invalid rows
// flagged with the reason next to the field, corrected in place and checked again as a
// rebuilt file, then sent in batches of 200 with progress and a retry that sends nothing
// twice. Files over 5 MiB or not in UTF-8 are refused here.
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { DIRECTORY, importReport, ipcError, makeInvitation } from '../../test/fixtures';
import { callsOf, deferred, mockCommands, type Call } from '../../test/ipc';
import type { FieldError, ImportReport, ImportRow } from '../bindings';
import ImportCsv from './ImportCsv.svelte';

type Handlers = Record<string, (args: Record<string, unknown>) => unknown>;

/** Records of a CSV text with the physical line each starts on (quotes, `""`, CRLF). */
function parseCsv(text: string): { line: number; fields: string[] }[] {
  const out: { line: number; fields: string[] }[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let start = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else {
        if (c === '\n') line++;
        field += c;
      }
    } else if (c === '"') quoted = true;
    else if (c === ',') fields.push(field), (field = '');
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      fields.push(field);
      out.push({ line: start, fields });
      (fields = []), (field = ''), line++, (start = line);
    } else field += c;
  }
  if (field !== '' || fields.length) out.push({ line: start, fields: [...fields, field] });
  return out;
}

const ROLES = ['owner', 'admin', 'manager', 'member'];
const DEPARTMENTS = ['sales', 'engineering'];

/** What the server's dry run answers for `csv` (its rules, much simplified). */
function check(csv: string, seats = { used: 5, limit: 1000 }): ImportReport {
  const [, ...records] = parseCsv(csv);
  const seen = new Map<string, number>();
  const rows: ImportRow[] = records
    .filter((r) => r.fields.some((f) => f.trim() !== ''))
    .map(({ line, fields }) => {
      const [email = '', role = '', department = ''] = fields.map((f) => f.trim());
      const errors: FieldError[] = [];
      if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) errors.push({ field: 'email', code: 'invalid', message: `\`${email}\` is not an e-mail address.` });
      else if (seen.has(email.toLowerCase())) errors.push({ field: 'email', code: 'duplicate', message: `${email} is also on line ${seen.get(email.toLowerCase())}.` });
      else seen.set(email.toLowerCase(), line);
      for (const r of role.split(';').filter(Boolean)) {
        if (!ROLES.includes(r.trim().toLowerCase())) errors.push({ field: 'role', code: 'unknown_role', message: `There is no role \`${r.trim()}\`; the roles are Owner, Admin, Manager, Member.` });
      }
      for (const d of department.split(';').filter(Boolean)) {
        if (!DEPARTMENTS.includes(d.trim().toLowerCase())) errors.push({ field: 'department', code: 'unknown_department', message: `There is no department \`${d.trim()}\`.` });
      }
      return { line, email, role, department, errors };
    });
  const valid = rows.filter((r) => r.errors.length === 0).length;
  return importReport(rows, { seats, seats_short: Math.max(0, seats.used + valid - seats.limit) });
}

function sentReport(args: Record<string, unknown>): ImportReport {
  const report = check(args.csv as string);
  return { ...report, dry_run: false, invitations: report.rows.map((r) => makeInvitation({ email: r.email })) };
}

function renderImport(handlers: Handlers = {}) {
  const calls = mockCommands({
    validate_invitation_csv: (a) => check(a.csv as string),
    import_invitations: sentReport,
    ...handlers,
  });
  const onClose = vi.fn();
  const onSent = vi.fn();
  render(ImportCsv, { props: { directory: DIRECTORY, onSessionEnded: vi.fn(), onClose, onSent } });
  return { calls, onClose, onSent, user: userEvent.setup() };
}

const rows = () => screen.queryAllByTestId('import-row');
const byLine = (line: number) => rows().find((r) => r.dataset.line === String(line))!;
const csvOf = (calls: Call[], cmd: string) => callsOf(calls, cmd).map((c) => c.args.csv as string);

async function paste(text: string, user: ReturnType<typeof userEvent.setup>) {
  await fireEvent.input(screen.getByTestId('import-text'), { target: { value: text } });
  await user.click(screen.getByTestId('import-validate'));
}

async function retype(user: ReturnType<typeof userEvent.setup>, testid: string, value: string) {
  const input = screen.getByTestId(testid);
  await user.clear(input);
  await user.type(input, value);
}

const BAD = ['email,role,department', 'ana@example.com,Member,Sales', 'bob@,Member,Sales', 'cy@example.com,Wizard,Engineering', 'dee@example.com,,'].join('\n');

describe('CSV import', () => {
  it('flags the invalid rows with their reasons next to the field, and Send stays off', async () => {
    const { calls, user } = renderImport();
    await paste(BAD, user);
    expect(await screen.findByTestId('import-summary')).toHaveTextContent('4 rows · 2 need fixing');
    expect(csvOf(calls, 'validate_invitation_csv')).toEqual([BAD]);
    expect(rows().map((r) => [r.dataset.line, r.dataset.valid])).toEqual([
      ['2', 'true'],
      ['3', 'false'],
      ['4', 'false'],
      ['5', 'true'],
    ]);
    const emailError = within(byLine(3)).getByTestId('import-row-error-3');
    expect(emailError).toHaveAttribute('data-field', 'email');
    expect(emailError).toHaveTextContent('`bob@` is not an e-mail address.');
    expect(screen.getByTestId('import-email-3')).toHaveAttribute('aria-invalid', 'true');
    expect(screen.getByTestId('import-email-3')).toHaveAccessibleDescription('`bob@` is not an e-mail address.');
    const roleError = within(byLine(4)).getByTestId('import-row-error-4');
    expect(roleError).toHaveAttribute('data-field', 'role');
    expect(roleError).toHaveTextContent('There is no role `Wizard`');
    expect(screen.getByTestId('import-email-4')).not.toHaveAttribute('aria-invalid');
    // Every row is editable, the valid ones too.
    expect(screen.getByTestId('import-department-2')).toHaveValue('Sales');
    expect(screen.getByTestId('import-send')).toBeDisabled();

    await user.click(screen.getByTestId('import-only-invalid'));
    expect(rows().map((r) => r.dataset.line)).toEqual(['3', '4']);
    expect(callsOf(calls, 'import_invitations')).toHaveLength(0);
  });

  it('corrects rows in place, checks the rebuilt file again, then sends it', async () => {
    const { calls, user, onSent } = renderImport();
    await paste(BAD, user);
    await screen.findByTestId('import-summary');

    await retype(user, 'import-email-3', 'bob@example.com');
    // Edited since the check: nothing may be sent until it is checked again.
    expect(screen.getByTestId('import-dirty')).toBeInTheDocument();
    expect(screen.getByTestId('import-send')).toBeDisabled();
    await retype(user, 'import-role-4', 'Manager;Member');
    await retype(user, 'import-department-5', 'Sales, "EMEA"');
    await user.click(screen.getByTestId('import-revalidate'));

    await waitFor(() => expect(csvOf(calls, 'validate_invitation_csv')).toHaveLength(2));
    expect(csvOf(calls, 'validate_invitation_csv')[1]).toBe(
      [
        'email,role,department',
        'ana@example.com,Member,Sales',
        'bob@example.com,Member,Sales',
        'cy@example.com,"Manager;Member",Engineering',
        'dee@example.com,,"Sales, ""EMEA"""',
        '',
      ].join('\n'),
    );
    // The department is unknown: still not sendable, and said on that row.
    expect(await within(byLine(5)).findByTestId('import-row-error-5')).toHaveTextContent('There is no department `Sales, "EMEA"`');
    expect(screen.getByTestId('import-summary')).toHaveTextContent('4 rows · 1 needs fixing');
    expect(screen.getByTestId('import-send')).toBeDisabled();

    await user.clear(screen.getByTestId('import-department-5'));
    // Enter in a row checks again.
    await user.type(screen.getByTestId('import-email-5'), '{Enter}');
    await waitFor(() => expect(screen.getByTestId('import-summary')).toHaveTextContent('All 4 rows are valid'));
    expect(rows().every((r) => r.dataset.valid === 'true')).toBe(true);
    const send = screen.getByTestId('import-send');
    expect(send).toBeEnabled();
    expect(send).toHaveTextContent('Send 4 invitations');

    // An edit after a clean check takes Send away again until the next check.
    await retype(user, 'import-email-2', 'ana.b@example.com');
    expect(send).toBeDisabled();
    expect(screen.getByTestId('import-dirty')).toBeInTheDocument();
    await user.click(screen.getByTestId('import-revalidate'));
    await waitFor(() => expect(send).toBeEnabled());
    expect(screen.queryByTestId('import-dirty')).toBeNull();

    await user.click(send);
    expect(await screen.findByTestId('import-done')).toHaveTextContent('Sent 4 invitations.');
    const imports = callsOf(calls, 'import_invitations');
    expect(imports).toHaveLength(1);
    expect(imports[0].args.csv).toBe(csvOf(calls, 'validate_invitation_csv')[3]);
    expect(imports[0].args.csv).toContain('ana.b@example.com,Member,Sales');
    expect(imports[0].args.idempotencyKey).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(onSent).toHaveBeenCalledWith(4);
  });

  it("maps the server's answer to the rows by position, since its lines are those of the rebuilt file", async () => {
    const { user } = renderImport();
    // Blank lines: the rows are on lines 3 and 5 of the pasted text.
    await paste('email,role,department\n\nana@example.com,Member,Sales\n\nbob@,Member,\n', user);
    await screen.findByTestId('import-summary');
    expect(rows().map((r) => r.dataset.line)).toEqual(['3', '5']);

    // Bob's row now repeats Ana's address: in the rebuilt file that is line 3.
    await retype(user, 'import-email-5', 'ana@example.com');
    await user.click(screen.getByTestId('import-revalidate'));
    await waitFor(() => expect(rows().map((r) => r.dataset.line)).toEqual(['2', '3']));
    expect(rows().map((r) => r.dataset.valid)).toEqual(['true', 'false']);
    expect(within(rows()[1]).getByTestId('import-row-error-3')).toHaveTextContent('ana@example.com is also on line 2.');
    expect(within(rows()[1]).getByTestId('import-department-3')).toHaveValue('');
    expect(within(rows()[0]).getByTestId('import-department-2')).toHaveValue('Sales');

    // A removed row is not sent for checking.
    await user.click(screen.getByTestId('import-remove-3'));
    await user.click(screen.getByTestId('import-revalidate'));
    await waitFor(() => expect(screen.getByTestId('import-summary')).toHaveTextContent('The row is valid'));
    expect(rows()).toHaveLength(1);
  });

  it('sends more than 200 rows in batches with a progress bar, and a failed batch is retried with its key', async () => {
    const people = Array.from({ length: 250 }, (_, i) => `person${i + 1}@example.com,Member,Engineering`);
    const csv = ['email,role,department', ...people].join('\n');
    const second = deferred<void>();
    let failOnce = true;
    const { calls, user } = renderImport({
      import_invitations: async (a) => {
        const report = sentReport(a);
        if (report.rows.length < 200) {
          if (failOnce) {
            failOnce = false;
            throw ipcError('unreachable', 'Cannot reach server at https://gatehouse.acme.test');
          }
          await second.promise;
        }
        return report;
      },
    });
    await paste(csv, user);
    await waitFor(() => expect(screen.getByTestId('import-summary')).toHaveTextContent('All 250 rows are valid'));
    // Long files show 200 rows at a time.
    expect(rows()).toHaveLength(200);

    await user.click(screen.getByTestId('import-send'));
    const error = await screen.findByTestId('import-error');
    expect(error).toHaveTextContent('Sending invitations needs a connection to the server.');
    expect(error).toHaveTextContent('200 invitations were sent before this; they stay sent.');
    const progress = screen.getByTestId('import-progress');
    expect(progress).toHaveAttribute('max', '250');
    expect(progress).toHaveAttribute('value', '200');
    expect(progress).toHaveAccessibleName('Invitations sent');
    expect(screen.queryByTestId('import-done')).toBeNull();
    expect(screen.getByTestId('import-send')).toHaveTextContent('Send the remaining 50 invitations');

    await user.click(screen.getByTestId('import-send'));
    await waitFor(() => expect(callsOf(calls, 'import_invitations')).toHaveLength(3));
    expect(screen.getByTestId('import-progress')).toHaveAttribute('value', '200');
    second.resolve();
    expect(await screen.findByTestId('import-done')).toHaveTextContent('Sent 250 invitations.');

    const [first, failed, retried] = callsOf(calls, 'import_invitations').map((c) => c.args as { csv: string; idempotencyKey: string });
    expect(first.csv.split('\n')[0]).toBe('email,role,department');
    expect(first.csv.trim().split('\n')).toHaveLength(201);
    expect(first.csv).toContain('person200@example.com');
    expect(first.csv).not.toContain('person201@example.com');
    expect(failed.csv.trim().split('\n')).toEqual(['email,role,department', ...people.slice(200)]);
    // The retry is the same batch with the same key: the server answers it once.
    expect(retried).toEqual(failed);
    expect(first.idempotencyKey).not.toBe(failed.idempotencyKey);
  });

  it('takes a field emptied by a change event alone (as WebDriver clears) as an edit', async () => {
    const { calls, user } = renderImport();
    await paste('email,role,department\nana@example.com,Member,Sales', user);
    await waitFor(() => expect(screen.getByTestId('import-send')).toBeEnabled());
    const department = screen.getByTestId('import-department-2') as HTMLInputElement;
    department.value = '';
    await fireEvent.change(department);
    expect(screen.getByTestId('import-send')).toBeDisabled();
    await user.click(screen.getByTestId('import-revalidate'));
    await waitFor(() => expect(csvOf(calls, 'validate_invitation_csv')).toHaveLength(2));
    expect(csvOf(calls, 'validate_invitation_csv')[1]).toBe('email,role,department\nana@example.com,Member,\n');
  });

  it('says when the seats do not suffice, and does not send', async () => {
    const { user } = renderImport({ validate_invitation_csv: (a) => check(a.csv as string, { used: 9, limit: 10 }) });
    await paste('email,role,department\na@example.com,,\nb@example.com,,\nc@example.com,,\nd@example.com,,', user);
    const summary = await screen.findByTestId('import-summary');
    expect(summary).toHaveTextContent('All 4 rows are valid');
    expect(summary).toHaveTextContent('needs 3 more seats than are free (9 of 10 used)');
    expect(screen.getByTestId('import-send')).toBeDisabled();
  });

  it("shows the server's refusal of the file", async () => {
    const { user } = renderImport({
      validate_invitation_csv: () => {
        throw ipcError('server_error', 'The first line must be the header `email,role,department`; it is `mail,team`.');
      },
    });
    await paste('mail,team\na@example.com,x', user);
    expect(await screen.findByTestId('import-error')).toHaveTextContent('The first line must be the header');
    expect(screen.queryByTestId('import-summary')).toBeNull();
  });

  it('checks a chosen UTF-8 file, and refuses one that is not UTF-8 or is over 5 MiB', async () => {
    const { calls, user } = renderImport();
    const input = screen.getByTestId('import-file');
    expect(input).toHaveAttribute('accept', '.csv,text/csv');

    // "Müller" in Latin-1: 0xFC is not UTF-8.
    const latin1 = new File([new Uint8Array([...new TextEncoder().encode('email\nm'), 0xfc, ...new TextEncoder().encode('ller@example.com\n')])], 'people.csv', { type: 'text/csv' });
    await user.upload(input, latin1);
    expect(await screen.findByTestId('import-error')).toHaveTextContent('people.csv is not UTF-8 text.');
    expect(callsOf(calls, 'validate_invitation_csv')).toHaveLength(0);

    const big = new File(['email\n'], 'huge.csv', { type: 'text/csv' });
    Object.defineProperty(big, 'size', { value: 5 * 1024 * 1024 + 1 });
    const read = vi.spyOn(FileReader.prototype, 'readAsArrayBuffer');
    await user.upload(input, big);
    await waitFor(() => expect(screen.getByTestId('import-error')).toHaveTextContent('huge.csv is larger than 5 MiB'));
    expect(read).not.toHaveBeenCalled();
    expect(callsOf(calls, 'validate_invitation_csv')).toHaveLength(0);
    read.mockRestore();

    // A byte-order mark (Excel's "CSV UTF-8") is dropped.
    const good = new File([new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('email,role,department\r\nmüller@example.com,Member,Sales\r\n')])], 'good.csv', {
      type: 'text/csv',
    });
    await user.upload(input, good);
    expect(await screen.findByTestId('import-summary')).toHaveTextContent('The row is valid');
    expect(screen.queryByTestId('import-error')).toBeNull();
    expect(csvOf(calls, 'validate_invitation_csv')).toEqual(['email,role,department\r\nmüller@example.com,Member,Sales\r\n']);
    expect(screen.getByTestId('import-email-2')).toHaveValue('müller@example.com');
  });
});

describe('CSV import, edge cases', () => {
  it('keeps an edit made while the rows are being checked again, and asks for another check', async () => {
    const answer = deferred<void>();
    let hold = false;
    const { calls, user } = renderImport({
      validate_invitation_csv: async (a) => {
        if (hold) await answer.promise;
        return check(a.csv as string);
      },
    });
    await paste(BAD, user);
    await screen.findByTestId('import-summary');

    await retype(user, 'import-email-3', 'bob@example.com');
    hold = true;
    await user.click(screen.getByTestId('import-revalidate'));
    await waitFor(() => expect(csvOf(calls, 'validate_invitation_csv')).toHaveLength(2));
    // Typed while the server is still checking the rows as they were.
    await retype(user, 'import-role-4', 'Manager');
    await user.click(screen.getByTestId('import-remove-5'));
    answer.resolve();

    await waitFor(() => expect(screen.getByTestId('import-revalidate')).toHaveTextContent('Check again'));
    expect(screen.getByTestId('import-role-4')).toHaveValue('Manager');
    expect(screen.getByTestId('import-email-3')).toHaveValue('bob@example.com');
    expect(rows().map((r) => r.dataset.line)).toEqual(['2', '3', '4']);
    expect(screen.getByTestId('import-dirty')).toBeInTheDocument();
    expect(screen.getByTestId('import-send')).toBeDisabled();

    await user.click(screen.getByTestId('import-revalidate'));
    await waitFor(() => expect(screen.getByTestId('import-summary')).toHaveTextContent('All 3 rows are valid'));
    expect(csvOf(calls, 'validate_invitation_csv')[2]).toContain('cy@example.com,Manager,Engineering');
    expect(csvOf(calls, 'validate_invitation_csv')[2]).not.toContain('dee@example.com');
  });

  it('names the source of the rows shown, not of a file whose check failed', async () => {
    let refuse = false;
    const { user } = renderImport({
      validate_invitation_csv: (a) => {
        if (refuse) throw ipcError('server_error', 'The first line must be the header `email,role,department`; it is `mail`.');
        return check(a.csv as string);
      },
    });
    await paste('email,role,department\nana@example.com,Member,Sales', user);
    expect(await screen.findByTestId('import-summary')).toHaveTextContent('Checked the pasted text.');

    refuse = true;
    await user.upload(screen.getByTestId('import-file'), new File(['mail\nben@example.com\n'], 'other.csv', { type: 'text/csv' }));
    expect(await screen.findByTestId('import-error')).toHaveTextContent('The first line must be the header');
    // The rows shown are still those of the pasted text.
    expect(screen.getByTestId('import-email-2')).toHaveValue('ana@example.com');
    expect(screen.getByTestId('import-summary')).toHaveTextContent('Checked the pasted text.');
    expect(screen.getByTestId('import-summary')).not.toHaveTextContent('other.csv');
  });
});
