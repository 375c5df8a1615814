// The sign-in form: values, field errors, the form-level error and the pending flag.
// The password is passed in at submit time and never stored here or logged.
import type { Backend, IpcError } from '../backend';
import type { SavedConnection, SessionInfo } from '../bindings';
import { isSignInField, validateSignIn, type FieldErrors, type SignInField } from './validate';

export function formErrorMessage(error: IpcError): string {
  switch (error.code) {
    case 'invalid_credentials':
      return 'Invalid email or password';
    default:
      // `unreachable` carries "Cannot reach server at …" from Rust; the rest say what failed.
      return error.message;
  }
}

export class SignInForm {
  serverUrl = $state('');
  email = $state('');
  errors = $state<FieldErrors>({});
  formError = $state<string | null>(null);
  pending = $state(false);

  #backend: Backend;

  constructor(backend: Backend, prefill: SavedConnection | null) {
    this.#backend = backend;
    this.serverUrl = prefill?.server_url ?? '';
    this.email = prefill?.email ?? '';
  }

  clearError(field: SignInField): void {
    if (this.errors[field]) {
      const { [field]: _removed, ...rest } = this.errors;
      this.errors = rest;
    }
  }

  /** Validates, then signs in. Returns the session, or null with `errors`/`formError` set. */
  async submit(password: string): Promise<SessionInfo | null> {
    if (this.pending) return null;
    const args = { server_url: this.serverUrl.trim(), email: this.email.trim(), password };
    this.formError = null;
    this.errors = validateSignIn(args);
    if (Object.keys(this.errors).length > 0) return null;

    this.pending = true;
    try {
      return await this.#backend.signIn(args);
    } catch (reason) {
      const error = reason as IpcError;
      if (isSignInField(error.field)) {
        this.errors = { [error.field]: error.message };
      } else {
        this.formError = formErrorMessage(error);
      }
      return null;
    } finally {
      this.pending = false;
    }
  }
}
