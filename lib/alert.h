/* alert.h: the alert rules of SEVERITY.md, shared by bb-dedupe (which
 * proposes) and bb-store (whose write is the final word). Times are
 * milliseconds since the epoch, in event time. */
#ifndef BB_ALERT_H
#define BB_ALERT_H

#include <stddef.h>
#include <stdint.h>

#define BB_ALERT_WINDOW_MS (30 * 60 * 1000)   /* same fingerprint within this: an update */
#define BB_ALERT_STANDARD_MS (5 * 60 * 1000)  /* WARNING delivery boundary */

/* What is stored of an alert: status "" when there is none. */
struct bb_alert_row {
	char status[16];      /* queued delivered acknowledged resolved snoozed */
	int64_t last_seen;    /* event time */
	int64_t snooze_until; /* -1 when none */
};

/* high_priority, standard or background for a severity. */
const char *bb_alert_queue(const char *severity);

/* "ASIN|MARKETPLACE|severity" in lower case. */
void bb_alert_fingerprint(const char *asin, const char *marketplace, const char *severity,
			  char *buf, size_t size);

/* new, update, suppressed, or none (background severities). */
const char *bb_alert_action(const char *severity, const struct bb_alert_row *row, int64_t event_ms);

/* When the alert goes out: at once for high_priority; the first 5-minute
 * boundary at or after the event for standard; -1 for background. */
int64_t bb_alert_delivery(const char *queue, int64_t event_ms);

int bb_alert_is_open(const char *status);

#endif
