-- TOTP MFA (SPEC U11), password resets (U10) and outgoing mail (I9).

-- The enrolled TOTP secret (base32) and one being enrolled, confirmed by a first code.
-- `totp_last_step` is the time step of the last code accepted: a code works once.
ALTER TABLE users ADD COLUMN totp_secret text;
ALTER TABLE users ADD COLUMN totp_pending_secret text;
ALTER TABLE users ADD COLUMN totp_last_step bigint NOT NULL DEFAULT 0;

-- A session of an account that must enrol MFA (the organization requires it) may do
-- nothing else until it has.
ALTER TABLE sessions ADD COLUMN mfa_pending boolean NOT NULL DEFAULT false;
-- SHA-256 of the trusted-device token granted at this session's sign-in; the grant holds
-- while `trusted_device` is true (a force logout or an MFA reset clears it).
ALTER TABLE sessions ADD COLUMN trusted_device_hash text;
CREATE INDEX sessions_trusted_device ON sessions (trusted_device_hash) WHERE trusted_device_hash IS NOT NULL;

-- Password-reset links: only a SHA-256 of the token is kept. A newer link replaces older
-- ones (`superseded_at`); a used one stays as a record.
CREATE TABLE password_resets (
    token_hash    text PRIMARY KEY,
    user_id       text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    org_id        text NOT NULL REFERENCES organizations(id),
    requested_by  text,
    created_at    timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    used_at       timestamptz,
    superseded_at timestamptz
);
CREATE INDEX password_resets_user ON password_resets (user_id, created_at);

-- Outgoing e-mail, written in the same transaction as what causes it and delivered by a
-- background worker with retries. Once the relay accepts a message its bodies are
-- blanked (they may carry a link), unless the demo mailbox keeps them.
CREATE TABLE mail_outbox (
    id              text PRIMARY KEY,
    org_id          text NOT NULL REFERENCES organizations(id),
    kind            text NOT NULL,
    to_addr         text NOT NULL,
    subject         text NOT NULL,
    text_body       text NOT NULL,
    html_body       text NOT NULL,
    created_at      timestamptz NOT NULL,
    attempts        bigint NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    sent_at         timestamptz,
    failed_at       timestamptz,
    last_error      text
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX mail_outbox_org ON mail_outbox (org_id, created_at);
