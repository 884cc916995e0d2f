/* doc.c: an alert as JSON, the one shape list --format ndjson prints and a
 * delivery document carries (ALERTS.md "Delivery"). */
#include "bbalert.h"
#include "timeutil.h"

#include <stdlib.h>
#include <string.h>

int64_t row_time(const struct bb_rows *r, int i, int col)
{
	struct bb_str s = bb_db_text(r, i, col);
	int64_t ms;
	return s.p && bb_time_parse_loose(s.p, s.n, &ms) == 0 ? ms : -1;
}

static void kcol(struct bb_jw *w, const char *key, const struct bb_rows *r, int i, int col)
{
	struct bb_str s = bb_db_text(r, i, col);
	bb_jw_key(w, key);
	if (s.p)
		bb_jw_str(w, s.p, s.n);
	else
		bb_jw_null(w);
}

static void kint(struct bb_jw *w, const char *key, const struct bb_rows *r, int i, int col)
{
	const char *v = bb_db_value(r, i, col);
	bb_jw_kint_or_null(w, key, v ? strtoll(v, NULL, 10) : 0, v != NULL);
}

static void ktime(struct bb_jw *w, const char *key, const struct bb_rows *r, int i, int col)
{
	bb_jw_ktime(w, key, row_time(r, i, col));
}

/* A number or JSON text the database wrote, as it is; null when NULL. */
static void kraw(struct bb_jw *w, const char *key, const struct bb_rows *r, int i, int col)
{
	struct bb_str s = bb_db_text(r, i, col);
	bb_jw_key(w, key);
	if (s.p && s.n)
		bb_jw_raw(w, s.p, s.n);
	else
		bb_jw_null(w);
}

/* current_state's view of the alert's place; money in minor units, as in records. */
static void state_json(struct bb_jw *w, const struct bb_rows *r, int i)
{
	const char *bbw = bb_db_value(r, i, BB_AC_BUY_BOX_WINNER);
	bb_jw_obj(w);
	kcol(w, "currency", r, i, BB_AC_CURRENCY);
	kint(w, "our_price", r, i, BB_AC_OUR_PRICE);
	kint(w, "market_low", r, i, BB_AC_MARKET_LOW);
	kraw(w, "gap_pct", r, i, BB_AC_GAP_PCT);
	kint(w, "position", r, i, BB_AC_POSITION);
	kint(w, "total_offers", r, i, BB_AC_TOTAL_OFFERS);
	bb_jw_key(w, "buy_box_winner");
	if (bbw)
		bb_jw_bool(w, strcmp(bbw, "1") == 0);
	else
		bb_jw_null(w);
	kcol(w, "rule", r, i, BB_AC_RULE);
	kraw(w, "reasons", r, i, BB_AC_REASONS);
	bb_jw_end(w, '}');
}

/* The alert of row i as a JSON object (list --format ndjson, and the delivery document). */

void alert_json(struct bb_jw *w, const struct bb_rows *r, int i, int with_analysis)
{
	static const struct { const char *key; int col; } strs[] = {
		{ "id", BB_AC_ID }, { "fingerprint", BB_AC_FINGERPRINT }, { "asin", BB_AC_ASIN },
		{ "marketplace", BB_AC_MARKETPLACE }, { "severity", BB_AC_SEVERITY }, { "queue_type", BB_AC_QUEUE },
		{ "status", BB_AC_STATUS },
	};
	bb_jw_obj(w);
	for (size_t k = 0; k < sizeof strs / sizeof *strs; k++)
		kcol(w, strs[k].key, r, i, strs[k].col);
	kint(w, "occurrences", r, i, BB_AC_OCCURRENCES);
	ktime(w, "first_seen", r, i, BB_AC_FIRST_SEEN);
	ktime(w, "last_seen", r, i, BB_AC_LAST_SEEN);
	ktime(w, "scheduled_delivery", r, i, BB_AC_SCHEDULED);
	ktime(w, "snooze_until", r, i, BB_AC_SNOOZE_UNTIL);
	kint(w, "attempts", r, i, BB_AC_ATTEMPTS);
	kcol(w, "delivery_id", r, i, BB_AC_DELIVERY_ID);
	ktime(w, "delivered_at", r, i, BB_AC_DELIVERED_AT);
	ktime(w, "acked_at", r, i, BB_AC_ACKED_AT);
	kcol(w, "acked_by", r, i, BB_AC_ACKED_BY);
	kint(w, "escalation_level", r, i, BB_AC_ESCALATION);
	kcol(w, "last_error", r, i, BB_AC_LAST_ERROR);
	bb_jw_key(w, "state");
	state_json(w, r, i);
	if (with_analysis) {
		struct bb_str an = bb_db_text(r, i, BB_AC_ANALYSIS);
		bb_jw_key(w, "analysis");
		if (an.p)
			bb_jw_raw(w, an.p, an.n);
		else
			bb_jw_null(w);
	}
	bb_jw_end(w, '}');
}
