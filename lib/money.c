/* money.c: the only place a floating-point amount becomes an integer. */
#include "money.h"
#include "parse.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* v's digits into out (room for 21 bytes), with a point before the last
 * two unless exponent is 0; their length. No printf: a page of the
 * dashboard writes hundreds of amounts. */
static size_t money_digits(int64_t v, int exponent, char *out)
{
	uint64_t a = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	size_t k = 0;

	if (exponent == 0)
		return bb_i64_text(v, out);
	if (v < 0)
		out[k++] = '-';
	k += bb_i64_text((int64_t)(a / 100), out + k);
	out[k++] = '.';
	out[k++] = (char)('0' + a % 100 / 10);
	out[k++] = (char)('0' + a % 10);
	return k;
}

/* text[0..n) into buf, cut short as snprintf would. */
static void copy_out(const char *text, size_t n, char *buf, size_t size)
{
	if (size == 0)
		return;
	if (n > size - 1)
		n = size - 1;
	memcpy(buf, text, n);
	buf[n] = '\0';
}

void bb_money_format(int64_t v, int exponent, char *buf, size_t size)
{
	char text[24];
	copy_out(text, money_digits(v, exponent, text), buf, size);
}

void bb_money_text(int64_t v, const char *code, size_t n, char *buf, size_t size)
{
	char c[4] = "", text[28];
	size_t k = 0;

	if (code && n == 3 && code[0] >= 'A' && code[0] <= 'Z' && code[1] >= 'A' && code[1] <= 'Z' &&
	    code[2] >= 'A' && code[2] <= 'Z') {
		memcpy(c, code, 3);
		memcpy(text, code, 3);
		text[3] = ' ';
		k = 4;
	}
	k += money_digits(v, bb_currency_exponent(c), text + k);
	copy_out(text, k, buf, size);
}
