/* seen.c: a ring of entries chained into hash buckets. */
#include "seen.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct entry {
	char *key;
	size_t n;
	void *value;
	size_t next; /* next entry in the bucket, plus one; 0: none */
	size_t bucket;
};

struct bb_seen {
	struct entry *ring;
	size_t cap, used, oldest;
	size_t *buckets, nbuckets; /* each its first entry, plus one; 0: none, so
				    * that a bucket never used is a page never touched */
};

static size_t hash(const char *s, size_t n)
{
	size_t h = 1469598103934665603ULL; /* FNV-1a */
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
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
	s->buckets = calloc(s->nbuckets, sizeof *s->buckets);
	if (!s->ring || !s->buckets) {
		bb_seen_free(s);
		return NULL;
	}
	return s;
}

void bb_seen_free(struct bb_seen *s)
{
	if (!s)
		return;
	for (size_t i = 0; s->ring && i < s->used; i++) {
		free(s->ring[i].key);
		free(s->ring[i].value);
	}
	free(s->ring);
	free(s->buckets);
	free(s);
}

size_t bb_seen_capacity(const struct bb_seen *s)
{
	return s ? s->cap : 0;
}

void **bb_seen_get(struct bb_seen *s, const char *key, size_t n)
{
	if (!s || !s->cap)
		return NULL;
	for (size_t j = s->buckets[hash(key, n) % s->nbuckets]; j != 0; j = s->ring[j - 1].next) {
		struct entry *e = &s->ring[j - 1];
		if (e->key && e->n == n && memcmp(e->key, key, n) == 0)
			return &e->value;
	}
	return NULL;
}

int bb_seen_has(const struct bb_seen *s, const char *key, size_t n)
{
	return bb_seen_get((struct bb_seen *)s, key, n) != NULL;
}

/* The oldest entry out of its bucket; its slot is reused. */
static void evict(struct bb_seen *s, size_t i)
{
	size_t *p = &s->buckets[s->ring[i].bucket];
	if (!s->ring[i].key)
		return; /* already forgotten by bb_seen_make_room */
	while (*p != i + 1)
		p = &s->ring[*p - 1].next;
	*p = s->ring[i].next;
	free(s->ring[i].key);
	free(s->ring[i].value);
	s->ring[i].key = NULL;
	s->ring[i].value = NULL;
}

/* The next n adds take the slots never used first, then the oldest ones:
 * those are emptied now. */
void bb_seen_make_room(struct bb_seen *s, size_t n)
{
	size_t fresh = s ? s->cap - s->used : 0;
	size_t reuse = s && n > fresh ? n - fresh : 0;

	for (size_t k = 0; k < reuse && k < s->cap; k++)
		evict(s, (s->oldest + k) % s->cap);
}

void **bb_seen_add(struct bb_seen *s, const char *key, size_t n)
{
	void **v = bb_seen_get(s, key, n);
	size_t i;

	if (v || !s || !s->cap)
		return v;
	if (s->used < s->cap) {
		i = s->used++;
	} else {
		i = s->oldest;
		s->oldest = (s->oldest + 1) % s->cap;
		evict(s, i);
	}
	char *copy = malloc(n + 1);
	if (!copy)
		return NULL;
	memcpy(copy, key, n);
	size_t b = hash(key, n) % s->nbuckets;
	s->ring[i] = (struct entry){ copy, n, NULL, s->buckets[b], b };
	s->buckets[b] = i + 1;
	return &s->ring[i].value;
}
