/* history.h: an ASIN's series as TREND.md "Series" defines it, read from
 * competitive_history: its notifications in event time, each with our
 * price, the market low and its seller, the buy box's price and seller,
 * the position, the offers' count and the severity; each seller's price in
 * each notification; and each seller's changes. bb-trend reads its
 * history, patterns and rollups here, and bb-serve its trends route.
 * Money is in minor units, times in milliseconds of event time,
 * BB_HISTORY_NONE an unknown number. One ASIN is in memory at a time. */
#ifndef BB_HISTORY_H
#define BB_HISTORY_H

#include "db.h"
#include "json.h"
#include "jwrite.h"
#include "str.h"

#include <stddef.h>
#include <stdint.h>

#define BB_HISTORY_NONE INT64_MIN

/* Views into the rows they were read from. */
struct bb_history_place {
	struct bb_str asin, mkt, currency;
};

/* One notification. */
struct bb_history_note {
	int64_t t;
	struct bb_str nid, severity;
	int64_t our_price, market_low, buy_box_price, position, total_offers;
	int winner;               /* we hold the buy box */
	int ml_seller, bb_seller; /* the market low's and the buy box's seller, or -1 */
	size_t first, n;          /* its sellers' prices: h->prices[first .. first + n) */
};

struct bb_history_price {
	int seller;
	int64_t landed; /* the seller's lowest landed price in the notification */
};

/* A seller's price differs from its price at its previous appearance. */
struct bb_history_change {
	int seller;
	size_t note;
	int64_t t, from, to;
};

struct bb_history_seller {
	struct bb_str id; /* a copy of its own */
	int ours;
};

struct bb_history {
	/* set before loading: our seller ids; none: each offer's stored "ours" */
	const char *const *ours;
	int nours;
	struct bb_history_place p;
	struct bb_history_note *notes;
	size_t n, ncap;
	struct bb_history_price *prices;
	size_t nprices, pcap;
	struct bb_history_seller *sellers;
	size_t nsellers, scap;
	struct bb_history_change *changes; /* in time order */
	size_t nchanges, ccap;
	struct bb_rows *rows[3];
	struct bb_jdoc *doc; /* reads each notification's offers */
};

/* The places (asin, marketplace, currency) with history in [from, to),
 * sorted by bytes; asin non-NULL: that ASIN's only. */
int bb_history_places(struct bb_db *db, int64_t from, int64_t to, const char *asin, struct bb_rows **rows);
struct bb_history_place bb_history_place(const struct bb_rows *rows, int i);

/* Load p's notifications in [from, to), with the newest one before `from`
 * (within carry_ms; 0: none) first, and with the sellers' prices and
 * changes when offers is set. 0, or a BB_DB_* error. */
int bb_history_load(struct bb_history *h, struct bb_db *db, struct bb_history_place p, int64_t from, int64_t to,
		    int64_t carry_ms, int offers);

/* asin's series in [from, to) with its offers, in marketplace, or (NULL)
 * in the marketplace of its newest notification in the range. Without
 * history there, h->n is 0 and h->p names asin and marketplace as given
 * (they must outlive h's use), its currency null. 0, or a BB_DB_* error. */
int bb_history_open(struct bb_history *h, struct bb_db *db, const char *asin, const char *marketplace,
		    int64_t from, int64_t to);

void bb_history_reset(struct bb_history *h); /* empty again, the arrays kept */
void bb_history_destroy(struct bb_history *h);

/* A seller's id, or a NULL view for -1. */
struct bb_str bb_history_seller_id(const struct bb_history *h, int k);

/* Notification i's members from our_price to severity, as bb-trend
 * history's NDJSON and bb-serve's trends give them: our_price, market_low,
 * market_low_seller, buy_box_price, buy_box_winner, buy_box_seller,
 * position, total_offers, severity. */
void bb_history_note_json(struct bb_jw *w, const struct bb_history *h, size_t i);

/* Retention, for bb-store --keep and bb-trend prune alike: delete the
 * history (each row with its offers) stored before `before` (created_at,
 * ms): a notification is kept so long after it arrived, whatever its event
 * time, so a replay of old events is not deleted as soon as it is stored,
 * and the delete goes through the created_at index. *deleted (when not
 * NULL) gets the rows deleted. 0, or a BB_DB_* error. */
int bb_history_prune(struct bb_db *db, int64_t before, int64_t *deleted);

/* The time of a database's time column as the statements here give it. */
int64_t bb_history_time(const struct bb_rows *r, int row, int col);
/* Bind a time for a statement: RFC 3339 into buf. */
struct bb_str bb_history_time_param(int64_t ms, char *buf, size_t size);

#endif
