-- The activity log (SPEC A1–A5, issue 7).
--
-- Each event keeps the names of who did it and to whom as they were then, so it still
-- reads right after a rename or removal, and `search`: the lower-cased text `q` matches
-- (action, names, addresses, IP, details), so a text filter never joins.
ALTER TABLE audit_events ADD COLUMN user_agent   text NOT NULL DEFAULT '';
ALTER TABLE audit_events ADD COLUMN actor_name   text;
ALTER TABLE audit_events ADD COLUMN actor_email  text;
ALTER TABLE audit_events ADD COLUMN target_name  text;
ALTER TABLE audit_events ADD COLUMN target_email text;
ALTER TABLE audit_events ADD COLUMN search       text NOT NULL DEFAULT '';

-- Newest first with the (at, id) keyset, per filter that can drive a page: the log of an
-- organization, of a target, of an actor, of an action and of an IP address.
DROP INDEX audit_events_target;
DROP INDEX audit_events_actor;
CREATE INDEX audit_events_target ON audit_events (org_id, target_id, at, id);
CREATE INDEX audit_events_actor  ON audit_events (org_id, actor_id, at, id);
CREATE INDEX audit_events_action ON audit_events (org_id, action, at, id);
CREATE INDEX audit_events_ip     ON audit_events (org_id, ip, at, id);

-- Every action an organization's log holds, so `session.*` expands to concrete actions
-- (one ordered index range each) instead of scanning.
CREATE TABLE audit_actions (
    org_id text NOT NULL REFERENCES organizations(id),
    action text NOT NULL,
    PRIMARY KEY (org_id, action)
);
INSERT INTO audit_actions (org_id, action) SELECT DISTINCT org_id, action FROM audit_events
ON CONFLICT DO NOTHING;

-- Events per organization, hour and action, kept with each event's insert: the charts of
-- a whole log read this, not a million rows. SQLite keeps the hour as text (the first 13
-- characters of `at`, e.g. '2026-03-01T09'); here it is the start of that UTC hour.
CREATE TABLE audit_hourly (
    org_id text NOT NULL REFERENCES organizations(id),
    hour   timestamptz NOT NULL,
    action text NOT NULL,
    count  bigint NOT NULL,
    PRIMARY KEY (org_id, hour, action)
);
INSERT INTO audit_hourly (org_id, hour, action, count)
    SELECT org_id, date_trunc('hour', at, 'UTC'), action, COUNT(*) FROM audit_events
    GROUP BY org_id, date_trunc('hour', at, 'UTC'), action;

-- Days an organization keeps its audit events; older ones are purged by the server.
ALTER TABLE organizations ADD COLUMN audit_retention_days bigint NOT NULL DEFAULT 365
    CHECK (audit_retention_days BETWEEN 30 AND 3650);

-- When an API key last left an `api_key.used` event (one per key per hour).
ALTER TABLE api_keys ADD COLUMN used_event_at timestamptz;
