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
		--proxy-port $((18449 + ${BB_TEST_PORT_OFFSET:-0})) --serve-port $((18451 + ${BB_TEST_PORT_OFFSET:-0})) \
		--keep "$@" >"$T/chaos.out" 2>&1 || chaos_status=$?
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
	expect "offers in history" "$(in_db 'SELECT sum(cardinality(offer_seller_ids)) FROM competitive_history')" \
		"$(grep -v planted-reject "$T/in.ndjson" | sort -u | jq -s 'map(.Payload.AnyOfferChangedNotification.Offers | length) | add')"
	expect "duplicates recognised" "$R_duplicate_records" 20
	expect "queue: visible, in flight" "$(sqs_counts "$(sed -n 's/^.*"queue_url":"\([^"]*\)".*$/\1/p' "$R_run_dir/sent.ndjson" | head -n 1)")" "0 0"
	# pipelines stored side by side: at least two took part (a third that
	# starts late, behind the others' migration lock on a slow machine, may
	# find the queue already drained)
	took_part=0
	for i in 1 2 3; do
		n=$(grep -h ' msg=summary ' "$R_run_dir/logs/pipeline-$i.bb-store.log" | grep -o 'processed=[0-9]*' | cut -d= -f2 | awk '{ s += $1 } END { print s + 0 }')
		[ "$n" -eq 0 ] || took_part=$((took_part + 1))
	done
	[ "$took_part" -ge 2 ] || fail "only $took_part pipeline stored anything: not a test of pipelines side by side"
	state_rows >"$T/state.three"
	alert_rows >"$T/alerts.three"
	expect "ASINs in current_state" "$(wc -l <"$T/state.three")" 120
	# the stream, followed from id 0 throughout: every event once, in order
	expect "events seen by the SSE client" "$(cut -f 1 "$R_run_dir/sse.tsv" | paste -sd ' ')" \
		"$(in_db 'SELECT id FROM events ORDER BY id' | paste -sd ' ')"
	[ "$R_sse_events" -ge 120 ] || fail "only $R_sse_events events streamed"
	grep -q '^chaos: sse_gap_ms p50=[0-9]* p99=[0-9]* max=[0-9]* ' "$T/chaos.out" || fail "no SSE gap line: $(cat "$T/chaos.out")"
	# the heartbeats, looked at every 5 s and at the end, all fresh
	[ "$R_heartbeat_looks" -ge 1 ] && [ "$R_heartbeat_over_60s" -eq 0 ] || fail "heartbeats: $(cat "$T/chaos.out")"
	grep -q '^PASS every heartbeat at most 60 s old at every look$' "$T/chaos.out" || fail "no heartbeat check: $(cat "$T/chaos.out")"
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
	[ "$R_kills_bb_serve" -ge 1 ] || fail "bb-serve was never killed: $(cat "$T/chaos.out")"
	expect "PostgreSQL restarts" "$R_postgres_restarts" 2
	expect "emulator freezes" "$R_emulator_freezes" 1
	expect "proxy resets" "$R_proxy_resets" 1
	[ "$R_connections_reset" -ge 1 ] || fail "the proxy reset no connection"
	[ "$R_restarts" -ge 3 ] || fail "only $R_restarts restarts: the faults did not bite"
	grep -q '^chaos: ingest_to_state_ms p50=[0-9]* p99=[0-9]* max=[0-9]* (of [0-9]* notifications)$' "$T/chaos.out" ||
		fail "no latency line: $(cat "$T/chaos.out")"
	grep -q '^chaos: oldest_message_age_max_ms=[0-9]* first_receive_wait_max_ms=[0-9]*$' "$T/chaos.out" ||
		fail "no oldest-message line: $(cat "$T/chaos.out")"
	grep -q '^chaos: sse events=[0-9]* of [0-9]* reconnects=[0-9]* refused_attempts=[0-9]*$' "$T/chaos.out" ||
		fail "no SSE line: $(cat "$T/chaos.out")"
	[ "$R_sse_reconnects" -ge 1 ] || fail "the SSE client never had to reconnect: $(cat "$T/chaos.out")"

	# and, seen independently: 990 notifications once each; the 10 planted
	# rejects recorded; the alerts of the 120 alerting ASINs delivered once
	expect "rows, distinct notification ids" \
		"$(in_db 'SELECT count(*), count(DISTINCT notification_id) FROM worker_notifications')" "990|990"
	# (a row per message: a send retried across the freeze may make two of one)
	expect "worker_failures" "$(in_db "SELECT count(DISTINCT raw_message) FROM worker_failures WHERE raw_message LIKE '%planted-reject-%'")|$(in_db 'SELECT count(DISTINCT raw_message) FROM worker_failures')" "10|10"
	expect "alerts delivered" "$(in_db "SELECT status, count(*) FROM alert_queues WHERE queue_type <> 'background' GROUP BY 1")" "delivered|120"
	expect "deliveries recorded ok" "$(in_db "SELECT count(*), count(DISTINCT alert_id) FROM alert_deliveries WHERE outcome = 'ok'")" "120|120"
	expect "ASINs in current_state" "$(in_db 'SELECT count(*) FROM current_state')" 198
	# the SSE client, through every kill of bb-serve and every restart of
	# PostgreSQL, saw each event once, in order
	expect "events seen by the SSE client" "$(cut -f 1 "$R_run_dir/sse.tsv" | cksum)" \
		"$(in_db 'SELECT id FROM events ORDER BY id' | cksum)"
	[ "$(wc -l <"$R_run_dir/sse.tsv")" -ge 198 ] || fail "only $(wc -l <"$R_run_dir/sse.tsv") events streamed"
}

# ---------------------------------------------------------------------------
# Secrets

# Credentials shaped as AWS issues them (the emulator checks none)
KEY_ID=AKIAZ7BBCHAOSQ4XN2M5
SECRET=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
TOKEN=IQoJb3JpZ2luX2VjEBbbChaosdGVzdHRva2VuLXNob3VsZC1uZXZlci1iZS1sb2dnZWQtYW55d2hlcmUtaW4tYmIvL2FuZC1ub3QtaW4tYW55LXJvdy1laXRoZXI=

# sqlite_pipeline DBFILE N: N notifications and one malformed message through
# scripts/bb-pipeline into SQLite, on fresh queues, with the credentials
# above; bb-ack's output (the records, which bb-pipeline discards) to
# $T/sqlite/records.ndjson, every stage's log to $T/sqlite/*.log
sqlite_pipeline() {
	local stage real
	mkdir -p "$T/sqlite/bin"
	for stage in bb-sqs-recv bb-validate bb-severity bb-dedupe bb-store bb-ack; do
		real=$(command -v "$stage")
		if [ "$stage" = bb-ack ]; then
			printf '#!/bin/bash\nexec %q "$@" 2>>%q >>%q\n' "$real" "$T/sqlite/$stage.log" "$T/sqlite/records.ndjson"
		else
			printf '#!/bin/bash\nexec %q "$@" 2>>%q\n' "$real" "$T/sqlite/$stage.log"
		fi >"$T/sqlite/bin/$stage"
		chmod +x "$T/sqlite/bin/$stage"
	done
	fresh_queues secrets
	{ notifications "$2" s; echo '{"NotificationType": "ANY_OFFER_CHANGED", "Payload": {"cut'; } |
		AWS_ACCESS_KEY_ID=$KEY_ID AWS_SECRET_ACCESS_KEY=$SECRET AWS_SESSION_TOKEN=$TOKEN sdk_send "$Q" --batch >/dev/null
	AWS_ACCESS_KEY_ID=$KEY_ID AWS_SECRET_ACCESS_KEY=$SECRET AWS_SESSION_TOKEN=$TOKEN \
		BB_SQS_QUEUE_URL=$Q BB_SQS_DLQ_URL=$DLQ BB_DB=sqlite:$1 PATH="$T/sqlite/bin:$PATH" \
		timeout 60 "$BATS_TEST_DIRNAME/../scripts/bb-pipeline" --drain --wait-seconds 1 2>"$T/sqlite/bb-pipeline.log" ||
		fail "bb-pipeline into SQLite failed: $(cat "$T/sqlite"/*.log)"
}

@test "with real-looking credentials and a session token, no secret and no full receipt handle is in any log line, output, message or row of either database" {
	AWS_ACCESS_KEY_ID=$KEY_ID AWS_SECRET_ACCESS_KEY=$SECRET AWS_SESSION_TOKEN=$TOKEN \
		chaos -n 200 --rate 0 --pipelines 3 --faults none --db-name secrets
	chaos_ok
	sqlite_pipeline "$T/bb.db" 50
	expect "stored in SQLite" "$(sqlite3 "$T/bb.db" 'SELECT count(*) FROM worker_notifications')" 50

	# what to look for: the secrets, and every receipt handle of both runs
	# (the records between the stages carry them whole: bb-ack needs them)
	printf '%s\n' "$SECRET" "$TOKEN" >"$T/needles"
	cat "$R_run_dir"/records/*.ndjson "$T/sqlite/records.ndjson" | jq -r '.sqs.receipt_handle // empty' |
		sort -u >"$T/receipts"
	[ "$(wc -l <"$T/receipts")" -ge 250 ] || fail "only $(wc -l <"$T/receipts") receipt handles collected"
	cat "$T/receipts" >>"$T/needles"
	# where to look: every log, every output but the records between the
	# stages, the dead-letter messages, the alerts sent, and a dump of each
	# database
	pg_dump -X --data-only -d "$R_db" >"$T/pg.dump" 2>/dev/null || pg_dump --data-only -d "$R_db" >"$T/pg.dump"
	sqlite3 "$T/bb.db" .dump >"$T/sqlite.dump"
	node "$SQS_TOOLS/receive.mjs" "$DLQ" --max 100 >"$T/sqlite-dlq.ndjson" 2>/dev/null
	haystack=("$R_run_dir"/logs/*.log "$R_run_dir"/sent.ndjson "$R_run_dir"/delivered.ndjson "$R_run_dir"/dlq.ndjson
		"$T"/sqlite/*.log "$T/sqlite-dlq.ndjson" "$T/pg.dump" "$T/sqlite.dump" "$PG_DIR/server.log")
	for f in "$T/pg.dump" "$T/sqlite.dump" "$T/sqlite-dlq.ndjson" "$R_run_dir"/dlq.ndjson "$R_run_dir"/logs/pipeline-1.bb-sqs-recv.log; do
		[ -s "$f" ] || fail "$f is empty: nothing was looked at"
	done
	# both dumps hold the notifications
	grep -q 's-1' "$T/sqlite.dump" && grep -q 'B000000001-' "$T/pg.dump" || fail "the dumps hold no notification"
	run grep -F -n -f "$T/needles" "${haystack[@]}"
	[ "$status" -eq 1 ] || fail "a secret or a receipt handle was found: $(cut -c 1-300 <<<"$output")"
}

# ---------------------------------------------------------------------------
# Hostile input

# hostile: notifications whose text fields carry SQL, shell, HTML and script,
# NUL escapes, invalid UTF-8 and strings of a megabyte, one a line, with
# NotificationIds h-WHAT; the shell ones would create $T/pwned* if run
hostile() {
	local sql="x'); DROP TABLE worker_notifications; DROP TABLE current_state; --"
	local sh="\$(touch $T/pwned1) \`touch $T/pwned2\`; touch $T/pwned3 #|| touch $T/pwned4"
	local html='<script>alert("bb")</script><img src=x onerror=alert(1)>&amp;</td>'
	local base
	base=$(notify "OURS:12.00 A:10.00 B:11.00")
	head -c 1048576 /dev/zero | tr '\0' x >"$T/mib"
	head -c 1000000 /dev/zero | tr '\0' y >"$T/big"
	seller() { jq -c --arg s "$2" ".Payload.AnyOfferChangedNotification.Offers[1].SellerId = \$s | $(with_id "h-$1")" <<<"$base"; }
	seller sql "$sql"
	seller shell "$sh"
	seller html "$html"
	jq -c --arg s "$html$sql$sh" ".Payload.AnyOfferChangedNotification.Offers[2].SubCondition = \$s | $(with_id h-subcondition)" <<<"$base"
	jq -c --arg s "$sql" ".Payload.AnyOfferChangedNotification.OfferChangeTrigger.ASIN = \$s | $(with_id h-asin)" <<<"$base"
	jq -c ".Payload.AnyOfferChangedNotification.Offers[1].SellerId = \"A\\u0000B\" | $(with_id h-nul)" <<<"$base"
	seller utf8 INVALID | sed 's/INVALID/A\xff\xfe\xc3B/'
	jq -c --rawfile s "$T/mib" ".Payload.AnyOfferChangedNotification.Offers[1].SellerId = \$s | $(with_id h-mib)" <<<"$base"
	jq -c --rawfile s "$T/big" ".Payload.AnyOfferChangedNotification.Offers[2].SubCondition = \$s | $(with_id h-big)" <<<"$base"
}

@test "SQL, shell, HTML, NUL escapes, invalid UTF-8 and megabyte strings: each stored verbatim or rejected with a reason, nothing run, no stage crashing, on both databases" {
	hostile >"$T/in.ndjson"
	expect "lines" "$(wc -l <"$T/in.ndjson")" 9
	for db in sqlite pg; do
		on $db
		url=$(migrated_db $db)
		bb-validate <"$T/in.ndjson" 2>"$T/$db.err" | bb-severity 2>>"$T/$db.err" |
			bb-dedupe --db "$url" 2>>"$T/$db.err" | bb-store --db "$url" 2>>"$T/$db.err" >"$T/$db.out"
		expect "exit statuses of bb-validate, bb-severity, bb-dedupe, bb-store" "${PIPESTATUS[*]}" "0 0 0 0"
		! grep -q 'Sanitizer\|runtime error:' "$T/$db.err" || fail "$(cat "$T/$db.err")"
		# one record out per line in, each ok and stored, or rejected with a reason
		expect "records" "$(wc -l <"$T/$db.out")" 9
		# (the megabyte SubCondition is valid, but its record, with the
		# notification normalised beside the body, would be twice the 1 MiB a
		# line may have: bb-validate refuses it as too_large)
		expect "statuses" "$(jq -r '[.message_id // "(none)", .status, (.error.type // "-")] | join(" ")' "$T/$db.out" | sort)" \
			"$({ printf '%s\n' "(none) rejected too_large" "h-asin rejected invalid_asin" "h-big rejected too_large" \
				"h-html ok -" "h-nul rejected schema" "h-shell ok -" "h-sql ok -" "h-subcondition ok -"
				jq -r 'select(.error.type == "malformed_json") | "\(.message_id) rejected malformed_json"' "$T/$db.out"; } | sort)"
		[ -z "$(jq -r 'select(.status == "rejected" and ((.error.message // "") | length) == 0)' "$T/$db.out")" ] ||
			fail "a record rejected without a reason"
		expect "rows: stored, failed" "$(count "$url" worker_notifications) $(count "$url" worker_failures)" "4 5"
		# stored byte for byte, the hostile strings as they came
		for id in h-sql h-shell h-html h-subcondition; do
			expect "$id's body" "$(q "$url" "SELECT body FROM worker_notifications WHERE message_id = '$id'")" \
				"$(grep "\"NotificationId\":\"$id\"" "$T/in.ndjson")"
		done
		if [ $db = sqlite ]; then
			sellers="SELECT s.value FROM competitive_history, json_each(offer_seller_ids) AS s WHERE s.value NOT IN ('OURS', 'A', 'B')"
		else
			sellers="SELECT s FROM competitive_history, unnest(offer_seller_ids) AS s WHERE s NOT IN ('OURS', 'A', 'B')"
		fi
		expect "the sellers stored" "$(q "$url" "$sellers" | LC_ALL=C sort)" \
			"$(printf '%s\n' "$(seller_of h-html)" "$(seller_of h-shell)" "$(seller_of h-sql)" | LC_ALL=C sort)"
		# and nothing was run: no file made, every table still there
		! ls "$T"/pwned* 2>/dev/null || fail "a shell command in the input was run"
		expect "tables" "$(count "$url" current_state) $(count "$url" competitive_history)" "1 4"
		# the alert tools put the text out as data: the delivery document on
		# a command's standard input, never in its command line
		bb-alert deliver --db "$url" --now 2026-01-01T00:00:00Z --exec "cat >'$T/$db.doc'" 2>>"$T/$db.err" ||
			fail "bb-alert deliver failed: $(cat "$T/$db.err")"
		bb-alert list --db "$url" >/dev/null 2>>"$T/$db.err" || fail "bb-alert list failed: $(cat "$T/$db.err")"
		! ls "$T"/pwned* 2>/dev/null || fail "a shell command in the input was run"
	done
}

# seller_of ID: the seller of the second offer of input line ID
seller_of() {
	grep "\"NotificationId\":\"$1\"" "$T/in.ndjson" | jq -r '.Payload.AnyOfferChangedNotification.Offers[1].SellerId'
}
