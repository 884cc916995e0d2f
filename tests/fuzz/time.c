/* time: the strict parsers of outside text into numbers: RFC 3339 times and
 * durations (lib/timeutil.c), the integers and fixed decimals of flags,
 * config and the cost table (lib/parse.c), and decimal amounts rounded to
 * minor units (lib/money.c). A time parsed and formatted again must come
 * back the same; so must a fixed decimal. */
#include "fuzz.h"
#include "money.h"
#include "parse.h"
#include "timeutil.h"

static void times(const char *s, size_t n)
{
	char buf[64];
	int64_t ms, again;

	for (int loose = 0; loose <= 1; loose++) {
		if ((loose ? bb_time_parse_loose : bb_time_parse)(s, n, &ms) != 0)
			continue;
		bb_time_format(ms, buf, sizeof buf);
		if (ms >= 0 && ms <= BB_TIME_MAX) {
			FUZZ_ASSERT(strlen(buf) == 24);
			FUZZ_ASSERT(bb_time_parse(buf, strlen(buf), &again) == 0 && again == ms);
		}
	}
}

static void fixed(const char *s, size_t n)
{
	char buf[48];
	int64_t v, again;

	for (int places = 0; places <= 2; places++) {
		if (bb_parse_fixed(s, n, places, &v) != 0)
			continue;
		FUZZ_ASSERT(v >= 0);
		bb_format_fixed(v, places, buf, sizeof buf);
		FUZZ_ASSERT(bb_parse_fixed(buf, strlen(buf), places, &again) == 0 && again == v);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_copy(data, size), *z = fuzz_string(data, size);
	const char **items = NULL;
	int64_t v;
	int n = 0;

	times(s, size);
	fixed(s, size);
	for (int places = 0; places <= 2; places++)
		if (bb_decimal_round(z, places, &v) == 0) {
			char buf[48];
			bb_money_format(v, places ? 2 : 0, buf, sizeof buf);
		}
	if (bb_duration_parse(z, &v) == 0)
		FUZZ_ASSERT(v >= 0);
	if (bb_parse_i64(z, INT64_MIN, INT64_MAX, &v) == 0) /* strict: [-]digits and nothing else */
		FUZZ_ASSERT(z[strspn(z + (z[0] == '-'), "0123456789") + (z[0] == '-')] == '\0');
	FUZZ_ASSERT(bb_split_list(z, &items, &n) == 0);
	free(items);
	free(z);
	free(s);
	return 0;
}
