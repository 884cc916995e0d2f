/* alert.c: the alert rules and the view decisions are made against.
 * De-duplication windows are measured in event time so that a replay of
 * the same notifications makes the same decisions. */
#include "alert.h"
#include "alert-internal.h"
#include "seen.h"
#include "timeutil.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the vocabulary ---- */

static const char *const severity_names[BB_SEVERITIES] = { "CRITICAL", "HIGH", "WARNING", "SUCCESS", "STABLE" };
static const char *const status_names[BB_ALERT_STATUSES] = { "", "queued", "delivered", "acknowledged",
							     "snoozed", "resolved", "failed" };
static const char *const act_names[] = { "none", "new", "update", "suppressed" };

/* The index of the name s[0..n) in names, or -1. */
static int name_index(const char *const *names, int count, const char *s, size_t n)
{
	for (int i = 0; s && i < count; i++)
		if (strlen(names[i]) == n && memcmp(names[i], s, n) == 0)
			return i;
	return -1;
}

int bb_severity_of(const char *s, size_t n)
{
	return name_index(severity_names, BB_SEVERITIES, s, n);
}

const char *bb_severity_name(enum bb_severity sev)
{
	return severity_names[sev];
}

enum bb_alert_status bb_alert_status_of(const char *s, size_t n)
{
	int i = n > 0 ? name_index(status_names, BB_ALERT_STATUSES, s, n) : -1;
	return i < 0 ? BB_ALERT_ABSENT : (enum bb_alert_status)i;
}

const char *bb_alert_status_name(enum bb_alert_status st)
{
	return status_names[st];
}

const char *bb_alert_act_name(enum bb_alert_act act)
{
	return act_names[act];
}

/* ---- the rules ---- */

const char *bb_alert_queue_type(enum bb_severity sev)
{
	return sev == BB_SEV_CRITICAL || sev == BB_SEV_HIGH ? "high_priority" :
	       sev == BB_SEV_WARNING ? "standard" : "background";
}

int bb_alert_open(enum bb_alert_status st)
{
	return st == BB_ALERT_QUEUED || st == BB_ALERT_DELIVERED || st == BB_ALERT_ACKNOWLEDGED;
}

enum bb_alert_act bb_alert_rule(enum bb_severity sev, const struct bb_alert_state *st, int64_t event_ms)
{
	if (strcmp(bb_alert_queue_type(sev), "background") == 0)
		return BB_ACT_NONE;
	if (!st || st->status == BB_ALERT_ABSENT)
		return BB_ACT_NEW;
	if (st->status == BB_ALERT_SNOOZED && st->snooze_until > event_ms)
		return BB_ACT_SUPPRESSED;
	/* an event older than the last sighting is within the window too */
	if (bb_alert_open(st->status) && event_ms - st->last_seen < BB_ALERT_WINDOW_MS)
		return BB_ACT_UPDATE;
	return BB_ACT_NEW;
}

static int64_t deliver_at(const char *queue, int64_t event_ms)
{
	if (strcmp(queue, "high_priority") == 0)
		return event_ms;
	if (strcmp(queue, "standard") == 0) {
		int64_t r = event_ms % BB_ALERT_STANDARD_MS;
		return r == 0 ? event_ms : event_ms - r + BB_ALERT_STANDARD_MS;
	}
	return -1;
}

int64_t bb_alert_deliver_at(enum bb_severity sev, int64_t event_ms)
{
	return deliver_at(bb_alert_queue_type(sev), event_ms);
}

/* ---- the view ---- */

struct bb_alert_view {
	struct bb_seen *places; /* place key -> struct bb_place_alerts */
	char *key;              /* the last key built */
	size_t keylen, keycap;
};

struct bb_alert_view *bb_alert_view_new(size_t places)
{
	struct bb_alert_view *v = calloc(1, sizeof *v);
	if (v && !(v->places = bb_seen_new(places ? places : 1))) {
		free(v);
		return NULL;
	}
	return v;
}

void bb_alert_view_free(struct bb_alert_view *v)
{
	if (!v)
		return;
	bb_seen_free(v->places);
	free(v->key);
	free(v);
}

/* The place's key: its ASIN's length, then both, so no two places share one. */
static int place_key(struct bb_alert_view *v, struct bb_alert_place p)
{
	char len[24];
	int k = snprintf(len, sizeof len, "%zu:", p.asin.n);
	size_t need = (size_t)k + p.asin.n + p.marketplace.n;
	if (need > v->keycap) {
		char *key = realloc(v->key, need);
		if (!key)
			return -1;
		v->key = key;
		v->keycap = need;
	}
	memcpy(v->key, len, (size_t)k);
	if (p.asin.n)
		memcpy(v->key + k, p.asin.p, p.asin.n);
	if (p.marketplace.n)
		memcpy(v->key + k + p.asin.n, p.marketplace.p, p.marketplace.n);
	v->keylen = need;
	return 0;
}

struct bb_place_alerts *bb_alert_view_place(struct bb_alert_view *v, struct bb_alert_place p, int create)
{
	if (place_key(v, p) != 0)
		return NULL;
	void **slot = create ? bb_seen_add(v->places, v->key, v->keylen) : bb_seen_get(v->places, v->key, v->keylen);
	if (slot && !*slot && (*slot = malloc(sizeof(struct bb_place_alerts)))) {
		struct bb_place_alerts *pa = *slot;
		for (int i = 0; i < BB_SEVERITIES; i++)
			pa->s[i] = (struct bb_alert_state){ BB_ALERT_ABSENT, 0, -1 };
		pa->unnamed_open = 0;
	}
	return slot ? *slot : NULL;
}

void bb_alert_view_make_room(struct bb_alert_view *v, size_t n)
{
	bb_seen_make_room(v->places, n);
}

int bb_alert_view_has(struct bb_alert_view *v, struct bb_alert_place p)
{
	return bb_alert_view_place(v, p, 0) != NULL;
}

/* ---- decisions ---- */

/* ASIN|MARKETPLACE|severity, the severity in lower case. */
static int fingerprint(struct bb_alert_decision *d)
{
	const char *sev = severity_names[d->severity];
	size_t a = d->place.asin.n, m = d->place.marketplace.n, s = strlen(sev);
	char *fp = malloc(a + m + s + 2);

	if (!fp)
		return -1;
	if (a)
		memcpy(fp, d->place.asin.p, a);
	fp[a] = '|';
	if (m)
		memcpy(fp + a + 1, d->place.marketplace.p, m);
	fp[a + 1 + m] = '|';
	for (size_t i = 0; i < s; i++)
		fp[a + m + 2 + i] = (char)tolower((unsigned char)sev[i]);
	d->fingerprint = (struct bb_str){ fp, a + m + 2 + s };
	return 0;
}

/* A recovery resolves the place's open alerts seen no later than it: how
 * many, counting one for those the view cannot name, whose times it does
 * not keep. */
static int resolve_open(struct bb_place_alerts *pa, int64_t event_ms)
{
	int n = pa->unnamed_open;
	for (int i = 0; i < BB_SEVERITIES; i++)
		if (bb_alert_open(pa->s[i].status) && pa->s[i].last_seen <= event_ms) {
			pa->s[i].status = BB_ALERT_RESOLVED;
			n++;
		}
	return n;
}

int bb_alert_decide(struct bb_alert_view *v, struct bb_alert_place p, enum bb_severity sev, int64_t event_ms,
		    struct bb_alert_decision *d)
{
	struct bb_place_alerts *pa = bb_alert_view_place(v, p, 1);

	*d = (struct bb_alert_decision){ BB_ACT_NONE, sev, bb_alert_queue_type(sev), p, { NULL, 0 }, event_ms, -1, -1, 0 };
	if (!pa || fingerprint(d) != 0)
		return -1;
	struct bb_alert_state *st = &pa->s[sev];
	d->action = bb_alert_rule(sev, st, event_ms);
	switch (d->action) {
	case BB_ACT_NONE:
		d->resolves = resolve_open(pa, event_ms);
		break;
	case BB_ACT_NEW:
		d->scheduled_delivery = bb_alert_deliver_at(sev, event_ms);
		*st = (struct bb_alert_state){ BB_ALERT_QUEUED, event_ms, -1 };
		break;
	case BB_ACT_SUPPRESSED: /* seen all the same, as bb-store counts it */
	case BB_ACT_UPDATE:
		if (d->action == BB_ACT_SUPPRESSED)
			d->snooze_until = st->snooze_until;
		if (event_ms > st->last_seen)
			st->last_seen = event_ms;
		break;
	}
	return 0;
}

void bb_alert_decision_free(struct bb_alert_decision *d)
{
	free((char *)d->fingerprint.p);
	d->fingerprint = (struct bb_str){ NULL, 0 };
}

void bb_alert_member(struct bb_jw *w, const struct bb_alert_decision *d)
{
	bb_jw_obj(w);
	bb_jw_kstr(w, "fingerprint", d->fingerprint.p, d->fingerprint.n);
	bb_jw_kstrz(w, "action", act_names[d->action]);
	bb_jw_kstrz(w, "queue_type", d->queue);
	bb_jw_ktime(w, "scheduled_delivery", d->scheduled_delivery);
	bb_jw_ktime(w, "snooze_until", d->snooze_until);
	bb_jw_end(w, '}');
}

/* ---- the lifecycle ---- */

static const char *const op_names[BB_ALERT_OPS] = { "ack", "snooze", "unsnooze", "resolve", "retry",
							"expire", "resolve", "resolve", "escalate" };

const char *bb_alert_op_name(enum bb_alert_op op)
{
	return op_names[op];
}

#define FROM(st) (1u << (st))
#define OPEN (FROM(BB_ALERT_QUEUED) | FROM(BB_ALERT_DELIVERED) | FROM(BB_ALERT_ACKNOWLEDGED) | \
	      FROM(BB_ALERT_SNOOZED) | FROM(BB_ALERT_FAILED))

/* ALERTS.md "States" and "The clock": from which statuses each operation
 * moves an alert, and where to. Resolved is final: a new occurrence raises
 * a new alert. */
static const struct {
	unsigned from;
	enum bb_alert_status to;
} moves[BB_ALERT_OPS] = {
	[BB_ALERT_ACK] = { OPEN, BB_ALERT_ACKNOWLEDGED },
	[BB_ALERT_SNOOZE] = { OPEN, BB_ALERT_SNOOZED },
	[BB_ALERT_UNSNOOZE] = { OPEN, BB_ALERT_QUEUED },
	[BB_ALERT_RESOLVE] = { OPEN, BB_ALERT_RESOLVED },
	[BB_ALERT_RETRY] = { FROM(BB_ALERT_FAILED), BB_ALERT_QUEUED },
	[BB_ALERT_EXPIRE] = { FROM(BB_ALERT_SNOOZED), BB_ALERT_QUEUED },
	[BB_ALERT_RECOVER] = { OPEN, BB_ALERT_RESOLVED },
	[BB_ALERT_STALE] = { FROM(BB_ALERT_DELIVERED) | FROM(BB_ALERT_ACKNOWLEDGED), BB_ALERT_RESOLVED },
	[BB_ALERT_ESCALATE] = { FROM(BB_ALERT_DELIVERED), BB_ALERT_DELIVERED },
};

enum bb_alert_status bb_alert_transition(enum bb_alert_op op, enum bb_alert_status from)
{
	return moves[op].from & FROM(from) ? moves[op].to : BB_ALERT_ABSENT;
}
