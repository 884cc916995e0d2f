/* bb-status: how the pipeline is doing — queue depth, the oldest message's
 * age, the DLQ, heartbeats, failures and alerts — as the worker-status
 * document (JSON), a short dashboard, or Prometheus text; with --check, an
 * exit status a monitor can act on. */
#include "cli.h"
#include "conf.h"
#include "db.h"
#include "exitcode.h"
#include "log.h"
#include "metrics.h"
#include "parse.h"
#include "sqs.h"
#include "status.h"
#include "timeutil.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define USAGE "usage: bb-status [--db URL] [--queue-url URL] [--dlq-url URL] [--format json|text|prom]\n" \
	      "                 [--output FILE] [--check] [--now TIME]\n"
#define HELP USAGE "\n" \
	     "  --db URL          the database (default: [db] url, else sqlite:bb.db)\n" \
	     "  --queue-url URL   the queue (default: [sqs] queue_url)\n" \
	     "  --dlq-url URL     its dead-letter queue (default: [sqs] dlq_url)\n" \
	     "  --format F        json (default), text or prom\n" \
	     "  --output FILE     write the document to FILE (whole: temporary file, then rename)\n" \
	     "  --check           print each failed check; exit 0 healthy, 1 degraded, 2 critical\n" \
	     "  --now TIME        the time to judge at, instead of BB_NOW or the clock\n" \
	     "  -h, --help        print this help and exit\n" \
	     "  -V, --version     print the version and exit\n"

struct opts {
	const char *url, *format, *output;
	int check;
	int64_t now;
	struct bb_status_conf sc;
};

static int usage(const char *fmt, const char *arg)
{
	return bb_cli_usage(USAGE, fmt, arg);
}

/* [db], and the rest as bb_status_configure reads it. */
static int configure(const struct bb_conf *conf, struct opts *o)
{
	char err[600];

	o->url = bb_conf_get(conf, "db", "url");
	if (bb_status_configure(&o->sc, conf, err, sizeof err) != 0)
		return bb_fatal(BB_EX_CONFIG, "%s", err);
	return 0;
}

static int parse_options(int argc, char **argv, struct opts *o)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' }, { "queue-url", required_argument, NULL, 'q' },
		{ "dlq-url", required_argument, NULL, 'Q' }, { "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' }, { "check", no_argument, NULL, 'c' },
		{ "now", required_argument, NULL, 'n' }, { NULL, 0, NULL, 0 },
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'd': o->url = optarg; break;
		case 'q': o->sc.queue_url = *optarg ? optarg : NULL; break;
		case 'Q': o->sc.dlq_url = *optarg ? optarg : NULL; break;
		case 'o': o->output = optarg; break;
		case 'c': o->check = 1; break;
		case 'f':
			if (strcmp(optarg, "json") && strcmp(optarg, "text") && strcmp(optarg, "prom"))
				return usage("--format '%s': expected json, text or prom", optarg);
			o->format = optarg;
			break;
		case 'n':
			if (bb_time_parse(optarg, strlen(optarg), &o->now) != 0)
				return usage("--now '%s': expected an RFC 3339 time such as 2026-01-01T00:00:00Z", optarg);
			break;
		default: return usage(NULL, NULL);
		}
	}
	if (optind < argc)
		return usage("unexpected argument '%s'", argv[optind]);
	return 0;
}

/* The database, without creating one: a status of a file that is not there
 * says so, and leaves no empty database behind. */
static struct bb_db *open_db(const char *url, char *err, size_t errlen)
{
	struct bb_db *db = NULL;
	struct stat st;
	char why[500];

	if (strncmp(url, "sqlite:", 7) == 0 && stat(url + 7, &st) != 0) {
		snprintf(err, errlen, "unable to open database '%s': %s", url, strerror(errno));
		return NULL;
	}
	if (bb_db_open(url, &db, why, sizeof why) != BB_DB_OK) {
		snprintf(err, errlen, "unable to open database '%s': %s", db ? bb_db_name(db) : url, why);
		bb_db_close(db);
		return NULL;
	}
	return db;
}

/* ---- the text dashboard ---- */

static void num_or_dash(FILE *out, const char *label, int64_t v)
{
	if (v < 0)
		fprintf(out, "%s -", label);
	else
		fprintf(out, "%s %lld", label, (long long)v);
}

static void ago(FILE *out, const char *label, int64_t now, int64_t t)
{
	if (t < 0)
		fprintf(out, "  %s never", label);
	else
		fprintf(out, "  %s %llds ago", label, (long long)((now - t) / 1000));
}

static void text_queue(FILE *out, const struct bb_status *s)
{
	fputs("ingestion  ", out);
	num_or_dash(out, "queue", s->queue_depth);
	num_or_dash(out, " (in flight", s->in_flight);
	num_or_dash(out, ", delayed", s->delayed);
	fputs(")  oldest ", out);
	if (s->queue_depth == 0 || s->lag_ms >= 0)
		fprintf(out, "%.3fs", (double)(s->queue_depth == 0 ? 0 : s->lag_ms) / 1000);
	else
		fputs("-", out);
	num_or_dash(out, "  dlq", s->dlq_count);
	if (s->processed_window >= 0)
		fprintf(out, "  %lld stored in 5m", (long long)s->processed_window);
	ago(out, "heartbeat", s->now, s->ingest_heartbeat);
	fputs("\nanalysis   ", out);
	num_or_dash(out, "backlog", s->backlog);
	num_or_dash(out, "  avg ms", s->avg_processing_ms);
	ago(out, "heartbeat", s->now, s->analysis_heartbeat);
	fprintf(out, "\nlag        %s", s->lag_note);
	if (s->lag_worker)
		fprintf(out, ": max %lld ms, p99 %lld ms, from %s", (long long)s->lag_ms, (long long)s->lag_p99_ms,
			s->lag_worker);
	fputc('\n', out);
}

static void text_lists(FILE *out, const struct bb_status *s, const struct bb_status_conf *c)
{
	for (size_t i = 0; i < s->nworkers; i++) {
		const struct bb_status_worker *w = &s->workers[i];
		fprintf(out, "worker     %s %s", w->worker_id, w->stage);
		ago(out, "heartbeat", s->now, w->last_heartbeat);
		fprintf(out, "  processed %lld failed %lld%s\n", (long long)w->processed, (long long)w->failed,
			s->now - w->last_heartbeat > c->heartbeat_critical_ms ? "  (stale)" : "");
	}
	fputs("alerts    ", out);
	for (size_t i = 0; i < s->nalerts; i++)
		fprintf(out, " %s %lld", s->alerts[i].key, (long long)s->alerts[i].n);
	fputs(s->nalerts ? "\nfailures  " : " none\nfailures  ", out);
	for (size_t i = 0; i < s->nfailures; i++)
		fprintf(out, " %s %lld", s->failures[i].key, (long long)s->failures[i].n);
	fprintf(out, "%s (24h)\n", s->nfailures ? "" : " none");
	if (s->dlq_growth_24h >= 0)
		fprintf(out, "dlq        %lld dead-lettered of %lld processed (24h)\n", (long long)s->dlq_growth_24h,
			(long long)s->processed_24h);
}

static void text(FILE *out, const struct bb_status *s, const struct bb_status_conf *c)
{
	char at[40];
	bb_time_format(s->now, at, sizeof at);
	fprintf(out, "bb status at %s: %s\n", at, bb_health_name(s->health));
	text_queue(out, s);
	text_lists(out, s, c);
	for (int i = 0; i < s->nchecks; i++)
		fprintf(out, "check      %s: %s: %s\n", bb_health_name(s->checks[i].level), s->checks[i].name,
			s->checks[i].message);
}

/* ---- output ---- */

static void render(FILE *out, const struct opts *o, const struct bb_status *s)
{
	if (strcmp(o->format, "prom") == 0) {
		bb_status_prom(out, s);
	} else if (strcmp(o->format, "text") == 0) {
		text(out, s, &o->sc);
	} else {
		struct bb_jw w;
		bb_jw_init(&w);
		bb_status_json(&w, s, &o->sc);
		fwrite(w.buf, 1, w.len, out);
		fputc('\n', out);
		bb_jw_free(&w);
	}
}

static int to_file(const struct opts *o, const struct bb_status *s)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	int rc = 0;

	if (!f)
		return bb_fatal(BB_EX_SOFTWARE, "out of memory");
	render(f, o, s);
	if (fclose(f) != 0 || bb_write_file_atomic(o->output, buf, n) != 0)
		rc = bb_fatal(BB_EX_IOERR, "unable to write '%s': %s", o->output, strerror(errno));
	free(buf);
	return rc;
}

static int report(const struct opts *o, const struct bb_status *s)
{
	int rc = o->output ? to_file(o, s) : 0;

	if (rc == 0 && o->check)
		for (int i = 0; i < s->nchecks; i++)
			printf("%s: %s: %s\n", bb_health_name(s->checks[i].level), s->checks[i].name, s->checks[i].message);
	else if (rc == 0 && !o->output)
		render(stdout, o, s);
	if (rc == 0 && (fflush(stdout) != 0 || ferror(stdout)))
		rc = bb_fatal(BB_EX_IOERR, "unable to write standard output: %s", strerror(errno ? errno : EIO));
	return rc != 0 ? rc : o->check ? (int)s->health : 0;
}

static int run(struct opts *o)
{
	char db_err[600] = "", sqs_err[600] = "";
	struct bb_sqs *sqs = NULL;
	struct bb_status s;
	int rc;

	if (bb_db_url_check(o->url, db_err, sizeof db_err) != 0)
		return bb_fatal(BB_EX_CONFIG, "unable to use database '%s': %s", o->url, db_err);
	struct bb_db *db = open_db(o->url, db_err, sizeof db_err);
	sqs = bb_status_sqs(&o->sc, sqs_err, sizeof sqs_err);
	if (bb_status_collect(db, db_err, sqs, sqs_err, &o->sc, o->now >= 0 ? o->now : bb_now_ms(), &s) != 0)
		rc = bb_fatal(BB_EX_SOFTWARE, "out of memory");
	else
		rc = report(o, &s);
	bb_status_free(&s);
	bb_sqs_free(sqs);
	bb_db_close(db);
	return rc;
}

int main(int argc, char **argv)
{
	struct opts o = { .format = "json", .now = -1 };
	struct bb_conf *conf = NULL;
	char err[600];
	int rc;

	bb_log_init("bb-status");
	if (bb_cli_early(argc, argv, HELP, "bb-status " BB_VERSION))
		return 0;
	if (bb_conf_load(&conf, err, sizeof err) != 0)
		return bb_fatal(BB_EX_CONFIG, "%s", err);
	rc = configure(conf, &o);
	if (rc == 0)
		rc = parse_options(argc, argv, &o);
	if (rc == 0 && !o.url)
		o.url = "sqlite:bb.db";
	if (rc == 0)
		rc = run(&o);
	bb_conf_free(conf);
	return rc;
}
