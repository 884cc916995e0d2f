/* report.c: the weekly competitive-intelligence report (TREND.md "The
 * weekly report"): read the week's rollups and findings and the week
 * before's rollups, gather them into tables, and write them in the format
 * asked for. Nothing here reads the clock: the same database and arguments
 * give the same bytes. */
#include "report.h"
#include "exitcode.h"
#include "json.h"
#include "log.h"
#include "money.h"
#include "parse.h"
#include "timeutil.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROLLS_LITE "SELECT asin, marketplace, payload FROM weekly_rollups WHERE iso_week = $1 " \
	"ORDER BY asin, marketplace"
#define ROLLS_PG "SELECT asin, marketplace, payload FROM weekly_rollups WHERE iso_week = $1 " \
	"ORDER BY asin COLLATE \"C\", marketplace COLLATE \"C\""
#define FINDINGS_LITE "SELECT kind, finding FROM trend_findings WHERE from_time >= $1 AND from_time < $2 " \
	"ORDER BY from_time, asin, marketplace, kind, seller_id, leader_id"
#define FINDINGS_PG "SELECT kind, finding FROM trend_findings WHERE from_time >= $1::timestamptz " \
	"AND from_time < $2::timestamptz ORDER BY from_time, asin COLLATE \"C\", marketplace COLLATE \"C\", " \
	"kind, seller_id COLLATE \"C\", leader_id COLLATE \"C\""

/* ---- reading ---- */

static int64_t jint(struct bb_jval v)
{
	int64_t i;
	return bb_json_int64(v, &i) == 0 ? i : NONE;
}

/* A percentage written as a decimal (35.71), in hundredths. */
static int64_t jpct(struct bb_jval v)
{
	const char *s;
	size_t n;
	int64_t bp;
	return bb_json_number_text(v, &s, &n) == 0 && bb_parse_fixed(s, n, 2, &bp) == 0 ? bp : NONE;
}

static void read_roll(struct roll *x, struct bb_jval o)
{
	struct bb_jval sev = bb_json_getz(o, "severity_share"), f = bb_json_getz(o, "findings");
	const char *cur;
	size_t n;
	int b = 0;

	if (bb_json_string(bb_json_getz(o, "currency"), &cur, &n) == 0 && n == 3)
		memcpy(x->currency, cur, 3);
	bb_json_bool(bb_json_getz(o, "partial"), &b);
	x->partial = b;
	x->notifications = jint(bb_json_getz(o, "notifications"));
	x->known = jint(bb_json_getz(o, "known_ms"));
	x->winner = jint(bb_json_getz(o, "winner_ms"));
	x->critical = jint(bb_json_getz(o, "critical_ms"));
	x->low_min = jint(bb_json_getz(o, "market_low_min"));
	x->low_max = jint(bb_json_getz(o, "market_low_max"));
	x->low_avg = jint(bb_json_getz(o, "market_low_avg"));
	x->ours_min = jint(bb_json_getz(o, "our_price_min"));
	x->ours_max = jint(bb_json_getz(o, "our_price_max"));
	x->ours_avg = jint(bb_json_getz(o, "our_price_avg"));
	x->share = jpct(bb_json_getz(o, "buy_box_share_pct"));
	int64_t c = jpct(bb_json_getz(sev, "CRITICAL")), h = jpct(bb_json_getz(sev, "HIGH"));
	x->threat = (c == NONE ? 0 : c) + (h == NONE ? 0 : h);
	for (int k = 0; k < K_KINDS; k++) {
		int64_t v = jint(bb_json_getz(f, kind_names[k]));
		x->findings[k] = v == NONE ? 0 : v;
		x->threat_findings += k == K_OPPORTUNITY ? 0 : x->findings[k];
	}
	struct bb_jval d = bb_json_first(bb_json_getz(o, "daily"));
	for (int i = 0; i < 7; i++, d = bb_json_next(d)) {
		x->day_low[i] = jint(bb_json_getz(d, "market_low_avg"));
		x->day_ours[i] = jint(bb_json_getz(d, "our_price_avg"));
		x->day_share[i] = jpct(bb_json_getz(d, "buy_box_share_pct"));
	}
}

static int load_week(struct app *a, const char *name, struct week_rolls *w)
{
	struct bb_str week = { name, strlen(name) };
	struct bb_jdoc *doc = bb_json_new();
	int rc = doc ? bb_db_query(a->db, bb_db_is_pg(a->db) ? ROLLS_PG : ROLLS_LITE, 1, &week, &w->rows) : BB_DB_ERR;
	int n = bb_db_nrows(w->rows);

	w->r = calloc((size_t)n + 1, sizeof *w->r);
	for (int i = 0; rc == BB_DB_OK && w->r && i < n; i++) {
		struct roll *x = &w->r[w->n];
		struct bb_jval root;
		struct bb_jerr err;
		x->asin = bb_db_text(w->rows, i, 0), x->mkt = bb_db_text(w->rows, i, 1);
		x->payload = bb_db_text(w->rows, i, 2);
		if (bb_json_parse(doc, x->payload.p, x->payload.n, &root, &err) != 0) {
			/* not a rollup bb-trend wrote: left out, and said */
			bb_log(BB_WARN, NULL, "a weekly rollup is not JSON: left out", "week", name, "error", err.message, NULL);
			continue;
		}
		w->n++;
		read_roll(x, root);
		w->notifications += x->notifications, w->known += x->known;
		w->winner += x->winner, w->critical += x->critical;
		w->partial |= x->partial;
	}
	bb_json_free(doc);
	return rc == BB_DB_OK && !w->r ? BB_DB_ERR : rc;
}

/* ---- the tables ---- */

static void table_init(struct table *t, const char *title, const char *empty, int ncols, const char *const *head)
{
	*t = (struct table){ title, empty, ncols, head, NULL, 0, 0 };
}

/* A row of t->ncols cells, each a printf format's text: given as (fmt, args)
 * would be clumsy in C, so each cell is passed already made. */
static int row(struct table *t, ...)
{
	va_list ap;
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 16;
		char **c = realloc(t->cells, cap * (size_t)t->ncols * sizeof *c);
		if (!c)
			return -1;
		t->cells = c, t->cap = cap;
	}
	va_start(ap, t);
	for (int i = 0; i < t->ncols; i++) {
		const char *s = va_arg(ap, const char *);
		t->cells[t->nrows * (size_t)t->ncols + (size_t)i] = strdup(s ? s : "");
	}
	va_end(ap);
	t->nrows++;
	return 0;
}

void roll_money(const struct roll *x, int64_t v, char *buf, size_t size)
{
	money(v, (struct bb_str){ x->currency, strlen(x->currency) }, buf, size);
}

static void pct_text(int64_t bp, char *buf, size_t size)
{
	if (bp == NONE) {
		snprintf(buf, size, "-");
		return;
	}
	hundredths(bp, buf, size);
	strncat(buf, "%", size - strlen(buf) - 1);
}

static void hours(int64_t ms, char *buf, size_t size)
{
	snprintf(buf, size, "%lld.%lld h", (long long)(ms / HOUR_MS), (long long)(ms % HOUR_MS * 10 / HOUR_MS));
}

static void summary(struct report *r)
{
	static const char *const head[] = { "", "this week", "the week before", "change" };
	const struct week_rolls *c = &r->cur, *p = &r->prev;
	char a[3][64];
	struct table *t = &r->t[T_SUMMARY];

	table_init(t, "Summary", NULL, 4, head);
	snprintf(a[0], sizeof a[0], "%zu", c->n), snprintf(a[1], sizeof a[1], "%zu", p->n);
	snprintf(a[2], sizeof a[2], "%+lld", (long long)c->n - (long long)p->n);
	row(t, "ASINs watched", a[0], a[1], a[2]);
	snprintf(a[0], sizeof a[0], "%lld", (long long)c->notifications);
	snprintf(a[1], sizeof a[1], "%lld", (long long)p->notifications);
	snprintf(a[2], sizeof a[2], "%+lld", (long long)(c->notifications - p->notifications));
	row(t, "notifications", a[0], a[1], a[2]);
	int64_t s0 = c->known ? percent_bp(c->winner, c->known) : NONE, s1 = p->known ? percent_bp(p->winner, p->known) : NONE;
	pct_text(s0, a[0], sizeof a[0]), pct_text(s1, a[1], sizeof a[1]);
	if (s0 != NONE && s1 != NONE) {
		char d[32];
		hundredths(s0 - s1, d, sizeof d);
		snprintf(a[2], sizeof a[2], "%s%s pts", s0 >= s1 ? "+" : "", d);
	} else {
		snprintf(a[2], sizeof a[2], "-");
	}
	row(t, "buy-box share", a[0], a[1], a[2]);
	hours(c->critical, a[0], sizeof a[0]), hours(p->critical, a[1], sizeof a[1]);
	hours(c->critical > p->critical ? c->critical - p->critical : p->critical - c->critical, a[2] + 1, sizeof a[2] - 1);
	a[2][0] = c->critical >= p->critical ? '+' : '-';
	row(t, "time CRITICAL (ASIN-hours)", a[0], a[1], a[2]);
}

static int threat_cmp(const void *x, const void *y, void *arg)
{
	const struct roll *r = arg, *a = &r[*(const size_t *)x], *b = &r[*(const size_t *)y];
	int64_t sa = a->share == NONE ? 10001 : a->share, sb = b->share == NONE ? 10001 : b->share;
	if (a->threat != b->threat)
		return a->threat < b->threat ? 1 : -1;
	if (a->threat_findings != b->threat_findings)
		return a->threat_findings < b->threat_findings ? 1 : -1;
	if (sa != sb)
		return sa > sb ? 1 : -1;
	return *(const size_t *)x < *(const size_t *)y ? -1 : 1; /* the rows' own order: by ASIN */
}

static void findings_cell(const struct roll *x, char *buf, size_t size)
{
	size_t n = 0;
	buf[0] = '\0';
	for (int k = 0; k < K_KINDS && n < size; k++)
		if (k != K_OPPORTUNITY && x->findings[k])
			n += (size_t)snprintf(buf + n, size - n, "%s%s %lld", n ? ", " : "", kind_names[k],
					      (long long)x->findings[k]);
	if (!buf[0])
		snprintf(buf, size, "-");
}

static void threats(struct report *r)
{
	static const char *const head[] = { "ASIN", "marketplace", "CRITICAL+HIGH", "buy box", "market low (avg)",
					    "our price (avg)", "findings" };
	struct table *t = &r->t[T_THREATS];
	char c[6][160];

	table_init(t, "Top threats", "no ASIN spent time CRITICAL or HIGH or has a threatening finding", 7, head);
	r->top = malloc((r->cur.n + 1) * sizeof *r->top);
	for (size_t i = 0; r->top && i < r->cur.n; i++)
		if (r->cur.r[i].threat > 0 || r->cur.r[i].threat_findings > 0)
			r->top[r->ntop++] = i;
	if (!r->top)
		return;
	qsort_r(r->top, r->ntop, sizeof *r->top, threat_cmp, r->cur.r);
	if (r->ntop > (size_t)r->a->top)
		r->ntop = (size_t)r->a->top;
	for (size_t i = 0; i < r->ntop; i++) {
		const struct roll *x = &r->cur.r[r->top[i]];
		snprintf(c[0], sizeof c[0], "%.*s", (int)x->asin.n, x->asin.p);
		snprintf(c[1], sizeof c[1], "%.*s", (int)x->mkt.n, x->mkt.p);
		pct_text(x->threat, c[2], sizeof c[2]), pct_text(x->share, c[3], sizeof c[3]);
		roll_money(x, x->low_avg, c[4], sizeof c[4]), roll_money(x, x->ours_avg, c[5], sizeof c[5]);
		char f[200];
		findings_cell(x, f, sizeof f);
		row(t, c[0], c[1], c[2], c[3], c[4], c[5], f);
	}
}

/* A finding's cells: ASIN, marketplace, when, who, and the reasons. */
static void finding_row(struct table *t, struct bb_jval o)
{
	const char *s;
	size_t n;
	char cell[4][200], who[400] = "-";
	struct buf why = { 0 };
	int us = 0;

	for (int i = 0; i < 2; i++)
		if (bb_json_string(bb_json_getz(o, i ? "marketplace" : "asin"), &s, &n) == 0)
			snprintf(cell[i], sizeof cell[i], "%.*s", (int)n, s);
	bb_json_string(bb_json_getz(o, "from"), &s, &n);
	snprintf(cell[2], sizeof cell[2], "%.10s %.5s", s, n > 16 ? s + 11 : "");
	if (bb_json_string(bb_json_getz(o, "to"), &s, &n) == 0)
		snprintf(cell[2] + strlen(cell[2]), sizeof cell[2] - strlen(cell[2]), " to %.10s %.5s", s, n > 16 ? s + 11 : "");
	else
		strncat(cell[2], ", ongoing", sizeof cell[2] - strlen(cell[2]) - 1);
	if (bb_json_string(bb_json_getz(o, "seller_id"), &s, &n) == 0) {
		snprintf(who, sizeof who, "%.*s", (int)n, s);
		bb_json_bool(bb_json_getz(o, "leader_is_us"), &us);
		if (bb_json_string(bb_json_getz(o, "leader_id"), &s, &n) == 0)
			snprintf(who + strlen(who), sizeof who - strlen(who), " follows %s%.*s%s", us ? "us (" : "", (int)n, s,
				 us ? ")" : "");
	}
	for (struct bb_jval e = bb_json_first(bb_json_getz(o, "reasons")); bb_json_type(e) != BB_JNONE; e = bb_json_next(e))
		if (bb_json_string(e, &s, &n) == 0) {
			buf_puts(&why, why.n ? "; " : "");
			buf_put(&why, s, n);
		}
	row(t, cell[0], cell[1], cell[2], who, why.p ? why.p : "");
	free(why.p);
}

static void opportunity_row(struct table *t, struct bb_jval o)
{
	const char *s, *cur = "";
	size_t n, cn = 0;
	char cell[7][64];

	bb_json_string(bb_json_getz(o, "currency"), &cur, &cn);
	struct bb_str c = { cur, cn };
	for (int i = 0; i < 2; i++)
		if (bb_json_string(bb_json_getz(o, i ? "marketplace" : "asin"), &s, &n) == 0)
			snprintf(cell[i], sizeof cell[i], "%.*s", (int)n, s);
	money(jint(bb_json_getz(o, "our_price")), c, cell[2], sizeof cell[2]);
	money(jint(bb_json_getz(o, "market_low")), c, cell[3], sizeof cell[3]);
	money(jint(bb_json_getz(o, "recommended_price")), c, cell[4], sizeof cell[4]);
	money(jint(bb_json_getz(o, "gain")), c, cell[5], sizeof cell[5]);
	money(jint(bb_json_getz(o, "min_viable_price")), c, cell[6], sizeof cell[6]);
	row(t, cell[0], cell[1], cell[2], cell[3], cell[4], cell[5], cell[6]);
}

static int finding_tables(struct report *r)
{
	static const char *const head[] = { "ASIN", "marketplace", "when", "who", "why" };
	static const char *const ohead[] = { "ASIN", "marketplace", "our price", "market low", "target price",
					     "gain a sale", "min viable" };
	static const int kinds[] = { K_WAR, K_UNDERCUT, K_FOLLOW };
	struct bb_jdoc *doc = bb_json_new();

	table_init(&r->t[T_WARS], "Price wars", "none", 5, head);
	table_init(&r->t[T_UNDERCUTS], "Creeping undercuts", "none", 5, head);
	table_init(&r->t[T_FOLLOWERS], "Leaders and followers", "none", 5, head);
	table_init(&r->t[T_OPPORTUNITIES], "Opportunities", "none", 7, ohead);
	for (int i = 0; doc && i < bb_db_nrows(r->findings); i++) {
		const char *kind = bb_db_value(r->findings, i, 0);
		struct bb_str f = bb_db_text(r->findings, i, 1);
		struct bb_jval root;
		struct bb_jerr err;
		if (!kind || bb_json_parse(doc, f.p, f.n, &root, &err) != 0)
			continue;
		if (strcmp(kind, kind_names[K_OPPORTUNITY]) == 0)
			opportunity_row(&r->t[T_OPPORTUNITIES], root);
		for (int k = 0; k < 3; k++)
			if (strcmp(kind, kind_names[kinds[k]]) == 0)
				finding_row(&r->t[T_WARS + k], root);
	}
	bb_json_free(doc);
	return doc ? 0 : -1;
}

static void asin_lines(struct report *r)
{
	static const char *const head[] = { "ASIN", "marketplace", "notifications", "buy box", "market low by day",
					    "our price by day", "market low", "our price" };
	struct table *t = &r->t[T_ASINS];
	char c[6][160];

	table_init(t, "ASINs", NULL, 8, head);
	for (size_t i = 0; i < r->cur.n; i++) {
		const struct roll *x = &r->cur.r[i];
		struct buf low = { 0 }, ours = { 0 };
		char lo[48], hi[48];
		sparkline(&low, x->day_low, 7);
		sparkline(&ours, x->day_ours, 7);
		snprintf(c[0], sizeof c[0], "%.*s", (int)x->asin.n, x->asin.p);
		snprintf(c[1], sizeof c[1], "%.*s", (int)x->mkt.n, x->mkt.p);
		snprintf(c[2], sizeof c[2], "%lld", (long long)x->notifications);
		pct_text(x->share, c[3], sizeof c[3]);
		roll_money(x, x->low_min, lo, sizeof lo), roll_money(x, x->low_max, hi, sizeof hi);
		snprintf(c[4], sizeof c[4], x->low_min == x->low_max ? "%s" : "%s to %s", lo, hi);
		roll_money(x, x->ours_min, lo, sizeof lo), roll_money(x, x->ours_max, hi, sizeof hi);
		snprintf(c[5], sizeof c[5], x->ours_min == x->ours_max ? "%s" : "%s to %s", lo, hi);
		row(t, c[0], c[1], c[2], c[3], low.p ? low.p : "", ours.p ? ours.p : "", c[4], c[5]);
		free(low.p), free(ours.p);
	}
}

/* ---- JSON ---- */

static void render_json(const struct report *r, struct bb_jw *w)
{
	static const char *const keys[] = { "price_wars", "creeping_undercuts", "leader_follower", "opportunities" };
	static const int kinds[] = { K_WAR, K_UNDERCUT, K_FOLLOW, K_OPPORTUNITY };
	char day[40];

	bb_jw_obj(w);
	bb_jw_kstrz(w, "week", r->name);
	bb_time_format(r->start, day, sizeof day), bb_jw_kstr(w, "from", day, 10);
	bb_time_format(r->start + WEEK_MS, day, sizeof day), bb_jw_kstr(w, "to", day, 10);
	bb_jw_kbool(w, "partial", r->cur.partial);
	for (int i = 0; i < 2; i++) {
		const struct week_rolls *x = i ? &r->prev : &r->cur;
		bb_jw_key(w, i ? "week_before" : "summary");
		bb_jw_obj(w);
		bb_jw_kint(w, "asins", (int64_t)x->n);
		bb_jw_kint(w, "notifications", x->notifications);
		jw_pct(w, "buy_box_share_pct", x->known ? percent_bp(x->winner, x->known) : NONE);
		bb_jw_kint(w, "critical_ms", x->critical);
		bb_jw_end(w, '}');
	}
	bb_jw_key(w, "top_threats");
	bb_jw_arr(w);
	for (size_t i = 0; i < r->ntop; i++)
		bb_jw_raw(w, r->cur.r[r->top[i]].payload.p, r->cur.r[r->top[i]].payload.n);
	bb_jw_end(w, ']');
	for (int k = 0; k < 4; k++) {
		bb_jw_key(w, keys[k]);
		bb_jw_arr(w);
		for (int i = 0; i < bb_db_nrows(r->findings); i++)
			if (strcmp(bb_db_value(r->findings, i, 0), kind_names[kinds[k]]) == 0) {
				struct bb_str f = bb_db_text(r->findings, i, 1);
				bb_jw_raw(w, f.p, f.n);
			}
		bb_jw_end(w, ']');
	}
	bb_jw_key(w, "asins");
	bb_jw_arr(w);
	for (size_t i = 0; i < r->cur.n; i++)
		bb_jw_raw(w, r->cur.r[i].payload.p, r->cur.r[i].payload.n);
	bb_jw_end(w, ']');
	bb_jw_end(w, '}');
}

/* ---- the report ---- */

static int gather(struct report *r)
{
	char f[40], t[40];
	struct bb_str range[2] = { bb_history_time_param(r->start, f, sizeof f),
				   bb_history_time_param(r->start + WEEK_MS, t, sizeof t) };
	int rc = load_week(r->a, r->name, &r->cur);

	if (rc == BB_DB_OK)
		rc = load_week(r->a, r->prev_name, &r->prev);
	if (rc == BB_DB_OK)
		rc = bb_db_query(r->a->db, bb_db_is_pg(r->a->db) ? FINDINGS_PG : FINDINGS_LITE, 2, range, &r->findings);
	if (rc != BB_DB_OK)
		return rc;
	summary(r);
	threats(r);
	if (finding_tables(r) != 0)
		return BB_DB_ERR;
	asin_lines(r);
	r->ntables = 7;
	return BB_DB_OK;
}

static void no_data(const struct report *r, struct buf *b)
{
	const char *f = r->a->format;
	if (strcmp(f, "json") == 0)
		buf_printf(b, "{\"week\":\"%s\",\"asins\":0}\n", r->name);
	else if (strcmp(f, "html") == 0)
		buf_printf(b, "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>bb weekly report %s"
			   "</title></head><body><p>No data for %s.</p></body></html>\n", r->name, r->name);
	else
		buf_printf(b, "No data for %s: no rollups (bb-trend rollup --week %s makes them).\n", r->name, r->name);
}

static void report_free(struct report *r)
{
	for (size_t i = 0; i < 7; i++) {
		for (size_t c = 0; c < r->t[i].nrows * (size_t)r->t[i].ncols; c++)
			free(r->t[i].cells[c]);
		free(r->t[i].cells);
	}
	free(r->top);
	free(r->cur.r), free(r->prev.r);
	bb_db_rows_free(r->cur.rows), bb_db_rows_free(r->prev.rows), bb_db_rows_free(r->findings);
}

int run_report(struct app *a)
{
	struct report r = { .a = a, .start = week_chosen(a) };
	struct buf b = { 0 };
	int rc, ex = 0;

	week_name(r.start, r.name, sizeof r.name);
	week_name(r.start - WEEK_MS, r.prev_name, sizeof r.prev_name);
	rc = gather(&r);
	if (rc != BB_DB_OK) {
		ex = db_fatal(a, rc, "read the week from");
	} else if (r.cur.n == 0) {
		no_data(&r, &b);
	} else if (strcmp(a->format, "json") == 0) {
		struct bb_jw w;
		bb_jw_init(&w);
		render_json(&r, &w);
		buf_put(&b, w.buf, w.len);
		buf_puts(&b, "\n");
		b.oom |= w.oom;
		bb_jw_free(&w);
	} else if (strcmp(a->format, "html") == 0) {
		ex = render_html(&r, &b);
	} else {
		render_text(&r, &b, strcmp(a->format, "markdown") == 0);
	}
	if (!ex)
		ex = write_out(a->output, &b);
	free(b.p);
	report_free(&r);
	return ex;
}
