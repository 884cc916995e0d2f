-- bb schema, PostgreSQL dialect, version 3.
-- The body is kept as text, as SQLite keeps it: byte for byte as it came
-- from SQS (its SHA-256 is the dedupe_hash), compressed with lz4. bb-validate
-- parsed it before any record reaches bb-store, so checking it again as json
-- on every insert only cost time; queries read it with body::json.
ALTER TABLE worker_notifications ALTER COLUMN body TYPE text USING body::text;
ALTER TABLE worker_notifications ALTER COLUMN body SET COMPRESSION lz4;
