/* analysis.c: SEVERITY.md, rule by rule. Every decision is an exact integer
 * comparison (cross-multiplied in 128 bits); floating point only ever makes
 * displayed numbers and the optional rank curve. */
#include "severity.h"
#include "parse.h"
#include "record.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef __int128 i128;

const char *const threshold_names[T_COUNT] = {
	"critical_min_offers", "critical_min_gap_pct", "critical_min_percentile",
	"critical_min_daily_sales", "high_min_offers", "high_min_gap_pct",
	"high_max_winner_margin_pct", "warning_min_offers", "warning_min_gap_pct",
	"warning_min_position", "warning_max_market_low_margin_pct", "success_max_offers",
	"success_max_position", "success_max_gap_pct",
};

const int64_t threshold_defaults[T_COUNT] = {
	1000, 5000, 8000, 100, 500, 2000, 1000, 300, 1000, 400, 500, 200, 300, 500,
};

#define NONE INT64_MIN /* a null value */

struct offer {
	const char *seller;
	int64_t landed;
	int prime, winner, ours;
};

/* What the rules read, computed once. */
struct facts {
	const struct analysis_conf *conf;
	struct offer *o;
	int n, ncomp;
	int ours;                /* index of our offer, -1 none */
	int64_t our_price, market_low, prime_low, buy_box_price, total_offers;
	int market_low_i;
	int winner;
	int64_t position, ranked;
	const struct cost *cost;
	int64_t min_viable, daily_sales; /* daily_sales in hundredths */
};

/* ---- costs and margins ---- */

static int64_t referral_fee(const struct cost *c, int64_t p)
{
	int64_t fee = (int64_t)(((i128)p * c->referral_bp + 5000) / 10000);
	return fee > c->min_referral_fee ? fee : c->min_referral_fee;
}

static int64_t profit(const struct cost *c, int64_t p)
{
	return p - referral_fee(c, p) - c->fulfillment_fee - c->other_fees - c->unit_cost;
}

/* margin(p) < t (hundredths of a percent); false when unknown */
static int margin_below(const struct facts *f, int64_t p, int64_t t)
{
	if (!f->cost || p == NONE || p <= 0)
		return 0;
	return (i128)10000 * profit(f->cost, p) < (i128)t * p;
}

/* margin(p) in hundredths of a percent, NONE when unknown */
static int64_t margin(const struct facts *f, int64_t p)
{
	if (!f->cost || p == NONE || p <= 0)
		return NONE;
	return bb_div_round(10000 * profit(f->cost, p), p);
}

static int64_t min_viable_price(const struct cost *c)
{
	int64_t lo = 1, hi = 1;

	if (!c || c->referral_bp >= 10000)
		return NONE;
	while (profit(c, hi) < 0) {
		if (hi > INT64_MAX / 4)
			return NONE;
		hi *= 2;
	}
	while (lo < hi) { /* profit never decreases as the price grows */
		int64_t mid = lo + (hi - lo) / 2;
		if (profit(c, mid) >= 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* ---- the conditions of the rules ---- */

static int gap_known(const struct facts *f)
{
	return f->our_price != NONE && f->market_low != NONE && f->market_low > 0;
}

static int gap_at_least(const struct facts *f, int64_t t)
{
	return gap_known(f) && (i128)10000 * (f->our_price - f->market_low) >= (i128)t * f->market_low;
}

static int gap_at_most(const struct facts *f, int64_t t)
{
	return gap_known(f) && (i128)10000 * (f->our_price - f->market_low) <= (i128)t * f->market_low;
}

static int percentile_at_least(const struct facts *f, int64_t t)
{
	if (f->position == NONE || f->ranked <= 1)
		return 0;
	return (i128)10000 * (f->position - 1) >= (i128)t * (f->ranked - 1);
}

static int count_at_least(int64_t v, int64_t t)
{
	return v != NONE && (i128)100 * v >= t;
}

static int count_at_most(int64_t v, int64_t t)
{
	return v != NONE && (i128)100 * v <= t;
}

/* ---- words and numbers for reasons ---- */

static const char *fixed(int64_t v, char *buf, size_t n)
{
	bb_format_fixed(v, 2, buf, n);
	return buf;
}

static jv pct_number(int64_t hundredths)
{
	return hundredths == NONE ? jv_null() : jv_number((double)hundredths / 100.0);
}

static jv money_number(int64_t v)
{
	return v == NONE ? jv_null() : jv_number((double)v);
}

static int64_t gap_hundredths(const struct facts *f)
{
	return gap_known(f) ? bb_div_round(10000 * (f->our_price - f->market_low), f->market_low) : NONE;
}

static int64_t percentile_hundredths(const struct facts *f)
{
	if (f->position == NONE)
		return NONE;
	return f->ranked <= 1 ? 0 : bb_div_round(10000 * (f->position - 1), f->ranked - 1);
}

static jv say(jv reasons, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static jv say(jv reasons, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	return jv_array_append(reasons, jv_string(buf));
}

static jv say_offers(jv r, const struct facts *f, const char *op, int64_t t)
{
	char a[32];
	return say(r, "offers %lld %s %s", (long long)f->total_offers, op, fixed(t, a, sizeof a));
}

static jv say_gap(jv r, const struct facts *f, const char *op, int64_t t)
{
	char a[32], b[32];
	int64_t g = gap_hundredths(f);
	snprintf(a, sizeof a, "%s%lld.%02lld", g < 0 ? "-" : "", (long long)llabs(g) / 100,
		 (long long)llabs(g) % 100);
	return say(r, "gap %s%% %s %s%%", a, op, fixed(t, b, sizeof b));
}

static jv say_margin(jv r, const char *what, int64_t m, const char *op, int64_t t)
{
	char a[32], b[32];
	return say(r, "margin at %s %s%% %s %s%%", what, fixed(m, a, sizeof a), op, fixed(t, b, sizeof b));
}


/* ---- the rules: the first that holds decides ---- */

struct verdict {
	const char *severity, *rule;
	jv reasons;
};

static int rule_critical(const struct facts *f, jv *r)
{
	const int64_t *t = f->conf->t;
	char a[32];

	if (!(count_at_least(f->total_offers, t[T_CRITICAL_MIN_OFFERS]) &&
	      gap_at_least(f, t[T_CRITICAL_MIN_GAP_PCT]) && !f->winner &&
	      percentile_at_least(f, t[T_CRITICAL_MIN_PERCENTILE])))
		return 0;
	*r = say_offers(*r, f, "≥", t[T_CRITICAL_MIN_OFFERS]);
	*r = say_gap(*r, f, "≥", t[T_CRITICAL_MIN_GAP_PCT]);
	*r = say(*r, "not buy-box winner");
	int64_t tenths = bb_div_round(percentile_hundredths(f), 10);
	*r = say(*r, "position %lld of %lld (%lld.%lldth percentile) ≥ %sth", (long long)f->position,
		 (long long)f->ranked, (long long)(tenths / 10), (long long)(tenths % 10),
		 fixed(t[T_CRITICAL_MIN_PERCENTILE], a, sizeof a));
	return 1;
}

static void decide(const struct facts *f, struct verdict *v)
{
	const int64_t *t = f->conf->t;
	jv r = jv_array();
	char a[32], b[32];

	v->reasons = r;
	if (f->ours < 0) {
		v->severity = "WARNING", v->rule = "offer-missing";
		v->reasons = say(r, "no offer of ours among %d offers", f->n);
		return;
	}
	if (rule_critical(f, &r)) {
		if (f->daily_sales != NONE && f->daily_sales < t[T_CRITICAL_MIN_DAILY_SALES]) {
			v->severity = "HIGH", v->rule = "critical-downgraded";
			r = say(r, "estimated daily sales %s < %s", fixed(f->daily_sales, a, sizeof a),
				fixed(t[T_CRITICAL_MIN_DAILY_SALES], b, sizeof b));
		} else {
			v->severity = "CRITICAL", v->rule = "critical";
		}
	} else if (count_at_least(f->total_offers, t[T_HIGH_MIN_OFFERS]) &&
		   gap_at_least(f, t[T_HIGH_MIN_GAP_PCT]) && !f->winner) {
		v->severity = "HIGH", v->rule = "high-gap";
		r = say_offers(r, f, "≥", t[T_HIGH_MIN_OFFERS]);
		r = say_gap(r, f, "≥", t[T_HIGH_MIN_GAP_PCT]);
		r = say(r, "not buy-box winner");
	} else if (f->winner && margin_below(f, f->our_price, t[T_HIGH_MAX_WINNER_MARGIN_PCT])) {
		v->severity = "HIGH", v->rule = "high-thin-margin";
		r = say(r, "buy-box winner");
		r = say_margin(r, "current price", margin(f, f->our_price), "<", t[T_HIGH_MAX_WINNER_MARGIN_PCT]);
	} else if (count_at_least(f->total_offers, t[T_WARNING_MIN_OFFERS]) &&
		   gap_at_least(f, t[T_WARNING_MIN_GAP_PCT]) &&
		   count_at_least(f->position, t[T_WARNING_MIN_POSITION])) {
		v->severity = "WARNING", v->rule = "warning-gap";
		r = say_offers(r, f, "≥", t[T_WARNING_MIN_OFFERS]);
		r = say_gap(r, f, "≥", t[T_WARNING_MIN_GAP_PCT]);
		r = say(r, "position %lld ≥ %s", (long long)f->position, fixed(t[T_WARNING_MIN_POSITION], a, sizeof a));
	} else if (margin_below(f, f->market_low, t[T_WARNING_MAX_MARKET_LOW_MARGIN_PCT])) {
		v->severity = "WARNING", v->rule = "warning-margin";
		r = say_margin(r, "market low", margin(f, f->market_low), "<",
			       t[T_WARNING_MAX_MARKET_LOW_MARGIN_PCT]);
	} else if (count_at_most(f->total_offers, t[T_SUCCESS_MAX_OFFERS])) {
		v->severity = "SUCCESS", v->rule = "success-few-offers";
		r = say_offers(r, f, "≤", t[T_SUCCESS_MAX_OFFERS]);
	} else if (f->winner) {
		v->severity = "SUCCESS", v->rule = "success-buy-box";
		r = say(r, "buy-box winner");
	} else if (count_at_most(f->position, t[T_SUCCESS_MAX_POSITION]) &&
		   gap_at_most(f, t[T_SUCCESS_MAX_GAP_PCT])) {
		v->severity = "SUCCESS", v->rule = "success-top3";
		r = say(r, "position %lld ≤ %s", (long long)f->position, fixed(t[T_SUCCESS_MAX_POSITION], a, sizeof a));
		r = say_gap(r, f, "≤", t[T_SUCCESS_MAX_GAP_PCT]);
	} else {
		v->severity = "STABLE", v->rule = "stable";
		r = say(r, "no rule above held");
	}
	v->reasons = r;
}

static int priority_of(const char *severity)
{
	static const char *const order[] = { "CRITICAL", "HIGH", "WARNING", "SUCCESS", "STABLE" };
	for (int i = 0; i < 5; i++)
		if (strcmp(order[i], severity) == 0)
			return i + 1;
	return 5;
}

/* ---- flags and recommendations ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static jv risk_flags(const struct facts *f)
{
	const char *flags[5];
	int n = 0;

	if (f->cost && f->our_price != NONE && profit(f->cost, f->our_price) < 0)
		flags[n++] = "below-cost";
	if (margin_below(f, f->market_low, f->conf->t[T_WARNING_MAX_MARKET_LOW_MARGIN_PCT]))
		flags[n++] = "margin-squeeze";
	if (f->market_low != NONE && f->min_viable != NONE && f->market_low < f->min_viable)
		flags[n++] = "race-to-bottom";
	if (!f->cost)
		flags[n++] = "no-cost-data";
	if (f->ours < 0)
		flags[n++] = "offer-missing";
	qsort(flags, (size_t)n, sizeof *flags, cmp_str);
	jv r = jv_array();
	for (int i = 0; i < n; i++)
		r = jv_array_append(r, jv_string(flags[i]));
	return r;
}

static jv recommended(const struct facts *f)
{
	const char *names[] = { "match-low", "beat-low", "match-prime-low", "match-buy-box" };
	int64_t prices[] = { f->market_low, f->market_low == NONE ? NONE : f->market_low - 1,
			     f->prime_low, f->buy_box_price };
	jv r = jv_array();

	if (f->min_viable == NONE)
		return r;
	for (int i = 0; i < 4; i++) {
		int64_t p = prices[i];
		int seen = 0;
		for (int j = 0; j < i; j++)
			seen |= prices[j] == p;
		if (p == NONE || p < 1 || p < f->min_viable || seen)
			continue;
		jv o = jv_object();
		o = jv_object_set(o, jv_string("strategy"), jv_string(names[i]));
		o = jv_object_set(o, jv_string("price"), jv_number((double)p));
		o = jv_object_set(o, jv_string("margin_pct"), pct_number(margin(f, p)));
		r = jv_array_append(r, o);
	}
	return r;
}

/* ---- gathering the facts ---- */

static jv get(jv obj, const char *key)
{
	return jv_get_kind(obj) == JV_KIND_OBJECT ? jv_object_get(jv_copy(obj), jv_string(key)) : jv_invalid();
}

/* A whole number member, or NONE. */
static int64_t num(jv obj, const char *key)
{
	jv v = get(obj, key);
	int64_t r = jv_get_kind(v) == JV_KIND_NUMBER ? (int64_t)jv_number_value(v) : NONE;
	jv_free(v);
	return r;
}

static int ours(const struct analysis_conf *conf, const char *seller, const char *notif_seller)
{
	if (conf->nsellers == 0)
		return notif_seller && strcmp(seller, notif_seller) == 0;
	for (int i = 0; i < conf->nsellers; i++)
		if (strcmp(conf->sellers[i], seller) == 0)
			return 1;
	return 0;
}

/* Offers are read from the record's bytes: the notification is bb-validate's
 * own output, and building a JSON value of every offer costs more than the
 * whole analysis. Seller ids are kept until the analysis is done. */
struct offer_reader {
	struct facts *f;
	const char *notif_seller;
	int cap;
};

static int raw_true(const struct bb_record *o, const char *key)
{
	const struct bb_member *m = bb_record_member(o, key);
	return m && m->vallen == 4 && memcmp(m->val, "true", 4) == 0;
}

static int read_offer(const char *text, size_t n, void *arg)
{
	struct offer_reader *rd = arg;
	struct facts *f = rd->f;
	struct bb_record o = { .line = text, .len = n, .total_len = n };
	const struct bb_member *landed;
	size_t len;
	int rc = -1;

	if (f->n == rd->cap) {
		int cap = rd->cap ? 2 * rd->cap : 32;
		struct offer *more = realloc(f->o, (size_t)cap * sizeof *more);
		if (!more)
			return -1;
		f->o = more;
		rd->cap = cap;
	}
	if (bb_record_index(&o) == 0 && (landed = bb_record_member(&o, "landed"))) {
		struct offer *of = &f->o[f->n];
		char num[32], *end;
		snprintf(num, sizeof num, "%.*s", (int)(landed->vallen < 31 ? landed->vallen : 31), landed->val);
		double v = strtod(num, &end);
		of->seller = bb_record_string(&o, "seller_id", &len);
		if (of->seller && end != num && !*end) {
			of->landed = (int64_t)v;
			of->prime = raw_true(&o, "prime");
			of->winner = raw_true(&o, "buy_box_winner");
			of->ours = ours(f->conf, of->seller, rd->notif_seller);
			f->n++;
			rc = 0;
		} else {
			free((char *)of->seller);
		}
	}
	free(o.m);
	return rc;
}

static int read_offers(struct facts *f, const struct bb_record *n, const char *notif_seller)
{
	const struct bb_member *list = bb_record_member(n, "offers");
	struct offer_reader rd = { f, notif_seller, 0 };

	return list ? bb_json_array_each(list->val, list->vallen, read_offer, &rd) : -1;
}

static void market(struct facts *f)
{
	f->ours = -1;
	f->market_low = f->prime_low = f->our_price = f->position = NONE;
	f->market_low_i = -1;
	for (int i = 0; i < f->n; i++) {
		const struct offer *o = &f->o[i];
		if (o->ours) {
			f->winner |= o->winner;
			if (f->ours < 0 || (!f->o[f->ours].winner &&
					    (o->winner || o->landed < f->o[f->ours].landed)))
				f->ours = i;
			continue;
		}
		f->ncomp++;
		if (f->market_low == NONE || o->landed < f->market_low)
			f->market_low = o->landed, f->market_low_i = i;
		if (o->prime && (f->prime_low == NONE || o->landed < f->prime_low))
			f->prime_low = o->landed;
	}
	f->ranked = f->ncomp + 1;
	if (f->ours < 0)
		return;
	f->our_price = f->o[f->ours].landed;
	f->position = 1;
	for (int i = 0; i < f->n; i++)
		if (!f->o[i].ours && f->o[i].landed < f->our_price)
			f->position++;
}

static int64_t daily_sales(const struct facts *f, jv summary)
{
	if (f->cost && f->cost->daily_sales >= 0)
		return f->cost->daily_sales;
	if (!f->conf->rank_curve)
		return NONE;
	jv ranks = get(summary, "sales_rankings");
	jv first = jv_get_kind(ranks) == JV_KIND_ARRAY && jv_array_length(jv_copy(ranks)) > 0 ?
		   jv_array_get(jv_copy(ranks), 0) : jv_null();
	jv rank = get(first, "rank");
	int64_t r = NONE;
	if (jv_get_kind(rank) == JV_KIND_NUMBER && jv_number_value(rank) > 0) {
		double est = f->conf->rank_a * pow(jv_number_value(rank), -f->conf->rank_b);
		r = (int64_t)(est < 0 ? ceil(est - 0.5) : floor(est + 0.5)) * 100;
	}
	jv_free(rank);
	jv_free(first);
	jv_free(ranks);
	return r;
}

static jv result(const struct facts *f, const struct verdict *v)
{
	jv a = jv_object();
	jv seller = f->market_low_i >= 0 ? jv_string(f->o[f->market_low_i].seller) : jv_null();

	a = jv_object_set(a, jv_string("severity"), jv_string(v->severity));
	a = jv_object_set(a, jv_string("priority"), jv_number(priority_of(v->severity)));
	a = jv_object_set(a, jv_string("rule"), jv_string(v->rule));
	a = jv_object_set(a, jv_string("reasons"), v->reasons);
	a = jv_object_set(a, jv_string("our_price"), money_number(f->our_price));
	a = jv_object_set(a, jv_string("market_low"), money_number(f->market_low));
	a = jv_object_set(a, jv_string("market_low_seller"), seller);
	a = jv_object_set(a, jv_string("prime_low"), money_number(f->prime_low));
	a = jv_object_set(a, jv_string("buy_box_price"), money_number(f->buy_box_price));
	a = jv_object_set(a, jv_string("total_offers"), jv_number((double)f->total_offers));
	a = jv_object_set(a, jv_string("offers_listed"), jv_number(f->n));
	a = jv_object_set(a, jv_string("position"), money_number(f->position));
	a = jv_object_set(a, jv_string("position_percentile"), pct_number(percentile_hundredths(f)));
	a = jv_object_set(a, jv_string("gap_pct"), pct_number(gap_hundredths(f)));
	a = jv_object_set(a, jv_string("buy_box_winner"), jv_bool(f->winner));
	a = jv_object_set(a, jv_string("min_viable_price"), money_number(f->min_viable));
	a = jv_object_set(a, jv_string("margin_at_current"), pct_number(margin(f, f->our_price)));
	a = jv_object_set(a, jv_string("margin_at_market_low"), pct_number(margin(f, f->market_low)));
	a = jv_object_set(a, jv_string("margin_at_prime_low"), pct_number(margin(f, f->prime_low)));
	a = jv_object_set(a, jv_string("estimated_daily_sales"), pct_number(f->daily_sales));
	a = jv_object_set(a, jv_string("risk_flags"), risk_flags(f));
	a = jv_object_set(a, jv_string("recommended_prices"), recommended(f));
	return a;
}

jv analyse(const struct bb_record *n, const struct analysis_conf *conf, int *currency_mismatch)
{
	struct facts f = { .conf = conf };
	size_t len;
	char *seller = bb_record_string(n, "seller_id", &len), *asin = bb_record_string(n, "asin", &len);
	char *mkt = bb_record_string(n, "marketplace", &len), *cur = bb_record_string(n, "currency", &len);
	char *cond = bb_record_string(n, "condition", &len);
	jv summary = bb_record_get(n, "summary"), out;

	*currency_mismatch = 0;
	if (!asin || !mkt || read_offers(&f, n, seller) != 0) {
		out = jv_invalid_with_msg(jv_string("notification lacks asin, marketplace or offers with seller_id and landed"));
		goto done;
	}
	market(&f);
	/* without a trigger condition the summary's counts cannot be matched to it */
	f.total_offers = cond ? num(summary, "total_offers") : NONE;
	if (f.total_offers == NONE)
		f.total_offers = f.n;
	f.buy_box_price = num(summary, "buy_box_landed");
	f.cost = costs_find(conf->costs, asin, mkt);
	if (f.cost && (!cur || strcmp(cur, f.cost->currency) != 0)) {
		*currency_mismatch = 1;
		f.cost = NULL;
	}
	f.min_viable = min_viable_price(f.cost);
	f.daily_sales = daily_sales(&f, summary);

	struct verdict v;
	decide(&f, &v);
	out = result(&f, &v);
done:
	for (int i = 0; i < f.n; i++)
		free((char *)f.o[i].seller);
	free(f.o);
	free(seller), free(asin), free(mkt), free(cur), free(cond);
	jv_free(summary);
	return out;
}
