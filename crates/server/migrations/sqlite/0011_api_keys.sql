-- API keys (SPEC S6): a user's long-lived credentials. Only a SHA-256 of the secret is
-- stored. Deactivating the user suspends their live keys (reason 'user_deactivated'),
-- reactivating restores exactly those; keys suspended by hand ('admin') stay suspended.
CREATE TABLE api_keys (
    id               TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL REFERENCES organizations(id),
    user_id          TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    prefix           TEXT NOT NULL,
    key_hash         TEXT NOT NULL UNIQUE,
    created_at       TEXT NOT NULL,
    created_by       TEXT,
    last_used_at     TEXT,
    suspended_at     TEXT,
    suspended_reason TEXT CHECK (suspended_reason IN ('admin', 'user_deactivated'))
);
CREATE INDEX api_keys_user ON api_keys (user_id, created_at);
