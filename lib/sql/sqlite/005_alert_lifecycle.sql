-- bb schema, SQLite dialect, version 5: what bb-alert needs to deliver,
-- escalate and account for an alert (ALERTS.md). Existing alerts keep their
-- rows: counters start at zero, and an alert already delivered takes its
-- last change as its delivery time.
ALTER TABLE alert_queues ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alert_queues ADD COLUMN next_attempt_at TEXT;      -- backoff after a failed attempt
ALTER TABLE alert_queues ADD COLUMN delivery_id TEXT;          -- chosen before the send, kept until delivered
ALTER TABLE alert_queues ADD COLUMN last_error TEXT;
ALTER TABLE alert_queues ADD COLUMN claimed_by TEXT;           -- the deliverer holding it
ALTER TABLE alert_queues ADD COLUMN claim_until TEXT;          -- its lease: a crashed deliverer's claim ends
ALTER TABLE alert_queues ADD COLUMN delivered_at TEXT;
ALTER TABLE alert_queues ADD COLUMN acked_at TEXT;
ALTER TABLE alert_queues ADD COLUMN acked_by TEXT;
ALTER TABLE alert_queues ADD COLUMN escalation_level INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alert_queues ADD COLUMN escalated_at TEXT;
UPDATE alert_queues SET delivered_at = updated_at WHERE status = 'delivered';
CREATE INDEX alert_queues_due ON alert_queues (status, scheduled_delivery);

-- one row per delivery attempt: what was sent, under which id, and how it went
CREATE TABLE alert_deliveries (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	delivery_id TEXT NOT NULL,
	alert_id    TEXT NOT NULL,
	kind        TEXT NOT NULL,                  -- alert batch escalation
	attempt     INTEGER NOT NULL,
	started_at  TEXT NOT NULL,
	outcome     TEXT,                           -- NULL while sending: ok retry failed
	detail      TEXT
);
CREATE INDEX alert_deliveries_alert ON alert_deliveries (alert_id, id);
