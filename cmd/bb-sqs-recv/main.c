/* bb-sqs-recv: long-poll an SQS queue and write each message as a record
 * (DESIGN.md's envelope) on stdout, at once: nothing received is held back. */
#include "cli.h"
#include "conf.h"
#include "exitcode.h"
#include "ids.h"
#include "log.h"
#include "parse.h"
#include "record.h"
#include "sqs.h"
#include "timeutil.h"

#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define USAGE "usage: bb-sqs-recv --queue-url URL [--concurrency N] [--max-messages N] [--drain]\n" \
	      "                   [--wait-seconds S] [--visibility-timeout S]\n"

struct shared {
	const char *queue_url;
	int64_t max_messages, wait_s, visibility_s, concurrency;
	int drain;
	pthread_mutex_t lock; /* stdout and the counters */
	int64_t emitted, receives, empty, errors;
	int64_t oldest_sent;  /* the oldest SentTimestamp seen, for the lag */
	int64_t max_lag_ms;
	int done, status;
};

static void nap(int64_t ms)
{
	while (ms > 0 && !bb_stopping()) {
		int64_t step = ms > 200 ? 200 : ms; /* stay responsive to SIGTERM in every thread */
		struct timespec ts = { 0, step * 1000000 };
		nanosleep(&ts, NULL);
		ms -= step;
	}
}

static int64_t attr_ms(jv attrs, const char *key)
{
	jv v = jv_get_kind(attrs) == JV_KIND_OBJECT ? jv_object_get(jv_copy(attrs), jv_string(key)) : jv_invalid();
	int64_t r = jv_get_kind(v) == JV_KIND_STRING ? atoll(jv_string_value(v)) : -1;
	jv_free(v);
	return r;
}

static jv time_or_null(int64_t ms)
{
	char buf[40];
	if (ms < 0)
		return jv_null();
	bb_time_format(ms, buf, sizeof buf);
	return jv_string(buf);
}

/* The envelope, with members in DESIGN.md's order. */
static jv envelope(const struct shared *sh, jv m, int64_t now)
{
	char trace[37];
	jv attrs = jv_object_get(jv_copy(m), jv_string("Attributes"));
	jv s = jv_object();

	bb_uuid7(trace);
	s = jv_object_set(s, jv_string("queue_url"), jv_string(sh->queue_url));
	s = jv_object_set(s, jv_string("message_id"), jv_object_get(jv_copy(m), jv_string("MessageId")));
	s = jv_object_set(s, jv_string("receipt_handle"), jv_object_get(jv_copy(m), jv_string("ReceiptHandle")));
	s = jv_object_set(s, jv_string("receive_count"), jv_number((double)attr_ms(attrs, "ApproximateReceiveCount")));
	s = jv_object_set(s, jv_string("sent_at"), time_or_null(attr_ms(attrs, "SentTimestamp")));
	s = jv_object_set(s, jv_string("first_received_at"), time_or_null(attr_ms(attrs, "ApproximateFirstReceiveTimestamp")));
	jv ma = jv_object_get(jv_copy(m), jv_string("MessageAttributes"));
	if (jv_get_kind(ma) == JV_KIND_OBJECT) /* a dead-lettered copy's error_type and trace_id */
		s = jv_object_set(s, jv_string("message_attributes"), ma);
	else
		jv_free(ma);
	jv e = jv_object();
	e = jv_object_set(e, jv_string("trace_id"), jv_string(trace));
	e = jv_object_set(e, jv_string("sqs"), s);
	e = jv_object_set(e, jv_string("body"), jv_object_get(jv_copy(m), jv_string("Body")));
	e = jv_object_set(e, jv_string("received_at"), time_or_null(now));
	jv_free(attrs);
	return e;
}

static jv receive_request(const struct shared *sh, int64_t want)
{
	jv names = jv_array();
	names = jv_array_append(names, jv_string("ApproximateReceiveCount"));
	names = jv_array_append(names, jv_string("SentTimestamp"));
	names = jv_array_append(names, jv_string("ApproximateFirstReceiveTimestamp"));
	jv r = jv_object();
	r = jv_object_set(r, jv_string("QueueUrl"), jv_string(sh->queue_url));
	r = jv_object_set(r, jv_string("MaxNumberOfMessages"), jv_number((double)want));
	r = jv_object_set(r, jv_string("WaitTimeSeconds"), jv_number((double)sh->wait_s));
	r = jv_object_set(r, jv_string("VisibilityTimeout"), jv_number((double)sh->visibility_s));
	r = jv_object_set(r, jv_string("MessageSystemAttributeNames"), jv_copy(names));
	r = jv_object_set(r, jv_string("AttributeNames"), names); /* the older name, for older servers */
	r = jv_object_set(r, jv_string("MessageAttributeNames"), jv_array_append(jv_array(), jv_string("All")));
	return r;
}

/* Write the messages of one receive; returns how many. */
static int64_t emit(struct shared *sh, jv messages)
{
	int n = jv_get_kind(messages) == JV_KIND_ARRAY ? jv_array_length(jv_copy(messages)) : 0;
	int64_t now = bb_clock_ms(); /* the real moment of receipt, even under BB_NOW */

	pthread_mutex_lock(&sh->lock);
	for (int i = 0; i < n; i++) {
		jv m = jv_array_get(jv_copy(messages), i), attrs = jv_object_get(jv_copy(m), jv_string("Attributes"));
		int64_t sent = attr_ms(attrs, "SentTimestamp");
		jv e = envelope(sh, m, now);
		bb_jv_write(e, stdout);
		fputc('\n', stdout);
		if (sent >= 0 && now - sent > sh->max_lag_ms)
			sh->max_lag_ms = now - sent;
		if (sent >= 0 && (sh->oldest_sent < 0 || sent < sh->oldest_sent))
			sh->oldest_sent = sent;
		jv_free(e), jv_free(attrs), jv_free(m);
	}
	sh->emitted += n;
	if (fflush(stdout) != 0 && !sh->done) {
		sh->done = 1;
		sh->status = bb_fatal(BB_EX_IOERR, "unable to write standard output");
	}
	if (sh->max_messages > 0 && sh->emitted >= sh->max_messages)
		sh->done = 1;
	pthread_mutex_unlock(&sh->lock);
	return n;
}

static int64_t wanted(struct shared *sh)
{
	pthread_mutex_lock(&sh->lock);
	int64_t left = sh->max_messages > 0 ? sh->max_messages - sh->emitted : 10;
	pthread_mutex_unlock(&sh->lock);
	return left > 10 ? 10 : left;
}

static void *poller(void *arg)
{
	struct shared *sh = arg;
	char err[600];
	struct bb_sqs *sqs = bb_sqs_new(err, sizeof err);
	int64_t backoff = 100;

	if (!sqs) {
		pthread_mutex_lock(&sh->lock);
		if (!sh->done)
			sh->status = bb_fatal(BB_EX_CONFIG, "unable to use AWS credentials: %s", err);
		sh->done = 1;
		pthread_mutex_unlock(&sh->lock);
		return NULL;
	}
	while (!sh->done && !bb_stopping()) {
		int64_t want = wanted(sh);
		struct bb_sqs_error e;
		jv resp;
		if (want <= 0)
			break;
		if (bb_sqs_call(sqs, "ReceiveMessage", receive_request(sh, want), &resp, &e) != 0) {
			if (bb_stopping())
				break;
			pthread_mutex_lock(&sh->lock);
			sh->errors++;
			int fatal = !e.retryable;
			if (fatal && !sh->done)
				sh->status = bb_fatal(BB_EX_UNAVAILABLE, "unable to receive from '%s': %s: %s",
						      sh->queue_url, e.type, e.message);
			if (fatal)
				sh->done = 1;
			pthread_mutex_unlock(&sh->lock);
			if (fatal)
				break;
			bb_log(BB_WARN, NULL, "receive failed: retrying", "queue", bb_sqs_queue_name(sh->queue_url),
			       "error", e.type, "detail", e.message, NULL);
			nap(bb_jitter_ms(backoff));
			backoff = backoff * 2 > 51200 ? 51200 : backoff * 2; /* 0.1 s doubled nine times */
			continue;
		}
		jv messages = jv_object_get(jv_copy(resp), jv_string("Messages"));
		int64_t got = emit(sh, messages);
		jv_free(messages);
		jv_free(resp);
		pthread_mutex_lock(&sh->lock);
		sh->receives++;
		if (got == 0) {
			sh->empty++;
			if (sh->drain)
				sh->done = 1; /* the queue stayed empty for a whole long poll */
		}
		pthread_mutex_unlock(&sh->lock);
		if (got == 0 && backoff > 6400)
			backoff = 6400; /* the endpoint answers again: empty-queue pacing, not outage pacing */
		if (got == 0) {
			nap(bb_jitter_ms(backoff));
			backoff = backoff * 2 > 6400 ? 6400 : backoff * 2;
		} else {
			backoff = 100;
		}
	}
	bb_sqs_free(sqs);
	return NULL;
}

static int parse_options(int argc, char **argv, struct shared *sh)
{
	static const struct option opts[] = {
		{ "queue-url", required_argument, NULL, 'q' },
		{ "concurrency", required_argument, NULL, 'c' },
		{ "max-messages", required_argument, NULL, 'm' },
		{ "drain", no_argument, NULL, 'd' },
		{ "wait-seconds", required_argument, NULL, 'w' },
		{ "visibility-timeout", required_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		int64_t *dst = opt == 'c' ? &sh->concurrency : opt == 'm' ? &sh->max_messages :
			       opt == 'w' ? &sh->wait_s : opt == 'v' ? &sh->visibility_s : NULL;
		int64_t lo = opt == 'c' || opt == 'm' ? 1 : 0, hi = opt == 'c' ? 64 : opt == 'w' ? 20 :
				  opt == 'v' ? 43200 : INT64_MAX;
		if (opt == 'q')
			sh->queue_url = optarg;
		else if (opt == 'd')
			sh->drain = 1;
		else if (!dst) {
			fputs(USAGE, stderr);
			return BB_EX_USAGE;
		} else if (bb_parse_i64(optarg, lo, hi, dst) != 0) {
			bb_say("'%s': expected a whole number from %lld to %lld", optarg, (long long)lo, (long long)hi);
			return BB_EX_USAGE;
		}
	}
	if (optind < argc || !sh->queue_url) {
		bb_say(optind < argc ? "unexpected argument" : "a queue URL is needed: --queue-url, BB_SQS_QUEUE_URL or [sqs] queue_url");
		fputs(USAGE, stderr);
		return BB_EX_USAGE;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct shared sh = { .wait_s = 20, .visibility_s = 120, .concurrency = 1, .oldest_sent = -1,
			     .lock = PTHREAD_MUTEX_INITIALIZER };
	struct bb_conf *conf = NULL;
	pthread_t threads[64];
	char err[600];
	int rc;

	bb_log_init("bb-sqs-recv");
	if (bb_cli_early(argc, argv, USAGE, "bb-sqs-recv " BB_VERSION))
		return 0;
	if (bb_conf_load(&conf, err, sizeof err) != 0)
		return bb_fatal(BB_EX_CONFIG, "%s", err);
	sh.queue_url = bb_conf_get(conf, "sqs", "queue_url");
	if ((rc = parse_options(argc, argv, &sh)) != 0) {
		bb_conf_free(conf);
		return rc;
	}
	bb_signals_install();
	for (int i = 0; i < sh.concurrency; i++)
		pthread_create(&threads[i], NULL, poller, &sh);
	for (int i = 0; i < sh.concurrency; i++)
		pthread_join(threads[i], NULL);
	char em[24], rcv[24], lag[24], er[24];
	snprintf(em, sizeof em, "%lld", (long long)sh.emitted);
	snprintf(rcv, sizeof rcv, "%lld", (long long)sh.receives);
	snprintf(er, sizeof er, "%lld", (long long)sh.errors);
	snprintf(lag, sizeof lag, "%lld", (long long)sh.max_lag_ms);
	bb_log(BB_INFO, NULL, "summary", "emitted", em, "receives", rcv, "errors", er, "max_lag_ms", lag,
	       "queue", bb_sqs_queue_name(sh.queue_url), NULL);
	bb_conf_free(conf);
	return sh.status;
}
