/* bb-severity: how threatened is each product? Adds `analysis` to every ok
 * record (SEVERITY.md); passes every other record through unchanged. */
#include "cli.h"
#include "conf.h"
#include "exitcode.h"
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
	      "                   [--format ndjson|text]\n"
/* --help: the usage and a line for each option, as in the man page */
#define HELP USAGE "\n" \
	     "  --costs FILE          the cost table, for margins and prices\n" \
	     "  --seller-id ID        an id of ours (repeatable; replaces the configured ids)\n" \
	     "  --set KEY=VALUE       set a threshold of the rules (repeatable)\n" \
	     "  --format ndjson|text  write the records (default), or a line for people\n" \
	     "  -h, --help            print this help and exit\n" \
	     "  -V, --version         print the version and exit\n"

struct ctx {
	struct analysis_conf conf;
	struct costs costs;
	const char *costs_path;
	unsigned char *warned; /* per cost row: its currency was found wrong */
	int text;
	size_t analysed, passed, failed;
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

static int configure(struct ctx *c, struct bb_conf *conf, char **sellers_copy)
{
	const char *v;
	char where[64];
	int rc;

	memcpy(c->conf.t, threshold_defaults, sizeof c->conf.t);
	for (int i = 0; i < T_COUNT; i++) {
		snprintf(where, sizeof where, "[severity]");
		if ((v = bb_conf_get(conf, "severity", threshold_names[i])) &&
		    (rc = set_threshold(&c->conf, threshold_names[i], v, where)))
			return rc;
	}
	if ((v = bb_conf_get(conf, "analysis", "rank_curve")) && (rc = rank_curve(&c->conf, v)))
		return rc;
	if ((v = bb_conf_get(conf, "analysis", "seller_ids"))) {
		if (!(*sellers_copy = strdup(v)) ||
		    bb_split_list(*sellers_copy, &c->conf.sellers, &c->conf.nsellers) != 0)
			return bb_fatal(BB_EX_SOFTWARE, "out of memory");
	}
	return 0;
}

/* A cost row in another currency than the notification is not used. Said
 * once per row, naming both currencies and where the row is: the fix is in
 * the table. */
static void warn_currency(struct ctx *c, const struct bb_record *n)
{
	size_t len;
	char *asin = bb_record_string(n, "asin", &len), *mkt = bb_record_string(n, "marketplace", &len);
	char *cur = bb_record_string(n, "currency", &len), *msg = NULL;
	const struct cost *row = asin && mkt ? costs_find(&c->costs, asin, mkt) : NULL;

	if (row && !c->warned[row - c->costs.rows] &&
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

/* status and err are the record's as it leaves (err may be invalid: read the record's). */
static void text_line(FILE *out, const struct bb_record *rec, jv status, jv n, jv a, jv own_err)
{
	jv asin = jv_get_kind(n) == JV_KIND_OBJECT ? jv_object_get(jv_copy(n), jv_string("asin")) : jv_null();
	const char *as = jv_get_kind(asin) == JV_KIND_STRING ? jv_string_value(asin) : "-";

	if (!jv_is_valid(a)) {
		jv err = jv_is_valid(own_err) ? jv_copy(own_err) : bb_record_get(rec, "error");
		jv msg = jv_get_kind(err) == JV_KIND_OBJECT ? jv_object_get(jv_copy(err), jv_string("message")) : jv_null();
		jv type = jv_get_kind(err) == JV_KIND_OBJECT ? jv_object_get(jv_copy(err), jv_string("type")) : jv_null();
		char st[16];
		snprintf(st, sizeof st, "%s", jv_get_kind(status) == JV_KIND_STRING ? jv_string_value(status) : "unknown");
		for (char *p = st; *p; p++)
			*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
		fprintf(out, "%-8s %s line %zu %s: %s\n", st, as, rec->lineno,
			jv_get_kind(type) == JV_KIND_STRING ? jv_string_value(type) : "-",
			jv_get_kind(msg) == JV_KIND_STRING ? jv_string_value(msg) : "");
		jv_free(type);
		jv_free(msg);
		jv_free(err);
		jv_free(asin);
		return;
	}
	jv cur = jv_object_get(jv_copy(n), jv_string("currency")), mkt = jv_object_get(jv_copy(n), jv_string("marketplace"));
	int exp = bb_currency_exponent(jv_get_kind(cur) == JV_KIND_STRING ? jv_string_value(cur) : "");
	jv sev = jv_object_get(jv_copy(a), jv_string("severity")), rule = jv_object_get(jv_copy(a), jv_string("rule"));
	jv ours = jv_object_get(jv_copy(a), jv_string("our_price")), low = jv_object_get(jv_copy(a), jv_string("market_low"));
	jv reasons = jv_object_get(jv_copy(a), jv_string("reasons")), flags = jv_object_get(jv_copy(a), jv_string("risk_flags"));
	char op[32] = "-", lp[32] = "-";
	if (jv_get_kind(ours) == JV_KIND_NUMBER)
		bb_money_format((int64_t)jv_number_value(ours), exp, op, sizeof op);
	if (jv_get_kind(low) == JV_KIND_NUMBER)
		bb_money_format((int64_t)jv_number_value(low), exp, lp, sizeof lp);
	fprintf(out, "%-8s %s %s ours %s low %s %s: ", jv_string_value(sev), as,
		jv_get_kind(mkt) == JV_KIND_STRING ? jv_string_value(mkt) : "-", op, lp, jv_string_value(rule));
	for (int i = 0; i < jv_array_length(jv_copy(reasons)); i++) {
		jv r = jv_array_get(jv_copy(reasons), i);
		fprintf(out, "%s%s", i ? "; " : "", jv_string_value(r));
		jv_free(r);
	}
	for (int i = 0; i < jv_array_length(jv_copy(flags)); i++) {
		jv r = jv_array_get(jv_copy(flags), i);
		fprintf(out, "%s%s", i ? "," : " [", jv_string_value(r));
		jv_free(r);
	}
	fputs(jv_array_length(jv_copy(flags)) ? "]\n" : "\n", out);
	jv_free(cur), jv_free(mkt), jv_free(sev), jv_free(rule), jv_free(ours), jv_free(low);
	jv_free(reasons), jv_free(flags), jv_free(asin);
}

static int on_record(struct bb_record *rec, struct bb_emit *em, void *arg)
{
	struct ctx *c = arg;
	jv status = bb_record_get(rec, "status"), n = jv_invalid(), a = jv_invalid(), own_err = jv_invalid();
	int ok = jv_get_kind(status) == JV_KIND_STRING && strcmp(jv_string_value(status), "ok") == 0;

	if (!ok) {
		c->passed++;
	} else {
		int mismatch;
		struct bb_record sub;
		bb_record_sub(rec, "notification", &sub);
		a = analyse(&sub, &c->conf, &mismatch);
		if (mismatch)
			warn_currency(c, &sub);
		free(sub.m);
		if (c->text)
			n = bb_record_get(rec, "notification");
		if (jv_is_valid(a)) {
			c->analysed++;
			bb_emit_set(em, "analysis", jv_copy(a));
		} else {
			jv msg = jv_invalid_get_msg(a);
			jv e = jv_object();
			e = jv_object_set(e, jv_string("type"), jv_string("schema"));
			e = jv_object_set(e, jv_string("message"), msg);
			e = jv_object_set(e, jv_string("stage"), jv_string("severity"));
			e = jv_object_set(e, jv_string("path"), jv_string("notification"));
			char line[24];
			snprintf(line, sizeof line, "%zu", rec->lineno);
			bb_log(BB_WARN, NULL, "rejected: the notification lacks what the analysis needs",
			       "line", line, "error_type", "schema", NULL);
			jv_free(status);
			status = jv_string("rejected");
			own_err = jv_copy(e);
			bb_emit_set(em, "status", jv_string("rejected"));
			bb_emit_set(em, "error", e);
			a = jv_invalid();
			c->failed++;
		}
	}
	if (c->text) {
		em->suppress = 1;
		text_line(stdout, rec, status, n, a, own_err);
	}
	jv_free(own_err);
	jv_free(status);
	jv_free(n);
	jv_free(a);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "costs", required_argument, NULL, 'c' },
		{ "seller-id", required_argument, NULL, 's' },
		{ "set", required_argument, NULL, 'S' },
		{ "format", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctx c = { 0 };
	struct bb_conf *conf = NULL;
	const char *costs_path = NULL, **cli_sellers = NULL;
	char err[600], *sellers_copy = NULL;
	int opt, rc, ncli = 0;

	bb_log_init("bb-severity");
	if (bb_cli_early(argc, argv, HELP, "bb-severity " BB_VERSION))
		return 0;
	if (bb_conf_load(&conf, err, sizeof err) != 0)
		return bb_fatal(BB_EX_CONFIG, "%s", err);
	if ((rc = configure(&c, conf, &sellers_copy)) != 0)
		goto out;
	costs_path = bb_conf_get(conf, "analysis", "costs");
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': costs_path = optarg; break;
		case 's': {
			const char **s = realloc(cli_sellers, (size_t)(ncli + 1) * sizeof *s);
			if (!s) {
				rc = bb_fatal(BB_EX_SOFTWARE, "out of memory");
				goto out;
			}
			cli_sellers = s;
			s[ncli++] = optarg;
			break;
		}
		case 'S': {
			char *eq = strchr(optarg, '=');
			if (!eq) {
				bb_say("--set '%s': expected KEY=VALUE", optarg);
				rc = BB_EX_USAGE;
				goto out;
			}
			*eq = '\0';
			if ((rc = set_threshold(&c.conf, optarg, eq + 1, "--set")))
				goto out;
			break;
		}
		case 'f':
			if (strcmp(optarg, "text") && strcmp(optarg, "ndjson")) {
				bb_say("--format '%s': expected ndjson or text", optarg);
				rc = BB_EX_USAGE;
				goto out;
			}
			c.text = strcmp(optarg, "text") == 0;
			break;
		default: fputs(USAGE, stderr); rc = BB_EX_USAGE; goto out;
		}
	}
	if (optind < argc) {
		bb_say("unexpected argument '%s'", argv[optind]);
		fputs(USAGE, stderr);
		rc = BB_EX_USAGE;
		goto out;
	}
	if (ncli) { /* --seller-id replaces the configured list */
		c.conf.sellers = cli_sellers;
		c.conf.nsellers = ncli;
	}
	if (costs_path && costs_load(&c.costs, costs_path, err, sizeof err) != 0) {
		rc = bb_fatal(BB_EX_CONFIG, "unable to load cost table: %s", err);
		goto out;
	}
	c.costs_path = costs_path;
	if (!(c.warned = calloc(c.costs.n + 1, 1))) {
		rc = bb_fatal(BB_EX_SOFTWARE, "out of memory");
		goto out;
	}
	c.conf.costs = &c.costs;
	bb_signals_install();
	rc = bb_records_each(STDIN_FILENO, stdout, on_record, &c);
	char an[24], pa[24], fa[24];
	snprintf(an, sizeof an, "%zu", c.analysed);
	snprintf(pa, sizeof pa, "%zu", c.passed);
	snprintf(fa, sizeof fa, "%zu", c.failed);
	bb_log(BB_INFO, NULL, "summary", "analysed", an, "passed", pa, "rejected", fa, NULL);
out:
	if (c.conf.sellers != cli_sellers)
		free(c.conf.sellers);
	free(cli_sellers);
	free(sellers_copy);
	free(c.warned);
	costs_free(&c.costs);
	bb_conf_free(conf);
	return rc;
}
