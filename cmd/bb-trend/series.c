/* series.c: an ASIN's history as TREND.md "Series" defines it, read from
 * competitive_history (schema 4: a notification's offers are arrays on its
 * row, read element by element with json_each on SQLite and unnest on
 * PostgreSQL). One ASIN is in memory at a time. */
#include "trend.h"
#include "timeutil.h"

#include <stdlib.h>
#include <string.h>

#define LITE_T "event_time"
#define PG_T "floor(extract(epoch FROM event_time) * 1000)::int8"
#define NOTE(T) "SELECT notification_id, " T ", severity, our_price, market_low, buy_box_price, buy_box_winner, " \
	"position, total_offers FROM competitive_history WHERE asin = $1 AND marketplace = $2 "

static const char notes_lite[] = NOTE(LITE_T) "AND event_time >= $3 AND event_time < $4 "
	"ORDER BY event_time, notification_id";
static const char notes_pg[] = NOTE(PG_T) "AND event_time >= $3::timestamptz AND event_time < $4::timestamptz "
	"ORDER BY event_time, notification_id COLLATE \"C\"";
/* the newest before the range: the state carried into it */
static const char carry_lite[] = NOTE(LITE_T) "AND event_time < $3 AND event_time >= $4 "
	"ORDER BY event_time DESC, notification_id DESC LIMIT 1";
static const char carry_pg[] = NOTE(PG_T) "AND event_time < $3::timestamptz AND event_time >= $4::timestamptz "
	"ORDER BY event_time DESC, notification_id COLLATE \"C\" DESC LIMIT 1";
/* each offer of each notification, in payload order */
static const char offers_lite[] = "SELECT h.notification_id, s.value, "
	"json_extract(h.offer_landed, '$[' || s.key || ']'), json_extract(h.offer_ours, '$[' || s.key || ']'), "
	"json_extract(h.offer_buy_box_winner, '$[' || s.key || ']') "
	"FROM competitive_history AS h, json_each(h.offer_seller_ids) AS s "
	"WHERE h.asin = $1 AND h.marketplace = $2 AND h.event_time >= $3 AND h.event_time < $4 "
	"ORDER BY h.event_time, h.notification_id, s.key";
static const char offers_pg[] = "SELECT h.notification_id, o.seller, o.landed, o.ours, o.winner "
	"FROM competitive_history AS h, unnest(h.offer_seller_ids, h.offer_landed, h.offer_ours, "
	"h.offer_buy_box_winner) WITH ORDINALITY AS o(seller, landed, ours, winner, ord) "
	"WHERE h.asin = $1 AND h.marketplace = $2 AND h.event_time >= $3::timestamptz "
	"AND h.event_time < $4::timestamptz ORDER BY h.event_time, h.notification_id COLLATE \"C\", o.ord";

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
	if (grow((void **)&s->sellers, &s->scap, s->nsellers + 1, sizeof *s->sellers) != 0)
		return -1;
	s->sellers[s->nsellers] = (struct seller){ id, c->nsellers ? ours_by_conf(c, id) : stored_ours };
	return (int)s->nsellers++;
}

/* One offer into its notification: the seller's lowest price, the buy box's
 * seller (the first winner), the market low's (the first competitor at it). */
static int add_offer(struct series *s, const struct trend_conf *c, struct note *nt, const struct bb_rows *r, int i)
{
	struct bb_str id = bb_db_text(r, i, 1);
	int64_t landed = num(r, i, 2);
	int k = id.p && landed != NONE ? seller_of(s, c, id, truth(r, i, 3)) : -2;

	if (k == -1)
		return -1;
	if (k == -2)
		return 0;
	if (truth(r, i, 4) && nt->bb_seller < 0)
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

static int same(struct bb_str a, struct bb_str b)
{
	return a.n == b.n && a.p && b.p && memcmp(a.p, b.p, a.n) == 0;
}

/* The offers' rows come in the notifications' order: walk both together. */
static int add_offers(struct series *s, const struct trend_conf *c, const struct bb_rows *r, size_t first)
{
	size_t k = first;

	for (int i = 0; i < bb_db_nrows(r); i++) {
		struct bb_str nid = bb_db_text(r, i, 0);
		while (k < s->n && !same(s->notes[k].nid, nid))
			k++;
		if (k == s->n)
			return 0; /* written between the two reads: left for the next run */
		if (s->notes[k].n == 0)
			s->notes[k].first = s->nprices;
		if (add_offer(s, c, &s->notes[k], r, i) != 0)
			return -1;
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
		rc = bb_db_query(a->db, pg ? notes_pg : notes_lite, 4, v, &s->rows[0]);
	if (rc == BB_DB_OK && add_notes(s, s->rows[0]) != 0)
		rc = BB_DB_ERR;
	if (rc == BB_DB_OK && offers)
		rc = bb_db_query(a->db, pg ? offers_pg : offers_lite, 4, v, &s->rows[1]);
	if (rc == BB_DB_OK && offers && (add_offers(s, &a->t, s->rows[1], first) != 0 || find_changes(s) != 0))
		rc = BB_DB_ERR;
	return rc;
}

void series_destroy(struct series *s)
{
	series_reset(s);
	free(s->notes), free(s->prices), free(s->sellers), free(s->changes);
	memset(s, 0, sizeof *s);
}

void series_reset(struct series *s)
{
	for (int i = 0; i < 3; i++) {
		bb_db_rows_free(s->rows[i]);
		s->rows[i] = NULL;
	}
	s->n = s->nprices = s->nsellers = s->nchanges = 0; /* the arrays are kept for the next ASIN */
}
