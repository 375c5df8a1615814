-- Issue 18: one authorization rule, credentials, sign-in abuse, data at rest.

-- Host products' events need their own permission; the built-in roles that held every
-- permission keep doing so. Like SQLite's UNION, the result is distinct and sorted
-- bytewise; array_to_json writes it compactly (["a","b"]) as SQLite's json_group_array.
UPDATE roles
SET permissions = (
    SELECT array_to_json(array_agg(p.value ORDER BY p.value COLLATE "C"))::text
    FROM (SELECT value FROM json_array_elements_text(roles.permissions::json) AS e(value)
          UNION SELECT 'audit.write') AS p(value)
)
WHERE builtin AND key IN ('owner', 'admin');

-- Who suspended a key: one an administrator suspended stays so until one restores it.
ALTER TABLE api_keys ADD COLUMN suspended_by text;

-- The account lock counts guesses by address typed and client network, so guessing from
-- one network cannot keep the account's owner out from another.
ALTER TABLE login_attempts ADD COLUMN network text;
CREATE INDEX login_attempts_email_network_at ON login_attempts (email, network, at);

-- An administrator's unlock: guesses before it no longer count against the address.
CREATE TABLE sign_in_unlocks (
    email text NOT NULL,
    at    timestamptz NOT NULL
);
CREATE INDEX sign_in_unlocks_email_at ON sign_in_unlocks (email, at);

-- When the session last confirmed its password (and TOTP code): sensitive changes to
-- one's own account need that within the last few minutes.
ALTER TABLE sessions ADD COLUMN stepped_up_at timestamptz;
