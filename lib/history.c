/* series.c: an ASIN's history as TREND.md "Series" defines it, read from
 * competitive_history (schema 4: a notification's offers are arrays on its
 * row). The arrays come with their row as one JSON text, [sellers, landed,
 * ours, winners], read here in one parse: unnesting them in SQL (json_each,
 * unnest) cost ten times as much. One ASIN is in memory at a time. */
#include "trend.h"
#include "json.h"
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

static const char places_lite[] = "SELECT h.asin, h.marketplace, c.currency FROM (SELECT DISTINCT asin, "
	"marketplace FROM competitive_history WHERE event_time >= $1 AND event_time < $2 "
	"AND ($3 IS NULL OR asin = $3)) AS h LEFT JOIN current_state AS c ON c.asin = h.asin "
	"AND c.marketplace = h.marketplace ORDER BY h.asin, h.marketplace";
static const char places_pg[] = "SELECT h.asin, h.marketplace, c.currency FROM (SELECT DISTINCT asin, "
	"marketplace FROM competitive_history WHERE event_time >= $1::timestamptz AND event_time < $2::timestamptz "
	"AND ($3::text IS NULL OR asin = $3)) AS h LEFT JOIN current_state AS c ON c.asin = h.asin "
	"AND c.marketplace = h.marketplace ORDER BY h.asin COLLATE \"C\", h.marketplace COLLATE \"C\"";

struct bb_str series_time_param(int64_t ms, char *buf, size_t size)
{
	bb_time_format(ms, buf, size);
	return (struct bb_str){ buf, strlen(buf) };
}

int64_t series_time(const struct bb_rows *r, int row, int col)
{
	struct bb_str s = bb_db_text(r, row, col);
	int64_t ms;

	if (!s.p)
		return NONE;
	if (s.n > 0 && s.n < 19 && strspn(s.p, "-0123456789") >= s.n) /* PostgreSQL: epoch milliseconds */
		return strtoll(s.p, NULL, 10);
	return bb_time_parse_loose(s.p, s.n, &ms) == 0 ? ms : NONE;
}

static int64_t num(const struct bb_rows *r, int row, int col)
{
	const char *v = bb_db_value(r, row, col);
	return v ? strtoll(v, NULL, 10) : NONE;
}

/* SQLite's 1, PostgreSQL's t */
static int truth(const struct bb_rows *r, int row, int col)
{
	const char *v = bb_db_value(r, row, col);
	return v && (v[0] == '1' || v[0] == 't');
}

int series_places(struct app *a, int64_t from, int64_t to, const char *asin, struct bb_rows **rows)
{
	char f[40], t[40];
	struct bb_str p[3] = { series_time_param(from, f, sizeof f), series_time_param(to, t, sizeof t),
			       { asin, asin ? strlen(asin) : 0 } };
	return bb_db_query(a->db, bb_db_is_pg(a->db) ? places_pg : places_lite, 3, p, rows);
}

struct place series_place(const struct bb_rows *rows, int i)
{
	return (struct place){ bb_db_text(rows, i, 0), bb_db_text(rows, i, 1), bb_db_text(rows, i, 2) };
}

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return 0;
	size_t c = *cap ? *cap : 64;
	while (c < need)
		c *= 2;
	void *q = realloc(*p, c * size);
	if (!q)
		return -1;
	*p = q, *cap = c;
	return 0;
}

static int add_notes(struct series *s, const struct bb_rows *r)
{
	int n = bb_db_nrows(r);

	if (grow((void **)&s->notes, &s->ncap, s->n + (size_t)n, sizeof *s->notes) != 0)
		return -1;
	for (int i = 0; i < n; i++)
		s->notes[s->n++] = (struct note){
			.nid = bb_db_text(r, i, 0), .t = series_time(r, i, 1), .severity = bb_db_text(r, i, 2),
			.our_price = num(r, i, 3), .market_low = num(r, i, 4), .buy_box_price = num(r, i, 5),
			.winner = truth(r, i, 6), .position = num(r, i, 7), .total_offers = num(r, i, 8),
			.ml_seller = -1, .bb_seller = -1,
		};
	return 0;
}

static int ours_by_conf(const struct trend_conf *c, struct bb_str id)
{
	for (int i = 0; i < c->nsellers; i++)
		if (strlen(c->sellers[i]) == id.n && memcmp(c->sellers[i], id.p, id.n) == 0)
			return 1;
	return 0;
}

/* The seller's index, added when new. */
static int seller_of(struct series *s, const struct trend_conf *c, struct bb_str id, int stored_ours)
{
	for (size_t i = 0; i < s->nsellers; i++)
		if (s->sellers[i].id.n == id.n && memcmp(s->sellers[i].id.p, id.p, id.n) == 0) {
			if (c->nsellers == 0 && stored_ours)
				s->sellers[i].ours = 1;
			return (int)i;
		}
	char *copy = malloc(id.n + 1); /* the parser's bytes last until its next document */
	if (!copy || grow((void **)&s->sellers, &s->scap, s->nsellers + 1, sizeof *s->sellers) != 0) {
		free(copy);
		return -1;
	}
	memcpy(copy, id.p, id.n);
	id.p = copy;
	s->sellers[s->nsellers] = (struct seller){ id, c->nsellers ? ours_by_conf(c, id) : stored_ours };
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
static int add_offer(struct series *s, const struct trend_conf *c, struct note *nt, struct bb_str id, int64_t landed,
		     int ours, int winner)
{
	int k = seller_of(s, c, id, ours);

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
	if (grow((void **)&s->prices, &s->pcap, s->nprices + 1, sizeof *s->prices) != 0)
		return -1;
	s->prices[s->nprices++] = (struct sprice){ k, landed };
	nt->n++;
	return 0;
}

/* A notification's offers from [sellers, landed, ours, winners]; an element
 * that is not of its kind (a row bb did not write) is skipped. */
static int add_offers(struct series *s, const struct trend_conf *c, struct note *nt, struct bb_str arrays)
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
		    add_offer(s, c, nt, id, landed, jtrue(v[2]), jtrue(v[3])) != 0)
			return -1;
		for (int i = 0; i < 4; i++)
			v[i] = bb_json_next(v[i]);
	}
	return 0;
}

/* A seller's change: its price differs from the one at its last appearance. */
static int find_changes(struct series *s)
{
	int64_t *last = malloc((s->nsellers + 1) * sizeof *last);

	if (!last)
		return -1;
	for (size_t i = 0; i < s->nsellers; i++)
		last[i] = NONE;
	for (size_t k = 0; k < s->n; k++) {
		const struct note *nt = &s->notes[k];
		for (size_t j = nt->first; j < nt->first + nt->n; j++) {
			const struct sprice *p = &s->prices[j];
			if (last[p->seller] != NONE && last[p->seller] != p->landed) {
				if (grow((void **)&s->changes, &s->ccap, s->nchanges + 1, sizeof *s->changes) != 0) {
					free(last);
					return -1;
				}
				s->changes[s->nchanges++] = (struct change){ p->seller, k, nt->t, last[p->seller], p->landed };
			}
			last[p->seller] = p->landed;
		}
	}
	free(last);
	return 0;
}

int series_load(struct app *a, struct place p, int64_t from, int64_t to, int64_t carry_ms, int offers,
		struct series *s)
{
	int pg = bb_db_is_pg(a->db), rc = BB_DB_OK;
	char f[40], t[40], c[40];
	struct bb_str v[4] = { p.asin, p.mkt, series_time_param(from, f, sizeof f), series_time_param(to, t, sizeof t) };
	size_t first;

	series_reset(s);
	s->p = p;
	if (carry_ms > 0) {
		v[3] = series_time_param(from - carry_ms, c, sizeof c);
		rc = bb_db_query(a->db, pg ? carry_pg : carry_lite, 4, v, &s->rows[2]);
		if (rc == BB_DB_OK && add_notes(s, s->rows[2]) != 0)
			rc = BB_DB_ERR;
		v[3] = series_time_param(to, t, sizeof t);
	}
	first = s->n;
	if (rc == BB_DB_OK)
		rc = bb_db_query(a->db, offers ? (pg ? offers_pg : offers_lite) : (pg ? notes_pg : notes_lite), 4, v,
				 &s->rows[0]);
	if (rc == BB_DB_OK && add_notes(s, s->rows[0]) != 0)
		rc = BB_DB_ERR;
	if (rc == BB_DB_OK && offers && !s->doc && !(s->doc = bb_json_new()))
		rc = BB_DB_ERR;
	for (size_t i = first; rc == BB_DB_OK && offers && i < s->n; i++)
		if (add_offers(s, &a->t, &s->notes[i], bb_db_text(s->rows[0], (int)(i - first), 9)) != 0)
			rc = BB_DB_ERR;
	if (rc == BB_DB_OK && offers && find_changes(s) != 0)
		rc = BB_DB_ERR;
	return rc;
}

void series_destroy(struct series *s)
{
	series_reset(s);
	free(s->notes), free(s->prices), free(s->sellers), free(s->changes);
	bb_json_free(s->doc);
	memset(s, 0, sizeof *s);
}

void series_reset(struct series *s)
{
	for (int i = 0; i < 3; i++) {
		bb_db_rows_free(s->rows[i]);
		s->rows[i] = NULL;
	}
	for (size_t i = 0; i < s->nsellers; i++)
		free((char *)s->sellers[i].id.p);
	s->n = s->nprices = s->nsellers = s->nchanges = 0; /* the arrays are kept for the next ASIN */
}
