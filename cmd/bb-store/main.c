/* bb-store: make each record's outcome durable — one transaction per batch —
 * and only then pass the record on, with `stored` added. */
#include "cli.h"
#include "conf.h"
#include "db.h"
#include "exitcode.h"
#include "log.h"
#include "metrics.h"
#include "notification.h"
#include "parse.h"
#include "record.h"
#include "store.h"
#include "timeutil.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define USAGE "usage: bb-store [--db URL] [--batch N] [--max-delay MS] [--retry-for DURATION]\n" \
	      "                [--keep DURATION] [--page-cache MIB] [--worker-id ID] [--migrate]\n" \
	      "                [--metrics-file PATH]\n"
/* --help: the usage and a line for each option, as in the man page */
#define HELP USAGE "\n" \
	     "  --db URL              sqlite:PATH or a PostgreSQL URL (default sqlite:bb.db)\n" \
	     "  --batch N             records per transaction at most (default 2000)\n" \
	     "  --max-delay MS        commit a partial batch after MS ms (default 100)\n" \
	     "  --retry-for DURATION  retry an unavailable database so long (default 5m)\n" \
	     "  --keep DURATION       keep history rows so long, 0 for ever (default 30d)\n" \
	     "  --page-cache MIB      SQLite: database pages kept in memory (default 64)\n" \
	     "  --worker-id ID        this process in worker_heartbeats (default host:pid)\n" \
	     "  --migrate             migrate the schema and exit\n" \
	     "  --metrics-file PATH   write Prometheus metrics to PATH every 15 s\n" \
	     "  -h, --help            print this help and exit\n" \
	     "  -V, --version         print the version and exit\n"

static int on_record(struct bb_record *rec, struct bb_emit *em, void *arg)
{
	struct ctx *c = arg;
	struct batch *b = c->cur;

	em->suppress = 1; /* written after the commit */
	if (bb_reserve((void **)&b->items, &b->cap, (size_t)b->n + 1, sizeof *b->items) != 0)
		return bb_fatal(BB_EX_SOFTWARE, "out of memory");
	if (b->n == 0)
		c->batch_started = bb_clock_ms();
	if (store_read(&b->items[b->n], rec, &c->conf) != 0) {
		store_item_free(&b->items[b->n]);
		return bb_fatal(BB_EX_SOFTWARE, "out of memory");
	}
	b->held += b->items[b->n].held;
	b->n++;
	return b->n >= c->batch_max || b->held >= BATCH_BYTES_MAX ? stages_submit(c) : 0;
}

static int on_idle(void *arg, int *wait_ms)
{
	struct ctx *c = arg;
	int64_t now = bb_clock_ms();
	int rc;

	/* A batch past --max-delay goes as soon as the writer is free. While
	 * it is busy the batch grows instead: the records could not be
	 * committed sooner, and a larger batch costs fewer pages a record. */
	if (c->cur->n > 0 && now - c->batch_started >= c->max_delay && stages_writer_idle(c) &&
	    (rc = stages_submit(c)) != 0)
		return rc;
	if ((rc = stages_idle(c, now, wait_ms)) != 0)
		return rc;
	if (c->cur->n > 0) {
		int64_t left = c->batch_started + c->max_delay - now;
		if (left < *wait_ms)
			*wait_ms = (int)(left > 0 ? left : 5); /* overdue: look at the writer again soon */
	}
	return 0;
}

struct options {
	const char *url, *worker_id, *metrics;
	int migrate;
	int64_t page_cache; /* MiB, 0 for the default */
};

static int parse_options(int argc, char **argv, struct ctx *c, struct options *o)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "batch", required_argument, NULL, 'b' },
		{ "max-delay", required_argument, NULL, 'm' },
		{ "retry-for", required_argument, NULL, 'r' },
		{ "worker-id", required_argument, NULL, 'w' },
		{ "keep", required_argument, NULL, 'k' },
		{ "migrate", no_argument, NULL, 'M' },
		{ "page-cache", required_argument, NULL, 'C' },
		{ "metrics-file", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'd': o->url = optarg; break;
		case 'w': o->worker_id = optarg; break;
		case 'M': o->migrate = 1; break;
		case 'P': o->metrics = optarg; break;
		case 'b':
			if (bb_parse_i64(optarg, 1, 100000, &c->batch_max) == 0)
				break;
			bb_say("--batch '%s': expected a whole number from 1 to 100000", optarg);
			return BB_EX_USAGE;
		case 'm':
			if (bb_parse_i64(optarg, 0, 3600000, &c->max_delay) == 0)
				break;
			bb_say("--max-delay '%s': expected milliseconds from 0 to 3600000", optarg);
			return BB_EX_USAGE;
		case 'k':
			if (bb_duration_parse(optarg, &c->keep) == 0)
				break;
			bb_say("--keep '%s': expected a duration such as 30d, or 0 to keep everything", optarg);
			return BB_EX_USAGE;
		case 'C':
			if (bb_parse_i64(optarg, 1, 4096, &o->page_cache) == 0)
				break;
			bb_say("--page-cache '%s': expected a whole number of MiB from 1 to 4096", optarg);
			return BB_EX_USAGE;
		case 'r':
			if (bb_duration_parse(optarg, &c->retry_for) == 0)
				break;
			bb_say("--retry-for '%s': expected a duration such as 30s, 5m or 1h", optarg);
			return BB_EX_USAGE;
		default: fputs(USAGE, stderr); return BB_EX_USAGE;
		}
	}
	if (optind < argc) {
		bb_say("unexpected argument '%s'", argv[optind]);
		fputs(USAGE, stderr);
		return BB_EX_USAGE;
	}
	return 0;
}

static int sellers(struct ctx *c, struct bb_conf *conf, char **copy)
{
	const char *v = bb_conf_get(conf, "analysis", "seller_ids");
	if (!v || !(*copy = strdup(v)))
		return 0;
	return bb_split_list(*copy, &c->conf.sellers, &c->conf.nsellers);
}

int main(int argc, char **argv)
{
	struct ctx c = { .batch_max = 2000, .max_delay = 100, .retry_for = 300000,
			 .keep = 30LL * 86400000, .last_prune = INT64_MIN / 2 };
	struct options o = { 0 };
	struct bb_conf *conf = NULL;
	char err[600], wid[300], *sellers_copy = NULL;
	int rc;

	bb_log_init("bb-store");
	if (bb_cli_early(argc, argv, HELP, "bb-store " BB_VERSION))
		return 0;
	if (bb_conf_load(&conf, err, sizeof err) != 0)
		return bb_fatal(BB_EX_CONFIG, "%s", err);
	o.url = bb_conf_get(conf, "db", "url");
	if ((rc = parse_options(argc, argv, &c, &o)) != 0 || (rc = sellers(&c, conf, &sellers_copy)) != 0)
		goto out;
	if (!o.url)
		o.url = "sqlite:bb.db";
	gethostname(c.host, sizeof c.host - 1);
	snprintf(wid, sizeof wid, "%s:%d", c.host, (int)getpid());
	c.conf.worker_id = o.worker_id ? o.worker_id : wid;
	c.started = bb_now_ms();
	bb_signals_install(); /* before the database, whose lock may be waited for */
	if ((rc = bb_db_open_or_report(o.url, &c.db)) != 0)
		goto out;
	if (o.page_cache)
		bb_db_page_cache(c.db, (int)o.page_cache);
	bb_outage_init(&c.outage, "database", "db", bb_db_name(c.db));
	c.conf.pg = bb_db_is_pg(c.db);
	if (!(c.conf.doc = bb_json_new())) {
		rc = bb_fatal(BB_EX_SOFTWARE, "out of memory");
		goto out;
	}
	if (o.migrate) {
		bb_log(BB_INFO, NULL, "schema up to date", "db", bb_db_name(c.db), NULL);
		rc = 0;
		goto out;
	}
	if (o.metrics && (rc = bb_metrics_start(o.metrics, "store", c.conf.worker_id, 0, err, sizeof err)) != 0) {
		bb_fatal(rc, "%s", err);
		goto out;
	}
	if ((rc = stages_start(&c)) != 0)
		goto out;
	/* records come out through the emitter only: the loop's stdout stays empty */
	struct bb_loop loop = { .on_record = on_record, .on_idle = on_idle, .ctx = &c };
	rc = bb_records_run(STDIN_FILENO, stdout, &loop);
	if (rc == 0)
		rc = stages_submit(&c); /* what is in hand at the end of input or on SIGTERM */
	int stopped = stages_stop(&c);
	if (rc == 0)
		rc = stopped;
	char p[24], f[24], d[24];
	snprintf(p, sizeof p, "%zu", c.processed);
	snprintf(f, sizeof f, "%zu", c.failed);
	snprintf(d, sizeof d, "%zu", c.duplicates);
	bb_log(BB_INFO, NULL, "summary", "processed", p, "failed", f, "duplicates", d, NULL);
out:
	stages_free(&c);
	if (bb_metrics_stop(err, sizeof err) != 0)
		bb_log(BB_WARN, NULL, err, NULL);
	if (c.outage.service)
		bb_outage_destroy(&c.outage);
	store_conf_free(&c.conf);
	bb_json_free(c.conf.doc);
	free(c.conf.sellers);
	free(sellers_copy);
	bb_db_close(c.db);
	bb_conf_free(conf);
	return rc;
}
