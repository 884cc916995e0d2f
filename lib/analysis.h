/* analysis.h: the `analysis` member (bb-record(5), SEVERITY.md) as a C type.
 * bb-severity computes it and writes it; later stages read it back from the
 * record. Strings are views (length-delimited: a seller id may hold any
 * byte). Money is in the currency's minor unit; percentages and daily sales
 * are integer hundredths (9091 is 90.91 %), written as the shortest decimal
 * (90.91, 110, 0.05), so no floating point stands between a number computed
 * and the number read back. An unknown number is BB_NONE (JSON null). */
#ifndef BB_ANALYSIS_H
#define BB_ANALYSIS_H

#include "json.h"
#include "jwrite.h"
#include "notification.h"

#include <stddef.h>
#include <stdint.h>

struct bb_recommendation {
	struct bb_str strategy; /* match-low, beat-low, match-prime-low, match-buy-box */
	int64_t price;          /* minor units */
	int64_t margin_pct;     /* hundredths of a percent */
};

struct bb_analysis {
	struct bb_str severity, rule;
	int64_t priority;
	struct bb_str *reasons;
	size_t nreasons, reasons_cap;
	int64_t our_price, market_low;
	struct bb_str market_low_seller;
	int64_t prime_low, buy_box_price, total_offers, offers_listed, position;
	int64_t position_percentile, gap_pct; /* hundredths */
	int buy_box_winner;
	int64_t min_viable_price;
	int64_t margin_at_current, margin_at_market_low, margin_at_prime_low; /* hundredths */
	int64_t estimated_daily_sales; /* hundredths */
	struct bb_str *risk_flags;
	size_t nflags, flags_cap;
	struct bb_recommendation *recommended;
	size_t nrecommended, recommended_cap;
};

/* Room for so many reasons, flags and recommended prices (arrays kept
 * between records). 0, or -1 out of memory. */
int bb_analysis_reserve(struct bb_analysis *a, size_t reasons, size_t flags, size_t recommended);
void bb_analysis_clear(struct bb_analysis *a); /* every number null, arrays kept */
void bb_analysis_free(struct bb_analysis *a);

/* Read a record's `analysis` member. 0, or -1 with *why naming the member
 * that is missing or of the wrong type (analysis.gap_pct: …). */
int bb_analysis_read(struct bb_jval v, struct bb_analysis *a, char *why, size_t whylen);

/* Write the analysis object, its members in the order of SEVERITY.md. */
void bb_analysis_write(struct bb_jw *w, const struct bb_analysis *a);

/* The priority of a severity: CRITICAL 1, HIGH 2, WARNING 3, SUCCESS 4,
 * STABLE 5; 0 for anything else. */
int bb_severity_priority(struct bb_str severity);

#endif
