/* bb-sqs-send: send each line's body (or the line itself when it is not a
 * record with a body) to an SQS queue, ten at a time: DLQ redrive and load
 * tests. Each line comes out with `sent` added once SQS has accepted it. */
#include "cli.h"
#include "conf.h"
#include "exitcode.h"
#include "log.h"
#include "parse.h"
#include "record.h"
#include "sqs.h"
#include "timeutil.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define USAGE "usage: bb-sqs-send --queue-url URL [--rate N]\n"
/* --help: the usage and a line for each option, as in the man page */
#define HELP USAGE "\n" \
	     "  --queue-url URL  the queue to send to (required)\n" \
	     "  --rate N         about N messages per second (default as fast as SQS takes)\n" \
	     "  -h, --help       print this help and exit\n" \
	     "  -V, --version    print the version and exit\n"
#define BATCH 10
#define MAX_BODY (256 * 1024)

struct pending {
	char *line; /* the line as it came */
	size_t len;
	struct bb_str body; /* what is sent: malloc'd */
};

struct ctx {
	struct bb_sqs *sqs;
	const char *queue_url;
	int64_t rate;         /* messages per second, 0: as fast as SQS takes them */
	int64_t window_start; /* rate limiting: one window of a second */
	int64_t in_window;
	struct pending batch[BATCH];
	int n;
	struct bb_jdoc *doc; /* a line over the record limit, parsed here */
	size_t sent, failed;
};

static void pace(struct ctx *c)
{
	if (c->rate <= 0)
		return;
	int64_t now = bb_clock_ms();
	if (now - c->window_start >= 1000) {
		c->window_start = now;
		c->in_window = 0;
	}
	if (c->in_window > 0 && c->in_window + c->n > c->rate) {
		int64_t wait = c->window_start + 1000 - now;
		struct timespec ts = { wait / 1000, (wait % 1000) * 1000000 };
		nanosleep(&ts, NULL);
		c->window_start = bb_clock_ms();
		c->in_window = 0;
	}
}

/* The line with `sent` added: the queue and the message id SQS gave it. */
static void emit(const struct ctx *c, struct pending *p, struct bb_str message_id, FILE *out)
{
	struct bb_record rec = { .line = p->line, .len = p->len, .total_len = p->len };
	struct bb_emit em;
	struct bb_jw w;

	memset(&em, 0, sizeof em);
	bb_jw_init(&w);
	if (bb_record_index(&rec) != 0) { /* a plain line: say what was sent */
		em.fresh = 1;
		bb_emit_str(&em, "body", p->line, p->len);
	}
	bb_jw_obj(&w);
	bb_jw_kstrz(&w, "queue_url", c->queue_url);
	bb_jw_kview(&w, "message_id", message_id);
	bb_jw_end(&w, '}');
	bb_emit_jw(&em, "sent", &w);
	bb_record_write(&rec, &em, out);
	bb_emit_free(&em);
	free(rec.m);
}

/* Send what is pending; entries SQS fails for a passing reason, or leaves
 * unanswered, go again, unless it refused one. The answer is read by
 * bb_sqs_batch_settle, so an entry is emitted once however often the answer
 * names it. */
static int flush_batch(struct ctx *c)
{
	struct bb_sqs_entry e[BATCH];
	struct bb_str queue = { c->queue_url, strlen(c->queue_url) };
	int todo[BATCH], ntodo = c->n;
	int rc = 0;

	memset(e, 0, sizeof e);
	for (int i = 0; i < c->n; i++) {
		todo[i] = i;
		e[i].body = c->batch[i].body;
	}
	for (int round = 0; ntodo > 0 && round < 5 && rc == 0; round++) { /* a refusal ends the retries */
		struct bb_sqs_error err;
		pace(c);
		if (bb_sqs_batch_call(c->sqs, "SendMessageBatch", queue, e, c->n, todo, ntodo, &err) != 0) {
			/* 70, 78: retrying cannot mend it */
			rc = bb_fatal(err.retryable ? BB_EX_UNAVAILABLE : bb_sqs_no_such_queue(&err) ? BB_EX_CONFIG : BB_EX_SOFTWARE,
				      "unable to send to queue '%s': %s: %s", c->queue_url, err.type, err.message);
			break;
		}
		c->in_window += ntodo;
		int again[BATCH], nagain = 0;
		for (int k = 0; k < ntodo; k++) {
			int i = todo[k];
			char entry[16];
			if (e[i].done) {
				emit(c, &c->batch[i], e[i].message_id, stdout);
				c->sent++;
			} else if (e[i].refused) {
				snprintf(entry, sizeof entry, "%d", i);
				bb_log(BB_ERROR, NULL, "message refused by SQS", "entry", entry, "code", e[i].code, NULL);
				c->failed++;
				rc = BB_EX_DATAERR;
			} else {
				again[nagain++] = i;
			}
		}
		memcpy(todo, again, sizeof again);
		ntodo = nagain;
	}
	if (ntodo > 0 && (rc == 0 || rc == BB_EX_DATAERR))
		rc = bb_fatal(BB_EX_UNAVAILABLE, "unable to send %d messages to '%s' after retries", ntodo, c->queue_url);
	bb_sqs_entries_free(e, c->n);
	for (int i = 0; i < c->n; i++) {
		free(c->batch[i].line);
		free((char *)c->batch[i].body.p);
		c->batch[i].line = NULL;
		c->batch[i].body = (struct bb_str){ NULL, 0 };
	}
	c->n = 0;
	if (fflush(stdout) != 0 && rc != BB_EX_UNAVAILABLE) /* sent, but not said so: stop before sending more */
		return bb_fatal(BB_EX_IOERR, "unable to write standard output: %s", strerror(errno));
	return rc == BB_EX_DATAERR ? 0 : rc;
}

static int on_record(struct bb_record *rec, struct bb_emit *em, void *arg)
{
	struct ctx *c = arg;
	struct pending *p = &c->batch[c->n];

	if (rec->too_large && rec->is_object)
		bb_record_read_whole(rec, c->doc);
	struct bb_str body = rec->is_object ? rec->env.body_text : (struct bb_str){ NULL, 0 };

	em->suppress = 1; /* written once SQS accepted it */
	if (!body.p) /* not a record with a body: the line is the message */
		body = (struct bb_str){ rec->line, rec->len };
	if (body.n > MAX_BODY) {
		char line[24];
		snprintf(line, sizeof line, "%zu", rec->lineno);
		bb_log(BB_ERROR, NULL, "body over SQS's 256 KiB limit: not sent", "line", line, NULL);
		c->failed++;
		return 0;
	}
	char *copy = malloc(body.n + 1);
	if (!copy || !(p->line = malloc(rec->len + 1))) {
		free(copy);
		return bb_fatal(BB_EX_SOFTWARE, "out of memory");
	}
	memcpy(copy, body.p, body.n);
	memcpy(p->line, rec->line, rec->len);
	p->len = rec->len;
	p->body = (struct bb_str){ copy, body.n };
	c->n++;
	/* at a rate below ten a second, a batch must not exceed the rate */
	int cap = c->rate > 0 && c->rate < BATCH ? (int)c->rate : BATCH;
	return c->n >= cap ? flush_batch(c) : 0;
}

static int on_idle(void *arg, int *wait_ms)
{
	*wait_ms = -1;
	return flush_batch(arg); /* nothing is held while input is awaited */
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "queue-url", required_argument, NULL, 'q' },
		{ "rate", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctx c = { 0 };
	struct bb_conf *conf = NULL;
	char err[600];
	int opt, rc = 0;

	bb_log_init("bb-sqs-send");
	if (bb_cli_early(argc, argv, HELP, "bb-sqs-send " BB_VERSION))
		return 0;
	if (bb_conf_load(&conf, err, sizeof err) != 0)
		return bb_fatal(BB_EX_CONFIG, "%s", err);
	c.queue_url = bb_conf_get(conf, "sqs", "queue_url");
	while (rc == 0 && (opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'q')
			c.queue_url = optarg;
		else if (opt == 'r' && bb_parse_i64(optarg, 1, 100000, &c.rate) != 0) {
			bb_say("--rate '%s': expected messages per second from 1 to 100000", optarg);
			rc = BB_EX_USAGE;
		} else if (opt != 'r') {
			fputs(USAGE, stderr);
			rc = BB_EX_USAGE;
		}
	}
	if (rc == 0 && (optind < argc || !c.queue_url)) {
		if (optind < argc)
			bb_say("unexpected argument '%s'", argv[optind]);
		else
			bb_say("a queue URL is needed: --queue-url, BB_SQS_QUEUE_URL or [sqs] queue_url");
		fputs(USAGE, stderr);
		rc = BB_EX_USAGE;
	}
	if (rc == 0 && !(c.doc = bb_json_new()))
		rc = bb_fatal(BB_EX_SOFTWARE, "out of memory");
	if (rc == 0 && !(c.sqs = bb_sqs_new(err, sizeof err)))
		rc = bb_fatal(BB_EX_CONFIG, "unable to use AWS credentials: %s", err);
	if (rc == 0)
		bb_signals_install();
	struct bb_sqs_error e;
	if (rc == 0 && bb_sqs_check_queue(c.sqs, c.queue_url, &e) != 0) /* before any input is read */
		rc = bb_fatal(BB_EX_CONFIG, "unable to use queue '%s': %s: %s", c.queue_url, e.type, e.message);
	if (rc == 0) {
		struct bb_loop loop = { .on_record = on_record, .on_idle = on_idle, .ctx = &c };
		rc = bb_records_run(STDIN_FILENO, stdout, &loop);
		if (rc == 0)
			rc = flush_batch(&c);
		if (fclose(stdout) != 0 && rc == 0) /* what stdio held until the end */
			rc = bb_fatal(BB_EX_IOERR, "unable to write standard output: %s", strerror(errno));
		char s[24], f[24];
		snprintf(s, sizeof s, "%zu", c.sent);
		snprintf(f, sizeof f, "%zu", c.failed);
		bb_log(BB_INFO, NULL, "summary", "sent", s, "failed", f, "queue", bb_sqs_queue_name(c.queue_url), NULL);
		if (rc == 0 && c.failed)
			rc = BB_EX_DATAERR;
	}
	for (int i = 0; i < c.n; i++)
		free(c.batch[i].line), free((char *)c.batch[i].body.p);
	bb_sqs_free(c.sqs);
	bb_json_free(c.doc);
	bb_conf_free(conf);
	return rc;
}
