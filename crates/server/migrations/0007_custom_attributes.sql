-- Custom attributes (SPEC U6, U7): a JSON object of string keys to string values. They
-- are part of the user's representation, so changing them moves the version (ETag) and
-- writes a change to the feed like any other edit.
ALTER TABLE users ADD COLUMN attributes TEXT NOT NULL DEFAULT '{}';

CREATE TRIGGER users_version_attributes AFTER UPDATE OF attributes ON users
WHEN NEW.version = OLD.version BEGIN
    UPDATE users SET version = OLD.version + 1 WHERE id = NEW.id;
END;
