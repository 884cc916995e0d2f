-- bb schema, PostgreSQL dialect, version 2.
-- offer_snapshots is read by notification (its key), reached by ASIN through
-- competitive_history's (asin, marketplace, event_time) index; a second index
-- on every offer row cost more to write than it saved.
DROP INDEX IF EXISTS offer_snapshots_asin;

-- The body is kept byte for byte, as SQLite keeps it: json stores the text it
-- was given (jsonb re-orders and re-spaces it, so its SHA-256 would no longer
-- be the dedupe_hash), and checking JSON costs less than building jsonb.
ALTER TABLE worker_notifications ALTER COLUMN body TYPE json USING body::json;
ALTER TABLE worker_notifications ALTER COLUMN body SET COMPRESSION lz4;

-- Keys are identifiers, compared byte for byte: with the "C" collation the
-- indexes on them compare with memcmp instead of the database locale's rules.
ALTER TABLE worker_notifications
	ALTER COLUMN message_id TYPE TEXT COLLATE "C",
	ALTER COLUMN dedupe_hash TYPE TEXT COLLATE "C",
	ALTER COLUMN asin TYPE TEXT COLLATE "C",
	ALTER COLUMN marketplace TYPE TEXT COLLATE "C";
ALTER TABLE current_state
	ALTER COLUMN asin TYPE TEXT COLLATE "C",
	ALTER COLUMN marketplace TYPE TEXT COLLATE "C";
ALTER TABLE competitive_history
	ALTER COLUMN id TYPE TEXT COLLATE "C",
	ALTER COLUMN notification_id TYPE TEXT COLLATE "C",
	ALTER COLUMN asin TYPE TEXT COLLATE "C",
	ALTER COLUMN marketplace TYPE TEXT COLLATE "C";
ALTER TABLE offer_snapshots
	ALTER COLUMN notification_id TYPE TEXT COLLATE "C";
ALTER TABLE alert_queues
	ALTER COLUMN id TYPE TEXT COLLATE "C",
	ALTER COLUMN fingerprint TYPE TEXT COLLATE "C",
	ALTER COLUMN queue_type TYPE TEXT COLLATE "C",
	ALTER COLUMN asin TYPE TEXT COLLATE "C",
	ALTER COLUMN marketplace TYPE TEXT COLLATE "C",
	ALTER COLUMN status TYPE TEXT COLLATE "C";
ALTER TABLE worker_failures
	ALTER COLUMN id TYPE TEXT COLLATE "C",
	ALTER COLUMN message_id TYPE TEXT COLLATE "C";
ALTER TABLE asin_work_queue
	ALTER COLUMN id TYPE TEXT COLLATE "C",
	ALTER COLUMN status TYPE TEXT COLLATE "C";
ALTER TABLE worker_heartbeats
	ALTER COLUMN worker_id TYPE TEXT COLLATE "C";
