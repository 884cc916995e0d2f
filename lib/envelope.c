/* envelope.c: the envelope's members, read once per record. */
#include "envelope.h"
#include "timeutil.h"

#include <string.h>

static int64_t time_of(struct bb_jval v)
{
	const char *s;
	size_t n;
	int64_t ms;
	return bb_json_string(v, &s, &n) == 0 && bb_time_parse(s, n, &ms) == 0 ? ms : -1;
}

void bb_envelope_read(struct bb_jval root, struct bb_envelope *e)
{
	bb_envelope_read_lazy(root, e);
	e->body_text = bb_str_of(e->body);
}

struct bb_str bb_envelope_body(const struct bb_envelope *e)
{
	return e->body_text.p ? e->body_text : bb_str_of(e->body);
}

void bb_envelope_read_lazy(struct bb_jval root, struct bb_envelope *e)
{
	struct bb_jval sqs = bb_json_getz(root, "sqs");
	int64_t count;

	memset(e, 0, sizeof *e);
	e->root = root;
	e->status = bb_str_of(bb_json_getz(root, "status"));
	e->trace_id = bb_str_of(bb_json_getz(root, "trace_id"));
	e->message_id = bb_str_of(bb_json_getz(root, "message_id"));
	e->dedupe_hash = bb_str_of(bb_json_getz(root, "dedupe_hash"));
	e->body = bb_json_getz(root, "body");
	e->error = bb_json_getz(root, "error");
	e->error_type = bb_str_of(bb_json_getz(e->error, "type"));
	e->error_stage = bb_str_of(bb_json_getz(e->error, "stage"));
	e->error_message = bb_str_of(bb_json_getz(e->error, "message"));
	e->sqs.v = bb_json_type(sqs) == BB_JOBJECT ? sqs : (struct bb_jval){ 0 };
	e->sqs.queue_url = bb_str_of(bb_json_getz(sqs, "queue_url"));
	e->sqs.message_id = bb_str_of(bb_json_getz(sqs, "message_id"));
	e->sqs.receipt_handle = bb_str_of(bb_json_getz(sqs, "receipt_handle"));
	e->sqs.receive_count = bb_json_int64(bb_json_getz(sqs, "receive_count"), &count) == 0 ? count : BB_NONE;
	e->sqs.sent_at = time_of(bb_json_getz(sqs, "sent_at"));
	e->sqs.first_received_at = time_of(bb_json_getz(sqs, "first_received_at"));
	e->received_at = time_of(bb_json_getz(root, "received_at"));
	e->notification = bb_json_getz(root, "notification");
	e->analysis = bb_json_getz(root, "analysis");
	e->alert = bb_json_getz(root, "alert");
	e->stored = bb_json_getz(root, "stored");
	e->ack = bb_json_getz(root, "ack");
}
