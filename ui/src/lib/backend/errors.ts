// What a failed command says to a person.
import type { IpcError } from './index';

/** The text of an error for a person; offline, it says what needs the connection. */
export function errorText(e: IpcError, doing: string): string {
  return e.code === 'unreachable' ? `${doing} needs a connection to the server. ${e.message}` : e.message;
}
