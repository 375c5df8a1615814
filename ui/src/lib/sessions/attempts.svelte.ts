// Login attempts (SPEC S4, S5): the filters as the admin set them, turned into the
// server's query (times from the admin's local clock to UTC), and the pages shown.
import type { LoginAttempt, LoginAttemptQuery, LoginResult } from '../bindings';
import { localToUtc } from './format';
import { PagedList } from './paged.svelte';

export const ATTEMPTS_PAGE_SIZE = 50;

export interface AttemptFilters {
  result: LoginResult | '';
  reason: string;
  /** Attempts of one user (from their panel), or ''. */
  userId: string;
  email: string;
  ip: string;
  /** `datetime-local` values, the admin's local time. */
  from: string;
  to: string;
}

export const NO_FILTERS: AttemptFilters = { result: '', reason: '', userId: '', email: '', ip: '', from: '', to: '' };

export function attemptQuery(f: AttemptFilters, limit: number, cursor?: string): LoginAttemptQuery {
  const query: LoginAttemptQuery = { limit };
  if (f.result) query.result = f.result;
  if (f.reason) query.reason = f.reason;
  if (f.userId) query.user_id = f.userId;
  if (f.email.trim()) query.email = f.email.trim();
  if (f.ip.trim()) query.ip = f.ip.trim();
  const from = localToUtc(f.from);
  if (from) query.from = from;
  const to = localToUtc(f.to);
  if (to) query.to = to;
  if (cursor) query.cursor = cursor;
  return query;
}

export class AttemptsList extends PagedList<LoginAttempt> {
  filters = $state.raw<AttemptFilters>(NO_FILTERS);

  /** Changes some filters and reloads when the query the server sees changed. */
  set(change: Partial<AttemptFilters>): void {
    const next = { ...this.filters, ...change };
    const same = JSON.stringify(attemptQuery(next, 0)) === JSON.stringify(attemptQuery(this.filters, 0));
    this.filters = next;
    if (!same) void this.reload();
  }

  protected fetchPage(cursor: string | undefined) {
    return this.backend.loginAttempts(attemptQuery(this.filters, ATTEMPTS_PAGE_SIZE, cursor));
  }
}
