/* api.c: the REST routes over current_state and alert_queues.
 *
 * GET /api/notifications/prioritized: current_state most threatened first
 * (priority, then ASIN and marketplace: the key that pages it), each row
 * with its alert of the same severity. The cursor is opaque to clients:
 * base64url of the last row's key as a JSON array.
 *
 * POST /api/notifications/acknowledge: an operator's transition of one
 * alert, through lib/alert.h as bb-alert makes it, behind a bearer token
 * compared in constant time. */
#include "serve.h"
#include "ids.h"
#include "json.h"
#include "money.h"
#include "parse.h"
#include "timeutil.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A page is current_state's rows in the keyset's order (priority, then
 * ASIN and marketplace), read along the index of that order: a first page
 * from its start, a later one from the cursor's key on. Only then are they
 * joined with their alerts, so that the limit counts states. SQLite picks
 * the rowids first and reads each row by its rowid (a subquery of whole
 * rows would copy each column through it); PostgreSQL reads the rows as it
 * walks the index. Either way the joined rows come in no set order, and
 * page() puts them back in the keyset's (sorting them in SQL would copy
 * every column through a sorter): ASIN and marketplace compare as bytes in
 * both databases (COLLATE "C" in PostgreSQL). The analysis comes last:
 * SQLite's text whole, to be parsed here; from PostgreSQL's jsonb only the
 * members shown, so that the server writes out a fraction of it. */
#define COLS "SELECT s.asin, s.marketplace, s.severity, s.priority, s.rule, s.currency, s.our_price, " \
	"s.market_low, s.market_low_seller, s.buy_box_price, s.buy_box_winner, s.position, s.total_offers, " \
	"s.gap_pct, s.event_time, s.updated_at, a.id, a.status, a.fingerprint, a.occurrences, " \
	"a.snooze_until, a.acked_by, "
#define MEMBERS "s.analysis -> 'reasons', s.analysis -> 'risk_flags', s.analysis -> 'recommended_prices', " \
	"s.analysis -> 'position_percentile'"
#define ALERTS " LEFT JOIN alert_queues AS a ON a.asin = s.asin AND a.marketplace = s.marketplace " \
	"AND a.severity = s.severity"
#define ORDER " ORDER BY s.priority, s.asin, s.marketplace"
#define LITE(from) COLS "s.analysis FROM (SELECT s.rowid AS k FROM current_state AS s WHERE " from \
	"($4 IS NULL OR s.severity IN ($4, $5, $6, $7, $8)) AND ($9 IS NULL OR s.asin = $9)" ORDER \
	" LIMIT CAST($10 AS INTEGER)) AS p CROSS JOIN current_state AS s ON s.rowid = p.k" ALERTS
#define PG(from) COLS MEMBERS " FROM (SELECT * FROM current_state AS s WHERE " from \
	"($4::text IS NULL OR s.severity IN ($4::text, $5::text, $6::text, $7::text, $8::text)) " \
	"AND ($9::text IS NULL OR s.asin = $9::text)" ORDER " LIMIT $10::int) AS s" ALERTS

static const char first_lite[] = LITE("$1 IS NULL AND $2 IS NULL AND $3 IS NULL AND ");
static const char next_lite[] = LITE("(s.priority, s.asin, s.marketplace) > (CAST($1 AS INTEGER), $2, $3) AND ");
static const char first_pg[] = PG("$1::int IS NULL AND $2::text IS NULL AND $3::text IS NULL AND ");
static const char next_pg[] = PG("(s.priority, s.asin, s.marketplace) > ($1::int, $2::text, $3::text) AND ");
/* by priority, which names the severity (SEVERITY.md): its index answers */
static const char counts_sql[] = "SELECT priority, count(*) FROM current_state GROUP BY priority";
/* What the database holds, as far as this connection can see, in a word
 * that changes whenever it may have: on SQLite the count of other
 * connections' commits, on PostgreSQL the snapshot (the transactions
 * finished and in flight; the same snapshot sees the same rows). */
static const char version_lite[] = "PRAGMA data_version";
static const char version_pg[] = "SELECT pg_current_snapshot()::text";

enum {
	C_ASIN, C_MKT, C_SEVERITY, C_PRIORITY, C_RULE, C_CURRENCY, C_OUR, C_LOW, C_LOW_SELLER, C_BUY_BOX, C_WINNER,
	C_POSITION, C_OFFERS, C_GAP, C_EVENT_TIME, C_UPDATED, C_ALERT_ID, C_ALERT_STATUS, C_FINGERPRINT,
	C_OCCURRENCES, C_SNOOZE_UNTIL, C_ACKED_BY,
	C_ANALYSIS /* SQLite: the text; PostgreSQL: the first of the members analysis() names */
};

/* ---- the cursor ---- */

static char *cursor_encode(struct bb_rows *rows, int i)
{
	struct bb_jw w = { 0 };
	int64_t p = atoll(bb_db_value(rows, i, C_PRIORITY));

	bb_jw_arr(&w);
	bb_jw_int(&w, p);
	struct bb_str a = bb_db_text(rows, i, C_ASIN), m = bb_db_text(rows, i, C_MKT);
	bb_jw_str(&w, a.p, a.n);
	bb_jw_str(&w, m.p, m.n);
	bb_jw_end(&w, ']');
	char *out = w.oom ? NULL : malloc(4 * (w.len / 3 + 1) + 1);
	if (out) {
		int n = EVP_EncodeBlock((unsigned char *)out, (unsigned char *)w.buf, (int)w.len);
		for (int k = 0; k < n; k++)
			out[k] = out[k] == '+' ? '-' : out[k] == '/' ? '_' : out[k];
		while (n > 0 && out[n - 1] == '=')
			n--;
		out[n] = '\0';
	}
	bb_jw_free(&w);
	return out;
}

/* The key a cursor holds, into key (priority, asin, marketplace as text,
 * in buf). 0, or -1 when it is no cursor of ours. */
static int cursor_decode(const char *cur, struct bb_jdoc *jd, char *buf, size_t size, struct bb_str key[3])
{
	size_t n = strlen(cur), padded = (n + 3) / 4 * 4;
	char *b64 = malloc(padded + 1), *raw = malloc(padded);
	struct bb_jval root, v;
	struct bb_jerr err;
	int64_t p;
	int rc = -1;

	if (!b64 || !raw || n == 0 || n % 4 == 1)
		goto out;
	for (size_t k = 0; k < padded; k++)
		b64[k] = k >= n ? '=' : cur[k] == '-' ? '+' : cur[k] == '_' ? '/' : cur[k];
	int len = EVP_DecodeBlock((unsigned char *)raw, (unsigned char *)b64, (int)padded);
	if (len < 0)
		goto out;
	len -= (int)(padded - n);
	if (bb_json_parse(jd, raw, (size_t)len, &root, &err) != 0 || bb_json_count(root) != 3)
		goto out;
	v = bb_json_first(root);
	if (bb_json_int64(v, &p) != 0 || p < 0 || p > 1000)
		goto out;
	int pn = snprintf(buf, size, "%lld", (long long)p);
	key[0] = (struct bb_str){ buf, (size_t)pn };
	v = bb_json_next(v);
	if (bb_json_string(v, &key[1].p, &key[1].n) != 0 || bb_json_string(bb_json_next(v), &key[2].p, &key[2].n) != 0)
		goto out;
	rc = 0;
out:
	free(b64);
	free(raw);
	return rc;
}

/* ---- one row ---- */

/* An amount in minor units, and key_text beside it in major units. */
static void money(struct bb_jw *w, const char *key, const char *k, struct bb_rows *rows, int i, int col)
{
	const char *v = bb_db_value(rows, i, col);
	struct bb_str cur = bb_db_text(rows, i, C_CURRENCY);
	char text[64];
	int64_t amount;

	if (!v || bb_parse_i64(v, INT64_MIN, INT64_MAX, &amount) != 0) {
		bb_jw_key(w, key), bb_jw_null(w);
		bb_jw_key(w, k), bb_jw_null(w);
		return;
	}
	bb_money_text(amount, cur.p ? cur.p : "", cur.p ? cur.n : 0, text, sizeof text);
	bb_jw_kint(w, key, amount);
	bb_jw_kstrz(w, k, text);
}

/* A number column as a JSON number (null when there is none). */
static void number(struct bb_jw *w, const char *key, struct bb_rows *rows, int i, int col)
{
	struct bb_str v = bb_db_text(rows, i, col);
	int ok = v.p && v.n && v.n < 40 && strspn(v.p, "-+.0123456789eE") >= v.n && v.p[0] != '.' && v.p[0] != '+';
	bb_jw_key(w, key);
	if (ok)
		bb_jw_raw(w, v.p, v.n);
	else
		bb_jw_null(w);
}

/* A time column in RFC 3339 with milliseconds, UTC (null when it is none).
 * bb stores times so already: such a text is written as it is, which is what
 * formatting its parse would write (a leap second aside); others are parsed
 * and written anew. */
static void time_col(struct bb_jw *w, const char *key, struct bb_rows *rows, int i, int col)
{
	struct bb_str v = bb_db_text(rows, i, col);
	int64_t ms;
	int ok = v.p && bb_time_parse_loose(v.p, v.n, &ms) == 0;

	if (ok && v.n == 24 && v.p[10] == 'T' && v.p[19] == '.' && v.p[23] == 'Z' && memcmp(v.p + 17, "60", 2) < 0)
		bb_jw_kstr(w, key, v.p, v.n);
	else
		bb_jw_ktime(w, key, ok ? ms : -1);
}

static void boolean(struct bb_jw *w, const char *key, struct bb_rows *rows, int i, int col)
{
	const char *v = bb_db_value(rows, i, col);
	bb_jw_key(w, key);
	if (!v)
		bb_jw_null(w);
	else
		bb_jw_bool(w, strcmp(v, "1") == 0 || strcmp(v, "t") == 0 || strcmp(v, "true") == 0);
}

/* The analysis's members a person reads: why, and what to do (in
 * MEMBERS' order). SQLite's rows hold the analysis whole, PostgreSQL's
 * each member in a column of its own. */
static void analysis(struct bb_jw *w, struct bb_jdoc *jd, struct bb_rows *rows, int i, int pg)
{
	static const char *const keys[] = { "reasons", "risk_flags", "recommended_prices", "position_percentile" };
	struct bb_str a = bb_db_text(rows, i, C_ANALYSIS);
	struct bb_jval root;
	struct bb_jerr err;
	int ok = !pg && a.p && bb_json_parse(jd, a.p, a.n, &root, &err) == 0;

	for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
		struct bb_str m = { 0 };
		if (pg)
			m = bb_db_text(rows, i, C_ANALYSIS + (int)k);
		else if (ok && bb_json_raw(bb_json_getz(root, keys[k]), &m.p, &m.n) != 0)
			m.p = NULL;
		bb_jw_key(w, keys[k]);
		if (m.p)
			bb_jw_raw(w, m.p, m.n);
		else
			bb_jw_null(w);
	}
}

static void alert(struct bb_jw *w, struct bb_rows *rows, int i)
{
	bb_jw_key(w, "alert");
	if (!bb_db_value(rows, i, C_ALERT_ID)) {
		bb_jw_null(w);
		return;
	}
	bb_jw_obj(w);
	bb_jw_kview(w, "id", bb_db_text(rows, i, C_ALERT_ID));
	bb_jw_kview(w, "status", bb_db_text(rows, i, C_ALERT_STATUS));
	bb_jw_kview(w, "fingerprint", bb_db_text(rows, i, C_FINGERPRINT));
	number(w, "occurrences", rows, i, C_OCCURRENCES);
	time_col(w, "snooze_until", rows, i, C_SNOOZE_UNTIL);
	bb_jw_kview(w, "acked_by", bb_db_text(rows, i, C_ACKED_BY));
	bb_jw_end(w, '}');
}

static void item(struct bb_jw *w, struct bb_jdoc *jd, struct bb_rows *rows, int i, int pg)
{
	bb_jw_obj(w);
	bb_jw_kview(w, "asin", bb_db_text(rows, i, C_ASIN));
	bb_jw_kview(w, "marketplace", bb_db_text(rows, i, C_MKT));
	bb_jw_kview(w, "severity", bb_db_text(rows, i, C_SEVERITY));
	number(w, "priority", rows, i, C_PRIORITY);
	bb_jw_kview(w, "rule", bb_db_text(rows, i, C_RULE));
	bb_jw_kview(w, "currency", bb_db_text(rows, i, C_CURRENCY));
	money(w, "our_price", "our_price_text", rows, i, C_OUR);
	money(w, "market_low", "market_low_text", rows, i, C_LOW);
	bb_jw_kview(w, "market_low_seller", bb_db_text(rows, i, C_LOW_SELLER));
	money(w, "buy_box_price", "buy_box_price_text", rows, i, C_BUY_BOX);
	boolean(w, "buy_box_winner", rows, i, C_WINNER);
	number(w, "position", rows, i, C_POSITION);
	number(w, "total_offers", rows, i, C_OFFERS);
	number(w, "gap_pct", rows, i, C_GAP);
	time_col(w, "event_time", rows, i, C_EVENT_TIME);
	time_col(w, "updated_at", rows, i, C_UPDATED);
	analysis(w, jd, rows, i, pg);
	alert(w, rows, i);
	bb_jw_end(w, '}');
}

/* ---- the route ---- */

/* The rows of each severity into d->counts. They change only with
 * current_state, so they are kept with the connection and counted again
 * only once the database's version (read before the page) is another: a
 * commit between that and the count only makes the next page count again.
 * This connection's own commits (alerts only) may go unseen by SQLite's. */
static int severity_counts(struct serve_db *d, struct bb_rows *version)
{
	struct bb_str v = bb_db_text(version, 0, 0);
	struct bb_rows *rows = NULL;
	int rc;

	if (d->has_counts && v.p && v.n == d->counts_version_n && !memcmp(v.p, d->counts_version, v.n))
		return BB_DB_OK;
	d->has_counts = 0;
	rc = bb_db_exec(d->db, counts_sql, 0, NULL, &rows);
	if (rc == BB_DB_OK) {
		memset(d->counts, 0, sizeof d->counts);
		for (int i = 0; i < bb_db_nrows(rows); i++) {
			int64_t p = bb_db_value(rows, i, 0) ? atoll(bb_db_value(rows, i, 0)) : 0;
			if (p >= 1 && p <= BB_SEVERITIES) /* CRITICAL 1 … STABLE 5 */
				d->counts[p - 1] = atoll(bb_db_value(rows, i, 1));
		}
		char *keep = v.p ? realloc(d->counts_version, v.n + 1) : NULL;
		if (keep) {
			memcpy(keep, v.p, v.n);
			d->counts_version = keep;
			d->counts_version_n = v.n;
			d->has_counts = 1;
		}
	}
	bb_db_rows_free(rows);
	return rc;
}

static void counts(struct bb_jw *w, const int64_t *n)
{
	bb_jw_key(w, "counts");
	bb_jw_obj(w);
	for (int s = 0; s < BB_SEVERITIES; s++)
		bb_jw_kint(w, bb_severity_name(s), n[s]);
	bb_jw_end(w, '}');
}

/* ?severity=A,B (any case) into params p[0..5): the names, NULL after. */
static int severities(const char *arg, struct bb_str *p)
{
	int k = 0;
	for (const char *s = arg; arg && *s;) {
		size_t n = strcspn(s, ",");
		char up[16];
		if (n == 0 || n >= sizeof up || k == 5)
			return -1;
		for (size_t i = 0; i < n; i++)
			up[i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i]);
		int sev = bb_severity_of(up, n);
		if (sev < 0)
			return -1;
		const char *name = bb_severity_name(sev);
		p[k++] = (struct bb_str){ name, strlen(name) };
		s += n + (s[n] == ',');
	}
	return 0;
}

/* ---- the keyset's order ---- */

static int bytes_cmp(struct bb_str a, struct bb_str b)
{
	int c = memcmp(a.p ? a.p : "", b.p ? b.p : "", a.n < b.n ? a.n : b.n);
	return c ? c : (a.n > b.n) - (a.n < b.n);
}

/* priority as an integer, then ASIN and marketplace as bytes (SQLite's
 * BINARY, PostgreSQL's "C") */
static int key_cmp(const void *x, const void *y, void *arg)
{
	struct bb_rows *rows = arg;
	int i = *(const int *)x, j = *(const int *)y;
	int64_t a = atoll(bb_db_value(rows, i, C_PRIORITY)), b = atoll(bb_db_value(rows, j, C_PRIORITY));
	int c = (a > b) - (a < b);
	if (!c)
		c = bytes_cmp(bb_db_text(rows, i, C_ASIN), bb_db_text(rows, j, C_ASIN));
	return c ? c : bytes_cmp(bb_db_text(rows, i, C_MKT), bb_db_text(rows, j, C_MKT));
}

/* A page of rows, with the counts on a first page, through the calling
 * thread's connection held (its status into *rc). */
static enum MHD_Result page(struct req *r, struct serve_db *held, const struct bb_str *p, int64_t limit, int first,
			    int *rc)
{
	int pg = bb_db_is_pg(held->db);
	/* the version first, in the same round trip: a first page only carries counts */
	struct bb_query q[2] = { { pg ? version_pg : version_lite, 0, NULL },
				 { pg ? (first ? first_pg : next_pg) : first ? first_lite : next_lite, 10, p } };
	struct bb_rows *res[2] = { NULL, NULL }, *rows;

	*rc = bb_db_pipeline_q(held->db, first ? 2 : 1, q + !first, res + !first);
	if (*rc == BB_DB_OK && first)
		*rc = severity_counts(held, res[0]);
	bb_db_rows_free(res[0]);
	rows = res[1];
	if (*rc != BB_DB_OK) {
		bb_db_rows_free(rows);
		return serve_error(r, 503, "database unavailable");
	}
	struct bb_jw w = { 0 };
	int n = bb_db_nrows(rows), *order = malloc(((size_t)n + 1) * sizeof *order);
	if (!order) {
		bb_db_rows_free(rows);
		return serve_error(r, 500, "out of memory");
	}
	for (int i = 0; i < n; i++)
		order[i] = i;
	qsort_r(order, (size_t)n, sizeof *order, key_cmp, rows);
	bb_jw_obj(&w);
	bb_jw_key(&w, "items");
	bb_jw_arr(&w);
	for (int i = 0; i < n; i++)
		item(&w, held->jd, rows, order[i], pg);
	bb_jw_end(&w, ']');
	/* a state with two alerts of its severity is two rows: a full page may have more */
	char *next = n >= limit ? cursor_encode(rows, order[n - 1]) : NULL;
	free(order);
	bb_jw_kstrz(&w, "next", next);
	if (first)
		counts(&w, held->counts);
	bb_jw_end(&w, '}');
	free(next);
	bb_db_rows_free(rows);
	return serve_json(r, 200, &w);
}

enum MHD_Result route_prioritized(struct req *r)
{
	const char *since = serve_arg(r, "since"), *lim = serve_arg(r, "limit"), *asin = serve_arg(r, "asin");
	struct bb_str p[10] = { { 0 } };
	char prio[24], limit_s[24];
	int64_t limit = 50;
	struct serve_db *held;
	enum MHD_Result ok;
	int rc = BB_DB_OK;

	if (lim && bb_parse_i64(lim, 1, 1000, &limit) != 0)
		return serve_error(r, 400, "limit: expected 1 to 1000");
	serve_db_get(r->s, &held);
	/* the thread's own document, kept from request to request */
	if (!held->jd && !(held->jd = bb_json_new()))
		ok = serve_error(r, 500, "out of memory");
	else if (since && *since && cursor_decode(since, held->jd, prio, sizeof prio, p) != 0)
		ok = serve_error(r, 400, "since: not a cursor this server gave");
	else if (severities(serve_arg(r, "severity"), p + 3) != 0)
		ok = serve_error(r, 400, "severity: expected CRITICAL, HIGH, WARNING, SUCCESS or STABLE");
	else {
		if (asin)
			p[8] = (struct bb_str){ asin, strlen(asin) };
		p[9] = (struct bb_str){ limit_s, (size_t)snprintf(limit_s, sizeof limit_s, "%lld", (long long)limit) };
		ok = page(r, held, p, limit, !(since && *since), &rc);
	}
	serve_db_put(held, rc);
	return ok;
}

/* ---- acknowledge ---- */

/* 200 when the header carries the token, 401 when it carries none, 403
 * when another (or when no token is configured: nothing is let in). */
int serve_check_token(struct serve *s, const char *header)
{
	char want[65], got[65];

	if (!header || strncasecmp(header, "Bearer ", 7) != 0 || !header[7])
		return 401;
	if (!s->token)
		return 403;
	/* equal-length digests: the comparison's time says nothing of the token */
	bb_sha256_hex(s->token, s->token_n, want);
	bb_sha256_hex(header + 7, strlen(header + 7), got);
	return CRYPTO_memcmp(want, got, 64) == 0 ? 200 : 403;
}

struct ack {
	struct bb_str ref, by, note;
	enum bb_alert_op op;
	int64_t for_ms;
};

static struct bb_str member(struct bb_jval obj, const char *key, int *bad)
{
	struct bb_jval v = bb_json_getz(obj, key);
	struct bb_str s = { 0 };
	if (bb_json_type(v) != BB_JNONE && bb_json_type(v) != BB_JNULL && bb_json_string(v, &s.p, &s.n) != 0)
		*bad = 1;
	return s;
}

/* The request's JSON into a: NULL, or what is wrong with it. */
static const char *ack_parse(struct req *r, struct bb_jdoc *jd, struct ack *a)
{
	struct bb_jval root;
	struct bb_jerr err;
	int bad = 0;

	if (!r->body || bb_json_parse(jd, r->body, r->body_n, &root, &err) != 0 || bb_json_type(root) != BB_JOBJECT)
		return "expected a JSON object {id | fingerprint, action, for, by, note}";
	struct bb_str id = member(root, "id", &bad), fp = member(root, "fingerprint", &bad);
	struct bb_str action = member(root, "action", &bad), dur = member(root, "for", &bad);
	a->by = member(root, "by", &bad), a->note = member(root, "note", &bad);
	if (bad)
		return "id, fingerprint, action, for, by and note are strings";
	a->ref = id.p ? id : fp;
	if (!a->ref.p || !a->ref.n)
		return "id or fingerprint: name the alert";
	a->op = action.p && action.n == 3 && !memcmp(action.p, "ack", 3) ? BB_ALERT_ACK
		: action.p && action.n == 6 && !memcmp(action.p, "snooze", 6) ? BB_ALERT_SNOOZE
		: action.p && action.n == 7 && !memcmp(action.p, "resolve", 7) ? BB_ALERT_RESOLVE : BB_ALERT_OPS;
	if (a->op == BB_ALERT_OPS)
		return "action: expected ack, snooze or resolve";
	a->for_ms = r->s->snooze_ms;
	char d[32];
	if (dur.p && (dur.n >= sizeof d || (memcpy(d, dur.p, dur.n), d[dur.n] = '\0', bb_duration_parse(d, &a->for_ms)) != 0 ||
		      a->for_ms <= 0))
		return "for: expected a duration such as 30m";
	if (!a->by.p)
		a->by = BB_LIT("bb-serve");
	return NULL;
}

/* Apply it, trying again while another writer moves the alert meanwhile. */
static int ack_apply(struct bb_db *db, const struct ack *a, const char *id, enum bb_alert_status *from,
		     int64_t *event_id)
{
	int64_t now = serve_now();
	struct bb_alert_change c = { .op = a->op, .id = { id, strlen(id) }, .now = now, .snooze_until = now + a->for_ms,
				     .by = a->by, .note = a->note };
	int rc = BB_ALERT_RACED;

	for (int try = 0; rc == BB_ALERT_RACED && try < 5; try++) {
		rc = bb_db_begin(db);
		if (rc == BB_DB_OK)
			rc = bb_alert_apply(db, &c, from, event_id);
		if (rc == BB_ALERT_DONE)
			rc = bb_db_commit(db);
		if (rc != BB_ALERT_DONE)
			bb_db_rollback(db);
	}
	return rc;
}

static enum MHD_Result ack_reply(struct req *r, const struct ack *a, const char *id, enum bb_alert_status from,
				 int64_t event_id)
{
	struct bb_jw w = { 0 };
	bb_jw_obj(&w);
	bb_jw_kstrz(&w, "id", id);
	bb_jw_kstrz(&w, "action", bb_alert_op_name(a->op));
	bb_jw_kstrz(&w, "from", bb_alert_status_name(from));
	bb_jw_kstrz(&w, "to", bb_alert_status_name(bb_alert_transition(a->op, from)));
	bb_jw_kint(&w, "event_id", event_id);
	bb_jw_end(&w, '}');
	return serve_json(r, 200, &w);
}

static enum MHD_Result ack_run(struct req *r, const struct ack *a)
{
	struct serve_db *held;
	struct bb_db *db = serve_db_get(r->s, &held);
	enum bb_alert_status from = BB_ALERT_ABSENT;
	int64_t event_id = 0;
	char *id = NULL;
	int rc = bb_alert_find(db, a->ref, &id);

	if (rc == BB_ALERT_DONE)
		rc = ack_apply(db, a, id, &from, &event_id);
	serve_db_put(held, rc);
	enum MHD_Result ok =
		rc == BB_ALERT_DONE ? ack_reply(r, a, id, from, event_id)
		: rc == BB_ALERT_NOT_FOUND ? serve_error(r, 404, "no such alert")
		: rc == BB_ALERT_AMBIGUOUS ? serve_error(r, 400, "ambiguous id: more than one alert starts so")
		: rc == BB_ALERT_INVALID ? serve_error(r, 409, from == BB_ALERT_RESOLVED ? "invalid transition: the alert is resolved"
									 : "invalid transition")
		: rc == BB_ALERT_RACED ? serve_error(r, 409, "the alert keeps changing: try again")
		: serve_error(r, 503, "database unavailable");
	free(id);
	return ok;
}

enum MHD_Result route_acknowledge(struct req *r)
{
	const char *auth = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Authorization");
	int a = serve_check_token(r->s, auth);
	struct ack ack = { 0 };

	if (a == 401)
		return serve_error(r, 401, "no token: send Authorization: Bearer TOKEN");
	if (a == 403)
		return serve_error(r, 403, r->s->token ? "wrong token" : "acknowledge is disabled: no [serve] token_file");
	if (r->too_large)
		return serve_error(r, 413, "request body too large: at most 65536 bytes");
	struct bb_jdoc *jd = bb_json_new();
	if (!jd)
		return serve_error(r, 500, "out of memory");
	const char *bad = ack_parse(r, jd, &ack);
	enum MHD_Result ok = bad ? serve_error(r, 400, bad) : ack_run(r, &ack);
	bb_json_free(jd);
	return ok;
}
