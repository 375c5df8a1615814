// The activity log (SPEC A2–A5): the filters as the admin set them, turned into the
// server's query; the pages shown, with what an offline page says about the cache; the
// two charts' ranges and answers; and the CSV export's progress.
import type { Backend, IpcError } from '../backend';
import type { ActivityExportStatus, ActivityPage, AuditEvent, AuditEventQuery, Histogram, HistogramBucket } from '../bindings';
import { PagedList, type Page } from '../sessions/paged.svelte';
import { actionFilter } from './format';

export const ACTIVITY_PAGE_SIZE = 100;

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Someone chosen in a user picker. */
export interface Picked {
  id: string;
  name: string;
}

export const PRESETS = [
  ['24h', 'Last 24 hours', DAY],
  ['7d', 'Last 7 days', 7 * DAY],
  ['30d', 'Last 30 days', 30 * DAY],
  ['90d', 'Last 90 days', 90 * DAY],
] as const;
export type Preset = (typeof PRESETS)[number][0] | 'all' | 'custom';
export const DEFAULT_PRESET: Preset = '30d';

export interface ActivityFilters {
  /** Events where this user is the actor or the target. */
  user: Picked | null;
  /** Events this user did. */
  actor: Picked | null;
  /** Chosen actions, with `app.*` for host products; none: every action. */
  actions: string[];
  /** Which range button is lit; `from`/`to` hold the range itself. */
  preset: Preset;
  /** RFC 3339 UTC, or '' (open). */
  from: string;
  to: string;
  ip: string;
  q: string;
}

/** RFC 3339 UTC to the second, as the server's other time filters are sent. */
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The range of a preset, ending now (open, so the newest events keep coming in). */
export function presetRange(preset: Preset, now: Date): { from: string; to: string } {
  const span = PRESETS.find(([key]) => key === preset)?.[2];
  return { from: span ? rfc3339(new Date(now.getTime() - span)) : '', to: '' };
}

/** No filters but the default range, as of `now`. */
export function defaultFilters(now: Date = new Date()): ActivityFilters {
  return { user: null, actor: null, actions: [], preset: DEFAULT_PRESET, ...presetRange(DEFAULT_PRESET, now), ip: '', q: '' };
}

/** One user's whole timeline (their panel, and the log opened from it). */
export function timelineOf(user: Picked): ActivityFilters {
  return { ...defaultFilters(), user, preset: 'all', from: '', to: '' };
}

/** The server's filters for `f` (no paging): only what is set. */
export function activityQuery(f: ActivityFilters): AuditEventQuery {
  const query: AuditEventQuery = {};
  if (f.user) query.user_id = f.user.id;
  if (f.actor) query.actor_id = f.actor.id;
  const action = actionFilter(f.actions);
  if (action) query.action = action;
  if (f.from) query.from = f.from;
  if (f.to) query.to = f.to;
  if (f.ip.trim()) query.ip = f.ip.trim();
  if (f.q.trim()) query.q = f.q.trim();
  return query;
}

const sameQuery = (a: ActivityFilters, b: ActivityFilters) => JSON.stringify(activityQuery(a)) === JSON.stringify(activityQuery(b));

export class ActivityList extends PagedList<AuditEvent> {
  filters = $state.raw<ActivityFilters>(defaultFilters());
  /** The last first page came from the cache on this computer. */
  offline = $state(false);
  /** The oldest time the cache covers (when offline). */
  windowStart = $state<string | null>(null);
  /** Offline, and the range reaches further back than the cache. */
  beyondWindow = $state(false);

  /** Changes some filters and reloads when the query the server sees changed. */
  set(change: Partial<ActivityFilters>): void {
    const next = { ...this.filters, ...change };
    const same = sameQuery(next, this.filters);
    this.filters = next;
    if (!same) void this.reload();
  }

  protected fetchPage(cursor: string | undefined): Promise<ActivityPage> {
    return this.backend.activity({ ...activityQuery(this.filters), limit: ACTIVITY_PAGE_SIZE, ...(cursor ? { cursor } : {}) });
  }

  protected override received(page: Page<AuditEvent>, first: boolean): void {
    const p = page as ActivityPage;
    // A later page tells the same about the cache as the first, unless the connection
    // came or went in between: the newest answer is the one that holds.
    if (first || p.offline !== this.offline) {
      this.offline = p.offline;
      this.windowStart = p.window_start;
    }
    this.beyondWindow = p.offline && p.beyond_window;
  }
}

export interface ChartRanges {
  day: { from: string; to: string };
  hour: { from: string; to: string };
}

/** Days shown when the range has no start ("All time"). */
export const OPEN_RANGE_DAYS = 90;
/** Hours of failed sign-ins shown: the end of the range. */
export const HOUR_CHART_HOURS = 48;

/** The two charts' ranges: the filter's, the day chart's start bounded for an open
 * range, the hour chart's the last 48 hours of it (or all of it if shorter). */
export function chartRanges(f: ActivityFilters, now: Date): ChartRanges {
  const to = f.to ? new Date(f.to) : now;
  const from = f.from ? new Date(f.from) : new Date(to.getTime() - OPEN_RANGE_DAYS * DAY);
  const hourFrom = new Date(Math.max(from.getTime(), to.getTime() - HOUR_CHART_HOURS * HOUR));
  return { day: { from: rfc3339(from), to: rfc3339(to) }, hour: { from: rfc3339(hourFrom), to: rfc3339(to) } };
}

/** The failed sign-ins of the filter, or null when its action filter leaves them out. */
export function failedSignInQuery(f: ActivityFilters): AuditEventQuery | null {
  const action = 'session.sign_in_failed';
  if (f.actions.length > 0 && !f.actions.includes(action)) return null;
  return { ...activityQuery({ ...f, actions: [] }), action };
}

/** One chart's answer for the latest query; an older answer arriving late is dropped. */
export class HistogramState {
  data = $state.raw<Histogram | null>(null);
  loading = $state(false);
  error = $state.raw<IpcError | null>(null);
  #generation = 0;
  #backend: Backend;
  #bucket: HistogramBucket;

  constructor(backend: Backend, bucket: HistogramBucket) {
    this.#backend = backend;
    this.#bucket = bucket;
  }

  async load(query: AuditEventQuery | null): Promise<void> {
    const generation = ++this.#generation;
    if (!query) {
      this.data = null;
      this.loading = false;
      this.error = null;
      return;
    }
    this.loading = true;
    this.error = null;
    try {
      const data = await this.#backend.activityHistogram(query, this.#bucket);
      if (generation === this.#generation) this.data = data;
    } catch (reason) {
      if (generation === this.#generation) this.error = reason as IpcError;
    } finally {
      if (generation === this.#generation) this.loading = false;
    }
  }
}

/** How often a running export is asked how far it got. */
export const EXPORT_POLL_MS = 250;

/** The CSV export of the filtered log (SPEC A4): started here, polled while it runs. */
export class ActivityExport {
  status = $state.raw<ActivityExportStatus | null>(null);
  /** Starting or cancelling failed. */
  error = $state<string | null>(null);
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  #backend: Backend;

  constructor(backend: Backend) {
    this.#backend = backend;
  }

  get running(): boolean {
    return this.status?.running ?? false;
  }

  /** Asks where to save and starts; a cancelled Save dialog changes nothing. */
  async start(query: AuditEventQuery): Promise<void> {
    if (this.running) return;
    this.error = null;
    let path: string | null;
    try {
      path = await this.#backend.startActivityExport(query);
    } catch (reason) {
      this.error = (reason as IpcError).message;
      return;
    }
    if (path === null || this.#stopped) return;
    this.status = { running: true, done: 0, total: null, path, error: null, cancelled: false };
    this.#schedule();
  }

  /** Picks up an export that was running before this page opened. */
  async resume(): Promise<void> {
    try {
      const status = await this.#backend.activityExportStatus();
      if (status.running && !this.#stopped && !this.running) {
        this.status = status;
        this.#schedule();
      }
    } catch {
      // Nothing running, or nothing to say: the button starts one.
    }
  }

  async cancel(): Promise<void> {
    try {
      await this.#backend.cancelActivityExport();
    } catch (reason) {
      this.error = (reason as IpcError).message;
    }
  }

  /** Stops polling for good (the page closed); the export itself goes on. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#poll(), EXPORT_POLL_MS);
  }

  async #poll(): Promise<void> {
    try {
      const status = await this.#backend.activityExportStatus();
      if (this.#stopped) return;
      this.status = status;
      if (status.running) this.#schedule();
    } catch (reason) {
      if (this.#stopped) return;
      this.error = `Could not read how the export is going: ${(reason as IpcError).message}`;
    }
  }
}

/** The chosen action set with `action` (or a whole area's `actions`) on or off. */
export function toggleActions(chosen: readonly string[], actions: readonly string[], on: boolean): string[] {
  const rest = chosen.filter((a) => !actions.includes(a));
  return on ? [...rest, ...actions] : rest;
}
