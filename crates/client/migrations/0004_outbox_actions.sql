-- Outbox entries carry an action, not only edits: deactivate, reactivate and remove are
-- queued, shown at once and replayed exactly once like edits (`patch` is '{}' for them).
ALTER TABLE outbox ADD COLUMN action TEXT NOT NULL DEFAULT 'edit'
    CHECK (action IN ('edit', 'deactivate', 'reactivate', 'remove'));
