/* digest.c: the daily digest (ALERTS.md "The daily digest"): the alerts
 * open, or seen or changed in the window, grouped by place, the most severe
 * first, each with its numbers, its reasons and what was done to it in the
 * window. One reading of the alerts and their events; four layouts of it
 * (text, markdown, html for mail, ndjson), each escaping what it prints. */
#include "bbalert.h"
#include "exitcode.h"
#include "json.h"
#include "log.h"
#include "timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum format { TEXT, MARKDOWN, HTML, NDJSON };

/* An alert event, read from its payload. */
struct ev {
	char *fp;          /* its fingerprint (fpn bytes), malloc'd */
	size_t fpn;
	int64_t at;        /* created_at */
	char what[480];    /* for people: "acknowledged by alice: on it" */
	struct bb_str raw; /* the payload */
};

struct digest {
	const struct app *a;
	enum format f;
	struct bb_rows *alerts, *events;
	struct ev *ev;
	int nev;
	char since[40], until[40];
};

/* ---- reading ---- */

static struct bb_str member(struct bb_jval root, const char *key)
{
	const char *s;
	size_t n;
	return bb_json_string(bb_json_getz(root, key), &s, &n) == 0 ? (struct bb_str){ s, n } : (struct bb_str){ 0 };
}

static int is(struct bb_str s, const char *z)
{
	return s.p && s.n == strlen(z) && memcmp(s.p, z, s.n) == 0;
}

/* What the event did, for people; "" for what a digest leaves out (an
 * occurrence counted). Who acted is named when a person did. */
static void describe(struct bb_jval root, char *buf, size_t size)
{
	struct bb_str act = member(root, "action"), to = member(root, "to"), by = member(root, "by"),
		      note = member(root, "note"), reason = member(root, "reason"), until = member(root, "until");
	int64_t level = 0;
	int n = 0;

	bb_json_int64(bb_json_getz(root, "escalation_level"), &level);
	if (is(act, "new"))
		n = snprintf(buf, size, "raised");
	else if (is(act, "deliver") && is(member(root, "kind"), "escalation"))
		n = snprintf(buf, size, is(member(root, "outcome"), "ok") ? "escalation sent" : "escalation not sent");
	else if (is(act, "deliver"))
		n = snprintf(buf, size, is(to, "delivered") ? "delivered" : "delivery failed");
	else if (is(act, "ack"))
		n = snprintf(buf, size, "acknowledged");
	else if (is(act, "snooze"))
		n = snprintf(buf, size, "snoozed until %.*s", (int)until.n, until.p ? until.p : "");
	else if (is(act, "escalate"))
		n = snprintf(buf, size, "escalated to level %lld", (long long)level);
	else if (is(act, "expire"))
		n = snprintf(buf, size, "snooze ended, queued again");
	else if (is(act, "resolve") || is(act, "resolved"))
		n = snprintf(buf, size, "resolved");
	else if (act.p && !is(act, "update") && !is(act, "suppressed"))
		n = snprintf(buf, size, "%.*s", (int)act.n, act.p);
	if (n <= 0 || (size_t)n >= size) {
		buf[0] = '\0';
		return;
	}
	if (by.p && !(by.n >= 9 && memcmp(by.p, "bb-alert ", 9) == 0))
		n += snprintf(buf + n, size - (size_t)n, " by %.*s", (int)by.n, by.p);
	if (note.p && (size_t)n < size)
		n += snprintf(buf + n, size - (size_t)n, ": %.*s", (int)note.n, note.p);
	if (is(act, "resolved"))
		reason = (struct bb_str){ "recovered", 9 }; /* bb-store's: the place's state recovered */
	if (is(act, "deliver") && (is(to, "delivered") && !is(member(root, "outcome"), "failed")))
		reason = (struct bb_str){ 0 }; /* what the channel said of a success: nothing to tell */
	if (reason.p && (size_t)n < size && !is(act, "new") && !is(act, "escalate") && !is(act, "expire"))
		snprintf(buf + n, size - (size_t)n, " (%.*s)", (int)reason.n, reason.p);
}

static int read_events(struct digest *d, struct bb_jdoc *doc)
{
	int n = bb_db_nrows(d->events);
	if (!(d->ev = calloc((size_t)n + 1, sizeof *d->ev)))
		return -1;
	for (int i = 0; i < n; i++) {
		struct ev *e = &d->ev[d->nev];
		struct bb_jval root;
		struct bb_jerr err;
		e->raw = bb_db_text(d->events, i, 1);
		e->at = row_time(d->events, i, 0);
		if (bb_json_parse(doc, e->raw.p, e->raw.n, &root, &err) != 0)
			continue; /* not one of ours: left out */
		struct bb_str fp = member(root, "fingerprint");
		if (!fp.p)
			continue;
		/* the parsed strings last until the next parse */
		if (!(e->fp = malloc(fp.n + 1)))
			return -1;
		memcpy(e->fp, fp.p, fp.n);
		e->fpn = fp.n;
		describe(root, e->what, sizeof e->what);
		d->nev++;
	}
	return 0;
}

/* ---- writing: the same reading in each layout ---- */

/* s[0..n) escaped as the format needs. */
static void put(enum format f, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (f == HTML && (c == '&' || c == '<' || c == '>' || c == '"' || c == '\''))
			fputs(c == '&' ? "&amp;" : c == '<' ? "&lt;" : c == '>' ? "&gt;" : c == '"' ? "&quot;" : "&#39;", stdout);
		else if (f == MARKDOWN && strchr("\\`*_[]<>#|", c) && c)
			putchar('\\'), putchar(c);
		else if (c == '\n' || c == '\r' || c == '\0')
			putchar(' ');
		else
			putchar(c);
	}
}

static void putz(enum format f, const char *s)
{
	put(f, s ? s : "-", strlen(s ? s : "-"));
}

/* Row r's time at col, as RFC 3339 with milliseconds. */
static void tcell(const struct digest *d, int r, int col)
{
	char buf[40];
	int64_t ms = row_time(d->alerts, r, col);
	if (ms >= 0)
		bb_time_format(ms, buf, sizeof buf);
	printf("%s", ms >= 0 ? buf : "-");
}

/* Row r's value at col, escaped. */
static void cell(const struct digest *d, int r, int col)
{
	struct bb_str s = bb_db_text(d->alerts, r, col);
	if (s.p)
		put(d->f, s.p, s.n);
	else
		putz(d->f, "-");
}

/* "our price USD 16.00 against the market low USD 10.00 (gap 60.0%)" */
static void prices(const struct digest *d, int r)
{
	char ours[48], low[48];
	const char *gap = bb_db_value(d->alerts, r, BB_AC_GAP_PCT);
	const char *cur = bb_db_value(d->alerts, r, BB_AC_CURRENCY);
	money_text(cur, bb_db_value(d->alerts, r, BB_AC_OUR_PRICE), ours, sizeof ours);
	money_text(cur, bb_db_value(d->alerts, r, BB_AC_MARKET_LOW), low, sizeof low);
	printf("our price %s against the market low %s", ours, low);
	if (gap)
		printf(" (gap %.1f%%)", strtod(gap, NULL));
}

static const char *const sev_colour[] = { "#c0392b", "#d35400", "#b7950b", "#1e8449", "#566573" };

static void alert_head(const struct digest *d, int r)
{
	const char *occ = bb_db_value(d->alerts, r, BB_AC_OCCURRENCES);
	struct bb_str sev = bb_db_text(d->alerts, r, BB_AC_SEVERITY);
	int k = bb_severity_of(sev.p, sev.n);

	if (d->f == TEXT)
		printf("  ");
	else if (d->f == MARKDOWN)
		printf("### ");
	else
		printf("<p style=\"margin:12px 0 4px\"><span style=\"background:%s;color:#fff;padding:1px 6px;"
		       "font-weight:bold\">", sev_colour[k < 0 ? BB_SEV_STABLE : k]);
	cell(d, r, BB_AC_SEVERITY);
	printf(d->f == HTML ? "</span> " : ", ");
	cell(d, r, BB_AC_STATUS);
	printf(", %s occurrence%s, first seen ", occ ? occ : "0", occ && strcmp(occ, "1") == 0 ? "" : "s");
	tcell(d, r, BB_AC_FIRST_SEEN);
	printf(", last seen ");
	tcell(d, r, BB_AC_LAST_SEEN);
	printf(d->f == HTML ? "</p>\n" : d->f == MARKDOWN ? "\n\n" : "\n");
}

/* One line of an alert's details: a bullet in markdown and html. */
static void item_start(const struct digest *d, int depth)
{
	static const char *const text[] = { "    ", "      " }, *const md[] = { "- ", "  - " };
	printf("%s", d->f == TEXT ? text[depth] : d->f == MARKDOWN ? md[depth] : "<li>");
}

static void item_end(const struct digest *d)
{
	printf(d->f == HTML ? "</li>\n" : "\n");
}

static void reasons(const struct digest *d, int r, struct bb_jdoc *doc)
{
	struct bb_str raw = bb_db_text(d->alerts, r, BB_AC_REASONS);
	struct bb_jval root, it;
	struct bb_jerr err;
	int first = 1;

	item_start(d, 0);
	printf("reasons: ");
	if (raw.p && bb_json_parse(doc, raw.p, raw.n, &root, &err) == 0)
		for (it = bb_json_first(root); bb_json_type(it) != BB_JNONE; it = bb_json_next(it), first = 0) {
			const char *p;
			size_t n;
			if (bb_json_string(it, &p, &n) == 0)
				printf("%s", first ? "" : "; "), put(d->f, p, n);
		}
	if (first)
		printf("-");
	item_end(d);
}

static int of(const struct ev *e, struct bb_str fp)
{
	return e->fpn == fp.n && memcmp(e->fp, fp.p, fp.n) == 0;
}

static void done(const struct digest *d, int r)
{
	struct bb_str fp = bb_db_text(d->alerts, r, BB_AC_FINGERPRINT);
	int any = 0;

	item_start(d, 0);
	printf("done:");
	for (int i = 0; i < d->nev; i++) {
		const struct ev *e = &d->ev[i];
		char at[40];
		if (!e->what[0] || !of(e, fp))
			continue;
		if (!any && d->f == HTML)
			printf("<ul style=\"margin:0\">");
		else if (!any)
			putchar('\n');
		any = 1;
		item_start(d, 1);
		bb_time_format(e->at, at, sizeof at);
		printf("%s ", at), putz(d->f, e->what);
		item_end(d);
	}
	if (!any)
		printf(" nothing in the window"), item_end(d);
	else if (d->f == HTML)
		printf("</ul></li>\n");
}

static void alert_body(const struct digest *d, int r, struct bb_jdoc *doc)
{
	if (d->f == HTML)
		printf("<ul style=\"margin:0 0 8px;padding-left:20px\">\n");
	item_start(d, 0), prices(d, r), item_end(d);
	reasons(d, r, doc);
	done(d, r);
	printf(d->f == HTML ? "</ul>\n" : d->f == MARKDOWN ? "\n" : "");
}

static void place_head(const struct digest *d, int r)
{
	printf(d->f == TEXT ? "\n" : d->f == MARKDOWN ? "## " : "<h2 style=\"font-size:16px;margin:20px 0 0;"
			      "border-bottom:1px solid #ccc\">");
	cell(d, r, BB_AC_ASIN);
	printf(" ");
	cell(d, r, BB_AC_MARKETPLACE);
	printf(d->f == TEXT ? "\n" : d->f == MARKDOWN ? "\n\n" : "</h2>\n");
}

static int same_place(const struct bb_rows *r, int i, int j)
{
	return strcmp(bb_db_value(r, i, BB_AC_ASIN), bb_db_value(r, j, BB_AC_ASIN)) == 0 &&
	       strcmp(bb_db_value(r, i, BB_AC_MARKETPLACE), bb_db_value(r, j, BB_AC_MARKETPLACE)) == 0;
}

static void summary(const struct digest *d)
{
	int n = bb_db_nrows(d->alerts), places = 0, open = 0;
	for (int i = 0; i < n; i++) {
		places += i == 0 || !same_place(d->alerts, i, i - 1);
		open += strcmp(bb_db_value(d->alerts, i, BB_AC_STATUS), "resolved") != 0;
	}
	printf("%s to %s: %d alert%s on %d ASIN%s, %d open\n", d->since, d->until, n, n == 1 ? "" : "s", places,
	       places == 1 ? "" : "s", open);
}

static void layout(const struct digest *d, struct bb_jdoc *doc)
{
	if (d->f == HTML)
		printf("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>bb alert digest</title></head>\n"
		       "<body style=\"font-family:Helvetica,Arial,sans-serif;font-size:14px;color:#222\">\n"
		       "<h1 style=\"font-size:20px\">bb alert digest</h1>\n<p>");
	else
		printf(d->f == MARKDOWN ? "# bb alert digest\n\n" : "bb alert digest\n");
	summary(d);
	printf(d->f == HTML ? "</p>\n" : "");
	for (int r = 0; r < bb_db_nrows(d->alerts); r++) {
		if (d->f == MARKDOWN && r == 0)
			putchar('\n');
		if (r == 0 || !same_place(d->alerts, r, r - 1))
			place_head(d, r);
		alert_head(d, r);
		alert_body(d, r, doc);
	}
	printf(d->f == HTML ? "</body></html>\n" : "");
}

/* ndjson: {"alert": {…as list --format ndjson…}, "events": [{"created_at", "payload"}]} per alert. */
static void ndjson(const struct digest *d)
{
	struct bb_jw w;
	bb_jw_init(&w);
	for (int r = 0; r < bb_db_nrows(d->alerts); r++) {
		struct bb_str fp = bb_db_text(d->alerts, r, BB_AC_FINGERPRINT);
		bb_jw_reset(&w);
		bb_jw_obj(&w);
		bb_jw_key(&w, "alert");
		alert_json(&w, d->alerts, r, 0);
		bb_jw_key(&w, "events");
		bb_jw_arr(&w);
		for (int i = 0; i < d->nev; i++)
			if (of(&d->ev[i], fp)) {
				bb_jw_obj(&w);
				bb_jw_ktime(&w, "created_at", d->ev[i].at);
				bb_jw_key(&w, "payload");
				bb_jw_raw(&w, d->ev[i].raw.p, d->ev[i].raw.n);
				bb_jw_end(&w, '}');
			}
		bb_jw_end(&w, ']');
		bb_jw_end(&w, '}');
		fwrite(w.buf, 1, w.len, stdout);
		putchar('\n');
	}
	bb_jw_free(&w);
}

static int format_of(const char *s, enum format *f)
{
	static const char *const names[] = { "text", "markdown", "html", "ndjson" };
	for (int i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0)
			return *f = (enum format)i, 0;
	bb_say("--format '%s': expected text, markdown, html or ndjson", s);
	return BB_EX_USAGE;
}

int run_digest(struct app *a)
{
	struct digest d = { .a = a };
	struct bb_jdoc *doc = bb_json_new();
	int64_t now = app_now(a), since = now - (a->since_ms > 0 ? a->since_ms : 86400000);
	int rc = format_of(a->format ? a->format : "text", &d.f);

	if (rc == 0 && a->nargs > 0) {
		bb_say("digest: unexpected argument '%s'", a->args[0]);
		rc = BB_EX_USAGE;
	}
	bb_time_format(since, d.since, sizeof d.since);
	bb_time_format(now, d.until, sizeof d.until);
	if (rc == 0 && (bb_alert_digest(a->db, since, now, &d.alerts, &d.events) != BB_DB_OK))
		rc = bb_fatal(BB_EX_TEMPFAIL, "unable to read alerts from '%s': %s", bb_db_name(a->db),
			      bb_db_errmsg(a->db));
	if (rc == 0 && (!doc || read_events(&d, doc) != 0))
		rc = bb_fatal(BB_EX_SOFTWARE, "unable to allocate memory: out of memory");
	if (rc == 0 && d.f == NDJSON)
		ndjson(&d);
	else if (rc == 0)
		layout(&d, doc);
	for (int i = 0; i < d.nev; i++)
		free(d.ev[i].fp);
	free(d.ev);
	bb_db_rows_free(d.alerts);
	bb_db_rows_free(d.events);
	bb_json_free(doc);
	return rc;
}
