-- SCIM provisioning (issue 20). `external_id`: the identity provider's own id for a user
-- or a group (SCIM `externalId`), unique within an organization when set.
-- `modified_at`: when the user's representation last changed (SCIM `meta.lastModified`),
-- set by a trigger whenever the version moves, so no write path can forget it.
ALTER TABLE users ADD COLUMN external_id text;
CREATE UNIQUE INDEX users_org_external_id ON users (org_id, external_id) WHERE external_id IS NOT NULL;
ALTER TABLE groups ADD COLUMN external_id text;
CREATE UNIQUE INDEX groups_org_external_id ON groups (org_id, external_id) WHERE external_id IS NOT NULL;

ALTER TABLE users ADD COLUMN modified_at timestamptz;
UPDATE users SET modified_at = updated_at;

-- BEFORE triggers may set the row's own columns (SQLite's need a second UPDATE).
CREATE FUNCTION users_modified() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.modified_at := clock_timestamp();
    RETURN NEW;
END;
$$;
CREATE TRIGGER users_modified_insert BEFORE INSERT ON users
FOR EACH ROW EXECUTE FUNCTION users_modified();
CREATE TRIGGER users_modified_update BEFORE UPDATE OF version ON users
FOR EACH ROW WHEN (NEW.version <> OLD.version)
EXECUTE FUNCTION users_modified();

-- The external id is part of the representation: it moves the version.
DROP TRIGGER users_version_row ON users;
CREATE TRIGGER users_version_row AFTER UPDATE OF email, first_name, last_name, display_name, status, mfa_enabled,
    attributes, avatar_url, identities, notifications, password_hash, external_id ON users
FOR EACH ROW WHEN (NEW.version = OLD.version AND (
    NEW.email IS DISTINCT FROM OLD.email OR NEW.first_name IS DISTINCT FROM OLD.first_name
    OR NEW.last_name IS DISTINCT FROM OLD.last_name
    OR NEW.display_name IS DISTINCT FROM OLD.display_name OR NEW.status IS DISTINCT FROM OLD.status
    OR NEW.mfa_enabled IS DISTINCT FROM OLD.mfa_enabled OR NEW.attributes IS DISTINCT FROM OLD.attributes
    OR NEW.avatar_url IS DISTINCT FROM OLD.avatar_url OR NEW.identities IS DISTINCT FROM OLD.identities
    OR NEW.notifications IS DISTINCT FROM OLD.notifications
    OR (NEW.password_hash IS NULL) IS DISTINCT FROM (OLD.password_hash IS NULL)
    OR NEW.external_id IS DISTINCT FROM OLD.external_id
))
EXECUTE FUNCTION users_version_row();
