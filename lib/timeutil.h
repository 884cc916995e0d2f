/* timeutil.h: RFC 3339 times as milliseconds since the epoch, and durations. */
#ifndef BB_TIMEUTIL_H
#define BB_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

/* 9999-12-31T23:59:59.999Z: the last time an RFC 3339 date-time can name. */
#define BB_TIME_MAX INT64_C(253402300799999)

/* Parse an RFC 3339 date-time (fraction optional, Z or +hh:mm). 0 ok, -1 not one. */
int bb_time_parse(const char *s, size_t n, int64_t *ms);

/* Also what databases print: a space for the T, offsets as +00 or +0000. */
int bb_time_parse_loose(const char *s, size_t n, int64_t *ms);

/* Format as UTC with milliseconds: 2024-01-15T10:30:00.000Z. */
void bb_time_format(int64_t ms, char *buf, size_t size);

/* The wall clock. */
int64_t bb_clock_ms(void);

/* A clock for intervals: never steps with the wall clock. */
int64_t bb_mono_ms(void);

/* "Now" for values that end up in records: BB_NOW (RFC 3339) pins it, so a
 * replay or a test can reproduce its output byte for byte. */
int64_t bb_now_ms(void);
/* Whether BB_NOW pins it: then it stands still. */
int bb_now_pinned(void);

/* Parse "250ms", "30s", "5m", "24h", "7d" or a bare number of seconds. */
int bb_duration_parse(const char *s, int64_t *ms);

#endif
