/* notification.c: the normalised notification read from and written to a
 * record. The writer fixes the member order of bb-record(5). */
#include "notification.h"
#include "timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int bb_str_eq(struct bb_str s, const char *z)
{
	size_t n = strlen(z);
	return s.p && s.n == n && memcmp(s.p, z, n) == 0;
}

struct bb_str bb_str_of(struct bb_jval v)
{
	struct bb_str s = { NULL, 0 };
	if (bb_json_string(v, &s.p, &s.n) != 0)
		s.p = NULL;
	return s;
}

int bb_reserve(void **arr, size_t *cap, size_t want, size_t size)
{
	if (want <= *cap)
		return 0;
	size_t c = *cap ? *cap : 8;
	while (c < want)
		c *= 2;
	void *p = realloc(*arr, c * size);
	if (!p)
		return -1;
	*arr = p;
	*cap = c;
	return 0;
}

int bb_notification_reserve(struct bb_notification *n, size_t offers, size_t rankings)
{
	return bb_reserve((void **)&n->offers, &n->offers_cap, offers, sizeof *n->offers) ||
	       bb_reserve((void **)&n->rankings, &n->rankings_cap, rankings, sizeof *n->rankings) ? -1 : 0;
}

void bb_notification_clear(struct bb_notification *n)
{
	struct bb_offer *o = n->offers;
	struct bb_ranking *r = n->rankings;
	size_t oc = n->offers_cap, rc = n->rankings_cap;

	memset(n, 0, sizeof *n);
	n->offers = o;
	n->offers_cap = oc;
	n->rankings = r;
	n->rankings_cap = rc;
	n->event_time = n->publish_time = -1;
	n->total_offers = n->buy_box_eligible_offers = n->lowest_landed = n->buy_box_landed =
		n->list_price = BB_NONE;
}

void bb_notification_free(struct bb_notification *n)
{
	free(n->offers);
	free(n->rankings);
	memset(n, 0, sizeof *n);
}

/* ---- reading ---- */

void bb_why_expected(struct bb_why *r, const char *path, const char *what)
{
	if (!r->bad)
		snprintf(r->why, r->whylen, "%s.%s: expected %s", r->member, path, what);
	r->bad = 1;
}

/* The readers take the member's value (absent: BB_JNONE). */
static struct bb_str str_v(struct bb_why *r, struct bb_jval v, const char *path, int required)
{
	struct bb_str s = bb_str_of(v);
	enum bb_jtype t = bb_json_type(v);
	if ((!s.p && required) || (!s.p && t != BB_JNULL && t != BB_JNONE))
		bb_why_expected(r, path, required ? "a string" : "a string or null");
	return s;
}

static int64_t integer_v(struct bb_why *r, struct bb_jval v, const char *path, int required)
{
	int64_t i;
	if (bb_json_int64(v, &i) == 0)
		return i;
	if (required || bb_json_type(v) != BB_JNULL)
		bb_why_expected(r, path, required ? "an integer" : "an integer or null");
	return BB_NONE;
}

static struct bb_str number_v(struct bb_why *r, struct bb_jval v, const char *path)
{
	struct bb_str s = { NULL, 0 };
	if (bb_json_number_text(v, &s.p, &s.n) != 0) {
		s.p = NULL;
		if (bb_json_type(v) != BB_JNULL && bb_json_type(v) != BB_JNONE)
			bb_why_expected(r, path, "a number or null");
	}
	return s;
}

static int boolean_v(struct bb_jval v)
{
	int b;
	return bb_json_bool(v, &b) == 0 ? b : -1;
}

static struct bb_str str(struct bb_why *r, struct bb_jval o, const char *key, const char *path, int required)
{
	return str_v(r, bb_json_getz(o, key), path, required);
}

static int64_t integer(struct bb_why *r, struct bb_jval o, const char *key, const char *path, int required)
{
	return integer_v(r, bb_json_getz(o, key), path, required);
}

static struct bb_str number(struct bb_why *r, struct bb_jval o, const char *key, const char *path)
{
	return number_v(r, bb_json_getz(o, key), path);
}

static int64_t when(struct bb_why *r, struct bb_jval o, const char *key, int required)
{
	struct bb_jval v = bb_json_getz(o, key);
	const char *s;
	size_t n;
	int64_t ms;
	if (bb_json_string(v, &s, &n) == 0 && bb_time_parse(s, n, &ms) == 0)
		return ms;
	if (required || bb_json_type(v) != BB_JNULL)
		bb_why_expected(r, key, "an RFC 3339 time");
	return -1;
}

/* An offer's members, in the order bb_notification_write puts them. */
enum { O_SELLER_ID, O_LISTING, O_SHIPPING, O_LANDED, O_FBA, O_PRIME, O_BUY_BOX_WINNER, O_FEATURED,
       O_FEEDBACK_COUNT, O_FEEDBACK_RATING, O_SUB_CONDITION, O_MIN_HOURS, O_MAX_HOURS, O_COUNT };

static const struct {
	const char *key;
	size_t n;
} offer_keys[O_COUNT] = {
	{ "seller_id", 9 }, { "listing", 7 }, { "shipping", 8 }, { "landed", 6 }, { "fba", 3 },
	{ "prime", 5 }, { "buy_box_winner", 14 }, { "featured", 8 }, { "feedback_count", 14 },
	{ "feedback_rating", 15 }, { "sub_condition", 13 }, { "min_hours", 9 }, { "max_hours", 9 },
};

/* Offers are most of a notification, so their members are taken in one
 * pass when they come in the writer's order, as they do from bb-validate;
 * otherwise (another order, a key missing or repeated) each by its name. */
static void offer_members(struct bb_jval o, struct bb_jval *val)
{
	struct bb_jval m = bb_json_first(o);
	const char *k;
	size_t i = 0, kn;

	for (; i < O_COUNT && bb_json_key(m, &k, &kn) == 0; i++, m = bb_json_next(m)) {
		if (kn != offer_keys[i].n || memcmp(k, offer_keys[i].key, kn) != 0)
			break;
		val[i] = m;
	}
	if (i == O_COUNT && bb_json_type(m) == BB_JNONE)
		return;
	for (i = 0; i < O_COUNT; i++)
		val[i] = bb_json_get(o, offer_keys[i].key, offer_keys[i].n);
}

static void read_offer(struct bb_why *r, struct bb_jval v, struct bb_offer *o)
{
	struct bb_jval m[O_COUNT];

	if (bb_json_type(v) != BB_JOBJECT) {
		bb_why_expected(r, "offers[]", "an object");
		return;
	}
	offer_members(v, m);
	o->seller_id = str_v(r, m[O_SELLER_ID], "offers[].seller_id", 1);
	o->listing = integer_v(r, m[O_LISTING], "offers[].listing", 1);
	o->shipping = integer_v(r, m[O_SHIPPING], "offers[].shipping", 1);
	o->landed = integer_v(r, m[O_LANDED], "offers[].landed", 1);
	o->fba = boolean_v(m[O_FBA]);
	o->prime = boolean_v(m[O_PRIME]);
	o->buy_box_winner = boolean_v(m[O_BUY_BOX_WINNER]);
	o->featured = boolean_v(m[O_FEATURED]);
	o->feedback_count = number_v(r, m[O_FEEDBACK_COUNT], "offers[].feedback_count");
	o->feedback_rating = number_v(r, m[O_FEEDBACK_RATING], "offers[].feedback_rating");
	o->sub_condition = str_v(r, m[O_SUB_CONDITION], "offers[].sub_condition", 0);
	o->min_hours = number_v(r, m[O_MIN_HOURS], "offers[].min_hours");
	o->max_hours = number_v(r, m[O_MAX_HOURS], "offers[].max_hours");
}

static void read_summary(struct bb_why *r, struct bb_jval s, struct bb_notification *n)
{
	struct bb_jval ranks = bb_json_getz(s, "sales_rankings");
	size_t i = 0;

	n->total_offers = integer(r, s, "total_offers", "summary.total_offers", 0);
	n->buy_box_eligible_offers = integer(r, s, "buy_box_eligible_offers", "summary.buy_box_eligible_offers", 0);
	n->lowest_landed = integer(r, s, "lowest_landed", "summary.lowest_landed", 0);
	n->buy_box_landed = integer(r, s, "buy_box_landed", "summary.buy_box_landed", 0);
	n->list_price = integer(r, s, "list_price", "summary.list_price", 0);
	if (bb_json_type(ranks) != BB_JARRAY)
		return;
	if (bb_notification_reserve(n, 0, bb_json_count(ranks))) {
		bb_why_expected(r, "summary.sales_rankings", "fewer rankings (out of memory)");
		return;
	}
	for (struct bb_jval e = bb_json_first(ranks); bb_json_type(e) != BB_JNONE; e = bb_json_next(e)) {
		n->rankings[i].category = str(r, e, "category", "summary.sales_rankings[].category", 0);
		n->rankings[i].rank = number(r, e, "rank", "summary.sales_rankings[].rank");
		i++;
	}
	n->nrankings = i;
}

int bb_notification_read(struct bb_jval v, struct bb_notification *n, char *why, size_t whylen)
{
	struct bb_why r = { why, whylen, "notification", 0 };
	struct bb_jval offers = bb_json_getz(v, "offers");
	size_t i = 0;

	bb_notification_clear(n);
	if (bb_json_type(v) != BB_JOBJECT) {
		snprintf(why, whylen, "notification: expected an object, got %s",
			 bb_json_type_name(bb_json_type(v)));
		return -1;
	}
	n->type = str(&r, v, "type", "type", 0);
	n->notification_id = str(&r, v, "notification_id", "notification_id", 0);
	n->event_time = when(&r, v, "event_time", 0);
	n->publish_time = when(&r, v, "publish_time", 0);
	n->seller_id = str(&r, v, "seller_id", "seller_id", 1);
	n->marketplace = str(&r, v, "marketplace", "marketplace", 1);
	n->asin = str(&r, v, "asin", "asin", 1);
	n->condition = str(&r, v, "condition", "condition", 0);
	n->change_type = str(&r, v, "change_type", "change_type", 0);
	n->currency = str(&r, v, "currency", "currency", 0);
	if (bb_json_type(offers) != BB_JARRAY)
		bb_why_expected(&r, "offers", "an array");
	else if (bb_notification_reserve(n, bb_json_count(offers), 0))
		bb_why_expected(&r, "offers", "fewer offers (out of memory)");
	else
		for (struct bb_jval e = bb_json_first(offers); bb_json_type(e) != BB_JNONE; e = bb_json_next(e))
			read_offer(&r, e, &n->offers[i++]);
	n->noffers = i;
	struct bb_jval s = bb_json_getz(v, "summary");
	if (bb_json_type(s) == BB_JOBJECT)
		read_summary(&r, s, n);
	return r.bad ? -1 : 0;
}

/* ---- writing ---- */

static void knum(struct bb_jw *w, const char *key, struct bb_str s)
{
	bb_jw_key(w, key);
	if (s.p)
		bb_jw_raw(w, s.p, s.n);
	else
		bb_jw_null(w);
}

static void kbool(struct bb_jw *w, const char *key, int b)
{
	bb_jw_key(w, key);
	if (b < 0)
		bb_jw_null(w);
	else
		bb_jw_bool(w, b);
}

static void kmoney(struct bb_jw *w, const char *key, int64_t v)
{
	bb_jw_kint_or_null(w, key, v, v != BB_NONE);
}

static void write_offer(struct bb_jw *w, const struct bb_offer *o)
{
	bb_jw_obj(w);
	bb_jw_kview(w, "seller_id", o->seller_id);
	bb_jw_kint(w, "listing", o->listing);
	bb_jw_kint(w, "shipping", o->shipping);
	bb_jw_kint(w, "landed", o->landed);
	kbool(w, "fba", o->fba);
	kbool(w, "prime", o->prime);
	kbool(w, "buy_box_winner", o->buy_box_winner);
	kbool(w, "featured", o->featured);
	knum(w, "feedback_count", o->feedback_count);
	knum(w, "feedback_rating", o->feedback_rating);
	bb_jw_kview(w, "sub_condition", o->sub_condition);
	knum(w, "min_hours", o->min_hours);
	knum(w, "max_hours", o->max_hours);
	bb_jw_end(w, '}');
}

void bb_notification_write(struct bb_jw *w, const struct bb_notification *n)
{
	bb_jw_obj(w);
	bb_jw_kview(w, "type", n->type);
	bb_jw_kview(w, "notification_id", n->notification_id);
	bb_jw_ktime(w, "event_time", n->event_time);
	bb_jw_ktime(w, "publish_time", n->publish_time);
	bb_jw_kview(w, "seller_id", n->seller_id);
	bb_jw_kview(w, "marketplace", n->marketplace);
	bb_jw_kview(w, "asin", n->asin);
	bb_jw_kview(w, "condition", n->condition);
	bb_jw_kview(w, "change_type", n->change_type);
	bb_jw_kview(w, "currency", n->currency);
	bb_jw_key(w, "offers");
	bb_jw_arr(w);
	for (size_t i = 0; i < n->noffers; i++)
		write_offer(w, &n->offers[i]);
	bb_jw_end(w, ']');
	bb_jw_key(w, "summary");
	bb_jw_obj(w);
	kmoney(w, "total_offers", n->total_offers);
	kmoney(w, "buy_box_eligible_offers", n->buy_box_eligible_offers);
	kmoney(w, "lowest_landed", n->lowest_landed);
	kmoney(w, "buy_box_landed", n->buy_box_landed);
	kmoney(w, "list_price", n->list_price);
	bb_jw_key(w, "sales_rankings");
	bb_jw_arr(w);
	for (size_t i = 0; i < n->nrankings; i++) {
		bb_jw_obj(w);
		bb_jw_kview(w, "category", n->rankings[i].category);
		knum(w, "rank", n->rankings[i].rank);
		bb_jw_end(w, '}');
	}
	bb_jw_end(w, ']');
	bb_jw_end(w, '}');
	bb_jw_end(w, '}');
}
