/* trends.c: GET /api/competitive-intelligence/trends/:asin?marketplace=&since=7d,
 * the series a sparkline draws: an ASIN's notifications in event time,
 * oldest first, as bb-trend history gives them (lib/history.h), the newest
 * SERIES_MAX at most. Without ?marketplace, that of the ASIN's newest
 * notification. Our sellers are [analysis] seller_ids, as bb-trend's. */
#include "serve.h"
#include "conf.h"
#include "exitcode.h"
#include "history.h"
#include "log.h"
#include "parse.h"
#include "timeutil.h"

#include <stdlib.h>
#include <string.h>

#define SERIES_MAX 500
/* Event times come from Amazon's clock: one a little ahead of ours is
 * still shown. */
#define AHEAD_MS (24 * 3600 * 1000)

int trends_configure(struct serve *s, const struct bb_conf *conf)
{
	const char *v = bb_conf_get(conf, "analysis", "seller_ids");

	if (v && (!(s->trends.ours_copy = strdup(v)) ||
		  bb_split_list(s->trends.ours_copy, &s->trends.ours, &s->trends.nours) != 0))
		return bb_fatal(BB_EX_SOFTWARE, "out of memory");
	return 0;
}

void trends_destroy(struct serve *s)
{
	free(s->trends.ours);
	free(s->trends.ours_copy);
}

static void series(struct bb_jw *w, const struct bb_history *h, int64_t since)
{
	bb_jw_obj(w);
	bb_jw_kview(w, "asin", h->p.asin);
	bb_jw_kview(w, "marketplace", h->p.mkt);
	bb_jw_kview(w, "currency", h->p.currency);
	bb_jw_ktime(w, "since", since);
	bb_jw_key(w, "points");
	bb_jw_arr(w);
	for (size_t i = h->n > SERIES_MAX ? h->n - SERIES_MAX : 0; i < h->n; i++) {
		bb_jw_obj(w);
		bb_jw_ktime(w, "t", h->notes[i].t);
		bb_history_note_json(w, h, i);
		bb_jw_end(w, '}');
	}
	bb_jw_end(w, ']');
	bb_jw_end(w, '}');
}

/* ?since=: a duration back from now (7d), or an RFC 3339 time. */
static int since_of(const char *arg, int64_t now, int64_t *since)
{
	int64_t ms;
	if (!arg)
		arg = "7d";
	if (bb_time_parse(arg, strlen(arg), since) == 0)
		return 0;
	if (bb_duration_parse(arg, &ms) != 0 || ms <= 0)
		return -1;
	*since = now - ms;
	return 0;
}

enum MHD_Result route_trends(struct req *r, const char *asin)
{
	struct bb_history h = { .ours = r->s->trends.ours, .nours = r->s->trends.nours };
	int64_t now = serve_now(), since;
	struct serve_db *held;
	struct bb_jw w = { 0 };

	if (since_of(serve_arg(r, "since"), now, &since) != 0)
		return serve_error(r, 400, "since: expected a duration such as 7d, or an RFC 3339 time");
	struct bb_db *db = serve_db_get(r->s, &held);
	int rc = bb_history_open(&h, db, asin, serve_arg(r, "marketplace"), since, now + AHEAD_MS);
	serve_db_put(held, rc);
	if (rc == BB_DB_OK)
		series(&w, &h, since);
	bb_history_destroy(&h);
	return rc == BB_DB_OK ? serve_json(r, 200, &w) : serve_error(r, 503, "database unavailable");
}
