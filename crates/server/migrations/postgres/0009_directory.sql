-- The directory around users (issue 4): organization settings (SPEC O1), versions for
-- roles, groups and the organization (their ETags), and the rest of the profile (U6).

ALTER TABLE organizations ADD COLUMN seat_limit bigint NOT NULL DEFAULT 10;
ALTER TABLE organizations ADD COLUMN invitation_expiry_days bigint NOT NULL DEFAULT 7;
ALTER TABLE organizations ADD COLUMN mfa_required boolean NOT NULL DEFAULT false;
ALTER TABLE organizations ADD COLUMN version bigint NOT NULL DEFAULT 1;
ALTER TABLE roles ADD COLUMN version bigint NOT NULL DEFAULT 1;
ALTER TABLE groups ADD COLUMN version bigint NOT NULL DEFAULT 1;

-- An `https` URL, or the path of the uploaded picture in user_avatars.
ALTER TABLE users ADD COLUMN avatar_url text;
-- JSON array (text) of external sign-in methods: "google", "microsoft", "saml". A
-- password is a method when password_hash is set.
ALTER TABLE users ADD COLUMN identities text NOT NULL DEFAULT '[]';
-- JSON object (text) of NotificationPreferences; '{}' means the defaults.
ALTER TABLE users ADD COLUMN notifications text NOT NULL DEFAULT '{}';

CREATE TABLE user_avatars (
    user_id      text PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    content_type text NOT NULL,
    bytes        bytea NOT NULL,
    updated_at   timestamptz NOT NULL
);

-- The new profile columns are part of the user's representation: they move the version.
-- (A password change moves it only when a password appears or disappears.)
DROP TRIGGER users_version_row ON users;
CREATE TRIGGER users_version_row AFTER UPDATE OF email, first_name, last_name, display_name, status, mfa_enabled,
    attributes, avatar_url, identities, notifications, password_hash ON users
FOR EACH ROW WHEN (NEW.version = OLD.version AND (
    NEW.email IS DISTINCT FROM OLD.email OR NEW.first_name IS DISTINCT FROM OLD.first_name
    OR NEW.last_name IS DISTINCT FROM OLD.last_name
    OR NEW.display_name IS DISTINCT FROM OLD.display_name OR NEW.status IS DISTINCT FROM OLD.status
    OR NEW.mfa_enabled IS DISTINCT FROM OLD.mfa_enabled OR NEW.attributes IS DISTINCT FROM OLD.attributes
    OR NEW.avatar_url IS DISTINCT FROM OLD.avatar_url OR NEW.identities IS DISTINCT FROM OLD.identities
    OR NEW.notifications IS DISTINCT FROM OLD.notifications
    OR (NEW.password_hash IS NULL) IS DISTINCT FROM (OLD.password_hash IS NULL)
))
EXECUTE FUNCTION users_version_row();
