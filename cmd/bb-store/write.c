/* write.c: one record's rows. The same SQL serves both dialects: values go
 * as text parameters and each database converts them to the column's type. */
#include "store.h"
#include "alert.h"
#include "ids.h"
#include "record.h"
#include "timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Text of a JSON scalar member of obj (numbers without a fraction, booleans as
 * 1/0), NULL for null or absent. Returned strings live in the pool. */
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

static const char *text(struct pool *p, jv obj, const char *key)
{
	jv v = jv_get_kind(obj) == JV_KIND_OBJECT ? jv_object_get(jv_copy(obj), jv_string(key)) : jv_invalid();
	char buf[64];
	const char *r = NULL;

	switch (jv_get_kind(v)) {
	case JV_KIND_STRING: r = keep(p, strdup(jv_string_value(v))); break;
	case JV_KIND_TRUE: r = "1"; break;
	case JV_KIND_FALSE: r = "0"; break;
	case JV_KIND_NUMBER: {
		double d = jv_number_value(v);
		if (d == (double)(int64_t)d)
			snprintf(buf, sizeof buf, "%lld", (long long)d);
		else
			snprintf(buf, sizeof buf, "%.17g", d);
		r = keep(p, strdup(buf));
		break;
	}
	default: break;
	}
	jv_free(v);
	return r;
}

/* The same from a record's bytes: strings decoded, numbers as written. */
static const char *rtext(struct pool *p, const struct bb_record *obj, const char *key)
{
	return keep(p, bb_record_text(obj, key));
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

static int add_event(struct bb_db *db, const char *kind, const char *asin, const char *mkt,
		     jv payload, const char *now, int64_t *event_id)
{
	jv s = jv_dump_string(payload, 0);
	const char *p[5] = { kind, asin, mkt, jv_string_value(s), now };
	struct bb_rows *rows = NULL;
	int rc;

	if (!bb_db_is_pg(db)) {
		rc = bb_db_exec(db, "INSERT INTO events (kind, asin, marketplace, payload, created_at) "
				"VALUES ($1, $2, $3, $4, $5)", 5, p, NULL);
		if (rc == BB_DB_OK)
			*event_id = bb_db_last_rowid(db);
	} else {
		rc = bb_db_exec(db, "INSERT INTO events (kind, asin, marketplace, payload, created_at) "
				"VALUES ($1, $2, $3, $4, $5) RETURNING id", 5, p, &rows);
		const char *id = rc == BB_DB_OK ? bb_db_value(rows, 0, 0) : NULL;
		if (id) { /* wake every LISTEN bb_events (bb-serve) at commit */
			*event_id = atoll(id);
			rc = bb_db_exec(db, "SELECT pg_notify('bb_events', $1)", 1, &id, NULL);
		}
		bb_db_rows_free(rows);
	}
	jv_free(s);
	return rc;
}

struct rec {
	struct pool pool;
	struct bb_record n, a; /* the notification and analysis members, indexed */
	const char *asin, *mkt, *event_time, *severity;
};

static int is_ours(const struct store_conf *c, const char *seller, const char *notif_seller)
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

struct offer_ctx {
	struct bb_db *db;
	const struct store_conf *c;
	struct rec *r;
	const char *nid, *seller;
	int ord, rc;
};

static int offer_row(const char *text_, size_t len, void *arg)
{
	struct offer_ctx *x = arg;
	struct bb_record o = { .line = text_, .len = len, .total_len = len };
	struct pool p = { .n = 0 };
	char ord[16];

	bb_record_index(&o);
	snprintf(ord, sizeof ord, "%d", x->ord++);
	const char *s = rtext(&p, &o, "seller_id");
	const char *v[11] = { x->nid, ord, x->r->asin, x->r->mkt, x->r->event_time, s, rtext(&p, &o, "landed"),
			      rtext(&p, &o, "prime"), rtext(&p, &o, "fba"), rtext(&p, &o, "buy_box_winner"),
			      is_ours(x->c, s, x->seller) ? "1" : "0" };
	x->rc = !s || !v[6] ? BB_DB_OK : /* bb-validate never lets one through; never fail a batch on it */
		bb_db_exec(x->db, "INSERT INTO offer_snapshots (notification_id, ord, asin, marketplace, event_time, "
			   "seller_id, landed, prime, fba, buy_box_winner, ours) "
			   "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)", 11, v, NULL);
	pool_free(&p);
	free(o.m);
	return x->rc != BB_DB_OK;
}

static int offers(struct bb_db *db, const struct store_conf *c, struct rec *r, const char *nid)
{
	const struct bb_member *list = bb_record_member(&r->n, "offers");
	struct offer_ctx x = { db, c, r, nid, rtext(&r->pool, &r->n, "seller_id"), 0, BB_DB_OK };

	if (!list || bb_json_array_each(list->val, list->vallen, offer_row, &x) < 0)
		return x.rc != BB_DB_OK ? x.rc : BB_DB_ERR;
	return x.rc;
}

static int history_and_state(struct bb_db *db, struct rec *r, const char *nid, const char *raw_analysis,
			     const char *now, int64_t *event_id)
{
	struct pool *p = &r->pool;
	char hid[37];
	bb_uuid7(hid);
	const char *h[15] = { hid, nid, r->asin, r->mkt, r->event_time, r->severity, rtext(p, &r->a, "priority"),
			      rtext(p, &r->a, "our_price"), rtext(p, &r->a, "market_low"), rtext(p, &r->a, "buy_box_price"),
			      rtext(p, &r->a, "buy_box_winner"), rtext(p, &r->a, "position"), rtext(p, &r->a, "total_offers"),
			      rtext(p, &r->a, "gap_pct"), now };
	int rc = bb_db_exec(db, "INSERT INTO competitive_history (id, notification_id, asin, marketplace, event_time, "
			    "severity, priority, our_price, market_low, buy_box_price, buy_box_winner, position, "
			    "total_offers, gap_pct, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, "
			    "$12, $13, $14, $15)", 15, h, NULL);
	if (rc != BB_DB_OK)
		return rc;
	const char *s[18] = { r->asin, r->mkt, nid, r->event_time, r->severity, h[6], rtext(p, &r->a, "rule"),
			      rtext(p, &r->n, "currency"), h[7], h[8], rtext(p, &r->a, "market_low_seller"), h[9],
			      h[10] ? h[10] : "0", h[11], h[12], h[13], raw_analysis, now };
	/* out-of-order deliveries never roll the state back */
	rc = bb_db_exec(db, "INSERT INTO current_state (asin, marketplace, notification_id, event_time, severity, "
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
			"WHERE current_state.event_time <= excluded.event_time", 18, s, NULL);
	int changed = rc == BB_DB_OK && bb_db_changes(db) > 0;
	if (changed) {
		jv e = jv_object();
		e = jv_object_set(e, jv_string("asin"), jv_string(r->asin));
		e = jv_object_set(e, jv_string("marketplace"), jv_string(r->mkt));
		e = jv_object_set(e, jv_string("notification_id"), jv_string(nid));
		e = jv_object_set(e, jv_string("event_time"), jv_string(r->event_time));
		e = jv_object_set(e, jv_string("severity"), jv_string(r->severity));
		e = jv_object_set(e, jv_string("rule"), jv_string(s[6] ? s[6] : ""));
		rc = add_event(db, "state", r->asin, r->mkt, e, now, event_id);
	}
	return rc;
}

/* Apply the alert decision as the database sees it now: under the batch's
 * per-ASIN lock (PostgreSQL) or SQLite's single writer, this is the truth,
 * and the record's alert.action is corrected to it. */
static int alert(struct bb_db *db, struct rec *r, const char *nid, const char *now, int64_t ev,
		 int64_t *event_id, jv *corrected)
{
	char fp[128], id[37], when[40];
	const char *queue = bb_alert_queue(r->severity);
	struct bb_alert_row row = { "", 0, -1 };
	struct bb_rows *rows;
	int rc;

	bb_alert_fingerprint(r->asin, r->mkt, r->severity, fp, sizeof fp);
	if (strcmp(queue, "background") == 0) {
		const char *p[4] = { now, r->asin, r->mkt, r->event_time };
		/* most recoveries find nothing open: look before writing (SQLite
		 * is the only writer inside this transaction) */
		rc = bb_db_exec(db, "SELECT fingerprint FROM alert_queues WHERE asin = $2 AND marketplace = $3 "
				"AND status IN ('queued', 'delivered', 'acknowledged') AND last_seen <= $4", 4, p, &rows);
		if (rc == BB_DB_OK && bb_db_nrows(rows) > 0)
			rc = bb_db_exec(db, "UPDATE alert_queues SET status = 'resolved', updated_at = $1 WHERE asin = $2 "
					"AND marketplace = $3 AND status IN ('queued', 'delivered', 'acknowledged') "
					"AND last_seen <= $4", 4, p, NULL);
		for (int i = 0; rc == BB_DB_OK && i < bb_db_nrows(rows); i++) {
			jv e = jv_object();
			e = jv_object_set(e, jv_string("fingerprint"), jv_string(bb_db_value(rows, i, 0)));
			e = jv_object_set(e, jv_string("action"), jv_string("resolved"));
			e = jv_object_set(e, jv_string("notification_id"), jv_string(nid));
			rc = add_event(db, "alert", r->asin, r->mkt, e, now, event_id);
		}
		bb_db_rows_free(rows);
		*corrected = jv_string("none");
		return rc;
	}
	const char *k[2] = { fp, queue };
	rc = bb_db_exec(db, "SELECT status, last_seen, snooze_until FROM alert_queues WHERE fingerprint = $1 "
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
	const char *action = bb_alert_action(r->severity, &row, ev);
	*corrected = jv_string(action);
	if (strcmp(action, "new") == 0) {
		bb_uuid7(id);
		bb_time_format(bb_alert_delivery(queue, ev), when, sizeof when);
		const char *p[10] = { id, fp, queue, r->asin, r->mkt, r->severity, r->event_time, when, nid, now };
		rc = bb_db_exec(db, "INSERT INTO alert_queues (id, fingerprint, queue_type, asin, marketplace, severity, "
				"status, occurrences, first_seen, last_seen, scheduled_delivery, snooze_until, "
				"last_notification_id, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'queued', 1, $7, $7, "
				"$8, NULL, $9, $10) ON CONFLICT (fingerprint, queue_type) DO UPDATE SET status = 'queued', "
				"severity = excluded.severity, occurrences = 1, first_seen = excluded.first_seen, "
				"last_seen = excluded.last_seen, scheduled_delivery = excluded.scheduled_delivery, "
				"snooze_until = NULL, last_notification_id = excluded.last_notification_id, "
				"updated_at = excluded.updated_at", 10, p, NULL);
	} else {
		/* update and suppressed both count the occurrence; only update is announced */
		const char *p[5] = { r->event_time, nid, now, fp, queue };
		rc = bb_db_exec(db, "UPDATE alert_queues SET occurrences = occurrences + 1, last_seen = CASE WHEN "
				"last_seen < $1 THEN $1 ELSE last_seen END, last_notification_id = $2, updated_at = $3 "
				"WHERE fingerprint = $4 AND queue_type = $5", 5, p, NULL);
	}
	if (rc == BB_DB_OK && strcmp(action, "suppressed") != 0) {
		jv e = jv_object();
		e = jv_object_set(e, jv_string("fingerprint"), jv_string(fp));
		e = jv_object_set(e, jv_string("action"), jv_string(action));
		e = jv_object_set(e, jv_string("queue_type"), jv_string(queue));
		e = jv_object_set(e, jv_string("severity"), jv_string(r->severity));
		e = jv_object_set(e, jv_string("notification_id"), jv_string(nid));
		rc = add_event(db, "alert", r->asin, r->mkt, e, now, event_id);
	}
	return rc;
}

int store_failure(struct bb_db *db, const struct bb_record *rec, const char *status, const char *now,
		  const char *own_error)
{
	const char *line = rec->line;
	size_t len = rec->len;
	struct pool p = { .n = 0 };
	jv err = bb_record_get(rec, "error");
	size_t n;
	char id[37], hash[65];
	char *mid = bb_record_string(rec, "message_id", &n), *body = bb_record_string(rec, "body", &n);
	char *dh = bb_record_string(rec, "dedupe_hash", &n), *trace = bb_record_string(rec, "trace_id", &n);

	if (!mid) { /* a line that never got an identity: its bytes are its identity */
		bb_sha256_hex(line, len, hash);
		mid = strdup(hash);
	}
	bb_uuid7(id);
	const char *v[11] = { id, mid, dh, trace, status, text(&p, err, "type"), text(&p, err, "message"),
			      text(&p, err, "stage"), text(&p, err, "path"), body ? body : line, now };
	if (own_error) /* bb-store's own verdict, not one the record arrived with */
		v[5] = "schema", v[6] = own_error, v[7] = "store", v[8] = NULL;
	if (!v[5])
		v[5] = status;
	/* body is kept byte-exact; a line without one is kept whole */
	char *whole = body ? NULL : strndup(line, len);
	if (whole)
		v[9] = whole;
	int rc = bb_db_exec(db, "INSERT INTO worker_failures (id, message_id, dedupe_hash, trace_id, status, error_type, "
			    "error_message, stage, path, raw_message, failure_count, first_failed, last_failed) VALUES "
			    "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $11) ON CONFLICT (message_id) DO UPDATE "
			    "SET failure_count = worker_failures.failure_count + 1, last_failed = excluded.last_failed, "
			    "status = excluded.status, error_type = excluded.error_type, error_message = "
			    "excluded.error_message, stage = excluded.stage, path = excluded.path, raw_message = "
			    "excluded.raw_message", 11, v, NULL);
	free(whole), free(mid), free(body), free(dh), free(trace);
	pool_free(&p);
	jv_free(err);
	return rc;
}

static int notification_row(struct bb_db *db, const struct store_conf *c, const struct bb_record *rec,
			    struct rec *r, const char *now, const char *nid, int *inserted)
{
	struct pool *p = &r->pool;
	size_t n;
	char *mid = bb_record_string(rec, "message_id", &n), *dh = bb_record_string(rec, "dedupe_hash", &n);
	char *body = bb_record_string(rec, "body", &n), *trace = bb_record_string(rec, "trace_id", &n);
	char *received = bb_record_string(rec, "received_at", &n);
	const char *v[15] = { nid, mid, dh, rtext(p, &r->n, "notification_id"), r->asin, r->mkt, body, r->severity,
			      rtext(p, &r->a, "priority"), "stored", trace, r->event_time, received, now, c->worker_id };
	int rc = !mid || !dh || !body ? BB_DB_ERR :
		 bb_db_exec(db, "INSERT INTO worker_notifications (id, message_id, dedupe_hash, notification_id, "
			    "asin, marketplace, body, severity, priority, status, trace_id, event_time, received_at, "
			    "processed_at, worker_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, "
			    "$14, $15) ON CONFLICT DO NOTHING", 15, v, NULL);
	*inserted = rc == BB_DB_OK && bb_db_changes(db) > 0;
	free(mid), free(dh), free(body), free(trace), free(received);
	return rc;
}

static int stored_ok(struct bb_db *db, const struct store_conf *c, const struct bb_record *rec, const char *now,
		     struct outcome *out)
{
	struct rec r = { .pool.n = 0 };
	const struct bb_member *raw = bb_record_member(rec, "analysis");
	if ((out->error = store_unusable(rec, &r.n, &r.a))) {
		out->status = "unusable"; /* the caller records it as a failure */
		free(r.n.m), free(r.a.m);
		return BB_DB_OK;
	}
	char *analysis = raw ? strndup(raw->val, raw->vallen) : NULL;
	int64_t ev = -1;
	int inserted = 0, rc = BB_DB_ERR;

	r.asin = rtext(&r.pool, &r.n, "asin");
	r.mkt = rtext(&r.pool, &r.n, "marketplace");
	r.event_time = rtext(&r.pool, &r.n, "event_time");
	r.severity = rtext(&r.pool, &r.a, "severity");
	if (!r.asin || !r.mkt || !r.event_time || !r.severity || !analysis ||
	    bb_time_parse(r.event_time, strlen(r.event_time), &ev) != 0) {
		snprintf(out->notification_id, sizeof out->notification_id, "%s", "");
		out->status = "unusable"; /* the caller records it as a failure */
		out->error = "the notification's event_time is not an RFC 3339 time";
		rc = BB_DB_OK;
		goto done;
	}
	bb_uuid7(out->notification_id);
	rc = notification_row(db, c, rec, &r, now, out->notification_id, &inserted);
	if (rc == BB_DB_OK && !inserted) {
		out->status = "duplicate"; /* the unique keys are the final guard */
		out->notification_id[0] = '\0';
		goto done;
	}
	if (rc == BB_DB_OK)
		rc = history_and_state(db, &r, out->notification_id, analysis, now, &out->event_id);
	if (rc == BB_DB_OK)
		rc = offers(db, c, &r, out->notification_id);
	jv action = jv_invalid();
	if (rc == BB_DB_OK)
		rc = alert(db, &r, out->notification_id, now, ev, &out->event_id, &action);
	if (jv_is_valid(action))
		out->alert = store_alert_member(rec, action, ev);
done:
	free(analysis);
	pool_free(&r.pool);
	free(r.n.m);
	free(r.a.m);
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

int store_record(struct bb_db *db, const struct store_conf *c, const struct bb_record *rec, const char *now,
		 struct outcome *out)
{
	int rc = BB_DB_OK;

	out->event_id = -1;
	out->alert = jv_invalid();
	out->error = NULL;
	out->notification_id[0] = '\0';
	out->status = store_status(rec);
	if (strcmp(out->status, "ok") == 0) {
		rc = stored_ok(db, c, rec, now, out);
		if (rc == BB_DB_OK && strcmp(out->status, "unusable") == 0) {
			out->status = "rejected";
			rc = store_failure(db, rec, "rejected", now, out->error);
		}
	} else if (strcmp(out->status, "rejected") == 0 || strcmp(out->status, "failed") == 0) {
		rc = store_failure(db, rec, out->status, now, rec->is_object ? NULL : "not a JSON object");
	}
	return rc;
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
