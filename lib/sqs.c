/* sqs.c: one curl handle per client, reused so connections are kept alive. */
#include "sqs.h"
#include "ids.h"
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
	if (!(s = calloc(1, sizeof *s)) || !(s->curl = curl_easy_init()) || !(s->multi = curl_multi_init())) {
		snprintf(err, errlen, "out of memory");
		if (s)
			curl_easy_cleanup(s->curl);
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

void bb_sqs_batch_settle(const char *action, jv resp, struct bb_sqs_entry *e, int n)
{
	jv ok = jv_object_get(jv_copy(resp), jv_string("Successful"));
	jv bad = jv_object_get(jv_copy(resp), jv_string("Failed"));

	for (int j = 0; jv_get_kind(ok) == JV_KIND_ARRAY && j < jv_array_length(jv_copy(ok)); j++) {
		jv r = jv_array_get(jv_copy(ok), j);
		if (jv_get_kind(r) != JV_KIND_OBJECT) { /* names no entry (and libjq asserts on it) */
			jv_free(r);
			continue;
		}
		jv rid = jv_object_get(jv_copy(r), jv_string("Id"));
		int i = jv_get_kind(rid) == JV_KIND_STRING ? atoi(jv_string_value(rid)) : -1;
		if (i >= 0 && i < n && i < 10 && !e[i].done && !e[i].refused) { /* refused before: not sent now */
			e[i].done = 1;
			e[i].result = jv_copy(r);
		}
		jv_free(rid), jv_free(r);
	}
	for (int j = 0; jv_get_kind(bad) == JV_KIND_ARRAY && j < jv_array_length(jv_copy(bad)); j++) {
		jv f = jv_array_get(jv_copy(bad), j);
		if (jv_get_kind(f) != JV_KIND_OBJECT) {
			jv_free(f);
			continue;
		}
		jv fid = jv_object_get(jv_copy(f), jv_string("Id"));
		jv sender = jv_object_get(jv_copy(f), jv_string("SenderFault"));
		jv code = jv_object_get(jv_copy(f), jv_string("Code"));
		int i = jv_get_kind(fid) == JV_KIND_STRING ? atoi(jv_string_value(fid)) : -1;
		if (i >= 0 && i < n && i < 10 && !e[i].done) {
			e[i].refused = jv_get_kind(sender) == JV_KIND_TRUE;
			snprintf(e[i].code, sizeof e[0].code, "%s", jv_get_kind(code) == JV_KIND_STRING ? jv_string_value(code) : "");
			snprintf(e[i].error, sizeof e[0].error, "%s: %s", action, e[i].code[0] ? e[i].code : "refused");
		}
		jv_free(fid), jv_free(sender), jv_free(code), jv_free(f);
	}
	jv_free(ok), jv_free(bad), jv_free(resp);
}

int bb_sqs_batch(struct bb_sqs *s, const char *action, const char *queue, struct bb_sqs_entry *e, int n,
		 int calls, struct bb_sqs_error *err)
{
	int todo[10], ntodo = 0;

	for (int i = 0; i < n && i < 10; i++) {
		e[i].done = e[i].refused = 0;
		e[i].result = jv_invalid();
		e[i].code[0] = e[i].error[0] = '\0';
		todo[ntodo++] = i;
	}
	for (int call = 0; call < calls && ntodo > 0; call++) {
		jv entries = jv_array(), resp;
		char id[16];
		for (int k = 0; k < ntodo; k++) {
			snprintf(id, sizeof id, "%d", todo[k]); /* positional: the index in e */
			entries = jv_array_append(entries, jv_object_set(jv_copy(e[todo[k]].request), jv_string("Id"),
									 jv_string(id)));
		}
		jv req = jv_object();
		req = jv_object_set(req, jv_string("QueueUrl"), jv_string(queue));
		req = jv_object_set(req, jv_string("Entries"), entries);
		if (bb_sqs_call(s, action, req, &resp, err) != 0) {
			for (int k = 0; k < ntodo; k++)
				snprintf(e[todo[k]].error, sizeof e[0].error, "%s: %s: %s", action, err->type, err->message);
			for (int i = 0; i < n && i < 10; i++)
				jv_free(e[i].request), e[i].request = jv_invalid();
			return -1;
		}
		bb_sqs_batch_settle(action, resp, e, n);
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
	for (int i = 0; i < n && i < 10; i++)
		jv_free(e[i].request), e[i].request = jv_invalid();
	return 0;
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
static void classify(long http, const struct buf *b, struct bb_sqs_error *e)
{
	jv doc = b->p ? bb_jv_parse(b->p, b->n) : jv_invalid();
	jv type = jv_get_kind(doc) == JV_KIND_OBJECT ? jv_object_get(jv_copy(doc), jv_string("__type")) : jv_invalid();
	jv msg = jv_get_kind(doc) == JV_KIND_OBJECT ? jv_object_get(jv_copy(doc), jv_string("message")) : jv_invalid();

	if (jv_get_kind(msg) != JV_KIND_STRING && jv_get_kind(doc) == JV_KIND_OBJECT) {
		jv_free(msg);
		msg = jv_object_get(jv_copy(doc), jv_string("Message"));
	}
	e->http = (int)http;
	const char *t = jv_get_kind(type) == JV_KIND_STRING ? jv_string_value(type) : "";
	const char *hash = strrchr(t, '#');
	snprintf(e->type, sizeof e->type, "%s", b->query_error[0] ? b->query_error : hash && hash[1] ? hash + 1 :
		 *t ? t : "HTTPError"); /* never empty: "ACTION: TYPE: message" names something */
	snprintf(e->message, sizeof e->message, "%s", jv_get_kind(msg) == JV_KIND_STRING ? jv_string_value(msg) : "");
	e->retryable = http >= 500 || http == 429 || retryable_type(e->type) || retryable_type(t);
	jv_free(doc), jv_free(type), jv_free(msg);
}

/* What an answer says: the response for a 2xx, else the error. Frees b->p. */
static int answer(const char *action, long http, struct buf *b, jv *response, struct bb_sqs_error *e)
{
	if (http >= 200 && http < 300) {
		*response = b->n ? bb_jv_parse(b->p, b->n) : jv_object();
		free(b->p);
		/* every action answers an object; callers look members up in it */
		if (jv_get_kind(*response) == JV_KIND_OBJECT)
			return 0;
		jv_free(*response);
		snprintf(e->type, sizeof e->type, "InvalidResponse");
		snprintf(e->message, sizeof e->message, "the answer to %s is not a JSON object", action);
		e->http = (int)http;
		return -1;
	}
	classify(http, b, e);
	free(b->p);
	return -1;
}

int bb_sqs_answer(const char *action, long http, const char *headers, size_t hlen, const char *body,
		  size_t blen, jv *response, struct bb_sqs_error *err)
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
	return answer(action, http, &b, response, err);
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

static int attempt(struct bb_sqs *s, const char *action, const char *body, long timeout_ms, int poll,
		   jv *response, struct bb_sqs_error *e)
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
	curl_easy_setopt(s->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
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
	return answer(action, http, &b, response, e);
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

int bb_sqs_call(struct bb_sqs *s, const char *action, jv request, jv *response, struct bb_sqs_error *err)
{
	/* an answer takes no longer than the long poll asked for, and 10 s */
	jv wait = jv_object_get(jv_copy(request), jv_string("WaitTimeSeconds"));
	long timeout_ms = 10000 + (jv_get_kind(wait) == JV_KIND_NUMBER ? (long)jv_number_value(wait) * 1000 : 0);
	jv_free(wait);
	jv dumped = jv_dump_string(request, 0);
	int64_t start = bb_clock_ms(), backoff = 100;
	int rc = -1;

	memset(err, 0, sizeof *err);
	for (;;) {
		int64_t now = bb_clock_ms();
		if (s->open_until > now && nap(s->open_until - now) != 0)
			break; /* the circuit is open: wait, then this call is the probe */
		rc = attempt(s, action, jv_string_value(dumped), timeout_ms, timeout_ms > 10000, response, err);
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
	jv_free(dumped);
	return rc;
}

int bb_sqs_check_queue(struct bb_sqs *s, const char *queue, struct bb_sqs_error *err)
{
	jv req = jv_object_set(jv_object(), jv_string("QueueUrl"), jv_string(queue)), resp;

	long patience = s->patience_ms;
	int rc;

	req = jv_object_set(req, jv_string("AttributeNames"), jv_array_append(jv_array(), jv_string("QueueArn")));
	s->patience_ms = 0; /* one attempt: an endpoint that fails now is the program's to wait for */
	rc = bb_sqs_call(s, "GetQueueAttributes", req, &resp, err);
	s->patience_ms = patience;
	if (rc != 0)
		return bb_sqs_no_such_queue(err) ? -1 : 0;
	jv_free(resp);
	return 0;
}

int bb_sqs_no_such_queue(const struct bb_sqs_error *err)
{
	/* the JSON protocol's name, and the query protocol's (x-amzn-query-error) */
	return strcmp(err->type, "QueueDoesNotExist") == 0 ||
	       strcmp(err->type, "AWS.SimpleQueueService.NonExistentQueue") == 0;
}
