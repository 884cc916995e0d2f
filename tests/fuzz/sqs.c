/* sqs: answers of the SQS JSON protocol as lib/sqs.c reads them (the HTTP
 * status, the x-amzn-query-error header and the body: bb_sqs_answer), the
 * entries of a *Batch answer settled (bb_sqs_batch_settle), and the messages
 * of a ReceiveMessage answer made into records as bb-sqs-recv makes them
 * (cmd/bb-sqs-recv/envelope.c). An input is a line "ACTION STATUS [ENTRIES]",
 * the header lines, an empty line, then the body.
 * fuzz-links: cmd/bb-sqs-recv/envelope.c
 */
#include "../../cmd/bb-sqs-recv/recv.h"
#include "fuzz.h"
#include "record.h"
#include "sqs.h"
#include "timeutil.h"

/* A time member of an envelope is null or an RFC 3339 time. */
static void time_or_null(jv sqs, const char *key)
{
	jv t = jv_object_get(jv_copy(sqs), jv_string(key));
	int64_t ms;
	FUZZ_ASSERT(jv_get_kind(t) == JV_KIND_NULL ||
		    (jv_get_kind(t) == JV_KIND_STRING &&
		     bb_time_parse(jv_string_value(t), strlen(jv_string_value(t)), &ms) == 0));
	jv_free(t);
}

/* Each message as emit() in bb-sqs-recv's main.c reads it. */
static void received(jv resp)
{
	jv messages = jv_object_get(jv_copy(resp), jv_string("Messages"));
	int n = jv_get_kind(messages) == JV_KIND_ARRAY ? jv_array_length(jv_copy(messages)) : 0;

	for (int i = 0; i < n; i++) {
		jv m = jv_array_get(jv_copy(messages), i);
		if (jv_get_kind(m) != JV_KIND_OBJECT) {
			jv_free(m);
			continue;
		}
		jv attrs = jv_object_get(jv_copy(m), jv_string("Attributes"));
		jv handle = jv_object_get(jv_copy(m), jv_string("ReceiptHandle"));
		recv_attr_ms(attrs, "SentTimestamp");
		jv e = recv_envelope("http://127.0.0.1:4566/000000000000/bb", m, 1767225600000LL);
		jv sqs = jv_object_get(jv_copy(e), jv_string("sqs"));
		time_or_null(sqs, "sent_at");
		time_or_null(sqs, "first_received_at");
		jv line = jv_dump_string(e, 0); /* what goes down the pipe is one record */
		struct bb_record r = { .line = jv_string_value(line), .len = (size_t)jv_string_length_bytes(jv_copy(line)) };
		FUZZ_ASSERT(bb_record_index(&r) == 0);
		free(r.m);
		jv_free(line), jv_free(sqs), jv_free(handle), jv_free(attrs), jv_free(m);
	}
	jv_free(messages);
}

static void settled(const char *action, jv resp, int n)
{
	struct bb_sqs_entry e[10];

	for (int i = 0; i < n; i++) {
		e[i].done = e[i].refused = 0;
		e[i].result = jv_invalid();
		e[i].code[0] = e[i].error[0] = '\0';
	}
	bb_sqs_batch_settle(action, resp, e, n);
	for (int i = 0; i < n; i++) {
		FUZZ_ASSERT(e[i].done ? jv_is_valid(e[i].result) : !jv_is_valid(e[i].result));
		FUZZ_ASSERT(memchr(e[i].error, '\0', sizeof e[i].error) && memchr(e[i].code, '\0', sizeof e[i].code));
		FUZZ_ASSERT(!e[i].refused || (!e[i].done && e[i].error[0]));
		jv_free(e[i].result);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const actions[] = { "ReceiveMessage", "SendMessageBatch", "DeleteMessageBatch",
					       "ChangeMessageVisibilityBatch", "GetQueueAttributes" };
	char *in = fuzz_copy(data, size), *end = in + size, first[64], action[64];
	char *nl = memchr(in, '\n', size), *head, *body;
	long status;
	int n = 10, k;

	if (!nl || nl - in >= (long)sizeof first)
		goto out;
	memcpy(first, in, (size_t)(nl - in));
	first[nl - in] = '\0';
	if (sscanf(first, "%63s %ld %d", action, &status, &n) < 2 || n < 0 || n > 10)
		goto out;
	for (k = 0; k < 5 && strcmp(actions[k], action) != 0; k++)
		;
	if (k == 5)
		goto out;
	/* the headers end at an empty line */
	head = nl + 1;
	for (body = head; body < end && *body != '\n' && !(*body == '\r' && body + 1 < end && body[1] == '\n');) {
		char *eol = memchr(body, '\n', (size_t)(end - body));
		body = eol ? eol + 1 : end;
	}
	size_t hlen = (size_t)(body - head);
	body += body < end && *body == '\r';
	body += body < end && *body == '\n';

	char *h = fuzz_copy((const uint8_t *)head, hlen), *b = fuzz_copy((const uint8_t *)body, (size_t)(end - body));
	struct bb_sqs_error err;
	jv resp;
	if (bb_sqs_answer(action, status, h, hlen, b, (size_t)(end - body), &resp, &err) == 0) {
		FUZZ_ASSERT(status >= 200 && status < 300);
		if (k == 0)
			received(resp);
		if (k >= 1 && k <= 3)
			settled(action, jv_copy(resp), n);
		jv_free(resp);
	} else {
		FUZZ_ASSERT(err.type[0] && memchr(err.type, '\0', sizeof err.type) &&
			    memchr(err.message, '\0', sizeof err.message));
	}
	free(h);
	free(b);
out:
	free(in);
	return 0;
}
