/* store.h: what bb-store writes for one record, inside the batch's transaction. */
#ifndef BB_STORE_H
#define BB_STORE_H

#include "alert.h"
#include "db.h"
#include "jwrite.h"
#include "outage.h"
#include "record.h"
#include "str.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

struct store_conf {
	const char *worker_id;
	const char **sellers; /* our seller ids; none: the notification's SellerId */
	int nsellers;
	int pg;               /* the offers in PostgreSQL's array form, not JSON's */
	struct bb_jw scratch[7]; /* store_read's, between records */
	struct bb_jdoc *doc;     /* a line over BB_LINE_MAX, read whole */
	struct bb_alert_view *alerts; /* SQLite: the writer's view of the stored alerts (write.c) */
};

/* The values a record's rows are made of, as SQL text (strings decoded,
 * numbers as written, booleans 1 or 0; p NULL for SQL NULL). */
enum {
	/* any record: what a failure's row keeps */
	V_MESSAGE_ID, V_DEDUPE_HASH, V_TRACE_ID, V_BODY, V_ERR_TYPE, V_ERR_MESSAGE, V_ERR_STAGE, V_ERR_PATH,
	/* an ok record's */
	V_RECEIVED_AT, V_NOTIFICATION_ID, V_ASIN, V_MARKETPLACE, V_EVENT_TIME, V_CURRENCY, V_NOTIF_SELLER,
	V_SEVERITY, V_PRIORITY, V_RULE, V_OUR_PRICE, V_MARKET_LOW, V_LOW_SELLER, V_BUY_BOX_PRICE,
	V_BUY_BOX_WINNER, V_POSITION, V_TOTAL_OFFERS, V_GAP_PCT, V_ANALYSIS,
	/* the offers, one array per column, one element per offer in payload order */
	V_OFFER_SELLERS, V_OFFER_LANDED, V_OFFER_PRIME, V_OFFER_FBA, V_OFFER_WINNER, V_OFFER_OURS,
	V_STATE_EVENT, /* the payload of the state event */
	V_COUNT
};

/* A record of the batch: its line, for the output, and everything its rows
 * need, read from the line's parse while it lasts (the loop's callback). */
struct item {
	struct bb_record rec;
	const char *status; /* as bb-store treats it: ok, duplicate, skipped, failed, rejected */
	const char *given;  /* the status it came with, when one of those; else NULL */
	const char *error;  /* bb-store's own reason to reject it, or NULL */
	const char *error_type; /* its error.type: NULL for schema */
	int has_alert;      /* it carries an alert object: corrected to the decision written */
	int64_t sent_at;    /* sqs.sent_at, -1 when absent */
	int64_t received_at; /* received_at, -1 when absent */
	int64_t event_ms;   /* notification.event_time */
	enum bb_severity sev;
	char nid[37], hid[37]; /* the ids its rows get */
	struct bb_str v[V_COUNT];
	char *bytes;        /* what v points into */
	size_t held;        /* bytes held for it: line, values and this */
};

/* A batch is committed once its records hold this much, however few they
 * are: records may be up to 1 MiB each. */
#define BATCH_BYTES_MAX ((size_t)64 << 20)

/* Read a record's values into it (taking over rec's line and index). 0, or
 * -1 out of memory. A record bb-store cannot store comes out status
 * rejected, with error set. */
int store_read(struct item *it, struct bb_record *rec, struct store_conf *c);
void store_item_free(struct item *it);
void store_conf_free(struct store_conf *c);

/* The outcome of writing one record, for the output record. */
struct outcome {
	const char *status;     /* the record's status after the write */
	char notification_id[40];
	int64_t event_id;       /* the last event appended, -1 none */
	struct bb_jw alert;     /* the alert member corrected (empty: leave it) */
};

/* A place of an ok record, for the alert decisions. */
struct bb_alert_place store_place(const struct item *it);

/* The alert decision of a stored record, its outcome updated: alert
 * corrected when the record carries one. */
void store_decided(const struct item *it, const struct bb_alert_decision *d, struct outcome *out);

/* SQLite: the whole batch of n records, each written in turn; out[i] gets
 * each outcome. now is the batch's time. */
int store_batch_lite(struct bb_db *db, struct store_conf *c, const struct item *items, int n,
		     int64_t now, struct outcome *out);
/* SQLite: the batch was not committed; the alerts its decisions assumed
 * stored are not. */
void store_forget_alerts(struct store_conf *c);

/* PostgreSQL: the whole batch of n records in two pipelined round trips
 * (pg.c); out[i] gets each outcome. */
int store_batch_pg(struct bb_db *db, const struct store_conf *c, const struct item *items, int n, int64_t now,
		   struct outcome *out);

/* Shared with pg.c: a rejected or failed record's row. */
int store_failure(struct bb_db *db, const struct item *it, const char *now);

/* Take the per-ASIN locks of a batch, in sorted order (PostgreSQL only). */
int store_lock(struct bb_db *db, const struct item *items, int n);

/* ---- the threads (stages.c) ----
 *
 * The main thread reads records and makes each one's values ready; the
 * writer thread commits a batch while the next one is read; the emitter
 * thread writes a committed batch out while the next one is committed. A
 * stage hands a batch over only once the next stage has finished the one
 * before, so at most three batches are held: one read, one committed, one
 * written out. */

/* A batch of records, in input order, and once committed their outcomes. */
struct batch {
	struct item *items;
	int n;
	size_t held;        /* bytes held by its items */
	size_t cap;
	struct outcome *out;
	char now[40];       /* the commit's time */
	struct batch *next; /* in the list of spare batches */
};

/* The ingest-to-commit lags (the commit's time less sqs.sent_at, in ms) of
 * the records committed in the current heartbeat period, for its row. */
struct lags {
	int64_t *v;
	size_t n, cap;
	int64_t since; /* when the period began (clock ms) */
};

struct stage {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int started;
	struct batch *b; /* handed over, not taken yet */
	int busy;        /* working on the batch (or task) it took */
	int stop;        /* nothing more will be handed over */
	int rc;          /* writer: the exit status it failed with (nothing more is taken) */
	int failed;      /* emitter: the errno of a write that failed */
	/* writer: the tasks of an idle stream, and when the last heartbeat was written */
	int beat, prune;
	int64_t last_heartbeat;
	FILE *out;       /* emitter: its own stream on standard output */
};

struct ctx {
	struct bb_db *db;
	struct store_conf conf;
	struct batch *cur; /* main thread: the batch being read */
	int64_t batch_max, max_delay, retry_for, keep;
	int64_t batch_started, last_prune, started; /* main thread's */
	char host[256];
	/* the writer's */
	size_t processed, failed, duplicates;
	struct bb_outage outage; /* the database's, warned about as outage.h says */
	struct lags lags;
	struct stage writer, emitter;
	pthread_mutex_t spare_mu;
	struct batch *spare;
};

/* Start the checkpointer (SQLite), the emitter and the writer, none of
 * which takes SIGTERM or SIGINT from the main thread. 0, or an exit status. */
int stages_start(struct ctx *c);
/* Hand the batch read to the writer once it has committed the one before;
 * c->cur gets an empty one. 0, or the exit status the writer failed with. */
int stages_submit(struct ctx *c);
/* Whether the writer has nothing to do. */
int stages_writer_idle(struct ctx *c);
/* The main thread, idle with c->cur read so far: hand the writer an idle
 * stream's heartbeat and pruning when due. *wait_ms gets how long to wait
 * for input before asking again. 0, or the exit status the writer failed with. */
int stages_idle(struct ctx *c, int64_t now, int *wait_ms);
/* Everything handed over committed and written out, the threads gone. 0,
 * or the exit status of the first failure, reported. */
int stages_stop(struct ctx *c);
/* An empty batch, from the spares when there is one. NULL out of memory. */
struct batch *batch_get(struct ctx *c);
/* The threads stopped if they still run (without a word), everything freed. */
void stages_free(struct ctx *c);

#endif
