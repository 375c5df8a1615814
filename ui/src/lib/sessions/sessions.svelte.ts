// The organization's sessions (SPEC S1–S3): the query, the pages shown, and what this
// page revoked — each revocation kept per session with the server's time, so a row says
// when the server confirmed it, or why it did not.
import type { IpcError } from '../backend';
import type { LogoutStatus, Revocation, Session } from '../bindings';
import { PagedList } from './paged.svelte';

export const SESSIONS_PAGE_SIZE = 50;

export type SessionState = 'active' | 'all';

/** What happened to one session's revocation, asked for here. */
export type RevokeAnswer = { kind: 'done'; revocation: Revocation } | { kind: 'error'; error: IpcError };
export type RevokeResult = { kind: 'revoking' } | RevokeAnswer;

export class SessionsList extends PagedList<Session> {
  q = $state('');
  state = $state<SessionState>('active');
  /** Revocations asked for on this page, by session id. */
  results = $state.raw<Record<string, RevokeResult>>({});
  /** Force logouts asked for on this page, by user id, with the user's name. */
  logouts = $state.raw<{ userId: string; name: string; status: LogoutStatus | null; error: string | null }[]>([]);

  protected fetchPage(cursor: string | undefined) {
    return this.backend.listSessions({ q: this.q === '' ? undefined : this.q, state: this.state, limit: SESSIONS_PAGE_SIZE, cursor });
  }

  setQuery(q: string): void {
    const next = q.trim();
    if (next === this.q) return;
    this.q = next;
    void this.reload();
  }

  setState(state: SessionState): void {
    if (state === this.state) return;
    this.state = state;
    void this.reload();
  }

  /** Revokes one session; the answer (or the error) is kept for its row. */
  async revoke(sessionId: string): Promise<RevokeAnswer> {
    this.#setResult(sessionId, { kind: 'revoking' });
    let result: RevokeAnswer;
    try {
      result = { kind: 'done', revocation: await this.backend.revokeSession(sessionId) };
    } catch (reason) {
      const error = reason as IpcError;
      result = { kind: 'error', error };
      if (error.code === 'session_expired' || error.code === 'not_signed_in') this.fail(error);
    }
    this.#setResult(sessionId, result);
    return result;
  }

  /**
   * Revokes each of `ids` in turn. Offline, the rest are not tried (each would fail the
   * same way) but marked unsent, for Retry. Returns the ids revoked.
   */
  async revokeMany(ids: string[], onProgress?: (done: number) => void): Promise<string[]> {
    const revoked: string[] = [];
    for (const [i, id] of ids.entries()) {
      const result = await this.revoke(id);
      onProgress?.(i + 1);
      if (result.kind === 'done') {
        revoked.push(id);
      } else if (result.error.code === 'unreachable') {
        const rest = Object.fromEntries(ids.slice(i + 1).map((other) => [other, result]));
        this.results = { ...this.results, ...rest };
        break;
      } else if (result.error.code === 'session_expired' || result.error.code === 'not_signed_in') {
        break;
      }
    }
    return revoked;
  }

  /** Sessions whose revocation failed because the server was unreachable. */
  get unsent(): string[] {
    return Object.entries(this.results)
      .filter(([, r]) => r.kind === 'error' && r.error.code === 'unreachable')
      .map(([id]) => id);
  }

  /** Forces `userId` out everywhere; confirmed, the user's rows shown read as revoked then. */
  async forceLogout(userId: string, name: string): Promise<void> {
    let status: LogoutStatus | null = null;
    let error: string | null = null;
    try {
      status = await this.backend.forceLogout(userId, false);
    } catch (reason) {
      const e = reason as IpcError;
      if (e.code === 'session_expired' || e.code === 'not_signed_in') this.fail(e);
      error = e.message;
    }
    this.logouts = [{ userId, name, status, error }, ...this.logouts.filter((l) => l.userId !== userId)];
    const confirmed = status?.queued ? null : status?.confirmed;
    if (!confirmed) return;
    const next = { ...this.results };
    for (const session of this.items) {
      if (session.user_id === userId && !session.revoked_at && next[session.id]?.kind !== 'done') {
        next[session.id] = {
          kind: 'done',
          revocation: { session_id: session.id, outcome: 'revoked', revoked_at: confirmed.confirmed_at },
        };
      }
    }
    this.results = next;
  }

  #setResult(id: string, result: RevokeResult): void {
    this.results = { ...this.results, [id]: result };
  }
}
