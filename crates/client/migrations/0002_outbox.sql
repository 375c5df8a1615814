-- The outbox (SPEC C3): edits made here, kept until the server confirms them.
--
-- `users.json` and the columns lists read are what the admin sees: the server's copy
-- (`server_json`, at `etag`) with the pending edits of the outbox applied on top.
ALTER TABLE users ADD COLUMN server_json TEXT;
ALTER TABLE users ADD COLUMN etag TEXT;
-- The worst state of the user's outbox entries (conflict, failed, pending), or NULL.
ALTER TABLE users ADD COLUMN local_state TEXT;
UPDATE users SET server_json = json;

CREATE TABLE outbox (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    -- Sent as Idempotency-Key; replaced only once the server has definitely not applied
    -- the edit under the old key (a 412 or another refusal), so nothing applies twice.
    idempotency_key TEXT NOT NULL UNIQUE,
    user_id         TEXT NOT NULL,
    user_name       TEXT NOT NULL,
    -- If-Match: the version the edit was made on (moved on when an earlier edit of the
    -- same user is confirmed, since this one was made on top of it).
    base_etag       TEXT NOT NULL,
    -- The user as the admin saw it when editing: the "base" of a conflict.
    base_json       TEXT NOT NULL,
    -- The UserPatch to send.
    patch           TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'conflict', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    -- Unix milliseconds before which a pending entry is not retried (backoff).
    not_before      INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    -- JSON array of "field: message" for a refusal.
    field_errors    TEXT NOT NULL DEFAULT '[]',
    -- The server's user and ETag at the conflict.
    theirs_json     TEXT,
    theirs_etag     TEXT,
    created_at      TEXT NOT NULL
);
CREATE INDEX outbox_user ON outbox (user_id, seq);
