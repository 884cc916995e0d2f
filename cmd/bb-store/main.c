/* bb-store: make each record's outcome durable — one transaction per batch —
 * and only then pass the record on, with `stored` added. */
#include "cli.h"
#include "conf.h"
#include "db.h"
#include "exitcode.h"
#include "ids.h"
#include "log.h"
#include "metrics.h"
#include "outage.h"
#include "parse.h"
#include "record.h"
#include "store.h"
#include "timeutil.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define USAGE "usage: bb-store [--db URL] [--batch N] [--max-delay MS] [--retry-for DURATION]\n" \
	      "                [--keep DURATION] [--worker-id ID] [--migrate] [--metrics-file PATH]\n"
/* --help: the usage and a line for each option, as in the man page */
#define HELP USAGE "\n" \
	     "  --db URL              sqlite:PATH or a PostgreSQL URL (default sqlite:bb.db)\n" \
	     "  --batch N             records per transaction at most (default 2000)\n" \
	     "  --max-delay MS        commit a partial batch after MS ms (default 100)\n" \
	     "  --retry-for DURATION  retry an unavailable database so long (default 5m)\n" \
	     "  --keep DURATION       keep history rows so long, 0 for ever (default 30d)\n" \
	     "  --worker-id ID        this process in worker_heartbeats (default host:pid)\n" \
	     "  --migrate             migrate the schema and exit\n" \
	     "  --metrics-file PATH   write Prometheus metrics to PATH every 15 s\n" \
	     "  -h, --help            print this help and exit\n" \
	     "  -V, --version         print the version and exit\n"

#define HEARTBEAT_MS 10000

/* The ingest-to-commit lags (the commit's time less sqs.sent_at, in ms) of
 * the records committed in the current heartbeat period, for its row. */
struct lags {
	int64_t *v;
	size_t n, cap;
	int64_t since; /* when the period began (clock ms) */
};
#define PRUNE_EVERY_MS 3600000

/* Committed batches go out from a thread of their own, so that reading and
 * storing the next batch does not wait for the last one to be written. One
 * batch at a time: a hand-over waits until the batch before is out. */
struct emitter {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	FILE *out;              /* its own stream on standard output */
	struct item *recs;      /* the batch handed over, NULL when idle */
	struct outcome *outcomes;
	int n, stop, failed; /* failed: the errno of the write that failed */
	char now[40];
};

struct ctx {
	struct bb_db *db;
	struct store_conf conf;
	struct emitter em;
	struct item *batch; /* the batch's records, read */
	int n, cap;
	struct item *spare; /* the other array, while the emitter has it */
	int spare_cap;
	int64_t batch_max, max_delay, retry_for, keep, last_prune;
	int64_t batch_started, last_heartbeat, started;
	char host[256];
	size_t processed, failed, duplicates;
	int fatal;
	struct bb_outage outage; /* the database's, warned about as outage.h says */
	struct lags lags;
};

/* Sleep, but come back within 100 ms of SIGTERM: it may be delivered to
 * the emitter's thread and leave this one asleep. */
static void sleep_ms(int64_t ms)
{
	for (int64_t end = bb_mono_ms() + ms, left; !bb_stopping() && (left = end - bb_mono_ms()) > 0;) {
		struct timespec ts = { 0, (left > 100 ? 100 : left) * 1000000 };
		nanosleep(&ts, NULL);
	}
}

/* Start a new period once the last one is HEARTBEAT_MS old. */
static void lags_period(struct lags *l, int64_t now)
{
	if (now - l->since >= HEARTBEAT_MS) {
		l->n = 0;
		l->since = now;
	}
}

/* Add the lags of a batch committed at now. 0, or -1 out of memory. */
static int lags_add(struct lags *l, const struct item *items, int n, int64_t now)
{
	for (int i = 0; i < n; i++) {
		if (items[i].sent_at < 0)
			continue;
		if (l->n == l->cap) {
			size_t cap = l->cap ? 2 * l->cap : 4096;
			int64_t *v = realloc(l->v, cap * sizeof *v);
			if (!v)
				return -1;
			l->v = v, l->cap = cap;
		}
		l->v[l->n++] = now > items[i].sent_at ? now - items[i].sent_at : 0;
	}
	return 0;
}

/* The k-th smallest (from 0) of v[0..n), found in place: the order of the
 * period's lags does not matter. */
static int64_t kth(int64_t *v, size_t n, size_t k)
{
	size_t lo = 0, hi = n - 1;
	while (lo < hi) {
		int64_t pivot = v[lo + (hi - lo) / 2];
		size_t i = lo, j = hi;
		while (i <= j) {
			while (v[i] < pivot)
				i++;
			while (v[j] > pivot)
				j--;
			if (i <= j) {
				int64_t t = v[i];
				v[i++] = v[j], v[j] = t;
				if (j == 0)
					break;
				j--;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			break;
	}
	return v[k];
}

/* The period's max and 99th percentile (nearest rank), as text; empty when
 * no record of the period had sqs.sent_at. */
static void lags_summary(struct lags *l, char *max, char *p99, size_t size)
{
	max[0] = p99[0] = '\0';
	if (l->n == 0)
		return;
	int64_t m = 0;
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i] > m)
			m = l->v[i];
	size_t rank = (99 * l->n + 99) / 100; /* ceil(0.99 n), 1-based */
	snprintf(max, size, "%lld", (long long)m);
	snprintf(p99, size, "%lld", (long long)kth(l->v, l->n, rank - 1));
}

/* batch_failed: the failures of the batch being committed with this row */
static int heartbeat(struct ctx *c, const char *now, size_t batch_failed)
{
	char pid[24], processed[24], failed[24], started[40], max[24], p99[24];
	snprintf(pid, sizeof pid, "%d", (int)getpid());
	snprintf(processed, sizeof processed, "%zu", c->processed + (size_t)c->n);
	snprintf(failed, sizeof failed, "%zu", c->failed + batch_failed);
	bb_time_format(c->started, started, sizeof started);
	lags_summary(&c->lags, max, p99, sizeof max);
	const char *p[10] = { c->conf.worker_id, "store", c->host, pid, started, now, processed, failed,
			      max[0] ? max : NULL, p99[0] ? p99 : NULL };
	int rc = bb_db_exec(c->db, "INSERT INTO worker_heartbeats (worker_id, stage, host, pid, started_at, "
			    "last_heartbeat, processed, failed, lag_max_ms, lag_p99_ms) VALUES ($1, $2, $3, $4, $5, "
			    "$6, $7, $8, $9, $10) ON CONFLICT (worker_id) DO UPDATE SET host = excluded.host, "
			    "pid = excluded.pid, last_heartbeat = excluded.last_heartbeat, processed = excluded.processed, "
			    "failed = excluded.failed, lag_max_ms = excluded.lag_max_ms, "
			    "lag_p99_ms = excluded.lag_p99_ms", 10, p, NULL);
	if (rc == BB_DB_OK)
		c->last_heartbeat = bb_clock_ms();
	return rc;
}

static void emit(FILE *out, const struct item *it, struct outcome *o, const char *now)
{
	struct bb_emit em = { 0 };
	struct bb_jw w;

	if (!it->rec.is_object) { /* not a record: it goes on as it came (its bytes are in worker_failures) */
		fwrite(it->rec.line, 1, it->rec.len, out);
		fputc('\n', out);
		return;
	}
	bb_jw_init(&w);
	if (!it->given || strcmp(it->given, o->status) != 0)
		bb_emit_str(&em, "status", o->status, strlen(o->status));
	if (o->alert.len)
		bb_emit_jw(&em, "alert", &o->alert);
	if (it->error) {
		bb_jw_obj(&w);
		bb_jw_kstrz(&w, "type", it->error_type ? it->error_type : "schema");
		bb_jw_kstrz(&w, "message", it->error);
		bb_jw_kstrz(&w, "stage", "store");
		bb_jw_kstrz(&w, "path", NULL);
		bb_jw_end(&w, '}');
		bb_emit_jw(&em, "error", &w);
	}
	bb_jw_obj(&w);
	bb_jw_kstrz(&w, "notification_id", o->notification_id[0] ? o->notification_id : NULL);
	bb_jw_kint_or_null(&w, "event_id", o->event_id, o->event_id >= 0);
	bb_jw_kstrz(&w, "at", now);
	bb_jw_end(&w, '}');
	bb_emit_jw(&em, "stored", &w);
	bb_record_write(&it->rec, &em, out);
	bb_emit_free(&em);
	bb_jw_free(&w);
	bb_jw_free(&o->alert);
}

static void *emitting(void *arg)
{
	struct emitter *e = arg;

	pthread_mutex_lock(&e->mu);
	for (;;) {
		while (!e->recs && !e->stop)
			pthread_cond_wait(&e->cv, &e->mu);
		if (!e->recs)
			break;
		pthread_mutex_unlock(&e->mu);
		for (int i = 0; i < e->n; i++) {
			emit(e->out, &e->recs[i], &e->outcomes[i], e->now);
			store_item_free(&e->recs[i]);
		}
		free(e->outcomes);
		int failed = fflush(e->out) != 0 || ferror(e->out) ? (errno ? errno : EIO) : 0;
		pthread_mutex_lock(&e->mu);
		if (!e->failed)
			e->failed = failed;
		e->recs = NULL;
		pthread_cond_broadcast(&e->cv);
	}
	pthread_mutex_unlock(&e->mu);
	return NULL;
}

static int emitter_start(struct emitter *e)
{
	int fd = dup(STDOUT_FILENO);

	if (fd < 0 || !(e->out = fdopen(fd, "w"))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	__fsetlocking(e->out, FSETLOCKING_BYCALLER); /* only the emitter writes it */
	pthread_mutex_init(&e->mu, NULL);
	pthread_cond_init(&e->cv, NULL);
	if (pthread_create(&e->thread, NULL, emitting, e) != 0) {
		fclose(e->out);
		e->out = NULL;
		return -1;
	}
	return 0;
}

/* Wait until the batch handed over last is out; the errno of a failed write, or 0. */
static int emitter_idle(struct emitter *e)
{
	pthread_mutex_lock(&e->mu);
	while (e->recs)
		pthread_cond_wait(&e->cv, &e->mu);
	int failed = e->failed;
	pthread_mutex_unlock(&e->mu);
	return failed;
}

/* Everything handed over written out, the thread gone; the errno of a failed write, or 0. */
static int emitter_stop(struct emitter *e)
{
	if (!e->out)
		return 0;
	pthread_mutex_lock(&e->mu);
	e->stop = 1;
	pthread_cond_broadcast(&e->cv);
	pthread_mutex_unlock(&e->mu);
	pthread_join(e->thread, NULL);
	int failed = e->failed;
	if (fclose(e->out) != 0 && !failed)
		failed = errno ? errno : EIO;
	e->out = NULL;
	pthread_mutex_destroy(&e->mu);
	pthread_cond_destroy(&e->cv);
	return failed;
}

/* One attempt at the whole batch in one transaction, at now. */
static int write_batch(struct ctx *c, struct outcome *out, int64_t now_ms, const char *now)
{
	int pg = bb_db_is_pg(c->db), rc = bb_db_begin(c->db);

	for (int i = 0; i < c->n; i++) {
		bb_jw_free(&out[i].alert);
		out[i] = (struct outcome){ .status = c->batch[i].status, .event_id = -1 };
	}
	if (rc == BB_DB_OK && pg)
		rc = store_lock(c->db, c->batch, c->n);
	if (rc == BB_DB_OK && pg)
		rc = store_batch_pg(c->db, &c->conf, c->batch, c->n, now_ms, out);
	if (rc == BB_DB_OK && !pg)
		rc = store_batch_lite(c->db, &c->conf, c->batch, c->n, now_ms, out);
	size_t failed = 0;
	for (int i = 0; rc == BB_DB_OK && i < c->n; i++)
		failed += strcmp(out[i].status, "rejected") == 0 || strcmp(out[i].status, "failed") == 0;
	/* the batch's lags count once it commits: a failed attempt takes them back */
	size_t lagged = c->lags.n;
	lags_period(&c->lags, bb_clock_ms());
	if (c->lags.n < lagged)
		lagged = 0;
	if (rc == BB_DB_OK && lags_add(&c->lags, c->batch, c->n, now_ms) != 0)
		rc = BB_DB_ERR;
	if (rc == BB_DB_OK)
		rc = heartbeat(c, now, failed);
	if (rc == BB_DB_OK)
		rc = bb_db_commit(c->db);
	if (rc != BB_DB_OK) {
		bb_db_rollback(c->db);
		c->lags.n = lagged;
	}
	return rc;
}

/* Wait out an unreachable database, with jittered exponential backoff, for
 * at most --retry-for from the first failure: 1 when it answers again, 0
 * when it still does not, -1 when --retry-for is over, -2 on SIGTERM. */
static int recover(struct ctx *c, int64_t first_failure, int attempt)
{
	int64_t backoff = 100;
	for (int i = 0; i < attempt && backoff < 5000; i++)
		backoff *= 2;
	if (backoff > 5000)
		backoff = 5000;
	if (bb_clock_ms() - first_failure > c->retry_for)
		return -1;
	sleep_ms(bb_jitter_ms(backoff));
	if (bb_stopping())
		return -2;
	if (bb_db_reconnect(c->db) == BB_DB_OK)
		return 1;
	bb_outage_failed(&c->outage, bb_mono_ms(), bb_db_errmsg(c->db), NULL);
	return 0;
}

static int commit(struct ctx *c)
{
	struct outcome *out;
	char now[40];
	int64_t first_failure = -1;
	int rc, attempt = 0;

	if (c->n == 0)
		return 0;
	/* a batch that could not be written out stops here, before the next
	 * one is committed */
	int failed = emitter_idle(&c->em);
	if (failed)
		return bb_fatal(BB_EX_IOERR, "unable to write standard output: %s", strerror(failed));
	if (!(out = calloc((size_t)c->n, sizeof *out)))
		return bb_fatal(BB_EX_SOFTWARE, "out of memory");
	for (;;) {
		int64_t now_ms = bb_now_ms();
		bb_time_format(now_ms, now, sizeof now);
		rc = write_batch(c, out, now_ms, now);
		if (rc == BB_DB_OK)
			break;
		for (int i = 0; i < c->n; i++)
			bb_jw_free(&out[i].alert);
		if (rc != BB_DB_RETRY) {
			free(out);
			return bb_fatal(BB_EX_SOFTWARE, "unable to write batch to '%s': %s", bb_db_name(c->db),
					bb_db_errmsg(c->db));
		}
		if (first_failure < 0)
			first_failure = bb_clock_ms();
		bb_outage_failed(&c->outage, bb_mono_ms(), bb_db_errmsg(c->db), NULL);
		int r;
		while ((r = recover(c, first_failure, attempt++)) == 0)
			;
		if (r < 0) {
			free(out);
			return bb_fatal(BB_EX_TEMPFAIL, "unable to write batch to '%s': %s (%s)", bb_db_name(c->db),
					bb_db_errmsg(c->db), r == -2 ? "stopped while retrying" : "gave up after retrying");
		}
	}
	bb_outage_over(&c->outage, bb_mono_ms());
	for (int i = 0; i < c->n; i++) {
		c->processed++;
		bb_metrics_processed(out[i].status, 1);
		bb_metrics_commit_lag(c->batch[i].sent_at, c->batch[i].received_at, bb_now_ms());
		if (strcmp(out[i].status, "rejected") == 0 || strcmp(out[i].status, "failed") == 0)
			c->failed++;
		if (strcmp(out[i].status, "duplicate") == 0)
			c->duplicates++;
	}
	/* committed: the emitter writes the batch out while the next is read */
	struct emitter *e = &c->em;
	pthread_mutex_lock(&e->mu);
	e->recs = c->batch;
	e->outcomes = out;
	e->n = c->n;
	memcpy(e->now, now, sizeof now);
	pthread_cond_broadcast(&e->cv);
	pthread_mutex_unlock(&e->mu);
	struct item *b = c->batch;
	int cap = c->cap;
	c->batch = c->spare, c->cap = c->spare_cap;
	c->spare = b, c->spare_cap = cap;
	c->n = 0;
	return 0;
}

static int on_record(struct bb_record *rec, struct bb_emit *em, void *arg)
{
	struct ctx *c = arg;

	em->suppress = 1; /* written after the commit */
	if (c->n == c->cap) {
		int cap = c->cap ? 2 * c->cap : 64;
		struct item *b = realloc(c->batch, (size_t)cap * sizeof *b);
		if (!b)
			return bb_fatal(BB_EX_SOFTWARE, "out of memory");
		c->batch = b;
		c->cap = cap;
	}
	if (c->n == 0)
		c->batch_started = bb_clock_ms();
	if (store_read(&c->batch[c->n], rec, &c->conf) != 0) {
		store_item_free(&c->batch[c->n]);
		return bb_fatal(BB_EX_SOFTWARE, "out of memory");
	}
	c->n++;
	return c->n >= c->batch_max ? commit(c) : 0;
}

/* History, offers included, is kept for --keep after it was stored;
 * pruning runs when the stream is idle, at most once an hour. */
static void prune(struct ctx *c)
{
	char cutoff[40];
	const char *p[1] = { cutoff };
	int rc;

	c->last_prune = bb_clock_ms();
	if (c->keep <= 0)
		return;
	bb_time_format(bb_now_ms() - c->keep, cutoff, sizeof cutoff);
	rc = bb_db_begin(c->db);
	if (rc == BB_DB_OK)
		rc = bb_db_exec(c->db, "DELETE FROM competitive_history WHERE created_at < $1", 1, p, NULL);
	if (rc == BB_DB_OK)
		rc = bb_db_commit(c->db);
	if (rc != BB_DB_OK) {
		bb_db_rollback(c->db);
		bb_log(BB_WARN, NULL, "pruning history failed", "error", bb_db_errmsg(c->db), NULL);
	}
}

static int on_idle(void *arg, int *wait_ms)
{
	struct ctx *c = arg;
	int64_t now = bb_clock_ms();

	if (c->n == 0 && now - c->last_prune >= PRUNE_EVERY_MS)
		prune(c);
	int64_t next_beat = c->last_heartbeat + HEARTBEAT_MS - now;

	if (c->n > 0 && now - c->batch_started >= c->max_delay) {
		int rc = commit(c);
		if (rc)
			return rc;
	} else if (c->n == 0 && next_beat <= 0) {
		char ts[40];
		bb_time_format(bb_now_ms(), ts, sizeof ts);
		lags_period(&c->lags, now);
		int rc = heartbeat(c, ts, 0);
		if (rc == BB_DB_RETRY) /* the database gone while idle: the next batch reconnects */
			bb_outage_failed(&c->outage, bb_mono_ms(), bb_db_errmsg(c->db), NULL);
		else if (rc != BB_DB_OK)
			bb_log(BB_WARN, NULL, "heartbeat failed", "error", bb_db_errmsg(c->db), NULL);
		else
			bb_outage_over(&c->outage, bb_mono_ms());
		c->last_heartbeat = now; /* try again in one period, not in a loop */
	}
	next_beat = c->last_heartbeat + HEARTBEAT_MS - now;
	*wait_ms = (int)(next_beat > 0 ? next_beat : 1);
	if (c->n > 0) {
		int64_t left = c->batch_started + c->max_delay - now;
		if (left < *wait_ms)
			*wait_ms = (int)(left > 0 ? left : 0);
	}
	return 0;
}

struct options {
	const char *url, *worker_id, *metrics;
	int migrate;
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
	rc = bb_db_open(o.url, &c.db, err, sizeof err);
	if (rc < 0) {
		rc = bb_fatal(bb_db_exit_status(rc),
			      "unable to open database '%s': %s", bb_db_name(c.db), err);
		goto out;
	}
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
	if (bb_db_checkpoint_in_background(c.db) != BB_DB_OK)
		bb_log(BB_WARN, NULL, "checkpoints stay in the writer", "error", bb_db_errmsg(c.db), NULL);
	if (o.metrics && bb_metrics_start(o.metrics, "store", c.conf.worker_id, 0, err, sizeof err) != 0) {
		rc = bb_fatal(BB_EX_CONFIG, "%s", err);
		goto out;
	}
	if (emitter_start(&c.em) != 0) {
		rc = bb_fatal(BB_EX_IOERR, "unable to start writing standard output");
		goto out;
	}
	/* records come out through the emitter only: the loop's stdout stays empty */
	struct bb_loop loop = { on_record, on_idle, &c };
	rc = bb_records_run(STDIN_FILENO, stdout, &loop);
	if (rc == 0)
		rc = commit(&c); /* what is in hand at the end of input or on SIGTERM */
	int failed = emitter_stop(&c.em); /* every committed batch goes out, even after a failure */
	if (failed && rc == 0)
		rc = bb_fatal(BB_EX_IOERR, "unable to write standard output: %s", strerror(failed));
	char p[24], f[24], d[24];
	snprintf(p, sizeof p, "%zu", c.processed);
	snprintf(f, sizeof f, "%zu", c.failed);
	snprintf(d, sizeof d, "%zu", c.duplicates);
	bb_log(BB_INFO, NULL, "summary", "processed", p, "failed", f, "duplicates", d, NULL);
out:
	emitter_stop(&c.em);
	if (bb_metrics_stop(err, sizeof err) != 0)
		bb_log(BB_WARN, NULL, err, NULL);
	if (c.outage.service)
		bb_outage_destroy(&c.outage);
	for (int i = 0; i < c.n; i++)
		store_item_free(&c.batch[i]);
	free(c.batch);
	free(c.lags.v);
	store_conf_free(&c.conf);
	bb_json_free(c.conf.doc);
	free(c.spare);
	free(c.conf.sellers);
	free(sellers_copy);
	bb_db_close(c.db);
	bb_conf_free(conf);
	return rc;
}
