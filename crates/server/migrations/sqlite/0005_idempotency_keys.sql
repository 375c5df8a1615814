-- Responses to mutating requests that carried an Idempotency-Key, per caller. A retry
-- with the same key gets the stored response; the row is written in the transaction of
-- the change it describes, so "applied" and "remembered" cannot come apart.
CREATE TABLE idempotency_keys (
    user_id      TEXT NOT NULL,
    key          TEXT NOT NULL,
    -- SHA-256 of method, path and the canonical request body
    fingerprint  TEXT NOT NULL,
    status       INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    etag         TEXT,
    body         BLOB NOT NULL,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (user_id, key)
) WITHOUT ROWID;
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
