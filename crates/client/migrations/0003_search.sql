-- Lists, search, filters and counts read from an in-memory index of the users (see
-- search.rs); SQLite keeps the rows and records which users changed, in the same
-- transaction as the change, so the index catches up with exactly what was committed.
-- The list's SQL indexes are no longer read, and every sync paid for them.
DROP INDEX users_sort;
DROP INDEX users_status_sort;
DROP INDEX user_roles_role;
DROP INDEX user_groups_group;

-- AUTOINCREMENT: a number is never reused, even after the table was emptied, so "after
-- the last one read" stays right.
CREATE TABLE users_touched (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT NOT NULL
);
-- Memberships only ever change with their user's row (the cache writes both together).
CREATE TRIGGER users_touched_insert AFTER INSERT ON users BEGIN
    INSERT INTO users_touched (user_id) VALUES (NEW.id);
END;
CREATE TRIGGER users_touched_update AFTER UPDATE OF json, sort_name, search_text, status ON users BEGIN
    INSERT INTO users_touched (user_id) VALUES (NEW.id);
END;
CREATE TRIGGER users_touched_delete AFTER DELETE ON users BEGIN
    INSERT INTO users_touched (user_id) VALUES (OLD.id);
END;
