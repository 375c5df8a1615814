-- Per-organization totals by status, kept by triggers, so the unfiltered count badges
-- (SPEC U2) cost one small read instead of a scan of every user.
CREATE TABLE user_status_counts (
    org_id TEXT NOT NULL,
    status TEXT NOT NULL,
    n      INTEGER NOT NULL,
    PRIMARY KEY (org_id, status)
) WITHOUT ROWID;

INSERT INTO user_status_counts (org_id, status, n)
SELECT org_id, status, COUNT(*) FROM users GROUP BY org_id, status;

CREATE TRIGGER users_count_insert AFTER INSERT ON users BEGIN
    INSERT INTO user_status_counts (org_id, status, n) VALUES (NEW.org_id, NEW.status, 1)
    ON CONFLICT (org_id, status) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER users_count_delete AFTER DELETE ON users BEGIN
    UPDATE user_status_counts SET n = n - 1 WHERE org_id = OLD.org_id AND status = OLD.status;
END;

CREATE TRIGGER users_count_update AFTER UPDATE OF status, org_id ON users
WHEN OLD.status IS NOT NEW.status OR OLD.org_id IS NOT NEW.org_id BEGIN
    UPDATE user_status_counts SET n = n - 1 WHERE org_id = OLD.org_id AND status = OLD.status;
    INSERT INTO user_status_counts (org_id, status, n) VALUES (NEW.org_id, NEW.status, 1)
    ON CONFLICT (org_id, status) DO UPDATE SET n = n + 1;
END;
