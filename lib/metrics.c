/* metrics.c: the process's counters and the Prometheus text they are
 * written as (metrics.h). One registry per process: the counts come from
 * whichever thread does the work, the file from a thread of its own. */
#include "metrics.h"

#include "exitcode.h"
#include "log.h"
#include "timeutil.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* worker_processing_duration_seconds: ingest → commit, from a fast
 * pipeline's tenths of a second to a backlog's minutes */
static const int64_t bucket_ms[] = { 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 120000, 300000,
				     600000 };
#define NBUCKETS (sizeof bucket_ms / sizeof *bucket_ms)

struct counter {
	const char *family; /* full metric name */
	const char *help;
	const char *label;  /* NULL: none */
	char *value;
	int64_t n;
};

static struct {
	atomic_int on;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thread;
	int stop;
	int64_t period_ms;
	char *path, *stage, *worker_id;
	struct counter *c;
	size_t n, cap;
	int64_t bucket[NBUCKETS], count, sum_ms;
} reg = { .mu = PTHREAD_MUTEX_INITIALIZER };

/* ---- the exposition format ---- */

static void label_value(FILE *out, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', out), fputc(*v, out);
		else if (*v == '\n')
			fputs("\\n", out);
		else
			fputc(*v, out);
	}
}

void bb_prom_family(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void labels(FILE *out, const char *name, va_list ap)
{
	const char *k, *sep = "{";

	fputs(name, out);
	while ((k = va_arg(ap, const char *))) {
		const char *v = va_arg(ap, const char *);
		fprintf(out, "%s%s=\"", sep, k);
		label_value(out, v ? v : "");
		fputc('"', out);
		sep = ",";
	}
	if (*sep == ',')
		fputc('}', out);
}

void bb_prom_sample(FILE *out, const char *name, int64_t value, ...)
{
	va_list ap;
	va_start(ap, value);
	labels(out, name, ap);
	va_end(ap);
	fprintf(out, " %lld\n", (long long)value);
}

void bb_prom_sample_milli(FILE *out, const char *name, int64_t milli, ...)
{
	va_list ap;
	va_start(ap, milli);
	labels(out, name, ap);
	va_end(ap);
	lldiv_t d = lldiv(milli < 0 ? -milli : milli, 1000);
	fprintf(out, " %s%lld.%03lld\n", milli < 0 ? "-" : "", d.quot, d.rem);
}

int bb_write_file_atomic(const char *path, const char *text, size_t n)
{
	char *tmp = NULL;
	int fd, saved;

	if (asprintf(&tmp, "%s.%ld.tmp", path, (long)getpid()) < 0)
		return errno = ENOMEM, -1;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0 && bb_write_all(fd, text, n) == 0 && close(fd) == 0 && rename(tmp, path) == 0) {
		free(tmp);
		return 0;
	}
	saved = errno;
	if (fd >= 0)
		close(fd); /* after a failed write: EBADF once closed, harmless */
	unlink(tmp);
	free(tmp);
	errno = saved;
	return -1;
}

/* ---- the registry ---- */

static void add(const char *family, const char *help, const char *label, const char *value, int64_t n)
{
	if (!atomic_load_explicit(&reg.on, memory_order_relaxed))
		return;
	pthread_mutex_lock(&reg.mu);
	for (size_t i = 0; i < reg.n; i++) {
		struct counter *c = &reg.c[i];
		if (strcmp(c->family, family) == 0 && (c->label ? value && strcmp(c->value, value) == 0 : !value)) {
			c->n += n;
			pthread_mutex_unlock(&reg.mu);
			return;
		}
	}
	if (reg.n == reg.cap) {
		size_t cap = reg.cap ? 2 * reg.cap : 16;
		struct counter *c = realloc(reg.c, cap * sizeof *c);
		if (!c)
			goto out; /* not counted: a metric is not worth failing the work for */
		reg.c = c, reg.cap = cap;
	}
	char *v = value ? strdup(value) : NULL;
	if (value && !v)
		goto out;
	reg.c[reg.n++] = (struct counter){ family, help, label, v, n };
out:
	pthread_mutex_unlock(&reg.mu);
}

void bb_metrics_processed(const char *status, int64_t n)
{
	add("worker_notifications_processed_total", "Records this worker finished, by their status.", "status",
	    status, n);
}

void bb_metrics_dead_lettered(const char *error_type)
{
	add("worker_dlq_messages_total", "Messages this worker moved to the dead-letter queue, by error type.",
	    "error_type", error_type && *error_type ? error_type : "unknown", 1);
}

void bb_metrics_count(const char *name, const char *label, const char *value, int64_t n)
{
	add(name, "A count of bb's own: see bb(7).", label, value, n);
}

void bb_metrics_duration_ms(int64_t ms)
{
	if (!atomic_load_explicit(&reg.on, memory_order_relaxed) || ms < 0)
		return;
	pthread_mutex_lock(&reg.mu);
	for (size_t i = 0; i < NBUCKETS; i++)
		if (ms <= bucket_ms[i])
			reg.bucket[i]++;
	reg.count++;
	reg.sum_ms += ms;
	pthread_mutex_unlock(&reg.mu);
}

void bb_metrics_commit_lag(int64_t sent_at_ms, int64_t received_at_ms, int64_t now_ms)
{
	int64_t ingest = sent_at_ms >= 0 ? sent_at_ms : received_at_ms;

	if (ingest >= 0)
		bb_metrics_duration_ms(now_ms - ingest);
}

/* ---- the file ---- */

static int by_family(const void *x, const void *y)
{
	const struct counter *a = x, *b = y;
	int d = strcmp(a->family, b->family);
	return d ? d : a->value && b->value ? strcmp(a->value, b->value) : 0;
}

static void counters(FILE *out)
{
	if (reg.n > 1)
		qsort(reg.c, reg.n, sizeof *reg.c, by_family);
	for (size_t i = 0; i < reg.n; i++) {
		const struct counter *c = &reg.c[i];
		if (i == 0 || strcmp(c->family, reg.c[i - 1].family) != 0)
			bb_prom_family(out, c->family, "counter", c->help);
		if (c->label)
			bb_prom_sample(out, c->family, c->n, "worker_id", reg.worker_id, "stage", reg.stage, c->label,
				       c->value, NULL);
		else
			bb_prom_sample(out, c->family, c->n, "worker_id", reg.worker_id, "stage", reg.stage, NULL);
	}
}

static void histogram(FILE *out)
{
	static const char name[] = "worker_processing_duration_seconds";
	char le[24];

	bb_prom_family(out, name, "histogram", "Time from a message's arrival in SQS to its commit.");
	for (size_t i = 0; i < NBUCKETS; i++) {
		snprintf(le, sizeof le, "%g", (double)bucket_ms[i] / 1000);
		bb_prom_sample(out, "worker_processing_duration_seconds_bucket", reg.bucket[i], "worker_id",
			       reg.worker_id, "stage", reg.stage, "le", le, NULL);
	}
	bb_prom_sample(out, "worker_processing_duration_seconds_bucket", reg.count, "worker_id", reg.worker_id,
		       "stage", reg.stage, "le", "+Inf", NULL);
	bb_prom_sample_milli(out, "worker_processing_duration_seconds_sum", reg.sum_ms, "worker_id", reg.worker_id,
			     "stage", reg.stage, NULL);
	bb_prom_sample(out, "worker_processing_duration_seconds_count", reg.count, "worker_id", reg.worker_id,
		       "stage", reg.stage, NULL);
}

/* Under the lock. */
static int write_now(char *err, size_t errlen)
{
	char *text = NULL;
	size_t n = 0;
	FILE *out = open_memstream(&text, &n);

	if (!out) {
		snprintf(err, errlen, "unable to write metrics file '%s': %s", reg.path, strerror(errno));
		return -1;
	}
	counters(out);
	if (strcmp(reg.stage, "store") == 0 || reg.count > 0)
		histogram(out);
	bb_prom_family(out, "worker_heartbeat_timestamp", "gauge", "When this worker last wrote its metrics (Unix time).");
	bb_prom_sample_milli(out, "worker_heartbeat_timestamp", bb_clock_ms(), "worker_id", reg.worker_id, "stage",
			     reg.stage, NULL);
	int rc = fclose(out) == 0 && text ? bb_write_file_atomic(reg.path, text, n) : -1;
	if (rc != 0)
		snprintf(err, errlen, "unable to write metrics file '%s': %s", reg.path, strerror(errno));
	free(text);
	return rc;
}

static void *writer(void *arg)
{
	char err[600];
	(void)arg;
	pthread_mutex_lock(&reg.mu);
	while (!reg.stop) {
		struct timespec t;
		clock_gettime(CLOCK_MONOTONIC, &t);
		t.tv_sec += reg.period_ms / 1000;
		t.tv_nsec += (reg.period_ms % 1000) * 1000000;
		if (t.tv_nsec >= 1000000000)
			t.tv_sec++, t.tv_nsec -= 1000000000;
		while (!reg.stop && pthread_cond_timedwait(&reg.cv, &reg.mu, &t) != ETIMEDOUT)
			;
		if (!reg.stop && write_now(err, sizeof err) != 0)
			bb_log(BB_WARN, NULL, err, NULL);
	}
	pthread_mutex_unlock(&reg.mu);
	return NULL;
}

static void release(void)
{
	for (size_t i = 0; i < reg.n; i++)
		free(reg.c[i].value);
	free(reg.c), free(reg.path), free(reg.stage), free(reg.worker_id);
	reg.c = NULL, reg.n = reg.cap = 0, reg.path = reg.stage = reg.worker_id = NULL;
}

int bb_metrics_start(const char *path, const char *stage, const char *worker_id, int64_t period_ms,
		     char *err, size_t errlen)
{
	char host[256] = "";
	pthread_condattr_t ca;

	gethostname(host, sizeof host - 1);
	reg.path = strdup(path), reg.stage = strdup(stage);
	if (worker_id)
		reg.worker_id = strdup(worker_id);
	else if (asprintf(&reg.worker_id, "%s:%ld", host, (long)getpid()) < 0)
		reg.worker_id = NULL;
	const char *env = getenv("BB_METRICS_PERIOD");
	if (period_ms <= 0 && !(env && bb_duration_parse(env, &period_ms) == 0 && period_ms > 0))
		period_ms = BB_METRICS_PERIOD_MS;
	reg.period_ms = period_ms;
	if (!reg.path || !reg.stage || !reg.worker_id) {
		release();
		snprintf(err, errlen, "out of memory");
		return BB_EX_SOFTWARE;
	}
	if (write_now(err, errlen) != 0) {
		release();
		return BB_EX_CONFIG;
	}
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&reg.cv, &ca);
	pthread_condattr_destroy(&ca);
	reg.stop = 0;
	if (pthread_create(&reg.thread, NULL, writer, NULL) != 0) {
		pthread_cond_destroy(&reg.cv);
		release();
		snprintf(err, errlen, "unable to start the metrics writer");
		return BB_EX_SOFTWARE;
	}
	atomic_store(&reg.on, 1);
	return 0;
}

int bb_metrics_stop(char *err, size_t errlen)
{
	int rc;

	if (!atomic_load(&reg.on))
		return 0;
	pthread_mutex_lock(&reg.mu);
	reg.stop = 1;
	pthread_cond_broadcast(&reg.cv);
	pthread_mutex_unlock(&reg.mu);
	pthread_join(reg.thread, NULL);
	pthread_mutex_lock(&reg.mu);
	atomic_store(&reg.on, 0);
	rc = write_now(err, errlen);
	release();
	pthread_mutex_unlock(&reg.mu);
	pthread_cond_destroy(&reg.cv);
	return rc;
}
