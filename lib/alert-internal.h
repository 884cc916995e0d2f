/* alert-internal.h: what alert.c, alertdb.c and alertlife.c share. */
#ifndef BB_ALERT_INTERNAL_H
#define BB_ALERT_INTERNAL_H

#include "alert.h"

/* A view's entry: the alerts of one place, one per severity (a fingerprint
 * names its severity, and the severity its queue). */
struct bb_place_alerts {
	struct bb_alert_state s[BB_SEVERITIES];
	int unnamed_open; /* a stored open alert no severity names: a recovery may resolve it */
};

/* The place's alerts; when create is set, added with none stored if absent.
 * NULL when absent (or out of memory). */
struct bb_place_alerts *bb_alert_view_place(struct bb_alert_view *v, struct bb_alert_place p, int create);

/* Forget the oldest places until n more can be added without forgetting any. */
void bb_alert_view_make_room(struct bb_alert_view *v, size_t n);

/* Append an alert event for place p (on PostgreSQL notified on bb_events at
 * commit); *event_id gets its id. 0, or a BB_DB_* error. */
int bb_alert_event(struct bb_db *db, struct bb_alert_place p, struct bb_str payload, const char *now,
		   int64_t *event_id);

#endif
