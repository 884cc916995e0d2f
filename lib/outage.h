/* outage.h: how a program tells the operator that a service it needs (the
 * SQS endpoint, the database) is failing: a warning at the first failed
 * attempt, then at most one every 30 s while the failures go on, and a note
 * once it answers again. A service that fails and recovers over and over is
 * told of no more often: a failure within 30 s of the last warning waits its
 * turn. One outage may be shared by threads. */
#ifndef BB_OUTAGE_H
#define BB_OUTAGE_H

#include <pthread.h>
#include <stdint.h>

#define BB_OUTAGE_REPEAT_MS 30000

struct bb_outage {
	pthread_mutex_t mu;
	const char *service; /* the log line's subject: "SQS", "database" */
	const char *key;     /* the field that names it: "endpoint", "db" */
	char name[512];      /* its URL, without credentials */
	int64_t since;       /* first failure of the outage in progress (monotonic ms), -1: none */
	int64_t warned;      /* when the last warning went out, -1: never */
	int told;            /* the outage in progress was warned about */
	int64_t attempts;    /* failed attempts since `since` */
};

/* name must hold no secret: a URL with any password removed. */
void bb_outage_init(struct bb_outage *o, const char *service, const char *key, const char *name);
void bb_outage_destroy(struct bb_outage *o);

/* A failed attempt to reach the service, at monotonic time now: logs
 * "SERVICE unavailable: retrying" with the name, error, detail (when not
 * NULL), attempts and failing_for_s when the rule says so. Returns 1 when
 * it logged. */
int bb_outage_failed(struct bb_outage *o, int64_t now, const char *error, const char *detail);

/* The service answered: after an outage, logs "SERVICE available again". */
void bb_outage_over(struct bb_outage *o, int64_t now);

#endif
