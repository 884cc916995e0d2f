/* envelope.h: the record envelope (bb-record(5)) as a C type, filled from a
 * line parsed by the JSON layer. Members a stage does not know stay in the
 * line's bytes; this is what the programs decide on. */
#ifndef BB_ENVELOPE_H
#define BB_ENVELOPE_H

#include "json.h"
#include "notification.h"

#include <stdint.h>

struct bb_envelope {
	struct bb_jval root;
	struct bb_str status, trace_id, message_id, dedupe_hash;
	struct bb_jval body;         /* any type, or absent */
	struct bb_str body_text;     /* body when it is a string (not set by bb_envelope_read_lazy) */
	struct bb_jval error;
	struct bb_str error_type, error_stage, error_message;
	struct {
		struct bb_jval v;
		struct bb_str queue_url, message_id, receipt_handle;
		int64_t receive_count; /* BB_NONE when absent */
		int64_t sent_at, first_received_at; /* ms, -1 when absent */
	} sqs;
	int64_t received_at; /* ms, -1 when absent */
	struct bb_jval notification, analysis, alert, stored, ack;
};

/* Fill e from a parsed record (an object). Never fails: what is absent or of
 * another type reads as absent. */
void bb_envelope_read(struct bb_jval root, struct bb_envelope *e);

/* The same, except that body_text is left unset: the body, kilobytes of
 * escaped JSON, is decoded only if bb_envelope_body asks for it. For the
 * stages that do not read it. */
void bb_envelope_read_lazy(struct bb_jval root, struct bb_envelope *e);

/* The body when it is a string (decoded now if it was not), else {NULL, 0}. */
struct bb_str bb_envelope_body(const struct bb_envelope *e);

#endif
