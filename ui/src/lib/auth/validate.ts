// Client-side checks run before `sign_in` so an obviously wrong form never reaches Rust.
import type { SignInArgs } from '../bindings';

export type SignInField = 'server_url' | 'email' | 'password' | 'totp';
export type FieldErrors = Partial<Record<SignInField, string>>;

export const SIGN_IN_FIELDS: readonly SignInField[] = ['server_url', 'email', 'password', 'totp'];

export function isSignInField(value: string | null | undefined): value is SignInField {
  return value != null && (SIGN_IN_FIELDS as readonly string[]).includes(value);
}

export const SERVER_URL_HINT = 'Enter a full server address, like https://gatehouse.example.com';

export function validateServerUrl(value: string): string | null {
  const trimmed = value.trim();
  if (trimmed === '') return SERVER_URL_HINT;
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    return SERVER_URL_HINT;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return SERVER_URL_HINT;
  if (url.hostname === '') return SERVER_URL_HINT;
  return null;
}

export function validateEmail(value: string): string | null {
  const trimmed = value.trim();
  if (trimmed === '') return 'Enter your e-mail address';
  if (!trimmed.includes('@')) return 'Enter a valid e-mail address, like you@example.com';
  return null;
}

export function validatePassword(value: string): string | null {
  return value === '' ? 'Enter your password' : null;
}

/** Digits only: authenticator apps show "123 456", and people type it so. */
export function normalizeTotp(value: string): string {
  return value.replace(/\s+/g, '');
}

export function validateTotp(value: string): string | null {
  const code = normalizeTotp(value);
  if (code === '') return 'Enter the code your authenticator app shows';
  if (!/^\d{6,8}$/.test(code)) return 'Enter only the digits your authenticator app shows, like 123456';
  return null;
}

/** Checks the form; `totp` only when it was asked for (the key is present). */
export function validateSignIn(args: SignInArgs): FieldErrors {
  const errors: FieldErrors = {};
  const server = validateServerUrl(args.server_url);
  if (server) errors.server_url = server;
  const email = validateEmail(args.email);
  if (email) errors.email = email;
  const password = validatePassword(args.password);
  if (password) errors.password = password;
  if (args.totp !== undefined) {
    const totp = validateTotp(args.totp);
    if (totp) errors.totp = totp;
  }
  return errors;
}
