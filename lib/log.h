/* log.h: one line per event on stderr (logfmt, or JSON with BB_LOG_FORMAT=json),
 * and the one wording of fatal errors: "prog: fatal: unable to <verb> <object>: <reason>". */
#ifndef BB_LOG_H
#define BB_LOG_H

#include <stddef.h>

enum bb_level { BB_DEBUG, BB_INFO, BB_WARN, BB_ERROR };

void bb_log_init(const char *prog);
const char *bb_prog(void);

/* Log msg with extra fields given as NULL-terminated key, value string pairs. */
void bb_log(enum bb_level level, const char *trace_id, const char *msg, ...)
	__attribute__((sentinel));

/* Print "prog: fatal: <message>" and return code, for main() to exit with. */
int bb_fatal(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Print "prog: <message>" (a usage hint or a warning for the operator). */
void bb_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* write(2) all len bytes of buf to fd, again after EINTR and short writes:
 * 0, or -1 with errno set. One call for a short text keeps it whole on a
 * pipe other processes also write. */
int bb_write_all(int fd, const char *buf, size_t len);

#endif
