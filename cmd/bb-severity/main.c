/* bb-severity: how threatened is each product? Adds `analysis` to every ok
 * record (SEVERITY.md) and passes every other record through unchanged; an
 * ok record without a usable `notification` is rejected. */
#include "cli.h"
#include "conf.h"
#include "exitcode.h"
#include "findings.h"
#include "log.h"
#include "money.h"
#include "parse.h"
#include "record.h"
#include "severity.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define USAGE "usage: bb-severity [--costs FILE] [--seller-id ID]... [--set KEY=VALUE]...\n" \
	      "                   [--findings FILE] [--format ndjson|text]\n"
/* --help: the usage and a line for each option, as in the man page */
#define HELP USAGE "\n" \
	     "  --costs FILE          the cost table, for margins and prices\n" \
	     "  --seller-id ID        an id of ours (repeatable; replaces the configured ids)\n" \
	     "  --set KEY=VALUE       set a threshold of the rules (repeatable)\n" \
	     "  --findings FILE       bb-trend's findings: open ones become risk flags\n" \
	     "  --format ndjson|text  write the records (default), or a line for people\n" \
	     "  -h, --help            print this help and exit\n" \
	     "  -V, --version         print the version and exit\n"

struct ctx {
	struct analysis_conf conf;
	struct costs costs;
	unsigned char *warned; /* per cost row: its currency was found wrong */
	int text;
	size_t analysed, passed, failed;
	/* reused for every record: their arrays grow to the largest seen */
	struct bb_notification n;
	struct analysis_out out;
	struct bb_jw w;
	char why[256]; /* why the last record was rejected */
	/* options */
	const char *costs_path, *findings_path;
	struct findings findings;
	const char **cli_sellers;
	int ncli;
	char *sellers_copy; /* [analysis] seller_ids, split in place */
};

static int set_threshold(struct analysis_conf *a, const char *key, const char *value, const char *where)
{
	for (int i = 0; i < T_COUNT; i++) {
		if (strcmp(threshold_names[i], key) != 0)
			continue;
		if (bb_parse_fixed(value, strlen(value), 2, &a->t[i]) != 0)
			return bb_fatal(BB_EX_CONFIG, "unable to use %s %s '%s': expected a non-negative number with at most two decimals",
					where, key, value);
		return 0;
	}
	return bb_fatal(BB_EX_CONFIG, "unable to use %s '%s': no such threshold", where, key);
}

static int rank_curve(struct analysis_conf *a, const char *v)
{
	char *end;
	errno = 0;
	a->rank_a = strtod(v, &end);
	if (errno || end == v || *end != ',' || !isfinite(a->rank_a))
		goto bad;
	const char *b = end + 1;
	a->rank_b = strtod(b, &end);
	if (errno || end == b || *end || !isfinite(a->rank_b))
		goto bad;
	a->rank_curve = 1;
	return 0;
bad:
	return bb_fatal(BB_EX_CONFIG, "unable to use [analysis] rank_curve '%s': expected A,B", v);
}

static int configure(struct ctx *c, struct bb_conf *conf)
{
	const char *v;
	int rc;

	memcpy(c->conf.t, threshold_defaults, sizeof c->conf.t);
	for (int i = 0; i < T_COUNT; i++)
		if ((v = bb_conf_get(conf, "severity", threshold_names[i])) &&
		    (rc = set_threshold(&c->conf, threshold_names[i], v, "[severity]")))
			return rc;
	if ((v = bb_conf_get(conf, "analysis", "rank_curve")) && (rc = rank_curve(&c->conf, v)))
		return rc;
	if ((v = bb_conf_get(conf, "analysis", "seller_ids"))) {
		if (!(c->sellers_copy = strdup(v)) ||
		    bb_split_list(c->sellers_copy, &c->conf.sellers, &c->conf.nsellers) != 0)
			return bb_fatal(BB_EX_SOFTWARE, "out of memory");
	}
	/* costs_path points into conf, which lives until main() returns */
	c->costs_path = bb_conf_get(conf, "analysis", "costs");
	return 0;
}

/* ---- cost rows ---- */

/* A record's string for a log field, which takes C strings: a NUL inside
 * would only cut the logged value short. NULL for null. */
static char *log_text(struct bb_str s)
{
	return s.p ? strndup(s.p, s.n) : NULL;
}

/* A cost row in another currency than the notification is not used. Said
 * once per row, naming both currencies and where the row is: the fix is in
 * the table. */
static void warn_currency(struct ctx *c, const struct bb_notification *n)
{
	const struct cost *row = costs_find(&c->costs, n->asin, n->marketplace);
	char *asin, *mkt, *cur, *msg = NULL;

	if (!row || c->warned[row - c->costs.rows])
		return;
	asin = log_text(n->asin), mkt = log_text(n->marketplace), cur = log_text(n->currency);
	if (asin && mkt &&
	    asprintf(&msg, "%s:%zu: the cost row of %s in %s is in %s, the notification in %s: "
		     "treated as no cost data", c->costs_path, row->line, asin, mkt, row->currency,
		     cur ? cur : "no currency") >= 0) {
		c->warned[row - c->costs.rows] = 1;
		bb_log(BB_WARN, NULL, msg, "asin", asin, "marketplace", mkt, "currency", cur,
		       "cost_currency", row->currency, NULL);
		free(msg);
	}
	free(asin);
	free(mkt);
	free(cur);
}

/* ---- the text format ---- */

/* Bytes for a terminal: a control byte in a record's string
 * would break the one-line-per-record format. */
static void put_text(FILE *out, struct bb_str s, const char *none)
{
	if (!s.p) {
		fputs(none, out);
		return;
	}
	for (size_t i = 0; i < s.n; i++)
		putc((unsigned char)s.p[i] < 0x20 ? '?' : s.p[i], out);
}

/* "WARNING ", "REJECTED": capitals, padded to 8 columns. */
static void put_status(FILE *out, struct bb_str s)
{
	size_t i = 0;

	for (; i < s.n; i++) {
		char ch = s.p[i];
		putc((unsigned char)ch < 0x20 ? '?' : ch >= 'a' && ch <= 'z' ? ch - 32 : ch, out);
	}
	for (; i < 8; i++)
		putc(' ', out);
}

static void put_money(FILE *out, int64_t v, struct bb_str currency)
{
	char b[48];

	if (v == BB_NONE) {
		putc('-', out);
		return;
	}
	bb_money_text(v, currency.p, currency.n, b, sizeof b);
	fputs(b, out);
}

/* SEVERITY ASIN MARKETPLACE ours OUR low LOW RULE: REASON; REASON [FLAG,FLAG] */
static void text_analysis(FILE *out, const struct bb_notification *n, const struct bb_analysis *a)
{
	put_status(out, a->severity);
	putc(' ', out);
	put_text(out, n->asin, "-");
	putc(' ', out);
	put_text(out, n->marketplace, "-");
	fputs(" ours ", out);
	put_money(out, a->our_price, n->currency);
	fputs(" low ", out);
	put_money(out, a->market_low, n->currency);
	putc(' ', out);
	put_text(out, a->rule, "-");
	fputs(": ", out);
	for (size_t i = 0; i < a->nreasons; i++) {
		fputs(i ? "; " : "", out);
		put_text(out, a->reasons[i], "");
	}
	for (size_t i = 0; i < a->nflags; i++) {
		fputs(i ? "," : " [", out);
		put_text(out, a->risk_flags[i], "");
	}
	fputs(a->nflags ? "]\n" : "\n", out);
}

/* STATUS ASIN line N TYPE: MESSAGE, with the status and error the record
 * leaves with: bb-severity's own rejection, else those it came with. */
static void text_other(FILE *out, const struct bb_record *rec, const char *rejected_why)
{
	const struct bb_envelope *e = &rec->env;
	struct bb_str status = e->status, type = e->error_type, msg = e->error_message;

	if (rejected_why) {
		status = (struct bb_str){ "rejected", 8 };
		type = (struct bb_str){ "schema", 6 };
		msg = (struct bb_str){ rejected_why, strlen(rejected_why) };
	} else if (!status.p) {
		status = (struct bb_str){ "unknown", 7 };
	}
	put_status(out, status);
	putc(' ', out);
	put_text(out, bb_str_of(bb_json_getz(e->notification, "asin")), "-");
	fprintf(out, " line %zu ", rec->lineno);
	put_text(out, type, "-");
	fputs(": ", out);
	put_text(out, msg, "");
	putc('\n', out);
}

/* ---- records ---- */

enum outcome { PASSED, ANALYSED, REJECTED };

static enum outcome reject(struct ctx *c, const struct bb_record *rec, struct bb_emit *em, int unvalidated)
{
	char line[24], msg[sizeof c->why + 64];

	if (unvalidated)
		bb_reject_unvalidated(em, "severity", c->why, sizeof c->why);
	else
		bb_reject(em, "schema", c->why, strlen(c->why), "severity", "notification");
	snprintf(line, sizeof line, "%zu", rec->lineno);
	snprintf(msg, sizeof msg, "line %zu: schema: %s", rec->lineno, c->why);
	bb_log(BB_WARN, NULL, msg, "line", line, "error_type", "schema", NULL);
	return REJECTED;
}

/* An object without a status has not been through bb-validate either. */
static int unvalidated(const struct bb_envelope *e)
{
	if (bb_json_type(e->notification) != BB_JNONE)
		return 0;
	return bb_str_eq(e->status, "ok") || bb_json_type(bb_json_getz(e->root, "status")) == BB_JNONE;
}

static enum outcome judge(struct ctx *c, const struct bb_record *rec, struct bb_emit *em)
{
	const struct bb_envelope *e = &rec->env;
	int mismatch;

	if (!rec->json_ok || !rec->is_object) /* not a record: on as it came */
		return PASSED;
	if (unvalidated(e))
		return reject(c, rec, em, 1);
	if (!bb_str_eq(e->status, "ok"))
		return PASSED;
	if (bb_notification_read(e->notification, &c->n, c->why, sizeof c->why) != 0)
		return reject(c, rec, em, 0);
	analyse(&c->n, &c->conf, &c->out, &mismatch);
	findings_flag(&c->findings, &c->n, &c->out.a);
	if (mismatch)
		warn_currency(c, &c->n);
	/* one writer for every record: its buffer is allocated once */
	bb_jw_reset(&c->w);
	bb_analysis_write(&c->w, &c->out.a);
	if (!c->w.oom)
		bb_emit_raw(em, "analysis", c->w.buf, c->w.len);
	return ANALYSED;
}

static int on_record(struct bb_record *rec, struct bb_emit *em, void *arg)
{
	struct ctx *c = arg;
	enum outcome o = judge(c, rec, em);

	if (c->w.oom)
		return bb_fatal(BB_EX_SOFTWARE, "out of memory");
	c->analysed += o == ANALYSED;
	c->failed += o == REJECTED;
	c->passed += o == PASSED;
	if (c->text) {
		em->suppress = 1;
		if (o == ANALYSED)
			text_analysis(stdout, &c->n, &c->out.a);
		else
			text_other(stdout, rec, o == REJECTED ? c->why : NULL);
	}
	return 0;
}

/* ---- options and running ---- */

static int add_seller(struct ctx *c, const char *id)
{
	const char **s = realloc(c->cli_sellers, (size_t)(c->ncli + 1) * sizeof *s);
	if (!s)
		return bb_fatal(BB_EX_SOFTWARE, "out of memory");
	c->cli_sellers = s;
	s[c->ncli++] = id;
	return 0;
}

static int set_option(struct ctx *c, char *kv)
{
	char *eq = strchr(kv, '=');
	if (!eq) {
		bb_say("--set '%s': expected KEY=VALUE", kv);
		return BB_EX_USAGE;
	}
	*eq = '\0';
	return set_threshold(&c->conf, kv, eq + 1, "--set");
}

static int parse_options(int argc, char **argv, struct ctx *c)
{
	static const struct option opts[] = {
		{ "costs", required_argument, NULL, 'c' },
		{ "seller-id", required_argument, NULL, 's' },
		{ "set", required_argument, NULL, 'S' },
		{ "format", required_argument, NULL, 'f' },
		{ "findings", required_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 },
	};
	int opt, rc = 0;

	while (rc == 0 && (opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': c->costs_path = optarg; break;
		case 'F': c->findings_path = optarg; break;
		case 's': rc = add_seller(c, optarg); break;
		case 'S': rc = set_option(c, optarg); break;
		case 'f':
			if (strcmp(optarg, "text") && strcmp(optarg, "ndjson")) {
				bb_say("--format '%s': expected ndjson or text", optarg);
				return BB_EX_USAGE;
			}
			c->text = strcmp(optarg, "text") == 0;
			break;
		default: fputs(USAGE, stderr); return BB_EX_USAGE;
		}
	}
	if (rc == 0 && optind < argc) {
		bb_say("unexpected argument '%s'", argv[optind]);
		fputs(USAGE, stderr);
		return BB_EX_USAGE;
	}
	if (c->ncli) { /* --seller-id replaces the configured list */
		free(c->conf.sellers);
		c->conf.sellers = c->cli_sellers;
		c->conf.nsellers = c->ncli;
		c->cli_sellers = NULL;
	}
	return rc;
}

static int run(struct ctx *c)
{
	char err[600], an[24], pa[24], fa[24];
	int rc;

	if (c->costs_path && costs_load(&c->costs, c->costs_path, err, sizeof err) != 0)
		return bb_fatal(BB_EX_CONFIG, "unable to load cost table: %s", err);
	c->conf.costs = &c->costs;
	if (c->findings_path && findings_load(&c->findings, c->findings_path, err, sizeof err) != 0)
		return bb_fatal(BB_EX_CONFIG, "unable to load findings: %s", err);
	if (!(c->warned = calloc(c->costs.n + 1, 1)) || analysis_out_init(&c->out) != 0)
		return bb_fatal(BB_EX_SOFTWARE, "out of memory");
	bb_jw_init(&c->w);
	bb_signals_install();
	/* the body is not read; records (not text) are written by a thread of their own */
	struct bb_loop loop = { .on_record = on_record, .ctx = c, .lazy_body = 1, .write_behind = !c->text };
	rc = bb_records_run(STDIN_FILENO, stdout, &loop);
	snprintf(an, sizeof an, "%zu", c->analysed);
	snprintf(pa, sizeof pa, "%zu", c->passed);
	snprintf(fa, sizeof fa, "%zu", c->failed);
	bb_log(BB_INFO, NULL, "summary", "analysed", an, "passed", pa, "rejected", fa, NULL);
	return rc;
}

static void release(struct ctx *c)
{
	free(c->conf.sellers);
	free(c->cli_sellers);
	free(c->sellers_copy);
	free(c->warned);
	costs_free(&c->costs);
	findings_free(&c->findings);
	bb_notification_free(&c->n);
	analysis_out_free(&c->out);
	bb_jw_free(&c->w);
}

int main(int argc, char **argv)
{
	struct ctx c = { 0 };
	struct bb_conf *conf = NULL;
	char err[600];
	int rc;

	bb_log_init("bb-severity");
	if (bb_cli_early(argc, argv, HELP, "bb-severity " BB_VERSION))
		return 0;
	rc = bb_conf_load(&conf, err, sizeof err) != 0 ? bb_fatal(BB_EX_CONFIG, "%s", err) :
							configure(&c, conf);
	if (rc == 0)
		rc = parse_options(argc, argv, &c);
	if (rc == 0)
		rc = run(&c);
	release(&c);
	bb_conf_free(conf);
	return rc;
}
