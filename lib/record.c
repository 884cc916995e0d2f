/* record.c: line reading with a bounded buffer, the member index, and the
 * writer that appends members to the original bytes. */
#include "record.h"
#include "wbehind.h"
#include "exitcode.h"
#include "log.h"
#include "timeutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

void bb_signals_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop; /* no SA_RESTART: a blocked read() returns EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int bb_stopping(void)
{
	return stop_requested;
}

/* ---- the member index ---- */

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	return p;
}

/* Eight bytes at a time, the first byte of [p, end) that is a quote, a
 * backslash or (with controls) below 0x20; end when there is none. A word's
 * lowest flagged byte is exact: borrows only run towards higher bytes. */
#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL
static uint64_t bytes_equal(uint64_t w, unsigned char c)
{
	uint64_t x = w ^ (ONES * c);
	return (x - ONES) & ~x & HIGHS;
}

static const char *special(const char *p, const char *end, int controls)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ /* the lowest flag is the first byte */
	for (; end - p >= 8; p += 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		uint64_t m = bytes_equal(w, '"') | bytes_equal(w, '\\') | (controls ? (w - ONES * 0x20) & ~w & HIGHS : 0);
		if (m)
			return p + (__builtin_ctzll(m) >> 3);
	}
#endif
	while (p < end && *p != '"' && *p != '\\' && !(controls && (unsigned char)*p < 0x20))
		p++;
	return p;
}

/* p at the opening quote; returns the closing quote or NULL. */
static const char *skip_string(const char *p, const char *end)
{
	for (p++;;) {
		p = special(p, end, 0);
		if (p >= end)
			return NULL;
		if (*p == '"')
			return p;
		p += 2; /* the escaped character, whatever it is */
	}
}

/* Returns one past the value's end or NULL. Nested values are only balanced
 * here; lib/json.h checks them when a program reads the member. */
static const char *skip_value(const char *p, const char *end)
{
	int depth = 0;

	if (p >= end)
		return NULL;
	if (*p != '{' && *p != '[' && *p != '"') {
		while (p < end && !strchr(",}] \t\r\n", *p))
			p++;
		return p;
	}
	for (; p < end; p++) {
		if (*p == '"') {
			if (!(p = skip_string(p, end)))
				return NULL;
		} else if (*p == '{' || *p == '[') {
			depth++;
		} else if (*p == '}' || *p == ']') {
			depth--;
		}
		if (depth == 0)
			return p + 1;
	}
	return NULL;
}

static int add_member(struct bb_record *r, const char *k, size_t kl, const char *v, size_t vl)
{
	if (r->nm == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 16;
		struct bb_member *m = realloc(r->m, cap * sizeof *m);
		if (!m)
			return -1;
		r->m = m;
		r->cap = cap;
	}
	r->m[r->nm++] = (struct bb_member){ k, kl, v, vl };
	return 0;
}

int bb_record_index(struct bb_record *r)
{
	const char *end = r->line + r->len, *p = skip_ws(r->line, end);

	r->nm = 0;
	r->is_object = 0;
	if (p >= end || *p != '{')
		return -1;
	p = skip_ws(p + 1, end);
	if (p < end && *p == '}')
		goto close;
	for (;;) {
		const char *k, *ke, *v, *ve;
		if (p >= end || *p != '"' || !(ke = skip_string(p, end)))
			return -1;
		k = p + 1;
		p = skip_ws(ke + 1, end);
		if (p >= end || *p != ':')
			return -1;
		v = skip_ws(p + 1, end);
		if (!(ve = skip_value(v, end)) || ve == v)
			return -1;
		if (add_member(r, k, (size_t)(ke - k), v, (size_t)(ve - v)))
			return -1;
		p = skip_ws(ve, end);
		if (p < end && *p == ',') {
			p = skip_ws(p + 1, end);
			continue;
		}
		if (p < end && *p == '}')
			break;
		return -1;
	}
close:
	if (skip_ws(p + 1, end) != end)
		return -1;
	r->is_object = 1;
	return 0;
}

const struct bb_member *bb_record_member(const struct bb_record *r, const char *key)
{
	size_t kl = strlen(key);

	/* the last occurrence wins, as in every JSON parser bb's users have */
	for (size_t i = r->nm; i-- > 0;)
		if (r->m[i].keylen == kl && memcmp(r->m[i].key, key, kl) == 0)
			return &r->m[i];
	return NULL;
}

static int hex4(const char *p, unsigned *out)
{
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static char *put_utf8(char *o, unsigned cp)
{
	if (cp < 0x80) {
		*o++ = (char)cp;
	} else if (cp < 0x800) {
		*o++ = (char)(0xc0 | cp >> 6);
		*o++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*o++ = (char)(0xe0 | cp >> 12);
		*o++ = (char)(0x80 | (cp >> 6 & 0x3f));
		*o++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*o++ = (char)(0xf0 | cp >> 18);
		*o++ = (char)(0x80 | (cp >> 12 & 0x3f));
		*o++ = (char)(0x80 | (cp >> 6 & 0x3f));
		*o++ = (char)(0x80 | (cp & 0x3f));
	}
	return o;
}

/* One escape at p (after the backslash); returns the next input or NULL. */
static const char *unescape_one(const char *p, const char *end, char **o)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *k = p < end ? memchr(from, *p, sizeof from - 1) : NULL;
	unsigned cp, lo;

	if (k) {
		*(*o)++ = to[k - from];
		return p + 1;
	}
	if (p + 5 > end || *p != 'u' || hex4(p + 1, &cp))
		return NULL;
	p += 5;
	if (cp >= 0xd800 && cp < 0xdc00) { /* a surrogate pair makes one code point */
		if (p + 6 > end || p[0] != '\\' || p[1] != 'u' || hex4(p + 2, &lo) || lo < 0xdc00 || lo > 0xdfff)
			return NULL;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		p += 6;
	} else if (cp >= 0xdc00 && cp < 0xe000) {
		return NULL;
	}
	*o = put_utf8(*o, cp);
	return p;
}

char *bb_record_string(const struct bb_record *r, const char *key, size_t *len)
{
	const struct bb_member *m = bb_record_member(r, key);
	const char *p, *end;
	char *out, *o;

	if (!m || m->vallen < 2 || m->val[0] != '"')
		return NULL;
	p = m->val + 1;
	end = m->val + m->vallen - 1;
	if (!(out = o = malloc((size_t)(end - p) + 1)))
		return NULL;
	while (p < end) {
		const char *sp = special(p, end, 1);
		memcpy(o, p, (size_t)(sp - p));
		o += sp - p;
		p = sp;
		if (p < end && (*p != '\\' || !(p = unescape_one(p + 1, end, &o)))) {
			free(out); /* raw control characters (or quotes) are not JSON */
			return NULL;
		}
	}
	*o = '\0';
	*len = (size_t)(o - out);
	return out;
}

int bb_json_array_each(const char *val, size_t len,
		       int (*fn)(const char *elem, size_t n, void *ctx), void *ctx)
{
	const char *end = val + len, *p = skip_ws(val, end);

	if (p >= end || *p != '[')
		return -1;
	p = skip_ws(p + 1, end);
	if (p < end && *p == ']')
		return 0;
	while (p < end) {
		const char *e = skip_value(p, end);
		if (!e || e == p)
			return -1;
		int rc = fn(p, (size_t)(e - p), ctx);
		if (rc)
			return rc;
		p = skip_ws(e, end);
		if (p < end && *p == ']')
			return 0;
		if (p >= end || *p != ',')
			return -1;
		p = skip_ws(p + 1, end);
	}
	return -1;
}

int bb_record_copy(struct bb_record *dst, const struct bb_record *src)
{
	char *line = malloc(src->len + 1);
	struct bb_member *m = src->nm ? malloc(src->nm * sizeof *m) : NULL;

	if (!line || (src->nm && !m)) {
		free(line);
		free(m);
		return -1;
	}
	memcpy(line, src->line, src->len);
	line[src->len] = '\0';
	for (size_t i = 0; i < src->nm; i++)
		m[i] = (struct bb_member){ line + (src->m[i].key - src->line), src->m[i].keylen,
					   line + (src->m[i].val - src->line), src->m[i].vallen };
	*dst = *src;
	dst->line = line;
	dst->m = m;
	dst->cap = src->nm;
	return 0;
}

void bb_record_free(struct bb_record *r)
{
	free((char *)r->line);
	free(r->m);
	r->line = NULL;
	r->m = NULL;
	r->nm = r->cap = 0;
}

int bb_record_sub(const struct bb_record *r, const char *key, struct bb_record *sub)
{
	const struct bb_member *m = bb_record_member(r, key);

	memset(sub, 0, sizeof *sub);
	if (!m)
		return -1;
	sub->line = m->val;
	sub->len = sub->total_len = m->vallen;
	sub->lineno = r->lineno;
	return bb_record_index(sub);
}

/* ---- output ---- */

/* Takes ownership of json (NULL: the member is removed). */
static void emit(struct bb_emit *em, const char *key, char *json, size_t len)
{
	for (int i = 0; i < em->n; i++)
		if (strcmp(em->add[i].key, key) == 0) {
			free(em->add[i].json);
			em->add[i].json = json;
			em->add[i].len = len;
			return;
		}
	if (em->n == BB_EMIT_MAX) /* a programming error: fail loudly in tests */
		abort();
	em->add[em->n].key = key;
	em->add[em->n].json = json;
	em->add[em->n].len = len;
	em->n++;
}

static char *copy(const char *s, size_t n)
{
	char *c = malloc(n + 1);
	if (!c)
		abort(); /* a few bytes: nothing sensible is left to do */
	memcpy(c, s, n);
	c[n] = '\0';
	return c;
}

void bb_emit_jw(struct bb_emit *em, const char *key, struct bb_jw *w)
{
	size_t n;
	char *text = bb_jw_take(w, &n);
	if (!text)
		abort();
	emit(em, key, text, n);
}

void bb_emit_str(struct bb_emit *em, const char *key, const char *s, size_t n)
{
	struct bb_jw w;
	bb_jw_init(&w);
	bb_jw_str(&w, s, n);
	bb_emit_jw(em, key, &w);
}

void bb_emit_raw(struct bb_emit *em, const char *key, const char *json, size_t n)
{
	emit(em, key, copy(json, n), n);
}

void bb_emit_free(struct bb_emit *em)
{
	for (int i = 0; i < em->n; i++)
		free(em->add[i].json);
	em->n = 0;
}

void bb_emit_remove(struct bb_emit *em, const char *key)
{
	emit(em, key, NULL, 0);
}

void bb_reject(struct bb_emit *em, const char *type, const char *message, size_t n,
	       const char *stage, const char *path)
{
	struct bb_jw w;

	bb_jw_init(&w);
	bb_jw_obj(&w);
	bb_jw_kstrz(&w, "type", type);
	bb_jw_kstr(&w, "message", message, n);
	bb_jw_kstrz(&w, "stage", stage);
	bb_jw_kstrz(&w, "path", path);
	bb_jw_end(&w, '}');
	bb_emit_str(em, "status", "rejected", 8);
	bb_emit_jw(em, "error", &w);
}

void bb_record_reject(struct bb_emit *em, const char *type, const char *stage, const char *path,
		      const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	int n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort(); /* a line of text: nothing sensible is left to do */
	bb_reject(em, type, msg, (size_t)n, stage, path);
	free(msg);
}

void bb_reject_unvalidated(struct bb_emit *em, const char *stage, char *why, size_t whylen)
{
	int n = snprintf(why, whylen, "no notification member: run bb-validate before %s", bb_prog());
	size_t len = n < 0 || whylen == 0 ? 0 : (size_t)n < whylen ? (size_t)n : whylen - 1;

	bb_reject(em, "schema", why, len, stage, "notification");
}

static int emitted(const struct bb_emit *em, const struct bb_member *m)
{
	for (int i = 0; i < em->n; i++)
		if (strlen(em->add[i].key) == m->keylen &&
		    memcmp(em->add[i].key, m->key, m->keylen) == 0)
			return 1;
	return 0;
}

size_t bb_record_out_len(const struct bb_record *r, const struct bb_emit *em)
{
	size_t n = (em->fresh ? 0 : r->len) + 3; /* braces and the newline */

	for (int i = 0; i < em->n; i++)
		if (em->add[i].json)
			n += strlen(em->add[i].key) + em->add[i].len + 4; /* ,"key": */
	return n;
}

void bb_record_write(const struct bb_record *r, const struct bb_emit *em, FILE *out)
{
	int any = 0, replaced = 0;

	for (size_t i = 0; !em->fresh && i < r->nm && !replaced; i++)
		replaced = emitted(em, &r->m[i]);
	if (!r->is_object && !em->fresh && em->n == 0) {
		/* not a record this program can read: it goes on as it came */
		fwrite(r->line, 1, r->len, out);
		fputc('\n', out);
		return;
	}
	if (!em->fresh && r->is_object && !replaced) {
		/* common case: the original bytes up to the closing brace */
		const char *close = r->line + r->len;
		while (*--close != '}')
			;
		fwrite(r->line, 1, (size_t)(close - r->line), out);
		any = r->nm > 0;
	} else {
		fputc('{', out);
		for (size_t i = 0; !em->fresh && i < r->nm; i++) {
			const struct bb_member *m = &r->m[i];
			if (emitted(em, m))
				continue;
			if (any++)
				fputc(',', out);
			fwrite(m->key - 1, 1, (size_t)(m->val + m->vallen - (m->key - 1)), out);
		}
	}
	for (int i = 0; i < em->n; i++) {
		if (!em->add[i].json)
			continue;
		fputs(any++ ? ",\"" : "\"", out);
		fputs(em->add[i].key, out);
		fputs("\":", out);
		fwrite(em->add[i].json, 1, em->add[i].len, out);
	}
	fputs("}\n", out);
}

/* ---- the loop ---- */

struct reader {
	char *buf;              /* cap bytes, and BB_JSON_PADDING more */
	size_t cap, start, len; /* unconsumed bytes are buf[start..len) */
	size_t lineno;
	int eof;
	struct bb_jdoc *doc; /* the JSON layer's parser, reused for every line */
	int lazy_body;
};

/* The line through the JSON layer: strict, so a line that is not JSON in
 * UTF-8 is no record, whatever the member index made of it. */
static void read_json(struct reader *rd, struct bb_record *r)
{
	struct bb_jval root;

	memset(&r->env, 0, sizeof r->env);
	memset(&r->jerr, 0, sizeof r->jerr);
	r->json_ok = 0;
	if (r->too_large)
		return;
	r->json_ok = bb_json_parse_padded(rd->doc, r->line, r->len, &root, &r->jerr) == 0;
	r->nm = 0;
	r->is_object = 0;
	if (!r->json_ok || bb_json_type(root) != BB_JOBJECT)
		return;
	(rd->lazy_body ? bb_envelope_read_lazy : bb_envelope_read)(root, &r->env);
	/* the member index, from what the parse found */
	for (struct bb_jval m = bb_json_first(root); bb_json_type(m) != BB_JNONE; m = bb_json_next(m)) {
		size_t ko, kn, vo, vn;
		if (bb_json_key_span(m, &ko, &kn) || bb_json_span(m, &vo, &vn) ||
		    add_member(r, r->line + ko, kn, r->line + vo, vn))
			return;
	}
	r->is_object = 1;
}

int bb_record_read_whole(struct bb_record *r, struct bb_jdoc *doc)
{
	struct bb_jval root;

	if (r->len != r->total_len || bb_json_parse(doc, r->line, r->len, &root, &r->jerr) != 0)
		return -1;
	r->json_ok = 1;
	if (bb_json_type(root) != BB_JOBJECT)
		return -1;
	bb_envelope_read(root, &r->env);
	return 0;
}

static int run_one(struct reader *rd, struct bb_record *r, FILE *out, bb_record_fn fn, void *ctx)
{
	struct bb_emit em;
	int rc;

	memset(&em, 0, sizeof em);
	r->too_large = r->total_len > BB_LINE_MAX;
	if (r->too_large) {
		/* not parsed: its members are found without, and nothing of the
		 * line before is left in the views */
		memset(&r->env, 0, sizeof r->env);
		memset(&r->jerr, 0, sizeof r->jerr);
		r->json_ok = 0;
		bb_record_index(r);
	} else {
		read_json(rd, r);
	}
	if (r->unterminated && !r->is_object) {
		/* what a stage killed in the middle of a write leaves: not a
		 * record, and its message is still on the queue */
		char no[24];
		snprintf(no, sizeof no, "%zu", r->lineno);
		bb_log(BB_WARN, NULL, "incomplete last line dropped: no newline, not a JSON object", "line", no, NULL);
		return 0;
	}
	rc = fn(r, &em, ctx);
	if (!em.suppress)
		bb_record_write(r, &em, out);
	bb_emit_free(&em);
	return rc;
}

static int blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strchr(" \t\r", p[i]))
			return 0;
	return 1;
}

/* A line longer than the hard limit: hand over its first bytes, drop the rest. */
static int overflow(struct reader *rd, struct bb_record *r, FILE *out, bb_record_fn fn, void *ctx,
		    int fd)
{
	size_t total = rd->len;
	char *nl = NULL;
	int rc;

	r->line = rd->buf;
	r->len = rd->len;
	r->lineno = ++rd->lineno;
	r->unterminated = 0;
	for (;;) {
		ssize_t got = read(fd, rd->buf + BB_LINE_MAX, rd->cap - BB_LINE_MAX);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		nl = memchr(rd->buf + BB_LINE_MAX, '\n', (size_t)got);
		if (nl) {
			size_t tail = (size_t)got - (size_t)(nl + 1 - (rd->buf + BB_LINE_MAX));
			total += (size_t)(nl - (rd->buf + BB_LINE_MAX));
			r->len = BB_LINE_MAX;
			r->total_len = total;
			rc = run_one(rd, r, out, fn, ctx);
			memmove(rd->buf, nl + 1, tail);
			rd->start = 0;
			rd->len = tail;
			return rc;
		}
		total += (size_t)got;
	}
	r->len = BB_LINE_MAX;
	r->total_len = total;
	rd->start = rd->len = 0;
	rd->eof = 1;
	return run_one(rd, r, out, fn, ctx);
}

static int fill(struct reader *rd, int fd)
{
	if (rd->start > 0) {
		memmove(rd->buf, rd->buf + rd->start, rd->len - rd->start);
		rd->len -= rd->start;
		rd->start = 0;
	}
	if (rd->len == rd->cap) {
		size_t cap = rd->cap * 2 > BB_LINE_HARD_MAX ? BB_LINE_HARD_MAX : rd->cap * 2;
		char *b = cap > rd->cap ? realloc(rd->buf, cap + BB_JSON_PADDING) : NULL;
		if (!b)
			return 1; /* full: the caller treats the line as overflowing */
		rd->buf = b;
		rd->cap = cap;
	}
	ssize_t got = read(fd, rd->buf + rd->len, rd->cap - rd->len);
	if (got < 0)
		return errno == EINTR ? 0 : -1;
	if (got == 0)
		rd->eof = 1;
	rd->len += (size_t)got;
	return 0;
}

/* Records are kilobytes each: a pipe's default 64 KiB holds a handful, so a
 * stage that pauses (bb-store committing) soon stalls the ones before it.
 * Ask for 1 MiB pipes; where that is refused, the default stays. */
static void widen_pipe(int fd)
{
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode) && fcntl(fd, F_GETPIPE_SZ) < (1 << 20))
		(void)fcntl(fd, F_SETPIPE_SZ, 1 << 20);
}

static int run_loop(int fd, FILE *out, const struct bb_loop *loop);

/* What is written so far goes out now: 0, or -1 (errno) when writing failed. */
static int flush_out(FILE *out, FILE *behind)
{
	if (fflush(out) != 0 || ferror(out))
		return -1;
	return behind ? bb_wb_flush(behind) : 0;
}

int bb_records_each(int fd, FILE *out, bb_record_fn fn, void *ctx)
{
	struct bb_loop loop = { .on_record = fn, .ctx = ctx };
	return run_loop(fd, out, &loop);
}

int bb_records_each_lazy(int fd, FILE *out, bb_record_fn fn, void *ctx)
{
	struct bb_loop loop = { .on_record = fn, .ctx = ctx, .lazy_body = 1 };
	return run_loop(fd, out, &loop);
}

/* Wait for input or the idle deadline: 1 input (or EOF/error) is ready, 0 timed out. */
static int wait_input(int fd, int wait_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	if (wait_ms < 0)
		return 1;
	int n = poll(&p, 1, wait_ms);
	return n != 0; /* EINTR counts as ready: the caller sees the stop flag */
}

int bb_records_run(int fd, FILE *out, const struct bb_loop *loop)
{
	return run_loop(fd, out, loop);
}

static int run_loop(int fd, FILE *out, const struct bb_loop *loop)
{
	bb_record_fn fn = loop->on_record;
	void *ctx = loop->ctx;
	/* the padding lets the JSON layer read a line where it stands */
	struct reader rd = { malloc(65536 + BB_JSON_PADDING), 65536, 0, 0, 0, 0, bb_json_new(), loop->lazy_body };
	struct bb_record r;
	int rc = 0;

	memset(&r, 0, sizeof r);
	if (!rd.buf || !rd.doc) {
		free(rd.buf);
		bb_json_free(rd.doc);
		return BB_EX_SOFTWARE;
	}
	widen_pipe(fd);
	widen_pipe(fileno(out));
	/* records are kilobytes: stdio's 4 KiB buffer would write most of each
	 * line by itself, two or three writes a record; 64 KiB at a time instead
	 * (a reader drops a line a killed writer left unfinished, bb-record(5)) */
	static char outbuf[1 << 16];
	static int buffered;
	if (out == stdout && !buffered++)
		setvbuf(out, outbuf, _IOFBF, sizeof outbuf);
	FILE *behind = loop->write_behind && out == stdout && fflush(stdout) == 0 ? bb_wb_open(STDOUT_FILENO) : NULL;
	if (behind)
		out = behind;
	/* one thread: stdio's per-call locking is pure cost */
	__fsetlocking(out, FSETLOCKING_BYCALLER);
	while (rc == 0) {
		char *p = rd.buf + rd.start;
		char *nl = memchr(p, '\n', rd.len - rd.start);
		if (nl || (rd.eof && rd.len > rd.start)) {
			size_t n = nl ? (size_t)(nl - p) : rd.len - rd.start;
			rd.start += n + (nl != NULL);
			rd.lineno++;
			if (blank(p, n))
				continue;
			r.line = p;
			r.len = r.total_len = n;
			r.lineno = rd.lineno;
			r.unterminated = nl == NULL;
			rc = run_one(&rd, &r, out, fn, ctx);
			continue;
		}
		/* no complete line waiting: whatever is finished goes out now */
		if (flush_out(out, behind) != 0)
			break;
		if (rd.eof || stop_requested)
			break;
		if (loop->on_idle) {
			int wait_ms = -1;
			if ((rc = loop->on_idle(ctx, &wait_ms)) != 0)
				break;
			if (flush_out(out, behind) != 0)
				break;
			if (stop_requested) /* it came while on_idle worked: a read now would wait for input */
				break;
			if (!wait_input(fd, wait_ms))
				continue; /* the deadline passed: idle again */
			if (stop_requested) /* it interrupted the wait: the read would wait for input */
				break;
		}
		int f = fill(&rd, fd);
		if (f < 0) {
			rc = bb_fatal(BB_EX_IOERR, "unable to read standard input: %s", strerror(errno));
			break;
		}
		if (f > 0)
			rc = overflow(&rd, &r, out, fn, ctx, fd);
	}
	if ((behind ? bb_wb_close(behind) : flush_out(out, NULL)) != 0) {
		if (rc == 0)
			rc = bb_fatal(BB_EX_IOERR, "unable to write standard output: %s",
				      strerror(errno));
	}
	free(rd.buf);
	bb_json_free(rd.doc);
	free(r.m);
	return rc;
}
