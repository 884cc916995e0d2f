/* history.c: an ASIN's series for people (text with sparklines), for
 * programs (NDJSON) and for spreadsheets (CSV); and history retention. */
#include "trend.h"
#include "exitcode.h"
#include "log.h"
#include "money.h"
#include "timeutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SPARK_MAX 60 /* characters: longer series are sampled */

/* The state at the end of each of at most SPARK_MAX equal parts. */
static void spark_of(const struct bb_history *s, int ours, struct buf *b)
{
	size_t n = s->n < SPARK_MAX ? s->n : SPARK_MAX;
	int64_t v[SPARK_MAX];

	for (size_t i = 0; i < n; i++) {
		const struct bb_history_note *nt = &s->notes[(i + 1) * s->n / n - 1];
		v[i] = ours ? nt->our_price : nt->market_low;
	}
	sparkline(b, v, n);
}

static void range_text(const struct bb_history *s, int ours, struct buf *b)
{
	int64_t lo = NONE, hi = NONE;
	char x[48], y[48];
	for (size_t i = 0; i < s->n; i++) {
		int64_t v = ours ? s->notes[i].our_price : s->notes[i].market_low;
		if (v != NONE) {
			lo = lo == NONE || v < lo ? v : lo;
			hi = hi == NONE || v > hi ? v : hi;
		}
	}
	money(lo, s->p.currency, x, sizeof x), money(hi, s->p.currency, y, sizeof y);
	buf_printf(b, lo == hi ? "  %s\n" : "  %s to %s\n", x, y);
}

static void cell(struct buf *b, struct bb_str s, int w)
{
	size_t n = s.p ? s.n : 1;
	buf_text(b, s.p ? s.p : "-", n);
	for (int i = (int)n; i < w; i++)
		buf_puts(b, " ");
}

static void text(const struct bb_history *s, struct buf *b)
{
	char t0[40], t1[40], m[4][48];

	bb_time_format(s->notes[0].t, t0, sizeof t0);
	bb_time_format(s->notes[s->n - 1].t, t1, sizeof t1);
	buf_text(b, s->p.asin.p, s->p.asin.n);
	buf_puts(b, " ");
	buf_text(b, s->p.mkt.p, s->p.mkt.n);
	buf_printf(b, ": %zu notifications, %s to %s\n", s->n, t0, t1);
	buf_puts(b, "  our price   ");
	spark_of(s, 1, b);
	range_text(s, 1, b);
	buf_puts(b, "  market low  ");
	spark_of(s, 0, b);
	range_text(s, 0, b);
	buf_puts(b, "\n  event time                our price   market low  low seller    buy box     "
		    "winner        pos  offers  severity\n");
	for (size_t i = 0; i < s->n; i++) {
		const struct bb_history_note *nt = &s->notes[i];
		bb_time_format(nt->t, t0, sizeof t0);
		money(nt->our_price, s->p.currency, m[0], sizeof m[0]);
		money(nt->market_low, s->p.currency, m[1], sizeof m[1]);
		money(nt->buy_box_price, s->p.currency, m[2], sizeof m[2]);
		buf_printf(b, "  %s  %-10s  %-10s  ", t0, m[0], m[1]);
		cell(b, bb_history_seller_id(s, nt->ml_seller), 12);
		buf_printf(b, "  %-10s  ", m[2]);
		cell(b, nt->winner ? BB_LIT("us") : bb_history_seller_id(s, nt->bb_seller), 12);
		snprintf(m[3], sizeof m[3], nt->position == NONE ? "-" : "%lld", (long long)nt->position);
		buf_printf(b, "  %-3s  ", m[3]);
		snprintf(m[3], sizeof m[3], nt->total_offers == NONE ? "-" : "%lld", (long long)nt->total_offers);
		buf_printf(b, "%-6s  ", m[3]);
		buf_text(b, nt->severity.p, nt->severity.n);
		buf_puts(b, "\n");
	}
}

static void ndjson(const struct bb_history *s, struct buf *b)
{
	struct bb_jw w;
	bb_jw_init(&w);
	for (size_t i = 0; i < s->n; i++) {
		const struct bb_history_note *nt = &s->notes[i];
		bb_jw_reset(&w);
		bb_jw_obj(&w);
		bb_jw_ktime(&w, "event_time", nt->t);
		bb_jw_kview(&w, "notification_id", nt->nid);
		bb_jw_kview(&w, "asin", s->p.asin);
		bb_jw_kview(&w, "marketplace", s->p.mkt);
		bb_jw_kview(&w, "currency", s->p.currency);
		bb_history_note_json(&w, s, i);
		bb_jw_end(&w, '}');
		buf_put(b, w.buf, w.len);
		buf_puts(b, "\n");
		b->oom |= w.oom;
	}
	bb_jw_free(&w);
}

/* A CSV field: quoted when it holds a comma, a quote or a line break. */
static void csv_field(struct buf *b, struct bb_str s)
{
	if (!s.p)
		return;
	if (!memchr(s.p, ',', s.n) && !memchr(s.p, '"', s.n) && !memchr(s.p, '\n', s.n) && !memchr(s.p, '\r', s.n)) {
		buf_put(b, s.p, s.n);
		return;
	}
	buf_puts(b, "\"");
	for (size_t i = 0; i < s.n; i++)
		buf_put(b, s.p[i] == '"' ? "\"\"" : &s.p[i], s.p[i] == '"' ? 2 : 1);
	buf_puts(b, "\"");
}

static void csv_money(struct buf *b, const struct bb_history *s, int64_t v)
{
	char m[48];
	char cur[4] = "";
	if (s->p.currency.p && s->p.currency.n == 3)
		memcpy(cur, s->p.currency.p, 3);
	if (v != NONE) {
		bb_money_format(v, bb_currency_exponent(cur), m, sizeof m);
		buf_puts(b, m);
	}
	buf_puts(b, ",");
}

static void csv(const struct bb_history *s, struct buf *b)
{
	char t[40];
	for (size_t i = 0; i < s->n; i++) {
		const struct bb_history_note *nt = &s->notes[i];
		bb_time_format(nt->t, t, sizeof t);
		buf_printf(b, "%s,", t);
		csv_field(b, nt->nid), buf_puts(b, ",");
		csv_field(b, s->p.asin), buf_puts(b, ",");
		csv_field(b, s->p.mkt), buf_puts(b, ",");
		csv_field(b, s->p.currency), buf_puts(b, ",");
		csv_money(b, s, nt->our_price);
		csv_money(b, s, nt->market_low);
		csv_field(b, bb_history_seller_id(s, nt->ml_seller)), buf_puts(b, ",");
		csv_money(b, s, nt->buy_box_price);
		buf_puts(b, nt->winner ? "true," : "false,");
		csv_field(b, bb_history_seller_id(s, nt->bb_seller));
		buf_printf(b, nt->position == NONE ? ",," : ",%lld,", (long long)nt->position);
		if (nt->total_offers != NONE)
			buf_printf(b, "%lld", (long long)nt->total_offers);
		buf_puts(b, ",");
		csv_field(b, nt->severity);
		buf_puts(b, "\n");
	}
}

int run_history(struct app *a)
{
	struct bb_rows *places = NULL;
	struct bb_history s = { 0 };
	struct buf b = { 0 };
	int64_t from = a->now - a->since;
	int rc = bb_history_places(a->db, from, a->now + 1, a->args[0], &places), shown = 0, ex;

	if (strcmp(a->format, "csv") == 0)
		buf_puts(&b, "event_time,notification_id,asin,marketplace,currency,our_price,market_low,"
			     "market_low_seller,buy_box_price,buy_box_winner,buy_box_seller,position,total_offers,severity\n");
	for (int i = 0; rc == BB_DB_OK && i < bb_db_nrows(places); i++) {
		struct bb_history_place p = bb_history_place(places, i);
		if (a->marketplace && (p.mkt.n != strlen(a->marketplace) || memcmp(p.mkt.p, a->marketplace, p.mkt.n) != 0))
			continue;
		rc = series_load(a, p, from, a->now + 1, 0, 1, &s);
		if (rc != BB_DB_OK || s.n == 0)
			continue;
		if (strcmp(a->format, "text") == 0)
			buf_puts(&b, shown++ ? "\n" : ""), text(&s, &b);
		else
			(strcmp(a->format, "csv") == 0 ? csv : ndjson)(&s, &b);
	}
	if (rc == BB_DB_OK && !b.n && strcmp(a->format, "text") == 0) {
		char t[40];
		bb_time_format(from, t, sizeof t);
		buf_printf(&b, "%s: no history since %s\n", a->args[0], t);
	}
	ex = rc == BB_DB_OK ? write_out(NULL, &b) : db_fatal(a, rc, "read history from");
	bb_db_rows_free(places);
	bb_history_destroy(&s);
	free(b.p);
	return ex;
}

int run_prune(struct app *a)
{
	char cutoff[40];
	int64_t n = 0;
	int rc = bb_history_prune(a->db, a->now - a->keep, &n);

	if (rc != BB_DB_OK)
		return db_fatal(a, rc, "prune history in");
	bb_time_format(a->now - a->keep, cutoff, sizeof cutoff);
	printf("pruned %lld notifications older than %s\n", (long long)n, cutoff);
	return fflush(stdout) == 0 ? 0 : bb_fatal(BB_EX_IOERR, "unable to write standard output: %s", strerror(errno));
}
