/* jqexpr.c: libjq 1.6, kept to what jq is for. */
#include "jqexpr.h"
#include <jq.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bb_jq {
	jq_state *jq;
	char err[256]; /* the last message libjq reported */
};

static void on_error(void *ctx, jv msg)
{
	struct bb_jq *q = ctx;
	jv text = jv_get_kind(msg) == JV_KIND_STRING ? jv_copy(msg) : jv_dump_string(jv_copy(msg), 0);

	/* the first line of the first message says what is wrong (the program's
	 * text and "1 compile error" follow) */
	if (!q->err[0])
		snprintf(q->err, sizeof q->err, "%.*s", (int)strcspn(jv_string_value(text), "\n"),
			 jv_string_value(text));
	jv_free(text);
	jv_free(msg);
}

struct bb_jq *bb_jq_compile(const char *expr, char *err, size_t errlen)
{
	struct bb_jq *q = calloc(1, sizeof *q);

	if (!q || !(q->jq = jq_init())) {
		snprintf(err, errlen, "out of memory");
		free(q);
		return NULL;
	}
	jq_set_error_cb(q->jq, on_error, q);
	if (!jq_compile(q->jq, expr)) {
		snprintf(err, errlen, "%s", q->err[0] ? q->err : "not a jq program");
		bb_jq_free(q);
		return NULL;
	}
	return q;
}

/* The text of one output: a string's own bytes, else compact JSON. */
static char *text_of(jv v, size_t *outlen)
{
	jv s = jv_get_kind(v) == JV_KIND_STRING ? v : jv_dump_string(v, 0);
	size_t n = (size_t)jv_string_length_bytes(jv_copy(s));
	char *out = malloc(n + 1);

	if (out) {
		memcpy(out, jv_string_value(s), n);
		out[n] = '\0';
		*outlen = n;
	}
	jv_free(s);
	return out;
}

char *bb_jq_run(struct bb_jq *q, const char *in, size_t n, size_t *outlen, char *err, size_t errlen)
{
	char *out = NULL;
	int outputs = 0;

	if (n > INT_MAX) {
		snprintf(err, errlen, "input too large");
		return NULL;
	}
	jv input = jv_parse_sized(in, (int)n);
	if (!jv_is_valid(input)) {
		jv_free(input);
		snprintf(err, errlen, "input is not JSON");
		return NULL;
	}
	jq_start(q->jq, input, 0);
	jv v;
	while (jv_is_valid(v = jq_next(q->jq))) {
		if (++outputs == 1)
			out = text_of(jv_copy(v), outlen);
		jv_free(v);
	}
	if (jv_invalid_has_msg(jv_copy(v))) { /* the program stopped on an error */
		jv m = jv_invalid_get_msg(v);
		jv t = jv_get_kind(m) == JV_KIND_STRING ? m : jv_dump_string(m, 0);
		snprintf(err, errlen, "%s", jv_string_value(t));
		jv_free(t);
		free(out);
		return NULL;
	}
	jv_free(v);
	if (outputs != 1) {
		snprintf(err, errlen, "the expression gave %d outputs, not one", outputs);
		free(out);
		return NULL;
	}
	if (!out)
		snprintf(err, errlen, "out of memory");
	return out;
}

void bb_jq_free(struct bb_jq *q)
{
	if (q) {
		jq_teardown(&q->jq);
		free(q);
	}
}
