/* pg.c: bb-store's batch on PostgreSQL in two pipelined round trips instead
 * of a round trip per row. Round 1 writes each notification with its
 * history (offers included), state and state event in one statement, and reads the
 * alerts of the batch's ASINs. The alert decisions are then made here, in
 * batch order, by the same rules as everywhere (lib/alert.c), and round 2
 * writes them. The batch's advisory locks keep other writers off these
 * ASINs in between. */
#include "store.h"
#include "alert.h"
#include "ids.h"
#include "record.h"
#include "timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOTIFICATION_SQL \
	"WITH ins AS (INSERT INTO worker_notifications (id, message_id, dedupe_hash, notification_id, asin, " \
	"marketplace, body, severity, priority, status, trace_id, event_time, received_at, processed_at, worker_id) " \
	"VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, $8, $9::int, 'stored', $10, $11::timestamptz, " \
	"$12::timestamptz, $13::timestamptz, $14) ON CONFLICT DO NOTHING RETURNING id), " \
	"hist AS (INSERT INTO competitive_history (id, notification_id, asin, marketplace, event_time, severity, " \
	"priority, our_price, market_low, buy_box_price, buy_box_winner, position, total_offers, gap_pct, created_at, " \
	"offer_seller_ids, offer_landed, offer_prime, offer_fba, offer_buy_box_winner, offer_ours) " \
	"SELECT $15::uuid, $1::uuid::text, $5, $6, $11, $8, $9, $16::bigint, $17::bigint, $18::bigint, $19::boolean, $20::int, " \
	"$21::int, $22::numeric, $13, $24::text[], $30::bigint[], $31::boolean[], $32::boolean[], $33::boolean[], " \
	"$23::boolean[] FROM ins), " \
	"st AS (INSERT INTO current_state (asin, marketplace, notification_id, event_time, severity, priority, rule, " \
	"currency, our_price, market_low, market_low_seller, buy_box_price, buy_box_winner, position, total_offers, " \
	"gap_pct, analysis, updated_at) SELECT $5, $6, $1::uuid::text, $11, $8, $9, $25, $26, $16, $17, $27, $18, " \
	"$19, $20, $21, $22, $28::jsonb, $13 FROM ins ON CONFLICT (asin, marketplace) DO UPDATE SET " \
	"notification_id = excluded.notification_id, event_time = excluded.event_time, severity = excluded.severity, " \
	"priority = excluded.priority, rule = excluded.rule, currency = excluded.currency, " \
	"our_price = excluded.our_price, market_low = excluded.market_low, " \
	"market_low_seller = excluded.market_low_seller, buy_box_price = excluded.buy_box_price, " \
	"buy_box_winner = excluded.buy_box_winner, position = excluded.position, " \
	"total_offers = excluded.total_offers, gap_pct = excluded.gap_pct, analysis = excluded.analysis, " \
	"updated_at = excluded.updated_at WHERE current_state.event_time <= excluded.event_time RETURNING asin), " \
	"ev AS (INSERT INTO events (kind, asin, marketplace, payload, created_at) SELECT 'state', $5, $6, " \
	"$29::jsonb, $13 FROM st RETURNING id) " \
	"SELECT (SELECT count(*) FROM ins), (SELECT id FROM ev), (SELECT pg_notify('bb_events', id::text) FROM ev)"

#define ALERTS_SQL \
	"SELECT fingerprint, queue_type, status, last_seen, snooze_until, asin, marketplace FROM alert_queues " \
	"WHERE (asin, marketplace) IN (SELECT * FROM unnest($1::text[], $2::text[]))"

#define RESOLVE_SQL \
	"WITH r AS (UPDATE alert_queues SET status = 'resolved', updated_at = $1 WHERE asin = $2 AND marketplace = $3 " \
	"AND status IN ('queued', 'delivered', 'acknowledged') AND last_seen <= $4 RETURNING fingerprint), " \
	"e AS (INSERT INTO events (kind, asin, marketplace, payload, created_at) SELECT 'alert', $2, $3, " \
	"jsonb_build_object('fingerprint', fingerprint, 'action', 'resolved', 'notification_id', $5::text), $1 " \
	"FROM r RETURNING id) SELECT max(id), (SELECT count(pg_notify('bb_events', id::text)) FROM e) FROM e"

#define NEW_SQL \
	"WITH a AS (INSERT INTO alert_queues (id, fingerprint, queue_type, asin, marketplace, severity, status, " \
	"occurrences, first_seen, last_seen, scheduled_delivery, snooze_until, last_notification_id, updated_at) " \
	"VALUES ($1::uuid, $2, $3, $4, $5, $6, 'queued', 1, $7::timestamptz, $7::timestamptz, $8::timestamptz, NULL, " \
	"$9, $10::timestamptz) ON CONFLICT (fingerprint, queue_type) DO UPDATE SET status = 'queued', " \
	"severity = excluded.severity, occurrences = 1, first_seen = excluded.first_seen, " \
	"last_seen = excluded.last_seen, scheduled_delivery = excluded.scheduled_delivery, snooze_until = NULL, " \
	"last_notification_id = excluded.last_notification_id, updated_at = excluded.updated_at RETURNING 1), " \
	"e AS (INSERT INTO events (kind, asin, marketplace, payload, created_at) SELECT 'alert', $4, $5, " \
	"$11::jsonb, $10 FROM a RETURNING id) SELECT id, pg_notify('bb_events', id::text) FROM e"

#define UPDATE_SQL \
	"WITH a AS (UPDATE alert_queues SET occurrences = occurrences + 1, last_seen = GREATEST(last_seen, " \
	"$1::timestamptz), last_notification_id = $2, updated_at = $3::timestamptz WHERE fingerprint = $4 " \
	"AND queue_type = $5 RETURNING asin, marketplace), " \
	"e AS (INSERT INTO events (kind, asin, marketplace, payload, created_at) SELECT 'alert', asin, marketplace, " \
	"$6::jsonb, $3 FROM a WHERE $7 = 'update' RETURNING id) SELECT id, pg_notify('bb_events', id::text) FROM e"

#define NPARAMS 33 /* of NOTIFICATION_SQL */

/* One record's strings, owned. */
struct item {
	char *s[48]; /* every string a record's statements use, owned */
	int n;
	const char *p[NPARAMS]; /* parameters, pointing into s or literals */
	struct bb_record notif, anal; /* its notification and analysis, indexed */
	char *asin, *mkt, *severity, *event_time;
	int ok;
	int late; /* unusable, found out while preparing: a failure to write after round 1 */
	int64_t ev;
};

static char *own(struct item *it, char *s)
{
	if (it->n == (int)(sizeof it->s / sizeof it->s[0])) { /* never: sized for every parameter */
		free(s);
		return NULL;
	}
	return it->s[it->n++] = s;
}

static char *raw(struct item *it, const struct bb_record *obj, const char *key)
{
	return own(it, bb_record_text(obj, key));
}

static char *payload(struct item *it, const char *nid, const char *rule)
{
	jv e = jv_object();
	e = jv_object_set(e, jv_string("asin"), jv_string(it->asin));
	e = jv_object_set(e, jv_string("marketplace"), jv_string(it->mkt));
	e = jv_object_set(e, jv_string("notification_id"), jv_string(nid));
	e = jv_object_set(e, jv_string("event_time"), jv_string(it->event_time));
	e = jv_object_set(e, jv_string("severity"), jv_string(it->severity));
	e = jv_object_set(e, jv_string("rule"), jv_string(rule ? rule : ""));
	jv s = jv_dump_string(e, 0);
	char *t = strdup(jv_string_value(s));
	jv_free(s);
	return own(it, t);
}

/* The n strings as a PostgreSQL array literal: {"a",NULL}. Caller frees. */
static char *pg_array(const char *const *v, int n)
{
	size_t len = 3;
	for (int i = 0; i < n; i++)
		len += v[i] ? 2 * strlen(v[i]) + 3 : 5;
	char *a = malloc(len), *o = a;
	if (!a)
		return NULL;
	*o++ = '{';
	for (int i = 0; i < n; i++) {
		if (i > 0)
			*o++ = ',';
		if (!v[i]) {
			memcpy(o, "NULL", 4);
			o += 4;
			continue;
		}
		*o++ = '"';
		for (const char *p = v[i]; *p; p++) {
			if (*p == '"' || *p == '\\')
				*o++ = '\\';
			*o++ = *p;
		}
		*o++ = '"';
	}
	*o++ = '}';
	*o = '\0';
	return a;
}

/* The offers as one array per column: parsed here, not by the server. The
 * last column, ours, is not in the offer: it is worked out here. */
#define OFFER_COLS 6
struct offer_cols {
	const char **v[OFFER_COLS];
	int n, cap;
	const struct store_conf *c;
	const char *notif_seller;
};

static int offer_add(const char *text_, size_t len, void *arg)
{
	static const char *const keys[OFFER_COLS - 1] = { "seller_id", "landed", "prime", "fba", "buy_box_winner" };
	struct offer_cols *oc = arg;
	struct bb_record o = { .line = text_, .len = len, .total_len = len };
	size_t n = 0;

	if (oc->n == oc->cap) {
		int cap = oc->cap ? 2 * oc->cap : 32;
		for (int k = 0; k < OFFER_COLS; k++) {
			const char **v = realloc(oc->v[k], (size_t)cap * sizeof *v);
			if (!v)
				return -1;
			oc->v[k] = v;
		}
		oc->cap = cap;
	}
	char *seller = bb_record_index(&o) == 0 ? bb_record_string(&o, "seller_id", &n) : NULL;
	const struct bb_member *landed = seller ? bb_record_member(&o, "landed") : NULL;
	if (landed && store_integer(landed->val, landed->vallen)) { /* else left out, as on SQLite */
		for (int k = 0; k < OFFER_COLS - 1; k++)
			oc->v[k][oc->n] = bb_record_text(&o, keys[k]);
		oc->v[OFFER_COLS - 1][oc->n++] = strdup(store_is_ours(oc->c, seller, oc->notif_seller) ? "t" : "f");
	}
	free(seller);
	free(o.m);
	return 0;
}

/* Parameters $24 and $30-$33 from the offers, and $23, whether each is
 * ours; 0 when done. */
static int offer_params(struct item *it, const struct store_conf *c, const char *notif_seller,
			const struct bb_member *offers)
{
	struct offer_cols oc = { .c = c, .notif_seller = notif_seller };
	int rc = bb_json_array_each(offers->val, offers->vallen, offer_add, &oc) < 0 ? -1 : 0;
	static const int at[OFFER_COLS] = { 23, 29, 30, 31, 32, 22 };

	for (int k = 0; k < OFFER_COLS; k++) {
		if (rc == 0 && !(it->p[at[k]] = own(it, pg_array(oc.v[k], oc.n))))
			rc = -1;
		for (int i = 0; i < oc.n; i++)
			free((char *)oc.v[k][i]);
		free(oc.v[k]);
	}
	return rc;
}

/* Fill the parameters of NOTIFICATION_SQL; 0 when the record is usable. */
static int prepare(struct item *it, const struct store_conf *c, const struct bb_record *rec, const char *now,
		   struct outcome *out)
{
	const struct bb_record *n = &it->notif, *a = &it->anal; /* indexed by store_unusable */
	const struct bb_member *offers, *analysis;
	char hid[37];

	it->asin = raw(it, n, "asin");
	it->mkt = raw(it, n, "marketplace");
	it->event_time = raw(it, n, "event_time");
	it->severity = raw(it, a, "severity");
	offers = bb_record_member(n, "offers");
	analysis = bb_record_member(rec, "analysis");
	const char **p = it->p;
	p[1] = raw(it, rec, "message_id");
	p[2] = raw(it, rec, "dedupe_hash");
	p[6] = raw(it, rec, "body");
	if (!it->asin || !it->mkt || !it->event_time || !it->severity || !offers || !p[1] || !p[2] || !p[6] ||
	    bb_time_parse(it->event_time, strlen(it->event_time), &it->ev) != 0)
		return -1;
	bb_uuid7(out->notification_id);
	bb_uuid7(hid);
	p[0] = out->notification_id;
	p[3] = raw(it, n, "notification_id");
	p[4] = it->asin, p[5] = it->mkt, p[7] = it->severity;
	p[8] = raw(it, a, "priority");
	p[9] = raw(it, rec, "trace_id");
	p[10] = it->event_time;
	p[11] = raw(it, rec, "received_at");
	p[12] = now;
	p[13] = c->worker_id;
	p[14] = own(it, strdup(hid));
	p[15] = raw(it, a, "our_price"), p[16] = raw(it, a, "market_low"), p[17] = raw(it, a, "buy_box_price");
	p[18] = raw(it, a, "buy_box_winner"), p[19] = raw(it, a, "position"), p[20] = raw(it, a, "total_offers");
	p[21] = raw(it, a, "gap_pct");
	if (offer_params(it, c, raw(it, n, "seller_id"), offers) != 0)
		return -1;
	p[24] = raw(it, a, "rule"), p[25] = raw(it, n, "currency"), p[26] = raw(it, a, "market_low_seller");
	p[27] = own(it, strndup(analysis->val, analysis->vallen));
	p[28] = payload(it, out->notification_id, p[24]);
	if (!p[18])
		p[18] = "0";
	return 0;
}

/* The alert rows the batch's ASINs have, and what the batch does to them. */
struct arow {
	char fp[128], queue[16], asin[32], mkt[32];
	struct bb_alert_row row;
};

struct alerts {
	struct arow *r;
	int n, cap;
};

static struct arow *find(struct alerts *al, const char *fp, const char *queue)
{
	for (int i = 0; i < al->n; i++)
		if (strcmp(al->r[i].fp, fp) == 0 && strcmp(al->r[i].queue, queue) == 0)
			return &al->r[i];
	return NULL;
}

static struct arow *add(struct alerts *al, const char *fp, const char *queue, const char *asin, const char *mkt)
{
	if (al->n == al->cap) {
		int cap = al->cap ? 2 * al->cap : 64;
		struct arow *r = realloc(al->r, (size_t)cap * sizeof *r);
		if (!r)
			return NULL;
		al->r = r;
		al->cap = cap;
	}
	struct arow *a = &al->r[al->n++];
	memset(a, 0, sizeof *a);
	snprintf(a->fp, sizeof a->fp, "%s", fp);
	snprintf(a->queue, sizeof a->queue, "%s", queue);
	snprintf(a->asin, sizeof a->asin, "%s", asin);
	snprintf(a->mkt, sizeof a->mkt, "%s", mkt);
	a->row.snooze_until = -1;
	return a;
}

static void load(struct alerts *al, const struct bb_rows *rows)
{
	for (int i = 0; i < bb_db_nrows(rows); i++) {
		const char *fp = bb_db_value(rows, i, 0), *q = bb_db_value(rows, i, 1);
		const char *st = bb_db_value(rows, i, 2), *ls = bb_db_value(rows, i, 3), *su = bb_db_value(rows, i, 4);
		const char *asin = bb_db_value(rows, i, 5), *mkt = bb_db_value(rows, i, 6);
		if (!fp || !q || !asin || !mkt || find(al, fp, q))
			continue;
		struct arow *a = add(al, fp, q, asin, mkt);
		if (!a)
			return;
		snprintf(a->row.status, sizeof a->row.status, "%s", st ? st : "");
		if (ls)
			bb_time_parse_loose(ls, strlen(ls), &a->row.last_seen);
		if (su)
			bb_time_parse_loose(su, strlen(su), &a->row.snooze_until);
	}
}

static char *alert_payload(struct item *it, const char *fp, const char *action, const char *queue, const char *nid)
{
	jv e = jv_object();
	e = jv_object_set(e, jv_string("fingerprint"), jv_string(fp));
	e = jv_object_set(e, jv_string("action"), jv_string(action));
	e = jv_object_set(e, jv_string("queue_type"), jv_string(queue));
	e = jv_object_set(e, jv_string("severity"), jv_string(it->severity));
	e = jv_object_set(e, jv_string("notification_id"), jv_string(nid));
	jv s = jv_dump_string(e, 0);
	char *t = strdup(jv_string_value(s));
	jv_free(s);
	return own(it, t);
}

/* Decide record i's alert against the batch's view and queue its write. */
static void decide(struct alerts *al, struct item *it, struct outcome *out, const char *now,
		   struct bb_stmt *st, const char **q)
{
	char fp[128], when[40];
	const char *queue = bb_alert_queue(it->severity);

	bb_alert_fingerprint(it->asin, it->mkt, it->severity, fp, sizeof fp);
	if (strcmp(queue, "background") == 0) {
		for (int i = 0; i < al->n; i++)
			if (strcmp(al->r[i].asin, it->asin) == 0 && strcmp(al->r[i].mkt, it->mkt) == 0 &&
			    bb_alert_is_open(al->r[i].row.status) && al->r[i].row.last_seen <= it->ev)
				snprintf(al->r[i].row.status, sizeof al->r[i].row.status, "resolved");
		q[0] = now, q[1] = it->asin, q[2] = it->mkt, q[3] = it->event_time, q[4] = out->notification_id;
		*st = (struct bb_stmt){ RESOLVE_SQL, 5, q };
		out->alert = jv_string("none");
		return;
	}
	struct arow *a = find(al, fp, queue);
	const char *action = bb_alert_action(it->severity, a ? &a->row : NULL, it->ev);
	out->alert = jv_string(action);
	if (!a)
		a = add(al, fp, queue, it->asin, it->mkt);
	if (strcmp(action, "new") == 0) {
		char *id = own(it, malloc(37));
		bb_uuid7(id);
		bb_time_format(bb_alert_delivery(queue, it->ev), when, sizeof when);
		q[0] = id, q[1] = own(it, strdup(fp)), q[2] = queue, q[3] = it->asin, q[4] = it->mkt;
		q[5] = it->severity, q[6] = it->event_time, q[7] = own(it, strdup(when)), q[8] = out->notification_id;
		q[9] = now, q[10] = alert_payload(it, fp, action, queue, out->notification_id);
		*st = (struct bb_stmt){ NEW_SQL, 11, q };
		if (a)
			a->row = (struct bb_alert_row){ "queued", it->ev, -1 };
		return;
	}
	q[0] = it->event_time, q[1] = out->notification_id, q[2] = now, q[3] = own(it, strdup(fp)), q[4] = queue;
	q[5] = alert_payload(it, fp, action, queue, out->notification_id), q[6] = action;
	*st = (struct bb_stmt){ UPDATE_SQL, 7, q };
	if (a && it->ev > a->row.last_seen)
		a->row.last_seen = it->ev;
}

static void items_free(struct item *items, int n)
{
	for (int i = 0; i < n; i++) {
		for (int k = 0; k < items[i].n; k++)
			free(items[i].s[k]);
		free(items[i].notif.m);
		free(items[i].anal.m);
	}
	free(items);
}

int store_batch_pg(struct bb_db *db, const struct store_conf *c, const struct bb_record *recs, int n,
		   const char *now, struct outcome *out)
{
	struct item *it = calloc((size_t)n + 1, sizeof *it);
	struct bb_stmt *st = calloc((size_t)2 * n + 1, sizeof *st);
	struct bb_rows **res = calloc((size_t)2 * n + 1, sizeof *res);
	const char **asins = calloc((size_t)n + 1, sizeof *asins), **mkts = calloc((size_t)n + 1, sizeof *mkts);
	const char **q = calloc((size_t)n * 12 + 1, sizeof *q);
	int *of = calloc((size_t)n + 2, sizeof *of); /* statement -> record; the alerts as -1 */
	struct alerts al = { 0 };
	int ns = 0, nasins = 0, rc = it && st && res && asins && mkts && q && of ? BB_DB_OK : BB_DB_ERR;

	/* the failures first: their writes are statements of their own */
	int nok = 0, began = 0;
	for (int i = 0; rc == BB_DB_OK && i < n; i++) {
		out[i].event_id = -1;
		out[i].alert = jv_invalid();
		out[i].error = recs[i].is_object ? NULL : "not a JSON object";
		out[i].notification_id[0] = '\0';
		out[i].status = store_status(&recs[i]);
		if (strcmp(out[i].status, "ok") == 0 && (out[i].error = store_unusable(&recs[i], &it[i].notif, &it[i].anal)))
			out[i].status = "rejected"; /* ok but unusable: recorded as a failure */
		if (strcmp(out[i].status, "rejected") == 0 || strcmp(out[i].status, "failed") == 0)
			rc = store_failure(db, &recs[i], out[i].status, now, out[i].error);
		nok += strcmp(out[i].status, "ok") == 0;
	}
	/* round 1: each notification sent as soon as it is ready, then the
	 * alerts of the batch's ASINs */
	static const struct bb_stmt used[] = { { NOTIFICATION_SQL, NPARAMS, NULL }, { ALERTS_SQL, 2, NULL } };
	if (rc == BB_DB_OK && nok > 0)
		began = (rc = bb_db_pipe_begin(db, 2, used)) == BB_DB_OK;
	for (int i = 0; rc == BB_DB_OK && began && i < n; i++) {
		if (strcmp(out[i].status, "ok") != 0)
			continue;
		if (prepare(&it[i], c, &recs[i], now, &out[i]) != 0) {
			out[i].status = "rejected";
			out[i].error = "the notification's event_time is not an RFC 3339 time";
			out[i].notification_id[0] = '\0';
			it[i].late = 1;
			continue;
		}
		it[i].ok = 1;
		of[ns] = i;
		st[ns] = (struct bb_stmt){ NOTIFICATION_SQL, NPARAMS, it[i].p };
		rc = bb_db_pipe_send(db, &st[ns++]);
		asins[nasins] = it[i].asin, mkts[nasins++] = it[i].mkt;
	}
	/* an ASIN twice is harmless: each alert row comes back once */
	char *keys[2] = { pg_array(asins, nasins), pg_array(mkts, nasins) };
	if (rc == BB_DB_OK && began && nasins > 0) {
		of[ns] = -1;
		st[ns] = (struct bb_stmt){ ALERTS_SQL, 2, (const char *const *)keys };
		rc = keys[0] && keys[1] ? bb_db_pipe_send(db, &st[ns++]) : BB_DB_ERR;
	}
	if (began)
		rc = bb_db_pipe_end(db, res, rc);
	for (int i = 0; rc == BB_DB_OK && i < n; i++)
		if (it[i].late)
			rc = store_failure(db, &recs[i], "rejected", now, out[i].error);
	/* read round 1 in the order it was sent */
	for (int s = 0; rc == BB_DB_OK && s < ns; s++) {
		if (of[s] < 0) {
			load(&al, res[s]);
			continue;
		}
		int i = of[s];
		const char *ins = bb_db_value(res[s], 0, 0), *ev = bb_db_value(res[s], 0, 1);
		if (!ins || strcmp(ins, "1") != 0) {
			it[i].ok = 0;
			out[i].status = "duplicate"; /* the unique keys are the final guard */
			out[i].notification_id[0] = '\0';
		} else if (ev) {
			out[i].event_id = atoll(ev);
		}
	}
	for (int i = 0; i < ns; i++)
		bb_db_rows_free(res[i]);
	/* round 2: alert decisions in batch order */
	ns = 0;
	int *owner = calloc((size_t)n + 1, sizeof *owner);
	for (int i = 0; rc == BB_DB_OK && owner && i < n; i++)
		if (it[i].ok) {
			owner[ns] = i;
			decide(&al, &it[i], &out[i], now, &st[ns], &q[12 * i]);
			ns++;
		}
	if (rc == BB_DB_OK)
		rc = bb_db_pipeline(db, ns, st, res);
	for (int s = 0; s < ns; s++) {
		const char *ev = bb_db_value(res[s], 0, 0);
		int i = owner[s];
		if (rc == BB_DB_OK && ev)
			out[i].event_id = atoll(ev);
		bb_db_rows_free(res[s]);
		/* the record's alert, its action corrected to what was written */
		out[i].alert = store_alert_member(&recs[i], out[i].alert, it[i].ev);
	}
	free(owner);
	free(of);
	free(al.r);
	items_free(it, n);
	free(keys[0]), free(keys[1]), free(asins), free(mkts);
	free(st), free(res), free(q);
	return rc;
}
