/* sqs.c: one curl handle per client, reused so connections are kept alive. */
#include "sqs.h"
#include "ids.h"
#include "notification.h"
#include "parse.h"
#include "record.h"
#include "timeutil.h"

#include <curl/curl.h>
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_RESPONSE ((size_t)16 << 20)
#define BREAKER_FAILURES 5

struct creds {
	char key[128], secret[128], token[2048], region[64];
	char unsupported[64]; /* a credential kind bb cannot use, named */
	const char *profile;
	int in_profile;
};

struct bb_sqs {
	CURL *curl;
	CURLM *multi; /* runs the transfers, in steps short enough to see a stop */
	char endpoint[512], shown[512], region[64], sigv4[128], userpwd[300];
	char token_header[2100];
	long patience_ms;
	int failures;              /* consecutive failed attempts */
	int64_t open_until;        /* circuit open: no calls before this */
	int64_t cooldown_ms;
	int64_t stop_at;           /* when an attempt first found the program stopping (monotonic ms) */
	struct bb_outage own, *outage;
	struct bb_jdoc *doc;       /* the answers of calls that bring no parser of their own */
};

struct buf {
	char *p;
	size_t n;
	int overflow;
	char query_error[128];
};

/* ---- credentials ---- */

static int on_ini(void *user, const char *section, const char *name, const char *value)
{
	struct creds *c = user;
	char want[160];

	/* ~/.aws/credentials names sections by profile; ~/.aws/config as "profile NAME" */
	snprintf(want, sizeof want, "profile %s", c->profile);
	if (strcmp(section, c->profile) != 0 && strcmp(section, want) != 0)
		return 1;
	c->in_profile = 1;
	if (strcmp(name, "aws_access_key_id") == 0 && !c->key[0])
		snprintf(c->key, sizeof c->key, "%s", value);
	else if (strcmp(name, "aws_secret_access_key") == 0 && !c->secret[0])
		snprintf(c->secret, sizeof c->secret, "%s", value);
	else if (strcmp(name, "aws_session_token") == 0 && !c->token[0])
		snprintf(c->token, sizeof c->token, "%s", value);
	else if (strcmp(name, "region") == 0 && !c->region[0])
		snprintf(c->region, sizeof c->region, "%s", value);
	else if (strncmp(name, "sso_", 4) == 0 || strcmp(name, "credential_process") == 0 ||
		 strcmp(name, "web_identity_token_file") == 0 || strcmp(name, "role_arn") == 0)
		snprintf(c->unsupported, sizeof c->unsupported, "%s", name);
	return 1;
}

static void read_profile(struct creds *c, const char *file, const char *envvar)
{
	const char *home = getenv("HOME"), *path = getenv(envvar);
	char buf[1024];

	if (!path || !*path) {
		if (!home)
			return;
		snprintf(buf, sizeof buf, "%s/.aws/%s", home, file);
		path = buf;
	}
	FILE *f = fopen(path, "r");
	if (f) {
		ini_parse_file(f, on_ini, c);
		fclose(f);
	}
}

static void env_copy(char *dst, size_t n, const char *a, const char *b)
{
	const char *v = getenv(a);
	if ((!v || !*v) && b)
		v = getenv(b);
	if (v && *v && !*dst)
		snprintf(dst, n, "%s", v);
}

static int load_creds(struct creds *c, char *err, size_t errlen)
{
	const char *profile = getenv("AWS_PROFILE");

	memset(c, 0, sizeof *c);
	env_copy(c->key, sizeof c->key, "AWS_ACCESS_KEY_ID", NULL);
	env_copy(c->secret, sizeof c->secret, "AWS_SECRET_ACCESS_KEY", NULL);
	if (c->key[0])
		env_copy(c->token, sizeof c->token, "AWS_SESSION_TOKEN", NULL);
	env_copy(c->region, sizeof c->region, "AWS_REGION", "AWS_DEFAULT_REGION");
	c->profile = profile && *profile ? profile : "default";
	if (!c->key[0] || !c->region[0]) {
		read_profile(c, "credentials", "AWS_SHARED_CREDENTIALS_FILE");
		read_profile(c, "config", "AWS_CONFIG_FILE");
	}
	if (!c->key[0] && c->unsupported[0]) {
		snprintf(err, errlen, "profile '%s' uses %s, which bb does not support: use static keys "
			 "(aws_access_key_id/aws_secret_access_key) or the AWS_* variables", c->profile, c->unsupported);
		return -1;
	}
	if (!c->key[0] || !c->secret[0]) {
		snprintf(err, errlen, "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
			 "or AWS_PROFILE with keys in ~/.aws/credentials");
		return -1;
	}
	if (!c->region[0])
		snprintf(c->region, sizeof c->region, "us-east-1");
	return 0;
}

/* ---- the client ---- */

/* The endpoint for logs: "https://user:secret@host" -> "https://host". */
static void shown_endpoint(const char *ep, char *out, size_t size)
{
	const char *scheme = strstr(ep, "://"), *host = scheme ? scheme + 3 : ep;
	const char *at = strchr(host, '@'), *slash = strchr(host, '/');

	if (at && (!slash || at < slash))
		snprintf(out, size, "%.*s%s", (int)(host - ep), ep, at + 1);
	else
		snprintf(out, size, "%s", ep);
}

struct bb_sqs *bb_sqs_new(char *err, size_t errlen)
{
	struct creds c;
	struct bb_sqs *s;
	const char *ep = getenv("AWS_ENDPOINT_URL_SQS");

	if (load_creds(&c, err, errlen) != 0)
		return NULL;
	if (!(s = calloc(1, sizeof *s)) || !(s->curl = curl_easy_init()) || !(s->multi = curl_multi_init()) ||
	    !(s->doc = bb_json_new())) {
		snprintf(err, errlen, "out of memory");
		if (s) {
			curl_multi_cleanup(s->multi);
			curl_easy_cleanup(s->curl);
		}
		free(s);
		return NULL;
	}
	if (!ep || !*ep)
		ep = getenv("AWS_ENDPOINT_URL");
	if (ep && *ep)
		snprintf(s->endpoint, sizeof s->endpoint, "%s", ep);
	else
		snprintf(s->endpoint, sizeof s->endpoint, "https://sqs.%s.amazonaws.com", c.region);
	size_t n = strlen(s->endpoint);
	if (n && s->endpoint[n - 1] == '/')
		s->endpoint[n - 1] = '\0';
	shown_endpoint(s->endpoint, s->shown, sizeof s->shown);
	bb_outage_init(&s->own, "SQS", "endpoint", s->shown);
	s->outage = &s->own;
	snprintf(s->region, sizeof s->region, "%s", c.region);
	snprintf(s->sigv4, sizeof s->sigv4, "aws:amz:%s:sqs", c.region);
	snprintf(s->userpwd, sizeof s->userpwd, "%s:%s", c.key, c.secret);
	if (c.token[0])
		snprintf(s->token_header, sizeof s->token_header, "X-Amz-Security-Token: %s", c.token);
	s->patience_ms = 60000;
	s->cooldown_ms = 5000;
	memset(&c, 0, sizeof c); /* no secret lingers on the stack */
	return s;
}

void bb_sqs_free(struct bb_sqs *s)
{
	if (!s)
		return;
	curl_multi_cleanup(s->multi);
	curl_easy_cleanup(s->curl);
	bb_json_free(s->doc);
	bb_outage_destroy(&s->own);
	memset(s->userpwd, 0, sizeof s->userpwd);
	free(s);
}

const char *bb_sqs_endpoint(const struct bb_sqs *s)
{
	return s->shown;
}

struct bb_outage *bb_sqs_outage(struct bb_sqs *s)
{
	return s->outage;
}

void bb_sqs_report_to(struct bb_sqs *s, struct bb_outage *o)
{
	s->outage = o;
}

void bb_sqs_set_patience(struct bb_sqs *s, long ms)
{
	s->patience_ms = ms;
}

const char *bb_sqs_queue_name(const char *url)
{
	const char *slash = strrchr(url, '/');
	return slash ? slash + 1 : url;
}

void bb_sqs_handle_tag(const char *handle, char *buf, size_t size)
{
	size_t n = strlen(handle);
	snprintf(buf, size, "%.6s…%s", handle, n > 12 ? handle + n - 4 : "");
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *user)
{
	struct buf *b = user;
	size_t n = size * nmemb;
	if (b->n + n > MAX_RESPONSE) {
		b->overflow = 1;
		return 0;
	}
	char *p = realloc(b->p, b->n + n + 1);
	if (!p)
		return 0;
	memcpy(p + b->n, data, n);
	b->p = p;
	b->n += n;
	b->p[b->n] = '\0';
	return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *user)
{
	struct buf *b = user;
	size_t n = size * nmemb;
	static const char name[] = "x-amzn-query-error:";
	if (n > sizeof name - 1 && strncasecmp(data, name, sizeof name - 1) == 0) {
		const char *v = data + sizeof name - 1;
		while (v < data + n && *v == ' ') /* a line of spaces to its end is no reason to read on */
			v++;
		snprintf(b->query_error, sizeof b->query_error, "%.*s", (int)(n - (size_t)(v - data)), v);
		b->query_error[strcspn(b->query_error, ";\r\n")] = '\0';
	}
	return n;
}

static int retryable_type(const char *t)
{
	static const char *const kinds[] = {
		"Throttl", "RequestThrottled", "TooManyRequests", "ServiceUnavailable", "InternalFailure",
		"InternalError", "RequestTimeout", "SlowDown", "KmsThrottled",
	};
	for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
		if (strstr(t, kinds[i]))
			return 1;
	return 0;
}

/* The error of an answered request. */
static void classify(long http, const struct buf *b, struct bb_jdoc *doc, struct bb_sqs_error *e)
{
	struct bb_jval root = { 0 };
	struct bb_jerr jerr;

	if (b->p && bb_json_parse(doc, b->p, b->n, &root, &jerr) != 0)
		root = (struct bb_jval){ 0 };
	struct bb_str t = bb_str_of(bb_json_getz(root, "__type"));
	struct bb_str m = bb_str_of(bb_json_getz(root, "message"));
	if (!m.p)
		m = bb_str_of(bb_json_getz(root, "Message"));
	const char *hash = t.p ? memrchr(t.p, '#', t.n) : NULL;
	size_t after = hash ? t.n - (size_t)(hash + 1 - t.p) : 0;

	e->http = (int)http;
	/* never empty: "ACTION: TYPE: message" names something */
	if (b->query_error[0])
		snprintf(e->type, sizeof e->type, "%s", b->query_error);
	else if (after > 0)
		snprintf(e->type, sizeof e->type, "%.*s", (int)after, hash + 1);
	else if (t.n > 0)
		snprintf(e->type, sizeof e->type, "%.*s", (int)t.n, t.p);
	else
		snprintf(e->type, sizeof e->type, "HTTPError");
	snprintf(e->message, sizeof e->message, "%.*s", m.p ? (int)(m.n < 4096 ? m.n : 4096) : 0, m.p ? m.p : "");
	/* the whole __type too: the name after '#' may be cut short */
	char whole[sizeof e->type];
	snprintf(whole, sizeof whole, "%.*s", t.p ? (int)(t.n < 4096 ? t.n : 4096) : 0, t.p ? t.p : "");
	e->retryable = http >= 500 || http == 429 || retryable_type(e->type) || retryable_type(whole);
}

/* What an answer says: *root for a 2xx, else the error. Frees b->p. */
static int answer(const char *endpoint, const char *action, long http, struct buf *b, struct bb_jdoc *doc,
		  struct bb_jval *root, struct bb_sqs_error *e)
{
	struct bb_jerr jerr;

	if (http < 200 || http >= 300) {
		classify(http, b, doc, e);
		free(b->p);
		return -1;
	}
	/* every action answers an object, an empty body an empty one */
	int rc = b->n ? bb_json_parse(doc, b->p, b->n, root, &jerr) : bb_json_parse(doc, "{}", 2, root, &jerr);
	free(b->p);
	if (rc == 0 && bb_json_type(*root) == BB_JOBJECT)
		return 0;
	e->http = (int)http;
	snprintf(e->type, sizeof e->type, "InvalidResponse");
	if (rc != 0)
		snprintf(e->message, sizeof e->message, "the answer of %s to %s is not JSON: %s at byte %zu", endpoint,
			 action, jerr.message, jerr.offset);
	else
		snprintf(e->message, sizeof e->message, "the answer of %s to %s is %s, not a JSON object", endpoint,
			 action, bb_json_type_name(bb_json_type(*root)));
	return -1;
}

int bb_sqs_answer(const char *endpoint, const char *action, long http, const char *headers, size_t hlen,
		  const char *body, size_t blen, struct bb_jdoc *doc, struct bb_jval *root, struct bb_sqs_error *err)
{
	struct buf b = { 0 };

	for (const char *p = headers, *end = headers + hlen, *nl; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		nl = nl ? nl : end - 1;
		on_header((char *)p, 1, (size_t)(nl + 1 - p), &b);
	}
	memset(err, 0, sizeof *err);
	if (blen > 0 && on_body((char *)body, 1, blen, &b) != blen) { /* as curl fails a refused write */
		free(b.p);
		snprintf(err->type, sizeof err->type, "connection");
		snprintf(err->message, sizeof err->message, "Failure writing output to destination");
		err->retryable = 1;
		return -1;
	}
	return answer(endpoint, action, http, &b, doc, root, err);
}

/* After the stop, every attempt of the client ends within the grace that
 * began when it first saw the stop: the time left, or 0 when it is over.
 * Before, -1. */
static long stop_budget(struct bb_sqs *s)
{
	if (!bb_stopping())
		return -1;
	int64_t now = bb_mono_ms();
	if (!s->stop_at)
		s->stop_at = now;
	int64_t left = s->stop_at + BB_SQS_STOP_GRACE_MS - now;
	return left > 0 ? (long)left : 0;
}

struct transfer {
	struct bb_sqs *s;
	int poll; /* a long poll: a wait, which the stop ends at once */
};

/* At the stop a long poll is abandoned at once; any other transfer in
 * progress, whose answer may say what SQS has done, gets the grace. */
static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	struct transfer *t = arg;
	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	return bb_stopping() && (t->poll || stop_budget(t->s) == 0);
}

/* curl_easy_perform, but in steps of at most 100 ms: libcurl calls the
 * progress function only about once a second while a long poll waits. */
static CURLcode perform(struct bb_sqs *s)
{
	CURLcode rc = CURLE_FAILED_INIT;
	int running = 1, left;
	CURLMsg *m;

	if (curl_multi_add_handle(s->multi, s->curl) != CURLM_OK)
		return rc;
	while (running) {
		if (curl_multi_perform(s->multi, &running) != CURLM_OK)
			break;
		if (running && curl_multi_poll(s->multi, NULL, 0, 100, NULL) != CURLM_OK)
			break;
	}
	while ((m = curl_multi_info_read(s->multi, &left)))
		if (m->msg == CURLMSG_DONE && m->easy_handle == s->curl)
			rc = m->data.result;
	curl_multi_remove_handle(s->multi, s->curl);
	return rc;
}

static int attempt(struct bb_sqs *s, const char *action, const char *body, size_t len, long timeout_ms, int poll,
		   struct bb_jdoc *doc, struct bb_jval *root, struct bb_sqs_error *e)
{
	struct buf b = { 0 };
	struct curl_slist *h = NULL;
	char target[128], url[600];
	long http = 0, connect_ms = 5000, budget = stop_budget(s);
	struct transfer t = { s, poll };

	memset(e, 0, sizeof *e);
	if (budget == 0) {
		snprintf(e->type, sizeof e->type, "stopping");
		snprintf(e->message, sizeof e->message, "no time left to ask SQS: the program is stopping");
		e->retryable = 1;
		return -1;
	}
	if (budget > 0) {
		timeout_ms = timeout_ms < budget ? timeout_ms : budget;
		connect_ms = connect_ms < budget ? connect_ms : budget;
	}
	snprintf(target, sizeof target, "X-Amz-Target: AmazonSQS.%s", action);
	snprintf(url, sizeof url, "%s/", s->endpoint);
	/* curl 7.88 signs every header added here: exactly these, never X-Amz-Date */
	h = curl_slist_append(h, "Content-Type: application/x-amz-json-1.0");
	h = curl_slist_append(h, target);
	if (s->token_header[0])
		h = curl_slist_append(h, s->token_header);
	curl_easy_reset(s->curl);
	curl_easy_setopt(s->curl, CURLOPT_URL, url);
	curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(s->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(s->curl, CURLOPT_POSTFIELDSIZE, (long)len);
	curl_easy_setopt(s->curl, CURLOPT_AWS_SIGV4, s->sigv4);
	curl_easy_setopt(s->curl, CURLOPT_USERPWD, s->userpwd);
	curl_easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(s->curl, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(s->curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(s->curl, CURLOPT_HEADERDATA, &b);
	curl_easy_setopt(s->curl, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
	curl_easy_setopt(s->curl, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(s->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(s->curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(s->curl, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(s->curl, CURLOPT_XFERINFODATA, &t);
	CURLcode rc = perform(s);
	curl_slist_free_all(h);
	if (rc != CURLE_OK) {
		int stopped = rc == CURLE_ABORTED_BY_CALLBACK;
		snprintf(e->type, sizeof e->type, stopped ? "stopping" : "connection");
		snprintf(e->message, sizeof e->message, "%s",
			 stopped ? "no answer before the program stopped" : curl_easy_strerror(rc));
		e->retryable = 1;
		free(b.p);
		return -1;
	}
	curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &http);
	return answer(s->shown, action, http, &b, doc, root, e);
}

/* Sleep, but come back within 100 ms when the program is asked to stop:
 * the signal may be delivered to another thread, and leave this one asleep. */
static int nap(int64_t ms)
{
	for (int64_t end = bb_mono_ms() + ms, left; !bb_stopping() && (left = end - bb_mono_ms()) > 0;) {
		struct timespec ts = { 0, (left > 100 ? 100 : left) * 1000000 };
		nanosleep(&ts, NULL);
	}
	return bb_stopping() ? -1 : 0;
}

int bb_sqs_call(struct bb_sqs *s, const char *action, const char *request, size_t len, int64_t wait_s,
		struct bb_jdoc *doc, struct bb_jval *root, struct bb_sqs_error *err)
{
	/* an answer takes no longer than the long poll asked for, and 10 s */
	long timeout_ms = 10000 + (long)wait_s * 1000;
	int64_t start = bb_clock_ms(), backoff = 100;
	int rc = -1;

	memset(err, 0, sizeof *err);
	for (;;) {
		int64_t now = bb_clock_ms();
		if (s->open_until > now && nap(s->open_until - now) != 0)
			break; /* the circuit is open: wait, then this call is the probe */
		rc = attempt(s, action, request, len, timeout_ms, wait_s > 0, doc ? doc : s->doc, root, err);
		if (rc == 0 || !err->retryable) {
			if (rc == 0 || err->http) { /* the endpoint answered */
				s->failures = 0;
				s->cooldown_ms = 5000;
				s->open_until = 0;
				bb_outage_over(s->outage, bb_mono_ms());
			}
			break;
		}
		if (strcmp(err->type, "stopping") == 0)
			break; /* not the endpoint's failure */
		bb_outage_failed(s->outage, bb_mono_ms(), err->type, err->message);
		if (++s->failures >= BREAKER_FAILURES) {
			s->open_until = bb_clock_ms() + s->cooldown_ms;
			s->cooldown_ms = s->cooldown_ms * 2 > 80000 ? 80000 : s->cooldown_ms * 2; /* 5, 10, 20, 40, 80 s */
		}
		if (bb_clock_ms() - start >= s->patience_ms || nap(bb_jitter_ms(backoff)) != 0)
			break;
		backoff = backoff * 2 > 6400 ? 6400 : backoff * 2; /* 0.1 s doubled six times */
	}
	if (rc != 0 && bb_stopping() && !err->type[0]) {
		snprintf(err->type, sizeof err->type, "stopping");
		snprintf(err->message, sizeof err->message, "not made: the program is stopping");
		err->retryable = 1;
	}
	return rc;
}

static int out_of_memory(struct bb_sqs_error *err, const char *what)
{
	memset(err, 0, sizeof *err);
	snprintf(err->type, sizeof err->type, "OutOfMemory");
	snprintf(err->message, sizeof err->message, "no memory for %s", what);
	err->retryable = 1;
	return -1;
}

/* bb_sqs_call with the request a writer holds. */
static int call_jw(struct bb_sqs *s, const char *action, const struct bb_jw *w, int64_t wait_s,
		   struct bb_jdoc *doc, struct bb_jval *root, struct bb_sqs_error *err)
{
	if (w->oom)
		return out_of_memory(err, "the request");
	return bb_sqs_call(s, action, w->buf, w->len, wait_s, doc, root, err);
}

/* GetQueueAttributes of queue for the n attributes named: 0 with *root the
 * answer, or -1 with err set. */
static int get_attributes(struct bb_sqs *s, const char *queue, const char *const *names, int n,
			  struct bb_jval *root, struct bb_sqs_error *err)
{
	struct bb_jw w;
	int rc;

	bb_jw_init(&w);
	bb_jw_obj(&w);
	bb_jw_kstrz(&w, "QueueUrl", queue);
	bb_jw_key(&w, "AttributeNames");
	bb_jw_arr(&w);
	for (int i = 0; i < n; i++)
		bb_jw_strz(&w, names[i]);
	bb_jw_end(&w, ']');
	bb_jw_end(&w, '}');
	rc = call_jw(s, "GetQueueAttributes", &w, 0, NULL, root, err);
	bb_jw_free(&w);
	return rc;
}

int bb_sqs_check_queue(struct bb_sqs *s, const char *queue, struct bb_sqs_error *err)
{
	static const char *const arn[] = { "QueueArn" };
	long patience = s->patience_ms;
	struct bb_jval root;
	int rc;

	s->patience_ms = 0; /* one attempt: an endpoint that fails now is the program's to wait for */
	rc = get_attributes(s, queue, arn, 1, &root, err);
	s->patience_ms = patience;
	if (rc != 0)
		return bb_sqs_no_such_queue(err) ? -1 : 0;
	return 0;
}

/* An attribute's count: SQS writes numbers as strings; -1 when missing. */
static int64_t count_of(struct bb_jval attrs, const char *name)
{
	struct bb_jval v = bb_json_getz(attrs, name);
	const char *p;
	char digits[24];
	size_t n;
	int64_t x;

	if ((bb_json_string(v, &p, &n) != 0 && bb_json_number_text(v, &p, &n) != 0) || n == 0 || n >= sizeof digits)
		return -1;
	memcpy(digits, p, n);
	digits[n] = '\0';
	return bb_parse_i64(digits, 0, INT64_MAX, &x) == 0 ? x : -1;
}

int bb_sqs_queue_counts(struct bb_sqs *s, const char *queue, int64_t counts[3], struct bb_sqs_error *err)
{
	static const char *const names[3] = { "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
					       "ApproximateNumberOfMessagesDelayed" };
	struct bb_jval root;

	if (get_attributes(s, queue, names, 3, &root, err) != 0)
		return -1;
	for (int i = 0; i < 3; i++)
		counts[i] = count_of(bb_json_getz(root, "Attributes"), names[i]);
	return 0;
}

int bb_sqs_no_such_queue(const struct bb_sqs_error *err)
{
	/* the JSON protocol's name, and the query protocol's (x-amzn-query-error) */
	return strcmp(err->type, "QueueDoesNotExist") == 0 ||
	       strcmp(err->type, "AWS.SimpleQueueService.NonExistentQueue") == 0;
}

/* ---- ReceiveMessage ---- */

/* A message attribute that holds a count or milliseconds: -1 when absent or
 * not a whole number (strictly: junk is no number, nor one too long). */
static int64_t attr_count(struct bb_jval attrs, const char *key)
{
	struct bb_str v = bb_str_of(bb_json_getz(attrs, key));
	char digits[24];
	int64_t r;

	if (!v.p || v.n == 0 || v.n >= sizeof digits || memchr(v.p, '\0', v.n))
		return -1;
	memcpy(digits, v.p, v.n);
	digits[v.n] = '\0';
	return bb_parse_i64(digits, 0, INT64_MAX, &r) == 0 ? r : -1;
}

int bb_sqs_messages_read(struct bb_jval answer, struct bb_sqs_received *out)
{
	struct bb_jval msgs = bb_json_getz(answer, "Messages");

	out->n = 0;
	if (bb_json_type(msgs) != BB_JARRAY)
		return 0;
	if (bb_reserve((void **)&out->m, &out->cap, bb_json_count(msgs), sizeof *out->m) != 0)
		return -1;
	for (struct bb_jval v = bb_json_first(msgs); bb_json_type(v) != BB_JNONE; v = bb_json_next(v)) {
		if (bb_json_type(v) != BB_JOBJECT)
			continue; /* no message: nothing to emit, nothing to release */
		struct bb_sqs_message *m = &out->m[out->n++];
		struct bb_jval attrs = bb_json_getz(v, "Attributes"), ma = bb_json_getz(v, "MessageAttributes");
		m->message_id = bb_str_of(bb_json_getz(v, "MessageId"));
		m->receipt_handle = bb_str_of(bb_json_getz(v, "ReceiptHandle"));
		m->body = bb_str_of(bb_json_getz(v, "Body"));
		m->receive_count = attr_count(attrs, "ApproximateReceiveCount");
		m->sent_at = attr_count(attrs, "SentTimestamp");
		m->first_received_at = attr_count(attrs, "ApproximateFirstReceiveTimestamp");
		m->attributes = (struct bb_str){ NULL, 0 };
		if (bb_json_type(ma) == BB_JOBJECT && bb_json_raw(ma, &m->attributes.p, &m->attributes.n) != 0)
			m->attributes.p = NULL;
	}
	return 0;
}

int bb_sqs_receive(struct bb_sqs *s, const char *queue, int max, int64_t wait_s, int64_t visibility_s,
		   struct bb_sqs_received *out, struct bb_sqs_error *err)
{
	static const char *const lists[] = { "MessageSystemAttributeNames", "AttributeNames" /* older servers */ };
	struct bb_jval root;
	struct bb_jw w;
	int rc;

	out->n = 0;
	if (!out->doc && !(out->doc = bb_json_new()))
		return out_of_memory(err, "the answer");
	bb_jw_init(&w);
	bb_jw_obj(&w);
	bb_jw_kstrz(&w, "QueueUrl", queue);
	bb_jw_kint(&w, "MaxNumberOfMessages", max);
	bb_jw_kint(&w, "WaitTimeSeconds", wait_s);
	bb_jw_kint(&w, "VisibilityTimeout", visibility_s);
	for (int i = 0; i < 2; i++) {
		bb_jw_key(&w, lists[i]);
		bb_jw_arr(&w);
		bb_jw_strz(&w, "ApproximateReceiveCount");
		bb_jw_strz(&w, "SentTimestamp");
		bb_jw_strz(&w, "ApproximateFirstReceiveTimestamp");
		bb_jw_end(&w, ']');
	}
	bb_jw_key(&w, "MessageAttributeNames");
	bb_jw_arr(&w);
	bb_jw_strz(&w, "All");
	bb_jw_end(&w, ']');
	bb_jw_end(&w, '}');
	rc = call_jw(s, "ReceiveMessage", &w, wait_s, out->doc, &root, err);
	bb_jw_free(&w);
	if (rc == 0 && bb_sqs_messages_read(root, out) != 0)
		rc = out_of_memory(err, "the messages");
	return rc;
}

void bb_sqs_received_free(struct bb_sqs_received *r)
{
	free(r->m);
	bb_json_free(r->doc);
	memset(r, 0, sizeof *r);
}

/* ---- the *Batch actions ---- */

void bb_sqs_entries_free(struct bb_sqs_entry *e, int n)
{
	for (int i = 0; i < n; i++) {
		free((char *)e[i].message_id.p);
		e[i].message_id = (struct bb_str){ NULL, 0 };
	}
}

static void write_attrs(struct bb_jw *w, const struct bb_sqs_attr *a, int n)
{
	bb_jw_key(w, "MessageAttributes");
	bb_jw_obj(w);
	for (int i = 0; i < n; i++) {
		bb_jw_key(w, a[i].name);
		bb_jw_obj(w);
		bb_jw_kstrz(w, "DataType", "String");
		bb_jw_kview(w, "StringValue", a[i].value);
		bb_jw_end(w, '}');
	}
	bb_jw_end(w, '}');
}

void bb_sqs_batch_request(struct bb_jw *w, const char *action, struct bb_str queue,
			  const struct bb_sqs_entry *e, const int *idx, int k)
{
	int send = strcmp(action, "SendMessageBatch") == 0;
	int visibility = strcmp(action, "ChangeMessageVisibilityBatch") == 0;
	char id[16];

	bb_jw_obj(w);
	bb_jw_kview(w, "QueueUrl", queue);
	bb_jw_key(w, "Entries");
	bb_jw_arr(w);
	for (int j = 0; j < k; j++) {
		const struct bb_sqs_entry *x = &e[idx[j]];
		snprintf(id, sizeof id, "%d", idx[j]); /* positional: the index in e */
		bb_jw_obj(w);
		bb_jw_kstrz(w, "Id", id);
		if (send) {
			bb_jw_kview(w, "MessageBody", x->body);
			if (x->nattrs > 0)
				write_attrs(w, x->attrs, x->nattrs);
		} else {
			bb_jw_kview(w, "ReceiptHandle", x->handle);
		}
		if (visibility)
			bb_jw_kint(w, "VisibilityTimeout", x->visibility);
		bb_jw_end(w, '}');
	}
	bb_jw_end(w, ']');
	bb_jw_end(w, '}');
}

/* The entry a Successful or Failed element names by its positional id
 * ("0" to "9"), or -1. */
static int entry_of(struct bb_jval el, int n)
{
	struct bb_str id = bb_str_of(bb_json_getz(el, "Id"));
	if (!id.p || id.n != 1 || id.p[0] < '0' || id.p[0] > '9' || id.p[0] - '0' >= n)
		return -1;
	return id.p[0] - '0';
}

void bb_sqs_batch_settle(const char *action, struct bb_jval answer, struct bb_sqs_entry *e, int n)
{
	struct bb_jval ok = bb_json_getz(answer, "Successful"), bad = bb_json_getz(answer, "Failed");
	struct bb_jval r;
	int i;

	if (bb_json_type(ok) == BB_JARRAY)
		for (r = bb_json_first(ok); bb_json_type(r) != BB_JNONE; r = bb_json_next(r)) {
			/* refused before: not sent now */
			if ((i = entry_of(r, n)) < 0 || e[i].done || e[i].refused)
				continue;
			struct bb_str id = bb_str_of(bb_json_getz(r, "MessageId"));
			char *copy = id.p ? malloc(id.n + 1) : NULL;
			if (copy) {
				memcpy(copy, id.p, id.n);
				copy[id.n] = '\0';
			}
			e[i].done = 1;
			e[i].message_id = (struct bb_str){ copy, copy ? id.n : 0 };
		}
	if (bb_json_type(bad) == BB_JARRAY)
		for (r = bb_json_first(bad); bb_json_type(r) != BB_JNONE; r = bb_json_next(r)) {
			int sender = 0;
			if ((i = entry_of(r, n)) < 0 || e[i].done)
				continue;
			struct bb_str code = bb_str_of(bb_json_getz(r, "Code"));
			e[i].refused = bb_json_bool(bb_json_getz(r, "SenderFault"), &sender) == 0 && sender;
			snprintf(e[i].code, sizeof e[i].code, "%.*s", code.p ? (int)(code.n < 4096 ? code.n : 4096) : 0,
				 code.p ? code.p : "");
			snprintf(e[i].error, sizeof e[i].error, "%s: %s", action, e[i].code[0] ? e[i].code : "refused");
		}
}

int bb_sqs_batch_call(struct bb_sqs *s, const char *action, struct bb_str queue, struct bb_sqs_entry *e,
		      int n, const int *idx, int k, struct bb_sqs_error *err)
{
	struct bb_jval root;
	struct bb_jw w;
	int rc;

	bb_jw_init(&w);
	bb_sqs_batch_request(&w, action, queue, e, idx, k);
	rc = call_jw(s, action, &w, 0, NULL, &root, err);
	bb_jw_free(&w);
	if (rc == 0)
		bb_sqs_batch_settle(action, root, e, n);
	return rc;
}

int bb_sqs_batch(struct bb_sqs *s, const char *action, struct bb_str queue, struct bb_sqs_entry *e, int n,
		 int calls, struct bb_sqs_error *err)
{
	int todo[10], ntodo = 0;

	n = n < 10 ? n : 10;
	for (int i = 0; i < n; i++) {
		e[i].done = e[i].refused = 0;
		e[i].code[0] = e[i].error[0] = '\0';
		todo[ntodo++] = i;
	}
	for (int call = 0; call < calls && ntodo > 0; call++) {
		if (bb_sqs_batch_call(s, action, queue, e, n, todo, ntodo, err) != 0) {
			for (int k = 0; k < ntodo; k++)
				snprintf(e[todo[k]].error, sizeof e[0].error, "%s: %s: %s", action, err->type, err->message);
			return -1;
		}
		int again[10], nagain = 0;
		/* failed for a passing reason, or not answered at all: again */
		for (int k = 0; k < ntodo; k++)
			if (!e[todo[k]].done && !e[todo[k]].refused)
				again[nagain++] = todo[k];
		memcpy(todo, again, (size_t)nagain * sizeof *again);
		ntodo = nagain;
	}
	for (int k = 0; k < ntodo; k++)
		snprintf(e[todo[k]].error, sizeof e[0].error, "%s: still failing after retries", action);
	return 0;
}
