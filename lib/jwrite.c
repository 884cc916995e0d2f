/* jwrite.c: the JSON writer. Output is always valid JSON in UTF-8: control
 * bytes are escaped and bytes that are not UTF-8 become U+FFFD. */
#include "jwrite.h"
#include "timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

void bb_jw_init(struct bb_jw *w)
{
	memset(w, 0, sizeof *w);
}

void bb_jw_reset(struct bb_jw *w)
{
	char *buf = w->buf;
	size_t cap = w->cap;
	bb_jw_init(w);
	w->buf = buf;
	w->cap = cap;
}

void bb_jw_free(struct bb_jw *w)
{
	free(w->buf);
	bb_jw_init(w);
}

char *bb_jw_take(struct bb_jw *w, size_t *n)
{
	char *buf = w->oom ? NULL : w->buf;
	*n = w->len;
	if (w->oom)
		free(w->buf);
	bb_jw_init(w);
	return buf;
}

static int grow_to(struct bb_jw *w, size_t more)
{
	size_t cap = w->cap ? w->cap : 256;
	while (cap < w->len + more)
		cap *= 2;
	char *b = realloc(w->buf, cap);
	if (!b) {
		w->oom = 1;
		return -1;
	}
	w->buf = b;
	w->cap = cap;
	return 0;
}

/* Room for more bytes: 0, or -1 (out of memory, noted). */
static inline int grow(struct bb_jw *w, size_t more)
{
	return w->len + more <= w->cap ? 0 : grow_to(w, more);
}

static inline void put(struct bb_jw *w, const char *s, size_t n)
{
	if (grow(w, n) == 0) {
		memcpy(w->buf + w->len, s, n);
		w->len += n;
	}
}

static inline void put1(struct bb_jw *w, char c)
{
	if (grow(w, 1) == 0)
		w->buf[w->len++] = c;
}

/* A comma when a value or key follows another at the same depth. */
static void sep(struct bb_jw *w)
{
	if (w->after_key) {
		w->after_key = 0;
		return;
	}
	if (w->more[w->depth])
		put1(w, ',');
	w->more[w->depth] = 1;
}

static void open_(struct bb_jw *w, const char *c)
{
	sep(w);
	put(w, c, 1);
	if (w->depth + 1 < BB_JW_DEPTH)
		w->more[++w->depth] = 0;
}

void bb_jw_obj(struct bb_jw *w)
{
	open_(w, "{");
}

void bb_jw_arr(struct bb_jw *w)
{
	open_(w, "[");
}

void bb_jw_end(struct bb_jw *w, char close)
{
	put(w, &close, 1);
	if (w->depth > 0)
		w->depth--;
}

size_t bb_utf8_len(const unsigned char *p, size_t n)
{
	unsigned c = p[0], cp, min;
	size_t k;

	if (c < 0x80)
		return 1;
	if ((c & 0xe0) == 0xc0)
		k = 2, min = 0x80, cp = c & 0x1f;
	else if ((c & 0xf0) == 0xe0)
		k = 3, min = 0x800, cp = c & 0x0f;
	else if ((c & 0xf8) == 0xf0)
		k = 4, min = 0x10000, cp = c & 0x07;
	else
		return 0;
	if (k > n)
		return 0;
	for (size_t i = 1; i < k; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	return cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000) ? 0 : k;
}

/* A byte a string holds as it is: ASCII, not a control, quote or backslash. */
static inline int plain(unsigned char c)
{
	return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

/* How many bytes from p on are plain, at most n. */
static size_t plain_run(const unsigned char *p, size_t n)
{
	size_t i = 0;
#ifdef __SSE2__
	/* sixteen at a time: a quote, a backslash, or (signed) below 0x20,
	 * which takes in the controls and every byte from 0x80 */
	const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\'), space = _mm_set1_epi8(0x20);
	for (; i + 16 <= n; i += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(p + i));
		__m128i odd = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
					   _mm_cmpgt_epi8(space, v));
		int m = _mm_movemask_epi8(odd);
		if (m)
			return i + (size_t)__builtin_ctz((unsigned)m);
	}
#endif
	while (i < n && plain(p[i]))
		i++;
	return i;
}

static void escaped(struct bb_jw *w, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0;

	/* mostly nothing to escape: the quotes and the bytes in one copy */
	i = plain_run(p, n);
	if (i == n) {
		if (grow(w, n + 2) == 0) {
			char *o = w->buf + w->len;
			o[0] = '"';
			memcpy(o + 1, s, n);
			o[n + 1] = '"';
			w->len += n + 2;
		}
		return;
	}
	run = i;
	put1(w, '"');
	while (i < n) {
		unsigned char c = p[i];
		if (plain(c)) {
			size_t k = plain_run(p + i, n - i);
			i += k;
			run += k;
			continue;
		}
		put(w, s + i - run, run);
		run = 0;
		if (c >= 0x80) {
			size_t k = bb_utf8_len(p + i, n - i);
			if (k)
				put(w, s + i, k);
			else
				put(w, "\\ufffd", 6);
			i += k ? k : 1;
			continue;
		}
		char esc[8];
		const char *e = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\n' ? "\\n" :
				c == '\t' ? "\\t" : c == '\r' ? "\\r" : NULL;
		if (!e) {
			snprintf(esc, sizeof esc, "\\u%04x", c);
			e = esc;
		}
		put(w, e, strlen(e));
		i++;
	}
	put(w, s + i - run, run);
	put(w, "\"", 1);
}

void bb_jw_key(struct bb_jw *w, const char *key)
{
	size_t n = 0;

	sep(w);
	while (plain((unsigned char)key[n])) /* the NUL ends it: not plain */
		n++;
	if (key[n] == '\0' && grow(w, n + 3) == 0) { /* "key": in one copy */
		char *o = w->buf + w->len;
		o[0] = '"';
		memcpy(o + 1, key, n);
		o[n + 1] = '"';
		o[n + 2] = ':';
		w->len += n + 3;
	} else if (!w->oom) {
		escaped(w, key, strlen(key));
		put1(w, ':');
	}
	w->after_key = 1;
}

void bb_jw_str(struct bb_jw *w, const char *s, size_t n)
{
	sep(w);
	escaped(w, s, n);
}

void bb_jw_strz(struct bb_jw *w, const char *s)
{
	if (s)
		bb_jw_str(w, s, strlen(s));
	else
		bb_jw_null(w);
}

void bb_jw_int(struct bb_jw *w, int64_t v)
{
	char b[24], *p = b + sizeof b;
	uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

	do
		*--p = (char)('0' + a % 10);
	while (a /= 10);
	if (v < 0)
		*--p = '-';
	sep(w);
	put(w, p, (size_t)(b + sizeof b - p));
}

void bb_jw_fixed(struct bb_jw *w, int64_t v, int places)
{
	char b[48];
	int64_t scale = 1;
	for (int i = 0; i < places && i < 18; i++)
		scale *= 10;
	uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	int n = places > 0 ? snprintf(b, sizeof b, "%s%llu.%0*llu", v < 0 ? "-" : "",
				      (unsigned long long)(a / (uint64_t)scale), places,
				      (unsigned long long)(a % (uint64_t)scale)) :
			     snprintf(b, sizeof b, "%lld", (long long)v);
	sep(w);
	put(w, b, (size_t)n);
}

void bb_jw_bool(struct bb_jw *w, int b)
{
	sep(w);
	put(w, b ? "true" : "false", b ? 4 : 5);
}

void bb_jw_null(struct bb_jw *w)
{
	sep(w);
	put(w, "null", 4);
}

void bb_jw_raw(struct bb_jw *w, const char *json, size_t n)
{
	sep(w);
	put(w, json, n);
}

void bb_jw_time(struct bb_jw *w, int64_t ms)
{
	char b[40];
	if (ms < 0) {
		bb_jw_null(w);
		return;
	}
	bb_time_format(ms, b, sizeof b);
	bb_jw_str(w, b, strlen(b));
}

void bb_jw_kstr(struct bb_jw *w, const char *key, const char *s, size_t n)
{
	bb_jw_key(w, key);
	bb_jw_str(w, s, n);
}

void bb_jw_kstrz(struct bb_jw *w, const char *key, const char *s)
{
	bb_jw_key(w, key);
	bb_jw_strz(w, s);
}

void bb_jw_kview(struct bb_jw *w, const char *key, struct bb_str s)
{
	bb_jw_key(w, key);
	if (s.p)
		bb_jw_str(w, s.p, s.n);
	else
		bb_jw_null(w);
}

void bb_jw_kint(struct bb_jw *w, const char *key, int64_t v)
{
	bb_jw_key(w, key);
	bb_jw_int(w, v);
}

void bb_jw_kint_or_null(struct bb_jw *w, const char *key, int64_t v, int present)
{
	bb_jw_key(w, key);
	if (present)
		bb_jw_int(w, v);
	else
		bb_jw_null(w);
}

void bb_jw_kbool(struct bb_jw *w, const char *key, int b)
{
	bb_jw_key(w, key);
	bb_jw_bool(w, b);
}

void bb_jw_ktime(struct bb_jw *w, const char *key, int64_t ms)
{
	bb_jw_key(w, key);
	bb_jw_time(w, ms);
}
