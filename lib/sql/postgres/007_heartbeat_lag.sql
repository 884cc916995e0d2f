-- bb schema, PostgreSQL dialect, version 7 (SQLite's version 7 says why):
-- the ingest-to-commit lag of the records a worker committed in its current
-- heartbeat period, largest and 99th percentile, in milliseconds.
ALTER TABLE worker_heartbeats ADD COLUMN lag_max_ms BIGINT;
ALTER TABLE worker_heartbeats ADD COLUMN lag_p99_ms BIGINT;
