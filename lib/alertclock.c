/* alertclock.c: what the clock does to alerts (ALERTS.md "The clock"):
 * snooze expiry, auto-resolve and recovery. Each rule is a condition on
 * alert_queues (and its place's current_state); the alerts it holds for
 * are listed, then each is moved in a transaction of its own that checks
 * the condition again, locking the row, so a new occurrence or an
 * operator's change in between is never overruled. The move itself and
 * its event are bb_alert_apply's, whose table says what may move. */
#include "alert.h"
#include "timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK 500 /* alerts listed at a time */

#define FROM_PLACE " FROM alert_queues a LEFT JOIN current_state s ON s.asin = a.asin AND s.marketplace = a.marketplace"
/* the condition of a rule, with $1 its time; the second column: whether
 * the place's state still names the alert (snooze expiry: queued again) */
#define HOLDS "SELECT a.id, CASE WHEN s.severity = a.severity THEN 1 ELSE 0 END" FROM_PLACE " WHERE "
#define LIST " ORDER BY a.id LIMIT $2"
#define ONE " AND a.id = $2"
#define LOCK " FOR UPDATE OF a"

#define EXPIRED "a.status = 'snoozed' AND a.snooze_until <= $1"
#define STALE "a.status IN ('delivered', 'acknowledged') AND a.last_seen <= $1"
/* a place that recovered after the alert was last seen (bb-store resolves
 * most as the event comes; not a failed alert, nor one seen out of order) */
#define RECOVERED "a.status IN ('queued', 'delivered', 'acknowledged', 'failed') " \
	"AND s.severity IN ('SUCCESS', 'STABLE') AND a.last_seen <= s.event_time AND CAST($1 AS TEXT) IS NOT NULL"

struct rule {
	enum bb_alert_op op; /* when the state still names the alert; recover otherwise */
	const char *reason;
	const char *list, *one_lite, *one_pg;
};

#define RULE(op, reason, cond) { op, reason, HOLDS cond LIST, HOLDS cond ONE, HOLDS cond ONE LOCK }
static const struct rule rules[] = {
	RULE(BB_ALERT_EXPIRE, "snooze ended", EXPIRED),
	RULE(BB_ALERT_STALE, "stale", STALE),
	RULE(BB_ALERT_RECOVER, "recovered", RECOVERED),
};

static struct bb_str str(const char *z)
{
	return (struct bb_str){ z, z ? strlen(z) : 0 };
}

/* Move one alert if the rule still holds for it: *done gets the operation
 * applied, or -1 when none was. */
static int move_one(struct bb_db *db, const struct bb_alert_clock *k, const struct rule *r, const char *at,
		    struct bb_str id, int *done)
{
	struct bb_rows *rows = NULL;
	struct bb_str v[2] = { str(at), id };
	enum bb_alert_status from;
	int64_t event_id;
	int rc = bb_db_begin(db);

	*done = -1;
	if (rc == BB_DB_OK)
		rc = bb_db_query(db, bb_db_is_pg(db) ? r->one_pg : r->one_lite, 2, v, &rows);
	if (rc == BB_DB_OK && bb_db_nrows(rows) == 1) {
		int holds = strcmp(bb_db_value(rows, 0, 1), "1") == 0;
		struct bb_alert_change c = { .op = holds || r->op != BB_ALERT_EXPIRE ? r->op : BB_ALERT_RECOVER,
					     .id = id, .now = k->now, .by = k->by };
		c.reason = str(c.op == r->op ? r->reason : "recovered");
		rc = bb_alert_apply(db, &c, &from, &event_id);
		*done = rc == BB_ALERT_DONE ? (int)c.op : -1;
	}
	bb_db_rows_free(rows);
	rc = rc == BB_DB_OK ? bb_db_commit(db) : rc;
	if (rc != BB_DB_OK)
		bb_db_rollback(db);
	return rc < 0 ? rc : BB_DB_OK; /* one that moved meanwhile is left to the next pass */
}

static int sweep_rule(struct bb_db *db, const struct bb_alert_clock *k, const struct rule *r, int64_t at_ms,
		      int moved[BB_ALERT_OPS])
{
	char at[40], lim[16];
	int rc = BB_DB_OK, listed, any;

	bb_time_format(at_ms, at, sizeof at);
	snprintf(lim, sizeof lim, "%d", CHUNK);
	do {
		struct bb_rows *rows = NULL;
		listed = any = 0;
		rc = bb_db_query(db, r->list, 2, (struct bb_str[]){ str(at), str(lim) }, &rows);
		for (int i = 0; rc == BB_DB_OK && i < bb_db_nrows(rows); i++, listed++) {
			int done;
			rc = move_one(db, k, r, at, bb_db_text(rows, i, 0), &done);
			if (done >= 0)
				moved[done]++, any++;
		}
		bb_db_rows_free(rows);
	} while (rc == BB_DB_OK && listed == CHUNK && any > 0);
	return rc;
}

/* When each timed rule next finds something: the first snooze to end, the
 * first last_seen to go stale, the first escalation to fall due, and an
 * escalation decided but not sent, once its backoff and claim are over. */
#define NEXT_SWEEP(greatest) "SELECT " \
	"(SELECT min(snooze_until) FROM alert_queues WHERE status = 'snoozed'), " \
	"(SELECT min(last_seen) FROM alert_queues WHERE status IN ('delivered', 'acknowledged')), " \
	"(SELECT min(CASE WHEN escalated_at > delivered_at THEN escalated_at ELSE delivered_at END) " \
	"FROM alert_queues WHERE severity = 'CRITICAL' AND status = 'delivered' " \
	"AND escalation_delivery_id IS NULL AND escalation_level < CAST($1 AS INTEGER)), " \
	"(SELECT min(" greatest "(delivered_at, COALESCE(next_attempt_at, delivered_at), " \
	"COALESCE(claim_until, delivered_at))) FROM alert_queues WHERE severity = 'CRITICAL' " \
	"AND status = 'delivered' AND escalation_delivery_id IS NOT NULL)"

int bb_alert_sweep_next_due(struct bb_db *db, const struct bb_alert_clock *k, int64_t *due)
{
	char max[16];
	struct bb_rows *rows = NULL;

	snprintf(max, sizeof max, "%d", k->max_escalations);
	int rc = bb_db_query(db, bb_db_is_pg(db) ? NEXT_SWEEP("GREATEST") : NEXT_SWEEP("max"), 1,
			     (struct bb_str[]){ str(max) }, &rows);
	int64_t after[] = { 0, k->auto_resolve_ms, k->escalate_ms, 0 };

	*due = -1;
	for (int i = 0; rc == BB_DB_OK && i < 4; i++) {
		struct bb_str t = bb_db_text(rows, 0, i);
		int64_t at;
		if (t.p && bb_time_parse_loose(t.p, t.n, &at) == 0 && (*due < 0 || at + after[i] < *due))
			*due = at + after[i];
	}
	bb_db_rows_free(rows);
	return rc;
}

int bb_alert_sweep(struct bb_db *db, const struct bb_alert_clock *k, int moved[BB_ALERT_OPS])
{
	int64_t at[] = { k->now, k->now - k->auto_resolve_ms, k->now };
	int rc = BB_DB_OK;

	for (size_t i = 0; rc == BB_DB_OK && i < sizeof rules / sizeof *rules; i++)
		rc = sweep_rule(db, k, &rules[i], at[i], moved);
	return rc;
}
