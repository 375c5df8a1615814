import { describe, expect, it } from 'vitest';
import { avatarTone, formatClock, formatExact, formatHourMinute, formatRelative, initials, lastSeen } from './format';

const NOW = new Date('2025-06-15T12:00:00Z');
const ago = (ms: number) => new Date(NOW.getTime() - ms).toISOString();
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

describe('formatRelative', () => {
  it.each([
    [null, 'never'],
    [undefined, 'never'],
    ['', 'never'],
    ['not a date', 'never'],
    [ago(0), 'just now'],
    [ago(59 * 1000), 'just now'],
    [ago(MIN), '1m ago'],
    [ago(59 * MIN + 59_000), '59m ago'],
    [ago(HOUR), '1h ago'],
    [ago(2 * HOUR + 30 * MIN), '2h ago'],
    [ago(23 * HOUR + 59 * MIN), '23h ago'],
    [ago(DAY), '1d ago'],
    [ago(3 * DAY + 5 * HOUR), '3d ago'],
    [ago(29 * DAY), '29d ago'],
    [ago(45 * DAY), '1mo ago'],
    [ago(200 * DAY), '6mo ago'],
    [ago(365 * DAY), '1y ago'],
    [ago(800 * DAY), '2y ago'],
  ] as const)('%s → %s', (iso, expected) => {
    expect(formatRelative(iso, NOW)).toBe(expected);
  });

  it('treats a time slightly in the future (clock skew) as just now', () => {
    expect(formatRelative(new Date(NOW.getTime() + 30_000).toISOString(), NOW)).toBe('just now');
  });
});

describe('formatExact', () => {
  it('is empty without a date and a local date-time otherwise', () => {
    expect(formatExact(null)).toBe('');
    const iso = '2025-06-15T09:30:00Z';
    const text = formatExact(iso);
    expect(text).toBe(new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }));
    expect(text).toMatch(/2025/);
  });
});

describe('formatHourMinute', () => {
  it('gives the local time as HH:MM, and nothing without a time', () => {
    const day = new Date(2025, 5, 15, 12, 0);
    expect(formatHourMinute(new Date(2025, 5, 15, 9, 5, 59).toISOString(), day)).toBe('09:05');
    expect(formatHourMinute(new Date(2025, 5, 15, 23, 40).toISOString(), day)).toBe('23:40');
    // Another day (a link valid for days) says which.
    const later = formatHourMinute(new Date(2025, 5, 18, 8, 30).toISOString(), day);
    expect(later).toMatch(/ 08:30$/);
    expect(later).not.toBe('08:30');
    expect(formatHourMinute(null)).toBe('');
    expect(formatHourMinute('not a time')).toBe('');
  });
});

describe('formatClock', () => {
  it('gives the local time to the second, with the date when it was not today', () => {
    const today = new Date(2025, 5, 15, 9, 5, 7);
    expect(formatClock(today.toISOString(), new Date(2025, 5, 15, 18, 0, 0))).toBe('09:05:07');
    const yesterday = new Date(2025, 5, 14, 23, 59, 1);
    const text = formatClock(yesterday.toISOString(), new Date(2025, 5, 15, 0, 1, 0));
    expect(text).toBe(`${yesterday.toLocaleDateString(undefined, { dateStyle: 'medium' })} 23:59:01`);
    expect(formatClock(null)).toBe('');
  });
});

describe('lastSeen', () => {
  it('prefers last activity and falls back to last sign-in', () => {
    expect(lastSeen({ last_active_at: 'a', last_login_at: 'b' })).toBe('a');
    expect(lastSeen({ last_active_at: null, last_login_at: 'b' })).toBe('b');
    expect(lastSeen({ last_active_at: null, last_login_at: null })).toBeNull();
  });
});

describe('initials', () => {
  const base = { first_name: '', last_name: '', display_name: '', email: 'zed@acme.test' };
  it('uses first and last name, else the display name, else the e-mail', () => {
    expect(initials({ ...base, first_name: 'ada', last_name: 'lovelace' })).toBe('AL');
    expect(initials({ ...base, display_name: 'Grace Brewster Hopper' })).toBe('GH');
    expect(initials({ ...base, display_name: 'Cher' })).toBe('C');
    expect(initials(base)).toBe('Z');
  });
});

describe('avatarTone', () => {
  it('is stable and within the palette', () => {
    expect(avatarTone('u-1')).toBe(avatarTone('u-1'));
    for (const id of ['a', 'bb', 'u-123', '00000000-0000-0000-0000-000000000000']) {
      expect(avatarTone(id)).toBeGreaterThanOrEqual(0);
      expect(avatarTone(id)).toBeLessThan(8);
    }
  });
});
