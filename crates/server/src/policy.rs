//! Who may do what to whom (SPEC R3, R5): the one rule every handler that touches a
//! person, a credential or an invitation asks.
//!
//! A user's [`Rank`] is the permissions of their roles and whether one of those roles is
//! the Owner role. Acting on someone else needs the action's permission and a rank that
//! [covers](Rank::covers) theirs: every permission they hold and, when they are an Owner,
//! being one. Owner and Admin hold the same permissions, so without the Owner bit an Admin
//! would reach the Owner; with it, nobody reaches above themselves.
//!
//! Handing out access is granting it: inviting, creating a user, changing roles, and
//! reading, resending or revoking an invitation's link need a rank that covers every role
//! involved ([`grant_roles`], [`on_invitation`]).
//!
//! The answers are capability handles ([`OnUser`], [`GrantRoles`], [`OnInvitation`]) that
//! the operations take, so an operation cannot be reached without the rule's yes.

use crate::auth::{InvitationsManage, Permission, Principal, SessionsRevoke, UsersManage};
use crate::error::{ApiError, Result};
use gatehouse_api::User;
use std::collections::BTreeSet;
use std::marker::PhantomData;

/// The role key whose holders outrank everyone.
pub const OWNER_ROLE: &str = "owner";

/// What a user (or a role) reaches: permissions, and whether it is the Owner's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rank {
    /// Permission keys.
    pub permissions: BTreeSet<String>,
    /// Holds (or is) the Owner role.
    pub owner: bool,
}

/// Why one rank does not cover another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shortfall {
    /// They hold a permission the caller lacks.
    Permission(String),
    /// They are an Owner and the caller is not.
    Owner,
}

impl Rank {
    /// The rank of one role.
    pub fn of_role(key: &str, permissions: impl IntoIterator<Item = String>) -> Self {
        Self { permissions: permissions.into_iter().collect(), owner: key == OWNER_ROLE }
    }

    /// Whether the permission `key` is held.
    pub fn holds(&self, key: &str) -> bool {
        self.permissions.contains(key)
    }

    /// `None` when this rank reaches everything `other` reaches; else what is missing.
    pub fn covers(&self, other: &Rank) -> Option<Shortfall> {
        if let Some(missing) = other.permissions.iter().find(|p| !self.permissions.contains(*p)) {
            return Some(Shortfall::Permission(missing.clone()));
        }
        (other.owner && !self.owner).then_some(Shortfall::Owner)
    }

    /// What both this rank and `other` reach: a key limited to a role reaches no more
    /// than its user, nor than the role.
    pub fn within(&self, other: &Rank) -> Rank {
        Rank { permissions: self.permissions.intersection(&other.permissions).cloned().collect(), owner: self.owner && other.owner }
    }

    /// Adds another role's reach (a user's rank is the union of their roles').
    pub fn join(&mut self, other: Rank) {
        self.permissions.extend(other.permissions);
        self.owner |= other.owner;
    }
}

/// The rank of user `user_id`: the union of their roles'.
pub async fn rank_of(db: &crate::store::Db, user_id: &str) -> Result<Rank> {
    let roles = crate::store::roles::held_by(db, user_id).await?;
    let mut rank = Rank::default();
    for (key, perms) in roles {
        let perms: Vec<String> = serde_json::from_str(&perms).map_err(|e| ApiError::Internal(e.into()))?;
        rank.join(Rank::of_role(&key, perms));
    }
    Ok(rank)
}

/// What acting on oneself takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnSelf {
    /// The action's permission, as on anyone else.
    Permission,
    /// Nothing: one's own account (API keys, picture, mail).
    Free,
}

/// An action on a person, as a type: its permission and how the refusal reads.
pub trait PersonAction {
    /// The permission it needs on someone else.
    type Needs: Permission;
    /// What it does, for the refusal: "… so you cannot {DOING}".
    const DOING: &'static str;
    /// What doing it to oneself takes.
    const ON_SELF: OnSelf;
}

macro_rules! person_actions {
    ($($(#[$doc:meta])* $name:ident: $needs:ty, $doing:literal, $on_self:ident;)*) => {$(
        $(#[$doc])*
        pub struct $name;
        impl PersonAction for $name {
            type Needs = $needs;
            const DOING: &'static str = $doing;
            const ON_SELF: OnSelf = OnSelf::$on_self;
        }
    )*};
}

person_actions! {
    /// Edit name, e-mail, roles, departments, attributes, preferences.
    Edit: UsersManage, "edit them", Permission;
    /// Deactivate or reactivate.
    ChangeStatus: UsersManage, "change their status", Permission;
    /// Remove from the organization.
    Remove: UsersManage, "remove them", Permission;
    /// Upload a picture.
    ChangePicture: UsersManage, "change their picture", Free;
    /// Send a password-reset link.
    ResetPassword: UsersManage, "reset their password", Permission;
    /// Remove their authenticator (one's own needs a recent step-up, checked by the handler).
    ResetMfa: UsersManage, "reset their MFA", Free;
    /// See and revoke their sessions one by one.
    RevokeSessions: SessionsRevoke, "revoke their sessions", Permission;
    /// End all their sessions and trusted devices at once.
    ForceLogout: SessionsRevoke, "force them to sign out", Permission;
    /// See, suspend and restore their API keys.
    ManageKeys: UsersManage, "manage their API keys", Free;
    /// Read the demo mailbox's messages to them.
    ReadMail: UsersManage, "read their mail", Free;
    /// Lift a sign-in lockout of their address.
    Unlock: UsersManage, "unlock their sign-in", Permission;
}

/// The rule's yes to doing `A` to one user: the user as loaded for the decision, and its
/// version (the ETag's source).
pub struct OnUser<A> {
    user: User,
    version: i64,
    _a: PhantomData<A>,
}

impl<A> OnUser<A> {
    /// The target.
    pub fn user(&self) -> &User {
        &self.user
    }

    /// The target's id.
    pub fn id(&self) -> &str {
        &self.user.id
    }

    /// The target's version when the decision was taken.
    pub fn version(&self) -> i64 {
        self.version
    }

    /// The target, taken out.
    pub fn into_user(self) -> (User, i64) {
        (self.user, self.version)
    }
}

/// The decision, on ranks alone: pure, so it is tested cell by cell.
pub fn decide<A: PersonAction>(principal: &Principal, is_self: bool, target_name: &str, target: &Rank) -> Result<()> {
    if is_self {
        return match A::ON_SELF {
            OnSelf::Free => Ok(()),
            OnSelf::Permission => principal.require::<A::Needs>().map(drop),
        };
    }
    principal.require::<A::Needs>()?;
    match principal.rank.covers(target) {
        None => Ok(()),
        Some(Shortfall::Permission(missing)) => {
            Err(ApiError::forbidden(format!("{target_name} holds the `{missing}` permission, which you do not have, so you cannot {}.", A::DOING)))
        }
        Some(Shortfall::Owner) => Err(ApiError::forbidden(format!("{target_name} is an Owner and you are not, so you cannot {}.", A::DOING))),
    }
}

/// Whether the caller may do `A` to user `id`: the permission is checked before the
/// lookup (so a caller without it learns nothing of ids), then the target's rank.
pub async fn act_on<A: PersonAction>(db: &crate::store::Db, principal: &Principal, id: &str) -> Result<OnUser<A>> {
    let is_self = id == principal.user_id;
    if !is_self || A::ON_SELF == OnSelf::Permission {
        principal.require::<A::Needs>()?;
    }
    let (user, version) = crate::store::users::find_versioned(db, &principal.org_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No user with id `{id}` in this organization.")))?;
    let rank = if is_self { Rank::default() } else { rank_of(db, id).await? };
    decide::<A>(principal, is_self, &user.display_name, &rank)?;
    Ok(OnUser { user, version, _a: PhantomData })
}

/// A role as the grant rule sees it.
#[derive(Debug, Clone)]
pub struct RoleGrant<'a> {
    /// Its key (`owner`, `admin`, a custom role's).
    pub key: &'a str,
    /// Its display name, for the refusal.
    pub name: &'a str,
    /// Its permissions.
    pub permissions: Vec<String>,
}

/// The rule's yes to handing out (or taking away) a set of roles.
pub struct GrantRoles {
    _private: (),
}

/// Whether the caller may grant or take away every role in `roles`: their rank must cover
/// each role's, so a Manager cannot make an Admin and only an Owner makes an Owner.
pub fn grant_roles(principal: &Principal, roles: &[RoleGrant<'_>]) -> Result<GrantRoles> {
    for role in roles {
        match principal.rank.covers(&Rank::of_role(role.key, role.permissions.iter().cloned())) {
            None => {}
            Some(Shortfall::Permission(missing)) => {
                return Err(ApiError::forbidden(format!(
                    "Granting or removing the {} role needs every permission it has; you lack `{missing}`.",
                    role.name
                )));
            }
            Some(Shortfall::Owner) => {
                return Err(ApiError::forbidden("Only an Owner can grant or remove the Owner role."));
            }
        }
    }
    Ok(GrantRoles { _private: () })
}

/// The rule's yes to handling one invitation (its link, resend, revoke).
pub struct OnInvitation {
    _private: (),
}

/// What lets an invitation's link (and so the access it carries) be handed out: the rule's
/// yes to its roles when it is made ([`GrantRoles`]), or to the invitation since
/// ([`OnInvitation`]). Sealed: only those two exist, so a link made without asking the
/// rule does not compile.
pub trait HandsOutAccess: sealed::Sealed {}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::GrantRoles {}
    impl Sealed for super::OnInvitation {}
}

impl HandsOutAccess for GrantRoles {}
impl HandsOutAccess for OnInvitation {}

/// Whether the caller may hand out the access an invitation carries: `invitations.manage`
/// and a rank covering every role it grants (`rank`: the union of those roles').
pub fn on_invitation(principal: &Principal, email: &str, rank: &Rank, doing: &str) -> Result<OnInvitation> {
    principal.require::<InvitationsManage>()?;
    match principal.rank.covers(rank) {
        None => Ok(OnInvitation { _private: () }),
        Some(Shortfall::Permission(missing)) => {
            Err(ApiError::forbidden(format!("The invitation of {email} grants `{missing}`, which you do not have, so you cannot {doing}.")))
        }
        Some(Shortfall::Owner) => {
            Err(ApiError::forbidden(format!("The invitation of {email} makes an Owner and you are not one, so you cannot {doing}.")))
        }
    }
}

/// Whether the caller may create or change a role from `before` to `after` permissions:
/// they hold every permission involved, so no role is made to reach above its maker.
pub fn edit_role(principal: &Principal, before: &[String], after: &[String]) -> Result<()> {
    match after.iter().chain(before).find(|p| !principal.rank.holds(p)) {
        Some(missing) => Err(ApiError::forbidden(format!("You do not hold `{missing}`, so you cannot give it to a role or take it from one."))),
        None => Ok(()),
    }
}

/// How long a confirmed password lets the session make sensitive changes to its account.
pub const STEP_UP_WINDOW: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

/// The rule's yes to a sensitive change of one's own account.
pub struct SteppedUp {
    _private: (),
}

/// Changing one's own e-mail, resetting one's own MFA and creating a key need the
/// password (and TOTP code) confirmed within [`STEP_UP_WINDOW`]: a session left open on
/// an unlocked laptop, or a stolen access token, cannot take the account over.
pub fn stepped_up(principal: &Principal, now: chrono::DateTime<chrono::Utc>, doing: &str) -> Result<SteppedUp> {
    let fresh = principal.api_key.is_none() && principal.stepped_up_at.is_some_and(|at| now - at < STEP_UP_WINDOW && at <= now);
    if fresh {
        Ok(SteppedUp { _private: () })
    } else {
        Err(ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            gatehouse_api::codes::STEP_UP_REQUIRED,
            format!("To {doing}, confirm your password (and authenticator code) first, then try again."),
        ))
    }
}

/// The rule's yes to minting an API key for user `user_id`.
pub struct MintKey {
    _private: (),
}

/// Keys are minted by a person, for themselves, while signed in: an admin cannot mint a
/// key for someone else (it would act as them and be recorded as them), and a key cannot
/// mint another (a leaked key would otherwise outlive its suspension).
pub fn mint_key(principal: &Principal, user_id: &str) -> Result<MintKey> {
    if principal.api_key.is_some() {
        return Err(ApiError::forbidden("An API key cannot create API keys; sign in as the person to create one."));
    }
    if user_id != principal.user_id {
        return Err(ApiError::forbidden("API keys are created by their owner, for themselves: ask them to create one."));
    }
    Ok(MintKey { _private: () })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rank(perms: &[&str], owner: bool) -> Rank {
        Rank { permissions: perms.iter().map(|p| (*p).to_owned()).collect(), owner }
    }

    #[test]
    fn owner_outranks_an_admin_with_the_same_permissions() {
        let all = ["users.read", "users.manage"];
        let (owner, admin) = (rank(&all, true), rank(&all, false));
        assert_eq!(owner.covers(&admin), None);
        assert_eq!(admin.covers(&owner), Some(Shortfall::Owner));
        assert_eq!(owner.covers(&owner), None);
    }

    #[test]
    fn a_missing_permission_is_named() {
        let manager = rank(&["users.read", "users.manage"], false);
        let admin = rank(&["users.read", "users.manage", "roles.manage"], false);
        assert_eq!(manager.covers(&admin), Some(Shortfall::Permission("roles.manage".into())));
        assert_eq!(admin.covers(&manager), None);
    }

    #[test]
    fn joining_roles_keeps_the_owner_bit() {
        let mut r = rank(&["users.read"], false);
        r.join(Rank::of_role("owner", vec!["users.manage".to_owned()]));
        assert!(r.owner && r.holds("users.manage") && r.holds("users.read"));
    }
}
