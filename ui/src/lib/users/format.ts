// Pure formatting helpers for the users table.
import type { User } from '../bindings';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

function parse(iso: string | null | undefined): Date | null {
  if (!iso) return null;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? null : date;
}

/**
 * "just now", "5m ago", "2h ago", "3d ago", "4mo ago", "2y ago"; "never" without a date.
 * A time slightly in the future (clock skew between server and desktop) reads "just now".
 */
export function formatRelative(iso: string | null | undefined, now: Date): string {
  const date = parse(iso);
  if (!date) return 'never';
  const diff = now.getTime() - date.getTime();
  if (diff < MINUTE) return 'just now';
  if (diff < HOUR) return `${Math.floor(diff / MINUTE)}m ago`;
  if (diff < DAY) return `${Math.floor(diff / HOUR)}h ago`;
  const days = Math.floor(diff / DAY);
  if (days < 30) return `${days}d ago`;
  if (days < 365) return `${Math.floor(days / 30)}mo ago`;
  return `${Math.floor(days / 365)}y ago`;
}

/** Local date and time for the hover title; empty when there is no date. */
export function formatExact(iso: string | null | undefined): string {
  const date = parse(iso);
  if (!date) return '';
  return date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

const pad = (n: number) => String(n).padStart(2, '0');

/**
 * The local time of day as "HH:MM:SS" (when the server confirmed something); the date
 * goes in front when it was not today, so an old confirmation does not read as recent.
 */
export function formatClock(iso: string | null | undefined, now: Date = new Date()): string {
  const date = parse(iso);
  if (!date) return '';
  const clock = `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
  if (date.toDateString() === now.toDateString()) return clock;
  return `${date.toLocaleDateString(undefined, { dateStyle: 'medium' })} ${clock}`;
}

/** The local time of day as "HH:MM", e.g. when a reset link that lasts an hour expires. */
export function formatHourMinute(iso: string | null | undefined, now: Date = new Date()): string {
  const date = parse(iso);
  if (!date) return '';
  const clock = `${pad(date.getHours())}:${pad(date.getMinutes())}`;
  if (date.toDateString() === now.toDateString()) return clock;
  return `${date.toLocaleDateString(undefined, { dateStyle: 'medium' })} ${clock}`;
}

/** When the user was last seen: last activity, else last sign-in. */
export function lastSeen(user: Pick<User, 'last_active_at' | 'last_login_at'>): string | null {
  return user.last_active_at ?? user.last_login_at ?? null;
}

export function initials(user: Pick<User, 'first_name' | 'last_name' | 'display_name' | 'email'>): string {
  const first = user.first_name.trim();
  const last = user.last_name.trim();
  if (first || last) return `${first.charAt(0)}${last.charAt(0)}`.toUpperCase();
  const words = user.display_name.trim().split(/\s+/).filter(Boolean);
  if (words.length >= 2) return `${words[0].charAt(0)}${words[words.length - 1].charAt(0)}`.toUpperCase();
  if (words.length === 1) return words[0].charAt(0).toUpperCase();
  return user.email.charAt(0).toUpperCase();
}

/** A stable palette slot (0–7) per user so avatars keep their colour across reloads. */
export function avatarTone(id: string): number {
  let hash = 0;
  for (let i = 0; i < id.length; i++) hash = (hash * 31 + id.charCodeAt(i)) | 0;
  return Math.abs(hash) % 8;
}

export function displayName(user: Pick<User, 'display_name' | 'first_name' | 'last_name' | 'email'>): string {
  const name = user.display_name.trim() || `${user.first_name} ${user.last_name}`.trim();
  return name || user.email;
}

export const STATUS_LABEL = {
  active: 'Active',
  pending: 'Pending',
  deactivated: 'Deactivated',
} as const;
