#!/usr/bin/env bats
# Many pipelines on one queue and one PostgreSQL (DESIGN.md, principle 6), and
# every fault at once (principles 1 and 2), through scripts/chaos, which runs
# the pipelines and bb-alert deliver as systemd would and checks the outcome
# itself (PASS/FAIL lines, exit 1 on a FAIL); each test checks the database
# and the queues again on its own, through psql and the AWS SDK.

load helper
load store-helper
load sqs-helper

BATS_NO_PARALLELIZE_WITHIN_FILE=true
CHAOS="$BATS_TEST_DIRNAME/../scripts/chaos"
GEN="$BATS_TEST_DIRNAME/../scripts/gen-events"

setup_file() {
	pg_start 55449
	sqs_start 4591
}

teardown_file() {
	sqs_stop
	pg_stop
}

setup() {
	sqs_require
	[ -n "${PG_DIR:-}" ] || fail "PostgreSQL did not start"
	T=$BATS_TEST_TMPDIR
}

# chaos ARGS...: scripts/chaos on this suite's PostgreSQL and emulator, its
# output in $T/chaos.out (shown on failure) and its status in chaos_status;
# the figures of DIR/results as shell variables R_<key>.
chaos() {
	chaos_status=0
	"$CHAOS" --dir "$T/chaos" --pg-dir "$PG_DIR" --pg-port "$PG_PORT" --sqs-dir "$SQS_DIR" \
		--proxy-port $((18449 + ${BB_TEST_PORT_OFFSET:-0})) --keep "$@" >"$T/chaos.out" 2>&1 || chaos_status=$?
	while IFS='=' read -r k v; do
		printf -v "R_$k" '%s' "$v"
	done <"$T/chaos/results"
}

# chaos_ok: scripts/chaos exited 0 and printed no FAIL
chaos_ok() {
	[ "$chaos_status" -eq 0 ] && ! grep -q '^FAIL' "$T/chaos.out" ||
		fail "scripts/chaos exited $chaos_status: $(cat "$T/chaos.out")"
}

# in_db SQL: one value from the last run's database
in_db() {
	psql -X -qAt -F '|' -v ON_ERROR_STOP=1 -d "$R_db" -c "$1"
}

# the rows of current_state and alert_queues that do not depend on when or
# in which order the events were stored (ids, times of processing, the first
# and last notification of an alert do); a fingerprint is ASIN|MARKETPLACE|severity
state_rows() {
	in_db "SELECT asin, marketplace, event_time, severity, priority, rule, currency, our_price, market_low,
	        market_low_seller, buy_box_price, buy_box_winner, position, total_offers, gap_pct, analysis
	       FROM current_state ORDER BY asin, marketplace"
}
alert_rows() {
	in_db "SELECT fingerprint, queue_type, asin, marketplace, severity, status, occurrences, last_seen
	       FROM alert_queues ORDER BY fingerprint, queue_type"
}

@test "three pipelines on one queue and one database store what one pipeline stores, each notification once" {
	# 120 ASINs, 5 events each, shuffled; 20 of them sent twice, and 4 rejects
	"$GEN" 120 5 7 4 20 >"$T/in.ndjson"
	expect "messages" "$(wc -l <"$T/in.ndjson")" 624

	chaos --input "$T/in.ndjson" --rate 0 --pipelines 3 --faults none --db-name scale_three
	chaos_ok
	expect "stored by three pipelines" "$(in_db 'SELECT count(*), count(DISTINCT dedupe_hash) FROM worker_notifications')" "600|600"
	expect "history rows" "$(in_db 'SELECT count(*) FROM competitive_history')" 600
	expect "offer rows" "$(in_db 'SELECT count(*) FROM offer_snapshots')" \
		"$(grep -v planted-reject "$T/in.ndjson" | sort -u | jq -s 'map(.Payload.AnyOfferChangedNotification.Offers | length) | add')"
	expect "duplicates recognised" "$R_duplicate_records" 20
	expect "queue: visible, in flight" "$(sqs_counts "$(sed -n 's/^.*"queue_url":"\([^"]*\)".*$/\1/p' "$R_run_dir/sent.ndjson" | head -n 1)")" "0 0"
	# every pipeline took part
	for i in 1 2 3; do
		n=$(grep -h ' msg=summary ' "$R_run_dir/logs/pipeline-$i.bb-store.log" | grep -o 'processed=[0-9]*' | cut -d= -f2 | awk '{ s += $1 } END { print s + 0 }')
		[ "$n" -gt 0 ] || fail "pipeline $i stored nothing: not a test of three pipelines"
	done
	state_rows >"$T/state.three"
	alert_rows >"$T/alerts.three"
	expect "ASINs in current_state" "$(wc -l <"$T/state.three")" 120
	expect "alerts: the 72 alerting ASINs, 5 occurrences each, delivered" \
		"$(cut -d'|' -f4,8,9 "$T/alerts.three" | sort | uniq -c | awk '{ print $1, $2 }' | paste -sd' ')" \
		"48 high_priority|delivered|5 24 standard|delivered|5"

	chaos --input "$T/in.ndjson" --rate 0 --pipelines 1 --faults none --db-name scale_one
	chaos_ok
	expect "stored by one pipeline" "$(in_db 'SELECT count(*) FROM worker_notifications')" 600
	state_rows >"$T/state.one"
	alert_rows >"$T/alerts.one"
	diff "$T/state.one" "$T/state.three" || fail "current_state differs between one pipeline and three"
	diff "$T/alerts.one" "$T/alerts.three" || fail "alert_queues differ between one pipeline and three"
}

@test "1,000 notifications through three pipelines under kills, PostgreSQL restarts, an SQS freeze and connection resets: nothing lost, nothing twice" {
	chaos -n 1000 --rate 100 --pipelines 3 --faults all --seed 2 --db-name chaos_short
	chaos_ok
	# the faults happened
	[ "$R_kills" -ge 3 ] || fail "only $R_kills kills: $(cat "$T/chaos.out")"
	[ "$R_kills_bb_alert" -ge 1 ] || fail "bb-alert deliver was never killed: $(cat "$T/chaos.out")"
	expect "PostgreSQL restarts" "$R_postgres_restarts" 2
	expect "emulator freezes" "$R_emulator_freezes" 1
	expect "proxy resets" "$R_proxy_resets" 1
	[ "$R_connections_reset" -ge 1 ] || fail "the proxy reset no connection"
	[ "$R_restarts" -ge 3 ] || fail "only $R_restarts restarts: the faults did not bite"
	grep -q '^chaos: ingest_to_state_ms p50=[0-9]* p99=[0-9]* max=[0-9]* (of [0-9]* notifications)$' "$T/chaos.out" ||
		fail "no latency line: $(cat "$T/chaos.out")"
	grep -q '^chaos: oldest_message_age_max_ms=[0-9]* first_receive_wait_max_ms=[0-9]*$' "$T/chaos.out" ||
		fail "no oldest-message line: $(cat "$T/chaos.out")"

	# and, seen independently: 990 notifications once each; the 10 planted
	# rejects recorded; the alerts of the 120 alerting ASINs delivered once
	expect "rows, distinct notification ids" \
		"$(in_db 'SELECT count(*), count(DISTINCT notification_id) FROM worker_notifications')" "990|990"
	expect "worker_failures" "$(in_db "SELECT count(*) FROM worker_failures WHERE raw_message LIKE '%planted-reject-%'")|$(in_db 'SELECT count(*) FROM worker_failures')" "10|10"
	expect "alerts delivered" "$(in_db "SELECT status, count(*) FROM alert_queues WHERE queue_type <> 'background' GROUP BY 1")" "delivered|120"
	expect "deliveries recorded ok" "$(in_db "SELECT count(*), count(DISTINCT alert_id) FROM alert_deliveries WHERE outcome = 'ok'")" "120|120"
	expect "ASINs in current_state" "$(in_db 'SELECT count(*) FROM current_state')" 198
}
