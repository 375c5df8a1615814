// Polls the connection's sync status (online, last synced, first-sync progress, queued
// changes). Polling a local command is cheap and needs no event permission; it speeds up
// while a sync runs so the progress bar moves smoothly.
import type { Backend } from '../backend';
import type { SyncStatus } from '../bindings';

export const IDLE_POLL_MS = 1000;
export const BUSY_POLL_MS = 250;

export class SyncMonitor {
  status = $state.raw<SyncStatus | null>(null);

  #backend: Backend;
  #onRevision: () => void;
  #onSessionEnded: (reason: string) => void;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /**
   * The cache revision the page is known to show. It starts at the worker's first (0),
   * not at the first poll's: the page reads its first list before that poll, and a sync
   * that lands in between must still refresh it.
   */
  #revision = 0;
  #stopped = false;

  constructor(backend: Backend, onRevision: () => void, onSessionEnded: (reason: string) => void) {
    this.#backend = backend;
    this.#onRevision = onRevision;
    this.#onSessionEnded = onSessionEnded;
  }

  get queued(): number {
    const s = this.status;
    return s ? s.pending + s.conflicts + s.failed : 0;
  }

  start(): void {
    this.#stopped = false;
    void this.poll();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  async poll(): Promise<void> {
    clearTimeout(this.#timer);
    try {
      const status = await this.#backend.syncStatus();
      if (this.#stopped) return;
      this.status = status;
      if (status.session_ended) {
        this.stop();
        this.#onSessionEnded(status.session_ended);
        return;
      }
      if (status.revision !== this.#revision) this.#onRevision();
      this.#revision = status.revision;
    } catch (reason) {
      const code = (reason as { code?: string }).code;
      if (code === 'not_signed_in' || code === 'session_expired') {
        this.stop();
        this.#onSessionEnded((reason as { message?: string }).message ?? 'Sign in to continue.');
        return;
      }
    }
    if (!this.#stopped) {
      this.#timer = setTimeout(() => void this.poll(), this.status?.syncing ? BUSY_POLL_MS : IDLE_POLL_MS);
    }
  }
}

/** "Last synced 2 min ago" text for a status. */
export function lastSyncedText(status: SyncStatus | null, now: Date): string {
  if (!status?.last_synced_at) return 'Not synced yet';
  const seconds = Math.max(0, Math.round((now.getTime() - Date.parse(status.last_synced_at)) / 1000));
  if (seconds < 60) return 'Last synced just now';
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `Last synced ${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return `Last synced ${hours} h ago`;
  return `Last synced ${new Date(status.last_synced_at).toLocaleString()}`;
}

/** Progress of the first sync as 0–100, or null when not known yet. */
export function firstSyncPercent(status: SyncStatus | null): number | null {
  if (!status?.syncing || !status.first_sync || status.total === 0) return null;
  return Math.min(100, Math.round((status.applied / status.total) * 100));
}
