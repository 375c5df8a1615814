-- The scenario of smoke.sql on the SQLite schema, to compare the two engines. Run on a
-- database with the SQLite migrations applied:
--   sqlite3 DB < smoke.sqlite.sql
-- Each check prints 'ok' or 'FAIL' with the value it got; the expected values are those
-- of smoke.sql. Generated from the same steps; the statements are the same text where
-- both engines accept it. Two statements are meant to fail here (an audit event update
-- and a second pending invitation): SQLite prints their errors and goes on.
PRAGMA foreign_keys = ON;
CREATE TEMP TABLE feed_mark (seq INTEGER NOT NULL);
INSERT INTO feed_mark VALUES (0);
CREATE TEMP VIEW feed_new AS
    SELECT seq, kind || ':' || entity_id || CASE WHEN deleted THEN ':deleted' ELSE '' END AS item
    FROM changes WHERE seq > (SELECT seq FROM feed_mark);
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
SELECT CASE WHEN got IS 'organization:o1 organization:o2 role:r_owner role:r_view role:r_admin group:g_eng group:g_co' THEN 'ok  ' ELSE 'FAIL' END || ' 1 feed: [' || COALESCE(got, 'NULL') || ']' FROM (SELECT COALESCE(group_concat(item, ' '), '') AS got FROM (SELECT item FROM feed_new ORDER BY seq));
UPDATE feed_mark SET seq = (SELECT COALESCE(MAX(seq), 0) FROM changes);
-- 2. Users of each status (users_count_insert, changes_user_insert).
INSERT INTO users (id, org_id, email, email_lower, first_name, last_name, display_name, sort_name, search_text, status, created_at, updated_at) VALUES
    ('u_a', 'o1', 'Ann@x.test', 'ann@x.test', 'Ann', 'A', 'Ann A', 'ann a', 'ann a ann@x.test', 'active', '2026-03-01T08:00:00.000Z', '2026-03-01T08:00:00.000Z'),
    ('u_p', 'o1', 'pat@x.test', 'pat@x.test', 'Pat', 'P', 'Pat P', 'pat p', 'pat p pat@x.test', 'pending', '2026-03-01T08:00:00.000Z', '2026-03-01T08:00:00.000Z'),
    ('u_d', 'o1', 'dan@x.test', 'dan@x.test', 'Dan', 'D', 'Dan D', 'dan d', 'dan d dan@x.test', 'deactivated', '2026-03-01T08:00:00.000Z', '2026-03-01T08:00:00.000Z');
SELECT CASE WHEN got IS 'user:u_a user:u_p user:u_d' THEN 'ok  ' ELSE 'FAIL' END || ' 2 feed: [' || COALESCE(got, 'NULL') || ']' FROM (SELECT COALESCE(group_concat(item, ' '), '') AS got FROM (SELECT item FROM feed_new ORDER BY seq));
UPDATE feed_mark SET seq = (SELECT COALESCE(MAX(seq), 0) FROM changes);
SELECT CASE WHEN got IS 'active=1 deactivated=1 pending=1' THEN 'ok  ' ELSE 'FAIL' END || ' 2 counts: [' || COALESCE(got, 'NULL') || ']' FROM (SELECT COALESCE(group_concat(x, ' '), '') AS got FROM (SELECT status || '=' || n AS x FROM user_status_counts WHERE org_id = 'o1' ORDER BY status));
SELECT CASE WHEN got IS 'u_a=1 u_d=1 u_p=1' THEN 'ok  ' ELSE 'FAIL' END || ' 2 versions: [' || COALESCE(got, 'NULL') || ']' FROM (SELECT COALESCE(group_concat(x, ' '), '') AS got FROM (SELECT id || '=' || version AS x FROM users ORDER BY id));
-- 3. Memberships move the member's version (users_version_role_added, _group_added).
INSERT INTO user_roles (user_id, role_id) VALUES ('u_a', 'r_owner');
INSERT INTO user_roles (user_id, role_id) VALUES ('u_a', 'r_view');
INSERT INTO user_roles (user_id, role_id) VALUES ('u_p', 'r_view');
INSERT INTO user_groups (user_id, group_id) VALUES ('u_a', 'g_eng');
INSERT INTO user_groups (user_id, group_id) VALUES ('u_p', 'g_co');
SELECT CASE WHEN got IS 'user:u_a user:u_a user:u_p user:u_a user:u_p' THEN 'ok  ' ELSE 'FAIL' END || ' 3 feed: [' || COALESCE(got, 'NULL') || ']' FROM (SELECT COALESCE(group_concat(item, ' '), '') AS got FROM (SELECT item FROM feed_new ORDER BY seq));
UPDATE feed_mark SET seq = (SELECT COALESCE(MAX(seq), 0) FROM changes);
SELECT CASE WHEN got IS 'u_a=4 u_d=1 u_p=3' THEN 'ok  ' ELSE 'FAIL' END || ' 3 versions: [' || COALESCE(got, 'NULL') || ']' FROM (SELECT COALESCE(group_concat(x, ' '), '') AS got FROM (SELECT id || '=' || version AS x FROM users ORDER BY id));
-- 4. Row edits (users_version_row, changes_user_update): only a real change of a listed
-- column moves the version.
UPDATE users SET display_name = display_name, email = email WHERE id = 'u_a';
UPDATE users SET last_active_at = '2026-03-01T09:00:00.000Z', updated_at = '2026-03-01T09:00:00.000Z', totp_secret = 's' WHERE id = 'u_a';
SELECT CASE WHEN got IS '' THEN 'ok  ' ELSE 'FAIL' END || ' 4a feed: [' || COALESCE(got, 'NULL') || ']' FROM (SELECT COALESCE(group_concat(item, ' '), '') AS got FROM (SELECT item FROM feed_new ORDER BY seq));
UPDATE feed_mark SET seq = (SELECT COALESCE(MAX(seq), 0) FROM changes);
SELECT CASE WHEN got IS 'u_a=4 u_d=1 u_p=3' THEN 'ok  ' ELSE 'FAIL' END || ' 4a versions: [' || COALESCE(got, 'NULL') || ']' FROM (SELECT COALESCE(group_concat(x, ' '), '') AS got FROM (SELECT id || '=' || version AS x FROM users ORDER BY id));
UPDATE users SET first_name = 'Alicia' WHERE id = 'u_a';
SELECT CASE WHEN got IS 'user:u_a' THEN 'ok  ' ELSE 'FAIL' END || ' 4b feed: [' || COALESCE(got, 'NULL') || ']' FROM (SELECT COALESCE(group_concat(item, ' '), '') AS got FROM (SELECT item FROM feed_new ORDER BY seq));
UPDATE feed_mark SET seq = (SELECT COALESCE(MAX(seq), 0) FROM changes);
SELECT CASE WHEN got IS 'u_a=5 u_d=1 u_p=3' THEN 'ok  ' ELSE 'FAIL' END || ' 4b versions: [' || COALESCE(got, 'NULL') || ']' FROM (SELECT COALESCE(group_concat(x, ' '), '') AS got FROM (SELECT id || '=' || version AS x FROM users ORDER BY id));
-- 5. Status changes move the counts (users_count_update) and the version.
UPDATE users SET status = 'active' WHERE id = 'u_p';
SELECT CASE WHEN got IS 'user:u_p' THEN 'ok  ' ELSE 'FAIL' END || ' 5a feed: [' || COALESCE(got, 'NULL') || ']' FROM (SELECT COALESCE(group_concat(item, ' '), '') AS got FROM (SELECT item FROM feed_new ORDER BY seq));
UPDATE feed_mark SET seq = (SELECT COALESCE(MAX(seq), 0) FROM changes);
SELECT CASE WHEN got IS 'active=2 deactivated=1 pending=0' THEN 'ok  ' ELSE 'FAIL' END || ' 5a counts: [' || COALESCE(got, 'NULL') || ']' FROM (SELECT COALESCE(group_concat(x, ' '), '') AS got FROM (SELECT status || '=' || n AS x FROM user_status_counts WHERE org_id = 'o1' ORDER BY status));
SELECT CASE WHEN got IS 'u_a=5 u_d=1 u_p=4' THEN 'ok  ' ELSE 'FAIL' END || ' 5a versions: [' || COALESCE(got, 'NULL') || ']' FROM (SELECT COALESCE(group_concat(x, ' '), '') AS got FROM (SELECT id || '=' || version AS x FROM users ORDER BY id));
UPDATE users SET status = 'active' WHERE id = 'u_p';
SELECT CASE WHEN got IS '' THEN 'ok  ' ELSE 'FAIL' END || ' 5b feed: [' || COALESCE(got, 'NULL') || ']' FROM (SELECT COALESCE(group_concat(item, ' '), '') AS got FROM (SELECT item FROM feed_new ORDER BY seq));
UPDATE feed_mark SET seq = (SELECT COALESCE(MAX(seq), 0) FROM changes);
SELECT CASE WHEN got IS 'active=2 deactivated=1 pending=0' THEN 'ok  ' ELSE 'FAIL' END || ' 5b counts: [' || COALESCE(got, 'NULL') || ']' FROM (SELECT COALESCE(group_concat(x, ' '), '') AS got FROM (SELECT status || '=' || n AS x FROM user_status_counts WHERE org_id = 'o1' ORDER BY status));
-- 6. A password appearing or disappearing moves the version; a new hash does not.
UPDATE users SET password_hash = 'h1' WHERE id = 'u_a';
UPDATE users SET password_hash = 'h2' WHERE id = 'u_a';
UPDATE users SET password_hash = NULL WHERE id = 'u_a';
SELECT CASE WHEN got IS 'user:u_a user:u_a' THEN 'ok  ' ELSE 'FAIL' END || ' 6 feed: [' || COALESCE(got, 'NULL') || ']' FROM (SELECT COALESCE(group_concat(item, ' '), '') AS got FROM (SELECT item FROM feed_new ORDER BY seq));
UPDATE feed_mark SET seq = (SELECT COALESCE(MAX(seq), 0) FROM changes);
SELECT CASE WHEN got IS 'u_a=7 u_d=1 u_p=4' THEN 'ok  ' ELSE 'FAIL' END || ' 6 versions: [' || COALESCE(got, 'NULL') || ']' FROM (SELECT COALESCE(group_concat(x, ' '), '') AS got FROM (SELECT id || '=' || version AS x FROM users ORDER BY id));
-- 7. A statement that moves the version itself gets no second bump, and one change.
UPDATE users SET last_name = 'Z', version = version + 10 WHERE id = 'u_d';
SELECT CASE WHEN got IS 'user:u_d' THEN 'ok  ' ELSE 'FAIL' END || ' 7 feed: [' || COALESCE(got, 'NULL') || ']' FROM (SELECT COALESCE(group_concat(item, ' '), '') AS got FROM (SELECT item FROM feed_new ORDER BY seq));
UPDATE feed_mark SET seq = (SELECT COALESCE(MAX(seq), 0) FROM changes);
SELECT CASE WHEN got IS 'u_a=7 u_d=11 u_p=4' THEN 'ok  ' ELSE 'FAIL' END || ' 7 versions: [' || COALESCE(got, 'NULL') || ']' FROM (SELECT COALESCE(group_concat(x, ' '), '') AS got FROM (SELECT id || '=' || version AS x FROM users ORDER BY id));
-- 8. One statement over several users: one bump and one change each.
UPDATE users SET mfa_enabled = true WHERE org_id = 'o1';
SELECT CASE WHEN got IS 'user:u_a user:u_d user:u_p' THEN 'ok  ' ELSE 'FAIL' END || ' 8 feed: [' || COALESCE(got, 'NULL') || ']' FROM (SELECT COALESCE(group_concat(item, ' '), '') AS got FROM (SELECT item FROM feed_new ORDER BY item));
UPDATE feed_mark SET seq = (SELECT COALESCE(MAX(seq), 0) FROM changes);
SELECT CASE WHEN got IS 'u_a=8 u_d=12 u_p=5' THEN 'ok  ' ELSE 'FAIL' END || ' 8 versions: [' || COALESCE(got, 'NULL') || ']' FROM (SELECT COALESCE(group_concat(x, ' '), '') AS got FROM (SELECT id || '=' || version AS x FROM users ORDER BY id));
-- 9. The profile columns of 0007 and 0009.
UPDATE users SET attributes = '{"team":"a"}' WHERE id = 'u_a';
UPDATE users SET attributes = '{"team":"a"}' WHERE id = 'u_a';
UPDATE users SET avatar_url = 'https://x.test/a.png' WHERE id = 'u_a';
UPDATE users SET identities = '["google"]' WHERE id = 'u_a';
UPDATE users SET notifications = '{"digest":false}' WHERE id = 'u_a';
UPDATE users SET sort_name = 'alicia a', search_text = 'alicia a ann@x.test' WHERE id = 'u_a';
SELECT CASE WHEN got IS 'user:u_a user:u_a user:u_a user:u_a' THEN 'ok  ' ELSE 'FAIL' END || ' 9 feed: [' || COALESCE(got, 'NULL') || ']' FROM (SELECT COALESCE(group_concat(item, ' '), '') AS got FROM (SELECT item FROM feed_new ORDER BY seq));
UPDATE feed_mark SET seq = (SELECT COALESCE(MAX(seq), 0) FROM changes);
SELECT CASE WHEN got IS 'u_a=12 u_d=12 u_p=5' THEN 'ok  ' ELSE 'FAIL' END || ' 9 versions: [' || COALESCE(got, 'NULL') || ']' FROM (SELECT COALESCE(group_concat(x, ' '), '') AS got FROM (SELECT id || '=' || version AS x FROM users ORDER BY id));
-- 10. Moving a user to another organization moves the counts, not the version.
UPDATE users SET org_id = 'o2' WHERE id = 'u_d';
SELECT CASE WHEN got IS '' THEN 'ok  ' ELSE 'FAIL' END || ' 10a feed: [' || COALESCE(got, 'NULL') || ']' FROM (SELECT COALESCE(group_concat(item, ' '), '') AS got FROM (SELECT item FROM feed_new ORDER BY seq));
UPDATE feed_mark SET seq = (SELECT COALESCE(MAX(seq), 0) FROM changes);
SELECT CASE WHEN got IS 'active=2 deactivated=0 pending=0' THEN 'ok  ' ELSE 'FAIL' END || ' 10a counts o1: [' || COALESCE(got, 'NULL') || ']' FROM (SELECT COALESCE(group_concat(x, ' '), '') AS got FROM (SELECT status || '=' || n AS x FROM user_status_counts WHERE org_id = 'o1' ORDER BY status));
SELECT CASE WHEN got IS 'deactivated=1' THEN 'ok  ' ELSE 'FAIL' END || ' 10a counts o2: [' || COALESCE(got, 'NULL') || ']' FROM (SELECT COALESCE(group_concat(x, ' '), '') AS got FROM (SELECT status || '=' || n AS x FROM user_status_counts WHERE org_id = 'o2' ORDER BY status));
UPDATE users SET org_id = 'o1', status = 'active' WHERE id = 'u_d';
SELECT CASE WHEN got IS 'user:u_d' THEN 'ok  ' ELSE 'FAIL' END || ' 10b feed: [' || COALESCE(got, 'NULL') || ']' FROM (SELECT COALESCE(group_concat(item, ' '), '') AS got FROM (SELECT item FROM feed_new ORDER BY seq));
UPDATE feed_mark SET seq = (SELECT COALESCE(MAX(seq), 0) FROM changes);
SELECT CASE WHEN got IS 'active=3 deactivated=0 pending=0' THEN 'ok  ' ELSE 'FAIL' END || ' 10b counts o1: [' || COALESCE(got, 'NULL') || ']' FROM (SELECT COALESCE(group_concat(x, ' '), '') AS got FROM (SELECT status || '=' || n AS x FROM user_status_counts WHERE org_id = 'o1' ORDER BY status));
SELECT CASE WHEN got IS 'deactivated=0' THEN 'ok  ' ELSE 'FAIL' END || ' 10b counts o2: [' || COALESCE(got, 'NULL') || ']' FROM (SELECT COALESCE(group_concat(x, ' '), '') AS got FROM (SELECT status || '=' || n AS x FROM user_status_counts WHERE org_id = 'o2' ORDER BY status));
SELECT CASE WHEN got IS 'u_a=12 u_d=13 u_p=5' THEN 'ok  ' ELSE 'FAIL' END || ' 10b versions: [' || COALESCE(got, 'NULL') || ']' FROM (SELECT COALESCE(group_concat(x, ' '), '') AS got FROM (SELECT id || '=' || version AS x FROM users ORDER BY id));
-- 11. Removing memberships (users_version_group_removed, users_version_role_removed).
DELETE FROM user_groups WHERE user_id = 'u_a' AND group_id = 'g_eng';
DELETE FROM user_roles WHERE user_id = 'u_a' AND role_id = 'r_owner';
SELECT CASE WHEN got IS 'user:u_a user:u_a' THEN 'ok  ' ELSE 'FAIL' END || ' 11 feed: [' || COALESCE(got, 'NULL') || ']' FROM (SELECT COALESCE(group_concat(item, ' '), '') AS got FROM (SELECT item FROM feed_new ORDER BY seq));
UPDATE feed_mark SET seq = (SELECT COALESCE(MAX(seq), 0) FROM changes);
SELECT CASE WHEN got IS 'u_a=14 u_d=13 u_p=5' THEN 'ok  ' ELSE 'FAIL' END || ' 11 versions: [' || COALESCE(got, 'NULL') || ']' FROM (SELECT COALESCE(group_concat(x, ' '), '') AS got FROM (SELECT id || '=' || version AS x FROM users ORDER BY id));
-- 12. Any update of a role, group or organization is a change, even one of no value.
UPDATE roles SET name = 'Viewers', version = version + 1 WHERE id = 'r_view';
UPDATE groups SET name = 'Eng', version = version + 1 WHERE id = 'g_eng';
UPDATE groups SET name = name WHERE id = 'g_co';
UPDATE organizations SET seat_limit = 20, version = version + 1 WHERE id = 'o1';
SELECT CASE WHEN got IS 'role:r_view group:g_eng group:g_co organization:o1' THEN 'ok  ' ELSE 'FAIL' END || ' 12 feed: [' || COALESCE(got, 'NULL') || ']' FROM (SELECT COALESCE(group_concat(item, ' '), '') AS got FROM (SELECT item FROM feed_new ORDER BY seq));
UPDATE feed_mark SET seq = (SELECT COALESCE(MAX(seq), 0) FROM changes);
-- 13. Deleting a role or group: it is deleted and its members change (cascade). The order
-- of the rows one statement writes differs: PostgreSQL fires the triggers of a cascade's
-- deletes after the deleted row's own triggers, SQLite before them (PostgreSQL's feed reads
-- 'role:r_view:deleted user:u_a user:u_p'). A reader gets the same set either way.
DELETE FROM roles WHERE id = 'r_view';
SELECT CASE WHEN got IS 'user:u_a user:u_p role:r_view:deleted' THEN 'ok  ' ELSE 'FAIL' END || ' 13a feed: [' || COALESCE(got, 'NULL') || ']' FROM (SELECT COALESCE(group_concat(item, ' '), '') AS got FROM (SELECT item FROM feed_new ORDER BY seq));
UPDATE feed_mark SET seq = (SELECT COALESCE(MAX(seq), 0) FROM changes);
SELECT CASE WHEN got IS 'u_a=15 u_d=13 u_p=6' THEN 'ok  ' ELSE 'FAIL' END || ' 13a versions: [' || COALESCE(got, 'NULL') || ']' FROM (SELECT COALESCE(group_concat(x, ' '), '') AS got FROM (SELECT id || '=' || version AS x FROM users ORDER BY id));
DELETE FROM groups WHERE id = 'g_co';
SELECT CASE WHEN got IS 'user:u_p group:g_co:deleted' THEN 'ok  ' ELSE 'FAIL' END || ' 13b feed: [' || COALESCE(got, 'NULL') || ']' FROM (SELECT COALESCE(group_concat(item, ' '), '') AS got FROM (SELECT item FROM feed_new ORDER BY seq));
UPDATE feed_mark SET seq = (SELECT COALESCE(MAX(seq), 0) FROM changes);
SELECT CASE WHEN got IS 'u_a=15 u_d=13 u_p=7' THEN 'ok  ' ELSE 'FAIL' END || ' 13b versions: [' || COALESCE(got, 'NULL') || ']' FROM (SELECT COALESCE(group_concat(x, ' '), '') AS got FROM (SELECT id || '=' || version AS x FROM users ORDER BY id));
-- 14. Invitations (changes_invitation_*); removing the pending user nulls user_id, which
-- is an update of the invitation (written before the user's deletion here, after it in
-- PostgreSQL, as in 13).
INSERT INTO users (id, org_id, email, email_lower, first_name, last_name, display_name, sort_name, search_text, status, created_at, updated_at) VALUES
    ('u_i', 'o1', 'ivy@x.test', 'ivy@x.test', 'Ivy', 'I', 'Ivy I', 'ivy i', 'ivy i ivy@x.test', 'pending', '2026-03-01T08:00:00.000Z', '2026-03-01T08:00:00.000Z');
INSERT INTO invitations (id, org_id, user_id, email, email_lower, status, created_at, sent_at, expires_at) VALUES
    ('inv1', 'o1', 'u_i', 'Ivy@x.test', 'ivy@x.test', 'pending', '2026-03-01T08:00:00.000Z', '2026-03-01T08:00:00.000Z', '2026-03-08T08:00:00.000Z');
UPDATE invitations SET generation = generation + 1, send_count = send_count + 1 WHERE id = 'inv1';
SELECT CASE WHEN got IS 'user:u_i invitation:inv1 invitation:inv1' THEN 'ok  ' ELSE 'FAIL' END || ' 14a feed: [' || COALESCE(got, 'NULL') || ']' FROM (SELECT COALESCE(group_concat(item, ' '), '') AS got FROM (SELECT item FROM feed_new ORDER BY seq));
UPDATE feed_mark SET seq = (SELECT COALESCE(MAX(seq), 0) FROM changes);
SELECT CASE WHEN got IS 'active=3 deactivated=0 pending=1' THEN 'ok  ' ELSE 'FAIL' END || ' 14a counts: [' || COALESCE(got, 'NULL') || ']' FROM (SELECT COALESCE(group_concat(x, ' '), '') AS got FROM (SELECT status || '=' || n AS x FROM user_status_counts WHERE org_id = 'o1' ORDER BY status));
-- One open invitation per address: this insert fails (UNIQUE constraint failed).
INSERT INTO invitations (id, org_id, email, email_lower, status, created_at, sent_at, expires_at) VALUES
    ('inv2', 'o1', 'ivy@x.test', 'ivy@x.test', 'pending', '2026-03-01T08:00:00.000Z', '2026-03-01T08:00:00.000Z', '2026-03-08T08:00:00.000Z');
SELECT CASE WHEN got IS '0' THEN 'ok  ' ELSE 'FAIL' END || ' 14 inv2 refused: [' || COALESCE(got, 'NULL') || ']' FROM (SELECT CAST((SELECT COUNT(*) FROM invitations WHERE id = 'inv2') AS TEXT) AS got);
DELETE FROM users WHERE id = 'u_i';
SELECT CASE WHEN got IS 'invitation:inv1 user:u_i:deleted' THEN 'ok  ' ELSE 'FAIL' END || ' 14b feed: [' || COALESCE(got, 'NULL') || ']' FROM (SELECT COALESCE(group_concat(item, ' '), '') AS got FROM (SELECT item FROM feed_new ORDER BY seq));
UPDATE feed_mark SET seq = (SELECT COALESCE(MAX(seq), 0) FROM changes);
SELECT CASE WHEN got IS 'active=3 deactivated=0 pending=0' THEN 'ok  ' ELSE 'FAIL' END || ' 14b counts: [' || COALESCE(got, 'NULL') || ']' FROM (SELECT COALESCE(group_concat(x, ' '), '') AS got FROM (SELECT status || '=' || n AS x FROM user_status_counts WHERE org_id = 'o1' ORDER BY status));
SELECT CASE WHEN got IS 'NULL' THEN 'ok  ' ELSE 'FAIL' END || ' 14b user_id: [' || COALESCE(got, 'NULL') || ']' FROM (SELECT CAST((SELECT COALESCE(user_id, 'NULL') FROM invitations WHERE id = 'inv1') AS TEXT) AS got);
DELETE FROM invitations WHERE id = 'inv1';
SELECT CASE WHEN got IS 'invitation:inv1:deleted' THEN 'ok  ' ELSE 'FAIL' END || ' 14c feed: [' || COALESCE(got, 'NULL') || ']' FROM (SELECT COALESCE(group_concat(item, ' '), '') AS got FROM (SELECT item FROM feed_new ORDER BY seq));
UPDATE feed_mark SET seq = (SELECT COALESCE(MAX(seq), 0) FROM changes);
-- 15. Deleting a user with memberships: one deleted change, no bump of the removed row.
INSERT INTO user_roles (user_id, role_id) VALUES ('u_a', 'r_owner');
INSERT INTO user_groups (user_id, group_id) VALUES ('u_a', 'g_eng');
INSERT INTO sessions (id, user_id, org_id, created_at, last_active_at) VALUES ('s1', 'u_a', 'o1', '2026-03-01T09:00:00.000Z', '2026-03-01T09:00:00.000Z');
SELECT CASE WHEN got IS 'user:u_a user:u_a' THEN 'ok  ' ELSE 'FAIL' END || ' 15a feed: [' || COALESCE(got, 'NULL') || ']' FROM (SELECT COALESCE(group_concat(item, ' '), '') AS got FROM (SELECT item FROM feed_new ORDER BY seq));
UPDATE feed_mark SET seq = (SELECT COALESCE(MAX(seq), 0) FROM changes);
DELETE FROM users WHERE id = 'u_a';
SELECT CASE WHEN got IS 'user:u_a:deleted' THEN 'ok  ' ELSE 'FAIL' END || ' 15b feed: [' || COALESCE(got, 'NULL') || ']' FROM (SELECT COALESCE(group_concat(item, ' '), '') AS got FROM (SELECT item FROM feed_new ORDER BY seq));
UPDATE feed_mark SET seq = (SELECT COALESCE(MAX(seq), 0) FROM changes);
SELECT CASE WHEN got IS 'active=2 deactivated=0 pending=0' THEN 'ok  ' ELSE 'FAIL' END || ' 15b counts: [' || COALESCE(got, 'NULL') || ']' FROM (SELECT COALESCE(group_concat(x, ' '), '') AS got FROM (SELECT status || '=' || n AS x FROM user_status_counts WHERE org_id = 'o1' ORDER BY status));
SELECT CASE WHEN got IS 'u_d=13 u_p=7' THEN 'ok  ' ELSE 'FAIL' END || ' 15b versions: [' || COALESCE(got, 'NULL') || ']' FROM (SELECT COALESCE(group_concat(x, ' '), '') AS got FROM (SELECT id || '=' || version AS x FROM users ORDER BY id));
SELECT CASE WHEN got IS '000' THEN 'ok  ' ELSE 'FAIL' END || ' 15b cascade: [' || COALESCE(got, 'NULL') || ']' FROM (SELECT CAST((SELECT (SELECT COUNT(*) FROM user_roles WHERE user_id = 'u_a') || (SELECT COUNT(*) FROM user_groups WHERE user_id = 'u_a') || (SELECT COUNT(*) FROM sessions)) AS TEXT) AS got);
-- 16. Audit events are append-only (audit_events_no_update); deleting (purge) works.
INSERT INTO audit_events (id, org_id, at, actor_id, target_type, target_id, action) VALUES
    ('ae1', 'o1', '2026-03-01T09:15:00.000Z', 'u_p', 'user', 'u_d', 'user.updated'),
    ('ae2', 'o1', '2026-03-01T09:59:59.999Z', 'u_p', 'user', 'u_d', 'user.updated'),
    ('ae3', 'o1', '2026-03-01T10:05:00.000Z', NULL, 'session', 's1', 'session.created'),
    ('ae4', 'o1', '2026-03-01T18:40:00.000Z', NULL, 'session', 's1', 'session.created');
-- This update fails: audit events are append-only.
UPDATE audit_events SET ip = '10.0.0.1' WHERE id = 'ae1';
UPDATE audit_events SET ip = 'x' WHERE id = 'no such event';
DELETE FROM audit_events WHERE id = 'ae3';
SELECT CASE WHEN got IS 'ae1: ae2: ae4:' THEN 'ok  ' ELSE 'FAIL' END || ' 16 rows: [' || COALESCE(got, 'NULL') || ']' FROM (SELECT CAST((SELECT group_concat(x, ' ') FROM (SELECT id || ':' || ip AS x FROM audit_events ORDER BY id)) AS TEXT) AS got);
SELECT CASE WHEN got IS '' THEN 'ok  ' ELSE 'FAIL' END || ' 16 feed: [' || COALESCE(got, 'NULL') || ']' FROM (SELECT COALESCE(group_concat(item, ' '), '') AS got FROM (SELECT item FROM feed_new ORDER BY seq));
UPDATE feed_mark SET seq = (SELECT COALESCE(MAX(seq), 0) FROM changes);
-- 17. The data migrations of 0014 and 0015, run again on data: the statements are copied
-- from the SQLite migrations.
INSERT OR IGNORE INTO audit_actions (org_id, action) SELECT DISTINCT org_id, action FROM audit_events;
INSERT INTO audit_hourly (org_id, hour, action, count)
    SELECT org_id, substr(at, 1, 13), action, COUNT(*) FROM audit_events GROUP BY org_id, substr(at, 1, 13), action;
UPDATE roles
SET permissions = (SELECT json_group_array(value) FROM (SELECT value FROM json_each(roles.permissions) UNION SELECT 'audit.write'))
WHERE builtin = 1 AND key IN ('owner', 'admin');
SELECT CASE WHEN got IS 'o1:session.created o1:user.updated' THEN 'ok  ' ELSE 'FAIL' END || ' 17 actions: [' || COALESCE(got, 'NULL') || ']' FROM (SELECT CAST((SELECT group_concat(x, ' ') FROM (SELECT org_id || ':' || action AS x FROM audit_actions ORDER BY org_id, action)) AS TEXT) AS got);
SELECT CASE WHEN got IS 'o1:2026-03-01T09:user.updated:2 o1:2026-03-01T18:session.created:1' THEN 'ok  ' ELSE 'FAIL' END || ' 17 hourly: [' || COALESCE(got, 'NULL') || ']' FROM (SELECT CAST((SELECT group_concat(x, ' ') FROM (SELECT org_id || ':' || hour || ':' || action || ':' || count AS x FROM audit_hourly ORDER BY hour, action)) AS TEXT) AS got);
SELECT CASE WHEN got IS 'r_admin=["A.upper","audit.write","z.last"] r_owner=["audit.write","users.manage","users.read"]' THEN 'ok  ' ELSE 'FAIL' END || ' 17 permissions: [' || COALESCE(got, 'NULL') || ']' FROM (SELECT CAST((SELECT group_concat(x, ' ') FROM (SELECT id || '=' || permissions AS x FROM roles ORDER BY id)) AS TEXT) AS got);
SELECT CASE WHEN got IS 'role:r_admin role:r_owner' THEN 'ok  ' ELSE 'FAIL' END || ' 17 feed: [' || COALESCE(got, 'NULL') || ']' FROM (SELECT COALESCE(group_concat(item, ' '), '') AS got FROM (SELECT item FROM feed_new ORDER BY item));
UPDATE feed_mark SET seq = (SELECT COALESCE(MAX(seq), 0) FROM changes);
-- 18. (PostgreSQL only: the feed's transaction ids.) The organization's rename is a change.
UPDATE organizations SET name = 'Acme Inc' WHERE id = 'o1';
SELECT CASE WHEN got IS 'organization:o1' THEN 'ok  ' ELSE 'FAIL' END || ' 18 feed: [' || COALESCE(got, 'NULL') || ']' FROM (SELECT COALESCE(group_concat(item, ' '), '') AS got FROM (SELECT item FROM feed_new ORDER BY seq));
UPDATE feed_mark SET seq = (SELECT COALESCE(MAX(seq), 0) FROM changes);
-- 19. Identity columns stay insertable.
INSERT INTO login_attempts (at, email, result) VALUES ('2026-03-01T09:00:00.000Z', 'ann@x.test', 'failure');
INSERT INTO login_attempts (id, at, email, result) VALUES (1000, '2026-03-01T09:00:01.000Z', 'ann@x.test', 'failure');
SELECT CASE WHEN got IS '1 1000' THEN 'ok  ' ELSE 'FAIL' END || ' 19 ids: [' || COALESCE(got, 'NULL') || ']' FROM (SELECT CAST((SELECT group_concat(x, ' ') FROM (SELECT id AS x FROM login_attempts ORDER BY id)) AS TEXT) AS got);
SELECT 'smoke.sqlite: done';
