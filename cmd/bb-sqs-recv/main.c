/* bb-sqs-recv: long-poll an SQS queue and write each message as a record
 * (DESIGN.md's envelope) on stdout, at once: nothing received is held back.
 * With --settled FIFO it also keeps what it emitted in sight until bb-ack
 * reports it settled: extending its visibility at half the timeout, and
 * receiving no more while --max-inflight messages are unsettled. A message it
 * received but will not emit (after SIGTERM, or past --max-messages) is made
 * visible again at once. */
#include "cli.h"
#include "conf.h"
#include "exitcode.h"
#include "ids.h"
#include "log.h"
#include "metrics.h"
#include "parse.h"
#include "record.h"
#include "recv.h"
#include "sqs.h"
#include "timeutil.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define USAGE "usage: bb-sqs-recv --queue-url URL [--concurrency N] [--max-messages N] [--drain]\n" \
	      "                   [--wait-seconds S] [--visibility-timeout S] [--settled FIFO]\n" \
	      "                   [--max-inflight N] [--metrics-file PATH]\n"
/* --help: the usage and a line for each option, as in the man page */
#define HELP USAGE "\n" \
	     "  --queue-url URL         the queue to read (required)\n" \
	     "  --concurrency N         pollers at once, 1 to 64 (default 1)\n" \
	     "  --max-messages N        stop after N records (default no limit)\n" \
	     "  --drain                 stop at the first receive that returns no message\n" \
	     "  --wait-seconds S        long poll of each request, 0 to 20 (default 20)\n" \
	     "  --visibility-timeout S  hide each message received S seconds (default 120)\n" \
	     "  --settled FIFO          read what bb-ack --settled reports settled\n" \
	     "  --max-inflight N        with --settled, most unsettled at once (default 1000)\n" \
	     "  --metrics-file PATH     write Prometheus metrics to PATH every 15 s\n" \
	     "  -h, --help              print this help and exit\n" \
	     "  -V, --version           print the version and exit\n"
#define PROGRESS_MS 60000
#define HANDLE_MAX 8192

/* A message emitted and not reported settled yet (--settled). */
struct held {
	uint64_t hash; /* of the receipt handle, to find it fast */
	struct bb_str handle; /* a copy, NUL-terminated for logs */
	int64_t extend_at; /* when its visibility is extended next (monotonic ms) */
};

struct shared {
	const char *queue_url;
	int64_t max_messages, wait_s, visibility_s, concurrency;
	int drain;
	const char *settled;  /* the FIFO bb-ack --settled writes, or NULL */
	const char *metrics;  /* --metrics-file, or NULL */
	int64_t max_inflight;
	pthread_mutex_t lock;     /* the counters and the held messages */
	pthread_mutex_t out_lock; /* stdout */
	int64_t emitted, receives, empty, errors, released, extended;
	int64_t max_lag_ms, lag_ms; /* now - SentTimestamp: over the run, over the last period */
	int64_t reserved;     /* room asked for by receives in progress (--max-inflight) */
	struct held *held;
	size_t nheld, capheld;
	int done, status;
	int receiving_over; /* the pollers have stopped */
	struct bb_outage *outage; /* every client's failed attempts, warned about as one */
};

static void nap(int64_t ms)
{
	while (ms > 0 && !bb_stopping()) {
		int64_t step = ms > 100 ? 100 : ms; /* stay responsive to SIGTERM in every thread */
		struct timespec ts = { 0, step * 1000000 };
		nanosleep(&ts, NULL);
		ms -= step;
	}
}

/* A copy of s, NUL-terminated too; p NULL when out of memory. */
static struct bb_str str_dup(struct bb_str s)
{
	char *p = malloc(s.n + 1);
	if (p) {
		memcpy(p, s.p, s.n);
		p[s.n] = '\0';
	}
	return (struct bb_str){ p, p ? s.n : 0 };
}

static uint64_t hash_of(struct bb_str s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (size_t i = 0; i < s.n; i++)
		h = (h ^ (unsigned char)s.p[i]) * 1099511628211ULL;
	return h;
}

/* Under the lock. */
static void hold(struct shared *sh, struct bb_str handle, int64_t now)
{
	if (sh->nheld == sh->capheld) {
		size_t cap = sh->capheld ? 2 * sh->capheld : 256;
		struct held *h = realloc(sh->held, cap * sizeof *h);
		if (!h)
			return; /* not watched: its visibility timeout still brings it back */
		sh->held = h;
		sh->capheld = cap;
	}
	struct bb_str copy = str_dup(handle);
	if (!copy.p)
		return;
	sh->held[sh->nheld++] = (struct held){ hash_of(handle), copy, now + sh->visibility_s * 500 };
}

/* Under the lock: the held message with this receipt handle, or NULL. */
static struct held *find_held(struct shared *sh, struct bb_str handle)
{
	uint64_t h = hash_of(handle);
	for (size_t i = 0; i < sh->nheld; i++)
		if (sh->held[i].hash == h && sh->held[i].handle.n == handle.n &&
		    memcmp(sh->held[i].handle.p, handle.p, handle.n) == 0)
			return &sh->held[i];
	return NULL;
}

/* Under the lock. */
static void unhold(struct shared *sh, struct bb_str handle)
{
	struct held *m = find_held(sh, handle);
	if (m) {
		free((char *)m->handle.p);
		*m = sh->held[--sh->nheld];
	}
}

/* ChangeMessageVisibilityBatch on handles, ten at a time; ok[i] says whether
 * SQS took handle i, gone[i] whether SQS refused it (deleted or expired). */
static void set_visibility(struct shared *sh, struct bb_sqs *sqs, const struct bb_str *handles, int n,
			   int64_t secs, int *ok, int *gone)
{
	struct bb_str queue = { sh->queue_url, strlen(sh->queue_url) };

	for (int i = 0; i < n; i += 10) {
		struct bb_sqs_entry e[10];
		struct bb_sqs_error err;
		int k = n - i < 10 ? n - i : 10;
		memset(e, 0, sizeof e);
		for (int j = 0; j < k; j++) {
			e[j].handle = handles[i + j];
			e[j].visibility = secs;
		}
		bb_sqs_batch(sqs, "ChangeMessageVisibilityBatch", queue, e, k, 3, &err);
		for (int j = 0; j < k; j++) {
			ok[i + j] = e[j].done;
			gone[i + j] = e[j].refused;
			if (!e[j].done) {
				char tag[32];
				bb_sqs_handle_tag(handles[i + j].p, tag, sizeof tag);
				bb_log(BB_WARN, NULL, secs ? "unable to extend visibility" : "unable to release message",
				       "receipt", tag, "error", e[j].error, NULL);
			}
		}
		bb_sqs_entries_free(e, k);
	}
}

/* Messages received that will not be emitted: visible again at once, for
 * another receive (of this or another consumer) to take. */
static void release(struct shared *sh, struct bb_sqs *sqs, const struct bb_str *handles, int n)
{
	int *ok = calloc((size_t)n + 1, sizeof *ok), *gone = calloc((size_t)n + 1, sizeof *gone);
	if (ok && gone) {
		set_visibility(sh, sqs, handles, n, 0, ok, gone);
		int done = 0;
		for (int i = 0; i < n; i++)
			done += ok[i];
		pthread_mutex_lock(&sh->lock);
		sh->released += done;
		pthread_mutex_unlock(&sh->lock);
	}
	free(ok);
	free(gone);
}

/* Write the messages of one receive; returns how many were written. What
 * to write is decided under the lock, and written under out_lock only, so a
 * blocked output never keeps the keeper from extending visibility. */
static int64_t emit(struct shared *sh, struct bb_sqs *sqs, const struct bb_sqs_received *r)
{
	int64_t now = bb_clock_ms(); /* the real moment of receipt, even under BB_NOW */
	int64_t mono = bb_mono_ms();
	struct bb_str *back = calloc(r->n + 1, sizeof *back);
	unsigned char *out = calloc(r->n + 1, 1); /* message i is written */
	int nback = 0, nout = 0;

	if (!back || !out) {
		free(back), free(out);
		return 0; /* not emitted: their visibility timeout brings them back */
	}
	pthread_mutex_lock(&sh->lock);
	for (size_t i = 0; i < r->n; i++) {
		const struct bb_sqs_message *m = &r->m[i];
		struct bb_str h = m->receipt_handle;
		int over = bb_stopping() || sh->done || (sh->max_messages > 0 && sh->emitted >= sh->max_messages);
		if (over && h.p) {
			if ((back[nback] = str_dup(h)).p)
				nback++;
		} else if (!over) {
			if (sh->settled && h.p)
				hold(sh, h, mono);
			out[i] = 1;
			nout++;
			sh->emitted++;
			bb_metrics_processed("received", 1);
			if (m->sent_at >= 0 && now - m->sent_at > sh->max_lag_ms)
				sh->max_lag_ms = now - m->sent_at;
			if (m->sent_at >= 0 && now - m->sent_at > sh->lag_ms)
				sh->lag_ms = now - m->sent_at;
		}
	}
	if (sh->max_messages > 0 && sh->emitted >= sh->max_messages)
		sh->done = 1;
	pthread_mutex_unlock(&sh->lock);

	struct bb_jw w;
	bb_jw_init(&w);
	pthread_mutex_lock(&sh->out_lock);
	for (size_t i = 0; i < r->n; i++) {
		if (!out[i])
			continue;
		bb_jw_reset(&w);
		recv_envelope(&w, sh->queue_url, &r->m[i], now);
		if (w.oom)
			continue; /* not written: its visibility timeout brings it back */
		fwrite(w.buf, 1, w.len, stdout);
		fputc('\n', stdout);
	}
	int broken = nout > 0 && fflush(stdout) != 0 ? (errno ? errno : EIO) : 0;
	pthread_mutex_unlock(&sh->out_lock);
	bb_jw_free(&w);
	if (broken) {
		pthread_mutex_lock(&sh->lock);
		if (!sh->status)
			sh->status = bb_fatal(BB_EX_IOERR, "unable to write standard output: %s", strerror(broken));
		sh->done = 1;
		pthread_mutex_unlock(&sh->lock);
	}
	if (nback > 0)
		release(sh, sqs, back, nback);
	for (int i = 0; i < nback; i++)
		free((char *)back[i].p);
	free(back);
	free(out);
	return nout;
}

/* How many messages to ask for: 0 when no more are wanted; -1 to wait while
 * --max-inflight messages are unsettled. The room asked for is reserved
 * until the receive has been emitted (unreserve), so that concurrent
 * receives never ask for more than the room there is. */
static int64_t wanted(struct shared *sh)
{
	pthread_mutex_lock(&sh->lock);
	int64_t left = sh->max_messages > 0 ? sh->max_messages - sh->emitted : 10;
	if (left > 10)
		left = 10;
	if (left > 0 && sh->settled) {
		int64_t room = sh->max_inflight - (int64_t)sh->nheld - sh->reserved;
		left = room <= 0 ? -1 : room < left ? room : left;
		if (left > 0)
			sh->reserved += left;
	}
	pthread_mutex_unlock(&sh->lock);
	return left;
}

static void unreserve(struct shared *sh, int64_t n)
{
	if (!sh->settled)
		return;
	pthread_mutex_lock(&sh->lock);
	sh->reserved -= n;
	pthread_mutex_unlock(&sh->lock);
}

static void *poller(void *arg)
{
	struct shared *sh = arg;
	char err[600];
	struct bb_sqs *sqs = bb_sqs_new(err, sizeof err);
	struct bb_sqs_received got = { 0 };
	int64_t backoff = 100;

	if (!sqs) {
		pthread_mutex_lock(&sh->lock);
		if (!sh->done)
			sh->status = bb_fatal(BB_EX_CONFIG, "unable to use AWS credentials: %s", err);
		sh->done = 1;
		pthread_mutex_unlock(&sh->lock);
		return NULL;
	}
	bb_sqs_report_to(sqs, sh->outage);
	while (!sh->done && !bb_stopping()) {
		int64_t want = wanted(sh);
		struct bb_sqs_error e;
		if (want < 0) { /* --max-inflight reached: wait for bb-ack */
			nap(50);
			continue;
		}
		if (want == 0)
			break;
		if (bb_sqs_receive(sqs, sh->queue_url, (int)want, sh->wait_s, sh->visibility_s, &got, &e) != 0) {
			unreserve(sh, want);
			if (bb_stopping())
				break;
			pthread_mutex_lock(&sh->lock);
			sh->errors++;
			int fatal = !e.retryable;
			if (fatal && !sh->done) /* a queue deleted while it ran is no outage */
				sh->status = bb_fatal(bb_sqs_no_such_queue(&e) ? BB_EX_CONFIG : BB_EX_UNAVAILABLE,
						      "unable to receive from '%s': %s: %s", sh->queue_url, e.type, e.message);
			if (fatal)
				sh->done = 1;
			pthread_mutex_unlock(&sh->lock);
			if (fatal)
				break;
			/* the client warned of the failed attempts (outage.h) */
			nap(bb_jitter_ms(backoff));
			backoff = backoff * 2 > 51200 ? 51200 : backoff * 2; /* 0.1 s doubled nine times */
			continue;
		}
		int64_t emitted = emit(sh, sqs, &got);
		unreserve(sh, want); /* what came is held now */
		pthread_mutex_lock(&sh->lock);
		sh->receives++;
		if (emitted == 0) {
			sh->empty++;
			if (sh->drain)
				sh->done = 1; /* the queue stayed empty for a whole long poll */
		}
		pthread_mutex_unlock(&sh->lock);
		if (emitted == 0 && backoff > 6400)
			backoff = 6400; /* the endpoint answers again: empty-queue pacing, not outage pacing */
		if (emitted == 0) {
			nap(bb_jitter_ms(backoff));
			backoff = backoff * 2 > 6400 ? 6400 : backoff * 2;
		} else {
			backoff = 100;
		}
	}
	bb_sqs_received_free(&got);
	bb_sqs_free(sqs);
	return NULL;
}

/* ---- the keeper: settled reports, visibility extensions, progress ---- */

struct keeper {
	struct shared *sh;
	int fd; /* the FIFO's read end, or -1 */
	char buf[HANDLE_MAX + 1];
	size_t len;
	int eof;   /* no writer has the FIFO open now */
	int heard; /* bb-ack has said it is there (an empty line) */
};

static void settled_lines(struct keeper *k)
{
	for (;;) {
		ssize_t r = read(k->fd, k->buf + k->len, sizeof k->buf - 1 - k->len);
		if (r == 0) {
			k->eof = 1; /* no writer: bb-ack has finished, or not begun */
			return;
		}
		if (r < 0)
			return; /* EAGAIN: nothing more now */
		k->eof = 0;
		k->len += (size_t)r;
		char *p = k->buf, *nl;
		pthread_mutex_lock(&k->sh->lock);
		while ((nl = memchr(p, '\n', k->len - (size_t)(p - k->buf)))) {
			if (nl > p)
				unhold(k->sh, (struct bb_str){ p, (size_t)(nl - p) });
			else
				k->heard = 1;
			p = nl + 1;
		}
		pthread_mutex_unlock(&k->sh->lock);
		k->len -= (size_t)(p - k->buf);
		memmove(k->buf, p, k->len);
		if (k->len == sizeof k->buf - 1)
			k->len = 0; /* a line longer than any receipt handle: not one */
	}
}

/* Extend the visibility of every held message at half its timeout. */
static void extend_due(struct shared *sh, struct bb_sqs *sqs)
{
	int64_t now = bb_mono_ms();
	struct bb_str *due;
	int n = 0;

	pthread_mutex_lock(&sh->lock);
	due = sh->nheld ? malloc(sh->nheld * sizeof *due) : NULL;
	for (size_t i = 0; due && i < sh->nheld; i++)
		if (sh->held[i].extend_at <= now && (due[n] = str_dup(sh->held[i].handle)).p) {
			n++;
			sh->held[i].extend_at = now + sh->visibility_s * 500;
		}
	pthread_mutex_unlock(&sh->lock);
	if (n == 0) {
		free(due);
		return;
	}
	int *ok = calloc((size_t)n, sizeof *ok), *gone = calloc((size_t)n, sizeof *gone);
	if (ok && gone) {
		struct held *m;
		set_visibility(sh, sqs, due, n, sh->visibility_s, ok, gone);
		pthread_mutex_lock(&sh->lock);
		for (int i = 0; i < n; i++) {
			sh->extended += ok[i];
			if (gone[i]) /* deleted meanwhile, or its receipt expired: nothing to watch */
				unhold(sh, due[i]);
			else if (!ok[i] && (m = find_held(sh, due[i]))) /* try again soon */
				m->extend_at = now + 1000;
		}
		pthread_mutex_unlock(&sh->lock);
	}
	for (int i = 0; i < n; i++)
		free((char *)due[i].p);
	free(due), free(ok), free(gone);
}

static void progress(struct shared *sh)
{
	char em[24], held[24], lag[24];
	pthread_mutex_lock(&sh->lock);
	snprintf(em, sizeof em, "%lld", (long long)sh->emitted);
	snprintf(held, sizeof held, "%zu", sh->nheld);
	snprintf(lag, sizeof lag, "%lld", (long long)sh->lag_ms);
	sh->lag_ms = 0;
	pthread_mutex_unlock(&sh->lock);
	bb_log(BB_INFO, NULL, "progress", "emitted", em, "inflight", sh->settled ? held : "-", "lag_ms", lag,
	       "queue", bb_sqs_queue_name(sh->queue_url), NULL);
}

/* The stage after this one has died (our stdout reads as broken), or bb-ack
 * has said it was there and then closed the FIFO: nothing received now
 * could be settled. Stop receiving, as a write to the broken pipe would. */
static void downstream_gone(struct keeper *k)
{
	struct shared *sh = k->sh;
	struct pollfd p = { .fd = STDOUT_FILENO, .events = 0 };
	const char *why = NULL;
	int status = 0;

	if (k->eof && k->heard)
		why = "bb-ack has closed the FIFO";
	else if (poll(&p, 1, 0) > 0 && (p.revents & (POLLERR | POLLHUP)))
		why = "the next stage has closed its input", status = BB_EX_IOERR;
	pthread_mutex_lock(&sh->lock);
	if (why && !sh->done && !sh->receiving_over) {
		sh->done = 1;
		if (!sh->status)
			sh->status = status;
		pthread_mutex_unlock(&sh->lock);
		bb_log(BB_WARN, NULL, "stopping: nothing received could be settled", "why", why, NULL);
		return;
	}
	pthread_mutex_unlock(&sh->lock);
}

/* Runs until the pollers stop and, with --settled, until every held message
 * is settled or bb-ack has gone (or, when bb-ack never said it was there, 10 s
 * after the pollers stopped); on SIGTERM at once. */
static void *keeper(void *arg)
{
	struct keeper *k = arg;
	struct shared *sh = k->sh;
	char err[600];
	struct bb_sqs *sqs = sh->settled ? bb_sqs_new(err, sizeof err) : NULL;
	int64_t next_progress = bb_mono_ms() + PROGRESS_MS, over_since = -1;

	if (sqs)
		bb_sqs_report_to(sqs, sh->outage);

	while (!bb_stopping()) {
		struct pollfd p = { .fd = k->fd, .events = POLLIN };
		if (k->fd >= 0 && poll(&p, 1, 200) > 0)
			settled_lines(k);
		if (k->fd < 0 || k->eof)
			nap(200); /* without a writer the FIFO polls as ready at once */
		if (sqs && sh->visibility_s > 0)
			extend_due(sh, sqs);
		downstream_gone(k);
		if (bb_mono_ms() >= next_progress) {
			progress(sh);
			next_progress += PROGRESS_MS;
		}
		pthread_mutex_lock(&sh->lock);
		int receiving = !sh->receiving_over;
		size_t held = sh->nheld;
		pthread_mutex_unlock(&sh->lock);
		if (receiving)
			continue;
		if (over_since < 0)
			over_since = bb_mono_ms();
		if (k->fd < 0 || held == 0 || (k->eof && (k->heard || bb_mono_ms() - over_since > 10000)))
			break;
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
		{ "settled", required_argument, NULL, 's' },
		{ "max-inflight", required_argument, NULL, 'i' },
		{ "metrics-file", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	int opt, idx = 0;

	while ((opt = getopt_long(argc, argv, "", opts, &idx)) != -1) {
		int64_t *dst = opt == 'c' ? &sh->concurrency : opt == 'm' ? &sh->max_messages :
			       opt == 'w' ? &sh->wait_s : opt == 'v' ? &sh->visibility_s :
			       opt == 'i' ? &sh->max_inflight : NULL;
		int64_t lo = opt == 'c' || opt == 'm' || opt == 'i' ? 1 : 0, hi = opt == 'c' ? 64 : opt == 'w' ? 20 :
				  opt == 'v' ? 43200 : opt == 'i' ? 120000 : INT64_MAX;
		if (opt == 'q')
			sh->queue_url = optarg;
		else if (opt == 's')
			sh->settled = optarg;
		else if (opt == 'P')
			sh->metrics = optarg;
		else if (opt == 'd')
			sh->drain = 1;
		else if (!dst) {
			fputs(USAGE, stderr);
			return BB_EX_USAGE;
		} else if (bb_parse_i64(optarg, lo, hi, dst) != 0) {
			bb_say("--%s '%s': expected a whole number from %lld to %lld", opts[idx].name, optarg, (long long)lo,
			       (long long)hi);
			return BB_EX_USAGE;
		}
	}
	if (optind < argc || !sh->queue_url) {
		if (optind < argc)
			bb_say("unexpected argument '%s'", argv[optind]);
		else
			bb_say("a queue URL is needed: --queue-url, BB_SQS_QUEUE_URL or [sqs] queue_url");
		fputs(USAGE, stderr);
		return BB_EX_USAGE;
	}
	return 0;
}

/* The FIFO of --settled: the read end, and a writer of our own so that the
 * FIFO reads as empty, not ended, until bb-ack opens it; ours closes once
 * the pollers stop, and then the end is bb-ack's own exit. */
static int open_settled(const char *path, int *fd, int *writer)
{
	struct stat st;

	*fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (*fd >= 0)
		*writer = open(path, O_WRONLY | O_CLOEXEC);
	if (*fd >= 0 && *writer >= 0 && fstat(*fd, &st) == 0 && S_ISFIFO(st.st_mode))
		return 0;
	int rc = bb_fatal(BB_EX_CONFIG, "unable to open '%s' as a FIFO for --settled: %s", path,
			  *fd < 0 || *writer < 0 ? strerror(errno) : "not a FIFO (make one with mkfifo)");
	if (*fd >= 0)
		close(*fd);
	if (*writer >= 0)
		close(*writer);
	*fd = *writer = -1;
	return rc;
}

/* The credentials, and a queue that does not exist, are configuration
 * errors found before anything is received; *sqs is the client whose
 * outage every poller reports to. */
static int connect_queue(struct shared *sh, struct bb_sqs **sqs)
{
	struct bb_sqs_error e;
	char err[600];

	if (!(*sqs = bb_sqs_new(err, sizeof err)))
		return bb_fatal(BB_EX_CONFIG, "unable to use AWS credentials: %s", err);
	sh->outage = bb_sqs_outage(*sqs);
	if (bb_sqs_check_queue(*sqs, sh->queue_url, &e) != 0)
		return bb_fatal(BB_EX_CONFIG, "unable to use queue '%s': %s: %s", sh->queue_url, e.type, e.message);
	return 0;
}

int main(int argc, char **argv)
{
	struct shared sh = { .wait_s = 20, .visibility_s = 120, .concurrency = 1, .max_inflight = 1000,
			     .lock = PTHREAD_MUTEX_INITIALIZER, .out_lock = PTHREAD_MUTEX_INITIALIZER };
	static struct keeper k = { .fd = -1 };
	pthread_t keeper_thread;
	int writer = -1;
	struct bb_conf *conf = NULL;
	struct bb_sqs *sqs = NULL;
	pthread_t threads[64];
	char err[600];
	int rc;

	bb_log_init("bb-sqs-recv");
	if (bb_cli_early(argc, argv, HELP, "bb-sqs-recv " BB_VERSION))
		return 0;
	if (bb_conf_load(&conf, err, sizeof err) != 0)
		return bb_fatal(BB_EX_CONFIG, "%s", err);
	sh.queue_url = bb_conf_get(conf, "sqs", "queue_url");
	if ((rc = parse_options(argc, argv, &sh)) != 0 ||
	    (sh.settled && (rc = open_settled(sh.settled, &k.fd, &writer)) != 0)) {
		bb_conf_free(conf);
		return rc;
	}
	bb_signals_install();
	if ((rc = connect_queue(&sh, &sqs)) == 0 && sh.metrics &&
	    (rc = bb_metrics_start(sh.metrics, "recv", NULL, 0, err, sizeof err)) != 0)
		bb_fatal(rc, "%s", err);
	if (rc != 0 || bb_stopping()) {
		if (k.fd >= 0)
			close(k.fd), close(writer);
		bb_sqs_free(sqs);
		bb_conf_free(conf);
		return rc;
	}
	k.sh = &sh;
	pthread_create(&keeper_thread, NULL, keeper, &k);
	for (int i = 0; i < sh.concurrency; i++)
		pthread_create(&threads[i], NULL, poller, &sh);
	for (int i = 0; i < sh.concurrency; i++)
		pthread_join(threads[i], NULL);
	/* the end of the stream for the stages after this one */
	if (fclose(stdout) != 0 && sh.status == 0 && !bb_stopping())
		sh.status = bb_fatal(BB_EX_IOERR, "unable to write standard output: %s", strerror(errno));
	if (writer >= 0)
		close(writer);
	pthread_mutex_lock(&sh.lock);
	sh.receiving_over = 1;
	pthread_mutex_unlock(&sh.lock);
	pthread_join(keeper_thread, NULL);
	if (k.fd >= 0)
		close(k.fd);
	char em[24], rcv[24], lag[24], er[24], rel[24], ext[24], held[24];
	snprintf(em, sizeof em, "%lld", (long long)sh.emitted);
	snprintf(rcv, sizeof rcv, "%lld", (long long)sh.receives);
	snprintf(er, sizeof er, "%lld", (long long)sh.errors);
	snprintf(lag, sizeof lag, "%lld", (long long)sh.max_lag_ms);
	snprintf(rel, sizeof rel, "%lld", (long long)sh.released);
	snprintf(ext, sizeof ext, "%lld", (long long)sh.extended);
	snprintf(held, sizeof held, "%zu", sh.nheld);
	bb_log(BB_INFO, NULL, "summary", "emitted", em, "receives", rcv, "errors", er, "max_lag_ms", lag,
	       "released", rel, "extended", ext, "unsettled", sh.settled ? held : "-",
	       "queue", bb_sqs_queue_name(sh.queue_url), NULL);
	for (size_t i = 0; i < sh.nheld; i++)
		free((char *)sh.held[i].handle.p);
	free(sh.held);
	if (bb_metrics_stop(err, sizeof err) != 0)
		bb_log(BB_WARN, NULL, err, NULL);
	bb_sqs_free(sqs); /* after the threads: its outage is theirs too */
	bb_conf_free(conf);
	return sh.status;
}
