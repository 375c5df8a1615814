-- Custom attributes (SPEC U6, U7): a JSON object of string keys to string values. They
-- are part of the user's representation, so changing them moves the version (ETag) and
-- writes a change to the feed like any other edit.
ALTER TABLE users ADD COLUMN attributes TEXT NOT NULL DEFAULT '{}';

-- The version now moves only when a value really changes: a write of the same values
-- (an edit that only changes roles, say) leaves the ETag alone.
DROP TRIGGER users_version_row;
CREATE TRIGGER users_version_row AFTER UPDATE OF email, first_name, last_name, display_name, status, mfa_enabled, attributes ON users
WHEN NEW.version = OLD.version AND (
    NEW.email IS NOT OLD.email OR NEW.first_name IS NOT OLD.first_name OR NEW.last_name IS NOT OLD.last_name
    OR NEW.display_name IS NOT OLD.display_name OR NEW.status IS NOT OLD.status
    OR NEW.mfa_enabled IS NOT OLD.mfa_enabled OR NEW.attributes IS NOT OLD.attributes
) BEGIN
    UPDATE users SET version = OLD.version + 1 WHERE id = NEW.id;
END;
