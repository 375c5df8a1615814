-- Invitations (SPEC I1–I9). An invitation holds a seat through a pending user (status
-- 'pending' in users, with the invited roles and departments), so the seat count, the
-- directory's Pending badge and the change feed need nothing new; accepting it makes that
-- user active, declining or revoking removes them.
--
-- No token is stored: the link's token is an HMAC of the invitation id and `generation`
-- under the server's signing key, so an admin can copy the link again later, and a resend
-- (which moves `generation`) makes every older link invalid at once.
CREATE TABLE invitations (
    id                TEXT PRIMARY KEY,
    org_id            TEXT NOT NULL REFERENCES organizations(id),
    -- the pending user while pending, the member once accepted; NULL once removed
    user_id           TEXT REFERENCES users(id) ON DELETE SET NULL,
    email             TEXT NOT NULL,
    email_lower       TEXT NOT NULL,
    notify_email      TEXT,
    -- JSON arrays of RoleRef and GroupRef as invited
    roles             TEXT NOT NULL DEFAULT '[]',
    departments       TEXT NOT NULL DEFAULT '[]',
    message           TEXT,
    identity_provider TEXT NOT NULL DEFAULT 'any' CHECK (identity_provider IN ('any', 'google', 'microsoft')),
    tenant_id         TEXT,
    -- 'expired' is not stored: a pending invitation past expires_at is expired
    status            TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'declined', 'revoked')),
    generation        INTEGER NOT NULL DEFAULT 1,
    invited_by        TEXT,
    invited_by_name   TEXT,
    created_at        TEXT NOT NULL,
    sent_at           TEXT NOT NULL,
    send_count        INTEGER NOT NULL DEFAULT 1,
    expires_at        TEXT NOT NULL,
    responded_at      TEXT
);
CREATE INDEX invitations_org_created ON invitations (org_id, created_at, id);
CREATE INDEX invitations_org_status ON invitations (org_id, status, expires_at);
-- One open invitation per address.
CREATE UNIQUE INDEX invitations_open_email ON invitations (email_lower) WHERE status = 'pending';
CREATE INDEX invitations_user ON invitations (user_id);

-- The change feed gains the 'invitation' kind. SQLite cannot change a CHECK constraint,
-- so the table is rebuilt, and the triggers that write to it with it.
DROP TRIGGER changes_user_insert;
DROP TRIGGER changes_user_update;
DROP TRIGGER changes_user_delete;
DROP TRIGGER changes_role_insert;
DROP TRIGGER changes_role_update;
DROP TRIGGER changes_role_delete;
DROP TRIGGER changes_group_insert;
DROP TRIGGER changes_group_update;
DROP TRIGGER changes_group_delete;
DROP TRIGGER changes_org_insert;
DROP TRIGGER changes_org_update;

CREATE TABLE changes_new (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id    TEXT NOT NULL,
    kind      TEXT NOT NULL CHECK (kind IN ('user', 'role', 'group', 'organization', 'invitation')),
    entity_id TEXT NOT NULL,
    deleted   INTEGER NOT NULL DEFAULT 0,
    at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
INSERT INTO changes_new (seq, org_id, kind, entity_id, deleted, at) SELECT seq, org_id, kind, entity_id, deleted, at FROM changes;
DROP TABLE changes;
ALTER TABLE changes_new RENAME TO changes;
CREATE INDEX changes_org_seq ON changes (org_id, seq);
CREATE INDEX changes_at ON changes (at);

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
CREATE TRIGGER changes_invitation_insert AFTER INSERT ON invitations BEGIN
    INSERT INTO changes (org_id, kind, entity_id) VALUES (NEW.org_id, 'invitation', NEW.id);
END;
CREATE TRIGGER changes_invitation_update AFTER UPDATE ON invitations BEGIN
    INSERT INTO changes (org_id, kind, entity_id) VALUES (NEW.org_id, 'invitation', NEW.id);
END;
CREATE TRIGGER changes_invitation_delete AFTER DELETE ON invitations BEGIN
    INSERT INTO changes (org_id, kind, entity_id, deleted) VALUES (OLD.org_id, 'invitation', OLD.id, 1);
END;
