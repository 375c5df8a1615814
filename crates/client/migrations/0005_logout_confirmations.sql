-- Force logouts the server confirmed (SPEC S3: the app shows when it was confirmed), the
-- latest per user. A queued force logout that is not confirmed yet is an outbox entry.
CREATE TABLE logout_confirmations (
    user_id          TEXT PRIMARY KEY,
    confirmed_at     TEXT NOT NULL,
    sessions_revoked INTEGER NOT NULL
) WITHOUT ROWID;
