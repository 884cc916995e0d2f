/* stages.c: bb-store's writer and emitter threads. Reading a batch's
 * records, committing the batch before it and writing out the one before
 * that overlap: the commit is most of bb-store's work, and the reading half
 * of the rest, so on two cores neither waits for the other. Each stage
 * holds one batch; a hand-over waits until the next stage has finished the
 * batch before, so a batch is written out only after its commit, in input
 * order, and a failed commit or write stops everything after it. */
#include "exitcode.h"
#include "history.h"
#include "ids.h"
#include "log.h"
#include "metrics.h"
#include "store.h"
#include "timeutil.h"

#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define HEARTBEAT_MS 10000
#define PRUNE_EVERY_MS 3600000

/* ---- batches ---- */

struct batch *batch_get(struct ctx *c)
{
	pthread_mutex_lock(&c->spare_mu);
	struct batch *b = c->spare;
	if (b)
		c->spare = b->next;
	pthread_mutex_unlock(&c->spare_mu);
	return b ? b : calloc(1, sizeof *b);
}

/* Its records and outcomes released; the batch kept for another. */
static void batch_put(struct ctx *c, struct batch *b)
{
	for (int i = 0; i < b->n; i++) {
		store_item_free(&b->items[i]);
		if (b->out)
			bb_jw_free(&b->out[i].alert);
	}
	free(b->out);
	b->out = NULL;
	b->n = 0;
	b->held = 0;
	pthread_mutex_lock(&c->spare_mu);
	b->next = c->spare;
	c->spare = b;
	pthread_mutex_unlock(&c->spare_mu);
}

/* ---- lags and heartbeats ---- */

/* Start a new period once the last one is HEARTBEAT_MS old. */
static void lags_period(struct lags *l, int64_t now)
{
	if (now - l->since >= HEARTBEAT_MS) {
		l->n = 0;
		l->since = now;
	}
}

/* Add the lags of a batch committed at now. 0, or -1 out of memory. */
static int lags_add(struct lags *l, const struct batch *b, int64_t now)
{
	for (int i = 0; i < b->n; i++) {
		if (b->items[i].sent_at < 0)
			continue;
		if (l->n == l->cap) {
			size_t cap = l->cap ? 2 * l->cap : 4096;
			int64_t *v = realloc(l->v, cap * sizeof *v);
			if (!v)
				return -1;
			l->v = v, l->cap = cap;
		}
		l->v[l->n++] = now > b->items[i].sent_at ? now - b->items[i].sent_at : 0;
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

/* The row of the n records (failed of them) being committed with it, or
 * of none outside a batch. */
static int heartbeat(struct ctx *c, const char *now, int n, size_t failed)
{
	char pid[24], processed[24], nfailed[24], started[40], max[24], p99[24];
	snprintf(pid, sizeof pid, "%d", (int)getpid());
	snprintf(processed, sizeof processed, "%zu", c->processed + (size_t)n);
	snprintf(nfailed, sizeof nfailed, "%zu", c->failed + failed);
	bb_time_format(c->started, started, sizeof started);
	lags_summary(&c->lags, max, p99, sizeof max);
	const char *p[10] = { c->conf.worker_id, "store", c->host, pid, started, now, processed, nfailed,
			      max[0] ? max : NULL, p99[0] ? p99 : NULL };
	int rc = bb_db_exec(c->db, "INSERT INTO worker_heartbeats (worker_id, stage, host, pid, started_at, "
			    "last_heartbeat, processed, failed, lag_max_ms, lag_p99_ms) VALUES ($1, $2, $3, $4, $5, "
			    "$6, $7, $8, $9, $10) ON CONFLICT (worker_id) DO UPDATE SET host = excluded.host, "
			    "pid = excluded.pid, last_heartbeat = excluded.last_heartbeat, processed = excluded.processed, "
			    "failed = excluded.failed, lag_max_ms = excluded.lag_max_ms, "
			    "lag_p99_ms = excluded.lag_p99_ms", 10, p, NULL);
	if (rc == BB_DB_OK) {
		pthread_mutex_lock(&c->writer.mu);
		c->writer.last_heartbeat = bb_clock_ms();
		pthread_mutex_unlock(&c->writer.mu);
	}
	return rc;
}

/* ---- the emitter ---- */

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
}

static void *emitting(void *arg)
{
	struct ctx *c = arg;
	struct stage *e = &c->emitter;

	pthread_mutex_lock(&e->mu);
	for (;;) {
		while (!e->b && !e->stop)
			pthread_cond_wait(&e->cv, &e->mu);
		struct batch *b = e->b;
		if (!b)
			break;
		e->b = NULL;
		e->busy = 1;
		pthread_mutex_unlock(&e->mu);
		for (int i = 0; i < b->n; i++)
			emit(e->out, &b->items[i], &b->out[i], b->now);
		int failed = fflush(e->out) != 0 || ferror(e->out) ? (errno ? errno : EIO) : 0;
		batch_put(c, b);
		pthread_mutex_lock(&e->mu);
		if (!e->failed)
			e->failed = failed;
		e->busy = 0;
		pthread_cond_broadcast(&e->cv);
	}
	pthread_mutex_unlock(&e->mu);
	return NULL;
}

/* Wait until the stage has finished what it was handed. */
static void stage_idle(struct stage *s)
{
	pthread_mutex_lock(&s->mu);
	while (s->b || s->busy)
		pthread_cond_wait(&s->cv, &s->mu);
	pthread_mutex_unlock(&s->mu);
}

/* Stop the stage once it has finished what it was handed. */
static void stage_stop(struct stage *s)
{
	if (!s->started)
		return;
	pthread_mutex_lock(&s->mu);
	s->stop = 1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	s->started = 0;
}

/* ---- the writer ---- */

/* One attempt at the whole batch in one transaction, at now. */
static int write_batch(struct ctx *c, struct batch *b, int64_t now_ms)
{
	int pg = bb_db_is_pg(c->db), rc = bb_db_begin(c->db);

	for (int i = 0; i < b->n; i++) {
		bb_jw_free(&b->out[i].alert);
		b->out[i] = (struct outcome){ .status = b->items[i].status, .event_id = -1 };
	}
	if (rc == BB_DB_OK && pg)
		rc = store_lock(c->db, b->items, b->n);
	if (rc == BB_DB_OK && pg)
		rc = store_batch_pg(c->db, &c->conf, b->items, b->n, now_ms, b->out);
	if (rc == BB_DB_OK && !pg)
		rc = store_batch_lite(c->db, &c->conf, b->items, b->n, now_ms, b->out);
	size_t failed = 0;
	for (int i = 0; rc == BB_DB_OK && i < b->n; i++)
		failed += strcmp(b->out[i].status, "rejected") == 0 || strcmp(b->out[i].status, "failed") == 0;
	/* the batch's lags count once it commits: a failed attempt takes them back */
	size_t lagged = c->lags.n;
	lags_period(&c->lags, bb_clock_ms());
	if (c->lags.n < lagged)
		lagged = 0;
	if (rc == BB_DB_OK && lags_add(&c->lags, b, now_ms) != 0)
		rc = BB_DB_ERR;
	if (rc == BB_DB_OK)
		rc = heartbeat(c, b->now, b->n, failed);
	if (rc == BB_DB_OK)
		rc = bb_db_commit(c->db);
	if (rc != BB_DB_OK) {
		bb_db_rollback(c->db);
		c->lags.n = lagged;
		store_forget_alerts(&c->conf);
	}
	return rc;
}

/* Sleep, but come back within 100 ms of SIGTERM, which the main thread takes. */
static void sleep_ms(int64_t ms)
{
	for (int64_t end = bb_mono_ms() + ms, left; !bb_stopping() && (left = end - bb_mono_ms()) > 0;) {
		struct timespec ts = { 0, (left > 100 ? 100 : left) * 1000000 };
		nanosleep(&ts, NULL);
	}
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

/* Commit the batch, retrying while the database is unavailable, then hand
 * it to the emitter. 0, or an exit status. */
static int commit(struct ctx *c, struct batch *b)
{
	int64_t first_failure = -1;
	int rc, attempt = 0;

	/* a batch that could not be written out stops here, before the next
	 * one is committed */
	stage_idle(&c->emitter);
	if (c->emitter.failed)
		return bb_fatal(BB_EX_IOERR, "unable to write standard output: %s", strerror(c->emitter.failed));
	if (!b->out && !(b->out = calloc((size_t)b->n, sizeof *b->out)))
		return bb_fatal(BB_EX_SOFTWARE, "out of memory");
	for (;;) {
		int64_t now_ms = bb_now_ms();
		bb_time_format(now_ms, b->now, sizeof b->now);
		rc = write_batch(c, b, now_ms);
		if (rc == BB_DB_OK)
			break;
		if (rc != BB_DB_RETRY)
			return bb_fatal(BB_EX_SOFTWARE, "unable to write batch to '%s': %s", bb_db_name(c->db),
					bb_db_errmsg(c->db));
		if (first_failure < 0)
			first_failure = bb_clock_ms();
		bb_outage_failed(&c->outage, bb_mono_ms(), bb_db_errmsg(c->db), NULL);
		int r;
		while ((r = recover(c, first_failure, attempt++)) == 0)
			;
		if (r < 0)
			return bb_fatal(BB_EX_TEMPFAIL, "unable to write batch to '%s': %s (%s)", bb_db_name(c->db),
					bb_db_errmsg(c->db), r == -2 ? "stopped while retrying" : "gave up after retrying");
	}
	bb_outage_over(&c->outage, bb_mono_ms());
	int64_t now = bb_now_ms();
	for (int i = 0; i < b->n; i++) {
		const char *st = b->out[i].status;
		c->processed++;
		bb_metrics_processed(st, 1);
		bb_metrics_commit_lag(b->items[i].sent_at, b->items[i].received_at, now);
		c->failed += strcmp(st, "rejected") == 0 || strcmp(st, "failed") == 0;
		c->duplicates += strcmp(st, "duplicate") == 0;
	}
	struct stage *e = &c->emitter;
	pthread_mutex_lock(&e->mu);
	e->b = b;
	pthread_cond_broadcast(&e->cv);
	pthread_mutex_unlock(&e->mu);
	return 0;
}

/* History, offers included, is kept for --keep after it was stored
 * (lib/history.c, as bb-trend prune keeps it). */
static void prune(struct ctx *c)
{
	if (c->keep > 0 && bb_history_prune(c->db, bb_now_ms() - c->keep, NULL) != BB_DB_OK)
		bb_log(BB_WARN, NULL, "pruning history failed", "error", bb_db_errmsg(c->db), NULL);
}

/* A heartbeat while no batch is in hand: its failure is logged, not fatal. */
static void idle_heartbeat(struct ctx *c)
{
	char ts[40];

	bb_time_format(bb_now_ms(), ts, sizeof ts);
	lags_period(&c->lags, bb_clock_ms());
	int rc = heartbeat(c, ts, 0, 0);
	if (rc == BB_DB_RETRY) /* the database gone while idle: the next batch reconnects */
		bb_outage_failed(&c->outage, bb_mono_ms(), bb_db_errmsg(c->db), NULL);
	else if (rc != BB_DB_OK)
		bb_log(BB_WARN, NULL, "heartbeat failed", "error", bb_db_errmsg(c->db), NULL);
	else
		bb_outage_over(&c->outage, bb_mono_ms());
}

static void *writing(void *arg)
{
	struct ctx *c = arg;
	struct stage *w = &c->writer;

	pthread_mutex_lock(&w->mu);
	while (!w->rc) {
		while (!w->b && !w->beat && !w->prune && !w->stop)
			pthread_cond_wait(&w->cv, &w->mu);
		struct batch *b = w->b;
		int beat = w->beat, prune_now = w->prune, rc = 0;
		if (!b && !beat && !prune_now)
			break;
		w->b = NULL;
		w->beat = w->prune = 0;
		w->busy = 1;
		pthread_mutex_unlock(&w->mu);
		if (prune_now)
			prune(c);
		if (b && (rc = commit(c, b)) != 0)
			batch_put(c, b);
		else if (!b && beat) /* a batch writes its own */
			idle_heartbeat(c);
		pthread_mutex_lock(&w->mu);
		w->rc = rc;
		w->busy = 0;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* ---- the main thread's side ---- */

static int stage_start(struct stage *s, void *(*fn)(void *), struct ctx *c)
{
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	int err = pthread_create(&s->thread, NULL, fn, c);
	s->started = err == 0;
	return err;
}

int stages_start(struct ctx *c)
{
	sigset_t stop, old;
	int fd, err, rc = 0;

	/* Batches are megabytes, allocated in the reading thread and freed in
	 * the writer's: glibc would hand each freed batch back to the kernel
	 * and fault it in again for the next. Keep up to 256 MiB instead. */
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	pthread_mutex_init(&c->spare_mu, NULL);
	if (!(c->cur = batch_get(c)))
		return bb_fatal(BB_EX_SOFTWARE, "out of memory");
	c->writer.last_heartbeat = bb_clock_ms() - HEARTBEAT_MS; /* the first idle moment writes one */
	/* SIGTERM and SIGINT go to the main thread, whose read they interrupt */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, &old);
	if (bb_db_checkpoint_in_background(c->db) != BB_DB_OK)
		bb_log(BB_WARN, NULL, "checkpoints stay in the writer", "error", bb_db_errmsg(c->db), NULL);
	if ((fd = dup(STDOUT_FILENO)) < 0 || !(c->emitter.out = fdopen(fd, "w"))) {
		if (fd >= 0)
			close(fd);
		rc = bb_fatal(BB_EX_IOERR, "unable to start writing standard output: %s", strerror(errno));
	} else {
		/* records are kilobytes: 64 KiB at a time, not stdio's 4 KiB */
		static char outbuf[1 << 16];
		setvbuf(c->emitter.out, outbuf, _IOFBF, sizeof outbuf);
		__fsetlocking(c->emitter.out, FSETLOCKING_BYCALLER); /* only the emitter writes it */
		if ((err = stage_start(&c->emitter, emitting, c)) != 0 || (err = stage_start(&c->writer, writing, c)) != 0)
			rc = bb_fatal(BB_EX_SOFTWARE, "unable to start a thread: %s", strerror(err));
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

int stages_submit(struct ctx *c)
{
	struct stage *w = &c->writer;

	if (c->cur->n == 0)
		return 0;
	pthread_mutex_lock(&w->mu);
	while ((w->b || w->busy) && !w->rc)
		pthread_cond_wait(&w->cv, &w->mu);
	int rc = w->rc;
	if (!rc) {
		w->b = c->cur;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	if (rc)
		return rc;
	if (!(c->cur = batch_get(c)))
		return bb_fatal(BB_EX_SOFTWARE, "out of memory");
	return 0;
}

int stages_writer_idle(struct ctx *c)
{
	pthread_mutex_lock(&c->writer.mu);
	int idle = !c->writer.b && !c->writer.busy;
	pthread_mutex_unlock(&c->writer.mu);
	return idle;
}

int stages_idle(struct ctx *c, int64_t now, int *wait_ms)
{
	struct stage *w = &c->writer;

	pthread_mutex_lock(&w->mu);
	int rc = w->rc, busy = w->b || w->busy || w->beat || w->prune;
	if (!busy && c->cur->n == 0) {
		/* pruning runs when the stream is idle, at most once an hour */
		if (now - c->last_prune >= PRUNE_EVERY_MS) {
			w->prune = 1;
			c->last_prune = now;
		}
		/* a heartbeat while no batch is in hand; tried again in one period, not in a loop */
		if (now - w->last_heartbeat >= HEARTBEAT_MS) {
			w->beat = 1;
			w->last_heartbeat = now;
		}
		busy = w->prune || w->beat;
		if (busy)
			pthread_cond_broadcast(&w->cv);
	}
	int64_t next_beat = w->last_heartbeat + HEARTBEAT_MS - now;
	pthread_mutex_unlock(&w->mu);
	/* while the writer works, a failure of its ends the reading soon */
	*wait_ms = busy ? 100 : (int)(next_beat > 0 ? next_beat : 1);
	return rc;
}

int stages_stop(struct ctx *c)
{
	stage_stop(&c->writer);
	stage_stop(&c->emitter); /* every committed batch goes out, even after a failure */
	int rc = c->writer.rc, failed = c->emitter.failed;
	if (c->emitter.out && fclose(c->emitter.out) != 0 && !failed)
		failed = errno ? errno : EIO;
	c->emitter.out = NULL;
	if (failed && !rc)
		rc = bb_fatal(BB_EX_IOERR, "unable to write standard output: %s", strerror(failed));
	return rc;
}

void stages_free(struct ctx *c)
{
	stage_stop(&c->writer);
	stage_stop(&c->emitter);
	if (c->emitter.out)
		fclose(c->emitter.out);
	c->emitter.out = NULL;
	if (c->cur)
		batch_put(c, c->cur);
	c->cur = NULL;
	for (struct batch *b = c->spare, *next; b; b = next) {
		next = b->next;
		free(b->items);
		free(b);
	}
	c->spare = NULL;
	free(c->lags.v);
}
