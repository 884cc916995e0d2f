/* notification.h: the normalised notification (bb-record(5), `notification`)
 * as a C type. bb-validate fills it from the SP-API body and writes it; every
 * later stage reads it back from the record. Strings are views into the
 * parsed record (length-delimited: they may hold any byte); a view with
 * p == NULL is JSON null. Money is in the currency's minor unit. */
#ifndef BB_NOTIFICATION_H
#define BB_NOTIFICATION_H

#include "json.h"
#include "jwrite.h"
#include "str.h"

#include <stddef.h>
#include <stdint.h>

#define BB_NONE INT64_MIN /* an absent number */

struct bb_offer {
	struct bb_str seller_id;
	int64_t listing, shipping, landed;
	int fba, prime, buy_box_winner, featured; /* 1, 0, or -1 for null */
	struct bb_str feedback_count;             /* numbers as written */
	struct bb_str feedback_rating;
	struct bb_str sub_condition;
	struct bb_str min_hours, max_hours;
};

struct bb_ranking {
	struct bb_str category;
	struct bb_str rank; /* as written */
};

struct bb_notification {
	struct bb_str type, notification_id;
	int64_t event_time, publish_time; /* ms; -1 null */
	struct bb_str seller_id, marketplace, asin, condition, change_type, currency;
	struct bb_offer *offers;
	size_t noffers, offers_cap;
	/* summary: BB_NONE when null */
	int64_t total_offers, buy_box_eligible_offers, lowest_landed, buy_box_landed, list_price;
	struct bb_ranking *rankings;
	size_t nrankings, rankings_cap;
};

/* Room for n offers and m rankings (arrays kept between records). 0 or -1. */
int bb_notification_reserve(struct bb_notification *n, size_t offers, size_t rankings);
void bb_notification_clear(struct bb_notification *n); /* empty, arrays kept */
void bb_notification_free(struct bb_notification *n);

/* Read a record's `notification` member. 0, or -1 with *why saying what it
 * lacks (a member, or a member of the wrong type, named by its path). */
int bb_notification_read(struct bb_jval v, struct bb_notification *n, char *why, size_t whylen);

void bb_notification_write(struct bb_jw *w, const struct bb_notification *n);

/* Room for want elements of size bytes in *arr (capacity *cap, doubled
 * as needed, kept between records). 0 or -1. */
int bb_reserve(void **arr, size_t *cap, size_t want, size_t size);

/* Why a member read back from a record is not what its writer writes: the
 * first fault only, as "MEMBER.PATH: expected WHAT", into why[0..whylen). */
struct bb_why {
	char *why;
	size_t whylen;
	const char *member; /* "notification", "analysis" */
	int bad;
};
void bb_why_expected(struct bb_why *r, const char *path, const char *what);

/* Helpers for views. */
int bb_str_eq(struct bb_str s, const char *z);
struct bb_str bb_str_of(struct bb_jval v); /* a string value, else null */

#endif
