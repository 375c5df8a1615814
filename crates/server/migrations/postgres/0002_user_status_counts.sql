-- Per-organization totals by status, kept by triggers, so the unfiltered count badges
-- (SPEC U2) cost one small read instead of a scan of every user.
CREATE TABLE user_status_counts (
    org_id text NOT NULL,
    status text NOT NULL,
    n      bigint NOT NULL,
    PRIMARY KEY (org_id, status)
);

INSERT INTO user_status_counts (org_id, status, n)
SELECT org_id, status, COUNT(*) FROM users GROUP BY org_id, status;

-- users_count_insert: AFTER INSERT ON users.
CREATE FUNCTION users_count_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO user_status_counts (org_id, status, n) VALUES (NEW.org_id, NEW.status, 1)
    ON CONFLICT (org_id, status) DO UPDATE SET n = user_status_counts.n + 1;
    RETURN NULL;
END;
$$;
CREATE TRIGGER users_count_insert AFTER INSERT ON users
FOR EACH ROW EXECUTE FUNCTION users_count_insert();

-- users_count_delete: AFTER DELETE ON users.
CREATE FUNCTION users_count_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE user_status_counts SET n = n - 1 WHERE org_id = OLD.org_id AND status = OLD.status;
    RETURN NULL;
END;
$$;
CREATE TRIGGER users_count_delete AFTER DELETE ON users
FOR EACH ROW EXECUTE FUNCTION users_count_delete();

-- users_count_update: AFTER UPDATE OF status, org_id ON users, when either really changed.
CREATE FUNCTION users_count_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE user_status_counts SET n = n - 1 WHERE org_id = OLD.org_id AND status = OLD.status;
    INSERT INTO user_status_counts (org_id, status, n) VALUES (NEW.org_id, NEW.status, 1)
    ON CONFLICT (org_id, status) DO UPDATE SET n = user_status_counts.n + 1;
    RETURN NULL;
END;
$$;
CREATE TRIGGER users_count_update AFTER UPDATE OF status, org_id ON users
FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.org_id IS DISTINCT FROM NEW.org_id)
EXECUTE FUNCTION users_count_update();
