-- bb schema, SQLite dialect, version 7: how far behind a worker is. For the
-- records a worker committed in its current heartbeat period (10 s), the
-- largest and the 99th percentile (nearest rank) of their ingest-to-commit
-- lag: the commit's time less the record's sqs.sent_at, in milliseconds.
-- NULL when no record of the period had sqs.sent_at.
ALTER TABLE worker_heartbeats ADD COLUMN lag_max_ms INTEGER;
ALTER TABLE worker_heartbeats ADD COLUMN lag_p99_ms INTEGER;
