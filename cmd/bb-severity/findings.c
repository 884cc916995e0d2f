/* findings.c: the --findings file of bb-severity (findings.h). */
#include "findings.h"
#include "json.h"
#include "timeutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { F_UNDERCUT = 1, F_WAR = 2 };

struct finding_place {
	char *key;   /* asin, NUL, marketplace */
	size_t asin_n, n;
	unsigned kind;
	int64_t from, to; /* to: -1 while ongoing */
};

static int cmp_key(const char *a, size_t an, const char *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);
	return c ? c : (an > bn) - (an < bn);
}

static int cmp_place(const void *x, const void *y)
{
	const struct finding_place *a = x, *b = y;
	return cmp_key(a->key, a->n, b->key, b->n);
}

static int str_of(struct bb_jval o, const char *key, const char **s, size_t *n)
{
	return bb_json_string(bb_json_getz(o, key), s, n);
}

static int64_t time_of(struct bb_jval o, const char *key)
{
	const char *s;
	size_t n;
	int64_t ms;
	return str_of(o, key, &s, &n) == 0 && bb_time_parse(s, n, &ms) == 0 ? ms : -1;
}

/* One line: 0 added or skipped, -1 with why set. */
static int add_line(struct findings *f, struct bb_jdoc *doc, const char *line, size_t len, const char **why)
{
	struct bb_jval o;
	struct bb_jerr err;
	const char *kind, *asin, *mkt;
	size_t kn, an, mn;

	if (bb_json_parse(doc, line, len, &o, &err) != 0 || bb_json_type(o) != BB_JOBJECT)
		return *why = "not a JSON object", -1;
	if (str_of(o, "kind", &kind, &kn) != 0 || str_of(o, "asin", &asin, &an) != 0 ||
	    str_of(o, "marketplace", &mkt, &mn) != 0 || time_of(o, "from") < 0)
		return *why = "a finding needs kind, asin, marketplace and from", -1;
	unsigned k = kn == 17 && memcmp(kind, "creeping_undercut", 17) == 0 ? F_UNDERCUT :
		     kn == 9 && memcmp(kind, "price_war", 9) == 0 ? F_WAR : 0;
	if (!k)
		return 0;
	struct finding_place *p = realloc(f->p, (f->n + 1) * sizeof *p);
	char *key = malloc(an + mn + 1);
	if (!p || !key) {
		free(key);
		f->p = p ? p : f->p;
		return *why = "out of memory", -1;
	}
	f->p = p;
	memcpy(key, asin, an), key[an] = '\0', memcpy(key + an + 1, mkt, mn);
	f->p[f->n++] = (struct finding_place){ key, an, an + mn + 1, k, time_of(o, "from"), time_of(o, "to") };
	return 0;
}

int findings_load(struct findings *f, const char *path, char *err, size_t errlen)
{
	FILE *in = fopen(path, "r");
	struct bb_jdoc *doc = bb_json_new();
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t len;
	const char *why = NULL;

	memset(f, 0, sizeof *f);
	if (!in || !doc) {
		snprintf(err, errlen, "%s: %s", path, in ? "out of memory" : strerror(errno));
		if (in)
			fclose(in);
		bb_json_free(doc);
		return -1;
	}
	while (!why && (len = getline(&line, &cap, in)) >= 0) {
		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			len--;
		if (len > 0)
			add_line(f, doc, line, (size_t)len, &why);
	}
	if (why)
		snprintf(err, errlen, "%s:%zu: %s", path, lineno, why);
	else if (ferror(in))
		snprintf(err, errlen, "%s: %s", path, strerror(errno)), why = "";
	free(line);
	fclose(in);
	bb_json_free(doc);
	if (f->n)
		qsort(f->p, f->n, sizeof *f->p, cmp_place);
	return why ? -1 : 0;
}

void findings_free(struct findings *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->p[i].key);
	free(f->p);
	memset(f, 0, sizeof *f);
}

static void add_flag(struct bb_analysis *a, const char *name)
{
	size_t i = a->nflags, n = strlen(name);
	for (size_t j = 0; j < a->nflags; j++)
		if (cmp_key(a->risk_flags[j].p, a->risk_flags[j].n, name, n) == 0)
			return;
	for (; i > 0 && cmp_key(a->risk_flags[i - 1].p, a->risk_flags[i - 1].n, name, n) > 0; i--)
		a->risk_flags[i] = a->risk_flags[i - 1];
	a->risk_flags[i] = (struct bb_str){ name, n };
	a->nflags++;
}

void findings_flag(const struct findings *f, const struct bb_notification *n, struct bb_analysis *a)
{
	size_t lo = 0, hi = f->n, kn = n->asin.n + n->marketplace.n + 1;
	char *key = f->n ? malloc(kn) : NULL;
	int64_t t = n->event_time;

	if (!key)
		return;
	memcpy(key, n->asin.p, n->asin.n), key[n->asin.n] = '\0';
	memcpy(key + n->asin.n + 1, n->marketplace.p, n->marketplace.n);
	while (lo < hi) { /* the first finding of the place */
		size_t mid = lo + (hi - lo) / 2;
		if (cmp_key(f->p[mid].key, f->p[mid].n, key, kn) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < f->n && cmp_key(f->p[i].key, f->p[i].n, key, kn) == 0; i++)
		if (f->p[i].from <= t && (f->p[i].to < 0 || t - f->p[i].to <= FINDING_OPEN_MS))
			add_flag(a, f->p[i].kind == F_UNDERCUT ? "creeping-undercut" : "price-war");
	free(key);
}
