/* validate.h: checking an ANY_OFFER_CHANGED notification and normalising it. */
#ifndef BB_VALIDATE_H
#define BB_VALIDATE_H

#include "json.h"
#include "notification.h"

#include <stdint.h>

struct vconf {
	const char **marketplaces; /* extra ids from the config, beyond Amazon's table */
	int nmarketplaces;
};

/* Times the notification's event_time falls back to, in order, after its own. */
struct vtimes {
	int64_t sent_at;     /* SQS SentTimestamp, or -1 */
	int64_t received_at; /* when bb received it */
};

struct verr {
	const char *type; /* schema, invalid_asin, invalid_marketplace, invalid_amount,
			     invalid_time, unsupported_type */
	char path[256];
	char message[700];
};

enum { V_OK, V_REJECTED, V_UNSUPPORTED };

/* What a notification's normalised strings need beyond the parsed body. */
struct vscratch {
	char condition[32]; /* ItemCondition in lower case */
	char currency[4];
};

/* Validate body (the parsed notification). On V_OK, *out is the normalised
 * notification (its strings point into body's document and into *s);
 * otherwise err says what and where. */
int bb_validate_notification(struct bb_jval body, const struct vconf *conf, const struct vtimes *times,
			     struct bb_notification *out, struct vscratch *s, struct verr *err);

/* NotificationMetadata.NotificationId, trimmed; p NULL when absent or empty. */
struct bb_str bb_notification_id_of(struct bb_jval body);

#endif
