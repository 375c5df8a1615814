// A sensitive change to one's own account (a new e-mail, an MFA reset, an API key) needs
// the password confirmed within the last few minutes. The server says so with
// `step_up_required`; rather than each action knowing which ones need it, every such
// action runs through `StepUp.run`, which asks for the password (StepUpDialog) only when
// the server asked, and tries the action once more.
import type { IpcError } from '../backend';

export class StepUp {
  /** While the dialog is open: what needs the password ("create an API key"). */
  asking = $state<string | null>(null);

  #answer: ((confirmed: boolean) => void) | null = null;

  /** Runs `action`; when the server wants the password first, asks for it ("To `doing`,
   * confirm …") and runs the action once more. Cancelled, it rejects with the server's
   * refusal, which says what was not done and why. */
  async run<T>(action: () => Promise<T>, doing = 'make this change'): Promise<T> {
    try {
      return await action();
    } catch (reason) {
      if ((reason as IpcError | undefined)?.code !== 'step_up_required') throw reason;
      if (!(await this.#ask(doing))) throw reason;
      return await action();
    }
  }

  /** The dialog's answer: the password was confirmed, or the person cancelled. */
  finish(confirmed: boolean): void {
    const answer = this.#answer;
    this.#answer = null;
    this.asking = null;
    answer?.(confirmed);
  }

  #ask(doing: string): Promise<boolean> {
    // One dialog at a time: an earlier question still open counts as cancelled.
    this.#answer?.(false);
    this.asking = doing;
    return new Promise((resolve) => {
      this.#answer = resolve;
    });
  }
}
