/* history.c: an ASIN's series (history.h), read from competitive_history
 * (schema 4: a notification's offers are arrays on its row). The arrays
 * come with their row as one JSON text, [sellers, landed, ours, winners],
 * read here in one parse: unnesting them in SQL (json_each, unnest) cost
 * ten times as much. */
#include "history.h"
#include "notification.h"
#include "timeutil.h"

#include <stdlib.h>
#include <string.h>

#define LITE_T "event_time"
#define PG_T "floor(extract(epoch FROM event_time) * 1000)::int8"
#define LITE_OFFERS ", '[' || offer_seller_ids || ',' || offer_landed || ',' || offer_ours || ',' || " \
	"offer_buy_box_winner || ']'"
#define PG_OFFERS ", json_build_array(offer_seller_ids, offer_landed, offer_ours, offer_buy_box_winner)::text"
#define NOTE(T, O) "SELECT notification_id, " T ", severity, our_price, market_low, buy_box_price, buy_box_winner, " \
	"position, total_offers" O " FROM competitive_history WHERE asin = $1 AND marketplace = $2 "
#define RANGE_LITE "AND event_time >= $3 AND event_time < $4 ORDER BY event_time, notification_id"
#define RANGE_PG "AND event_time >= $3::timestamptz AND event_time < $4::timestamptz " \
	"ORDER BY event_time, notification_id COLLATE \"C\""

static const char notes_lite[] = NOTE(LITE_T, "") RANGE_LITE;
static const char notes_pg[] = NOTE(PG_T, "") RANGE_PG;
static const char offers_lite[] = NOTE(LITE_T, LITE_OFFERS) RANGE_LITE;
static const char offers_pg[] = NOTE(PG_T, PG_OFFERS) RANGE_PG;
/* the newest before the range: the state carried into it */
static const char carry_lite[] = NOTE(LITE_T, "") "AND event_time < $3 AND event_time >= $4 "
	"ORDER BY event_time DESC, notification_id DESC LIMIT 1";
static const char carry_pg[] = NOTE(PG_T, "") "AND event_time < $3::timestamptz AND event_time >= $4::timestamptz "
	"ORDER BY event_time DESC, notification_id COLLATE \"C\" DESC LIMIT 1";

/* the marketplace of the ASIN's newest notification in [$2, $3) */
static const char newest_lite[] = "SELECT marketplace FROM competitive_history WHERE asin = $1 AND event_time >= $2 "
	"AND event_time < $3 ORDER BY event_time DESC, notification_id DESC LIMIT 1";
static const char newest_pg[] = "SELECT marketplace FROM competitive_history WHERE asin = $1 "
	"AND event_time >= $2::timestamptz AND event_time < $3::timestamptz "
	"ORDER BY event_time DESC, notification_id COLLATE \"C\" DESC LIMIT 1";

static const char places_lite[] = "SELECT h.asin, h.marketplace, c.currency FROM (SELECT DISTINCT asin, "
	"marketplace FROM competitive_history WHERE event_time >= $1 AND event_time < $2 "
	"AND ($3 IS NULL OR asin = $3)) AS h LEFT JOIN current_state AS c ON c.asin = h.asin "
	"AND c.marketplace = h.marketplace ORDER BY h.asin, h.marketplace";
static const char places_pg[] = "SELECT h.asin, h.marketplace, c.currency FROM (SELECT DISTINCT asin, "
	"marketplace FROM competitive_history WHERE event_time >= $1::timestamptz AND event_time < $2::timestamptz "
	"AND ($3::text IS NULL OR asin = $3)) AS h LEFT JOIN current_state AS c ON c.asin = h.asin "
	"AND c.marketplace = h.marketplace ORDER BY h.asin COLLATE \"C\", h.marketplace COLLATE \"C\"";

int bb_history_prune(struct bb_db *db, int64_t before, int64_t *deleted)
{
	char t[40];
	struct bb_str p = bb_history_time_param(before, t, sizeof t);
	int rc = bb_db_query(db, bb_db_is_pg(db) ? "DELETE FROM competitive_history WHERE created_at < $1::timestamptz" :
			     "DELETE FROM competitive_history WHERE created_at < $1", 1, &p, NULL);

	if (rc == BB_DB_OK && deleted)
		*deleted = bb_db_changes(db);
	return rc;
}

struct bb_str bb_history_time_param(int64_t ms, char *buf, size_t size)
{
	bb_time_format(ms, buf, size);
	return (struct bb_str){ buf, strlen(buf) };
}

int64_t bb_history_time(const struct bb_rows *r, int row, int col)
{
	struct bb_str s = bb_db_text(r, row, col);
	int64_t ms;

	if (!s.p)
		return BB_HISTORY_NONE;
	if (s.n > 0 && s.n < 19 && strspn(s.p, "-0123456789") >= s.n) /* PostgreSQL: epoch milliseconds */
		return strtoll(s.p, NULL, 10);
	return bb_time_parse_loose(s.p, s.n, &ms) == 0 ? ms : BB_HISTORY_NONE;
}

static int64_t num(const struct bb_rows *r, int row, int col)
{
	const char *v = bb_db_value(r, row, col);
	return v ? strtoll(v, NULL, 10) : BB_HISTORY_NONE;
}

/* SQLite's 1, PostgreSQL's t */
static int truth(const struct bb_rows *r, int row, int col)
{
	const char *v = bb_db_value(r, row, col);
	return v && (v[0] == '1' || v[0] == 't');
}

int bb_history_places(struct bb_db *db, int64_t from, int64_t to, const char *asin, struct bb_rows **rows)
{
	char f[40], t[40];
	struct bb_str p[3] = { bb_history_time_param(from, f, sizeof f), bb_history_time_param(to, t, sizeof t),
			       { asin, asin ? strlen(asin) : 0 } };
	return bb_db_query(db, bb_db_is_pg(db) ? places_pg : places_lite, 3, p, rows);
}

struct bb_history_place bb_history_place(const struct bb_rows *rows, int i)
{
	return (struct bb_history_place){ bb_db_text(rows, i, 0), bb_db_text(rows, i, 1), bb_db_text(rows, i, 2) };
}

static int add_notes(struct bb_history *s, const struct bb_rows *r)
{
	int n = bb_db_nrows(r);

	if (bb_reserve((void **)&s->notes, &s->ncap, s->n + (size_t)n, sizeof *s->notes) != 0)
		return -1;
	for (int i = 0; i < n; i++)
		s->notes[s->n++] = (struct bb_history_note){
			.nid = bb_db_text(r, i, 0), .t = bb_history_time(r, i, 1), .severity = bb_db_text(r, i, 2),
			.our_price = num(r, i, 3), .market_low = num(r, i, 4), .buy_box_price = num(r, i, 5),
			.winner = truth(r, i, 6), .position = num(r, i, 7), .total_offers = num(r, i, 8),
			.ml_seller = -1, .bb_seller = -1,
		};
	return 0;
}

static int ours_by_id(const struct bb_history *s, struct bb_str id)
{
	for (int i = 0; i < s->nours; i++)
		if (strlen(s->ours[i]) == id.n && memcmp(s->ours[i], id.p, id.n) == 0)
			return 1;
	return 0;
}

/* The seller's index, added when new. */
static int seller_of(struct bb_history *s, struct bb_str id, int stored_ours)
{
	for (size_t i = 0; i < s->nsellers; i++)
		if (s->sellers[i].id.n == id.n && memcmp(s->sellers[i].id.p, id.p, id.n) == 0) {
			if (s->nours == 0 && stored_ours)
				s->sellers[i].ours = 1;
			return (int)i;
		}
	char *copy = malloc(id.n + 1); /* the parser's bytes last until its next document */
	if (!copy || bb_reserve((void **)&s->sellers, &s->scap, s->nsellers + 1, sizeof *s->sellers) != 0) {
		free(copy);
		return -1;
	}
	memcpy(copy, id.p, id.n);
	id.p = copy;
	s->sellers[s->nsellers] = (struct bb_history_seller){ id, s->nours ? ours_by_id(s, id) : stored_ours };
	return (int)s->nsellers++;
}

/* true, or 1 (SQLite keeps booleans as integers) */
static int jtrue(struct bb_jval v)
{
	int b;
	int64_t i;
	return (bb_json_bool(v, &b) == 0 && b) || (bb_json_int64(v, &i) == 0 && i != 0);
}

/* One offer into its notification: the seller's lowest price, the buy box's
 * seller (the first winner), the market low's (the first competitor at it). */
static int add_offer(struct bb_history *s, struct bb_history_note *nt, struct bb_str id, int64_t landed, int ours,
		     int winner)
{
	int k = seller_of(s, id, ours);

	if (k < 0)
		return -1;
	if (winner && nt->bb_seller < 0)
		nt->bb_seller = k;
	if (!s->sellers[k].ours && nt->ml_seller < 0 && landed == nt->market_low)
		nt->ml_seller = k;
	for (size_t j = nt->first; j < nt->first + nt->n; j++)
		if (s->prices[j].seller == k) {
			if (landed < s->prices[j].landed)
				s->prices[j].landed = landed;
			return 0;
		}
	if (bb_reserve((void **)&s->prices, &s->pcap, s->nprices + 1, sizeof *s->prices) != 0)
		return -1;
	s->prices[s->nprices++] = (struct bb_history_price){ k, landed };
	nt->n++;
	return 0;
}

/* A notification's offers from [sellers, landed, ours, winners]; an element
 * that is not of its kind (a row bb did not write) is skipped. */
static int add_offers(struct bb_history *s, struct bb_history_note *nt, struct bb_str arrays)
{
	struct bb_jval root, col[4], v[4];
	struct bb_jerr err;

	nt->first = s->nprices;
	if (!arrays.p || bb_json_parse(s->doc, arrays.p, arrays.n, &root, &err) != 0)
		return 0;
	col[0] = bb_json_first(root);
	for (int i = 1; i < 4; i++)
		col[i] = bb_json_next(col[i - 1]);
	for (int i = 0; i < 4; i++)
		v[i] = bb_json_first(col[i]);
	while (bb_json_type(v[0]) != BB_JNONE) {
		struct bb_str id;
		int64_t landed;
		if (bb_json_string(v[0], &id.p, &id.n) == 0 && bb_json_int64(v[1], &landed) == 0 &&
		    add_offer(s, nt, id, landed, jtrue(v[2]), jtrue(v[3])) != 0)
			return -1;
		for (int i = 0; i < 4; i++)
			v[i] = bb_json_next(v[i]);
	}
	return 0;
}

/* A seller's change: its price differs from the one at its last appearance. */
static int find_changes(struct bb_history *s)
{
	int64_t *last = malloc((s->nsellers + 1) * sizeof *last);

	if (!last)
		return -1;
	for (size_t i = 0; i < s->nsellers; i++)
		last[i] = BB_HISTORY_NONE;
	for (size_t k = 0; k < s->n; k++) {
		const struct bb_history_note *nt = &s->notes[k];
		for (size_t j = nt->first; j < nt->first + nt->n; j++) {
			const struct bb_history_price *p = &s->prices[j];
			if (last[p->seller] != BB_HISTORY_NONE && last[p->seller] != p->landed) {
				if (bb_reserve((void **)&s->changes, &s->ccap, s->nchanges + 1, sizeof *s->changes) != 0) {
					free(last);
					return -1;
				}
				s->changes[s->nchanges++] = (struct bb_history_change){ p->seller, k, nt->t, last[p->seller], p->landed };
			}
			last[p->seller] = p->landed;
		}
	}
	free(last);
	return 0;
}

int bb_history_load(struct bb_history *s, struct bb_db *db, struct bb_history_place p, int64_t from, int64_t to,
		    int64_t carry_ms, int offers)
{
	int pg = bb_db_is_pg(db), rc = BB_DB_OK;
	char f[40], t[40], c[40];
	struct bb_str v[4] = { p.asin, p.mkt, bb_history_time_param(from, f, sizeof f),
			       bb_history_time_param(to, t, sizeof t) };
	size_t first;

	bb_history_reset(s);
	s->p = p;
	if (carry_ms > 0) {
		v[3] = bb_history_time_param(from - carry_ms, c, sizeof c);
		rc = bb_db_query(db, pg ? carry_pg : carry_lite, 4, v, &s->rows[2]);
		if (rc == BB_DB_OK && add_notes(s, s->rows[2]) != 0)
			rc = BB_DB_ERR;
		v[3] = bb_history_time_param(to, t, sizeof t);
	}
	first = s->n;
	if (rc == BB_DB_OK)
		rc = bb_db_query(db, offers ? (pg ? offers_pg : offers_lite) : (pg ? notes_pg : notes_lite), 4, v,
				 &s->rows[0]);
	if (rc == BB_DB_OK && add_notes(s, s->rows[0]) != 0)
		rc = BB_DB_ERR;
	if (rc == BB_DB_OK && offers && !s->doc && !(s->doc = bb_json_new()))
		rc = BB_DB_ERR;
	for (size_t i = first; rc == BB_DB_OK && offers && i < s->n; i++)
		if (add_offers(s, &s->notes[i], bb_db_text(s->rows[0], (int)(i - first), 9)) != 0)
			rc = BB_DB_ERR;
	if (rc == BB_DB_OK && offers && find_changes(s) != 0)
		rc = BB_DB_ERR;
	return rc;
}

/* The row of places in marketplace m, or -1. */
static int place_of(const struct bb_rows *places, struct bb_str m)
{
	for (int i = 0; i < bb_db_nrows(places); i++) {
		struct bb_str x = bb_history_place(places, i).mkt;
		if (x.p && m.p && x.n == m.n && memcmp(x.p, m.p, m.n) == 0)
			return i;
	}
	return -1;
}

/* Of several marketplaces, the one of the newest notification in range. */
static int newest_place(struct bb_db *db, const char *asin, int64_t from, int64_t to, const struct bb_rows *places,
			int *pick)
{
	char f[40], t[40];
	struct bb_str v[3] = { { asin, strlen(asin) }, bb_history_time_param(from, f, sizeof f),
			       bb_history_time_param(to, t, sizeof t) };
	struct bb_rows *rows = NULL;
	int rc = bb_db_query(db, bb_db_is_pg(db) ? newest_pg : newest_lite, 3, v, &rows);

	if (rc == BB_DB_OK && bb_db_nrows(rows) == 1)
		*pick = place_of(places, bb_db_text(rows, 0, 0));
	bb_db_rows_free(rows);
	return rc;
}

int bb_history_open(struct bb_history *h, struct bb_db *db, const char *asin, const char *marketplace, int64_t from,
		    int64_t to)
{
	struct bb_rows *places = NULL;
	int rc = bb_history_places(db, from, to, asin, &places), pick = -1, n = bb_db_nrows(places);

	if (rc == BB_DB_OK && marketplace)
		pick = place_of(places, (struct bb_str){ marketplace, strlen(marketplace) });
	else if (rc == BB_DB_OK && n == 1)
		pick = 0;
	else if (rc == BB_DB_OK && n > 1)
		rc = newest_place(db, asin, from, to, places, &pick);
	bb_history_reset(h);
	h->p = (struct bb_history_place){ { asin, strlen(asin) }, { marketplace, marketplace ? strlen(marketplace) : 0 },
					  { NULL, 0 } };
	if (rc == BB_DB_OK && pick >= 0)
		rc = bb_history_load(h, db, bb_history_place(places, pick), from, to, 0, 1);
	h->rows[1] = places; /* the place's bytes */
	return rc;
}

struct bb_str bb_history_seller_id(const struct bb_history *h, int k)
{
	return k < 0 ? (struct bb_str){ NULL, 0 } : h->sellers[k].id;
}

void bb_history_note_json(struct bb_jw *w, const struct bb_history *h, size_t i)
{
	const struct bb_history_note *nt = &h->notes[i];

	bb_jw_kint_or_null(w, "our_price", nt->our_price, nt->our_price != BB_HISTORY_NONE);
	bb_jw_kint_or_null(w, "market_low", nt->market_low, nt->market_low != BB_HISTORY_NONE);
	bb_jw_kview(w, "market_low_seller", bb_history_seller_id(h, nt->ml_seller));
	bb_jw_kint_or_null(w, "buy_box_price", nt->buy_box_price, nt->buy_box_price != BB_HISTORY_NONE);
	bb_jw_kbool(w, "buy_box_winner", nt->winner);
	bb_jw_kview(w, "buy_box_seller", bb_history_seller_id(h, nt->bb_seller));
	bb_jw_kint_or_null(w, "position", nt->position, nt->position != BB_HISTORY_NONE);
	bb_jw_kint_or_null(w, "total_offers", nt->total_offers, nt->total_offers != BB_HISTORY_NONE);
	bb_jw_kview(w, "severity", nt->severity);
}

void bb_history_destroy(struct bb_history *s)
{
	bb_history_reset(s);
	free(s->notes), free(s->prices), free(s->sellers), free(s->changes);
	bb_json_free(s->doc);
	memset(s, 0, sizeof *s);
}

void bb_history_reset(struct bb_history *s)
{
	for (int i = 0; i < 3; i++) {
		bb_db_rows_free(s->rows[i]);
		s->rows[i] = NULL;
	}
	for (size_t i = 0; i < s->nsellers; i++)
		free((char *)s->sellers[i].id.p);
	s->n = s->nprices = s->nsellers = s->nchanges = 0; /* the arrays are kept for the next ASIN */
}
