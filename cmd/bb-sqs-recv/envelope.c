/* envelope.c: a message SQS handed over, as the record that carries it down
 * the pipeline (DESIGN.md's envelope). Apart from main.c so that the fuzz
 * target of SQS answers reads messages exactly as bb-sqs-recv does. */
#include "recv.h"
#include "ids.h"
#include "timeutil.h"

#include <stdint.h>
#include <stdlib.h>

/* A time, or null when there is none or it is past the year 9999 (no such
 * time is written). */
static void time_member(struct bb_jw *w, const char *key, int64_t ms)
{
	bb_jw_ktime(w, key, ms > BB_TIME_MAX ? -1 : ms);
}

/* JSON text as SQS wrote it, without whitespace between its tokens: a
 * record is one line, whatever layout the answer had. */
static void compact_json(struct bb_jw *w, struct bb_str json)
{
	char *c = malloc(json.n ? json.n : 1);
	size_t k = 0;
	int in_string = 0;

	if (!c) {
		w->oom = 1;
		return;
	}
	for (size_t i = 0; i < json.n; i++) {
		char ch = json.p[i];
		if (in_string) {
			c[k++] = ch;
			if (ch == '\\' && i + 1 < json.n)
				c[k++] = json.p[++i];
			else if (ch == '"')
				in_string = 0;
		} else if (ch == '"') {
			in_string = 1;
			c[k++] = ch;
		} else if (ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r') {
			c[k++] = ch;
		}
	}
	bb_jw_raw(w, c, k);
	free(c);
}

/* The envelope, with members in DESIGN.md's order; the body's bytes exactly. */
void recv_envelope(struct bb_jw *w, const char *queue_url, const struct bb_sqs_message *m, int64_t now)
{
	char trace[37];

	bb_uuid7(trace);
	bb_jw_obj(w);
	bb_jw_kstrz(w, "trace_id", trace);
	bb_jw_key(w, "sqs");
	bb_jw_obj(w);
	bb_jw_kstrz(w, "queue_url", queue_url);
	bb_jw_kview(w, "message_id", m->message_id);
	bb_jw_kview(w, "receipt_handle", m->receipt_handle);
	bb_jw_kint(w, "receive_count", m->receive_count);
	time_member(w, "sent_at", m->sent_at);
	time_member(w, "first_received_at", m->first_received_at);
	if (m->attributes.p) { /* a dead-lettered copy's error_type and trace_id */
		bb_jw_key(w, "message_attributes");
		compact_json(w, m->attributes);
	}
	bb_jw_end(w, '}');
	bb_jw_kview(w, "body", m->body);
	time_member(w, "received_at", now);
	bb_jw_end(w, '}');
}
