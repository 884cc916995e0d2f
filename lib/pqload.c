/* pqload.c: libpq through dlopen(3) (pqload.h). */
#define BB_PQLOAD_SELF
#include "pqload.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#define LIBPQ "libpq.so.5"

struct bb_pq bb_pq;
static char why[256];

static void load(void)
{
	void *h = dlopen(LIBPQ, RTLD_NOW | RTLD_LOCAL);
	const char *missing = NULL;

	if (!h) {
		const char *e = dlerror();
		snprintf(why, sizeof why, "%s", e ? e : "not found");
		return;
	}
#define BB_PQ_LOOKUP(f) \
	if (!missing && !(bb_pq.f = (__typeof__(bb_pq.f))dlsym(h, #f))) \
		missing = #f;
	BB_PQ_FUNCS(BB_PQ_LOOKUP)
#undef BB_PQ_LOOKUP
	if (missing) {
		snprintf(why, sizeof why, "no %s in it", missing);
		bb_pq = (struct bb_pq){ 0 };
	}
}

int bb_pq_load(char *err, size_t errlen)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, load);
	if (bb_pq.PQstatus)
		return 0;
	snprintf(err, errlen, "unable to load %s: %s", LIBPQ, why);
	return -1;
}
