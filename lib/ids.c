/* ids.c: SHA-256 and randomness come from OpenSSL. */
#include "ids.h"
#include "timeutil.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdint.h>
#include <stdio.h>

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

int bb_uuid7(char out[37])
{
	unsigned char b[16];
	uint64_t ms = (uint64_t)bb_clock_ms();

	if (RAND_bytes(b + 6, 10) != 1)
		return -1;
	for (int i = 0; i < 6; i++)
		b[i] = (unsigned char)(ms >> (40 - 8 * i));
	b[6] = (unsigned char)(0x70 | (b[6] & 0x0f));
	b[8] = (unsigned char)(0x80 | (b[8] & 0x3f));
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
		 b[12], b[13], b[14], b[15]);
	return 0;
}
