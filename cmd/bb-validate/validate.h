/* validate.h: checking an ANY_OFFER_CHANGED notification and normalising it. */
#ifndef BB_VALIDATE_H
#define BB_VALIDATE_H

#include <jq.h>
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

/* Validate body (any JSON value). On V_OK, *out is the normalised
 * notification; otherwise err says what and where. */
int bb_validate_notification(jv body, const struct vconf *conf, const struct vtimes *times,
			     jv *out, struct verr *err);

#endif
