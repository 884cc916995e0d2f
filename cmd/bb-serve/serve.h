/* serve.h: what the files of bb-serve share. http.c is the server (limits,
 * routes, one log line per request), feed.c the change feed behind the SSE
 * stream, api.c the REST routes, metrics.c /metrics, status.c and trends.c
 * bb-status's document (lib/status.h) and bb-trend's series (lib/history.h). */
#ifndef BB_SERVE_H
#define BB_SERVE_H

#include "alert.h"
#include "conf.h"
#include "db.h"
#include "outage.h"
#include "jwrite.h"
#include "status.h"
#include "str.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#define SERVE_MAX_BODY 65536 /* a request's body, and its headers */
#define SERVE_MAX_THREADS 64 /* threads serving connections: one a core, this many at most */

/* The routes, for dispatch and for the metrics. */
enum serve_route {
	R_INDEX, R_ASSET, R_STREAM, R_PRIORITIZED, R_ACK, R_STATUS, R_HEALTH, R_TRENDS, R_METRICS, R_OTHER, R_COUNT
};

/* ---- the change feed (feed.c) ---- */

/* An event of the events table, ready to send. */
struct sse_event {
	int64_t id, prev;  /* it covers the ids (prev, id]: none in between exists */
	int64_t created;   /* its created_at, ms */
	int severity;      /* enum bb_severity, or -1 when it names none */
	char *asin;        /* NUL-free copy; asin_n bytes */
	size_t asin_n;
	char *frame;       /* "id: …\nevent: …\ndata: …\n\n" */
	size_t frame_n;
};

#define FEED_RING 4096 /* events kept for live clients: one that lags more is dropped */

struct client;

struct feed {
	pthread_mutex_t mu;
	struct sse_event ring[FEED_RING];
	uint64_t head;   /* events pushed so far; ring[seq % FEED_RING] */
	int64_t cursor;  /* the feed has read every event up to this id */
	struct client *waiting; /* streams suspended until there is more (or a heartbeat is due) */
	int64_t next_due;       /* the earliest heartbeat among them, bb_mono_ms */
	int64_t newest;  /* the newest id when it started: where a client without one starts */
	int stop, running;
	pthread_t thread;
	struct bb_db *db; /* the feed's own connection (LISTEN on PostgreSQL) */
	int64_t poll_ms, gap_wait_ms;
	struct bb_outage outage; /* the database, while the feed cannot read it */
};

/* ---- metrics (metrics.c) ---- */

#define GAP_BUCKETS 10
struct metrics {
	uint64_t requests[R_COUNT][12]; /* by route and status (serve_status_slot) */
	int64_t sse_clients;
	uint64_t sse_dropped, sse_sent;
	uint64_t gap_count, gap_bucket[GAP_BUCKETS], gap_sum_us;
};

/* ---- bb-status's document (status.c) and the series (trends.c) ---- */

struct serve_status {
	pthread_mutex_t mu;
	struct bb_status_conf conf;
	int64_t cache_ms;    /* a collection serves the requests of this long */
	struct bb_sqs *sqs;  /* made at the first collection that needs it */
	int64_t at;          /* bb_mono_ms of the last collection; 0: none yet */
	enum bb_health health;
	struct bb_jw doc, verdict; /* the document; {overall_health, checked_at, checks} */
	char *prom;          /* its gauges */
	size_t prom_n;
};

struct serve_trends {
	const char **ours; /* [analysis] seller_ids */
	int nours;
	char *ours_copy;
};

/* ---- the server ---- */

struct serve_db {
	pthread_mutex_t mu;
	struct bb_db *db;
	/* api.c: the rows of each severity, as of the database's version
	 * (its text, counts_version_n bytes), and the thread's JSON document */
	int has_counts;
	char *counts_version;
	size_t counts_version_n;
	int64_t counts[BB_SEVERITIES];
	struct bb_jdoc *jd;
};

struct serve {
	const char *url;            /* the database */
	const char *listen;         /* ADDRESS:PORT */
	char *token;                /* the acknowledge token, or NULL: acknowledge refused */
	size_t token_n;
	unsigned max_connections, timeout_s;
	int64_t snooze_ms;
	unsigned threads;           /* libmicrohttpd's polling threads */
	struct serve_db pool[SERVE_MAX_THREADS]; /* a connection for each */
	unsigned next_pool;
	struct feed feed;
	struct metrics metrics;
	int64_t heartbeat_ms;
	struct MHD_Daemon *daemon;
	char mhd_err[256]; /* libmicrohttpd's last complaint, for a failed start */
	struct serve_status status;
	struct serve_trends trends;
};

/* A request as the routes see it. */
struct req {
	struct serve *s;
	struct MHD_Connection *conn;
	enum serve_route route;
	const char *method, *path;
	int status;          /* what was answered, for the log line */
	int64_t started;     /* bb_mono_ms */
	char *body;          /* POST: up to SERVE_MAX_BODY bytes */
	size_t body_n;
	int too_large, auth; /* auth: 0 not checked, else the status it earned (200 ok) */
	uint64_t sent;       /* SSE: bytes */
	int shutdown;        /* SSE: ended because the server stops */
};

/* http.c */
int serve_start(struct serve *s, char *err, size_t errlen);
void serve_stop(struct serve *s);
struct bb_db *serve_db_get(struct serve *s, struct serve_db **held);
void serve_db_put(struct serve_db *held, int rc);
/* Queue a response of body[0..n) (malloc'd, taken) with status and type. */
enum MHD_Result serve_reply(struct req *r, int status, const char *type, char *body, size_t n);
/* A JSON body {"error": message} with status. */
enum MHD_Result serve_error(struct req *r, int status, const char *message);
/* The writer's text as the body of a JSON reply (500 when it ran out of memory). */
enum MHD_Result serve_json(struct req *r, int status, struct bb_jw *w);
/* A query argument, or NULL. */
const char *serve_arg(struct req *r, const char *name);
int64_t serve_now(void);

/* feed.c */
int feed_start(struct serve *s, char *err, size_t errlen);
void feed_stop(struct feed *f);
void feed_join(struct feed *f);
enum MHD_Result route_stream(struct req *r);

/* api.c */
enum MHD_Result route_prioritized(struct req *r);
enum MHD_Result route_acknowledge(struct req *r);
int serve_check_token(struct serve *s, const char *header);

/* status.c: bb-status's document */
int status_configure(struct serve *s, const struct bb_conf *conf);
void status_destroy(struct serve *s);
enum MHD_Result route_worker_status(struct req *r);
enum MHD_Result route_health(struct req *r);
/* Its gauges in the Prometheus text format. */
void status_metrics(struct serve *s, FILE *out);

/* trends.c: bb-trend history's series */
int trends_configure(struct serve *s, const struct bb_conf *conf);
void trends_destroy(struct serve *s);
enum MHD_Result route_trends(struct req *r, const char *asin);

/* metrics.c */
int serve_status_slot(int status);
void metrics_request(struct metrics *m, enum serve_route route, int status);
void metrics_gap(struct metrics *m, double seconds);
enum MHD_Result route_metrics(struct req *r);
const char *serve_route_name(enum serve_route route);

/* assets (generated by scripts/embed-assets) */
struct serve_asset {
	const char *path, *type;
	const char *data;
	size_t size;
};
extern const struct serve_asset serve_assets[];

#endif
