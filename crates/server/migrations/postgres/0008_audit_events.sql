-- Append-only audit events (SPEC A1): written in the same transaction as the change
-- they describe, so no change goes unrecorded and no event describes a change that
-- rolled back. The activity log (issue 7) reads them.
CREATE TABLE audit_events (
    id          text PRIMARY KEY,
    org_id      text NOT NULL REFERENCES organizations(id),
    at          timestamptz NOT NULL,
    -- NULL for the system (e.g. a scheduled job).
    actor_id    text,
    -- 'user', 'role', 'group', 'organization', …
    target_type text NOT NULL,
    target_id   text NOT NULL,
    -- e.g. 'user.updated', 'user.deactivated'
    action      text NOT NULL,
    ip          text NOT NULL DEFAULT '',
    -- JSON (text, not jsonb): {"before": …, "after": …, …}; names and values as they
    -- were, so the event still reads right after the target is renamed or removed.
    details     text NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_org_at ON audit_events (org_id, at, id);
CREATE INDEX audit_events_target ON audit_events (org_id, target_id, at);
CREATE INDEX audit_events_actor ON audit_events (org_id, actor_id, at);

-- Never edited, never deleted by the application. The message is matched by tests.
CREATE FUNCTION audit_events_no_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only';
END;
$$;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
FOR EACH ROW EXECUTE FUNCTION audit_events_no_update();
