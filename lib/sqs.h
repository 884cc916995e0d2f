/* sqs.h: an Amazon SQS client for the JSON protocol (POST /, X-Amz-Target:
 * AmazonSQS.<Action>, application/x-amz-json-1.0), signed with libcurl's
 * built-in AWS SigV4. Requests go to the configured endpoint, never to the
 * host inside a queue URL (emulators hand out URLs of hosts that do not
 * resolve). Credentials and endpoint follow the AWS conventions. */
#ifndef BB_SQS_H
#define BB_SQS_H

#include "json.h"
#include "jwrite.h"
#include "outage.h"
#include "str.h"

#include <stddef.h>
#include <stdint.h>

struct bb_sqs;

struct bb_sqs_error {
	int http;          /* HTTP status, 0 when none came back */
	char type[128];    /* __type / x-amzn-query-error code, or "connection" */
	char message[256];
	int retryable;
};

/* From the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * AWS_SESSION_TOKEN, AWS_REGION/AWS_DEFAULT_REGION, AWS_PROFILE with
 * ~/.aws/credentials and ~/.aws/config, AWS_ENDPOINT_URL_SQS/AWS_ENDPOINT_URL).
 * NULL with err set when the credentials cannot be had. */
struct bb_sqs *bb_sqs_new(char *err, size_t errlen);
void bb_sqs_free(struct bb_sqs *s);
/* The endpoint, without any user name or password it was given with. */
const char *bb_sqs_endpoint(const struct bb_sqs *s);

/* Where a client reports failed attempts (outage.h): its own outage, named
 * "SQS" by its endpoint, unless bb_sqs_report_to gave it another's, so that
 * the clients of one program's threads warn as one. */
struct bb_outage *bb_sqs_outage(struct bb_sqs *s);
void bb_sqs_report_to(struct bb_sqs *s, struct bb_outage *o);

/* How long one call may keep retrying retryable failures, in ms (default 60 s). */
void bb_sqs_set_patience(struct bb_sqs *s, long ms);

/* Call an action with a request (JSON text, written with lib/jwrite.h);
 * wait_s is the long poll it asks for (ReceiveMessage's WaitTimeSeconds,
 * else 0). On success *answer is the answer, an object, parsed into doc
 * (NULL: the client's own, valid until its next call). Retries throttling,
 * 5xx, timeouts and connection failures with jittered exponential backoff;
 * after repeated failures the circuit opens and calls wait out a cool-down,
 * then one probe decides. Each failed attempt is reported to the client's
 * outage. Returns 0, or -1 with err filled in (err->retryable: worth trying
 * again later). An answer that is not a JSON object is type
 * "InvalidResponse", its message naming the endpoint and, when it is not
 * JSON, the byte offset of the fault.
 *
 * Once the program is stopping (bb_stopping), no call waits: a long poll in
 * progress is abandoned at once, with err->type "stopping", and so are the
 * backoff and the circuit's cool-down; any other call makes one attempt,
 * and all of a client's attempts after the stop end within
 * BB_SQS_STOP_GRACE_MS of when it first saw it: what is in hand is sent or
 * settled if SQS answers at once, and the program exits promptly if not. */
#define BB_SQS_STOP_GRACE_MS 700
int bb_sqs_call(struct bb_sqs *s, const char *action, const char *request, size_t len, int64_t wait_s,
		struct bb_jdoc *doc, struct bb_jval *answer, struct bb_sqs_error *err);

/* ---- ReceiveMessage ---- */

/* A message of a ReceiveMessage answer. The strings are views into the
 * answer (null when SQS left them out or sent another type): the body is
 * its bytes exactly, U+0000 included. */
struct bb_sqs_message {
	struct bb_str message_id, receipt_handle, body;
	/* ApproximateReceiveCount, SentTimestamp, ApproximateFirstReceiveTimestamp:
	 * -1 when absent or not a whole number */
	int64_t receive_count, sent_at, first_received_at;
	struct bb_str attributes; /* MessageAttributes as JSON text when an object, else null */
};

/* The messages of one receive; zeroed before the first, reused for the
 * next (the views stay valid until then), released by bb_sqs_received_free. */
struct bb_sqs_received {
	struct bb_sqs_message *m;
	size_t n, cap;
	struct bb_jdoc *doc;
};

/* Receive up to max (1 to 10) messages from queue, long polling wait_s
 * seconds, each hidden visibility_s seconds, with the attributes above and
 * every message attribute. 0 with out filled, or -1 with err. */
int bb_sqs_receive(struct bb_sqs *s, const char *queue, int max, int64_t wait_s, int64_t visibility_s,
		   struct bb_sqs_received *out, struct bb_sqs_error *err);
void bb_sqs_received_free(struct bb_sqs_received *r);

/* The messages of a parsed ReceiveMessage answer into out (elements that
 * are not objects are no message). 0, or -1 out of memory. */
int bb_sqs_messages_read(struct bb_jval answer, struct bb_sqs_received *out);

/* ---- the *Batch actions ---- */

/* A message attribute of type String. */
struct bb_sqs_attr {
	const char *name;
	struct bb_str value;
};

/* One entry of a *Batch call (SendMessageBatch, DeleteMessageBatch,
 * ChangeMessageVisibilityBatch): what the action needs of it, and how it
 * fared. Zero it, then set the request's members. */
struct bb_sqs_entry {
	struct bb_str body;                /* SendMessageBatch: MessageBody */
	const struct bb_sqs_attr *attrs;   /* … and its MessageAttributes */
	int nattrs;
	struct bb_str handle;              /* the others: ReceiptHandle */
	int64_t visibility;                /* ChangeMessageVisibilityBatch: VisibilityTimeout */

	int done;           /* SQS accepted it */
	struct bb_str message_id; /* SendMessageBatch, once done: the MessageId (malloc'd, or null) */
	int refused;        /* SQS refused it (SenderFault): no retry mends it */
	char code[80];      /* the Code SQS failed it with, or "" */
	char error[480];    /* why it is not done: "ACTION: CODE[: message]" */
};

/* Release what the entries' outcomes hold (message_id). */
void bb_sqs_entries_free(struct bb_sqs_entry *e, int n);

/* Write the request of one *Batch call to queue over the entries idx[0..k)
 * of e, each with its positional id (its index in e). */
void bb_sqs_batch_request(struct bb_jw *w, const char *action, struct bb_str queue,
			  const struct bb_sqs_entry *e, const int *idx, int k);

/* One *Batch call over the entries idx[0..k) of e, settled from the answer
 * (bb_sqs_batch_settle). 0 when answered; -1 with err when the call failed
 * (the entries are left as they were). */
int bb_sqs_batch_call(struct bb_sqs *s, const char *action, struct bb_str queue, struct bb_sqs_entry *e,
		      int n, const int *idx, int k, struct bb_sqs_error *err);

/* Up to ten entries in one call to queue, with positional ids. Entries that
 * fail for a passing reason (no SenderFault) go again, alone, for at most
 * `calls` calls in all. Returns 0 when the calls were answered, each entry
 * saying how it fared; -1 when a call itself failed (err set, and every entry
 * not done carries the error). */
int bb_sqs_batch(struct bb_sqs *s, const char *action, struct bb_str queue, struct bb_sqs_entry *e, int n,
		 int calls, struct bb_sqs_error *err);

/* Mark the entries an answer to a *Batch call names (by positional id: the
 * index in e): done, with the MessageId of its Successful object, or not
 * done with the error, refused when SenderFault says no retry mends it. An
 * entry done stays done, one refused is not done later; elements that are
 * not objects name nothing. */
void bb_sqs_batch_settle(const char *action, struct bb_jval answer, struct bb_sqs_entry *e, int n);

/* Read an answer as bb_sqs_call does once it has it from endpoint: the HTTP
 * status, the header lines as they came (each ending in a newline), the
 * body. 0 with *answer (parsed into doc) for a 2xx, else -1 with err. For
 * tests and fuzzing: no request is made. */
int bb_sqs_answer(const char *endpoint, const char *action, long http, const char *headers, size_t hlen,
		  const char *body, size_t blen, struct bb_jdoc *doc, struct bb_jval *answer,
		  struct bb_sqs_error *err);

/* Whether the queue exists, asked of SQS at start (GetQueueAttributes, one
 * attempt): -1, with err set, only when SQS says it does not; any other
 * failure (SQS cannot be reached now, the request is refused) is left for
 * the program's own requests to meet: 0. */
int bb_sqs_check_queue(struct bb_sqs *s, const char *queue, struct bb_sqs_error *err);

/* How many messages a queue holds (GetQueueAttributes): visible
 * (ApproximateNumberOfMessages), in flight (…NotVisible) and delayed
 * (…Delayed), -1 each when SQS left it out. 0, or -1 with err set. */
int bb_sqs_queue_counts(struct bb_sqs *s, const char *queue, int64_t counts[3], struct bb_sqs_error *err);

/* Whether err says the queue does not exist: a configuration error. */
int bb_sqs_no_such_queue(const struct bb_sqs_error *err);

/* The last part of a queue URL, for logs: ".../000000000000/bb" -> "bb". */
const char *bb_sqs_queue_name(const char *url);

/* A receipt handle shortened for logs: never the whole handle. */
void bb_sqs_handle_tag(const char *handle, char *buf, size_t size);

#endif
