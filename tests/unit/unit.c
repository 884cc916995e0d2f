/* unit.c: C unit tests of the lib modules, printing TAP like bats does.
 *   unit-tests            every test; the database ones on a temporary SQLite file
 *   unit-tests --db URL   the database tests only, on URL (tests/unit.bats: PostgreSQL) */
#include "analysis.h"
#include "conf.h"
#include "ids.h"
#include "json.h"
#include "jwrite.h"
#include "log.h"
#include "money.h"
#include "notification.h"
#include "outage.h"
#include "parse.h"
#include "record.h"
#include "seen.h"
#include "timeutil.h"
#include "unit.h"
#include <jq.h> /* libjq: the reference the string tests compare with */

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int n_tests, n_failed;

void check(int ok, const char *name)
{
	n_tests++;
	if (!ok)
		n_failed++;
	printf("%sok %d - unit: %s\n", ok ? "" : "not ", n_tests, name);
}

static int64_t money(double v, int exp)
{
	int64_t out = -999;
	return bb_money_from_double(v, exp, &out) == 0 ? out : -999;
}

static void test_money(void)
{
	char buf[32];

	check(money(21.005, 2) == 2101, "21.005 USD rounds half away from zero to 2101");
	check(money(10.005, 2) == 1001, "10.005 USD rounds to 1001");
	check(money(1050.5, 0) == 1051, "1050.5 JPY rounds to 1051");
	check(money(0.0, 2) == 0 && money(10, 2) == 1000, "0 and 10 become 0 and 1000 cents");
	check(money(8184.23, 2) == 818423, "8184.23 keeps its cents");
	check(money(0.1 + 0.2, 2) == 30, "0.1+0.2 is 30 cents, not 31");
	check(money(1e20, 2) == -999, "an amount too large is refused");
	check(bb_currency_exponent("JPY") == 0 && bb_currency_exponent("EUR") == 2, "JPY has no minor unit");
	int64_t v;
	check(bb_decimal_round("1.5e-05", 2, &v) == 0 && v == 0, "exponent notation below a cent rounds to 0");
	check(bb_decimal_round("-2.345", 2, &v) == 0 && v == -235, "negative rounds away from zero");
	check(bb_decimal_round("1.2.3", 2, &v) != 0, "two points are malformed");
	check(bb_decimal_round("1e2147483647", 2, &v) != 0 && bb_decimal_round("1e-2147483648", 2, &v) == 0 && v == 0,
	      "a huge exponent is out of range, a tiny one rounds to 0");
	check(bb_decimal_round("1e5x", 2, &v) != 0 && bb_decimal_round("1e", 2, &v) != 0,
	      "an exponent with junk or no digits is malformed");
	bb_money_format(-5, 2, buf, sizeof buf);
	check(strcmp(buf, "-0.05") == 0, "-5 cents formats as -0.05");
	bb_money_format(3010, 0, buf, sizeof buf);
	check(strcmp(buf, "3010") == 0, "JPY formats without decimals");
	bb_money_text(2101, "USD", 3, buf, sizeof buf);
	check(strcmp(buf, "USD 21.01") == 0, "money for people carries its currency code");
	bb_money_text(3010, "JPYX", 3, buf, sizeof buf);
	check(strcmp(buf, "JPY 3010") == 0, "yen for people have no decimals");
	bb_money_text(-5, "us\n", 3, buf, sizeof buf);
	check(strcmp(buf, "-0.05") == 0, "a code that is not three capitals is left out");
	bb_money_format(INT64_MIN, 2, buf, sizeof buf);
	check(strcmp(buf, "-92233720368547758.08") == 0, "the most negative amount formats whole");
	bb_money_text(INT64_MAX, "JPY", 3, buf, sizeof buf);
	check(strcmp(buf, "JPY 9223372036854775807") == 0, "the largest amount formats whole");
	bb_money_text(100, "EUR", 3, buf, 7);
	check(strcmp(buf, "EUR 1.") == 0, "a short buffer gets the text cut, terminated");
	check(bb_i64_text(INT64_MIN, buf) == 20 && memcmp(buf, "-9223372036854775808", 20) == 0 &&
	      bb_i64_text(0, buf) == 1 && buf[0] == '0', "an integer's text is printf's");
}

static void test_parse(void)
{
	int64_t v;
	char buf[32];

	check(bb_parse_fixed("4.2", 3, 2, &v) == 0 && v == 420, "4.2 is 420 hundredths");
	check(bb_parse_fixed("12.5", 4, 2, &v) == 0 && v == 1250, "12.5 is 1250");
	check(bb_parse_fixed("4.205", 5, 2, &v) != 0, "4.205 has too many decimals");
	check(bb_parse_fixed("-1", 2, 2, &v) != 0, "negative is refused");
	check(bb_parse_fixed("4.", 2, 2, &v) != 0 && bb_parse_fixed(".5", 2, 2, &v) != 0,
	      "a bare point is refused");
	check(bb_parse_fixed("1200", 4, 0, &v) == 0 && v == 1200, "whole yen parse with 0 places");
	check(bb_parse_fixed("92233720368547758.07", 20, 2, &v) == 0 && v == INT64_MAX,
	      "the largest value that fits is read");
	check(bb_parse_fixed("92233720368547758.08", 20, 2, &v) == -2 &&
	      bb_parse_fixed("92233720368547759", 17, 2, &v) == -2 &&
	      bb_parse_fixed("99999999999999999999999", 23, 0, &v) == -2,
	      "a value beyond int64 once scaled is out of range (-2), not wrapped");
	check(bb_parse_fixed("000000000000000000000012.5", 26, 2, &v) == 0 && v == 1250,
	      "leading zeros do not count against the range");
	check(bb_parse_i64("12x", 0, 100, &v) != 0 && bb_parse_i64("", 0, 100, &v) != 0,
	      "trailing junk and empty are refused");
	check(bb_parse_i64("101", 0, 100, &v) != 0, "out of range is refused");
	check(bb_parse_i64("\r5", 0, 100, &v) != 0 && bb_parse_i64("\v5", 0, 100, &v) != 0 &&
	      bb_parse_i64("+5", 0, 100, &v) != 0 && bb_parse_i64("-5", -9, 9, &v) == 0 && v == -5,
	      "any leading space and a plus sign are refused, a minus sign is not");
	check(bb_parse_fixed("99999999999999999", 17, 2, &v) != 0 && bb_parse_fixed("9999999999999999", 16, 2, &v) == 0 &&
	      v == 999999999999999900LL && bb_parse_fixed("999999999999999999", 18, 0, &v) == 0,
	      "a fixed decimal of more than 18 digits once scaled is refused, not overflowed");
	bb_format_fixed(6250, 2, buf, sizeof buf);
	check(strcmp(buf, "62.5") == 0, "6250 hundredths print as 62.5");
	bb_format_fixed(5000, 2, buf, sizeof buf);
	check(strcmp(buf, "50") == 0, "5000 hundredths print as 50");
	bb_format_fixed(-5, 2, buf, sizeof buf);
	check(strcmp(buf, "-0.05") == 0, "-5 hundredths print as -0.05");
	bb_format_fixed(9090, 2, buf, sizeof buf);
	check(strcmp(buf, "90.9") == 0, "9090 hundredths print as 90.9");
	bb_format_fixed(0, 2, buf, sizeof buf);
	check(strcmp(buf, "0") == 0, "0 prints as 0");
	bb_format_fixed(INT64_MIN, 2, buf, sizeof buf);
	check(strcmp(buf, "-92233720368547758.08") == 0, "the most negative number prints whole");
	bb_format_fixed(123456, 2, buf, 4);
	check(strcmp(buf, "123") == 0, "a short buffer gets what fits, terminated");
	bb_format_fixed(1234, 0, buf, sizeof buf);
	check(strcmp(buf, "1234") == 0, "no places: the whole number");
	check(bb_div_round(5, 2) == 3 && bb_div_round(-5, 2) == -3 && bb_div_round(4, 3) == 1,
	      "division rounds half away from zero");
}

static void test_time(void)
{
	int64_t ms;
	char buf[40];

	check(bb_time_parse("2024-01-15T10:30:00Z", 20, &ms) == 0 && ms == 1705314600000LL,
	      "RFC 3339 without fraction");
	check(bb_time_parse("2024-01-15T12:30:00.5+02:00", 27, &ms) == 0 && ms == 1705314600500LL,
	      "fraction and offset");
	check(bb_time_parse("2024-02-30T00:00:00Z", 20, &ms) != 0, "February 30th is refused");
	check(bb_time_parse("2024-01-15 10:30:00Z", 20, &ms) != 0, "a space instead of T is refused");
	check(bb_time_parse("2024-01-15T10:30:00", 19, &ms) != 0, "a time without zone is refused");
	check(bb_time_parse("2024-01-15T10:30:00.5Z", 21, &ms) != 0,
	      "a fraction that runs to the end of the text has no zone (and what follows is not read)");
	bb_time_format(1705314600123LL, buf, sizeof buf);
	check(strcmp(buf, "2024-01-15T10:30:00.123Z") == 0, "format in UTC with milliseconds");
	bb_time_format(-1, buf, sizeof buf);
	check(strcmp(buf, "1969-12-31T23:59:59.999Z") == 0, "format before the epoch");
	check(bb_duration_parse("5m", &ms) == 0 && ms == 300000, "5m is 300000 ms");
	check(bb_duration_parse("250ms", &ms) == 0 && ms == 250, "250ms");
	check(bb_duration_parse("7d", &ms) == 0 && ms == 604800000, "7d");
	check(bb_duration_parse("30", &ms) == 0 && ms == 30000, "a bare number is seconds");
	check(bb_duration_parse("5x", &ms) != 0 && bb_duration_parse("m", &ms) != 0,
	      "unknown unit and missing number are refused");
	setenv("BB_NOW", "2024-01-15T10:30:00Z", 1);
	check(bb_now_pinned() && bb_now_ms() == 1705314600000LL, "BB_NOW pins now");
	setenv("BB_NOW", "yesterday", 1);
	check(!bb_now_pinned() && bb_now_ms() > 1705314600000LL, "a BB_NOW that is not a time leaves the clock running");
	unsetenv("BB_NOW");
	check(!bb_now_pinned(), "without BB_NOW the clock runs");
}

static void test_ids(void)
{
	char hex[65], u[37];

	bb_sha256_hex("abc", 3, hex);
	check(strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0,
	      "SHA-256 of abc");
	bb_uuid7(u);
	check(strlen(u) == 36 && u[14] == '7' && strchr("89ab", u[19]) && u[8] == '-',
	      "UUID v7 has version 7 and the RFC variant");
	char prev[37];
	int sorted = 1;
	memcpy(prev, u, sizeof prev);
	for (int i = 0; i < 10000; i++) { /* more than a millisecond's counter holds */
		bb_uuid7(u);
		sorted &= strcmp(prev, u) < 0 && u[14] == '7' && strchr("89ab", u[19]) != NULL;
		memcpy(prev, u, sizeof prev);
	}
	check(sorted, "UUID v7s made one after another sort in that order, in one millisecond too");
}

static int on_rec(struct bb_record *r, struct bb_emit *em, void *ctx)
{
	(void)r;
	(void)ctx;
	bb_emit_str(em, "status", "ok", 2);
	return 0;
}

static char *write_record(const char *line, int fresh)
{
	struct bb_record r = { .line = line, .len = strlen(line), .total_len = strlen(line) };
	struct bb_emit em = { .fresh = fresh };
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	bb_record_index(&r);
	on_rec(&r, &em, NULL);
	bb_record_write(&r, &em, f);
	fclose(f);
	bb_emit_free(&em);
	free(r.m);
	return buf;
}

static void test_record(void)
{
	struct bb_record r = { 0 };
	const char *line = "{\"a\": \"x\\\"}\", \"b\":[1,{\"c\":\"]\"}], \"n\":null}";
	char *out;

	r.line = line;
	r.len = strlen(line);
	check(bb_record_index(&r) == 0 && r.nm == 3, "index finds three members past escaped quotes");
	const struct bb_member *m = bb_record_member(&r, "b");
	check(m && m->vallen == strlen("[1,{\"c\":\"]\"}]"), "a nested value is located whole");
	size_t n = 0;
	char *a = bb_record_string(&r, "a", &n);
	check(a && n == 3 && strcmp(a, "x\"}") == 0, "a member is parsed on request");
	free(a);
	r.line = "{\"a\":1} x";
	r.len = strlen(r.line);
	check(bb_record_index(&r) != 0, "trailing junk is not an object");
	r.line = "{\"a\":1,}";
	r.len = strlen(r.line);
	check(bb_record_index(&r) != 0, "a trailing comma is not an object");
	free(r.m);

	out = write_record("{\"a\": 1 ,\"b\":\"two\"}", 0);
	check(strcmp(out, "{\"a\": 1 ,\"b\":\"two\",\"status\":\"ok\"}\n") == 0,
	      "new members are appended to the original bytes");
	free(out);
	out = write_record("{\"status\":\"rejected\",\"a\": 1}", 0);
	check(strcmp(out, "{\"a\": 1,\"status\":\"ok\"}\n") == 0, "a member set again is replaced, not duplicated");
	free(out);
	out = write_record("{}", 0);
	check(strcmp(out, "{\"status\":\"ok\"}\n") == 0, "an empty object gets its first member");
	free(out);
	out = write_record("not json", 0);
	check(strcmp(out, "{\"status\":\"ok\"}\n") == 0, "a line that is no object gets a fresh record");
	free(out);
}

static void test_seen(void)
{
	struct bb_seen *s = bb_seen_new(4);
	const char *keys[] = { "a", "b", "c", "d", "e", "f" };

	bb_seen_add(s, "m\0a", 3);
	check(bb_seen_has(s, "m\0a", 3) && !bb_seen_has(s, "m\0b", 3) && !bb_seen_has(s, "m", 1),
	      "seen: keys that differ only after a NUL byte are two keys");
	for (int i = 0; i < 3; i++)
		bb_seen_add(s, keys[i], 1);
	check(bb_seen_has(s, "m\0a", 3) && bb_seen_has(s, "c", 1), "seen: four keys fit in four");
	bb_seen_add(s, "d", 1);
	check(!bb_seen_has(s, "m\0a", 3) && bb_seen_has(s, "d", 1), "seen: a fifth key forgets the oldest");
	bb_seen_make_room(s, 2); /* a and b go now, so c and d outlive the next two */
	check(!bb_seen_has(s, "a", 1) && !bb_seen_has(s, "b", 1) && bb_seen_has(s, "c", 1), "seen: room made");
	bb_seen_add(s, "e", 1);
	bb_seen_add(s, "f", 1);
	check(bb_seen_has(s, "c", 1) && bb_seen_has(s, "d", 1) && bb_seen_has(s, "f", 1),
	      "seen: the keys added after making room evict nothing");
	bb_seen_free(s);
}

static void test_record_reject(void)
{
	const char *line = "{\"status\":\"ok\",\"a\":1}";
	struct bb_record r = { .line = line, .len = strlen(line), .total_len = strlen(line) };
	struct bb_emit em = { 0 };
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	bb_record_index(&r);
	bb_record_reject(&em, "schema", "dedupe", "analysis", "no %s member: run %s first", "analysis", "bb-severity");
	bb_record_write(&r, &em, f);
	fclose(f);
	check(strcmp(buf, "{\"a\":1,\"status\":\"rejected\",\"error\":{\"type\":\"schema\",\"message\":"
			  "\"no analysis member: run bb-severity first\",\"stage\":\"dedupe\",\"path\":\"analysis\"}}\n") == 0,
	      "a rejected record gets status rejected and error {type, message, stage, path}");
	bb_emit_free(&em);
	bb_record_reject(&em, "schema", "store", NULL, "x");
	check(em.n == 2 && strstr(em.add[1].json, "\"path\":null}"), "a rejection without a path has path null");
	bb_emit_free(&em);
	free(buf);
	free(r.m);
}

/* Strings with a quote, a backslash or an escaped control character at
 * every offset of the first words: each reads back as written, and the
 * index finds the member after it. */
static void test_record_strings(void)
{
	const char *const marks[] = { "\"", "\\", "\\\"", "\n", "\x01", "\u00e9", "/" };
	int all = 1;

	for (size_t k = 0; k < sizeof marks / sizeof marks[0]; k++)
		for (int at = 0; at < 20; at++) {
			char text[64];
			snprintf(text, sizeof text, "%.*s%s%.*s", at, "abcdefghijklmnopqrstuvwxyz", marks[k], 7,
				 "ABCDEFGHIJ");
			jv s = jv_dump_string(jv_string(text), 0);
			char line[256];
			snprintf(line, sizeof line, "{\"s\":%s,\"t\":1}", jv_string_value(s));
			struct bb_record r = { .line = line, .len = strlen(line) };
			size_t n = 0;
			char *back = bb_record_index(&r) == 0 && r.nm == 2 ? bb_record_string(&r, "s", &n) : NULL;
			all &= back && n == strlen(text) && strcmp(back, text) == 0;
			free(back);
			free(r.m);
			jv_free(s);
		}
	check(all, "strings read back with quotes, backslashes and escapes at every offset");

	const char raw[] = "{\"s\":\"0123456789\tabc\"}"; /* a raw tab is not JSON */
	struct bb_record r = { .line = raw, .len = strlen(raw) };
	size_t n;
	check(bb_record_index(&r) == 0 && !bb_record_string(&r, "s", &n), "a raw control character is refused");
	free(r.m);
	const char open[] = "{\"s\":\"0123456789abcdef\\\"}";
	r = (struct bb_record){ .line = open, .len = strlen(open) };
	check(bb_record_index(&r) != 0, "a string whose last quote is escaped never ends");
	free(r.m);
}

/* The reason the strict JSON layer gives for a text, or "" when it parses. */
static const char *parse_error(const char *text, char *buf, size_t size)
{
	struct bb_jdoc *d = bb_json_new();
	struct bb_jval root;
	struct bb_jerr e;

	buf[0] = '\0';
	if (!d)
		snprintf(buf, size, "out of memory");
	else if (bb_json_parse(d, text, strlen(text), &root, &e) != 0)
		snprintf(buf, size, "%s at byte %zu", e.message, e.offset);
	bb_json_free(d);
	return buf;
}

static void test_strict_parse(void)
{
	char buf[200], deep[1100];

	check(!*parse_error(" {\"a\":[1,-0.5e+3,\"\\ud83d\\ude00\\u00e9\",true,null,{}]}\n", buf, sizeof buf),
	      "strict JSON: JSON parses");
	check(*parse_error("\xef\xbb\xbf{}", buf, sizeof buf), "strict JSON: a byte order mark is not JSON text (RFC 8259)");
	check(!strcmp(parse_error("{\"a\":\"bc", buf, sizeof buf), "string not closed at byte 5"),
	      "strict JSON: a truncated string is refused with its byte offset");
	check(*parse_error("{\"a\" \"b\"}", buf, sizeof buf),
	      "strict JSON: a key without its colon is refused");
	check(*parse_error("[\"\\ud800\"]", buf, sizeof buf), "strict JSON: a lone high surrogate is refused");
	check(*parse_error("[01]", buf, sizeof buf) && *parse_error("[.5]", buf, sizeof buf) &&
	      *parse_error("[\"\t\"]", buf, sizeof buf) && *parse_error("1 2", buf, sizeof buf),
	      "strict JSON: leading zeros, bare fractions, raw tabs in strings and two texts are not JSON");
	memset(deep, '[', 128);
	memset(deep + 128, ']', 128);
	deep[256] = '\0';
	check(!*parse_error(deep, buf, sizeof buf), "strict JSON: 128 nested arrays parse");
	memset(deep, '[', 129);
	memset(deep + 129, ']', 129);
	deep[258] = '\0';
	check(*parse_error(deep, buf, sizeof buf), "strict JSON: 129 nested arrays are too deep");
}

#define VIEW(z) ((struct bb_str){ z, sizeof z - 1 })

/* An analysis as bb-severity could have made it, with a seller id holding
 * a NUL and a quote. */
static void sample_analysis(struct bb_analysis *a)
{
	bb_analysis_reserve(a, 2, 2, 2);
	bb_analysis_clear(a);
	a->severity = VIEW("CRITICAL"), a->rule = VIEW("critical"), a->priority = 1;
	a->reasons[0] = VIEW("offers 12 ≥ 10"), a->reasons[1] = VIEW("gap 62.50% ≥ 50%"), a->nreasons = 2;
	a->our_price = 1300, a->market_low = 800, a->market_low_seller = VIEW("A\0\"B");
	a->total_offers = a->offers_listed = 12, a->position = 11;
	a->position_percentile = 9091, a->gap_pct = 6250, a->min_viable_price = 1143;
	a->margin_at_current = -5, a->margin_at_market_low = 11000, a->estimated_daily_sales = 250;
	a->risk_flags[0] = VIEW("margin-squeeze"), a->nflags = 1;
	a->recommended[0] = (struct bb_recommendation){ VIEW("match-low"), 800, 9 }, a->nrecommended = 1;
}

static int read_text(struct bb_jdoc *d, const char *text, size_t n, struct bb_analysis *a, char *why)
{
	struct bb_jval root;
	struct bb_jerr err;
	return bb_json_parse(d, text, n, &root, &err) == 0 ? bb_analysis_read(root, a, why, 200) : -2;
}

static void test_analysis(void)
{
	struct bb_analysis a = { 0 }, b = { 0 };
	struct bb_jw w, again;
	struct bb_jdoc *d = bb_json_new();
	char why[200], bad[2048];

	sample_analysis(&a);
	bb_jw_init(&w);
	bb_jw_init(&again);
	bb_analysis_write(&w, &a);
	check(memmem(w.buf, w.len, "\"position_percentile\":90.91,\"gap_pct\":62.5,", 43) &&
	      memmem(w.buf, w.len, "\"margin_at_current\":-0.05,\"margin_at_market_low\":110,", 53),
	      "hundredths are written as their shortest decimal");
	check(read_text(d, w.buf, w.len, &b, why) == 0, "a written analysis reads back");
	bb_analysis_write(&again, &b);
	check(again.len == w.len && memcmp(again.buf, w.buf, w.len) == 0, "and is written again byte for byte");
	check(b.market_low_seller.n == 4 && memcmp(b.market_low_seller.p, "A\0\"B", 4) == 0 &&
	      b.prime_low == BB_NONE && b.recommended[0].margin_pct == 9,
	      "a seller id with a NUL reads back whole, null as BB_NONE");
	int n = snprintf(bad, sizeof bad, "%.*s", (int)w.len, w.buf);
	char *gap = strstr(bad, "62.5,");
	memmove(gap + 6, gap + 4, (size_t)(bad + n - (gap + 4)) + 1);
	memcpy(gap + 4, "05", 2);
	check(read_text(d, bad, strlen(bad), &b, why) == -1 &&
	      strcmp(why, "analysis.gap_pct: expected a number with at most two decimals, or null") == 0,
	      "a percentage with three decimals is refused, naming the member");
	check(read_text(d, "{\"severity\":\"BAD\"}", 18, &b, why) == -1 &&
	      strcmp(why, "analysis.severity: expected CRITICAL, HIGH, WARNING, SUCCESS or STABLE") == 0,
	      "an unknown severity is refused");
	check(bb_severity_priority(VIEW("STABLE")) == 5 && bb_severity_priority(VIEW("stable")) == 0,
	      "priorities come from the severity's exact name");
	bb_jw_free(&w);
	bb_jw_free(&again);
	bb_analysis_free(&a);
	bb_analysis_free(&b);
	bb_json_free(d);
}

/* Member i of em is key with the JSON text json (emitted text has a length, no NUL). */
static int emitted_is(const struct bb_emit *em, int i, const char *key, const char *json)
{
	return i < em->n && strcmp(em->add[i].key, key) == 0 && em->add[i].len == strlen(json) &&
	       memcmp(em->add[i].json, json, em->add[i].len) == 0;
}

static void test_reject(void)
{
	struct bb_emit em = { 0 };
	char why[100];

	bb_log_init("bb-unit");
	bb_reject_unvalidated(&em, "severity", why, sizeof why);
	check(em.n == 2 && emitted_is(&em, 0, "status", "\"rejected\""), "a rejected record's status is rejected");
	check(emitted_is(&em, 1, "error", "{\"type\":\"schema\",\"message\":\"no notification member: run "
					  "bb-validate before bb-unit\",\"stage\":\"severity\",\"path\":\"notification\"}") &&
	      strcmp(why, "no notification member: run bb-validate before bb-unit") == 0,
	      "a record without a notification is rejected saying bb-validate runs first");
	bb_reject(&em, "schema", "a\0b", 3, "dedupe", NULL);
	check(em.n == 2 && emitted_is(&em, 1, "error", "{\"type\":\"schema\",\"message\":\"a\\u0000b\",\"stage\":"
						       "\"dedupe\",\"path\":null}"),
	      "a second rejection replaces the first; the message is bytes with a length");
	bb_emit_free(&em);
}

/* Offers read the same whether their members come in the writer's order
 * (one pass) or not (by name, the last of a repeated key winning). */
static void test_notification_offers(void)
{
	static const char text[] =
		"{\"seller_id\":\"S\",\"marketplace\":\"M\",\"asin\":\"A\",\"event_time\":null,\"publish_time\":null,"
		"\"offers\":[{\"seller_id\":\"X\",\"listing\":1,\"shipping\":2,\"landed\":3,\"fba\":true,\"prime\":false,"
		"\"buy_box_winner\":null,\"featured\":true,\"feedback_count\":10,\"feedback_rating\":9.5,"
		"\"sub_condition\":\"new\",\"min_hours\":0,\"max_hours\":24},"
		"{\"landed\":5,\"max_hours\":24,\"min_hours\":0,\"sub_condition\":\"new\",\"feedback_rating\":9.5,"
		"\"feedback_count\":10,\"featured\":true,\"buy_box_winner\":null,\"prime\":false,\"fba\":true,"
		"\"shipping\":2,\"listing\":1,\"seller_id\":\"X\",\"landed\":3}]}";
	struct bb_jdoc *d = bb_json_new();
	struct bb_notification n = { 0 };
	struct bb_jval root;
	struct bb_jerr e;
	char why[120];

	check(bb_json_parse(d, text, sizeof text - 1, &root, &e) == 0 &&
	      bb_notification_read(root, &n, why, sizeof why) == 0 && n.noffers == 2, "a notification reads");
	const struct bb_offer *a = &n.offers[0], *b = &n.offers[1];
	check(a->landed == 3 && a->fba == 1 && a->prime == 0 && a->buy_box_winner == -1 && a->max_hours.n == 2 &&
	      b->landed == 3 && b->fba == 1 && b->prime == 0 && b->buy_box_winner == -1 && b->max_hours.n == 2 &&
	      b->seller_id.n == 1 && b->feedback_rating.n == 3,
	      "an offer reads the same in the writer's order and in another, a repeated key's last value winning");
	bb_notification_free(&n);
	bb_json_free(d);
}

static void test_conf(void)
{
	char path[] = "/tmp/bb-unit-XXXXXX", err[256];
	int fd = mkstemp(path);
	struct bb_conf *c = NULL;
	FILE *f = fdopen(fd, "w");

	fputs("[severity]\nhigh_min_gap_pct = 25\n[db]\nurl = sqlite:x.db\n", f);
	fclose(f);
	setenv("BB_CONFIG", path, 1);
	unsetenv("BB_DB");
	setenv("BB_SEVERITY_HIGH_MIN_GAP_PCT", "30", 1);
	check(bb_conf_load(&c, err, sizeof err) == 0, "a config file loads");
	check(strcmp(bb_conf_get(c, "severity", "high_min_gap_pct"), "30") == 0,
	      "the environment overrides the file");
	check(strcmp(bb_conf_get(c, "db", "url"), "sqlite:x.db") == 0, "a file value is found");
	setenv("BB_DB", "postgres://h/db", 1);
	check(strcmp(bb_conf_get(c, "db", "url"), "postgres://h/db") == 0, "BB_DB names [db] url");
	check(bb_conf_get(c, "db", "nothing") == NULL, "an absent key is NULL");
	bb_conf_free(c);
	f = fopen(path, "w");
	fputs("[severity\nx=1\n", f);
	fclose(f);
	check(bb_conf_load(&c, err, sizeof err) != 0 && strstr(err, ":1: "), "a syntax error names the line");
	bb_conf_free(c);
	unlink(path);
	setenv("BB_CONFIG", "/nonexistent/bb.conf", 1);
	check(bb_conf_load(&c, err, sizeof err) != 0 && strstr(err, "/nonexistent/bb.conf"),
	      "a missing BB_CONFIG file is an error naming it");
	bb_conf_free(c);
	unsetenv("BB_CONFIG");
	unsetenv("BB_DB");
	unsetenv("BB_SEVERITY_HIGH_MIN_GAP_PCT");
}

/* parse TEXT (n bytes): 0, or the fault's offset + 1 with its message in msg. */
static size_t parse_fault(struct bb_jdoc *d, const char *text, size_t n, char *msg, size_t size)
{
	struct bb_jval root;
	struct bb_jerr e;
	if (bb_json_parse(d, text, n, &root, &e) == 0)
		return 0;
	snprintf(msg, size, "%s", e.message);
	return e.offset + 1;
}

static void test_json(void)
{
	struct bb_jdoc *d = bb_json_new();
	struct bb_jval root, v;
	struct bb_jerr e;
	const char *s;
	size_t n;
	int64_t i;
	char msg[120];
	static const char doc[] = "{\"a\": \"x\\u0000y\", \"n\": 21.005, \"i\": -7, \"b\": [true, null, {\"k\": 1}], \"a\": \"last\"}";

	check(bb_json_parse(d, doc, sizeof doc - 1, &root, &e) == 0 && bb_json_type(root) == BB_JOBJECT,
	      "json: an object parses");
	v = bb_json_getz(root, "a");
	check(bb_json_string(v, &s, &n) == 0 && n == 4 && memcmp(s, "last", 4) == 0,
	      "json: a repeated key reads as its last value");
	check(bb_json_number_text(bb_json_getz(root, "n"), &s, &n) == 0 && n == 6 && memcmp(s, "21.005", 6) == 0,
	      "json: a number keeps its text as written");
	check(bb_json_int64(bb_json_getz(root, "i"), &i) == 0 && i == -7 &&
	      bb_json_int64(bb_json_getz(root, "n"), &i) != 0, "json: integers read as integers, fractions do not");
	v = bb_json_getz(root, "b");
	check(bb_json_count(v) == 3 && bb_json_type(bb_json_first(v)) == BB_JBOOL &&
	      bb_json_type(bb_json_next(bb_json_first(v))) == BB_JNULL &&
	      bb_json_type(bb_json_next(bb_json_next(bb_json_next(bb_json_first(v))))) == BB_JNONE,
	      "json: array iteration visits each element once and ends");
	check(bb_json_raw(bb_json_next(bb_json_next(bb_json_first(v))), &s, &n) == 0 && n == 8 &&
	      memcmp(s, "{\"k\": 1}", 8) == 0, "json: an object's raw text is exact");
	check(bb_json_type(bb_json_getz(bb_json_getz(root, "nope"), "x")) == BB_JNONE,
	      "json: reading through an absent value is absent, never a crash");
	bb_json_parse(d, "{\"a\":\"x\\u0000y\"}", 16, &root, &e);
	check(bb_json_string(bb_json_getz(root, "a"), &s, &n) == 0 && n == 3 && s[1] == '\0',
	      "json: an escaped NUL stays inside the string's length");
	check(parse_fault(d, "{\"a\":05}", 8, msg, sizeof msg) == 6 && strcmp(msg, "invalid number") == 0,
	      "json: a leading zero is an invalid number at its offset");
	check(parse_fault(d, "{\"a\":+5}", 8, msg, sizeof msg) == 6, "json: +5 is refused at its offset");
	check(parse_fault(d, "{\"a\":\"\xc0\xaf\"}", 10, msg, sizeof msg) == 7 && strcmp(msg, "invalid UTF-8") == 0,
	      "json: an overlong UTF-8 form is refused at its first byte");
	check(parse_fault(d, "{\"a\":\"x\0\"}", 10, msg, sizeof msg) == 8, "json: a raw NUL in a string is refused");
	check(parse_fault(d, "{} x", 4, msg, sizeof msg) == 4 && strcmp(msg, "bytes after the value") == 0,
	      "json: bytes after the value are refused where they start");
	check(parse_fault(d, "", 0, msg, sizeof msg) == 1, "json: empty input is refused");
	char deep[300];
	memset(deep, '[', 150);
	memset(deep + 150, ']', 150);
	check(parse_fault(d, deep, sizeof deep, msg, sizeof msg) != 0 && strcmp(msg, "nested too deep") == 0,
	      "json: nesting deeper than the limit is refused");
	bb_json_free(d);
}

static void test_jwrite(void)
{
	struct bb_jw w = { 0 };
	size_t n;
	char *text;

	bb_jw_obj(&w);
	bb_jw_kstr(&w, "s", "a\"\\\n\x01\0z\xff", 8);
	bb_jw_kint(&w, "i", -42);
	bb_jw_key(&w, "f");
	bb_jw_fixed(&w, -2101, 2);
	bb_jw_key(&w, "a");
	bb_jw_arr(&w);
	bb_jw_bool(&w, 1);
	bb_jw_null(&w);
	bb_jw_time(&w, 0);
	bb_jw_end(&w, ']');
	bb_jw_end(&w, '}');
	text = bb_jw_take(&w, &n);
	check(text && n == strlen("{\"s\":\"a\\\"\\\\\\n\\u0001\\u0000z\\ufffd\",\"i\":-42,\"f\":-21.01,\"a\":[true,null,\"1970-01-01T00:00:00.000Z\"]}") &&
	      memcmp(text, "{\"s\":\"a\\\"\\\\\\n\\u0001\\u0000z\\ufffd\",\"i\":-42,\"f\":-21.01,\"a\":[true,null,\"1970-01-01T00:00:00.000Z\"]}", n) == 0,
	      "jwrite: escapes, NUL, bytes that are not UTF-8, commas and fixed amounts");
	free(text);
}

/* Strings of every length up to 80 with a special byte at every place,
 * written and read back by the strict parser: the same bytes, or for a byte
 * that is not UTF-8 the same string with U+FFFD in its place. */
static void test_jwrite_blocks(void)
{
	static const char *specials[] = { "\"", "\\", "\n", "\x01", "\x1f", "\x7f", "\xc3\xa9",
					  "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xff", "\xc3" };
	struct bb_jdoc *d = bb_json_new();
	char in[96], want[96];
	int ok = 1;

	for (size_t len = 0; len <= 80 && ok; len++)
		for (size_t at = 0; at + 1 <= len && ok; at++)
			for (size_t k = 0; k < sizeof specials / sizeof *specials && ok; k++) {
				size_t sl = strlen(specials[k]), wl;
				memset(in, 'a' + (int)(len % 26), len);
				if (at + sl > len)
					continue;
				memcpy(in + at, specials[k], sl);
				memcpy(want, in, len);
				wl = len;
				if (strcmp(specials[k], "\xff") == 0 || strcmp(specials[k], "\xc3") == 0) {
					memcpy(want + at, "\xef\xbf\xbd", 3); /* U+FFFD */
					memcpy(want + at + 3, in + at + 1, len - at - 1);
					wl = len + 2;
				}
				struct bb_jw w = { 0 };
				struct bb_jval v;
				struct bb_jerr e;
				const char *s;
				size_t n, tn;
				bb_jw_str(&w, in, len);
				char *text = bb_jw_take(&w, &tn);
				ok = text && bb_json_parse(d, text, tn, &v, &e) == 0 && bb_json_string(v, &s, &n) == 0 &&
				     n == wl && memcmp(s, want, n) == 0;
				free(text);
			}
	check(ok, "jwrite: strings of every length to 80 with a quote, control, UTF-8 or bad byte anywhere read back the same");
	bb_json_free(d);
}

static void test_outage(void)
{
	struct bb_outage o;
	int err = dup(STDERR_FILENO), null = open("/dev/null", O_WRONLY);

	dup2(null, STDERR_FILENO); /* the warnings themselves are the suites' to check */
	bb_outage_init(&o, "SQS", "endpoint", "http://127.0.0.1:9");
	check(bb_outage_failed(&o, 1000, "connection", "refused") == 1, "outage: the first failure is warned about at once");
	check(bb_outage_failed(&o, 1100, "connection", NULL) == 0 && bb_outage_failed(&o, 30999, "connection", NULL) == 0,
	      "outage: failures within 30 s of the warning are not");
	check(bb_outage_failed(&o, 31000, "connection", NULL) == 1 && o.attempts == 4,
	      "outage: 30 s after the warning, the next failure is, counting every attempt");
	bb_outage_over(&o, 32000);
	check(o.since == -1 && o.attempts == 0, "outage: an answer ends the outage");
	check(bb_outage_failed(&o, 40000, "connection", NULL) == 0,
	      "outage: a new failure within 30 s of the last warning waits its turn");
	check(bb_outage_failed(&o, 61000, "connection", NULL) == 1, "outage: and is warned about once it comes");
	bb_outage_destroy(&o);
	dup2(err, STDERR_FILENO);
	close(err);
	close(null);
}

static void test_databases(const char *url)
{
	test_db(url);
	test_alert_db(url);
}

/* A new SQLite file for the database tests, removed after. */
static void on_sqlite(void)
{
	char path[] = "/tmp/bb-unit-db-XXXXXX", url[64], side[80];
	int fd = mkstemp(path);

	if (fd < 0) {
		check(0, "a temporary database file");
		return;
	}
	close(fd);
	snprintf(url, sizeof url, "sqlite:%s", path);
	test_databases(url);
	unlink(path);
	snprintf(side, sizeof side, "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof side, "%s-shm", path);
	unlink(side);
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--db") == 0) {
		test_databases(argv[2]);
		printf("1..%d\n", n_tests);
		return n_failed != 0;
	}
	test_json();
	test_jwrite();
	test_jwrite_blocks();
	test_money();
	test_parse();
	test_time();
	test_ids();
	test_record();
	test_record_strings();
	test_strict_parse();
	test_analysis();
	test_notification_offers();
	test_seen();
	test_reject();
	test_record_reject();
	test_conf();
	test_outage();
	test_alert();
	on_sqlite();
	printf("1..%d\n", n_tests);
	return n_failed != 0;
}
