/* write.c: a record's values read from its line, and its rows on SQLite.
 * The same values serve both dialects: they go as text parameters, with
 * their lengths, and each database converts them to the column's type. */
#include "store.h"
#include "ids.h"
#include "timeutil.h"

#include <stdlib.h>
#include <string.h>

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

static struct bb_str str(const char *z)
{
	return (struct bb_str){ z, z ? strlen(z) : 0 };
}

static int same(struct bb_str a, struct bb_str b)
{
	return a.p && b.p && a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

/* ---- reading a record ---- */

/* A JSON value as SQL text: strings decoded, numbers as written, booleans
 * as 1 and 0, objects and arrays as their JSON text; NULL for null or
 * absent. */
static struct bb_str sql_text(struct bb_jval v)
{
	struct bb_str s = { NULL, 0 };
	int b;

	switch (bb_json_type(v)) {
	case BB_JSTRING: return bb_str_of(v);
	case BB_JBOOL: return bb_json_bool(v, &b) == 0 && b ? BB_LIT("1") : BB_LIT("0");
	case BB_JNUMBER: bb_json_number_text(v, &s.p, &s.n); return s;
	case BB_JARRAY:
	case BB_JOBJECT: bb_json_raw(v, &s.p, &s.n); return s;
	default: return s;
	}
}

static struct bb_str member(struct bb_jval obj, const char *key)
{
	return sql_text(bb_json_getz(obj, key));
}

/* The status a record arrives with, as bb-store treats it: ok, duplicate,
 * skipped, failed, or rejected for anything else. An object without any
 * status is a notification bb-validate never saw: checked as an ok record,
 * it is rejected saying so. */
static const char *status_of(const struct bb_record *rec, const char **given)
{
	static const char *const known[] = { "ok", "duplicate", "skipped", "failed", "rejected" };
	struct bb_jval st = bb_json_getz(rec->env.root, "status");

	*given = NULL;
	if (!rec->is_object)
		return "rejected";
	if (bb_json_type(st) == BB_JNONE)
		return "ok";
	for (int i = 0; i < COUNT(known); i++)
		if (bb_str_eq(rec->env.status, known[i]))
			return *given = known[i];
	return "rejected";
}

/* What an ok record must carry for bb-store to store it; NULL when it does. */
static const char *unusable(const struct bb_envelope *e)
{
	static const char *const notif[] = { "asin", "marketplace", "event_time", "offers" };
	static const char *const analysis[] = { "severity", "priority", "rule" };

	if (!e->message_id.p || !e->dedupe_hash.p || !e->body_text.p)
		return "no message_id, dedupe_hash or body: run bb-validate before bb-store";
	if (bb_json_type(e->notification) != BB_JOBJECT)
		return "no notification member: run bb-validate before bb-store";
	for (int i = 0; i < COUNT(notif); i++)
		if (bb_json_type(bb_json_getz(e->notification, notif[i])) == BB_JNONE)
			return "the notification lacks asin, marketplace, event_time or offers";
	if (bb_json_type(bb_json_getz(e->notification, "offers")) != BB_JARRAY)
		return "the notification's offers are not an array";
	if (bb_json_type(e->analysis) != BB_JOBJECT)
		return "no analysis member: run bb-severity before bb-store";
	for (int i = 0; i < COUNT(analysis); i++)
		if (bb_json_type(bb_json_getz(e->analysis, analysis[i])) == BB_JNONE)
			return "the analysis lacks severity, priority or rule";
	return NULL;
}

/* Whether seller is one of ours: those configured, else the notification's
 * own SellerId. */
static int ours(const struct store_conf *c, struct bb_str seller, struct bb_str notif_seller)
{
	if (c->nsellers == 0)
		return same(seller, notif_seller);
	for (int i = 0; i < c->nsellers; i++)
		if (same(seller, str(c->sellers[i])))
			return 1;
	return 0;
}

/* Whether the n bytes are an integer (minor units): an offer is stored with
 * a seller_id and an integer landed price. bb-validate lets no other offer
 * through; one that slips by is left out, never failing its batch. */
static int integer(struct bb_str s)
{
	size_t i = s.n > 0 && s.p[0] == '-';
	if (!s.p || s.n == i || s.n - i > 18)
		return 0;
	for (; i < s.n; i++)
		if (s.p[i] < '0' || s.p[i] > '9')
			return 0;
	return 1;
}

/* The offer columns being written, as JSON arrays (SQLite), or as
 * PostgreSQL array literals, which are not JSON: {"A1",NULL}, {t,f} (written
 * as arrays, their brackets made braces at the end). */
enum { C_SELLERS, C_LANDED, C_PRIME, C_FBA, C_WINNER, C_OURS, C_COUNT };

struct cols {
	struct bb_jw *w; /* C_COUNT writers */
	int pg;
	int nul; /* PostgreSQL: a seller id with a NUL byte, which its text cannot hold */
};

/* A PostgreSQL array element: quoted, " and \ escaped. */
static void pg_elem(struct bb_jw *w, struct bb_str s)
{
	char *q = malloc(2 * s.n + 3), *o = q;
	if (!q) {
		w->oom = 1;
		return;
	}
	*o++ = '"';
	for (size_t i = 0; i < s.n; i++) {
		if (s.p[i] == '"' || s.p[i] == '\\')
			*o++ = '\\';
		*o++ = s.p[i];
	}
	*o++ = '"';
	bb_jw_raw(w, q, (size_t)(o - q));
	free(q);
}

/* true, false or null, as 1/0/null (JSON) or t/f/NULL (PostgreSQL). */
static void col_flag(struct cols *x, int k, int flag)
{
	static const char *const lit[2][3] = { { "0", "1", "null" }, { "f", "t", "NULL" } };
	const char *s = lit[x->pg][flag < 0 ? 2 : flag];
	bb_jw_raw(&x->w[k], s, strlen(s));
}

static int flag_of(struct bb_jval v)
{
	int b;
	return bb_json_bool(v, &b) == 0 ? b : -1;
}

static void offer(struct cols *x, struct bb_jval o, const struct store_conf *c, struct bb_str notif_seller)
{
	struct bb_str seller = bb_str_of(bb_json_getz(o, "seller_id")), landed = { NULL, 0 };

	if (seller.p)
		bb_json_number_text(bb_json_getz(o, "landed"), &landed.p, &landed.n);
	if (!seller.p || !integer(landed))
		return;
	x->nul |= x->pg && memchr(seller.p, '\0', seller.n) != NULL;
	if (x->pg)
		pg_elem(&x->w[C_SELLERS], seller);
	else
		bb_jw_str(&x->w[C_SELLERS], seller.p, seller.n);
	bb_jw_raw(&x->w[C_LANDED], landed.p, landed.n);
	col_flag(x, C_PRIME, flag_of(bb_json_getz(o, "prime")));
	col_flag(x, C_FBA, flag_of(bb_json_getz(o, "fba")));
	col_flag(x, C_WINNER, flag_of(bb_json_getz(o, "buy_box_winner")));
	col_flag(x, C_OURS, ours(c, seller, notif_seller));
}

/* The notification's offers, one array per column, into v (pointing into
 * x's writers). 0, or -1 out of memory. */
static int offers(struct cols *x, struct bb_jval list, const struct store_conf *c, struct bb_str notif_seller,
		  struct bb_str *v)
{
	x->pg = c->pg;
	for (int k = 0; k < C_COUNT; k++) {
		bb_jw_reset(&x->w[k]);
		bb_jw_arr(&x->w[k]);
	}
	for (struct bb_jval o = bb_json_first(list); bb_json_type(o) != BB_JNONE; o = bb_json_next(o))
		offer(x, o, c, notif_seller);
	for (int k = 0; k < C_COUNT; k++) {
		struct bb_jw *w = &x->w[k];
		bb_jw_end(w, ']');
		if (w->oom)
			return -1;
		if (x->pg)
			w->buf[0] = '{', w->buf[w->len - 1] = '}';
		v[V_OFFER_SELLERS + k] = (struct bb_str){ w->buf, w->len };
	}
	return 0;
}

/* The state event's payload: the place, the notification and its verdict. */
static struct bb_str state_payload(struct bb_jw *w, const struct item *it)
{
	static const struct {
		const char *key;
		int v;
	} m[] = { { "asin", V_ASIN }, { "marketplace", V_MARKETPLACE }, { "notification_id", -1 },
		  { "event_time", V_EVENT_TIME }, { "severity", V_SEVERITY }, { "rule", V_RULE } };

	bb_jw_reset(w);
	bb_jw_obj(w);
	for (int i = 0; i < COUNT(m); i++) {
		struct bb_str s = m[i].v < 0 ? str(it->nid) : it->v[m[i].v];
		bb_jw_kstr(w, m[i].key, s.p ? s.p : "", s.n); /* null as "" */
	}
	bb_jw_end(w, '}');
	return (struct bb_str){ w->buf, w->len };
}

/* An ok record's values; else it is rejected, saying why. */
static int read_ok(struct item *it, const struct bb_envelope *e, struct store_conf *c)
{
	struct bb_jval n = e->notification, a = e->analysis;
	struct bb_str *v = it->v;
	static const struct {
		int v;
		const char *key;
		int from_analysis;
	} m[] = { { V_NOTIFICATION_ID, "notification_id", 0 }, { V_ASIN, "asin", 0 }, { V_MARKETPLACE, "marketplace", 0 },
		  { V_EVENT_TIME, "event_time", 0 }, { V_CURRENCY, "currency", 0 }, { V_NOTIF_SELLER, "seller_id", 0 },
		  { V_SEVERITY, "severity", 1 }, { V_PRIORITY, "priority", 1 }, { V_RULE, "rule", 1 },
		  { V_OUR_PRICE, "our_price", 1 }, { V_MARKET_LOW, "market_low", 1 },
		  { V_LOW_SELLER, "market_low_seller", 1 }, { V_BUY_BOX_PRICE, "buy_box_price", 1 },
		  { V_BUY_BOX_WINNER, "buy_box_winner", 1 }, { V_POSITION, "position", 1 },
		  { V_TOTAL_OFFERS, "total_offers", 1 }, { V_GAP_PCT, "gap_pct", 1 } };

	if ((it->error = unusable(e)))
		return 0;
	for (int i = 0; i < COUNT(m); i++)
		v[m[i].v] = member(m[i].from_analysis ? a : n, m[i].key);
	if (!v[V_ASIN].p || !v[V_MARKETPLACE].p || !v[V_EVENT_TIME].p || !v[V_SEVERITY].p ||
	    bb_time_parse(v[V_EVENT_TIME].p, v[V_EVENT_TIME].n, &it->event_ms) != 0) {
		it->error = "the notification's event_time is not an RFC 3339 time";
		return 0;
	}
	int sev = bb_severity_of(v[V_SEVERITY].p, v[V_SEVERITY].n);
	it->sev = sev < 0 ? BB_SEV_STABLE : (enum bb_severity)sev; /* an unknown severity raises nothing */
	v[V_RECEIVED_AT] = bb_str_of(bb_json_getz(e->root, "received_at")); /* as written */
	bb_json_raw(a, &v[V_ANALYSIS].p, &v[V_ANALYSIS].n);
	bb_uuid7(it->nid);
	bb_uuid7(it->hid);
	struct cols x = { c->scratch, c->pg, 0 };
	if (offers(&x, bb_json_getz(n, "offers"), c, v[V_NOTIF_SELLER], v) != 0)
		return -1;
	for (int i = V_MESSAGE_ID; i <= V_GAP_PCT && !x.nul; i++)
		x.nul = c->pg && v[i].p && memchr(v[i].p, '\0', v[i].n) != NULL;
	if (x.nul)
		it->error = "a value holds a NUL byte, which PostgreSQL text cannot hold";
	v[V_STATE_EVENT] = state_payload(&c->scratch[C_COUNT], it);
	return c->scratch[C_COUNT].oom ? -1 : 0;
}

/* Copy the values out of the line's parse into one block of the item's own. */
static int keep(struct item *it)
{
	size_t size = 1;
	for (int i = 0; i < V_COUNT; i++)
		size += it->v[i].p ? it->v[i].n : 0;
	char *o = it->bytes = malloc(size);
	if (!o)
		return -1;
	it->held = sizeof *it + size;
	for (int i = 0; i < V_COUNT; i++) {
		if (!it->v[i].p)
			continue;
		if (it->v[i].n)
			memcpy(o, it->v[i].p, it->v[i].n);
		it->v[i].p = o;
		o += it->v[i].n;
	}
	return 0;
}

int store_read(struct item *it, struct bb_record *rec, struct store_conf *c)
{
	const struct bb_envelope *e = &rec->env;
	struct bb_str *v = it->v;

	memset(it, 0, sizeof *it);
	if (rec->too_large && rec->is_object) /* the verdict it carries, when it is held whole */
		bb_record_read_whole(rec, c->doc);
	it->status = status_of(rec, &it->given);
	it->error = rec->is_object ? NULL : "not a JSON object";
	if (rec->too_large && !rec->json_ok) {
		it->status = "rejected";
		it->error = "line over the 1048576-byte limit: not read";
		it->error_type = "too_large";
	}
	it->sent_at = rec->is_object ? e->sqs.sent_at : -1;
	it->received_at = rec->is_object ? e->received_at : -1;
	it->has_alert = bb_json_type(e->alert) == BB_JOBJECT;
	v[V_MESSAGE_ID] = e->message_id;
	v[V_DEDUPE_HASH] = e->dedupe_hash;
	v[V_TRACE_ID] = e->trace_id;
	v[V_BODY] = e->body_text;
	v[V_ERR_TYPE] = member(e->error, "type");
	v[V_ERR_MESSAGE] = member(e->error, "message");
	v[V_ERR_STAGE] = member(e->error, "stage");
	v[V_ERR_PATH] = member(e->error, "path");
	if (strcmp(it->status, "ok") == 0 && read_ok(it, e, c) != 0)
		return -1;
	if (it->error && strcmp(it->status, "ok") == 0)
		it->status = "rejected"; /* ok, but not storable: recorded as a failure */
	if (keep(it) != 0 || bb_record_copy(&it->rec, rec) != 0)
		return -1;
	it->held += it->rec.len + it->rec.nm * sizeof *it->rec.m;
	return 0;
}

void store_item_free(struct item *it)
{
	bb_record_free(&it->rec);
	free(it->bytes);
	it->bytes = NULL;
}

void store_conf_free(struct store_conf *c)
{
	store_forget_alerts(c);
	for (int i = 0; i < COUNT(c->scratch); i++)
		bb_jw_free(&c->scratch[i]);
}

struct bb_alert_place store_place(const struct item *it)
{
	return (struct bb_alert_place){ it->v[V_ASIN], it->v[V_MARKETPLACE] };
}

void store_decided(const struct item *it, const struct bb_alert_decision *d, struct outcome *out)
{
	if (it->has_alert)
		bb_alert_member(&out->alert, d);
}

/* ---- writing ---- */

int store_failure(struct bb_db *db, const struct item *it, const char *now)
{
	const struct bb_str *v = it->v;
	char id[37], hash[65];
	struct bb_str mid = v[V_MESSAGE_ID];

	if (!mid.p || !bb_db_can_hold(db, mid.p, mid.n)) { /* a line that never got an identity: its bytes are its identity */
		bb_sha256_hex(it->rec.line, it->rec.len, hash);
		mid = str(hash);
	}
	bb_uuid7(id);
	struct bb_str p[11] = { str(id), mid, v[V_DEDUPE_HASH], v[V_TRACE_ID], str(it->status), v[V_ERR_TYPE],
				v[V_ERR_MESSAGE], v[V_ERR_STAGE], v[V_ERR_PATH], v[V_BODY], str(now) };
	if (it->error) /* bb-store's own verdict, not one the record arrived with */
		p[5] = it->error_type ? str(it->error_type) : BB_LIT("schema"), p[6] = str(it->error), p[7] = BB_LIT("store"), p[8] = (struct bb_str){ NULL, 0 };
	if (!p[5].p)
		p[5] = p[4];
	/* what PostgreSQL text cannot hold (a NUL byte) is left out */
	for (int i = 2; i < 10; i++)
		if (p[i].p && !bb_db_can_hold(db, p[i].p, p[i].n))
			p[i] = (struct bb_str){ NULL, 0 };
	/* body is kept byte-exact; a line without one is kept whole */
	if (!p[9].p)
		p[9] = (struct bb_str){ it->rec.line, it->rec.len };
	return bb_db_query(db, "INSERT INTO worker_failures (id, message_id, dedupe_hash, trace_id, status, error_type, "
			   "error_message, stage, path, raw_message, failure_count, first_failed, last_failed) VALUES "
			   "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $11) ON CONFLICT (message_id) DO UPDATE "
			   "SET failure_count = worker_failures.failure_count + 1, last_failed = excluded.last_failed, "
			   "status = excluded.status, error_type = excluded.error_type, error_message = "
			   "excluded.error_message, stage = excluded.stage, path = excluded.path, raw_message = "
			   "excluded.raw_message", 11, p, NULL);
}

/* current_state, unless it holds a later event, and the state event. */
static int state(struct bb_db *db, const struct item *it, const char *now, int64_t *event_id)
{
	const struct bb_str *v = it->v;
	struct bb_str win = v[V_BUY_BOX_WINNER].p ? v[V_BUY_BOX_WINNER] : BB_LIT("0");
	struct bb_str p[18] = { v[V_ASIN], v[V_MARKETPLACE], str(it->nid), v[V_EVENT_TIME], v[V_SEVERITY],
				v[V_PRIORITY], v[V_RULE], v[V_CURRENCY], v[V_OUR_PRICE], v[V_MARKET_LOW],
				v[V_LOW_SELLER], v[V_BUY_BOX_PRICE], win, v[V_POSITION], v[V_TOTAL_OFFERS],
				v[V_GAP_PCT], v[V_ANALYSIS], str(now) };
	/* out-of-order deliveries never roll the state back */
	int rc = bb_db_query(db, "INSERT INTO current_state (asin, marketplace, notification_id, event_time, severity, "
			     "priority, rule, currency, our_price, market_low, market_low_seller, buy_box_price, "
			     "buy_box_winner, position, total_offers, gap_pct, analysis, updated_at) VALUES ($1, $2, $3, "
			     "$4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) "
			     "ON CONFLICT (asin, marketplace) DO UPDATE SET notification_id = excluded.notification_id, "
			     "event_time = excluded.event_time, severity = excluded.severity, priority = excluded.priority, "
			     "rule = excluded.rule, currency = excluded.currency, our_price = excluded.our_price, "
			     "market_low = excluded.market_low, market_low_seller = excluded.market_low_seller, "
			     "buy_box_price = excluded.buy_box_price, buy_box_winner = excluded.buy_box_winner, "
			     "position = excluded.position, total_offers = excluded.total_offers, "
			     "gap_pct = excluded.gap_pct, analysis = excluded.analysis, updated_at = excluded.updated_at "
			     "WHERE current_state.event_time <= excluded.event_time", 18, p, NULL);
	if (rc != BB_DB_OK || bb_db_changes(db) == 0)
		return rc;
	struct bb_str e[4] = { v[V_ASIN], v[V_MARKETPLACE], v[V_STATE_EVENT], str(now) };
	rc = bb_db_query(db, "INSERT INTO events (kind, asin, marketplace, payload, created_at) "
			 "VALUES ('state', $1, $2, $3, $4)", 4, e, NULL);
	if (rc == BB_DB_OK)
		*event_id = bb_db_last_rowid(db);
	return rc;
}

/* An ok record's rows, unless the unique keys find it stored already; its
 * alert decided against the view, which holds the truth: SQLite has one
 * writer, inside this transaction. */
static int stored_ok(struct bb_db *db, const struct store_conf *c, const struct item *it, int64_t now_ms,
		     const char *now, struct bb_alert_view *view, struct outcome *out)
{
	const struct bb_str *v = it->v;
	struct bb_str win = v[V_BUY_BOX_WINNER].p ? v[V_BUY_BOX_WINNER] : BB_LIT("0");
	struct bb_str wn[15] = { str(it->nid), v[V_MESSAGE_ID], v[V_DEDUPE_HASH], v[V_NOTIFICATION_ID], v[V_ASIN],
				 v[V_MARKETPLACE], v[V_BODY], v[V_SEVERITY], v[V_PRIORITY], BB_LIT("stored"),
				 v[V_TRACE_ID], v[V_EVENT_TIME], v[V_RECEIVED_AT], str(now), str(c->worker_id) };
	int rc = bb_db_query(db, "INSERT INTO worker_notifications (id, message_id, dedupe_hash, notification_id, "
			     "asin, marketplace, body, severity, priority, status, trace_id, event_time, received_at, "
			     "processed_at, worker_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, "
			     "$14, $15) ON CONFLICT DO NOTHING", 15, wn, NULL);
	if (rc != BB_DB_OK)
		return rc;
	if (bb_db_changes(db) == 0) {
		out->status = "duplicate"; /* the unique keys are the final guard */
		return BB_DB_OK;
	}
	memcpy(out->notification_id, it->nid, sizeof it->nid);
	struct bb_str h[21] = { str(it->hid), str(it->nid), v[V_ASIN], v[V_MARKETPLACE], v[V_EVENT_TIME],
				v[V_SEVERITY], v[V_PRIORITY], v[V_OUR_PRICE], v[V_MARKET_LOW], v[V_BUY_BOX_PRICE], win,
				v[V_POSITION], v[V_TOTAL_OFFERS], v[V_GAP_PCT], str(now), v[V_OFFER_SELLERS],
				v[V_OFFER_LANDED], v[V_OFFER_PRIME], v[V_OFFER_FBA], v[V_OFFER_WINNER], v[V_OFFER_OURS] };
	rc = bb_db_query(db, "INSERT INTO competitive_history (id, notification_id, asin, marketplace, event_time, "
			 "severity, priority, our_price, market_low, buy_box_price, buy_box_winner, position, "
			 "total_offers, gap_pct, created_at, offer_seller_ids, offer_landed, offer_prime, offer_fba, "
			 "offer_buy_box_winner, offer_ours) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
			 "$13, $14, $15, $16, $17, $18, $19, $20, $21)", 21, h, NULL);
	if (rc == BB_DB_OK)
		rc = state(db, it, now, &out->event_id);
	struct bb_alert_place place = store_place(it);
	struct bb_alert_decision d;
	if (rc == BB_DB_OK && !bb_alert_view_has(view, place))
		rc = bb_alert_load(db, view, &place, 1);
	if (rc != BB_DB_OK)
		return rc;
	if (bb_alert_decide(view, place, it->sev, it->event_ms, &d) != 0)
		return BB_DB_ERR;
	struct bb_str nid = str(it->nid);
	rc = bb_alert_write(db, 1, &d, &nid, now_ms, &out->event_id);
	store_decided(it, &d, out);
	bb_alert_decision_free(&d);
	return rc;
}

/* The places whose alerts are kept from one batch to the next: a product's
 * alerts are read once, not in each batch it comes up in. */
#define ALERT_PLACES 16384

/* The view of the stored alerts the batch's decisions are made against,
 * inside its transaction. It holds the truth while this connection is the
 * only one to commit, so it lasts from batch to batch until PRAGMA
 * data_version says another connection committed (bb-alert delivering,
 * another bb-store), or a batch fails (store_forget_alerts): then it
 * starts empty, and each place is read again when it comes up. NULL out of
 * memory. */
static struct bb_alert_view *alerts(struct bb_db *db, struct store_conf *c, int n)
{
	if (bb_db_wait_change(db, NULL, 0) != 0 || !c->alerts) {
		bb_alert_view_free(c->alerts);
		c->alerts = bb_alert_view_new(n > ALERT_PLACES ? (size_t)n : ALERT_PLACES);
	}
	return c->alerts;
}

void store_forget_alerts(struct store_conf *c)
{
	bb_alert_view_free(c->alerts);
	c->alerts = NULL;
}

int store_batch_lite(struct bb_db *db, struct store_conf *c, const struct item *items, int n, int64_t now_ms,
		     struct outcome *out)
{
	struct bb_alert_view *view = alerts(db, c, n);
	char now[40];
	int rc = view ? BB_DB_OK : BB_DB_ERR;

	bb_time_format(now_ms, now, sizeof now);
	for (int i = 0; rc == BB_DB_OK && i < n; i++) {
		const struct item *it = &items[i];
		out[i].status = it->status;
		if (strcmp(it->status, "ok") == 0)
			rc = stored_ok(db, c, it, now_ms, now, view, &out[i]);
		else if (strcmp(it->status, "rejected") == 0 || strcmp(it->status, "failed") == 0)
			rc = store_failure(db, it, now);
	}
	return rc;
}

/* The marketplace:asin key of an ok record, for its lock. */
struct lock_key {
	char *s;
	size_t n;
};

static int by_key(const void *a, const void *b)
{
	const struct lock_key *x = a, *y = b;
	int d = memcmp(x->s, y->s, x->n < y->n ? x->n : y->n);
	return d ? d : (x->n > y->n) - (x->n < y->n);
}

int store_lock(struct bb_db *db, const struct item *items, int n)
{
	struct lock_key *keys = calloc((size_t)n + 1, sizeof *keys);
	struct bb_str *params = calloc((size_t)n + 1, sizeof *params);
	struct bb_query *q = calloc((size_t)n + 1, sizeof *q);
	int nkeys = 0, nq = 0, rc = keys && params && q ? BB_DB_OK : BB_DB_ERR;

	for (int i = 0; rc == BB_DB_OK && i < n; i++) {
		struct bb_alert_place p = store_place(&items[i]);
		if (strcmp(items[i].status, "ok") != 0 || !bb_db_can_hold(db, p.asin.p, p.asin.n) ||
		    !bb_db_can_hold(db, p.marketplace.p, p.marketplace.n))
			continue;
		struct lock_key *k = &keys[nkeys];
		k->n = p.marketplace.n + 1 + p.asin.n;
		if (!(k->s = malloc(k->n + 1))) {
			rc = BB_DB_ERR;
			break;
		}
		memcpy(k->s, p.marketplace.p, p.marketplace.n);
		k->s[p.marketplace.n] = ':';
		memcpy(k->s + p.marketplace.n + 1, p.asin.p, p.asin.n);
		nkeys++;
	}
	qsort(keys, (size_t)nkeys, sizeof *keys, by_key);
	/* in sorted order, so two writers never wait on each other in a cycle;
	 * pipelined, so a batch of 2000 ASINs costs one round trip */
	for (int i = 0; rc == BB_DB_OK && i < nkeys; i++)
		if (i == 0 || by_key(&keys[i], &keys[i - 1]) != 0) {
			params[nq] = (struct bb_str){ keys[i].s, keys[i].n };
			q[nq] = (struct bb_query){ "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", 1, &params[nq] };
			nq++;
		}
	if (rc == BB_DB_OK && nq > 0)
		rc = bb_db_pipeline_q(db, nq, q, NULL);
	for (int i = 0; keys && i < nkeys; i++)
		free(keys[i].s);
	free(keys);
	free(params);
	free(q);
	return rc;
}
