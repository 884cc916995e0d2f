/* jqexpr.h: jq expressions an operator writes (bb-alert deliver --jq EXPR), run
 * by libjq on JSON that bb wrote itself. Records are never read with it:
 * lib/json.h is the strict reader. */
#ifndef BB_JQEXPR_H
#define BB_JQEXPR_H

#include <stddef.h>

struct bb_jq;

/* Compile expr. NULL when it is no jq program, with libjq's reason in err. */
struct bb_jq *bb_jq_compile(const char *expr, char *err, size_t errlen);

/* Run the program on the JSON text in[0..n) and return its one output,
 * NUL-terminated with its length in *outlen (which counts any U+0000 it
 * holds): a string as its raw text, as jq -r writes it; any other value as
 * compact JSON. NULL, with the reason in err, when the program fails, or
 * gives no output or more than one. The caller frees the text. */
char *bb_jq_run(struct bb_jq *q, const char *in, size_t n, size_t *outlen, char *err, size_t errlen);

void bb_jq_free(struct bb_jq *q);

#endif
