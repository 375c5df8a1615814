-- SCIM Groups (issue 20). A group's members are part of its SCIM representation, so its
-- SCIM version is `version` (its name) with `members_version`, which triggers move on
-- every membership added or taken; `modified_at` (SCIM `meta.lastModified`, in the
-- format of users.modified_at) moves with either.
ALTER TABLE groups ADD COLUMN members_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE groups ADD COLUMN modified_at TEXT;
UPDATE groups SET modified_at = strftime('%Y-%m-%dT%H:%M:%fZ', created_at);
CREATE TRIGGER groups_modified_insert AFTER INSERT ON groups BEGIN
    UPDATE groups SET modified_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = NEW.id;
END;
CREATE TRIGGER groups_modified_update AFTER UPDATE OF version, members_version ON groups
WHEN NEW.version <> OLD.version OR NEW.members_version <> OLD.members_version BEGIN
    UPDATE groups SET modified_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = NEW.id;
END;
CREATE TRIGGER groups_member_added AFTER INSERT ON user_groups BEGIN
    UPDATE groups SET members_version = members_version + 1 WHERE id = NEW.group_id;
END;
CREATE TRIGGER groups_member_removed AFTER DELETE ON user_groups BEGIN
    UPDATE groups SET members_version = members_version + 1 WHERE id = OLD.group_id;
END;

-- The change feed hears of a group when what the app shows of it changes (its name, kind
-- or version), not of the bookkeeping above: a membership reaches the feed as the
-- member's change.
DROP TRIGGER changes_group_update;
CREATE TRIGGER changes_group_update AFTER UPDATE OF name, kind, version ON groups BEGIN
    INSERT INTO changes (org_id, kind, entity_id) VALUES (NEW.org_id, 'group', NEW.id);
END;
