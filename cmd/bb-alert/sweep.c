/* sweep.c: the clock (ALERTS.md "The clock"). Each pass ends snoozes that
 * expired, resolves what went stale or recovered (bb_alert_sweep), then
 * escalates each CRITICAL delivered and unanswered for escalate_after and
 * sends the escalation to the escalation channel, one claim at a time so
 * that sweepers share the work. */
#include "bbalert.h"
#include "exitcode.h"
#include "log.h"
#include "record.h"

#include <stdio.h>
#include <string.h>

/* Every escalation due: *escalated counts those decided in this pass. */
static int escalate(struct app *a, const struct bb_alert_clock *k, const char *owner, int *escalated)
{
	size_t n = 1;
	int rc = BB_DB_OK;

	while (rc == BB_DB_OK && n > 0 && !bb_stopping()) {
		struct bb_alert_claim *c;
		rc = bb_alert_claim_escalations(a->db, k, a->lease_ms, owner, 1, &c, &n);
		for (size_t i = 0; rc == BB_DB_OK && i < n; i++)
			*escalated += c[i].attempt == 1;
		if (rc == BB_DB_OK)
			rc = deliver_claims(a, c, n, "escalation", owner);
		bb_alert_claims_free(c, n);
	}
	return rc;
}

static int pass(struct app *a, const char *owner)
{
	struct bb_alert_clock k = { .now = app_now(a), .auto_resolve_ms = a->auto_resolve_ms,
				    .escalate_ms = a->escalate_ms, .max_escalations = a->max_escalations,
				    .by = { owner, strlen(owner) } };
	int moved[BB_ALERT_OPS] = { 0 }, escalated = 0;
	char n[4][16];
	int rc = bb_alert_sweep(a->db, &k, moved);

	if (rc == BB_DB_OK)
		rc = escalate(a, &k, owner, &escalated);
	snprintf(n[0], sizeof n[0], "%d", moved[BB_ALERT_EXPIRE]);
	snprintf(n[1], sizeof n[1], "%d", moved[BB_ALERT_RECOVER]);
	snprintf(n[2], sizeof n[2], "%d", moved[BB_ALERT_STALE]);
	snprintf(n[3], sizeof n[3], "%d", escalated);
	bb_log(moved[BB_ALERT_EXPIRE] + moved[BB_ALERT_RECOVER] + moved[BB_ALERT_STALE] + escalated ? BB_INFO : BB_DEBUG,
	       NULL, "swept", "requeued", n[0], "recovered", n[1], "stale", n[2], "escalated", n[3], NULL);
	return rc;
}

/* The pause between passes, cut short when something falls due by the
 * clock before the interval ends: woken then, or a second after the pass
 * if it is due already (one the pass could not move is not tried in a
 * loop). A clock that stands still (--now, BB_NOW) brings nothing due. */
static int until_due(struct app *a, int64_t ms)
{
	struct bb_alert_clock k = { .auto_resolve_ms = a->auto_resolve_ms, .escalate_ms = a->escalate_ms,
				    .max_escalations = a->max_escalations };
	int64_t due = -1;
	int rc = clock_runs(a) ? bb_alert_sweep_next_due(a->db, &k, &due) : BB_DB_OK;

	return rc != BB_DB_OK ? rc : nap(a, pause_until_due(a, due, ms, 1000));
}

int run_sweep(struct app *a)
{
	return run_passes(a, "sweep", "sweep alerts in", pass, until_due);
}
