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
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define USAGE "usage: bb-validate [--strict] [--rejects FILE] [--max-receive-count N]\n" \
	      "                   [--marketplace ID]... [--unsupported skip|reject]\n"

struct ctx {
	struct vconf vconf;
	int64_t max_receive_count;
	int reject_unsupported;
	int strict;
	FILE *rejects;
	const char *rejects_path;
	size_t ok, rejected, skipped, passed;
};

struct verdict {
	const char *status;   /* ok, rejected or skipped */
	struct verr err;
	jv notification;
	jv notification_id; /* NotificationMetadata.NotificationId, trimmed, even when rejected */
};

/* The NotificationId of any parsed body, so a rejected record keeps its identity. */
static jv notification_id_of(jv doc)
{
	jv meta = jv_get_kind(doc) == JV_KIND_OBJECT ? jv_object_get(jv_copy(doc), jv_string("NotificationMetadata")) : jv_invalid();
	jv id = jv_get_kind(meta) == JV_KIND_OBJECT ? jv_object_get(jv_copy(meta), jv_string("NotificationId")) : jv_invalid();
	jv_free(meta);
	if (jv_get_kind(id) != JV_KIND_STRING) {
		jv_free(id);
		return jv_invalid();
	}
	const char *p = jv_string_value(id);
	size_t n = strlen(p);
	while (n && strchr(" \t\r\n", p[n - 1]))
		n--;
	while (n && strchr(" \t\r\n", *p))
		p++, n--;
	jv r = n ? jv_string_sized(p, (int)n) : jv_invalid();
	jv_free(id);
	return r;
}

static jv error_object(const struct verr *e)
{
	jv r = jv_object();
	r = jv_object_set(r, jv_string("type"), jv_string(e->type));
	r = jv_object_set(r, jv_string("message"), jv_string(e->message));
	r = jv_object_set(r, jv_string("stage"), jv_string("validate"));
	r = jv_object_set(r, jv_string("path"), e->path[0] ? jv_string(e->path) : jv_null());
	return r;
}

static void set_error(struct verdict *v, const char *type, const char *fmt, const char *arg)
{
	v->status = "rejected";
	v->err.type = type;
	v->err.path[0] = '\0';
	snprintf(v->err.message, sizeof v->err.message, fmt, arg);
}

/* Member as a string, or NULL; *tmp holds the parsed value for the caller to free. */
static const char *member_string(const struct bb_record *rec, const char *key, jv *tmp)
{
	*tmp = bb_record_get(rec, key);
	return jv_get_kind(*tmp) == JV_KIND_STRING ? jv_string_value(*tmp) : NULL;
}

/* The record's own verdict belongs to a later stage: leave it alone. */
static int decided_elsewhere(const struct bb_record *rec)
{
	jv status = bb_record_get(rec, "status"), err = bb_record_get(rec, "error");
	jv stage = jv_get_kind(err) == JV_KIND_OBJECT ?
		   jv_object_get(jv_copy(err), jv_string("stage")) : jv_invalid();
	int mine = jv_get_kind(stage) == JV_KIND_STRING && strcmp(jv_string_value(stage), "validate") == 0;
	int r = jv_get_kind(status) == JV_KIND_STRING && strcmp(jv_string_value(status), "ok") != 0 && !mine;
	jv_free(status);
	jv_free(err);
	jv_free(stage);
	return r;
}

static int64_t time_member(jv obj, const char *key)
{
	int64_t ms = -1;
	jv v = jv_get_kind(obj) == JV_KIND_OBJECT ? jv_object_get(jv_copy(obj), jv_string(key)) : jv_invalid();
	if (jv_get_kind(v) == JV_KIND_STRING)
		bb_time_parse(jv_string_value(v), strlen(jv_string_value(v)), &ms);
	jv_free(v);
	return ms;
}

static void judge(struct ctx *c, const char *body, size_t n, jv sqs, int64_t received,
		  struct verdict *v)
{
	jv receives = jv_get_kind(sqs) == JV_KIND_OBJECT ?
		      jv_object_get(jv_copy(sqs), jv_string("receive_count")) : jv_invalid();
	struct vtimes t = { time_member(sqs, "sent_at"), received };

	v->status = "ok";
	if (jv_get_kind(receives) == JV_KIND_NUMBER && jv_number_value(receives) > (double)c->max_receive_count) {
		char why[64];
		snprintf(why, sizeof why, "%.0f", jv_number_value(receives));
		set_error(v, "poison", "received %s times, more than max_receive_count", why);
		jv_free(receives);
		return;
	}
	jv_free(receives);
	jv doc = bb_jv_parse(body, n);
	if (!jv_is_valid(doc)) {
		jv msg = jv_invalid_get_msg(doc);
		char why[200];
		/* libjq quotes the whole input after the reason: the reason is enough */
		snprintf(why, sizeof why, "%s", jv_get_kind(msg) == JV_KIND_STRING ? jv_string_value(msg) : "not JSON");
		why[strcspn(why, "(")] = '\0';
		for (size_t k = strlen(why); k > 0 && why[k - 1] == ' '; k--)
			why[k - 1] = '\0';
		set_error(v, "malformed_json", "%s", why);
		jv_free(msg);
		return;
	}
	v->notification_id = notification_id_of(doc);
	switch (bb_validate_notification(doc, &c->vconf, &t, &v->notification, &v->err)) {
	case V_OK:
		break;
	case V_UNSUPPORTED:
		v->status = c->reject_unsupported ? "rejected" : "skipped";
		break;
	default:
		v->status = "rejected";
	}
	jv_free(doc);
}

static void reject_log(struct ctx *c, const struct bb_record *rec, const char *trace,
		       const struct verdict *v)
{
	char line[32], msg[800];
	snprintf(line, sizeof line, "%zu", rec->lineno);
	snprintf(msg, sizeof msg, "line %zu: %s: %s", rec->lineno, v->err.type, v->err.message);
	bb_log(BB_WARN, trace, msg, "line", line, "error_type", v->err.type, NULL);
	(void)c;
}

static int too_large(struct ctx *c, struct bb_record *rec, struct bb_emit *em, const char *trace)
{
	struct verdict v = { 0 };
	char size[32];

	snprintf(size, sizeof size, "%zu", rec->total_len);
	set_error(&v, "too_large", "line of %s bytes is over the 1048576-byte limit", size);
	/* an envelope keeps its sqs member, so the message can still be settled */
	em->fresh = !rec->is_object;
	bb_emit_set(em, "trace_id", jv_string(trace));
	bb_emit_set(em, "status", jv_string("rejected"));
	bb_emit_set(em, "error", error_object(&v.err));
	reject_log(c, rec, trace, &v);
	c->rejected++;
	if (c->rejects) { /* keep the line itself: nothing is lost */
		fwrite(rec->line, 1, rec->len, c->rejects);
		fputc('\n', c->rejects);
		fflush(c->rejects);
	}
	return c->strict ? BB_EX_DATAERR : 0;
}

static int on_record(struct bb_record *rec, struct bb_emit *em, void *arg)
{
	struct ctx *c = arg;
	char trace[37], hash[65], now[40];
	jv tmp_trace, sqs = jv_invalid();
	const char *body, *given = NULL;
	char *decoded = NULL;
	size_t n = 0;
	int64_t received = bb_now_ms();
	struct verdict v = { 0 };

	v.notification = jv_invalid();
	v.notification_id = jv_invalid();
	if (rec->too_large) {
		bb_uuid7(trace);
		return too_large(c, rec, em, trace);
	}
	if (rec->is_object && decided_elsewhere(rec)) {
		c->passed++;
		return 0;
	}
	given = rec->is_object ? member_string(rec, "trace_id", &tmp_trace) : NULL;
	if (!rec->is_object)
		tmp_trace = jv_invalid();
	int has_trace = given != NULL;
	snprintf(trace, sizeof trace, "%s", given ? given : "");
	if (!has_trace)
		bb_uuid7(trace);
	jv_free(tmp_trace);

	body = decoded = rec->is_object ? bb_record_string(rec, "body", &n) : NULL;
	if (body || (rec->is_object && bb_record_member(rec, "body"))) { /* an envelope */
		sqs = bb_record_get(rec, "sqs");
		int64_t r = -1;
		jv ra = bb_record_get(rec, "received_at");
		if (jv_get_kind(ra) == JV_KIND_STRING)
			bb_time_parse(jv_string_value(ra), strlen(jv_string_value(ra)), &r);
		jv_free(ra);
		if (r >= 0)
			received = r;
	} else { /* a bare notification: its bytes become body */
		body = rec->line;
		n = rec->len;
		em->fresh = 1;
		bb_emit_set(em, "body", jv_string_sized(body, (int)n));
		bb_time_format(received, now, sizeof now);
		bb_emit_set(em, "received_at", jv_string(now));
	}
	if (!has_trace)
		bb_emit_set(em, "trace_id", jv_string(trace));
	if (body) {
		judge(c, body, n, sqs, received, &v);
		bb_sha256_hex(body, n, hash);
	} else {
		set_error(&v, "schema", "%s", "body: expected a string holding the notification");
		snprintf(v.err.path, sizeof v.err.path, "body");
		bb_sha256_hex(rec->line, rec->len, hash);
	}
	jv mid = jv_get_kind(sqs) == JV_KIND_OBJECT ? jv_object_get(jv_copy(sqs), jv_string("message_id")) : jv_invalid();
	if (jv_get_kind(mid) != JV_KIND_STRING) {
		jv_free(mid);
		mid = jv_copy(v.notification_id);
	}
	if (jv_get_kind(mid) != JV_KIND_STRING || jv_string_length_bytes(jv_copy(mid)) == 0) {
		jv_free(mid);
		mid = jv_string(hash);
	}
	bb_emit_set(em, "message_id", mid);
	bb_emit_set(em, "dedupe_hash", jv_string(hash));
	if (jv_is_valid(v.notification))
		bb_emit_set(em, "notification", v.notification);
	bb_emit_set(em, "status", jv_string(v.status));
	if (strcmp(v.status, "ok") != 0)
		bb_emit_set(em, "error", error_object(&v.err));
	else if (bb_record_member(rec, "error"))
		bb_emit_set(em, "error", jv_invalid()); /* an earlier verdict of ours, now void */
	free(decoded);
	jv_free(sqs);
	jv_free(v.notification_id);

	if (strcmp(v.status, "skipped") == 0) {
		c->skipped++;
		return 0;
	}
	if (strcmp(v.status, "ok") == 0) {
		c->ok++;
		return 0;
	}
	c->rejected++;
	reject_log(c, rec, trace, &v);
	if (c->rejects) {
		bb_record_write(rec, em, c->rejects);
		fflush(c->rejects);
	}
	return c->strict ? BB_EX_DATAERR : 0;
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
	rc = bb_records_each(STDIN_FILENO, stdout, on_record, c);
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
	if (bb_cli_early(argc, argv, USAGE, "bb-validate " BB_VERSION))
		return 0;
	rc = bb_conf_load(&conf, err, sizeof err) != 0 ? bb_fatal(BB_EX_CONFIG, "%s", err) :
							configure(&c, conf, &mkt_copy);
	if (rc == 0)
		rc = parse_options(argc, argv, &c);
	if (rc == 0)
		rc = run(&c);
	free(c.vconf.marketplaces);
	free(mkt_copy);
	bb_conf_free(conf);
	return rc;
}
