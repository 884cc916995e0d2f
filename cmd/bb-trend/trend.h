/* trend.h: what the parts of bb-trend share: the options, the findings and
 * the weekly figures (an ASIN's series as TREND.md defines it is
 * lib/history.h's). Money is in minor units, times in milliseconds of
 * event time; NONE stands for an unknown number. */
#ifndef BB_TREND_H
#define BB_TREND_H

#include "conf.h"
#include "db.h"
#include "history.h"
#include "json.h"
#include "jwrite.h"
#include "str.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define NONE BB_HISTORY_NONE
#define MIN_MS INT64_C(60000)
#define HOUR_MS (60 * MIN_MS)
#define DAY_MS (24 * HOUR_MS)
#define WEEK_MS (7 * DAY_MS)

/* The thresholds of [trend] (TREND.md), percentages in hundredths. */
struct trend_conf {
	int64_t undercut_min_steps, undercut_max_step, undercut_max_gap;
	int64_t follow_period, follow_window, follow_min, follow_ratio;
	int64_t war_drop_pct, war_window, war_min_sellers;
	int64_t bb_lost_after, opportunity_min_pct;
	const char **sellers; /* our seller ids; none: each offer's stored "ours" */
	int nsellers;
};

struct app {
	struct bb_conf *conf;
	struct bb_db *db;
	struct trend_conf t;
	const char *cmd, **args;
	int nargs;
	int64_t now;          /* --now, BB_NOW or the clock */
	int64_t since, keep;  /* --since, --keep */
	const char *format, *marketplace, *asin, *week, *output;
	int record, top;
	char *sellers_copy;
};

/* ---- main.c: an ASIN's series (lib/history.h) ---- */

/* bb_history_load with our sellers: --seller-id, [analysis] seller_ids, or
 * each offer's stored "ours". */
int series_load(struct app *a, struct bb_history_place p, int64_t from, int64_t to, int64_t carry_ms, int offers,
		struct bb_history *s);

/* ---- detect.c ---- */

enum kind { K_UNDERCUT, K_FOLLOW, K_WAR, K_LOST, K_OPPORTUNITY, K_KINDS };
extern const char *const kind_names[K_KINDS];

int run_detect(struct app *a);

/* ---- rollup.c, report.c, html.c, history.c ---- */

/* An ISO week "YYYY-Www": its Monday 00:00 UTC. 0, or -1 when malformed. */
int week_parse(const char *s, int64_t *start);
void week_name(int64_t start, char *buf, size_t size);
/* The Monday 00:00 UTC of the week holding ms. */
int64_t week_of(int64_t ms);

/* The week --week names, else the last complete one before now. */
int64_t week_chosen(const struct app *a);

int run_rollup(struct app *a);
int run_report(struct app *a);
int run_history(struct app *a);
int run_prune(struct app *a);

/* ---- text.c: numbers and words for people ---- */

/* A growing text; oom once memory ran out. */
struct buf {
	char *p;
	size_t n, cap;
	int oom;
};
void buf_put(struct buf *b, const char *s, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s for HTML text or an attribute: & < > " escaped. */
void buf_html(struct buf *b, const char *s, size_t n);
/* s for a Markdown table cell: | and \ escaped. */
void buf_md(struct buf *b, const char *s, size_t n);
/* Printable bytes only: a control byte in a seller id never breaks a line. */
void buf_text(struct buf *b, const char *s, size_t n);

/* USD 21.00 (the place's currency), "-" when unknown. */
void money(int64_t v, struct bb_str currency, char *buf, size_t size);
/* Hundredths of a percent num/den, rounded half away from zero. */
int64_t percent_bp(int64_t num, int64_t den);
/* Hundredths as text: 3571 -> "35.71". */
void hundredths(int64_t v, char *buf, size_t size);
/* A member KEY (NULL: a bare value) whose value is hundredths as the
 * shortest decimal: 3571 -> 35.71, 10000 -> 100; null when NONE. */
void jw_pct(struct bb_jw *w, const char *key, int64_t bp);
/* 3 d 4 h, 1 h 40 min, 15 min, 45 s */
void duration_text(int64_t ms, char *buf, size_t size);
/* A sparkline of n values (NONE: a space), one character each. */
void sparkline(struct buf *b, const int64_t *v, size_t n);
/* Write the text to path atomically (a temporary file renamed over it), or
 * to stdout when path is NULL. 0, or an exit status (after the message). */
int write_out(const char *path, const struct buf *b);

/* Fail with the exit status a database error calls for. */
int db_fatal(struct app *a, int rc, const char *verb);

#endif
