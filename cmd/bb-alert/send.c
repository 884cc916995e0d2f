/* send.c: one delivery document to its channel: the stdin of a command,
 * the body of a webhook POST, or a line on standard output. */
#include "bbalert.h"
#include "log.h"

#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define WEBHOOK_TIMEOUT 30L /* seconds: a hung endpoint costs one attempt, not the deliverer */

static void say(struct sent *s, const char *fmt, long v)
{
	snprintf(s->detail, sizeof s->detail, fmt, v);
}

/* sh -c CMD with the document on its stdin: delivered when it exits 0. */
static void send_exec(const char *cmd, const char *doc, size_t n, struct sent *s)
{
	int fd[2], status = 0;
	pid_t pid;

	if (pipe(fd) != 0 || (pid = fork()) < 0) {
		say(s, "unable to start the command: out of processes%.0ld", 0L);
		return;
	}
	if (pid == 0) {
		dup2(fd[0], 0);
		close(fd[0]), close(fd[1]);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(fd[0]);
	/* a command that does not read its stdin still decides by its exit status */
	if (bb_write_all(fd[1], doc, n) == 0)
		bb_write_all(fd[1], "\n", 1);
	close(fd[1]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	s->ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	if (WIFEXITED(status))
		say(s, "the command exited %ld", WEXITSTATUS(status));
	else
		say(s, "the command was killed by signal %ld", WTERMSIG(status));
}

/* Retry-After in seconds (the HTTP-date form is not used by the services
 * bb talks to): -1 when absent or not a number. */
static int64_t retry_after(CURL *c)
{
	struct curl_header *h;
	char *end;
	if (curl_easy_header(c, "Retry-After", 0, CURLH_HEADER, -1, &h) != CURLHE_OK)
		return -1;
	long long sec = strtoll(h->value, &end, 10);
	return end != h->value && sec >= 0 && sec < 86400 ? sec * 1000 : -1;
}

static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
	(void)p, (void)ctx;
	return size * n;
}

static void send_webhook(const char *url, const char *doc, size_t n, const char *delivery_id, struct sent *s)
{
	char key[80];
	long code = 0;
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	CURL *c = curl_easy_init();

	snprintf(key, sizeof key, "Idempotency-Key: %s", delivery_id);
	h = curl_slist_append(h, key);
	if (!c || !h) {
		say(s, "unable to prepare the request: out of memory%.0ld", 0L);
	} else {
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, doc);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)n);
		curl_easy_setopt(c, CURLOPT_TIMEOUT, WEBHOOK_TIMEOUT);
		curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
		CURLcode rc = curl_easy_perform(c);
		if (rc != CURLE_OK)
			snprintf(s->detail, sizeof s->detail, "%s", curl_easy_strerror(rc));
		else
			curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code), say(s, "HTTP %ld", code);
		s->ok = rc == CURLE_OK && code >= 200 && code < 300;
		s->retry_after_ms = rc == CURLE_OK ? retry_after(c) : -1;
	}
	curl_slist_free_all(h);
	if (c)
		curl_easy_cleanup(c);
}

static void send_stdout(const char *doc, size_t n, struct sent *s)
{
	s->ok = fwrite(doc, 1, n, stdout) == n && putchar('\n') != EOF && fflush(stdout) == 0;
	say(s, s->ok ? "written%.0ld" : "unable to write standard output%.0ld", 0L);
}

void send_doc(const struct app *a, const char *doc, size_t n, const char *delivery_id, struct sent *s)
{
	char *shaped = NULL, why[160];

	*s = (struct sent){ .ok = 0, .retry_after_ms = -1 };
	signal(SIGPIPE, SIG_IGN); /* a command that exits early fails its attempt, not the deliverer */
	if (a->jq && !(doc = shaped = bb_jq_run(a->jq, doc, n, &n, why, sizeof why))) {
		snprintf(s->detail, sizeof s->detail, "jq: %s", why); /* the attempt fails, as a send would */
		return;
	}
	if (a->exec)
		send_exec(a->exec, doc, n, s);
	else if (a->webhook)
		send_webhook(a->webhook, doc, n, delivery_id, s);
	else
		send_stdout(doc, n, s);
	free(shaped);
}
