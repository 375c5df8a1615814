-- `q` is a substring LIKE over search_text, which no index can seek. With search_text in
-- the sort indexes, the filter runs on index entries and only matching users are read
-- from the table.
DROP INDEX users_org_sort;
DROP INDEX users_org_status_sort;
CREATE INDEX users_org_sort ON users (org_id, sort_name, id, search_text);
CREATE INDEX users_org_status_sort ON users (org_id, status, sort_name, id, search_text);
