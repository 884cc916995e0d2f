/* seen.h: a bounded set of strings that forgets the oldest first. It backs
 * the database's unique keys so a burst of redeliveries is caught in memory. */
#ifndef BB_SEEN_H
#define BB_SEEN_H

#include <stddef.h>

struct bb_seen;

struct bb_seen *bb_seen_new(size_t capacity);
void bb_seen_free(struct bb_seen *s);
int bb_seen_has(const struct bb_seen *s, const char *key);
/* Add key (evicting the oldest when full); returns the slot's value pointer
 * for callers that keep data with a key, NULL when out of memory. */
void **bb_seen_add(struct bb_seen *s, const char *key);
void **bb_seen_get(struct bb_seen *s, const char *key);

#endif
