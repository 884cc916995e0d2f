/* feed.c: the events table as a Server-Sent Events stream.
 *
 * One thread reads the events committed since it last looked (woken by
 * NOTIFY bb_events on PostgreSQL, polling every poll_ms on SQLite) into a
 * ring shared by every client. A client starts from Last-Event-ID or
 * ?since=, reading what the ring no longer holds from the database, then
 * follows the ring; one that falls FEED_RING events behind is dropped and
 * comes back with its last id.
 *
 * A client's stream is read by libmicrohttpd's polling threads. When it has
 * sent all there is, it suspends its connection and waits in the feed's
 * list; the feed resumes every waiting client when it pushes events, and
 * one alone when its heartbeat is due. Both happen under the feed's lock,
 * so no event slips between a client's last look and its suspension.
 *
 * PostgreSQL hands out event ids before commit, so a later id can commit
 * first. The feed never passes a missing id until it has waited
 * gap_wait_ms for it (a transaction that rolled back leaves one for good),
 * so a client resuming from an id never misses an earlier one. That holds
 * across a restart too: the feed starts before the first id missing among
 * the newest START_WINDOW, which a transaction in flight may yet commit,
 * and a client skips what it has already considered. */
#include "serve.h"
#include "json.h"
#include "log.h"
#include "parse.h"
#include "timeutil.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LIVE_SQL "SELECT id, kind, asin, marketplace, payload, created_at FROM events WHERE id > $1 ORDER BY id LIMIT 1000"
#define RANGE_SQL "SELECT id, kind, asin, marketplace, payload, created_at FROM events " \
	"WHERE id > $1 AND id <= $2 ORDER BY id LIMIT 200"
#define LAST_SQL "SELECT COALESCE(max(id), 0) FROM events"
#define START_WINDOW 1000
/* the id before the first one missing in (max - START_WINDOW, max], if any */
#define HOLE_SQL "SELECT prev FROM (SELECT id, lag(id) OVER (ORDER BY id) AS prev FROM events " \
	"WHERE id > $1) s WHERE id <> prev + 1 ORDER BY id LIMIT 1"
#define FILL_BYTES 65536 /* what one refill of a client's buffer may add */
#define MAX_ASINS 16

/* ---- events ---- */

/* The severity an event's payload names: its severity, else its fingerprint's last part. */
static int payload_severity(struct bb_jval root)
{
	const char *s;
	size_t n;
	char up[16];

	if (bb_json_string(bb_json_getz(root, "severity"), &s, &n) != 0) {
		if (bb_json_string(bb_json_getz(root, "fingerprint"), &s, &n) != 0)
			return -1;
		const char *bar = memrchr(s, '|', n);
		if (bar)
			n -= (size_t)(bar + 1 - s), s = bar + 1;
	}
	if (n >= sizeof up)
		return -1;
	for (size_t i = 0; i < n; i++)
		up[i] = (char)toupper((unsigned char)s[i]);
	return bb_severity_of(up, n);
}

/* events row i as the data line's JSON (no line breaks) into w. */
static void event_json(struct bb_jw *w, struct bb_jdoc *jd, struct bb_rows *rows, int i, int64_t id,
		       int64_t created, int *sev)
{
	struct bb_str payload = bb_db_text(rows, i, 4);
	struct bb_jval root;
	struct bb_jerr err;

	bb_jw_obj(w);
	bb_jw_kint(w, "id", id);
	bb_jw_kview(w, "kind", bb_db_text(rows, i, 1));
	bb_jw_kview(w, "asin", bb_db_text(rows, i, 2));
	bb_jw_kview(w, "marketplace", bb_db_text(rows, i, 3));
	bb_jw_ktime(w, "created_at", created);
	bb_jw_key(w, "payload");
	*sev = -1;
	if (payload.p && bb_json_parse(jd, payload.p, payload.n, &root, &err) == 0) {
		*sev = payload_severity(root);
		bb_jw_raw(w, payload.p, payload.n);
	} else {
		bb_jw_str(w, payload.p ? payload.p : "", payload.n);
	}
	bb_jw_end(w, '}');
	/* JSON text has raw line breaks only between tokens: spaces keep it one line */
	for (size_t k = 0; k < w->len; k++)
		if (w->buf[k] == '\n' || w->buf[k] == '\r')
			w->buf[k] = ' ';
}

/* The event name: the kind, kept to letters, digits and '_'. */
static void event_name(struct bb_str kind, char *buf, size_t size)
{
	size_t n = 0;
	for (size_t i = 0; kind.p && i < kind.n && n + 1 < size; i++)
		buf[n++] = isalnum((unsigned char)kind.p[i]) ? kind.p[i] : '_';
	buf[n] = '\0';
	if (!n)
		snprintf(buf, size, "message");
}

static int64_t row_time(struct bb_rows *rows, int i, int col)
{
	struct bb_str t = bb_db_text(rows, i, col);
	int64_t ms;
	return t.p && bb_time_parse_loose(t.p, t.n, &ms) == 0 ? ms : -1;
}

/* Row i of an events query as an event; 0, or -1 out of memory. */
static int event_build(struct bb_jdoc *jd, struct bb_rows *rows, int i, int64_t prev, struct sse_event *e)
{
	struct bb_jw w = { 0 };
	struct bb_str asin = bb_db_text(rows, i, 2);
	char name[32], head[96];

	memset(e, 0, sizeof *e);
	if (bb_parse_i64(bb_db_value(rows, i, 0), 0, INT64_MAX, &e->id) != 0)
		return -1;
	e->prev = prev;
	e->created = row_time(rows, i, 5);
	event_name(bb_db_text(rows, i, 1), name, sizeof name);
	event_json(&w, jd, rows, i, e->id, e->created, &e->severity);
	int hn = snprintf(head, sizeof head, "id: %lld\nevent: %s\ndata: ", (long long)e->id, name);
	e->frame = malloc((size_t)hn + w.len + 2);
	e->asin = malloc(asin.n + 1);
	if (w.oom || !e->frame || !e->asin) {
		bb_jw_free(&w);
		free(e->frame), free(e->asin);
		return -1;
	}
	memcpy(e->frame, head, (size_t)hn);
	memcpy(e->frame + hn, w.buf, w.len);
	memcpy(e->frame + hn + w.len, "\n\n", 2);
	e->frame_n = (size_t)hn + w.len + 2;
	memcpy(e->asin, asin.p ? asin.p : "", asin.n);
	e->asin_n = asin.n;
	bb_jw_free(&w);
	return 0;
}

static void event_free(struct sse_event *e)
{
	free(e->frame);
	free(e->asin);
	memset(e, 0, sizeof *e);
}

/* ---- the clients waiting (f->mu held) ---- */

struct client {
	struct req *r;
	struct serve *s;
	int64_t cursor;  /* every event up to this id has been considered */
	uint64_t seq;    /* live: the next ring entry */
	int live, ending;
	unsigned sevmask; /* 0: every severity */
	struct bb_str asins[MAX_ASINS];
	int nasins;
	char *asin_arg;
	char *out;
	size_t out_n, out_off, out_cap;
	int64_t last_write; /* bb_mono_ms */
	struct bb_jdoc *jd; /* catching up from the database */
	struct client *prev, *next; /* in f->waiting while its connection is suspended */
	int waiting;
};

static void wait_add(struct feed *f, struct client *c)
{
	int64_t due = c->last_write + c->s->heartbeat_ms;

	c->prev = NULL, c->next = f->waiting;
	if (f->waiting)
		f->waiting->prev = c;
	f->waiting = c;
	c->waiting = 1;
	if (!c->next || due < f->next_due)
		f->next_due = due;
	MHD_suspend_connection(c->r->conn);
}

static void wait_remove(struct feed *f, struct client *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		f->waiting = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	c->waiting = 0;
}

/* Resume the waiting clients: every one (all), or those whose heartbeat is
 * due by now. */
static void wake(struct feed *f, int all, int64_t now)
{
	struct client *c = f->waiting, *next;

	if (!all && (!c || now < f->next_due))
		return;
	f->next_due = INT64_MAX;
	for (; c; c = next) {
		int64_t due = c->last_write + c->s->heartbeat_ms;
		next = c->next;
		if (all || due <= now) {
			wait_remove(f, c);
			MHD_resume_connection(c->r->conn);
		} else if (due < f->next_due) {
			f->next_due = due;
		}
	}
}

/* ---- the feed thread ---- */

/* Put n events into the ring and wake the clients once for all of them. */
static void feed_push(struct feed *f, struct sse_event *e, int n)
{
	if (n == 0)
		return;
	pthread_mutex_lock(&f->mu);
	for (int i = 0; i < n; i++) {
		struct sse_event *slot = &f->ring[f->head % FEED_RING];
		event_free(slot);
		*slot = e[i];
		f->head++;
		f->cursor = e[i].id;
	}
	wake(f, 1, 0);
	pthread_mutex_unlock(&f->mu);
}

/* Resume the clients whose heartbeat is due. */
static void feed_beat(struct feed *f)
{
	int64_t now = bb_mono_ms();

	pthread_mutex_lock(&f->mu);
	wake(f, 0, now);
	pthread_mutex_unlock(&f->mu);
}

/* Read what was committed after the cursor into the ring. *gap_since: when
 * the feed began to wait for a missing id, or -1. */
static int feed_poll(struct feed *f, struct bb_jdoc *jd, int64_t *gap_since)
{
	char cur[24];
	const char *p[1] = { cur };
	struct bb_rows *rows = NULL;
	int64_t last = f->cursor; /* only this thread moves it */
	struct sse_event *batch = NULL;
	int n = 0;

	snprintf(cur, sizeof cur, "%lld", (long long)last);
	int rc = bb_db_exec(f->db, LIVE_SQL, 1, p, &rows);
	if (rc == BB_DB_OK && bb_db_nrows(rows) && !(batch = calloc((size_t)bb_db_nrows(rows), sizeof *batch)))
		rc = BB_DB_ERR;
	for (int i = 0; rc == BB_DB_OK && i < bb_db_nrows(rows); i++) {
		struct sse_event *e = &batch[n];
		if (event_build(jd, rows, i, last, e) != 0) {
			rc = BB_DB_ERR;
			break;
		}
		if (e->id != last + 1) {
			int64_t now = bb_mono_ms();
			if (*gap_since < 0)
				*gap_since = now;
			if (now - *gap_since < f->gap_wait_ms) {
				event_free(e);
				break;
			}
		}
		*gap_since = -1;
		last = e->id;
		n++;
	}
	feed_push(f, batch, n);
	free(batch);
	bb_db_rows_free(rows);
	return rc;
}

static int feed_stopping(struct feed *f)
{
	pthread_mutex_lock(&f->mu);
	int stop = f->stop;
	pthread_mutex_unlock(&f->mu);
	return stop;
}

/* After an error: say so (at once, then at most every 30 s while it goes
 * on), wait a second (or until told to stop), then reconnect. */
static void feed_recover(struct feed *f)
{
	bb_outage_failed(&f->outage, bb_mono_ms(), bb_db_errmsg(f->db), "the live stream waits");
	for (int i = 0; i < 10 && !feed_stopping(f); i++)
		nanosleep(&(struct timespec){ 0, 100000000L }, NULL);
	bb_db_reconnect(f->db); /* LISTEN again at the next wait */
}

static void *feed_run(void *arg)
{
	struct feed *f = arg;
	struct bb_jdoc *jd = bb_json_new();
	int64_t gap_since = -1;
	int pg = bb_db_is_pg(f->db);

	while (jd && !feed_stopping(f)) {
		if (feed_poll(f, jd, &gap_since) != BB_DB_OK) {
			feed_recover(f);
			continue;
		}
		bb_outage_over(&f->outage, bb_mono_ms()); /* says so only after an outage */
		feed_beat(f);
		/* PostgreSQL wakes us; the timeout bounds how long a stop or a gap waits */
		if (bb_db_wait_change(f->db, "bb_events", pg ? (gap_since >= 0 ? 20 : 250) : (int)f->poll_ms) < 0)
			feed_recover(f);
	}
	bb_json_free(jd);
	return NULL;
}

int feed_start(struct serve *s, char *err, size_t errlen)
{
	struct feed *f = &s->feed;
	struct bb_rows *rows = NULL;

	pthread_mutex_init(&f->mu, NULL);
	int rc = bb_db_open(s->url, &f->db, err, errlen);
	bb_outage_init(&f->outage, "database", "db", rc == BB_DB_OK ? bb_db_name(f->db) : "");
	if (rc == BB_DB_OK && (rc = bb_db_wait_change(f->db, "bb_events", 0)) > 0)
		rc = BB_DB_OK; /* LISTEN sent, where things stand noted */
	if (rc == BB_DB_OK)
		rc = bb_db_exec(f->db, LAST_SQL, 0, NULL, &rows);
	if (rc != BB_DB_OK) {
		if (!err[0])
			snprintf(err, errlen, "%s", bb_db_errmsg(f->db));
		return rc;
	}
	f->newest = f->cursor = atoll(bb_db_value(rows, 0, 0) ? bb_db_value(rows, 0, 0) : "0");
	bb_db_rows_free(rows);
	rows = NULL;
	f->gap_wait_ms = bb_db_is_pg(f->db) ? f->gap_wait_ms : 0; /* SQLite commits in id order */
	if (f->gap_wait_ms) {
		char from[24];
		const char *p[1] = { from };
		snprintf(from, sizeof from, "%lld", (long long)(f->cursor > START_WINDOW ? f->cursor - START_WINDOW : 0));
		if ((rc = bb_db_exec(f->db, HOLE_SQL, 1, p, &rows)) != BB_DB_OK) {
			snprintf(err, errlen, "%s", bb_db_errmsg(f->db));
			return rc;
		}
		if (bb_db_nrows(rows))
			f->cursor = atoll(bb_db_value(rows, 0, 0));
		bb_db_rows_free(rows);
	}
	if ((errno = pthread_create(&f->thread, NULL, feed_run, f)) != 0) {
		snprintf(err, errlen, "unable to start the feed: %s", strerror(errno));
		return BB_DB_ERR;
	}
	f->running = 1;
	return BB_DB_OK;
}

/* Tell every stream to end, and the feed to stop. No stream is suspended
 * after this: the waiting ones are resumed, and none suspends once it sees
 * stop (under the same lock). */
void feed_stop(struct feed *f)
{
	pthread_mutex_lock(&f->mu);
	f->stop = 1;
	wake(f, 1, 0);
	pthread_mutex_unlock(&f->mu);
}

void feed_join(struct feed *f)
{
	if (f->running)
		pthread_join(f->thread, NULL);
	for (int i = 0; i < FEED_RING; i++)
		event_free(&f->ring[i]);
	bb_db_close(f->db);
	bb_outage_destroy(&f->outage);
}

/* ---- a client ---- */

static int client_wants(const struct client *c, int severity, const char *asin, size_t n)
{
	if (c->sevmask && (severity < 0 || !(c->sevmask & (1u << severity))))
		return 0;
	if (!c->nasins)
		return 1;
	for (int i = 0; i < c->nasins; i++)
		if (c->asins[i].n == n && memcmp(c->asins[i].p, asin, n) == 0)
			return 1;
	return 0;
}

static int client_append(struct client *c, const char *s, size_t n)
{
	if (c->out_n + n > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 4096;
		while (cap < c->out_n + n)
			cap *= 2;
		char *p = realloc(c->out, cap);
		if (!p)
			return -1;
		c->out = p, c->out_cap = cap;
	}
	memcpy(c->out + c->out_n, s, n);
	c->out_n += n;
	return 0;
}

/* The first ring entry after the client's cursor (f->mu held), or
 * UINT64_MAX when the ring no longer holds every event after it. */
static uint64_t ring_find(const struct feed *f, int64_t cursor)
{
	uint64_t lo = f->head > FEED_RING ? f->head - FEED_RING : 0, hi = f->head;

	if (lo == hi)
		return cursor >= f->cursor ? hi : UINT64_MAX;
	if (cursor < f->ring[lo % FEED_RING].prev)
		return UINT64_MAX;
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		if (f->ring[mid % FEED_RING].id <= cursor)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Events after the cursor up to upto from the database: 0, or -1. */
static int client_catch_up(struct client *c, int64_t upto)
{
	char a[24], b[24];
	const char *p[2] = { a, b };
	struct serve_db *held;
	struct bb_rows *rows = NULL;
	struct bb_db *db = serve_db_get(c->s, &held);
	int rc = db ? BB_DB_OK : BB_DB_RETRY;

	if (!c->jd && !(c->jd = bb_json_new()))
		rc = BB_DB_ERR;
	snprintf(a, sizeof a, "%lld", (long long)c->cursor);
	snprintf(b, sizeof b, "%lld", (long long)upto);
	if (rc == BB_DB_OK)
		rc = bb_db_exec(db, RANGE_SQL, 2, p, &rows);
	serve_db_put(held, rc);
	int n = rc == BB_DB_OK ? bb_db_nrows(rows) : 0;
	for (int i = 0; rc == BB_DB_OK && i < n; i++) {
		struct sse_event e;
		if (event_build(c->jd, rows, i, c->cursor, &e) != 0) {
			rc = BB_DB_ERR;
			break;
		}
		if (client_wants(c, e.severity, e.asin, e.asin_n) && client_append(c, e.frame, e.frame_n) != 0)
			rc = BB_DB_ERR;
		c->cursor = e.id;
		event_free(&e);
	}
	if (rc == BB_DB_OK && n < 200)
		c->cursor = upto;
	bb_db_rows_free(rows);
	return rc == BB_DB_OK ? 0 : -1;
}

/* Copy what the ring has for the client (f->mu held). */
static int client_from_ring(struct client *c, struct feed *f)
{
	int64_t now = bb_clock_ms();

	while (c->seq < f->head && c->out_n < FILL_BYTES) {
		const struct sse_event *e = &f->ring[c->seq % FEED_RING];
		if (e->id <= c->cursor) { /* read again after a start, and considered already */
			c->seq++;
			continue;
		}
		if (client_wants(c, e->severity, e->asin, e->asin_n)) {
			if (client_append(c, e->frame, e->frame_n) != 0)
				return -1;
			metrics_gap(&c->s->metrics, e->created >= 0 && now > e->created ? (double)(now - e->created) / 1e3 : 0);
		}
		c->cursor = e->id;
		c->seq++;
	}
	return 0;
}

enum { FILL_END = -1, FILL_WAIT = 0, FILL_SOME = 1, FILL_BEAT = 2 };

/* Fill the client's buffer: FILL_SOME (maybe nothing to send yet, but
 * progress), FILL_BEAT (nothing new, and the heartbeat is due), FILL_WAIT
 * (nothing new: the connection is suspended until the feed resumes it), or
 * FILL_END. */
static int client_fill(struct client *c)
{
	struct feed *f = &c->s->feed;
	int rc;

	pthread_mutex_lock(&f->mu);
	if (f->stop) {
		pthread_mutex_unlock(&f->mu);
		c->r->shutdown = 1;
		return FILL_END;
	}
	if (!c->live) {
		uint64_t seq = ring_find(f, c->cursor);
		int64_t upto = f->cursor;
		if (seq == UINT64_MAX) {
			pthread_mutex_unlock(&f->mu);
			return client_catch_up(c, upto) == 0 ? FILL_SOME : FILL_END;
		}
		c->live = 1, c->seq = seq;
	}
	uint64_t oldest = f->head > FEED_RING ? f->head - FEED_RING : 0;
	if (c->seq < oldest) { /* it did not keep up: the ring moved past it */
		pthread_mutex_unlock(&f->mu);
		__atomic_fetch_add(&c->s->metrics.sse_dropped, 1, __ATOMIC_RELAXED);
		c->ending = 1;
		static const char bye[] = ": too far behind: reconnect with Last-Event-ID\n\n";
		return client_append(c, bye, sizeof bye - 1) == 0 ? FILL_SOME : FILL_END;
	}
	if (c->seq < f->head)
		rc = client_from_ring(c, f) == 0 ? FILL_SOME : FILL_END;
	else if (bb_mono_ms() >= c->last_write + c->s->heartbeat_ms)
		rc = FILL_BEAT;
	else
		wait_add(f, c), rc = FILL_WAIT;
	pthread_mutex_unlock(&f->mu);
	return rc;
}

/* libmicrohttpd asks for more of the stream: what the client's buffer holds,
 * filled first when empty. 0 (nothing now) only once the connection is
 * suspended: it is not asked again until the feed resumes it. */
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct client *c = cls;
	(void)pos;

	while (c->out_off == c->out_n) {
		c->out_off = c->out_n = 0;
		if (c->ending)
			return MHD_CONTENT_READER_END_OF_STREAM;
		int rc = client_fill(c);
		if (rc == FILL_END)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (rc == FILL_WAIT)
			return 0;
		if (rc == FILL_BEAT && client_append(c, ":\n\n", 3) != 0)
			return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	size_t n = c->out_n - c->out_off < max ? c->out_n - c->out_off : max;
	memcpy(buf, c->out + c->out_off, n);
	c->out_off += n;
	c->r->sent += n;
	c->last_write = bb_mono_ms();
	return (ssize_t)n;
}

static void stream_free(void *cls)
{
	struct client *c = cls;
	struct feed *f = &c->s->feed;

	pthread_mutex_lock(&f->mu); /* never in the list by now; but never left in it */
	if (c->waiting)
		wait_remove(f, c);
	pthread_mutex_unlock(&f->mu);
	__atomic_fetch_sub(&c->s->metrics.sse_clients, 1, __ATOMIC_RELAXED);
	bb_json_free(c->jd);
	free(c->out);
	free(c->asin_arg);
	free(c);
}

/* ?severity=CRITICAL,HIGH (any case) into a mask: 0, or -1 for an unknown one. */
static int parse_severities(const char *arg, unsigned *mask)
{
	char up[16];

	for (const char *p = arg; *p;) {
		size_t n = strcspn(p, ",");
		if (n == 0 || n >= sizeof up)
			return -1;
		for (size_t i = 0; i < n; i++)
			up[i] = (char)toupper((unsigned char)p[i]);
		int sev = bb_severity_of(up, n);
		if (sev < 0)
			return -1;
		*mask |= 1u << sev;
		p += n + (p[n] == ',');
	}
	return 0;
}

/* ?asin=A,B into the client's list: 0, or -1 when too many or empty. */
static int parse_asins(struct client *c, const char *arg)
{
	if (!(c->asin_arg = strdup(arg)))
		return -1;
	for (char *p = c->asin_arg; *p;) {
		size_t n = strcspn(p, ",");
		if (n == 0 || c->nasins == MAX_ASINS)
			return -1;
		c->asins[c->nasins++] = (struct bb_str){ p, n };
		p += n + (p[n] == ',');
	}
	return 0;
}

/* Where the client starts: Last-Event-ID, else ?since=, else now. */
static int client_start(struct client *c, struct req *r)
{
	const char *last = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Last-Event-ID");
	const char *since = serve_arg(r, "since");
	const char *from = last && *last ? last : since;

	if (from)
		return bb_parse_i64(from, 0, INT64_MAX, &c->cursor);
	pthread_mutex_lock(&c->s->feed.mu);
	c->cursor = c->s->feed.cursor > c->s->feed.newest ? c->s->feed.cursor : c->s->feed.newest;
	pthread_mutex_unlock(&c->s->feed.mu);
	return 0;
}

enum MHD_Result route_stream(struct req *r)
{
	struct client *c = calloc(1, sizeof *c);
	const char *sev = serve_arg(r, "severity"), *asin = serve_arg(r, "asin");
	struct MHD_Response *resp;
	static const char hello[] = "retry: 3000\n: bb-serve\n\n";

	if (!c)
		return serve_error(r, 500, "out of memory");
	c->r = r, c->s = r->s, c->last_write = bb_mono_ms();
	const char *bad = client_start(c, r) != 0 ? "Last-Event-ID or since: expected an event id"
			  : sev && parse_severities(sev, &c->sevmask) != 0 ? "severity: expected CRITICAL, HIGH, WARNING, SUCCESS or STABLE"
			  : asin && parse_asins(c, asin) != 0 ? "asin: expected one to 16 ASINs, comma separated"
			  : NULL;
	if (bad || client_append(c, hello, sizeof hello - 1) != 0) {
		free(c->asin_arg), free(c->out), free(c);
		return bad ? serve_error(r, 400, bad) : serve_error(r, 500, "out of memory");
	}
	__atomic_fetch_add(&r->s->metrics.sse_clients, 1, __ATOMIC_RELAXED);
	if (!(resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, stream_read, c, stream_free))) {
		stream_free(c);
		return serve_error(r, 500, "out of memory");
	}
	MHD_add_response_header(resp, "Content-Type", "text/event-stream");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "X-Accel-Buffering", "no");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	r->status = 200;
	enum MHD_Result ok = MHD_queue_response(r->conn, 200, resp);
	MHD_destroy_response(resp);
	return ok;
}
