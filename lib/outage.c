/* outage.c: the one rule for warning about a failing service, so that an
 * operator hears of it at once and is not flooded while it lasts. */
#include "outage.h"
#include "log.h"

#include <stdio.h>

void bb_outage_init(struct bb_outage *o, const char *service, const char *key, const char *name)
{
	pthread_mutex_init(&o->mu, NULL);
	o->service = service;
	o->key = key;
	snprintf(o->name, sizeof o->name, "%s", name);
	o->since = o->warned = -1;
	o->attempts = 0;
	o->told = 0;
}

void bb_outage_destroy(struct bb_outage *o)
{
	pthread_mutex_destroy(&o->mu);
}

int bb_outage_failed(struct bb_outage *o, int64_t now, const char *error, const char *detail)
{
	char msg[80], attempts[24], secs[24];

	pthread_mutex_lock(&o->mu);
	if (o->since < 0)
		o->since = now;
	o->attempts++;
	/* the first failure at once; later ones only once 30 s have passed */
	int due = o->warned < 0 || now - o->warned >= BB_OUTAGE_REPEAT_MS;
	if (due)
		o->warned = now, o->told = 1;
	snprintf(attempts, sizeof attempts, "%lld", (long long)o->attempts);
	snprintf(secs, sizeof secs, "%lld", (long long)((now - o->since) / 1000));
	pthread_mutex_unlock(&o->mu);
	if (!due)
		return 0;
	snprintf(msg, sizeof msg, "%s unavailable: retrying", o->service);
	if (detail && *detail)
		bb_log(BB_WARN, NULL, msg, o->key, o->name, "error", error, "detail", detail, "attempts", attempts,
		       "failing_for_s", secs, NULL);
	else
		bb_log(BB_WARN, NULL, msg, o->key, o->name, "error", error, "attempts", attempts, "failing_for_s",
		       secs, NULL);
	return 1;
}

void bb_outage_over(struct bb_outage *o, int64_t now)
{
	char msg[80], secs[24];

	pthread_mutex_lock(&o->mu);
	int was = o->since >= 0 && o->told;
	int64_t since = o->since;
	o->since = -1; /* warned stays: the next outage waits for its 30 s too */
	o->attempts = 0;
	o->told = 0;
	pthread_mutex_unlock(&o->mu);
	if (!was)
		return;
	snprintf(secs, sizeof secs, "%lld", (long long)((now - since) / 1000));
	snprintf(msg, sizeof msg, "%s available again", o->service);
	bb_log(BB_INFO, NULL, msg, o->key, o->name, "failed_for_s", secs, NULL);
}
