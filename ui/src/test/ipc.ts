// A recording mockIPC: each test says how commands answer and reads back what was called.
import { mockIPC } from '@tauri-apps/api/mocks';
import { DIRECTORY, syncStatus } from './fixtures';

export type Call = { cmd: string; args: Record<string, unknown> };
type Handler = (args: Record<string, unknown>) => unknown;

export function mockCommands(handlers: Record<string, Handler>): Call[] {
  const calls: Call[] = [];
  mockIPC((cmd, payload) => {
    const args = (payload ?? {}) as Record<string, unknown>;
    calls.push({ cmd, args });
    // The users page polls its sync status; tests that do not care get a calm one.
    // So does it read the roles and departments for its filters, and a user panel where
    // that user's last force logout stands.
    const fallback: Record<string, Handler> = {
      sync_status: () => syncStatus(),
      directory: () => DIRECTORY,
      logout_status: (a) => ({ user_id: a.userId, queued: null, confirmed: null }),
      // The activity log looks for an export still running, Settings for what is cached.
      activity_export_status: () => ({ running: false, done: 0, total: null, path: null, error: null, cancelled: false }),
      activity_settings: () => ({ window_days: 30, cached_events: 0, oldest_cached: null }),
    };
    const handler = handlers[cmd] ?? fallback[cmd];
    if (!handler) throw { code: 'internal', message: `unmocked command ${cmd}`, field: null, fields: [] };
    return handler(args);
  });
  return calls;
}

export function callsOf(calls: Call[], cmd: string): Call[] {
  return calls.filter((c) => c.cmd === cmd);
}

/** The `query` argument of each `list_users` call. */
export function listQueries(calls: Call[]): Record<string, unknown>[] {
  return callsOf(calls, 'list_users').map((c) => c.args.query as Record<string, unknown>);
}

export function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
