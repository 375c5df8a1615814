-- A version per user, the source of its ETag. Triggers bump it on every change of the
-- user's representation (their row, roles or groups), so no write path can forget to.
ALTER TABLE users ADD COLUMN version INTEGER NOT NULL DEFAULT 1;

CREATE TRIGGER users_version_row AFTER UPDATE OF email, first_name, last_name, display_name, status, mfa_enabled ON users
WHEN NEW.version = OLD.version BEGIN
    UPDATE users SET version = OLD.version + 1 WHERE id = NEW.id;
END;
CREATE TRIGGER users_version_role_added AFTER INSERT ON user_roles BEGIN
    UPDATE users SET version = version + 1 WHERE id = NEW.user_id;
END;
CREATE TRIGGER users_version_role_removed AFTER DELETE ON user_roles BEGIN
    UPDATE users SET version = version + 1 WHERE id = OLD.user_id;
END;
CREATE TRIGGER users_version_group_added AFTER INSERT ON user_groups BEGIN
    UPDATE users SET version = version + 1 WHERE id = NEW.user_id;
END;
CREATE TRIGGER users_version_group_removed AFTER DELETE ON user_groups BEGIN
    UPDATE users SET version = version + 1 WHERE id = OLD.user_id;
END;
