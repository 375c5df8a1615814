import { describe, expect, it } from 'vitest';
import { confirmedLogout, logoutEntry } from '../../test/fixtures';
import type { LogoutStatus } from '../bindings';
import { describeLogout, endedLabel } from './format';

const NOW = new Date('2026-11-23T12:00:00Z');

describe('describeLogout', () => {
  it('says nothing without a force logout', () => {
    expect(describeLogout(null).kind).toBe('none');
    expect(describeLogout({ user_id: 'u', queued: null, confirmed: null }).kind).toBe('none');
  });

  it('a confirmed one gives the time and how many sessions ended', () => {
    const at = new Date(2026, 10, 23, 10, 4, 5).toISOString();
    expect(describeLogout(confirmedLogout('u', at, 1), NOW)).toEqual({ kind: 'confirmed', text: 'Signed out everywhere · confirmed 10:04:05 (1 session)' });
  });

  it('a queued one wins over an older confirmation: the sessions still work', () => {
    const status: LogoutStatus = { ...confirmedLogout('u', '2026-11-20T10:00:00Z'), queued: logoutEntry('u', 'U') };
    expect(describeLogout(status, NOW)).toEqual({ kind: 'pending', text: 'Force logout queued — not yet effective' });
  });

  it('a refusal shows unless a later one was confirmed', () => {
    const failed = logoutEntry('u', 'U', { state: 'failed', last_error: 'Forbidden', created_at: '2026-11-23T10:00:00Z' });
    expect(describeLogout({ user_id: 'u', queued: failed, confirmed: null }, NOW)).toEqual({ kind: 'failed', text: 'Force logout refused: Forbidden' });
    const older = { ...confirmedLogout('u', '2026-11-22T10:00:00Z'), queued: failed };
    expect(describeLogout(older, NOW).kind).toBe('failed');
    const newer = { ...confirmedLogout('u', '2026-11-23T11:00:00Z'), queued: failed };
    expect(describeLogout(newer, NOW).kind).toBe('confirmed');
  });
});

describe('endedLabel', () => {
  it('names why a session ended', () => {
    expect(endedLabel('forced_logout')).toBe('Forced logout');
    expect(endedLabel('refresh_token_reuse')).toBe('Token reused');
    expect(endedLabel('some_new_reason')).toBe('some new reason');
    expect(endedLabel(null)).toBe('Ended');
  });
});
