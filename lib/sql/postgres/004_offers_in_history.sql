-- bb schema, PostgreSQL dialect, version 4 (SQLite's version 4 says why).
-- A notification's offers become six arrays on its competitive_history row,
-- one element per offer in payload order, instead of a row of offer_snapshots
-- per offer; nothing reads worker_notifications by ASIN, so its index goes.
ALTER TABLE competitive_history
	ADD COLUMN offer_seller_ids text[] NOT NULL DEFAULT '{}',
	ADD COLUMN offer_landed bigint[] NOT NULL DEFAULT '{}',
	ADD COLUMN offer_prime boolean[] NOT NULL DEFAULT '{}',
	ADD COLUMN offer_fba boolean[] NOT NULL DEFAULT '{}',
	ADD COLUMN offer_buy_box_winner boolean[] NOT NULL DEFAULT '{}',
	ADD COLUMN offer_ours boolean[] NOT NULL DEFAULT '{}';
UPDATE competitive_history AS h SET offer_seller_ids = o.seller_ids, offer_landed = o.landed,
	offer_prime = o.prime, offer_fba = o.fba, offer_buy_box_winner = o.winner, offer_ours = o.ours
	FROM (SELECT notification_id, array_agg(seller_id ORDER BY ord) AS seller_ids,
	             array_agg(landed ORDER BY ord) AS landed, array_agg(prime ORDER BY ord) AS prime,
	             array_agg(fba ORDER BY ord) AS fba, array_agg(buy_box_winner ORDER BY ord) AS winner,
	             array_agg(ours ORDER BY ord) AS ours
	      FROM offer_snapshots GROUP BY notification_id) AS o
	WHERE o.notification_id = h.notification_id;
ALTER TABLE competitive_history
	ALTER COLUMN offer_seller_ids DROP DEFAULT,
	ALTER COLUMN offer_landed DROP DEFAULT,
	ALTER COLUMN offer_prime DROP DEFAULT,
	ALTER COLUMN offer_fba DROP DEFAULT,
	ALTER COLUMN offer_buy_box_winner DROP DEFAULT,
	ALTER COLUMN offer_ours DROP DEFAULT;
DROP TABLE offer_snapshots;
DROP INDEX worker_notifications_asin;
