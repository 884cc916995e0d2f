/* str.h: bytes with a length, the way outside data travels through bb from
 * the parser to the database: never NUL-terminated, so a string may hold
 * any byte, U+0000 included. */
#ifndef BB_STR_H
#define BB_STR_H

#include <stddef.h>

struct bb_str {
	const char *p; /* NULL: null (JSON null, SQL NULL) */
	size_t n;
};

/* A string literal as a bb_str. */
#define BB_LIT(s) ((struct bb_str){ "" s, sizeof(s) - 1 })

#endif
