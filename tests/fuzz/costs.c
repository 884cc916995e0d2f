/* costs: bb-severity's cost table (cmd/bb-severity/costs.c), loaded from a
 * file as --costs and [analysis] costs name it, then every row looked up.
 * fuzz-links: cmd/bb-severity/costs.c
 */
#include "../../cmd/bb-severity/severity.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct costs c;
	char err[600];

	if (costs_load(&c, fuzz_file(data, size), err, sizeof err) != 0) {
		FUZZ_ASSERT(memchr(err, '\0', sizeof err) && strlen(err) > 0);
	} else {
		for (size_t i = 0; i < c.n; i++) {
			const struct cost *r = &c.rows[i], *found = costs_find(&c, (struct bb_str){ r->asin, strlen(r->asin) },
									 (struct bb_str){ r->marketplace, strlen(r->marketplace) });
			FUZZ_ASSERT(found == r); /* no two rows share a key */
			FUZZ_ASSERT(strlen(r->currency) == 3 && r->unit_cost >= 0 && r->referral_bp >= 0);
		}
		costs_find(&c, (struct bb_str){ "B0NOSUCH01", 10 }, (struct bb_str){ "ATVPDKIKX0DER", 13 });
	}
	costs_free(&c);
	return 0;
}
