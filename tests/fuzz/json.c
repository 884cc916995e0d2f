/* json: the strict JSON layer (lib/json.h) and the writer (lib/jwrite.h).
 * Any input either parses, with every value readable and every span inside
 * the text, or fails with an offset inside it. What parses, written again
 * value by value through the writer, parses again to the same shape. The
 * layer's own reading of simdjson's structural indexes and simdjson's DOM
 * parser (bb_json_parse_dom) agree on every input: the same verdict, the
 * same error and offset, the same values. */
#include "fuzz.h"
#include "json.h"
#include "jwrite.h"

static void copy(struct bb_jw *w, struct bb_jval v, size_t size, int depth)
{
	const char *s;
	size_t n, off;
	int b;

	FUZZ_ASSERT(bb_json_span(v, &off, &n) == 0 && off + n <= size);
	switch (bb_json_type(v)) {
	case BB_JOBJECT:
	case BB_JARRAY: {
		int obj = bb_json_type(v) == BB_JOBJECT;
		size_t count = 0;
		obj ? bb_jw_obj(w) : bb_jw_arr(w);
		for (struct bb_jval e = bb_json_first(v); bb_json_type(e) != BB_JNONE; e = bb_json_next(e)) {
			if (obj) {
				FUZZ_ASSERT(bb_json_key(e, &s, &n) == 0);
				FUZZ_ASSERT(bb_json_key_span(e, &off, &n) == 0 && off + n <= size);
				bb_json_key(e, &s, &n);
				bb_jw_key(w, "k"); /* the writer's keys are literals */
				(void)s;
			}
			copy(w, e, size, depth + 1);
			count++;
		}
		FUZZ_ASSERT(count == bb_json_count(v));
		bb_jw_end(w, obj ? '}' : ']');
		break;
	}
	case BB_JSTRING:
		FUZZ_ASSERT(bb_json_string(v, &s, &n) == 0);
		bb_jw_str(w, s, n);
		break;
	case BB_JNUMBER:
		FUZZ_ASSERT(bb_json_number_text(v, &s, &n) == 0 && n > 0);
		bb_jw_raw(w, s, n);
		break;
	case BB_JBOOL:
		FUZZ_ASSERT(bb_json_bool(v, &b) == 0);
		bb_jw_bool(w, b);
		break;
	case BB_JNULL:
		bb_jw_null(w);
		break;
	default:
		FUZZ_ASSERT(!"a value of no type");
	}
}

/* a and b, values of two parses of one text, are the same in every way. */
static void same(struct bb_jval a, struct bb_jval b)
{
	const char *s, *t;
	size_t n, m, o1, o2;
	int64_t i, j;
	int x, y;

	FUZZ_ASSERT(bb_json_type(a) == bb_json_type(b));
	FUZZ_ASSERT(bb_json_span(a, &o1, &n) == 0 && bb_json_span(b, &o2, &m) == 0 && o1 == o2 && n == m);
	x = bb_json_key(a, &s, &n);
	y = bb_json_key(b, &t, &m);
	FUZZ_ASSERT(x == y && (x != 0 || (n == m && memcmp(s, t, n) == 0)));
	x = bb_json_key_span(a, &o1, &n);
	y = bb_json_key_span(b, &o2, &m);
	FUZZ_ASSERT(x == y && (x != 0 || (o1 == o2 && n == m)));
	switch (bb_json_type(a)) {
	case BB_JOBJECT:
	case BB_JARRAY: {
		struct bb_jval e = bb_json_first(a), f = bb_json_first(b);
		FUZZ_ASSERT(bb_json_count(a) == bb_json_count(b));
		for (; bb_json_type(e) != BB_JNONE; e = bb_json_next(e), f = bb_json_next(f)) {
			same(e, f);
			if (bb_json_type(a) == BB_JOBJECT) { /* the last of a repeated name */
				FUZZ_ASSERT(bb_json_key(e, &s, &n) == 0);
				struct bb_jval g = bb_json_get(a, s, n), h = bb_json_get(b, s, n);
				FUZZ_ASSERT(g.i == h.i);
			}
		}
		FUZZ_ASSERT(bb_json_type(f) == BB_JNONE);
		break;
	}
	case BB_JSTRING:
		FUZZ_ASSERT(bb_json_string(a, &s, &n) == 0 && bb_json_string(b, &t, &m) == 0);
		FUZZ_ASSERT(n == m && memcmp(s, t, n) == 0 && bb_json_string_is(a, t, m));
		break;
	case BB_JNUMBER:
		FUZZ_ASSERT(bb_json_number_text(a, &s, &n) == 0 && bb_json_number_text(b, &t, &m) == 0);
		FUZZ_ASSERT(n == m && memcmp(s, t, n) == 0);
		x = bb_json_int64(a, &i);
		y = bb_json_int64(b, &j);
		FUZZ_ASSERT(x == y && (x != 0 || i == j));
		break;
	case BB_JBOOL:
		FUZZ_ASSERT(bb_json_bool(a, &x) == 0 && bb_json_bool(b, &y) == 0 && x == y);
		break;
	default:
		break;
	}
}

/* The DOM parser alone, and the parse of the text in place (its padding
 * holding anything), agree with bb_json_parse. */
static void compare_dom(const char *text, size_t size, int ok, struct bb_jval root, const struct bb_jerr *e)
{
	struct bb_jdoc *d = bb_json_new(), *in_place = bb_json_new();
	struct bb_jval r;
	struct bb_jerr e2;
	char *padded = malloc(size + BB_JSON_PADDING);

	FUZZ_ASSERT(d && in_place && padded);
	int ok2 = bb_json_parse_dom(d, text, size, &r, &e2) == 0;
	FUZZ_ASSERT(ok == ok2);
	if (ok)
		same(root, r);
	else
		FUZZ_ASSERT(e->offset == e2.offset && strcmp(e->message, e2.message) == 0);
	memcpy(padded, text, size);
	memset(padded + size, '"', BB_JSON_PADDING);
	ok2 = bb_json_parse_padded(in_place, padded, size, &r, &e2) == 0;
	FUZZ_ASSERT(ok == ok2);
	if (ok)
		same(root, r);
	else
		FUZZ_ASSERT(e->offset == e2.offset && strcmp(e->message, e2.message) == 0);
	free(padded);
	bb_json_free(d);
	bb_json_free(in_place);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bb_jdoc *d = bb_json_new(), *again = bb_json_new();
	struct bb_jval root, root2;
	struct bb_jerr e;
	struct bb_jw w = { 0 };
	char *text = fuzz_copy(data, size);
	size_t n;

	FUZZ_ASSERT(d && again);
	int ok = bb_json_parse(d, text, size, &root, &e) == 0;
	compare_dom(text, size, ok, root, &e);
	if (ok) {
		copy(&w, root, size, 0);
		char *out = bb_jw_take(&w, &n);
		FUZZ_ASSERT(out);
		FUZZ_ASSERT(bb_json_parse(again, out, n, &root2, &e) == 0);
		FUZZ_ASSERT(bb_json_type(root2) == bb_json_type(root) && bb_json_count(root2) == bb_json_count(root));
		free(out);
	} else {
		FUZZ_ASSERT(e.offset <= size && e.message[0]);
	}
	free(text);
	bb_json_free(d);
	bb_json_free(again);
	return 0;
}
