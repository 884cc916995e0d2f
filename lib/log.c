/* log.c: structured logs on stderr. Values are quoted only when logfmt needs it,
 * so a line stays greppable; JSON mode escapes every value. */
#include "log.h"
#include "timeutil.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct log_conf {
	const char *prog;
	int json;
	enum bb_level min;
};

/* Set once by main() through bb_log_init, read-only afterwards. */
static struct log_conf logc = { "bb", 0, BB_INFO };

static const char *level_names[] = { "debug", "info", "warn", "error" };

void bb_log_init(const char *prog)
{
	const char *fmt = getenv("BB_LOG_FORMAT");
	const char *lvl = getenv("BB_LOG_LEVEL");

	logc.prog = prog;
	logc.json = fmt && strcmp(fmt, "json") == 0;
	for (int i = 0; lvl && i < 4; i++)
		if (strcmp(lvl, level_names[i]) == 0)
			logc.min = (enum bb_level)i;
}

const char *bb_prog(void)
{
	return logc.prog;
}

static void put_logfmt_value(FILE *f, const char *v)
{
	if (*v && !strpbrk(v, " \t\n\r\"=\\")) {
		fputs(v, f);
		return;
	}
	fputc('"', f);
	for (; *v; v++) {
		if (*v == '"' || *v == '\\')
			fputc('\\', f);
		if (*v == '\n')
			fputs("\\n", f);
		else if (*v != '\r')
			fputc(*v, f);
	}
	fputc('"', f);
}

static void put_json_string(FILE *f, const char *v)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void put_field(FILE *f, const char *k, const char *v, int first)
{
	if (logc.json) {
		fprintf(f, "%s\"%s\":", first ? "" : ",", k);
		put_json_string(f, v);
	} else {
		fprintf(f, "%s%s=", first ? "" : " ", k);
		put_logfmt_value(f, v);
	}
}

void bb_log(enum bb_level level, const char *trace_id, const char *msg, ...)
{
	char ts[40];
	va_list ap;

	if (level < logc.min)
		return;
	bb_time_format(bb_clock_ms(), ts, sizeof ts);
	/* the line is made whole, then written at once: the stages of a
	 * pipeline share one stderr, and a line written in pieces would
	 * interleave with theirs */
	char *line = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&line, &len);
	if (!f)
		return;
	if (logc.json)
		fputc('{', f);
	put_field(f, "ts", ts, 1);
	put_field(f, "level", level_names[level], 0);
	put_field(f, "prog", logc.prog, 0);
	if (trace_id && *trace_id)
		put_field(f, "trace_id", trace_id, 0);
	put_field(f, "msg", msg, 0);
	va_start(ap, msg);
	for (const char *k; (k = va_arg(ap, const char *));) {
		const char *v = va_arg(ap, const char *);
		put_field(f, k, v ? v : "", 0);
	}
	va_end(ap);
	fputs(logc.json ? "}\n" : "\n", f);
	if (fclose(f) == 0)
		bb_write_all(STDERR_FILENO, line, len);
	free(line);
}

int bb_write_all(int fd, const char *buf, size_t len)
{
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, buf + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return -1;
		}
		off += (size_t)w;
	}
	return 0;
}

/* "PROG: PREFIX<message>\n" in one write, like a log line. */
static void say(const char *prefix, const char *fmt, va_list ap)
{
	char *msg = NULL, *line = NULL;
	if (vasprintf(&msg, fmt, ap) < 0)
		return;
	int n = asprintf(&line, "%s: %s%s\n", logc.prog, prefix, msg);
	if (n > 0)
		bb_write_all(STDERR_FILENO, line, (size_t)n);
	free(msg);
	if (n >= 0)
		free(line);
}

int bb_fatal(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say("fatal: ", fmt, ap);
	va_end(ap);
	return code;
}

void bb_say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say("", fmt, ap);
	va_end(ap);
}
