-- API keys (SPEC S6): a user's long-lived credentials. Only a SHA-256 of the secret is
-- stored. Deactivating the user suspends their live keys (reason 'user_deactivated'),
-- reactivating restores exactly those; keys suspended by hand ('admin') stay suspended.
CREATE TABLE api_keys (
    id               text PRIMARY KEY,
    org_id           text NOT NULL REFERENCES organizations(id),
    user_id          text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name             text NOT NULL,
    prefix           text NOT NULL,
    key_hash         text NOT NULL UNIQUE,
    created_at       timestamptz NOT NULL,
    created_by       text,
    last_used_at     timestamptz,
    suspended_at     timestamptz,
    suspended_reason text CHECK (suspended_reason IN ('admin', 'user_deactivated'))
);
CREATE INDEX api_keys_user ON api_keys (user_id, created_at);
