/* conf: the configuration file (lib/conf.c over libinih) as every program
 * reads it: loaded from $BB_CONFIG, each key of bb.conf(5) looked up, the
 * sections walked, and the values put through the parsers the programs use
 * on them (lists, counts, thresholds, database URLs). */
#include "conf.h"
#include "db.h"
#include "fuzz.h"
#include "parse.h"

#include <ctype.h>

static const char *const keys[][2] = {
	{ "validate", "max_receive_count" }, { "validate", "marketplaces" }, { "validate", "unsupported" },
	{ "analysis", "seller_ids" }, { "analysis", "costs" }, { "analysis", "rank_curve" },
	{ "db", "url" }, { "sqs", "queue_url" }, { "sqs", "dlq_url" },
	{ "severity", "critical_min_offers" }, { "severity", "no_such_threshold" },
};

static void use(const char *section, const char *name, const char *value)
{
	char err[256], *copy = strdup(value);
	const char **items = NULL;
	int n = 0;
	int64_t v;

	FUZZ_ASSERT(copy);
	if (strcmp(name, "max_receive_count") == 0)
		bb_parse_i64(value, 1, 1000, &v);
	else if (strcmp(name, "marketplaces") == 0 || strcmp(name, "seller_ids") == 0)
		FUZZ_ASSERT(bb_split_list(copy, &items, &n) == 0);
	else if (strcmp(section, "db") == 0 && bb_db_url_check(value, err, sizeof err) != 0)
		FUZZ_ASSERT(memchr(err, '\0', sizeof err));
	for (int i = 0; i < n; i++)
		FUZZ_ASSERT(*items[i] && !strpbrk(items[i], ", "));
	free(items);
	free(copy);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) { /* only the file speaks */
		char var[128];
		snprintf(var, sizeof var, "BB_%s_%s", keys[i][0], keys[i][1]);
		for (char *p = var; *p; p++)
			*p = (char)toupper((unsigned char)*p);
		unsetenv(var);
	}
	unsetenv("BB_DB");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bb_conf *c = NULL;
	char err[512];

	setenv("BB_CONFIG", fuzz_file(data, size), 1);
	if (bb_conf_load(&c, err, sizeof err) != 0) {
		FUZZ_ASSERT(!c && memchr(err, '\0', sizeof err));
		return 0;
	}
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
		const char *v = bb_conf_get(c, keys[i][0], keys[i][1]);
		if (v)
			use(keys[i][0], keys[i][1], v);
	}
	FUZZ_ASSERT(strcmp(bb_conf_path(c), fuzz_file(data, size)) == 0);
	bb_conf_free(c);
	return 0;
}
