/* ids.h: content hashes and time-ordered ids. */
#ifndef BB_IDS_H
#define BB_IDS_H

#include <stddef.h>
#include <stdint.h>

/* Lowercase hex SHA-256 of data into hex[65]. */
void bb_sha256_hex(const void *data, size_t n, char hex[65]);

/* A random wait between ms/2 and ms, so retrying clients do not move in step. */
int64_t bb_jitter_ms(int64_t ms);

/* A UUID version 7 (RFC 9562: 48-bit Unix milliseconds, then random) into out[37]. */
int bb_uuid7(char out[37]);

#endif
