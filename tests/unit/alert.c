/* alert.c: lib/alert.h, the rules and decisions. */
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
	struct bb_alert_row row = { "queued", T0, -1 };
	check(strcmp(bb_alert_action("WARNING", &row, T0 + MIN), "update") == 0 &&
		      strcmp(bb_alert_action("BOGUS", NULL, T0), "none") == 0,
	      "alert: the string interface decides by the same rule");
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
	for (int op = 0; op < BB_ALERT_OPS; op++)
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
}

void test_alert(void)
{
	rules();
	states();
	nul_places();
	transitions();
}
