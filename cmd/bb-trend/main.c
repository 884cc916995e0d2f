/* bb-trend: 30 days of competitive history read as TREND.md says: an
 * ASIN's series, the five patterns, the weekly rollup and the weekly
 * competitive-intelligence report, and history retention. Everything is in
 * event time; --now (or BB_NOW) pins "now", so the same database and
 * arguments give the same bytes. */
#include "trend.h"
#include "cli.h"
#include "exitcode.h"
#include "log.h"
#include "parse.h"
#include "timeutil.h"

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USAGE "usage: bb-trend history ASIN [--marketplace M] [--since DURATION] [--format text|ndjson|csv]\n" \
	"       bb-trend detect [--since DURATION] [--asin A] [--format ndjson|text] [--record]\n" \
	"       bb-trend rollup [--week YYYY-Www]\n" \
	"       bb-trend report [--week YYYY-Www] [--format text|markdown|html|json] [--output FILE] [--top N]\n" \
	"       bb-trend prune [--keep DURATION]\n" \
	"  common: [--db URL] [--now RFC3339] [--seller-id ID]...\n"
#define HELP USAGE "\n" \
	"  --db URL            the database (default: [db] url, else sqlite:bb.db)\n" \
	"  --now TIME          the time to act at, instead of BB_NOW or the clock\n" \
	"  --seller-id ID      an id of ours (repeatable; replaces [analysis] seller_ids)\n" \
	"  --marketplace M     history: this marketplace only\n" \
	"  --since DURATION    history, detect: how far back (default 7d, 30d)\n" \
	"  --asin A            detect: this ASIN only\n" \
	"  --format F          the output's format (default text; detect: ndjson)\n" \
	"  --record            detect: store new findings and raise their alerts\n" \
	"  --week YYYY-Www     rollup, report: the ISO week (default: the last complete one)\n" \
	"  --output FILE       report: write FILE atomically instead of standard output\n" \
	"  --top N             report: how many top threats to show (default 10)\n" \
	"  --keep DURATION     prune: keep so much history (default 30d)\n" \
	"  -h, --help          print this help and exit\n" \
	"  -V, --version       print the version and exit"

static int usage(const char *fmt, const char *arg)
{
	return bb_cli_usage(USAGE, fmt, arg);
}

static int duration(const char *opt, const char *s, int64_t *ms, int zero_ok)
{
	if (bb_duration_parse(s, ms) == 0 && (*ms > 0 || (zero_ok && *ms == 0)))
		return 0;
	bb_say("%s '%s': expected a duration such as 30s, 5m, 24h or 7d", opt, s);
	return usage(NULL, NULL);
}

static int add_seller(struct app *a, const char *id)
{
	const char **s = realloc(a->t.sellers, (size_t)(a->t.nsellers + 1) * sizeof *s);
	if (!s)
		return bb_fatal(BB_EX_SOFTWARE, "out of memory");
	a->t.sellers = s;
	s[a->t.nsellers++] = id;
	return 0;
}

static int option(struct app *a, int opt, const char *arg, const char **url, int *cli_sellers)
{
	int64_t n;
	switch (opt) {
	case 'd': *url = arg; return 0;
	case 'n': return bb_time_parse(arg, strlen(arg), &a->now) == 0 ? 0 :
		usage("--now '%s': expected an RFC 3339 time such as 2026-01-01T00:00:00Z", arg);
	case 'S': *cli_sellers = 1; return add_seller(a, arg);
	case 'm': a->marketplace = arg; return 0;
	case 's': return duration("--since", arg, &a->since, 0);
	case 'a': a->asin = arg; return 0;
	case 'f': a->format = arg; return 0;
	case 'r': a->record = 1; return 0;
	case 'w': a->week = arg; return week_parse(arg, &n) == 0 ? 0 :
		usage("--week '%s': expected an ISO week such as 2025-W23", arg);
	case 'o': a->output = arg; return 0;
	case 't': if (bb_parse_i64(arg, 1, 1000, &n) != 0)
			return usage("--top '%s': expected a number from 1 to 1000", arg);
		a->top = (int)n;
		return 0;
	case 'k': return duration("--keep", arg, &a->keep, 0);
	default: return usage(NULL, NULL);
	}
}

static int valid_format(const char *cmd, const char *f)
{
	static const char *const ok[][5] = {
		{ "history", "text", "ndjson", "csv", NULL }, { "detect", "ndjson", "text", NULL, NULL },
		{ "report", "text", "markdown", "html", "json" },
	};
	for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
		for (int j = 1; strcmp(ok[i][0], cmd) == 0 && j < 5 && ok[i][j]; j++)
			if (strcmp(ok[i][j], f) == 0)
				return 1;
	return 0;
}

static int options(int argc, char **argv, struct app *a, const char **url, int *cli_sellers)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' }, { "now", required_argument, NULL, 'n' },
		{ "seller-id", required_argument, NULL, 'S' }, { "marketplace", required_argument, NULL, 'm' },
		{ "since", required_argument, NULL, 's' }, { "asin", required_argument, NULL, 'a' },
		{ "format", required_argument, NULL, 'f' }, { "record", no_argument, NULL, 'r' },
		{ "week", required_argument, NULL, 'w' }, { "output", required_argument, NULL, 'o' },
		{ "top", required_argument, NULL, 't' }, { "keep", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const cmds[] = { "history", "detect", "rollup", "report", "prune" };
	int opt, rc = 0, known = 0;

	while (rc == 0 && (opt = getopt_long(argc, argv, "", opts, NULL)) != -1)
		rc = option(a, opt, optarg, url, cli_sellers);
	if (rc)
		return rc;
	if (optind == argc)
		return usage("no command given%s", "");
	a->cmd = argv[optind];
	a->args = (const char **)argv + optind + 1;
	a->nargs = argc - optind - 1;
	for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++)
		known |= strcmp(a->cmd, cmds[i]) == 0;
	if (!known)
		return usage("unknown command '%s'", a->cmd);
	int want = strcmp(a->cmd, "history") == 0; /* its ASIN */
	if (a->nargs > want) {
		bb_say("%s: unexpected argument '%s'", a->cmd, a->args[want]);
		return usage(NULL, NULL);
	}
	if (a->nargs < want)
		return usage("%s: expected an ASIN", a->cmd);
	if (!a->format)
		a->format = strcmp(a->cmd, "detect") == 0 ? "ndjson" : "text";
	if ((strcmp(a->cmd, "history") == 0 || strcmp(a->cmd, "detect") == 0 || strcmp(a->cmd, "report") == 0) &&
	    !valid_format(a->cmd, a->format))
		return usage("--format '%s': not a format of this command", a->format);
	if (a->since == 0)
		a->since = strcmp(a->cmd, "history") == 0 ? 7 * DAY_MS : 30 * DAY_MS;
	return 0;
}

/* [trend]: TREND.md's thresholds. */
enum knob_type { COUNT, DURATION, PERCENT };
static const struct knob {
	const char *name;
	enum knob_type type;
	size_t off;
	int64_t def;
} knobs[] = {
	{ "undercut_min_steps", COUNT, offsetof(struct trend_conf, undercut_min_steps), 3 },
	{ "undercut_max_step", COUNT, offsetof(struct trend_conf, undercut_max_step), 5 },
	{ "undercut_max_gap", DURATION, offsetof(struct trend_conf, undercut_max_gap), 60 * MIN_MS },
	{ "follow_period", DURATION, offsetof(struct trend_conf, follow_period), 7 * DAY_MS },
	{ "follow_window", DURATION, offsetof(struct trend_conf, follow_window), 15 * MIN_MS },
	{ "follow_min", COUNT, offsetof(struct trend_conf, follow_min), 3 },
	{ "follow_ratio", PERCENT, offsetof(struct trend_conf, follow_ratio), 6000 },
	{ "war_drop_pct", PERCENT, offsetof(struct trend_conf, war_drop_pct), 2000 },
	{ "war_window", DURATION, offsetof(struct trend_conf, war_window), DAY_MS },
	{ "war_min_sellers", COUNT, offsetof(struct trend_conf, war_min_sellers), 3 },
	{ "bb_lost_after", DURATION, offsetof(struct trend_conf, bb_lost_after), 4 * HOUR_MS },
	{ "opportunity_min_pct", PERCENT, offsetof(struct trend_conf, opportunity_min_pct), 200 },
};

static int knob(struct app *a, const struct knob *k)
{
	int64_t *v = (int64_t *)((char *)&a->t + k->off);
	const char *s = bb_conf_get(a->conf, "trend", k->name);
	static const char *const want[] = { "a whole number from 1", "a duration such as 30s, 5m, 24h or 7d",
					    "a percentage with at most two decimals" };

	*v = k->def;
	if (!s)
		return 0;
	if (k->type == COUNT ? bb_parse_i64(s, 1, 1000000, v) == 0 :
	    k->type == DURATION ? bb_duration_parse(s, v) == 0 && *v > 0 :
	    bb_parse_fixed(s, strlen(s), 2, v) == 0 && *v <= 10000)
		return 0;
	return bb_fatal(BB_EX_CONFIG, "unable to use [trend] %s '%s': expected %s", k->name, s, want[k->type]);
}

static int configure(struct app *a, int cli_sellers)
{
	const char *v;
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < sizeof knobs / sizeof *knobs; i++)
		rc = knob(a, &knobs[i]);
	if (rc == 0 && !cli_sellers && (v = bb_conf_get(a->conf, "analysis", "seller_ids")) &&
	    (!(a->sellers_copy = strdup(v)) || bb_split_list(a->sellers_copy, &a->t.sellers, &a->t.nsellers) != 0))
		rc = bb_fatal(BB_EX_SOFTWARE, "out of memory");
	if (a->now < 0)
		a->now = bb_now_ms();
	if (!a->keep)
		a->keep = 30 * DAY_MS;
	if (!a->top)
		a->top = 10;
	return rc;
}

int db_fatal(struct app *a, int rc, const char *verb)
{
	return bb_fatal(rc == BB_DB_RETRY ? BB_EX_TEMPFAIL : BB_EX_SOFTWARE, "unable to %s database '%s': %s", verb,
			bb_db_name(a->db), bb_db_errmsg(a->db));
}

int series_load(struct app *a, struct bb_history_place p, int64_t from, int64_t to, int64_t carry_ms, int offers,
		struct bb_history *s)
{
	s->ours = a->t.sellers;
	s->nours = a->t.nsellers;
	return bb_history_load(s, a->db, p, from, to, carry_ms, offers);
}

static int run(struct app *a)
{
	if (strcmp(a->cmd, "history") == 0)
		return run_history(a);
	if (strcmp(a->cmd, "detect") == 0)
		return run_detect(a);
	if (strcmp(a->cmd, "rollup") == 0)
		return run_rollup(a);
	if (strcmp(a->cmd, "report") == 0)
		return run_report(a);
	return run_prune(a);
}

int main(int argc, char **argv)
{
	struct app a = { .now = -1 };
	const char *url;
	char err[600];
	int rc, cli_sellers = 0;

	bb_log_init("bb-trend");
	if (bb_cli_early(argc, argv, HELP, "bb-trend " BB_VERSION))
		return 0;
	if (bb_conf_load(&a.conf, err, sizeof err) != 0)
		return bb_fatal(BB_EX_CONFIG, "%s", err);
	url = bb_conf_get(a.conf, "db", "url");
	rc = options(argc, argv, &a, &url, &cli_sellers);
	if (rc == 0)
		rc = configure(&a, cli_sellers);
	if (rc == 0)
		rc = bb_db_open_or_report(url ? url : "sqlite:bb.db", &a.db);
	if (rc == 0)
		rc = run(&a);
	bb_db_close(a.db);
	bb_conf_free(a.conf);
	free(a.t.sellers);
	free(a.sellers_copy);
	return rc;
}
