-- A provisioning key (issue 20) carries a role: it reaches only what both its user and
-- the role reach. Deleting the role deletes its keys, so none falls back to its user's
-- whole reach.
ALTER TABLE api_keys ADD COLUMN role_id TEXT REFERENCES roles(id) ON DELETE CASCADE;
