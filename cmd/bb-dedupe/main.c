/* bb-dedupe: mark redeliveries as duplicates and decide each alert (SEVERITY.md
 * "Alerts") before anything is written; bb-store's write stays the final word.
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
#include "timeutil.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define USAGE "usage: bb-dedupe [--db URL] [--memory N]\n"
#define BATCH 128
#define DUP_SQL "SELECT 1 FROM worker_notifications WHERE message_id = $1 " \
		"UNION ALL SELECT 1 FROM worker_notifications WHERE dedupe_hash = $2 LIMIT 1"
#define ALERT_SQL "SELECT status, last_seen, snooze_until FROM alert_queues WHERE fingerprint = $1 " \
		  "AND queue_type = $2"

struct fields {
	char *status, *mid, *hash, *asin, *mkt, *event_time, *severity;
};

/* A record waiting for its batch's answers. */
struct pending {
	struct bb_record rec; /* an indexed copy */
	struct fields f;
	int64_t ev;
	int check;              /* ok and complete: to be decided */
	char fp[128];
	const char *queue;
	const char *args[2][2]; /* the parameters of its two questions */
	int q_dup, q_alert;     /* its questions in the batch, -1 none */
};

struct ctx {
	struct bb_db *db;
	struct pending batch[BATCH];
	int n;
	struct bb_rows *answers[2 * BATCH]; /* of the batch being decided */
	struct bb_seen *ids;    /* message ids and body hashes seen in this stream */
	struct bb_seen *alerts; /* fingerprint -> struct bb_alert_row decided in this stream */
	size_t passed, duplicates, unique;
};

static int seen_in_db(struct ctx *c, const char *mid, const char *hash, int *dup)
{
	const char *p[2] = { mid, hash };
	struct bb_rows *rows;
	int rc = bb_db_exec(c->db, DUP_SQL, 2, p, &rows);
	*dup = rc == BB_DB_OK && bb_db_nrows(rows) > 0;
	bb_db_rows_free(rows);
	return rc;
}

/* The alert as this stream last decided it, else as stored: the batch's
 * answer (asked), or a question of its own. */
static int alert_row(struct ctx *c, const char *fp, const char *queue, struct bb_rows *asked,
		     struct bb_alert_row *row)
{
	void **mem = bb_seen_get(c->alerts, fp, strlen(fp));
	const char *p[2] = { fp, queue };
	struct bb_rows *rows = asked;
	int rc = BB_DB_OK;

	memset(row, 0, sizeof *row);
	row->snooze_until = -1;
	if (mem && *mem) {
		*row = *(struct bb_alert_row *)*mem;
		return BB_DB_OK;
	}
	if (!asked)
		rc = bb_db_exec(c->db, ALERT_SQL, 2, p, &rows);
	if (rc == BB_DB_OK && bb_db_nrows(rows) > 0) {
		const char *st = bb_db_value(rows, 0, 0), *ls = bb_db_value(rows, 0, 1), *su = bb_db_value(rows, 0, 2);
		snprintf(row->status, sizeof row->status, "%s", st ? st : "");
		if (ls)
			bb_time_parse_loose(ls, strlen(ls), &row->last_seen);
		if (su)
			bb_time_parse_loose(su, strlen(su), &row->snooze_until);
	}
	if (!asked)
		bb_db_rows_free(rows);
	return rc;
}

static void remember(struct ctx *c, const char *fp, const struct bb_alert_row *row)
{
	void **slot = bb_seen_add(c->alerts, fp, strlen(fp));
	if (!slot)
		return;
	if (!*slot)
		*slot = malloc(sizeof *row);
	if (*slot)
		memcpy(*slot, row, sizeof *row);
}

/* A background severity resolves the ASIN's open alerts this stream knows of. */
static void resolve_known(struct ctx *c, const char *asin, const char *mkt, int64_t event_ms)
{
	static const char *const open_sev[] = { "critical", "high", "warning" };
	char fp[128];
	for (int i = 0; i < 3; i++) {
		snprintf(fp, sizeof fp, "%s|%s|%s", asin, mkt, open_sev[i]);
		void **slot = bb_seen_get(c->alerts, fp, strlen(fp));
		struct bb_alert_row *row = slot ? *slot : NULL;
		if (row && bb_alert_is_open(row->status) && row->last_seen <= event_ms)
			snprintf(row->status, sizeof row->status, "resolved");
	}
}

static int decide(struct ctx *c, const char *asin, const char *mkt, const char *sev, int64_t ev,
		  struct bb_rows *asked, struct bb_emit *em)
{
	char fp[128];
	const char *queue = bb_alert_queue(sev);
	struct bb_alert_row row;
	int rc;

	bb_alert_fingerprint(asin, mkt, sev, fp, sizeof fp);
	if ((rc = alert_row(c, fp, queue, asked, &row)) != BB_DB_OK)
		return rc;
	const char *action = bb_alert_action(sev, &row, ev);
	if (strcmp(action, "new") == 0) {
		struct bb_alert_row now = { "queued", ev, -1 };
		remember(c, fp, &now);
	} else if (strcmp(action, "update") == 0) {
		if (ev > row.last_seen)
			row.last_seen = ev;
		remember(c, fp, &row);
	} else if (strcmp(action, "none") == 0) {
		resolve_known(c, asin, mkt, ev);
	}
	jv a = jv_object();
	a = jv_object_set(a, jv_string("fingerprint"), jv_string(fp));
	a = jv_object_set(a, jv_string("action"), jv_string(action));
	a = jv_object_set(a, jv_string("queue_type"), jv_string(queue));
	a = jv_object_set(a, jv_string("scheduled_delivery"),
			  strcmp(action, "new") == 0 ? bb_jv_time(bb_alert_delivery(queue, ev)) : jv_null());
	a = jv_object_set(a, jv_string("snooze_until"),
			  strcmp(action, "suppressed") == 0 ? bb_jv_time(row.snooze_until) : jv_null());
	bb_emit_set(em, "alert", a);
	return BB_DB_OK;
}

static void fields_free(struct fields *f)
{
	free(f->status), free(f->mid), free(f->hash), free(f->asin), free(f->mkt);
	free(f->event_time), free(f->severity);
}

static void read_fields(const struct bb_record *rec, struct fields *f)
{
	struct bb_record n, a;
	size_t len;

	memset(f, 0, sizeof *f);
	f->status = bb_record_string(rec, "status", &len);
	f->mid = bb_record_string(rec, "message_id", &len);
	f->hash = bb_record_string(rec, "dedupe_hash", &len);
	if (bb_record_sub(rec, "notification", &n) == 0) {
		f->asin = bb_record_string(&n, "asin", &len);
		f->mkt = bb_record_string(&n, "marketplace", &len);
		f->event_time = bb_record_string(&n, "event_time", &len);
	}
	if (bb_record_sub(rec, "analysis", &a) == 0)
		f->severity = bb_record_string(&a, "severity", &len);
	free(n.m);
	free(a.m);
}

/* Decide one record of the batch, with the batch's answers, and write it. */
static int settle_one(struct ctx *c, struct pending *p)
{
	struct bb_emit em;
	struct fields *f = &p->f;
	int dup = 0, rc = BB_DB_OK;

	memset(&em, 0, sizeof em);
	if (!f->status || strcmp(f->status, "ok") != 0) {
		c->passed++;
		goto out;
	}
	if (!p->check) {
		jv e = jv_object();
		e = jv_object_set(e, jv_string("type"), jv_string("schema"));
		e = jv_object_set(e, jv_string("message"), jv_string("an ok record needs message_id, dedupe_hash, notification and analysis"));
		e = jv_object_set(e, jv_string("stage"), jv_string("dedupe"));
		e = jv_object_set(e, jv_string("path"), jv_null());
		bb_emit_set(&em, "status", jv_string("rejected"));
		bb_emit_set(&em, "error", e);
		goto out;
	}
	dup = bb_seen_has(c->ids, f->mid, strlen(f->mid)) || bb_seen_has(c->ids, f->hash, strlen(f->hash));
	if (!dup && p->q_dup >= 0)
		dup = bb_db_nrows(c->answers[p->q_dup]) > 0;
	else if (!dup)
		rc = seen_in_db(c, f->mid, f->hash, &dup);
	if (rc == BB_DB_OK && dup) {
		c->duplicates++;
		bb_emit_set(&em, "status", jv_string("duplicate"));
		goto out;
	}
	if (rc == BB_DB_OK)
		rc = decide(c, f->asin, f->mkt, f->severity, p->ev, p->q_alert >= 0 ? c->answers[p->q_alert] : NULL, &em);
	if (rc == BB_DB_OK) {
		bb_seen_add(c->ids, f->mid, strlen(f->mid));
		bb_seen_add(c->ids, f->hash, strlen(f->hash));
		c->unique++;
	}
out:
	if (rc != BB_DB_OK) { /* on as it came, without a decision */
		bb_emit_free(&em);
		memset(&em, 0, sizeof em);
	}
	bb_record_write(&p->rec, &em, stdout);
	bb_emit_free(&em);
	if (rc != BB_DB_OK)
		return bb_fatal(rc == BB_DB_RETRY ? BB_EX_TEMPFAIL : BB_EX_SOFTWARE,
				"unable to query database '%s': %s", bb_db_name(c->db), bb_db_errmsg(c->db));
	return 0;
}

/* The batch: every question in one round trip, then each record in order. */
static int flush_batch(struct ctx *c)
{
	struct bb_stmt st[2 * BATCH];
	int ns = 0, rc = 0;

	for (int i = 0; i < c->n; i++) {
		struct pending *p = &c->batch[i];
		p->q_dup = p->q_alert = -1;
		if (!p->check)
			continue;
		if (!bb_seen_has(c->ids, p->f.mid, strlen(p->f.mid)) && !bb_seen_has(c->ids, p->f.hash, strlen(p->f.hash))) {
			p->args[0][0] = p->f.mid, p->args[0][1] = p->f.hash;
			p->q_dup = ns;
			st[ns++] = (struct bb_stmt){ DUP_SQL, 2, p->args[0] };
		}
		p->queue = bb_alert_queue(p->f.severity);
		bb_alert_fingerprint(p->f.asin, p->f.mkt, p->f.severity, p->fp, sizeof p->fp);
		if (bb_seen_get(c->alerts, p->fp, strlen(p->fp)))
			continue;
		for (int k = 0; k < i && p->q_alert < 0; k++) /* the same alert asked once */
			if (c->batch[k].q_alert >= 0 && strcmp(c->batch[k].fp, p->fp) == 0 &&
			    strcmp(c->batch[k].queue, p->queue) == 0)
				p->q_alert = c->batch[k].q_alert;
		if (p->q_alert < 0) {
			p->args[1][0] = p->fp, p->args[1][1] = p->queue;
			p->q_alert = ns;
			st[ns++] = (struct bb_stmt){ ALERT_SQL, 2, p->args[1] };
		}
	}
	if (ns > 0 && bb_db_pipeline(c->db, ns, st, c->answers) != BB_DB_OK)
		rc = bb_fatal(BB_EX_TEMPFAIL, "unable to query database '%s': %s", bb_db_name(c->db),
			      bb_db_errmsg(c->db));
	for (int i = 0; i < c->n; i++) {
		if (rc == 0) {
			rc = settle_one(c, &c->batch[i]);
		} else { /* the records in hand go on as they came */
			struct bb_emit none = { 0 };
			bb_record_write(&c->batch[i].rec, &none, stdout);
		}
		fields_free(&c->batch[i].f);
		bb_record_free(&c->batch[i].rec);
	}
	for (int i = 0; i < ns; i++) {
		bb_db_rows_free(c->answers[i]);
		c->answers[i] = NULL;
	}
	c->n = 0;
	if (fflush(stdout) != 0 && rc == 0)
		rc = bb_fatal(BB_EX_IOERR, "unable to write standard output");
	return rc;
}

static int on_record(struct bb_record *rec, struct bb_emit *em, void *arg)
{
	struct ctx *c = arg;
	struct pending *p = &c->batch[c->n];
	struct fields *f = &p->f;

	em->suppress = 1; /* written once its batch is decided */
	memset(p, 0, sizeof *p);
	if (bb_record_copy(&p->rec, rec) != 0)
		return bb_fatal(BB_EX_SOFTWARE, "out of memory");
	c->n++;
	read_fields(&p->rec, f);
	p->ev = -1;
	p->check = f->status && strcmp(f->status, "ok") == 0 && f->mid && f->hash && f->asin && f->mkt &&
		   f->severity && f->event_time && bb_time_parse(f->event_time, strlen(f->event_time), &p->ev) == 0;
	return c->n == BATCH ? flush_batch(c) : 0;
}

static int on_idle(void *arg, int *wait_ms)
{
	*wait_ms = -1;
	return flush_batch(arg); /* nothing is held while input is awaited */
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "memory", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	static struct ctx c; /* the batch is large: not on the stack */
	struct bb_conf *conf = NULL;
	const char *url;
	char err[600];
	int64_t memory = 100000;
	int opt, rc;

	bb_log_init("bb-dedupe");
	if (bb_cli_early(argc, argv, USAGE, "bb-dedupe " BB_VERSION))
		return 0;
	if (bb_conf_load(&conf, err, sizeof err) != 0)
		return bb_fatal(BB_EX_CONFIG, "%s", err);
	url = bb_conf_get(conf, "db", "url");
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'd': url = optarg; break;
		case 'm':
			if (bb_parse_i64(optarg, 1, 100000000, &memory) != 0) {
				bb_say("--memory '%s': expected a whole number from 1", optarg);
				bb_conf_free(conf);
				return BB_EX_USAGE;
			}
			break;
		default:
			fputs(USAGE, stderr);
			bb_conf_free(conf);
			return BB_EX_USAGE;
		}
	}
	if (optind < argc) {
		bb_say("unexpected argument '%s'", argv[optind]);
		fputs(USAGE, stderr);
		bb_conf_free(conf);
		return BB_EX_USAGE;
	}
	if (!url)
		url = "sqlite:bb.db";
	if ((rc = bb_db_open(url, &c.db, err, sizeof err)) < 0) {
		rc = bb_fatal(rc == BB_DB_BADURL ? BB_EX_CONFIG : rc == BB_DB_RETRY ? BB_EX_TEMPFAIL : BB_EX_UNAVAILABLE,
			      "unable to open database '%s': %s", bb_db_name(c.db), err);
		bb_db_close(c.db);
		bb_conf_free(conf);
		return rc;
	}
	c.ids = bb_seen_new((size_t)memory * 2);
	c.alerts = bb_seen_new((size_t)memory);
	bb_signals_install();
	struct bb_loop loop = { on_record, on_idle, &c };
	rc = bb_records_run(STDIN_FILENO, stdout, &loop);
	int last = flush_batch(&c); /* at the end of input, or on SIGTERM */
	if (rc == 0)
		rc = last;
	char u[24], d[24], p[24];
	snprintf(u, sizeof u, "%zu", c.unique);
	snprintf(d, sizeof d, "%zu", c.duplicates);
	snprintf(p, sizeof p, "%zu", c.passed);
	bb_log(BB_INFO, NULL, "summary", "unique", u, "duplicates", d, "passed", p, NULL);
	bb_seen_free(c.ids);
	bb_seen_free(c.alerts);
	bb_db_close(c.db);
	bb_conf_free(conf);
	return rc;
}
