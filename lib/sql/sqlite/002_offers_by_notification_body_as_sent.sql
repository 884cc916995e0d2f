-- bb schema, SQLite dialect, version 2: offer_snapshots is read by
-- notification (its key), reached by ASIN through competitive_history's
-- (asin, marketplace, event_time) index. Keyed storage without a rowid and
-- without a second index costs one b-tree insert per offer instead of three.
CREATE TABLE offer_snapshots_v2 (
	notification_id TEXT NOT NULL,
	ord             INTEGER NOT NULL,
	asin            TEXT NOT NULL,
	marketplace     TEXT NOT NULL,
	event_time      TEXT NOT NULL,
	seller_id       TEXT NOT NULL,
	landed          INTEGER NOT NULL,
	prime           INTEGER,
	fba             INTEGER,
	buy_box_winner  INTEGER,
	ours            INTEGER NOT NULL,
	PRIMARY KEY (notification_id, ord)
) WITHOUT ROWID;
INSERT INTO offer_snapshots_v2 (notification_id, ord, asin, marketplace, event_time, seller_id, landed,
	prime, fba, buy_box_winner, ours)
	SELECT notification_id, ord, asin, marketplace, event_time, seller_id, landed, prime, fba,
	       buy_box_winner, ours FROM offer_snapshots;
DROP TABLE offer_snapshots;
ALTER TABLE offer_snapshots_v2 RENAME TO offer_snapshots;
