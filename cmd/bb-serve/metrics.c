/* metrics.c: GET /metrics in the Prometheus text format: requests by route
 * and status, the SSE clients, the time from an event's commit to its
 * send (sse_stream_gap_seconds), and bb-status's gauges. Counters are
 * bumped with atomics by every connection's thread. */
#include "serve.h"

#include <stdio.h>
#include <stdlib.h>

static const int statuses[] = { 200, 400, 401, 403, 404, 405, 409, 413, 500, 503, 0 };
#define SLOTS (sizeof statuses / sizeof *statuses) /* the last: any other */

static const double gap_le[GAP_BUCKETS] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10 };

static const char *const route_names[R_COUNT] = {
	"/", "/assets", "/api/notifications/stream", "/api/notifications/prioritized",
	"/api/notifications/acknowledge", "/api/worker-status", "/api/health",
	"/api/competitive-intelligence/trends", "/metrics", "other",
};

const char *serve_route_name(enum serve_route route)
{
	return route_names[route];
}

int serve_status_slot(int status)
{
	size_t i = 0;
	while (statuses[i] && statuses[i] != status)
		i++;
	return (int)i;
}

void metrics_request(struct metrics *m, enum serve_route route, int status)
{
	__atomic_fetch_add(&m->requests[route][serve_status_slot(status)], 1, __ATOMIC_RELAXED);
}

void metrics_gap(struct metrics *m, double seconds)
{
	for (int i = 0; i < GAP_BUCKETS; i++)
		if (seconds <= gap_le[i])
			__atomic_fetch_add(&m->gap_bucket[i], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&m->gap_count, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&m->gap_sum_us, (uint64_t)(seconds * 1e6), __ATOMIC_RELAXED);
	__atomic_fetch_add(&m->sse_sent, 1, __ATOMIC_RELAXED);
}

static uint64_t get(const uint64_t *v)
{
	return __atomic_load_n(v, __ATOMIC_RELAXED);
}

static void requests(FILE *out, struct metrics *m)
{
	fputs("# HELP bb_serve_requests_total HTTP requests answered, by route and status.\n"
	      "# TYPE bb_serve_requests_total counter\n", out);
	for (int r = 0; r < R_COUNT; r++)
		for (size_t k = 0; k < SLOTS; k++)
			if (get(&m->requests[r][k]))
				fprintf(out, "bb_serve_requests_total{route=\"%s\",status=\"%s%.0d\"} %llu\n", route_names[r],
					statuses[k] ? "" : "other", statuses[k], (unsigned long long)get(&m->requests[r][k]));
}

static void sse(FILE *out, struct metrics *m)
{
	fprintf(out, "# HELP bb_serve_sse_clients SSE streams open.\n# TYPE bb_serve_sse_clients gauge\n"
		"bb_serve_sse_clients %lld\n", (long long)__atomic_load_n(&m->sse_clients, __ATOMIC_RELAXED));
	fprintf(out, "# HELP bb_serve_sse_dropped_total SSE streams ended because the client fell too far behind.\n"
		"# TYPE bb_serve_sse_dropped_total counter\nbb_serve_sse_dropped_total %llu\n",
		(unsigned long long)get(&m->sse_dropped));
	fputs("# HELP sse_stream_gap_seconds Time from an event's commit to its send to a live client.\n"
	      "# TYPE sse_stream_gap_seconds histogram\n", out);
	for (int i = 0; i < GAP_BUCKETS; i++)
		fprintf(out, "sse_stream_gap_seconds_bucket{le=\"%g\"} %llu\n", gap_le[i],
			(unsigned long long)get(&m->gap_bucket[i]));
	fprintf(out, "sse_stream_gap_seconds_bucket{le=\"+Inf\"} %llu\n", (unsigned long long)get(&m->gap_count));
	fprintf(out, "sse_stream_gap_seconds_sum %.6f\n", (double)get(&m->gap_sum_us) / 1e6);
	fprintf(out, "sse_stream_gap_seconds_count %llu\n", (unsigned long long)get(&m->gap_count));
}

enum MHD_Result route_metrics(struct req *r)
{
	char *text = NULL;
	size_t n = 0;
	FILE *out = open_memstream(&text, &n);

	if (!out)
		return serve_error(r, 500, "out of memory");
	requests(out, &r->s->metrics);
	sse(out, &r->s->metrics);
	status_metrics(r->s, out);
	if (fclose(out) != 0 || !text) {
		free(text);
		return serve_error(r, 500, "out of memory");
	}
	return serve_reply(r, 200, "text/plain; version=0.0.4; charset=utf-8", text, n);
}
