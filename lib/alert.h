/* alert.h: the alerts of bb in one module (DESIGN.md "One owner per rule"):
 * the rules of SEVERITY.md "Alerts" that decide what a notification does to
 * its alert, the lifecycle of ALERTS.md "States", and every statement on
 * alert_queues (alertdb.c). bb-dedupe proposes a decision; bb-store decides
 * again inside its transaction and writes it, the final word; bb-alert and
 * bb-serve move alerts through their lifecycle.
 *
 * Times are milliseconds since the epoch: event time for the decisions, so
 * a replay decides alike; the wall clock for the operator transitions.
 * ASINs, marketplaces and ids are bytes with a length. */
#ifndef BB_ALERT_H
#define BB_ALERT_H

#include "db.h"
#include "jwrite.h"
#include "str.h"

#include <stddef.h>
#include <stdint.h>

#define BB_ALERT_WINDOW_MS (30 * 60 * 1000)   /* same fingerprint within this: an update */
#define BB_ALERT_STANDARD_MS (5 * 60 * 1000)  /* WARNING delivery boundary */

/* ---- the vocabulary ---- */

enum bb_severity { BB_SEV_CRITICAL, BB_SEV_HIGH, BB_SEV_WARNING, BB_SEV_SUCCESS, BB_SEV_STABLE, BB_SEVERITIES };

/* The severity analysis.severity names (upper case), or -1. */
int bb_severity_of(const char *s, size_t n);
const char *bb_severity_name(enum bb_severity sev); /* "CRITICAL" */

/* An alert's status in alert_queues; ABSENT: no row (or one bb does not know). */
enum bb_alert_status {
	BB_ALERT_ABSENT, BB_ALERT_QUEUED, BB_ALERT_DELIVERED, BB_ALERT_ACKNOWLEDGED,
	BB_ALERT_SNOOZED, BB_ALERT_RESOLVED, BB_ALERT_FAILED, BB_ALERT_STATUSES
};
enum bb_alert_status bb_alert_status_of(const char *s, size_t n);
const char *bb_alert_status_name(enum bb_alert_status st); /* "queued"; "" for ABSENT */

/* What a notification does to its alert (alert.action). */
enum bb_alert_act { BB_ACT_NONE, BB_ACT_NEW, BB_ACT_UPDATE, BB_ACT_SUPPRESSED };
const char *bb_alert_act_name(enum bb_alert_act act); /* "none", "new", … */

/* ---- the rules (SEVERITY.md "Alerts") ---- */

/* What a decision reads of a stored alert. */
struct bb_alert_state {
	enum bb_alert_status status;
	int64_t last_seen;    /* event time */
	int64_t snooze_until; /* -1 when none */
};

/* high_priority (CRITICAL, HIGH), standard (WARNING) or background. */
const char *bb_alert_queue_type(enum bb_severity sev);

/* Open for the de-duplication rule: queued, delivered or acknowledged. */
int bb_alert_open(enum bb_alert_status st);

/* The action for an event of severity sev, given the stored alert of its
 * fingerprint (NULL or ABSENT: none): none for a background severity,
 * suppressed while snoozed past the event, update when open and last seen
 * less than 30 minutes before it, else new. */
enum bb_alert_act bb_alert_rule(enum bb_severity sev, const struct bb_alert_state *st, int64_t event_ms);

/* When a new alert goes out: at the event for high_priority, at the first
 * 5-minute boundary at or after it for standard; -1 for background. */
int64_t bb_alert_deliver_at(enum bb_severity sev, int64_t event_ms);

/* ---- decisions against a view of the stored alerts ---- */

/* An ASIN in a marketplace: its alerts are read, decided and resolved together. */
struct bb_alert_place {
	struct bb_str asin, marketplace;
};

/* The alerts of some places as the decisions made so far leave them: what
 * was read from alert_queues (bb_alert_load), moved on by each decision.
 * Holds at most `places` places (at least as many as one load asks about),
 * forgetting the oldest first. */
struct bb_alert_view;
struct bb_alert_view *bb_alert_view_new(size_t places);
void bb_alert_view_free(struct bb_alert_view *v);
int bb_alert_view_has(struct bb_alert_view *v, struct bb_alert_place p);

struct bb_alert_decision {
	enum bb_alert_act action;
	enum bb_severity severity;
	const char *queue;           /* bb_alert_queue_type(severity) */
	struct bb_alert_place place; /* the caller's bytes */
	struct bb_str fingerprint;   /* ASIN|MARKETPLACE|severity in lower case (owned) */
	int64_t event_ms;
	int64_t scheduled_delivery;  /* new: when it goes out; else -1 */
	int64_t snooze_until;        /* suppressed: when the snooze ends; else -1 */
	int resolves;                /* none: the open alerts of the place it resolves, as far as
				      * the view knows them (0: none, and nothing to write) */
};

/* Decide an event's alert against the view, and move the view on as the
 * decision leaves it: new queues the fingerprint's alert, update and
 * suppressed see it later, none resolves the place's open alerts last seen
 * no later than the event. A place the view lacks counts as having no
 * alert. 0, or -1 out of memory. */
int bb_alert_decide(struct bb_alert_view *v, struct bb_alert_place p, enum bb_severity sev, int64_t event_ms,
		    struct bb_alert_decision *d);
void bb_alert_decision_free(struct bb_alert_decision *d);

/* The record's alert member: {fingerprint, action, queue_type,
 * scheduled_delivery, snooze_until}. */
void bb_alert_member(struct bb_jw *w, const struct bb_alert_decision *d);

/* ---- alert_queues (alertdb.c) ---- */

/* Reading the stored alerts of the places the view lacks, in two steps so
 * the question can ride in the caller's pipeline: bb_alert_ask fills a->q
 * (a->n statements: one on PostgreSQL, one per place on SQLite; none when
 * the view has them all), and bb_alert_answer folds their rows (rows[i] of
 * a->q[i]) into the view. The places' bytes must outlive the answer. */
struct bb_alert_ask {
	int n;
	struct bb_query *q;
	/* the module's own */
	struct bb_alert_place *places;
	size_t nplaces;
	struct bb_str *params;
	char *arrays;
};
int bb_alert_ask(struct bb_alert_view *v, const struct bb_db *db, const struct bb_alert_place *p, size_t n,
		 struct bb_alert_ask *a);
int bb_alert_answer(struct bb_alert_view *v, const struct bb_alert_ask *a, struct bb_rows *const *rows);
void bb_alert_ask_free(struct bb_alert_ask *a);
/* The statement bb_alert_ask sends on PostgreSQL, to list in bb_db_pipe_begin. */
struct bb_stmt bb_alert_ask_stmt(void);

/* Both steps in one round trip. 0, or a BB_DB_* error. */
int bb_alert_load(struct bb_db *db, struct bb_alert_view *v, const struct bb_alert_place *p, size_t n);

/* Write decisions in the caller's transaction, in order, each with its
 * alert events (kind alert; on PostgreSQL notified on bb_events at commit):
 * new inserts the fingerprint's alert or raises its old row again, update
 * and suppressed count one more occurrence (only update is announced), none
 * resolves the place's open alerts last seen no later than the event, and
 * costs no statement when the view it was decided against held none
 * (resolves 0): the caller loads the view inside its transaction.
 * nids[i] is the id of decision i's stored notification, now the batch's
 * time; event_ids[i] gets the id of the last event decision i appended
 * (left as it was when none). One round trip on PostgreSQL. 0, or a
 * BB_DB_* error. */
int bb_alert_write(struct bb_db *db, size_t n, const struct bb_alert_decision *d, const struct bb_str *nids,
		   int64_t now, int64_t *event_ids);

/* ---- the alerts of bb-trend's findings (TREND.md) ---- */

/* Raise the alert of a finding of kind (creeping_undercut, …) at event_ms:
 * fingerprint ASIN|MARKETPLACE|kind, in the standard queue with severity
 * WARNING, or the background queue with severity SUCCESS (an opportunity:
 * kept, never delivered). The rule of bb_alert_rule decides as for a
 * WARNING (new, update within 30 minutes of an open one, suppressed while
 * snoozed); the decision is written with its alert event, nid being the
 * notification the finding ends at. *act and *event_id get what was done.
 * 0, or a BB_DB_* error. */
int bb_alert_raise_finding(struct bb_db *db, struct bb_alert_place p, const char *kind, int background,
			   int64_t event_ms, struct bb_str nid, int64_t now, enum bb_alert_act *act,
			   int64_t *event_id);

/* ---- the lifecycle (ALERTS.md "States") ---- */

/* The operator's operations, then the clock's (bb-alert sweep): a snooze
 * that expired while its condition holds (expire), a resolution because
 * the place recovered (recover) or the alert went stale (stale, both named
 * "resolve" in events), and an escalation of an unanswered CRITICAL. */
enum bb_alert_op {
	BB_ALERT_ACK, BB_ALERT_SNOOZE, BB_ALERT_UNSNOOZE, BB_ALERT_RESOLVE, BB_ALERT_RETRY, BB_ALERT_OPERATOR_OPS,
	BB_ALERT_EXPIRE = BB_ALERT_OPERATOR_OPS, BB_ALERT_RECOVER, BB_ALERT_STALE, BB_ALERT_ESCALATE, BB_ALERT_OPS
};
const char *bb_alert_op_name(enum bb_alert_op op); /* "ack", "snooze", … */

/* The status op moves an alert to from `from`, or ABSENT when ALERTS.md
 * does not allow it: ack, snooze, unsnooze, resolve and recover from every
 * status but resolved, retry from failed only, expire from snoozed,
 * stale from delivered and acknowledged, escalate from delivered (to
 * delivered). */
enum bb_alert_status bb_alert_transition(enum bb_alert_op op, enum bb_alert_status from);

/* An operator's change to one alert. */
struct bb_alert_change {
	enum bb_alert_op op;
	struct bb_str id;      /* alert_queues.id */
	int64_t now;           /* wall clock: updated_at, the event, a re-queued delivery */
	int64_t snooze_until;  /* snooze: until when (> now) */
	struct bb_str by, note, reason; /* for the event; p NULL: null */
	struct bb_str delivery_id; /* escalate: the escalation's delivery, to be sent */
};

enum { BB_ALERT_DONE = 0, BB_ALERT_NOT_FOUND = 1, BB_ALERT_INVALID = 2, BB_ALERT_RACED = 3 };

/* Apply a change in the caller's transaction: read the alert's status
 * (*from), refuse what the table forbids (BB_ALERT_INVALID: nothing
 * changed), update the row only while it still has that status
 * (BB_ALERT_RACED when another writer changed it in between: nothing
 * changed, read again), and append the alert event {id, fingerprint,
 * action, from, to, by, note, reason, at} (*event_id), with until for a
 * snooze and escalation_level and delivery_id for an escalation. What
 * goes back to queued (unsnooze, retry, expire) starts its delivery
 * afresh: no attempts, and a new delivery id unless the old one was never
 * confirmed sent. Returns one of the codes above, or a BB_DB_* error (< 0). */
int bb_alert_apply(struct bb_db *db, const struct bb_alert_change *c, enum bb_alert_status *from, int64_t *event_id);

/* ---- reading alerts, and delivering them (alertlife.c) ---- */

enum { BB_ALERT_AMBIGUOUS = 4 };

/* The id of the alert ref names: its whole id, a prefix of at least 8
 * characters that only it has, or its fingerprint. *id gets a malloc'd
 * copy. BB_ALERT_DONE, NOT_FOUND, AMBIGUOUS, or a BB_DB_* error. */
int bb_alert_find(struct bb_db *db, struct bb_str ref, char **id);

/* The columns of bb_alert_list and bb_alert_get: the alert, then its
 * place's current_state (NULL when it has none). */
enum bb_alert_col {
	BB_AC_ID, BB_AC_FINGERPRINT, BB_AC_ASIN, BB_AC_MARKETPLACE, BB_AC_SEVERITY, BB_AC_QUEUE, BB_AC_STATUS,
	BB_AC_OCCURRENCES, BB_AC_FIRST_SEEN, BB_AC_LAST_SEEN, BB_AC_SCHEDULED, BB_AC_SNOOZE_UNTIL, BB_AC_ATTEMPTS,
	BB_AC_DELIVERY_ID, BB_AC_DELIVERED_AT, BB_AC_ACKED_AT, BB_AC_ACKED_BY, BB_AC_ESCALATION, BB_AC_LAST_ERROR,
	BB_AC_UPDATED_AT, BB_AC_CURRENCY, BB_AC_OUR_PRICE, BB_AC_MARKET_LOW, BB_AC_GAP_PCT, BB_AC_POSITION,
	BB_AC_TOTAL_OFFERS, BB_AC_BUY_BOX_WINNER, BB_AC_RULE, BB_AC_REASON, BB_AC_REASONS, BB_AC_ANALYSIS, BB_AC_COLS
};

#define BB_ALERT_FILTER_MAX 8
/* Which alerts bb_alert_list returns: any of the statuses (none given:
 * every status but resolved), any of the severities (none: all), one ASIN
 * and one queue when p is set. */
struct bb_alert_filter {
	struct bb_str status[BB_ALERT_FILTER_MAX], severity[BB_ALERT_FILTER_MAX], asin, queue;
	int nstatus, nseverity;
};

/* Most urgent first: by severity, then failed, queued, delivered,
 * acknowledged, snoozed, resolved, then the latest seen first. */
int bb_alert_list(struct bb_db *db, const struct bb_alert_filter *f, struct bb_rows **rows);
int bb_alert_get(struct bb_db *db, struct bb_str id, struct bb_rows **rows);

/* The alert events of a fingerprint, oldest first: created_at, payload. */
int bb_alert_timeline(struct bb_db *db, struct bb_str fingerprint, struct bb_rows **rows);

/* A digest of the window [since, until]: *alerts, in the columns of
 * bb_alert_list, those open or seen or changed since `since`, grouped by
 * place, the place with the most severe alert first, each place's most
 * severe first; *events, the alert events of the window, oldest first:
 * created_at, payload. */
int bb_alert_digest(struct bb_db *db, int64_t since, int64_t until, struct bb_rows **alerts,
		    struct bb_rows **events);

/* An alert claimed for a delivery attempt. */
struct bb_alert_claim {
	char *id, *delivery_id; /* malloc'd */
	int64_t boundary;       /* its scheduled_delivery */
	int attempt;            /* 1 for the first */
	int escalation;         /* an escalation's delivery, not the alert's own */
};

/* Claim the alerts of a queue due at now (queued, scheduled, past their
 * backoff, claimed by nobody or by a lease that ended) for owner until
 * now + lease_ms, in a transaction of its own (FOR UPDATE SKIP LOCKED on
 * PostgreSQL; SQLite's BEGIN IMMEDIATE writes one at a time), and record
 * each attempt under its delivery id: the one the alert already has (an
 * attempt before this one was not confirmed), else a new one, shared by
 * the alerts of one standard boundary. 0, or a BB_DB_* error. */
int bb_alert_claim(struct bb_db *db, const char *queue, int64_t now, int64_t lease_ms, const char *owner,
		   const char *kind, size_t limit, struct bb_alert_claim **out, size_t *n);
void bb_alert_claims_free(struct bb_alert_claim *c, size_t n);

/* When the first queued alert of the delivered queues falls due, so that a
 * deliverer waits for nothing longer: the earliest over them of the latest
 * of scheduled_delivery (a standard alert's 5-minute boundary), the end of
 * its backoff and the lease of a claim on it. *due gets -1 when none is
 * queued. 0, or a BB_DB_* error. */
int bb_alert_next_due(struct bb_db *db, int64_t *due);

/* How an attempt went: delivered, failed for good, or to be tried again at retry_at. */
enum bb_alert_outcome { BB_OUT_DELIVERED, BB_OUT_FAILED, BB_OUT_RETRY };

/* Settle a claimed attempt in a transaction of its own: the attempt's
 * outcome, and the alert delivered (with its event), failed (with its
 * event) or waiting until retry_at, while owner still holds its claim. */
int bb_alert_settle(struct bb_db *db, const struct bb_alert_claim *c, const char *owner, int64_t now,
		    enum bb_alert_outcome out, int64_t retry_at, struct bb_str detail);

/* ---- the clock (ALERTS.md "The clock") ---- */

/* What bb-alert sweep works with: the time, the thresholds of [alert],
 * and who acts (for the events). */
struct bb_alert_clock {
	int64_t now;
	int64_t auto_resolve_ms; /* auto_resolve_after */
	int64_t escalate_ms;     /* escalate_after */
	int max_escalations;
	struct bb_str by;
};

/* Snooze expiry (expire, or recover when the place's severity no longer
 * names the alert), auto-resolve (stale) and recovery (recover), in that
 * order; each due alert moves in a transaction of its own, its rule
 * checked again inside it, with its event. moved[op] counts what each
 * operation moved. 0, or a BB_DB_* error. */
int bb_alert_sweep(struct bb_db *db, const struct bb_alert_clock *k, int moved[BB_ALERT_OPS]);

/* When the clock's rules next find something to do, as far as the stored
 * alerts say (a recovery comes with a commit, not by the clock): *due the
 * earliest time, -1 none. 0, or a BB_DB_* error. */
int bb_alert_sweep_next_due(struct bb_db *db, const struct bb_alert_clock *k, int64_t *due);

/* Claim the escalations due at k->now, as bb_alert_claim claims alerts: a
 * CRITICAL delivered (not acknowledged) at least escalate_ms since its
 * delivery or its last escalation, below max_escalations, is escalated
 * (with its event) and its escalation's delivery claimed; one decided
 * before and not yet sent is claimed again once its backoff is over. */
int bb_alert_claim_escalations(struct bb_db *db, const struct bb_alert_clock *k, int64_t lease_ms,
			       const char *owner, size_t limit, struct bb_alert_claim **out, size_t *n);

#endif
