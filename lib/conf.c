/* conf.c: libinih reads the file into a flat list; lookups are rare (start-up
 * only), so a linear search is all it needs. */
#include "conf.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct entry {
	char *section, *name, *value;
};

struct bb_conf {
	char *path;
	struct entry *e;
	size_t n, cap;
	char unknown[160]; /* the first key no program reads, for the error */
};

/* Every key of bb.conf(5). [severity] takes any key here: bb-severity names
 * a threshold it does not know itself, with the list of those it does. */
static const char *const known[] = {
	"validate.max_receive_count", "validate.marketplaces", "validate.unsupported",
	"analysis.seller_ids", "analysis.costs", "analysis.rank_curve",
	"db.url",
	"alert.exec", "alert.webhook", "alert.snooze", "alert.retry_base", "alert.retry_cap", "alert.max_attempts",
	"alert.claim_lease",
	"sqs.queue_url", "sqs.dlq_url",
};

static int is_known(const char *section, const char *name)
{
	char key[200];
	if (strcmp(section, "severity") == 0)
		return 1;
	snprintf(key, sizeof key, "%s.%s", section, name);
	for (size_t i = 0; i < sizeof known / sizeof *known; i++)
		if (strcmp(known[i], key) == 0)
			return 1;
	return 0;
}

static int on_pair(void *user, const char *section, const char *name, const char *value)
{
	struct bb_conf *c = user;

	if (!is_known(section, name)) { /* a misspelt key would otherwise be ignored in silence */
		snprintf(c->unknown, sizeof c->unknown, "[%.60s] %.60s", section, name);
		return 0;
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 16;
		struct entry *e = realloc(c->e, cap * sizeof *e);
		if (!e)
			return 0;
		c->e = e;
		c->cap = cap;
	}
	c->e[c->n].section = strdup(section);
	c->e[c->n].name = strdup(name);
	c->e[c->n].value = strdup(value);
	c->n++;
	return 1;
}

int bb_conf_load(struct bb_conf **out, char *err, size_t errlen)
{
	const char *env = getenv("BB_CONFIG");
	const char *path = env && *env ? env : "/etc/bb/bb.conf";
	struct bb_conf *c = calloc(1, sizeof *c);
	FILE *f;
	int rc;

	if (!c) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	*out = c;
	f = fopen(path, "r");
	if (!f) {
		if (errno == ENOENT && !(env && *env))
			return 0;
		snprintf(err, errlen, "unable to read config '%s': %s", path, strerror(errno));
		bb_conf_free(c);
		*out = NULL;
		return -1;
	}
	c->path = strdup(path);
	rc = ini_parse_file(f, on_pair, c);
	fclose(f);
	if (rc != 0 && c->unknown[0]) {
		snprintf(err, errlen, "%s:%d: no such key: %s (see bb.conf(5))", path, rc, c->unknown);
		bb_conf_free(c);
		*out = NULL;
		return -1;
	}
	if (rc != 0) {
		snprintf(err, errlen, "%s:%d: syntax error", path, rc);
		bb_conf_free(c);
		*out = NULL;
		return -1;
	}
	return 0;
}

void bb_conf_free(struct bb_conf *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		free(c->e[i].section);
		free(c->e[i].name);
		free(c->e[i].value);
	}
	free(c->e);
	free(c->path);
	free(c);
}

const char *bb_conf_get(const struct bb_conf *c, const char *section, const char *name)
{
	char var[128];
	const char *v;
	size_t k = 0;

	/* [db] url is BB_DB, as DESIGN.md names it; the rest follow the rule. */
	if (strcmp(section, "db") == 0 && strcmp(name, "url") == 0)
		snprintf(var, sizeof var, "BB_DB");
	else
		snprintf(var, sizeof var, "BB_%s_%s", section, name);
	for (; var[k]; k++)
		var[k] = (char)toupper((unsigned char)var[k]);
	if ((v = getenv(var)) && *v)
		return v;
	for (size_t i = c ? c->n : 0; i-- > 0;)
		if (strcmp(c->e[i].section, section) == 0 && strcmp(c->e[i].name, name) == 0)
			return c->e[i].value;
	return NULL;
}

int bb_conf_each(const struct bb_conf *c, const char *section,
		 int (*fn)(const char *name, const char *value, void *ctx), void *ctx)
{
	for (size_t i = 0; c && i < c->n; i++)
		if (strcmp(c->e[i].section, section) == 0) {
			int rc = fn(c->e[i].name, c->e[i].value, ctx);
			if (rc)
				return rc;
		}
	return 0;
}

const char *bb_conf_path(const struct bb_conf *c)
{
	return c && c->path ? c->path : "(none)";
}
