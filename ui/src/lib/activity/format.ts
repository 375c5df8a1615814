// Pure helpers of the activity log (SPEC A1–A5): action labels and the action filter's
// areas, who did what to whom, the readable form of an event's details, and chart labels.
import { AUDIT_ACTIONS, type AuditEvent, type AuditParty } from '../bindings';
import { failureLabel } from '../sessions/format';

/** Host products' own actions, filtered as one choice. */
export const HOST_ACTIONS = 'app.*';

const LABEL = new Map(AUDIT_ACTIONS.map(([action, , label]) => [action, label]));

/** "Signed in" for `session.signed_in`; a host product's action reads as itself. */
export function actionLabel(action: string): string {
  return LABEL.get(action) ?? action;
}

export interface Area {
  name: string;
  actions: { action: string; label: string }[];
}

/** The action filter's groups, in the order the server lists them, host products last. */
export const AREAS: Area[] = (() => {
  const areas = new Map<string, Area>();
  for (const [action, area, label] of AUDIT_ACTIONS) {
    if (!areas.has(area)) areas.set(area, { name: area, actions: [] });
    areas.get(area)!.actions.push({ action, label });
  }
  return [...areas.values(), { name: 'Host product', actions: [{ action: HOST_ACTIONS, label: 'Host product (app.*)' }] }];
})();

const noun = (action: string) => action.slice(0, action.indexOf('.'));
/** Every known action per noun (`session` → its actions), in the server's order. */
const BY_NOUN = new Map<string, string[]>();
for (const [action] of AUDIT_ACTIONS) BY_NOUN.set(noun(action), [...(BY_NOUN.get(noun(action)) ?? []), action]);

/**
 * The `action` filter for a set of chosen actions: where every known action of a noun is
 * chosen, `noun.*` (so an action the server adds later is included too); else the
 * chosen ones by name. Empty when nothing is chosen (every action).
 */
export function actionFilter(chosen: readonly string[]): string {
  const set = new Set(chosen);
  const parts: string[] = [];
  for (const [n, actions] of BY_NOUN) {
    if (actions.every((a) => set.has(a))) parts.push(`${n}.*`);
    else parts.push(...actions.filter((a) => set.has(a)));
  }
  if (set.has(HOST_ACTIONS)) parts.push(HOST_ACTIONS);
  return parts.join(',');
}

/** Whether the chosen actions (none: every action) take in `action`. */
export function takesAction(chosen: readonly string[], action: string): boolean {
  return chosen.length === 0 || chosen.includes(action) || (action.startsWith('app.') && chosen.includes(HOST_ACTIONS));
}

/** A short name for a chosen set: "Sign-in", "Signed in", "Sign-in, Invitation sent", "7 actions". */
export function actionsSummary(chosen: readonly string[]): string {
  const set = new Set(chosen);
  const names: string[] = [];
  for (const area of AREAS) {
    const picked = area.actions.filter((a) => set.has(a.action));
    if (picked.length === 0) continue;
    if (picked.length === area.actions.length) names.push(area.name === 'Host product' ? picked[0].label : area.name);
    else names.push(...picked.map((a) => a.label));
  }
  return names.length <= 3 ? names.join(', ') : `${chosen.length} actions`;
}

/** A party for people: name, else e-mail, else id. */
export function partyName(party: AuditParty): string {
  return party.name || party.email || party.id;
}

/** Who did it: the actor, else who the server says it was (a failed sign-in has none). */
export function actorName(event: AuditEvent): string {
  if (event.actor) return partyName(event.actor);
  return event.action === 'session.sign_in_failed' ? 'Not signed in' : 'System';
}

/** The e-mail address under a name, when it adds something. */
export function partyEmail(party: AuditParty | null): string | null {
  if (!party?.email || party.email === partyName(party)) return null;
  return party.email;
}

/** A value of the details as people read it: lists joined, named things by name. */
export function readable(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'string') return value === '' ? '(empty)' : value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.length === 0 ? '(none)' : value.map(readable).join(', ');
  if (typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o.name === 'string' && o.name) return o.name;
    const entries = Object.entries(o);
    return entries.length === 0 ? '(none)' : entries.map(([k, v]) => `${k}: ${readable(v)}`).join('; ');
  }
  return String(value);
}

export interface DiffRow {
  field: string;
  before: string;
  after: string;
}

function asObject(value: unknown): Record<string, unknown> | null {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

/** The edit of an event as rows (the fields that changed, in the order they came), or null. */
export function diffRows(details: Record<string, unknown>): DiffRow[] | null {
  const before = asObject(details.before);
  const after = asObject(details.after);
  if (!before && !after) return null;
  const fields = [...new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})])];
  return fields.map((field) => ({ field, before: readable(before?.[field]), after: readable(after?.[field]) }));
}

/** The details other than the edit, as label and text; a failure reason by its label. */
export function otherDetails(details: Record<string, unknown>): [string, string][] {
  return Object.entries(details)
    .filter(([key]) => key !== 'before' && key !== 'after')
    .map(([key, value]) => [key.replace(/_/g, ' '), key === 'reason' && typeof value === 'string' ? failureLabel(value) : readable(value)]);
}

function weekdayDayMonth(date: Date, timeZone?: string): string {
  const parts = new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric', month: 'short', timeZone }).formatToParts(date);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('weekday')} ${part('day')} ${part('month')}`;
}

/** "Tue 3 Mar": a day bar, which the server counts in UTC days. */
export function dayLabel(iso: string): string {
  return weekdayDayMonth(new Date(iso), 'UTC');
}

/** "Tue 3 Mar 14:00": an hour bar, in local time. */
export function hourLabel(iso: string): string {
  const date = new Date(iso);
  return `${weekdayDayMonth(date)} ${String(date.getHours()).padStart(2, '0')}:00`;
}

/** "Dec 1, 11:06:03 PM": a row's time to the second, the year only when not this year's. */
export function rowStamp(iso: string, now: Date): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const year = date.getFullYear() === now.getFullYear() ? undefined : 'numeric';
  return date.toLocaleString(undefined, { year, month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit', second: '2-digit' });
}

/** "1,234" in the admin's locale. */
export function count(n: number): string {
  return n.toLocaleString();
}
