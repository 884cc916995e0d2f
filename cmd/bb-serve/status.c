/* status.c: GET /api/worker-status, GET /api/health and the status gauges
 * of /metrics. bb-status owns this document (lib/status.h: bb_status_collect
 * and its writer); until bb-serve is switched to it, this file is the one
 * place that reads it, from the database alone: the workers' heartbeats,
 * the failures, the newest event. The queue's figures need SQS and stay
 * null here.
 *
 * Health: critical when the database cannot be read, degraded when a
 * worker's heartbeat is older than STALE_MS, else healthy. */
#include "serve.h"
#include "parse.h"
#include "timeutil.h"

#include <stdlib.h>
#include <string.h>

#define STALE_MS (2 * 60 * 1000)

#define WORKERS_SQL "SELECT worker_id, stage, host, pid, started_at, last_heartbeat, processed, failed " \
	"FROM worker_heartbeats ORDER BY stage, worker_id"
#define FAILURES_SQL "SELECT count(*), max(last_failed) FROM worker_failures"
#define EVENTS_SQL "SELECT COALESCE(max(id), 0) FROM events"

enum { HEALTHY, DEGRADED, CRITICAL };
static const char *const health_names[] = { "healthy", "degraded", "critical" };

struct status {
	int health;
	const char *why;
	int64_t now;
	struct bb_rows *workers, *failures, *events;
};

static int64_t col_time(struct bb_rows *r, int i, int c)
{
	struct bb_str v = bb_db_text(r, i, c);
	int64_t ms;
	return v.p && bb_time_parse_loose(v.p, v.n, &ms) == 0 ? ms : -1;
}

static int64_t col_int(struct bb_rows *r, int i, int c)
{
	int64_t v;
	return bb_db_value(r, i, c) && bb_parse_i64(bb_db_value(r, i, c), INT64_MIN, INT64_MAX, &v) == 0 ? v : 0;
}

static void status_collect(struct serve *s, struct status *st)
{
	struct serve_db *held;
	struct bb_db *db = serve_db_get(s, &held);
	int rc = db ? bb_db_exec(db, WORKERS_SQL, 0, NULL, &st->workers) : BB_DB_RETRY;

	if (rc == BB_DB_OK)
		rc = bb_db_exec(db, FAILURES_SQL, 0, NULL, &st->failures);
	if (rc == BB_DB_OK)
		rc = bb_db_exec(db, EVENTS_SQL, 0, NULL, &st->events);
	serve_db_put(held, rc);
	st->now = serve_now();
	st->health = HEALTHY;
	if (rc != BB_DB_OK) {
		st->health = CRITICAL, st->why = "database unavailable";
		return;
	}
	for (int i = 0; i < bb_db_nrows(st->workers); i++)
		if (st->now - col_time(st->workers, i, 5) > STALE_MS)
			st->health = DEGRADED, st->why = "a worker's heartbeat is stale";
}

static void status_free(struct status *st)
{
	bb_db_rows_free(st->workers);
	bb_db_rows_free(st->failures);
	bb_db_rows_free(st->events);
}

static void workers(struct bb_jw *w, const struct status *st)
{
	bb_jw_key(w, "workers");
	bb_jw_arr(w);
	for (int i = 0; i < bb_db_nrows(st->workers); i++) {
		int64_t beat = col_time(st->workers, i, 5);
		bb_jw_obj(w);
		bb_jw_kview(w, "worker_id", bb_db_text(st->workers, i, 0));
		bb_jw_kview(w, "stage", bb_db_text(st->workers, i, 1));
		bb_jw_kview(w, "host", bb_db_text(st->workers, i, 2));
		bb_jw_kint(w, "pid", col_int(st->workers, i, 3));
		bb_jw_ktime(w, "started_at", col_time(st->workers, i, 4));
		bb_jw_ktime(w, "last_heartbeat", beat);
		bb_jw_kint(w, "age_seconds", beat >= 0 ? (st->now - beat) / 1000 : -1);
		bb_jw_kbool(w, "stale", st->now - beat > STALE_MS);
		bb_jw_kint(w, "processed", col_int(st->workers, i, 6));
		bb_jw_kint(w, "failed", col_int(st->workers, i, 7));
		bb_jw_end(w, '}');
	}
	bb_jw_end(w, ']');
}

static void document(struct bb_jw *w, const struct status *st)
{
	bb_jw_obj(w);
	bb_jw_ktime(w, "generated_at", st->now);
	bb_jw_kstrz(w, "health", health_names[st->health]);
	bb_jw_kstrz(w, "reason", st->why);
	bb_jw_key(w, "queue");
	bb_jw_obj(w);
	bb_jw_key(w, "depth"), bb_jw_null(w);
	bb_jw_key(w, "oldest_age_seconds"), bb_jw_null(w);
	bb_jw_key(w, "dlq_depth"), bb_jw_null(w);
	bb_jw_end(w, '}');
	if (st->health != CRITICAL) {
		workers(w, st);
		bb_jw_key(w, "failures");
		bb_jw_obj(w);
		bb_jw_kint(w, "total", col_int(st->failures, 0, 0));
		bb_jw_ktime(w, "last", col_time(st->failures, 0, 1));
		bb_jw_end(w, '}');
		bb_jw_kint(w, "last_event_id", col_int(st->events, 0, 0));
	}
	bb_jw_end(w, '}');
}

enum MHD_Result route_worker_status(struct req *r)
{
	struct status st = { 0 };
	struct bb_jw w = { 0 };

	status_collect(r->s, &st);
	document(&w, &st);
	status_free(&st);
	return serve_json(r, 200, &w);
}

enum MHD_Result route_health(struct req *r)
{
	struct status st = { 0 };
	struct bb_jw w = { 0 };

	status_collect(r->s, &st);
	bb_jw_obj(&w);
	bb_jw_kstrz(&w, "status", health_names[st.health]);
	bb_jw_kstrz(&w, "reason", st.why);
	bb_jw_ktime(&w, "checked_at", st.now);
	bb_jw_end(&w, '}');
	status_free(&st);
	return serve_json(r, st.health == CRITICAL ? 503 : 200, &w);
}

void status_metrics(struct serve *s, FILE *out)
{
	struct status st = { 0 };

	status_collect(s, &st);
	fprintf(out, "# HELP bb_health 0 healthy, 1 degraded, 2 critical.\n# TYPE bb_health gauge\nbb_health %d\n",
		st.health);
	if (st.health != CRITICAL) {
		fputs("# HELP bb_worker_heartbeat_age_seconds Time since a worker's last heartbeat.\n"
		      "# TYPE bb_worker_heartbeat_age_seconds gauge\n", out);
		for (int i = 0; i < bb_db_nrows(st.workers); i++) {
			struct bb_str id = bb_db_text(st.workers, i, 0), stage = bb_db_text(st.workers, i, 1);
			int ok = id.p && stage.p && !memchr(id.p, '"', id.n) && !memchr(id.p, '\\', id.n) &&
				 !memchr(id.p, '\n', id.n) && !memchr(stage.p, '"', stage.n) && !memchr(stage.p, '\n', stage.n);
			if (ok)
				fprintf(out, "bb_worker_heartbeat_age_seconds{worker_id=\"%.*s\",stage=\"%.*s\"} %.3f\n",
					(int)id.n, id.p, (int)stage.n, stage.p,
					(double)(st.now - col_time(st.workers, i, 5)) / 1e3);
		}
		fprintf(out, "# HELP bb_worker_failures Messages recorded as failed or rejected.\n"
			"# TYPE bb_worker_failures gauge\nbb_worker_failures %lld\n",
			(long long)col_int(st.failures, 0, 0));
		fprintf(out, "# HELP bb_events_last_id The newest event's id.\n# TYPE bb_events_last_id gauge\n"
			"bb_events_last_id %lld\n", (long long)col_int(st.events, 0, 0));
	}
	status_free(&st);
}
