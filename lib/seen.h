/* seen.h: a bounded set of strings that forgets the oldest first. It backs
 * the database's unique keys so a burst of redeliveries is caught in memory.
 * Keys are bytes with a length: two keys that differ only after a NUL byte
 * are two keys. */
#ifndef BB_SEEN_H
#define BB_SEEN_H

#include <stddef.h>

struct bb_seen;

struct bb_seen *bb_seen_new(size_t capacity);
void bb_seen_free(struct bb_seen *s); /* frees the values with free() too */
int bb_seen_has(const struct bb_seen *s, const char *key, size_t n);
/* Add key (evicting the oldest when full); returns the slot's value pointer
 * for callers that keep data with a key (malloc'd: freed on eviction), NULL
 * when out of memory. */
void **bb_seen_add(struct bb_seen *s, const char *key, size_t n);
void **bb_seen_get(struct bb_seen *s, const char *key, size_t n);
/* Forget the oldest keys until n more can be added without evicting any. */
void bb_seen_make_room(struct bb_seen *s, size_t n);
size_t bb_seen_capacity(const struct bb_seen *s);

#endif
