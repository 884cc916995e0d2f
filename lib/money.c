/* money.c: the only place a floating-point amount becomes an integer. */
#include "money.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int bb_currency_exponent(const char *code)
{
	return strcmp(code, "JPY") == 0 ? 0 : 2;
}

int bb_decimal_round(const char *s, int places, int64_t *out)
{
	char dig[64];
	int nd = 0, point = -1, neg = 0, exp10 = 0;

	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	for (; *s && *s != 'e' && *s != 'E'; s++) {
		if (*s == '.' && point < 0)
			point = nd;
		else if (*s >= '0' && *s <= '9' && nd < (int)sizeof dig)
			dig[nd++] = *s;
		else
			return -1;
	}
	if (nd == 0)
		return -1;
	if (*s) {
		char *end;
		long e = strtol(s + 1, &end, 10);
		if (end == s + 1 || *end)
			return -1;
		/* far beyond any double's digits: clamped, so point + exp10 cannot overflow */
		exp10 = e > 1000 ? 1000 : e < -1000 ? -1000 : (int)e;
	}
	if (point < 0)
		point = nd;
	/* value = 0.dig × 10^(point+exp10); keep point+exp10+places integer digits */
	int keep = point + exp10 + places;
	if (keep > 18)
		return -1;
	int64_t v = 0;
	for (int i = 0; i < keep; i++)
		v = v * 10 + (i < nd ? dig[i] - '0' : 0);
	if (keep >= 0 && keep < nd && dig[keep] >= '5')
		v++;
	*out = neg ? -v : v;
	return 0;
}

int bb_money_from_double(double v, int exponent, int64_t *out)
{
	char buf[48];

	if (!isfinite(v) || fabs(v) >= 1e15)
		return -1;
	snprintf(buf, sizeof buf, "%.15g", v);
	return bb_decimal_round(buf, exponent, out);
}

void bb_money_format(int64_t v, int exponent, char *buf, size_t size)
{
	int64_t a = v < 0 ? -v : v;
	if (exponent == 0)
		snprintf(buf, size, "%lld", (long long)v);
	else
		snprintf(buf, size, "%s%lld.%02lld", v < 0 ? "-" : "", (long long)(a / 100),
			 (long long)(a % 100));
}

void bb_money_text(int64_t v, const char *code, size_t n, char *buf, size_t size)
{
	char c[4] = "";
	int k = 0;

	if (code && n == 3 && code[0] >= 'A' && code[0] <= 'Z' && code[1] >= 'A' && code[1] <= 'Z' &&
	    code[2] >= 'A' && code[2] <= 'Z') {
		memcpy(c, code, 3);
		k = snprintf(buf, size, "%s ", c);
	}
	if (k < 0 || (size_t)k >= size)
		return;
	bb_money_format(v, bb_currency_exponent(c), buf + k, size - (size_t)k);
}
