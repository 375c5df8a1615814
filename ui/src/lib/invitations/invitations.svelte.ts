// Invitations (SPEC I1–I8): the list read from the local copy (so it shows offline) with
// what this page did to each row, and the CSV import — rows checked by the server,
// corrected in place, checked again, then sent in batches that can each be retried.
import type { Backend, IpcError } from '../backend';
import { errorText } from '../backend/errors';
import {
  MAX_IMPORT_BYTES,
  MAX_INVITATION_MESSAGE_CHARS,
  MAX_INVITES_PER_REQUEST,
  MAX_TENANT_ID_CHARS,
  type FieldError,
  type ImportReport,
  type ImportRow,
  type Invitation,
  type InvitationCounts,
  type InvitationStatus,
  type SeatUsage,
  type SessionInfo,
} from '../bindings';
import { formatRelative } from '../users/format';
import { OWNER_ROLE } from '../users/permissions';

// The server's limits, generated from gatehouse-api; it checks them again.
export { MAX_IMPORT_BYTES, MAX_INVITES_PER_REQUEST, MAX_TENANT_ID_CHARS };
export const MAX_MESSAGE_CHARS = MAX_INVITATION_MESSAGE_CHARS;
/** Rows per import request: a failure costs at most one batch, and progress moves. */
export const IMPORT_BATCH_ROWS = 200;
/** How long "Copied" stays on a row. */
export const COPIED_MS = 2000;

export type StatusFilter = 'all' | InvitationStatus;

export const STATUS_TABS: { key: StatusFilter; label: string }[] = [
  { key: 'all', label: 'All' },
  { key: 'pending', label: 'Pending' },
  { key: 'accepted', label: 'Accepted' },
  { key: 'declined', label: 'Declined' },
  { key: 'expired', label: 'Expired' },
  { key: 'revoked', label: 'Revoked' },
];

export const STATUS_LABEL: Record<InvitationStatus, string> = {
  pending: 'Pending',
  accepted: 'Accepted',
  declined: 'Declined',
  expired: 'Expired',
  revoked: 'Revoked',
};

/** The counts with an `all` total, for the status tabs. */
export function tabCounts(counts: InvitationCounts | null): Record<StatusFilter, number> | null {
  if (!counts) return null;
  const all = counts.pending + counts.accepted + counts.declined + counts.expired + counts.revoked;
  return { all, ...counts };
}

/** The server's syntax check (gatehouse-api `valid_email`): one @, a dotted domain, no spaces. */
export function validEmail(email: string): boolean {
  const at = email.indexOf('@');
  if (at <= 0) return false;
  const domain = email.slice(at + 1);
  return (
    domain.includes('.') &&
    !domain.startsWith('.') &&
    !domain.endsWith('.') &&
    !domain.includes('@') &&
    new TextEncoder().encode(email).length <= 320 &&
    !/[\s\p{Cc}]/u.test(email)
  );
}

/** The addresses of a comma-, semicolon- or newline-separated text. */
export function parseAddresses(text: string): string[] {
  return text
    .split(/[,;\r\n]+/)
    .map((a) => a.trim())
    .filter((a) => a !== '');
}

/** What is wrong with a list of addresses before it is sent, or null. */
export function addressProblem(addresses: string[]): string | null {
  if (addresses.length === 0) return 'Enter at least one e-mail address.';
  if (addresses.length > MAX_INVITES_PER_REQUEST) return `At most ${MAX_INVITES_PER_REQUEST} addresses at a time; use Import CSV for more.`;
  const bad = addresses.filter((a) => !validEmail(a));
  if (bad.length > 0) return `Not e-mail addresses: ${bad.join(', ')}.`;
  const seen = new Set<string>();
  for (const a of addresses) {
    const lower = a.toLowerCase();
    if (seen.has(lower)) return `${a} is listed twice.`;
    seen.add(lower);
  }
  return null;
}

/** Why `session` cannot grant the role, or null (mirrors the server's check). */
export function grantBlocked(session: SessionInfo, role: { key: string; permissions: string[] }): string | null {
  const missing = role.permissions.find((p) => !session.permissions.includes(p));
  if (missing) return `This role includes ${missing}, which you do not have.`;
  // Owner and Admin hold the same permissions: being an Owner is the rank that decides.
  if (role.key === OWNER_ROLE && !session.owner) return 'Only an Owner can grant the Owner role.';
  return null;
}

/** "in 5d", "in 3h", "in 20m"; a past time reads like `formatRelative` ("2d ago"). */
export function formatUntil(iso: string, now: Date): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const diff = date.getTime() - now.getTime();
  if (diff <= 0) return formatRelative(iso, now);
  const minutes = Math.floor(diff / 60_000);
  if (minutes < 1) return 'in under a minute';
  if (minutes < 60) return `in ${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `in ${hours}h`;
  return `in ${Math.floor(hours / 24)}d`;
}

/** "3 seats free; this invites 2", or null without the usage. */
export function seatsFree(seats: SeatUsage | null): number | null {
  return seats ? Math.max(0, seats.limit - seats.used) : null;
}

/** Quotes a CSV field when a reader could take it apart or trim it. */
export function csvField(value: string): string {
  return /[",;\r\n]/.test(value) || value !== value.trim() ? `"${value.replace(/"/g, '""')}"` : value;
}

export interface CsvRow {
  email: string;
  role: string;
  department: string;
}

/** A CSV file of `rows` with the header the server expects. */
export function buildCsv(rows: CsvRow[]): string {
  const lines = ['email,role,department', ...rows.map((r) => [r.email, r.role, r.department].map(csvField).join(','))];
  return `${lines.join('\n')}\n`;
}

/** A file's bytes, through FileReader (every web view has it; `Blob.arrayBuffer` is newer). */
function readBytes(file: Blob): Promise<ArrayBuffer> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result as ArrayBuffer);
    reader.onerror = () => reject(reader.error ?? new Error('The file could not be read.'));
    reader.readAsArrayBuffer(file);
  });
}

/** The text of a chosen CSV file: refused over 5 MiB (before reading) and when not UTF-8. */
export async function readCsvFile(file: File): Promise<string> {
  if (file.size > MAX_IMPORT_BYTES) {
    throw new Error(`${file.name} is larger than 5 MiB; split it into smaller files.`);
  }
  const bytes = await readBytes(file);
  try {
    // A byte-order mark is dropped by the decoder.
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new Error(`${file.name} is not UTF-8 text. Save it as “CSV UTF-8” in your spreadsheet and choose it again.`);
  }
}

const ended = (e: IpcError) => e.code === 'session_expired' || e.code === 'not_signed_in';

/** What happened to an action asked for on one row. */
export type RowResult =
  | { kind: 'busy'; text: string }
  | { kind: 'done'; text: string }
  | { kind: 'error'; text: string };

/**
 * Writes `text` (still on its way) to the clipboard. WebKit allows a write only while the
 * click that asked for it lasts, so the clipboard is handed a promise at once where it
 * takes one; elsewhere the text is written when it arrives.
 */
export async function copyToClipboard(text: Promise<string>): Promise<void> {
  const clipboard = navigator.clipboard;
  if (!clipboard) throw new Error('No clipboard');
  if (typeof ClipboardItem !== 'undefined' && typeof clipboard.write === 'function') {
    try {
      await clipboard.write([new ClipboardItem({ 'text/plain': text.then((t) => new Blob([t], { type: 'text/plain' })) })]);
      return;
    } catch {
      // Older engines want the text itself; a failed text fails below too.
    }
  }
  await clipboard.writeText(await text);
}

export class InvitationsList {
  items = $state.raw<Invitation[]>([]);
  counts = $state.raw<InvitationCounts | null>(null);
  status = $state<StatusFilter>('all');
  q = $state('');
  loading = $state(false);
  /** An answer has arrived (so an empty list means "none"). */
  loaded = $state(false);
  error = $state.raw<IpcError | null>(null);
  /** What this page did to each invitation, by id. */
  results = $state.raw<Record<string, RowResult>>({});
  /** Seats in use, from the server; kept as last seen while offline. */
  seats = $state.raw<SeatUsage | null>(null);
  expiryDays = $state<number | null>(null);

  #backend: Backend;
  #onSessionEnded: (reason: string) => void;
  #generation = 0;
  #orgGeneration = 0;
  #timers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(backend: Backend, onSessionEnded: (reason: string) => void) {
    this.#backend = backend;
    this.#onSessionEnded = onSessionEnded;
  }

  /** Reads the list again; the rows shown stay until the answer comes. */
  async reload(): Promise<void> {
    const generation = ++this.#generation;
    this.loading = true;
    try {
      const page = await this.#backend.listInvitations(this.status === 'all' ? null : this.status, this.q === '' ? null : this.q);
      if (generation !== this.#generation) return;
      this.items = page.items;
      this.counts = page.counts;
      this.loaded = true;
      this.error = null;
    } catch (reason) {
      if (generation !== this.#generation) return;
      this.#fail(reason as IpcError, (e) => (this.error = e));
    } finally {
      if (generation === this.#generation) this.loading = false;
    }
  }

  /** Seat usage and invitation lifetime; offline the last ones seen stay. */
  async loadOrganization(): Promise<void> {
    const generation = ++this.#orgGeneration;
    try {
      const org = await this.#backend.organization();
      // An older read answered after a newer one: its seats are out of date.
      if (generation !== this.#orgGeneration) return;
      this.seats = { used: org.seats_used, limit: org.seat_limit };
      this.expiryDays = org.invitation_expiry_days;
    } catch (reason) {
      this.#fail(reason as IpcError, () => {});
    }
  }

  /** Filters by status; choosing the one shown reads the local copy again (it is cheap). */
  setStatus(status: StatusFilter): void {
    this.status = status;
    void this.reload();
  }

  setQuery(q: string): void {
    const next = q.trim();
    if (next === this.q) return;
    this.q = next;
    void this.reload();
  }

  async resend(invitation: Invitation, now: () => Date): Promise<void> {
    await this.#act(invitation, 'Sending again…', 'Resending', async () => {
      const updated = await this.#backend.resendInvitation(invitation.id);
      this.#replace(updated);
      return `Sent again; the new link expires ${formatUntil(updated.expires_at, now())}.`;
    });
  }

  async revoke(invitation: Invitation): Promise<void> {
    await this.#act(invitation, 'Revoking…', 'Revoking', async () => {
      this.#replace(await this.#backend.revokeInvitation(invitation.id));
      void this.loadOrganization();
      return 'Revoked: the link no longer works.';
    });
  }

  /** Copies the invitation's link; the link lives only in this call, never in state. */
  async copyLink(invitation: Invitation): Promise<void> {
    const id = invitation.id;
    this.#clearTimer(id);
    this.#set(id, { kind: 'busy', text: 'Copying…' });
    const link = this.#backend.invitationLink(id).then((l) => l.link);
    link.catch(() => {});
    try {
      await copyToClipboard(link);
    } catch {
      const failed = await link.then(
        () => null,
        (e) => e as IpcError,
      );
      if (failed && ended(failed)) this.#onSessionEnded(failed.message);
      this.#set(id, { kind: 'error', text: failed ? errorText(failed, 'Copying the link') : 'Could not copy the link: the clipboard refused it.' });
      return;
    }
    this.#set(id, { kind: 'done', text: 'Copied' });
    this.#timers.set(
      id,
      setTimeout(() => {
        this.#timers.delete(id);
        if (this.results[id]?.text === 'Copied') this.#set(id, null);
      }, COPIED_MS),
    );
  }

  /** Stops the timers (the page is going away). */
  dispose(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  async #act(invitation: Invitation, busy: string, doing: string, run: () => Promise<string>): Promise<void> {
    const id = invitation.id;
    this.#clearTimer(id);
    this.#set(id, { kind: 'busy', text: busy });
    try {
      this.#set(id, { kind: 'done', text: await run() });
      // The local copy has the change: the counts move.
      void this.reload();
    } catch (reason) {
      const e = reason as IpcError;
      this.#fail(e, () => {});
      this.#set(id, { kind: 'error', text: errorText(e, doing) });
    }
  }

  #replace(updated: Invitation): void {
    this.items = this.items.map((i) => (i.id === updated.id ? updated : i));
  }

  #set(id: string, result: RowResult | null): void {
    const next = { ...this.results };
    if (result) next[id] = result;
    else delete next[id];
    this.results = next;
  }

  #clearTimer(id: string): void {
    clearTimeout(this.#timers.get(id));
    this.#timers.delete(id);
  }

  #fail(e: IpcError, show: (e: IpcError) => void): void {
    if (ended(e)) this.#onSessionEnded(e.message);
    else show(e);
  }
}

/** One row of the import as the admin edits it. */
export interface EditRow extends CsvRow {
  /** Stable across checks, for keyed rendering. */
  key: number;
  /** Its line in the file the server checked last. */
  line: number;
  errors: FieldError[];
  /** Invited by a batch already sent: no longer edited or checked. */
  sent: boolean;
}

interface Batch {
  csv: string;
  key: string;
  rowKeys: number[];
  sent: boolean;
}

/** A fresh idempotency key (a random UUID). */
function newKey(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  // Outside a secure context randomUUID is missing; build a version 4 UUID by hand.
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const blank = (r: CsvRow) => r.email.trim() === '' && r.role.trim() === '' && r.department.trim() === '';

export class CsvImport {
  rows = $state<EditRow[]>([]);
  report = $state.raw<ImportReport | null>(null);
  /** Rows changed since the last check. */
  dirty = $state(false);
  checking = $state(false);
  sending = $state(false);
  error = $state<string | null>(null);
  batches = $state.raw<Batch[]>([]);
  /** Invitations sent by this import so far. */
  sentCount = $state(0);
  done = $state(false);

  #backend: Backend;
  #onSessionEnded: (reason: string) => void;
  #nextKey = 1;
  /** Counts the edits, so that a check answered after another edit is not taken for it. */
  #edits = 0;

  constructor(backend: Backend, onSessionEnded: (reason: string) => void) {
    this.#backend = backend;
    this.#onSessionEnded = onSessionEnded;
  }

  get pending(): EditRow[] {
    return this.rows.filter((r) => !r.sent);
  }

  get canSend(): boolean {
    const r = this.report;
    return r !== null && r.invalid === 0 && r.seats_short === 0 && !this.dirty && !this.checking && !this.sending && !this.done && this.pending.length > 0;
  }

  /** Rows in the sent batches and all rows, for the progress bar. */
  get progress(): { done: number; total: number } {
    const total = this.batches.reduce((n, b) => n + b.rowKeys.length, 0);
    const done = this.batches.filter((b) => b.sent).reduce((n, b) => n + b.rowKeys.length, 0);
    return { done, total };
  }

  /**
   * Checks a whole file: its rows replace the ones shown. False when it could not be
   * checked (the error says why): the rows shown stay, edits and all.
   */
  async checkText(csv: string): Promise<boolean> {
    if (new TextEncoder().encode(csv).length > MAX_IMPORT_BYTES) {
      this.error = 'The text is larger than 5 MiB; split it into smaller files.';
      return false;
    }
    const report = await this.#validate(csv);
    if (!report) return false;
    this.rows = report.rows.map((row) => this.#fromReport(row));
    this.#accept(report);
    return true;
  }

  /** Checks the edited rows again, as a file rebuilt from them (emptied rows dropped). */
  async recheck(): Promise<void> {
    const sent = this.rows.filter((r) => r.sent);
    const pending = this.pending.filter((r) => !blank(r));
    if (pending.length === 0) {
      this.error = 'There are no rows left to check.';
      return;
    }
    const edits = this.#edits;
    const report = await this.#validate(buildCsv(pending));
    if (!report) return;
    // Rows edited or removed while the server checked: its answer is for rows no longer
    // shown. The edits stay, and so does "check again".
    if (this.#edits !== edits) return;
    if (report.rows.length !== pending.length) {
      // Should not happen (blank rows are dropped here as the server does); the server's
      // reading wins so that no row is sent unseen.
      this.rows = [...sent, ...report.rows.map((row) => this.#fromReport(row))];
    } else {
      // The server numbers lines of the rebuilt file: rows match by position.
      this.rows = [
        ...sent,
        ...pending.map((r, i) => {
          const row = report.rows[i];
          return { ...r, line: row.line, email: row.email, role: row.role, department: row.department, errors: row.errors };
        }),
      ];
    }
    this.#accept(report);
  }

  edited(): void {
    this.#edits++;
    this.dirty = true;
    this.batches = [];
  }

  remove(key: number): void {
    this.rows = this.rows.filter((r) => r.key !== key);
    this.edited();
  }

  /**
   * Sends the checked rows in batches, each with its own key; after a failure, calling
   * it again goes on from the failed batch with the same key, so nothing is sent twice.
   */
  async send(): Promise<void> {
    if (!this.canSend) return;
    this.sending = true;
    this.error = null;
    if (this.batches.length === 0) {
      const rows = this.pending;
      const batches: Batch[] = [];
      for (let i = 0; i < rows.length; i += IMPORT_BATCH_ROWS) {
        const part = rows.slice(i, i + IMPORT_BATCH_ROWS);
        batches.push({ csv: buildCsv(part), key: newKey(), rowKeys: part.map((r) => r.key), sent: false });
      }
      this.batches = batches;
    }
    try {
      for (const [index, batch] of this.batches.entries()) {
        if (batch.sent) continue;
        let answer: ImportReport;
        try {
          answer = await this.#backend.importInvitations(batch.csv, batch.key);
        } catch (reason) {
          const e = reason as IpcError;
          if (ended(e)) this.#onSessionEnded(e.message);
          const sentSoFar = this.sentCount > 0 ? ` ${this.sentCount} invitation${this.sentCount === 1 ? ' was' : 's were'} sent before this; they stay sent.` : '';
          this.error = `${errorText(e, 'Sending invitations')}${sentSoFar} Send again to retry the rest; nothing is sent twice.`;
          return;
        }
        const keys = new Set(batch.rowKeys);
        this.batches = this.batches.map((b, i) => (i === index ? { ...b, sent: true } : b));
        this.rows = this.rows.map((r) => (keys.has(r.key) ? { ...r, sent: true } : r));
        this.sentCount += answer.invitations.length;
      }
      this.done = true;
    } finally {
      this.sending = false;
    }
  }

  async #validate(csv: string): Promise<ImportReport | null> {
    this.checking = true;
    this.error = null;
    try {
      return await this.#backend.validateInvitationCsv(csv);
    } catch (reason) {
      const e = reason as IpcError;
      if (ended(e)) this.#onSessionEnded(e.message);
      this.error = errorText(e, 'Checking the file');
      return null;
    } finally {
      this.checking = false;
    }
  }

  #fromReport(row: ImportRow): EditRow {
    return { key: this.#nextKey++, line: row.line, email: row.email, role: row.role, department: row.department, errors: row.errors, sent: false };
  }

  #accept(report: ImportReport): void {
    this.report = report;
    this.dirty = false;
    this.batches = [];
  }
}
