/* timeutil.c: calendar arithmetic done by hand in UTC, because timegm() and
 * the TZ variable have no business deciding what a notification's time means. */
#include "timeutil.h"
#include "parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

static int digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static int days_in_month(int y, int m)
{
	static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : dm[m - 1];
}

static int parse(const char *s, size_t n, int loose, int64_t *ms);

int bb_time_parse(const char *s, size_t n, int64_t *ms)
{
	return parse(s, n, 0, ms);
}

int bb_time_parse_loose(const char *s, size_t n, int64_t *ms)
{
	return parse(s, n, 1, ms);
}

static int parse(const char *s, size_t n, int loose, int64_t *ms)
{
	int Y, M, D, h, mi, sec, frac = 0, off = 0;
	size_t i = 19;

	if (n < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && !(loose && s[10] == ' ')) ||
	    s[13] != ':' || s[16] != ':')
		return -1;
	if (digits(s, 4, &Y) || digits(s + 5, 2, &M) || digits(s + 8, 2, &D) ||
	    digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) || digits(s + 17, 2, &sec))
		return -1;
	if (M < 1 || M > 12 || D < 1 || D > days_in_month(Y, M) || h > 23 || mi > 59 || sec > 60)
		return -1;
	if (s[i] == '.') {
		size_t start = ++i;
		for (int scale = 100; i < n && s[i] >= '0' && s[i] <= '9'; i++, scale /= 10)
			frac += (s[i] - '0') * scale;
		if (i == start)
			return -1;
	}
	if (i >= n) /* a fraction that runs to the end has no zone */
		return -1;
	if (i + 1 == n && (s[i] == 'Z' || s[i] == 'z')) {
		off = 0;
	} else if ((s[i] == '+' || s[i] == '-') &&
		   ((i + 6 == n && s[i + 3] == ':') || (loose && (i + 3 == n || i + 5 == n)))) {
		int oh, om = 0;
		const char *mm = i + 6 == n ? s + i + 4 : s + i + 3;
		if (digits(s + i + 1, 2, &oh) || (i + 3 != n && digits(mm, 2, &om)) || oh > 23 || om > 59)
			return -1;
		off = (oh * 60 + om) * (s[i] == '-' ? -1 : 1);
	} else {
		return -1;
	}
	*ms = ((days_from_civil(Y, M, D) * 86400 + h * 3600 + mi * 60 + sec) - off * 60) * 1000 + frac;
	return 0;
}

void bb_time_format(int64_t ms, char *buf, size_t size)
{
	int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
	int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
	int64_t rem = secs - days * 86400;
	int y, m, d;

	civil_from_days(days, &y, &m, &d);
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", y, m, d, (int)(rem / 3600),
		 (int)(rem / 60 % 60), (int)(rem % 60), (int)(ms - secs * 1000));
}

int64_t bb_clock_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t bb_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* BB_NOW's time, when it names one: 0, else -1. */
static int pin(int64_t *ms)
{
	const char *p = getenv("BB_NOW");
	return p && bb_time_parse(p, strlen(p), ms) == 0 ? 0 : -1;
}

int64_t bb_now_ms(void)
{
	int64_t ms;
	return pin(&ms) == 0 ? ms : bb_clock_ms();
}

int bb_now_pinned(void)
{
	int64_t ms;
	return pin(&ms) == 0;
}

int bb_duration_parse(const char *s, int64_t *ms)
{
	static const struct { const char *suffix; int64_t scale; } units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 }, { "d", 86400000 }, { "", 1000 },
	};
	size_t n = strspn(s, "0123456789");
	int64_t v;

	if (n == 0 || n > 12)
		return -1;
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (strcmp(s + n, units[i].suffix) != 0)
			continue;
		char num[16];
		memcpy(num, s, n);
		num[n] = '\0';
		if (bb_parse_i64(num, 0, INT64_MAX / 86400000, &v) != 0)
			return -1;
		*ms = v * units[i].scale;
		return 0;
	}
	return -1;
}
