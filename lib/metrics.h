/* metrics.h: Prometheus text exposition (version 0.0.4), for node_exporter's
 * textfile collector and bb-serve's /metrics.
 *
 * A long-running program that is given --metrics-file PATH counts what it
 * does here: bb_metrics_start writes PATH at once, again every 15 s from a
 * thread of its own, and a last time at bb_metrics_stop, each time whole
 * (a temporary file renamed over PATH), so a collector never reads half a
 * file. Until it is started, counting costs one test and writes nothing.
 *
 * The names are the plan's: worker_notifications_processed_total,
 * worker_processing_duration_seconds (ingest → commit),
 * worker_dlq_messages_total, worker_heartbeat_timestamp; the rest start
 * with bb_. Every sample carries the process's worker_id and stage, so the
 * files of many processes can sit side by side in one directory. */
#ifndef BB_METRICS_H
#define BB_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define BB_METRICS_PERIOD_MS 15000

/* Start counting for stage (recv, store, ack, alert) under worker_id (NULL:
 * "HOST:PID"), and write path now and every period_ms (0: BB_METRICS_PERIOD,
 * a duration, else 15 s). 0, or the exit status with err set: BB_EX_CONFIG
 * when path cannot be written, BB_EX_SOFTWARE out of memory or threads. */
int bb_metrics_start(const char *path, const char *stage, const char *worker_id, int64_t period_ms,
		     char *err, size_t errlen);
/* The last write, and the thread gone. 0, or -1 with err set. */
int bb_metrics_stop(char *err, size_t errlen);

/* worker_notifications_processed_total{status} += n. */
void bb_metrics_processed(const char *status, int64_t n);
/* worker_dlq_messages_total{error_type} += 1. */
void bb_metrics_dead_lettered(const char *error_type);
/* One observation of worker_processing_duration_seconds, in ms. */
void bb_metrics_duration_ms(int64_t ms);
/* The same for a record committed at now_ms: from its sqs.sent_at, else
 * (a record read from a file) its received_at; -1 for either is absent,
 * and a record with neither is not observed. */
void bb_metrics_commit_lag(int64_t sent_at_ms, int64_t received_at_ms, int64_t now_ms);
/* A counter of bb's own: bb_NAME_total{label="value"} += n (label NULL:
 * no label). name and label are literals from the program. */
void bb_metrics_count(const char *name, const char *label, const char *value, int64_t n);

/* ---- writing the exposition format (used by bb-status and bb-serve too) ---- */

/* # HELP and # TYPE lines of a family. */
void bb_prom_family(FILE *out, const char *name, const char *type, const char *help);
/* One sample: name{k1="v1",…} value, labels given as NULL-terminated
 * key, value pairs (values escaped as the format wants). */
void bb_prom_sample(FILE *out, const char *name, int64_t value, ...) __attribute__((sentinel));
/* The same with a value in thousandths (1250 → 1.25). */
void bb_prom_sample_milli(FILE *out, const char *name, int64_t milli, ...) __attribute__((sentinel));

/* Replace path with text[0..n) whole: a temporary file beside it, then
 * rename. 0, or -1 with errno set. */
int bb_write_file_atomic(const char *path, const char *text, size_t n);

#endif
