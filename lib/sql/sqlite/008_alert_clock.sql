-- bb schema, SQLite dialect, version 8: what bb-alert sweep needs to
-- escalate an unanswered CRITICAL at least once (ALERTS.md "The clock"): an
-- escalation decided and not yet confirmed sent keeps its delivery id and
-- counts its attempts apart from the alert's own delivery. Existing alerts
-- keep their rows, with no escalation pending.
ALTER TABLE alert_queues ADD COLUMN escalation_delivery_id TEXT;   -- set while an escalation is to be sent
ALTER TABLE alert_queues ADD COLUMN escalation_attempts INTEGER NOT NULL DEFAULT 0;
