/* db-wal.c: an SQLite VFS over the default one that writes a connection's
 * WAL frames in a few large writes instead of two per frame.
 *
 * SQLite writes each frame of a commit with two writes, its 24-byte header
 * and then its page, so a frame straddles two file pages: a commit of 500
 * notifications (about 3,000 frames) was 6,000 system calls, each filling
 * parts of file pages, and the kernel's work per page cost bb-store's
 * writer more than all its inserts. Here the WAL writes of a connection are
 * gathered in a buffer while they follow each other in the file, and the
 * buffer is written out, 64 KiB at a time:
 *  - after the page of a commit frame (a frame whose header gives the size
 *    of the database): before SQLite publishes the commit in the shared
 *    WAL index, so no other connection can read a frame that is not in the
 *    file, and so that a failed write fails the commit;
 *  - before the file is read, synced, truncated, sized or closed, before a
 *    write elsewhere in it, and when the buffer holds BUF_MAX bytes;
 *  - at any shared-memory barrier of the connection's thread (the WAL
 *    index is only written between barriers), as a safety net.
 * A process killed with frames in the buffer loses only frames of a commit
 * that was never published. Everything else passes through unchanged. */
#include "db-internal.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#define VFS_NAME "bb-wal"
#define BUF_MAX (4 << 20)
#define CHUNK (64 << 10)
#define FRAME_HEADER 24

struct wfile {
	sqlite3_file base;
	sqlite3_file *real; /* the default VFS's file, just after this struct */
	int wal;            /* a WAL file: its writes are gathered */
	int commit;         /* the frame header just written is a commit frame's */
	char *buf;
	size_t n, cap;
	sqlite3_int64 off; /* where buf[0] goes in the file */
};

static sqlite3_vfs *base_vfs;
static sqlite3_vfs wal_vfs;
/* A connection is used by one thread at a time: the WAL whose writes this
 * thread has gathered, if any. */
static _Thread_local struct wfile *pending;

/* The buffer written out in pieces of at most CHUNK bytes, each ending on a
 * CHUNK boundary of the file: the default VFS writes at most 128 KiB at a
 * time. */
static int flush(struct wfile *f)
{
	size_t done = 0;
	int rc = SQLITE_OK;

	if (pending == f)
		pending = NULL;
	while (rc == SQLITE_OK && done < f->n) {
		sqlite3_int64 at = f->off + (sqlite3_int64)done;
		size_t piece = CHUNK - (size_t)(at % CHUNK);
		if (piece > f->n - done)
			piece = f->n - done;
		rc = f->real->pMethods->xWrite(f->real, f->buf + done, (int)piece, at);
		done += piece;
	}
	f->n = 0;
	return rc;
}

static int gather(struct wfile *f, const void *data, int amt, sqlite3_int64 off)
{
	if (f->n > 0 && off != f->off + (sqlite3_int64)f->n) {
		int rc = flush(f);
		if (rc != SQLITE_OK)
			return rc;
	}
	if (f->n + (size_t)amt > f->cap) {
		size_t cap = f->cap ? f->cap : 1 << 16;
		while (cap < f->n + (size_t)amt)
			cap *= 2;
		char *buf = realloc(f->buf, cap);
		if (!buf) { /* write it through, in order */
			int rc = flush(f);
			return rc != SQLITE_OK ? rc : f->real->pMethods->xWrite(f->real, data, amt, off);
		}
		f->buf = buf;
		f->cap = cap;
	}
	if (f->n == 0)
		f->off = off;
	memcpy(f->buf + f->n, data, (size_t)amt);
	f->n += (size_t)amt;
	pending = f;
	return SQLITE_OK;
}

static int w_write(sqlite3_file *file, const void *data, int amt, sqlite3_int64 off)
{
	struct wfile *f = (struct wfile *)file;

	if (!f->wal)
		return f->real->pMethods->xWrite(f->real, data, amt, off);
	int commit = f->commit;
	const unsigned char *h = data;
	/* a frame header: page number, then the database size for a commit */
	f->commit = amt == FRAME_HEADER && (h[4] | h[5] | h[6] | h[7]) != 0;
	int rc = gather(f, data, amt, off);
	if (rc == SQLITE_OK && ((commit && amt != FRAME_HEADER) || f->n >= BUF_MAX))
		rc = flush(f);
	return rc;
}

static int w_read(sqlite3_file *file, void *data, int amt, sqlite3_int64 off)
{
	struct wfile *f = (struct wfile *)file;
	int rc = flush(f);
	return rc != SQLITE_OK ? rc : f->real->pMethods->xRead(f->real, data, amt, off);
}

static int w_close(sqlite3_file *file)
{
	struct wfile *f = (struct wfile *)file;
	int rc = flush(f), closed = f->real->pMethods->xClose(f->real);
	free(f->buf);
	f->buf = NULL;
	return rc != SQLITE_OK ? rc : closed;
}

static int w_truncate(sqlite3_file *file, sqlite3_int64 size)
{
	struct wfile *f = (struct wfile *)file;
	int rc = flush(f);
	return rc != SQLITE_OK ? rc : f->real->pMethods->xTruncate(f->real, size);
}

static int w_sync(sqlite3_file *file, int flags)
{
	struct wfile *f = (struct wfile *)file;
	int rc = flush(f);
	return rc != SQLITE_OK ? rc : f->real->pMethods->xSync(f->real, flags);
}

static int w_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
	struct wfile *f = (struct wfile *)file;
	int rc = flush(f);
	return rc != SQLITE_OK ? rc : f->real->pMethods->xFileSize(f->real, size);
}

static void w_shm_barrier(sqlite3_file *file)
{
	struct wfile *f = (struct wfile *)file;
	if (pending)
		flush(pending); /* never anything left: the commit frame flushed it */
	f->real->pMethods->xShmBarrier(f->real);
}

/* The rest as the default VFS does it. */
#define REAL(file) (((struct wfile *)(file))->real)
static int w_lock(sqlite3_file *file, int l)
{
	return REAL(file)->pMethods->xLock(REAL(file), l);
}
static int w_unlock(sqlite3_file *file, int l)
{
	return REAL(file)->pMethods->xUnlock(REAL(file), l);
}
static int w_check_reserved(sqlite3_file *file, int *out)
{
	return REAL(file)->pMethods->xCheckReservedLock(REAL(file), out);
}
static int w_file_control(sqlite3_file *file, int op, void *arg)
{
	return REAL(file)->pMethods->xFileControl(REAL(file), op, arg);
}
static int w_sector_size(sqlite3_file *file)
{
	return REAL(file)->pMethods->xSectorSize(REAL(file));
}
static int w_device(sqlite3_file *file)
{
	return REAL(file)->pMethods->xDeviceCharacteristics(REAL(file));
}
static int w_shm_map(sqlite3_file *file, int pg, int size, int extend, void volatile **p)
{
	return REAL(file)->pMethods->xShmMap(REAL(file), pg, size, extend, p);
}
static int w_shm_lock(sqlite3_file *file, int offset, int n, int flags)
{
	return REAL(file)->pMethods->xShmLock(REAL(file), offset, n, flags);
}
static int w_shm_unmap(sqlite3_file *file, int del)
{
	return REAL(file)->pMethods->xShmUnmap(REAL(file), del);
}
static int w_fetch(sqlite3_file *file, sqlite3_int64 off, int amt, void **p)
{
	return REAL(file)->pMethods->xFetch(REAL(file), off, amt, p);
}
static int w_unfetch(sqlite3_file *file, sqlite3_int64 off, void *p)
{
	return REAL(file)->pMethods->xUnfetch(REAL(file), off, p);
}

static const sqlite3_io_methods w_methods = {
	3, w_close, w_read, w_write, w_truncate, w_sync, w_file_size, w_lock, w_unlock, w_check_reserved,
	w_file_control, w_sector_size, w_device, w_shm_map, w_shm_lock, w_shm_barrier, w_shm_unmap, w_fetch,
	w_unfetch,
};

static int w_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags, int *out_flags)
{
	struct wfile *f = (struct wfile *)file;
	(void)vfs;

	memset(f, 0, sizeof *f);
	f->real = (sqlite3_file *)(f + 1);
	f->wal = (flags & SQLITE_OPEN_WAL) != 0;
	int rc = base_vfs->xOpen(base_vfs, name, f->real, flags, out_flags);
	/* only a file the default VFS opened, with all its methods, is ours */
	f->base.pMethods = f->real->pMethods && f->real->pMethods->iVersion >= 3 ? &w_methods : NULL;
	if (f->real->pMethods && !f->base.pMethods) {
		f->real->pMethods->xClose(f->real);
		return rc == SQLITE_OK ? SQLITE_CANTOPEN : rc;
	}
	return rc;
}

static int v_delete(sqlite3_vfs *v, const char *name, int sync)
{
	(void)v;
	return base_vfs->xDelete(base_vfs, name, sync);
}
static int v_access(sqlite3_vfs *v, const char *name, int flags, int *out)
{
	(void)v;
	return base_vfs->xAccess(base_vfs, name, flags, out);
}
static int v_full_pathname(sqlite3_vfs *v, const char *name, int n, char *out)
{
	(void)v;
	return base_vfs->xFullPathname(base_vfs, name, n, out);
}
static void *v_dl_open(sqlite3_vfs *v, const char *name)
{
	(void)v;
	return base_vfs->xDlOpen(base_vfs, name);
}
static void v_dl_error(sqlite3_vfs *v, int n, char *msg)
{
	(void)v;
	base_vfs->xDlError(base_vfs, n, msg);
}
static void (*v_dl_sym(sqlite3_vfs *v, void *h, const char *sym))(void)
{
	(void)v;
	return base_vfs->xDlSym(base_vfs, h, sym);
}
static void v_dl_close(sqlite3_vfs *v, void *h)
{
	(void)v;
	base_vfs->xDlClose(base_vfs, h);
}
static int v_randomness(sqlite3_vfs *v, int n, char *out)
{
	(void)v;
	return base_vfs->xRandomness(base_vfs, n, out);
}
static int v_sleep(sqlite3_vfs *v, int us)
{
	(void)v;
	return base_vfs->xSleep(base_vfs, us);
}
static int v_current_time(sqlite3_vfs *v, double *t)
{
	(void)v;
	return base_vfs->xCurrentTime(base_vfs, t);
}
static int v_last_error(sqlite3_vfs *v, int n, char *msg)
{
	(void)v;
	return base_vfs->xGetLastError(base_vfs, n, msg);
}
static int v_current_time64(sqlite3_vfs *v, sqlite3_int64 *t)
{
	(void)v;
	return base_vfs->xCurrentTimeInt64(base_vfs, t);
}

static void wal_vfs_register(void)
{
	base_vfs = sqlite3_vfs_find(NULL);
	if (!base_vfs || base_vfs->iVersion < 2 || !base_vfs->xCurrentTimeInt64)
		return;
	wal_vfs = (sqlite3_vfs){ .iVersion = 2, .szOsFile = (int)sizeof(struct wfile) + base_vfs->szOsFile,
				 .mxPathname = base_vfs->mxPathname, .zName = VFS_NAME, .xOpen = w_open,
				 .xDelete = v_delete, .xAccess = v_access, .xFullPathname = v_full_pathname,
				 .xDlOpen = v_dl_open, .xDlError = v_dl_error, .xDlSym = v_dl_sym,
				 .xDlClose = v_dl_close, .xRandomness = v_randomness, .xSleep = v_sleep,
				 .xCurrentTime = v_current_time, .xGetLastError = v_last_error,
				 .xCurrentTimeInt64 = v_current_time64 };
	if (sqlite3_vfs_register(&wal_vfs, 0) != SQLITE_OK)
		wal_vfs.zName = NULL;
}

const char *bb_db_wal_vfs(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, wal_vfs_register);
	return wal_vfs.zName;
}
