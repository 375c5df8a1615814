-- Gatehouse schema, version 1: organizations, roles, groups, users, sessions, tokens,
-- login attempts. Timestamps are RFC 3339 text in UTC, so they sort as strings.

CREATE TABLE server_secrets (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
);

CREATE TABLE organizations (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE roles (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations(id),
    key         TEXT NOT NULL,
    name        TEXT NOT NULL,
    builtin     INTEGER NOT NULL DEFAULT 0,
    -- JSON array of permission keys, e.g. ["users.read","users.manage"]
    permissions TEXT NOT NULL DEFAULT '[]',
    created_at  TEXT NOT NULL,
    UNIQUE (org_id, key)
);

-- Departments and companies (SPEC U13) are both groups with a kind.
CREATE TABLE groups (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES organizations(id),
    kind       TEXT NOT NULL CHECK (kind IN ('department', 'company')),
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (org_id, kind, name)
);

CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES organizations(id),
    email          TEXT NOT NULL,
    email_lower    TEXT NOT NULL,
    first_name     TEXT NOT NULL,
    last_name      TEXT NOT NULL,
    display_name   TEXT NOT NULL,
    -- lower(display_name): the list's sort key
    sort_name      TEXT NOT NULL,
    -- lower(display_name || ' ' || email): what `q` searches
    search_text    TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('pending', 'active', 'deactivated')),
    password_hash  TEXT,
    mfa_enabled    INTEGER NOT NULL DEFAULT 0,
    last_active_at TEXT,
    last_login_at  TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
-- Sign-in takes only an e-mail, so an address identifies one account server-wide.
CREATE UNIQUE INDEX users_email_lower ON users (email_lower);
CREATE INDEX users_org_sort ON users (org_id, sort_name, id);
CREATE INDEX users_org_status_sort ON users (org_id, status, sort_name, id);

CREATE TABLE user_roles (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role_id TEXT NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, role_id)
) WITHOUT ROWID;
CREATE INDEX user_roles_role ON user_roles (role_id, user_id);

CREATE TABLE user_groups (
    user_id  TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    group_id TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, group_id)
) WITHOUT ROWID;
CREATE INDEX user_groups_group ON user_groups (group_id, user_id);

CREATE TABLE sessions (
    id             TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    org_id         TEXT NOT NULL REFERENCES organizations(id),
    user_agent     TEXT NOT NULL DEFAULT '',
    device         TEXT NOT NULL DEFAULT '',
    ip             TEXT NOT NULL DEFAULT '',
    created_at     TEXT NOT NULL,
    last_active_at TEXT NOT NULL,
    revoked_at     TEXT,
    revoked_reason TEXT
);
CREATE INDEX sessions_user ON sessions (user_id, created_at);
CREATE INDEX sessions_org ON sessions (org_id, created_at);

-- Only a SHA-256 of each refresh token is stored; a used token stays as a tripwire for
-- reuse detection (SPEC S7).
CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

CREATE TABLE login_attempts (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         TEXT NOT NULL,
    email      TEXT NOT NULL,
    user_id    TEXT,
    org_id     TEXT,
    ip         TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT '',
    result     TEXT NOT NULL CHECK (result IN ('success', 'failure')),
    reason     TEXT
);
CREATE INDEX login_attempts_org_at ON login_attempts (org_id, at);
CREATE INDEX login_attempts_email_at ON login_attempts (email, at);
