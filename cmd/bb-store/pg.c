/* pg.c: bb-store's batch on PostgreSQL in two pipelined round trips instead
 * of a round trip per row. Round 1 writes each notification with its
 * history (offers included), state and state event in one statement, and
 * reads the stored alerts of the batch's places (lib/alertdb.c). The alert
 * decisions are then made here, in batch order, against that view
 * (lib/alert.c), and round 2 writes them (lib/alertdb.c). The batch's
 * advisory locks keep other writers off these places in between. */
#include "store.h"
#include "timeutil.h"

#include <stdlib.h>
#include <string.h>

#define NOTIFICATION_SQL \
	"WITH ins AS (INSERT INTO worker_notifications (id, message_id, dedupe_hash, notification_id, asin, " \
	"marketplace, body, severity, priority, status, trace_id, event_time, received_at, processed_at, worker_id) " \
	"VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, $8, $9::int, 'stored', $10, $11::timestamptz, " \
	"$12::timestamptz, $13::timestamptz, $14) ON CONFLICT DO NOTHING RETURNING id), " \
	"hist AS (INSERT INTO competitive_history (id, notification_id, asin, marketplace, event_time, severity, " \
	"priority, our_price, market_low, buy_box_price, buy_box_winner, position, total_offers, gap_pct, created_at, " \
	"offer_seller_ids, offer_landed, offer_prime, offer_fba, offer_buy_box_winner, offer_ours) " \
	"SELECT $15::uuid, $1::uuid::text, $5, $6, $11, $8, $9, $16::bigint, $17::bigint, $18::bigint, $19::boolean, $20::int, " \
	"$21::int, $22::numeric, $13, $24::text[], $30::bigint[], $31::boolean[], $32::boolean[], $33::boolean[], " \
	"$23::boolean[] FROM ins), " \
	"st AS (INSERT INTO current_state (asin, marketplace, notification_id, event_time, severity, priority, rule, " \
	"currency, our_price, market_low, market_low_seller, buy_box_price, buy_box_winner, position, total_offers, " \
	"gap_pct, analysis, updated_at) SELECT $5, $6, $1::uuid::text, $11, $8, $9, $25, $26, $16, $17, $27, $18, " \
	"$19, $20, $21, $22, $28::jsonb, $13 FROM ins ON CONFLICT (asin, marketplace) DO UPDATE SET " \
	"notification_id = excluded.notification_id, event_time = excluded.event_time, severity = excluded.severity, " \
	"priority = excluded.priority, rule = excluded.rule, currency = excluded.currency, " \
	"our_price = excluded.our_price, market_low = excluded.market_low, " \
	"market_low_seller = excluded.market_low_seller, buy_box_price = excluded.buy_box_price, " \
	"buy_box_winner = excluded.buy_box_winner, position = excluded.position, " \
	"total_offers = excluded.total_offers, gap_pct = excluded.gap_pct, analysis = excluded.analysis, " \
	"updated_at = excluded.updated_at WHERE current_state.event_time <= excluded.event_time RETURNING asin), " \
	"ev AS (INSERT INTO events (kind, asin, marketplace, payload, created_at) SELECT 'state', $5, $6, " \
	"$29::jsonb, $13 FROM st RETURNING id) " \
	"SELECT (SELECT count(*) FROM ins), (SELECT id FROM ev), (SELECT pg_notify('bb_events', id::text) FROM ev)"

#define NPARAMS 33 /* of NOTIFICATION_SQL */

/* One array, not a literal at each use: lib/db.c knows a statement by the
 * address of its text. */
static const char notification_sql[] = NOTIFICATION_SQL;

/* The parameters of NOTIFICATION_SQL for an ok record. */
static void notification_params(const struct store_conf *c, const struct item *it, const char *now,
				struct bb_str *p)
{
	const struct bb_str *v = it->v;
	struct bb_str q[NPARAMS] = {
		{ it->nid, 36 }, v[V_MESSAGE_ID], v[V_DEDUPE_HASH], v[V_NOTIFICATION_ID], v[V_ASIN], v[V_MARKETPLACE],
		v[V_BODY], v[V_SEVERITY], v[V_PRIORITY], v[V_TRACE_ID], v[V_EVENT_TIME], v[V_RECEIVED_AT],
		{ now, strlen(now) }, { c->worker_id, strlen(c->worker_id) }, { it->hid, 36 }, v[V_OUR_PRICE],
		v[V_MARKET_LOW], v[V_BUY_BOX_PRICE], v[V_BUY_BOX_WINNER].p ? v[V_BUY_BOX_WINNER] : BB_LIT("0"),
		v[V_POSITION], v[V_TOTAL_OFFERS], v[V_GAP_PCT], v[V_OFFER_OURS], v[V_OFFER_SELLERS], v[V_RULE],
		v[V_CURRENCY], v[V_LOW_SELLER], v[V_ANALYSIS], v[V_STATE_EVENT], v[V_OFFER_LANDED], v[V_OFFER_PRIME],
		v[V_OFFER_FBA], v[V_OFFER_WINNER],
	};
	memcpy(p, q, sizeof q);
}

/* What a batch holds while its two rounds run. */
struct round {
	struct bb_str *params;        /* NPARAMS per record */
	struct bb_rows **res;         /* round 1's answers, in the order sent */
	int *of;                      /* the record of each notification sent */
	struct bb_alert_place *places;
	struct bb_alert_decision *d;  /* round 2's decisions … */
	struct bb_str *nids;          /* … the ids of their notifications … */
	int64_t *events;              /* … and their last events */
	int *owner;                   /* the record of each decision */
	struct bb_alert_view *view;
	struct bb_alert_ask ask;
};

static int round_alloc(struct round *r, int n)
{
	size_t m = (size_t)n + 1;
	memset(r, 0, sizeof *r);
	r->params = calloc(m * NPARAMS, sizeof *r->params);
	r->res = calloc(m + 1, sizeof *r->res);
	r->of = calloc(m, sizeof *r->of);
	r->places = calloc(m, sizeof *r->places);
	r->d = calloc(m, sizeof *r->d);
	r->nids = calloc(m, sizeof *r->nids);
	r->events = calloc(m, sizeof *r->events);
	r->owner = calloc(m, sizeof *r->owner);
	r->view = bb_alert_view_new(m);
	return r->params && r->res && r->of && r->places && r->d && r->nids && r->events && r->owner && r->view ?
		       BB_DB_OK :
		       BB_DB_ERR;
}

static void round_free(struct round *r, int n)
{
	for (int i = 0; i < n + 1; i++)
		bb_db_rows_free(r->res[i]);
	for (int i = 0; r->d && i < n; i++)
		bb_alert_decision_free(&r->d[i]);
	bb_alert_ask_free(&r->ask);
	bb_alert_view_free(r->view);
	free(r->params), free(r->res), free(r->of), free(r->places), free(r->d), free(r->nids), free(r->events);
	free(r->owner);
}

/* Round 1: each notification sent as soon as it is ready, then the
 * question for the alerts of the batch's places. ns gets how many were sent. */
static int round1(struct bb_db *db, const struct store_conf *c, const struct item *items, int n, const char *now,
		  struct round *r, int *ns)
{
	int np = 0, rc;

	for (int i = 0; i < n; i++)
		if (strcmp(items[i].status, "ok") == 0)
			r->places[np++] = store_place(&items[i]);
	*ns = 0;
	if (np == 0)
		return BB_DB_OK;
	if ((rc = bb_alert_ask(r->view, db, r->places, (size_t)np, &r->ask)) != BB_DB_OK)
		return rc;
	struct bb_stmt used[2] = { { notification_sql, NPARAMS, NULL }, bb_alert_ask_stmt() };
	if ((rc = bb_db_pipe_begin(db, 2, used)) != BB_DB_OK)
		return rc;
	for (int i = 0; rc == BB_DB_OK && i < n; i++) {
		if (strcmp(items[i].status, "ok") != 0)
			continue;
		struct bb_str *p = &r->params[(size_t)*ns * NPARAMS];
		notification_params(c, &items[i], now, p);
		r->of[(*ns)++] = i;
		rc = bb_db_pipe_send_q(db, &(struct bb_query){ notification_sql, NPARAMS, p });
	}
	for (int k = 0; rc == BB_DB_OK && k < r->ask.n; k++)
		rc = bb_db_pipe_send_q(db, &r->ask.q[k]);
	rc = bb_db_pipe_end(db, r->res, rc);
	if (rc == BB_DB_OK)
		rc = bb_alert_answer(r->view, &r->ask, r->res + *ns);
	return rc;
}

int store_batch_pg(struct bb_db *db, const struct store_conf *c, const struct item *items, int n, int64_t now_ms,
		   struct outcome *out)
{
	struct round r;
	char now[40];
	int ns = 0, nd = 0, rc = round_alloc(&r, n);

	bb_time_format(now_ms, now, sizeof now);
	/* the failures first: their writes are statements of their own */
	for (int i = 0; rc == BB_DB_OK && i < n; i++) {
		out[i].status = items[i].status;
		if (strcmp(items[i].status, "rejected") == 0 || strcmp(items[i].status, "failed") == 0)
			rc = store_failure(db, &items[i], now);
	}
	if (rc == BB_DB_OK)
		rc = round1(db, c, items, n, now, &r, &ns);
	for (int s = 0; rc == BB_DB_OK && s < ns; s++) {
		int i = r.of[s];
		const char *ins = bb_db_value(r.res[s], 0, 0), *ev = bb_db_value(r.res[s], 0, 1);
		if (!ins || strcmp(ins, "1") != 0) {
			out[i].status = "duplicate"; /* the unique keys are the final guard */
			continue;
		}
		memcpy(out[i].notification_id, items[i].nid, sizeof items[i].nid);
		if (ev)
			out[i].event_id = strtoll(ev, NULL, 10);
		/* round 2: the alert decisions, in batch order */
		if (bb_alert_decide(r.view, store_place(&items[i]), items[i].sev, items[i].event_ms, &r.d[nd]) != 0) {
			rc = BB_DB_ERR;
			break;
		}
		r.nids[nd] = (struct bb_str){ items[i].nid, 36 };
		r.events[nd] = out[i].event_id;
		r.owner[nd++] = i;
	}
	if (rc == BB_DB_OK && nd > 0)
		rc = bb_alert_write(db, (size_t)nd, r.d, r.nids, now_ms, r.events);
	for (int k = 0; rc == BB_DB_OK && k < nd; k++) {
		out[r.owner[k]].event_id = r.events[k];
		store_decided(&items[r.owner[k]], &r.d[k], &out[r.owner[k]]);
	}
	round_free(&r, n);
	return rc;
}
