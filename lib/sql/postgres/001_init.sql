-- bb schema, PostgreSQL dialect, version 1. Money is integer minor units.
CREATE TABLE worker_notifications (
	id              UUID PRIMARY KEY,
	message_id      TEXT NOT NULL UNIQUE,
	dedupe_hash     TEXT NOT NULL UNIQUE,
	notification_id TEXT,
	asin            TEXT NOT NULL,
	marketplace     TEXT NOT NULL,
	body            JSONB COMPRESSION lz4 NOT NULL,
	severity        TEXT,
	priority        INTEGER,
	status          TEXT NOT NULL,
	trace_id        TEXT,
	event_time TIMESTAMPTZ NOT NULL,
	received_at TIMESTAMPTZ,
	processed_at TIMESTAMPTZ NOT NULL,
	worker_id       TEXT
);
CREATE INDEX worker_notifications_asin ON worker_notifications (asin, marketplace, event_time);

CREATE TABLE current_state (
	asin              TEXT NOT NULL,
	marketplace       TEXT NOT NULL,
	notification_id   TEXT NOT NULL,
	event_time TIMESTAMPTZ NOT NULL,
	severity          TEXT NOT NULL,
	priority          INTEGER NOT NULL,
	rule              TEXT NOT NULL,
	currency          TEXT,
	our_price         BIGINT,
	market_low        BIGINT,
	market_low_seller TEXT,
	buy_box_price     BIGINT,
	buy_box_winner    BOOLEAN NOT NULL,
	position          INTEGER,
	total_offers      INTEGER,
	gap_pct           NUMERIC(12,2),
	analysis          JSONB COMPRESSION lz4 NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (asin, marketplace)
);
CREATE INDEX current_state_priority ON current_state (priority, asin);

CREATE TABLE competitive_history (
	id              TEXT PRIMARY KEY,
	notification_id TEXT NOT NULL UNIQUE,
	asin            TEXT NOT NULL,
	marketplace     TEXT NOT NULL,
	event_time TIMESTAMPTZ NOT NULL,
	severity        TEXT NOT NULL,
	priority        INTEGER NOT NULL,
	our_price       BIGINT,
	market_low      BIGINT,
	buy_box_price   BIGINT,
	buy_box_winner  BOOLEAN NOT NULL,
	position        INTEGER,
	total_offers    INTEGER,
	gap_pct         NUMERIC(12,2),
	created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX competitive_history_asin ON competitive_history (asin, marketplace, event_time);
CREATE INDEX competitive_history_created ON competitive_history (created_at);

CREATE TABLE offer_snapshots (
	notification_id TEXT NOT NULL,
	ord             INTEGER NOT NULL,
	asin            TEXT NOT NULL,
	marketplace     TEXT NOT NULL,
	event_time TIMESTAMPTZ NOT NULL,
	seller_id       TEXT NOT NULL,
	landed          BIGINT NOT NULL,
	prime           BOOLEAN,
	fba             BOOLEAN,
	buy_box_winner  BOOLEAN,
	ours            BOOLEAN NOT NULL,
	PRIMARY KEY (notification_id, ord)
);
CREATE INDEX offer_snapshots_asin ON offer_snapshots (asin, marketplace, event_time);

CREATE TABLE alert_queues (
	id                 TEXT PRIMARY KEY,
	fingerprint        TEXT NOT NULL,
	queue_type         TEXT NOT NULL,
	asin               TEXT NOT NULL,
	marketplace        TEXT NOT NULL,
	severity           TEXT NOT NULL,
	status             TEXT NOT NULL,           -- queued delivered acknowledged resolved snoozed
	occurrences        INTEGER NOT NULL,
	first_seen TIMESTAMPTZ NOT NULL,           -- event time
	last_seen TIMESTAMPTZ NOT NULL,           -- event time
	scheduled_delivery TIMESTAMPTZ,
	snooze_until TIMESTAMPTZ,
	last_notification_id TEXT,
	updated_at TIMESTAMPTZ NOT NULL,
	UNIQUE (fingerprint, queue_type)
);
CREATE INDEX alert_queues_asin ON alert_queues (asin, marketplace, status);

CREATE TABLE worker_failures (
	id            TEXT PRIMARY KEY,
	message_id    TEXT NOT NULL UNIQUE,
	dedupe_hash   TEXT,
	trace_id      TEXT,
	status        TEXT NOT NULL,
	error_type    TEXT NOT NULL,
	error_message TEXT,
	stage         TEXT,
	path          TEXT,
	raw_message   TEXT NOT NULL,
	failure_count INTEGER NOT NULL,
	first_failed TIMESTAMPTZ NOT NULL,
	last_failed TIMESTAMPTZ NOT NULL
);

CREATE TABLE asin_work_queue (
	id              TEXT PRIMARY KEY,
	asin            TEXT NOT NULL,
	marketplace     TEXT NOT NULL,
	notification_id TEXT NOT NULL,
	status          TEXT NOT NULL,
	claimed_by      TEXT,
	claimed_at TIMESTAMPTZ,
	created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX asin_work_queue_status ON asin_work_queue (status, created_at);

CREATE TABLE events (
	id          BIGSERIAL PRIMARY KEY,
	kind        TEXT NOT NULL,                  -- state, alert
	asin        TEXT NOT NULL,
	marketplace TEXT NOT NULL,
	payload     JSONB NOT NULL,
	created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE worker_heartbeats (
	worker_id      TEXT PRIMARY KEY,
	stage          TEXT NOT NULL,
	host           TEXT NOT NULL,
	pid            INTEGER NOT NULL,
	started_at TIMESTAMPTZ NOT NULL,
	last_heartbeat TIMESTAMPTZ NOT NULL,
	processed      INTEGER NOT NULL,
	failed         INTEGER NOT NULL
);

CREATE TABLE weekly_rollups (
	asin          TEXT NOT NULL,
	marketplace   TEXT NOT NULL,
	iso_week      TEXT NOT NULL,
	notifications INTEGER NOT NULL,
	payload       TEXT NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (asin, marketplace, iso_week)
);
