/* recv.h: what bb-sqs-recv makes of a message of a ReceiveMessage answer. */
#ifndef BB_RECV_H
#define BB_RECV_H

#include <jq.h>
#include <stdint.h>

/* A message attribute that holds a count or milliseconds (SentTimestamp),
 * or -1 when it is absent or not a whole number. */
int64_t recv_attr_ms(jv attrs, const char *key);

/* The record envelope of message m, received from queue_url at now. */
jv recv_envelope(const char *queue_url, jv m, int64_t now);

#endif
