/* ops.c: an operator's transitions. All the ids of one command move in one
 * transaction, each checked before anything is written: one bad id and
 * nothing changes, not even the others. */
#include "bbalert.h"
#include "exitcode.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRIES 5 /* another writer moved an alert between our read and our write */

struct target {
	const char *ref; /* as given */
	char *id;
	enum bb_alert_status from;
};

static int db_fail(struct app *a, const char *verb)
{
	return bb_fatal(BB_EX_TEMPFAIL, "unable to %s alerts in '%s': %s", verb, bb_db_name(a->db),
			bb_db_errmsg(a->db));
}

/* The status of an alert by id; ABSENT when gone. */
static int status_of(struct app *a, const char *id, enum bb_alert_status *st)
{
	struct bb_rows *rows;
	int rc = bb_alert_get(a->db, (struct bb_str){ id, strlen(id) }, &rows);
	struct bb_str s = rc == BB_DB_OK && bb_db_nrows(rows) ? bb_db_text(rows, 0, BB_AC_STATUS) : (struct bb_str){ 0 };

	*st = s.p ? bb_alert_status_of(s.p, s.n) : BB_ALERT_ABSENT;
	bb_db_rows_free(rows);
	return rc;
}

/* Find and check target t: 0, an exit status for a bad one, or a BB_DB_* error. */
static int check(struct app *a, enum bb_alert_op op, struct target *t)
{
	const char *name = bb_alert_op_name(op);
	int rc = bb_alert_find(a->db, (struct bb_str){ t->ref, strlen(t->ref) }, &t->id);

	if (rc == BB_ALERT_NOT_FOUND)
		return bb_fatal(BB_EX_DATAERR, "unable to %s alert '%s': no such alert", name, t->ref);
	if (rc == BB_ALERT_AMBIGUOUS)
		return bb_fatal(BB_EX_DATAERR, "unable to %s alert '%s': ambiguous id: more than one alert starts so",
				name, t->ref);
	if (rc == BB_DB_OK)
		rc = status_of(a, t->id, &t->from);
	if (rc == BB_DB_OK && bb_alert_transition(op, t->from) == BB_ALERT_ABSENT)
		return bb_fatal(BB_EX_DATAERR, "unable to %s alert '%s': invalid transition: the alert is %s", name,
				t->ref, bb_alert_status_name(t->from));
	return rc;
}

static struct bb_str opt_str(const char *s)
{
	return (struct bb_str){ s, s ? strlen(s) : 0 };
}

static int apply(struct app *a, enum bb_alert_op op, struct target *t, int64_t now)
{
	struct bb_alert_change c = { .op = op, .id = opt_str(t->id), .now = now, .snooze_until = now + a->snooze_ms,
				     .by = opt_str(a->by), .note = opt_str(a->note) };
	int64_t event_id;
	return bb_alert_apply(a->db, &c, &t->from, &event_id);
}

/* Two refs naming one alert move it once. */
static int seen_before(const struct target *t, int i)
{
	for (int j = 0; j < i; j++)
		if (strcmp(t[j].id, t[i].id) == 0)
			return 1;
	return 0;
}

/* One try: BB_DB_OK when done, BB_ALERT_RACED to try again, an exit status, or an error. */
static int attempt(struct app *a, enum bb_alert_op op, struct target *t, int64_t now)
{
	int rc = bb_db_begin(a->db);

	for (int i = 0; rc == BB_DB_OK && i < a->nargs; i++)
		rc = check(a, op, &t[i]);
	for (int i = 0; rc == BB_DB_OK && i < a->nargs; i++)
		if (!seen_before(t, i))
			rc = apply(a, op, &t[i], now);
	rc = rc == BB_DB_OK ? bb_db_commit(a->db) : rc;
	if (rc != BB_DB_OK)
		bb_db_rollback(a->db);
	return rc;
}

static void report(const struct app *a, enum bb_alert_op op, const struct target *t)
{
	for (int i = 0; i < a->nargs; i++)
		if (!seen_before(t, i))
			printf("%s %s: %s -> %s\n", bb_alert_op_name(op), t[i].id, bb_alert_status_name(t[i].from),
			       bb_alert_status_name(bb_alert_transition(op, t[i].from)));
}

int run_op(struct app *a, enum bb_alert_op op)
{
	struct target *t;
	int64_t now = app_now(a);
	int rc = BB_ALERT_RACED;

	if (a->nargs == 0) {
		bb_say("%s: no alert id given", bb_alert_op_name(op));
		return BB_EX_USAGE;
	}
	if (!a->by)
		a->by = getenv("USER");
	if (!(t = calloc((size_t)a->nargs, sizeof *t)))
		return bb_fatal(BB_EX_SOFTWARE, "unable to allocate memory: out of memory");
	for (int i = 0; i < a->nargs; i++)
		t[i].ref = a->args[i];
	for (int try = 0; rc == BB_ALERT_RACED && try < TRIES; try++) {
		for (int i = 0; i < a->nargs; i++)
			free(t[i].id), t[i].id = NULL;
		rc = attempt(a, op, t, now);
	}
	if (rc == BB_DB_OK)
		report(a, op, t);
	else if (rc < 0 || rc == BB_ALERT_RACED)
		rc = db_fail(a, bb_alert_op_name(op));
	for (int i = 0; i < a->nargs; i++)
		free(t[i].id);
	free(t);
	return rc;
}
