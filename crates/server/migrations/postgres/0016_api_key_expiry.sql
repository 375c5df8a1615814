-- Issue 18: API keys can expire. NULL: the key never expires.
ALTER TABLE api_keys ADD COLUMN expires_at timestamptz;
