-- Custom attributes (SPEC U6, U7): a JSON object of string keys to string values (text,
-- not jsonb). They are part of the user's representation, so changing them moves the
-- version (ETag) and writes a change to the feed like any other edit.
ALTER TABLE users ADD COLUMN attributes text NOT NULL DEFAULT '{}';

-- The version now moves only when a value really changes: a write of the same values
-- (an edit that only changes roles, say) leaves the ETag alone. The function
-- users_version_row (0004) is unchanged; only the trigger's columns and condition move.
DROP TRIGGER users_version_row ON users;
CREATE TRIGGER users_version_row AFTER UPDATE OF email, first_name, last_name, display_name, status, mfa_enabled, attributes ON users
FOR EACH ROW WHEN (NEW.version = OLD.version AND (
    NEW.email IS DISTINCT FROM OLD.email OR NEW.first_name IS DISTINCT FROM OLD.first_name
    OR NEW.last_name IS DISTINCT FROM OLD.last_name
    OR NEW.display_name IS DISTINCT FROM OLD.display_name OR NEW.status IS DISTINCT FROM OLD.status
    OR NEW.mfa_enabled IS DISTINCT FROM OLD.mfa_enabled OR NEW.attributes IS DISTINCT FROM OLD.attributes
))
EXECUTE FUNCTION users_version_row();
