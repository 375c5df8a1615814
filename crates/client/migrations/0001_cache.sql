-- The local cache of one connection: what the change feed delivered, readable offline.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE users (
    id          TEXT PRIMARY KEY,
    -- the User as the server sent it
    json        TEXT NOT NULL,
    sort_name   TEXT NOT NULL,
    search_text TEXT NOT NULL,
    status      TEXT NOT NULL
);
CREATE INDEX users_sort ON users (sort_name, id, search_text);
CREATE INDEX users_status_sort ON users (status, sort_name, id, search_text);

CREATE TABLE user_roles (
    user_id TEXT NOT NULL,
    role_id TEXT NOT NULL,
    PRIMARY KEY (user_id, role_id)
) WITHOUT ROWID;
CREATE INDEX user_roles_role ON user_roles (role_id, user_id);

CREATE TABLE user_groups (
    user_id  TEXT NOT NULL,
    group_id TEXT NOT NULL,
    PRIMARY KEY (user_id, group_id)
) WITHOUT ROWID;
CREATE INDEX user_groups_group ON user_groups (group_id, user_id);

CREATE TABLE roles (
    id   TEXT PRIMARY KEY,
    key  TEXT NOT NULL,
    json TEXT NOT NULL
);

CREATE TABLE groups (
    id   TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    json TEXT NOT NULL
);

CREATE TABLE organization (
    id   TEXT PRIMARY KEY,
    json TEXT NOT NULL
);
