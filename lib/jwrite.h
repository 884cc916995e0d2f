/* jwrite.h: the one JSON writer. What a stage adds to a record is written
 * here as bytes — string escaping, integers, fixed-point amounts, times —
 * into a growing buffer; commas between members and elements are placed by
 * the writer, so callers only say what comes next. */
#ifndef BB_JWRITE_H
#define BB_JWRITE_H

#include "str.h"

#include <stddef.h>
#include <stdint.h>

#define BB_JW_DEPTH 32

struct bb_jw {
	char *buf;
	size_t len, cap;
	int oom;   /* an allocation failed: the text is incomplete */
	int depth; /* open objects and arrays */
	unsigned char more[BB_JW_DEPTH]; /* something written at this depth: a comma before the next */
	int after_key;
};

void bb_jw_init(struct bb_jw *w); /* a zeroed struct bb_jw is initialised too */

/* The length of the UTF-8 sequence at p (at most n bytes), 0 when it is not
 * one (overlong forms and surrogates included). */
size_t bb_utf8_len(const unsigned char *p, size_t n);
void bb_jw_reset(struct bb_jw *w); /* empty again, the buffer kept */
void bb_jw_free(struct bb_jw *w);

/* Hand the text over (malloc'd, *n set; NULL on allocation failure) and
 * leave the writer empty. */
char *bb_jw_take(struct bb_jw *w, size_t *n);

void bb_jw_obj(struct bb_jw *w);   /* { */
void bb_jw_arr(struct bb_jw *w);   /* [ */
void bb_jw_end(struct bb_jw *w, char close); /* } or ] */
void bb_jw_key(struct bb_jw *w, const char *key); /* a literal key */

void bb_jw_str(struct bb_jw *w, const char *s, size_t n); /* any bytes: invalid UTF-8 becomes U+FFFD */
void bb_jw_strz(struct bb_jw *w, const char *s);          /* NULL: null */
void bb_jw_int(struct bb_jw *w, int64_t v);
void bb_jw_fixed(struct bb_jw *w, int64_t v, int places); /* 2101, 2 → 21.01 */
void bb_jw_bool(struct bb_jw *w, int b);
void bb_jw_null(struct bb_jw *w);
void bb_jw_raw(struct bb_jw *w, const char *json, size_t n); /* text already JSON */
void bb_jw_time(struct bb_jw *w, int64_t ms); /* RFC 3339 with ms, null when ms < 0 */

/* Shorthands for a member: key then value. */
void bb_jw_kstr(struct bb_jw *w, const char *key, const char *s, size_t n);
void bb_jw_kstrz(struct bb_jw *w, const char *key, const char *s);
void bb_jw_kview(struct bb_jw *w, const char *key, struct bb_str s); /* s.p NULL: null */
void bb_jw_kint(struct bb_jw *w, const char *key, int64_t v);
void bb_jw_kint_or_null(struct bb_jw *w, const char *key, int64_t v, int present);
void bb_jw_kbool(struct bb_jw *w, const char *key, int b);
void bb_jw_ktime(struct bb_jw *w, const char *key, int64_t ms);

#endif
