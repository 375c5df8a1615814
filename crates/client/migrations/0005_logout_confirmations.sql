-- Force logouts the server confirmed (SPEC S3: the app shows when it was confirmed), the
-- latest per user. A queued force logout that is not confirmed yet is an outbox entry.
CREATE TABLE logout_confirmations (
    user_id          TEXT PRIMARY KEY,
    confirmed_at     TEXT NOT NULL,
    sessions_revoked INTEGER NOT NULL
) WITHOUT ROWID;

-- The outbox also queues force logouts. SQLite cannot change a CHECK in place, so the
-- table is rebuilt with the same rows (sequence numbers and keys kept: nothing replays twice).
CREATE TABLE outbox_next (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key TEXT NOT NULL UNIQUE,
    user_id         TEXT NOT NULL,
    user_name       TEXT NOT NULL,
    base_etag       TEXT NOT NULL,
    base_json       TEXT NOT NULL,
    patch           TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'conflict', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    not_before      INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    field_errors    TEXT NOT NULL DEFAULT '[]',
    theirs_json     TEXT,
    theirs_etag     TEXT,
    created_at      TEXT NOT NULL,
    action          TEXT NOT NULL DEFAULT 'edit'
        CHECK (action IN ('edit', 'deactivate', 'reactivate', 'remove', 'logout'))
);
INSERT INTO outbox_next (seq, idempotency_key, user_id, user_name, base_etag, base_json, patch, state, attempts,
                         not_before, last_error, field_errors, theirs_json, theirs_etag, created_at, action)
SELECT seq, idempotency_key, user_id, user_name, base_etag, base_json, patch, state, attempts,
       not_before, last_error, field_errors, theirs_json, theirs_etag, created_at, action FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_next RENAME TO outbox;
CREATE INDEX outbox_user ON outbox (user_id, seq);
