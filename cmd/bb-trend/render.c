/* render.c: the weekly report's tables as text for a terminal or mail, as
 * Markdown, and as one self-contained HTML file (inline CSS and SVG, no
 * script, printable) with a chart of our price against the market low for
 * each top ASIN and the buy-box share by day. */
#include "report.h"
#include "timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *cell(const struct table *t, size_t row, int col)
{
	return t->cells[row * (size_t)t->ncols + (size_t)col];
}

/* Characters, not bytes: a sparkline's bars are three bytes each. */
static size_t width(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static void pad(struct buf *b, size_t n)
{
	while (n--)
		buf_puts(b, " ");
}

static void header(const struct report *r, struct buf *b, int markdown)
{
	char from[40], to[40];
	bb_time_format(r->start, from, sizeof from);
	bb_time_format(r->start + WEEK_MS - DAY_MS, to, sizeof to);
	buf_printf(b, "%sbb weekly competitive intelligence: %s\n\n", markdown ? "# " : "", r->name);
	buf_printf(b, "%.10s to %.10s%s.\n", from, to, r->cur.partial ? " (partial: the week is not over)" : "");
}

static void text_table(const struct table *t, struct buf *b)
{
	size_t w[8] = { 0 };

	buf_printf(b, "\n%s\n", t->title);
	if (t->nrows == 0) {
		buf_printf(b, "  %s\n", t->empty);
		return;
	}
	for (int c = 0; c < t->ncols; c++) {
		w[c] = width(t->head[c]);
		for (size_t r = 0; r < t->nrows; r++)
			w[c] = width(cell(t, r, c)) > w[c] ? width(cell(t, r, c)) : w[c];
	}
	for (size_t r = 0; r <= t->nrows; r++) {
		buf_puts(b, " ");
		for (int c = 0; c < t->ncols; c++) {
			const char *s = r ? cell(t, r - 1, c) : t->head[c];
			buf_puts(b, " ");
			buf_text(b, s, strlen(s));
			if (c + 1 < t->ncols)
				pad(b, w[c] - width(s) + 1);
		}
		buf_puts(b, "\n");
	}
}

static void md_table(const struct table *t, struct buf *b)
{
	buf_printf(b, "\n## %s\n\n", t->title);
	if (t->nrows == 0) {
		buf_printf(b, "%c%s.\n", t->empty[0] - 32, t->empty + 1);
		return;
	}
	for (size_t r = 0; r <= t->nrows; r++) {
		for (int c = 0; c < t->ncols; c++) {
			const char *s = r ? cell(t, r - 1, c) : t->head[c];
			buf_puts(b, "| ");
			buf_md(b, s, strlen(s));
			buf_puts(b, " ");
		}
		buf_puts(b, "|\n");
		for (int c = 0; r == 0 && c < t->ncols; c++)
			buf_puts(b, c + 1 < t->ncols ? "|---" : "|---|\n");
	}
}

void render_text(const struct report *r, struct buf *b, int markdown)
{
	header(r, b, markdown);
	for (size_t i = 0; i < r->ntables; i++)
		(markdown ? md_table : text_table)(&r->t[i], b);
}

/* ---- HTML ---- */

static const char css[] =
	"body{font:14px/1.4 system-ui,sans-serif;color:#222;margin:2em auto;max-width:72em;padding:0 1em}"
	"h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccc}"
	"table{border-collapse:collapse;margin:.5em 0}th,td{padding:.2em .6em;text-align:left;"
	"border-bottom:1px solid #eee;vertical-align:top}th{background:#f4f4f4}"
	"td.spark{font-family:monospace;letter-spacing:1px}figure{display:inline-block;margin:.5em 1em .5em 0}"
	"figcaption{font-size:.9em;color:#555}svg text{font:10px sans-serif;fill:#555}"
	".ours{stroke:#1f77b4}.low{stroke:#d62728}.bar{fill:#2ca02c}.axis{stroke:#999}"
	"@media print{body{margin:0;max-width:none}h2{break-after:avoid}figure,table{break-inside:avoid}}";

static void html_table(const struct table *t, struct buf *b)
{
	buf_puts(b, "<h2>");
	buf_html(b, t->title, strlen(t->title));
	buf_puts(b, "</h2>\n");
	if (t->nrows == 0) {
		buf_printf(b, "<p>%c%s.</p>\n", t->empty[0] - 32, t->empty + 1);
		return;
	}
	buf_puts(b, "<table>\n<tr>");
	for (int c = 0; c < t->ncols; c++) {
		buf_puts(b, "<th>");
		buf_html(b, t->head[c], strlen(t->head[c]));
		buf_puts(b, "</th>");
	}
	buf_puts(b, "</tr>\n");
	for (size_t r = 0; r < t->nrows; r++) {
		buf_puts(b, "<tr>");
		for (int c = 0; c < t->ncols; c++) {
			const char *s = cell(t, r, c);
			buf_puts(b, strstr(t->head[c], "by day") ? "<td class=\"spark\">" : "<td>");
			buf_html(b, s, strlen(s));
			buf_puts(b, "</td>");
		}
		buf_puts(b, "</tr>\n");
	}
	buf_puts(b, "</table>\n");
}

#define CW 560 /* a chart's plot area */
#define CH 160
#define CX 70  /* room for the price labels */

/* One price's steps as polylines, broken where it is unknown. */
static void steps(struct buf *b, const struct bb_history *s, int ours, int64_t start, int64_t end, int64_t lo,
		  int64_t hi)
{
	int open = 0;
	int64_t span = hi > lo ? hi - lo : 1;

	for (size_t i = 0; i < s->n; i++) {
		int64_t v = ours ? s->notes[i].our_price : s->notes[i].market_low;
		int64_t from = s->notes[i].t > start ? s->notes[i].t : start;
		int64_t to = i + 1 < s->n && s->notes[i + 1].t < end ? s->notes[i + 1].t : end;
		if (v == NONE || to <= from) {
			if (open)
				buf_puts(b, "\"/>\n");
			open = 0;
			continue;
		}
		long x0 = CX + (long)((from - start) * CW / (end - start)), x1 = CX + (long)((to - start) * CW / (end - start));
		long y = 10 + CH - (long)((v - lo) * CH / span);
		if (!open)
			buf_printf(b, "<polyline class=\"%s\" fill=\"none\" stroke-width=\"2\" points=\"", ours ? "ours" : "low");
		buf_printf(b, "%s%ld,%ld %ld,%ld", open ? " " : "", x0, y, x1, y);
		open = 1;
	}
	if (open)
		buf_puts(b, "\"/>\n");
}

static void chart(const struct report *r, struct buf *b, const struct roll *x, const struct bb_history *s)
{
	int64_t lo = NONE, hi = NONE, end = r->start + WEEK_MS < r->a->now ? r->start + WEEK_MS : r->a->now;
	char a[48], z[48];
	static const char *const days[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };

	for (size_t i = 0; i < s->n; i++)
		for (int k = 0; k < 2; k++) {
			int64_t v = k ? s->notes[i].our_price : s->notes[i].market_low;
			if (v != NONE) {
				lo = lo == NONE || v < lo ? v : lo;
				hi = hi == NONE || v > hi ? v : hi;
			}
		}
	buf_puts(b, "<figure>\n");
	buf_printf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
		   "role=\"img\">\n", CX + CW + 10, CH + 40, CX + CW + 10, CH + 40);
	buf_printf(b, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n", CX, CH + 10, CX + CW, CH + 10);
	for (int d = 0; d < 7; d++)
		buf_printf(b, "<text x=\"%d\" y=\"%d\">%s</text>\n", CX + d * CW / 7 + 4, CH + 24, days[d]);
	if (lo != NONE && end > r->start) {
		roll_money(x, hi, z, sizeof z), roll_money(x, lo, a, sizeof a);
		buf_printf(b, "<text x=\"0\" y=\"14\">%s</text>\n<text x=\"0\" y=\"%d\">%s</text>\n", z, CH + 10, a);
		steps(b, s, 0, r->start, end, lo, hi);
		steps(b, s, 1, r->start, end, lo, hi);
	}
	buf_puts(b, "</svg>\n<figcaption>");
	buf_html(b, x->asin.p, x->asin.n);
	buf_puts(b, " ");
	buf_html(b, x->mkt.p, x->mkt.n);
	buf_puts(b, ": <span style=\"color:#1f77b4\">our price</span> against "
		    "<span style=\"color:#d62728\">the market low</span></figcaption>\n</figure>\n");
}

/* The buy-box share by day, averaged over the ASINs known that day. */
static void share_by_day(const struct report *r, struct buf *b)
{
	static const char *const days[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };

	buf_puts(b, "<h2>Buy-box share by day</h2>\n");
	buf_printf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
		   "role=\"img\">\n", 7 * 60 + 10, 140, 7 * 60 + 10, 140);
	for (int d = 0; d < 7; d++) {
		int64_t sum = 0, n = 0;
		char pct[32];
		for (size_t i = 0; i < r->cur.n; i++)
			if (r->cur.r[i].day_share[d] != NONE)
				sum += r->cur.r[i].day_share[d], n++;
		buf_printf(b, "<text x=\"%d\" y=\"135\">%s</text>\n", d * 60 + 18, days[d]);
		if (n == 0)
			continue;
		int64_t avg = (sum + n / 2) / n;
		hundredths(avg, pct, sizeof pct);
		buf_printf(b, "<rect class=\"bar\" x=\"%d\" y=\"%lld\" width=\"40\" height=\"%lld\"><title>%s%%</title>"
			   "</rect>\n<text x=\"%d\" y=\"%lld\">%.*s%%</text>\n", d * 60 + 10, (long long)(120 - avg * 100 / 10000),
			   (long long)(avg * 100 / 10000), pct, d * 60 + 10, (long long)(115 - avg * 100 / 10000),
			   (int)(strchr(pct, '.') ? strchr(pct, '.') - pct : (long)strlen(pct)), pct);
	}
	buf_puts(b, "</svg>\n");
}

static int charts(const struct report *r, struct buf *b)
{
	struct bb_history s = { 0 };
	int64_t end = r->start + WEEK_MS < r->a->now + 1 ? r->start + WEEK_MS : r->a->now + 1;
	int rc = BB_DB_OK;

	buf_puts(b, "<h2>Our price against the market low</h2>\n");
	if (r->ntop == 0)
		buf_puts(b, "<p>No top threat to chart.</p>\n");
	for (size_t i = 0; rc == BB_DB_OK && i < r->ntop; i++) {
		const struct roll *x = &r->cur.r[r->top[i]];
		struct bb_history_place p = { x->asin, x->mkt, { x->currency, strlen(x->currency) } };
		rc = series_load(r->a, p, r->start, end, 30 * DAY_MS, 0, &s);
		if (rc == BB_DB_OK)
			chart(r, b, x, &s);
	}
	bb_history_destroy(&s);
	return rc;
}

int render_html(const struct report *r, struct buf *b)
{
	char from[40], to[40];

	bb_time_format(r->start, from, sizeof from);
	bb_time_format(r->start + WEEK_MS - DAY_MS, to, sizeof to);
	buf_printf(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
		   "<title>bb weekly competitive intelligence: %s</title>\n<style>%s</style>\n</head>\n<body>\n", r->name,
		   css);
	buf_printf(b, "<h1>bb weekly competitive intelligence: %s</h1>\n<p>%.10s to %.10s%s.</p>\n", r->name, from, to,
		   r->cur.partial ? " (partial: the week is not over)" : "");
	html_table(&r->t[T_SUMMARY], b);
	share_by_day(r, b);
	html_table(&r->t[T_THREATS], b);
	int rc = charts(r, b);
	for (size_t i = T_WARS; i < r->ntables; i++)
		html_table(&r->t[i], b);
	buf_puts(b, "</body>\n</html>\n");
	return rc == BB_DB_OK ? 0 : db_fatal(r->a, rc, "read history from");
}
