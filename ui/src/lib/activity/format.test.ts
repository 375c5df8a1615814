// The activity log's pure parts: the action filter, details as people read them, and
// the charts' ranges.
import { describe, expect, it } from 'vitest';
import { AUDIT_ACTIONS } from '../bindings';
import { chartRanges, defaultFilters, failedSignInQuery, type ActivityFilters } from './activity.svelte';
import { actionFilter, actionLabel, AREAS, dayLabel, diffRows, otherDetails, readable, takesAction } from './format';

const HOUR = 3_600_000;

describe('the action filter', () => {
  it('takes every action of a noun as noun.*, and the rest by name, in the server order', () => {
    const invitations = AUDIT_ACTIONS.filter(([a]) => a.startsWith('invitation.')).map(([a]) => a);
    expect(actionFilter([])).toBe('');
    expect(actionFilter(['user.deactivated'])).toBe('user.deactivated');
    expect(actionFilter([...invitations, 'session.revoked'])).toBe('session.revoked,invitation.*');
    expect(actionFilter(['app.*', 'api_key.used'])).toBe('api_key.used,app.*');
    const all = AUDIT_ACTIONS.map(([a]) => a);
    expect(actionFilter(all)).toBe('session.*,user.*,invitation.*,api_key.*,organization.*,role.*,group.*');
  });

  it('groups actions by area, host products last, and labels them', () => {
    expect(AREAS.map((a) => a.name)).toEqual(['Sign-in', 'Sessions', 'Users', 'Invitations', 'Security', 'API keys', 'Organization', 'Host product']);
    expect(AREAS.flatMap((a) => a.actions)).toHaveLength(AUDIT_ACTIONS.length + 1);
    expect(actionLabel('user.force_logout')).toBe('Forced logout');
    expect(actionLabel('app.agent_interaction')).toBe('app.agent_interaction');
    expect(takesAction([], 'session.sign_in_failed')).toBe(true);
    expect(takesAction(['app.*'], 'app.x')).toBe(true);
    expect(takesAction(['user.created'], 'session.sign_in_failed')).toBe(false);
  });
});

describe('details', () => {
  it('reads values as people do: lists joined, named things by name, nothing as a dash', () => {
    expect(readable(null)).toBe('—');
    expect(readable('')).toBe('(empty)');
    expect(readable([])).toBe('(none)');
    expect(readable(['a', 'b'])).toBe('a, b');
    expect(readable([{ id: 'r1', name: 'Admin' }, { id: 'r2', name: 'Member' }])).toBe('Admin, Member');
    expect(readable({ security_alerts: true, weekly_digest: false })).toBe('security_alerts: true; weekly_digest: false');
    expect(readable(42)).toBe('42');
  });

  it('turns before/after into one row per changed field, and the rest into pairs', () => {
    expect(diffRows({ reason: 'x' })).toBeNull();
    expect(diffRows({ before: { title: 'A' }, after: { title: 'B', phone: '+1 555' } })).toEqual([
      { field: 'title', before: 'A', after: 'B' },
      { field: 'phone', before: '—', after: '+1 555' },
    ]);
    expect(diffRows({ after: { email: 'new@acme.test' } })).toEqual([{ field: 'email', before: '—', after: 'new@acme.test' }]);
    expect(otherDetails({ before: {}, after: {}, reason: 'bad_password', session_id: 's-1' })).toEqual([
      ['reason', 'Wrong password'],
      ['session id', 's-1'],
    ]);
  });

  it('labels a day bar by its UTC day', () => {
    expect(dayLabel('2026-03-03T00:00:00Z')).toBe('Tue 3 Mar');
    expect(dayLabel('2026-12-31T00:00:00Z')).toBe('Thu 31 Dec');
  });
});

describe('chart ranges', () => {
  const now = new Date(Date.UTC(2026, 2, 10, 12, 0, 0));
  const f = (change: Partial<ActivityFilters>): ActivityFilters => ({ ...defaultFilters(now), ...change });

  it('the day chart covers the range, the hour chart its last 48 hours', () => {
    expect(chartRanges(f({}), now)).toEqual({
      day: { from: '2026-02-08T12:00:00Z', to: '2026-03-10T12:00:00Z' },
      hour: { from: '2026-03-08T12:00:00Z', to: '2026-03-10T12:00:00Z' },
    });
    const short = chartRanges(f({ from: '2026-03-01T00:00:00Z', to: '2026-03-01T06:00:00Z' }), now);
    expect(short.hour).toEqual({ from: '2026-03-01T00:00:00Z', to: '2026-03-01T06:00:00Z' });
    // "All time": the last 90 days.
    const open = chartRanges(f({ from: '', to: '' }), now);
    expect(Date.parse(open.day.to) - Date.parse(open.day.from)).toBe(90 * 24 * HOUR);
  });

  it('counts failed sign-ins under the other filters, unless the action filter leaves them out', () => {
    const user = { id: 'u-dana', name: 'Dana' };
    expect(failedSignInQuery(f({ user, actions: ['session.sign_in_failed', 'user.created'] }))).toEqual({
      user_id: 'u-dana',
      action: 'session.sign_in_failed',
      from: '2026-02-08T12:00:00Z',
    });
    expect(failedSignInQuery(f({ actions: ['user.created'] }))).toBeNull();
  });
});
