-- Invitations from the change feed (SPEC C3: readable offline). `status` is as the
-- server stored it (pending, accepted, declined, revoked); expiry is judged on reading.
CREATE TABLE invitations (
    id          TEXT PRIMARY KEY,
    email_lower TEXT NOT NULL,
    status      TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    json        TEXT NOT NULL
);
CREATE INDEX invitations_created ON invitations (created_at, id);
