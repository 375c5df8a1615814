// What the signed-in admin may do, mirroring the server's rules (SPEC R3, R4; the server's
// `policy` module) so the UI hides what is never allowed and disables, with the reason,
// what is not allowed here. The server enforces every rule again; this only spares the
// admin a refusal.
//
// The rule: acting on someone else needs every permission they hold and, when they are
// an Owner, being one. Owner and Admin hold the same permissions, so the Owner role is a
// rank of its own, not a set of permissions.
import type { Directory, SessionInfo, User } from '../bindings';

export type Permission =
  | 'users.read'
  | 'users.manage'
  | 'invitations.manage'
  | 'sessions.revoke'
  | 'audit.read'
  | 'audit.write'
  | 'roles.manage'
  | 'org.settings';

export function can(session: SessionInfo, permission: Permission): boolean {
  return session.permissions.includes(permission);
}

/** The key of the built-in role that outranks every other. */
export const OWNER_ROLE = 'owner';

/** Why `user` is out of `session`'s reach, or null: they hold a permission through their
 * roles that the admin lacks (a Manager acting on an Admin), or they are an Owner and the
 * admin is not (an Admin acting on an Owner, though both hold the same permissions). */
export function outranking(session: SessionInfo, user: User, directory: Directory | null): string | null {
  for (const ref of user.roles) {
    const role = directory?.roles.find((r) => r.id === ref.id);
    const missing = role?.permissions.find((p) => !session.permissions.includes(p));
    if (missing) return `${user.display_name} holds ${missing}, which you do not have.`;
  }
  if (!session.owner && user.roles.some((r) => r.key === OWNER_ROLE)) return `${user.display_name} is an Owner and you are not.`;
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
  if (key === OWNER_ROLE && !session.owner) return 'Only an Owner can grant or remove the Owner role.';
  return null;
}
