/* bbalert.h: what the subcommands of bb-alert share. */
#ifndef BBALERT_H
#define BBALERT_H

#include "alert.h"
#include "conf.h"
#include "db.h"
#include "jqexpr.h"
#include "jwrite.h"

#include <stdint.h>

/* The command line and [alert] of bb.conf, as main() resolved them. */
struct app {
	struct bb_db *db;
	const struct bb_conf *conf;
	const char *cmd;           /* the subcommand */
	char **args;               /* its operands */
	int nargs;
	int64_t now;               /* --now, BB_NOW or the wall clock; -1: the wall clock, read each pass */
	const char *by, *note, *format, *exec, *webhook;
	const char *jq_expr;       /* --jq or [alert] jq: shapes the document sent */
	struct bb_jq *jq;
	const char *metrics;       /* deliver: --metrics-file */
	int64_t snooze_ms, interval_ms, since_ms;
	int once;
	struct bb_alert_filter filter;
	/* [alert] */
	int64_t retry_base_ms, retry_cap_ms, lease_ms, escalate_ms, auto_resolve_ms;
	int max_attempts, max_escalations;
};

int64_t app_now(const struct app *a);

/* ops.c: ack, snooze, unsnooze, resolve, retry. An exit status. */
int run_op(struct app *a, enum bb_alert_op op);

/* list.c */
int run_list(struct app *a);
int run_show(struct app *a);
/* "USD 21.00", or "-" when a part is missing. */
void money_text(const char *currency, const char *minor, char *buf, size_t size);
/* "2h05m" from a number of milliseconds. */
void age_text(int64_t ms, char *buf, size_t size);

/* doc.c: the alert of row i of bb_alert_list or bb_alert_get as a JSON
 * object (list --format ndjson, and each alert of a delivery document). */
void alert_json(struct bb_jw *w, const struct bb_rows *r, int i, int with_analysis);
int64_t row_time(const struct bb_rows *r, int i, int col); /* -1 when NULL */

/* send.c: a delivery document to the channel of --exec, --webhook or
 * standard output. */
struct sent {
	int ok;
	int64_t retry_after_ms; /* the webhook's Retry-After; -1 none */
	char detail[200];       /* what happened, for the attempt and the log */
};
void send_doc(const struct app *a, const char *doc, size_t n, const char *delivery_id, struct sent *s);

/* deliver.c */
int run_deliver(struct app *a);
/* Send the claims' documents, those sharing a delivery id as one, and
 * settle each claim. */
int deliver_claims(struct app *a, struct bb_alert_claim *c, size_t n, const char *kind, const char *owner);

/* passes.c: deliver and sweep run a pass, once or every --interval until
 * SIGTERM, waiting between passes with pause (which may end early). pass
 * gets who acts, "bb-alert CMD HOST:PID"; what the passes do (for the
 * message when the database fails): "deliver alerts from". An exit status. */
int run_passes(struct app *a, const char *cmd, const char *what, int (*pass)(struct app *a, const char *owner),
	       int (*pause)(struct app *a, int64_t ms));
/* A pause: sleep ms, or until the program is stopping. */
int nap(struct app *a, int64_t ms);
/* Whether the clock runs: not with --now or BB_NOW, where nothing falls due. */
int clock_runs(const struct app *a);
/* A pause of ms cut short to end when something falls due at due (-1:
 * nothing), but never shorter than floor_ms. */
int64_t pause_until_due(const struct app *a, int64_t due, int64_t ms, int64_t floor_ms);

/* sweep.c */
int run_sweep(struct app *a);

/* digest.c */
int run_digest(struct app *a);

#endif
