/* notification: bb-validate's check of an ANY_OFFER_CHANGED notification
 * (cmd/bb-validate/notification.c) on the body parsed as bb-validate parses
 * it (bb_jv_parse). A notification accepted is normalised; one refused says what and where.
 * fuzz-links: cmd/bb-validate/notification.c
 */
#include "../../cmd/bb-validate/validate.h"
#include "fuzz.h"
#include "record.h"

static void accepted(jv n)
{
	FUZZ_ASSERT(jv_get_kind(n) == JV_KIND_OBJECT);
	jv offers = jv_object_get(jv_copy(n), jv_string("offers"));
	FUZZ_ASSERT(jv_get_kind(offers) == JV_KIND_ARRAY);
	jv_array_foreach(offers, i, o) {
		jv l = jv_object_get(jv_copy(o), jv_string("listing"));
		jv s = jv_object_get(jv_copy(o), jv_string("shipping"));
		jv t = jv_object_get(o, jv_string("landed"));
		FUZZ_ASSERT(jv_number_value(l) + jv_number_value(s) == jv_number_value(t));
		jv_free(l), jv_free(s), jv_free(t);
	}
	jv_free(offers);
	jv_free(jv_dump_string(n, 0)); /* what bb-validate writes */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *extra[] = { "A9ZZTESTMKT01" };
	struct vconf conf = { extra, 1 };
	struct vtimes times = { 1767225600000LL, 1767225601000LL };
	struct verr err;
	char *text = fuzz_string(data, size);
	jv body = bb_jv_parse(text, size), out = jv_invalid();

	if (jv_is_valid(body)) {
		switch (bb_validate_notification(body, &conf, &times, &out, &err)) {
		case V_OK:
			accepted(out);
			break;
		default:
			FUZZ_ASSERT(err.type && memchr(err.path, '\0', sizeof err.path) &&
				    memchr(err.message, '\0', sizeof err.message));
			jv_free(out);
		}
	}
	jv_free(body);
	free(text);
	return 0;
}
