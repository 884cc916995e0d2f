/* rollup.c: one weekly_rollups row per (asin, marketplace) per ISO week
 * (TREND.md "Weekly rollup"): each notification's state holds until the
 * next one, the end of the week or now; the state at the week's start is
 * the newest notification before it within 30 days. Shares and averages are
 * weighted by time, in integers. Re-running a week replaces its rows. */
#include "trend.h"
#include "alert.h"
#include "exitcode.h"
#include "log.h"
#include "timeutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CARRY_MS (30 * DAY_MS)

/* ---- ISO weeks ---- */

static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

/* The Monday of ISO week 1 of year y: the week holding 4 January. */
static int64_t week1(int64_t y)
{
	int64_t jan4 = days_from_civil(y, 1, 4);
	int64_t wd = ((jan4 % 7) + 7 + 3) % 7; /* 0 = Monday; 1970-01-01 was a Thursday */
	return (jan4 - wd) * DAY_MS;
}

int64_t week_of(int64_t ms)
{
	int64_t days = ms >= 0 ? ms / DAY_MS : (ms - DAY_MS + 1) / DAY_MS;
	return (days - ((days % 7) + 7 + 3) % 7) * DAY_MS;
}

int week_parse(const char *s, int64_t *start)
{
	int y, w, n = 0;
	if (strlen(s) != 8 || sscanf(s, "%4d-W%2d%n", &y, &w, &n) != 2 || n != 8 || y < 1970 || w < 1 || w > 53)
		return -1;
	*start = week1(y) + (w - 1) * WEEK_MS;
	return w == 53 && *start >= week1(y + 1) ? -1 : 0; /* a year has a week 53 only when it has one */
}

void week_name(int64_t start, char *buf, size_t size)
{
	char day[40];
	int y;
	bb_time_format(start + 3 * DAY_MS, day, sizeof day); /* the Thursday names the year */
	y = atoi(day);
	snprintf(buf, size, "%04d-W%02d", y, (int)((start - week1(y)) / WEEK_MS + 1));
}

/* ---- one place's week ---- */

struct acc {
	__int128 sum;
	int64_t ms, min, max;
};

static void acc_add(struct acc *a, int64_t v, int64_t ms)
{
	if (v == NONE || ms <= 0)
		return;
	a->sum += (__int128)v * ms;
	a->ms += ms;
	a->min = a->min == NONE || v < a->min ? v : a->min;
	a->max = a->max == NONE || v > a->max ? v : a->max;
}

static int64_t acc_avg(const struct acc *a, int64_t scale)
{
	if (a->ms == 0)
		return NONE;
	__int128 n = a->sum * scale, h = a->ms / 2;
	return (int64_t)(n >= 0 ? (n + h) / a->ms : (n - h) / a->ms);
}

struct day {
	struct acc low, ours;
	int64_t known, winner;
};

struct week {
	int64_t start, end, known_end; /* known time ends at the week's end or now */
	int64_t notifications, known, winner, sev[BB_SEVERITIES];
	struct acc low, ours, offers;
	struct day days[7];
};

/* What the state of notification i holds over [from, to). */
static void hold(struct week *w, const struct bb_history_note *nt, int64_t from, int64_t to)
{
	int sev = bb_severity_of(nt->severity.p, nt->severity.n);

	w->known += to - from;
	w->winner += nt->winner ? to - from : 0;
	if (sev >= 0)
		w->sev[sev] += to - from;
	acc_add(&w->low, nt->market_low, to - from);
	acc_add(&w->ours, nt->our_price, to - from);
	acc_add(&w->offers, nt->total_offers, to - from);
	for (int d = 0; d < 7; d++) { /* and day by day */
		int64_t ds = w->start + d * DAY_MS, a = from > ds ? from : ds, b = to < ds + DAY_MS ? to : ds + DAY_MS;
		if (b <= a)
			continue;
		w->days[d].known += b - a;
		w->days[d].winner += nt->winner ? b - a : 0;
		acc_add(&w->days[d].low, nt->market_low, b - a);
		acc_add(&w->days[d].ours, nt->our_price, b - a);
	}
}

static void sum_week(struct week *w, const struct bb_history *s)
{
	for (size_t i = 0; i < s->n; i++) {
		int64_t from = s->notes[i].t > w->start ? s->notes[i].t : w->start;
		int64_t to = i + 1 < s->n && s->notes[i + 1].t < w->known_end ? s->notes[i + 1].t : w->known_end;
		w->notifications += s->notes[i].t >= w->start;
		if (to > from)
			hold(w, &s->notes[i], from, to);
	}
}

static void kmoney(struct bb_jw *j, const char *key, int64_t v)
{
	bb_jw_kint_or_null(j, key, v, v != NONE);
}

static void kshare(struct bb_jw *j, const char *key, int64_t part, int64_t whole)
{
	jw_pct(j, key, whole > 0 ? percent_bp(part, whole) : NONE);
}

static void write_days(struct bb_jw *j, const struct week *w)
{
	char day[40];
	bb_jw_key(j, "daily");
	bb_jw_arr(j);
	for (int d = 0; d < 7; d++) {
		bb_time_format(w->start + d * DAY_MS, day, sizeof day);
		bb_jw_obj(j);
		bb_jw_kstr(j, "day", day, 10);
		kmoney(j, "market_low_avg", acc_avg(&w->days[d].low, 1));
		kmoney(j, "our_price_avg", acc_avg(&w->days[d].ours, 1));
		kshare(j, "buy_box_share_pct", w->days[d].winner, w->days[d].known);
		bb_jw_end(j, '}');
	}
	bb_jw_end(j, ']');
}

/* The week's counts of one place in rows (asin, marketplace, [kind,] count). */
static int64_t counted(const struct bb_rows *r, struct bb_history_place p, int kind_col, const char *kind)
{
	int64_t n = 0;
	for (int i = 0; i < bb_db_nrows(r); i++) {
		struct bb_str a = bb_db_text(r, i, 0), m = bb_db_text(r, i, 1);
		const char *k = kind_col ? bb_db_value(r, i, 2) : NULL;
		if (a.n == p.asin.n && m.n == p.mkt.n && memcmp(a.p, p.asin.p, a.n) == 0 &&
		    memcmp(m.p, p.mkt.p, m.n) == 0 && (!kind_col || (k && strcmp(k, kind) == 0)))
			n += strtoll(bb_db_value(r, i, kind_col ? 3 : 2), NULL, 10);
	}
	return n;
}

static void payload(struct bb_jw *j, const struct week *w, struct bb_history_place p, const char *name, int partial,
		    struct bb_rows *const *counts)
{
	bb_jw_obj(j);
	bb_jw_kview(j, "asin", p.asin);
	bb_jw_kview(j, "marketplace", p.mkt);
	bb_jw_kstrz(j, "week", name);
	bb_jw_kbool(j, "partial", partial);
	bb_jw_kview(j, "currency", p.currency);
	bb_jw_kint(j, "notifications", w->notifications);
	bb_jw_kint(j, "known_ms", w->known);
	bb_jw_kint(j, "winner_ms", w->winner);
	kmoney(j, "market_low_min", w->low.min);
	kmoney(j, "market_low_max", w->low.max);
	kmoney(j, "market_low_avg", acc_avg(&w->low, 1));
	kmoney(j, "our_price_min", w->ours.min);
	kmoney(j, "our_price_max", w->ours.max);
	kmoney(j, "our_price_avg", acc_avg(&w->ours, 1));
	kshare(j, "buy_box_share_pct", w->winner, w->known);
	jw_pct(j, "offers_avg", acc_avg(&w->offers, 100));
	bb_jw_key(j, "severity_share");
	bb_jw_obj(j);
	for (int s = 0; s < BB_SEVERITIES; s++)
		kshare(j, bb_severity_name((enum bb_severity)s), w->sev[s], w->known);
	bb_jw_end(j, '}');
	bb_jw_kint(j, "critical_ms", w->sev[BB_SEV_CRITICAL]);
	bb_jw_kint(j, "alerts_raised", counted(counts[0], p, 0, NULL));
	bb_jw_key(j, "findings");
	bb_jw_obj(j);
	for (int k = 0; k < K_KINDS; k++)
		bb_jw_kint(j, kind_names[k], counted(counts[1], p, 1, kind_names[k]));
	bb_jw_end(j, '}');
	write_days(j, w);
	bb_jw_end(j, '}');
}

/* ---- the week ---- */

#define ALERTS_LITE "SELECT asin, marketplace, count(*) FROM alert_queues WHERE first_seen >= $1 " \
	"AND first_seen < $2 GROUP BY asin, marketplace"
#define ALERTS_PG "SELECT asin, marketplace, count(*) FROM alert_queues WHERE first_seen >= $1::timestamptz " \
	"AND first_seen < $2::timestamptz GROUP BY asin, marketplace"
#define FINDINGS_LITE "SELECT asin, marketplace, kind, count(*) FROM trend_findings WHERE from_time >= $1 " \
	"AND from_time < $2 GROUP BY asin, marketplace, kind"
#define FINDINGS_PG "SELECT asin, marketplace, kind, count(*) FROM trend_findings " \
	"WHERE from_time >= $1::timestamptz AND from_time < $2::timestamptz GROUP BY asin, marketplace, kind"
#define INSERT_LITE "INSERT INTO weekly_rollups (asin, marketplace, iso_week, notifications, payload, created_at, " \
	"partial) VALUES ($1, $2, $3, $4, $5, $6, $7)"
#define INSERT_PG "INSERT INTO weekly_rollups (asin, marketplace, iso_week, notifications, payload, created_at, " \
	"partial) VALUES ($1, $2, $3, $4::int, $5, $6::timestamptz, $7::int::boolean)"

struct run {
	struct app *a;
	int64_t start, end;
	char name[16], now[40];
	int partial;
	struct bb_rows *counts[2];
	size_t rows;
};

static int one_place(struct run *r, struct bb_history_place p, struct bb_history *s, struct bb_jw *j)
{
	struct week w = { .start = r->start, .end = r->start + WEEK_MS, .low = { 0, 0, NONE, NONE },
			  .ours = { 0, 0, NONE, NONE }, .offers = { 0, 0, NONE, NONE } };
	char n[24];
	int pg = bb_db_is_pg(r->a->db);

	w.known_end = r->partial ? r->a->now : w.end;
	for (int d = 0; d < 7; d++)
		w.days[d] = (struct day){ { 0, 0, NONE, NONE }, { 0, 0, NONE, NONE }, 0, 0 };
	int rc = series_load(r->a, p, r->start, w.known_end + (r->partial ? 1 : 0), CARRY_MS, 0, s);
	if (rc != BB_DB_OK || s->n == 0)
		return rc;
	sum_week(&w, s);
	bb_jw_reset(j);
	payload(j, &w, p, r->name, r->partial, r->counts);
	if (j->oom)
		return BB_DB_ERR;
	snprintf(n, sizeof n, "%lld", (long long)w.notifications);
	struct bb_str v[7] = { p.asin, p.mkt, { r->name, strlen(r->name) }, { n, strlen(n) }, { j->buf, j->len },
			       { r->now, strlen(r->now) }, r->partial ? BB_LIT("1") : BB_LIT("0") };
	r->rows++;
	return bb_db_query(r->a->db, pg ? INSERT_PG : INSERT_LITE, 7, v, NULL);
}

static int week_rows(struct run *r)
{
	int pg = bb_db_is_pg(r->a->db);
	char f[40], t[40];
	struct bb_str range[2] = { bb_history_time_param(r->start, f, sizeof f), bb_history_time_param(r->end, t, sizeof t) };
	struct bb_str week = { r->name, strlen(r->name) };
	struct bb_rows *places = NULL;
	struct bb_history s = { 0 };
	struct bb_jw j;
	int rc = bb_db_begin(r->a->db);

	bb_jw_init(&j);
	if (rc == BB_DB_OK)
		rc = bb_db_query(r->a->db, pg ? ALERTS_PG : ALERTS_LITE, 2, range, &r->counts[0]);
	if (rc == BB_DB_OK)
		rc = bb_db_query(r->a->db, pg ? FINDINGS_PG : FINDINGS_LITE, 2, range, &r->counts[1]);
	if (rc == BB_DB_OK)
		rc = bb_db_query(r->a->db, "DELETE FROM weekly_rollups WHERE iso_week = $1", 1, &week, NULL);
	if (rc == BB_DB_OK)
		rc = bb_history_places(r->a->db, r->start - CARRY_MS, r->end, NULL, &places);
	for (int i = 0; rc == BB_DB_OK && i < bb_db_nrows(places); i++)
		rc = one_place(r, bb_history_place(places, i), &s, &j);
	if (rc == BB_DB_OK)
		rc = bb_db_commit(r->a->db);
	if (rc != BB_DB_OK)
		bb_db_rollback(r->a->db);
	bb_jw_free(&j);
	bb_history_destroy(&s);
	bb_db_rows_free(places);
	return rc;
}

int64_t week_chosen(const struct app *a)
{
	int64_t start;
	if (a->week && week_parse(a->week, &start) == 0)
		return start;
	return week_of(a->now) - WEEK_MS;
}

int run_rollup(struct app *a)
{
	struct run r = { .a = a, .start = week_chosen(a) };
	int rc;

	r.end = r.start + WEEK_MS;
	r.partial = r.end > a->now;
	week_name(r.start, r.name, sizeof r.name);
	bb_time_format(a->now, r.now, sizeof r.now);
	rc = week_rows(&r);
	bb_db_rows_free(r.counts[0]);
	bb_db_rows_free(r.counts[1]);
	if (rc != BB_DB_OK)
		return db_fatal(a, rc, "write weekly rollups to");
	printf("%s: %zu rollups%s\n", r.name, r.rows, r.partial ? " (partial: the week is not over)" : "");
	if (fflush(stdout) != 0)
		return bb_fatal(BB_EX_IOERR, "unable to write standard output: %s", strerror(errno));
	return 0;
}
