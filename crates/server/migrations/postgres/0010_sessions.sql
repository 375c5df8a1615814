-- Sessions and sign-in protection (issue 5, SPEC S1–S5).

-- The device is remembered as trusted (MFA is skipped on it) until a force logout.
ALTER TABLE sessions ADD COLUMN trusted_device boolean NOT NULL DEFAULT false;

-- Session lists page newest first by (created_at, id); live sessions have their own
-- partial index so the default "active" list never walks over revoked ones.
DROP INDEX sessions_org;
CREATE INDEX sessions_org_created ON sessions (org_id, created_at, id);
CREATE INDEX sessions_org_live ON sessions (org_id, created_at, id) WHERE revoked_at IS NULL;
DROP INDEX sessions_user;
CREATE INDEX sessions_user_created ON sessions (user_id, created_at, id);

-- Login attempts page newest first by id; the per-IP rate limit and per-account lockout
-- count recent failures by address and by e-mail.
CREATE INDEX login_attempts_org_id ON login_attempts (org_id, id);
CREATE INDEX login_attempts_user_id ON login_attempts (user_id, id);
CREATE INDEX login_attempts_ip_at ON login_attempts (ip, at);
