/* text.c: the words and numbers bb-trend writes for people, and the one way
 * its reports reach a file: whole, or not at all. */
#include "trend.h"
#include "exitcode.h"
#include "log.h"
#include "money.h"
#include "parse.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void buf_put(struct buf *b, const char *s, size_t n)
{
	if (b->oom || n == 0)
		return;
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 4096;
		while (cap < b->n + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->oom = 1;
			return;
		}
		b->p = p, b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

void buf_puts(struct buf *b, const char *s)
{
	buf_put(b, s, strlen(s));
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	char small[512], *big = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = 1;
		return;
	}
	if ((size_t)n < sizeof small) {
		buf_put(b, small, (size_t)n);
		return;
	}
	va_start(ap, fmt);
	if (vasprintf(&big, fmt, ap) < 0)
		b->oom = 1;
	else
		buf_put(b, big, (size_t)n);
	va_end(ap);
	free(big);
}

/* s with the bytes in `special` replaced by what rep() says. */
static void escaped(struct buf *b, const char *s, size_t n, const char *special, const char *(*rep)(char))
{
	size_t from = 0;
	for (size_t i = 0; i < n; i++) {
		if (!strchr(special, s[i]) && (unsigned char)s[i] >= 0x20)
			continue;
		buf_put(b, s + from, i - from);
		buf_puts(b, rep(s[i]));
		from = i + 1;
	}
	buf_put(b, s + from, n - from);
}

static const char *html_rep(char c)
{
	return c == '&' ? "&amp;" : c == '<' ? "&lt;" : c == '>' ? "&gt;" : c == '"' ? "&quot;" : "\xef\xbf\xbd";
}

static const char *md_rep(char c)
{
	return c == '|' ? "\\|" : c == '\\' ? "\\\\" : c == '*' ? "\\*" : c == '_' ? "\\_" : c == '`' ? "\\`" :
	       "\xef\xbf\xbd";
}

static const char *text_rep(char c)
{
	(void)c;
	return "\xef\xbf\xbd"; /* U+FFFD for a control byte */
}

void buf_html(struct buf *b, const char *s, size_t n)
{
	escaped(b, s, n, "&<>\"", html_rep);
}

void buf_md(struct buf *b, const char *s, size_t n)
{
	escaped(b, s, n, "|\\*_`", md_rep);
}

void buf_text(struct buf *b, const char *s, size_t n)
{
	escaped(b, s, n, "\x7f", text_rep);
}

void money(int64_t v, struct bb_str currency, char *buf, size_t size)
{
	if (v == NONE)
		snprintf(buf, size, "-");
	else
		bb_money_text(v, currency.p, currency.n, buf, size);
}

int64_t percent_bp(int64_t num, int64_t den)
{
	return den == 0 ? 0 : bb_div_round(num * 10000, den);
}

void hundredths(int64_t v, char *buf, size_t size)
{
	int64_t a = v < 0 ? -v : v;
	snprintf(buf, size, "%s%lld.%02lld", v < 0 ? "-" : "", (long long)(a / 100), (long long)(a % 100));
}

void jw_pct(struct bb_jw *w, const char *key, int64_t bp)
{
	char b[32];
	if (key)
		bb_jw_key(w, key);
	if (bp == NONE) {
		bb_jw_null(w);
		return;
	}
	bb_format_fixed(bp, 2, b, sizeof b);
	bb_jw_raw(w, b, strlen(b));
}

void duration_text(int64_t ms, char *buf, size_t size)
{
	int64_t s = ms / 1000, d = s / 86400, h = s / 3600 % 24, m = s / 60 % 60;

	if (d > 0)
		snprintf(buf, size, h ? "%lld d %lld h" : "%lld d", (long long)d, (long long)h);
	else if (h > 0)
		snprintf(buf, size, m ? "%lld h %lld min" : "%lld h", (long long)h, (long long)m);
	else if (m > 0)
		snprintf(buf, size, s % 60 ? "%lld min %lld s" : "%lld min", (long long)m, (long long)(s % 60));
	else
		snprintf(buf, size, "%lld s", (long long)s);
}

void sparkline(struct buf *b, const int64_t *v, size_t n)
{
	static const char *const bars[8] = { "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█" };
	int64_t lo = NONE, hi = NONE;

	for (size_t i = 0; i < n; i++) {
		if (v[i] == NONE)
			continue;
		if (lo == NONE || v[i] < lo)
			lo = v[i];
		if (hi == NONE || v[i] > hi)
			hi = v[i];
	}
	for (size_t i = 0; i < n; i++) {
		if (v[i] == NONE)
			buf_puts(b, " ");
		else /* the level in eighths of the range, the flat line in the middle */
			buf_puts(b, bars[hi == lo ? 3 : (int)((v[i] - lo) * 7 / (hi - lo))]);
	}
}

int write_out(const char *path, const struct buf *b)
{
	char *tmp = NULL;
	int fd;

	if (b->oom)
		return bb_fatal(BB_EX_SOFTWARE, "unable to write the report: out of memory");
	if (!path) {
		if (fwrite(b->p ? b->p : "", 1, b->n, stdout) != b->n || fflush(stdout) != 0)
			return bb_fatal(BB_EX_IOERR, "unable to write standard output: %s", strerror(errno));
		return 0;
	}
	if (asprintf(&tmp, "%s.tmp.XXXXXX", path) < 0)
		return bb_fatal(BB_EX_SOFTWARE, "out of memory");
	if ((fd = mkstemp(tmp)) < 0) {
		int rc = bb_fatal(BB_EX_IOERR, "unable to create '%s': %s", tmp, strerror(errno));
		free(tmp);
		return rc;
	}
	int ok = bb_write_all(fd, b->p ? b->p : "", b->n) == 0 && fchmod(fd, 0644) == 0 && fsync(fd) == 0;
	int err = errno;
	if (close(fd) != 0 && ok)
		ok = 0, err = errno;
	if (ok && rename(tmp, path) != 0)
		ok = 0, err = errno;
	if (!ok)
		unlink(tmp);
	free(tmp);
	return ok ? 0 : bb_fatal(BB_EX_IOERR, "unable to write '%s': %s", path, strerror(err));
}
