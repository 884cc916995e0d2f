/* parse.h: strict parsing of numbers from the command line, config and tables:
 * trailing junk, empty strings and out-of-range values are errors. */
#ifndef BB_PARSE_H
#define BB_PARSE_H

#include <stddef.h>
#include <stdint.h>

int bb_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);

/* A non-negative decimal with at most `places` fraction digits, scaled by
 * 10^places: ("4.2", 2) -> 420, ("12.5", 2) -> 1250, ("4.205", 2) -> error.
 * -1 when malformed, -2 when well formed but beyond INT64_MAX once scaled. */
int bb_parse_fixed(const char *s, size_t n, int places, int64_t *out);

/* Split list (changed in place) at commas and spaces, appending the words to
 * *items (grown with realloc, *n counting them). -1 when out of memory. */
int bb_split_list(char *list, const char ***items, int *n);

/* Write v / 10^places as a JSON number without trailing zeros: 6250 -> "62.5". */
void bb_format_fixed(int64_t v, int places, char *buf, size_t size);

/* v in decimal, as "%lld" writes it, into out (room for 20 bytes; no
 * terminator): its length. For hot paths, where printf's cost shows. */
size_t bb_i64_text(int64_t v, char *out);

/* Integer division rounded half away from zero. */
int64_t bb_div_round(int64_t num, int64_t den);

#endif
