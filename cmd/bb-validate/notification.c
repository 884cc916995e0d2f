/* notification.c: the schema of ANY_OFFER_CHANGED as it really arrives.
 *
 * Required is only what the analysis cannot do without; every other field is
 * type-checked when present, because Amazon's own samples leave out each of
 * them in some combination. A null optional field counts as absent. Errors
 * name the field by its path in the notification. */
#include "validate.h"
#include "money.h"
#include "record.h"
#include "timeutil.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
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
		int index;
	} path[24];
	size_t plen;
	char currency[4]; /* the first CurrencyCode seen; all others must agree */
};

static const char *kind_name(jv_kind k)
{
	switch (k) {
	case JV_KIND_NULL: return "null";
	case JV_KIND_TRUE:
	case JV_KIND_FALSE: return "boolean";
	case JV_KIND_NUMBER: return "number";
	case JV_KIND_STRING: return "string";
	case JV_KIND_ARRAY: return "array";
	case JV_KIND_OBJECT: return "object";
	default: return "nothing";
	}
}

static size_t push(struct walk *w, const char *key)
{
	size_t saved = w->plen;
	if (w->plen < sizeof w->path / sizeof w->path[0])
		w->path[w->plen++].key = key;
	return saved;
}

static size_t push_index(struct walk *w, int i)
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
				       : snprintf(buf + n, size - n, "[%d]", w->path[i].index);
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

/* Object keys as jv strings, made once: jv_string() validates UTF-8 and
 * hashes on every call, and the walk asks for the same few dozen keys for
 * every offer of every notification. Keyed by the literal's address. */
static jv jkey(const char *k)
{
	static struct {
		const char *lit;
		jv v;
	} memo[96];
	static int n;

	for (int i = 0; i < n; i++)
		if (memo[i].lit == k)
			return jv_copy(memo[i].v);
	if (n == (int)(sizeof memo / sizeof memo[0]))
		return jv_string(k);
	memo[n].lit = k;
	memo[n].v = jv_string(k);
	return jv_copy(memo[n++].v);
}

static int is_bool(jv_kind k)
{
	return k == JV_KIND_TRUE || k == JV_KIND_FALSE;
}

/* Fetch obj.key (obj must be an object) and check its kind. Returns 1 with *out
 * set when present, 0 when absent or null (and not required), -1 on error.
 * JV_KIND_TRUE stands for "a boolean". */
static int field(struct walk *w, jv obj, const char *key, jv_kind want, int required, jv *out)
{
	jv v = jv_object_get(jv_copy(obj), jkey(key));
	jv_kind k = jv_get_kind(v);
	size_t saved = push(w, key);
	int rc = 1;

	*out = jv_null();
	if (k == JV_KIND_INVALID || k == JV_KIND_NULL) {
		rc = required ? fail(w, "schema", k == JV_KIND_NULL ? "expected %s, got null" :
				     "missing (required, expected %s)", want == JV_KIND_OBJECT ? "an object" :
				     want == JV_KIND_ARRAY ? "an array" : want == JV_KIND_TRUE ?
				     "a boolean" : want == JV_KIND_NUMBER ? "a number" : "a string") : 0;
		jv_free(v);
	} else if (k != want && !(want == JV_KIND_TRUE && is_bool(k))) {
		rc = fail(w, "schema", "expected %s, got %s",
			  want == JV_KIND_OBJECT ? "an object" : want == JV_KIND_ARRAY ? "an array" :
			  want == JV_KIND_TRUE ? "a boolean" : want == JV_KIND_NUMBER ? "a number" :
			  "a string", kind_name(k));
		jv_free(v);
	} else {
		*out = v;
	}
	if (rc >= 0)
		pop(w, saved);
	return rc;
}

/* Counts are whole numbers a double holds exactly; a larger one would not
 * even convert to an integer. */
#define COUNT_LIMIT 9007199254740992.0 /* 2^53 */

/* Check that the optional fields named are of the kinds given ("s" string,
 * "n" number, "b" boolean, "t" RFC 3339 time or "", "c" count, "o" object). */
static int typed(struct walk *w, jv obj, const char *spec[][2])
{
	for (int i = 0; spec[i][0]; i++) {
		char t = spec[i][1][0];
		jv_kind want = t == 'n' || t == 'c' ? JV_KIND_NUMBER : t == 'b' ? JV_KIND_TRUE :
			       t == 'o' ? JV_KIND_OBJECT : JV_KIND_STRING;
		jv v;
		int rc = field(w, obj, spec[i][0], want, 0, &v);
		if (rc < 0)
			return -1;
		if (rc == 1) {
			size_t saved = push(w, spec[i][0]);
			int64_t ms;
			const char *s = t == 't' ? jv_string_value(v) : NULL;
			double d = t == 'c' ? jv_number_value(v) : 0;
			if (s && *s && bb_time_parse(s, strlen(s), &ms) != 0)
				rc = fail(w, "invalid_time", "'%.60s' is not an RFC 3339 time", s);
			else if (t == 'c' && d >= COUNT_LIMIT)
				rc = fail(w, "schema", "%g is out of range", d);
			else if (t == 'c' && !(d >= 0 && d == (double)(int64_t)d))
				rc = fail(w, "schema", "expected a non-negative whole number, got %g", d);
			if (rc < 0) {
				jv_free(v);
				return -1;
			}
			pop(w, saved);
		}
		jv_free(v);
	}
	return 0;
}

/* A money object {Amount, CurrencyCode}: *minor in the currency's minor unit.
 * Returns 1 present, 0 absent, -1 error. */
static int money(struct walk *w, jv obj, const char *key, int required, int64_t *minor)
{
	jv m, amount, code;
	int rc = field(w, obj, key, JV_KIND_OBJECT, required, &m);
	if (rc <= 0)
		return rc;
	size_t saved = push(w, key);
	rc = field(w, m, "Amount", JV_KIND_NUMBER, 1, &amount);
	if (rc > 0)
		rc = field(w, m, "CurrencyCode", JV_KIND_STRING, 1, &code);
	if (rc < 0) {
		jv_free(m);
		jv_free(amount);
		return -1;
	}
	const char *c = jv_string_value(code);
	double a = jv_number_value(amount);
	size_t s2 = push(w, "CurrencyCode");
	if (strlen(c) != 3 || !isupper((unsigned char)c[0]) || !isupper((unsigned char)c[1]) ||
	    !isupper((unsigned char)c[2]))
		rc = fail(w, "invalid_amount", "'%.20s' is not a 3-letter currency code", c);
	else if (w->currency[0] && strcmp(w->currency, c) != 0)
		rc = fail(w, "invalid_amount", "currency %s differs from %s earlier in the notification",
			  c, w->currency);
	else
		memcpy(w->currency, c, 4);
	pop(w, s2);
	s2 = push(w, "Amount");
	if (rc >= 0 && a < 0)
		rc = fail(w, "invalid_amount", "%g is negative", a);
	else if (rc >= 0 && bb_money_from_double(a, bb_currency_exponent(c), minor) != 0)
		rc = fail(w, "invalid_amount", "%g is out of range", a);
	if (rc >= 0) {
		pop(w, s2);
		pop(w, saved);
		rc = 1;
	}
	jv_free(m);
	jv_free(amount);
	jv_free(code);
	return rc;
}

static jv money_or_null(int present, int64_t v)
{
	return present ? jv_number((double)v) : jv_null();
}

static jv bool_or_null(jv v)
{
	jv_kind k = jv_get_kind(v);
	jv_free(v);
	return k == JV_KIND_TRUE ? jv_true() : k == JV_KIND_FALSE ? jv_false() : jv_null();
}

/* obj.key when it is present and of the kind, else null (already type-checked). */
static jv opt(jv obj, const char *key)
{
	if (jv_get_kind(obj) != JV_KIND_OBJECT)
		return jv_null();
	jv v = jv_object_get(jv_copy(obj), jkey(key));
	if (!jv_is_valid(v)) {
		jv_free(v);
		return jv_null();
	}
	return v;
}

/* obj.key is known to be an object or absent: check its fields by spec. */
static int sub(struct walk *w, jv obj, const char *key, const char *spec[][2])
{
	jv v = opt(obj, key);
	int rc = 0;

	if (jv_get_kind(v) == JV_KIND_OBJECT) {
		size_t saved = push(w, key);
		rc = typed(w, v, spec);
		if (rc == 0)
			pop(w, saved);
	}
	jv_free(v);
	return rc;
}

static int offer(struct walk *w, jv o, jv *out)
{
	static const char *spec[][2] = {
		{ "SubCondition", "s" }, { "IsFulfilledByAmazon", "b" }, { "IsBuyBoxWinner", "b" },
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
	jv seller;
	int64_t listing = 0, shipping = 0;

	if (field(w, o, "SellerId", JV_KIND_STRING, 1, &seller) < 0)
		return -1;
	if (jv_string_length_bytes(jv_copy(seller)) == 0) {
		size_t saved = push(w, "SellerId");
		jv_free(seller);
		(void)saved;
		return fail(w, "schema", "is empty");
	}
	if (money(w, o, "ListingPrice", 1, &listing) < 0 || money(w, o, "Shipping", 1, &shipping) < 0 ||
	    typed(w, o, spec) < 0 || sub(w, o, "SellerFeedbackRating", feedback) < 0 ||
	    sub(w, o, "ShippingTime", shipping_time) < 0 || sub(w, o, "PrimeInformation", prime) < 0 ||
	    sub(w, o, "ShipsFrom", ships_from) < 0 || sub(w, o, "Points", points) < 0) {
		jv_free(seller);
		return -1;
	}
	jv fb = opt(o, "SellerFeedbackRating"), st = opt(o, "ShippingTime"),
	   pi = opt(o, "PrimeInformation");
	jv is_prime = opt(pi, "IsOfferPrime");
	if (jv_get_kind(is_prime) == JV_KIND_NULL) {
		jv_free(is_prime);
		is_prime = opt(pi, "IsPrime");
	}
	jv r = jv_object();
	r = jv_object_set(r, jv_string("seller_id"), seller);
	r = jv_object_set(r, jv_string("listing"), jv_number((double)listing));
	r = jv_object_set(r, jv_string("shipping"), jv_number((double)shipping));
	r = jv_object_set(r, jv_string("landed"), jv_number((double)(listing + shipping)));
	r = jv_object_set(r, jv_string("fba"), bool_or_null(opt(o, "IsFulfilledByAmazon")));
	r = jv_object_set(r, jv_string("prime"), bool_or_null(is_prime));
	r = jv_object_set(r, jv_string("buy_box_winner"), bool_or_null(opt(o, "IsBuyBoxWinner")));
	r = jv_object_set(r, jv_string("featured"), bool_or_null(opt(o, "IsFeaturedMerchant")));
	r = jv_object_set(r, jv_string("feedback_count"), opt(fb, "FeedbackCount"));
	r = jv_object_set(r, jv_string("feedback_rating"), opt(fb, "SellerPositiveFeedbackRating"));
	r = jv_object_set(r, jv_string("sub_condition"), opt(o, "SubCondition"));
	r = jv_object_set(r, jv_string("min_hours"), opt(st, "MinimumHours"));
	r = jv_object_set(r, jv_string("max_hours"), opt(st, "MaximumHours"));
	jv_free(fb);
	jv_free(st);
	jv_free(pi);
	*out = r;
	return 0;
}

static int offers(struct walk *w, jv aoc, jv *out)
{
	jv list;

	if (field(w, aoc, "Offers", JV_KIND_ARRAY, 1, &list) < 0)
		return -1;
	size_t saved = push(w, "Offers");
	jv r = jv_array();
	int n = jv_array_length(jv_copy(list));
	for (int i = 0; i < n; i++) {
		jv o = jv_array_get(jv_copy(list), i), norm;
		size_t s2 = push_index(w, i);
		int rc = jv_get_kind(o) != JV_KIND_OBJECT ?
			 fail(w, "schema", "expected an object, got %s", kind_name(jv_get_kind(o))) :
			 offer(w, o, &norm);
		jv_free(o);
		if (rc < 0) {
			jv_free(r);
			jv_free(list);
			return -1;
		}
		r = jv_array_append(r, norm);
		pop(w, s2);
	}
	pop(w, saved);
	jv_free(list);
	*out = r;
	return 0;
}

static int condition_matches(jv entry, const char *cond)
{
	jv c = opt(entry, "Condition");
	int m = jv_get_kind(c) == JV_KIND_STRING && strcasecmp(jv_string_value(c), cond) == 0;
	jv_free(c);
	return m;
}

/* Sum the OfferCount of a summary list's entries for the condition.
 * *total stays -1 when no entry has the condition. */
static int counts(struct walk *w, jv summary, const char *key, const char *cond, int64_t *total)
{
	static const char *spec[][2] = {
		{ "Condition", "s" }, { "FulfillmentChannel", "s" }, { "OfferCount", "c" }, { NULL, NULL } };
	jv list;
	int rc = field(w, summary, key, JV_KIND_ARRAY, 0, &list);

	*total = -1;
	if (rc <= 0)
		return rc;
	size_t saved = push(w, key);
	int n = jv_array_length(jv_copy(list));
	for (int i = 0; i < n && rc >= 0; i++) {
		jv e = jv_array_get(jv_copy(list), i);
		size_t s2 = push_index(w, i);
		if (jv_get_kind(e) != JV_KIND_OBJECT)
			rc = fail(w, "schema", "expected an object, got %s", kind_name(jv_get_kind(e)));
		else if ((rc = typed(w, e, spec)) == 0 && condition_matches(e, cond)) {
			jv c = opt(e, "OfferCount");
			int64_t count = jv_get_kind(c) == JV_KIND_NUMBER ? (int64_t)jv_number_value(c) : 0;
			*total = *total < 0 ? 0 : *total;
			/* below 2^53 each, but a 1 MiB body holds thousands of them */
			*total = count > INT64_MAX - *total ? INT64_MAX : *total + count;
			jv_free(c);
		}
		if (rc >= 0)
			pop(w, s2);
		jv_free(e);
	}
	if (rc >= 0)
		pop(w, saved);
	jv_free(list);
	return rc < 0 ? -1 : 0;
}

/* A list of priced entries (LowestPrices, BuyBoxPrices): the landed price of
 * each entry of the condition (LandedPrice, else ListingPrice + Shipping);
 * keep the first (first=1) or the lowest. *landed stays -1 when none. */
static int prices(struct walk *w, jv summary, const char *key, const char *cond, int first,
		  int64_t *landed)
{
	static const char *spec[][2] = {
		{ "Condition", "s" }, { "FulfillmentChannel", "s" }, { "Points", "o" }, { NULL, NULL } };
	jv list;
	int rc = field(w, summary, key, JV_KIND_ARRAY, 0, &list);

	*landed = -1;
	if (rc <= 0)
		return rc;
	size_t saved = push(w, key);
	int n = jv_array_length(jv_copy(list));
	for (int i = 0; i < n && rc >= 0; i++) {
		jv e = jv_array_get(jv_copy(list), i);
		int64_t lp = 0, li = 0, sh = 0;
		int has_lp = 0, has_li = 0, has_sh = 0;
		size_t s2 = push_index(w, i);
		if (jv_get_kind(e) != JV_KIND_OBJECT)
			rc = fail(w, "schema", "expected an object, got %s", kind_name(jv_get_kind(e)));
		if (rc >= 0 && ((rc = typed(w, e, spec)) < 0 ||
				(has_lp = money(w, e, "LandedPrice", 0, &lp)) < 0 ||
				(has_li = money(w, e, "ListingPrice", 0, &li)) < 0 ||
				(has_sh = money(w, e, "Shipping", 0, &sh)) < 0))
			rc = -1;
		if (rc >= 0 && condition_matches(e, cond) && (has_lp || has_li)) {
			int64_t v = has_lp ? lp : li + (has_sh ? sh : 0);
			if (*landed < 0 || (!first && v < *landed))
				*landed = v;
		}
		if (rc >= 0)
			pop(w, s2);
		jv_free(e);
	}
	if (rc >= 0)
		pop(w, saved);
	jv_free(list);
	return rc < 0 ? -1 : 0;
}

static jv count_or_null(int64_t v)
{
	return v < 0 ? jv_null() : jv_number((double)v);
}

static int rankings(struct walk *w, jv summary, jv *out)
{
	static const char *spec[][2] = { { "ProductCategoryId", "s" }, { "Rank", "n" }, { NULL, NULL } };
	jv list;
	int rc = field(w, summary, "SalesRankings", JV_KIND_ARRAY, 0, &list);

	*out = jv_array();
	if (rc <= 0)
		return rc;
	size_t saved = push(w, "SalesRankings");
	int n = jv_array_length(jv_copy(list));
	for (int i = 0; i < n && rc >= 0; i++) {
		jv e = jv_array_get(jv_copy(list), i);
		size_t s2 = push_index(w, i);
		if (jv_get_kind(e) != JV_KIND_OBJECT)
			rc = fail(w, "schema", "expected an object, got %s", kind_name(jv_get_kind(e)));
		else if ((rc = typed(w, e, spec)) == 0) {
			jv r = jv_object();
			r = jv_object_set(r, jv_string("category"), opt(e, "ProductCategoryId"));
			r = jv_object_set(r, jv_string("rank"), opt(e, "Rank"));
			*out = jv_array_append(*out, r);
			pop(w, s2);
		}
		jv_free(e);
	}
	if (rc >= 0)
		pop(w, saved);
	jv_free(list);
	return rc < 0 ? -1 : 0;
}

/* The summary, reduced to the trigger's condition. Always an object. */
static int summary(struct walk *w, jv aoc, const char *cond, jv *out)
{
	static const char *spec[][2] = { { "TotalBuyBoxEligibleOffers", "c" }, { NULL, NULL } };
	int64_t total, eligible, lowest, buy_box, list_price = 0, unused;
	int has_list = 0;
	jv s, ranks = jv_array();
	int rc = field(w, aoc, "Summary", JV_KIND_OBJECT, 0, &s);

	if (rc < 0)
		return -1;
	total = eligible = lowest = buy_box = -1;
	if (rc > 0) {
		size_t saved = push(w, "Summary");
		jv_free(ranks);
		if (counts(w, s, "NumberOfOffers", cond, &total) < 0 ||
		    counts(w, s, "NumberOfBuyBoxEligibleOffers", cond, &eligible) < 0 ||
		    prices(w, s, "LowestPrices", cond, 0, &lowest) < 0 ||
		    prices(w, s, "BuyBoxPrices", cond, 1, &buy_box) < 0 ||
		    (has_list = money(w, s, "ListPrice", 0, &list_price)) < 0 ||
		    money(w, s, "SuggestedLowerPricePlusShipping", 0, &unused) < 0 ||
		    money(w, s, "CompetitivePriceThreshold", 0, &unused) < 0 ||
		    money(w, s, "MinimumAdvertisedPrice", 0, &unused) < 0 ||
		    typed(w, s, spec) < 0 || rankings(w, s, &ranks) < 0) {
			jv_free(s);
			return -1;
		}
		pop(w, saved);
	}
	jv_free(s);
	jv r = jv_object();
	r = jv_object_set(r, jv_string("total_offers"), count_or_null(total));
	r = jv_object_set(r, jv_string("buy_box_eligible_offers"), count_or_null(eligible));
	r = jv_object_set(r, jv_string("lowest_landed"), count_or_null(lowest));
	r = jv_object_set(r, jv_string("buy_box_landed"), count_or_null(buy_box));
	r = jv_object_set(r, jv_string("list_price"), money_or_null(has_list, list_price));
	r = jv_object_set(r, jv_string("sales_rankings"), ranks);
	*out = r;
	return 0;
}

static int known_marketplace(const struct vconf *conf, const char *id)
{
	for (size_t i = 0; i < sizeof amazon_marketplaces / sizeof *amazon_marketplaces; i++)
		if (strcmp(amazon_marketplaces[i], id) == 0)
			return 1;
	for (int i = 0; i < conf->nmarketplaces; i++)
		if (strcmp(conf->marketplaces[i], id) == 0)
			return 1;
	return 0;
}

static int valid_asin(const char *s)
{
	size_t n = 0;
	for (; s[n]; n++)
		if (!isdigit((unsigned char)s[n]) && !isupper((unsigned char)s[n]))
			return 0;
	return n == 10;
}

/* The first of the times that is present, as a normalised RFC 3339 string. */
static jv time_of(jv s, int64_t fallback)
{
	int64_t ms = fallback;

	if (jv_get_kind(s) == JV_KIND_STRING && jv_string_length_bytes(jv_copy(s)) > 0)
		bb_time_parse(jv_string_value(s), strlen(jv_string_value(s)), &ms);
	jv_free(s);
	return bb_jv_time(ms);
}

static int trigger(struct walk *w, jv aoc, jv *trig)
{
	static const char *spec[][2] = {
		{ "ItemCondition", "s" }, { "TimeOfOfferChange", "t" }, { "OfferChangeType", "s" },
		{ NULL, NULL } };
	jv mkt, asin;

	if (field(w, aoc, "OfferChangeTrigger", JV_KIND_OBJECT, 1, trig) < 0)
		return -1;
	size_t saved = push(w, "OfferChangeTrigger");
	if (field(w, *trig, "MarketplaceId", JV_KIND_STRING, 1, &mkt) < 0)
		return -1;
	if (field(w, *trig, "ASIN", JV_KIND_STRING, 1, &asin) < 0) {
		jv_free(mkt);
		return -1;
	}
	int rc = typed(w, *trig, spec);
	if (rc == 0 && !valid_asin(jv_string_value(asin))) {
		push(w, "ASIN");
		rc = fail(w, "invalid_asin", "'%.40s' is not 10 characters of A-Z and 0-9",
			  jv_string_value(asin));
	} else if (rc == 0 && !known_marketplace(w->conf, jv_string_value(mkt))) {
		push(w, "MarketplaceId");
		rc = fail(w, "invalid_marketplace", "'%.40s' is not a known marketplace id",
			  jv_string_value(mkt));
	}
	jv_free(mkt);
	jv_free(asin);
	if (rc == 0)
		pop(w, saved);
	return rc;
}

/* The notification type, whatever the key's casing (PRICING_HEALTH is camelCase). */
static jv type_of(jv body)
{
	jv type = jv_invalid();
	jv_object_foreach(body, k, v) {
		if (strcasecmp(jv_string_value(k), "NotificationType") == 0 && !jv_is_valid(type))
			type = jv_copy(v);
		jv_free(k);
		jv_free(v);
	}
	return type;
}

static int check_type(struct walk *w, jv body)
{
	jv type = type_of(body);
	int rc = 0;

	push(w, "NotificationType");
	if (!jv_is_valid(type))
		rc = fail(w, "schema", "missing (required, expected a string)");
	else if (jv_get_kind(type) != JV_KIND_STRING)
		rc = fail(w, "schema", "expected a string, got %s", kind_name(jv_get_kind(type)));
	else if (strcasecmp(jv_string_value(type), "ANY_OFFER_CHANGED") != 0) {
		fail(w, "unsupported_type", "%.60s is not analysed by bb", jv_string_value(type));
		rc = 1;
	}
	jv_free(type);
	if (rc == 0)
		pop(w, 0);
	return rc;
}

static jv lower(jv s)
{
	if (jv_get_kind(s) != JV_KIND_STRING)
		return s;
	char buf[64];
	snprintf(buf, sizeof buf, "%s", jv_string_value(s));
	for (char *p = buf; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	jv_free(s);
	return jv_string(buf);
}

static jv trimmed(jv s)
{
	if (jv_get_kind(s) != JV_KIND_STRING)
		return s;
	const char *p = jv_string_value(s);
	size_t n = strlen(p);
	while (n && isspace((unsigned char)p[n - 1]))
		n--;
	while (n && isspace((unsigned char)*p))
		p++, n--;
	jv r = jv_string_sized(p, (int)n);
	jv_free(s);
	return r;
}

static jv normalised(jv body, jv aoc, jv trig, jv offer_list, jv summ, const struct walk *w,
		     const struct vtimes *t)
{
	jv meta = opt(body, "NotificationMetadata");
	jv cond = lower(opt(trig, "ItemCondition"));
	int64_t fallback = t->sent_at >= 0 ? t->sent_at : t->received_at;
	jv when = opt(body, "EventTime");

	if (jv_get_kind(when) != JV_KIND_STRING || jv_string_length_bytes(jv_copy(when)) == 0) {
		jv_free(when);
		when = opt(trig, "TimeOfOfferChange");
	}
	jv r = jv_object();
	r = jv_object_set(r, jv_string("type"), jv_string("ANY_OFFER_CHANGED"));
	r = jv_object_set(r, jv_string("notification_id"), trimmed(opt(meta, "NotificationId")));
	r = jv_object_set(r, jv_string("event_time"), time_of(when, fallback));
	r = jv_object_set(r, jv_string("publish_time"), time_of(opt(meta, "PublishTime"), -1));
	r = jv_object_set(r, jv_string("seller_id"), opt(aoc, "SellerId"));
	r = jv_object_set(r, jv_string("marketplace"), opt(trig, "MarketplaceId"));
	r = jv_object_set(r, jv_string("asin"), opt(trig, "ASIN"));
	r = jv_object_set(r, jv_string("condition"), cond);
	r = jv_object_set(r, jv_string("change_type"), opt(trig, "OfferChangeType"));
	r = jv_object_set(r, jv_string("currency"),
			  w->currency[0] ? jv_string(w->currency) : jv_null());
	r = jv_object_set(r, jv_string("offers"), offer_list);
	r = jv_object_set(r, jv_string("summary"), summ);
	jv_free(meta);
	return r;
}

int bb_validate_notification(jv body, const struct vconf *conf, const struct vtimes *times,
			     jv *out, struct verr *err)
{
	static const char *top[][2] = {
		{ "NotificationVersion", "s" }, { "PayloadVersion", "s" }, { "EventTime", "t" },
		{ "NotificationMetadata", "o" }, { NULL, NULL } };
	static const char *meta[][2] = {
		{ "ApplicationId", "s" }, { "SubscriptionId", "s" }, { "PublishTime", "t" },
		{ "NotificationId", "s" }, { NULL, NULL } };
	struct walk w = { .conf = conf, .err = err };
	jv payload = jv_null(), aoc = jv_null(), seller = jv_null(), trig = jv_null();
	jv list = jv_null(), summ = jv_null();
	int rc;

	memset(err, 0, sizeof *err);
	if (jv_get_kind(body) != JV_KIND_OBJECT) {
		fail(&w, "schema", "expected an object, got %s", kind_name(jv_get_kind(body)));
		return V_REJECTED;
	}
	if ((rc = check_type(&w, body)) != 0)
		return rc > 0 ? V_UNSUPPORTED : V_REJECTED;
	rc = typed(&w, body, top) < 0 || sub(&w, body, "NotificationMetadata", meta) < 0 ||
	     field(&w, body, "Payload", JV_KIND_OBJECT, 1, &payload) < 0;
	if (!rc) {
		push(&w, "Payload");
		rc = field(&w, payload, "AnyOfferChangedNotification", JV_KIND_OBJECT, 1, &aoc) < 0;
	}
	if (!rc) {
		push(&w, "AnyOfferChangedNotification");
		rc = field(&w, aoc, "SellerId", JV_KIND_STRING, 1, &seller) < 0 ||
		     trigger(&w, aoc, &trig) < 0 || offers(&w, aoc, &list) < 0;
	}
	if (!rc) {
		jv cond = lower(opt(trig, "ItemCondition"));
		rc = summary(&w, aoc, jv_get_kind(cond) == JV_KIND_STRING ? jv_string_value(cond) : "new",
			     &summ) < 0;
		jv_free(cond);
	}
	if (!rc)
		*out = normalised(body, aoc, trig, jv_copy(list), jv_copy(summ), &w, times);
	jv_free(payload);
	jv_free(aoc);
	jv_free(seller);
	jv_free(trig);
	jv_free(list);
	jv_free(summ);
	return rc ? V_REJECTED : V_OK;
}
