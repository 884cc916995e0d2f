/* bb-dedupe: mark redeliveries as duplicates and decide each alert (SEVERITY.md
 * "Alerts", lib/alert.h) before anything is written; bb-store's write stays
 * the final word.
 *
 * Records are taken in small batches (what has arrived, up to BATCH): the
 * database is asked about all of them in one round trip (a pipeline on
 * PostgreSQL), then each is decided in order, earlier decisions of the
 * stream first. A record is never held while input is awaited. */
#include "alert.h"
#include "cli.h"
#include "conf.h"
#include "db.h"
#include "exitcode.h"
#include "log.h"
#include "parse.h"
#include "record.h"
#include "seen.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define USAGE "usage: bb-dedupe [--db URL] [--memory N]\n"
/* --help: the usage and a line for each option, as in the man page */
#define HELP USAGE "\n" \
	     "  --db URL       sqlite:PATH or a PostgreSQL URL (default sqlite:bb.db)\n" \
	     "  --memory N     records and alerts remembered in memory (default 10000)\n" \
	     "  -h, --help     print this help and exit\n" \
	     "  -V, --version  print the version and exit\n"
#define BATCH 128
#define DUP_SQL "SELECT 1 FROM worker_notifications WHERE message_id = $1 " \
		"UNION ALL SELECT 1 FROM worker_notifications WHERE dedupe_hash = $2 LIMIT 1"

/* A record of the batch: the line, and what it is decided on, copied out of
 * the line's parse (the next line's replaces it). */
struct pending {
	struct bb_record rec;
	struct bb_emit em; /* what is added to the line */
	enum { PASS, REJECTED, CHECK } state;
	char *bytes; /* the strings below point into it */
	struct bb_str mid, hash;
	struct bb_alert_place place;
	enum bb_severity sev;
	int64_t ev;
	int seen;           /* a duplicate of the stream when its batch was asked about */
	int q_dup;          /* its question in the batch, -1 none */
	struct bb_str params[2];
};

struct ctx {
	struct bb_db *db;
	struct pending batch[BATCH];
	int n;
	struct bb_notification notif; /* the line being read */
	struct bb_seen *ids, *hashes; /* message ids and body hashes seen in this stream */
	struct bb_alert_view *alerts; /* the alerts of the places the stream knows */
	struct bb_query q[2 * BATCH]; /* the batch's questions */
	struct bb_rows *rows[2 * BATCH];
	int nq;                       /* its duplicate questions, first in q */
	size_t passed, duplicates, unique;
};

/* ---- reading a record ---- */

/* A member an ok record lacks: the stage that adds it has not run. */
static int lacks(struct pending *p, struct bb_jval root, const char *key, const char *stage, enum bb_jtype want)
{
	struct bb_jval v = bb_json_getz(root, key);
	if (bb_json_type(v) == want)
		return 0;
	if (bb_json_type(v) == BB_JNONE)
		bb_record_reject(&p->em, "schema", "dedupe", key, "no %s member: run %s before bb-dedupe", key, stage);
	else
		bb_record_reject(&p->em, "schema", "dedupe", key, "%s: expected %s, got %s", key,
				 bb_json_type_name(want), bb_json_type_name(bb_json_type(v)));
	return 1;
}

/* The notification's asin, marketplace and event time, else a rejection
 * naming the path bb_notification_read found wanting ("PATH: expected …"). */
static int read_notification(struct ctx *c, struct pending *p, struct bb_jval v)
{
	char why[200];
	int bad = bb_notification_read(v, &c->notif, why, sizeof why) != 0;

	if (!bad && c->notif.event_time < 0) /* null is allowed in the view, not here */
		bad = snprintf(why, sizeof why, "notification.event_time: expected an RFC 3339 time") > 0;
	if (bad) {
		char *colon = strstr(why, ": ");
		char *path = strndup(why, colon ? (size_t)(colon - why) : strlen(why));
		bb_record_reject(&p->em, "schema", "dedupe", path, "%s", why);
		free(path);
		return -1;
	}
	p->place = (struct bb_alert_place){ c->notif.asin, c->notif.marketplace };
	p->ev = c->notif.event_time;
	return 0;
}

static int read_severity(struct pending *p, struct bb_jval analysis)
{
	struct bb_str s = bb_str_of(bb_json_getz(analysis, "severity"));
	int sev = s.p ? bb_severity_of(s.p, s.n) : -1;

	if (sev < 0) {
		bb_record_reject(&p->em, "schema", "dedupe", "analysis.severity",
				 "analysis.severity: expected CRITICAL, HIGH, WARNING, SUCCESS or STABLE");
		return -1;
	}
	p->sev = (enum bb_severity)sev;
	return 0;
}

/* The strings decided on, copied: the line's parse is gone by then. */
static int keep_strings(struct pending *p)
{
	struct bb_str *s[4] = { &p->mid, &p->hash, &p->place.asin, &p->place.marketplace };
	size_t size = 1;
	for (int i = 0; i < 4; i++)
		size += s[i]->n;
	char *o = p->bytes = malloc(size);
	if (!o)
		return -1;
	for (int i = 0; i < 4; i++) {
		if (s[i]->n)
			memcpy(o, s[i]->p, s[i]->n);
		s[i]->p = o;
		o += s[i]->n;
	}
	return 0;
}

/* What an ok record is decided on; a record that lacks it is rejected,
 * naming the stage that must run first. 0, or -1 out of memory. */
static int read_pending(struct ctx *c, const struct bb_record *rec, struct pending *p)
{
	const struct bb_envelope *e = &rec->env;

	p->state = PASS;
	/* another stage's verdict goes on; an object with none at all is a
	 * notification that bb-validate never saw. A line over the limit is
	 * not read: it goes on as it came, and bb-store records it. */
	if (rec->too_large || (e->status.p ? !bb_str_eq(e->status, "ok") : !rec->is_object))
		return 0;
	p->state = REJECTED;
	if (lacks(p, e->root, "message_id", "bb-validate", BB_JSTRING) ||
	    lacks(p, e->root, "dedupe_hash", "bb-validate", BB_JSTRING) ||
	    lacks(p, e->root, "notification", "bb-validate", BB_JOBJECT) ||
	    read_notification(c, p, e->notification) != 0 ||
	    lacks(p, e->root, "analysis", "bb-severity", BB_JOBJECT) || read_severity(p, e->analysis) != 0)
		return 0;
	p->state = CHECK;
	p->mid = e->message_id;
	p->hash = e->dedupe_hash;
	return keep_strings(p);
}

/* ---- deciding a batch ---- */

/* Its question: is the message id or the body hash stored? A string the
 * database cannot hold is in no row, and asked about as NULL. */
static void ask_dup(struct ctx *c, struct pending *p, int *nq)
{
	p->q_dup = -1;
	p->seen = bb_seen_has(c->ids, p->mid.p, p->mid.n) || bb_seen_has(c->hashes, p->hash.p, p->hash.n);
	if (p->seen)
		return;
	p->params[0] = bb_db_can_hold(c->db, p->mid.p, p->mid.n) ? p->mid : (struct bb_str){ NULL, 0 };
	p->params[1] = bb_db_can_hold(c->db, p->hash.p, p->hash.n) ? p->hash : (struct bb_str){ NULL, 0 };
	p->q_dup = *nq;
	c->q[(*nq)++] = (struct bb_query){ DUP_SQL, 2, p->params };
}

/* Decide one record of the batch with its answers. 0, or an exit status. */
static int settle_one(struct ctx *c, struct pending *p)
{
	struct bb_alert_decision d;
	struct bb_jw w;

	if (p->state != CHECK) {
		c->passed += p->state == PASS;
		return 0;
	}
	if (p->seen || bb_seen_has(c->ids, p->mid.p, p->mid.n) || bb_seen_has(c->hashes, p->hash.p, p->hash.n) ||
	    (p->q_dup >= 0 && bb_db_nrows(c->rows[p->q_dup]) > 0)) {
		c->duplicates++;
		bb_emit_str(&p->em, "status", "duplicate", 9);
		return 0;
	}
	if (bb_alert_decide(c->alerts, p->place, p->sev, p->ev, &d) != 0)
		return bb_fatal(BB_EX_SOFTWARE, "out of memory");
	bb_jw_init(&w);
	bb_alert_member(&w, &d);
	bb_emit_jw(&p->em, "alert", &w);
	bb_alert_decision_free(&d);
	bb_seen_add(c->ids, p->mid.p, p->mid.n);
	bb_seen_add(c->hashes, p->hash.p, p->hash.n);
	c->unique++;
	return 0;
}

/* Write a record, decided or, when the batch failed, as it came. */
static void write_one(struct pending *p, int decided)
{
	struct bb_emit none = { 0 };
	bb_record_write(&p->rec, decided || p->state != CHECK ? &p->em : &none, stdout);
	bb_emit_free(&p->em);
	bb_record_free(&p->rec);
	free(p->bytes);
}

/* Every question of the batch in one round trip: its duplicates, then the
 * stored alerts of the places the stream does not know yet. */
static int ask_batch(struct ctx *c)
{
	struct bb_alert_place places[BATCH];
	struct bb_alert_ask ask;
	int nq = 0, np = 0;

	for (int i = 0; i < c->n; i++)
		if (c->batch[i].state == CHECK) {
			ask_dup(c, &c->batch[i], &nq);
			places[np++] = c->batch[i].place;
		}
	c->nq = nq;
	int rc = bb_alert_ask(c->alerts, c->db, places, (size_t)np, &ask);
	for (int i = 0; rc == BB_DB_OK && i < ask.n; i++)
		c->q[nq + i] = ask.q[i];
	if (rc == BB_DB_OK)
		rc = bb_db_pipeline_q(c->db, nq + ask.n, c->q, c->rows);
	if (rc == BB_DB_OK)
		rc = bb_alert_answer(c->alerts, &ask, c->rows + nq);
	for (int i = nq; i < nq + ask.n; i++) {
		bb_db_rows_free(c->rows[i]);
		c->rows[i] = NULL;
	}
	bb_alert_ask_free(&ask);
	return rc;
}

static int flush_batch(struct ctx *c)
{
	int asked = ask_batch(c), rc = 0;

	if (asked != BB_DB_OK) /* the records in hand go on as they came */
		rc = bb_fatal(asked == BB_DB_RETRY ? BB_EX_TEMPFAIL : BB_EX_SOFTWARE, "unable to query database '%s': %s",
			      bb_db_name(c->db), bb_db_errmsg(c->db));
	for (int i = 0; i < c->n; i++) {
		if (rc == 0)
			rc = settle_one(c, &c->batch[i]);
		write_one(&c->batch[i], rc == 0);
	}
	for (int i = 0; i < c->nq; i++) {
		bb_db_rows_free(c->rows[i]);
		c->rows[i] = NULL;
	}
	c->n = 0;
	if (fflush(stdout) != 0 && rc == 0)
		rc = bb_fatal(BB_EX_IOERR, "unable to write standard output: %s", strerror(errno));
	return rc;
}

static int on_record(struct bb_record *rec, struct bb_emit *em, void *arg)
{
	struct ctx *c = arg;
	struct pending *p = &c->batch[c->n];

	em->suppress = 1; /* written once its batch is decided */
	memset(p, 0, sizeof *p);
	if (bb_record_copy(&p->rec, rec) != 0)
		return bb_fatal(BB_EX_SOFTWARE, "out of memory");
	c->n++;
	if (read_pending(c, rec, p) != 0)
		return bb_fatal(BB_EX_SOFTWARE, "out of memory");
	return c->n == BATCH ? flush_batch(c) : 0;
}

static int on_idle(void *arg, int *wait_ms)
{
	*wait_ms = -1;
	return flush_batch(arg); /* nothing is held while input is awaited */
}

/* ---- the program ---- */

static int options(int argc, char **argv, const char **url, int64_t *memory)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "memory", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'd') {
			*url = optarg;
		} else if (opt == 'm' && bb_parse_i64(optarg, 1, 100000000, memory) != 0) {
			bb_say("--memory '%s': expected a whole number from 1", optarg);
			return BB_EX_USAGE;
		} else if (opt != 'm') {
			fputs(USAGE, stderr);
			return BB_EX_USAGE;
		}
	}
	if (optind < argc) {
		bb_say("unexpected argument '%s'", argv[optind]);
		fputs(USAGE, stderr);
		return BB_EX_USAGE;
	}
	return 0;
}

/* The stream's memory: ids and hashes of n records, the alerts of n places
 * (at least a batch's, which are decided on after they are read). */
static int remember(struct ctx *c, int64_t memory)
{
	c->ids = bb_seen_new((size_t)memory);
	c->hashes = bb_seen_new((size_t)memory);
	c->alerts = bb_alert_view_new(memory > BATCH ? (size_t)memory : BATCH);
	return c->ids && c->hashes && c->alerts ? 0 : bb_fatal(BB_EX_SOFTWARE, "out of memory");
}

static int run(struct ctx *c)
{
	struct bb_loop loop = { .on_record = on_record, .on_idle = on_idle, .ctx = c, .lazy_body = 1 }; /* the body is never read */
	char u[24], d[24], p[24];

	bb_signals_install();
	int rc = bb_records_run(STDIN_FILENO, stdout, &loop);
	int last = flush_batch(c); /* at the end of input, or on SIGTERM */
	snprintf(u, sizeof u, "%zu", c->unique);
	snprintf(d, sizeof d, "%zu", c->duplicates);
	snprintf(p, sizeof p, "%zu", c->passed);
	bb_log(BB_INFO, NULL, "summary", "unique", u, "duplicates", d, "passed", p, NULL);
	return rc ? rc : last;
}

int main(int argc, char **argv)
{
	static struct ctx c; /* the batch is large: not on the stack */
	struct bb_conf *conf = NULL;
	const char *url;
	char err[600];
	int64_t memory = 10000;
	int rc;

	bb_log_init("bb-dedupe");
	if (bb_cli_early(argc, argv, HELP, "bb-dedupe " BB_VERSION))
		return 0;
	if (bb_conf_load(&conf, err, sizeof err) != 0)
		return bb_fatal(BB_EX_CONFIG, "%s", err);
	url = bb_conf_get(conf, "db", "url");
	rc = options(argc, argv, &url, &memory);
	if (rc == 0)
		rc = bb_db_open_or_report(url ? url : "sqlite:bb.db", &c.db);
	if (rc == 0)
		rc = remember(&c, memory);
	if (rc == 0)
		rc = run(&c);
	bb_seen_free(c.ids);
	bb_seen_free(c.hashes);
	bb_alert_view_free(c.alerts);
	bb_notification_free(&c.notif);
	bb_db_close(c.db);
	bb_conf_free(conf);
	return rc;
}
