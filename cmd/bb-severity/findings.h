/* findings.h: bb-trend's findings fed back into the analysis (--findings):
 * an ASIN with an open creeping_undercut or price_war finding carries it as
 * the risk flag creeping-undercut or price-war. Nothing else changes: the
 * flags decide no severity. */
#ifndef BB_SEVERITY_FINDINGS_H
#define BB_SEVERITY_FINDINGS_H

#include "analysis.h"

#include <stddef.h>
#include <stdint.h>

#define FINDING_OPEN_MS (24 * 3600 * 1000) /* a finding stays open so long after it ended */

struct finding_place;
struct findings {
	struct finding_place *p;
	size_t n;
};

/* Load FILE, the NDJSON bb-trend detect writes; other kinds are skipped.
 * On error, err holds "FILE:LINE: message". */
int findings_load(struct findings *f, const char *path, char *err, size_t errlen);
void findings_free(struct findings *f);

/* Add to a's risk flags those of the findings of (asin, marketplace) open
 * at event_ms: begun by then and ongoing, or ended at most 24 hours
 * before. The flags stay in byte order. */
void findings_flag(const struct findings *f, const struct bb_notification *n, struct bb_analysis *a);

#endif
