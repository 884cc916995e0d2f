/* db.h: one small interface over SQLite (the embedded default) and
 * PostgreSQL, chosen by the DB URL: "sqlite:PATH" or "postgres://…" / a
 * libpq conninfo string. SQL text names parameters $1…$n in both dialects;
 * every value travels as a bound text parameter, never inside the SQL.
 *
 * Parameters come in two forms: NUL-terminated strings (bb_db_exec), and
 * bytes with a length (bb_db_query), which reach the database byte for
 * byte. The second is the one for outside data. */
#ifndef BB_DB_H
#define BB_DB_H

#include "str.h"

#include <stddef.h>
#include <stdint.h>

struct bb_db;
struct bb_rows;

enum {
	BB_DB_OK = 0,
	BB_DB_ERR = -1,   /* the statement failed: a bug or bad data */
	BB_DB_RETRY = -2, /* the database is busy or gone: reconnect and retry the batch */
	BB_DB_BADURL = -3, /* the URL is malformed or names no database bb can use: a configuration error */
};

/* 0 when url is sqlite:PATH or parses as a libpq URL or conninfo string. */
int bb_db_url_check(const char *url, char *err, size_t errlen);

/* Open (and migrate) the database. err gets a message on failure; the
 * return is BB_DB_RETRY when the server could not be reached, BB_DB_BADURL
 * when the URL is empty or malformed, the SQLite file cannot be opened or is
 * no database, or the server refused the database, role or password. */
int bb_db_open(const char *url, struct bb_db **out, char *err, size_t errlen);
void bb_db_close(struct bb_db *db);
int bb_db_reconnect(struct bb_db *db);
int bb_db_is_pg(const struct bb_db *db);
const char *bb_db_errmsg(const struct bb_db *db);
/* The URL with any password masked, for messages. */
const char *bb_db_name(const struct bb_db *db);

int bb_db_begin(struct bb_db *db);
int bb_db_commit(struct bb_db *db);
void bb_db_rollback(struct bb_db *db);

/* Run sql with n text parameters (NULL entries are SQL NULL), each a C
 * string. Rows, when wanted, come back as text. */
int bb_db_exec(struct bb_db *db, const char *sql, int n, const char *const *params,
	       struct bb_rows **rows);

/* The same with each parameter's length given (p == NULL: SQL NULL). SQLite
 * keeps every byte; PostgreSQL text cannot hold a NUL byte and fails the
 * statement that sends one (see bb_db_can_hold), never cutting it short. */
int bb_db_query(struct bb_db *db, const char *sql, int n, const struct bb_str *params,
		struct bb_rows **rows);

/* Whether text s[0..n) can be stored and compared as it is: PostgreSQL
 * text holds no NUL byte, so no stored value can equal one that has it. */
int bb_db_can_hold(const struct bb_db *db, const char *s, size_t n);

/* Several statements in one round trip (libpq pipeline mode on PostgreSQL;
 * one after another on SQLite). results[i] gets statement i's rows; the
 * first failure is returned and the statements after it are not applied. */
struct bb_stmt {
	const char *sql;
	int n;
	const char *const *params;
};
int bb_db_pipeline(struct bb_db *db, int n, const struct bb_stmt *stmts, struct bb_rows **results);

/* The same with parameters with lengths. */
struct bb_query {
	const char *sql;
	int n;
	const struct bb_str *params;
};
int bb_db_pipeline_q(struct bb_db *db, int n, const struct bb_query *q, struct bb_rows **results);

/* The same, PostgreSQL only, with each statement sent as soon as it is
 * ready, so the server works while the caller gets the next one ready.
 * begin prepares the statements the pipeline will use (the n given);
 * send sends one of them (libpq copies its params); end returns the first
 * failure, or rc when it is not BB_DB_OK (a failed send), and gives
 * results[i] the rows of the i-th statement sent. */
int bb_db_pipe_begin(struct bb_db *db, int n, const struct bb_stmt *stmts);
int bb_db_pipe_send(struct bb_db *db, const struct bb_stmt *stmt);
int bb_db_pipe_send_q(struct bb_db *db, const struct bb_query *q); /* listed to begin as { sql, n, NULL } */
int bb_db_pipe_end(struct bb_db *db, struct bb_rows **results, int rc);

/* SQLite: copy the write-ahead log back into the database from a thread
 * of its own, so a writer's commits never wait for it (no-op otherwise). */
int bb_db_checkpoint_in_background(struct bb_db *db);

/* SQLite: keep up to mib MiB of database pages in memory (64 without this),
 * on this connection and on any it reconnects with. PostgreSQL: nothing. */
void bb_db_page_cache(struct bb_db *db, int mib);

/* Rows the last bb_db_exec inserted, updated or deleted. */
int64_t bb_db_changes(const struct bb_db *db);
/* SQLite: the rowid of the last row inserted (-1 on PostgreSQL: use RETURNING). */
int64_t bb_db_last_rowid(const struct bb_db *db);

int bb_db_nrows(const struct bb_rows *r);
const char *bb_db_value(const struct bb_rows *r, int row, int col); /* NULL for SQL NULL */
/* The same with its length: text from SQLite may hold NUL bytes. */
struct bb_str bb_db_text(const struct bb_rows *r, int row, int col);
void bb_db_rows_free(struct bb_rows *r);

/* Wait at most ms for another connection to commit a change: on
 * PostgreSQL a notification on channel (LISTEN is sent on the first call),
 * on SQLite a new PRAGMA data_version, looked at every 250 ms. A call with
 * ms 0 only notes where things stand, so that a commit after it counts. 1
 * when a change came, 0 when the time ran out (or a signal came), or a
 * BB_DB_* error. */
int bb_db_wait_change(struct bb_db *db, const char *channel, int ms);

/* The exit status for a failure to open a database (DESIGN.md): 78 for a
 * URL that names none, 75 for one that may answer later, 69 otherwise. */
int bb_db_exit_status(int rc);

/* bb_db_open for a program's main: 0, or the failure reported as
 * "PROG: fatal: unable to open database 'NAME': REASON" and its exit status. */
int bb_db_open_or_report(const char *url, struct bb_db **db);

/* Apply pending migrations; called by bb_db_open. Returns how many ran, or an error. */
int bb_db_migrate(struct bb_db *db, char *err, size_t errlen);

#endif
