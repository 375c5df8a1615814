-- TOTP MFA (SPEC U11), password resets (U10) and outgoing mail (I9).

-- The enrolled TOTP secret (base32) and one being enrolled, confirmed by a first code.
-- `totp_last_step` is the time step of the last code accepted: a code works once.
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_pending_secret TEXT;
ALTER TABLE users ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;

-- A session of an account that must enrol MFA (the organization requires it) may do
-- nothing else until it has.
ALTER TABLE sessions ADD COLUMN mfa_pending INTEGER NOT NULL DEFAULT 0;
-- SHA-256 of the trusted-device token granted at this session's sign-in; the grant holds
-- while `trusted_device` is 1 (a force logout or an MFA reset clears it).
ALTER TABLE sessions ADD COLUMN trusted_device_hash TEXT;
CREATE INDEX sessions_trusted_device ON sessions (trusted_device_hash) WHERE trusted_device_hash IS NOT NULL;

-- Password-reset links: only a SHA-256 of the token is kept. A newer link replaces older
-- ones (`superseded_at`); a used one stays as a record.
CREATE TABLE password_resets (
    token_hash    TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    org_id        TEXT NOT NULL REFERENCES organizations(id),
    requested_by  TEXT,
    created_at    TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    used_at       TEXT,
    superseded_at TEXT
);
CREATE INDEX password_resets_user ON password_resets (user_id, created_at);

-- Outgoing e-mail, written in the same transaction as what causes it and delivered by a
-- background worker with retries. Once the relay accepts a message its bodies are
-- blanked (they may carry a link), unless the demo mailbox keeps them.
CREATE TABLE mail_outbox (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES organizations(id),
    kind            TEXT NOT NULL,
    to_addr         TEXT NOT NULL,
    subject         TEXT NOT NULL,
    text_body       TEXT NOT NULL,
    html_body       TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    sent_at         TEXT,
    failed_at       TEXT,
    last_error      TEXT
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX mail_outbox_org ON mail_outbox (org_id, created_at);
