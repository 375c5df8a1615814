// What the signed-in admin may do, mirroring the server's rules (SPEC R3, R4) so the UI
// hides what is never allowed and disables, with the reason, what is not allowed here.
// The server enforces every rule again; this only spares the admin a refusal.
import type { Directory, SessionInfo, User } from '../bindings';

export type Permission =
  | 'users.read'
  | 'users.manage'
  | 'invitations.manage'
  | 'sessions.revoke'
  | 'audit.read'
  | 'roles.manage'
  | 'org.settings';

export function can(session: SessionInfo, permission: Permission): boolean {
  return session.permissions.includes(permission);
}

/** A permission `user` holds through their roles that `session` lacks, if any: then the
 * admin cannot change their status (a Manager acting on an Admin). */
export function outranking(session: SessionInfo, user: User, directory: Directory | null): string | null {
  for (const ref of user.roles) {
    const role = directory?.roles.find((r) => r.id === ref.id);
    const missing = role?.permissions.find((p) => !session.permissions.includes(p));
    if (missing) return `${user.display_name} holds ${missing}, which you do not have.`;
  }
  return null;
}

/** Why `session` cannot deactivate `user`, or null when it can. */
export function deactivateBlocked(session: SessionInfo, user: User, directory: Directory | null): string | null {
  if (!can(session, 'users.manage')) return 'You need the users.manage permission.';
  if (user.id === session.user_id) return 'You cannot deactivate yourself; ask another admin.';
  if (user.status === 'deactivated') return `${user.display_name} is already deactivated.`;
  if (user.status === 'pending') return `${user.display_name} has not joined yet; revoke their invitation under Invitations instead.`;
  return outranking(session, user, directory);
}

/** Why `session` cannot reactivate `user`, or null when it can. */
export function reactivateBlocked(session: SessionInfo, user: User, directory: Directory | null): string | null {
  if (!can(session, 'users.manage')) return 'You need the users.manage permission.';
  if (user.status === 'active') return `${user.display_name} is already active.`;
  if (user.status === 'pending') return `${user.display_name} is invited and joins by accepting the invitation.`;
  return outranking(session, user, directory);
}

/** Why `session` cannot remove `user`, or null when it can. */
export function removeBlocked(session: SessionInfo, user: User, directory: Directory | null): string | null {
  if (!can(session, 'users.manage')) return 'You need the users.manage permission.';
  if (user.status !== 'deactivated') return `Deactivate ${user.display_name} first; only deactivated users can be removed.`;
  return outranking(session, user, directory);
}

/** Why `session` cannot grant or take away the role with `key`, or null when it can. */
export function roleToggleBlocked(session: SessionInfo, key: string, permissions: string[]): string | null {
  if (!can(session, 'users.manage')) return 'You need the users.manage permission.';
  const missing = permissions.find((p) => !session.permissions.includes(p));
  if (missing) return `This role includes ${missing}, which you do not have.`;
  if (key === 'owner' && !session.permissions.includes('org.settings')) return 'Only an Owner can grant or remove the Owner role.';
  return null;
}
