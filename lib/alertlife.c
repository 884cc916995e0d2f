/* alertlife.c: the statements on alert_queues that read alerts for people
 * (find, list, show) and that deliver them (claim, settle), for both
 * dialects. The alert module's other statements are in alertdb.c. */
#include "alert.h"
#include "alert-internal.h"
#include "ids.h"
#include "timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROW_COLS "SELECT a.id, a.fingerprint, a.asin, a.marketplace, a.severity, a.queue_type, a.status, " \
	"a.occurrences, a.first_seen, a.last_seen, a.scheduled_delivery, a.snooze_until, a.attempts, " \
	"a.delivery_id, a.delivered_at, a.acked_at, a.acked_by, a.escalation_level, a.last_error, a.updated_at, " \
	"s.currency, s.our_price, s.market_low, s.gap_pct, s.position, s.total_offers, " \
	"CASE WHEN s.buy_box_winner THEN 1 WHEN NOT s.buy_box_winner THEN 0 END, s.rule, "
#define ROW_FROM " FROM alert_queues a LEFT JOIN current_state s ON s.asin = a.asin AND s.marketplace = a.marketplace"
#define ROW_LITE ROW_COLS "json_extract(s.analysis, '$.reasons[0]'), " \
	"json_extract(s.analysis, '$.reasons'), s.analysis" ROW_FROM
#define ROW_PG ROW_COLS "s.analysis->'reasons'->>0, " \
	"(s.analysis->'reasons')::text, s.analysis::text" ROW_FROM
#define URGENT " ORDER BY CASE a.severity WHEN 'CRITICAL' THEN 0 WHEN 'HIGH' THEN 1 WHEN 'WARNING' THEN 2 " \
	"ELSE 3 END, CASE a.status WHEN 'failed' THEN 0 WHEN 'queued' THEN 1 WHEN 'delivered' THEN 2 " \
	"WHEN 'acknowledged' THEN 3 WHEN 'snoozed' THEN 4 ELSE 5 END, a.last_seen DESC, a.id"

#define FIND_ID "SELECT id FROM alert_queues WHERE id = $1"
#define FIND_PREFIX "SELECT id FROM alert_queues WHERE id LIKE $1 ORDER BY id LIMIT 2"
/* one row per fingerprint and queue, and a fingerprint names its queue */
#define FIND_FP "SELECT id FROM alert_queues WHERE fingerprint = $1 ORDER BY id LIMIT 2"

#define TIMELINE_LITE "SELECT created_at, payload FROM events WHERE kind = 'alert' " \
	"AND json_extract(payload, '$.fingerprint') = $1 ORDER BY id"
#define TIMELINE_PG "SELECT created_at, payload::text FROM events WHERE kind = 'alert' " \
	"AND payload->>'fingerprint' = $1 ORDER BY id"

/* a digest's alerts: open, or seen or changed in the window; by place, the
 * place with the most severe alert first, then most severe first */
#define RANK(a) "CASE " a "severity WHEN 'CRITICAL' THEN 0 WHEN 'HIGH' THEN 1 WHEN 'WARNING' THEN 2 ELSE 3 END"
#define DIGEST_WHERE " WHERE a.status <> 'resolved' OR a.last_seen >= $1 OR a.updated_at >= $1 " \
	"ORDER BY min(" RANK("a.") ") OVER (PARTITION BY a.asin, a.marketplace), a.asin, a.marketplace, " \
	RANK("a.") ", a.id"
#define DIGEST_LITE ROW_LITE DIGEST_WHERE
#define DIGEST_PG ROW_PG DIGEST_WHERE
/* the alert events of a window, oldest first */
#define WINDOW_LITE "SELECT created_at, payload FROM events WHERE kind = 'alert' AND created_at >= $1 " \
	"AND created_at <= $2 ORDER BY id"
#define WINDOW_PG "SELECT created_at, payload::text FROM events WHERE kind = 'alert' AND created_at >= $1 " \
	"AND created_at <= $2 ORDER BY id"

#define DUE "SELECT id, delivery_id, scheduled_delivery, attempts FROM alert_queues WHERE status = 'queued' " \
	"AND queue_type = $1 AND scheduled_delivery <= $2 AND (next_attempt_at IS NULL OR next_attempt_at <= $2) " \
	"AND (claim_until IS NULL OR claim_until <= $2) ORDER BY scheduled_delivery, id LIMIT $3"
/* when the first queued alert falls due: each is due at the latest of its
 * schedule (a standard one's is its 5-minute boundary), its backoff and a
 * claim's lease, so that DUE selects it from then on; -1 for none */
#define NEXT_DUE_WHERE " FROM alert_queues WHERE status = 'queued' " \
	"AND queue_type IN ('high_priority', 'standard') AND scheduled_delivery IS NOT NULL"
#define NEXT_DUE_LITE "SELECT min(max(scheduled_delivery, COALESCE(next_attempt_at, ''), " \
	"COALESCE(claim_until, '')))" NEXT_DUE_WHERE
#define NEXT_DUE_PG "SELECT min(GREATEST(scheduled_delivery, next_attempt_at, claim_until))" NEXT_DUE_WHERE
#define CLAIM "UPDATE alert_queues SET claimed_by = $2, claim_until = $3, attempts = attempts + 1, " \
	"delivery_id = $4, next_attempt_at = NULL WHERE id = $1"
#define ATTEMPT "INSERT INTO alert_deliveries (delivery_id, alert_id, kind, attempt, started_at) " \
	"VALUES ($1, $2, $3, $4, $5)"

/* escalations: one to decide (due since delivered_at or escalated_at, the
 * later), or one decided whose delivery waits for its next attempt */
#define ESC_DUE "SELECT id, escalation_delivery_id, escalation_attempts FROM alert_queues " \
	"WHERE severity = 'CRITICAL' AND status = 'delivered' AND (claim_until IS NULL OR claim_until <= $1) " \
	"AND ((escalation_delivery_id IS NOT NULL AND (next_attempt_at IS NULL OR next_attempt_at <= $1)) " \
	"OR (escalation_delivery_id IS NULL AND escalation_level < CAST($3 AS INTEGER) " \
	"AND CASE WHEN escalated_at > delivered_at THEN escalated_at ELSE delivered_at END <= $2)) " \
	"ORDER BY id LIMIT $4"
#define ESC_CLAIM "UPDATE alert_queues SET claimed_by = $2, claim_until = $3, " \
	"escalation_attempts = escalation_attempts + 1 WHERE id = $1"

#define OUTCOME "UPDATE alert_deliveries SET outcome = $4, detail = $5 WHERE alert_id = $1 " \
	"AND delivery_id = $2 AND attempt = $3"
#define HELD " WHERE id = $1 AND claimed_by = $2 AND status = 'queued' RETURNING fingerprint, asin, marketplace"
#define DELIVERED "UPDATE alert_queues SET status = 'delivered', delivered_at = $3, claimed_by = NULL, " \
	"claim_until = NULL, last_error = NULL, updated_at = $3" HELD
#define FAILED "UPDATE alert_queues SET status = 'failed', claimed_by = NULL, claim_until = NULL, " \
	"last_error = $4, updated_at = $3" HELD
#define WAIT "UPDATE alert_queues SET claimed_by = NULL, claim_until = NULL, next_attempt_at = $4, " \
	"last_error = $3" HELD
/* an escalation's delivery: the alert stays delivered */
#define ESC_HELD " WHERE id = $1 AND claimed_by = $2 AND status = 'delivered' " \
	"RETURNING fingerprint, asin, marketplace"
#define ESC_SENT "UPDATE alert_queues SET escalation_delivery_id = NULL, escalation_attempts = 0, " \
	"claimed_by = NULL, claim_until = NULL, updated_at = $3" ESC_HELD
#define ESC_FAILED "UPDATE alert_queues SET escalation_delivery_id = NULL, escalation_attempts = 0, " \
	"claimed_by = NULL, claim_until = NULL, last_error = $4, updated_at = $3" ESC_HELD
#define ESC_WAIT "UPDATE alert_queues SET claimed_by = NULL, claim_until = NULL, next_attempt_at = $4, " \
	"last_error = $3" ESC_HELD

static struct bb_str str(const char *z)
{
	return (struct bb_str){ z, z ? strlen(z) : 0 };
}

/* ---- finding an alert ---- */

static int is_id_prefix(struct bb_str s)
{
	for (size_t i = 0; i < s.n; i++)
		if (!strchr("0123456789abcdef-", s.p[i]) || s.p[i] == 0)
			return 0;
	return s.n >= 8 && s.n <= 36;
}

int bb_alert_find(struct bb_db *db, struct bb_str ref, char **id)
{
	struct bb_rows *rows = NULL;
	char *like = NULL;
	int rc;

	*id = NULL;
	if (memchr(ref.p, '|', ref.n)) {
		rc = bb_db_query(db, FIND_FP, 1, &ref, &rows);
	} else if (!is_id_prefix(ref)) {
		return BB_ALERT_NOT_FOUND;
	} else if (ref.n == 36) {
		rc = bb_db_query(db, FIND_ID, 1, &ref, &rows);
	} else {
		if (!(like = malloc(ref.n + 2)))
			return BB_DB_ERR;
		memcpy(like, ref.p, ref.n);
		memcpy(like + ref.n, "%", 2); /* no wildcard in the prefix: it is hex and dashes */
		rc = bb_db_query(db, FIND_PREFIX, 1, (struct bb_str[]){ { like, ref.n + 1 } }, &rows);
		free(like);
	}
	if (rc == BB_DB_OK)
		rc = bb_db_nrows(rows) == 0 ? BB_ALERT_NOT_FOUND : bb_db_nrows(rows) > 1 ? BB_ALERT_AMBIGUOUS : 0;
	if (rc == BB_DB_OK && !(*id = strdup(bb_db_value(rows, 0, 0))))
		rc = BB_DB_ERR;
	bb_db_rows_free(rows);
	return rc;
}

/* ---- listing ---- */

struct sqlbuf {
	char *s;
	size_t len, cap;
	struct bb_str p[2 * BB_ALERT_FILTER_MAX + 2];
	int n;
};

static void sql_add(struct sqlbuf *b, const char *s)
{
	size_t n = strlen(s);
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		char *t = realloc(b->s, cap);
		if (!t)
			return; /* b->s is checked before use: a short text is never run */
		b->s = t, b->cap = cap;
	}
	memcpy(b->s + b->len, s, n + 1);
	b->len += n;
}

/* " AND col IN ($k, …)" with the values bound. */
static void sql_in(struct sqlbuf *b, const char *col, const struct bb_str *v, int n)
{
	char ph[16];
	if (n == 0)
		return;
	sql_add(b, " AND "), sql_add(b, col), sql_add(b, " IN (");
	for (int i = 0; i < n; i++) {
		b->p[b->n] = v[i];
		snprintf(ph, sizeof ph, "%s$%d", i ? ", " : "", ++b->n);
		sql_add(b, ph);
	}
	sql_add(b, ")");
}

int bb_alert_list(struct bb_db *db, const struct bb_alert_filter *f, struct bb_rows **rows)
{
	struct sqlbuf b = { 0 };
	struct bb_str one[1];
	int rc;

	sql_add(&b, bb_db_is_pg(db) ? ROW_PG : ROW_LITE);
	sql_add(&b, " WHERE 1 = 1");
	if (f->nstatus == 0)
		sql_add(&b, " AND a.status IN ('queued', 'delivered', 'acknowledged', 'snoozed', 'failed')"); /* indexed */
	sql_in(&b, "a.status", f->status, f->nstatus);
	sql_in(&b, "a.severity", f->severity, f->nseverity);
	if (f->asin.p)
		one[0] = f->asin, sql_in(&b, "a.asin", one, 1);
	if (f->queue.p)
		one[0] = f->queue, sql_in(&b, "a.queue_type", one, 1);
	sql_add(&b, URGENT);
	rc = b.s && b.len > 0 ? bb_db_query(db, b.s, b.n, b.p, rows) : BB_DB_ERR;
	free(b.s);
	return rc;
}

int bb_alert_get(struct bb_db *db, struct bb_str id, struct bb_rows **rows)
{
	return bb_db_query(db, bb_db_is_pg(db) ? ROW_PG " WHERE a.id = $1" : ROW_LITE " WHERE a.id = $1", 1, &id,
			   rows);
}

int bb_alert_timeline(struct bb_db *db, struct bb_str fingerprint, struct bb_rows **rows)
{
	return bb_db_query(db, bb_db_is_pg(db) ? TIMELINE_PG : TIMELINE_LITE, 1, &fingerprint, rows);
}

int bb_alert_digest(struct bb_db *db, int64_t since, int64_t until, struct bb_rows **alerts,
		    struct bb_rows **events)
{
	char from[40], to[40];
	bb_time_format(since, from, sizeof from);
	bb_time_format(until, to, sizeof to);
	struct bb_str v[2] = { str(from), str(to) };
	int rc = bb_db_query(db, bb_db_is_pg(db) ? DIGEST_PG : DIGEST_LITE, 1, v, alerts);
	if (rc == BB_DB_OK)
		rc = bb_db_query(db, bb_db_is_pg(db) ? WINDOW_PG : WINDOW_LITE, 2, v, events);
	return rc;
}

/* ---- delivering ---- */

void bb_alert_claims_free(struct bb_alert_claim *c, size_t n)
{
	for (size_t i = 0; c && i < n; i++)
		free(c[i].id), free(c[i].delivery_id);
	free(c);
}

/* Row i's delivery id: its own, else its boundary's (a standard batch is
 * one delivery), else a new one. */
static char *delivery_id_for(const struct bb_rows *r, int i, struct bb_alert_claim *c, int batch)
{
	char id[37];
	const char *own = bb_db_value(r, i, 1);
	if (own)
		return strdup(own);
	for (int j = 0; batch && j < i; j++)
		if (c[j].boundary == c[i].boundary)
			return strdup(c[j].delivery_id);
	bb_uuid7(id);
	return strdup(id);
}

static int claim_row(struct bb_db *db, const struct bb_rows *r, int i, struct bb_alert_claim *c, const char *owner,
		     const char *until, const char *kind, const char *now)
{
	char attempt[24];
	struct bb_str t = bb_db_text(r, i, 2);

	c[i].id = strdup(bb_db_value(r, i, 0));
	c[i].attempt = atoi(bb_db_value(r, i, 3)) + 1;
	if (bb_time_parse_loose(t.p, t.n, &c[i].boundary) != 0)
		c[i].boundary = 0;
	c[i].delivery_id = delivery_id_for(r, i, c, strcmp(kind, "batch") == 0);
	if (!c[i].id || !c[i].delivery_id)
		return BB_DB_ERR;
	snprintf(attempt, sizeof attempt, "%d", c[i].attempt);
	struct bb_str v[5] = { str(c[i].id), str(owner), str(until), str(c[i].delivery_id) };
	int rc = bb_db_query(db, CLAIM, 4, v, NULL);
	struct bb_str a[5] = { str(c[i].delivery_id), str(c[i].id), str(kind), str(attempt), str(now) };
	return rc != BB_DB_OK ? rc : bb_db_query(db, ATTEMPT, 5, a, NULL);
}

static int claim_rows(struct bb_db *db, const struct bb_rows *r, const char *owner, const char *until,
		      const char *kind, const char *now, struct bb_alert_claim **out, size_t *n)
{
	int rows = bb_db_nrows(r), rc = BB_DB_OK;
	struct bb_alert_claim *c = calloc(rows ? (size_t)rows : 1, sizeof *c);

	if (!c)
		return BB_DB_ERR;
	for (int i = 0; rc == BB_DB_OK && i < rows; i++)
		rc = claim_row(db, r, i, c, owner, until, kind, now);
	*out = c, *n = (size_t)rows;
	return rc;
}

int bb_alert_claim(struct bb_db *db, const char *queue, int64_t now, int64_t lease_ms, const char *owner,
		   const char *kind, size_t limit, struct bb_alert_claim **out, size_t *n)
{
	char at[40], until[40], lim[24];
	struct bb_rows *rows = NULL;
	int rc = bb_db_begin(db);

	*out = NULL, *n = 0;
	bb_time_format(now, at, sizeof at);
	bb_time_format(now + lease_ms, until, sizeof until);
	snprintf(lim, sizeof lim, "%zu", limit);
	struct bb_str v[3] = { str(queue), str(at), str(lim) };
	if (rc == BB_DB_OK)
		rc = bb_db_query(db, bb_db_is_pg(db) ? DUE " FOR UPDATE SKIP LOCKED" : DUE, 3, v, &rows);
	if (rc == BB_DB_OK)
		rc = claim_rows(db, rows, owner, until, kind, at, out, n);
	rc = rc == BB_DB_OK ? bb_db_commit(db) : rc;
	if (rc != BB_DB_OK) {
		bb_db_rollback(db);
		bb_alert_claims_free(*out, *n);
		*out = NULL, *n = 0;
	}
	bb_db_rows_free(rows);
	return rc;
}

int bb_alert_next_due(struct bb_db *db, int64_t *due)
{
	struct bb_rows *rows = NULL;
	int rc = bb_db_query(db, bb_db_is_pg(db) ? NEXT_DUE_PG : NEXT_DUE_LITE, 0, NULL, &rows);
	struct bb_str t = bb_db_text(rows, 0, 0);

	*due = -1;
	if (rc == BB_DB_OK && t.p && bb_time_parse_loose(t.p, t.n, due) != 0)
		*due = -1;
	bb_db_rows_free(rows);
	return rc;
}

/* The event of a delivery's outcome, in the shape of an operator's change. */
static int settle_event(struct bb_db *db, const struct bb_rows *r, const struct bb_alert_claim *c, const char *owner,
			const char *to, struct bb_str detail, const char *at)
{
	struct bb_jw w;
	int64_t event_id;
	struct bb_str fp = bb_db_text(r, 0, 0);
	struct bb_alert_place p = { bb_db_text(r, 0, 1), bb_db_text(r, 0, 2) };

	bb_jw_init(&w);
	bb_jw_obj(&w);
	bb_jw_kstrz(&w, "id", c->id);
	bb_jw_kstr(&w, "fingerprint", fp.p, fp.n);
	bb_jw_kstrz(&w, "action", "deliver");
	bb_jw_kstrz(&w, "from", c->escalation ? "delivered" : "queued");
	bb_jw_kstrz(&w, "to", c->escalation ? "delivered" : to);
	bb_jw_kstrz(&w, "by", owner);
	bb_jw_key(&w, "note"), bb_jw_null(&w);
	bb_jw_key(&w, "reason");
	if (detail.p)
		bb_jw_str(&w, detail.p, detail.n);
	else
		bb_jw_null(&w);
	bb_jw_kstrz(&w, "at", at);
	bb_jw_kstrz(&w, "delivery_id", c->delivery_id);
	bb_jw_kint(&w, "attempt", c->attempt);
	if (c->escalation) {
		bb_jw_kstrz(&w, "kind", "escalation");
		bb_jw_kstrz(&w, "outcome", strcmp(to, "delivered") == 0 ? "ok" : "failed");
	}
	bb_jw_end(&w, '}');
	int rc = w.oom ? BB_DB_ERR : bb_alert_event(db, p, (struct bb_str){ w.buf, w.len }, at, &event_id);
	bb_jw_free(&w);
	return rc;
}

static int settle_alert(struct bb_db *db, const struct bb_alert_claim *c, const char *owner, const char *at,
			enum bb_alert_outcome out, const char *retry_at, struct bb_str detail)
{
	struct bb_rows *rows = NULL;
	struct bb_str v[4] = { str(c->id), str(owner), str(at), detail };
	int rc;

	if (out == BB_OUT_DELIVERED)
		rc = bb_db_query(db, c->escalation ? ESC_SENT : DELIVERED, 3, v, &rows);
	else if (out == BB_OUT_FAILED)
		rc = bb_db_query(db, c->escalation ? ESC_FAILED : FAILED, 4, v, &rows);
	else
		v[2] = detail, v[3] = str(retry_at), rc = bb_db_query(db, c->escalation ? ESC_WAIT : WAIT, 4, v, &rows);
	/* no row: the claim was lost (its lease ended) or an operator moved the alert */
	if (rc == BB_DB_OK && bb_db_nrows(rows) == 1 && out != BB_OUT_RETRY)
		rc = settle_event(db, rows, c, owner, out == BB_OUT_DELIVERED ? "delivered" : "failed", detail, at);
	bb_db_rows_free(rows);
	return rc;
}

int bb_alert_settle(struct bb_db *db, const struct bb_alert_claim *c, const char *owner, int64_t now,
		    enum bb_alert_outcome out, int64_t retry_at, struct bb_str detail)
{
	static const char *const names[] = { "ok", "failed", "retry" };
	char at[40], when[40], attempt[24];
	int rc = bb_db_begin(db);

	bb_time_format(now, at, sizeof at);
	bb_time_format(retry_at, when, sizeof when);
	snprintf(attempt, sizeof attempt, "%d", c->attempt);
	struct bb_str v[5] = { str(c->id), str(c->delivery_id), str(attempt), str(names[out]), detail };
	if (rc == BB_DB_OK)
		rc = bb_db_query(db, OUTCOME, 5, v, NULL);
	if (rc == BB_DB_OK)
		rc = settle_alert(db, c, owner, at, out, when, detail);
	rc = rc == BB_DB_OK ? bb_db_commit(db) : rc;
	if (rc != BB_DB_OK)
		bb_db_rollback(db);
	return rc;
}

/* ---- escalating ---- */

/* Claim row i of ESC_DUE as c: escalate it first when no escalation is
 * pending (*claimed 0 when it can no longer be). */
static int claim_escalation(struct bb_db *db, const struct bb_rows *r, int i, const struct bb_alert_clock *k,
			    const char *owner, const char *until, const char *now, struct bb_alert_claim *c,
			    int *claimed)
{
	char id[37], attempt[24];
	const char *pending = bb_db_value(r, i, 1);
	enum bb_alert_status from;
	int64_t event_id;
	int rc = BB_DB_OK;

	*claimed = 0;
	if (!pending) {
		struct bb_alert_change ch = { .op = BB_ALERT_ESCALATE, .id = bb_db_text(r, i, 0), .now = k->now,
					      .by = str(owner), .reason = str("unacknowledged") };
		bb_uuid7(id);
		ch.delivery_id = str(id);
		rc = bb_alert_apply(db, &ch, &from, &event_id);
		if (rc != BB_ALERT_DONE)
			return rc < 0 ? rc : BB_DB_OK;
	}
	c->id = strdup(bb_db_value(r, i, 0));
	c->delivery_id = strdup(pending ? pending : id);
	c->attempt = (pending ? atoi(bb_db_value(r, i, 2)) : 0) + 1;
	c->escalation = 1;
	if (!c->id || !c->delivery_id)
		return BB_DB_ERR;
	snprintf(attempt, sizeof attempt, "%d", c->attempt);
	rc = bb_db_query(db, ESC_CLAIM, 3, (struct bb_str[]){ str(c->id), str(owner), str(until) }, NULL);
	struct bb_str a[5] = { str(c->delivery_id), str(c->id), str("escalation"), str(attempt), str(now) };
	*claimed = 1;
	return rc != BB_DB_OK ? rc : bb_db_query(db, ATTEMPT, 5, a, NULL);
}

int bb_alert_claim_escalations(struct bb_db *db, const struct bb_alert_clock *k, int64_t lease_ms,
			       const char *owner, size_t limit, struct bb_alert_claim **out, size_t *n)
{
	char at[40], until[40], due[40], lim[24], max[24];
	struct bb_rows *rows = NULL;
	int rc = bb_db_begin(db), claimed;

	*out = NULL, *n = 0;
	bb_time_format(k->now, at, sizeof at);
	bb_time_format(k->now + lease_ms, until, sizeof until);
	bb_time_format(k->now - k->escalate_ms, due, sizeof due);
	snprintf(lim, sizeof lim, "%zu", limit);
	snprintf(max, sizeof max, "%d", k->max_escalations);
	struct bb_str v[4] = { str(at), str(due), str(max), str(lim) };
	if (rc == BB_DB_OK)
		rc = bb_db_query(db, bb_db_is_pg(db) ? ESC_DUE " FOR UPDATE SKIP LOCKED" : ESC_DUE, 4, v, &rows);
	if (rc == BB_DB_OK && !(*out = calloc((size_t)bb_db_nrows(rows) + 1, sizeof **out)))
		rc = BB_DB_ERR;
	for (int i = 0; rc == BB_DB_OK && i < bb_db_nrows(rows); i++) {
		rc = claim_escalation(db, rows, i, k, owner, until, at, &(*out)[*n], &claimed);
		*n += (size_t)claimed;
	}
	rc = rc == BB_DB_OK ? bb_db_commit(db) : rc;
	if (rc != BB_DB_OK) {
		bb_db_rollback(db);
		bb_alert_claims_free(*out, *n + 1);
		*out = NULL, *n = 0;
	}
	bb_db_rows_free(rows);
	return rc;
}
