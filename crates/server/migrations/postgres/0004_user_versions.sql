-- A version per user, the source of its ETag. Triggers bump it on every change of the
-- user's representation (their row, roles or groups), so no write path can forget to.
ALTER TABLE users ADD COLUMN version bigint NOT NULL DEFAULT 1;

-- users_version_row: AFTER UPDATE OF the representation's columns, when the statement did
-- not move the version itself. As in SQLite it updates the row a second time; that update
-- sets only `version`, so this trigger does not fire again, while AFTER UPDATE triggers
-- without a column list (the change feed's, 0006) do. The trigger is replaced in 0007 and
-- 0009; this function stays.
CREATE FUNCTION users_version_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE users SET version = OLD.version + 1 WHERE id = NEW.id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER users_version_row AFTER UPDATE OF email, first_name, last_name, display_name, status, mfa_enabled ON users
FOR EACH ROW WHEN (NEW.version = OLD.version)
EXECUTE FUNCTION users_version_row();

-- A change of a user's roles or groups moves the user's version (SQLite: four triggers
-- with the same body on NEW.user_id / OLD.user_id).
CREATE FUNCTION users_version_membership() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        UPDATE users SET version = version + 1 WHERE id = OLD.user_id;
    ELSE
        UPDATE users SET version = version + 1 WHERE id = NEW.user_id;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER users_version_role_added AFTER INSERT ON user_roles
FOR EACH ROW EXECUTE FUNCTION users_version_membership();
CREATE TRIGGER users_version_role_removed AFTER DELETE ON user_roles
FOR EACH ROW EXECUTE FUNCTION users_version_membership();
CREATE TRIGGER users_version_group_added AFTER INSERT ON user_groups
FOR EACH ROW EXECUTE FUNCTION users_version_membership();
CREATE TRIGGER users_version_group_removed AFTER DELETE ON user_groups
FOR EACH ROW EXECUTE FUNCTION users_version_membership();
