/* http.c: the server. libmicrohttpd polls every connection (epoll) from a
 * few threads, one a core; a request is answered in the thread that read
 * it, and an SSE stream with nothing to send is suspended until the feed
 * resumes it (feed.c), so a thousand idle streams cost no thread. This file
 * sets the limits, routes each request by path and method, gives each
 * thread a database connection of its own, and writes one log line per
 * request when it ends — method, path, status, bytes, time, never a header
 * (the token is one). */
#include "serve.h"
#include "json.h"
#include "log.h"
#include "timeutil.h"

#include <netdb.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const struct {
	const char *path;
	enum serve_route route;
} routes[] = {
	{ "/", R_INDEX },
	{ "/api/notifications/stream", R_STREAM },
	{ "/api/notifications/prioritized", R_PRIORITIZED },
	{ "/api/notifications/acknowledge", R_ACK },
	{ "/api/worker-status", R_STATUS },
	{ "/api/health", R_HEALTH },
	{ "/metrics", R_METRICS },
};

#define TRENDS "/api/competitive-intelligence/trends/"

int64_t serve_now(void)
{
	return bb_now_ms();
}

/* ---- the database connections ---- */

/* The calling thread's connection: the first call takes a free one for good,
 * so a polling thread never waits for another; any other thread (there is
 * none today) shares one under its lock. */
struct bb_db *serve_db_get(struct serve *s, struct serve_db **held)
{
	static _Thread_local struct serve_db *mine;
	struct serve_db *d = mine;

	if (!d) {
		unsigned i = __atomic_fetch_add(&s->next_pool, 1, __ATOMIC_RELAXED);
		d = i < s->threads ? (mine = &s->pool[i]) : &s->pool[i % s->threads];
	}
	pthread_mutex_lock(&d->mu);
	*held = d;
	return d->db;
}

/* Give the connection back; after a lost connection, connect it again. */
void serve_db_put(struct serve_db *held, int rc)
{
	if (rc == BB_DB_RETRY && held->db)
		bb_db_reconnect(held->db);
	pthread_mutex_unlock(&held->mu);
}

static int pool_open(struct serve *s, char *err, size_t errlen)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);

	/* two at least: a request that waits for the database holds up only its thread's connections */
	s->threads = cores < 2 ? 2 : cores > SERVE_MAX_THREADS ? SERVE_MAX_THREADS : (unsigned)cores;
	for (unsigned i = 0; i < s->threads; i++) {
		pthread_mutex_init(&s->pool[i].mu, NULL);
		int rc = bb_db_open(s->url, &s->pool[i].db, err, errlen);
		if (rc != BB_DB_OK)
			return rc;
		if (!bb_db_is_pg(s->pool[i].db)) /* readers need far less than a writer's 64 MiB */
			bb_db_exec(s->pool[i].db, "PRAGMA cache_size=-8192", 0, NULL, NULL);
	}
	return BB_DB_OK;
}

/* ---- replies ---- */

const char *serve_arg(struct req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

static enum MHD_Result queue(struct req *r, int status, struct MHD_Response *resp, size_t n)
{
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	r->status = status;
	r->sent = n;
	enum MHD_Result ok = MHD_queue_response(r->conn, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return ok;
}

enum MHD_Result serve_reply(struct req *r, int status, const char *type, char *body, size_t n)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer_with_free_callback(n, body, free);

	if (!resp) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", type);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	if (status == 401)
		MHD_add_response_header(resp, "WWW-Authenticate", "Bearer realm=\"bb\"");
	if (status == 405)
		MHD_add_response_header(resp, "Allow", r->route == R_ACK ? "POST" : "GET, HEAD");
	return queue(r, status, resp, n);
}

enum MHD_Result serve_json(struct req *r, int status, struct bb_jw *w)
{
	size_t n;
	if (w->oom) {
		bb_jw_free(w);
		return serve_error(r, 500, "out of memory");
	}
	char *body = bb_jw_take(w, &n), *p = body ? realloc(body, n + 1) : NULL;
	if (!p) {
		free(body);
		return MHD_NO;
	}
	p[n++] = '\n'; /* a line, for curl and for logs */
	return serve_reply(r, status, "application/json", p, n);
}

enum MHD_Result serve_error(struct req *r, int status, const char *message)
{
	struct bb_jw w = { 0 };
	bb_jw_obj(&w);
	bb_jw_kstrz(&w, "error", message);
	bb_jw_kint(&w, "status", status);
	bb_jw_end(&w, '}');
	return serve_json(r, status, &w);
}

/* The page and its assets, with a policy that lets them load nothing else. */
static enum MHD_Result route_asset(struct req *r)
{
	const char *path = r->route == R_INDEX ? "/index.html" : r->path + strlen("/assets");

	for (const struct serve_asset *a = serve_assets; a->path; a++) {
		if (strcmp(a->path, path) != 0)
			continue;
		struct MHD_Response *resp = MHD_create_response_from_buffer(a->size, (void *)a->data,
									    MHD_RESPMEM_PERSISTENT);
		if (!resp)
			return MHD_NO;
		MHD_add_response_header(resp, "Content-Type", a->type);
		MHD_add_response_header(resp, "Cache-Control", "no-cache");
		MHD_add_response_header(resp, "Content-Security-Policy",
					"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
					"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
		MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
		MHD_add_response_header(resp, "X-Frame-Options", "DENY");
		return queue(r, 200, resp, a->size);
	}
	return serve_error(r, 404, "no such asset");
}

/* ---- routing ---- */

static enum serve_route route_of(const char *path)
{
	for (size_t i = 0; i < sizeof routes / sizeof *routes; i++)
		if (strcmp(path, routes[i].path) == 0)
			return routes[i].route;
	if (strncmp(path, "/assets/", 8) == 0)
		return R_ASSET;
	if (strncmp(path, TRENDS, strlen(TRENDS)) == 0 && path[strlen(TRENDS)] && !strchr(path + strlen(TRENDS), '/'))
		return R_TRENDS;
	return R_OTHER;
}

static enum MHD_Result dispatch(struct req *r)
{
	int get = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
	int want_post = r->route == R_ACK;

	if (r->route == R_OTHER)
		return serve_error(r, 404, "no such route");
	if (want_post ? strcmp(r->method, "POST") != 0 : !get)
		return serve_error(r, 405, want_post ? "method not allowed: use POST" : "method not allowed: use GET");
	switch (r->route) {
	case R_INDEX: case R_ASSET: return route_asset(r);
	case R_STREAM: return route_stream(r);
	case R_PRIORITIZED: return route_prioritized(r);
	case R_ACK: return route_acknowledge(r);
	case R_STATUS: return route_worker_status(r);
	case R_HEALTH: return route_health(r);
	case R_TRENDS: return route_trends(r, r->path + strlen(TRENDS));
	case R_METRICS: return route_metrics(r);
	default: return serve_error(r, 404, "no such route");
	}
}

static struct req *req_new(struct serve *s, struct MHD_Connection *conn, const char *url, const char *method)
{
	struct req *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->s = s, r->conn = conn, r->started = bb_mono_ms();
	r->path = strdup(url);
	r->method = strdup(method);
	if (!r->path || !r->method) {
		free((char *)r->path), free((char *)r->method), free(r);
		return NULL;
	}
	r->route = route_of(r->path);
	return r;
}

/* A POST's body, kept up to SERVE_MAX_BODY bytes; beyond, only counted. */
static void take_body(struct req *r, const char *data, size_t n)
{
	if (r->too_large || r->body_n + n > SERVE_MAX_BODY) {
		r->too_large = 1;
		return;
	}
	char *p = realloc(r->body, r->body_n + n + 1);
	if (!p) {
		r->too_large = 1;
		return;
	}
	memcpy(p + r->body_n, data, n);
	r->body = p, r->body_n += n;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *upload, size_t *upload_n, void **con_cls)
{
	struct req *r = *con_cls;
	(void)version;

	if (!r) {
		if (!(*con_cls = r = req_new(cls, conn, url, method)))
			return MHD_NO;
		/* refuse a body announced too large before it is sent */
		const char *len = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
		if (len && strtoull(len, NULL, 10) > SERVE_MAX_BODY && r->route == R_ACK &&
		    strcmp(method, "POST") == 0) {
			r->too_large = 1;
			return route_acknowledge(r); /* its token first, then 413 */
		}
		return MHD_YES;
	}
	if (*upload_n) {
		take_body(r, upload, *upload_n);
		*upload_n = 0;
		return MHD_YES;
	}
	if (r->status) /* answered already (an early 413) */
		return MHD_YES;
	enum MHD_Result ok = dispatch(r);
	return ok;
}

static void on_done(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode why)
{
	struct serve *s = cls;
	struct req *r = *con_cls;
	char status[8], ms[24], bytes[24], host[64] = "-";
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

	if (!r)
		return;
	if (ci && ci->client_addr)
		getnameinfo(ci->client_addr, ci->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
										  : sizeof(struct sockaddr_in),
			    host, sizeof host, NULL, 0, NI_NUMERICHOST);
	snprintf(status, sizeof status, "%d", r->status);
	snprintf(ms, sizeof ms, "%lld", (long long)(bb_mono_ms() - r->started));
	snprintf(bytes, sizeof bytes, "%llu", (unsigned long long)r->sent);
	bb_log(r->status >= 500 ? BB_WARN : BB_INFO, NULL, "request", "method", r->method, "path", r->path, "status",
	       status, "bytes", bytes, "ms", ms, "client", host, "end",
	       why == MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN || r->shutdown ? "shutdown"
	       : why == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "ok"
	       : why == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED ? "timeout" : "closed", NULL);
	metrics_request(&s->metrics, r->route, r->status);
	free(r->body);
	free((char *)r->path);
	free((char *)r->method);
	free(r);
	*con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct serve *s = cls;
	char msg[sizeof s->mhd_err];
	vsnprintf(msg, sizeof msg, fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	if (!s->daemon) /* starting: the reason it fails */
		memcpy(s->mhd_err, msg, sizeof msg);
	else
		bb_log(BB_WARN, NULL, "libmicrohttpd", "reason", msg, NULL);
}

/* ADDRESS:PORT ([v6]:PORT) into an address to bind. */
static int resolve(const char *listen, struct addrinfo **ai, char *err, size_t errlen)
{
	const char *colon = strrchr(listen, ':');
	char host[256];
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV | AI_PASSIVE };

	if (!colon || !colon[1] || (size_t)(colon - listen) >= sizeof host) {
		snprintf(err, errlen, "unable to listen on '%s': expected ADDRESS:PORT, such as 127.0.0.1:8080", listen);
		return -1;
	}
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = '\0';
	char *h = host;
	if (*h == '[' && h[strlen(h) - 1] == ']')
		h[strlen(h) - 1] = '\0', h++;
	int rc = getaddrinfo(*h ? h : NULL, colon + 1, &hints, ai);
	if (rc != 0)
		snprintf(err, errlen, "unable to listen on '%s': %s", listen, gai_strerror(rc));
	return rc == 0 ? 0 : -1;
}

int serve_start(struct serve *s, char *err, size_t errlen)
{
	struct addrinfo *ai;
	int rc = pool_open(s, err, errlen);

	if (rc != BB_DB_OK)
		return rc;
	if (resolve(s->listen, &ai, err, errlen) != 0)
		return BB_DB_BADURL;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG |
			 (ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0);
	s->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s,
				     MHD_OPTION_SOCK_ADDR, ai->ai_addr,
				     MHD_OPTION_THREAD_POOL_SIZE, s->threads,
				     MHD_OPTION_CONNECTION_LIMIT, s->max_connections,
				     MHD_OPTION_CONNECTION_TIMEOUT, s->timeout_s,
				     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)SERVE_MAX_BODY + 16384,
				     MHD_OPTION_NOTIFY_COMPLETED, on_done, s,
				     MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s,
				     MHD_OPTION_END);
	freeaddrinfo(ai);
	if (!s->daemon) {
		snprintf(err, errlen, "unable to listen on '%s': %s", s->listen,
			 s->mhd_err[0] ? s->mhd_err : "libmicrohttpd refused to start");
		return BB_DB_ERR;
	}
	return BB_DB_OK;
}

/* Stop taking connections, end every stream (resuming those suspended:
 * libmicrohttpd must have none at its stop), and finish the requests in hand. */
void serve_stop(struct serve *s)
{
	if (s->daemon)
		MHD_quiesce_daemon(s->daemon);
	feed_stop(&s->feed);
	if (s->daemon)
		MHD_stop_daemon(s->daemon);
	s->daemon = NULL;
	for (unsigned i = 0; i < s->threads; i++) {
		bb_db_close(s->pool[i].db);
		free(s->pool[i].counts_version);
		bb_json_free(s->pool[i].jd);
	}
}
