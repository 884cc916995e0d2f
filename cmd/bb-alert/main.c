/* bb-alert: the lifecycle of an alert after bb-dedupe and bb-store raised
 * it (ALERTS.md): list and show alerts, the operator's transitions (ack,
 * snooze, unsnooze, resolve, retry), and their delivery. */
#include "bbalert.h"
#include "cli.h"
#include "exitcode.h"
#include "log.h"
#include "parse.h"
#include "timeutil.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USAGE "usage: bb-alert list [--status S,...] [--severity S,...] [--asin A] [--queue Q] [--format text|ndjson]\n" \
	"       bb-alert show ID|FINGERPRINT\n" \
	"       bb-alert ack|resolve|unsnooze ID... [--by NAME] [--note TEXT]\n" \
	"       bb-alert snooze ID... [--for DURATION] [--by NAME] [--note TEXT]\n" \
	"       bb-alert retry ID...\n" \
	"       bb-alert deliver [--exec CMD | --webhook URL] [--jq EXPR] [--once | --interval DURATION] [--metrics-file PATH]\n" \
	"       bb-alert sweep [--exec CMD | --webhook URL] [--jq EXPR] [--once | --interval DURATION]\n" \
	"       bb-alert digest [--since DURATION] [--format text|markdown|html|ndjson]\n" \
	"  common: [--db URL] [--now RFC3339]\n"
#define HELP USAGE "\n" \
	"  --db URL          the database (default: [db] url, else sqlite:bb.db)\n" \
	"  --now TIME        the time to act at, instead of BB_NOW or the clock\n" \
	"  --status S,...    list: these statuses (default: all but resolved)\n" \
	"  --severity S,...  list: these severities\n" \
	"  --asin A          list: this ASIN's alerts\n" \
	"  --queue Q         list: high_priority, standard or background\n" \
	"  --format F        text (default), ndjson; digest also markdown, html\n" \
	"  --since DURATION  digest: the window that ends now (default 24h)\n" \
	"  --by NAME         who acts (default: $USER)\n" \
	"  --note TEXT       why, kept in the alert's timeline\n" \
	"  --for DURATION    snooze: how long (default: [alert] snooze, else 30m)\n" \
	"  --exec CMD        deliver, sweep: run CMD with sh -c, the document on stdin\n" \
	"  --webhook URL     deliver, sweep: POST the document to URL\n" \
	"  --jq EXPR         deliver, sweep: send what jq EXPR makes of the document\n" \
	"  --once            deliver, sweep: one pass, then exit (the default)\n" \
	"  --interval DUR    deliver, sweep: a pass every DUR until SIGTERM\n" \
	"  --metrics-file P  deliver: write Prometheus metrics to P every 15 s\n"

int64_t app_now(const struct app *a)
{
	return a->now >= 0 ? a->now : bb_now_ms();
}

static int usage(const char *fmt, const char *arg)
{
	return bb_cli_usage(USAGE, fmt, arg);
}

static int duration(const char *opt, const char *s, int64_t *ms)
{
	if (bb_duration_parse(s, ms) == 0 && *ms > 0)
		return 0;
	bb_say("%s '%s': expected a duration such as 30s, 5m, 24h or 7d", opt, s);
	return BB_EX_USAGE;
}

/* "a,b,c" into v (pointing into s), each checked by valid. */
static int csv(const char *opt, const char *s, struct bb_str *v, int *n, int (*valid)(const char *, size_t))
{
	for (const char *p = s;; p++) {
		const char *e = p + strcspn(p, ",");
		if (*n == BB_ALERT_FILTER_MAX || e == p || !valid(p, (size_t)(e - p))) {
			bb_say("%s '%s': unknown value '%.*s'", opt, s, (int)(e - p), p);
			return BB_EX_USAGE;
		}
		v[(*n)++] = (struct bb_str){ p, (size_t)(e - p) };
		if (!*(p = e))
			return 0;
	}
}

static int valid_status(const char *s, size_t n)
{
	return bb_alert_status_of(s, n) != BB_ALERT_ABSENT;
}

static int valid_severity(const char *s, size_t n)
{
	return bb_severity_of(s, n) >= 0;
}

static int option(struct app *a, int opt, const char *arg, const char **url)
{
	switch (opt) {
	case 'd': *url = arg; return 0;
	case 'n': return bb_time_parse(arg, strlen(arg), &a->now) == 0 ? 0 :
		usage("--now '%s': expected an RFC 3339 time such as 2026-01-01T00:00:00Z", arg);
	case 's': return csv("--status", arg, a->filter.status, &a->filter.nstatus, valid_status);
	case 'S': return csv("--severity", arg, a->filter.severity, &a->filter.nseverity, valid_severity);
	case 'a': a->filter.asin = (struct bb_str){ arg, strlen(arg) }; return 0;
	case 'q': a->filter.queue = (struct bb_str){ arg, strlen(arg) }; return 0;
	case 'f': a->format = arg; return 0;
	case 'b': a->by = arg; return 0;
	case 'N': a->note = arg; return 0;
	case 'F': return duration("--for", arg, &a->snooze_ms);
	case 'e': a->exec = arg; return 0;
	case 'w': a->webhook = arg; return 0;
	case 'j': a->jq_expr = arg; return 0;
	case 'o': a->once = 1; return 0;
	case 'i': return duration("--interval", arg, &a->interval_ms);
	case 'W': return duration("--since", arg, &a->since_ms);
	case 'M': a->metrics = arg; return 0;
	default: return usage(NULL, NULL);
	}
}

static int options(int argc, char **argv, struct app *a, const char **url)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' }, { "now", required_argument, NULL, 'n' },
		{ "status", required_argument, NULL, 's' }, { "severity", required_argument, NULL, 'S' },
		{ "asin", required_argument, NULL, 'a' }, { "queue", required_argument, NULL, 'q' },
		{ "format", required_argument, NULL, 'f' }, { "by", required_argument, NULL, 'b' },
		{ "note", required_argument, NULL, 'N' }, { "for", required_argument, NULL, 'F' },
		{ "exec", required_argument, NULL, 'e' }, { "webhook", required_argument, NULL, 'w' },
		{ "once", no_argument, NULL, 'o' }, { "interval", required_argument, NULL, 'i' },
		{ "since", required_argument, NULL, 'W' }, { "jq", required_argument, NULL, 'j' },
		{ "metrics-file", required_argument, NULL, 'M' },
		{ NULL, 0, NULL, 0 },
	};
	int opt, rc = 0;

	while (rc == 0 && (opt = getopt_long(argc, argv, "", opts, NULL)) != -1)
		rc = option(a, opt, optarg, url);
	if (rc == 0 && optind == argc)
		return usage("no command given", NULL);
	if (rc == 0 && a->exec && a->webhook)
		return usage("--exec and --webhook: give one channel%s", "");
	if (rc == 0 && a->once && a->interval_ms > 0)
		return usage("--once and --interval: give one%s", "");
	a->cmd = argv[optind];
	a->args = argv + optind + 1;
	a->nargs = argc - optind - 1;
	return rc;
}

/* A duration of [alert], when given. */
static int conf_duration(struct app *a, const char *name, int64_t *ms)
{
	const char *v = bb_conf_get(a->conf, "alert", name);
	if (!v || (bb_duration_parse(v, ms) == 0 && *ms > 0))
		return 0;
	return bb_fatal(BB_EX_CONFIG, "unable to use [alert] %s '%s': expected a duration such as 30s", name, v);
}

/* A count of [alert], when given: from 0 to 1000. */
static int conf_count(struct app *a, const char *name, int *n)
{
	const char *v = bb_conf_get(a->conf, "alert", name);
	int64_t k;
	if (!v)
		return 0;
	if (bb_parse_i64(v, 0, 1000, &k) == 0 && (k > 0 || strcmp(name, "max_escalations") == 0))
		return *n = (int)k, 0;
	return bb_fatal(BB_EX_CONFIG, "unable to use [alert] %s '%s': expected %s to 1000", name, v,
			strcmp(name, "max_escalations") == 0 ? "0" : "1");
}

/* The channel: --exec or --webhook, else for sweep's escalations
 * escalate_exec or escalate_webhook, else exec or webhook. */
static void channel(struct app *a)
{
	if (a->exec || a->webhook)
		return;
	if (strcmp(a->cmd, "sweep") == 0 && (a->exec = bb_conf_get(a->conf, "alert", "escalate_exec")) == NULL)
		a->webhook = bb_conf_get(a->conf, "alert", "escalate_webhook");
	if (!a->exec && !a->webhook && (a->exec = bb_conf_get(a->conf, "alert", "exec")) == NULL)
		a->webhook = bb_conf_get(a->conf, "alert", "webhook");
}

/* --jq, else [alert] jq: compiled before anything is sent. */
static int compile_jq(struct app *a)
{
	const char *given = a->jq_expr;
	char err[256];

	if (!given && !(a->jq_expr = bb_conf_get(a->conf, "alert", "jq")))
		return 0;
	if ((a->jq = bb_jq_compile(a->jq_expr, err, sizeof err)))
		return 0;
	if (given)
		return usage("unable to compile --jq: %s", err);
	return bb_fatal(BB_EX_CONFIG, "unable to compile [alert] jq '%s': %s", a->jq_expr, err);
}

static int configure(struct app *a)
{
	const struct { const char *name; int64_t *ms; } durations[] = {
		{ "snooze", &a->snooze_ms }, { "retry_base", &a->retry_base_ms }, { "retry_cap", &a->retry_cap_ms },
		{ "claim_lease", &a->lease_ms }, { "escalate_after", &a->escalate_ms },
		{ "auto_resolve_after", &a->auto_resolve_ms },
	};
	int64_t snooze = a->snooze_ms;
	int rc = 0;

	a->snooze_ms = 30 * 60 * 1000, a->retry_base_ms = 10000, a->retry_cap_ms = 600000, a->lease_ms = 120000;
	a->escalate_ms = 3600000, a->auto_resolve_ms = 86400000, a->max_attempts = 5, a->max_escalations = 3;
	for (size_t i = 0; rc == 0 && i < sizeof durations / sizeof *durations; i++)
		rc = conf_duration(a, durations[i].name, durations[i].ms);
	if (rc == 0)
		rc = conf_count(a, "max_attempts", &a->max_attempts);
	if (rc == 0)
		rc = conf_count(a, "max_escalations", &a->max_escalations);
	if (snooze)
		a->snooze_ms = snooze; /* --for */
	channel(a);
	if (rc == 0)
		rc = compile_jq(a);
	return rc;
}

static int run(struct app *a)
{
	static const char *const ops[] = { "ack", "snooze", "unsnooze", "resolve", "retry" };

	for (int op = 0; op < BB_ALERT_OPERATOR_OPS; op++)
		if (strcmp(a->cmd, ops[op]) == 0)
			return run_op(a, (enum bb_alert_op)op);
	if (strcmp(a->cmd, "list") == 0)
		return run_list(a);
	if (strcmp(a->cmd, "show") == 0)
		return run_show(a);
	if (strcmp(a->cmd, "deliver") == 0)
		return run_deliver(a);
	if (strcmp(a->cmd, "sweep") == 0)
		return run_sweep(a);
	if (strcmp(a->cmd, "digest") == 0)
		return run_digest(a);
	return usage("unknown command '%s'", a->cmd);
}

/* Whether the command names one: checked before the database is opened. */
static int known_command(const char *cmd)
{
	static const char *const cmds[] = { "ack", "snooze", "unsnooze", "resolve", "retry", "list", "show", "deliver",
					    "sweep", "digest" };
	for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++)
		if (strcmp(cmd, cmds[i]) == 0)
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	struct app a = { .now = -1 };
	struct bb_conf *conf = NULL;
	const char *url;
	char err[600];
	int rc;

	bb_log_init("bb-alert");
	if (bb_cli_early(argc, argv, HELP, "bb-alert " BB_VERSION))
		return 0;
	if (bb_conf_load(&conf, err, sizeof err) != 0)
		return bb_fatal(BB_EX_CONFIG, "%s", err);
	a.conf = conf;
	url = bb_conf_get(conf, "db", "url");
	rc = options(argc, argv, &a, &url);
	if (rc == 0 && !known_command(a.cmd))
		rc = usage("unknown command '%s'", a.cmd);
	if (rc == 0)
		rc = configure(&a);
	if (rc == 0)
		rc = bb_db_open_or_report(url ? url : "sqlite:bb.db", &a.db);
	if (rc == 0)
		rc = run(&a);
	if (rc == 0 && (fflush(stdout) != 0 || ferror(stdout)))
		rc = bb_fatal(BB_EX_IOERR, "unable to write standard output: %s", strerror(errno));
	bb_db_close(a.db);
	bb_jq_free(a.jq);
	bb_conf_free(conf);
	return rc;
}
