-- SCIM Groups (issue 20). A group's members are part of its SCIM representation, so its
-- SCIM version is `version` (its name) with `members_version`, which triggers move on
-- every membership added or taken; `modified_at` (SCIM `meta.lastModified`) moves with
-- either.
ALTER TABLE groups ADD COLUMN members_version bigint NOT NULL DEFAULT 0;
ALTER TABLE groups ADD COLUMN modified_at timestamptz;
UPDATE groups SET modified_at = created_at;

CREATE FUNCTION groups_modified() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.modified_at := clock_timestamp();
    RETURN NEW;
END;
$$;
CREATE TRIGGER groups_modified_insert BEFORE INSERT ON groups
FOR EACH ROW EXECUTE FUNCTION groups_modified();
CREATE TRIGGER groups_modified_update BEFORE UPDATE OF version, members_version ON groups
FOR EACH ROW WHEN (NEW.version <> OLD.version OR NEW.members_version <> OLD.members_version)
EXECUTE FUNCTION groups_modified();

CREATE FUNCTION groups_members_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE groups SET members_version = members_version + 1 WHERE id = NEW.group_id;
    ELSE
        UPDATE groups SET members_version = members_version + 1 WHERE id = OLD.group_id;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER groups_member_added AFTER INSERT ON user_groups
FOR EACH ROW EXECUTE FUNCTION groups_members_version();
CREATE TRIGGER groups_member_removed AFTER DELETE ON user_groups
FOR EACH ROW EXECUTE FUNCTION groups_members_version();

-- The change feed hears of a group when what the app shows of it changes (its name, kind
-- or version), not of the bookkeeping above: a membership reaches the feed as the
-- member's change.
DROP TRIGGER changes_group_update ON groups;
CREATE TRIGGER changes_group_update AFTER UPDATE OF name, kind, version ON groups
FOR EACH ROW EXECUTE FUNCTION changes_group();
