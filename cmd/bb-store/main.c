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
	     "  --batch N             records per transaction at most (default 500)\n" \
	     "  --max-delay MS        commit a partial batch after MS ms (default 100)\n" \
	     "  --retry-for DURATION  retry an unavailable database so long (default 5m)\n" \
	     "  --keep DURATION       keep history rows so long, 0 for ever (default 30d)\n" \
	     "  --worker-id ID        this process in worker_heartbeats (default host:pid)\n" \
	     "  --migrate             migrate the schema and exit\n" \
	     "  --metrics-file PATH   write Prometheus metrics to PATH every 15 s\n" \
	     "  -h, --help            print this help and exit\n" \
	     "  -V, --version         print the version and exit\n"

#define HEARTBEAT_MS 10000
#define PRUNE_EVERY_MS 3600000

/* Committed batches go out from a thread of their own, so that reading and
 * storing the next batch does not wait for the last one to be written. One
 * batch at a time: a hand-over waits until the batch before is out. */
struct emitter {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	FILE *out;              /* its own stream on standard output */
	struct bb_record *recs; /* the batch handed over, NULL when idle */
	struct outcome *outcomes;
	int n, stop, failed; /* failed: the errno of the write that failed */
	char now[40];
};

struct ctx {
	struct bb_db *db;
	struct store_conf conf;
	struct emitter em;
	struct bb_record *batch; /* indexed copies of the batch's lines */
	int n, cap;
	struct bb_record *spare; /* the other array, while the emitter has it */
	int spare_cap;
	int64_t batch_max, max_delay, retry_for, keep, last_prune;
	int64_t batch_started, last_heartbeat, started;
	char host[256];
	size_t processed, failed, duplicates;
	int fatal;
	struct bb_outage outage; /* the database's, warned about as outage.h says */
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

/* batch_failed: the failures of the batch being committed with this row */
static int heartbeat(struct ctx *c, const char *now, size_t batch_failed)
{
	char pid[24], processed[24], failed[24], started[40];
	snprintf(pid, sizeof pid, "%d", (int)getpid());
	snprintf(processed, sizeof processed, "%zu", c->processed + (size_t)c->n);
	snprintf(failed, sizeof failed, "%zu", c->failed + batch_failed);
	bb_time_format(c->started, started, sizeof started);
	const char *p[8] = { c->conf.worker_id, "store", c->host, pid, started, now, processed, failed };
	int rc = bb_db_exec(c->db, "INSERT INTO worker_heartbeats (worker_id, stage, host, pid, started_at, "
			    "last_heartbeat, processed, failed) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
			    "ON CONFLICT (worker_id) DO UPDATE SET host = excluded.host, pid = excluded.pid, "
			    "last_heartbeat = excluded.last_heartbeat, processed = excluded.processed, "
			    "failed = excluded.failed", 8, p, NULL);
	if (rc == BB_DB_OK)
		c->last_heartbeat = bb_clock_ms();
	return rc;
}

static jv stored_member(const struct outcome *o, const char *now)
{
	jv s = jv_object();
	s = jv_object_set(s, jv_string("notification_id"),
			  o->notification_id[0] ? jv_string(o->notification_id) : jv_null());
	s = jv_object_set(s, jv_string("event_id"), o->event_id >= 0 ? jv_number((double)o->event_id) : jv_null());
	s = jv_object_set(s, jv_string("at"), jv_string(now));
	return s;
}

static void emit(FILE *out, const struct bb_record *rec, struct outcome *o, const char *now)
{
	struct bb_emit em;
	size_t n;

	memset(&em, 0, sizeof em);
	if (!rec->is_object) { /* not a record: it goes on as it came (its bytes are in worker_failures) */
		fwrite(rec->line, 1, rec->len, out);
		fputc('\n', out);
		return;
	}
	char *before = bb_record_string(rec, "status", &n);
	if (!before || strcmp(before, o->status) != 0)
		bb_emit_set(&em, "status", jv_string(o->status));
	if (jv_is_valid(o->alert))
		bb_emit_set(&em, "alert", o->alert);
	if (o->error) {
		jv e = jv_object();
		e = jv_object_set(e, jv_string("type"), jv_string("schema"));
		e = jv_object_set(e, jv_string("message"), jv_string(o->error));
		e = jv_object_set(e, jv_string("stage"), jv_string("store"));
		e = jv_object_set(e, jv_string("path"), jv_null());
		bb_emit_set(&em, "error", e);
	}
	o->alert = jv_invalid();
	bb_emit_set(&em, "stored", stored_member(o, now));
	bb_record_write(rec, &em, out);
	bb_emit_free(&em);
	free(before);
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
			bb_record_free(&e->recs[i]);
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

/* One attempt at the whole batch in one transaction. */
static int write_batch(struct ctx *c, struct outcome *out, const char *now)
{
	int pg = bb_db_is_pg(c->db), rc = bb_db_begin(c->db);

	if (rc == BB_DB_OK && pg)
		rc = store_lock(c->db, c->batch, c->n);
	if (rc == BB_DB_OK && pg)
		rc = store_batch_pg(c->db, &c->conf, c->batch, c->n, now, out);
	for (int i = 0; rc == BB_DB_OK && !pg && i < c->n; i++)
		rc = store_record(c->db, &c->conf, &c->batch[i], now, &out[i]);
	size_t failed = 0;
	for (int i = 0; rc == BB_DB_OK && i < c->n; i++)
		failed += strcmp(out[i].status, "rejected") == 0 || strcmp(out[i].status, "failed") == 0;
	if (rc == BB_DB_OK)
		rc = heartbeat(c, now, failed);
	if (rc == BB_DB_OK)
		rc = bb_db_commit(c->db);
	if (rc != BB_DB_OK)
		bb_db_rollback(c->db);
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
		bb_time_format(bb_now_ms(), now, sizeof now);
		rc = write_batch(c, out, now);
		if (rc == BB_DB_OK)
			break;
		for (int i = 0; i < c->n; i++)
			jv_free(out[i].alert);
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
		bb_metrics_processed(out[i].status, 1), bb_metrics_commit_lag(&c->batch[i], bb_now_ms());
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
	struct bb_record *b = c->batch;
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
		struct bb_record *b = realloc(c->batch, (size_t)cap * sizeof *b);
		if (!b)
			return bb_fatal(BB_EX_SOFTWARE, "out of memory");
		c->batch = b;
		c->cap = cap;
	}
	if (c->n == 0)
		c->batch_started = bb_clock_ms();
	if (bb_record_copy(&c->batch[c->n], rec) != 0)
		return bb_fatal(BB_EX_SOFTWARE, "out of memory");
	c->n++;
	return c->n >= c->batch_max ? commit(c) : 0;
}

/* History and offer snapshots are kept for --keep after they were stored;
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
		rc = bb_db_exec(c->db, "DELETE FROM offer_snapshots WHERE notification_id IN (SELECT notification_id "
				"FROM competitive_history WHERE created_at < $1)", 1, p, NULL);
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
	struct ctx c = { .batch_max = 500, .max_delay = 100, .retry_for = 300000,
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
		rc = bb_fatal(rc == BB_DB_BADURL ? BB_EX_CONFIG : rc == BB_DB_RETRY ? BB_EX_TEMPFAIL : BB_EX_UNAVAILABLE,
			      "unable to open database '%s': %s", bb_db_name(c.db), err);
		goto out;
	}
	bb_outage_init(&c.outage, "database", "db", bb_db_name(c.db));
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
		bb_record_free(&c.batch[i]);
	free(c.batch);
	free(c.spare);
	free(c.conf.sellers);
	free(sellers_copy);
	bb_db_close(c.db);
	bb_conf_free(conf);
	return rc;
}
