// How queued edits read in the UI.
import type { UserPatch } from '../bindings';

const FIELD_LABEL: Record<string, string> = {
  first_name: 'First name',
  last_name: 'Last name',
  email: 'E-mail',
  roles: 'Roles',
  departments: 'Departments',
};

export function fieldLabel(field: string): string {
  if (field.startsWith('custom_attributes.')) return `Attribute “${field.slice('custom_attributes.'.length)}”`;
  return FIELD_LABEL[field] ?? field;
}

/** One line per changed field: "First name → Cassie". */
export function describePatch(patch: UserPatch): string[] {
  const out: string[] = [];
  if (patch.first_name != null) out.push(`First name → ${patch.first_name}`);
  if (patch.last_name != null) out.push(`Last name → ${patch.last_name}`);
  if (patch.email != null) out.push(`E-mail → ${patch.email}`);
  if (patch.roles != null) out.push(`Roles changed (${patch.roles.length})`);
  if (patch.departments != null) out.push(`Departments changed (${patch.departments.length})`);
  for (const [key, value] of Object.entries(patch.custom_attributes ?? {})) {
    out.push(value == null ? `Attribute “${key}” removed` : `Attribute “${key}” → ${value}`);
  }
  return out;
}

export interface NameEmail {
  first_name: string;
  last_name: string;
  email: string;
}

/** Field errors of a name/e-mail edit, before it is queued. */
export function validateNameEmail(v: NameEmail): Partial<Record<keyof NameEmail, string>> {
  const errors: Partial<Record<keyof NameEmail, string>> = {};
  if (v.first_name.trim() === '') errors.first_name = 'Enter a first name.';
  else if (v.first_name.trim().length > 100) errors.first_name = 'At most 100 characters.';
  if (v.last_name.trim() === '') errors.last_name = 'Enter a last name.';
  else if (v.last_name.trim().length > 100) errors.last_name = 'At most 100 characters.';
  const email = v.email.trim();
  const at = email.indexOf('@');
  const domain = at > 0 ? email.slice(at + 1) : '';
  if (at <= 0 || !domain.includes('.') || domain.startsWith('.') || domain.endsWith('.') || /\s/.test(email)) {
    errors.email = `“${email}” is not an e-mail address.`;
  }
  return errors;
}

/** The patch that turns `before` into `after`: only the fields that changed. */
export function diffNameEmail(before: NameEmail, after: NameEmail): UserPatch {
  const patch: UserPatch = {};
  if (after.first_name.trim() !== before.first_name) patch.first_name = after.first_name.trim();
  if (after.last_name.trim() !== before.last_name) patch.last_name = after.last_name.trim();
  if (after.email.trim() !== before.email) patch.email = after.email.trim();
  return patch;
}
