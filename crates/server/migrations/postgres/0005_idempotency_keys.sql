-- Responses to mutating requests that carried an Idempotency-Key, per caller. A retry
-- with the same key gets the stored response; the row is written in the transaction of
-- the change it describes, so "applied" and "remembered" cannot come apart.
CREATE TABLE idempotency_keys (
    user_id      text NOT NULL,
    key          text NOT NULL,
    -- SHA-256 of method, path and the canonical request body
    fingerprint  text NOT NULL,
    status       bigint NOT NULL,
    content_type text NOT NULL,
    etag         text,
    body         bytea NOT NULL,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
