/* unit.h: what the files of the C unit tests share. */
#ifndef BB_UNIT_H
#define BB_UNIT_H

/* One test point, printed as TAP. */
void check(int ok, const char *name);

/* Tests against a database (URL: a migrated one), run on a temporary SQLite
 * file by default and on any database with `unit-tests --db URL`. */
void test_db(const char *url);
void test_alert_db(const char *url);

/* lib/alert.h without a database. */
void test_alert(void);

#endif
