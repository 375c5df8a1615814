-- The directory around users (issue 4): organization settings (SPEC O1), versions for
-- roles, groups and the organization (their ETags), and the rest of the profile (U6).

ALTER TABLE organizations ADD COLUMN seat_limit INTEGER NOT NULL DEFAULT 10;
ALTER TABLE organizations ADD COLUMN invitation_expiry_days INTEGER NOT NULL DEFAULT 7;
ALTER TABLE organizations ADD COLUMN mfa_required INTEGER NOT NULL DEFAULT 0;
ALTER TABLE organizations ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE roles ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE groups ADD COLUMN version INTEGER NOT NULL DEFAULT 1;

-- An `https` URL, or the path of the uploaded picture in user_avatars.
ALTER TABLE users ADD COLUMN avatar_url TEXT;
-- JSON array of external sign-in methods: "google", "microsoft", "saml". A password is
-- a method when password_hash is set.
ALTER TABLE users ADD COLUMN identities TEXT NOT NULL DEFAULT '[]';
-- JSON object of NotificationPreferences; '{}' means the defaults.
ALTER TABLE users ADD COLUMN notifications TEXT NOT NULL DEFAULT '{}';

CREATE TABLE user_avatars (
    user_id      TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    content_type TEXT NOT NULL,
    bytes        BLOB NOT NULL,
    updated_at   TEXT NOT NULL
) WITHOUT ROWID;

-- The new profile columns are part of the user's representation: they move the version.
DROP TRIGGER users_version_row;
CREATE TRIGGER users_version_row AFTER UPDATE OF email, first_name, last_name, display_name, status, mfa_enabled,
    attributes, avatar_url, identities, notifications, password_hash ON users
WHEN NEW.version = OLD.version AND (
    NEW.email IS NOT OLD.email OR NEW.first_name IS NOT OLD.first_name OR NEW.last_name IS NOT OLD.last_name
    OR NEW.display_name IS NOT OLD.display_name OR NEW.status IS NOT OLD.status
    OR NEW.mfa_enabled IS NOT OLD.mfa_enabled OR NEW.attributes IS NOT OLD.attributes
    OR NEW.avatar_url IS NOT OLD.avatar_url OR NEW.identities IS NOT OLD.identities
    OR NEW.notifications IS NOT OLD.notifications
    OR (NEW.password_hash IS NULL) IS NOT (OLD.password_hash IS NULL)
) BEGIN
    UPDATE users SET version = OLD.version + 1 WHERE id = NEW.id;
END;
