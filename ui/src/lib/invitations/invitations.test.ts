// The pure helpers of the invitations: the address check mirrors the server's, the CSV
// rebuilt from edited rows reads back as the same fields, and times until expiry.
import { describe, expect, it } from 'vitest';
import { SESSION } from '../../test/fixtures';
import { addressProblem, buildCsv, csvField, formatUntil, grantBlocked, parseAddresses, tabCounts, validEmail } from './invitations.svelte';

describe('addresses', () => {
  it('checks syntax like the server: one @, a dotted domain, no spaces', () => {
    for (const ok of ['ana@example.com', 'a.b+tag@sub.example.co.uk', 'müller@example.de']) expect(validEmail(ok), ok).toBe(true);
    for (const bad of ['', 'ana', '@example.com', 'ana@', 'ana@localhost', 'ana@.example.com', 'ana@example.com.', 'a@b@example.com', 'ana @example.com', 'ana@exa\tmple.com', `${'a'.repeat(310)}@example.com`]) {
      expect(validEmail(bad), bad).toBe(false);
    }
  });

  it('splits on commas, semicolons and lines, and names what is wrong', () => {
    expect(parseAddresses(' ana@example.com,ben@example.com ;\r\n\ncy@example.com;; ')).toEqual(['ana@example.com', 'ben@example.com', 'cy@example.com']);
    expect(addressProblem([])).toBe('Enter at least one e-mail address.');
    expect(addressProblem(['ana@example.com', 'x', 'y@z'])).toBe('Not e-mail addresses: x, y@z.');
    expect(addressProblem(['ana@example.com', 'Ana@Example.com'])).toBe('Ana@Example.com is listed twice.');
    expect(addressProblem(Array.from({ length: 501 }, (_, i) => `p${i}@example.com`))).toContain('At most 500');
    expect(addressProblem(['ana@example.com'])).toBeNull();
  });
});

describe('CSV rebuilt from rows', () => {
  it('quotes only the fields a reader could split or trim, doubling quotes', () => {
    expect(csvField('ana@example.com')).toBe('ana@example.com');
    expect(csvField('Manager;Member')).toBe('"Manager;Member"');
    expect(csvField('Sales, EMEA')).toBe('"Sales, EMEA"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField(' padded')).toBe('" padded"');
    expect(buildCsv([{ email: 'a@example.com', role: '', department: 'R&D' }])).toBe('email,role,department\na@example.com,,R&D\n');
  });
});

describe('small helpers', () => {
  it('says how long until an expiry, or how long ago it was', () => {
    const now = new Date('2026-11-23T09:15:00Z');
    expect(formatUntil('2026-11-30T09:15:00Z', now)).toBe('in 7d');
    expect(formatUntil('2026-11-23T12:20:00Z', now)).toBe('in 3h');
    expect(formatUntil('2026-11-23T09:40:30Z', now)).toBe('in 25m');
    expect(formatUntil('2026-11-21T09:15:00Z', now)).toBe('2d ago');
  });

  it('blocks granting a role with a permission the admin lacks, and Owner without being one', () => {
    const inviter = { ...SESSION, permissions: ['users.read', 'invitations.manage'] };
    expect(grantBlocked(inviter, { key: 'member', permissions: ['users.read'] })).toBeNull();
    expect(grantBlocked(inviter, { key: 'manager', permissions: ['users.read', 'users.manage'] })).toBe('This role includes users.manage, which you do not have.');
    expect(grantBlocked({ ...SESSION, permissions: [] }, { key: 'owner', permissions: [] })).toBe('Only an Owner can grant the Owner role.');
    // An Admin holds every permission the Owner role has, and still is not an Owner.
    const all = ['users.read', 'users.manage', 'invitations.manage', 'org.settings'];
    expect(grantBlocked({ ...SESSION, permissions: all, owner: false }, { key: 'owner', permissions: all })).toBe('Only an Owner can grant the Owner role.');
    expect(grantBlocked({ ...SESSION, permissions: all, owner: true }, { key: 'owner', permissions: all })).toBeNull();
  });

  it('adds the total for the All tab', () => {
    expect(tabCounts({ pending: 2, accepted: 3, declined: 1, expired: 0, revoked: 4 })).toEqual({ all: 10, pending: 2, accepted: 3, declined: 1, expired: 0, revoked: 4 });
    expect(tabCounts(null)).toBeNull();
  });
});
