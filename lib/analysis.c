/* analysis.c: the analysis read from and written to a record. The writer
 * fixes the member order of SEVERITY.md; the reader checks each member's
 * type, so a stage after bb-severity can trust what it reads. */
#include "analysis.h"
#include "parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int bb_analysis_reserve(struct bb_analysis *a, size_t reasons, size_t flags, size_t recommended)
{
	return bb_reserve((void **)&a->reasons, &a->reasons_cap, reasons, sizeof *a->reasons) ||
	       bb_reserve((void **)&a->risk_flags, &a->flags_cap, flags, sizeof *a->risk_flags) ||
	       bb_reserve((void **)&a->recommended, &a->recommended_cap, recommended, sizeof *a->recommended) ? -1 : 0;
}

void bb_analysis_clear(struct bb_analysis *a)
{
	struct bb_analysis keep = *a;

	memset(a, 0, sizeof *a);
	a->reasons = keep.reasons, a->reasons_cap = keep.reasons_cap;
	a->risk_flags = keep.risk_flags, a->flags_cap = keep.flags_cap;
	a->recommended = keep.recommended, a->recommended_cap = keep.recommended_cap;
	a->priority = a->our_price = a->market_low = a->prime_low = a->buy_box_price = BB_NONE;
	a->total_offers = a->offers_listed = a->position = a->position_percentile = a->gap_pct = BB_NONE;
	a->min_viable_price = a->margin_at_current = a->margin_at_market_low = BB_NONE;
	a->margin_at_prime_low = a->estimated_daily_sales = BB_NONE;
}

void bb_analysis_free(struct bb_analysis *a)
{
	free(a->reasons);
	free(a->risk_flags);
	free(a->recommended);
	memset(a, 0, sizeof *a);
}

int bb_severity_priority(struct bb_str severity)
{
	static const char *const order[] = { "CRITICAL", "HIGH", "WARNING", "SUCCESS", "STABLE" };
	for (int i = 0; i < 5; i++)
		if (bb_str_eq(severity, order[i]))
			return i + 1;
	return 0;
}

/* ---- writing ---- */

static void kint(struct bb_jw *w, const char *key, int64_t v)
{
	bb_jw_kint_or_null(w, key, v, v != BB_NONE);
}

/* Hundredths as the shortest decimal: the number jq printed when this was
 * a double divided by 100. */
static void khundredths(struct bb_jw *w, const char *key, int64_t v)
{
	char b[32];

	bb_jw_key(w, key);
	if (v == BB_NONE) {
		bb_jw_null(w);
		return;
	}
	bb_format_fixed(v, 2, b, sizeof b);
	bb_jw_raw(w, b, strlen(b));
}

static void kstrs(struct bb_jw *w, const char *key, const struct bb_str *s, size_t n)
{
	bb_jw_key(w, key);
	bb_jw_arr(w);
	for (size_t i = 0; i < n; i++)
		bb_jw_str(w, s[i].p, s[i].n);
	bb_jw_end(w, ']');
}

static void krecommended(struct bb_jw *w, const struct bb_analysis *a)
{
	bb_jw_key(w, "recommended_prices");
	bb_jw_arr(w);
	for (size_t i = 0; i < a->nrecommended; i++) {
		const struct bb_recommendation *r = &a->recommended[i];
		bb_jw_obj(w);
		bb_jw_kview(w, "strategy", r->strategy);
		kint(w, "price", r->price);
		khundredths(w, "margin_pct", r->margin_pct);
		bb_jw_end(w, '}');
	}
	bb_jw_end(w, ']');
}

void bb_analysis_write(struct bb_jw *w, const struct bb_analysis *a)
{
	bb_jw_obj(w);
	bb_jw_kview(w, "severity", a->severity);
	kint(w, "priority", a->priority);
	bb_jw_kview(w, "rule", a->rule);
	kstrs(w, "reasons", a->reasons, a->nreasons);
	kint(w, "our_price", a->our_price);
	kint(w, "market_low", a->market_low);
	bb_jw_kview(w, "market_low_seller", a->market_low_seller);
	kint(w, "prime_low", a->prime_low);
	kint(w, "buy_box_price", a->buy_box_price);
	kint(w, "total_offers", a->total_offers);
	kint(w, "offers_listed", a->offers_listed);
	kint(w, "position", a->position);
	khundredths(w, "position_percentile", a->position_percentile);
	khundredths(w, "gap_pct", a->gap_pct);
	bb_jw_kbool(w, "buy_box_winner", a->buy_box_winner);
	kint(w, "min_viable_price", a->min_viable_price);
	khundredths(w, "margin_at_current", a->margin_at_current);
	khundredths(w, "margin_at_market_low", a->margin_at_market_low);
	khundredths(w, "margin_at_prime_low", a->margin_at_prime_low);
	khundredths(w, "estimated_daily_sales", a->estimated_daily_sales);
	kstrs(w, "risk_flags", a->risk_flags, a->nflags);
	krecommended(w, a);
	bb_jw_end(w, '}');
}

/* ---- reading ---- */

static struct bb_str str(struct bb_why *r, struct bb_jval o, const char *key, const char *path, int nullable)
{
	struct bb_jval v = bb_json_getz(o, key);
	struct bb_str s = bb_str_of(v);
	if (!s.p && !(nullable && bb_json_type(v) == BB_JNULL))
		bb_why_expected(r, path, nullable ? "a string or null" : "a string");
	return s;
}

static int64_t integer(struct bb_why *r, struct bb_jval o, const char *key, const char *path, int nullable)
{
	struct bb_jval v = bb_json_getz(o, key);
	int64_t i;
	if (bb_json_int64(v, &i) == 0 && i != BB_NONE)
		return i;
	if (!(nullable && bb_json_type(v) == BB_JNULL))
		bb_why_expected(r, path, nullable ? "an integer or null" : "an integer");
	return BB_NONE;
}

/* A number with at most two decimals, as hundredths; what the writer wrote. */
static int64_t hundredths(struct bb_why *r, struct bb_jval o, const char *key, const char *path)
{
	struct bb_jval v = bb_json_getz(o, key);
	const char *s;
	size_t n;
	int64_t h;

	if (bb_json_type(v) == BB_JNULL)
		return BB_NONE;
	if (bb_json_number_text(v, &s, &n) == 0) {
		int neg = n > 0 && *s == '-';
		/* at most 16 characters: the scaled value stays within 64 bits */
		if (n - (size_t)neg <= 16 && bb_parse_fixed(s + neg, n - (size_t)neg, 2, &h) == 0)
			return neg ? -h : h;
	}
	bb_why_expected(r, path, "a number with at most two decimals, or null");
	return BB_NONE;
}

/* An array of strings into views grown to fit. */
static size_t strs(struct bb_why *r, struct bb_jval o, const char *key, struct bb_str **arr, size_t *cap)
{
	struct bb_jval v = bb_json_getz(o, key);
	size_t i = 0;

	if (bb_json_type(v) != BB_JARRAY) {
		bb_why_expected(r, key, "an array of strings");
		return 0;
	}
	if (bb_reserve((void **)arr, cap, bb_json_count(v), sizeof **arr)) {
		bb_why_expected(r, key, "fewer elements (out of memory)");
		return 0;
	}
	for (struct bb_jval e = bb_json_first(v); bb_json_type(e) != BB_JNONE; e = bb_json_next(e)) {
		(*arr)[i] = bb_str_of(e);
		if (!(*arr)[i++].p)
			bb_why_expected(r, key, "an array of strings");
	}
	return i;
}

static void read_recommended(struct bb_why *r, struct bb_jval o, struct bb_analysis *a)
{
	struct bb_jval v = bb_json_getz(o, "recommended_prices");
	size_t i = 0;

	if (bb_json_type(v) != BB_JARRAY) {
		bb_why_expected(r, "recommended_prices", "an array");
		return;
	}
	if (bb_reserve((void **)&a->recommended, &a->recommended_cap, bb_json_count(v), sizeof *a->recommended)) {
		bb_why_expected(r, "recommended_prices", "fewer elements (out of memory)");
		return;
	}
	for (struct bb_jval e = bb_json_first(v); bb_json_type(e) != BB_JNONE; e = bb_json_next(e)) {
		struct bb_recommendation *x = &a->recommended[i++];
		if (bb_json_type(e) != BB_JOBJECT)
			bb_why_expected(r, "recommended_prices[]", "an object");
		x->strategy = str(r, e, "strategy", "recommended_prices[].strategy", 0);
		x->price = integer(r, e, "price", "recommended_prices[].price", 0);
		x->margin_pct = hundredths(r, e, "margin_pct", "recommended_prices[].margin_pct");
	}
	a->nrecommended = i;
}

static void read_market(struct bb_why *r, struct bb_jval v, struct bb_analysis *a)
{
	a->our_price = integer(r, v, "our_price", "our_price", 1);
	a->market_low = integer(r, v, "market_low", "market_low", 1);
	a->market_low_seller = str(r, v, "market_low_seller", "market_low_seller", 1);
	a->prime_low = integer(r, v, "prime_low", "prime_low", 1);
	a->buy_box_price = integer(r, v, "buy_box_price", "buy_box_price", 1);
	a->total_offers = integer(r, v, "total_offers", "total_offers", 0);
	a->offers_listed = integer(r, v, "offers_listed", "offers_listed", 0);
	a->position = integer(r, v, "position", "position", 1);
	a->position_percentile = hundredths(r, v, "position_percentile", "position_percentile");
	a->gap_pct = hundredths(r, v, "gap_pct", "gap_pct");
	if (bb_json_bool(bb_json_getz(v, "buy_box_winner"), &a->buy_box_winner) != 0)
		bb_why_expected(r, "buy_box_winner", "true or false");
}

static void read_costs(struct bb_why *r, struct bb_jval v, struct bb_analysis *a)
{
	a->min_viable_price = integer(r, v, "min_viable_price", "min_viable_price", 1);
	a->margin_at_current = hundredths(r, v, "margin_at_current", "margin_at_current");
	a->margin_at_market_low = hundredths(r, v, "margin_at_market_low", "margin_at_market_low");
	a->margin_at_prime_low = hundredths(r, v, "margin_at_prime_low", "margin_at_prime_low");
	a->estimated_daily_sales = hundredths(r, v, "estimated_daily_sales", "estimated_daily_sales");
}

int bb_analysis_read(struct bb_jval v, struct bb_analysis *a, char *why, size_t whylen)
{
	struct bb_why r = { why, whylen, "analysis", 0 };

	bb_analysis_clear(a);
	if (bb_json_type(v) != BB_JOBJECT) {
		snprintf(why, whylen, "analysis: expected an object, got %s", bb_json_type_name(bb_json_type(v)));
		return -1;
	}
	a->severity = str(&r, v, "severity", "severity", 0);
	if (a->severity.p && !bb_severity_priority(a->severity))
		bb_why_expected(&r, "severity", "CRITICAL, HIGH, WARNING, SUCCESS or STABLE");
	a->priority = integer(&r, v, "priority", "priority", 0);
	a->rule = str(&r, v, "rule", "rule", 0);
	a->nreasons = strs(&r, v, "reasons", &a->reasons, &a->reasons_cap);
	read_market(&r, v, a);
	read_costs(&r, v, a);
	a->nflags = strs(&r, v, "risk_flags", &a->risk_flags, &a->flags_cap);
	read_recommended(&r, v, a);
	return r.bad ? -1 : 0;
}
