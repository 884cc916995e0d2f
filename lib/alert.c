/* alert.c: de-duplication windows are measured in event time so that a
 * replay of the same notifications makes the same decisions. */
#include "alert.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

const char *bb_alert_queue(const char *severity)
{
	if (strcmp(severity, "CRITICAL") == 0 || strcmp(severity, "HIGH") == 0)
		return "high_priority";
	if (strcmp(severity, "WARNING") == 0)
		return "standard";
	return "background";
}

void bb_alert_fingerprint(const char *asin, const char *marketplace, const char *severity,
			  char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s|%s|", asin, marketplace);
	for (size_t i = n > 0 ? (size_t)n : 0; *severity && i + 1 < size; i++, severity++)
		buf[i] = (char)tolower((unsigned char)*severity), buf[i + 1] = '\0';
}

int bb_alert_is_open(const char *status)
{
	return strcmp(status, "queued") == 0 || strcmp(status, "delivered") == 0 ||
	       strcmp(status, "acknowledged") == 0;
}

const char *bb_alert_action(const char *severity, const struct bb_alert_row *row, int64_t event_ms)
{
	if (strcmp(bb_alert_queue(severity), "background") == 0)
		return "none";
	if (!row || !row->status[0])
		return "new";
	if (strcmp(row->status, "snoozed") == 0 && row->snooze_until > event_ms)
		return "suppressed";
	if (bb_alert_is_open(row->status) && event_ms - row->last_seen < BB_ALERT_WINDOW_MS)
		return "update";
	return "new";
}

int64_t bb_alert_delivery(const char *queue, int64_t event_ms)
{
	if (strcmp(queue, "high_priority") == 0)
		return event_ms;
	if (strcmp(queue, "standard") == 0) {
		int64_t r = event_ms % BB_ALERT_STANDARD_MS;
		return r == 0 ? event_ms : event_ms - r + BB_ALERT_STANDARD_MS;
	}
	return -1;
}
