/* deliver.c: what is due goes out (ALERTS.md "Delivery"). Each pass claims
 * the due alerts of a queue, sends their document, and settles each: a
 * CRITICAL or HIGH alert is one delivery of its own, the WARNINGs of one
 * 5-minute boundary one batch, grouped by ASIN. */
#include "bbalert.h"
#include "exitcode.h"
#include "ids.h"
#include "log.h"
#include "metrics.h"
#include "record.h"
#include "timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BATCH_MAX 1000 /* warnings of one pass */

struct group {
	struct bb_alert_claim *c; /* the claims of one delivery */
	size_t n;
	struct bb_rows **rows;    /* each one's alert */
};

/* A column of an alert read for the document; "" when it is gone. */
static const char *col(struct bb_rows *r, int c)
{
	const char *v = r && bb_db_nrows(r) == 1 ? bb_db_value(r, 0, c) : NULL;
	return v ? v : "";
}

static int by_asin(const void *x, const void *y)
{
	struct bb_rows *const *a = x, *const *b = y;
	int d = strcmp(col(*a, BB_AC_ASIN), col(*b, BB_AC_ASIN));
	return d ? d : strcmp(col(*a, BB_AC_ID), col(*b, BB_AC_ID));
}

/* {"delivery_id", "kind", "created_at", "alerts": […]} */
static void document(struct bb_jw *w, const struct group *g, const char *kind, int64_t now)
{
	bb_jw_obj(w);
	bb_jw_kstrz(w, "delivery_id", g->c[0].delivery_id);
	bb_jw_kstrz(w, "kind", kind);
	bb_jw_ktime(w, "created_at", now);
	bb_jw_key(w, "alerts");
	bb_jw_arr(w);
	for (size_t i = 0; i < g->n; i++)
		if (g->rows[i] && bb_db_nrows(g->rows[i]) == 1)
			alert_json(w, g->rows[i], 0, 0);
	bb_jw_end(w, ']');
	bb_jw_end(w, '}');
}

/* When a failed attempt is tried again: exponential from retry_base,
 * capped, jittered so that deliverers do not retry in step; no sooner
 * than the webhook's Retry-After. */
static int64_t retry_at(const struct app *a, int attempt, int64_t after_ms, int64_t now)
{
	int64_t wait = a->retry_base_ms;
	for (int i = 1; i < attempt && wait < a->retry_cap_ms; i++)
		wait *= 2;
	wait = bb_jitter_ms(wait < a->retry_cap_ms ? wait : a->retry_cap_ms);
	return now + (after_ms > wait ? after_ms : wait);
}

static int settle(struct app *a, const struct group *g, const struct sent *s, const char *owner, int64_t now)
{
	int rc = BB_DB_OK;
	for (size_t i = 0; rc == BB_DB_OK && i < g->n; i++) {
		const struct bb_alert_claim *c = &g->c[i];
		enum bb_alert_outcome out = s->ok ? BB_OUT_DELIVERED
					: c->attempt >= a->max_attempts ? BB_OUT_FAILED : BB_OUT_RETRY;
		rc = bb_alert_settle(a->db, c, owner, now, out, retry_at(a, c->attempt, s->retry_after_ms, now),
				     (struct bb_str){ s->detail, strlen(s->detail) });
		bb_metrics_count("bb_alert_deliveries_total", "outcome", out == BB_OUT_DELIVERED ? "delivered" :
				 out == BB_OUT_FAILED ? "failed" : "retry", 1);
		bb_log(out == BB_OUT_DELIVERED ? BB_INFO : BB_WARN, NULL,
		       out == BB_OUT_DELIVERED ? "delivered" : out == BB_OUT_FAILED ? "delivery failed" : "delivery to retry",
		       "alert", c->id, "delivery_id", c->delivery_id, "detail", s->detail, NULL);
	}
	return rc;
}

/* Read the group's alerts, send their document, settle them. */
static int deliver_group(struct app *a, struct group *g, const char *kind, const char *owner)
{
	struct bb_jw w;
	struct sent s;
	int rc = BB_DB_OK;

	for (size_t i = 0; rc == BB_DB_OK && i < g->n; i++)
		rc = bb_alert_get(a->db, (struct bb_str){ g->c[i].id, strlen(g->c[i].id) }, &g->rows[i]);
	if (rc != BB_DB_OK)
		return rc;
	qsort(g->rows, g->n, sizeof *g->rows, by_asin);
	bb_jw_init(&w);
	document(&w, g, kind, app_now(a));
	if (w.oom)
		rc = BB_DB_ERR;
	else
		send_doc(a, w.buf, w.len, g->c[0].delivery_id, &s), rc = settle(a, g, &s, owner, app_now(a));
	bb_jw_free(&w);
	return rc;
}

/* The claims of one delivery start at c[0]: those sharing its delivery id. */
static size_t group_size(const struct bb_alert_claim *c, size_t n)
{
	size_t k = 1;
	while (k < n && strcmp(c[k].delivery_id, c[0].delivery_id) == 0)
		k++;
	return k;
}

int deliver_claims(struct app *a, struct bb_alert_claim *c, size_t n, const char *kind, const char *owner)
{
	int rc = BB_DB_OK;
	for (size_t i = 0; rc == BB_DB_OK && i < n;) {
		struct group g = { c + i, group_size(c + i, n - i), NULL };
		if (!(g.rows = calloc(g.n, sizeof *g.rows)))
			rc = BB_DB_ERR;
		else
			rc = deliver_group(a, &g, kind, owner);
		for (size_t k = 0; g.rows && k < g.n; k++)
			bb_db_rows_free(g.rows[k]);
		free(g.rows);
		i += g.n;
	}
	return rc;
}

/* Claim what is due of a queue and deliver it; *claimed gets how many. */
static int deliver_queue(struct app *a, const char *queue, const char *kind, size_t limit, const char *owner,
			 size_t *claimed)
{
	struct bb_alert_claim *c;
	size_t n;
	int rc = bb_alert_claim(a->db, queue, app_now(a), a->lease_ms, owner, kind, limit, &c, &n);

	if (rc == BB_DB_OK)
		rc = deliver_claims(a, c, n, kind, owner);
	bb_alert_claims_free(c, n);
	*claimed = n;
	return rc;
}

#define WAKE_CHANNEL "bb_events" /* what the writers of alert events notify */
#define WAKE_STEP_MS 250          /* a wait looks at SIGTERM this often */

/* One pass: every due high_priority alert, one claim at a time so that
 * deliverers share the work, then the due warnings. What is committed
 * from the start of the pass on ends the pause after it. */
static int pass(struct app *a, const char *owner)
{
	size_t n = 1;
	int rc = a->interval_ms > 0 ? bb_db_wait_change(a->db, WAKE_CHANNEL, 0) : BB_DB_OK;

	rc = rc > 0 ? BB_DB_OK : rc;
	while (rc == BB_DB_OK && n > 0 && !bb_stopping())
		rc = deliver_queue(a, "high_priority", "alert", 1, owner, &n);
	if (rc == BB_DB_OK && !bb_stopping())
		rc = deliver_queue(a, "standard", "batch", BATCH_MAX, owner, &n);
	return rc;
}

/* How long the pause may last: no longer than until the first queued alert
 * falls due (a backoff that ends, a batch's boundary), read once the pass
 * is over. A clock that stands still (--now, BB_NOW) brings nothing due. */
static int until_due(struct app *a, int64_t *ms)
{
	int64_t due = -1;
	int rc = clock_runs(a) ? bb_alert_next_due(a->db, &due) : BB_DB_OK;

	if (rc == BB_DB_OK)
		*ms = pause_until_due(a, due, *ms, 0);
	return rc;
}

/* The pause between passes, ended early by another writer's commit
 * (ALERTS.md "Promptness"): a CRITICAL stored meanwhile goes out now, not
 * at the end of the interval; and by the clock, when an alert falls due
 * before the interval ends. */
static int wake_on_commit(struct app *a, int64_t ms)
{
	int rc = until_due(a, &ms);
	for (int64_t end = bb_mono_ms() + ms; rc == 0 && !bb_stopping() && bb_mono_ms() < end;) {
		int64_t left = end - bb_mono_ms();
		rc = bb_db_wait_change(a->db, WAKE_CHANNEL, (int)(left < WAKE_STEP_MS ? left : WAKE_STEP_MS));
	}
	return rc > 0 ? BB_DB_OK : rc;
}

int run_deliver(struct app *a)
{
	return run_passes(a, "deliver", "deliver alerts from", pass, wake_on_commit);
}
