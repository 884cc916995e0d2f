/* json: the strict JSON layer (lib/json.h) and the writer (lib/jwrite.h).
 * Any input either parses, with every value readable and every span inside
 * the text, or fails with an offset inside it. What parses, written again
 * value by value through the writer, parses again to the same shape. */
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bb_jdoc *d = bb_json_new(), *again = bb_json_new();
	struct bb_jval root, root2;
	struct bb_jerr e;
	struct bb_jw w = { 0 };
	char *text = fuzz_copy(data, size);
	size_t n;

	FUZZ_ASSERT(d && again);
	if (bb_json_parse(d, text, size, &root, &e) == 0) {
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
