/* ids.c: SHA-256 comes from OpenSSL, randomness from the kernel
 * (getrandom(2)): ids and jitter need no generator of their own, and
 * OpenSSL's, set up per thread, cost bb-store about 3 MB of memory. */
#include "ids.h"
#include "timeutil.h"

#include <openssl/evp.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

void bb_sha256_hex(const void *data, size_t n, char hex[65])
{
	static EVP_MD *sha256; /* fetched once: EVP_sha256() looks it up on every digest */
	static const char digits[] = "0123456789abcdef";
	unsigned char md[32];
	unsigned int len = 0;

	if (!sha256)
		sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	EVP_Digest(data, n, md, &len, sha256 ? sha256 : EVP_sha256(), NULL);
	for (unsigned int i = 0; i < 32; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[64] = '\0';
}

/* n random bytes from the kernel: 0, or -1 (it cannot give them yet). */
static int random_bytes(unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = getrandom(p, n, 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

int64_t bb_jitter_ms(int64_t ms)
{
	unsigned char r[2] = { 0, 0 };
	random_bytes(r, 2);
	return ms / 2 + (int64_t)((r[0] << 8 | r[1]) % (unsigned)(ms / 2 + 1));
}

/* Random bytes for ids, drawn 64 ids at a time: one call per id cost
 * bb-store more than some of its inserts. Per thread, so that no
 * lock is needed; a forked child starts with an empty pool, so that it never
 * hands out its parent's ids. */
static _Thread_local unsigned char pool[640];
static _Thread_local size_t pool_left;
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

static void pool_forget(void)
{
	pool_left = 0;
}

static void pool_init(void)
{
	pthread_atfork(NULL, NULL, pool_forget);
}

/* Ids of one thread sort in the order they were made (RFC 9562, 6.2,
 * method 1): within a millisecond a 12-bit counter in rand_a, from a random
 * start in its lower half, counts up; when it runs out the time is taken a
 * millisecond ahead. */
static _Thread_local uint64_t last_ms;
static _Thread_local unsigned seq;

int bb_uuid7(char out[37])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[16];
	uint64_t ms = (uint64_t)bb_clock_ms();
	int fresh = ms > last_ms;

	pthread_once(&pool_once, pool_init);
	if (pool_left < 10) {
		if (random_bytes(pool, sizeof pool) != 0)
			return -1;
		pool_left = sizeof pool;
	}
	pool_left -= 10;
	memcpy(b + 6, pool + pool_left, 10);
	memset(pool + pool_left, 0, 10); /* used once */
	if (fresh) {
		last_ms = ms;
		seq = ((unsigned)b[6] << 8 | b[7]) & 0x7ff;
	} else if (++seq > 0xfff) {
		last_ms++;
		seq = 0;
	}
	for (int i = 0; i < 6; i++)
		b[i] = (unsigned char)(last_ms >> (40 - 8 * i));
	b[6] = (unsigned char)(0x70 | (seq >> 8));
	b[7] = (unsigned char)(seq & 0xff);
	b[8] = (unsigned char)(0x80 | (b[8] & 0x3f));
	for (int i = 0, o = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[b[i] >> 4];
		out[o++] = hex[b[i] & 15];
	}
	out[36] = '\0';
	return 0;
}
