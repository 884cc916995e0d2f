/* sqs: answers of the SQS JSON protocol as lib/sqs.c reads them (the HTTP
 * status, the x-amzn-query-error header and the body: bb_sqs_answer), the
 * entries of a *Batch answer settled (bb_sqs_batch_settle), and the messages
 * of a ReceiveMessage answer made into records as bb-sqs-recv makes them
 * (cmd/bb-sqs-recv/envelope.c) and read back through the envelope. An
 * input is a line "ACTION STATUS [ENTRIES]", the header lines, an empty
 * line, then the body.
 * fuzz-links: cmd/bb-sqs-recv/envelope.c
 */
#include "../../cmd/bb-sqs-recv/recv.h"
#include "fuzz.h"
#include "envelope.h"
#include "json.h"
#include "record.h"
#include "sqs.h"
#include "timeutil.h"

static int same(struct bb_str a, struct bb_str b)
{
	return (!a.p && !b.p) || (a.p && b.p && a.n == b.n && memcmp(a.p, b.p, a.n) == 0);
}

/* Each message as emit() in bb-sqs-recv's main.c writes it: one record,
 * strict JSON, whose envelope gives back the body, ids and times exactly. */
static void received(struct bb_jval answer)
{
	static struct bb_sqs_received r;
	static struct bb_jdoc *doc;
	struct bb_jw w;

	if (!doc)
		FUZZ_ASSERT((doc = bb_json_new()));
	FUZZ_ASSERT(bb_sqs_messages_read(answer, &r) == 0);
	bb_jw_init(&w);
	for (size_t i = 0; i < r.n; i++) {
		const struct bb_sqs_message *m = &r.m[i];
		struct bb_jval root;
		struct bb_jerr jerr;
		struct bb_envelope e;

		bb_jw_reset(&w);
		recv_envelope(&w, "http://127.0.0.1:4566/000000000000/bb", m, 1767225600000LL);
		FUZZ_ASSERT(!w.oom && !memchr(w.buf, '\n', w.len)); /* what goes down the pipe is one record */
		FUZZ_ASSERT(bb_json_parse(doc, w.buf, w.len, &root, &jerr) == 0);
		bb_envelope_read(root, &e);
		FUZZ_ASSERT(same(e.body_text, m->body) && same(e.sqs.receipt_handle, m->receipt_handle) &&
			    same(e.sqs.message_id, m->message_id));
		FUZZ_ASSERT(e.sqs.receive_count == m->receive_count);
		FUZZ_ASSERT(e.sqs.sent_at == (m->sent_at > BB_TIME_MAX ? -1 : m->sent_at));
		FUZZ_ASSERT(e.sqs.first_received_at == (m->first_received_at > BB_TIME_MAX ? -1 : m->first_received_at));
		FUZZ_ASSERT(e.received_at == 1767225600000LL);
		struct bb_record rec = { .line = w.buf, .len = w.len };
		FUZZ_ASSERT(bb_record_index(&rec) == 0);
		free(rec.m);
	}
	bb_jw_free(&w);
}

static void settled(const char *action, struct bb_jval answer, int n)
{
	struct bb_sqs_entry e[10];

	memset(e, 0, sizeof e);
	bb_sqs_batch_settle(action, answer, e, n);
	for (int i = 0; i < n; i++) {
		FUZZ_ASSERT(!e[i].message_id.p || e[i].done);
		FUZZ_ASSERT(memchr(e[i].error, '\0', sizeof e[i].error) && memchr(e[i].code, '\0', sizeof e[i].code));
		FUZZ_ASSERT(!e[i].refused || (!e[i].done && e[i].error[0]));
	}
	bb_sqs_entries_free(e, n);
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
	static struct bb_jdoc *doc;
	struct bb_sqs_error err;
	struct bb_jval answer;
	if (!doc)
		FUZZ_ASSERT((doc = bb_json_new()));
	if (bb_sqs_answer("http://127.0.0.1:4566", action, status, h, hlen, b, (size_t)(end - body), doc, &answer,
			  &err) == 0) {
		FUZZ_ASSERT(status >= 200 && status < 300 && bb_json_type(answer) == BB_JOBJECT);
		if (k == 0)
			received(answer);
		if (k >= 1 && k <= 3)
			settled(action, answer, n);
	} else {
		FUZZ_ASSERT(err.type[0] && memchr(err.type, '\0', sizeof err.type) &&
			    memchr(err.message, '\0', sizeof err.message));
		/* an answer that is not JSON says where */
		FUZZ_ASSERT(strcmp(err.type, "InvalidResponse") != 0 || strstr(err.message, "http://127.0.0.1:4566"));
	}
	free(h);
	free(b);
out:
	free(in);
	return 0;
}
