-- Issue 18: one authorization rule, credentials, sign-in abuse, data at rest.

-- Host products' events need their own permission; the built-in roles that held every
-- permission keep doing so.
UPDATE roles
SET permissions = (SELECT json_group_array(value) FROM (SELECT value FROM json_each(roles.permissions) UNION SELECT 'audit.write'))
WHERE builtin = 1 AND key IN ('owner', 'admin');

-- Who suspended a key: one an administrator suspended stays so until one restores it.
ALTER TABLE api_keys ADD COLUMN suspended_by TEXT;
