/* db.c: the two backends behind db.h. Statements are prepared once per
 * connection and cached by their SQL text's address (the SQL is always a
 * literal). */
#include "db.h"
#include "exitcode.h"
#include "log.h"
#include "parse.h"
#include "pqload.h"
#include "record.h"
#include "db-internal.h"
#include "sql.h"
#include "timeutil.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CACHE 64
#define CKPT_FRAMES 8192       /* WAL frames appended since it last ran that wake the checkpointer */
#define CKPT_HARD_FRAMES 32768 /* a WAL this long is checkpointed by the writer itself */

/* SQLite: a thread with a connection of its own copies the WAL back into
 * the database while the writer goes on (PASSIVE checkpoints never block
 * it). It runs once the WAL has grown by CKPT_FRAMES (32 MiB), not after
 * every commit: a page that several batches change (an index leaf, a
 * product's state) is then copied once for all of them. The writer keeps
 * appending meanwhile, so the WAL does not start over by itself: when it
 * reaches CKPT_HARD_FRAMES, the writer finishes the copy after a commit,
 * and the next transaction starts the WAL over. */
struct checkpointer {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	sqlite3 *conn;
	int wanted, stop;
	int woken_at; /* the WAL's length when the writer last woke it (the writer's alone) */
};

struct bb_db {
	char *url, *name;
	sqlite3 *lite;
	PGconn *pg;
	struct {
		const char *sql;
		sqlite3_stmt *stmt;
		Oid *types; /* PostgreSQL: the parameters' types, as the server inferred them */
		int ntypes;
		int *param; /* SQLite: the parameter ($N - 1) bound at each index - 1 */
	} cache[CACHE];
	int ncache;
	struct { /* PostgreSQL: parameters with lengths, as libpq takes them */
		const char **v;
		int *len, *fmt, cap;
		char *text;
		size_t textcap;
	} pq;
	int64_t changes; /* rows the last statement changed */
	int piped; /* PostgreSQL: statements sent since bb_db_pipe_begin */
	struct checkpointer *ckpt; /* SQLite: background checkpoints, or NULL */
	int listening;   /* PostgreSQL: LISTEN sent on this connection */
	int64_t version; /* SQLite: PRAGMA data_version when last looked at; 0 never */
	int cache_mib;   /* SQLite: the page cache, 0 for the default */
	char err[512];
};

/* The text of SQLite's values, copied into blocks that never move: a few
 * allocations for a page of rows, not one per value. */
struct text_block {
	struct text_block *next;
	size_t used, cap;
	char data[];
};

struct bb_rows {
	int nrows, ncols, cap; /* cap: rows v and len have room for */
	char **v;    /* nrows × ncols, NUL-terminated, NULL for SQL NULL */
	size_t *len; /* their lengths */
	struct text_block *text; /* SQLite: where v points */
	PGresult *res;           /* PostgreSQL: where v points (the result is kept) */
};

/* A statement's parameters, in either of db.h's forms. */
struct params {
	int n;
	const char *const *z;  /* NUL-terminated, or */
	const struct bb_str *s; /* with lengths */
};

static struct bb_str param(const struct params *p, int i)
{
	if (p->s)
		return p->s[i];
	return (struct bb_str){ p->z[i], p->z[i] ? strlen(p->z[i]) : 0 };
}

static struct params stmt_params(const struct bb_stmt *st)
{
	return (struct params){ st->n, st->params, NULL };
}

static struct params query_params(const struct bb_query *q)
{
	return (struct params){ q->n, NULL, q->params };
}

/* n bytes in r's text blocks. */
static char *text_alloc(struct bb_rows *r, size_t n)
{
	struct text_block *b = r->text;

	if (!b || b->cap - b->used < n) {
		size_t cap = b && b->cap < (1u << 20) ? 2 * b->cap : 4096 - sizeof *b;
		if (cap < n)
			cap = n;
		if (!(b = malloc(sizeof *b + cap)))
			return NULL;
		*b = (struct text_block){ r->text, 0, cap };
		r->text = b;
	}
	b->used += n;
	return b->data + b->used - n;
}

/* One value of a row, copied with a terminator so bb_db_value can hand it out too. */
static int row_value(struct bb_rows *r, int k, const char *t, size_t n)
{
	r->v[k] = NULL;
	r->len[k] = 0;
	if (!t)
		return 0;
	if (!(r->v[k] = text_alloc(r, n + 1)))
		return -1;
	memcpy(r->v[k], t, n);
	r->v[k][n] = '\0';
	r->len[k] = n;
	return 0;
}

static int fail(struct bb_db *db, int rc, const char *what, const char *detail)
{
	snprintf(db->err, sizeof db->err, "%s: %s", what, detail ? detail : "unknown error");
	db->err[strcspn(db->err, "\n")] = '\0';
	return rc;
}

const char *bb_db_errmsg(const struct bb_db *db)
{
	return db->err;
}

const char *bb_db_name(const struct bb_db *db)
{
	return db->name;
}

int bb_db_is_pg(const struct bb_db *db)
{
	return db->pg != NULL;
}

/* "postgres://user:secret@host/db" -> "postgres://user:***@host/db" */
static char *masked(const char *url)
{
	char *m = strdup(url), *at = strchr(m, '@'), *scheme = strstr(m, "://");
	char *colon = scheme && at ? memchr(scheme + 3, ':', (size_t)(at - scheme - 3)) : NULL;
	if (colon) {
		memmove(colon + 4, at, strlen(at) + 1);
		memcpy(colon, ":***", 4);
	}
	char *pw = strstr(m, "password=");
	if (pw)
		for (pw += 9; *pw && *pw != ' '; pw++)
			*pw = '*';
	return m;
}

/* ---- SQLite ---- */

static int lite_rc(struct bb_db *db, int rc, const char *what)
{
	int busy = rc == SQLITE_BUSY || rc == SQLITE_LOCKED;
	return fail(db, busy ? BB_DB_RETRY : BB_DB_ERR, what, sqlite3_errmsg(db->lite));
}

/* SQLite numbers "$N" parameters in order of appearance: which $N each
 * index stands for, worked out once per statement. */
static int *param_map(sqlite3_stmt *st)
{
	int nb = sqlite3_bind_parameter_count(st);
	int *map = malloc((size_t)nb * sizeof *map + 1);

	for (int j = 0; map && j < nb; j++) {
		const char *name = sqlite3_bind_parameter_name(st, j + 1);
		map[j] = name && name[0] == '$' ? atoi(name + 1) - 1 : -1;
	}
	return map;
}

/* The statement of sql, prepared once; *map gets its parameter map (free
 * it after use when the statement is not cached: *owned). */
static sqlite3_stmt *lite_prepare(struct bb_db *db, const char *sql, int **map, int *owned)
{
	sqlite3_stmt *st = NULL;

	*owned = 0;
	for (int i = 0; i < db->ncache; i++)
		if (db->cache[i].sql == sql) {
			*map = db->cache[i].param;
			return db->cache[i].stmt;
		}
	if (sqlite3_prepare_v2(db->lite, sql, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	if (!(*map = param_map(st))) {
		sqlite3_finalize(st);
		return NULL;
	}
	if (db->ncache < CACHE) {
		db->cache[db->ncache].sql = sql;
		db->cache[db->ncache].param = *map;
		db->cache[db->ncache++].stmt = st;
	} else {
		*owned = 1;
	}
	return st;
}

static void lite_release(struct bb_db *db, sqlite3_stmt *st)
{
	for (int i = 0; i < db->ncache; i++)
		if (db->cache[i].stmt == st) {
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			return;
		}
	sqlite3_finalize(st);
}

static int rows_add(struct bb_rows *r, sqlite3_stmt *st)
{
	int nc = sqlite3_column_count(st);

	if (r->nrows == r->cap) {
		int cap = r->cap ? 2 * r->cap : 8;
		size_t cells = (size_t)cap * (size_t)nc;
		char **v = realloc(r->v, cells * sizeof *v + 1);
		if (!v)
			return -1;
		r->v = v;
		size_t *len = realloc(r->len, cells * sizeof *len + 1);
		if (!len)
			return -1;
		r->len = len;
		r->cap = cap;
	}
	r->ncols = nc;
	for (int c = 0; c < nc; c++) {
		int k = r->nrows * nc + c, rc;
		if (sqlite3_column_type(st, c) == SQLITE_INTEGER) { /* most columns: no conversion inside SQLite */
			char buf[24];
			rc = row_value(r, k, buf, bb_i64_text(sqlite3_column_int64(st, c), buf));
		} else {
			const char *t = (const char *)sqlite3_column_text(st, c);
			rc = row_value(r, k, t, t ? (size_t)sqlite3_column_bytes(st, c) : 0);
		}
		if (rc != 0) /* the row is not counted; its values go with the blocks */
			return -1;
	}
	r->nrows++;
	return 0;
}

static int lite_exec(struct bb_db *db, const char *sql, const struct params *p, struct bb_rows **rows)
{
	int *map, owned, rc;
	sqlite3_stmt *st = lite_prepare(db, sql, &map, &owned);

	if (!st)
		return lite_rc(db, sqlite3_errcode(db->lite), "prepare");
	/* Each index bound to its $N, with its length: a value may hold NUL
	 * bytes. The text stays ours until the statement is reset, which
	 * happens before this returns, so SQLite need not copy it. */
	for (int j = 0, nb = sqlite3_bind_parameter_count(st); j < nb; j++) {
		int i = map[j];
		struct bb_str v = i >= 0 && i < p->n ? param(p, i) : (struct bb_str){ NULL, 0 };
		if (v.p)
			sqlite3_bind_text64(st, j + 1, v.p, v.n, SQLITE_STATIC, SQLITE_UTF8);
	}
	if (owned)
		free(map);
	if (rows)
		*rows = calloc(1, sizeof **rows);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (rows && rows_add(*rows, st) != 0)
			break;
	int ok = rc == SQLITE_DONE || rc == SQLITE_ROW;
	db->changes = sqlite3_changes64(db->lite);
	int result = ok ? BB_DB_OK : lite_rc(db, sqlite3_extended_errcode(db->lite) & 0xff, "execute");
	lite_release(db, st);
	if (!ok && rows) {
		bb_db_rows_free(*rows);
		*rows = NULL;
	}
	return result;
}

static int wal_hook(void *arg, sqlite3 *conn, const char *name, int frames);

/* The writer's connection leaves checkpoints to the checkpointer, if any. */
static void hook_checkpointer(struct bb_db *db)
{
	if (!db->ckpt)
		return;
	sqlite3_exec(db->lite, "PRAGMA wal_autocheckpoint=0;", NULL, NULL, NULL);
	sqlite3_wal_hook(db->lite, wal_hook, db->ckpt);
}

/* Wait up to 10 s for another writer's lock, as sqlite3_busy_timeout
 * would, but give up at once when the program is asked to stop. */
static int busy_wait(void *arg, int tries)
{
	(void)arg;
	if (tries >= 1000 || bb_stopping())
		return 0;
	sqlite3_sleep(10);
	return 1;
}

/* Why the file at path could not be opened, as the system says it rather
 * than SQLite's "unable to open database file". err is the last error
 * SQLite saw, which for a file it could not create is that of the read-only
 * open it tried after: a missing file in a directory that exists is one the
 * user may not create. */
static int open_errno(const char *path, int err)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');

	if (err != ENOENT)
		return err;
	if (!slash)
		snprintf(dir, sizeof dir, ".");
	else if ((size_t)(slash - path) < sizeof dir)
		snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path);
	else
		return err;
	struct stat st;
	if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && access(dir, W_OK | X_OK) != 0)
		return errno;
	return err;
}

/* The page cache: 64 MiB unless told otherwise, so that bb-store's indexes
 * stay in memory (bb-store(1), "Storage"). */
static void lite_cache(struct bb_db *db)
{
	char sql[64];
	snprintf(sql, sizeof sql, "PRAGMA cache_size=-%d;", (db->cache_mib > 0 ? db->cache_mib : 64) * 1024);
	sqlite3_exec(db->lite, sql, NULL, NULL, NULL);
}

void bb_db_page_cache(struct bb_db *db, int mib)
{
	db->cache_mib = mib;
	if (db->lite)
		lite_cache(db);
}

/* Before SQLite starts: no count of the memory it uses, which would take a
 * mutex at each of its allocations (bb never asks for the count). */
static void lite_configure(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static int lite_open(struct bb_db *db, const char *path)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;

	pthread_once(&once, lite_configure);
	if (sqlite3_open_v2(path, &db->lite, flags, bb_db_wal_vfs()) != SQLITE_OK) {
		int err = open_errno(path, sqlite3_system_errno(db->lite));
		return fail(db, BB_DB_ERR, path, err ? strerror(err) : sqlite3_errmsg(db->lite));
	}
	sqlite3_busy_handler(db->lite, busy_wait, NULL);
	/* WAL lets readers (bb-serve, bb-status) and several writers share the
	 * file. Switching a new file to WAL takes a lock the busy timeout does
	 * not wait for, so two programs starting at once retry it. */
	int rc = SQLITE_BUSY;
	for (int i = 0; i < 100 && (rc == SQLITE_BUSY || rc == SQLITE_LOCKED); i++) {
		rc = sqlite3_exec(db->lite, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
				  "PRAGMA foreign_keys=ON;", NULL, NULL, NULL);
		if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
			sqlite3_sleep(50);
	}
	if (rc != SQLITE_OK)
		return lite_rc(db, sqlite3_errcode(db->lite), "unable to set WAL mode");
	/* a WAL that grew in a burst is cut back to 64 MiB once it starts over */
	sqlite3_exec(db->lite, "PRAGMA journal_size_limit=67108864;", NULL, NULL, NULL);
	lite_cache(db);
	hook_checkpointer(db); /* again, after a reconnect */
	return BB_DB_OK;
}

static int wal_hook(void *arg, sqlite3 *conn, const char *name, int frames)
{
	struct checkpointer *c = arg;

	if (frames < c->woken_at) /* the WAL started over */
		c->woken_at = 0;
	if (frames >= CKPT_HARD_FRAMES) {
		sqlite3_wal_checkpoint_v2(conn, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	} else if (frames - c->woken_at >= CKPT_FRAMES) {
		c->woken_at = frames;
		pthread_mutex_lock(&c->mu);
		c->wanted = 1;
		pthread_cond_signal(&c->cv);
		pthread_mutex_unlock(&c->mu);
	}
	return SQLITE_OK;
}

static void *checkpoints(void *arg)
{
	struct checkpointer *c = arg;

	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (!c->wanted && !c->stop)
			pthread_cond_wait(&c->cv, &c->mu);
		if (c->stop)
			break;
		c->wanted = 0;
		pthread_mutex_unlock(&c->mu);
		sqlite3_wal_checkpoint_v2(c->conn, "main", SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		pthread_mutex_lock(&c->mu);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

int bb_db_checkpoint_in_background(struct bb_db *db)
{
	struct checkpointer *c;

	if (!db->lite || db->ckpt)
		return BB_DB_OK;
	if (!(c = calloc(1, sizeof *c)))
		return fail(db, BB_DB_ERR, "checkpointer", "out of memory");
	if (sqlite3_open_v2(db->url + 7, &c->conn, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, bb_db_wal_vfs()) !=
	    SQLITE_OK) {
		int rc = fail(db, BB_DB_ERR, "checkpointer", sqlite3_errmsg(c->conn));
		sqlite3_close(c->conn);
		free(c);
		return rc;
	}
	sqlite3_busy_timeout(c->conn, 1000);
	/* a connection learns the file is in WAL mode when it first reads it */
	sqlite3_exec(c->conn, "PRAGMA journal_mode=WAL;", NULL, NULL, NULL);
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	if (pthread_create(&c->thread, NULL, checkpoints, c) != 0) {
		sqlite3_close(c->conn);
		free(c);
		return fail(db, BB_DB_ERR, "checkpointer", "unable to start a thread");
	}
	db->ckpt = c;
	hook_checkpointer(db);
	return BB_DB_OK;
}

static void checkpointer_stop(struct bb_db *db)
{
	struct checkpointer *c = db->ckpt;

	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	c->stop = 1;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	sqlite3_close(c->conn);
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	free(c);
	db->ckpt = NULL;
}

/* ---- PostgreSQL ---- */

static int pg_gone(struct bb_db *db)
{
	return PQstatus(db->pg) != CONNECTION_OK;
}

/* The rows of res, which they keep: the values are libpq's own, NUL-terminated. */
static struct bb_rows *pg_rows(PGresult *res)
{
	struct bb_rows *r = calloc(1, sizeof *r);
	size_t cells = r ? (size_t)PQntuples(res) * (size_t)PQnfields(res) : 0;

	if (!r || !(r->v = calloc(cells + 1, sizeof *r->v)) || !(r->len = calloc(cells + 1, sizeof *r->len))) {
		bb_db_rows_free(r);
		return NULL;
	}
	r->res = res;
	r->nrows = r->cap = PQntuples(res);
	r->ncols = PQnfields(res);
	for (int i = 0; i < r->nrows; i++)
		for (int c = 0; c < r->ncols; c++)
			if (!PQgetisnull(res, i, c)) {
				r->v[i * r->ncols + c] = PQgetvalue(res, i, c);
				r->len[i * r->ncols + c] = (size_t)PQgetlength(res, i, c);
			}
	return r;
}

static int pg_result(struct bb_db *db, PGresult *res, struct bb_rows **rows)
{
	ExecStatusType st = PQresultStatus(res);

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		/* 40001 serialization, 40P01 deadlock, 57P0x shutdown, 08xxx connection */
		int retry = pg_gone(db) || !state || strncmp(state, "40", 2) == 0 ||
			    strncmp(state, "57P", 3) == 0 || strncmp(state, "08", 2) == 0;
		int rc = fail(db, retry ? BB_DB_RETRY : BB_DB_ERR, "execute", PQerrorMessage(db->pg));
		PQclear(res);
		return rc;
	}
	db->changes = atoll(PQcmdTuples(res));
	if (rows && !(*rows = pg_rows(res))) {
		PQclear(res);
		return fail(db, BB_DB_ERR, "execute", "out of memory");
	}
	if (!rows)
		PQclear(res);
	return BB_DB_OK;
}

/* Statements are prepared once per connection (the SQL is always a literal,
 * so its address names it): planning bb-store's statements costs more than
 * running them. Returns the statement's cache slot, or -1 to send the text
 * unprepared when the cache is full (*rc BB_DB_OK), or on failure (*rc set).
 * A statement PostgreSQL refuses to prepare fails here, with its own
 * message: inside a transaction, whatever ran after it would only say the
 * transaction was aborted. */
static char pg_names[CACHE][8];

static int pg_describe(struct bb_db *db, int slot)
{
	PGresult *d = PQdescribePrepared(db->pg, pg_names[slot]);
	if (!d)
		return fail(db, BB_DB_RETRY, "prepare", PQerrorMessage(db->pg));
	if (PQresultStatus(d) != PGRES_COMMAND_OK)
		return pg_result(db, d, NULL);
	int n = PQnparams(d);
	Oid *t = malloc((size_t)n * sizeof *t + 1);
	for (int i = 0; t && i < n; i++)
		t[i] = PQparamtype(d, i);
	PQclear(d);
	db->cache[slot].types = t;
	db->cache[slot].ntypes = t ? n : 0; /* out of memory: every parameter as text */
	return BB_DB_OK;
}

static int pg_prepared(struct bb_db *db, const char *sql, int n, int *rc)
{
	int slot = db->ncache;
	*rc = BB_DB_OK;
	for (int i = 0; i < db->ncache; i++)
		if (db->cache[i].sql == sql)
			return i;
	if (n == 0 || slot == CACHE)
		return -1;
	snprintf(pg_names[slot], sizeof pg_names[0], "s%d", slot);
	PGresult *r = PQprepare(db->pg, pg_names[slot], sql, n, NULL);
	if (!r) {
		*rc = fail(db, BB_DB_RETRY, "prepare", PQerrorMessage(db->pg));
		return -1;
	}
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		*rc = pg_result(db, r, NULL); /* frees r, classifies the error */
		return -1;
	}
	PQclear(r);
	db->cache[slot].sql = sql;
	db->cache[slot].stmt = NULL;
	db->cache[slot].types = NULL;
	db->cache[slot].ntypes = 0;
	db->cache[slot].param = NULL;
	db->ncache++;
	if ((*rc = pg_describe(db, slot)) != BB_DB_OK)
		return -1;
	return slot;
}

/* Types whose binary form is the text's bytes, so a value can go with its
 * length instead of a terminator. */
static int pg_bytes_type(Oid t)
{
	return t == 25 || t == 1043 || t == 1042 || t == 19; /* text varchar bpchar name */
}

static int pg_grow(struct bb_db *db, int n, size_t text)
{
	if (n > db->pq.cap) {
		const char **v = realloc(db->pq.v, (size_t)n * sizeof *v);
		int *len = v ? realloc(db->pq.len, (size_t)n * sizeof *len) : NULL;
		int *fmt = len ? realloc(db->pq.fmt, (size_t)n * sizeof *fmt) : NULL;
		if (v)
			db->pq.v = v;
		if (len)
			db->pq.len = len;
		if (!fmt)
			return -1;
		db->pq.fmt = fmt;
		db->pq.cap = n;
	}
	if (text > db->pq.textcap) {
		char *t = realloc(db->pq.text, text);
		if (!t)
			return -1;
		db->pq.text = t;
		db->pq.textcap = text;
	}
	return 0;
}

/* Parameters with lengths as libpq takes them: text-typed ones in binary
 * form, with their lengths; the rest (times, numbers, JSON, arrays) as text,
 * which libpq reads up to a NUL: copied with a terminator, and refused when
 * a NUL byte inside would cut them short. Sets db->pq for the call. */
static int pg_bind(struct bb_db *db, const struct params *p, int slot)
{
	const Oid *types = slot >= 0 ? db->cache[slot].types : NULL;
	int ntypes = slot >= 0 ? db->cache[slot].ntypes : 0;
	size_t text = 1;

	for (int i = 0; i < p->n; i++) {
		struct bb_str v = p->s[i];
		if (v.p && v.n > INT32_MAX)
			return fail(db, BB_DB_ERR, "execute", "a parameter is longer than 2 GiB");
		if (v.p && !(i < ntypes && pg_bytes_type(types[i]))) {
			if (memchr(v.p, '\0', v.n))
				return fail(db, BB_DB_ERR, "execute", "a parameter that is not text holds a NUL byte");
			text += v.n + 1;
		}
	}
	if (pg_grow(db, p->n, text) != 0)
		return fail(db, BB_DB_ERR, "execute", "out of memory");
	char *o = db->pq.text;
	for (int i = 0; i < p->n; i++) {
		struct bb_str v = p->s[i];
		int bytes = i < ntypes && pg_bytes_type(types[i]);
		db->pq.len[i] = (int)v.n;
		db->pq.fmt[i] = v.p && bytes;
		db->pq.v[i] = v.p && bytes ? v.p : v.p ? o : NULL;
		if (v.p && !bytes) {
			memcpy(o, v.p, v.n);
			o[v.n] = '\0';
			o += v.n + 1;
		}
	}
	return BB_DB_OK;
}

/* The values, lengths and formats for libpq: NUL-terminated strings go as they are. */
static int pg_args(struct bb_db *db, const struct params *p, int slot, const char *const **v, const int **len,
		   const int **fmt)
{
	*v = p->z, *len = NULL, *fmt = NULL;
	if (!p->s || p->n == 0)
		return BB_DB_OK;
	int rc = pg_bind(db, p, slot);
	*v = db->pq.v, *len = db->pq.len, *fmt = db->pq.fmt;
	return rc;
}

static int pg_exec(struct bb_db *db, const char *sql, const struct params *p, struct bb_rows **rows)
{
	const char *const *v;
	const int *len, *fmt;
	int rc, slot = pg_prepared(db, sql, p->n, &rc);

	if (rc == BB_DB_OK)
		rc = pg_args(db, p, slot, &v, &len, &fmt);
	if (rc != BB_DB_OK)
		return rc;
	PGresult *res = slot >= 0 ? PQexecPrepared(db->pg, pg_names[slot], p->n, v, len, fmt, 0) :
				    PQexecParams(db->pg, sql, p->n, NULL, v, len, fmt, 0);
	if (!res)
		return fail(db, BB_DB_RETRY, "execute", PQerrorMessage(db->pg));
	return pg_result(db, res, rows);
}

/* A refusal no retry mends: the server answered, but the database or the
 * role does not exist, or the password or the host is refused. libpq
 * gives no SQLSTATE for a failed connection: its message is all there is. */
static int pg_refused(const char *msg)
{
	return strstr(msg, "FATAL:") &&
	       (strstr(msg, "does not exist") || strstr(msg, "authentication failed") || strstr(msg, "pg_hba.conf"));
}

/* The server's notices (and the FATAL of a connection it ends) would go to
 * stderr in libpq's words; what matters comes back as the error of the call,
 * which bb reports in its own. */
static void pg_quiet(void *arg, const char *message)
{
	(void)arg, (void)message;
}

static int pg_open(struct bb_db *db)
{
	db->pg = PQconnectdb(db->url);
	if (pg_gone(db))
		return fail(db, pg_refused(PQerrorMessage(db->pg)) ? BB_DB_BADURL : BB_DB_RETRY, "unable to connect",
			    PQerrorMessage(db->pg));
	PQsetNoticeProcessor(db->pg, pg_quiet, NULL);
	struct params none = { 0, NULL, NULL };
	return pg_exec(db, "SET client_min_messages = warning", &none, NULL);
}

/* ---- the interface ---- */

int bb_db_exec(struct bb_db *db, const char *sql, int n, const char *const *params,
	       struct bb_rows **rows)
{
	struct params p = { n, params, NULL };
	if (rows)
		*rows = NULL;
	return db->pg ? pg_exec(db, sql, &p, rows) : lite_exec(db, sql, &p, rows);
}

int bb_db_query(struct bb_db *db, const char *sql, int n, const struct bb_str *params, struct bb_rows **rows)
{
	struct params p = { n, NULL, params };
	if (rows)
		*rows = NULL;
	return db->pg ? pg_exec(db, sql, &p, rows) : lite_exec(db, sql, &p, rows);
}

int bb_db_can_hold(const struct bb_db *db, const char *s, size_t n)
{
	return !db->pg || !memchr(s, '\0', n);
}

/* A statement of a pipeline, in either form. */
struct call {
	const char *sql;
	struct params p;
};

/* Prepare the statements a pipeline will use: PQprepare cannot run inside one. */
static int pg_pipe_begin(struct bb_db *db, int n, const struct call *c)
{
	int rc;

	for (int i = 0; i < n; i++)
		if (pg_prepared(db, c[i].sql, c[i].p.n, &rc) < 0 && rc != BB_DB_OK)
			return rc;
	if (!PQenterPipelineMode(db->pg))
		return fail(db, BB_DB_RETRY, "pipeline", PQerrorMessage(db->pg));
	db->piped = 0;
	return BB_DB_OK;
}

/* Queue one statement. now: send it on its way, so the server starts on it
 * while the caller gets the next one ready, and take in the results already
 * back, so the server never waits to write them. */
static int pg_pipe_send(struct bb_db *db, const char *sql, const struct params *p, int now)
{
	const char *const *v;
	const int *len, *fmt;
	int rc, slot = pg_prepared(db, sql, p->n, &rc); /* in the cache since pg_pipe_begin */

	if (rc == BB_DB_OK)
		rc = pg_args(db, p, slot, &v, &len, &fmt);
	if (rc != BB_DB_OK)
		return rc;
	if (!(slot >= 0 ? PQsendQueryPrepared(db->pg, pg_names[slot], p->n, v, len, fmt, 0) :
			  PQsendQueryParams(db->pg, sql, p->n, NULL, v, len, fmt, 0)) ||
	    (now && (PQflush(db->pg) != 0 || !PQconsumeInput(db->pg))))
		return fail(db, BB_DB_RETRY, "pipeline", PQerrorMessage(db->pg));
	db->piped++;
	return BB_DB_OK;
}

/* The results of everything sent since pg_pipe_begin, in order. */
static int pg_pipe_end(struct bb_db *db, struct bb_rows **res, int rc)
{
	int n = db->piped;

	/* the sync point, even after a failed send: the server sends what it
	 * has only at a sync, and the drain below reads up to it */
	if (!pg_gone(db) && !PQpipelineSync(db->pg) && rc == BB_DB_OK)
		rc = fail(db, BB_DB_RETRY, "pipeline", PQerrorMessage(db->pg));
	for (int i = 0; rc == BB_DB_OK && i < n; i++) {
		PGresult *r = PQgetResult(db->pg);
		if (!r) {
			rc = fail(db, BB_DB_RETRY, "pipeline", PQerrorMessage(db->pg));
			break;
		}
		int one = pg_result(db, r, res ? &res[i] : NULL); /* r freed, or kept by res[i] */
		PGresult *end = PQgetResult(db->pg);                 /* NULL after each query */
		if (end)
			PQclear(end);
		rc = one;
	}
	/* drain to the sync point: after a failure the rest report
	 * PGRES_PIPELINE_ABORTED, each followed by a NULL */
	for (int k = 0; !pg_gone(db) && k < 2 * n + 4; k++) {
		PGresult *r = PQgetResult(db->pg);
		if (!r)
			continue;
		int sync = PQresultStatus(r) == PGRES_PIPELINE_SYNC;
		PQclear(r);
		if (sync)
			break;
	}
	if (!pg_gone(db))
		PQexitPipelineMode(db->pg);
	db->piped = 0;
	return rc;
}

static struct call *calls_of(int n, const struct bb_stmt *st, const struct bb_query *q)
{
	struct call *c = malloc((size_t)n * sizeof *c + 1);
	for (int i = 0; c && i < n; i++)
		c[i] = st ? (struct call){ st[i].sql, stmt_params(&st[i]) } : (struct call){ q[i].sql, query_params(&q[i]) };
	return c;
}

int bb_db_pipe_begin(struct bb_db *db, int n, const struct bb_stmt *st)
{
	if (!db->pg)
		return fail(db, BB_DB_ERR, "pipeline", "PostgreSQL only");
	struct call *c = calls_of(n, st, NULL);
	int rc = c ? pg_pipe_begin(db, n, c) : fail(db, BB_DB_ERR, "pipeline", "out of memory");
	free(c);
	return rc;
}

int bb_db_pipe_send(struct bb_db *db, const struct bb_stmt *st)
{
	struct params p = stmt_params(st);
	return db->pg ? pg_pipe_send(db, st->sql, &p, 1) : fail(db, BB_DB_ERR, "pipeline", "PostgreSQL only");
}

int bb_db_pipe_send_q(struct bb_db *db, const struct bb_query *q)
{
	struct params p = query_params(q);
	return db->pg ? pg_pipe_send(db, q->sql, &p, 1) : fail(db, BB_DB_ERR, "pipeline", "PostgreSQL only");
}

int bb_db_pipe_end(struct bb_db *db, struct bb_rows **res, int rc)
{
	return db->pg ? pg_pipe_end(db, res, rc) : rc;
}

static int pipeline(struct bb_db *db, int n, const struct call *c, struct bb_rows **res)
{
	int rc = BB_DB_OK;

	for (int i = 0; res && i < n; i++)
		res[i] = NULL;
	if (db->pg && n > 0) {
		if ((rc = pg_pipe_begin(db, n, c)) != BB_DB_OK)
			return rc;
		for (int i = 0; rc == BB_DB_OK && i < n; i++)
			rc = pg_pipe_send(db, c[i].sql, &c[i].p, 0);
		return pg_pipe_end(db, res, rc);
	}
	for (int i = 0; rc == BB_DB_OK && i < n; i++)
		rc = lite_exec(db, c[i].sql, &c[i].p, res ? &res[i] : NULL);
	return rc;
}

int bb_db_pipeline(struct bb_db *db, int n, const struct bb_stmt *st, struct bb_rows **res)
{
	struct call *c = calls_of(n, st, NULL);
	int rc = c ? pipeline(db, n, c, res) : fail(db, BB_DB_ERR, "pipeline", "out of memory");
	free(c);
	return rc;
}

int bb_db_pipeline_q(struct bb_db *db, int n, const struct bb_query *q, struct bb_rows **res)
{
	struct call *c = calls_of(n, NULL, q);
	int rc = c ? pipeline(db, n, c, res) : fail(db, BB_DB_ERR, "pipeline", "out of memory");
	free(c);
	return rc;
}

int64_t bb_db_changes(const struct bb_db *db)
{
	return db->changes;
}

int64_t bb_db_last_rowid(const struct bb_db *db)
{
	return db->lite ? sqlite3_last_insert_rowid(db->lite) : -1;
}

int bb_db_nrows(const struct bb_rows *r)
{
	return r ? r->nrows : 0;
}

const char *bb_db_value(const struct bb_rows *r, int row, int col)
{
	if (!r || row < 0 || col < 0 || row >= r->nrows || col >= r->ncols)
		return NULL;
	return r->v[row * r->ncols + col];
}

struct bb_str bb_db_text(const struct bb_rows *r, int row, int col)
{
	const char *v = bb_db_value(r, row, col);
	return (struct bb_str){ v, v ? r->len[row * r->ncols + col] : 0 };
}

void bb_db_rows_free(struct bb_rows *r)
{
	if (!r)
		return;
	for (struct text_block *b = r->text, *next; b; b = next) {
		next = b->next;
		free(b);
	}
	if (r->res) /* PostgreSQL's: libpq is not loaded for SQLite */
		PQclear(r->res);
	free(r->v);
	free(r->len);
	free(r);
}

int bb_db_begin(struct bb_db *db)
{
	/* IMMEDIATE: take SQLite's write lock now, not halfway through the batch */
	return bb_db_exec(db, db->pg ? "BEGIN" : "BEGIN IMMEDIATE", 0, NULL, NULL);
}

int bb_db_commit(struct bb_db *db)
{
	return bb_db_exec(db, "COMMIT", 0, NULL, NULL);
}

void bb_db_rollback(struct bb_db *db)
{
	char keep[sizeof db->err];
	memcpy(keep, db->err, sizeof keep);
	bb_db_exec(db, "ROLLBACK", 0, NULL, NULL);
	memcpy(db->err, keep, sizeof keep); /* the first error is the one worth telling */
}

static void close_handles(struct bb_db *db)
{
	for (int i = 0; i < db->ncache; i++) {
		if (db->cache[i].stmt)
			sqlite3_finalize(db->cache[i].stmt);
		free(db->cache[i].types);
		free(db->cache[i].param);
		db->cache[i].param = NULL;
	}
	db->ncache = 0;
	if (db->lite)
		sqlite3_close(db->lite);
	if (db->pg)
		PQfinish(db->pg);
	db->lite = NULL;
	db->pg = NULL;
	db->listening = 0;
	db->version = 0;
}

int bb_db_reconnect(struct bb_db *db)
{
	int pg = strncmp(db->url, "sqlite:", 7) != 0;
	close_handles(db);
	return pg ? pg_open(db) : lite_open(db, db->url + 7);
}

int bb_db_url_check(const char *url, char *err, size_t errlen)
{
	char *msg = NULL;
	PQconninfoOption *o;

	if (!url[strspn(url, " \t\r\n")]) /* libpq would take it for "every default" */
		return snprintf(err, errlen, "empty: expected sqlite:PATH, or a PostgreSQL URL or conninfo string"), -1;
	if (strncmp(url, "sqlite:", 7) == 0)
		return url[7] ? 0 : (snprintf(err, errlen, "sqlite: needs a path"), -1);
	if (bb_pq_load(err, errlen) != 0)
		return -1;
	if (!(o = PQconninfoParse(url, &msg))) {
		snprintf(err, errlen, "neither sqlite:PATH nor a PostgreSQL URL or conninfo: %s",
			 msg ? msg : "out of memory");
		err[strcspn(err, "\n")] = '\0';
		PQfreemem(msg);
		return -1;
	}
	PQconninfoFree(o);
	return 0;
}

int bb_db_open(const char *url, struct bb_db **out, char *err, size_t errlen)
{
	struct bb_db *db = calloc(1, sizeof *db);
	int rc;

	*out = db;
	if (!db)
		return BB_DB_ERR;
	db->url = strdup(url);
	db->name = masked(url);
	if (bb_db_url_check(url, err, errlen) != 0)
		return BB_DB_BADURL;
	rc = bb_db_reconnect(db);
	if (rc == BB_DB_OK && bb_db_migrate(db, err, errlen) < 0)
		return BB_DB_ERR;
	if (rc == BB_DB_ERR && !db->pg) /* the file cannot be opened, or is no database */
		rc = BB_DB_BADURL;
	if (rc != BB_DB_OK)
		snprintf(err, errlen, "%s", db->err);
	return rc;
}

void bb_db_close(struct bb_db *db)
{
	if (!db)
		return;
	checkpointer_stop(db);
	close_handles(db);
	free(db->pq.v), free(db->pq.len), free(db->pq.fmt), free(db->pq.text);
	free(db->url);
	free(db->name);
	free(db);
}

/* ---- waiting for another connection's commit ---- */

#define POLL_MS 250 /* SQLite: how often data_version is looked at */

/* SQLite: 1 when data_version moved since last looked at (the first look
 * only notes it). */
static int lite_changed(struct bb_db *db)
{
	struct bb_rows *rows;
	int rc = bb_db_exec(db, "PRAGMA data_version", 0, NULL, &rows);
	const char *v = rc == BB_DB_OK ? bb_db_value(rows, 0, 0) : NULL;
	int64_t now = v ? strtoll(v, NULL, 10) : 0;
	int changed = db->version != 0 && now != db->version;

	bb_db_rows_free(rows);
	if (rc != BB_DB_OK)
		return rc;
	db->version = now;
	return changed;
}

static int lite_wait(struct bb_db *db, int ms)
{
	int64_t end = bb_mono_ms() + ms;
	int rc = lite_changed(db);

	while (rc == 0 && bb_mono_ms() < end) {
		int64_t left = end - bb_mono_ms();
		struct timespec t = { 0, (long)(left < POLL_MS ? left : POLL_MS) * 1000000L };
		nanosleep(&t, NULL);
		rc = lite_changed(db);
	}
	return rc;
}

/* PostgreSQL: 1 when a notification came, every one waiting read. */
static int pg_notified(struct bb_db *db)
{
	PGnotify *n;
	int got = 0;
	if (!PQconsumeInput(db->pg))
		return fail(db, BB_DB_RETRY, "wait", PQerrorMessage(db->pg));
	while ((n = PQnotifies(db->pg)) != NULL)
		got = 1, PQfreemem(n);
	return got;
}

static int pg_wait(struct bb_db *db, const char *channel, int ms)
{
	if (!db->listening) {
		if (pg_gone(db)) /* PQescapeIdentifier needs the connection */
			return fail(db, BB_DB_RETRY, "listen", PQerrorMessage(db->pg));
		char *id = PQescapeIdentifier(db->pg, channel, strlen(channel)), *sql = NULL;
		if (!id || asprintf(&sql, "LISTEN %s", id) < 0)
			sql = NULL;
		PGresult *res = sql ? PQexec(db->pg, sql) : NULL;
		int rc = res ? pg_result(db, res, NULL) : fail(db, BB_DB_ERR, "listen", "out of memory");
		PQfreemem(id), free(sql);
		if (rc != BB_DB_OK)
			return rc;
		db->listening = 1;
	}
	int rc = pg_notified(db);
	if (rc != 0 || ms <= 0)
		return rc;
	struct pollfd fd = { PQsocket(db->pg), POLLIN, 0 };
	if (poll(&fd, 1, ms) < 0 && errno != EINTR)
		return fail(db, BB_DB_RETRY, "wait", strerror(errno));
	return pg_notified(db);
}

int bb_db_wait_change(struct bb_db *db, const char *channel, int ms)
{
	return db->pg ? pg_wait(db, channel, ms) : lite_wait(db, ms);
}

int bb_db_exit_status(int rc)
{
	return rc == BB_DB_BADURL ? BB_EX_CONFIG : rc == BB_DB_RETRY ? BB_EX_TEMPFAIL : BB_EX_UNAVAILABLE;
}

int bb_db_open_or_report(const char *url, struct bb_db **db)
{
	char err[600];
	int rc = bb_db_open(url, db, err, sizeof err);

	if (rc >= 0)
		return 0;
	return bb_fatal(bb_db_exit_status(rc), "unable to open database '%s': %s", bb_db_name(*db), err);
}

/* ---- migrations ---- */

static int apply(struct bb_db *db, const struct bb_migration *m, char *err, size_t errlen)
{
	char version[16], now[40];
	const char *p[2] = { version, now };
	int rc;

	snprintf(version, sizeof version, "%d", m->version);
	bb_time_format(bb_clock_ms(), now, sizeof now);
	if (db->pg) {
		PGresult *res = PQexec(db->pg, m->sql);
		rc = pg_result(db, res, NULL);
	} else {
		char *msg = NULL;
		rc = sqlite3_exec(db->lite, m->sql, NULL, NULL, &msg) == SQLITE_OK ? BB_DB_OK : BB_DB_ERR;
		if (rc != BB_DB_OK)
			fail(db, rc, "execute", msg);
		sqlite3_free(msg);
	}
	if (rc == BB_DB_OK)
		rc = bb_db_exec(db, "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)", 2, p, NULL);
	if (rc != BB_DB_OK)
		snprintf(err, errlen, "migration %s: %s", m->name, db->err);
	return rc;
}

static int applied_already(const struct bb_rows *rows, int version)
{
	for (int i = 0; i < bb_db_nrows(rows); i++)
		if (atoi(bb_db_value(rows, i, 0)) == version)
			return 1;
	return 0;
}

int bb_db_migrate(struct bb_db *db, char *err, size_t errlen)
{
	const struct bb_migration *m = db->pg ? bb_migrations_postgres : bb_migrations_sqlite;
	struct bb_rows *rows = NULL;
	int applied = 0, rc;

	err[0] = '\0';
	rc = bb_db_begin(db);
	/* one migrator at a time across processes and hosts */
	if (rc == BB_DB_OK && db->pg)
		rc = bb_db_exec(db, "SELECT pg_advisory_xact_lock(4242001)", 0, NULL, NULL);
	if (rc == BB_DB_OK)
		rc = bb_db_exec(db, "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
				"applied_at TEXT NOT NULL)", 0, NULL, NULL);
	if (rc == BB_DB_OK)
		rc = bb_db_exec(db, "SELECT version FROM schema_migrations", 0, NULL, &rows);
	/* every version not applied yet, not only those above the highest: a
	 * version numbered on another branch may land after a later one */
	for (; rc == BB_DB_OK && m->version; m++)
		if (!applied_already(rows, m->version) && (rc = apply(db, m, err, errlen)) == BB_DB_OK)
			applied++;
	bb_db_rows_free(rows);
	if (rc == BB_DB_OK)
		rc = bb_db_commit(db);
	if (rc != BB_DB_OK) {
		if (!*err)
			snprintf(err, errlen, "migrate: %s", db->err);
		bb_db_rollback(db);
		return rc;
	}
	return applied;
}
