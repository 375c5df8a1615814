// Pure helpers for sessions, login attempts and force logouts.
import { LOGIN_FAILURE_REASONS, type LogoutStatus } from '../bindings';
import { formatClock } from '../users/format';

/** Date and time to the second, for reading attempts in order. */
export function formatStamp(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

const FAILURE_LABEL = new Map(LOGIN_FAILURE_REASONS.map(([reason, label]) => [reason, label]));

/** "Wrong password" for `bad_password`; an unknown reason reads as itself. */
export function failureLabel(reason: string | null): string {
  if (!reason) return '';
  return FAILURE_LABEL.get(reason) ?? reason;
}

const ENDED_LABEL: Record<string, string> = {
  logout: 'Signed out',
  revoked: 'Revoked',
  forced_logout: 'Forced logout',
  user_deactivated: 'User deactivated',
  refresh_token_reuse: 'Token reused',
  expired: 'Expired',
};

/** Why a session ended, as the status column says it. */
export function endedLabel(reason: string | null): string {
  if (!reason) return 'Ended';
  return ENDED_LABEL[reason] ?? reason.replace(/_/g, ' ');
}

/**
 * A `datetime-local` value ("2026-11-23T10:30", the admin's local time) as RFC 3339 in
 * UTC, or undefined when empty or not a time.
 */
export function localToUtc(value: string): string | undefined {
  if (!value) return undefined;
  // Without an offset, a date-time string is local time (ECMA-262 Date.parse).
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return undefined;
  return date.toISOString().replace('.000Z', 'Z');
}

/** RFC 3339 as a `datetime-local` value in the admin's local time (to the minute), or ''. */
export function utcToLocal(iso: string): string {
  const date = new Date(iso);
  if (!iso || Number.isNaN(date.getTime())) return '';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

export type LogoutView =
  | { kind: 'none' }
  | { kind: 'confirmed'; text: string }
  | { kind: 'pending'; text: string }
  | { kind: 'failed'; text: string };

/**
 * What a force logout's status says. A queued one wins over an older confirmation: while
 * it waits, the user's sessions still work, and that must not be hidden.
 */
export function describeLogout(status: LogoutStatus | null, now: Date = new Date()): LogoutView {
  if (!status) return { kind: 'none' };
  const { queued, confirmed } = status;
  if (queued && queued.state === 'pending') {
    return { kind: 'pending', text: 'Force logout queued — not yet effective' };
  }
  const refusedLater = queued && (!confirmed || Date.parse(confirmed.confirmed_at) < Date.parse(queued.created_at));
  if (queued && refusedLater) {
    return { kind: 'failed', text: `Force logout refused: ${queued.last_error ?? 'the server did not accept it'}` };
  }
  if (confirmed) {
    const n = confirmed.sessions_revoked;
    return {
      kind: 'confirmed',
      text: `Signed out everywhere · confirmed ${formatClock(confirmed.confirmed_at, now)} (${n} session${n === 1 ? '' : 's'})`,
    };
  }
  return { kind: 'none' };
}
