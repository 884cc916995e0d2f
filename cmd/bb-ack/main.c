/* bb-ack: settle each record with SQS once its outcome is durable: delete
 * what was stored, found duplicate or skipped; move what was rejected to the
 * dead-letter queue, then delete it; give what failed back to the queue
 * later. Each record comes out with `ack` added once settled. */
#include "cli.h"
#include "conf.h"
#include "exitcode.h"
#include "log.h"
#include "metrics.h"
#include "notification.h"
#include "parse.h"
#include "record.h"
#include "sqs.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define USAGE "usage: bb-ack [--dlq-url URL] [--max-receive-count N] [--all] [--settled FIFO]\n" \
	      "              [--metrics-file PATH]\n"
/* --help: the usage and a line for each option, as in the man page */
#define HELP USAGE "\n" \
	     "  --dlq-url URL          dead-letter queue for rejected and spent messages\n" \
	     "  --max-receive-count N  a message failed N times goes to the DLQ (default 3)\n" \
	     "  --all                  delete every message, whatever its record holds\n" \
	     "  --settled FIFO         report settled messages to bb-sqs-recv --settled\n" \
	     "  --metrics-file PATH    write Prometheus metrics to PATH every 15 s\n" \
	     "  -h, --help             print this help and exit\n" \
	     "  -V, --version          print the version and exit\n"
#define BATCH 10

enum what { LEAVE, DELETE, TO_DLQ, RETRY_LATER };

struct item {
	struct bb_record rec; /* a copy of the line and its member index */
	enum what what;
	/* copies of the envelope's members (NUL-terminated too), null when absent */
	struct bb_str queue, handle, body, error_type, trace;
	int64_t receive_count;
	int dlq_done, deleted, visibility_set;
	char error[480];
};

struct ctx {
	struct bb_sqs *sqs;
	const char *dlq_url;
	int64_t max_receive_count;
	int all;
	const char *settled; /* the FIFO bb-sqs-recv --settled reads, or NULL */
	int settled_fd;      /* -1: not open yet */
	int greet;           /* just opened: the empty line is owed */
	struct item *items;
	int n;
	size_t cap;
	struct bb_jdoc *doc; /* a line over the record limit, parsed here */
	size_t deleted, dead_lettered, retried, failed;
};

/* A copy of s, NUL-terminated too; null when s is (or out of memory). */
static struct bb_str str_dup(struct bb_str s)
{
	char *p = s.p ? malloc(s.n + 1) : NULL;
	if (p) {
		memcpy(p, s.p, s.n);
		p[s.n] = '\0';
	}
	return (struct bb_str){ p, p ? s.n : 0 };
}

static int str_same(struct bb_str a, struct bb_str b)
{
	return a.n == b.n && memcmp(a.p, b.p, a.n) == 0;
}

/* What to do with a record, by its status and how often SQS delivered it. */
static void classify(struct ctx *c, const struct bb_record *rec, struct item *it)
{
	const struct bb_envelope *env = &rec->env;
	struct bb_str status = env->status;
	int durable = bb_json_type(env->stored) != BB_JNONE;

	it->queue = str_dup(env->sqs.queue_url);
	it->handle = str_dup(env->sqs.receipt_handle);
	it->receive_count = env->sqs.receive_count == BB_NONE ? -1 : env->sqs.receive_count;
	it->trace = str_dup(env->trace_id);
	it->error_type = str_dup(env->error_type);
	it->what = LEAVE;
	if (!it->queue.p || !it->handle.p) /* a replay: nothing to settle */
		;
	else if (c->all)
		it->what = DELETE;
	else if (!durable || !status.p)
		snprintf(it->error, sizeof it->error, "outcome not stored yet: left for redelivery");
	else if (bb_str_eq(status, "ok") || bb_str_eq(status, "duplicate") || bb_str_eq(status, "skipped"))
		it->what = DELETE;
	else if (bb_str_eq(status, "rejected"))
		it->what = c->dlq_url ? TO_DLQ : LEAVE; /* without a DLQ, the queue's redrive policy decides */
	else if (bb_str_eq(status, "failed"))
		/* a poison pill on its last allowed attempt goes to the DLQ, never vanishes */
		it->what = c->dlq_url && it->receive_count >= c->max_receive_count ? TO_DLQ : RETRY_LATER;
	if (it->what == TO_DLQ && !(it->body = str_dup(bb_envelope_body(env))).p) {
		it->what = LEAVE;
		snprintf(it->error, sizeof it->error, "no body to dead-letter: left for the redrive policy");
	}
}

/* A message attribute's value: "-" for one absent or empty. */
static struct bb_str attr_value(struct bb_str v)
{
	return v.p && v.n > 0 ? v : BB_LIT("-");
}

/* What an entry of a batch call takes from an item; attrs is room for its
 * message attributes. */
typedef void (*entry_fn)(struct item *it, struct bb_sqs_entry *e, struct bb_sqs_attr attrs[2]);

/* One batch call over up to ten items; entry fills an entry, done marks success. */
static void batch(struct ctx *c, const char *action, struct bb_str queue, int *idx, int k, entry_fn entry,
		  int (*done)(struct item *, int))
{
	struct bb_sqs_entry e[BATCH];
	struct bb_sqs_attr attrs[BATCH][2];
	struct bb_sqs_error err;

	memset(e, 0, sizeof e);
	for (int j = 0; j < k; j++)
		entry(&c->items[idx[j]], &e[j], attrs[j]);
	bb_sqs_batch(c->sqs, action, queue, e, k, 4, &err);
	for (int j = 0; j < k; j++) {
		if (e[j].done)
			done(&c->items[idx[j]], 1);
		else
			snprintf(c->items[idx[j]].error, sizeof c->items[0].error, "%s", e[j].error);
	}
	bb_sqs_entries_free(e, k);
}

static void dlq_entry(struct item *it, struct bb_sqs_entry *e, struct bb_sqs_attr attrs[2])
{
	attrs[0] = (struct bb_sqs_attr){ "error_type", attr_value(it->error_type.p ? it->error_type : BB_LIT("failed")) };
	attrs[1] = (struct bb_sqs_attr){ "trace_id", attr_value(it->trace) };
	e->body = it->body;
	e->attrs = attrs;
	e->nattrs = 2;
}

static int dlq_done(struct item *it, int ok)
{
	return it->dlq_done = ok;
}

static void delete_entry(struct item *it, struct bb_sqs_entry *e, struct bb_sqs_attr attrs[2])
{
	(void)attrs;
	e->handle = it->handle;
}

static int delete_done(struct item *it, int ok)
{
	return it->deleted = ok;
}

static void visibility_entry(struct item *it, struct bb_sqs_entry *e, struct bb_sqs_attr attrs[2])
{
	int64_t rc = it->receive_count < 1 ? 1 : it->receive_count > 10 ? 10 : it->receive_count;
	int64_t secs = 30LL << (rc - 1); /* backoff grows with each delivery */

	(void)attrs;
	e->handle = it->handle;
	e->visibility = secs > 43200 ? 43200 : secs;
}

static int visibility_done(struct item *it, int ok)
{
	return it->visibility_set = ok;
}

/* Run one action over every item that wants it, ten per call per queue. */
static void settle(struct ctx *c, const char *action, int (*wants)(const struct item *), const char *fixed_queue,
		   entry_fn entry, int (*done)(struct item *, int))
{
	int used[c->n ? c->n : 1];
	memset(used, 0, sizeof used);
	for (int i = 0; i < c->n; i++) {
		if (used[i] || !wants(&c->items[i]))
			continue;
		struct bb_str queue = fixed_queue ? (struct bb_str){ fixed_queue, strlen(fixed_queue) } : c->items[i].queue;
		int idx[BATCH], k = 0;
		for (int j = i; j < c->n && k < BATCH; j++)
			if (!used[j] && wants(&c->items[j]) && (fixed_queue || str_same(c->items[j].queue, queue)))
				idx[k++] = j, used[j] = 1;
		batch(c, action, queue, idx, k, entry, done);
	}
}
static int wants_dlq(const struct item *it) { return it->what == TO_DLQ; }
static int wants_delete(const struct item *it)
{
	/* a dead-lettered message is deleted only after the DLQ accepted it */
	return it->what == DELETE || (it->what == TO_DLQ && it->dlq_done);
}
static int wants_visibility(const struct item *it) { return it->what == RETRY_LATER; }

static void item_free(struct item *it)
{
	bb_record_free(&it->rec);
	free((char *)it->queue.p), free((char *)it->handle.p), free((char *)it->body.p);
	free((char *)it->error_type.p), free((char *)it->trace.p);
}

/* The FIFO of --settled, once bb-sqs-recv has opened its end (ENXIO until
 * then: try again later). 0 when open. */
static int open_settled(struct ctx *c)
{
	if (c->settled_fd >= 0)
		return 0;
	c->settled_fd = open(c->settled, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (c->settled_fd < 0) {
		if (errno != ENXIO) {
			bb_log(BB_WARN, NULL, "unable to report settled messages", "fifo", c->settled, "error",
			       strerror(errno), NULL);
			c->settled = NULL;
		}
		return -1;
	}
	fcntl(c->settled_fd, F_SETFL, fcntl(c->settled_fd, F_GETFL) & ~O_NONBLOCK);
	c->greet = 1;
	return 0;
}

/* Tell bb-sqs-recv which messages it may stop watching: one receipt handle
 * per line, the batch in one write; an empty line first says bb-ack is
 * there. Once bb-sqs-recv is gone, nobody is told. */
static void report_settled(struct ctx *c)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	if (!c->settled)
		return;
	if (open_settled(c) != 0 || !(f = open_memstream(&text, &len)))
		return;
	if (c->greet)
		fputc('\n', f);
	c->greet = 0;
	for (int i = 0; i < c->n; i++) {
		struct bb_str h = c->items[i].handle;
		if (c->items[i].queue.p && h.p && h.n > 0 && h.n <= 8000 && !memchr(h.p, '\n', h.n)) {
			fwrite(h.p, 1, h.n, f);
			fputc('\n', f);
		}
	}
	fclose(f);
	if (bb_write_all(c->settled_fd, text, len) != 0) {
		if (errno != EPIPE)
			bb_log(BB_WARN, NULL, "unable to report settled messages", "fifo", c->settled, "error",
			       strerror(errno), NULL);
		close(c->settled_fd);
		c->settled_fd = -1;
		c->settled = NULL; /* bb-sqs-recv has gone: its messages are no longer watched */
	}
	free(text);
}

/* worker_notifications_processed_total by how the message was settled */
static void ack_metrics(const struct item *it)
{
	bb_metrics_processed(it->error[0] ? "unsettled" : it->dlq_done ? "dead_lettered" : it->deleted ? "deleted" :
			     it->visibility_set ? "retry_later" : "passed", 1);
	if (it->dlq_done) {
		char type[64] = "failed"; /* an error type is a short word; anything else counts as failed */
		struct bb_str t = it->error_type;
		if (t.p && t.n > 0 && t.n < sizeof type && !memchr(t.p, '\0', t.n))
			memcpy(type, t.p, t.n), type[t.n] = '\0';
		bb_metrics_dead_lettered(type);
	}
}

static int flush(struct ctx *c)
{
	if (c->n == 0)
		return 0;
	settle(c, "SendMessageBatch", wants_dlq, c->dlq_url, dlq_entry, dlq_done);
	settle(c, "DeleteMessageBatch", wants_delete, NULL, delete_entry, delete_done);
	settle(c, "ChangeMessageVisibilityBatch", wants_visibility, NULL, visibility_entry, visibility_done);
	report_settled(c);
	for (int i = 0; i < c->n; i++) {
		struct item *it = &c->items[i];
		struct bb_emit em;
		struct bb_jw w;
		memset(&em, 0, sizeof em);
		bb_jw_init(&w);
		c->deleted += it->deleted;
		c->dead_lettered += it->dlq_done;
		c->retried += it->visibility_set;
		ack_metrics(it);
		if (it->error[0]) {
			char tag[32];
			c->failed++;
			bb_sqs_handle_tag(it->handle.p ? it->handle.p : "", tag, sizeof tag);
			bb_log(BB_WARN, it->trace.p, "not settled", "receipt", tag, "error", it->error, NULL);
		}
		if (it->queue.p && it->handle.p) {
			bb_jw_obj(&w);
			bb_jw_kbool(&w, "deleted", it->deleted);
			bb_jw_kbool(&w, "dlq", it->dlq_done);
			bb_jw_kstrz(&w, "error", it->error[0] ? it->error : NULL);
			bb_jw_end(&w, '}');
			bb_emit_jw(&em, "ack", &w);
		}
		bb_record_write(&it->rec, &em, stdout);
		bb_emit_free(&em);
		item_free(it);
	}
	c->n = 0;
	return fflush(stdout) == 0 ? 0 : bb_fatal(BB_EX_IOERR, "unable to write standard output: %s", strerror(errno));
}

static int on_record(struct bb_record *rec, struct bb_emit *em, void *arg)
{
	struct ctx *c = arg;

	em->suppress = 1; /* written once settled */
	if (bb_reserve((void **)&c->items, &c->cap, (size_t)c->n + 1, sizeof *c->items) != 0)
		return bb_fatal(BB_EX_SOFTWARE, "out of memory");
	struct item *it = &c->items[c->n++];
	memset(it, 0, sizeof *it);
	if (bb_record_copy(&it->rec, rec) != 0)
		return bb_fatal(BB_EX_SOFTWARE, "out of memory");
	if (rec->too_large && rec->is_object) /* it settles all the same */
		bb_record_read_whole(rec, c->doc);
	if (rec->is_object)
		classify(c, rec, it);
	return c->n >= 100 ? flush(c) : 0;
}

static int on_idle(void *arg, int *wait_ms)
{
	*wait_ms = -1;
	return flush(arg); /* nothing is held while input is awaited */
}

/* The credentials, --settled and the dead-letter queue, checked before any
 * input is read, so that none is settled under a configuration that is
 * wrong; SIGTERM is obeyed from here on. */
static int configure(struct ctx *c)
{
	struct bb_sqs_error e;
	struct stat st;
	char err[600];

	if (!(c->doc = bb_json_new()))
		return bb_fatal(BB_EX_SOFTWARE, "out of memory");
	if (!(c->sqs = bb_sqs_new(err, sizeof err)))
		return bb_fatal(BB_EX_CONFIG, "unable to use AWS credentials: %s", err);
	if (c->settled && stat(c->settled, &st) != 0)
		return bb_fatal(BB_EX_CONFIG, "unable to use '%s' for --settled: %s", c->settled, strerror(errno));
	if (c->settled && !S_ISFIFO(st.st_mode))
		return bb_fatal(BB_EX_CONFIG, "unable to use '%s' for --settled: not a FIFO (make one with mkfifo)",
				c->settled);
	bb_signals_install();
	if (c->dlq_url && bb_sqs_check_queue(c->sqs, c->dlq_url, &e) != 0)
		return bb_fatal(BB_EX_CONFIG, "unable to use dead-letter queue '%s': %s: %s", c->dlq_url, e.type,
				e.message);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dlq-url", required_argument, NULL, 'd' },
		{ "max-receive-count", required_argument, NULL, 'm' },
		{ "all", no_argument, NULL, 'a' },
		{ "settled", required_argument, NULL, 's' },
		{ "metrics-file", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctx c = { .max_receive_count = 3, .settled_fd = -1 };
	struct bb_conf *conf = NULL;
	char err[600];
	const char *metrics = NULL;
	int opt, rc = 0;

	bb_log_init("bb-ack");
	if (bb_cli_early(argc, argv, HELP, "bb-ack " BB_VERSION))
		return 0;
	if (bb_conf_load(&conf, err, sizeof err) != 0)
		return bb_fatal(BB_EX_CONFIG, "%s", err);
	c.dlq_url = bb_conf_get(conf, "sqs", "dlq_url");
	const char *mrc = bb_conf_get(conf, "validate", "max_receive_count");
	if (mrc && bb_parse_i64(mrc, 1, 1000000, &c.max_receive_count) != 0)
		rc = bb_fatal(BB_EX_CONFIG, "unable to use [validate] max_receive_count '%s': expected a whole number from 1",
			      mrc);
	while (rc == 0 && (opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'd')
			c.dlq_url = optarg;
		else if (opt == 'a')
			c.all = 1;
		else if (opt == 's')
			c.settled = optarg;
		else if (opt == 'P')
			metrics = optarg;
		else if (opt == 'm' && bb_parse_i64(optarg, 1, 1000000, &c.max_receive_count) != 0) {
			bb_say("--max-receive-count '%s': expected a whole number from 1", optarg);
			rc = BB_EX_USAGE;
		} else if (opt != 'm') {
			fputs(USAGE, stderr);
			rc = BB_EX_USAGE;
		}
	}
	if (rc == 0 && optind < argc) {
		bb_say("unexpected argument '%s'", argv[optind]);
		fputs(USAGE, stderr);
		rc = BB_EX_USAGE;
	}
	if (rc == 0)
		rc = configure(&c);
	if (rc == 0 && metrics && (rc = bb_metrics_start(metrics, "ack", NULL, 0, err, sizeof err)) != 0)
		bb_fatal(rc, "%s", err);
	if (rc == 0 && c.settled) {
		/* bb-sqs-recv opens its end as it starts: give it a moment, so that
		 * it hears from us before it could think nobody will report */
		for (int i = 0; i < 50 && c.settled && !bb_stopping() && open_settled(&c) != 0; i++)
			usleep(100000);
		report_settled(&c); /* the empty line: bb-ack is there */
	}
	if (rc == 0) {
		struct bb_loop loop = { .on_record = on_record, .on_idle = on_idle, .ctx = &c, .lazy_body = 1 }; /* the body: only to dead-letter */
		rc = bb_records_run(STDIN_FILENO, stdout, &loop);
		int f = flush(&c);
		if (rc == 0)
			rc = f;
		if (fclose(stdout) != 0 && rc == 0) /* what stdio held until the end */
			rc = bb_fatal(BB_EX_IOERR, "unable to write standard output: %s", strerror(errno));
		char d[24], q[24], r[24], x[24];
		snprintf(d, sizeof d, "%zu", c.deleted);
		snprintf(q, sizeof q, "%zu", c.dead_lettered);
		snprintf(r, sizeof r, "%zu", c.retried);
		snprintf(x, sizeof x, "%zu", c.failed);
		bb_log(BB_INFO, NULL, "summary", "deleted", d, "dead_lettered", q, "retry_later", r, "unsettled", x, NULL);
	}
	if (bb_metrics_stop(err, sizeof err) != 0)
		bb_log(BB_WARN, NULL, err, NULL);
	for (int i = 0; i < c.n; i++)
		item_free(&c.items[i]);
	free(c.items);
	if (c.settled_fd >= 0)
		close(c.settled_fd);
	bb_sqs_free(c.sqs);
	bb_json_free(c.doc);
	bb_conf_free(conf);
	return rc;
}
