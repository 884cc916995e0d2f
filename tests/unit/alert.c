/* alert.c: lib/alert.h, the rules and decisions (test_alert) and the
 * statements on alert_queues on a database (test_alert_db). */
#include "alert.h"
#include "timeutil.h"
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN (60 * 1000)
#define T0 1748779200000LL /* 2025-06-01T12:00:00Z */

static struct bb_alert_place place(const char *asin, size_t n)
{
	return (struct bb_alert_place){ { asin, n }, BB_LIT("ATVPDKIKX0DER") };
}

/* The action of one decision (its fingerprint freed). */
static enum bb_alert_act act(struct bb_alert_view *v, const char *asin, enum bb_severity sev, int64_t ms)
{
	struct bb_alert_decision d;
	if (bb_alert_decide(v, place(asin, strlen(asin)), sev, ms, &d) != 0)
		return (enum bb_alert_act)-1;
	bb_alert_decision_free(&d);
	return d.action;
}

static char *member(const struct bb_alert_decision *d)
{
	struct bb_jw w;
	size_t n;
	bb_jw_init(&w);
	bb_alert_member(&w, d);
	char *text = bb_jw_take(&w, &n), *s = strndup(text, n);
	free(text);
	return s;
}

static void rules(void)
{
	struct bb_alert_view *v = bb_alert_view_new(8);
	struct bb_alert_decision d;

	bb_alert_decide(v, place("B1", 2), BB_SEV_CRITICAL, T0 + 123, &d);
	check(d.action == BB_ACT_NEW && d.fingerprint.n == 25 && memcmp(d.fingerprint.p, "B1|ATVPDKIKX0DER|critical", 25) == 0 &&
		      strcmp(d.queue, "high_priority") == 0 && d.scheduled_delivery == T0 + 123,
	      "alert: a first CRITICAL is new, high_priority, delivered at its event time");
	char *m = member(&d);
	check(strcmp(m, "{\"fingerprint\":\"B1|ATVPDKIKX0DER|critical\",\"action\":\"new\",\"queue_type\":\"high_priority\","
			"\"scheduled_delivery\":\"2025-06-01T12:00:00.123Z\",\"snooze_until\":null}") == 0,
	      "alert: the record's alert member");
	free(m);
	bb_alert_decision_free(&d);
	check(act(v, "B2", BB_SEV_WARNING, T0) == BB_ACT_NEW && act(v, "B2", BB_SEV_WARNING, T0 + 20 * MIN) == BB_ACT_UPDATE &&
		      act(v, "B2", BB_SEV_WARNING, T0 + 50 * MIN) == BB_ACT_NEW &&
		      act(v, "B2", BB_SEV_WARNING, T0 + 80 * MIN - 1) == BB_ACT_UPDATE,
	      "alert: update within 30 minutes of the last sighting, new at exactly 30");
	check(act(v, "B3", BB_SEV_WARNING, T0) == BB_ACT_NEW && act(v, "B3", BB_SEV_HIGH, T0 + 5 * MIN) == BB_ACT_NEW &&
		      act(v, "B3", BB_SEV_SUCCESS, T0 + 10 * MIN) == BB_ACT_NONE &&
		      act(v, "B3", BB_SEV_WARNING, T0 + 15 * MIN) == BB_ACT_NEW,
	      "alert: a recovery (none) resolves the place's open alerts");
	check(act(v, "B4", BB_SEV_WARNING, T0 + 10 * MIN) == BB_ACT_NEW && act(v, "B4", BB_SEV_STABLE, T0) == BB_ACT_NONE &&
		      act(v, "B4", BB_SEV_WARNING, T0 + 12 * MIN) == BB_ACT_UPDATE,
	      "alert: a recovery older than an alert's last sighting leaves it open");
	bb_alert_view_free(v);
}

static void states(void)
{
	struct bb_alert_state snoozed = { BB_ALERT_SNOOZED, T0, T0 + 40 * MIN };
	struct bb_alert_state acked = { BB_ALERT_ACKNOWLEDGED, T0, -1 }, resolved = { BB_ALERT_RESOLVED, T0, -1 };
	struct bb_alert_state failed = { BB_ALERT_FAILED, T0, -1 };

	check(bb_alert_rule(BB_SEV_WARNING, &snoozed, T0 + 40 * MIN - 1) == BB_ACT_SUPPRESSED &&
		      bb_alert_rule(BB_SEV_WARNING, &snoozed, T0 + 40 * MIN) == BB_ACT_NEW,
	      "alert: suppressed while snoozed past the event, new when the snooze ends");
	check(bb_alert_rule(BB_SEV_HIGH, &acked, T0 + MIN) == BB_ACT_UPDATE &&
		      bb_alert_rule(BB_SEV_HIGH, &resolved, T0 + MIN) == BB_ACT_NEW &&
		      bb_alert_rule(BB_SEV_HIGH, &failed, T0 + MIN) == BB_ACT_NEW,
	      "alert: acknowledged stays open, resolved and failed raise a new alert");
	check(bb_alert_deliver_at(BB_SEV_WARNING, T0 + 3 * MIN + 10000) == T0 + 5 * MIN &&
		      bb_alert_deliver_at(BB_SEV_WARNING, T0 + 5 * MIN) == T0 + 5 * MIN &&
		      bb_alert_deliver_at(BB_SEV_WARNING, T0 + 5 * MIN + 1) == T0 + 10 * MIN &&
		      bb_alert_deliver_at(BB_SEV_SUCCESS, T0) == -1,
	      "alert: WARNING goes out at the next 5-minute boundary, background never");
	check(bb_severity_of("HIGH", 4) == BB_SEV_HIGH && bb_severity_of("high", 4) < 0 && bb_severity_of("HIGH\0", 5) < 0,
	      "alert: severities are named exactly");
}

static void nul_places(void)
{
	struct bb_alert_view *v = bb_alert_view_new(8);
	struct bb_alert_decision a, b;

	bb_alert_decide(v, place("B\0x", 3), BB_SEV_WARNING, T0, &a);
	bb_alert_decide(v, place("B\0y", 3), BB_SEV_WARNING, T0 + MIN, &b);
	check(a.action == BB_ACT_NEW && b.action == BB_ACT_NEW && a.fingerprint.n == 25 &&
		      memcmp(a.fingerprint.p, "B\0x|ATVPDKIKX0DER|warning", 25) == 0,
	      "alert: ASINs that differ only after a NUL byte are two places");
	bb_alert_decision_free(&a);
	bb_alert_decision_free(&b);
	bb_alert_view_free(v);
}

static void transitions(void)
{
	int ok = 1;
	for (int op = 0; op < BB_ALERT_OPERATOR_OPS; op++)
		for (int st = BB_ALERT_QUEUED; st < BB_ALERT_STATUSES; st++) {
			enum bb_alert_status to = bb_alert_transition((enum bb_alert_op)op, (enum bb_alert_status)st);
			int allowed = st != BB_ALERT_RESOLVED && (op != BB_ALERT_RETRY || st == BB_ALERT_FAILED);
			ok &= allowed == (to != BB_ALERT_ABSENT);
		}
	check(ok, "alert: ack, snooze, unsnooze and resolve from every status but resolved; retry from failed");
	check(bb_alert_transition(BB_ALERT_ACK, BB_ALERT_SNOOZED) == BB_ALERT_ACKNOWLEDGED &&
		      bb_alert_transition(BB_ALERT_UNSNOOZE, BB_ALERT_SNOOZED) == BB_ALERT_QUEUED &&
		      bb_alert_transition(BB_ALERT_RETRY, BB_ALERT_FAILED) == BB_ALERT_QUEUED &&
		      bb_alert_transition(BB_ALERT_RESOLVE, BB_ALERT_DELIVERED) == BB_ALERT_RESOLVED,
	      "alert: each operation's target status");
	check(bb_alert_transition(BB_ALERT_EXPIRE, BB_ALERT_SNOOZED) == BB_ALERT_QUEUED &&
		      bb_alert_transition(BB_ALERT_EXPIRE, BB_ALERT_DELIVERED) == BB_ALERT_ABSENT &&
		      bb_alert_transition(BB_ALERT_RECOVER, BB_ALERT_FAILED) == BB_ALERT_RESOLVED &&
		      bb_alert_transition(BB_ALERT_RECOVER, BB_ALERT_RESOLVED) == BB_ALERT_ABSENT &&
		      bb_alert_transition(BB_ALERT_STALE, BB_ALERT_ACKNOWLEDGED) == BB_ALERT_RESOLVED &&
		      bb_alert_transition(BB_ALERT_STALE, BB_ALERT_QUEUED) == BB_ALERT_ABSENT &&
		      bb_alert_transition(BB_ALERT_ESCALATE, BB_ALERT_DELIVERED) == BB_ALERT_DELIVERED &&
		      bb_alert_transition(BB_ALERT_ESCALATE, BB_ALERT_ACKNOWLEDGED) == BB_ALERT_ABSENT,
	      "alert: the clock's transitions: expire from snoozed, stale from delivered or acknowledged, "
	      "escalate from delivered only");
}

void test_alert(void)
{
	rules();
	states();
	nul_places();
	transitions();
}

/* ---- on a database ---- */

struct fix {
	struct bb_db *db;
	int64_t ev[4];
};

static char *one(struct bb_db *db, const char *sql, struct bb_str p)
{
	struct bb_rows *rows;
	char *v = NULL;
	if (bb_db_query(db, sql, p.p ? 1 : 0, &p, &rows) == BB_DB_OK && bb_db_value(rows, 0, 0))
		v = strdup(bb_db_value(rows, 0, 0));
	bb_db_rows_free(rows);
	return v ? v : strdup("(none)");
}

static int is(struct bb_db *db, const char *sql, struct bb_str p, const char *want)
{
	char *v = one(db, sql, p);
	int ok = strcmp(v, want) == 0;
	if (!ok)
		printf("# %s: got '%s', expected '%s'\n", sql, v, want);
	free(v);
	return ok;
}

/* Load a place into a new view, decide one event, write it. The action. */
static enum bb_alert_act decide_write(struct bb_db *db, struct bb_alert_place p, enum bb_severity sev, int64_t ms,
				      int64_t *event_id, int64_t *snooze_until)
{
	struct bb_alert_view *v = bb_alert_view_new(4);
	struct bb_alert_decision d = { 0 };
	struct bb_str nid = BB_LIT("n-1");
	int rc = bb_alert_load(db, v, &p, 1);

	if (rc == BB_DB_OK)
		rc = bb_alert_decide(v, p, sev, ms, &d);
	if (rc == BB_DB_OK)
		rc = bb_alert_write(db, 1, &d, &nid, T0 + 999 * MIN, event_id);
	if (snooze_until)
		*snooze_until = d.snooze_until;
	bb_alert_decision_free(&d);
	bb_alert_view_free(v);
	return rc == BB_DB_OK ? d.action : (enum bb_alert_act)-1;
}

#define ROW "SELECT status || ' ' || occurrences FROM alert_queues WHERE fingerprint = $1"
#define FP1 BB_LIT("B1|ATVPDKIKX0DER|warning")
#define ALERT_EVENTS "SELECT count(*) FROM events WHERE kind = 'alert' AND asin = $1"

static void db_decisions(struct bb_db *db)
{
	struct bb_alert_place p1 = place("B1", 2);
	int64_t ev = -1, ev2 = -1, until;

	check(decide_write(db, p1, BB_SEV_WARNING, T0, &ev, NULL) == BB_ACT_NEW && ev > 0 && is(db, ROW, FP1, "queued 1"),
	      "alert db: a new alert is inserted queued, with an event");
	check(decide_write(db, p1, BB_SEV_WARNING, T0 + 10 * MIN, &ev2, NULL) == BB_ACT_UPDATE && ev2 > ev &&
		      is(db, ROW, FP1, "queued 2"),
	      "alert db: the stored alert, loaded, makes the next one an update");
	struct bb_str b1 = BB_LIT("B1");
	check(is(db, ALERT_EVENTS, b1, "2") &&
		      is(db, "SELECT CAST(payload AS TEXT) FROM events WHERE kind = 'alert' ORDER BY id DESC", (struct bb_str){ NULL, 0 },
			 bb_db_is_pg(db) ? "{\"action\": \"update\", \"severity\": \"WARNING\", \"queue_type\": \"standard\", "
					   "\"fingerprint\": \"B1|ATVPDKIKX0DER|warning\", \"notification_id\": \"n-1\"}" :
					   "{\"fingerprint\":\"B1|ATVPDKIKX0DER|warning\",\"action\":\"update\",\"queue_type\":"
					   "\"standard\",\"severity\":\"WARNING\",\"notification_id\":\"n-1\"}"),
	      "alert db: the events of a new and an updated alert");
	struct bb_str at = BB_LIT("2025-06-01T13:00:00.000Z");
	bb_db_query(db, "UPDATE alert_queues SET status = 'snoozed', snooze_until = $1", 1, &at, NULL);
	check(decide_write(db, p1, BB_SEV_WARNING, T0 + 20 * MIN, &ev, &until) == BB_ACT_SUPPRESSED &&
		      until == T0 + 60 * MIN && is(db, ROW, FP1, "snoozed 3") && is(db, ALERT_EVENTS, b1, "2"),
	      "alert db: while snoozed, suppressed: counted, not announced");
	check(decide_write(db, p1, BB_SEV_SUCCESS, T0 + 30 * MIN, &ev, NULL) == BB_ACT_NONE && is(db, ROW, FP1, "snoozed 3"),
	      "alert db: a recovery leaves a snoozed alert alone");
}

/* PostgreSQL: the question rides in a caller's own pipeline, as in bb-store's batch. */
static void db_pipelined(struct bb_db *db)
{
	struct bb_alert_place p = place("B1", 2);
	struct bb_alert_view *v = bb_alert_view_new(4);
	struct bb_stmt used[1] = { bb_alert_ask_stmt() };
	struct bb_rows *rows[1] = { NULL };
	struct bb_alert_decision d = { 0 };
	struct bb_alert_ask a;

	int rc = bb_alert_ask(v, db, &p, 1, &a);
	if (rc == BB_DB_OK && a.n == 1 && (rc = bb_db_pipe_begin(db, 1, used)) == BB_DB_OK)
		rc = bb_db_pipe_end(db, rows, bb_db_pipe_send_q(db, &a.q[0]));
	if (rc == BB_DB_OK)
		rc = bb_alert_answer(v, &a, rows);
	if (rc == BB_DB_OK)
		rc = bb_alert_decide(v, p, BB_SEV_WARNING, T0 + 25 * MIN, &d);
	check(rc == BB_DB_OK && a.n == 1 && d.action == BB_ACT_SUPPRESSED,
	      "alert db: postgres: the question sent in the caller's pipeline");
	bb_db_rows_free(rows[0]);
	bb_alert_ask_free(&a);
	bb_alert_decision_free(&d);
	bb_alert_view_free(v);
}

/* Several decisions in one write: a recovery resolves what was raised before it. */
static void db_batch(struct bb_db *db)
{
	struct bb_alert_place p[2] = { place("B2", 2), place("B3", 2) };
	struct bb_alert_view *v = bb_alert_view_new(4);
	struct bb_alert_decision d[3];
	struct bb_str nids[3] = { BB_LIT("n-2"), BB_LIT("n-3"), BB_LIT("n-4") };
	int64_t ev[3] = { -1, -1, -1 };

	int rc = bb_alert_load(db, v, p, 2);
	bb_alert_decide(v, p[0], BB_SEV_HIGH, T0, &d[0]);
	bb_alert_decide(v, p[1], BB_SEV_CRITICAL, T0, &d[1]);
	bb_alert_decide(v, p[0], BB_SEV_STABLE, T0 + MIN, &d[2]);
	check(rc == BB_DB_OK && bb_alert_write(db, 3, d, nids, T0 + 999 * MIN, ev) == BB_DB_OK && ev[0] > 0 &&
		      ev[1] > ev[0] && ev[2] > ev[1],
	      "alert db: a batch of decisions is written in order, each with its events");
	check(is(db, ROW, BB_LIT("B2|ATVPDKIKX0DER|high"), "resolved 1") &&
		      is(db, ROW, BB_LIT("B3|ATVPDKIKX0DER|critical"), "queued 1") &&
		      is(db, "SELECT payload->>'action' FROM events WHERE id = (SELECT max(id) FROM events)", (struct bb_str){ NULL, 0 },
			 "resolved"),
	      "alert db: the recovery resolved the alert raised before it in the batch");
	for (int i = 0; i < 3; i++)
		bb_alert_decision_free(&d[i]);
	bb_alert_view_free(v);
}

/* A recovery costs a statement only when the place has an open alert the
 * view knows of, or one it cannot name. */
static void db_recovery(struct bb_db *db)
{
	struct bb_alert_place p = place("B4", 2);
	struct bb_alert_view *v = bb_alert_view_new(4);
	struct bb_alert_decision d[2];
	struct bb_str nid = BB_LIT("n-5");
	int64_t ev = -7;

	int rc = bb_alert_load(db, v, &p, 1);
	bb_alert_decide(v, p, BB_SEV_STABLE, T0, &d[0]);
	check(rc == BB_DB_OK && d[0].action == BB_ACT_NONE && d[0].resolves == 0 &&
		      bb_alert_write(db, 1, d, &nid, T0 + 999 * MIN, &ev) == BB_DB_OK && ev == -7,
	      "alert db: a recovery of a place with no open alert writes nothing");
	bb_alert_decision_free(&d[0]);
	bb_alert_view_free(v);
	/* a row whose fingerprint names no severity: the rules never decide on it, a recovery resolves it */
	struct bb_str row[2] = { BB_LIT("a-odd"), BB_LIT("B4|ATVPDKIKX0DER|custom") };
	rc = bb_db_query(db, "INSERT INTO alert_queues (id, fingerprint, queue_type, asin, marketplace, severity, "
			 "status, occurrences, first_seen, last_seen, updated_at) VALUES ($1, $2, 'standard', 'B4', "
			 "'ATVPDKIKX0DER', 'WARNING', 'queued', 1, '2025-06-01T11:00:00.000Z', "
			 "'2025-06-01T11:00:00.000Z', '2025-06-01T11:00:00.000Z')", 2, row, NULL);
	v = bb_alert_view_new(4);
	if (rc == BB_DB_OK)
		rc = bb_alert_load(db, v, &p, 1);
	bb_alert_decide(v, p, BB_SEV_SUCCESS, T0, &d[1]);
	check(rc == BB_DB_OK && d[1].resolves == 1 && bb_alert_write(db, 1, &d[1], &nid, T0 + 999 * MIN, &ev) == BB_DB_OK &&
		      ev > 0 && is(db, "SELECT status FROM alert_queues WHERE id = $1", row[0], "resolved"),
	      "alert db: a recovery resolves an open alert no severity names");
	bb_alert_decision_free(&d[1]);
	bb_alert_view_free(v);
}

static int apply(struct bb_db *db, enum bb_alert_op op, struct bb_str id, int64_t until, enum bb_alert_status *from)
{
	struct bb_alert_change c = { op, id, T0 + 999 * MIN, until, BB_LIT("ops@example.com"), { NULL, 0 }, { NULL, 0 }, { NULL, 0 } };
	int64_t ev = -1;
	int rc = bb_alert_apply(db, &c, from, &ev);
	return rc == BB_ALERT_DONE && ev <= 0 ? -99 : rc;
}

static void db_lifecycle(struct bb_db *db)
{
	char *id = one(db, "SELECT id FROM alert_queues WHERE fingerprint = $1", BB_LIT("B3|ATVPDKIKX0DER|critical"));
	struct bb_str sid = { id, strlen(id) };
	enum bb_alert_status from;
	const char *st = "SELECT status FROM alert_queues WHERE id = $1";

	check(apply(db, BB_ALERT_ACK, sid, -1, &from) == BB_ALERT_DONE && from == BB_ALERT_QUEUED &&
		      is(db, st, sid, "acknowledged"),
	      "alert db: ack moves a queued alert to acknowledged");
	check(apply(db, BB_ALERT_RETRY, sid, -1, &from) == BB_ALERT_INVALID && is(db, st, sid, "acknowledged"),
	      "alert db: retry of an alert that has not failed changes nothing");
	check(apply(db, BB_ALERT_SNOOZE, sid, T0 + 999 * MIN, &from) == BB_ALERT_INVALID &&
		      apply(db, BB_ALERT_SNOOZE, sid, T0 + 1999 * MIN, &from) == BB_ALERT_DONE &&
		      is(db, "SELECT status || ' ' || (snooze_until IS NOT NULL) FROM alert_queues WHERE id = $1", sid,
			 bb_db_is_pg(db) ? "snoozed true" : "snoozed 1"),
	      "alert db: snooze needs a time after now, and sets it");
	check(apply(db, BB_ALERT_UNSNOOZE, sid, -1, &from) == BB_ALERT_DONE && from == BB_ALERT_SNOOZED &&
		      is(db, "SELECT status || ' ' || (snooze_until IS NULL) FROM alert_queues WHERE id = $1", sid,
			 bb_db_is_pg(db) ? "queued true" : "queued 1"),
	      "alert db: unsnooze queues it again, without its snooze");
	bb_db_query(db, "UPDATE alert_queues SET status = 'failed' WHERE id = $1", 1, &sid, NULL);
	check(apply(db, BB_ALERT_RETRY, sid, -1, &from) == BB_ALERT_DONE && from == BB_ALERT_FAILED && is(db, st, sid, "queued"),
	      "alert db: retry queues a failed alert again");
	check(apply(db, BB_ALERT_RESOLVE, sid, -1, &from) == BB_ALERT_DONE &&
		      apply(db, BB_ALERT_ACK, sid, -1, &from) == BB_ALERT_INVALID && from == BB_ALERT_RESOLVED &&
		      apply(db, BB_ALERT_RESOLVE, sid, -1, &from) == BB_ALERT_INVALID && is(db, st, sid, "resolved"),
	      "alert db: a resolved alert takes no operation");
	check(apply(db, BB_ALERT_ACK, BB_LIT("no-such-id"), -1, &from) == BB_ALERT_NOT_FOUND,
	      "alert db: an unknown id is not found");
	check(is(db, "SELECT payload->>'from' || ' ' || (payload->>'to') || ' ' || (payload->>'by') || ' ' || "
		     "(payload->>'action') || ' ' || (payload->'note') FROM events WHERE id = (SELECT max(id) FROM events)",
		 (struct bb_str){ NULL, 0 }, "queued resolved ops@example.com resolve null"),
	      "alert db: each transition appends its event");
	free(id);
}

/* SQLite keeps ASINs that differ only after a NUL byte apart; PostgreSQL
 * cannot hold them, and a load then finds nothing rather than failing. */
static void db_nul(struct bb_db *db)
{
	struct bb_alert_place p[2] = { place("B\0x", 3), place("B\0y", 3) };
	int64_t ev;

	if (bb_db_is_pg(db)) {
		struct bb_alert_view *v = bb_alert_view_new(4);
		check(bb_alert_load(db, v, p, 2) == BB_DB_OK && bb_alert_view_has(v, p[0]),
		      "alert db: a place PostgreSQL cannot hold loads with no alerts");
		bb_alert_view_free(v);
		return;
	}
	check(decide_write(db, p[0], BB_SEV_WARNING, T0, &ev, NULL) == BB_ACT_NEW &&
		      decide_write(db, p[1], BB_SEV_WARNING, T0, &ev, NULL) == BB_ACT_NEW &&
		      decide_write(db, p[0], BB_SEV_WARNING, T0 + MIN, &ev, NULL) == BB_ACT_UPDATE,
	      "alert db: ASINs that differ only after a NUL byte have alerts of their own");
}

void test_alert_db(const char *url)
{
	struct bb_db *db;
	char err[300];

	if (bb_db_open(url, &db, err, sizeof err) != BB_DB_OK) {
		check(0, "alert db: open");
		bb_db_close(db);
		return;
	}
	bb_db_begin(db); /* as the programs do: everything in a transaction, rolled back */
	db_decisions(db);
	if (bb_db_is_pg(db))
		db_pipelined(db);
	db_batch(db);
	db_recovery(db);
	db_lifecycle(db);
	db_nul(db);
	bb_db_rollback(db);
	bb_db_close(db);
}
