/* store.h: what bb-store writes for one record, inside the batch's transaction. */
#ifndef BB_STORE_H
#define BB_STORE_H

#include "db.h"
#include "record.h"

#include <jq.h>
#include <stdint.h>

struct store_conf {
	const char *worker_id;
	const char **sellers; /* our seller ids; none: the notification's SellerId */
	int nsellers;
};

/* The outcome of writing one record, for the output record. */
struct outcome {
	const char *status;     /* the record's status after the write */
	char notification_id[40];
	int64_t event_id;       /* the last event appended, -1 none */
	jv alert;               /* the alert member corrected, or jv_invalid() to leave it */
	const char *error;      /* why bb-store itself rejected the record, or NULL */
};

/* What an ok record must carry for bb-store to store it; NULL when it does.
 * n and a get its notification and analysis indexed, for the writer to use
 * (the caller frees their m, whatever the answer). */
const char *store_unusable(const struct bb_record *rec, struct bb_record *n, struct bb_record *a);

/* The record's alert member with the action that was written, and a
 * scheduled delivery only for a new alert. Takes ownership of action. */
jv store_alert_member(const struct bb_record *rec, jv action, int64_t event_ms);

/* SQLite: the whole batch of n indexed records, each written in turn while
 * a thread makes the next ones ready (write.c); out[i] gets each outcome.
 * now is the batch's time. */
int store_batch_lite(struct bb_db *db, const struct store_conf *c, const struct bb_record *recs, int n,
		     const char *now, struct outcome *out);

/* PostgreSQL: the whole batch of n indexed records in two pipelined round
 * trips (pg.c); out[i] gets each outcome. */
int store_batch_pg(struct bb_db *db, const struct store_conf *c, const struct bb_record *recs, int n,
		   const char *now, struct outcome *out);

/* Shared with pg.c. */
int store_failure(struct bb_db *db, const struct bb_record *rec, const char *status, const char *now,
		  const char *own_error);

/* Whether seller is one of ours: those configured, else the notification's
 * own SellerId. */
int store_is_ours(const struct store_conf *c, const char *seller, const char *notif_seller);

/* Whether the n bytes are an integer (minor units): an offer is stored with
 * a seller_id and an integer landed price. bb-validate lets no other offer
 * through; one that slips by is left out, never failing its batch. */
int store_integer(const char *s, size_t n);

/* The status a record arrives with, as bb-store treats it: ok, duplicate,
 * skipped, failed, or rejected for anything else. */
const char *store_status(const struct bb_record *rec);

/* Take the per-ASIN locks of a batch, in sorted order (PostgreSQL only). */
int store_lock(struct bb_db *db, const struct bb_record *recs, int n);

#endif
