/* ids.c: SHA-256 and randomness come from OpenSSL. */
#include "ids.h"
#include "timeutil.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

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

int64_t bb_jitter_ms(int64_t ms)
{
	unsigned char r[2] = { 0, 0 };
	RAND_bytes(r, 2);
	return ms / 2 + (int64_t)((r[0] << 8 | r[1]) % (unsigned)(ms / 2 + 1));
}

/* Random bytes for ids, drawn from OpenSSL 64 ids at a time: one call per
 * id cost bb-store more than some of its inserts. Per thread, so that no
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

int bb_uuid7(char out[37])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[16];
	uint64_t ms = (uint64_t)bb_clock_ms();

	pthread_once(&pool_once, pool_init);
	if (pool_left < 10) {
		if (RAND_bytes(pool, (int)sizeof pool) != 1)
			return -1;
		pool_left = sizeof pool;
	}
	pool_left -= 10;
	memcpy(b + 6, pool + pool_left, 10);
	memset(pool + pool_left, 0, 10); /* used once */
	for (int i = 0; i < 6; i++)
		b[i] = (unsigned char)(ms >> (40 - 8 * i));
	b[6] = (unsigned char)(0x70 | (b[6] & 0x0f));
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
