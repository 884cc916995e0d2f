/* list.c: alerts for people (aligned columns) and for programs (NDJSON),
 * and one alert with its timeline. */
#include "bbalert.h"
#include "exitcode.h"
#include "json.h"
#include "jwrite.h"
#include "log.h"
#include "money.h"
#include "timeutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NCOLS 10
static const char *const heads[NCOLS] = { "ID", "SEVERITY", "ASIN", "MARKETPLACE", "STATUS", "OCC", "AGE",
					  "OUR PRICE", "MARKET LOW", "REASON" };

void money_text(const char *currency, const char *minor, char *buf, size_t size)
{
	if (currency && minor)
		bb_money_text(strtoll(minor, NULL, 10), currency, strlen(currency), buf, size);
	else
		snprintf(buf, size, "-");
}

void age_text(int64_t ms, char *buf, size_t size)
{
	int64_t m = ms < 0 ? 0 : ms / 60000;
	if (m < 60)
		snprintf(buf, size, "%lldm", (long long)m);
	else if (m < 48 * 60)
		snprintf(buf, size, "%lldh%02lldm", (long long)(m / 60), (long long)(m % 60));
	else
		snprintf(buf, size, "%lldd%02lldh", (long long)(m / 1440), (long long)(m / 60 % 24));
}

static const char *or_dash(const char *s)
{
	return s ? s : "-";
}

static size_t common(const char *x, const char *y)
{
	size_t k = 0;
	while (x[k] && x[k] == y[k])
		k++;
	return k;
}

struct idrow {
	const char *id;
	int row;
};

static int by_id(const void *x, const void *y)
{
	return strcmp(((const struct idrow *)x)->id, ((const struct idrow *)y)->id);
}

/* For each row, how many of its id's characters tell it from every other
 * listed id: at least 8 (ids are time-ordered, so alerts raised in one
 * minute share their first 8). Sorted, an id's nearest are its neighbours. */
static size_t *short_lens(const struct bb_rows *r)
{
	int n = bb_db_nrows(r);
	struct idrow *ids = calloc((size_t)n + 1, sizeof *ids);
	size_t *len = calloc((size_t)n + 1, sizeof *len);

	if (!ids || !len) {
		free(ids), free(len);
		return NULL;
	}
	for (int i = 0; i < n; i++)
		ids[i] = (struct idrow){ bb_db_value(r, i, BB_AC_ID), i };
	qsort(ids, (size_t)n, sizeof *ids, by_id);
	for (int i = 0; i < n; i++) {
		size_t k = 8, c;
		if (i > 0 && (c = common(ids[i].id, ids[i - 1].id) + 1) > k)
			k = c;
		if (i + 1 < n && (c = common(ids[i].id, ids[i + 1].id) + 1) > k)
			k = c;
		len[ids[i].row] = k;
	}
	free(ids);
	return len;
}

/* Row i's cells, each malloc'd. */
static void cells(const struct app *a, const struct bb_rows *r, int i, size_t idlen, char **c)
{
	char buf[64];
	c[0] = strndup(bb_db_value(r, i, BB_AC_ID), idlen);
	c[1] = strdup(bb_db_value(r, i, BB_AC_SEVERITY));
	c[2] = strdup(bb_db_value(r, i, BB_AC_ASIN));
	c[3] = strdup(bb_db_value(r, i, BB_AC_MARKETPLACE));
	c[4] = strdup(bb_db_value(r, i, BB_AC_STATUS));
	c[5] = strdup(bb_db_value(r, i, BB_AC_OCCURRENCES));
	age_text(app_now(a) - row_time(r, i, BB_AC_FIRST_SEEN), buf, sizeof buf);
	c[6] = strdup(buf);
	money_text(bb_db_value(r, i, BB_AC_CURRENCY), bb_db_value(r, i, BB_AC_OUR_PRICE), buf, sizeof buf);
	c[7] = strdup(buf);
	money_text(bb_db_value(r, i, BB_AC_CURRENCY), bb_db_value(r, i, BB_AC_MARKET_LOW), buf, sizeof buf);
	c[8] = strdup(buf);
	c[9] = strdup(or_dash(bb_db_value(r, i, BB_AC_REASON)));
}

static void print_row(char *const *c, const int *width)
{
	for (int k = 0; k < NCOLS; k++)
		if (k == NCOLS - 1)
			printf("%s\n", c[k] ? c[k] : "?");
		else
			printf("%-*s  ", width[k], c[k] ? c[k] : "?");
}

static void list_text(const struct app *a, const struct bb_rows *r)
{
	int n = bb_db_nrows(r), width[NCOLS];
	char **c = calloc((size_t)(n + 1) * NCOLS, sizeof *c);
	size_t *idlen = short_lens(r);

	if (!c || !idlen) {
		free(c), free(idlen);
		return;
	}
	for (int k = 0; k < NCOLS; k++)
		c[k] = strdup(heads[k]);
	for (int i = 0; i < n; i++)
		cells(a, r, i, idlen[i], c + (i + 1) * NCOLS);
	for (int k = 0; k < NCOLS; k++) {
		width[k] = 0;
		for (int i = 0; i <= n; i++)
			if (c[i * NCOLS + k] && (int)strlen(c[i * NCOLS + k]) > width[k])
				width[k] = (int)strlen(c[i * NCOLS + k]);
	}
	for (int i = 0; i <= n; i++)
		print_row(c + i * NCOLS, width);
	for (int i = 0; i < (n + 1) * NCOLS; i++)
		free(c[i]);
	free(c);
	free(idlen);
}

static int list_ndjson(const struct bb_rows *r)
{
	struct bb_jw w;
	int rc = 0;

	bb_jw_init(&w);
	for (int i = 0; rc == 0 && i < bb_db_nrows(r); i++) {
		bb_jw_reset(&w);
		alert_json(&w, r, i, 1);
		rc = w.oom ? -1 : (fwrite(w.buf, 1, w.len, stdout) == w.len && putchar('\n') != EOF) ? 0 : -1;
	}
	bb_jw_free(&w);
	return rc == 0 ? 0 : bb_fatal(BB_EX_IOERR, "unable to write standard output: %s", strerror(errno));
}

int run_list(struct app *a)
{
	struct bb_rows *rows;
	const char *f = a->format ? a->format : "text";
	int rc;

	if (strcmp(f, "text") != 0 && strcmp(f, "ndjson") != 0) {
		bb_say("--format '%s': expected text or ndjson", f);
		return BB_EX_USAGE;
	}
	if (a->nargs > 0) {
		bb_say("list: unexpected argument '%s'", a->args[0]);
		return BB_EX_USAGE;
	}
	if (bb_alert_list(a->db, &a->filter, &rows) != BB_DB_OK)
		return bb_fatal(BB_EX_TEMPFAIL, "unable to list alerts in '%s': %s", bb_db_name(a->db),
				bb_db_errmsg(a->db));
	if (strcmp(f, "text") == 0)
		list_text(a, rows);
	else
		rc = list_ndjson(rows);
	rc = strcmp(f, "text") == 0 ? 0 : rc;
	bb_db_rows_free(rows);
	return rc;
}

/* ---- show ---- */

static void show_line(const char *label, const char *value)
{
	printf("%-14s %s\n", label, value ? value : "-");
}

static void show_time(const char *label, const struct bb_rows *r, int col)
{
	char buf[40];
	int64_t ms = row_time(r, 0, col);
	if (ms >= 0)
		bb_time_format(ms, buf, sizeof buf);
	show_line(label, ms >= 0 ? buf : NULL);
}

static void show_alert(const struct bb_rows *r)
{
	static const struct { const char *label; int col; } plain[] = {
		{ "id", BB_AC_ID }, { "fingerprint", BB_AC_FINGERPRINT }, { "asin", BB_AC_ASIN },
		{ "marketplace", BB_AC_MARKETPLACE }, { "severity", BB_AC_SEVERITY }, { "queue", BB_AC_QUEUE },
		{ "status", BB_AC_STATUS }, { "occurrences", BB_AC_OCCURRENCES }, { "attempts", BB_AC_ATTEMPTS },
		{ "delivery_id", BB_AC_DELIVERY_ID }, { "acked_by", BB_AC_ACKED_BY },
		{ "escalation", BB_AC_ESCALATION }, { "last_error", BB_AC_LAST_ERROR }, { "rule", BB_AC_RULE },
	};
	static const struct { const char *label; int col; } times[] = {
		{ "first_seen", BB_AC_FIRST_SEEN }, { "last_seen", BB_AC_LAST_SEEN }, { "scheduled", BB_AC_SCHEDULED },
		{ "snooze_until", BB_AC_SNOOZE_UNTIL }, { "delivered_at", BB_AC_DELIVERED_AT },
		{ "acked_at", BB_AC_ACKED_AT },
	};
	char buf[64];
	for (size_t k = 0; k < sizeof plain / sizeof *plain; k++)
		show_line(plain[k].label, bb_db_value(r, 0, plain[k].col));
	for (size_t k = 0; k < sizeof times / sizeof *times; k++)
		show_time(times[k].label, r, times[k].col);
	money_text(bb_db_value(r, 0, BB_AC_CURRENCY), bb_db_value(r, 0, BB_AC_OUR_PRICE), buf, sizeof buf);
	show_line("our_price", buf);
	money_text(bb_db_value(r, 0, BB_AC_CURRENCY), bb_db_value(r, 0, BB_AC_MARKET_LOW), buf, sizeof buf);
	show_line("market_low", buf);
	show_line("reason", bb_db_value(r, 0, BB_AC_REASON));
}

/* A payload member as text, "-" when absent or null. */
static void member(struct bb_jval root, const char *key, char *buf, size_t size)
{
	const char *s;
	size_t n;
	if (bb_json_string(bb_json_getz(root, key), &s, &n) == 0)
		snprintf(buf, size, "%.*s", (int)(n > 200 ? 200 : n), s);
	else
		snprintf(buf, size, "-");
}

/* One event: TIME ACTION FROM -> TO by BY: NOTE (REASON). */
static void show_event(struct bb_jdoc *doc, const struct bb_rows *r, int i)
{
	char at[40], action[64], from[32], to[32], by[210], note[210], reason[210], kind[32];
	int64_t level;
	struct bb_str p = bb_db_text(r, i, 1);
	struct bb_jval root;
	struct bb_jerr err;
	int64_t ms = row_time(r, i, 0);

	bb_time_format(ms, at, sizeof at);
	if (bb_json_parse(doc, p.p, p.n, &root, &err) != 0) {
		printf("%s  ?\n", at);
		return;
	}
	member(root, "action", action, sizeof action), member(root, "from", from, sizeof from);
	member(root, "to", to, sizeof to), member(root, "by", by, sizeof by);
	member(root, "note", note, sizeof note), member(root, "reason", reason, sizeof reason);
	member(root, "kind", kind, sizeof kind);
	printf("%s  %-9s", at, action);
	if (strcmp(from, "-") != 0 || strcmp(to, "-") != 0)
		printf(" %s -> %s", from, to);
	if (bb_json_int64(bb_json_getz(root, "escalation_level"), &level) == 0)
		printf(" level %lld", (long long)level);
	if (strcmp(kind, "escalation") == 0)
		printf(" (the escalation)");
	if (strcmp(by, "-") != 0)
		printf(" by %s", by);
	if (strcmp(note, "-") != 0)
		printf(": %s", note);
	if (strcmp(reason, "-") != 0)
		printf(" (%s)", reason);
	putchar('\n');
}

static int show_timeline(struct app *a, struct bb_str fp)
{
	struct bb_rows *rows;
	struct bb_jdoc *doc = bb_json_new();

	if (!doc || bb_alert_timeline(a->db, fp, &rows) != BB_DB_OK) {
		bb_json_free(doc);
		return -1;
	}
	printf("\ntimeline\n");
	for (int i = 0; i < bb_db_nrows(rows); i++)
		show_event(doc, rows, i);
	bb_db_rows_free(rows);
	bb_json_free(doc);
	return 0;
}

int run_show(struct app *a)
{
	struct bb_rows *rows = NULL;
	char *id = NULL;
	int rc;

	if (a->nargs != 1) {
		bb_say("show: expected one alert id or fingerprint");
		return BB_EX_USAGE;
	}
	rc = bb_alert_find(a->db, (struct bb_str){ a->args[0], strlen(a->args[0]) }, &id);
	if (rc == BB_ALERT_NOT_FOUND || rc == BB_ALERT_AMBIGUOUS)
		return bb_fatal(BB_EX_DATAERR, "unable to show alert '%s': %s", a->args[0],
				rc == BB_ALERT_NOT_FOUND ? "no such alert" : "ambiguous id: more than one alert starts so");
	if (rc == BB_DB_OK)
		rc = bb_alert_get(a->db, (struct bb_str){ id, strlen(id) }, &rows);
	if (rc == BB_DB_OK && bb_db_nrows(rows) == 1) {
		show_alert(rows);
		rc = show_timeline(a, bb_db_text(rows, 0, BB_AC_FINGERPRINT));
	}
	bb_db_rows_free(rows);
	free(id);
	return rc == BB_DB_OK ? 0 : bb_fatal(BB_EX_TEMPFAIL, "unable to show alert '%s': %s", a->args[0],
					     bb_db_errmsg(a->db));
}
