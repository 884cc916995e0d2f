/* notification.c: the schema of ANY_OFFER_CHANGED as it really arrives.
 *
 * Required is only what the analysis cannot do without; every other field is
 * type-checked when present, because Amazon's own samples leave out each of
 * them in some combination. A null optional field counts as absent. Errors
 * name the field by its path in the notification, and quote numbers as they
 * were written. */
#include "validate.h"
#include "money.h"
#include "timeutil.h"

#include <ctype.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const amazon_marketplaces[] = {
	"ATVPDKIKX0DER",  "A2EUQ1WTGCTBG2", "A1AM78C64UM0Y8", "A2Q3Y263D00KWC", /* US CA MX BR */
	"A1F83G8C2ARO7P", "A1PA6795UKMFR9", "A13V1IB3VIYZZH", "APJ6JRA9NG5V4",  /* UK DE FR IT */
	"A1RKKUPIHCS9HS", "A1805IZSGTT6HS", "A2NODRKZP88ZB9", "A1C3SOZRARQ6R3", /* ES NL SE PL */
	"AMEN7PMS3EDWL",  "A33AVAJ2PDY3EV", "A28R8C7NBKEWEA", "ARBP9OOSHTCHU",  /* BE TR IE EG */
	"A17E79C6D8DWNP", "A2VIGQ35RCS4UG", "A21TJRUUN4KGV",  "A1VC38T7YXB528", /* SA AE IN JP */
	"A39IBJ37TRP1C6", "A19VAU5U5O7RUS", "AE08WJ6YKNBMC",                    /* AU SG ZA */
};

/* The path to the field being checked is kept as a stack of keys and
 * indexes and only spelt out when something is wrong: formatting it for every
 * field would cost more than the checks themselves. */
struct walk {
	const struct vconf *conf;
	struct verr *err;
	struct {
		const char *key; /* NULL: an array index */
		size_t index;
	} path[24];
	size_t plen;
	char currency[4]; /* the first CurrencyCode seen; all others must agree */
};

static size_t push(struct walk *w, const char *key)
{
	size_t saved = w->plen;
	if (w->plen < sizeof w->path / sizeof w->path[0])
		w->path[w->plen++].key = key;
	return saved;
}

static size_t push_index(struct walk *w, size_t i)
{
	size_t saved = w->plen;
	if (w->plen < sizeof w->path / sizeof w->path[0]) {
		w->path[w->plen].key = NULL;
		w->path[w->plen++].index = i;
	}
	return saved;
}

static void pop(struct walk *w, size_t saved)
{
	w->plen = saved;
}

static void spell_path(const struct walk *w, char *buf, size_t size)
{
	size_t n = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < w->plen && n < size; i++) {
		int k = w->path[i].key ? snprintf(buf + n, size - n, "%s%s", i ? "." : "", w->path[i].key)
				       : snprintf(buf + n, size - n, "[%zu]", w->path[i].index);
		if (k < 0)
			break;
		n += (size_t)k;
	}
}

static int fail(struct walk *w, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct walk *w, const char *type, const char *fmt, ...)
{
	va_list ap;
	char what[400];

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	w->err->type = type;
	spell_path(w, w->err->path, sizeof w->err->path);
	snprintf(w->err->message, sizeof w->err->message, "%s: %s", w->plen ? w->err->path : "(notification)",
		 what);
	return -1;
}

static const char *want_name(enum bb_jtype t)
{
	return bb_json_type_name(t);
}

/* Fetch obj.key (obj must be an object) and check its type. Returns 1 with *out
 * set when present, 0 when absent or null (and not required), -1 on error. */
static int field(struct walk *w, struct bb_jval obj, const char *key, enum bb_jtype want, int required,
		 struct bb_jval *out)
{
	struct bb_jval v = bb_json_getz(obj, key);
	enum bb_jtype k = bb_json_type(v);
	size_t saved = push(w, key);
	int rc = 1;

	*out = (struct bb_jval){ 0 };
	if (k == BB_JNONE || k == BB_JNULL)
		rc = required ? fail(w, "schema", k == BB_JNULL ? "expected %s, got null" :
				     "missing (required, expected %s)", want_name(want)) : 0;
	else if (k != want)
		rc = fail(w, "schema", "expected %s, got %s", want_name(want),
			  k == BB_JNULL ? "null" : k == BB_JBOOL ? "boolean" : k == BB_JNUMBER ? "number" :
			  k == BB_JSTRING ? "string" : k == BB_JARRAY ? "array" : "object");
	else
		*out = v;
	if (rc >= 0)
		pop(w, saved);
	return rc;
}

/* A string kept as a column or compared as an id: no U+0000 in it (a
 * database text cannot hold one, and a C string would be cut at it). */
static int id_string(struct walk *w, struct bb_jval obj, const char *key, int required, struct bb_str *s)
{
	struct bb_jval v;
	int rc = field(w, obj, key, BB_JSTRING, required, &v);

	*s = (struct bb_str){ NULL, 0 };
	if (rc <= 0)
		return rc;
	*s = bb_str_of(v);
	if (memchr(s->p, '\0', s->n)) {
		push(w, key);
		return fail(w, "schema", "contains U+0000, which no id may hold");
	}
	return 1;
}

/* A number's text, bounded, for messages and for the decimal readers. */
static const char *text_of(struct bb_jval v, char *buf, size_t size)
{
	const char *s;
	size_t n;
	if (bb_json_number_text(v, &s, &n) != 0)
		n = 0;
	if (n > size - 4) {
		memcpy(buf, s, size - 4);
		memcpy(buf + size - 4, "...", 4);
	} else {
		memcpy(buf, s, n);
		buf[n] = '\0';
	}
	return buf;
}

/* The text has a digit other than 0 before its exponent. */
static int nonzero(const char *t)
{
	for (; *t && *t != 'e' && *t != 'E'; t++)
		if (*t >= '1' && *t <= '9')
			return 1;
	return 0;
}

/* A non-negative whole number, however it is written (5, 5.0, 5e0): 0, -1
 * when it is not one, -2 when it is too large to count. */
static int count_of(struct bb_jval v, int64_t *out)
{
	char t[48];
	int64_t milli;

	if (bb_json_int64(v, out) == 0)
		return *out >= 0 ? 0 : -1;
	if (bb_decimal_round(text_of(v, t, sizeof t), 3, &milli) != 0)
		return t[0] == '-' ? -1 : -2;
	if (milli < 0 || milli % 1000)
		return -1;
	*out = milli / 1000;
	return 0;
}

static int typed_one(struct walk *w, struct bb_jval obj, const char *key, char t, struct bb_jval *found)
{
	enum bb_jtype want = t == 'n' || t == 'c' ? BB_JNUMBER : t == 'b' ? BB_JBOOL :
			     t == 'o' ? BB_JOBJECT : BB_JSTRING;
	struct bb_jval v;
	int rc = field(w, obj, key, want, 0, &v);

	if (found)
		*found = v;
	char buf[48];
	int64_t ms;

	if (rc <= 0)
		return rc;
	size_t saved = push(w, key);
	struct bb_str s = t == 't' ? bb_str_of(v) : (struct bb_str){ NULL, 0 };
	if (s.p && s.n && bb_time_parse(s.p, s.n, &ms) != 0)
		rc = fail(w, "invalid_time", "'%.*s' is not an RFC 3339 time", (int)(s.n > 60 ? 60 : s.n), s.p);
	else if (t == 'c' && (rc = count_of(v, &ms)) != 0)
		rc = fail(w, "schema", rc == -2 ? "%s is out of range" : "expected a non-negative whole number, got %s",
			  text_of(v, buf, sizeof buf));
	else
		rc = 1;
	if (rc >= 0)
		pop(w, saved);
	return rc;
}

/* Check that the optional fields named are of the kinds given ("s" string,
 * "n" number, "b" boolean, "t" RFC 3339 time or "", "c" count, "o" object);
 * with found, each field's value when present and of its kind (else absent),
 * in the spec's order, for the caller to read without looking it up again. */
static int typed_found(struct walk *w, struct bb_jval obj, const char *spec[][2], struct bb_jval *found)
{
	for (int i = 0; spec[i][0]; i++)
		if (typed_one(w, obj, spec[i][0], spec[i][1][0], found ? &found[i] : NULL) < 0)
			return -1;
	return 0;
}

static int typed(struct walk *w, struct bb_jval obj, const char *spec[][2])
{
	return typed_found(w, obj, spec, NULL);
}

static int is_currency(struct bb_str c)
{
	return c.n == 3 && isupper((unsigned char)c.p[0]) && isupper((unsigned char)c.p[1]) &&
	       isupper((unsigned char)c.p[2]);
}

/* The Amount of a money object in the currency's minor unit, from its text. */
static int amount(struct walk *w, struct bb_jval a, const char *code, int64_t *minor)
{
	char t[48];
	const char *s;
	size_t n;
	int rc = 0;

	int exp = bb_currency_exponent(code);
	/* below 10^13 major units: every landed price and every sum of them
	 * stays exact in the minor unit, and a total is still a plausible price */
	int64_t limit = exp == 0 ? 10000000000000LL : 1000000000000000LL;

	bb_json_number_text(a, &s, &n);
	text_of(a, t, sizeof t);
	size_t saved = push(w, "Amount");
	if (s[0] == '-' && nonzero(t))
		rc = fail(w, "invalid_amount", "%s is negative", t);
	else if (n >= sizeof t - 4 || bb_decimal_round(t, exp, minor) != 0 || *minor >= limit)
		rc = fail(w, "invalid_amount", "%s is out of range", t);
	if (rc >= 0)
		pop(w, saved);
	return rc;
}

/* A money object {Amount, CurrencyCode}: *minor in the currency's minor unit.
 * Returns 1 present, 0 absent, -1 error. */
static int money(struct walk *w, struct bb_jval obj, const char *key, int required, int64_t *minor)
{
	struct bb_jval m, a, code;
	int rc = field(w, obj, key, BB_JOBJECT, required, &m);
	if (rc <= 0)
		return rc;
	size_t saved = push(w, key);
	if (field(w, m, "Amount", BB_JNUMBER, 1, &a) < 0 || field(w, m, "CurrencyCode", BB_JSTRING, 1, &code) < 0)
		return -1;
	struct bb_str c = bb_str_of(code);
	size_t s2 = push(w, "CurrencyCode");
	if (!is_currency(c))
		return fail(w, "invalid_amount", "'%.*s' is not a 3-letter currency code",
			    (int)(c.n > 20 ? 20 : c.n), c.p);
	if (w->currency[0] && memcmp(w->currency, c.p, 3) != 0)
		return fail(w, "invalid_amount", "currency %.3s differs from %s earlier in the notification",
			    c.p, w->currency);
	memcpy(w->currency, c.p, 3);
	w->currency[3] = '\0';
	pop(w, s2);
	if (amount(w, a, w->currency, minor) < 0)
		return -1;
	pop(w, saved);
	return 1;
}

/* obj.key when present and of the type (already checked), else absent. */
static struct bb_jval opt(struct bb_jval obj, const char *key, enum bb_jtype t)
{
	struct bb_jval v = bb_json_getz(obj, key);
	return bb_json_type(v) == t ? v : (struct bb_jval){ 0 };
}

static int bool_in(struct bb_jval v)
{
	int b;
	return bb_json_bool(v, &b) == 0 ? b : -1;
}

static struct bb_str num_in(struct bb_jval v)
{
	struct bb_str s = { NULL, 0 };
	if (bb_json_number_text(v, &s.p, &s.n) != 0)
		s.p = NULL;
	return s;
}

static struct bb_str num_of(struct bb_jval obj, const char *key)
{
	return num_in(bb_json_getz(obj, key));
}

/* v, obj.key, is an object or absent: check its fields by spec (found as
 * for typed_found). */
static int sub_of(struct walk *w, struct bb_jval v, const char *key, const char *spec[][2],
		  struct bb_jval *found)
{
	if (bb_json_type(v) != BB_JOBJECT)
		return 0;
	size_t saved = push(w, key);
	if (typed_found(w, v, spec, found) < 0)
		return -1;
	pop(w, saved);
	return 0;
}

/* obj.key is known to be an object or absent: check its fields by spec. */
static int sub(struct walk *w, struct bb_jval obj, const char *key, const char *spec[][2])
{
	return sub_of(w, opt(obj, key, BB_JOBJECT), key, spec, NULL);
}

/* The fields of an offer, found by offer_checks for offer to read. */
enum { O_FBA, O_BUY_BOX_WINNER, O_FEATURED, O_FEEDBACK = 6, O_SHIPPING_TIME, O_SHIPS_FROM, O_PRIME, O_POINTS,
       O_FIELDS };
enum { F_COUNT, F_RATING, F_FIELDS };
enum { T_MIN, T_MAX, T_FIELDS = 4 };
enum { P_OFFER_PRIME, P_PRIME = 2, P_FIELDS = 4 };
struct offer_fields {
	struct bb_jval o[O_FIELDS], feedback[F_FIELDS], shipping_time[T_FIELDS], prime[P_FIELDS];
};

static int offer_checks(struct walk *w, struct bb_jval o, struct offer_fields *f)
{
	static const char *spec[][2] = {
		{ "IsFulfilledByAmazon", "b" }, { "IsBuyBoxWinner", "b" },
		{ "IsFeaturedMerchant", "b" }, { "ShipsDomestically", "b" },
		{ "IsExpeditedShippingAvailable", "b" }, { "ShipsInternationally", "b" },
		{ "SellerFeedbackRating", "o" }, { "ShippingTime", "o" }, { "ShipsFrom", "o" },
		{ "PrimeInformation", "o" }, { "Points", "o" }, { NULL, NULL } };
	static const char *feedback[][2] = {
		{ "FeedbackCount", "c" }, { "SellerPositiveFeedbackRating", "n" }, { NULL, NULL } };
	static const char *shipping_time[][2] = {
		{ "MinimumHours", "c" }, { "MaximumHours", "c" }, { "AvailabilityType", "s" },
		{ "AvailableDate", "t" }, { NULL, NULL } };
	static const char *prime[][2] = {
		{ "IsOfferPrime", "b" }, { "IsOfferNationalPrime", "b" }, { "IsPrime", "b" },
		{ "IsNationalPrime", "b" }, { NULL, NULL } };
	static const char *ships_from[][2] = { { "State", "s" }, { "Country", "s" }, { NULL, NULL } };
	static const char *points[][2] = { { "PointsNumber", "n" }, { NULL, NULL } };

	return typed_found(w, o, spec, f->o) < 0 ||
	       sub_of(w, f->o[O_FEEDBACK], "SellerFeedbackRating", feedback, f->feedback) < 0 ||
	       sub_of(w, f->o[O_SHIPPING_TIME], "ShippingTime", shipping_time, f->shipping_time) < 0 ||
	       sub_of(w, f->o[O_PRIME], "PrimeInformation", prime, f->prime) < 0 ||
	       sub_of(w, f->o[O_SHIPS_FROM], "ShipsFrom", ships_from, NULL) < 0 ||
	       sub_of(w, f->o[O_POINTS], "Points", points, NULL) < 0 ? -1 : 0;
}


static int offer(struct walk *w, struct bb_jval o, struct bb_offer *out)
{
	struct bb_str sub_condition;
	struct offer_fields f;

	memset(out, 0, sizeof *out);
	if (id_string(w, o, "SellerId", 1, &out->seller_id) < 0)
		return -1;
	if (out->seller_id.n == 0) {
		push(w, "SellerId");
		return fail(w, "schema", "is empty");
	}
	if (money(w, o, "ListingPrice", 1, &out->listing) < 0 || money(w, o, "Shipping", 1, &out->shipping) < 0 ||
	    id_string(w, o, "SubCondition", 0, &sub_condition) < 0)
		return -1;
	memset(&f, 0, sizeof f);
	if (offer_checks(w, o, &f) < 0)
		return -1;
	out->landed = out->listing + out->shipping;
	out->fba = bool_in(f.o[O_FBA]);
	out->prime = bool_in(f.prime[P_OFFER_PRIME]);
	if (out->prime < 0)
		out->prime = bool_in(f.prime[P_PRIME]);
	out->buy_box_winner = bool_in(f.o[O_BUY_BOX_WINNER]);
	out->featured = bool_in(f.o[O_FEATURED]);
	out->feedback_count = num_in(f.feedback[F_COUNT]);
	out->feedback_rating = num_in(f.feedback[F_RATING]);
	out->sub_condition = sub_condition;
	out->min_hours = num_in(f.shipping_time[T_MIN]);
	out->max_hours = num_in(f.shipping_time[T_MAX]);
	return 0;
}

static int offers(struct walk *w, struct bb_jval aoc, struct bb_notification *n)
{
	struct bb_jval list;
	size_t i = 0;

	if (field(w, aoc, "Offers", BB_JARRAY, 1, &list) < 0)
		return -1;
	if (bb_notification_reserve(n, bb_json_count(list), 0) != 0)
		return fail(w, "schema", "too many offers to hold in memory");
	size_t saved = push(w, "Offers");
	for (struct bb_jval o = bb_json_first(list); bb_json_type(o) != BB_JNONE; o = bb_json_next(o), i++) {
		size_t s2 = push_index(w, i);
		if (bb_json_type(o) != BB_JOBJECT)
			return fail(w, "schema", "expected an object, got %s", bb_json_type_name(bb_json_type(o)));
		if (offer(w, o, &n->offers[i]) < 0)
			return -1;
		pop(w, s2);
	}
	n->noffers = i;
	pop(w, saved);
	return 0;
}

static int condition_matches(struct bb_jval entry, const char *cond)
{
	struct bb_str c = bb_str_of(bb_json_getz(entry, "Condition"));
	return c.p && c.n == strlen(cond) && strncasecmp(c.p, cond, c.n) == 0;
}

/* Each element of summary.key, type-checked as an object, to fn. */
static int each_entry(struct walk *w, struct bb_jval summary, const char *key,
		      int (*fn)(struct walk *, struct bb_jval, void *), void *arg)
{
	struct bb_jval list;
	int rc = field(w, summary, key, BB_JARRAY, 0, &list);
	size_t i = 0;

	if (rc <= 0)
		return rc;
	size_t saved = push(w, key);
	for (struct bb_jval e = bb_json_first(list); bb_json_type(e) != BB_JNONE; e = bb_json_next(e), i++) {
		size_t s2 = push_index(w, i);
		if (bb_json_type(e) != BB_JOBJECT)
			return fail(w, "schema", "expected an object, got %s", bb_json_type_name(bb_json_type(e)));
		if (fn(w, e, arg) < 0)
			return -1;
		pop(w, s2);
	}
	pop(w, saved);
	return 0;
}

struct tally {
	const char *cond;
	int64_t total; /* -1 while no entry has the condition */
	int first;     /* prices: keep the first entry's, else the lowest */
};

/* Sum the OfferCount of a summary list's entries for the condition. */
static int count_entry(struct walk *w, struct bb_jval e, void *arg)
{
	static const char *spec[][2] = {
		{ "Condition", "s" }, { "FulfillmentChannel", "s" }, { "OfferCount", "c" }, { NULL, NULL } };
	struct tally *t = arg;
	int64_t c = 0;

	if (typed(w, e, spec) < 0)
		return -1;
	if (condition_matches(e, t->cond)) {
		count_of(bb_json_getz(e, "OfferCount"), &c);
		if (t->total > 0 && c > INT64_MAX - t->total) {
			push(w, "OfferCount");
			return fail(w, "schema", "the offer counts add up beyond any count");
		}
		t->total = (t->total < 0 ? 0 : t->total) + c;
	}
	return 0;
}

/* A priced entry (LowestPrices, BuyBoxPrices): its landed price (LandedPrice,
 * else ListingPrice + Shipping) when of the condition. */
static int price_entry(struct walk *w, struct bb_jval e, void *arg)
{
	static const char *spec[][2] = {
		{ "Condition", "s" }, { "FulfillmentChannel", "s" }, { "Points", "o" }, { NULL, NULL } };
	struct tally *t = arg;
	int64_t lp = 0, li = 0, sh = 0;
	int has_lp, has_li, has_sh;

	if (typed(w, e, spec) < 0 || (has_lp = money(w, e, "LandedPrice", 0, &lp)) < 0 ||
	    (has_li = money(w, e, "ListingPrice", 0, &li)) < 0 || (has_sh = money(w, e, "Shipping", 0, &sh)) < 0)
		return -1;
	if (condition_matches(e, t->cond) && (has_lp || has_li)) {
		int64_t v = has_lp ? lp : li + (has_sh ? sh : 0);
		if (t->total < 0 || (!t->first && v < t->total))
			t->total = v;
	}
	return 0;
}

static int ranking_entry(struct walk *w, struct bb_jval e, void *arg)
{
	static const char *spec[][2] = { { "ProductCategoryId", "s" }, { "Rank", "n" }, { NULL, NULL } };
	struct bb_notification *n = arg;

	if (typed(w, e, spec) < 0)
		return -1;
	if (bb_notification_reserve(n, 0, n->nrankings + 1) != 0)
		return fail(w, "schema", "too many rankings to hold in memory");
	n->rankings[n->nrankings].category = bb_str_of(bb_json_getz(e, "ProductCategoryId"));
	n->rankings[n->nrankings].rank = num_of(e, "Rank");
	n->nrankings++;
	return 0;
}

static int64_t none_if_negative(int64_t v)
{
	return v < 0 ? BB_NONE : v;
}

/* The summary, reduced to the trigger's condition. */
static int summary(struct walk *w, struct bb_jval aoc, const char *cond, struct bb_notification *n)
{
	static const char *spec[][2] = { { "TotalBuyBoxEligibleOffers", "c" }, { NULL, NULL } };
	struct tally total = { cond, -1, 0 }, eligible = { cond, -1, 0 }, lowest = { cond, -1, 0 },
		     buy_box = { cond, -1, 1 };
	int64_t list_price = 0, unused;
	int has_list = 0;
	struct bb_jval s;
	int rc = field(w, aoc, "Summary", BB_JOBJECT, 0, &s);

	if (rc <= 0)
		return rc;
	size_t saved = push(w, "Summary");
	if (each_entry(w, s, "NumberOfOffers", count_entry, &total) < 0 ||
	    each_entry(w, s, "NumberOfBuyBoxEligibleOffers", count_entry, &eligible) < 0 ||
	    each_entry(w, s, "LowestPrices", price_entry, &lowest) < 0 ||
	    each_entry(w, s, "BuyBoxPrices", price_entry, &buy_box) < 0 ||
	    (has_list = money(w, s, "ListPrice", 0, &list_price)) < 0 ||
	    money(w, s, "SuggestedLowerPricePlusShipping", 0, &unused) < 0 ||
	    money(w, s, "CompetitivePriceThreshold", 0, &unused) < 0 ||
	    money(w, s, "MinimumAdvertisedPrice", 0, &unused) < 0 || typed(w, s, spec) < 0 ||
	    each_entry(w, s, "SalesRankings", ranking_entry, n) < 0)
		return -1;
	pop(w, saved);
	n->total_offers = none_if_negative(total.total);
	n->buy_box_eligible_offers = none_if_negative(eligible.total);
	n->lowest_landed = none_if_negative(lowest.total);
	n->buy_box_landed = none_if_negative(buy_box.total);
	n->list_price = has_list ? list_price : BB_NONE;
	return 0;
}

static int known_marketplace(const struct vconf *conf, struct bb_str id)
{
	for (size_t i = 0; i < sizeof amazon_marketplaces / sizeof *amazon_marketplaces; i++)
		if (bb_str_eq(id, amazon_marketplaces[i]))
			return 1;
	for (int i = 0; i < conf->nmarketplaces; i++)
		if (bb_str_eq(id, conf->marketplaces[i]))
			return 1;
	return 0;
}

static int valid_asin(struct bb_str s)
{
	for (size_t i = 0; i < s.n; i++)
		if (!isdigit((unsigned char)s.p[i]) && !isupper((unsigned char)s.p[i]))
			return 0;
	return s.n == 10;
}

static int trigger(struct walk *w, struct bb_jval aoc, struct bb_jval *trig, struct bb_notification *n)
{
	static const char *spec[][2] = {
		{ "TimeOfOfferChange", "t" }, { NULL, NULL } };

	if (field(w, aoc, "OfferChangeTrigger", BB_JOBJECT, 1, trig) < 0)
		return -1;
	size_t saved = push(w, "OfferChangeTrigger");
	if (id_string(w, *trig, "MarketplaceId", 1, &n->marketplace) < 0 ||
	    id_string(w, *trig, "ASIN", 1, &n->asin) < 0 ||
	    id_string(w, *trig, "ItemCondition", 0, &n->condition) < 0 ||
	    id_string(w, *trig, "OfferChangeType", 0, &n->change_type) < 0 || typed(w, *trig, spec) < 0)
		return -1;
	if (!valid_asin(n->asin)) {
		push(w, "ASIN");
		return fail(w, "invalid_asin", "'%.*s' is not 10 characters of A-Z and 0-9",
			    (int)(n->asin.n > 40 ? 40 : n->asin.n), n->asin.p);
	}
	if (!known_marketplace(w->conf, n->marketplace)) {
		push(w, "MarketplaceId");
		return fail(w, "invalid_marketplace", "'%.*s' is not a known marketplace id",
			    (int)(n->marketplace.n > 40 ? 40 : n->marketplace.n), n->marketplace.p);
	}
	pop(w, saved);
	return 0;
}

/* The notification type, whatever the key's casing (PRICING_HEALTH is camelCase). */
static struct bb_jval type_of(struct bb_jval body)
{
	static const char name[] = "NotificationType";
	for (struct bb_jval m = bb_json_first(body); bb_json_type(m) != BB_JNONE; m = bb_json_next(m)) {
		const char *k;
		size_t n;
		if (bb_json_key(m, &k, &n) == 0 && n == sizeof name - 1 && strncasecmp(k, name, n) == 0)
			return m;
	}
	return (struct bb_jval){ 0 };
}

static int check_type(struct walk *w, struct bb_jval body)
{
	struct bb_jval type = type_of(body);
	struct bb_str t = bb_str_of(type);

	push(w, "NotificationType");
	if (bb_json_type(type) == BB_JNONE)
		return fail(w, "schema", "missing (required, expected a string)");
	if (!t.p)
		return fail(w, "schema", "expected a string, got %s", bb_json_type_name(bb_json_type(type)));
	if (t.n != 17 || strncasecmp(t.p, "ANY_OFFER_CHANGED", 17) != 0) {
		fail(w, "unsupported_type", "%.*s is not analysed by bb", (int)(t.n > 60 ? 60 : t.n), t.p);
		return 1;
	}
	pop(w, 0);
	return 0;
}

static struct bb_str trimmed(struct bb_str s)
{
	while (s.n && isspace((unsigned char)s.p[s.n - 1]))
		s.n--;
	while (s.n && isspace((unsigned char)*s.p))
		s.p++, s.n--;
	return s;
}

struct bb_str bb_notification_id_of(struct bb_jval body)
{
	struct bb_jval meta = bb_json_getz(body, "NotificationMetadata");
	struct bb_str id = trimmed(bb_str_of(bb_json_getz(meta, "NotificationId")));
	if (!id.p || id.n == 0 || memchr(id.p, '\0', id.n))
		return (struct bb_str){ NULL, 0 };
	return id;
}

/* The first of the times that is present. */
static int64_t time_of(struct bb_str s, int64_t fallback)
{
	int64_t ms = fallback;
	if (s.p && s.n > 0)
		bb_time_parse(s.p, s.n, &ms);
	return ms;
}

static int lower(struct walk *w, struct bb_notification *n, struct vscratch *s)
{
	if (!n->condition.p)
		return 0;
	if (n->condition.n >= sizeof s->condition) {
		push(w, "Payload");
		push(w, "AnyOfferChangedNotification");
		push(w, "OfferChangeTrigger");
		push(w, "ItemCondition");
		return fail(w, "schema", "longer than %zu bytes", sizeof s->condition - 1);
	}
	for (size_t i = 0; i < n->condition.n; i++)
		s->condition[i] = (char)tolower((unsigned char)n->condition.p[i]);
	s->condition[n->condition.n] = '\0';
	n->condition.p = s->condition;
	return 0;
}

static void normalise(struct bb_jval body, struct bb_jval trig, struct bb_notification *n,
		      const struct walk *w, struct vscratch *s, const struct vtimes *t)
{
	struct bb_jval meta = opt(body, "NotificationMetadata", BB_JOBJECT);
	int64_t fallback = t->sent_at >= 0 ? t->sent_at : t->received_at;
	struct bb_str when = bb_str_of(bb_json_getz(body, "EventTime"));

	if (!when.p || when.n == 0)
		when = bb_str_of(bb_json_getz(trig, "TimeOfOfferChange"));
	n->type = (struct bb_str){ "ANY_OFFER_CHANGED", 17 };
	n->notification_id = bb_notification_id_of(body);
	n->event_time = time_of(when, fallback);
	n->publish_time = time_of(bb_str_of(bb_json_getz(meta, "PublishTime")), -1);
	memcpy(s->currency, w->currency, sizeof s->currency);
	n->currency = w->currency[0] ? (struct bb_str){ s->currency, 3 } : (struct bb_str){ NULL, 0 };
}

static int check_metadata(struct walk *w, struct bb_jval body)
{
	static const char *top[][2] = {
		{ "NotificationVersion", "s" }, { "PayloadVersion", "s" }, { "EventTime", "t" },
		{ "NotificationMetadata", "o" }, { NULL, NULL } };
	static const char *meta[][2] = {
		{ "ApplicationId", "s" }, { "SubscriptionId", "s" }, { "PublishTime", "t" }, { NULL, NULL } };
	struct bb_str id;

	if (typed(w, body, top) < 0 || sub(w, body, "NotificationMetadata", meta) < 0)
		return -1;
	struct bb_jval m = opt(body, "NotificationMetadata", BB_JOBJECT);
	if (bb_json_type(m) == BB_JNONE)
		return 0;
	size_t saved = push(w, "NotificationMetadata");
	if (id_string(w, m, "NotificationId", 0, &id) < 0)
		return -1;
	pop(w, saved);
	return 0;
}

int bb_validate_notification(struct bb_jval body, const struct vconf *conf, const struct vtimes *times,
			     struct bb_notification *n, struct vscratch *s, struct verr *err)
{
	struct walk w = { .conf = conf, .err = err };
	struct bb_jval payload, aoc, trig;
	int rc;

	memset(err, 0, sizeof *err);
	bb_notification_clear(n);
	if (bb_json_type(body) != BB_JOBJECT) {
		fail(&w, "schema", "expected an object, got %s",
		     bb_json_type(body) == BB_JNULL ? "null" : bb_json_type_name(bb_json_type(body)));
		return V_REJECTED;
	}
	if ((rc = check_type(&w, body)) != 0)
		return rc > 0 ? V_UNSUPPORTED : V_REJECTED;
	if (check_metadata(&w, body) < 0 || field(&w, body, "Payload", BB_JOBJECT, 1, &payload) < 0)
		return V_REJECTED;
	push(&w, "Payload");
	if (field(&w, payload, "AnyOfferChangedNotification", BB_JOBJECT, 1, &aoc) < 0)
		return V_REJECTED;
	push(&w, "AnyOfferChangedNotification");
	if (id_string(&w, aoc, "SellerId", 1, &n->seller_id) < 0 || trigger(&w, aoc, &trig, n) < 0 ||
	    offers(&w, aoc, n) < 0)
		return V_REJECTED;
	w.plen = 0;
	if (lower(&w, n, s) < 0)
		return V_REJECTED;
	push(&w, "Payload");
	push(&w, "AnyOfferChangedNotification");
	if (summary(&w, aoc, n->condition.p ? s->condition : "new", n) < 0)
		return V_REJECTED;
	normalise(body, trig, n, &w, s, times);
	return V_OK;
}
