// Which screen the app shows, and the session behind it.
import type { Backend } from '../backend';
import type { SavedConnection, SessionInfo } from '../bindings';

/** `mfa-enrollment`: the organization requires MFA and the account has none yet; the app
 * shows only the enrolment until it is done. */
export type Screen = 'starting' | 'sign-in' | 'mfa-enrollment' | 'users';

export function sessionEndedNotice(reason: string): string {
  return `Your session ended: ${reason}`;
}

export class AppSession {
  screen = $state<Screen>('starting');
  session = $state<SessionInfo | null>(null);
  /** Server URL and e-mail to prefill the sign-in form with. */
  prefill = $state<SavedConnection | null>(null);
  /** Shown above the sign-in form (why the previous session ended). */
  notice = $state<string | null>(null);

  #backend: Backend;

  constructor(backend: Backend) {
    this.#backend = backend;
  }

  async start(): Promise<void> {
    try {
      const current = await this.#backend.currentSession();
      performance.mark('gatehouse:session');
      if (current.session) {
        this.signedIn(current.session);
        return;
      }
      this.prefill = current.last_connection;
      this.notice = current.signed_out_reason ? sessionEndedNotice(current.signed_out_reason) : null;
    } catch (reason) {
      const message = (reason as { message?: string }).message ?? String(reason);
      this.notice = `Could not restore your session: ${message}`;
    }
    this.screen = 'sign-in';
  }

  /** A new session: signed in, resumed, or the one an enrolment confirmed. */
  signedIn(session: SessionInfo): void {
    this.session = session;
    this.notice = null;
    this.screen = session.mfa_enrollment_required ? 'mfa-enrollment' : 'users';
  }

  /** The server or the keyring no longer accepts the session (expired, revoked, …). */
  sessionEnded(reason: string): void {
    this.#toSignIn(sessionEndedNotice(reason));
  }

  /** The admin signed out on purpose. */
  signedOut(): void {
    this.#toSignIn(null);
  }

  #toSignIn(notice: string | null): void {
    if (this.session) {
      this.prefill = { server_url: this.session.server_url, email: this.session.email };
    }
    this.session = null;
    this.notice = notice;
    this.screen = 'sign-in';
  }
}
