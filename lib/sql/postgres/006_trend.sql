-- bb schema, PostgreSQL dialect, version 6 (SQLite's version 6 says why).
CREATE TABLE trend_findings (
	id          TEXT PRIMARY KEY,
	kind        TEXT NOT NULL,
	asin        TEXT NOT NULL,
	marketplace TEXT NOT NULL,
	seller_id   TEXT NOT NULL,
	leader_id   TEXT NOT NULL,
	from_time   TIMESTAMPTZ NOT NULL,
	to_time     TIMESTAMPTZ,
	count       INTEGER NOT NULL,
	finding     TEXT NOT NULL,
	created_at  TIMESTAMPTZ NOT NULL,
	updated_at  TIMESTAMPTZ NOT NULL,
	UNIQUE (kind, asin, marketplace, seller_id, leader_id, from_time)
);
CREATE INDEX trend_findings_from ON trend_findings (from_time);

ALTER TABLE weekly_rollups ADD COLUMN partial BOOLEAN NOT NULL DEFAULT false;
CREATE INDEX weekly_rollups_week ON weekly_rollups (iso_week);
