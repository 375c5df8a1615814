-- SCIM `userName` (issue 20): an identity provider may know a person by a name that is
-- not their address ("jdoe", a UPN). NULL: the userName is the e-mail. Unique across the
-- server like addresses, compared without case (`user_name_lower`, lower-cased in Rust);
-- looked up by (organization, the userName as shown).
ALTER TABLE users ADD COLUMN user_name text;
ALTER TABLE users ADD COLUMN user_name_lower text;
CREATE UNIQUE INDEX users_user_name_lower ON users (user_name_lower) WHERE user_name_lower IS NOT NULL;
CREATE INDEX users_org_scim_user_name ON users (org_id, COALESCE(user_name_lower, email_lower));
