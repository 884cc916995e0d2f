/* record: the record scanner of lib/record.c on one input line, as the loop
 * hands it over: the member index (bb_record_index, bb_record_sub), string
 * members decoded (bb_record_string, checked against libjq for plain ASCII),
 * arrays walked (bb_json_array_each), members and the line parsed strictly
 * (lib/json.h, checked against libjq), copies, and the writer. */
#include "fuzz.h"
#include "record.h"
#include <jq.h>
#include <limits.h>

#define MAX_DEPTH 8

static FILE *devnull;

static void members(const struct bb_record *r, int depth);

/* One element of an array: walked again if it is an array itself, indexed
 * if it is an object. */
static int element(const char *elem, size_t n, void *ctx)
{
	int depth = *(const int *)ctx;
	struct bb_record sub = { .line = elem, .len = n, .total_len = n };

	FUZZ_ASSERT(n > 0);
	if (depth >= MAX_DEPTH)
		return 0;
	depth++;
	bb_json_array_each(elem, n, element, &depth);
	if (bb_record_index(&sub) == 0)
		members(&sub, depth);
	free(sub.m);
	return 0;
}

/* A string value whose escapes stand for ASCII only decodes to what libjq
 * makes of it. (libjq replaces bad UTF-8 and lone surrogates; bb does not.) */
static void same_as_jq(const struct bb_member *m, const char *s, size_t len)
{
	for (size_t i = 0; i < m->vallen; i++)
		if ((unsigned char)m->val[i] >= 0x80 ||
		    (m->val[i] == '\\' && i + 1 < m->vallen && m->val[i + 1] == 'u'))
			return;
	if (m->vallen > INT_MAX)
		return;
	jv v = jv_parse_sized(m->val, (int)m->vallen);
	if (jv_get_kind(v) == JV_KIND_STRING) {
		FUZZ_ASSERT((size_t)jv_string_length_bytes(jv_copy(v)) == len);
		FUZZ_ASSERT(memcmp(jv_string_value(v), s, len) == 0);
	}
	jv_free(v);
}

static void member(const struct bb_record *r, const struct bb_member *m, int depth)
{
	char *key = strndup(m->key, m->keylen), *s;
	size_t len = 0;

	FUZZ_ASSERT(key);
	if (strlen(key) == m->keylen) { /* lookups are by C string */
		const struct bb_member *found = bb_record_member(r, key);
		FUZZ_ASSERT(found && found->keylen == m->keylen && memcmp(found->key, key, m->keylen) == 0);
		if ((s = bb_record_string(r, key, &len))) {
			FUZZ_ASSERT(s[len] == '\0' && len < found->vallen);
			if (found == m)
				same_as_jq(m, s, len);
			free(s);
		}
		struct bb_record sub;
		if (bb_record_sub(r, key, &sub) == 0 && depth < MAX_DEPTH)
			members(&sub, depth + 1);
		free(sub.m);
	}
	if (depth < MAX_DEPTH)
		bb_json_array_each(m->val, m->vallen, element, &depth);
	free(key);
}

static void members(const struct bb_record *r, int depth)
{
	const char *end = r->line + r->len;

	FUZZ_ASSERT(r->is_object);
	for (size_t i = 0; i < r->nm; i++) {
		const struct bb_member *m = &r->m[i];
		FUZZ_ASSERT(m->key > r->line && m->key + m->keylen < end);
		FUZZ_ASSERT(m->val > m->key + m->keylen && m->vallen > 0 && m->val + m->vallen <= end);
		member(r, m, depth);
	}
}

/* What the strict parser accepts, libjq (lax) accepts too, and what libjq
 * writes of it the strict parser accepts again: the two agree on JSON. But
 * for one known limit: libjq writes a large number such as 6.6e23 as an
 * integer of 24 digits, which the strict parser refuses as out of range. */
static void parse(const char *text, size_t n)
{
	struct bb_jdoc *d = bb_json_new();
	struct bb_jval root;
	struct bb_jerr e;

	FUZZ_ASSERT(d);
	if (n <= INT_MAX && bb_json_parse(d, text, n, &root, &e) == 0) {
		jv v = jv_parse_sized(text, (int)n);
		FUZZ_ASSERT(jv_is_valid(v));
		jv dumped = jv_dump_string(v, 0);
		FUZZ_ASSERT(bb_json_parse(d, jv_string_value(dumped), (size_t)jv_string_length_bytes(jv_copy(dumped)),
					  &root, &e) == 0 ||
			    strcmp(e.message, "number out of range") == 0);
		jv_free(dumped);
	}
	bb_json_free(d);
}

/* The writer, as a stage uses it: one member replaced or added, one removed. */
static void write_back(const struct bb_record *r)
{
	struct bb_emit em;

	memset(&em, 0, sizeof em);
	bb_record_write(r, &em, devnull);
	bb_emit_str(&em, "status", "ok", 2);
	bb_emit_remove(&em, "trace_id");
	bb_record_write(r, &em, devnull);
	bb_emit_free(&em);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = fuzz_copy(data, size);
	struct bb_record r = { .line = line, .len = size, .total_len = size, .lineno = 1 };

	if (!devnull)
		FUZZ_ASSERT((devnull = fopen("/dev/null", "w")));
	if (bb_record_index(&r) == 0) {
		struct bb_record copy;
		members(&r, 0);
		FUZZ_ASSERT(bb_record_copy(&copy, &r) == 0);
		FUZZ_ASSERT(copy.nm == r.nm && memcmp(copy.line, r.line, r.len) == 0);
		bb_record_free(&copy);
	} else {
		FUZZ_ASSERT(!r.is_object);
	}
	write_back(&r);
	parse(line, size);
	bb_json_array_each(line, size, element, &(int){ 0 });
	free(r.m);
	free(line);
	return 0;
}
