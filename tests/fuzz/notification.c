/* notification: bb-validate's check of an ANY_OFFER_CHANGED notification
 * (cmd/bb-validate/notification.c) on the body parsed as bb-validate parses
 * it (lib/json.h). A notification accepted is normalised and written as
 * valid JSON; one refused says what and where.
 * fuzz-links: cmd/bb-validate/notification.c
 */
#include "../../cmd/bb-validate/validate.h"
#include "fuzz.h"
#include "json.h"
#include "jwrite.h"

static void accepted(struct bb_jdoc *check, const struct bb_notification *n)
{
	struct bb_jw w = { 0 };
	struct bb_jval root;
	struct bb_jerr e;
	size_t len;

	for (size_t i = 0; i < n->noffers; i++)
		FUZZ_ASSERT(n->offers[i].listing + n->offers[i].shipping == n->offers[i].landed &&
			    n->offers[i].listing >= 0 && n->offers[i].shipping >= 0);
	bb_notification_write(&w, n);
	char *text = bb_jw_take(&w, &len);
	FUZZ_ASSERT(text && bb_json_parse(check, text, len, &root, &e) == 0); /* what bb-validate writes is JSON */
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *extra[] = { "A9ZZTESTMKT01" };
	struct vconf conf = { extra, 1 };
	struct vtimes times = { 1767225600000LL, 1767225601000LL };
	struct bb_notification n = { 0 };
	struct vscratch scratch;
	struct verr err;
	struct bb_jdoc *d = bb_json_new(), *check = bb_json_new();
	struct bb_jval body;
	struct bb_jerr e;

	FUZZ_ASSERT(d && check);
	if (bb_json_parse(d, (const char *)data, size, &body, &e) == 0) {
		switch (bb_validate_notification(body, &conf, &times, &n, &scratch, &err)) {
		case V_OK:
			accepted(check, &n);
			break;
		default:
			FUZZ_ASSERT(err.type && memchr(err.path, '\0', sizeof err.path) &&
				    memchr(err.message, '\0', sizeof err.message));
		}
	} else {
		FUZZ_ASSERT(e.offset <= size && e.message[0]);
	}
	bb_notification_free(&n);
	bb_json_free(d);
	bb_json_free(check);
	return 0;
}
