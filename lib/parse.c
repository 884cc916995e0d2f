/* parse.c: strict numbers. Money and thresholds are integers scaled by a power
 * of ten so that no floating point ever decides a comparison. */
#include "parse.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int bb_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	/* strtoll would skip any leading space (\r \v \f too) and take a '+' */
	if (!s || !*s || isspace((unsigned char)*s) || *s == '+')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int bb_parse_fixed(const char *s, size_t n, int places, int64_t *out)
{
	int64_t v = 0;
	size_t i = 0;
	int frac = -1, big = 0; /* big: beyond INT64_MAX, read on to tell malformed */

	if (n == 0)
		return -1;
	for (; i < n; i++) {
		if (s[i] == '.' && frac < 0 && i > 0) {
			frac = 0;
			continue;
		}
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (frac >= 0 && ++frac > places)
			return -1;
		big |= v > (INT64_MAX - (s[i] - '0')) / 10;
		if (!big)
			v = v * 10 + (s[i] - '0');
	}
	if (frac == 0) /* "4." */
		return -1;
	for (int k = frac < 0 ? 0 : frac; k < places && !big; k++)
		if (!(big = v > INT64_MAX / 10))
			v *= 10;
	if (big)
		return -2;
	*out = v;
	return 0;
}

int bb_split_list(char *list, const char ***items, int *n)
{
	char *save = NULL;
	for (char *t = strtok_r(list, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
		const char **more = realloc(*items, (size_t)(*n + 1) * sizeof *more);
		if (!more)
			return -1;
		*items = more;
		more[(*n)++] = t;
	}
	return 0;
}

/* Digits written from the right, without printf: bb-severity writes several
 * of these for every record. */
void bb_format_fixed(int64_t v, int places, char *buf, size_t size)
{
	char t[48], *p = t + sizeof t;
	uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	int any = 0; /* a fraction digit other than a trailing zero */

	if (places < 0 || places > 18)
		places = 0;
	for (int i = 0; i < places; i++, a /= 10) {
		any |= a % 10 != 0;
		if (any)
			*--p = (char)('0' + a % 10);
	}
	if (any)
		*--p = '.';
	do
		*--p = (char)('0' + a % 10);
	while (a /= 10);
	if (v < 0)
		*--p = '-';
	size_t n = (size_t)(t + sizeof t - p);
	if (size == 0)
		return;
	if (n >= size)
		n = size - 1;
	memcpy(buf, p, n);
	buf[n] = '\0';
}

int64_t bb_div_round(int64_t num, int64_t den)
{
	if (den < 0) {
		num = -num;
		den = -den;
	}
	int64_t q = num / den, r = num % den;
	if (r < 0)
		r = -r;
	if (2 * r >= den)
		q += num < 0 ? -1 : 1;
	return q;
}

size_t bb_i64_text(int64_t v, char *out)
{
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	char rev[20];
	size_t n = 0, k = 0;

	do
		rev[n++] = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		out[k++] = '-';
	while (n)
		out[k++] = rev[--n];
	return k;
}
