-- Invitations (SPEC I1–I9). An invitation holds a seat through a pending user (status
-- 'pending' in users, with the invited roles and departments), so the seat count, the
-- directory's Pending badge and the change feed need nothing new; accepting it makes that
-- user active, declining or revoking removes them.
--
-- No token is stored: the link's token is an HMAC of the invitation id and `generation`
-- under the server's signing key, so an admin can copy the link again later, and a resend
-- (which moves `generation`) makes every older link invalid at once.
CREATE TABLE invitations (
    id                text PRIMARY KEY,
    org_id            text NOT NULL REFERENCES organizations(id),
    -- the pending user while pending, the member once accepted; NULL once removed
    user_id           text REFERENCES users(id) ON DELETE SET NULL,
    email             text NOT NULL,
    email_lower       text NOT NULL,
    notify_email      text,
    -- JSON arrays (text) of RoleRef and GroupRef as invited
    roles             text NOT NULL DEFAULT '[]',
    departments       text NOT NULL DEFAULT '[]',
    message           text,
    identity_provider text NOT NULL DEFAULT 'any' CHECK (identity_provider IN ('any', 'google', 'microsoft')),
    tenant_id         text,
    -- 'expired' is not stored: a pending invitation past expires_at is expired
    status            text NOT NULL CHECK (status IN ('pending', 'accepted', 'declined', 'revoked')),
    generation        bigint NOT NULL DEFAULT 1,
    invited_by        text,
    invited_by_name   text,
    created_at        timestamptz NOT NULL,
    sent_at           timestamptz NOT NULL,
    send_count        bigint NOT NULL DEFAULT 1,
    expires_at        timestamptz NOT NULL,
    responded_at      timestamptz
);
CREATE INDEX invitations_org_created ON invitations (org_id, created_at, id);
CREATE INDEX invitations_org_status ON invitations (org_id, status, expires_at);
-- One open invitation per address.
CREATE UNIQUE INDEX invitations_open_email ON invitations (email_lower) WHERE status = 'pending';
CREATE INDEX invitations_user ON invitations (user_id);

-- The change feed gains the 'invitation' kind. SQLite rebuilds the table (and its
-- triggers) for that; PostgreSQL changes the CHECK constraint in place, and the existing
-- rows, sequence, indexes and triggers of 0006 stay as they are.
ALTER TABLE changes DROP CONSTRAINT changes_kind_check;
ALTER TABLE changes ADD CONSTRAINT changes_kind_check
    CHECK (kind IN ('user', 'role', 'group', 'organization', 'invitation'));

CREATE FUNCTION changes_invitation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO changes (org_id, kind, entity_id, deleted) VALUES (OLD.org_id, 'invitation', OLD.id, true);
    ELSE
        INSERT INTO changes (org_id, kind, entity_id) VALUES (NEW.org_id, 'invitation', NEW.id);
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER changes_invitation_insert AFTER INSERT ON invitations
FOR EACH ROW EXECUTE FUNCTION changes_invitation();
CREATE TRIGGER changes_invitation_update AFTER UPDATE ON invitations
FOR EACH ROW EXECUTE FUNCTION changes_invitation();
CREATE TRIGGER changes_invitation_delete AFTER DELETE ON invitations
FOR EACH ROW EXECUTE FUNCTION changes_invitation();
