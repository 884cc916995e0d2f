/* json.h: reading JSON, strictly (RFC 8259), for every program of bb.
 *
 * A document is parsed whole into a flat array of values, then read through
 * small handles: a value's type, member lookup, array and object iteration,
 * strings as bytes with a length (a string may hold U+0000), booleans,
 * integers, and a number's text exactly as written (money is read from that
 * text, never through a double). Anything that is not JSON in UTF-8 — a
 * number form the grammar does not allow, a control byte in a string, invalid
 * or overlong UTF-8, bytes after the value — fails the parse with the byte
 * offset of the fault. Implemented over simdjson (json.cc): its first stage
 * checks and indexes the text, the values are read from the index, and a
 * string is only decoded when it is read. */
#ifndef BB_JSON_H
#define BB_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

enum bb_jtype { BB_JNONE, BB_JNULL, BB_JBOOL, BB_JNUMBER, BB_JSTRING, BB_JARRAY, BB_JOBJECT };

struct bb_jdoc; /* a parser and the values of the last document it parsed */

/* A value of a document: valid until the document is parsed again or freed.
 * The zero handle (and any handle of type BB_JNONE) stands for "absent":
 * every reader below accepts it and answers "none". */
struct bb_jval {
	const struct bb_jdoc *doc;
	uint32_t i;
};

struct bb_jerr {
	size_t offset;      /* byte offset of the fault in the parsed text */
	char message[120];  /* what is wrong, e.g. "invalid number" */
};

struct bb_jdoc *bb_json_new(void);
void bb_json_free(struct bb_jdoc *d);

/* Parse text[0..len) as one JSON value. 0 and *root set, or -1 with *err. */
int bb_json_parse(struct bb_jdoc *d, const char *text, size_t len, struct bb_jval *root,
		  struct bb_jerr *err);

/* The same without copying the text, which the caller keeps readable for
 * BB_JSON_PADDING bytes past its end (whatever they hold) and unchanged
 * while the document is read: values point into it. */
#define BB_JSON_PADDING 64
int bb_json_parse_padded(struct bb_jdoc *d, const char *text, size_t len, struct bb_jval *root,
			 struct bb_jerr *err);

/* The same, by simdjson's DOM parser alone: slower, the same values and
 * errors. bb_json_parse reads what simdjson's first stage indexes itself and
 * leaves to the DOM parser only what it is not sure of; tests compare the two. */
int bb_json_parse_dom(struct bb_jdoc *d, const char *text, size_t len, struct bb_jval *root,
		      struct bb_jerr *err);

enum bb_jtype bb_json_type(struct bb_jval v);
const char *bb_json_type_name(enum bb_jtype t); /* "a string", "an object", … */

/* obj's member named key[0..n) (the last one when a key repeats), or absent. */
struct bb_jval bb_json_get(struct bb_jval obj, const char *key, size_t n);
/* key NUL-terminated: inline, so that a constant key's length is known when compiled */
static inline struct bb_jval bb_json_getz(struct bb_jval obj, const char *key)
{
	return bb_json_get(obj, key, strlen(key));
}

/* Number of elements of an array or members of an object; 0 otherwise. */
size_t bb_json_count(struct bb_jval v);

/* Iteration over an array's elements or an object's members, in order:
 *   struct bb_jval it = bb_json_first(arr);
 *   for (; bb_json_type(it) != BB_JNONE; it = bb_json_next(it)) …
 * bb_json_key gives the member name of an object's element. */
struct bb_jval bb_json_first(struct bb_jval container);
struct bb_jval bb_json_next(struct bb_jval elem);
int bb_json_key(struct bb_jval member, const char **key, size_t *n);

/* Readers: 0 with the value set when v is of the kind, -1 otherwise.
 * A string is decoded the first time it is read; its bytes are followed by
 * BB_JSON_PADDING readable bytes (of no meaning), so that while the document
 * lives they may be parsed in turn with bb_json_parse_padded. */
int bb_json_string(struct bb_jval v, const char **s, size_t *n); /* decoded bytes */
int bb_json_bool(struct bb_jval v, int *b);
int bb_json_int64(struct bb_jval v, int64_t *i);                /* integers only */
int bb_json_number_text(struct bb_jval v, const char **s, size_t *n); /* as written */

/* The value's JSON text as it stands in the parsed document (any type). */
int bb_json_raw(struct bb_jval v, const char **s, size_t *n);

/* Where v's JSON text, and a member's key (between its quotes, escapes as
 * written), stand in the parsed text: offsets from its first byte. */
int bb_json_span(struct bb_jval v, size_t *off, size_t *n);
int bb_json_key_span(struct bb_jval member, size_t *off, size_t *n);

/* The string v equals s[0..n). */
int bb_json_string_is(struct bb_jval v, const char *s, size_t n);

#ifdef __cplusplus
}
#endif

#endif
