-- The change feed (GET /v1/changes): one row per change of a synced resource, in commit
-- order, written by triggers so that no write path can skip it. Users change when their
-- version moves (row, roles or groups; not "last active", which would flood the feed).
CREATE TABLE changes (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id    TEXT NOT NULL,
    kind      TEXT NOT NULL CHECK (kind IN ('user', 'role', 'group', 'organization')),
    entity_id TEXT NOT NULL,
    deleted   INTEGER NOT NULL DEFAULT 0,
    at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX changes_org_seq ON changes (org_id, seq);
CREATE INDEX changes_at ON changes (at);

-- Everything at or below this sequence number has been pruned for the organization: a
-- cursor older than that cannot be served (410, resync in full).
CREATE TABLE change_retention (
    org_id        TEXT PRIMARY KEY,
    pruned_through INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TRIGGER changes_user_insert AFTER INSERT ON users BEGIN
    INSERT INTO changes (org_id, kind, entity_id) VALUES (NEW.org_id, 'user', NEW.id);
END;
CREATE TRIGGER changes_user_update AFTER UPDATE ON users WHEN NEW.version <> OLD.version BEGIN
    INSERT INTO changes (org_id, kind, entity_id) VALUES (NEW.org_id, 'user', NEW.id);
END;
CREATE TRIGGER changes_user_delete AFTER DELETE ON users BEGIN
    INSERT INTO changes (org_id, kind, entity_id, deleted) VALUES (OLD.org_id, 'user', OLD.id, 1);
END;
CREATE TRIGGER changes_role_insert AFTER INSERT ON roles BEGIN
    INSERT INTO changes (org_id, kind, entity_id) VALUES (NEW.org_id, 'role', NEW.id);
END;
CREATE TRIGGER changes_role_update AFTER UPDATE ON roles BEGIN
    INSERT INTO changes (org_id, kind, entity_id) VALUES (NEW.org_id, 'role', NEW.id);
END;
CREATE TRIGGER changes_role_delete AFTER DELETE ON roles BEGIN
    INSERT INTO changes (org_id, kind, entity_id, deleted) VALUES (OLD.org_id, 'role', OLD.id, 1);
END;
CREATE TRIGGER changes_group_insert AFTER INSERT ON groups BEGIN
    INSERT INTO changes (org_id, kind, entity_id) VALUES (NEW.org_id, 'group', NEW.id);
END;
CREATE TRIGGER changes_group_update AFTER UPDATE ON groups BEGIN
    INSERT INTO changes (org_id, kind, entity_id) VALUES (NEW.org_id, 'group', NEW.id);
END;
CREATE TRIGGER changes_group_delete AFTER DELETE ON groups BEGIN
    INSERT INTO changes (org_id, kind, entity_id, deleted) VALUES (OLD.org_id, 'group', OLD.id, 1);
END;
CREATE TRIGGER changes_org_insert AFTER INSERT ON organizations BEGIN
    INSERT INTO changes (org_id, kind, entity_id) VALUES (NEW.id, 'organization', NEW.id);
END;
CREATE TRIGGER changes_org_update AFTER UPDATE ON organizations BEGIN
    INSERT INTO changes (org_id, kind, entity_id) VALUES (NEW.id, 'organization', NEW.id);
END;

-- Existing data enters the feed once, so a first sync from cursor 0 sees everything.
INSERT INTO changes (org_id, kind, entity_id) SELECT id, 'organization', id FROM organizations;
INSERT INTO changes (org_id, kind, entity_id) SELECT org_id, 'role', id FROM roles;
INSERT INTO changes (org_id, kind, entity_id) SELECT org_id, 'group', id FROM groups;
INSERT INTO changes (org_id, kind, entity_id) SELECT org_id, 'user', id FROM users;
