/* wbehind.c: standard output written behind (wbehind.h).
 *
 * Four chunks of 256 KiB: the one the program fills, the one being written,
 * and two waiting. The program waits only when all are taken, so a slow
 * reader downstream still slows the program down, as a pipe would. A flush
 * with nothing waiting is written at once by the program's own thread. */
#include "wbehind.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK ((size_t)256 << 10)
#define CHUNKS 4

static struct {
	int fd;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t changed;
	char *queued[CHUNKS];
	size_t queued_len[CHUNKS];
	int head, nqueued;    /* waiting to be written: queued[head..head+nqueued), a ring */
	char *free[CHUNKS];
	int nfree;
	int err;              /* errno of the first write that failed */
	int closing;
	char *cur;            /* the chunk the program fills */
	size_t len;
} wb;

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return k < 0 ? errno : EIO;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static void *writing(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&wb.mu);
	for (;;) {
		while (wb.nqueued == 0 && !wb.closing)
			pthread_cond_wait(&wb.changed, &wb.mu);
		if (wb.nqueued == 0)
			break;
		char *c = wb.queued[wb.head];
		size_t n = wb.queued_len[wb.head];
		int failed = wb.err;
		pthread_mutex_unlock(&wb.mu);
		int e = failed ? 0 : write_all(wb.fd, c, n); /* after a failure, nothing more */
		pthread_mutex_lock(&wb.mu);
		if (e && !wb.err)
			wb.err = e;
		wb.head = (wb.head + 1) % CHUNKS;
		wb.nqueued--;
		wb.free[wb.nfree++] = c;
		pthread_cond_broadcast(&wb.changed);
	}
	pthread_mutex_unlock(&wb.mu);
	return NULL;
}

/* The chunk being filled goes to the writer; a free one takes its place. */
static int hand_over(void)
{
	pthread_mutex_lock(&wb.mu);
	wb.queued[(wb.head + wb.nqueued) % CHUNKS] = wb.cur;
	wb.queued_len[(wb.head + wb.nqueued) % CHUNKS] = wb.len;
	wb.nqueued++;
	pthread_cond_broadcast(&wb.changed);
	while (wb.nfree == 0)
		pthread_cond_wait(&wb.changed, &wb.mu);
	wb.cur = wb.free[--wb.nfree];
	wb.len = 0;
	int err = wb.err;
	pthread_mutex_unlock(&wb.mu);
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

static ssize_t cookie_write(void *cookie, const char *buf, size_t size)
{
	size_t left = size;
	(void)cookie;
	while (left > 0) {
		size_t k = CHUNK - wb.len < left ? CHUNK - wb.len : left;
		memcpy(wb.cur + wb.len, buf, k);
		wb.len += k;
		buf += k;
		left -= k;
		if (wb.len == CHUNK && hand_over() != 0)
			return -1;
	}
	return (ssize_t)size;
}

FILE *bb_wb_open(int fd)
{
	cookie_io_functions_t io = { .write = cookie_write };
	sigset_t all, old;
	int i;

	memset(&wb, 0, sizeof wb);
	wb.fd = fd;
	for (i = 0; i < CHUNKS; i++)
		if (!(wb.free[wb.nfree++] = malloc(CHUNK)))
			goto fail;
	wb.cur = wb.free[--wb.nfree];
	FILE *f = fopencookie(NULL, "w", io);
	if (!f)
		goto fail;
	setvbuf(f, NULL, _IONBF, 0); /* every write straight into the chunk */
	pthread_mutex_init(&wb.mu, NULL);
	pthread_cond_init(&wb.changed, NULL);
	/* signals stay with the program's thread, whose read they interrupt */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int rc = pthread_create(&wb.thread, NULL, writing, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc == 0)
		return f;
	fclose(f);
	errno = rc;
fail:
	free(wb.cur);
	while (wb.nfree > 0)
		free(wb.free[--wb.nfree]);
	return NULL;
}

int bb_wb_flush(FILE *f)
{
	(void)f;
	pthread_mutex_lock(&wb.mu);
	int idle = wb.nqueued == 0, err = wb.err;
	pthread_mutex_unlock(&wb.mu);
	if (wb.len > 0 && !idle)
		return hand_over();
	if (wb.len > 0 && !err) {
		/* Records trickling in: nothing is waiting, so this thread writes
		 * them itself (only it queues chunks), sparing the hand-over. */
		err = write_all(wb.fd, wb.cur, wb.len);
		if (err) {
			pthread_mutex_lock(&wb.mu);
			wb.err = err;
			pthread_mutex_unlock(&wb.mu);
		}
	}
	wb.len = 0;
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

int bb_wb_close(FILE *f)
{
	int rc = bb_wb_flush(f);
	pthread_mutex_lock(&wb.mu);
	wb.closing = 1;
	pthread_cond_broadcast(&wb.changed);
	pthread_mutex_unlock(&wb.mu);
	pthread_join(wb.thread, NULL);
	fclose(f);
	free(wb.cur);
	while (wb.nfree > 0)
		free(wb.free[--wb.nfree]);
	if (rc == 0 && wb.err) {
		errno = wb.err;
		rc = -1;
	}
	return rc;
}
