/* envelope.c: a message SQS handed over, as the record that carries it down
 * the pipeline (DESIGN.md's envelope). Apart from main.c so that the fuzz
 * target of SQS answers reads messages exactly as bb-sqs-recv does. */
#include "recv.h"
#include "ids.h"
#include "parse.h"
#include "record.h"

#include <stdint.h>

int64_t recv_attr_ms(jv attrs, const char *key)
{
	jv v = jv_get_kind(attrs) == JV_KIND_OBJECT ? jv_object_get(jv_copy(attrs), jv_string(key)) : jv_invalid();
	int64_t r = -1;
	/* strictly: atoll would make a number of junk, and the largest of one too long */
	if (jv_get_kind(v) != JV_KIND_STRING || bb_parse_i64(jv_string_value(v), 0, INT64_MAX, &r) != 0)
		r = -1;
	jv_free(v);
	return r;
}

/* m.key, or null when absent: libjq's "absent" (an invalid value) set in an
 * object aborts the program when the object is written. */
static jv member(jv m, const char *key)
{
	jv v = jv_object_get(jv_copy(m), jv_string(key));
	if (jv_is_valid(v))
		return v;
	jv_free(v);
	return jv_null();
}

/* The envelope, with members in DESIGN.md's order. */
jv recv_envelope(const char *queue_url, jv m, int64_t now)
{
	char trace[37];
	jv attrs = jv_object_get(jv_copy(m), jv_string("Attributes"));
	jv s = jv_object();

	bb_uuid7(trace);
	s = jv_object_set(s, jv_string("queue_url"), jv_string(queue_url));
	s = jv_object_set(s, jv_string("message_id"), member(m, "MessageId"));
	s = jv_object_set(s, jv_string("receipt_handle"), member(m, "ReceiptHandle"));
	s = jv_object_set(s, jv_string("receive_count"), jv_number((double)recv_attr_ms(attrs, "ApproximateReceiveCount")));
	s = jv_object_set(s, jv_string("sent_at"), bb_jv_time(recv_attr_ms(attrs, "SentTimestamp")));
	s = jv_object_set(s, jv_string("first_received_at"),
			  bb_jv_time(recv_attr_ms(attrs, "ApproximateFirstReceiveTimestamp")));
	jv ma = jv_object_get(jv_copy(m), jv_string("MessageAttributes"));
	if (jv_get_kind(ma) == JV_KIND_OBJECT) /* a dead-lettered copy's error_type and trace_id */
		s = jv_object_set(s, jv_string("message_attributes"), ma);
	else
		jv_free(ma);
	jv e = jv_object();
	e = jv_object_set(e, jv_string("trace_id"), jv_string(trace));
	e = jv_object_set(e, jv_string("sqs"), s);
	e = jv_object_set(e, jv_string("body"), member(m, "Body"));
	e = jv_object_set(e, jv_string("received_at"), bb_jv_time(now));
	jv_free(attrs);
	return e;
}
