-- Smoke test of the PostgreSQL schema's triggers and data migrations. Run on a database
-- with migrations 0001–0017 applied:  psql -v ON_ERROR_STOP=1 -q -f smoke.sql, or as one
-- string (sqlx::raw_sql, one implicit transaction): plain SQL only, no psql commands.
-- Every check is an ASSERT (or RAISE) in a DO block, so a wrong result fails the run.
-- smoke.sqlite.sql runs the same scenario on SQLite and prints the same expectations.
-- A zone with a half-hour offset: hour buckets must still be UTC hours.
SET TimeZone = 'Asia/Kolkata';

-- Helpers (session-local). feed(): the changes written since the last call, as
-- 'kind:entity[:deleted]' in seq order. feed_sorted(): the same, sorted (for one
-- statement that writes several rows, whose row order is the engine's business).
CREATE TEMP TABLE feed_mark (seq bigint NOT NULL);
INSERT INTO feed_mark VALUES (0);
CREATE FUNCTION pg_temp.feed_items(sorted boolean) RETURNS text LANGUAGE plpgsql AS $$
DECLARE got text;
BEGIN
    SELECT COALESCE(string_agg(item, ' ' ORDER BY CASE WHEN sorted THEN item COLLATE "C" END, seq), '') INTO got
    FROM (SELECT seq, kind || ':' || entity_id || CASE WHEN deleted THEN ':deleted' ELSE '' END AS item
          FROM changes WHERE seq > (SELECT seq FROM feed_mark)) c;
    UPDATE feed_mark SET seq = (SELECT COALESCE(MAX(seq), 0) FROM changes);
    RETURN got;
END;
$$;
CREATE FUNCTION pg_temp.feed() RETURNS text LANGUAGE sql AS $$ SELECT pg_temp.feed_items(false) $$;
CREATE FUNCTION pg_temp.feed_sorted() RETURNS text LANGUAGE sql AS $$ SELECT pg_temp.feed_items(true) $$;
-- counts('o1'): 'active=2 deactivated=0 pending=1', from user_status_counts.
CREATE FUNCTION pg_temp.counts(org text) RETURNS text LANGUAGE sql AS $$
    SELECT COALESCE(string_agg(status || '=' || n, ' ' ORDER BY status COLLATE "C"), '')
    FROM user_status_counts WHERE org_id = org
$$;
-- versions(): 'u_a=4 u_p=3 …' for every user.
CREATE FUNCTION pg_temp.versions() RETURNS text LANGUAGE sql AS $$
    SELECT COALESCE(string_agg(id || '=' || version, ' ' ORDER BY id COLLATE "C"), '') FROM users
$$;
-- check(step, got, expected): fails the run with both values when they differ.
CREATE FUNCTION pg_temp.check(step text, got text, expected text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    ASSERT got IS NOT DISTINCT FROM expected, format('%s: expected [%s], got [%s]', step, expected, got);
END;
$$;

-- 1. Organizations, roles, groups (changes_org_insert, changes_role_insert, changes_group_insert).
INSERT INTO organizations (id, name, created_at) VALUES
    ('o1', 'Acme', '2026-03-01T08:00:00.000Z'), ('o2', 'Other', '2026-03-01T08:00:00.000Z');
INSERT INTO roles (id, org_id, key, name, builtin, permissions, created_at) VALUES
    ('r_owner', 'o1', 'owner', 'Owner', true, '["users.read","users.manage"]', '2026-03-01T08:00:00.000Z'),
    ('r_view', 'o1', 'viewer', 'Viewer', false, '["users.read"]', '2026-03-01T08:00:00.000Z'),
    ('r_admin', 'o2', 'admin', 'Admin', true, '["z.last","audit.write","A.upper"]', '2026-03-01T08:00:00.000Z');
INSERT INTO groups (id, org_id, kind, name, created_at) VALUES
    ('g_eng', 'o1', 'department', 'Engineering', '2026-03-01T08:00:00.000Z'),
    ('g_co', 'o1', 'company', 'Contoso', '2026-03-01T08:00:00.000Z');
DO $$ BEGIN
    PERFORM pg_temp.check('1 feed', pg_temp.feed(),
        'organization:o1 organization:o2 role:r_owner role:r_view role:r_admin group:g_eng group:g_co');
END $$;

-- 2. Users of each status (users_count_insert, changes_user_insert).
INSERT INTO users (id, org_id, email, email_lower, first_name, last_name, display_name, sort_name, search_text, status, created_at, updated_at) VALUES
    ('u_a', 'o1', 'Ann@x.test', 'ann@x.test', 'Ann', 'A', 'Ann A', 'ann a', 'ann a ann@x.test', 'active', '2026-03-01T08:00:00.000Z', '2026-03-01T08:00:00.000Z'),
    ('u_p', 'o1', 'pat@x.test', 'pat@x.test', 'Pat', 'P', 'Pat P', 'pat p', 'pat p pat@x.test', 'pending', '2026-03-01T08:00:00.000Z', '2026-03-01T08:00:00.000Z'),
    ('u_d', 'o1', 'dan@x.test', 'dan@x.test', 'Dan', 'D', 'Dan D', 'dan d', 'dan d dan@x.test', 'deactivated', '2026-03-01T08:00:00.000Z', '2026-03-01T08:00:00.000Z');
DO $$ BEGIN
    PERFORM pg_temp.check('2 feed', pg_temp.feed(), 'user:u_a user:u_p user:u_d');
    PERFORM pg_temp.check('2 counts', pg_temp.counts('o1'), 'active=1 deactivated=1 pending=1');
    PERFORM pg_temp.check('2 versions', pg_temp.versions(), 'u_a=1 u_d=1 u_p=1');
END $$;

-- 3. Memberships move the member's version (users_version_role_added, _group_added).
INSERT INTO user_roles (user_id, role_id) VALUES ('u_a', 'r_owner');
INSERT INTO user_roles (user_id, role_id) VALUES ('u_a', 'r_view');
INSERT INTO user_roles (user_id, role_id) VALUES ('u_p', 'r_view');
INSERT INTO user_groups (user_id, group_id) VALUES ('u_a', 'g_eng');
INSERT INTO user_groups (user_id, group_id) VALUES ('u_p', 'g_co');
DO $$ BEGIN
    PERFORM pg_temp.check('3 feed', pg_temp.feed(), 'user:u_a user:u_a user:u_p user:u_a user:u_p');
    PERFORM pg_temp.check('3 versions', pg_temp.versions(), 'u_a=4 u_d=1 u_p=3');
END $$;

-- 4. Row edits (users_version_row, changes_user_update): only a real change of a listed
-- column moves the version.
UPDATE users SET display_name = display_name, email = email WHERE id = 'u_a';
UPDATE users SET last_active_at = '2026-03-01T09:00:00.000Z', updated_at = '2026-03-01T09:00:00.000Z', totp_secret = 's' WHERE id = 'u_a';
DO $$ BEGIN
    PERFORM pg_temp.check('4a feed', pg_temp.feed(), '');
    PERFORM pg_temp.check('4a versions', pg_temp.versions(), 'u_a=4 u_d=1 u_p=3');
END $$;
UPDATE users SET first_name = 'Alicia' WHERE id = 'u_a';
DO $$ BEGIN
    PERFORM pg_temp.check('4b feed', pg_temp.feed(), 'user:u_a');
    PERFORM pg_temp.check('4b versions', pg_temp.versions(), 'u_a=5 u_d=1 u_p=3');
END $$;

-- 5. Status changes move the counts (users_count_update) and the version.
UPDATE users SET status = 'active' WHERE id = 'u_p';
DO $$ BEGIN
    PERFORM pg_temp.check('5a feed', pg_temp.feed(), 'user:u_p');
    PERFORM pg_temp.check('5a counts', pg_temp.counts('o1'), 'active=2 deactivated=1 pending=0');
    PERFORM pg_temp.check('5a versions', pg_temp.versions(), 'u_a=5 u_d=1 u_p=4');
END $$;
UPDATE users SET status = 'active' WHERE id = 'u_p';
DO $$ BEGIN
    PERFORM pg_temp.check('5b feed', pg_temp.feed(), '');
    PERFORM pg_temp.check('5b counts', pg_temp.counts('o1'), 'active=2 deactivated=1 pending=0');
END $$;

-- 6. A password appearing or disappearing moves the version; a new hash does not.
UPDATE users SET password_hash = 'h1' WHERE id = 'u_a';
UPDATE users SET password_hash = 'h2' WHERE id = 'u_a';
UPDATE users SET password_hash = NULL WHERE id = 'u_a';
DO $$ BEGIN
    PERFORM pg_temp.check('6 feed', pg_temp.feed(), 'user:u_a user:u_a');
    PERFORM pg_temp.check('6 versions', pg_temp.versions(), 'u_a=7 u_d=1 u_p=4');
END $$;

-- 7. A statement that moves the version itself gets no second bump, and one change.
UPDATE users SET last_name = 'Z', version = version + 10 WHERE id = 'u_d';
DO $$ BEGIN
    PERFORM pg_temp.check('7 feed', pg_temp.feed(), 'user:u_d');
    PERFORM pg_temp.check('7 versions', pg_temp.versions(), 'u_a=7 u_d=11 u_p=4');
END $$;

-- 8. One statement over several users: one bump and one change each.
UPDATE users SET mfa_enabled = true WHERE org_id = 'o1';
DO $$ BEGIN
    PERFORM pg_temp.check('8 feed', pg_temp.feed_sorted(), 'user:u_a user:u_d user:u_p');
    PERFORM pg_temp.check('8 versions', pg_temp.versions(), 'u_a=8 u_d=12 u_p=5');
END $$;

-- 9. The profile columns of 0007 and 0009.
UPDATE users SET attributes = '{"team":"a"}' WHERE id = 'u_a';
UPDATE users SET attributes = '{"team":"a"}' WHERE id = 'u_a';
UPDATE users SET avatar_url = 'https://x.test/a.png' WHERE id = 'u_a';
UPDATE users SET identities = '["google"]' WHERE id = 'u_a';
UPDATE users SET notifications = '{"digest":false}' WHERE id = 'u_a';
UPDATE users SET sort_name = 'alicia a', search_text = 'alicia a ann@x.test' WHERE id = 'u_a';
DO $$ BEGIN
    PERFORM pg_temp.check('9 feed', pg_temp.feed(), 'user:u_a user:u_a user:u_a user:u_a');
    PERFORM pg_temp.check('9 versions', pg_temp.versions(), 'u_a=12 u_d=12 u_p=5');
END $$;

-- 10. Moving a user to another organization moves the counts, not the version.
UPDATE users SET org_id = 'o2' WHERE id = 'u_d';
DO $$ BEGIN
    PERFORM pg_temp.check('10a feed', pg_temp.feed(), '');
    PERFORM pg_temp.check('10a counts o1', pg_temp.counts('o1'), 'active=2 deactivated=0 pending=0');
    PERFORM pg_temp.check('10a counts o2', pg_temp.counts('o2'), 'deactivated=1');
END $$;
UPDATE users SET org_id = 'o1', status = 'active' WHERE id = 'u_d';
DO $$ BEGIN
    PERFORM pg_temp.check('10b feed', pg_temp.feed(), 'user:u_d');
    PERFORM pg_temp.check('10b counts o1', pg_temp.counts('o1'), 'active=3 deactivated=0 pending=0');
    PERFORM pg_temp.check('10b counts o2', pg_temp.counts('o2'), 'deactivated=0');
    PERFORM pg_temp.check('10b versions', pg_temp.versions(), 'u_a=12 u_d=13 u_p=5');
END $$;

-- 11. Removing memberships (users_version_group_removed, users_version_role_removed).
DELETE FROM user_groups WHERE user_id = 'u_a' AND group_id = 'g_eng';
DELETE FROM user_roles WHERE user_id = 'u_a' AND role_id = 'r_owner';
DO $$ BEGIN
    PERFORM pg_temp.check('11 feed', pg_temp.feed(), 'user:u_a user:u_a');
    PERFORM pg_temp.check('11 versions', pg_temp.versions(), 'u_a=14 u_d=13 u_p=5');
END $$;

-- 12. Any update of a role, group or organization is a change, even one of no value.
UPDATE roles SET name = 'Viewers', version = version + 1 WHERE id = 'r_view';
UPDATE groups SET name = 'Eng', version = version + 1 WHERE id = 'g_eng';
UPDATE groups SET name = name WHERE id = 'g_co';
UPDATE organizations SET seat_limit = 20, version = version + 1 WHERE id = 'o1';
DO $$ BEGIN
    PERFORM pg_temp.check('12 feed', pg_temp.feed(), 'role:r_view group:g_eng group:g_co organization:o1');
END $$;

-- 13. Deleting a role or group: it is deleted and its members change (cascade). The order
-- of the rows one statement writes differs: PostgreSQL fires the triggers of a cascade's
-- deletes after the deleted row's own triggers, SQLite before them (there the feed reads
-- 'user:u_a user:u_p role:r_view:deleted'). A reader gets the same set either way.
DELETE FROM roles WHERE id = 'r_view';
DO $$ BEGIN
    PERFORM pg_temp.check('13a feed', pg_temp.feed(), 'role:r_view:deleted user:u_a user:u_p');
    PERFORM pg_temp.check('13a versions', pg_temp.versions(), 'u_a=15 u_d=13 u_p=6');
END $$;
DELETE FROM groups WHERE id = 'g_co';
DO $$ BEGIN
    PERFORM pg_temp.check('13b feed', pg_temp.feed(), 'group:g_co:deleted user:u_p');
    PERFORM pg_temp.check('13b versions', pg_temp.versions(), 'u_a=15 u_d=13 u_p=7');
END $$;

-- 14. Invitations (changes_invitation_*); removing the pending user nulls user_id, which
-- is an update of the invitation (written after the user's deletion here, before it in
-- SQLite, as in 13).
INSERT INTO users (id, org_id, email, email_lower, first_name, last_name, display_name, sort_name, search_text, status, created_at, updated_at) VALUES
    ('u_i', 'o1', 'ivy@x.test', 'ivy@x.test', 'Ivy', 'I', 'Ivy I', 'ivy i', 'ivy i ivy@x.test', 'pending', '2026-03-01T08:00:00.000Z', '2026-03-01T08:00:00.000Z');
INSERT INTO invitations (id, org_id, user_id, email, email_lower, status, created_at, sent_at, expires_at) VALUES
    ('inv1', 'o1', 'u_i', 'Ivy@x.test', 'ivy@x.test', 'pending', '2026-03-01T08:00:00.000Z', '2026-03-01T08:00:00.000Z', '2026-03-08T08:00:00.000Z');
UPDATE invitations SET generation = generation + 1, send_count = send_count + 1 WHERE id = 'inv1';
DO $$ BEGIN
    PERFORM pg_temp.check('14a feed', pg_temp.feed(), 'user:u_i invitation:inv1 invitation:inv1');
    PERFORM pg_temp.check('14a counts', pg_temp.counts('o1'), 'active=3 deactivated=0 pending=1');
END $$;
DO $$ BEGIN
    -- One open invitation per address.
    INSERT INTO invitations (id, org_id, email, email_lower, status, created_at, sent_at, expires_at) VALUES
        ('inv2', 'o1', 'ivy@x.test', 'ivy@x.test', 'pending', '2026-03-01T08:00:00.000Z', '2026-03-01T08:00:00.000Z', '2026-03-08T08:00:00.000Z');
    RAISE EXCEPTION 'a second pending invitation for one address was accepted';
EXCEPTION WHEN unique_violation THEN NULL;
END $$;
DELETE FROM users WHERE id = 'u_i';
DO $$ BEGIN
    PERFORM pg_temp.check('14b feed', pg_temp.feed(), 'user:u_i:deleted invitation:inv1');
    PERFORM pg_temp.check('14b counts', pg_temp.counts('o1'), 'active=3 deactivated=0 pending=0');
    PERFORM pg_temp.check('14b user_id', (SELECT COALESCE(user_id, 'NULL') FROM invitations WHERE id = 'inv1'), 'NULL');
END $$;
DELETE FROM invitations WHERE id = 'inv1';
DO $$ BEGIN
    PERFORM pg_temp.check('14c feed', pg_temp.feed(), 'invitation:inv1:deleted');
END $$;

-- 15. Deleting a user with memberships: one deleted change, no bump of the removed row.
INSERT INTO user_roles (user_id, role_id) VALUES ('u_a', 'r_owner');
INSERT INTO user_groups (user_id, group_id) VALUES ('u_a', 'g_eng');
INSERT INTO sessions (id, user_id, org_id, created_at, last_active_at) VALUES ('s1', 'u_a', 'o1', '2026-03-01T09:00:00.000Z', '2026-03-01T09:00:00.000Z');
DO $$ BEGIN
    PERFORM pg_temp.check('15a feed', pg_temp.feed(), 'user:u_a user:u_a');
END $$;
DELETE FROM users WHERE id = 'u_a';
DO $$ BEGIN
    PERFORM pg_temp.check('15b feed', pg_temp.feed(), 'user:u_a:deleted');
    PERFORM pg_temp.check('15b counts', pg_temp.counts('o1'), 'active=2 deactivated=0 pending=0');
    PERFORM pg_temp.check('15b versions', pg_temp.versions(), 'u_d=13 u_p=7');
    PERFORM pg_temp.check('15b cascade', (SELECT COUNT(*) FROM user_roles WHERE user_id = 'u_a')::text
        || (SELECT COUNT(*) FROM user_groups WHERE user_id = 'u_a')::text || (SELECT COUNT(*) FROM sessions)::text, '000');
END $$;

-- 16. Audit events are append-only (audit_events_no_update); deleting (purge) works.
INSERT INTO audit_events (id, org_id, at, actor_id, target_type, target_id, action) VALUES
    ('ae1', 'o1', '2026-03-01T09:15:00.000Z', 'u_p', 'user', 'u_d', 'user.updated'),
    ('ae2', 'o1', '2026-03-01T09:59:59.999Z', 'u_p', 'user', 'u_d', 'user.updated'),
    ('ae3', 'o1', '2026-03-01T10:05:00.000Z', NULL, 'session', 's1', 'session.created'),
    ('ae4', 'o1', '2026-03-01T18:40:00.000Z', NULL, 'session', 's1', 'session.created');
DO $$ BEGIN
    UPDATE audit_events SET ip = '10.0.0.1' WHERE id = 'ae1';
    RAISE EXCEPTION 'an audit event was updated';
EXCEPTION WHEN raise_exception THEN
    PERFORM pg_temp.check('16 message', SQLERRM, 'audit events are append-only');
END $$;
UPDATE audit_events SET ip = 'x' WHERE id = 'no such event';
DELETE FROM audit_events WHERE id = 'ae3';
DO $$ BEGIN
    PERFORM pg_temp.check('16 rows', (SELECT string_agg(id || ':' || ip, ' ' ORDER BY id COLLATE "C") FROM audit_events), 'ae1: ae2: ae4:');
    PERFORM pg_temp.check('16 feed', pg_temp.feed(), '');
END $$;

-- 17. The data migrations of 0014 and 0015, run again on data (they ran on an empty
-- database): the statements are copied from those files.
INSERT INTO audit_actions (org_id, action) SELECT DISTINCT org_id, action FROM audit_events
ON CONFLICT DO NOTHING;
INSERT INTO audit_hourly (org_id, hour, action, count)
    SELECT org_id, date_trunc('hour', at, 'UTC'), action, COUNT(*) FROM audit_events
    GROUP BY org_id, date_trunc('hour', at, 'UTC'), action;
UPDATE roles
SET permissions = (
    SELECT array_to_json(array_agg(p.value ORDER BY p.value COLLATE "C"))::text
    FROM (SELECT value FROM json_array_elements_text(roles.permissions::json) AS e(value)
          UNION SELECT 'audit.write') AS p(value)
)
WHERE builtin AND key IN ('owner', 'admin');
DO $$ BEGIN
    PERFORM pg_temp.check('17 actions', (SELECT string_agg(org_id || ':' || action, ' ' ORDER BY org_id, action COLLATE "C") FROM audit_actions),
        'o1:session.created o1:user.updated');
    PERFORM pg_temp.check('17 hourly', (SELECT string_agg(org_id || ':' || to_char(hour AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24') || ':' || action || ':' || count, ' '
        ORDER BY hour, action COLLATE "C") FROM audit_hourly),
        'o1:2026-03-01T09:user.updated:2 o1:2026-03-01T18:session.created:1');
    PERFORM pg_temp.check('17 permissions', (SELECT string_agg(id || '=' || permissions, ' ' ORDER BY id COLLATE "C") FROM roles),
        'r_admin=["A.upper","audit.write","z.last"] r_owner=["audit.write","users.manage","users.read"]');
    PERFORM pg_temp.check('17 feed', pg_temp.feed_sorted(), 'role:r_admin role:r_owner');
END $$;

-- 19. Identity columns stay insertable.
INSERT INTO login_attempts (at, email, result) VALUES ('2026-03-01T09:00:00.000Z', 'ann@x.test', 'failure');
INSERT INTO login_attempts (id, at, email, result) VALUES (1000, '2026-03-01T09:00:01.000Z', 'ann@x.test', 'failure');
DO $$ BEGIN
    PERFORM pg_temp.check('19 ids', (SELECT string_agg(id::text, ' ' ORDER BY id) FROM login_attempts), '1 1000');
END $$;

-- 20. SCIM (0017): an external id moves the version, every version move sets
-- modified_at, and an external id is unique within an organization.
DO $$
DECLARE before timestamptz; v bigint;
BEGIN
    SELECT modified_at, version INTO before, v FROM users WHERE id = 'u_p';
    ASSERT before IS NOT NULL, '20: modified_at is set';
    PERFORM pg_sleep(0.01);
    UPDATE users SET external_id = 'ext-1' WHERE id = 'u_p';
    PERFORM pg_temp.check('20 version', (SELECT version FROM users WHERE id = 'u_p')::text, (v + 1)::text);
    ASSERT (SELECT modified_at FROM users WHERE id = 'u_p') > before, '20: modified_at moves with the version';
    BEGIN
        UPDATE users SET external_id = 'ext-1' WHERE id = 'u_d';
        RAISE EXCEPTION '20: a second ext-1 in one organization was accepted';
    EXCEPTION WHEN unique_violation THEN NULL;
    END;
END $$;

DO $$ BEGIN RAISE NOTICE 'smoke: all checks passed'; END $$;
