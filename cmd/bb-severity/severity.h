/* severity.h: the competitive analysis of SEVERITY.md. Every amount is in
 * minor units; every percentage threshold in hundredths of a percent. */
#ifndef BB_SEVERITY_H
#define BB_SEVERITY_H

#include "analysis.h"
#include "notification.h"

#include <stddef.h>
#include <stdint.h>

enum threshold {
	T_CRITICAL_MIN_OFFERS, T_CRITICAL_MIN_GAP_PCT, T_CRITICAL_MIN_PERCENTILE,
	T_CRITICAL_MIN_DAILY_SALES, T_HIGH_MIN_OFFERS, T_HIGH_MIN_GAP_PCT,
	T_HIGH_MAX_WINNER_MARGIN_PCT, T_WARNING_MIN_OFFERS, T_WARNING_MIN_GAP_PCT,
	T_WARNING_MIN_POSITION, T_WARNING_MAX_MARKET_LOW_MARGIN_PCT, T_SUCCESS_MAX_OFFERS,
	T_SUCCESS_MAX_POSITION, T_SUCCESS_MAX_GAP_PCT, T_COUNT
};

extern const char *const threshold_names[T_COUNT];
extern const int64_t threshold_defaults[T_COUNT]; /* in hundredths */

struct cost {
	char *asin, *marketplace;
	size_t asin_n, marketplace_n; /* their lengths, for lookups by a record's views */
	char currency[4];
	int64_t unit_cost, fulfillment_fee, other_fees, min_referral_fee; /* minor units */
	int64_t referral_bp;  /* hundredths of a percent: 15% -> 1500 */
	int64_t daily_sales;  /* hundredths, -1 when the cell is empty or the column absent */
	size_t line;          /* where it stands in the file, for messages */
};

struct costs {
	struct cost *rows;
	size_t n;
};

/* Load a cost table. On error, err holds "FILE:LINE: message". */
int costs_load(struct costs *c, const char *path, char *err, size_t errlen);
void costs_free(struct costs *c);
/* The row for (asin, marketplace): exact beats (asin, "*"). NULL when none. */
const struct cost *costs_find(const struct costs *c, struct bb_str asin, struct bb_str marketplace);

struct analysis_conf {
	int64_t t[T_COUNT];
	const char **sellers; /* our seller ids; none: the notification's SellerId */
	int nsellers;
	const struct costs *costs;
	int rank_curve;       /* [analysis] rank_curve = A,B is set */
	double rank_a, rank_b;
};

/* The most reasons a rule gives (critical-downgraded: five), and room for
 * the longest: words and numbers only, never a string from the record. */
#define REASONS_MAX 6
#define REASON_LEN 160

/* An analysis and the text its reasons point into, reused for every record. */
struct analysis_out {
	struct bb_analysis a;
	char text[REASONS_MAX][REASON_LEN];
};

/* Room for the analysis of any notification: 0, or -1 out of memory. */
int analysis_out_init(struct analysis_out *out);
void analysis_out_free(struct analysis_out *out);

/* Analyse a normalised notification into out->a, whose strings then point
 * into n, out and static text. *currency_mismatch is set when a cost row
 * exists in another currency than the notification's. */
void analyse(const struct bb_notification *n, const struct analysis_conf *conf,
	     struct analysis_out *out, int *currency_mismatch);

#endif
