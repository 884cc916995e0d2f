/* status.h: how the pipeline is doing, read from SQS and the database — the
 * worker-status document of bb-status(1), and bb-serve's /api/worker-status
 * and /api/health.
 *
 * The document has the plan's keys, exactly: ingestion{queue_depth,
 * oldest_message_age_seconds, last_heartbeat, dlq_count,
 * processed_per_minute}, analysis{backlog_count, avg_processing_time_ms,
 * last_heartbeat}, overall_health (healthy, degraded or critical); and bb's
 * own beside them: checked_at, checks (each that failed), queue, lag,
 * workers, alerts, failures_24h, dlq, events. */
#ifndef BB_STATUS_H
#define BB_STATUS_H

#include "conf.h"
#include "db.h"
#include "jwrite.h"
#include "sqs.h"

#include <stdint.h>
#include <stdio.h>

enum bb_health { BB_HEALTHY = 0, BB_DEGRADED = 1, BB_CRITICAL = 2 };

/* [status] of bb.conf, with the plan's defaults (bb_status_defaults). */
struct bb_status_conf {
	const char *queue_url, *dlq_url; /* NULL: not configured */
	int64_t age_degraded_ms;         /* oldest message older: degraded (120 s) */
	int64_t age_critical_ms;         /* … critical (300 s) */
	int64_t heartbeat_critical_ms;   /* newest heartbeat older: critical (5 min) */
	int64_t dlq_growth_ppm;          /* dead-lettered per million processed over the window: degraded (500) */
	int64_t window_ms;               /* failures and DLQ growth (24 h) */
	int64_t rate_window_ms;          /* processed_per_minute, avg_processing_time_ms (5 min) */
	int64_t max_receive_count;       /* a failure delivered this often went to the DLQ (3) */
};

void bb_status_defaults(struct bb_status_conf *c);

/* The defaults, then [sqs] queue_url and dlq_url (empty: none), [status]
 * and [validate] max_receive_count of conf. 0, or -1 with err set
 * ("unable to use [status] NAME 'VALUE': expected ..."): a configuration
 * error. */
int bb_status_configure(struct bb_status_conf *c, const struct bb_conf *conf, char *err, size_t errlen);

/* A failing SQS endpoint is retried for this long in one collection
 * (three or four attempts, under the client's circuit breaker): a status
 * that waits long on it is late to say so. */
#define BB_STATUS_SQS_PATIENCE_MS 500

/* A client for the queues of c, with that patience; NULL with err empty
 * when c names no queue, NULL with err set when it cannot be made (no
 * credentials): bb_status_collect takes both as they are. */
struct bb_sqs *bb_status_sqs(const struct bb_status_conf *c, char *err, size_t errlen);

struct bb_status_worker {
	char *worker_id, *stage, *host;
	int64_t pid, started_at, last_heartbeat, processed, failed;
	int64_t lag_max_ms, lag_p99_ms; /* the ingest → commit lag of its last period; -1: none recorded */
};

struct bb_status_count {
	char *key;
	int64_t n;
};

struct bb_status_check {
	enum bb_health level;
	char name[24];     /* sqs, dlq, database, oldest_message_age, heartbeat, dlq_growth */
	char message[400];
};

#define BB_STATUS_CHECKS 8

/* Each number is -1 when it could not be had (its JSON is null). */
struct bb_status {
	int64_t now;
	/* SQS (GetQueueAttributes on the queue and the DLQ) */
	int64_t queue_depth, in_flight, delayed, dlq_count;
	/* the database */
	int db_ok;
	struct bb_status_worker *workers; /* newest heartbeat first */
	size_t nworkers;
	int64_t ingest_heartbeat, analysis_heartbeat;
	int64_t lag_ms, lag_p99_ms, lag_at; /* the newest lag recorded, and when */
	const char *lag_worker;             /* whose (points into workers) */
	const char *lag_note;               /* why there is none, or where it is from */
	int64_t processed_window, backlog, avg_processing_ms;
	int64_t processed_24h, dlq_growth_24h;
	struct bb_status_count *alerts, *failures; /* by status; by error type over the window */
	size_t nalerts, nfailures;
	int64_t last_event_id, last_event_at;
	/* the verdict */
	struct bb_status_check checks[BB_STATUS_CHECKS]; /* those that failed */
	int nchecks;
	enum bb_health health;
};

/* Fill s at time now. db NULL: the database could not be opened, as
 * db_error says ("unable to open database 'URL': …"); sqs NULL when no queue is configured or the client could
 * not be made (sqs_error says why, or is NULL). Reading goes on past each
 * failure, which becomes a check; only running out of memory returns -1. */
int bb_status_collect(struct bb_db *db, const char *db_error, struct bb_sqs *sqs, const char *sqs_error,
		      const struct bb_status_conf *c, int64_t now, struct bb_status *s);
void bb_status_free(struct bb_status *s);

const char *bb_health_name(enum bb_health h);

/* The worker-status document, one JSON object. */
void bb_status_json(struct bb_jw *w, const struct bb_status *s, const struct bb_status_conf *c);

/* {overall_health, checked_at, checks}: the verdict alone. */
void bb_status_health_json(struct bb_jw *w, const struct bb_status *s);

/* The same in the Prometheus exposition format. */
void bb_status_prom(FILE *out, const struct bb_status *s);

#endif
