/* wbehind.h: standard output written behind, by a thread of its own.
 *
 * A filter that reads, checks and writes kilobyte records spends a sixth of
 * its time in write(2). The stream bb_wb_open returns collects what the
 * program writes into large chunks and a second thread writes them to the
 * file descriptor, in order, while the program goes on with the next
 * records. Only one such stream exists at a time. */
#ifndef BB_WBEHIND_H
#define BB_WBEHIND_H

#include <stdio.h>

/* A stream whose bytes another thread writes to fd; NULL (errno set) when
 * the thread cannot start, and the caller writes fd itself. */
FILE *bb_wb_open(int fd);

/* Hand what has been written so far to the thread now, without waiting for
 * it to be written. 0, or -1 with errno when an earlier write failed. */
int bb_wb_flush(FILE *f);

/* Wait until everything is written, stop the thread, close the stream.
 * 0, or -1 with errno of the first write that failed. */
int bb_wb_close(FILE *f);

#endif
