-- bb schema, SQLite dialect, version 6: what bb-trend finds (TREND.md).
-- A finding is stored once: its key is (kind, asin, marketplace, seller_id,
-- leader_id, from_time), with '' for "no seller" and "no leader" so that the
-- key compares equal (NULL never does). `finding` is the JSON object
-- `bb-trend detect` prints, kept as text byte for byte.
CREATE TABLE trend_findings (
	id          TEXT PRIMARY KEY,               -- UUID v7
	kind        TEXT NOT NULL,                  -- creeping_undercut leader_follower price_war buy_box_lost opportunity
	asin        TEXT NOT NULL,
	marketplace TEXT NOT NULL,
	seller_id   TEXT NOT NULL,
	leader_id   TEXT NOT NULL,
	from_time   TEXT NOT NULL,                  -- event time
	to_time     TEXT,                           -- NULL while ongoing
	count       INTEGER NOT NULL,
	finding     TEXT NOT NULL,
	created_at  TEXT NOT NULL,
	updated_at  TEXT NOT NULL,
	UNIQUE (kind, asin, marketplace, seller_id, leader_id, from_time)
);
CREATE INDEX trend_findings_from ON trend_findings (from_time);

-- a week's rollup of a week that was not over when it was made
ALTER TABLE weekly_rollups ADD COLUMN partial INTEGER NOT NULL DEFAULT 0;
CREATE INDEX weekly_rollups_week ON weekly_rollups (iso_week);
