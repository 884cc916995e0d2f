-- bb schema, SQLite dialect, version 4: what a notification costs to store.
--
-- Each b-tree entry whose key arrives in random order dirties a page of its
-- own: the page goes to the WAL at the commit and to the database again at
-- the checkpoint. Until version 3 a notification made about a dozen such
-- writes besides its 7 KB body: one offer_snapshots row per offer (10 on
-- average), and an (asin, marketplace, event_time) index on both
-- worker_notifications and competitive_history.
--
-- Now a notification's offers are six arrays on its competitive_history row,
-- one element per offer in payload order, as JSON text: one row where there
-- were eleven, and an ASIN's offers over time are read with its history,
-- through the one index on (asin, marketplace, event_time). Nothing reads
-- worker_notifications by ASIN: that index goes.
CREATE TABLE competitive_history_v4 (
	id                   TEXT PRIMARY KEY,
	notification_id      TEXT NOT NULL UNIQUE,
	asin                 TEXT NOT NULL,
	marketplace          TEXT NOT NULL,
	event_time           TEXT NOT NULL,
	severity             TEXT NOT NULL,
	priority             INTEGER NOT NULL,
	our_price            INTEGER,
	market_low           INTEGER,
	buy_box_price        INTEGER,
	buy_box_winner       INTEGER NOT NULL,
	position             INTEGER,
	total_offers         INTEGER,
	gap_pct              REAL,
	created_at           TEXT NOT NULL,
	offer_seller_ids     TEXT NOT NULL, -- ["A1...", ...]
	offer_landed         TEXT NOT NULL, -- [1299, ...] minor units
	offer_prime          TEXT NOT NULL, -- [1, 0, null, ...]
	offer_fba            TEXT NOT NULL,
	offer_buy_box_winner TEXT NOT NULL,
	offer_ours           TEXT NOT NULL  -- [0, 1, ...]
);

-- Each notification's offers in ord order: the scan of offer_snapshots' key
-- (notification_id, ord) feeds each group in that order.
INSERT INTO competitive_history_v4 (id, notification_id, asin, marketplace, event_time, severity, priority,
	our_price, market_low, buy_box_price, buy_box_winner, position, total_offers, gap_pct, created_at,
	offer_seller_ids, offer_landed, offer_prime, offer_fba, offer_buy_box_winner, offer_ours)
	SELECT h.id, h.notification_id, h.asin, h.marketplace, h.event_time, h.severity, h.priority,
	       h.our_price, h.market_low, h.buy_box_price, h.buy_box_winner, h.position, h.total_offers,
	       h.gap_pct, h.created_at, COALESCE(o.seller_ids, '[]'), COALESCE(o.landed, '[]'),
	       COALESCE(o.prime, '[]'), COALESCE(o.fba, '[]'), COALESCE(o.winner, '[]'), COALESCE(o.ours, '[]')
	FROM competitive_history AS h LEFT JOIN (
		SELECT notification_id, json_group_array(seller_id) AS seller_ids, json_group_array(landed) AS landed,
		       json_group_array(prime) AS prime, json_group_array(fba) AS fba,
		       json_group_array(buy_box_winner) AS winner, json_group_array(ours) AS ours
		FROM (SELECT * FROM offer_snapshots ORDER BY notification_id, ord)
		GROUP BY notification_id
	) AS o ON o.notification_id = h.notification_id
	ORDER BY h.rowid;
DROP TABLE offer_snapshots;
DROP TABLE competitive_history;
ALTER TABLE competitive_history_v4 RENAME TO competitive_history;
CREATE INDEX competitive_history_asin ON competitive_history (asin, marketplace, event_time);
CREATE INDEX competitive_history_created ON competitive_history (created_at);
DROP INDEX worker_notifications_asin;
