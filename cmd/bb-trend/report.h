/* report.h: the weekly report's content (TREND.md "The weekly report"),
 * gathered once from the rollups and findings of a week and the week
 * before, and written as text, Markdown, HTML or JSON. */
#ifndef BB_TREND_REPORT_H
#define BB_TREND_REPORT_H

#include "trend.h"

/* One ASIN's rollup, read back from its payload. */
struct roll {
	struct bb_str asin, mkt, payload;
	char currency[4];
	int partial;
	int64_t notifications, known, winner, critical;
	int64_t low_min, low_max, low_avg, ours_min, ours_max, ours_avg;
	int64_t share, threat;  /* buy-box share; CRITICAL + HIGH share (hundredths) */
	int64_t findings[K_KINDS], threat_findings;
	int64_t day_low[7], day_ours[7], day_share[7];
};

struct week_rolls {
	struct roll *r;
	size_t n;
	int64_t notifications, known, winner, critical;
	int partial;
	struct bb_rows *rows;
};

/* A table of text cells, rendered per format. */
struct table {
	const char *title, *empty; /* empty: what stands for no rows */
	int ncols;
	const char *const *head;
	char **cells; /* row by row */
	size_t nrows, cap;
};

struct report {
	struct app *a;
	int64_t start;
	char name[16], prev_name[16];
	struct week_rolls cur, prev;
	struct bb_rows *findings; /* kind, finding: the week's, in order */
	size_t *top;              /* indexes into cur.r, most threatened first */
	size_t ntop;
	struct table t[7];        /* summary, threats, wars, undercuts, followers, opportunities, ASINs */
	size_t ntables;
};

enum { T_SUMMARY, T_THREATS, T_WARS, T_UNDERCUTS, T_FOLLOWERS, T_OPPORTUNITIES, T_ASINS };

void render_text(const struct report *r, struct buf *b, int markdown);
int render_html(const struct report *r, struct buf *b);

/* "USD 21.00" in the roll's currency. */
void roll_money(const struct roll *x, int64_t v, char *buf, size_t size);

#endif
