/* status.c: the worker-status document (status.h) — what SQS and the
 * database say, the checks that decide overall_health, and the document
 * as JSON and as Prometheus text. Reading never stops at a failure: a
 * service that cannot be read is a critical check, and the rest is still
 * reported. */
#include "status.h"

#include "metrics.h"
#include "parse.h"
#include "timeutil.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Stages whose heartbeat says messages are being taken in, and analysed:
 * in a pipeline the analysis is committed by bb-store. */
static const char *const ingest_stages[] = { "recv", "store", "ack", NULL };
static const char *const analysis_stages[] = { "severity", "store", NULL };

void bb_status_defaults(struct bb_status_conf *c)
{
	*c = (struct bb_status_conf){
		.age_degraded_ms = 120000,
		.age_critical_ms = 300000,
		.heartbeat_critical_ms = 300000,
		.dlq_growth_ppm = 500, /* 0.05% */
		.window_ms = 86400000,
		.rate_window_ms = 300000,
		.max_receive_count = 3,
	};
}

static int conf_duration(const struct bb_conf *conf, const char *name, int64_t *ms, char *err, size_t errlen)
{
	const char *v = bb_conf_get(conf, "status", name);
	if (!v || (bb_duration_parse(v, ms) == 0 && *ms > 0))
		return 0;
	snprintf(err, errlen, "unable to use [status] %s '%s': expected a duration such as 120s or 5m", name, v);
	return -1;
}

int bb_status_configure(struct bb_status_conf *c, const struct bb_conf *conf, char *err, size_t errlen)
{
	const char *v;

	bb_status_defaults(c);
	c->queue_url = bb_conf_get(conf, "sqs", "queue_url");
	c->dlq_url = bb_conf_get(conf, "sqs", "dlq_url");
	c->queue_url = c->queue_url && *c->queue_url ? c->queue_url : NULL;
	c->dlq_url = c->dlq_url && *c->dlq_url ? c->dlq_url : NULL;
	if (conf_duration(conf, "oldest_age_degraded", &c->age_degraded_ms, err, errlen) != 0 ||
	    conf_duration(conf, "oldest_age_critical", &c->age_critical_ms, err, errlen) != 0 ||
	    conf_duration(conf, "heartbeat_critical", &c->heartbeat_critical_ms, err, errlen) != 0)
		return -1;
	if ((v = bb_conf_get(conf, "status", "dlq_growth_pct")) && bb_parse_fixed(v, strlen(v), 4, &c->dlq_growth_ppm) != 0) {
		snprintf(err, errlen, "unable to use [status] dlq_growth_pct '%s': expected a percentage such as 0.05", v);
		return -1;
	}
	if ((v = bb_conf_get(conf, "validate", "max_receive_count")) &&
	    bb_parse_i64(v, 1, 1000000, &c->max_receive_count) != 0) {
		snprintf(err, errlen, "unable to use [validate] max_receive_count '%s': expected a whole number from 1", v);
		return -1;
	}
	return 0;
}

struct bb_sqs *bb_status_sqs(const struct bb_status_conf *c, char *err, size_t errlen)
{
	struct bb_sqs *sqs = NULL;

	if (errlen)
		*err = '\0';
	if ((c->queue_url || c->dlq_url) && (sqs = bb_sqs_new(err, errlen)))
		bb_sqs_set_patience(sqs, BB_STATUS_SQS_PATIENCE_MS);
	return sqs;
}

const char *bb_health_name(enum bb_health h)
{
	return h == BB_CRITICAL ? "critical" : h == BB_DEGRADED ? "degraded" : "healthy";
}

static void check(struct bb_status *s, enum bb_health level, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void check(struct bb_status *s, enum bb_health level, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (level > s->health)
		s->health = level;
	if (s->nchecks == BB_STATUS_CHECKS)
		return;
	struct bb_status_check *c = &s->checks[s->nchecks++];
	c->level = level;
	snprintf(c->name, sizeof c->name, "%s", name);
	va_start(ap, fmt);
	vsnprintf(c->message, sizeof c->message, fmt, ap);
	va_end(ap);
}

/* "7m12s", "3h05m", "45s" */
static void span(int64_t ms, char *buf, size_t size)
{
	int64_t s = ms / 1000;
	if (s >= 3600)
		snprintf(buf, size, "%lldh%02lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
	else if (s >= 60)
		snprintf(buf, size, "%lldm%02llds", (long long)(s / 60), (long long)(s % 60));
	else
		snprintf(buf, size, "%.3fs", (double)ms / 1000);
}

/* ---- SQS ---- */

/* 0, or -1 when the endpoint did not answer at all. */
static int read_queue(struct bb_sqs *sqs, const char *name, const char *url, int64_t counts[3], struct bb_status *s)
{
	struct bb_sqs_error e;

	counts[0] = counts[1] = counts[2] = -1;
	if (bb_sqs_queue_counts(sqs, url, counts, &e) == 0)
		return 0;
	check(s, BB_CRITICAL, name, "unable to get attributes of queue '%s': %s: %s", url, e.type, e.message);
	return e.http ? 0 : -1;
}

static void read_sqs(struct bb_sqs *sqs, const char *sqs_error, const struct bb_status_conf *c, struct bb_status *s)
{
	int64_t q[3], d[3];

	if (!c->queue_url && !c->dlq_url)
		return;
	if (!sqs) {
		check(s, BB_CRITICAL, "sqs", "unable to use AWS credentials: %s", sqs_error ? sqs_error : "unknown");
		return;
	}
	if (c->queue_url) {
		int unanswered = read_queue(sqs, "sqs", c->queue_url, q, s);
		s->queue_depth = q[0], s->in_flight = q[1], s->delayed = q[2];
		if (unanswered)
			return; /* the DLQ is on the same endpoint: not waited for twice */
	}
	if (c->dlq_url) {
		read_queue(sqs, "dlq", c->dlq_url, d, s);
		s->dlq_count = d[0];
	}
}

/* ---- the database ---- */

struct reader {
	struct bb_db *db;
	struct bb_status *s;
	int failed;
	char error[400];
};

static int query(struct reader *r, const char *sql, int n, const char *const *p, struct bb_rows **rows)
{
	*rows = NULL;
	if (r->failed)
		return -1;
	if (bb_db_exec(r->db, sql, n, p, rows) == BB_DB_OK)
		return 0;
	r->failed = 1;
	snprintf(r->error, sizeof r->error, "%s", bb_db_errmsg(r->db));
	return -1;
}

static int64_t num(const struct bb_rows *rows, int row, int col)
{
	const char *v = rows && row < bb_db_nrows(rows) ? bb_db_value(rows, row, col) : NULL;
	return v ? (int64_t)strtoll(v, NULL, 10) : -1;
}

static int64_t when(const struct bb_rows *rows, int row, int col)
{
	const char *v = bb_db_value(rows, row, col);
	int64_t ms;
	return v && bb_time_parse_loose(v, strlen(v), &ms) == 0 ? ms : -1;
}

/* One number from a one-row query; -1 when it failed or is NULL. */
static int64_t scalar(struct reader *r, const char *sql, int n, const char *const *p)
{
	struct bb_rows *rows;
	int64_t v = query(r, sql, n, p, &rows) == 0 ? num(rows, 0, 0) : -1;
	bb_db_rows_free(rows);
	return v;
}

static int in(const char *stage, const char *const *set)
{
	for (; *set; set++)
		if (strcmp(stage, *set) == 0)
			return 1;
	return 0;
}

static int copy_worker(struct bb_status_worker *w, const struct bb_rows *rows, int i)
{
	const char *id = bb_db_value(rows, i, 0), *stage = bb_db_value(rows, i, 1), *host = bb_db_value(rows, i, 2);
	w->worker_id = strdup(id ? id : "");
	w->stage = strdup(stage ? stage : "");
	w->host = strdup(host ? host : "");
	w->pid = num(rows, i, 3);
	w->started_at = when(rows, i, 4);
	w->last_heartbeat = when(rows, i, 5);
	w->processed = num(rows, i, 6);
	w->failed = num(rows, i, 7);
	w->lag_max_ms = num(rows, i, 8);
	w->lag_p99_ms = num(rows, i, 9);
	return w->worker_id && w->stage && w->host ? 0 : -1;
}

/* Heartbeats, with the ingest → commit lag where bb-store records it (the
 * columns of a later schema: without them, the rows without it). */
static int read_workers(struct reader *r)
{
	struct bb_status *s = r->s;
	struct bb_rows *rows = NULL;

	if (bb_db_exec(r->db, "SELECT worker_id, stage, host, pid, started_at, last_heartbeat, processed, failed, "
		       "lag_max_ms, lag_p99_ms FROM worker_heartbeats ORDER BY last_heartbeat DESC, worker_id",
		       0, NULL, &rows) != BB_DB_OK &&
	    query(r, "SELECT worker_id, stage, host, pid, started_at, last_heartbeat, processed, failed, NULL, NULL "
		  "FROM worker_heartbeats ORDER BY last_heartbeat DESC, worker_id", 0, NULL, &rows) != 0)
		return 0;
	int n = bb_db_nrows(rows);
	if (n > 0 && !(s->workers = calloc((size_t)n, sizeof *s->workers))) {
		bb_db_rows_free(rows);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		if (copy_worker(&s->workers[s->nworkers++], rows, i) != 0) {
			bb_db_rows_free(rows);
			return -1;
		}
	}
	bb_db_rows_free(rows);
	return 0;
}

/* key, count rows into a list. */
static int read_counts(struct reader *r, const char *sql, int n, const char *const *p, struct bb_status_count **out,
		       size_t *nout)
{
	struct bb_rows *rows;

	if (query(r, sql, n, p, &rows) != 0)
		return 0;
	int k = bb_db_nrows(rows);
	if (k > 0 && !(*out = calloc((size_t)k, sizeof **out))) {
		bb_db_rows_free(rows);
		return -1;
	}
	for (int i = 0; i < k; i++) {
		const char *key = bb_db_value(rows, i, 0);
		if (!((*out)[i].key = strdup(key ? key : ""))) {
			bb_db_rows_free(rows);
			return -1;
		}
		(*out)[i].n = num(rows, i, 1);
		*nout = (size_t)i + 1;
	}
	bb_db_rows_free(rows);
	return 0;
}

static int64_t avg_processing(struct reader *r, const char *since)
{
	const char *p[1] = { since };
	struct bb_rows *rows;
	const char *sql = bb_db_is_pg(r->db) ?
		"SELECT round(avg(extract(epoch FROM w.processed_at - w.received_at) * 1000)) FROM competitive_history h "
		"JOIN worker_notifications w ON w.id = CASE WHEN h.notification_id ~ '^[0-9a-f-]{36}$' "
		"THEN h.notification_id::uuid END "
		"WHERE h.created_at >= $1 AND w.received_at IS NOT NULL" :
		"SELECT round(avg((julianday(w.processed_at) - julianday(w.received_at)) * 86400000.0)) "
		"FROM competitive_history h JOIN worker_notifications w ON w.id = h.notification_id "
		"WHERE h.created_at >= $1 AND w.received_at IS NOT NULL";
	int64_t v = -1;

	if (query(r, sql, 1, p, &rows) == 0) {
		const char *t = bb_db_value(rows, 0, 0);
		v = t ? (int64_t)strtod(t, NULL) : -1;
	}
	bb_db_rows_free(rows);
	return v;
}

static int read_db(struct reader *r, const struct bb_status_conf *c)
{
	struct bb_status *s = r->s;
	char rate_since[40], day_since[40], mrc[24];
	const char *p[2] = { day_since, mrc };
	struct bb_rows *rows;

	bb_time_format(s->now - c->rate_window_ms, rate_since, sizeof rate_since);
	bb_time_format(s->now - c->window_ms, day_since, sizeof day_since);
	snprintf(mrc, sizeof mrc, "%lld", (long long)c->max_receive_count);
	if (read_workers(r) != 0)
		return -1;
	const char *rp[1] = { rate_since };
	s->processed_window = scalar(r, "SELECT count(*) FROM competitive_history WHERE created_at >= $1", 1, rp);
	s->avg_processing_ms = avg_processing(r, rate_since);
	if (read_counts(r, "SELECT status, count(*) FROM alert_queues GROUP BY status ORDER BY status", 0, NULL,
			&s->alerts, &s->nalerts) != 0 ||
	    read_counts(r, "SELECT error_type, count(*) FROM worker_failures WHERE last_failed >= $1 "
			"GROUP BY error_type ORDER BY error_type", 1, p, &s->failures, &s->nfailures) != 0)
		return -1;
	s->processed_24h = scalar(r, "SELECT (SELECT count(*) FROM competitive_history WHERE created_at >= $1) + "
			       "(SELECT count(*) FROM worker_failures WHERE last_failed >= $1)", 1, p);
	s->dlq_growth_24h = scalar(r, "SELECT count(*) FROM worker_failures WHERE last_failed >= $1 "
				   "AND (status = 'rejected' OR failure_count >= $2)", 2, p);
	if (query(r, "SELECT id, created_at FROM events ORDER BY id DESC LIMIT 1", 0, NULL, &rows) == 0 &&
	    bb_db_nrows(rows) == 1)
		s->last_event_id = num(rows, 0, 0), s->last_event_at = when(rows, 0, 1);
	bb_db_rows_free(rows);
	return 0;
}

/* ---- the verdict ---- */

static void heartbeats(struct bb_status *s, const struct bb_status_conf *c)
{
	for (size_t i = s->nworkers; i-- > 0;) { /* oldest first: the newest of each kind wins */
		const struct bb_status_worker *w = &s->workers[i];
		if (in(w->stage, ingest_stages) && w->last_heartbeat > s->ingest_heartbeat)
			s->ingest_heartbeat = w->last_heartbeat;
		if (in(w->stage, analysis_stages) && w->last_heartbeat > s->analysis_heartbeat)
			s->analysis_heartbeat = w->last_heartbeat;
	}
	for (size_t i = 0; i < s->nworkers; i++) { /* newest first */
		const struct bb_status_worker *w = &s->workers[i];
		if (strcmp(w->stage, "store") == 0 && w->lag_max_ms >= 0 &&
		    s->now - w->last_heartbeat <= c->heartbeat_critical_ms) {
			s->lag_ms = w->lag_max_ms, s->lag_p99_ms = w->lag_p99_ms, s->lag_at = w->last_heartbeat;
			s->lag_worker = w->worker_id;
			break;
		}
	}
}

/* Dead-lettered per million processed (all of it when nothing was), as
 * the document gives it: truncated, never rounded up over the threshold. */
static int64_t growth_ppm(const struct bb_status *s)
{
	if (s->dlq_growth_24h < 0)
		return -1;
	return s->processed_24h > 0 ? s->dlq_growth_24h * 1000000 / s->processed_24h : s->dlq_growth_24h ? 1000000 : 0;
}

static void percent(int64_t ppm, char *buf, size_t size)
{
	snprintf(buf, size, "%lld.%04lld%%", (long long)(ppm / 10000), (long long)(ppm % 10000));
}

static int64_t oldest_age_ms(const struct bb_status *s)
{
	return s->queue_depth == 0 ? 0 : s->lag_ms;
}

static void judge(struct bb_status *s, const struct bb_status_conf *c)
{
	char a[32], b[32];
	int64_t age = oldest_age_ms(s);

	if (age > c->age_critical_ms || age > c->age_degraded_ms) {
		span(age, a, sizeof a), span(age > c->age_critical_ms ? c->age_critical_ms : c->age_degraded_ms, b, sizeof b);
		check(s, age > c->age_critical_ms ? BB_CRITICAL : BB_DEGRADED, "oldest_message_age",
		      "oldest message %s old, over %s (ingest to commit lag recorded by %s)", a, b, s->lag_worker);
	}
	if (!s->db_ok)
		return;
	if (s->ingest_heartbeat < 0) {
		check(s, BB_CRITICAL, "heartbeat", "no worker has written a heartbeat");
	} else if (s->now - s->ingest_heartbeat > c->heartbeat_critical_ms) {
		span(s->now - s->ingest_heartbeat, a, sizeof a), span(c->heartbeat_critical_ms, b, sizeof b);
		check(s, BB_CRITICAL, "heartbeat", "newest heartbeat %s old, over %s", a, b);
	}
	if (s->dlq_growth_24h > 0 && s->dlq_growth_24h * 1000000 > c->dlq_growth_ppm * s->processed_24h) {
		char pct[32], lim[32];
		percent(growth_ppm(s), pct, sizeof pct);
		percent(c->dlq_growth_ppm, lim, sizeof lim);
		check(s, BB_DEGRADED, "dlq_growth", "%lld of %lld processed (%s) dead-lettered over %lldh, over %s",
		      (long long)s->dlq_growth_24h, (long long)s->processed_24h, pct, (long long)(c->window_ms / 3600000),
		      lim);
	}
}

int bb_status_collect(struct bb_db *db, const char *db_error, struct bb_sqs *sqs, const char *sqs_error,
		      const struct bb_status_conf *c, int64_t now, struct bb_status *s)
{
	struct reader r = { .db = db, .s = s };

	memset(s, 0, sizeof *s);
	s->now = now;
	s->queue_depth = s->in_flight = s->delayed = s->dlq_count = -1;
	s->ingest_heartbeat = s->analysis_heartbeat = s->lag_ms = s->lag_p99_ms = s->lag_at = -1;
	s->processed_window = s->backlog = s->avg_processing_ms = -1;
	s->processed_24h = s->dlq_growth_24h = s->last_event_id = s->last_event_at = -1;
	read_sqs(sqs, sqs_error, c, s);
	if (db && read_db(&r, c) != 0)
		return -1;
	s->db_ok = db && !r.failed;
	if (!db)
		check(s, BB_CRITICAL, "database", "%s", db_error ? db_error : "unable to open database");
	else if (!s->db_ok)
		check(s, BB_CRITICAL, "database", "unable to read database '%s': %s", bb_db_name(db), r.error);
	heartbeats(s, c);
	s->backlog = s->in_flight; /* received, not yet settled: there is no queue in the database (schema 10) */
	s->lag_note = s->queue_depth == 0 ? "the queue is empty" :
		      s->lag_worker ? "the newest ingest to commit lag of a heartbeat" : "no lag recorded";
	judge(s, c);
	return 0;
}

void bb_status_free(struct bb_status *s)
{
	for (size_t i = 0; i < s->nworkers; i++)
		free(s->workers[i].worker_id), free(s->workers[i].stage), free(s->workers[i].host);
	for (size_t i = 0; i < s->nalerts; i++)
		free(s->alerts[i].key);
	for (size_t i = 0; i < s->nfailures; i++)
		free(s->failures[i].key);
	free(s->workers), free(s->alerts), free(s->failures);
	memset(s, 0, sizeof *s);
}

/* ---- the document ---- */

static void kint(struct bb_jw *w, const char *key, int64_t v)
{
	bb_jw_kint_or_null(w, key, v, v >= 0);
}

static void kfixed(struct bb_jw *w, const char *key, int64_t v, int places)
{
	bb_jw_key(w, key);
	if (v < 0)
		bb_jw_null(w);
	else
		bb_jw_fixed(w, v, places);
}

static void counts(struct bb_jw *w, const char *key, const struct bb_status_count *c, size_t n)
{
	bb_jw_key(w, key);
	bb_jw_obj(w);
	for (size_t i = 0; i < n; i++)
		bb_jw_kint(w, c[i].key, c[i].n);
	bb_jw_end(w, '}');
}

/* processed per minute, in tenths */
static int64_t per_minute10(const struct bb_status *s, const struct bb_status_conf *c)
{
	return s->processed_window < 0 ? -1 : s->processed_window * 600000 / c->rate_window_ms;
}

static void plan_keys(struct bb_jw *w, const struct bb_status *s, const struct bb_status_conf *c)
{
	int64_t age = oldest_age_ms(s);

	bb_jw_key(w, "ingestion");
	bb_jw_obj(w);
	kint(w, "queue_depth", s->queue_depth);
	kfixed(w, "oldest_message_age_seconds", age, 3);
	bb_jw_ktime(w, "last_heartbeat", s->ingest_heartbeat);
	kint(w, "dlq_count", s->dlq_count);
	kfixed(w, "processed_per_minute", per_minute10(s, c), 1);
	bb_jw_end(w, '}');
	bb_jw_key(w, "analysis");
	bb_jw_obj(w);
	kint(w, "backlog_count", s->backlog);
	kint(w, "avg_processing_time_ms", s->avg_processing_ms);
	bb_jw_ktime(w, "last_heartbeat", s->analysis_heartbeat);
	bb_jw_end(w, '}');
	bb_jw_kstrz(w, "overall_health", bb_health_name(s->health));
}

static void workers(struct bb_jw *w, const struct bb_status *s, const struct bb_status_conf *c)
{
	bb_jw_key(w, "workers");
	bb_jw_arr(w);
	for (size_t i = 0; i < s->nworkers; i++) {
		const struct bb_status_worker *k = &s->workers[i];
		bb_jw_obj(w);
		bb_jw_kstrz(w, "worker_id", k->worker_id);
		bb_jw_kstrz(w, "stage", k->stage);
		bb_jw_kstrz(w, "host", k->host);
		kint(w, "pid", k->pid);
		bb_jw_ktime(w, "started_at", k->started_at);
		bb_jw_ktime(w, "last_heartbeat", k->last_heartbeat);
		kfixed(w, "age_seconds", k->last_heartbeat < 0 ? -1 : s->now - k->last_heartbeat, 3);
		bb_jw_kbool(w, "stale", k->last_heartbeat < 0 || s->now - k->last_heartbeat > c->heartbeat_critical_ms);
		kint(w, "processed", k->processed);
		kint(w, "failed", k->failed);
		kint(w, "lag_max_ms", k->lag_max_ms);
		kint(w, "lag_p99_ms", k->lag_p99_ms);
		bb_jw_end(w, '}');
	}
	bb_jw_end(w, ']');
}

static void checks(struct bb_jw *w, const struct bb_status *s)
{
	bb_jw_key(w, "checks");
	bb_jw_arr(w);
	for (int i = 0; i < s->nchecks; i++) {
		bb_jw_obj(w);
		bb_jw_kstrz(w, "name", s->checks[i].name);
		bb_jw_kstrz(w, "level", bb_health_name(s->checks[i].level));
		bb_jw_kstrz(w, "message", s->checks[i].message);
		bb_jw_end(w, '}');
	}
	bb_jw_end(w, ']');
}

static void own_keys(struct bb_jw *w, const struct bb_status *s, const struct bb_status_conf *c)
{
	bb_jw_ktime(w, "checked_at", s->now);
	checks(w, s);
	bb_jw_key(w, "queue");
	bb_jw_obj(w);
	bb_jw_kstrz(w, "url", c->queue_url);
	kint(w, "visible", s->queue_depth);
	kint(w, "in_flight", s->in_flight);
	kint(w, "delayed", s->delayed);
	bb_jw_kstrz(w, "dlq_url", c->dlq_url);
	kint(w, "dlq_visible", s->dlq_count);
	bb_jw_end(w, '}');
	bb_jw_key(w, "lag");
	bb_jw_obj(w);
	kint(w, "max_ms", s->lag_ms);
	kint(w, "p99_ms", s->lag_p99_ms);
	bb_jw_kstrz(w, "worker_id", s->lag_worker);
	bb_jw_ktime(w, "at", s->lag_at);
	bb_jw_kstrz(w, "note", s->lag_note);
	bb_jw_end(w, '}');
	workers(w, s, c);
	counts(w, "alerts", s->alerts, s->nalerts);
	counts(w, "failures_24h", s->failures, s->nfailures);
	bb_jw_key(w, "dlq");
	bb_jw_obj(w);
	kint(w, "growth_24h", s->dlq_growth_24h);
	kint(w, "processed_24h", s->processed_24h);
	kfixed(w, "growth_pct", growth_ppm(s), 4);
	bb_jw_key(w, "threshold_pct");
	bb_jw_fixed(w, c->dlq_growth_ppm, 4);
	bb_jw_end(w, '}');
	bb_jw_key(w, "events");
	bb_jw_obj(w);
	kint(w, "last_id", s->last_event_id);
	bb_jw_ktime(w, "last_at", s->last_event_at);
	bb_jw_end(w, '}');
}

void bb_status_json(struct bb_jw *w, const struct bb_status *s, const struct bb_status_conf *c)
{
	bb_jw_obj(w);
	plan_keys(w, s, c);
	own_keys(w, s, c);
	bb_jw_end(w, '}');
}

void bb_status_health_json(struct bb_jw *w, const struct bb_status *s)
{
	bb_jw_obj(w);
	bb_jw_kstrz(w, "overall_health", bb_health_name(s->health));
	bb_jw_ktime(w, "checked_at", s->now);
	checks(w, s);
	bb_jw_end(w, '}');
}

/* ---- Prometheus ---- */

/* How a value is written: as it is, or milliseconds as seconds. */
enum unit { PLAIN, MS };

/* One sample, with one label or none (label NULL), left out while the
 * value is unknown (< 0). */
static void sample(FILE *out, const char *name, int64_t v, enum unit u, const char *label, const char *value)
{
	if (v < 0)
		return;
	if (u == MS)
		bb_prom_sample_milli(out, name, v, label, value, NULL);
	else
		bb_prom_sample(out, name, v, label, value, NULL);
}

/* A family of one sample without labels, left out whole while the value
 * is unknown. */
static void gauge(FILE *out, const char *name, const char *help, int64_t v, enum unit u)
{
	if (v < 0)
		return;
	bb_prom_family(out, name, "gauge", help);
	sample(out, name, v, u, NULL, NULL);
}

static void queue_gauges(FILE *out, const struct bb_status *s)
{
	bb_prom_family(out, "worker_queue_depth_current", "gauge", "Messages waiting in the queue (visible).");
	sample(out, "worker_queue_depth_current", s->queue_depth, PLAIN, "queue_type", "main");
	sample(out, "worker_queue_depth_current", s->dlq_count, PLAIN, "queue_type", "dlq");
	bb_prom_family(out, "worker_oldest_message_age_seconds", "gauge",
		       "The newest ingest to commit lag, 0 when the queue is empty.");
	sample(out, "worker_oldest_message_age_seconds", oldest_age_ms(s), MS, "queue_type", "main");
	gauge(out, "bb_queue_in_flight", "Messages received and not yet settled.", s->in_flight, PLAIN);
}

static void count_gauges(FILE *out, const char *name, const char *help, const char *label,
			 const struct bb_status_count *c, size_t n)
{
	bb_prom_family(out, name, "gauge", help);
	for (size_t i = 0; i < n; i++)
		sample(out, name, c[i].n, PLAIN, label, c[i].key);
}

void bb_status_prom(FILE *out, const struct bb_status *s)
{
	gauge(out, "bb_overall_health", "0 healthy, 1 degraded, 2 critical.", s->health, PLAIN);
	bb_prom_family(out, "bb_status_check_failed", "gauge", "A check that failed: 1 degraded, 2 critical.");
	for (int i = 0; i < s->nchecks; i++)
		sample(out, "bb_status_check_failed", s->checks[i].level, PLAIN, "check", s->checks[i].name);
	queue_gauges(out, s);
	bb_prom_family(out, "bb_worker_last_heartbeat_timestamp_seconds", "gauge",
		       "Each worker's last heartbeat in the database (Unix time).");
	for (size_t i = 0; i < s->nworkers; i++)
		if (s->workers[i].last_heartbeat >= 0)
			bb_prom_sample_milli(out, "bb_worker_last_heartbeat_timestamp_seconds", s->workers[i].last_heartbeat,
					     "worker_id", s->workers[i].worker_id, "stage", s->workers[i].stage, NULL);
	gauge(out, "bb_processed_window", "Notifications stored over the rate window (5 min).", s->processed_window, PLAIN);
	gauge(out, "bb_analysis_backlog", "Messages received and not yet settled.", s->backlog, PLAIN);
	gauge(out, "bb_avg_processing_time_seconds", "Mean receive to commit time over the rate window.",
	      s->avg_processing_ms, MS);
	count_gauges(out, "bb_alerts", "Alerts by status.", "status", s->alerts, s->nalerts);
	count_gauges(out, "bb_failures_24h", "Failed and rejected messages over 24 h, by error type.", "error_type",
		     s->failures, s->nfailures);
	gauge(out, "bb_dlq_growth_24h", "Messages dead-lettered over 24 h.", s->dlq_growth_24h, PLAIN);
	gauge(out, "bb_processed_24h", "Messages stored or failed over 24 h.", s->processed_24h, PLAIN);
	gauge(out, "bb_last_event_id", "The newest row of the events feed.", s->last_event_id, PLAIN);
}
