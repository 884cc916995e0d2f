/* recv.h: what bb-sqs-recv makes of a message of a ReceiveMessage answer. */
#ifndef BB_RECV_H
#define BB_RECV_H

#include "jwrite.h"
#include "sqs.h"

#include <stdint.h>

/* Write the record envelope of message m, received from queue_url at now:
 * one JSON object, for one line. */
void recv_envelope(struct bb_jw *w, const char *queue_url, const struct bb_sqs_message *m, int64_t now);

#endif
