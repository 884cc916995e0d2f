/* db.c: lib/db.h's parameters with lengths, on either database. */
#include "db.h"
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int count(struct bb_db *db, const char *sql, const struct bb_str *p)
{
	struct bb_rows *rows;
	int n = -1;
	if (bb_db_query(db, sql, 1, p, &rows) == BB_DB_OK && bb_db_value(rows, 0, 0))
		n = (int)strtol(bb_db_value(rows, 0, 0), NULL, 10);
	bb_db_rows_free(rows);
	return n;
}

/* On SQLite a key with a NUL byte is stored and compared whole. */
static void nul_in_sqlite(struct bb_db *db)
{
	struct bb_str a = { "k\0a", 3 }, b = { "k\0b", 3 }, k = BB_LIT("k");
	struct bb_rows *rows;

	check(bb_db_query(db, "INSERT INTO unit_t (k) VALUES ($1)", 1, &a, NULL) == BB_DB_OK &&
		      count(db, "SELECT count(*) FROM unit_t WHERE k = $1", &a) == 1,
	      "db: sqlite: a text parameter with a NUL byte is stored and found");
	check(count(db, "SELECT count(*) FROM unit_t WHERE k = $1", &b) == 0 &&
		      count(db, "SELECT count(*) FROM unit_t WHERE k = $1", &k) == 0,
	      "db: sqlite: keys that differ only after a NUL byte differ");
	bb_db_query(db, "SELECT k FROM unit_t", 0, NULL, &rows);
	struct bb_str back = bb_db_text(rows, 0, 0);
	check(back.n == 3 && memcmp(back.p, "k\0a", 3) == 0, "db: sqlite: a value with a NUL byte reads back whole");
	bb_db_rows_free(rows);
}

/* PostgreSQL text holds no NUL byte: refused, never cut short. */
static void nul_in_pg(struct bb_db *db)
{
	struct bb_str a = { "k\0a", 3 }, k = BB_LIT("k");

	check(!bb_db_can_hold(db, a.p, a.n) && bb_db_can_hold(db, k.p, k.n),
	      "db: postgres: text with a NUL byte cannot be held");
	check(bb_db_query(db, "INSERT INTO unit_t (k) VALUES ($1)", 1, &a, NULL) == BB_DB_ERR &&
		      count(db, "SELECT count(*) FROM unit_t WHERE k = $1", &k) == 0,
	      "db: postgres: a text parameter with a NUL byte is refused, not stored as 'k'");
}

void test_db(const char *url)
{
	struct bb_db *db;
	char err[300];
	struct bb_rows *rows = NULL;
	struct bb_str word = BB_LIT("d\xc3\xa9j\xc3\xa0 vu"), num = BB_LIT("41"), bad = { "4\0001", 3 };

	check(bb_db_open(url, &db, err, sizeof err) == BB_DB_OK, "db: open");
	bb_db_exec(db, "CREATE TEMP TABLE unit_t (k TEXT)", 0, NULL, NULL);
	if (bb_db_is_pg(db))
		nul_in_pg(db);
	else
		nul_in_sqlite(db);
	check(bb_db_query(db, "SELECT $1 || '!'", 1, &word, &rows) == BB_DB_OK &&
		      strcmp(bb_db_value(rows, 0, 0), "d\xc3\xa9j\xc3\xa0 vu!") == 0,
	      "db: text parameters with lengths arrive byte for byte");
	bb_db_rows_free(rows);
	check(bb_db_query(db, "SELECT CAST($1 AS INTEGER) + 1", 1, &num, &rows) == BB_DB_OK &&
		      strcmp(bb_db_value(rows, 0, 0), "42") == 0,
	      "db: a parameter of another type goes as text");
	bb_db_rows_free(rows);
	check(!bb_db_is_pg(db) || bb_db_query(db, "SELECT CAST($1 AS INTEGER) + 1", 1, &bad, NULL) == BB_DB_ERR,
	      "db: a parameter that is not text with a NUL byte is refused");
	bb_db_close(db);
}
