/* bb-validate: check each SP-API notification, normalise it, or say exactly
 * what is wrong with it and where, and pass every record on either way. */
#include "cli.h"
#include "conf.h"
#include "exitcode.h"
#include "ids.h"
#include "log.h"
#include "parse.h"
#include "record.h"
#include "timeutil.h"
#include "validate.h"

#include <errno.h>
#include <stdarg.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define USAGE "usage: bb-validate [--strict] [--rejects FILE] [--max-receive-count N]\n" \
	      "                   [--marketplace ID]... [--unsupported skip|reject]\n"
#define HELP USAGE "\n" \
	     "  --strict                   stop after the first rejected record (exit 65)\n" \
	     "  --rejects FILE             also append each rejected record to FILE\n" \
	     "  --max-receive-count N      a receive_count above N is poison (default 3)\n" \
	     "  --marketplace ID           accept ID besides Amazon's (repeatable)\n" \
	     "  --unsupported skip|reject  other notification types (default skip)\n" \
	     "  -h, --help                 print this help and exit\n" \
	     "  -V, --version              print the version and exit\n"

struct ctx {
	struct vconf vconf;
	int64_t max_receive_count;
	int reject_unsupported;
	int strict;
	FILE *rejects;
	const char *rejects_path;
	size_t ok, rejected, skipped, passed;
	struct bb_jdoc *doc; /* the body's parse */
	struct bb_notification n;
	struct vscratch scratch;
	struct bb_jw w;
};

struct verdict {
	const char *status;   /* ok, rejected or skipped */
	struct verr err;
	int has_notification;
	struct bb_str notification_id; /* trimmed, even when rejected */
};

static void emit_error(struct bb_emit *em, struct bb_jw *w, const struct verr *e)
{
	bb_jw_obj(w);
	bb_jw_kstrz(w, "type", e->type);
	bb_jw_kstrz(w, "message", e->message);
	bb_jw_kstrz(w, "stage", "validate");
	bb_jw_kstrz(w, "path", e->path[0] ? e->path : NULL);
	bb_jw_end(w, '}');
	bb_emit_jw(em, "error", w);
}

static void set_error(struct verdict *v, const char *type, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_error(struct verdict *v, const char *type, const char *fmt, ...)
{
	va_list ap;

	v->status = "rejected";
	v->err.type = type;
	v->err.path[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(v->err.message, sizeof v->err.message, fmt, ap);
	va_end(ap);
}

/* The record's own verdict belongs to a later stage: leave it alone. */
static int decided_elsewhere(const struct bb_envelope *e)
{
	return e->status.p && !bb_str_eq(e->status, "ok") && !bb_str_eq(e->error_stage, "validate");
}

static void judge(struct ctx *c, const char *body, size_t n, const struct bb_envelope *env,
		  int64_t received, struct verdict *v)
{
	struct vtimes t = { env->sqs.sent_at, received };
	struct bb_jval doc;
	struct bb_jerr jerr;

	v->status = "ok";
	if (env->sqs.receive_count != BB_NONE && env->sqs.receive_count > c->max_receive_count) {
		set_error(v, "poison", "received %lld times, more than max_receive_count",
			  (long long)env->sqs.receive_count);
		return;
	}
	/* the body is a string of the record's document, or the line itself:
	 * either way, padded as the JSON layer asks, and read where it is */
	if (bb_json_parse_padded(c->doc, body, n, &doc, &jerr) != 0) {
		set_error(v, "malformed_json", "%s at byte %zu", jerr.message, jerr.offset);
		return;
	}
	v->notification_id = bb_notification_id_of(doc);
	switch (bb_validate_notification(doc, &c->vconf, &t, &c->n, &c->scratch, &v->err)) {
	case V_OK:
		v->has_notification = 1;
		break;
	case V_UNSUPPORTED:
		v->status = c->reject_unsupported ? "rejected" : "skipped";
		break;
	default:
		v->status = "rejected";
	}
}

static void reject_log(const struct bb_record *rec, const char *trace, const struct verdict *v)
{
	char line[32], msg[800];
	snprintf(line, sizeof line, "%zu", rec->lineno);
	snprintf(msg, sizeof msg, "line %zu: %s: %s", rec->lineno, v->err.type, v->err.message);
	bb_log(BB_WARN, trace, msg, "line", line, "error_type", v->err.type, NULL);
}

static int too_large(struct ctx *c, struct bb_record *rec, struct bb_emit *em, const char *trace)
{
	struct verdict v = { 0 };

	set_error(&v, "too_large", "line of %zu bytes is over the 1048576-byte limit", rec->total_len);
	/* an envelope keeps its sqs member, so the message can still be settled */
	em->fresh = !rec->is_object;
	bb_emit_str(em, "trace_id", trace, strlen(trace));
	bb_emit_str(em, "status", "rejected", 8);
	emit_error(em, &c->w, &v.err);
	reject_log(rec, trace, &v);
	c->rejected++;
	if (c->rejects) { /* keep the line itself: nothing is lost */
		fwrite(rec->line, 1, rec->len, c->rejects);
		fputc('\n', c->rejects);
		fflush(c->rejects);
	}
	return c->strict ? BB_EX_DATAERR : 0;
}

/* The trace id the record carries (a string without NUL), else a new one. */
static int trace_of(const struct bb_record *rec, char trace[37])
{
	struct bb_str t = rec->env.trace_id;
	if (rec->is_object && t.p && t.n > 0 && t.n < 37 && !memchr(t.p, '\0', t.n)) {
		memcpy(trace, t.p, t.n);
		trace[t.n] = '\0';
		return 1;
	}
	bb_uuid7(trace);
	return 0;
}

/* message_id: SQS's MessageId, else the NotificationId, else the hash. */
static void emit_message_id(struct bb_emit *em, const struct bb_envelope *env, const struct verdict *v,
			    const char *hash)
{
	struct bb_str sqs = env->sqs.message_id;
	if (sqs.p && sqs.n > 0 && !memchr(sqs.p, '\0', sqs.n))
		bb_emit_str(em, "message_id", sqs.p, sqs.n);
	else if (v->notification_id.p)
		bb_emit_str(em, "message_id", v->notification_id.p, v->notification_id.n);
	else
		bb_emit_str(em, "message_id", hash, 64);
}

static int count(struct ctx *c, const struct bb_record *rec, struct bb_emit *em, const char *trace,
		 const struct verdict *v)
{
	if (strcmp(v->status, "skipped") == 0) {
		c->skipped++;
		return 0;
	}
	if (strcmp(v->status, "ok") == 0) {
		c->ok++;
		return 0;
	}
	c->rejected++;
	reject_log(rec, trace, v);
	if (c->rejects) {
		bb_record_write(rec, em, c->rejects);
		fflush(c->rejects);
	}
	return c->strict ? BB_EX_DATAERR : 0;
}

static int on_record(struct bb_record *rec, struct bb_emit *em, void *arg)
{
	struct ctx *c = arg;
	const struct bb_envelope *env = &rec->env;
	char trace[37], hash[65];
	const char *body;
	size_t n = 0;
	int64_t received = bb_now_ms();
	struct verdict v = { 0 };

	if (rec->too_large) {
		bb_uuid7(trace);
		return too_large(c, rec, em, trace);
	}
	if (rec->is_object && decided_elsewhere(env)) {
		c->passed++;
		return 0;
	}
	int has_trace = trace_of(rec, trace);
	if (rec->is_object && bb_json_type(env->body) != BB_JNONE) { /* an envelope */
		body = env->body_text.p;
		n = env->body_text.n;
		if (env->received_at >= 0)
			received = env->received_at;
	} else { /* a bare notification, or not JSON at all: its bytes become body */
		body = rec->line;
		n = rec->len;
		em->fresh = 1;
		bb_emit_str(em, "body", body, n);
		bb_jw_time(&c->w, received);
		bb_emit_jw(em, "received_at", &c->w);
	}
	if (!has_trace)
		bb_emit_str(em, "trace_id", trace, strlen(trace));
	if (body) {
		judge(c, body, n, env, received, &v);
		bb_sha256_hex(body, n, hash);
	} else {
		set_error(&v, "schema", "%s", "body: expected a string holding the notification");
		snprintf(v.err.path, sizeof v.err.path, "body");
		bb_sha256_hex(rec->line, rec->len, hash);
	}
	emit_message_id(em, env, &v, hash);
	bb_emit_str(em, "dedupe_hash", hash, 64);
	if (v.has_notification) {
		bb_notification_write(&c->w, &c->n);
		bb_emit_jw(em, "notification", &c->w);
	}
	bb_emit_str(em, "status", v.status, strlen(v.status));
	if (strcmp(v.status, "ok") != 0)
		emit_error(em, &c->w, &v.err);
	else if (bb_json_type(env->error) != BB_JNONE)
		bb_emit_remove(em, "error"); /* an earlier verdict of ours, now void */
	if (v.has_notification && bb_record_out_len(rec, em) > BB_LINE_MAX) {
		/* the next stage could not read it: refused here, where it is whole */
		set_error(&v, "too_large", "the record with its notification would be %zu bytes, over the 1048576-byte limit",
			  bb_record_out_len(rec, em));
		v.has_notification = 0;
		bb_emit_remove(em, "notification");
		bb_emit_str(em, "status", v.status, strlen(v.status));
		emit_error(em, &c->w, &v.err);
	}
	return count(c, rec, em, trace, &v);
}

static int add_marketplaces(struct ctx *c, char *list)
{
	return bb_split_list(list, &c->vconf.marketplaces, &c->vconf.nmarketplaces);
}

static int configure(struct ctx *c, struct bb_conf *conf, char **mkt_copy)
{
	const char *v;

	if ((v = bb_conf_get(conf, "validate", "max_receive_count")) &&
	    bb_parse_i64(v, 1, 1000000, &c->max_receive_count) != 0)
		return bb_fatal(BB_EX_CONFIG, "unable to use [validate] max_receive_count '%s': expected a whole number from 1", v);
	if ((v = bb_conf_get(conf, "validate", "unsupported"))) {
		if (strcmp(v, "reject") && strcmp(v, "skip"))
			return bb_fatal(BB_EX_CONFIG, "unable to use [validate] unsupported '%s': expected skip or reject", v);
		c->reject_unsupported = strcmp(v, "reject") == 0;
	}
	if ((v = bb_conf_get(conf, "validate", "marketplaces"))) {
		*mkt_copy = strdup(v);
		if (!*mkt_copy || add_marketplaces(c, *mkt_copy))
			return bb_fatal(BB_EX_SOFTWARE, "out of memory");
	}
	return 0;
}

static int parse_options(int argc, char **argv, struct ctx *c)
{
	static const struct option opts[] = {
		{ "strict", no_argument, NULL, 's' },
		{ "rejects", required_argument, NULL, 'r' },
		{ "max-receive-count", required_argument, NULL, 'm' },
		{ "marketplace", required_argument, NULL, 'k' },
		{ "unsupported", required_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 's': c->strict = 1; break;
		case 'r': c->rejects_path = optarg; break;
		case 'm':
			if (bb_parse_i64(optarg, 1, 1000000, &c->max_receive_count) != 0) {
				bb_say("--max-receive-count '%s': expected a whole number from 1", optarg);
				return BB_EX_USAGE;
			}
			break;
		case 'k':
			if (add_marketplaces(c, optarg))
				return bb_fatal(BB_EX_SOFTWARE, "out of memory");
			break;
		case 'u':
			if (strcmp(optarg, "reject") && strcmp(optarg, "skip")) {
				bb_say("--unsupported '%s': expected skip or reject", optarg);
				return BB_EX_USAGE;
			}
			c->reject_unsupported = strcmp(optarg, "reject") == 0;
			break;
		default: fputs(USAGE, stderr); return BB_EX_USAGE;
		}
	}
	if (optind < argc) {
		bb_say("unexpected argument '%s'", argv[optind]);
		fputs(USAGE, stderr);
		return BB_EX_USAGE;
	}
	return 0;
}

static int run(struct ctx *c)
{
	char ok[24], rej[24], sk[24], pa[24];
	int rc;

	if (c->rejects_path && !(c->rejects = fopen(c->rejects_path, "a")))
		return bb_fatal(BB_EX_IOERR, "unable to open rejects file '%s': %s", c->rejects_path, strerror(errno));
	bb_signals_install();
	/* standard output written by a thread of its own: a sixth of the work */
	struct bb_loop loop = { .on_record = on_record, .ctx = c, .write_behind = 1 };
	rc = bb_records_run(STDIN_FILENO, stdout, &loop);
	if (c->rejects && fclose(c->rejects) != 0 && rc == 0)
		rc = bb_fatal(BB_EX_IOERR, "unable to write rejects file '%s': %s", c->rejects_path, strerror(errno));
	snprintf(ok, sizeof ok, "%zu", c->ok);
	snprintf(rej, sizeof rej, "%zu", c->rejected);
	snprintf(sk, sizeof sk, "%zu", c->skipped);
	snprintf(pa, sizeof pa, "%zu", c->passed);
	bb_log(BB_INFO, NULL, "summary", "ok", ok, "rejected", rej, "skipped", sk, "passed", pa, NULL);
	return rc;
}

int main(int argc, char **argv)
{
	struct ctx c = { .max_receive_count = 3 };
	struct bb_conf *conf = NULL;
	char err[512], *mkt_copy = NULL;
	int rc;

	bb_log_init("bb-validate");
	if (bb_cli_early(argc, argv, HELP, "bb-validate " BB_VERSION))
		return 0;
	if (!(c.doc = bb_json_new()))
		return bb_fatal(BB_EX_SOFTWARE, "out of memory");
	rc = bb_conf_load(&conf, err, sizeof err) != 0 ? bb_fatal(BB_EX_CONFIG, "%s", err) :
							configure(&c, conf, &mkt_copy);
	if (rc == 0)
		rc = parse_options(argc, argv, &c);
	if (rc == 0)
		rc = run(&c);
	free(c.vconf.marketplaces);
	bb_json_free(c.doc);
	bb_notification_free(&c.n);
	bb_jw_free(&c.w);
	free(mkt_copy);
	bb_conf_free(conf);
	return rc;
}
