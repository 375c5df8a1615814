-- SCIM provisioning (issue 20). `external_id`: the identity provider's own id for a user
-- or a group (SCIM `externalId`), unique within an organization when set.
-- `modified_at`: when the user's representation last changed (SCIM `meta.lastModified`),
-- kept by triggers whenever the version moves, so no write path can forget it. Written
-- as `YYYY-MM-DDTHH:MM:SS.SSSZ` in UTC, so it compares as text.
ALTER TABLE users ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX users_org_external_id ON users (org_id, external_id) WHERE external_id IS NOT NULL;
ALTER TABLE groups ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX groups_org_external_id ON groups (org_id, external_id) WHERE external_id IS NOT NULL;

ALTER TABLE users ADD COLUMN modified_at TEXT;
UPDATE users SET modified_at = strftime('%Y-%m-%dT%H:%M:%fZ', updated_at);
CREATE TRIGGER users_modified_insert AFTER INSERT ON users BEGIN
    UPDATE users SET modified_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = NEW.id;
END;
CREATE TRIGGER users_modified_update AFTER UPDATE OF version ON users WHEN NEW.version <> OLD.version BEGIN
    UPDATE users SET modified_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = NEW.id;
END;

-- The external id is part of the representation: it moves the version.
DROP TRIGGER users_version_row;
CREATE TRIGGER users_version_row AFTER UPDATE OF email, first_name, last_name, display_name, status, mfa_enabled,
    attributes, avatar_url, identities, notifications, password_hash, external_id ON users
WHEN NEW.version = OLD.version AND (
    NEW.email IS NOT OLD.email OR NEW.first_name IS NOT OLD.first_name OR NEW.last_name IS NOT OLD.last_name
    OR NEW.display_name IS NOT OLD.display_name OR NEW.status IS NOT OLD.status
    OR NEW.mfa_enabled IS NOT OLD.mfa_enabled OR NEW.attributes IS NOT OLD.attributes
    OR NEW.avatar_url IS NOT OLD.avatar_url OR NEW.identities IS NOT OLD.identities
    OR NEW.notifications IS NOT OLD.notifications
    OR (NEW.password_hash IS NULL) IS NOT (OLD.password_hash IS NULL)
    OR NEW.external_id IS NOT OLD.external_id
) BEGIN
    UPDATE users SET version = OLD.version + 1 WHERE id = NEW.id;
END;
