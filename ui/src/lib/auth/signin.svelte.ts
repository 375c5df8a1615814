// The sign-in form: values, field errors, the form-level error and the pending flag.
// The password is passed in at submit time and never stored here or logged. When the
// server answers `mfa_required`, the form asks for the authenticator code as a second
// step: e-mail and password stay, and the next submit sends `totp` with them.
import type { Backend, IpcError } from '../backend';
import type { SavedConnection, SessionInfo, SignInArgs } from '../bindings';
import { isSignInField, normalizeTotp, validateSignIn, type FieldErrors, type SignInField } from './validate';

export function formErrorMessage(error: IpcError): string {
  switch (error.code) {
    case 'invalid_credentials':
      return 'Invalid email or password';
    default:
      // `unreachable` carries "Cannot reach server at …" from Rust; the rest say what failed.
      return error.message;
  }
}

/** The sign-in field an error belongs to. A refused plain-http address is the server
 * URL's fault even when Rust names no field: its explanation is shown there. */
function fieldOf(error: IpcError): SignInField | null {
  if (error.code === 'insecure_url') return 'server_url';
  return isSignInField(error.field) ? error.field : null;
}

export class SignInForm {
  serverUrl = $state('');
  errors = $state<FieldErrors>({});
  formError = $state<string | null>(null);
  pending = $state(false);
  /** The server asked for a code: the code field is shown. */
  totpAsked = $state(false);
  /** What the server said when it asked for the code. */
  totpHint = $state<string | null>(null);
  totp = $state('');
  /** "Forgot password" went through: what to tell the person. */
  resetNotice = $state<string | null>(null);

  #email = $state('');
  #backend: Backend;

  constructor(backend: Backend, prefill: SavedConnection | null) {
    this.#backend = backend;
    this.serverUrl = prefill?.server_url ?? '';
    this.#email = prefill?.email ?? '';
  }

  get email(): string {
    return this.#email;
  }

  /** Another account needs its own code: a new e-mail puts the code step away. */
  set email(value: string) {
    if (value.trim() !== this.#email.trim()) this.#forgetTotp();
    this.#email = value;
  }

  clearError(field: SignInField): void {
    if (this.errors[field]) {
      const { [field]: _removed, ...rest } = this.errors;
      this.errors = rest;
    }
  }

  /** Validates, then signs in. Returns the session, or null with `errors`/`formError` set
   * (or with `totpAsked` newly set when the account needs a code). */
  async submit(password: string): Promise<SessionInfo | null> {
    if (this.pending) return null;
    const args: SignInArgs = { server_url: this.serverUrl.trim(), email: this.email.trim(), password };
    if (this.totpAsked) args.totp = normalizeTotp(this.totp);
    this.formError = null;
    this.errors = validateSignIn(args);
    if (Object.keys(this.errors).length > 0) return null;

    this.pending = true;
    try {
      return await this.#backend.signIn(args);
    } catch (reason) {
      const error = reason as IpcError;
      const field = fieldOf(error);
      if (error.code === 'mfa_required') {
        this.totpAsked = true;
        this.totpHint = error.message;
      } else if (field) {
        // A wrong code: its field must be there to carry the message.
        if (field === 'totp') this.totpAsked = true;
        this.errors = { [field]: error.message };
      } else {
        this.formError = formErrorMessage(error);
      }
      return null;
    } finally {
      this.pending = false;
    }
  }

  /** "Forgot password": asks the server to e-mail a reset link to the address typed. The
   * answer is the same whether or not the address has an account. */
  async forgotPassword(): Promise<void> {
    if (this.pending) return;
    const args: SignInArgs = { server_url: this.serverUrl.trim(), email: this.email.trim(), password: 'unused' };
    this.formError = null;
    this.resetNotice = null;
    const { server_url, email } = validateSignIn(args);
    this.errors = { ...(server_url ? { server_url } : {}), ...(email ? { email } : {}) };
    if (Object.keys(this.errors).length > 0) return;
    this.pending = true;
    try {
      await this.#backend.requestPasswordReset(args.server_url, args.email);
      this.resetNotice = `If ${args.email} has an account, a link to choose a new password is on its way. Check your e-mail.`;
    } catch (reason) {
      const error = reason as IpcError;
      const field = fieldOf(error);
      if (field) this.errors = { [field]: error.message };
      else this.formError = formErrorMessage(error);
    } finally {
      this.pending = false;
    }
  }

  #forgetTotp(): void {
    this.totpAsked = false;
    this.totpHint = null;
    this.totp = '';
    this.clearError('totp');
  }
}
