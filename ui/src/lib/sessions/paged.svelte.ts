// A list read live from the server a page at a time (sessions, login attempts), with
// the same rules as the users list: a generation per query so a superseded answer is
// dropped, and errors kept apart from the rows. Unlike the users list, a reload keeps
// the rows it shows until the answer comes: offline, the admin keeps what they saw.
import type { Backend, IpcError } from '../backend';

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export abstract class PagedList<T extends { id: string | number }> {
  items = $state.raw<T[]>([]);
  nextCursor = $state<string | null>(null);
  /** The first page of the current query is on its way. */
  loading = $state(false);
  /** A further page is on its way. */
  loadingMore = $state(false);
  /** An answer to the current query has arrived (so an empty list means "none"). */
  loaded = $state(false);
  error = $state.raw<IpcError | null>(null);

  protected backend: Backend;
  #onSessionEnded: ((reason: string) => void) | null;
  #generation = 0;
  #failedMore = false;

  /** `onSessionEnded` null: an ended session is shown like any other error. */
  constructor(backend: Backend, onSessionEnded: ((reason: string) => void) | null) {
    this.backend = backend;
    this.#onSessionEnded = onSessionEnded;
  }

  /** One page of the current query: the first without `cursor`. */
  protected abstract fetchPage(cursor: string | undefined): Promise<Page<T>>;

  /** A page of the current query was taken (`first`: it replaced the rows), for what
   * else a page says (the activity log's offline state). */
  protected received(_page: Page<T>, _first: boolean): void {}

  get hasMore(): boolean {
    return this.nextCursor !== null;
  }

  /** Asks for the first page of the current query; the rows shown stay until it answers. */
  async reload(): Promise<void> {
    const generation = ++this.#generation;
    this.error = null;
    this.#failedMore = false;
    this.loading = true;
    this.loadingMore = false;
    try {
      const page = await this.fetchPage(undefined);
      if (generation !== this.#generation) return;
      this.items = dedupe([], page.items);
      this.nextCursor = page.next_cursor;
      this.loaded = true;
      this.received(page, true);
    } catch (reason) {
      if (generation !== this.#generation) return;
      this.fail(reason as IpcError);
    } finally {
      if (generation === this.#generation) this.loading = false;
    }
  }

  async loadMore(): Promise<void> {
    const cursor = this.nextCursor;
    if (!cursor || this.loading || this.loadingMore) return;
    const generation = this.#generation;
    this.loadingMore = true;
    this.error = null;
    try {
      const page = await this.fetchPage(cursor);
      if (generation !== this.#generation) return;
      this.items = dedupe(this.items, page.items);
      this.nextCursor = page.next_cursor;
      this.received(page, false);
    } catch (reason) {
      if (generation !== this.#generation) return;
      this.#failedMore = true;
      this.fail(reason as IpcError);
    } finally {
      if (generation === this.#generation) this.loadingMore = false;
    }
  }

  /** Retries what failed: the next page if rows are already shown, else the first page. */
  retry(): Promise<void> {
    if (this.#failedMore && this.items.length > 0) {
      this.#failedMore = false;
      return this.loadMore();
    }
    return this.reload();
  }

  /** An expired session goes up to the app; anything else is shown. */
  protected fail(error: IpcError): void {
    if (this.#onSessionEnded && (error.code === 'session_expired' || error.code === 'not_signed_in')) {
      this.#onSessionEnded(error.message);
      return;
    }
    this.error = error;
  }
}

/** Appends a page, skipping ids already shown (new sign-ins shift the pages). */
function dedupe<T extends { id: string | number }>(existing: T[], page: T[]): T[] {
  const seen = new Set(existing.map((item) => item.id));
  const out = existing.slice();
  for (const item of page) {
    if (!seen.has(item.id)) {
      seen.add(item.id);
      out.push(item);
    }
  }
  return out;
}

/** A paged list whose query is fixed by a function, e.g. one user's sessions. */
export class FetchedList<T extends { id: string | number }> extends PagedList<T> {
  #fetch: (cursor: string | undefined) => Promise<Page<T>>;

  constructor(backend: Backend, fetch: (cursor: string | undefined) => Promise<Page<T>>, onSessionEnded: ((reason: string) => void) | null) {
    super(backend, onSessionEnded);
    this.#fetch = fetch;
  }

  protected fetchPage(cursor: string | undefined): Promise<Page<T>> {
    return this.#fetch(cursor);
  }
}
