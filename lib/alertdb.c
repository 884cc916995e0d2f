/* alertdb.c: every statement on alert_queues, for both dialects. The SQL
 * differs only where SQLite lacks what PostgreSQL does in one statement (a
 * data-modifying WITH, arrays, NOTIFY), so each decision costs PostgreSQL
 * one statement in a pipeline and SQLite a few local ones. Values always go
 * as bound parameters with their lengths. */
#include "alert.h"
#include "alert-internal.h"
#include "ids.h"
#include "timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COLS "asin, marketplace, fingerprint, queue_type, status, last_seen, snooze_until"
#define ASK_PG "SELECT " COLS " FROM alert_queues " \
	"WHERE (asin, marketplace) IN (SELECT * FROM unnest($1::text[], $2::text[]))"
#define ASK_LITE "SELECT " COLS " FROM alert_queues WHERE asin = $1 AND marketplace = $2"

#define NEW_COLS "INSERT INTO alert_queues (id, fingerprint, queue_type, asin, marketplace, severity, status, " \
	"occurrences, first_seen, last_seen, scheduled_delivery, snooze_until, last_notification_id, updated_at) "
/* a fingerprint raised again (resolved, snooze over, window passed) starts over in its row */
#define NEW_AGAIN "ON CONFLICT (fingerprint, queue_type) DO UPDATE SET status = 'queued', " \
	"severity = excluded.severity, occurrences = 1, first_seen = excluded.first_seen, " \
	"last_seen = excluded.last_seen, scheduled_delivery = excluded.scheduled_delivery, snooze_until = NULL, " \
	"last_notification_id = excluded.last_notification_id, updated_at = excluded.updated_at, " \
	"attempts = 0, next_attempt_at = NULL, delivery_id = NULL, last_error = NULL, claimed_by = NULL, " \
	"claim_until = NULL, delivered_at = NULL, acked_at = NULL, acked_by = NULL, escalation_level = 0, " \
	"escalated_at = NULL, escalation_delivery_id = NULL, escalation_attempts = 0"
#define NEW_LITE NEW_COLS "VALUES ($1, $2, $3, $4, $5, $6, 'queued', 1, $7, $7, $8, NULL, $9, $10) " NEW_AGAIN
#define NEW_PG "WITH a AS (" NEW_COLS "VALUES ($1, $2, $3, $4, $5, $6, 'queued', 1, $7::timestamptz, " \
	"$7::timestamptz, $8::timestamptz, NULL, $9, $10::timestamptz) " NEW_AGAIN " RETURNING 1), " \
	"e AS (INSERT INTO events (kind, asin, marketplace, payload, created_at) SELECT 'alert', $4, $5, " \
	"$11::jsonb, $10::timestamptz FROM a RETURNING id) SELECT id, pg_notify('bb_events', id::text) FROM e"

#define SEEN_LITE "UPDATE alert_queues SET occurrences = occurrences + 1, last_seen = CASE WHEN " \
	"last_seen < $1 THEN $1 ELSE last_seen END, last_notification_id = $2, updated_at = $3 " \
	"WHERE fingerprint = $4 AND queue_type = $5"
#define SEEN_PG "WITH a AS (UPDATE alert_queues SET occurrences = occurrences + 1, last_seen = GREATEST(last_seen, " \
	"$1::timestamptz), last_notification_id = $2, updated_at = $3::timestamptz WHERE fingerprint = $4 " \
	"AND queue_type = $5 RETURNING asin, marketplace), " \
	"e AS (INSERT INTO events (kind, asin, marketplace, payload, created_at) SELECT 'alert', asin, marketplace, " \
	"$6::jsonb, $3::timestamptz FROM a WHERE $7::text = 'update' RETURNING id) " \
	"SELECT id, pg_notify('bb_events', id::text) FROM e"

#define OPEN "status IN ('queued', 'delivered', 'acknowledged')"
#define RESOLVE_LITE "UPDATE alert_queues SET status = 'resolved', updated_at = $1 WHERE asin = $2 " \
	"AND marketplace = $3 AND " OPEN " AND last_seen <= $4 RETURNING fingerprint"
#define RESOLVE_PG "WITH r AS (UPDATE alert_queues SET status = 'resolved', updated_at = $1::timestamptz " \
	"WHERE asin = $2 AND marketplace = $3 AND " OPEN " AND last_seen <= $4::timestamptz RETURNING fingerprint), " \
	"e AS (INSERT INTO events (kind, asin, marketplace, payload, created_at) SELECT 'alert', $2, $3, " \
	"jsonb_build_object('fingerprint', fingerprint, 'action', 'resolved', 'notification_id', $5::text), " \
	"$1::timestamptz FROM r RETURNING id) " \
	"SELECT max(id), (SELECT count(pg_notify('bb_events', id::text)) FROM e) FROM e"

#define EVENT_LITE "INSERT INTO events (kind, asin, marketplace, payload, created_at) " \
	"VALUES ('alert', $1, $2, $3, $4) RETURNING id"
#define EVENT_PG "WITH e AS (INSERT INTO events (kind, asin, marketplace, payload, created_at) " \
	"VALUES ('alert', $1, $2, $3::jsonb, $4::timestamptz) RETURNING id) " \
	"SELECT id, pg_notify('bb_events', id::text) FROM e"

#define READ_SQL "SELECT status, fingerprint, asin, marketplace, escalation_level FROM alert_queues WHERE id = $1"
/* guarded by the status read: a concurrent change makes it change nothing */
#define MOVE_SQL "UPDATE alert_queues SET status = $2, snooze_until = $3, " \
	"scheduled_delivery = COALESCE($4, scheduled_delivery), updated_at = $5 WHERE id = $1 AND status = $6"
/* what an operator's change leaves behind it: who acknowledged, a retry's fresh start */
#define ACKED_SQL "UPDATE alert_queues SET acked_at = $2, acked_by = $3 WHERE id = $1"
#define AFRESH_SQL "UPDATE alert_queues SET attempts = 0, next_attempt_at = NULL, last_error = NULL, " \
	"claimed_by = NULL, claim_until = NULL, escalation_delivery_id = NULL, escalation_attempts = 0, " \
	"delivery_id = CASE WHEN EXISTS (SELECT 1 FROM alert_deliveries d WHERE d.alert_id = alert_queues.id " \
	"AND d.delivery_id = alert_queues.delivery_id AND d.outcome = 'ok') THEN NULL ELSE delivery_id END " \
	"WHERE id = $1"
/* an escalation decided: counted now, its delivery pending until sent */
#define ESCALATED_SQL "UPDATE alert_queues SET escalation_level = escalation_level + 1, escalated_at = $2, " \
	"escalation_delivery_id = $3, escalation_attempts = 0, next_attempt_at = NULL WHERE id = $1"

static struct bb_str str(const char *z)
{
	return (struct bb_str){ z, z ? strlen(z) : 0 };
}

static int same(struct bb_str a, struct bb_str b)
{
	return a.p && b.p && a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

/* ---- reading a batch's alerts ---- */

/* One array, not a literal at each use: lib/db.c knows a statement by the
 * address of its text. */
static const char ask_pg[] = ASK_PG;

struct bb_stmt bb_alert_ask_stmt(void)
{
	return (struct bb_stmt){ ask_pg, 2, NULL };
}

static int listed(const struct bb_alert_ask *a, struct bb_alert_place p)
{
	for (size_t i = 0; i < a->nplaces; i++)
		if (same(a->places[i].asin, p.asin) && same(a->places[i].marketplace, p.marketplace))
			return 1;
	return 0;
}

/* One element of an array literal: quoted, with " and \ escaped. */
static char *array_elem(char *o, struct bb_str s)
{
	*o++ = '"';
	for (size_t i = 0; i < s.n; i++) {
		if (s.p[i] == '"' || s.p[i] == '\\')
			*o++ = '\\';
		*o++ = s.p[i];
	}
	*o++ = '"';
	return o;
}

/* PostgreSQL: the places as two arrays, {"asin",…} and {"marketplace",…}.
 * A place PostgreSQL cannot hold (a NUL byte) can have no stored alert. */
static int ask_arrays(const struct bb_db *db, struct bb_alert_ask *a)
{
	size_t size = 8, k = 0;
	for (size_t i = 0; i < a->nplaces; i++)
		size += 2 * (a->places[i].asin.n + a->places[i].marketplace.n) + 6;
	char *o = a->arrays = malloc(size);
	a->params = malloc(2 * sizeof *a->params);
	a->q = malloc(sizeof *a->q);
	if (!o || !a->params || !a->q)
		return BB_DB_ERR;
	for (int col = 0; col < 2; col++) {
		char *start = o;
		*o++ = '{';
		for (size_t i = 0; i < a->nplaces; i++) {
			struct bb_alert_place p = a->places[i];
			if (!bb_db_can_hold(db, p.asin.p, p.asin.n) || !bb_db_can_hold(db, p.marketplace.p, p.marketplace.n))
				continue;
			if (o > start + 1)
				*o++ = ',';
			o = array_elem(o, col == 0 ? p.asin : p.marketplace);
			k += col == 0;
		}
		*o++ = '}';
		a->params[col] = (struct bb_str){ start, (size_t)(o - start) };
	}
	a->q[0] = (struct bb_query){ ask_pg, 2, a->params };
	a->n = k > 0;
	return BB_DB_OK;
}

/* SQLite: a question per place, answered locally. */
static int ask_lite(struct bb_alert_ask *a)
{
	a->params = malloc(2 * a->nplaces * sizeof *a->params + 1);
	a->q = malloc(a->nplaces * sizeof *a->q + 1);
	if (!a->params || !a->q)
		return BB_DB_ERR;
	for (size_t i = 0; i < a->nplaces; i++) {
		a->params[2 * i] = a->places[i].asin;
		a->params[2 * i + 1] = a->places[i].marketplace;
		a->q[i] = (struct bb_query){ ASK_LITE, 2, &a->params[2 * i] };
	}
	a->n = (int)a->nplaces;
	return BB_DB_OK;
}

int bb_alert_ask(struct bb_alert_view *v, const struct bb_db *db, const struct bb_alert_place *p, size_t n,
		 struct bb_alert_ask *a)
{
	memset(a, 0, sizeof *a);
	if (!(a->places = malloc(n * sizeof *a->places + 1)))
		return BB_DB_ERR;
	bb_alert_view_make_room(v, n); /* so the places found now are still there to decide on */
	for (size_t i = 0; i < n; i++)
		if (!bb_alert_view_has(v, p[i]) && !listed(a, p[i]))
			a->places[a->nplaces++] = p[i];
	if (a->nplaces == 0)
		return BB_DB_OK;
	return bb_db_is_pg(db) ? ask_arrays(db, a) : ask_lite(a);
}

static int64_t time_or(struct bb_str s, int64_t none)
{
	int64_t ms;
	return s.p && bb_time_parse_loose(s.p, s.n, &ms) == 0 ? ms : none;
}

/* The severity a stored fingerprint names, when it is the place's
 * ASIN|MARKETPLACE|severity and its queue that severity's; else -1. */
static int severity_of_row(struct bb_alert_place p, struct bb_str fp, struct bb_str queue)
{
	size_t at = p.asin.n + p.marketplace.n + 2;
	if (!fp.p || fp.n <= at || memcmp(fp.p, p.asin.p, p.asin.n) != 0 || fp.p[p.asin.n] != '|' ||
	    memcmp(fp.p + p.asin.n + 1, p.marketplace.p, p.marketplace.n) != 0 || fp.p[at - 1] != '|')
		return -1;
	for (int sev = 0; sev < BB_SEVERITIES; sev++) {
		const char *name = bb_severity_name((enum bb_severity)sev);
		if (strlen(name) == fp.n - at && strncasecmp(name, fp.p + at, fp.n - at) == 0 &&
		    same(queue, str(bb_alert_queue_type((enum bb_severity)sev))))
			return sev;
	}
	return -1;
}

static void fold(struct bb_alert_view *v, const struct bb_rows *rows)
{
	for (int r = 0; r < bb_db_nrows(rows); r++) {
		struct bb_alert_place p = { bb_db_text(rows, r, 0), bb_db_text(rows, r, 1) };
		struct bb_place_alerts *pa = bb_alert_view_place(v, p, 0);
		int sev = pa ? severity_of_row(p, bb_db_text(rows, r, 2), bb_db_text(rows, r, 3)) : -1;
		struct bb_str st = bb_db_text(rows, r, 4);
		if (sev < 0) { /* not a row the rules can name: never decided on, but a recovery resolves it */
			if (pa && bb_alert_open(bb_alert_status_of(st.p, st.n)))
				pa->unnamed_open = 1;
			continue;
		}
		pa->s[sev] = (struct bb_alert_state){ bb_alert_status_of(st.p, st.n), time_or(bb_db_text(rows, r, 5), 0),
						      time_or(bb_db_text(rows, r, 6), -1) };
	}
}

int bb_alert_answer(struct bb_alert_view *v, const struct bb_alert_ask *a, struct bb_rows *const *rows)
{
	for (size_t i = 0; i < a->nplaces; i++) {
		struct bb_place_alerts *pa = bb_alert_view_place(v, a->places[i], 1);
		if (!pa)
			return BB_DB_ERR;
		for (int s = 0; s < BB_SEVERITIES; s++) /* none stored unless a row says so */
			pa->s[s] = (struct bb_alert_state){ BB_ALERT_ABSENT, 0, -1 };
	}
	for (int i = 0; i < a->n; i++)
		fold(v, rows[i]);
	return BB_DB_OK;
}

void bb_alert_ask_free(struct bb_alert_ask *a)
{
	free(a->q);
	free(a->places);
	free(a->params);
	free(a->arrays);
	memset(a, 0, sizeof *a);
}

int bb_alert_load(struct bb_db *db, struct bb_alert_view *v, const struct bb_alert_place *p, size_t n)
{
	struct bb_alert_ask a;
	int rc = bb_alert_ask(v, db, p, n, &a);
	struct bb_rows **rows = rc == BB_DB_OK ? calloc((size_t)a.n + 1, sizeof *rows) : NULL;

	if (rc == BB_DB_OK && !rows)
		rc = BB_DB_ERR;
	if (rc == BB_DB_OK)
		rc = bb_db_pipeline_q(db, a.n, a.q, rows);
	if (rc == BB_DB_OK)
		rc = bb_alert_answer(v, &a, rows);
	for (int i = 0; rows && i < a.n; i++)
		bb_db_rows_free(rows[i]);
	free(rows);
	bb_alert_ask_free(&a);
	return rc;
}

/* ---- writing decisions ---- */

/* What one decision's statement holds until the batch is written. */
struct wbuf {
	char id[37], ev[40], when[40], now[40];
	struct bb_str nid;
	struct bb_jw payload;
	struct bb_str p[11];
};

/* The event of a new or updated alert: who, what, which notification. */
static struct bb_str alert_payload(struct wbuf *w, const struct bb_alert_decision *d)
{
	bb_jw_reset(&w->payload);
	bb_jw_obj(&w->payload);
	bb_jw_kstr(&w->payload, "fingerprint", d->fingerprint.p, d->fingerprint.n);
	bb_jw_kstrz(&w->payload, "action", bb_alert_act_name(d->action));
	bb_jw_kstrz(&w->payload, "queue_type", d->queue);
	bb_jw_kstrz(&w->payload, "severity", bb_severity_name(d->severity));
	bb_jw_kstr(&w->payload, "notification_id", w->nid.p, w->nid.n);
	bb_jw_end(&w->payload, '}');
	return (struct bb_str){ w->payload.buf, w->payload.len };
}

/* The statement for decision d, its parameters in w. */
static struct bb_query write_query(int pg, struct wbuf *w, const struct bb_alert_decision *d)
{
	struct bb_str *p = w->p, fp = d->fingerprint, q = str(d->queue);
	struct bb_alert_place pl = d->place;

	bb_time_format(d->event_ms, w->ev, sizeof w->ev);
	if (d->action == BB_ACT_NONE) {
		p[0] = str(w->now), p[1] = pl.asin, p[2] = pl.marketplace, p[3] = str(w->ev), p[4] = w->nid;
		return pg ? (struct bb_query){ RESOLVE_PG, 5, p } : (struct bb_query){ RESOLVE_LITE, 4, p };
	}
	if (d->action == BB_ACT_NEW) {
		bb_uuid7(w->id);
		bb_time_format(d->scheduled_delivery, w->when, sizeof w->when);
		p[0] = str(w->id), p[1] = fp, p[2] = q, p[3] = pl.asin, p[4] = pl.marketplace;
		p[5] = str(bb_severity_name(d->severity)), p[6] = str(w->ev), p[8] = w->nid;
		p[7] = d->scheduled_delivery >= 0 ? str(w->when) : str(NULL); /* background: never delivered */
		p[9] = str(w->now), p[10] = alert_payload(w, d);
		return pg ? (struct bb_query){ NEW_PG, 11, p } : (struct bb_query){ NEW_LITE, 10, p };
	}
	/* update and suppressed both count the occurrence; only update is announced */
	p[0] = str(w->ev), p[1] = w->nid, p[2] = str(w->now), p[3] = fp, p[4] = q;
	p[5] = alert_payload(w, d), p[6] = str(bb_alert_act_name(d->action));
	return pg ? (struct bb_query){ SEEN_PG, 7, p } : (struct bb_query){ SEEN_LITE, 5, p };
}

int bb_alert_event(struct bb_db *db, struct bb_alert_place p, struct bb_str payload, const char *now,
			int64_t *event_id)
{
	struct bb_str v[4] = { p.asin, p.marketplace, payload, str(now) };
	struct bb_rows *rows;
	int rc = bb_db_query(db, bb_db_is_pg(db) ? EVENT_PG : EVENT_LITE, 4, v, &rows);
	const char *id = bb_db_value(rows, 0, 0);

	if (rc == BB_DB_OK && id)
		*event_id = strtoll(id, NULL, 10);
	bb_db_rows_free(rows);
	return rc;
}

/* Whether decision d changes anything: a recovery of a place with no open
 * alert, as the view it was decided against knows it, does not. */
static int writes(const struct bb_alert_decision *d)
{
	return d->action != BB_ACT_NONE || d->resolves > 0;
}

/* SQLite: the events follow the statement, one per resolved alert. */
static int write_lite(struct bb_db *db, struct wbuf *w, const struct bb_alert_decision *d, int64_t *event_id)
{
	if (!writes(d))
		return BB_DB_OK;
	struct bb_query q = write_query(0, w, d);
	struct bb_rows *rows = NULL;
	int rc = bb_db_query(db, q.sql, q.n, q.params, &rows);

	if (rc == BB_DB_OK && (d->action == BB_ACT_NEW || (d->action == BB_ACT_UPDATE && bb_db_changes(db) > 0)))
		rc = bb_alert_event(db, d->place, alert_payload(w, d), w->now, event_id);
	for (int i = 0; rc == BB_DB_OK && d->action == BB_ACT_NONE && i < bb_db_nrows(rows); i++) {
		struct bb_str fp = bb_db_text(rows, i, 0);
		bb_jw_reset(&w->payload);
		bb_jw_obj(&w->payload);
		bb_jw_kstr(&w->payload, "fingerprint", fp.p, fp.n);
		bb_jw_kstrz(&w->payload, "action", "resolved");
		bb_jw_kstr(&w->payload, "notification_id", w->nid.p, w->nid.n);
		bb_jw_end(&w->payload, '}');
		rc = bb_alert_event(db, d->place, (struct bb_str){ w->payload.buf, w->payload.len }, w->now, event_id);
	}
	bb_db_rows_free(rows);
	return rc;
}

/* PostgreSQL: a statement per decision, events included, in one round trip. */
static int write_pg(struct bb_db *db, size_t n, struct wbuf *w, const struct bb_alert_decision *d,
		    int64_t *event_ids)
{
	struct bb_query *q = malloc(n * sizeof *q + 1);
	struct bb_rows **rows = calloc(n + 1, sizeof *rows);
	size_t *of = malloc(n * sizeof *of + 1), nq = 0; /* the decision of each statement */
	int rc = q && rows && of ? BB_DB_OK : BB_DB_ERR;

	for (size_t i = 0; rc == BB_DB_OK && i < n; i++)
		if (writes(&d[i])) {
			of[nq] = i;
			q[nq++] = write_query(1, &w[i], &d[i]);
		}
	if (rc == BB_DB_OK && nq > 0)
		rc = bb_db_pipeline_q(db, (int)nq, q, rows);
	for (size_t k = 0; rows && k < nq; k++) {
		const char *id = bb_db_value(rows[k], 0, 0);
		if (rc == BB_DB_OK && id)
			event_ids[of[k]] = strtoll(id, NULL, 10);
		bb_db_rows_free(rows[k]);
	}
	free(rows);
	free(q);
	free(of);
	return rc;
}

int bb_alert_write(struct bb_db *db, size_t n, const struct bb_alert_decision *d, const struct bb_str *nids,
		   int64_t now, int64_t *event_ids)
{
	struct wbuf *w = calloc(n + 1, sizeof *w);
	int rc = w ? BB_DB_OK : BB_DB_ERR;

	for (size_t i = 0; w && i < n; i++) {
		bb_jw_init(&w[i].payload);
		bb_time_format(now, w[i].now, sizeof w[i].now);
		w[i].nid = nids[i];
	}
	if (rc == BB_DB_OK && bb_db_is_pg(db))
		rc = write_pg(db, n, w, d, event_ids);
	for (size_t i = 0; rc == BB_DB_OK && !bb_db_is_pg(db) && i < n; i++)
		rc = write_lite(db, &w[i], &d[i], &event_ids[i]);
	for (size_t i = 0; w && i < n; i++)
		bb_jw_free(&w[i].payload);
	free(w);
	return rc;
}

/* ---- the alerts of bb-trend's findings ---- */

#define FINDING_READ "SELECT status, last_seen, snooze_until FROM alert_queues " \
	"WHERE fingerprint = $1 AND queue_type = $2"

int bb_alert_raise_finding(struct bb_db *db, struct bb_alert_place p, const char *kind, int background,
			   int64_t event_ms, struct bb_str nid, int64_t now, enum bb_alert_act *act,
			   int64_t *event_id)
{
	struct bb_alert_decision d = { .severity = background ? BB_SEV_SUCCESS : BB_SEV_WARNING, .place = p,
				       .event_ms = event_ms, .scheduled_delivery = -1, .snooze_until = -1 };
	struct bb_alert_state st = { BB_ALERT_ABSENT, 0, -1 };
	struct bb_rows *rows = NULL;
	size_t kn = strlen(kind), n = p.asin.n + p.marketplace.n + kn + 2;
	char *fp = malloc(n + 1);
	int rc = fp ? BB_DB_OK : BB_DB_ERR;

	d.queue = bb_alert_queue_type(d.severity);
	if (fp) { /* ASIN|MARKETPLACE|kind */
		memcpy(fp, p.asin.p, p.asin.n);
		fp[p.asin.n] = '|';
		memcpy(fp + p.asin.n + 1, p.marketplace.p, p.marketplace.n);
		fp[n - kn - 1] = '|';
		memcpy(fp + n - kn, kind, kn);
	}
	d.fingerprint = (struct bb_str){ fp, n };
	if (rc == BB_DB_OK)
		rc = bb_db_query(db, FINDING_READ, 2, (struct bb_str[]){ d.fingerprint, str(d.queue) }, &rows);
	if (rc == BB_DB_OK && bb_db_nrows(rows) > 0) {
		struct bb_str s = bb_db_text(rows, 0, 0);
		st = (struct bb_alert_state){ bb_alert_status_of(s.p, s.n), time_or(bb_db_text(rows, 0, 1), 0),
					      time_or(bb_db_text(rows, 0, 2), -1) };
	}
	bb_db_rows_free(rows);
	/* a background finding still keeps its row: decided as a delivered severity */
	d.action = bb_alert_rule(BB_SEV_WARNING, &st, event_ms);
	if (d.action == BB_ACT_NEW && !background)
		d.scheduled_delivery = bb_alert_deliver_at(BB_SEV_WARNING, event_ms);
	if (d.action == BB_ACT_SUPPRESSED)
		d.snooze_until = st.snooze_until;
	*act = d.action;
	if (rc == BB_DB_OK)
		rc = bb_alert_write(db, 1, &d, &nid, now, event_id);
	free(fp);
	return rc;
}

/* ---- the lifecycle ---- */

/* A member whose value may be null. */
static void kstr_or_null(struct bb_jw *w, const char *key, struct bb_str s)
{
	bb_jw_key(w, key);
	if (s.p)
		bb_jw_str(w, s.p, s.n);
	else
		bb_jw_null(w);
}

/* The transition's event: {id, fingerprint, action, from, to, by, note,
 * reason, at}, and what a snooze or an escalation adds. level: the
 * alert's escalation level before the change. */
static void change_payload(struct bb_jw *w, const struct bb_alert_change *c, struct bb_str fp,
			   enum bb_alert_status from, enum bb_alert_status to, const char *at, int64_t level)
{
	bb_jw_obj(w);
	bb_jw_kstr(w, "id", c->id.p, c->id.n);
	bb_jw_kstr(w, "fingerprint", fp.p, fp.n);
	bb_jw_kstrz(w, "action", bb_alert_op_name(c->op));
	bb_jw_kstrz(w, "from", bb_alert_status_name(from));
	bb_jw_kstrz(w, "to", bb_alert_status_name(to));
	kstr_or_null(w, "by", c->by);
	kstr_or_null(w, "note", c->note);
	kstr_or_null(w, "reason", c->reason);
	bb_jw_kstrz(w, "at", at);
	if (c->op == BB_ALERT_SNOOZE)
		bb_jw_ktime(w, "until", c->snooze_until);
	if (c->op == BB_ALERT_ESCALATE) {
		bb_jw_kint(w, "escalation_level", level + 1);
		kstr_or_null(w, "delivery_id", c->delivery_id);
	}
	bb_jw_end(w, '}');
}

/* The guarded UPDATE: 0 done, BB_ALERT_RACED, or an error. */
static int move(struct bb_db *db, const struct bb_alert_change *c, enum bb_alert_status from,
		enum bb_alert_status to, const char *now)
{
	char until[40];
	int requeue = to == BB_ALERT_QUEUED; /* unsnooze, retry, expire */
	struct bb_str v[6] = { c->id, str(bb_alert_status_name(to)), { NULL, 0 }, requeue ? str(now) : str(NULL),
			       str(now), str(bb_alert_status_name(from)) };

	if (c->op == BB_ALERT_SNOOZE) {
		bb_time_format(c->snooze_until, until, sizeof until);
		v[2] = str(until);
	}
	int rc = bb_db_query(db, MOVE_SQL, 6, v, NULL);
	if (rc == BB_DB_OK && bb_db_changes(db) == 0)
		return BB_ALERT_RACED;
	if (rc == BB_DB_OK && c->op == BB_ALERT_ACK)
		rc = bb_db_query(db, ACKED_SQL, 3, (struct bb_str[]){ c->id, str(now), c->by }, NULL);
	if (rc == BB_DB_OK && requeue)
		rc = bb_db_query(db, AFRESH_SQL, 1, &c->id, NULL);
	if (rc == BB_DB_OK && c->op == BB_ALERT_ESCALATE)
		rc = bb_db_query(db, ESCALATED_SQL, 3, (struct bb_str[]){ c->id, str(now), c->delivery_id }, NULL);
	return rc;
}

int bb_alert_apply(struct bb_db *db, const struct bb_alert_change *c, enum bb_alert_status *from, int64_t *event_id)
{
	char now[40];
	struct bb_rows *rows;
	struct bb_jw w;
	int rc = bb_db_query(db, READ_SQL, 1, &c->id, &rows);

	*from = BB_ALERT_ABSENT;
	if (rc == BB_DB_OK && bb_db_nrows(rows) == 0)
		rc = BB_ALERT_NOT_FOUND;
	if (rc == BB_DB_OK) {
		struct bb_str st = bb_db_text(rows, 0, 0);
		*from = bb_alert_status_of(st.p, st.n);
	}
	enum bb_alert_status to = bb_alert_transition(c->op, *from);
	if (rc == BB_DB_OK && (to == BB_ALERT_ABSENT || (c->op == BB_ALERT_SNOOZE && c->snooze_until <= c->now)))
		rc = BB_ALERT_INVALID;
	bb_time_format(c->now, now, sizeof now);
	if (rc == BB_DB_OK)
		rc = move(db, c, *from, to, now);
	if (rc == BB_DB_OK) {
		struct bb_alert_place p = { bb_db_text(rows, 0, 2), bb_db_text(rows, 0, 3) };
		bb_jw_init(&w);
		const char *level = bb_db_value(rows, 0, 4);
		change_payload(&w, c, bb_db_text(rows, 0, 1), *from, to, now, level ? strtoll(level, NULL, 10) : 0);
		rc = w.oom ? BB_DB_ERR : bb_alert_event(db, p, (struct bb_str){ w.buf, w.len }, now, event_id);
		bb_jw_free(&w);
	}
	bb_db_rows_free(rows);
	return rc;
}
