-- Issue 18: one authorization rule, credentials, sign-in abuse, data at rest.

-- Host products' events need their own permission; the built-in roles that held every
-- permission keep doing so.
UPDATE roles
SET permissions = (SELECT json_group_array(value) FROM (SELECT value FROM json_each(roles.permissions) UNION SELECT 'audit.write'))
WHERE builtin = 1 AND key IN ('owner', 'admin');

-- Who suspended a key: one an administrator suspended stays so until one restores it.
ALTER TABLE api_keys ADD COLUMN suspended_by TEXT;

-- The account lock counts guesses by address typed and client network, so guessing from
-- one network cannot keep the account's owner out from another.
ALTER TABLE login_attempts ADD COLUMN network TEXT;
CREATE INDEX login_attempts_email_network_at ON login_attempts (email, network, at);

-- An administrator's unlock: guesses before it no longer count against the address.
CREATE TABLE sign_in_unlocks (
    email TEXT NOT NULL,
    at    TEXT NOT NULL
);
CREATE INDEX sign_in_unlocks_email_at ON sign_in_unlocks (email, at);

-- When the session last confirmed its password (and TOTP code): sensitive changes to
-- one's own account need that within the last few minutes.
ALTER TABLE sessions ADD COLUMN stepped_up_at TEXT;
