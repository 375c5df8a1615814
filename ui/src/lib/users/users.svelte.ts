// The users list: the query (search + status), the pages loaded so far, and errors.
// Every reload bumps a generation; a response for an older generation is dropped, so a
// slow answer to a superseded search can never overwrite the current one.
import { tick } from 'svelte';
import type { Backend, IpcError } from '../backend';
import type { OutboxState, User, UserCounts, UserListQuery, UserStatus } from '../bindings';

export const PAGE_SIZE = 100;

export type StatusFilter = UserStatus | 'all';

export interface SavedFilters {
  q: string;
  status: StatusFilter;
  role: string;
  department: string;
}

/** The first page after start is marked once, for `cargo xtask bench app`. */
let firstPageMarked = false;

export class UsersList {
  items = $state.raw<User[]>([]);
  counts = $state.raw<UserCounts | null>(null);
  q = $state('');
  status = $state<StatusFilter>('all');
  /** Role id, or '' for any. */
  role = $state('');
  /** Department or company id, or '' for any. */
  department = $state('');
  nextCursor = $state<string | null>(null);
  /** The first page of the current query is on its way. */
  loading = $state(false);
  /** A further page is on its way. */
  loadingMore = $state(false);
  error = $state.raw<IpcError | null>(null);
  /** Users shown with queued edits, by id. */
  local = $state.raw<Partial<Record<string, OutboxState>>>({});

  #backend: Backend;
  #onSessionEnded: (reason: string) => void;
  #generation = 0;
  #failedMore = false;

  constructor(backend: Backend, onSessionEnded: (reason: string) => void) {
    this.#backend = backend;
    this.#onSessionEnded = onSessionEnded;
  }

  get hasMore(): boolean {
    return this.nextCursor !== null;
  }

  setQuery(q: string): void {
    const next = q.trim();
    if (next === this.q) return;
    this.q = next;
    void this.reload();
  }

  setStatus(status: StatusFilter): void {
    if (status === this.status) return;
    this.status = status;
    void this.reload();
  }

  setRole(role: string): void {
    if (role === this.role) return;
    this.role = role;
    void this.reload();
  }

  setDepartment(department: string): void {
    if (department === this.department) return;
    this.department = department;
    void this.reload();
  }

  /** The filters as they are, to remember across restarts. */
  get filters(): SavedFilters {
    return { q: this.q, status: this.status, role: this.role, department: this.department };
  }

  /** Takes remembered filters (before the first load); unknown values are ignored. */
  restore(saved: Partial<SavedFilters> | null): void {
    if (!saved) return;
    if (typeof saved.q === 'string') this.q = saved.q.trim();
    if (saved.status && ['all', 'active', 'pending', 'deactivated'].includes(saved.status)) this.status = saved.status;
    if (typeof saved.role === 'string') this.role = saved.role;
    if (typeof saved.department === 'string') this.department = saved.department;
  }

  /** The current query without paging, e.g. for an export. */
  get query(): UserListQuery {
    const { limit: _limit, cursor: _cursor, ...rest } = this.#query();
    return rest;
  }

  async reload(): Promise<void> {
    const generation = ++this.#generation;
    this.items = [];
    this.nextCursor = null;
    this.error = null;
    this.#failedMore = false;
    this.loading = true;
    this.loadingMore = false;
    try {
      if (!firstPageMarked) performance.mark('gatehouse:first-list-asked');
      const page = await this.#backend.listUsers(this.#query());
      if (generation !== this.#generation) return;
      this.items = dedupe([], page.items);
      this.counts = page.counts;
      this.nextCursor = page.next_cursor;
      this.local = { ...page.local };
      if (!firstPageMarked) {
        firstPageMarked = true;
        performance.mark('gatehouse:first-page');
        // After Svelte has put the rows in the document.
        void tick().then(() => performance.mark('gatehouse:first-rows'));
      }
    } catch (reason) {
      if (generation !== this.#generation) return;
      this.#fail(reason as IpcError);
    } finally {
      if (generation === this.#generation) this.loading = false;
    }
  }

  /**
   * Re-reads what is shown (the local copy changed: a sync, an edit) without clearing it
   * first, so the list does not flicker or jump. Failures keep the rows as they are.
   */
  async refresh(): Promise<void> {
    if (this.loading || this.loadingMore) return;
    const generation = ++this.#generation;
    const limit = Math.min(500, Math.max(PAGE_SIZE, this.items.length));
    try {
      const page = await this.#backend.listUsers({ ...this.#query(), limit });
      if (generation !== this.#generation) return;
      this.items = dedupe([], page.items);
      this.counts = page.counts;
      this.nextCursor = page.next_cursor;
      this.local = { ...page.local };
      this.error = null;
    } catch (reason) {
      if (generation !== this.#generation) return;
      const error = reason as IpcError;
      if (error.code === 'session_expired' || error.code === 'not_signed_in') this.#fail(error);
    }
  }

  async loadMore(): Promise<void> {
    const cursor = this.nextCursor;
    if (!cursor || this.loading || this.loadingMore || this.error) return;
    const generation = this.#generation;
    this.loadingMore = true;
    try {
      const page = await this.#backend.listUsers(this.#query(cursor));
      if (generation !== this.#generation) return;
      this.items = dedupe(this.items, page.items);
      this.counts = page.counts;
      this.nextCursor = page.next_cursor;
      this.local = { ...this.local, ...page.local };
    } catch (reason) {
      if (generation !== this.#generation) return;
      this.#failedMore = true;
      this.#fail(reason as IpcError);
    } finally {
      if (generation === this.#generation) this.loadingMore = false;
    }
  }

  /** Retries what failed: the next page if rows are already shown, else the whole list. */
  retry(): Promise<void> {
    if (this.#failedMore && this.items.length > 0) {
      this.error = null;
      this.#failedMore = false;
      return this.loadMore();
    }
    return this.reload();
  }

  #query(cursor?: string) {
    return {
      q: this.q === '' ? undefined : this.q,
      status: this.status === 'all' ? undefined : this.status,
      role: this.role === '' ? undefined : this.role,
      department: this.department === '' ? undefined : this.department,
      limit: PAGE_SIZE,
      cursor,
    };
  }

  #fail(error: IpcError): void {
    if (error.code === 'session_expired' || error.code === 'not_signed_in') {
      this.#onSessionEnded(error.message);
      return;
    }
    this.error = error;
  }
}

/** Appends a page, skipping ids already shown (a row moving between pages must not appear twice). */
function dedupe(existing: User[], page: User[]): User[] {
  const seen = new Set(existing.map((u) => u.id));
  const out = existing.slice();
  for (const user of page) {
    if (!seen.has(user.id)) {
      seen.add(user.id);
      out.push(user);
    }
  }
  return out;
}
