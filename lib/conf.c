/* conf.c: libinih reads the file into a flat list; lookups are rare (start-up
 * only), so a linear search is all it needs. Every error in the file is
 * reported, each with its line, so one run shows the operator all of them. */
#include "conf.h"
#include "exitcode.h"
#include "log.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct entry {
	char *section, *name, *value;
};

/* What the reader knows of the line libinih has in hand: libinih tells the
 * handler neither the line number nor that a section header was broken. */
struct reading {
	FILE *f;
	int line;
	int pair_expected; /* the line must call the handler, or it is malformed */
	int pair_called;
	int after_pair;    /* an indented line continues the value before */
	int continuing;    /* this line does */
	int last_bad;      /* the key continued was reported already */
	int bad_section;   /* after a broken [section: its keys belong nowhere */
	char **errors;     /* "unable to load config: FILE:LINE: ...", in line order */
	size_t nerrors;
	int nomem;
};

struct bb_conf {
	char *path;
	struct entry *e;
	size_t n, cap;
	struct reading r;
};

/* Every key of bb.conf(5). */
static const char *const known[] = {
	"validate.max_receive_count", "validate.marketplaces", "validate.unsupported",
	"analysis.seller_ids", "analysis.costs", "analysis.rank_curve",
	"severity.critical_min_offers", "severity.critical_min_gap_pct",
	"severity.critical_min_percentile", "severity.critical_min_daily_sales",
	"severity.high_min_offers", "severity.high_min_gap_pct",
	"severity.high_max_winner_margin_pct", "severity.warning_min_offers",
	"severity.warning_min_gap_pct", "severity.warning_min_position",
	"severity.warning_max_market_low_margin_pct", "severity.success_max_offers",
	"severity.success_max_position", "severity.success_max_gap_pct",
	"db.url",
	"alert.exec", "alert.webhook", "alert.snooze", "alert.retry_base", "alert.retry_cap", "alert.max_attempts",
	"alert.claim_lease", "alert.escalate_after", "alert.max_escalations", "alert.auto_resolve_after",
	"alert.escalate_exec", "alert.escalate_webhook", "alert.jq",
	"sqs.queue_url", "sqs.dlq_url",
	"serve.listen", "serve.token_file", "serve.max_connections", "serve.timeout", "serve.heartbeat",
	"serve.status_cache",
	"trend.undercut_min_steps", "trend.undercut_max_step", "trend.undercut_max_gap", "trend.follow_period",
	"trend.follow_window", "trend.follow_min", "trend.follow_ratio", "trend.war_drop_pct", "trend.war_window",
	"trend.war_min_sellers", "trend.bb_lost_after", "trend.opportunity_min_pct",
	"status.oldest_age_degraded", "status.oldest_age_critical", "status.heartbeat_critical", "status.dlq_growth_pct",
};

static int is_known(const char *section, const char *name)
{
	size_t ls = strlen(section);
	for (size_t i = 0; i < sizeof known / sizeof *known; i++)
		if (strncmp(known[i], section, ls) == 0 && known[i][ls] == '.' &&
		    strcmp(known[i] + ls + 1, name) == 0)
			return 1;
	return 0;
}

static void conf_error(struct bb_conf *c, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void conf_error(struct bb_conf *c, int line, const char *fmt, ...)
{
	char *msg = NULL, *e = NULL, **more;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (!msg || asprintf(&e, "unable to load config: %s:%d: %s", c->path, line, msg) < 0)
		e = NULL;
	free(msg);
	more = e ? realloc(c->r.errors, (c->r.nerrors + 1) * sizeof *more) : NULL;
	if (!more) {
		free(e);
		c->r.nomem = 1;
		return;
	}
	c->r.errors = more;
	more[c->r.nerrors++] = e;
}

/* A line that should have been a name = value pair and was not. */
static void check_last_pair(struct bb_conf *c)
{
	if (c->r.pair_expected && !c->r.pair_called)
		conf_error(c, c->r.line, "syntax error: expected name = value");
	c->r.pair_expected = c->r.pair_called = 0;
}

/* libinih's reader: one whole line per call, as libinih counts them, so that
 * the handler knows its line; the lines libinih would refuse without saying
 * why are reported here. */
static char *read_line(char *buf, int size, void *arg)
{
	struct bb_conf *c = arg;
	size_t len;
	char *s = buf;

	check_last_pair(c);
	if (!fgets(buf, size, c->r.f))
		return NULL;
	c->r.line++;
	len = strlen(buf);
	if (len == (size_t)size - 1 && buf[len - 1] != '\n' && !feof(c->r.f)) {
		int ch;
		while ((ch = getc(c->r.f)) != EOF && ch != '\n')
			;
		conf_error(c, c->r.line, "line longer than %d bytes", size - 2);
		strcpy(buf, "\n");
		return buf;
	}
	if (c->r.line == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0)
		s += 3;
	while (isspace((unsigned char)*s))
		s++;
	if (!*s || *s == ';' || *s == '#')
		return buf;
	c->r.continuing = s > buf && c->r.after_pair;
	if (*s != '[' || c->r.continuing) {
		c->r.pair_expected = 1;
	} else if (strchr(s, ']')) {
		c->r.bad_section = c->r.after_pair = 0;
	} else {
		conf_error(c, c->r.line, "syntax error: section name without its closing ']'");
		c->r.bad_section = 1;
	}
	return buf;
}

static int on_pair(void *user, const char *section, const char *name, const char *value)
{
	struct bb_conf *c = user;

	c->r.pair_called = c->r.after_pair = 1;
	if (c->r.bad_section || (c->r.continuing && c->r.last_bad))
		return 1;
	c->r.last_bad = !is_known(section, name);
	if (c->r.last_bad) { /* a misspelt key would otherwise be ignored in silence */
		if (*section)
			conf_error(c, c->r.line, "no such key [%s] %s (see bb.conf(5))", section, name);
		else
			conf_error(c, c->r.line, "no such key %s before any [section] (see bb.conf(5))", name);
		return 1;
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 16;
		struct entry *e = realloc(c->e, cap * sizeof *e);
		if (!e)
			return !(c->r.nomem = 1);
		c->e = e;
		c->cap = cap;
	}
	c->e[c->n].section = strdup(section);
	c->e[c->n].name = strdup(name);
	c->e[c->n].value = strdup(value);
	if (!c->e[c->n].section || !c->e[c->n].name || !c->e[c->n].value)
		c->r.nomem = 1;
	c->n++;
	return !c->r.nomem;
}

/* Every error but the last is reported here; the last is left in err, for
 * main() to report as it exits. */
static int report(struct bb_conf *c, int rc, char *err, size_t errlen)
{
	if (rc > 0 && c->r.nerrors == 0) /* refused by libinih, unseen by the reader */
		conf_error(c, rc, "syntax error");
	if (rc < 0 || c->r.nomem) {
		snprintf(err, errlen, "unable to load config: %s: out of memory", c->path);
		return -1;
	}
	for (size_t i = 0; i + 1 < c->r.nerrors; i++)
		bb_fatal(BB_EX_CONFIG, "%s", c->r.errors[i]);
	if (c->r.nerrors)
		snprintf(err, errlen, "%s", c->r.errors[c->r.nerrors - 1]);
	return c->r.nerrors ? -1 : 0;
}

int bb_conf_load(struct bb_conf **out, char *err, size_t errlen)
{
	const char *env = getenv("BB_CONFIG");
	const char *path = env && *env ? env : "/etc/bb/bb.conf";
	struct bb_conf *c = calloc(1, sizeof *c);
	int rc;

	if (!c || !(c->path = strdup(path))) {
		free(c);
		*out = NULL;
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	*out = c;
	c->r.f = fopen(path, "r");
	if (!c->r.f) {
		if (errno == ENOENT && !(env && *env)) {
			free(c->path);
			c->path = NULL;
			return 0;
		}
		snprintf(err, errlen, "unable to read config '%s': %s", path, strerror(errno));
		rc = -1;
	} else {
		rc = ini_parse_stream(read_line, c, on_pair, c);
		check_last_pair(c);
		if (ferror(c->r.f)) {
			snprintf(err, errlen, "unable to read config '%s': %s", path, strerror(errno));
			rc = -1;
		} else {
			rc = report(c, rc, err, errlen);
		}
		fclose(c->r.f);
		c->r.f = NULL;
	}
	if (rc != 0) {
		bb_conf_free(c);
		*out = NULL;
	}
	return rc;
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
	for (size_t i = 0; i < c->r.nerrors; i++)
		free(c->r.errors[i]);
	free(c->r.errors);
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

const char *bb_conf_path(const struct bb_conf *c)
{
	return c && c->path ? c->path : "(none)";
}
