/* status.c: GET /api/worker-status, GET /api/health and the status gauges
 * of /metrics, all from bb-status's document (lib/status.h), read from SQS
 * and the database as bb-status reads it. A collection costs SQS calls, so
 * one serves every request for [serve] status_cache (5 s): the document,
 * the verdict and the gauges are written once and copied to each. */
#include "serve.h"
#include "exitcode.h"
#include "log.h"
#include "timeutil.h"

#include <stdlib.h>
#include <string.h>

int status_configure(struct serve *s, const struct bb_conf *conf)
{
	struct serve_status *st = &s->status;
	const char *v = bb_conf_get(conf, "serve", "status_cache");
	char err[600];

	pthread_mutex_init(&st->mu, NULL);
	if (bb_status_configure(&st->conf, conf, err, sizeof err) != 0)
		return bb_fatal(BB_EX_CONFIG, "%s", err);
	st->cache_ms = 5000;
	if (v && bb_duration_parse(v, &st->cache_ms) != 0)
		return bb_fatal(BB_EX_CONFIG, "unable to use [serve] status_cache '%s': expected a duration such as 5s", v);
	return 0;
}

void status_destroy(struct serve *s)
{
	struct serve_status *st = &s->status;

	bb_sqs_free(st->sqs);
	bb_jw_free(&st->doc);
	bb_jw_free(&st->verdict);
	free(st->prom);
}

/* Write the three texts of a collection; -1 when memory ran out. */
static int render(struct serve_status *st, const struct bb_status *doc)
{
	FILE *out;

	bb_jw_reset(&st->doc);
	bb_jw_reset(&st->verdict);
	bb_status_json(&st->doc, doc, &st->conf);
	bb_status_health_json(&st->verdict, doc);
	free(st->prom);
	st->prom = NULL;
	if (!(out = open_memstream(&st->prom, &st->prom_n)))
		return -1;
	bb_status_prom(out, doc);
	st->health = doc->health;
	return fclose(out) != 0 || st->doc.oom || st->verdict.oom ? -1 : 0;
}

/* Collect again unless the last collection is recent. Called with st->mu held. */
static int refresh(struct serve *s)
{
	struct serve_status *st = &s->status;
	char sqs_err[600] = "";
	struct serve_db *held;
	struct bb_status doc;

	if (st->at && bb_mono_ms() - st->at < st->cache_ms)
		return 0;
	if (!st->sqs)
		st->sqs = bb_status_sqs(&st->conf, sqs_err, sizeof sqs_err);
	struct bb_db *db = serve_db_get(s, &held);
	int rc = bb_status_collect(db, NULL, st->sqs, sqs_err, &st->conf, serve_now(), &doc);
	serve_db_put(held, rc == 0 && doc.db_ok ? BB_DB_OK : BB_DB_RETRY); /* a lost connection is made again */
	if (rc == 0)
		rc = render(st, &doc);
	bb_status_free(&doc);
	st->at = rc == 0 ? bb_mono_ms() : 0;
	return rc;
}

/* A copy of the cached text of one of the JSON documents, as a reply. */
static enum MHD_Result reply_json(struct req *r, const struct bb_jw *which, int critical_status)
{
	struct serve_status *st = &r->s->status;
	struct bb_jw w = { 0 };
	int status = 200;

	pthread_mutex_lock(&st->mu);
	int rc = refresh(r->s);
	if (rc == 0) {
		bb_jw_raw(&w, which->buf, which->len);
		status = st->health == BB_CRITICAL ? critical_status : 200;
	}
	pthread_mutex_unlock(&st->mu);
	if (rc != 0) {
		bb_jw_free(&w);
		return serve_error(r, 500, "out of memory");
	}
	return serve_json(r, status, &w);
}

enum MHD_Result route_worker_status(struct req *r)
{
	return reply_json(r, &r->s->status.doc, 200);
}

/* 200 healthy or degraded, 503 critical: what a load balancer acts on. */
enum MHD_Result route_health(struct req *r)
{
	return reply_json(r, &r->s->status.verdict, 503);
}

void status_metrics(struct serve *s, FILE *out)
{
	struct serve_status *st = &s->status;

	pthread_mutex_lock(&st->mu);
	if (refresh(s) == 0)
		fwrite(st->prom, 1, st->prom_n, out);
	pthread_mutex_unlock(&st->mu);
}
