/* unit.c: C unit tests of the lib modules, printing TAP like bats does.
 *   unit-tests            every test; the database ones on a temporary SQLite file
 *   unit-tests --db URL   the database tests only, on URL (tests/unit.bats: PostgreSQL) */
#include "conf.h"
#include "ids.h"
#include "money.h"
#include "parse.h"
#include "record.h"
#include "seen.h"
#include "timeutil.h"
#include "unit.h"

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
	bb_money_format(-5, 2, buf, sizeof buf);
	check(strcmp(buf, "-0.05") == 0, "-5 cents formats as -0.05");
	bb_money_format(3010, 0, buf, sizeof buf);
	check(strcmp(buf, "3010") == 0, "JPY formats without decimals");
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
	check(bb_parse_i64("12x", 0, 100, &v) != 0 && bb_parse_i64("", 0, 100, &v) != 0,
	      "trailing junk and empty are refused");
	check(bb_parse_i64("101", 0, 100, &v) != 0, "out of range is refused");
	bb_format_fixed(6250, 2, buf, sizeof buf);
	check(strcmp(buf, "62.5") == 0, "6250 hundredths print as 62.5");
	bb_format_fixed(5000, 2, buf, sizeof buf);
	check(strcmp(buf, "50") == 0, "5000 hundredths print as 50");
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
}

static int on_rec(struct bb_record *r, struct bb_emit *em, void *ctx)
{
	(void)r;
	(void)ctx;
	bb_emit_set(em, "status", jv_string("ok"));
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
	jv v = bb_record_get(&r, "a");
	check(jv_get_kind(v) == JV_KIND_STRING && strcmp(jv_string_value(v), "x\"}") == 0,
	      "a member is parsed on request");
	jv_free(v);
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

static void test_reject(void)
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
	test_money();
	test_parse();
	test_time();
	test_ids();
	test_record();
	test_record_strings();
	test_seen();
	test_reject();
	test_conf();
	test_alert();
	on_sqlite();
	printf("1..%d\n", n_tests);
	return n_failed != 0;
}
