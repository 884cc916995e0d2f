/* trends.c: GET /api/competitive-intelligence/trends/:asin?marketplace=&since=7d,
 * the series a sparkline draws: our price and the market low at each event
 * time, oldest first. bb-trend's history owns this data; until bb-serve
 * reads it through that module, this file is the one place that queries
 * competitive_history for it (the columns it reads are the same in every
 * schema version). Without ?marketplace, the ASIN's latest one. */
#include "serve.h"
#include "parse.h"
#include "timeutil.h"

#include <stdlib.h>
#include <string.h>

#define MARKETPLACE "COALESCE($2, (SELECT marketplace FROM competitive_history WHERE asin = $1 " \
	"ORDER BY event_time DESC LIMIT 1))"
/* the newest 500 points at most */
static const char trend_lite[] =
	"SELECT h.event_time, h.our_price, h.market_low, h.severity, h.marketplace, s.currency "
	"FROM competitive_history AS h LEFT JOIN current_state AS s ON s.asin = h.asin AND s.marketplace = h.marketplace "
	"WHERE h.asin = $1 AND h.marketplace = " MARKETPLACE " AND h.event_time >= $3 "
	"ORDER BY h.event_time DESC LIMIT 500";
static const char trend_pg[] =
	"SELECT h.event_time, h.our_price, h.market_low, h.severity, h.marketplace, s.currency "
	"FROM competitive_history AS h LEFT JOIN current_state AS s ON s.asin = h.asin AND s.marketplace = h.marketplace "
	"WHERE h.asin = $1::text AND h.marketplace = COALESCE($2::text, (SELECT marketplace FROM competitive_history "
	"WHERE asin = $1::text ORDER BY event_time DESC LIMIT 1)) AND h.event_time >= $3::timestamptz "
	"ORDER BY h.event_time DESC LIMIT 500";

static void amount(struct bb_jw *w, const char *key, struct bb_rows *rows, int i, int col)
{
	const char *v = bb_db_value(rows, i, col);
	int64_t n;
	bb_jw_kint_or_null(w, key, v && bb_parse_i64(v, INT64_MIN, INT64_MAX, &n) == 0 ? n : 0,
			   v && bb_parse_i64(v, INT64_MIN, INT64_MAX, &n) == 0);
}

static void series(struct bb_jw *w, struct bb_rows *rows, const char *asin, int64_t since)
{
	int n = bb_db_nrows(rows);

	bb_jw_obj(w);
	bb_jw_kstrz(w, "asin", asin);
	bb_jw_kview(w, "marketplace", n ? bb_db_text(rows, 0, 4) : (struct bb_str){ 0 });
	bb_jw_kview(w, "currency", n ? bb_db_text(rows, 0, 5) : (struct bb_str){ 0 });
	bb_jw_ktime(w, "since", since);
	bb_jw_key(w, "points");
	bb_jw_arr(w);
	for (int i = n - 1; i >= 0; i--) {
		struct bb_str t = bb_db_text(rows, i, 0);
		int64_t ms;
		bb_jw_obj(w);
		bb_jw_ktime(w, "t", t.p && bb_time_parse_loose(t.p, t.n, &ms) == 0 ? ms : -1);
		amount(w, "our_price", rows, i, 1);
		amount(w, "market_low", rows, i, 2);
		bb_jw_kview(w, "severity", bb_db_text(rows, i, 3));
		bb_jw_end(w, '}');
	}
	bb_jw_end(w, ']');
	bb_jw_end(w, '}');
}

/* ?since=: a duration back from now (7d), or an RFC 3339 time. */
static int since_of(const char *arg, int64_t *since)
{
	int64_t ms;
	if (!arg)
		arg = "7d";
	if (bb_time_parse(arg, strlen(arg), since) == 0)
		return 0;
	if (bb_duration_parse(arg, &ms) != 0 || ms <= 0)
		return -1;
	*since = serve_now() - ms;
	return 0;
}

enum MHD_Result route_trends(struct req *r, const char *asin)
{
	const char *mkt = serve_arg(r, "marketplace");
	char since_s[32];
	int64_t since;
	struct bb_rows *rows = NULL;
	struct serve_db *held;

	if (since_of(serve_arg(r, "since"), &since) != 0)
		return serve_error(r, 400, "since: expected a duration such as 7d, or an RFC 3339 time");
	bb_time_format(since, since_s, sizeof since_s);
	struct bb_str p[3] = { { asin, strlen(asin) }, { mkt, mkt ? strlen(mkt) : 0 }, { since_s, strlen(since_s) } };
	struct bb_db *db = serve_db_get(r->s, &held);
	int rc = bb_db_query(db, bb_db_is_pg(db) ? trend_pg : trend_lite, 3, p, &rows);
	serve_db_put(held, rc);
	if (rc != BB_DB_OK)
		return serve_error(r, 503, "database unavailable");
	struct bb_jw w = { 0 };
	series(&w, rows, asin, since);
	bb_db_rows_free(rows);
	return serve_json(r, 200, &w);
}
