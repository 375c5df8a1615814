-- The recent window of the activity log (SPEC C3: readable offline). `json` is the
-- AuditEvent as the server sent it; the other columns are what the filters read. `at`
-- is RFC 3339 with nanoseconds, fixed width, so text order is time order. `search` is
-- the lower-cased text `q` matches, built as the server builds its own.
CREATE TABLE activity (
    id        TEXT PRIMARY KEY,
    at        TEXT NOT NULL,
    action    TEXT NOT NULL,
    actor_id  TEXT,
    target_id TEXT NOT NULL,
    ip        TEXT NOT NULL,
    search    TEXT NOT NULL,
    json      TEXT NOT NULL
);
-- Newest first with the (at, id) keyset; the per-user timeline reads by actor or target.
CREATE INDEX activity_at ON activity (at, id);
CREATE INDEX activity_actor ON activity (actor_id, at, id);
CREATE INDEX activity_target ON activity (target_id, at, id);
