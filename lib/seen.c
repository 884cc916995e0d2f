/* seen.c: a ring of entries chained into hash buckets. */
#include "seen.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct entry {
	char *key;
	void *value;
	size_t next; /* next entry in the bucket, or SIZE_MAX */
	size_t bucket;
};

struct bb_seen {
	struct entry *ring;
	size_t cap, used, oldest;
	size_t *buckets, nbuckets;
};

static size_t hash(const char *s)
{
	size_t h = 1469598103934665603ULL; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

struct bb_seen *bb_seen_new(size_t capacity)
{
	struct bb_seen *s = calloc(1, sizeof *s);
	if (!s || !capacity)
		return s;
	s->cap = capacity;
	s->nbuckets = capacity * 2;
	s->ring = calloc(capacity, sizeof *s->ring);
	s->buckets = malloc(s->nbuckets * sizeof *s->buckets);
	if (!s->ring || !s->buckets) {
		bb_seen_free(s);
		return NULL;
	}
	memset(s->buckets, 0xff, s->nbuckets * sizeof *s->buckets);
	return s;
}

void bb_seen_free(struct bb_seen *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->used; i++) {
		free(s->ring[i].key);
		free(s->ring[i].value);
	}
	free(s->ring);
	free(s->buckets);
	free(s);
}

void **bb_seen_get(struct bb_seen *s, const char *key)
{
	if (!s || !s->cap)
		return NULL;
	for (size_t i = s->buckets[hash(key) % s->nbuckets]; i != SIZE_MAX; i = s->ring[i].next)
		if (strcmp(s->ring[i].key, key) == 0)
			return &s->ring[i].value;
	return NULL;
}

int bb_seen_has(const struct bb_seen *s, const char *key)
{
	return bb_seen_get((struct bb_seen *)s, key) != NULL;
}

static void unlink_entry(struct bb_seen *s, size_t i)
{
	size_t *p = &s->buckets[s->ring[i].bucket];
	while (*p != i)
		p = &s->ring[*p].next;
	*p = s->ring[i].next;
	free(s->ring[i].key);
	free(s->ring[i].value);
}

void **bb_seen_add(struct bb_seen *s, const char *key)
{
	void **v = bb_seen_get(s, key);
	size_t i;

	if (v || !s || !s->cap)
		return v;
	if (s->used < s->cap) {
		i = s->used++;
	} else {
		i = s->oldest;
		s->oldest = (s->oldest + 1) % s->cap;
		unlink_entry(s, i);
	}
	size_t b = hash(key) % s->nbuckets;
	s->ring[i] = (struct entry){ strdup(key), NULL, s->buckets[b], b };
	s->buckets[b] = i;
	return s->ring[i].key ? &s->ring[i].value : NULL;
}
