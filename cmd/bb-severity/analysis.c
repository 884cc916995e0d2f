/* analysis.c: SEVERITY.md, rule by rule. Every decision is an exact integer
 * comparison (cross-multiplied in 128 bits); floating point only ever makes
 * the optional rank curve. Displayed percentages are integer hundredths,
 * rounded half away from zero. */
#include "severity.h"
#include "parse.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
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

#define NONE BB_NONE /* a null value */

/* What the rules read, computed once. */
struct facts {
	const struct analysis_conf *conf;
	const struct bb_notification *n;
	const struct bb_offer *ours, *low; /* our offer and the market low's, or NULL */
	int64_t our_price, market_low, prime_low, buy_box_price, total_offers;
	int winner;
	int64_t position, ranked;
	const struct cost *cost;
	int64_t min_viable, daily_sales; /* daily_sales in hundredths */
};

/* ---- arithmetic: 128 bits, so no record's numbers can overflow it ---- */

/* num/den rounded half away from zero; a quotient beyond 64 bits saturates. */
static int64_t div_round(i128 num, i128 den)
{
	if (den < 0)
		num = -num, den = -den;
	i128 q = num / den, r = num % den;
	if (r < 0)
		r = -r;
	if (2 * r >= den)
		q += num < 0 ? -1 : 1;
	return q > INT64_MAX ? INT64_MAX : q < -INT64_MAX ? -INT64_MAX : (int64_t)q;
}

/* ---- costs and margins ---- */

static i128 referral_fee(const struct cost *c, int64_t p)
{
	i128 fee = ((i128)p * c->referral_bp + 5000) / 10000;
	return fee > c->min_referral_fee ? fee : c->min_referral_fee;
}

static i128 profit(const struct cost *c, int64_t p)
{
	return (i128)p - referral_fee(c, p) - c->fulfillment_fee - c->other_fees - c->unit_cost;
}

/* margin(p) < t (hundredths of a percent); false when unknown */
static int margin_below(const struct facts *f, int64_t p, int64_t t)
{
	if (!f->cost || p == NONE || p <= 0)
		return 0;
	return 10000 * profit(f->cost, p) < (i128)t * p;
}

/* margin(p) in hundredths of a percent, NONE when unknown */
static int64_t margin(const struct facts *f, int64_t p)
{
	if (!f->cost || p == NONE || p <= 0)
		return NONE;
	return div_round(10000 * profit(f->cost, p), p);
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
	return gap_known(f) && 10000 * ((i128)f->our_price - f->market_low) >= (i128)t * f->market_low;
}

static int gap_at_most(const struct facts *f, int64_t t)
{
	return gap_known(f) && 10000 * ((i128)f->our_price - f->market_low) <= (i128)t * f->market_low;
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

static int64_t gap_hundredths(const struct facts *f)
{
	return gap_known(f) ? div_round(10000 * ((i128)f->our_price - f->market_low), f->market_low) : NONE;
}

static int64_t percentile_hundredths(const struct facts *f)
{
	if (f->position == NONE)
		return NONE;
	return f->ranked <= 1 ? 0 : div_round((i128)10000 * (f->position - 1), f->ranked - 1);
}

/* ---- words and numbers for reasons ---- */

static const char *fixed(int64_t v, char *buf, size_t n)
{
	bb_format_fixed(v, 2, buf, n);
	return buf;
}

static void say(struct analysis_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(struct analysis_out *o, const char *fmt, ...)
{
	struct bb_analysis *a = &o->a;
	va_list ap;

	if (a->nreasons == REASONS_MAX) /* no rule gives as many */
		return;
	char *t = o->text[a->nreasons];
	va_start(ap, fmt);
	int n = vsnprintf(t, REASON_LEN, fmt, ap);
	va_end(ap);
	a->reasons[a->nreasons++] = (struct bb_str){ t, n < 0 ? 0 : n < REASON_LEN ? (size_t)n : REASON_LEN - 1 };
}

static void say_offers(struct analysis_out *o, const struct facts *f, const char *op, int64_t t)
{
	char a[32];
	say(o, "offers %lld %s %s", (long long)f->total_offers, op, fixed(t, a, sizeof a));
}

/* The gap always with two decimals (62.50%), as the reasons have said it. */
static void say_gap(struct analysis_out *o, const struct facts *f, const char *op, int64_t t)
{
	char b[32];
	int64_t g = gap_hundredths(f), abs = g < 0 ? -g : g;
	say(o, "gap %s%lld.%02lld%% %s %s%%", g < 0 ? "-" : "", (long long)(abs / 100),
	    (long long)(abs % 100), op, fixed(t, b, sizeof b));
}

static void say_margin(struct analysis_out *o, const char *what, int64_t m, const char *op, int64_t t)
{
	char a[32], b[32];
	say(o, "margin at %s %s%% %s %s%%", what, fixed(m, a, sizeof a), op, fixed(t, b, sizeof b));
}

static void verdict(struct analysis_out *o, const char *severity, const char *rule)
{
	o->a.severity = (struct bb_str){ severity, strlen(severity) };
	o->a.rule = (struct bb_str){ rule, strlen(rule) };
}

/* ---- the rules, in order: each says whether it held ---- */

static int rule_offer_missing(const struct facts *f, struct analysis_out *o)
{
	if (f->ours)
		return 0;
	verdict(o, "WARNING", "offer-missing");
	say(o, "no offer of ours among %zu offers", f->n->noffers);
	return 1;
}

/* critical, or critical-downgraded when the product hardly sells */
static int rule_critical(const struct facts *f, struct analysis_out *o)
{
	const int64_t *t = f->conf->t;
	char a[32], b[32];

	if (!(count_at_least(f->total_offers, t[T_CRITICAL_MIN_OFFERS]) &&
	      gap_at_least(f, t[T_CRITICAL_MIN_GAP_PCT]) && !f->winner &&
	      percentile_at_least(f, t[T_CRITICAL_MIN_PERCENTILE])))
		return 0;
	say_offers(o, f, "≥", t[T_CRITICAL_MIN_OFFERS]);
	say_gap(o, f, "≥", t[T_CRITICAL_MIN_GAP_PCT]);
	say(o, "not buy-box winner");
	int64_t tenths = div_round(percentile_hundredths(f), 10);
	say(o, "position %lld of %lld (%lld.%lldth percentile) ≥ %sth", (long long)f->position,
	    (long long)f->ranked, (long long)(tenths / 10), (long long)(tenths % 10),
	    fixed(t[T_CRITICAL_MIN_PERCENTILE], a, sizeof a));
	if (f->daily_sales == NONE || f->daily_sales >= t[T_CRITICAL_MIN_DAILY_SALES]) {
		verdict(o, "CRITICAL", "critical");
		return 1;
	}
	verdict(o, "HIGH", "critical-downgraded");
	say(o, "estimated daily sales %s < %s", fixed(f->daily_sales, a, sizeof a),
	    fixed(t[T_CRITICAL_MIN_DAILY_SALES], b, sizeof b));
	return 1;
}

static int rule_high_gap(const struct facts *f, struct analysis_out *o)
{
	const int64_t *t = f->conf->t;

	if (!(count_at_least(f->total_offers, t[T_HIGH_MIN_OFFERS]) &&
	      gap_at_least(f, t[T_HIGH_MIN_GAP_PCT]) && !f->winner))
		return 0;
	verdict(o, "HIGH", "high-gap");
	say_offers(o, f, "≥", t[T_HIGH_MIN_OFFERS]);
	say_gap(o, f, "≥", t[T_HIGH_MIN_GAP_PCT]);
	say(o, "not buy-box winner");
	return 1;
}

static int rule_high_thin_margin(const struct facts *f, struct analysis_out *o)
{
	int64_t t = f->conf->t[T_HIGH_MAX_WINNER_MARGIN_PCT];

	if (!(f->winner && margin_below(f, f->our_price, t)))
		return 0;
	verdict(o, "HIGH", "high-thin-margin");
	say(o, "buy-box winner");
	say_margin(o, "current price", margin(f, f->our_price), "<", t);
	return 1;
}

static int rule_warning_gap(const struct facts *f, struct analysis_out *o)
{
	const int64_t *t = f->conf->t;
	char a[32];

	if (!(count_at_least(f->total_offers, t[T_WARNING_MIN_OFFERS]) &&
	      gap_at_least(f, t[T_WARNING_MIN_GAP_PCT]) &&
	      count_at_least(f->position, t[T_WARNING_MIN_POSITION])))
		return 0;
	verdict(o, "WARNING", "warning-gap");
	say_offers(o, f, "≥", t[T_WARNING_MIN_OFFERS]);
	say_gap(o, f, "≥", t[T_WARNING_MIN_GAP_PCT]);
	say(o, "position %lld ≥ %s", (long long)f->position, fixed(t[T_WARNING_MIN_POSITION], a, sizeof a));
	return 1;
}

static int rule_warning_margin(const struct facts *f, struct analysis_out *o)
{
	int64_t t = f->conf->t[T_WARNING_MAX_MARKET_LOW_MARGIN_PCT];

	if (!margin_below(f, f->market_low, t))
		return 0;
	verdict(o, "WARNING", "warning-margin");
	say_margin(o, "market low", margin(f, f->market_low), "<", t);
	return 1;
}

static int rule_success_few_offers(const struct facts *f, struct analysis_out *o)
{
	int64_t t = f->conf->t[T_SUCCESS_MAX_OFFERS];

	if (!count_at_most(f->total_offers, t))
		return 0;
	verdict(o, "SUCCESS", "success-few-offers");
	say_offers(o, f, "≤", t);
	return 1;
}

static int rule_success_buy_box(const struct facts *f, struct analysis_out *o)
{
	if (!f->winner)
		return 0;
	verdict(o, "SUCCESS", "success-buy-box");
	say(o, "buy-box winner");
	return 1;
}

static int rule_success_top3(const struct facts *f, struct analysis_out *o)
{
	const int64_t *t = f->conf->t;
	char a[32];

	if (!(count_at_most(f->position, t[T_SUCCESS_MAX_POSITION]) && gap_at_most(f, t[T_SUCCESS_MAX_GAP_PCT])))
		return 0;
	verdict(o, "SUCCESS", "success-top3");
	say(o, "position %lld ≤ %s", (long long)f->position, fixed(t[T_SUCCESS_MAX_POSITION], a, sizeof a));
	say_gap(o, f, "≤", t[T_SUCCESS_MAX_GAP_PCT]);
	return 1;
}

static int rule_stable(const struct facts *f, struct analysis_out *o)
{
	(void)f;
	verdict(o, "STABLE", "stable");
	say(o, "no rule above held");
	return 1;
}

/* The first rule that holds decides; the last always holds. */
static void decide(const struct facts *f, struct analysis_out *o)
{
	static int (*const rules[])(const struct facts *, struct analysis_out *) = {
		rule_offer_missing, rule_critical, rule_high_gap, rule_high_thin_margin,
		rule_warning_gap, rule_warning_margin, rule_success_few_offers,
		rule_success_buy_box, rule_success_top3, rule_stable,
	};
	for (size_t i = 0; !rules[i](f, o); i++)
		;
}

/* ---- flags and recommendations ---- */

static void flag(struct bb_analysis *a, const char *name)
{
	a->risk_flags[a->nflags++] = (struct bb_str){ name, strlen(name) };
}

/* Added in byte order, so the list comes out sorted. */
static void risk_flags(const struct facts *f, struct bb_analysis *a)
{
	if (f->cost && f->our_price != NONE && profit(f->cost, f->our_price) < 0)
		flag(a, "below-cost");
	if (margin_below(f, f->market_low, f->conf->t[T_WARNING_MAX_MARKET_LOW_MARGIN_PCT]))
		flag(a, "margin-squeeze");
	if (!f->cost)
		flag(a, "no-cost-data");
	if (!f->ours)
		flag(a, "offer-missing");
	if (f->market_low != NONE && f->min_viable != NONE && f->market_low < f->min_viable)
		flag(a, "race-to-bottom");
}

static void recommend(const struct facts *f, struct bb_analysis *a)
{
	static const char *const names[] = { "match-low", "beat-low", "match-prime-low", "match-buy-box" };
	int64_t prices[] = { f->market_low, f->market_low == NONE ? NONE : f->market_low - 1,
			     f->prime_low, f->buy_box_price };

	if (f->min_viable == NONE)
		return;
	for (int i = 0; i < 4; i++) {
		int64_t p = prices[i];
		int seen = 0;
		for (int j = 0; j < i; j++)
			seen |= prices[j] == p;
		if (p == NONE || p < 1 || p < f->min_viable || seen)
			continue;
		a->recommended[a->nrecommended++] = (struct bb_recommendation){
			{ names[i], strlen(names[i]) }, p, margin(f, p) };
	}
}

/* ---- gathering the facts ---- */

static int same(struct bb_str a, struct bb_str b)
{
	return a.p && b.p && a.n == b.n && memcmp(a.p, b.p, a.n) == 0;
}

static int ours(const struct facts *f, const struct bb_offer *o)
{
	const struct analysis_conf *c = f->conf;

	if (c->nsellers == 0)
		return same(o->seller_id, f->n->seller_id);
	for (int i = 0; i < c->nsellers; i++)
		if (bb_str_eq(o->seller_id, c->sellers[i]))
			return 1;
	return 0;
}

/* Our offer: the buy-box winner, else the cheapest, the first on ties. */
static void consider_ours(struct facts *f, const struct bb_offer *o)
{
	int wins = o->buy_box_winner == 1;

	f->winner |= wins;
	if (!f->ours || (f->ours->buy_box_winner != 1 && (wins || o->landed < f->ours->landed)))
		f->ours = o;
}

static void market(struct facts *f)
{
	const struct bb_notification *n = f->n;

	f->market_low = f->prime_low = f->our_price = f->position = NONE;
	f->ranked = 1;
	for (size_t i = 0; i < n->noffers; i++) {
		const struct bb_offer *o = &n->offers[i];
		if (ours(f, o)) {
			consider_ours(f, o);
			continue;
		}
		f->ranked++;
		if (f->market_low == NONE || o->landed < f->market_low)
			f->market_low = o->landed, f->low = o;
		if (o->prime == 1 && (f->prime_low == NONE || o->landed < f->prime_low))
			f->prime_low = o->landed;
	}
	if (!f->ours)
		return;
	f->our_price = f->ours->landed;
	f->position = 1;
	for (size_t i = 0; i < n->noffers; i++)
		if (n->offers[i].landed < f->our_price && !ours(f, &n->offers[i]))
			f->position++;
}

/* A JSON number's text as a double, read in place (no NUL-terminated copy):
 * exact for integers below 2^53, as sales ranks are, and for any mantissa
 * below 2^53 with an exponent within ±22; within a few ulps otherwise. */
static int number_value(struct bb_str s, double *out)
{
	uint64_t m = 0;
	int exp10 = 0, e = 0, eneg = 0, neg = 0, point = 0;
	size_t i = 0;

	if (!s.p)
		return -1;
	if (i < s.n && s.p[i] == '-')
		neg = 1, i++;
	for (; i < s.n && ((s.p[i] >= '0' && s.p[i] <= '9') || (s.p[i] == '.' && !point)); i++) {
		if (s.p[i] == '.')
			point = 1;
		else if (m < 100000000000000000ULL)
			m = m * 10 + (uint64_t)(s.p[i] - '0'), exp10 -= point;
		else
			exp10 += !point; /* digits past 18 only scale the value */
	}
	if (i < s.n && (s.p[i] == 'e' || s.p[i] == 'E')) {
		if (++i < s.n && (s.p[i] == '+' || s.p[i] == '-'))
			eneg = s.p[i++] == '-';
		for (; i < s.n && s.p[i] >= '0' && s.p[i] <= '9'; i++)
			e = e < 10000 ? e * 10 + (s.p[i] - '0') : e;
	}
	if (i != s.n)
		return -1;
	exp10 += eneg ? -e : e;
	double v = exp10 < 0 ? (double)m / pow(10, -exp10) : (double)m * pow(10, exp10);
	*out = neg ? -v : v;
	return 0;
}

/* In hundredths: the cost row's, else round(A·rank^−B) from the first sales rank. */
static int64_t daily_sales(const struct facts *f)
{
	double rank, est;

	if (f->cost && f->cost->daily_sales >= 0)
		return f->cost->daily_sales;
	if (!f->conf->rank_curve || f->n->nrankings == 0 ||
	    number_value(f->n->rankings[0].rank, &rank) != 0 || !(rank > 0))
		return NONE;
	est = f->conf->rank_a * pow(rank, -f->conf->rank_b);
	est = est < 0 ? ceil(est - 0.5) : floor(est + 0.5);
	return isfinite(est) && fabs(est) < 9e16 ? (int64_t)est * 100 : NONE;
}

static int same_currency(const struct cost *c, struct bb_str currency)
{
	return currency.p && currency.n == 3 && memcmp(currency.p, c->currency, 3) == 0;
}

static void result(const struct facts *f, struct bb_analysis *a)
{
	a->priority = bb_severity_priority(a->severity);
	a->our_price = f->our_price;
	a->market_low = f->market_low;
	a->market_low_seller = f->low ? f->low->seller_id : (struct bb_str){ NULL, 0 };
	a->prime_low = f->prime_low;
	a->buy_box_price = f->buy_box_price;
	a->total_offers = f->total_offers;
	a->offers_listed = (int64_t)f->n->noffers;
	a->position = f->position;
	a->position_percentile = percentile_hundredths(f);
	a->gap_pct = gap_hundredths(f);
	a->buy_box_winner = f->winner;
	a->min_viable_price = f->min_viable;
	a->margin_at_current = margin(f, f->our_price);
	a->margin_at_market_low = margin(f, f->market_low);
	a->margin_at_prime_low = margin(f, f->prime_low);
	a->estimated_daily_sales = f->daily_sales;
}

int analysis_out_init(struct analysis_out *out)
{
	memset(out, 0, sizeof *out);
	return bb_analysis_reserve(&out->a, REASONS_MAX, 7, 4);
}

void analysis_out_free(struct analysis_out *out)
{
	bb_analysis_free(&out->a);
}

void analyse(const struct bb_notification *n, const struct analysis_conf *conf,
	     struct analysis_out *out, int *currency_mismatch)
{
	struct facts f = { .conf = conf, .n = n };

	bb_analysis_clear(&out->a);
	market(&f);
	/* without a trigger condition the summary's counts cannot be matched to it */
	f.total_offers = n->condition.p ? n->total_offers : NONE;
	if (f.total_offers == NONE)
		f.total_offers = (int64_t)n->noffers;
	f.buy_box_price = n->buy_box_landed;
	f.cost = costs_find(conf->costs, n->asin, n->marketplace);
	*currency_mismatch = f.cost && !same_currency(f.cost, n->currency);
	if (*currency_mismatch)
		f.cost = NULL;
	f.min_viable = min_viable_price(f.cost);
	f.daily_sales = daily_sales(&f);
	decide(&f, out);
	result(&f, &out->a);
	risk_flags(&f, &out->a);
	recommend(&f, &out->a);
}
