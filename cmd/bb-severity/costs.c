/* costs.c: the cost table. Money cells are exact decimals in the row's
 * currency; a malformed cell is an error naming the file and line, never a
 * guess, because a wrong cost silently changes every margin. */
#include "severity.h"
#include "money.h"
#include "parse.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum col { C_ASIN, C_MARKETPLACE, C_CURRENCY, C_UNIT_COST, C_FULFILLMENT_FEE, C_OTHER_FEES,
	   C_REFERRAL_PCT, C_MIN_REFERRAL_FEE, C_DAILY_SALES, C_COUNT };

static const char *const col_names[C_COUNT] = {
	"asin", "marketplace", "currency", "unit_cost", "fulfillment_fee", "other_fees",
	"referral_pct", "min_referral_fee", "daily_sales",
};

#define MAX_LINE 4096
#define MAX_CELLS 32
/* The largest amount and daily sales a row may give, in major units: far
 * beyond any product, and small enough that no margin computed from them
 * overflows. */
#define MAX_MAJOR 1000000000LL

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int split(char *line, char **cells)
{
	int n = 0;
	for (char *p = line;; n++) {
		char *comma = strchr(p, ',');
		if (n == MAX_CELLS)
			return -1;
		if (comma)
			*comma = '\0';
		cells[n] = trim(p);
		if (!comma)
			return n + 1;
		p = comma + 1;
	}
}

static int bad(char *err, size_t errlen, const char *path, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int bad(char *err, size_t errlen, const char *path, size_t line, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(err, errlen, "%s:%zu: ", path, line);
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < errlen)
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static int header(char **cells, int n, int *pos, const char *path, size_t line, char *err, size_t errlen)
{
	for (int c = 0; c < C_COUNT; c++)
		pos[c] = -1;
	for (int i = 0; i < n; i++) {
		int c = 0;
		while (c < C_COUNT && strcmp(cells[i], col_names[c]) != 0)
			c++;
		if (c == C_COUNT)
			return bad(err, errlen, path, line, "unknown column '%.40s'", cells[i]);
		if (pos[c] >= 0)
			return bad(err, errlen, path, line, "column '%s' given twice", col_names[c]);
		pos[c] = i;
	}
	for (int c = 0; c < C_DAILY_SALES; c++)
		if (pos[c] < 0)
			return bad(err, errlen, path, line, "missing column '%s'", col_names[c]);
	return 0;
}

/* Cell c of a row: a decimal from 0 to max (scaled by 10^places) with at
 * most `places` decimals; `what` says what it should be, for the error. */
static int number(char **cells, const int *pos, enum col c, int places, int64_t max,
		  const char *what, int64_t *out, const char *path, size_t line, char *err, size_t errlen)
{
	const char *cell = cells[pos[c]];
	char hi[32];
	int rc = bb_parse_fixed(cell, strlen(cell), places, out);

	if (rc == -1 && cell[0] == '-' && bb_parse_fixed(cell + 1, strlen(cell + 1), places, out) != -1)
		rc = -2; /* a number all the same, below the range */
	if (rc == 0 && *out > max)
		rc = -2;
	if (rc == -1 && places == 0)
		return bad(err, errlen, path, line, "%s (column %d) '%.40s' is not %s without decimals",
			   col_names[c], pos[c] + 1, cell, what);
	if (rc == -1)
		return bad(err, errlen, path, line, "%s (column %d) '%.40s' is not %s with at most %d decimals",
			   col_names[c], pos[c] + 1, cell, what, places);
	bb_format_fixed(max, places, hi, sizeof hi);
	if (rc == -2)
		return bad(err, errlen, path, line, "%s (column %d) '%.40s' is out of range: 0 to %s",
			   col_names[c], pos[c] + 1, cell, hi);
	return 0;
}

static int row(struct cost *r, char **cells, const int *pos, const char *path, size_t line,
	       char *err, size_t errlen)
{
	const char *cur = cells[pos[C_CURRENCY]];
	static const enum col money_cols[] = { C_UNIT_COST, C_FULFILLMENT_FEE, C_OTHER_FEES,
					       C_MIN_REFERRAL_FEE };
	int64_t *money_out[] = { &r->unit_cost, &r->fulfillment_fee, &r->other_fees,
				 &r->min_referral_fee };

	if (!*cells[pos[C_ASIN]] || !*cells[pos[C_MARKETPLACE]])
		return bad(err, errlen, path, line, "asin and marketplace must not be empty");
	if (strlen(cur) != 3 || !isupper((unsigned char)cur[0]) || !isupper((unsigned char)cur[1]) ||
	    !isupper((unsigned char)cur[2]))
		return bad(err, errlen, path, line, "currency '%.20s' is not a 3-letter code", cur);
	memcpy(r->currency, cur, 4);
	int exp = bb_currency_exponent(cur);
	char amount[16];
	snprintf(amount, sizeof amount, "a %s amount", cur);
	for (int i = 0; i < 4; i++)
		if (number(cells, pos, money_cols[i], exp, MAX_MAJOR * (exp ? 100 : 1), amount,
			   money_out[i], path, line, err, errlen))
			return -1;
	if (number(cells, pos, C_REFERRAL_PCT, 2, 100 * 100, "a percent", &r->referral_bp,
		   path, line, err, errlen))
		return -1;
	r->daily_sales = -1;
	if (pos[C_DAILY_SALES] >= 0 && *cells[pos[C_DAILY_SALES]] &&
	    number(cells, pos, C_DAILY_SALES, 2, MAX_MAJOR * 100, "a number", &r->daily_sales,
		   path, line, err, errlen))
		return -1;
	r->asin = strdup(cells[pos[C_ASIN]]);
	r->marketplace = strdup(cells[pos[C_MARKETPLACE]]);
	if (!r->asin || !r->marketplace)
		return bad(err, errlen, path, line, "out of memory");
	r->asin_n = strlen(r->asin);
	r->marketplace_n = strlen(r->marketplace);
	return 0;
}

static int by_key(const void *a, const void *b)
{
	const struct cost *x = a, *y = b;
	int c = strcmp(x->asin, y->asin);
	return c ? c : strcmp(x->marketplace, y->marketplace);
}

static int by_key_line(const void *a, const void *b)
{
	const struct cost *x = a, *y = b;
	int c = by_key(a, b);
	return c ? c : (x->line > y->line) - (x->line < y->line);
}

static int add_row(struct costs *c, size_t *cap, char **cells, const int *pos, const char *path,
		   size_t line, char *err, size_t errlen)
{
	if (c->n == *cap) {
		size_t ncap = *cap ? 2 * *cap : 64;
		struct cost *rows = realloc(c->rows, ncap * sizeof *rows);
		if (!rows)
			return bad(err, errlen, path, line, "out of memory");
		c->rows = rows;
		*cap = ncap;
	}
	memset(&c->rows[c->n], 0, sizeof c->rows[c->n]);
	if (row(&c->rows[c->n], cells, pos, path, line, err, errlen) != 0) {
		free(c->rows[c->n].asin);
		free(c->rows[c->n].marketplace);
		return -1;
	}
	c->rows[c->n++].line = line;
	return 0;
}

static int read_rows(struct costs *c, FILE *f, const char *path, char *err, size_t errlen)
{
	char buf[MAX_LINE + 2], *cells[MAX_CELLS];
	int pos[C_COUNT], ncols = 0;
	size_t line = 0, cap = 0;

	while (fgets(buf, sizeof buf, f)) {
		line++;
		if (!strchr(buf, '\n') && !feof(f))
			return bad(err, errlen, path, line, "line longer than %d bytes", MAX_LINE);
		/* a UTF-8 byte order mark, as spreadsheets save one, is not in the first cell */
		char *s = trim(line == 1 && strncmp(buf, "\xEF\xBB\xBF", 3) == 0 ? buf + 3 : buf);
		if (!*s || *s == '#')
			continue;
		int n = split(s, cells);
		if (n < 0)
			return bad(err, errlen, path, line, "more than %d cells", MAX_CELLS);
		if (ncols == 0) {
			if (header(cells, n, pos, path, line, err, errlen) != 0)
				return -1;
			ncols = n;
		} else if (n != ncols) {
			return bad(err, errlen, path, line, "%d cells where the header names %d", n, ncols);
		} else if (add_row(c, &cap, cells, pos, path, line, err, errlen) != 0) {
			return -1;
		}
	}
	if (ferror(f))
		return bad(err, errlen, path, line, "read error: %s", strerror(errno));
	if (ncols == 0)
		return bad(err, errlen, path, line, "no header line");
	return 0;
}

int costs_load(struct costs *c, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");

	memset(c, 0, sizeof *c);
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	int rc = read_rows(c, f, path, err, errlen);
	fclose(f);
	if (rc != 0)
		return -1;
	if (c->n > 1) /* a table of a header alone has no rows to sort, not even a pointer */
		qsort(c->rows, c->n, sizeof *c->rows, by_key_line);
	for (size_t i = 1; i < c->n; i++)
		if (by_key(&c->rows[i - 1], &c->rows[i]) == 0)
			return bad(err, errlen, path, c->rows[i].line,
				   "duplicate row for asin %s marketplace %s (first on line %zu)",
				   c->rows[i].asin, c->rows[i].marketplace, c->rows[i - 1].line);
	return 0;
}

void costs_free(struct costs *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->rows[i].asin);
		free(c->rows[i].marketplace);
	}
	free(c->rows);
	memset(c, 0, sizeof *c);
}

/* A row's key against a key from a record (bytes with a length), in the
 * order strcmp sorted the rows. */
static int cmp_view(const char *row, size_t n, struct bb_str key)
{
	int c = memcmp(row, key.p, n < key.n ? n : key.n);
	return c ? c : (n > key.n) - (n < key.n);
}

struct lookup {
	struct bb_str asin, marketplace;
};

static int by_lookup(const void *k, const void *r)
{
	const struct lookup *key = k;
	const struct cost *row = r;
	int c = cmp_view(row->asin, row->asin_n, key->asin);
	return -(c ? c : cmp_view(row->marketplace, row->marketplace_n, key->marketplace));
}

const struct cost *costs_find(const struct costs *c, struct bb_str asin, struct bb_str marketplace)
{
	struct lookup key = { asin, marketplace };
	const struct cost *r;

	if (!c || c->n == 0 || !asin.p || !marketplace.p)
		return NULL;
	if ((r = bsearch(&key, c->rows, c->n, sizeof *c->rows, by_lookup)))
		return r;
	key.marketplace = (struct bb_str){ "*", 1 };
	return bsearch(&key, c->rows, c->n, sizeof *c->rows, by_lookup);
}
