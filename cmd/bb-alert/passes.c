/* passes.c: how deliver and sweep run: one pass, or one every --interval
 * until SIGTERM or SIGINT, which end a wait at once and a pass once the
 * alert in hand is settled. */
#include "bbalert.h"
#include "exitcode.h"
#include "log.h"
#include "metrics.h"
#include "outage.h"
#include "record.h"
#include "timeutil.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

#define RETRY_MS 2000 /* between passes while the database cannot be reached */

int nap(struct app *a, int64_t ms)
{
	(void)a;
	for (int64_t end = bb_mono_ms() + ms; !bb_stopping() && bb_mono_ms() < end;) {
		struct timespec t = { 0, 50 * 1000000L };
		nanosleep(&t, NULL);
	}
	return BB_DB_OK;
}

int clock_runs(const struct app *a)
{
	return a->now < 0 && !bb_now_pinned();
}

int64_t pause_until_due(const struct app *a, int64_t due, int64_t ms, int64_t floor_ms)
{
	int64_t left = due - app_now(a);
	if (due >= 0 && left < ms)
		ms = left > floor_ms ? left : floor_ms;
	return ms;
}

int run_passes(struct app *a, const char *cmd, const char *what, int (*pass)(struct app *a, const char *owner),
	       int (*pause)(struct app *a, int64_t ms))
{
	char owner[128], host[64] = "", err[256];
	int rc;

	if (a->nargs > 0) {
		bb_say("%s: unexpected argument '%s'", cmd, a->args[0]);
		return BB_EX_USAGE;
	}
	gethostname(host, sizeof host - 1);
	snprintf(owner, sizeof owner, "bb-alert %s %s:%ld", cmd, host, (long)getpid());
	if (a->metrics && (rc = bb_metrics_start(a->metrics, "alert", NULL, 0, err, sizeof err)) != 0)
		return bb_fatal(rc, "%s", err);
	bb_signals_install();
	/* With --interval, a database that is gone or busy (BB_DB_RETRY) is
	 * waited for: said at once, then at most every 30 s, a pass tried every
	 * few seconds. Any other failure, or any with --once, ends the run (75). */
	struct bb_outage outage;
	bb_outage_init(&outage, "database", "db", bb_db_name(a->db));
	do {
		rc = pass(a, owner);
		if (rc == BB_DB_OK)
			bb_outage_over(&outage, bb_mono_ms()); /* says so only after an outage */
		if (rc == BB_DB_OK && a->interval_ms > 0 && !bb_stopping())
			rc = pause(a, a->interval_ms);
		if (rc == BB_DB_RETRY && a->interval_ms > 0 && !bb_stopping()) {
			bb_outage_failed(&outage, bb_mono_ms(), bb_db_errmsg(a->db), NULL);
			rc = nap(a, a->interval_ms < RETRY_MS ? a->interval_ms : RETRY_MS);
			if (!bb_stopping())
				bb_db_reconnect(a->db); /* fails while it is gone: the next pass says so */
		}
	} while (rc == BB_DB_OK && a->interval_ms > 0 && !bb_stopping());
	bb_outage_destroy(&outage);
	if (bb_metrics_stop(err, sizeof err) != 0)
		bb_log(BB_WARN, NULL, err, NULL);
	if (rc != BB_DB_OK)
		return bb_fatal(BB_EX_TEMPFAIL, "unable to %s '%s': %s", what, bb_db_name(a->db), bb_db_errmsg(a->db));
	return 0;
}
