/* detect.c: the five patterns of TREND.md, ASIN by ASIN, and --record:
 * each new finding stored once in trend_findings, with its alert raised
 * through lib/alert.h (the one owner of alert_queues). */
#include "trend.h"
#include "alert.h"
#include "exitcode.h"
#include "ids.h"
#include "json.h"
#include "log.h"
#include "parse.h"
#include "timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const kind_names[K_KINDS] = { "creeping_undercut", "leader_follower", "price_war", "buy_box_lost",
					  "opportunity" };

struct finding {
	enum kind kind;
	int seller, leader; /* -1: none */
	int64_t from, to;   /* to NONE: ongoing */
	int64_t count;
	size_t note;        /* the notification it ends at */
	struct bb_jw w;     /* the JSON object */
	struct buf why;     /* the reasons, one a line */
};

struct det {
	struct app *a;
	struct bb_history *s;
	struct finding *f;
	size_t n, cap;
	int64_t from; /* the window: [from, now] */
	size_t found, stored, alerts;
};

static struct bb_str sid(const struct det *d, int k)
{
	return k < 0 ? (struct bb_str){ NULL, 0 } : d->s->sellers[k].id;
}

/* A new finding, its JSON begun: the members every kind has. */
static struct finding *begin(struct det *d, enum kind k, int seller, int leader, int64_t from, int64_t to,
			     int64_t count, size_t note)
{
	if (d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 16;
		struct finding *f = realloc(d->f, cap * sizeof *f);
		if (!f)
			return NULL;
		d->f = f, d->cap = cap;
	}
	struct finding *f = &d->f[d->n++];
	*f = (struct finding){ k, seller, leader, from, to, count, note, { 0 }, { 0 } };
	bb_jw_init(&f->w);
	bb_jw_obj(&f->w);
	bb_jw_kstrz(&f->w, "kind", kind_names[k]);
	bb_jw_kview(&f->w, "asin", d->s->p.asin);
	bb_jw_kview(&f->w, "marketplace", d->s->p.mkt);
	bb_jw_kview(&f->w, "seller_id", sid(d, seller));
	bb_jw_kview(&f->w, "leader_id", sid(d, leader));
	bb_jw_ktime(&f->w, "from", from);
	bb_jw_ktime(&f->w, "to", to == NONE ? -1 : to);
	bb_jw_kint(&f->w, "count", count);
	bb_jw_kview(&f->w, "currency", d->s->p.currency);
	return f;
}

/* The reasons (one a line in f->why) close the object. */
static int finish(struct finding *f)
{
	bb_jw_key(&f->w, "reasons");
	bb_jw_arr(&f->w);
	for (size_t i = 0; i < f->why.n;) {
		size_t e = i;
		while (e < f->why.n && f->why.p[e] != '\n')
			e++;
		bb_jw_str(&f->w, f->why.p + i, e - i);
		i = e + 1;
	}
	bb_jw_end(&f->w, ']');
	bb_jw_end(&f->w, '}');
	return f->w.oom || f->why.oom ? -1 : 0;
}

static void kmoney(struct bb_jw *w, const char *key, int64_t v)
{
	bb_jw_kint_or_null(w, key, v, v != NONE);
}

/* "USD 21.00" of the place into b. */
#define MONEY(d, v, b) money((v), (d)->s->p.currency, (b), sizeof(b))

/* ---- 1. creeping_undercut ---- */

static int undercut_found(struct det *d, const size_t *run, size_t n)
{
	const struct trend_conf *t = &d->a->t;
	const struct bb_history_change *c = d->s->changes, *first = &c[run[0]], *last = &c[run[n - 1]];
	char p0[48], p1[48], gap[32], span[32];
	struct finding *f = begin(d, K_UNDERCUT, first->seller, -1, first->t, last->t, (int64_t)n, last->note);

	if (!f)
		return -1;
	kmoney(&f->w, "price_from", first->from);
	kmoney(&f->w, "price_to", last->to);
	bb_jw_kint(&f->w, "total_drop", first->from - last->to);
	bb_jw_key(&f->w, "evidence");
	bb_jw_arr(&f->w);
	for (size_t i = 0; i < n; i++) {
		bb_jw_obj(&f->w);
		bb_jw_ktime(&f->w, "at", c[run[i]].t);
		bb_jw_kint(&f->w, "from", c[run[i]].from);
		bb_jw_kint(&f->w, "to", c[run[i]].to);
		bb_jw_kint(&f->w, "step", c[run[i]].from - c[run[i]].to);
		bb_jw_end(&f->w, '}');
	}
	bb_jw_end(&f->w, ']');
	MONEY(d, first->from, p0), MONEY(d, last->to, p1);
	duration_text(t->undercut_max_gap, gap, sizeof gap);
	duration_text(last->t - first->t, span, sizeof span);
	buf_printf(&f->why, "%zu drops in a row ≥ %lld, each of 1 to %lld minor units", n,
		   (long long)t->undercut_min_steps, (long long)t->undercut_max_step);
	buf_printf(&f->why, "\neach drop at most %s after the one before", gap);
	buf_printf(&f->why, "\n%s to %s in %s", p0, p1, span);
	return finish(f);
}

static int undercut(struct det *d, size_t *run)
{
	const struct trend_conf *t = &d->a->t;
	const struct bb_history *s = d->s;

	for (size_t k = 0; k < s->nsellers; k++) {
		size_t n = 0;
		if (s->sellers[k].ours)
			continue;
		for (size_t i = 0; i <= s->nchanges; i++) {
			const struct bb_history_change *c = i < s->nchanges ? &s->changes[i] : NULL;
			if (c && c->seller != (int)k)
				continue;
			int64_t step = c ? c->from - c->to : 0;
			int fits = c && step >= 1 && step <= t->undercut_max_step;
			int joins = fits && (n == 0 || c->t - s->changes[run[n - 1]].t <= t->undercut_max_gap);
			if (!joins && n >= (size_t)t->undercut_min_steps && undercut_found(d, run, n) != 0)
				return -1;
			if (!joins)
				n = 0;
			if (fits)
				run[n++] = i;
		}
	}
	return 0;
}

/* ---- 2. leader_follower ---- */

static int dir(const struct bb_history_change *c)
{
	return c->to < c->from ? -1 : 1;
}

/* The latest change of L in F's direction 0 < t - t' <= window before
 * change i, or -1. */
static long followed(const struct bb_history *s, size_t i, int leader, int64_t window)
{
	const struct bb_history_change *f = &s->changes[i];
	for (size_t j = i; j-- > 0 && f->t - s->changes[j].t <= window;)
		if (s->changes[j].seller == leader && s->changes[j].t < f->t && dir(&s->changes[j]) == dir(f))
			return (long)j;
	return -1;
}

static int follow_found(struct det *d, int fol, int lead, const size_t *fc, size_t nf, int64_t following)
{
	const struct trend_conf *t = &d->a->t;
	const struct bb_history *s = d->s;
	size_t first = nf, last = 0;
	int us = s->sellers[lead].ours;
	char ratio[32], win[32];

	for (size_t i = 0; i < nf; i++)
		if (followed(s, fc[i], lead, t->follow_window) >= 0) {
			first = first < nf ? first : i;
			last = i;
		}
	const struct bb_history_change *c0 = &s->changes[fc[first]], *c1 = &s->changes[fc[last]];
	struct finding *f = begin(d, K_FOLLOW, fol, lead, c0->t, c1->t, following, c1->note);
	if (!f)
		return -1;
	bb_jw_kint(&f->w, "changes", (int64_t)nf);
	jw_pct(&f->w, "ratio", percent_bp(following, (int64_t)nf));
	bb_jw_kbool(&f->w, "leader_is_us", us);
	bb_jw_key(&f->w, "evidence");
	bb_jw_arr(&f->w);
	for (size_t i = 0; i < nf; i++) {
		long j = followed(s, fc[i], lead, t->follow_window);
		if (j < 0)
			continue;
		bb_jw_obj(&f->w);
		bb_jw_ktime(&f->w, "leader_at", s->changes[j].t);
		bb_jw_ktime(&f->w, "follower_at", s->changes[fc[i]].t);
		bb_jw_kstrz(&f->w, "direction", dir(&s->changes[fc[i]]) < 0 ? "down" : "up");
		bb_jw_kint(&f->w, "leader_price", s->changes[j].to);
		bb_jw_kint(&f->w, "follower_price", s->changes[fc[i]].to);
		bb_jw_end(&f->w, '}');
	}
	bb_jw_end(&f->w, ']');
	hundredths(percent_bp(following, (int64_t)nf), ratio, sizeof ratio);
	duration_text(t->follow_window, win, sizeof win);
	buf_printf(&f->why, "%lld of its %zu price changes followed %s within %s (≥ %lld)", (long long)following, nf,
		   us ? "ours" : "the leader's", win, (long long)t->follow_min);
	buf_printf(&f->why, "\n%s%% of its changes ≥ %lld.%02lld%%", ratio, (long long)(t->follow_ratio / 100),
		   (long long)(t->follow_ratio % 100));
	if (us)
		buf_puts(&f->why, "\nthe leader is us: this competitor tracks our price");
	return finish(f);
}

static int follow(struct det *d, size_t *fc)
{
	const struct trend_conf *t = &d->a->t;
	const struct bb_history *s = d->s;
	int64_t start = d->a->now - t->follow_period;

	for (size_t fol = 0; fol < s->nsellers; fol++) {
		size_t nf = 0;
		if (s->sellers[fol].ours)
			continue;
		for (size_t i = 0; i < s->nchanges; i++)
			if (s->changes[i].seller == (int)fol && s->changes[i].t >= start)
				fc[nf++] = i;
		if ((int64_t)nf < t->follow_min)
			continue;
		for (size_t lead = 0; lead < s->nsellers; lead++) {
			int64_t following = 0;
			for (size_t i = 0; lead != fol && i < nf; i++)
				following += followed(s, fc[i], (int)lead, t->follow_window) >= 0;
			if (lead != fol && following >= t->follow_min && following * 10000 >= t->follow_ratio * (int64_t)nf &&
			    follow_found(d, (int)fol, (int)lead, fc, nf, following) != 0)
				return -1;
		}
	}
	return 0;
}

/* ---- 3. price_war ---- */

struct war_window {
	size_t a, b;
};

/* Competitors with a down change in [from, to], marked in seen[]; how many. */
static int64_t droppers(const struct bb_history *s, int64_t from, int64_t to, unsigned char *seen)
{
	size_t lo = 0, hi = s->nchanges;
	int64_t n = 0;

	while (lo < hi) { /* the first change at or after from */
		size_t mid = lo + (hi - lo) / 2;
		if (s->changes[mid].t < from)
			lo = mid + 1;
		else
			hi = mid;
	}
	memset(seen, 0, s->nsellers);
	for (size_t i = lo; i < s->nchanges && s->changes[i].t <= to; i++) {
		const struct bb_history_change *c = &s->changes[i];
		if (c->t >= from && c->to < c->from && !s->sellers[c->seller].ours && !seen[c->seller])
			seen[c->seller] = 1, n++;
	}
	return n;
}

static int fall_greater(const struct bb_history *s, struct war_window x, struct war_window y)
{
	const struct bb_history_note *xa = &s->notes[x.a], *xb = &s->notes[x.b], *ya = &s->notes[y.a], *yb = &s->notes[y.b];
	/* (xa - xb) / xa > (ya - yb) / ya, in integers */
	return (__int128)(xa->market_low - xb->market_low) * ya->market_low >
	       (__int128)(ya->market_low - yb->market_low) * xa->market_low;
}

static int cmp_seller(const void *x, const void *y, void *arg)
{
	const struct bb_history *s = arg;
	struct bb_str a = s->sellers[*(const int *)x].id, b = s->sellers[*(const int *)y].id;
	int c = memcmp(a.p, b.p, a.n < b.n ? a.n : b.n);
	return c ? c : (a.n > b.n) - (a.n < b.n);
}

static int war_found(struct det *d, const struct war_window *w, size_t n, unsigned char *seen, int *ids)
{
	const struct bb_history *s = d->s;
	int64_t from = s->notes[w[0].a].t, to = s->notes[w[0].b].t, changes = 0;
	size_t best = 0, nids = 0;
	char m0[48], m1[48], pct[32], win[32];

	for (size_t i = 1; i < n; i++) {
		to = s->notes[w[i].b].t > to ? s->notes[w[i].b].t : to;
		best = fall_greater(s, w[i], w[best]) ? i : best;
	}
	droppers(s, from, to, seen);
	for (size_t k = 0; k < s->nsellers; k++)
		if (seen[k])
			ids[nids++] = (int)k;
	qsort_r(ids, nids, sizeof *ids, cmp_seller, (void *)s);
	for (size_t i = 0; i < s->nchanges; i++)
		changes += s->changes[i].t >= from && s->changes[i].t <= to && seen[s->changes[i].seller] &&
			   s->changes[i].to < s->changes[i].from;
	const struct bb_history_note *a = &s->notes[w[best].a], *b = &s->notes[w[best].b];
	size_t last = w[0].b;
	for (size_t i = 1; i < n; i++)
		last = s->notes[w[i].b].t >= s->notes[last].t ? w[i].b : last;
	struct finding *f = begin(d, K_WAR, -1, -1, from, to, changes, last);
	if (!f)
		return -1;
	int64_t bp = percent_bp(a->market_low - b->market_low, a->market_low);
	jw_pct(&f->w, "drop_pct", bp);
	kmoney(&f->w, "market_low_from", a->market_low);
	kmoney(&f->w, "market_low_to", b->market_low);
	bb_jw_key(&f->w, "sellers");
	bb_jw_arr(&f->w);
	for (size_t i = 0; i < nids; i++)
		bb_jw_str(&f->w, s->sellers[ids[i]].id.p, s->sellers[ids[i]].id.n);
	bb_jw_end(&f->w, ']');
	bb_jw_key(&f->w, "evidence");
	bb_jw_arr(&f->w);
	for (size_t i = 0; i < s->nchanges; i++) {
		const struct bb_history_change *c = &s->changes[i];
		if (c->t < from || c->t > to || !seen[c->seller] || c->to >= c->from)
			continue;
		bb_jw_obj(&f->w);
		bb_jw_ktime(&f->w, "at", c->t);
		bb_jw_kview(&f->w, "seller_id", s->sellers[c->seller].id);
		bb_jw_kint(&f->w, "from", c->from);
		bb_jw_kint(&f->w, "to", c->to);
		bb_jw_end(&f->w, '}');
	}
	bb_jw_end(&f->w, ']');
	MONEY(d, a->market_low, m0), MONEY(d, b->market_low, m1);
	hundredths(bp, pct, sizeof pct);
	duration_text(b->t - a->t, win, sizeof win);
	buf_printf(&f->why, "market low fell %s%% (%s to %s) in %s ≥ %lld.%02lld%%", pct, m0, m1, win,
		   (long long)(d->a->t.war_drop_pct / 100), (long long)(d->a->t.war_drop_pct % 100));
	buf_printf(&f->why, "\n%zu competitors cut their prices ≥ %lld:", nids, (long long)d->a->t.war_min_sellers);
	for (size_t i = 0; i < nids; i++) {
		buf_puts(&f->why, i ? ", " : " ");
		buf_text(&f->why, s->sellers[ids[i]].id.p, s->sellers[ids[i]].id.n);
	}
	return finish(f);
}

static int war_cmp(const void *x, const void *y, void *arg)
{
	const struct bb_history *s = arg;
	const struct war_window *a = x, *b = y;
	int64_t ta = s->notes[a->a].t, tb = s->notes[b->a].t, ea = s->notes[a->b].t, eb = s->notes[b->b].t;
	return ta != tb ? (ta > tb) - (ta < tb) : (ea > eb) - (ea < eb);
}

static int war(struct det *d, unsigned char *seen, int *ids)
{
	const struct trend_conf *t = &d->a->t;
	const struct bb_history *s = d->s;
	struct war_window *w = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	for (size_t b = 0; b < s->n; b++) {
		const struct bb_history_note *nb = &s->notes[b];
		for (size_t a = b; nb->market_low != NONE && a-- > 0 && nb->t - s->notes[a].t <= t->war_window;) {
			const struct bb_history_note *na = &s->notes[a];
			if (na->market_low == NONE || na->market_low <= 0 || na->t == nb->t ||
			    10000 * (na->market_low - nb->market_low) < t->war_drop_pct * na->market_low ||
			    droppers(s, na->t, nb->t, seen) < t->war_min_sellers)
				continue;
			if (n == cap) {
				struct war_window *x = realloc(w, (cap = cap ? 2 * cap : 16) * sizeof *w);
				if (!x) {
					free(w);
					return -1;
				}
				w = x;
			}
			w[n++] = (struct war_window){ a, b };
		}
	}
	if (n)
		qsort_r(w, n, sizeof *w, war_cmp, (void *)s);
	for (size_t i = 0, j; rc == 0 && i < n; i = j) { /* overlapping windows are one war */
		int64_t to = s->notes[w[i].b].t;
		for (j = i + 1; j < n && s->notes[w[j].a].t <= to; j++)
			to = s->notes[w[j].b].t > to ? s->notes[w[j].b].t : to;
		rc = war_found(d, &w[i], j - i, seen, ids);
	}
	free(w);
	return rc;
}

/* ---- 4. buy_box_lost ---- */

static int lost_found(struct det *d, size_t i, size_t j)
{
	const struct bb_history *s = d->s;
	int64_t end = j < s->n ? s->notes[j].t : d->a->now;
	int took = s->notes[i].bb_seller;
	char span[32], after[32];
	struct finding *f = begin(d, K_LOST, -1, -1, s->notes[i].t, j < s->n ? s->notes[j].t : NONE, (int64_t)(j - i),
				  j < s->n ? j : s->n - 1);

	if (!f)
		return -1;
	bb_jw_kint(&f->w, "lost_for_s", (end - s->notes[i].t) / 1000);
	bb_jw_key(&f->w, "evidence");
	bb_jw_arr(&f->w);
	for (size_t k = i; k < j; k++) {
		bb_jw_obj(&f->w);
		bb_jw_ktime(&f->w, "at", s->notes[k].t);
		bb_jw_kview(&f->w, "buy_box_seller", sid(d, s->notes[k].bb_seller));
		kmoney(&f->w, "buy_box_price", s->notes[k].buy_box_price);
		kmoney(&f->w, "our_price", s->notes[k].our_price);
		bb_jw_end(&f->w, '}');
	}
	bb_jw_end(&f->w, ']');
	duration_text(end - s->notes[i].t, span, sizeof span);
	duration_text(d->a->t.bb_lost_after, after, sizeof after);
	buf_puts(&f->why, "buy box lost to ");
	if (took >= 0)
		buf_text(&f->why, sid(d, took).p, sid(d, took).n);
	else
		buf_puts(&f->why, "another seller");
	buf_printf(&f->why, j < s->n ? "\nwon back %s later ≥ %s" : "\nnot won back for %s ≥ %s", span, after);
	return finish(f);
}

static int lost(struct det *d)
{
	const struct bb_history *s = d->s;

	for (size_t i = 1; i < s->n; i++) {
		if (!s->notes[i - 1].winner || s->notes[i].winner)
			continue;
		size_t j = i;
		while (j < s->n && !s->notes[j].winner)
			j++;
		int64_t end = j < s->n ? s->notes[j].t : d->a->now;
		if (end - s->notes[i].t >= d->a->t.bb_lost_after && lost_found(d, i, j) != 0)
			return -1;
		i = j;
	}
	return 0;
}

/* ---- 5. opportunity ---- */

/* The minimum viable price of the ASIN's current analysis, or NONE. */
static int64_t min_viable(struct det *d)
{
	struct bb_str p[2] = { d->s->p.asin, d->s->p.mkt };
	struct bb_rows *rows = NULL;
	int64_t v = NONE;

	if (bb_db_query(d->a->db, "SELECT analysis FROM current_state WHERE asin = $1 AND marketplace = $2", 2, p,
			&rows) == BB_DB_OK && bb_db_nrows(rows) == 1) {
		struct bb_str text = bb_db_text(rows, 0, 0);
		struct bb_jdoc *doc = bb_json_new();
		struct bb_jval root;
		struct bb_jerr err;
		if (doc && bb_json_parse(doc, text.p, text.n, &root, &err) == 0 &&
		    bb_json_int64(bb_json_getz(root, "min_viable_price"), &v) != 0)
			v = NONE;
		bb_json_free(doc);
	}
	bb_db_rows_free(rows);
	return v;
}

static int opportunity(struct det *d)
{
	const struct bb_history *s = d->s;
	const struct bb_history_note *nt = s->n ? &s->notes[s->n - 1] : NULL;
	char ours[48], low[48], rec[48], gain[48], mv[48], gap[32];

	if (!nt || !nt->winner || nt->our_price == NONE || nt->market_low == NONE || nt->market_low <= 0 ||
	    10000 * (nt->market_low - nt->our_price) < d->a->t.opportunity_min_pct * nt->market_low)
		return 0;
	int64_t viable = min_viable(d), target = nt->market_low - 1;
	if (viable != NONE && target < viable)
		target = viable;
	struct finding *f = begin(d, K_OPPORTUNITY, -1, -1, nt->t, nt->t, 1, s->n - 1);
	if (!f)
		return -1;
	int64_t bp = percent_bp(nt->market_low - nt->our_price, nt->market_low);
	kmoney(&f->w, "our_price", nt->our_price);
	kmoney(&f->w, "market_low", nt->market_low);
	jw_pct(&f->w, "gap_pct", bp);
	kmoney(&f->w, "min_viable_price", viable);
	kmoney(&f->w, "recommended_price", target);
	bb_jw_kint(&f->w, "gain", target - nt->our_price);
	bb_jw_key(&f->w, "evidence");
	bb_jw_arr(&f->w);
	bb_jw_obj(&f->w);
	bb_jw_ktime(&f->w, "at", nt->t);
	bb_jw_kstr(&f->w, "notification_id", nt->nid.p, nt->nid.n);
	bb_jw_end(&f->w, '}');
	bb_jw_end(&f->w, ']');
	MONEY(d, nt->our_price, ours), MONEY(d, nt->market_low, low), MONEY(d, target, rec);
	MONEY(d, target - nt->our_price, gain), MONEY(d, viable, mv);
	hundredths(bp, gap, sizeof gap);
	buf_printf(&f->why, "buy-box winner at %s, %s%% under the market low %s ≥ %lld.%02lld%%", ours, gap, low,
		   (long long)(d->a->t.opportunity_min_pct / 100), (long long)(d->a->t.opportunity_min_pct % 100));
	if (viable == NONE)
		buf_printf(&f->why, "\n%s, the market low less one minor unit, gains %s a sale (no minimum viable "
			   "price known)", rec, gain);
	else
		buf_printf(&f->why, "\n%s, the market low less one minor unit and not below the minimum viable price "
			   "%s, gains %s a sale", rec, mv, gain);
	return finish(f);
}

/* ---- one ASIN: find, order, write, record ---- */

static int cmp_str(struct bb_str a, struct bb_str b)
{
	if (!a.p || !b.p)
		return (a.p != NULL) - (b.p != NULL);
	int c = memcmp(a.p, b.p, a.n < b.n ? a.n : b.n);
	return c ? c : (a.n > b.n) - (a.n < b.n);
}

static int cmp_finding(const void *x, const void *y, void *arg)
{
	const struct det *d = arg;
	const struct finding *a = x, *b = y;
	int c;
	if (a->from != b->from)
		return (a->from > b->from) - (a->from < b->from);
	if (a->kind != b->kind)
		return (int)a->kind - (int)b->kind;
	if ((c = cmp_str(sid(d, a->seller), sid(d, b->seller))) != 0)
		return c;
	return cmp_str(sid(d, a->leader), sid(d, b->leader));
}

static void put_text_line(struct det *d, const struct finding *f, struct buf *b)
{
	char from[40];
	bb_time_format(f->from, from, sizeof from);
	buf_printf(b, "%s  %-17s  ", from, kind_names[f->kind]);
	buf_text(b, d->s->p.asin.p, d->s->p.asin.n);
	buf_puts(b, " ");
	buf_text(b, d->s->p.mkt.p, d->s->p.mkt.n);
	if (f->seller >= 0) {
		buf_puts(b, "  seller ");
		buf_text(b, sid(d, f->seller).p, sid(d, f->seller).n);
	}
	if (f->leader >= 0) {
		buf_puts(b, d->s->sellers[f->leader].ours ? " follows us (" : " follows ");
		buf_text(b, sid(d, f->leader).p, sid(d, f->leader).n);
		buf_puts(b, d->s->sellers[f->leader].ours ? ")" : "");
	}
	buf_puts(b, ": ");
	for (size_t i = 0, e; i < f->why.n; i = e + 1) {
		for (e = i; e < f->why.n && f->why.p[e] != '\n'; e++)
			;
		buf_put(b, f->why.p + i, e - i);
		buf_puts(b, e < f->why.n ? "; " : "\n");
	}
}

#define INSERT_LITE "INSERT INTO trend_findings (id, kind, asin, marketplace, seller_id, leader_id, from_time, " \
	"to_time, count, finding, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) " \
	"ON CONFLICT DO NOTHING"
#define INSERT_PG "INSERT INTO trend_findings (id, kind, asin, marketplace, seller_id, leader_id, from_time, " \
	"to_time, count, finding, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7::timestamptz, " \
	"$8::timestamptz, $9::int, $10, $11::timestamptz, $11::timestamptz) ON CONFLICT DO NOTHING"
/* a finding that has grown since (a longer run, a loss now over) keeps its row and its alert */
#define UPDATE_LITE "UPDATE trend_findings SET to_time = $7, count = $8, finding = $9, updated_at = $10 " \
	"WHERE kind = $1 AND asin = $2 AND marketplace = $3 AND seller_id = $4 AND leader_id = $5 AND from_time = $6 " \
	"AND finding <> $9"
#define UPDATE_PG "UPDATE trend_findings SET to_time = $7::timestamptz, count = $8::int, finding = $9, " \
	"updated_at = $10::timestamptz WHERE kind = $1 AND asin = $2 AND marketplace = $3 AND seller_id = $4 " \
	"AND leader_id = $5 AND from_time = $6::timestamptz AND finding <> $9"

static struct bb_str or_empty(struct bb_str s)
{
	return s.p ? s : BB_LIT("");
}

static int record(struct det *d, const struct finding *f)
{
	int pg = bb_db_is_pg(d->a->db);
	char id[37], from[40], to[40], now[40], count[24];
	struct bb_str kind = { kind_names[f->kind], strlen(kind_names[f->kind]) }, seller = or_empty(sid(d, f->seller));
	struct bb_str leader = or_empty(sid(d, f->leader)), json = { f->w.buf, f->w.len };
	struct bb_str tf = bb_history_time_param(f->from, from, sizeof from), tn = bb_history_time_param(d->a->now, now, sizeof now);
	struct bb_str tt = f->to == NONE ? (struct bb_str){ NULL, 0 } : bb_history_time_param(f->to, to, sizeof to);
	struct bb_str cnt = { count, (size_t)snprintf(count, sizeof count, "%lld", (long long)f->count) };
	enum bb_alert_act act;
	int64_t event_id = 0;

	bb_uuid7(id);
	struct bb_str ins[11] = { { id, 36 }, kind, d->s->p.asin, d->s->p.mkt, seller, leader, tf, tt, cnt, json, tn };
	int rc = bb_db_query(d->a->db, pg ? INSERT_PG : INSERT_LITE, 11, ins, NULL);
	if (rc == BB_DB_OK && bb_db_changes(d->a->db) == 0) {
		struct bb_str up[10] = { kind, d->s->p.asin, d->s->p.mkt, seller, leader, tf, tt, cnt, json, tn };
		return bb_db_query(d->a->db, pg ? UPDATE_PG : UPDATE_LITE, 10, up, NULL);
	}
	d->stored += rc == BB_DB_OK;
	if (rc == BB_DB_OK)
		rc = bb_alert_raise_finding(d->a->db, (struct bb_alert_place){ d->s->p.asin, d->s->p.mkt },
					    kind_names[f->kind], f->kind == K_OPPORTUNITY, f->to == NONE ? f->from : f->to,
					    d->s->notes[f->note].nid, d->a->now, &act, &event_id);
	d->alerts += rc == BB_DB_OK && act != BB_ACT_NONE;
	return rc;
}

static int record_all(struct det *d)
{
	int rc = d->n ? bb_db_begin(d->a->db) : BB_DB_OK;

	for (size_t i = 0; rc == BB_DB_OK && i < d->n; i++)
		rc = record(d, &d->f[i]);
	if (rc == BB_DB_OK && d->n)
		rc = bb_db_commit(d->a->db);
	if (rc != BB_DB_OK)
		bb_db_rollback(d->a->db);
	return rc;
}

static void findings_free(struct det *d)
{
	for (size_t i = 0; i < d->n; i++) {
		bb_jw_free(&d->f[i].w);
		free(d->f[i].why.p);
	}
	d->n = 0;
}

/* Scratch space as large as the ASIN's changes and sellers. */
struct scratch {
	size_t *idx;
	unsigned char *seen;
	int *ids;
};

static int detect_one(struct det *d, struct scratch *x, struct buf *out)
{
	const struct bb_history *s = d->s;
	int text = strcmp(d->a->format, "text") == 0;

	free(x->idx), free(x->seen), free(x->ids);
	x->idx = malloc((s->nchanges + 1) * sizeof *x->idx);
	x->seen = malloc(s->nsellers + 1);
	x->ids = malloc((s->nsellers + 1) * sizeof *x->ids);
	if (!x->idx || !x->seen || !x->ids || undercut(d, x->idx) != 0 || follow(d, x->idx) != 0 ||
	    war(d, x->seen, x->ids) != 0 || lost(d) != 0 || opportunity(d) != 0)
		return BB_DB_ERR;
	if (d->n)
		qsort_r(d->f, d->n, sizeof *d->f, cmp_finding, d);
	for (size_t i = 0; i < d->n; i++) {
		if (text)
			put_text_line(d, &d->f[i], out);
		else
			buf_put(out, d->f[i].w.buf, d->f[i].w.len), buf_puts(out, "\n");
	}
	d->found += d->n;
	return d->a->record ? record_all(d) : BB_DB_OK;
}

int run_detect(struct app *a)
{
	struct det d = { .a = a, .from = a->now - a->since };
	struct bb_history s = { 0 };
	struct scratch x = { 0 };
	struct bb_rows *places = NULL;
	struct buf out = { 0 };
	int rc = bb_history_places(a->db, d.from, a->now + 1, a->asin, &places), ex = 0;

	d.s = &s;
	for (int i = 0; rc == BB_DB_OK && i < bb_db_nrows(places); i++) {
		rc = series_load(a, bb_history_place(places, i), d.from, a->now + 1, 0, 1, &s);
		if (rc == BB_DB_OK)
			rc = detect_one(&d, &x, &out);
		findings_free(&d);
		if (rc == BB_DB_OK && out.n >= 1 << 16) { /* written as it goes: memory holds one ASIN */
			ex = write_out(NULL, &out);
			out.n = 0;
			if (ex)
				break;
		}
	}
	if (rc == BB_DB_OK && !ex)
		ex = write_out(NULL, &out);
	if (rc != BB_DB_OK)
		ex = db_fatal(a, rc, a->record ? "record findings in" : "read history from");
	if (!ex) {
		char n[3][24];
		snprintf(n[0], sizeof n[0], "%d", bb_db_nrows(places));
		snprintf(n[1], sizeof n[1], "%zu", d.found);
		snprintf(n[2], sizeof n[2], "%zu", d.stored);
		bb_log(BB_INFO, NULL, "detect done", "asins", n[0], "findings", n[1], "new", n[2], NULL);
	}
	bb_db_rows_free(places);
	bb_history_destroy(&s);
	free(d.f), free(x.idx), free(x.seen), free(x.ids), free(out.p);
	return ex;
}
