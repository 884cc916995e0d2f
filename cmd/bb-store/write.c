/* write.c: one record's rows. The same SQL serves both dialects: values go
 * as text parameters, with their lengths, and each database converts them to
 * the column's type. */
#include "store.h"
#include "alert.h"
#include "ids.h"
#include "record.h"
#include "timeutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* A value bound as SQL text: its bytes and how many (a string from a record
 * may hold NUL bytes); p NULL for SQL NULL. */
struct val {
	const char *p;
	size_t n;
};

#define LIT(s) ((struct val){ (s), sizeof(s) - 1 })

static struct val cstr(const char *s)
{
	return (struct val){ s, s ? strlen(s) : 0 };
}

/* Run sql with its n values as parameters $1..$n. */
static int run(struct bb_db *db, const char *sql, int n, const struct val *v, struct bb_rows **rows)
{
	struct bb_str p[24];

	for (int i = 0; i < n && i < COUNT(p); i++)
		p[i] = (struct bb_str){ v[i].p, v[i].n };
	return n > COUNT(p) ? BB_DB_ERR : bb_db_query(db, sql, n, p, rows);
}

/* Strings a record's statements use, freed together. */
struct pool {
	char *s[64];
	int n;
};

static const char *keep(struct pool *p, char *s)
{
	if (p->n == COUNT(p->s)) {
		free(s);
		return NULL;
	}
	return p->s[p->n++] = s;
}

static void pool_free(struct pool *p)
{
	for (int i = 0; i < p->n; i++)
		free(p->s[i]);
	p->n = 0;
}

/* A JSON scalar member of obj as SQL text (numbers without a fraction,
 * booleans as 1/0); {NULL} for null or absent. Strings live in the pool. */
static struct val text(struct pool *p, jv obj, const char *key)
{
	jv v = jv_get_kind(obj) == JV_KIND_OBJECT ? jv_object_get(jv_copy(obj), jv_string(key)) : jv_invalid();
	char buf[64];
	struct val r = { NULL, 0 };

	switch (jv_get_kind(v)) {
	case JV_KIND_STRING: {
		size_t n = (size_t)jv_string_length_bytes(jv_copy(v));
		char *s = malloc(n + 1);
		if (s) {
			memcpy(s, jv_string_value(v), n);
			s[n] = '\0';
		}
		r = (struct val){ keep(p, s), n };
		break;
	}
	case JV_KIND_TRUE: r = LIT("1"); break;
	case JV_KIND_FALSE: r = LIT("0"); break;
	case JV_KIND_NUMBER: {
		double d = jv_number_value(v);
		if (d == (double)(int64_t)d)
			snprintf(buf, sizeof buf, "%lld", (long long)d);
		else
			snprintf(buf, sizeof buf, "%.17g", d);
		r = cstr(keep(p, strdup(buf)));
		break;
	}
	default: break;
	}
	jv_free(v);
	return r.p ? r : (struct val){ NULL, 0 };
}

/* The same from a record's bytes: strings decoded, numbers as written. */
static struct val rtext(struct pool *p, const struct bb_record *obj, const char *key)
{
	const struct bb_member *m = obj->is_object ? bb_record_member(obj, key) : NULL;
	size_t n = 0;

	if (m && m->val[0] == '"')
		return (struct val){ keep(p, bb_record_string(obj, key, &n)), n };
	return cstr(keep(p, bb_record_text(obj, key)));
}

/* A string member of obj decoded, else {NULL}. */
static struct val rstring(struct pool *p, const struct bb_record *obj, const char *key)
{
	size_t n = 0;
	const char *s = obj->is_object ? keep(p, bb_record_string(obj, key, &n)) : NULL;
	return (struct val){ s, s ? n : 0 };
}

const char *store_unusable(const struct bb_record *rec, struct bb_record *n, struct bb_record *a)
{
	static const char *const top[] = { "message_id", "dedupe_hash", "body" };
	static const char *const notif[] = { "asin", "marketplace", "event_time", "offers" };
	static const char *const analysis[] = { "severity", "priority", "rule" };
	const char *why = NULL;

	*n = (struct bb_record){ 0 };
	*a = (struct bb_record){ 0 };
	for (int i = 0; i < 3 && !why; i++)
		if (!bb_record_member(rec, top[i]))
			why = "no message_id, dedupe_hash or body: run bb-validate before bb-store";
	if (!why && bb_record_sub(rec, "notification", n) != 0)
		why = "no notification member: run bb-validate before bb-store";
	for (int i = 0; i < 4 && !why; i++)
		if (!bb_record_member(n, notif[i]))
			why = "the notification lacks asin, marketplace, event_time or offers";
	if (!why && bb_record_member(n, "offers")->val[0] != '[')
		why = "the notification's offers are not an array";
	if (!why && bb_record_sub(rec, "analysis", a) != 0)
		why = "no analysis member: run bb-severity before bb-store";
	for (int i = 0; i < 3 && !why; i++)
		if (!bb_record_member(a, analysis[i]))
			why = "the analysis lacks severity, priority or rule";
	return why;
}

jv store_alert_member(const struct bb_record *rec, jv action, int64_t event_ms)
{
	jv a = bb_record_get(rec, "alert");

	if (jv_get_kind(a) != JV_KIND_OBJECT) {
		jv_free(a);
		jv_free(action);
		return jv_invalid();
	}
	int fresh = strcmp(jv_string_value(action), "new") == 0;
	jv queue = jv_object_get(jv_copy(a), jv_string("queue_type"));
	int64_t at = fresh && jv_get_kind(queue) == JV_KIND_STRING ? bb_alert_delivery(jv_string_value(queue), event_ms) : -1;
	jv_free(queue);
	a = jv_object_set(a, jv_string("action"), action);
	return jv_object_set(a, jv_string("scheduled_delivery"), bb_jv_time(at));
}

/* A growing text; failed once memory ran out. */
struct text {
	char *p;
	size_t n, cap;
	int failed;
};

static void put(struct text *t, const char *s, size_t n)
{
	if (t->failed)
		return;
	if (t->n + n + 1 > t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 256;
		while (cap < t->n + n + 1)
			cap *= 2;
		char *p = realloc(t->p, cap);
		if (!p) {
			t->failed = 1;
			return;
		}
		t->p = p;
		t->cap = cap;
	}
	memcpy(t->p + t->n, s, n);
	t->n += n;
	t->p[t->n] = '\0';
}

/* s as a JSON string: quotes, backslashes and control bytes escaped. */
static void put_json_string(struct text *t, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t from = 0;

	put(t, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch >= 0x20 && ch != '"' && ch != '\\')
			continue;
		char esc[6] = { '\\', (char)ch, 0, 0, 0, 0 };
		size_t len = 2;
		if (ch < 0x20) {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[ch >> 4], esc[5] = hex[ch & 15];
			len = 6;
		}
		put(t, s + from, i - from);
		put(t, esc, len);
		from = i + 1;
	}
	put(t, s + from, n - from);
	put(t, "\"", 1);
}

/* An event whose payload is an object of n string members (NULL: ""). */
static int add_event(struct bb_db *db, const char *kind, struct val asin, struct val mkt, int n,
		     const char *const *keys, const struct val *vals, const char *now, int64_t *event_id)
{
	struct text t = { 0 };
	struct bb_rows *rows = NULL;
	int rc;

	for (int i = 0; i < n; i++) {
		put(&t, i ? "," : "{", 1);
		put_json_string(&t, keys[i], strlen(keys[i]));
		put(&t, ":", 1);
		put_json_string(&t, vals[i].p ? vals[i].p : "", vals[i].n);
	}
	put(&t, "}", 1);
	struct val v[5] = { cstr(kind), asin, mkt, { t.p, t.n }, cstr(now) };
	if (t.failed) {
		rc = BB_DB_ERR;
	} else if (!bb_db_is_pg(db)) {
		rc = run(db, "INSERT INTO events (kind, asin, marketplace, payload, created_at) "
			 "VALUES ($1, $2, $3, $4, $5)", 5, v, NULL);
		if (rc == BB_DB_OK)
			*event_id = bb_db_last_rowid(db);
	} else {
		rc = run(db, "INSERT INTO events (kind, asin, marketplace, payload, created_at) "
			 "VALUES ($1, $2, $3, $4, $5) RETURNING id", 5, v, &rows);
		const char *id = rc == BB_DB_OK ? bb_db_value(rows, 0, 0) : NULL;
		if (id) { /* wake every LISTEN bb_events (bb-serve) at commit */
			*event_id = atoll(id);
			rc = bb_db_exec(db, "SELECT pg_notify('bb_events', $1)", 1, &id, NULL);
		}
		bb_db_rows_free(rows);
	}
	free(t.p);
	return rc;
}

int store_is_ours(const struct store_conf *c, const char *seller, const char *notif_seller)
{
	if (!seller)
		return 0;
	if (c->nsellers == 0)
		return notif_seller && strcmp(seller, notif_seller) == 0;
	for (int i = 0; i < c->nsellers; i++)
		if (strcmp(c->sellers[i], seller) == 0)
			return 1;
	return 0;
}

int store_integer(const char *s, size_t n)
{
	size_t i = n > 0 && s[0] == '-';
	if (n == i || n - i > 18)
		return 0;
	for (; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* A notification's offers as competitive_history keeps them: one array per
 * column, one element per offer, in payload order. SQLite stores each as
 * JSON text; PostgreSQL (pg.c) as arrays of its own. */
enum { SELLERS, LANDED, PRIME, FBA, WINNER, OURS, OFFER_COLS };

struct offers {
	struct text col[OFFER_COLS];
	const struct store_conf *c;
	const char *notif_seller;
	int n;
};

static void put_flag(struct text *t, const struct bb_record *o, const char *key)
{
	const struct bb_member *m = bb_record_member(o, key);
	const char *v = !m ? "null" : m->vallen == 4 && memcmp(m->val, "true", 4) == 0 ? "1" :
			m->vallen == 5 && memcmp(m->val, "false", 5) == 0 ? "0" : "null";
	put(t, v, strlen(v));
}

static int offer_add(const char *elem, size_t len, void *arg)
{
	struct offers *x = arg;
	struct bb_record o = { .line = elem, .len = len, .total_len = len };
	size_t n = 0;
	char *seller = bb_record_index(&o) == 0 ? bb_record_string(&o, "seller_id", &n) : NULL;
	const struct bb_member *landed = seller ? bb_record_member(&o, "landed") : NULL;

	/* bb-validate never lets an offer without them through; never fail a
	 * batch on one */
	if (landed && store_integer(landed->val, landed->vallen)) {
		const char *sep = x->n++ ? "," : "";
		for (int k = 0; k < OFFER_COLS; k++)
			put(&x->col[k], sep, strlen(sep));
		put_json_string(&x->col[SELLERS], seller, n);
		put(&x->col[LANDED], landed->val, landed->vallen);
		put_flag(&x->col[PRIME], &o, "prime");
		put_flag(&x->col[FBA], &o, "fba");
		put_flag(&x->col[WINNER], &o, "buy_box_winner");
		put(&x->col[OURS], store_is_ours(x->c, seller, x->notif_seller) ? "1" : "0", 1);
	}
	free(seller);
	free(o.m);
	return 0;
}

/* The notification's offers as JSON arrays into x; 0, or -1 when they are
 * not an array or memory ran out. */
static int offers_json(struct offers *x, const struct bb_record *notification)
{
	const struct bb_member *list = bb_record_member(notification, "offers");

	for (int k = 0; k < OFFER_COLS; k++)
		put(&x->col[k], "[", 1);
	if (!list || bb_json_array_each(list->val, list->vallen, offer_add, x) < 0)
		return -1;
	for (int k = 0; k < OFFER_COLS; k++) {
		put(&x->col[k], "]", 1);
		if (x->col[k].failed)
			return -1;
	}
	return 0;
}

static void offers_free(struct offers *x)
{
	for (int k = 0; k < OFFER_COLS; k++)
		free(x->col[k].p);
}

/* A record's rows, made ready from its bytes before any is written: the
 * SQLite batch (store_batch_lite) has a thread make the next records ready
 * while it writes this one. */
struct rec {
	struct pool pool;
	struct bb_record n, a; /* the notification and analysis members, indexed */
	const char *status;    /* as store_status, or unusable: ok, but not storable */
	const char *error;     /* why it is unusable */
	int complete;          /* its rows are whole: else the batch fails, as a bug */
	int64_t ev;
	char nid[37], hid[37];
	struct val asin, mkt, event_time, severity, rule;
	struct val wn[15], h[21], s[18]; /* worker_notifications, competitive_history, current_state */
	struct offers x;
};

/* The three rows of an ok record, which store_unusable has let through. */
static void rows_of(struct rec *r, const struct store_conf *c, const struct bb_record *rec,
		    const struct bb_member *analysis, const char *now)
{
	struct pool *p = &r->pool;
	struct val nid = cstr(r->nid);

	r->x = (struct offers){ .c = c, .notif_seller = rtext(p, &r->n, "seller_id").p };
	struct val wn[15] = { nid, rstring(p, rec, "message_id"), rstring(p, rec, "dedupe_hash"),
			      rtext(p, &r->n, "notification_id"), r->asin, r->mkt, rstring(p, rec, "body"), r->severity,
			      rtext(p, &r->a, "priority"), LIT("stored"), rstring(p, rec, "trace_id"), r->event_time,
			      rstring(p, rec, "received_at"), cstr(now), cstr(c->worker_id) };
	/* priority, our_price, market_low, buy_box_price, buy_box_winner, position, total_offers, gap_pct */
	struct val a[8] = { wn[8], rtext(p, &r->a, "our_price"), rtext(p, &r->a, "market_low"),
			    rtext(p, &r->a, "buy_box_price"), rtext(p, &r->a, "buy_box_winner"),
			    rtext(p, &r->a, "position"), rtext(p, &r->a, "total_offers"), rtext(p, &r->a, "gap_pct") };
	struct val h[21] = { cstr(r->hid), nid, r->asin, r->mkt, r->event_time, r->severity, a[0], a[1], a[2], a[3],
			     a[4], a[5], a[6], a[7], cstr(now) };
	r->rule = rtext(p, &r->a, "rule");
	struct val s[18] = { r->asin, r->mkt, nid, r->event_time, r->severity, a[0], r->rule,
			     rtext(p, &r->n, "currency"), a[1], a[2], rtext(p, &r->a, "market_low_seller"), a[3],
			     a[4].p ? a[4] : LIT("0"), a[5], a[6], a[7], { analysis->val, analysis->vallen },
			     cstr(now) };
	r->complete = wn[1].p && wn[2].p && wn[6].p && offers_json(&r->x, &r->n) == 0;
	for (int k = 0; k < OFFER_COLS; k++)
		h[15 + k] = (struct val){ r->x.col[k].p, r->x.col[k].n };
	memcpy(r->wn, wn, sizeof wn);
	memcpy(r->h, h, sizeof h);
	memcpy(r->s, s, sizeof s);
}

static void prepare(struct rec *r, const struct store_conf *c, const struct bb_record *rec, const char *now)
{
	struct pool *p = &r->pool;
	const struct bb_member *analysis = bb_record_member(rec, "analysis");

	r->status = store_status(rec);
	if (strcmp(r->status, "ok") != 0)
		return;
	if ((r->error = store_unusable(rec, &r->n, &r->a))) {
		r->status = "unusable";
		return;
	}
	r->asin = rtext(p, &r->n, "asin");
	r->mkt = rtext(p, &r->n, "marketplace");
	r->event_time = rtext(p, &r->n, "event_time");
	r->severity = rtext(p, &r->a, "severity");
	if (!r->asin.p || !r->mkt.p || !r->event_time.p || !r->severity.p || !analysis ||
	    bb_time_parse(r->event_time.p, r->event_time.n, &r->ev) != 0) {
		r->status = "unusable";
		r->error = "the notification's event_time is not an RFC 3339 time";
		return;
	}
	bb_uuid7(r->nid);
	bb_uuid7(r->hid);
	rows_of(r, c, rec, analysis, now);
}

static void rec_free(struct rec *r)
{
	pool_free(&r->pool);
	offers_free(&r->x);
	free(r->n.m);
	free(r->a.m);
	memset(r, 0, sizeof *r); /* freed again, it frees nothing */
}

/* current_state, unless it holds a later event, and the state event. */
static int state(struct bb_db *db, struct rec *r, const char *now, int64_t *event_id)
{
	/* out-of-order deliveries never roll the state back */
	int rc = run(db, "INSERT INTO current_state (asin, marketplace, notification_id, event_time, severity, "
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
		     "WHERE current_state.event_time <= excluded.event_time", 18, r->s, NULL);
	if (rc != BB_DB_OK || bb_db_changes(db) == 0)
		return rc;
	static const char *const keys[] = { "asin", "marketplace", "notification_id", "event_time", "severity",
					    "rule" };
	struct val vals[] = { r->asin, r->mkt, cstr(r->nid), r->event_time, r->severity, r->rule };
	return add_event(db, "state", r->asin, r->mkt, COUNT(keys), keys, vals, now, event_id);
}

/* Apply the alert decision as the database sees it now: under the batch's
 * per-ASIN lock (PostgreSQL) or SQLite's single writer, this is the truth,
 * and the record's alert.action is corrected to it. */
static int alert(struct bb_db *db, struct rec *r, const char *now, int64_t *event_id, jv *corrected)
{
	char fp[128], id[37], when[40];
	struct val nid = cstr(r->nid);
	int64_t ev = r->ev;
	const char *queue = bb_alert_queue(r->severity.p);
	struct bb_alert_row row = { "", 0, -1 };
	struct bb_rows *rows;
	int rc;

	bb_alert_fingerprint(r->asin.p, r->mkt.p, r->severity.p, fp, sizeof fp);
	if (strcmp(queue, "background") == 0) {
		struct val p[4] = { cstr(now), r->asin, r->mkt, r->event_time };
		/* most recoveries find nothing open: look before writing (SQLite
		 * is the only writer inside this transaction) */
		rc = run(db, "SELECT fingerprint FROM alert_queues WHERE asin = $2 AND marketplace = $3 "
			 "AND status IN ('queued', 'delivered', 'acknowledged') AND last_seen <= $4", 4, p, &rows);
		if (rc == BB_DB_OK && bb_db_nrows(rows) > 0)
			rc = run(db, "UPDATE alert_queues SET status = 'resolved', updated_at = $1 WHERE asin = $2 "
				 "AND marketplace = $3 AND status IN ('queued', 'delivered', 'acknowledged') "
				 "AND last_seen <= $4", 4, p, NULL);
		for (int i = 0; rc == BB_DB_OK && i < bb_db_nrows(rows); i++) {
			static const char *const keys[] = { "fingerprint", "action", "notification_id" };
			struct val vals[] = { cstr(bb_db_value(rows, i, 0)), LIT("resolved"), nid };
			rc = add_event(db, "alert", r->asin, r->mkt, COUNT(keys), keys, vals, now, event_id);
		}
		bb_db_rows_free(rows);
		*corrected = jv_string("none");
		return rc;
	}
	struct val k[2] = { cstr(fp), cstr(queue) };
	rc = run(db, "SELECT status, last_seen, snooze_until FROM alert_queues WHERE fingerprint = $1 "
		 "AND queue_type = $2", 2, k, &rows);
	if (rc == BB_DB_OK && bb_db_nrows(rows) > 0) {
		const char *st = bb_db_value(rows, 0, 0), *ls = bb_db_value(rows, 0, 1), *su = bb_db_value(rows, 0, 2);
		snprintf(row.status, sizeof row.status, "%s", st ? st : "");
		if (ls)
			bb_time_parse_loose(ls, strlen(ls), &row.last_seen);
		if (su)
			bb_time_parse_loose(su, strlen(su), &row.snooze_until);
	}
	bb_db_rows_free(rows);
	if (rc != BB_DB_OK)
		return rc;
	const char *action = bb_alert_action(r->severity.p, &row, ev);
	*corrected = jv_string(action);
	if (strcmp(action, "new") == 0) {
		bb_uuid7(id);
		bb_time_format(bb_alert_delivery(queue, ev), when, sizeof when);
		struct val p[10] = { cstr(id), cstr(fp), cstr(queue), r->asin, r->mkt, r->severity, r->event_time,
				     cstr(when), nid, cstr(now) };
		rc = run(db, "INSERT INTO alert_queues (id, fingerprint, queue_type, asin, marketplace, severity, "
			 "status, occurrences, first_seen, last_seen, scheduled_delivery, snooze_until, "
			 "last_notification_id, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'queued', 1, $7, $7, "
			 "$8, NULL, $9, $10) ON CONFLICT (fingerprint, queue_type) DO UPDATE SET status = 'queued', "
			 "severity = excluded.severity, occurrences = 1, first_seen = excluded.first_seen, "
			 "last_seen = excluded.last_seen, scheduled_delivery = excluded.scheduled_delivery, "
			 "snooze_until = NULL, last_notification_id = excluded.last_notification_id, "
			 "updated_at = excluded.updated_at", 10, p, NULL);
	} else {
		/* update and suppressed both count the occurrence; only update is announced */
		struct val p[5] = { r->event_time, nid, cstr(now), cstr(fp), cstr(queue) };
		rc = run(db, "UPDATE alert_queues SET occurrences = occurrences + 1, last_seen = CASE WHEN "
			 "last_seen < $1 THEN $1 ELSE last_seen END, last_notification_id = $2, updated_at = $3 "
			 "WHERE fingerprint = $4 AND queue_type = $5", 5, p, NULL);
	}
	if (rc == BB_DB_OK && strcmp(action, "suppressed") != 0) {
		static const char *const keys[] = { "fingerprint", "action", "queue_type", "severity",
						    "notification_id" };
		struct val vals[] = { cstr(fp), cstr(action), cstr(queue), r->severity, nid };
		rc = add_event(db, "alert", r->asin, r->mkt, COUNT(keys), keys, vals, now, event_id);
	}
	return rc;
}

int store_failure(struct bb_db *db, const struct bb_record *rec, const char *status, const char *now,
		  const char *own_error)
{
	struct pool p = { .n = 0 };
	jv err = bb_record_get(rec, "error");
	char id[37], hash[65];
	struct val mid = rstring(&p, rec, "message_id"), body = rstring(&p, rec, "body");

	if (!mid.p) { /* a line that never got an identity: its bytes are its identity */
		bb_sha256_hex(rec->line, rec->len, hash);
		mid = cstr(hash);
	}
	bb_uuid7(id);
	struct val v[11] = { cstr(id), mid, rstring(&p, rec, "dedupe_hash"), rstring(&p, rec, "trace_id"), cstr(status),
			     text(&p, err, "type"), text(&p, err, "message"), text(&p, err, "stage"),
			     text(&p, err, "path"), body, cstr(now) };
	if (own_error) /* bb-store's own verdict, not one the record arrived with */
		v[5] = LIT("schema"), v[6] = cstr(own_error), v[7] = LIT("store"), v[8] = (struct val){ NULL, 0 };
	if (!v[5].p)
		v[5] = v[4];
	/* body is kept byte-exact; a line without one is kept whole */
	if (!body.p)
		v[9] = (struct val){ rec->line, rec->len };
	int rc = run(db, "INSERT INTO worker_failures (id, message_id, dedupe_hash, trace_id, status, error_type, "
		     "error_message, stage, path, raw_message, failure_count, first_failed, last_failed) VALUES "
		     "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $11) ON CONFLICT (message_id) DO UPDATE "
		     "SET failure_count = worker_failures.failure_count + 1, last_failed = excluded.last_failed, "
		     "status = excluded.status, error_type = excluded.error_type, error_message = "
		     "excluded.error_message, stage = excluded.stage, path = excluded.path, raw_message = "
		     "excluded.raw_message", 11, v, NULL);
	pool_free(&p);
	jv_free(err);
	return rc;
}

/* An ok record's rows, unless the unique keys find it stored already. */
static int stored_ok(struct bb_db *db, struct rec *r, const struct bb_record *rec, const char *now,
		     struct outcome *out)
{
	int rc = !r->complete ? BB_DB_ERR :
		 run(db, "INSERT INTO worker_notifications (id, message_id, dedupe_hash, notification_id, "
		     "asin, marketplace, body, severity, priority, status, trace_id, event_time, received_at, "
		     "processed_at, worker_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, "
		     "$14, $15) ON CONFLICT DO NOTHING", 15, r->wn, NULL);
	if (rc != BB_DB_OK)
		return rc;
	if (bb_db_changes(db) == 0) {
		out->status = "duplicate"; /* the unique keys are the final guard */
		return BB_DB_OK;
	}
	memcpy(out->notification_id, r->nid, sizeof r->nid);
	rc = run(db, "INSERT INTO competitive_history (id, notification_id, asin, marketplace, event_time, "
		 "severity, priority, our_price, market_low, buy_box_price, buy_box_winner, position, "
		 "total_offers, gap_pct, created_at, offer_seller_ids, offer_landed, offer_prime, offer_fba, "
		 "offer_buy_box_winner, offer_ours) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
		 "$13, $14, $15, $16, $17, $18, $19, $20, $21)", 21, r->h, NULL);
	if (rc == BB_DB_OK)
		rc = state(db, r, now, &out->event_id);
	jv action = jv_invalid();
	if (rc == BB_DB_OK)
		rc = alert(db, r, now, &out->event_id, &action);
	if (jv_is_valid(action))
		out->alert = store_alert_member(rec, action, r->ev);
	return rc;
}

/* Write one prepared record; out gets its outcome. */
static int execute(struct bb_db *db, struct rec *r, const struct bb_record *rec, const char *now,
		   struct outcome *out)
{
	out->event_id = -1;
	out->alert = jv_invalid();
	out->error = NULL;
	out->notification_id[0] = '\0';
	out->status = r->status;
	if (strcmp(r->status, "ok") == 0)
		return stored_ok(db, r, rec, now, out);
	if (strcmp(r->status, "unusable") == 0) {
		out->status = "rejected";
		out->error = r->error;
		return store_failure(db, rec, "rejected", now, r->error);
	}
	if (strcmp(r->status, "rejected") == 0 || strcmp(r->status, "failed") == 0)
		return store_failure(db, rec, r->status, now, rec->is_object ? NULL : "not a JSON object");
	return BB_DB_OK;
}

/* The thread that makes a batch's records ready, in order, ahead of the
 * writer: reading a record (its body decoded, its offers packed) costs
 * about as much as writing it. */
struct preparer {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct rec *recs;
	const struct bb_record *in;
	const struct store_conf *c;
	const char *now;
	int n, ready, stop; /* ready: records made ready; stop: the writer gave up */
};

static void *preparing(void *arg)
{
	struct preparer *w = arg;

	for (int i = 0; i < w->n; i++) {
		pthread_mutex_lock(&w->mu);
		int stop = w->stop;
		pthread_mutex_unlock(&w->mu);
		if (stop)
			break;
		prepare(&w->recs[i], w->c, &w->in[i], w->now);
		pthread_mutex_lock(&w->mu);
		w->ready = i + 1;
		pthread_cond_signal(&w->cv);
		pthread_mutex_unlock(&w->mu);
	}
	return NULL;
}

/* Record i made ready: by the preparer, or here when there is none. */
static void ready(struct preparer *w, int threaded, int i)
{
	if (!threaded) {
		prepare(&w->recs[i], w->c, &w->in[i], w->now);
		return;
	}
	pthread_mutex_lock(&w->mu);
	while (w->ready <= i)
		pthread_cond_wait(&w->cv, &w->mu);
	pthread_mutex_unlock(&w->mu);
}

int store_batch_lite(struct bb_db *db, const struct store_conf *c, const struct bb_record *recs, int n,
		     const char *now, struct outcome *out)
{
	struct preparer w = { .recs = calloc((size_t)n + 1, sizeof *w.recs), .in = recs, .c = c, .now = now, .n = n };
	int rc = w.recs ? BB_DB_OK : BB_DB_ERR, threaded = 0;

	pthread_mutex_init(&w.mu, NULL);
	pthread_cond_init(&w.cv, NULL);
	/* a batch of one, the usual case of a quiet stream, needs no thread */
	if (rc == BB_DB_OK && n > 1)
		threaded = pthread_create(&w.thread, NULL, preparing, &w) == 0;
	for (int i = 0; rc == BB_DB_OK && i < n; i++) {
		ready(&w, threaded, i);
		rc = execute(db, &w.recs[i], &recs[i], now, &out[i]);
		rec_free(&w.recs[i]);
	}
	if (threaded) {
		pthread_mutex_lock(&w.mu);
		w.stop = 1;
		pthread_mutex_unlock(&w.mu);
		pthread_join(w.thread, NULL);
	}
	for (int i = 0; w.recs && i < n; i++) /* those made ready after a failure */
		rec_free(&w.recs[i]);
	pthread_mutex_destroy(&w.mu);
	pthread_cond_destroy(&w.cv);
	free(w.recs);
	return rc;
}

const char *store_status(const struct bb_record *rec)
{
	size_t n;
	char *status = rec->is_object ? bb_record_string(rec, "status", &n) : NULL;
	/* an object without any status is a notification bb-validate never saw:
	 * checked as an ok record, it is rejected saying so */
	if (rec->is_object && !bb_record_member(rec, "status"))
		return "ok";
	const char *st = status && strcmp(status, "ok") == 0 ? "ok" :
			 status && strcmp(status, "duplicate") == 0 ? "duplicate" :
			 status && strcmp(status, "skipped") == 0 ? "skipped" :
			 status && strcmp(status, "failed") == 0 ? "failed" : "rejected";
	free(status);
	return st;
}

/* The marketplace:asin key of an ok record, or NULL. Caller frees. */
static char *lock_key(const struct bb_record *rec)
{
	struct bb_record n = { 0 };
	char *key = NULL, *asin = NULL, *mkt = NULL;
	size_t l;

	if (rec->is_object && bb_record_sub(rec, "notification", &n) == 0) {
		asin = bb_record_string(&n, "asin", &l);
		mkt = bb_record_string(&n, "marketplace", &l);
		if (asin && mkt && asprintf(&key, "%s:%s", mkt, asin) < 0)
			key = NULL;
	}
	free(n.m);
	free(asin), free(mkt);
	return key;
}

static int by_string(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int store_lock(struct bb_db *db, const struct bb_record *recs, int n)
{
	char **keys = calloc((size_t)n + 1, sizeof *keys);
	struct bb_stmt *st = calloc((size_t)n + 1, sizeof *st);
	int nkeys = 0, ns = 0, rc = keys && st ? BB_DB_OK : BB_DB_ERR;

	for (int i = 0; rc == BB_DB_OK && i < n; i++)
		if ((keys[nkeys] = lock_key(&recs[i])))
			nkeys++;
	qsort(keys, (size_t)nkeys, sizeof *keys, by_string);
	/* in sorted order, so two writers never wait on each other in a cycle;
	 * pipelined, so a batch of 500 ASINs costs one round trip */
	for (int i = 0; rc == BB_DB_OK && i < nkeys; i++)
		if (i == 0 || strcmp(keys[i], keys[i - 1]) != 0)
			st[ns++] = (struct bb_stmt){ "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", 1,
						     (const char *const *)&keys[i] };
	if (rc == BB_DB_OK && ns > 0)
		rc = bb_db_pipeline(db, ns, st, NULL);
	for (int i = 0; keys && i < nkeys; i++)
		free(keys[i]);
	free(keys);
	free(st);
	return rc;
}
