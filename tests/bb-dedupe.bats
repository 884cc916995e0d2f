#!/usr/bin/env bats
# bb-dedupe: redeliveries become duplicates, and each alert is decided by the
# rules of SEVERITY.md "Alerts (bb-dedupe)" in event time; bb-store's write
# is the final word. State persists through bb-store, so most tests run
# `bb-dedupe | bb-store`, against SQLite and PostgreSQL alike.

load helper
load store-helper

BATS_NO_PARALLELIZE_WITHIN_FILE=true
ASIN=B000TEST01
MKT=ATVPDKIKX0DER

setup_file() {
	pg_start 55434
}

teardown_file() {
	pg_stop
}

setup() {
	IN="$BATS_TEST_TMPDIR/in"
	OUT="$BATS_TEST_TMPDIR/out"
}

teardown() {
	store_teardown
}

# alert_of < RECORDS: "action queue_type scheduled_delivery snooze_until" of
# each record's alert, one line each.
alert_of() {
	jq -r '.alert | [.action, .queue_type, .scheduled_delivery, .snooze_until] | map(. // "null") | join(" ")'
}

# actions < RECORDS: the alert actions, space-separated.
actions() {
	jq -r '.alert.action // "-"' | paste -sd' ' -
}

# alert_rows DBURL: alert_queues as fingerprint|queue_type|status|occurrences|
# first_seen|last_seen|scheduled_delivery|snooze_until, by fingerprint.
alert_rows() {
	q "$1" "SELECT fingerprint, queue_type, status, occurrences, $(ts "$1" first_seen), $(ts "$1" last_seen),
	        $(ts "$1" scheduled_delivery), $(ts "$1" snooze_until) FROM alert_queues ORDER BY fingerprint, queue_type"
}

# run_each DBURL < RECORDS: bb-dedupe | bb-store once per record (state
# persists only through the database); the stored records on stdout.
run_each() {
	local line
	while IFS= read -r line; do
		dedupe_store "$1" <<<"$line" || return 1
	done
}

# run_each_proposed DBURL < RECORDS: as run_each, keeping bb-dedupe's output
# (the proposals) in $OUT.proposed.
run_each_proposed() {
	local line
	: >"$OUT.proposed"
	while IFS= read -r line; do
		dedupe "$1" <<<"$line" | tee -a "$OUT.proposed" | store "$1" || return 1
	done
}

# ---------------------------------------------------------------------------
# Duplicates

@test "a record whose message id or body hash is already stored comes out duplicate" {
	body=$(notify "$OFFERS_STABLE" "$(with_id n-1)")
	same_id=$(notify "$OFFERS_STABLE" "$(with_id n-1) | $(event_at 2025-06-01T12:30:00.000Z)")
	fresh=$(notify "$OFFERS_STABLE" "$(with_id n-2)")
	for db in sqlite pg; do
		on $db
		url=$(migrated_db $db)
		analysed <<<"$body" | store "$url" >/dev/null
		# n-1 again; another body under message id n-1; n-1's body under a new message id; a new one
		{ echo "$body"; echo "$same_id"; envelope "$body" m-9; echo "$fresh"; } | analysed | dedupe "$url" >"$OUT"
		expect "statuses" "$(statuses <"$OUT")" "duplicate duplicate duplicate ok"
		expect "message ids" "$(jq -r .message_id "$OUT" | paste -sd' ')" "n-1 n-1 m-9 n-2"
		expect "alerts" "$(actions <"$OUT")" "- - - none"
		expect "bb-dedupe writes nothing" "$(count "$url" worker_notifications)" 1
	done
}

@test "the same notification twice in one stream: the second is duplicate before anything is stored" {
	body=$(notify "$OFFERS_WARNING" "$(with_id n-1)")
	other=$(notify "$OFFERS_WARNING" "$(with_id n-1) | $(event_at 2025-06-01T12:30:00.000Z)")
	for db in sqlite pg; do
		on $db
		url=$(migrated_db $db)
		{ echo "$body"; echo "$body"; envelope "$body" m-9; echo "$other"; } | analysed | dedupe "$url" >"$OUT"
		expect "statuses" "$(statuses <"$OUT")" "ok duplicate duplicate duplicate"
		expect "alerts" "$(actions <"$OUT")" "new - - -"
		expect "nothing stored" "$(counts "$url")" \
			"worker_notifications=0 competitive_history=0 offers=0 events=0 alert_queues=0 worker_failures=0"
	done
}

# nul_id BEFORE AFTER < RECORDS: the records with message_id BEFORE, a NUL
# byte, then AFTER ("\u0000" in the JSON).
nul_id() {
	jq -c --arg a "$1" --arg b "$2" '.message_id = $a + "\u0000" + $b'
}

@test "two message ids that differ only after a NUL byte are two records, not a duplicate" {
	a=$(notify "$OFFERS_WARNING" "$(with_id n-a)")
	b=$(notify "$OFFERS_WARNING" "$(with_id n-b) | $(event_at 2025-06-01T12:10:00.000Z)")
	c=$(notify "$OFFERS_WARNING" "$(with_id n-c) | $(with_asin B000OTHER1)")
	{ analysed <<<"$a" | nul_id m a; analysed <<<"$b" | nul_id m b; } >"$IN"
	expect "message ids of the input" "$(jq -c .message_id "$IN" | paste -sd' ')" '"m\u0000a" "m\u0000b"'
	for db in sqlite pg; do
		on $db
		url=$(migrated_db $db)
		envelope "$c" m | analysed | store "$url" >/dev/null
		dedupe "$url" <"$IN" >"$OUT"
		expect "statuses, with m stored" "$(statuses <"$OUT")" "ok ok"
		expect "message ids, whole" "$(jq -c .message_id "$OUT" | paste -sd' ')" '"m\u0000a" "m\u0000b"'
		expect "alerts" "$(actions <"$OUT")" "new update"
	done
}

@test "SQLite: a stored message id with a NUL byte is a duplicate of itself only" {
	db=sqlite
	url=$(migrated_db sqlite)
	c=$(notify "$OFFERS_WARNING" "$(with_id n-c)")
	envelope "$c" m | analysed | store "$url" >/dev/null
	q "$url" "UPDATE worker_notifications SET message_id = 'm' || char(0) || 'a'"
	expect "stored" "$(q "$url" "SELECT hex(message_id) FROM worker_notifications")" 6D0061
	{
		notify "$OFFERS_WARNING" "$(with_id n-a)" | analysed | nul_id m a
		notify "$OFFERS_WARNING" "$(with_id n-b)" | analysed | nul_id m b
		envelope "$(notify "$OFFERS_WARNING" "$(with_id n-m)")" m | analysed
	} | dedupe "$url" >"$OUT"
	expect "statuses" "$(statuses <"$OUT")" "duplicate ok ok"
}

@test "an ok record without its notification or analysis is rejected, naming the stage that must run first" {
	body=$(notify "$OFFERS_WARNING")
	whole=$(analysed <<<"$body")
	{
		bb-validate <<<"$body" 2>/dev/null
		jq -c 'del(.notification)' <<<"$whole"
		jq -c 'del(.message_id)' <<<"$whole"
		jq -c 'del(.dedupe_hash)' <<<"$whole"
		jq -c '.analysis = "CRITICAL"' <<<"$whole"
		jq -c '.analysis.severity = "critical"' <<<"$whole"
		jq -c '.notification.event_time = null' <<<"$whole"
		jq -c '.notification.asin = 5' <<<"$whole"
	} >"$IN"
	for db in sqlite pg; do
		on $db
		url=$(migrated_db $db)
		dedupe "$url" <"$IN" >"$OUT"
		expect "errors" "$(jq -c '[.status, .error.path, .error.message, .error.type, .error.stage]' "$OUT")" \
			'["rejected","analysis","no analysis member: run bb-severity before bb-dedupe","schema","dedupe"]
["rejected","notification","no notification member: run bb-validate before bb-dedupe","schema","dedupe"]
["rejected","message_id","no message_id member: run bb-validate before bb-dedupe","schema","dedupe"]
["rejected","dedupe_hash","no dedupe_hash member: run bb-validate before bb-dedupe","schema","dedupe"]
["rejected","analysis","analysis: expected an object, got a string","schema","dedupe"]
["rejected","analysis.severity","analysis.severity: expected CRITICAL, HIGH, WARNING, SUCCESS or STABLE","schema","dedupe"]
["rejected","notification.event_time","notification.event_time: expected an RFC 3339 time","schema","dedupe"]
["rejected","notification.asin","notification.asin: expected a string","schema","dedupe"]'
		expect "the rest of each record kept" "$(jq -c 'del(.status, .error)' "$OUT")" "$(jq -c 'del(.status)' "$IN")"
		store "$url" <"$OUT" >/dev/null
		expect "bb-store records them as failures of stage dedupe" \
			"$(q "$url" "SELECT sum(failure_count), min(error_type), max(error_type), min(stage), max(stage)
			             FROM worker_failures")" "8|schema|schema|dedupe|dedupe"
	done
}

@test "records whose status is not ok pass through bb-dedupe byte for byte" {
	{
		printf '%s\n' 'not json' | analysed
		notify "A:10.00" '.NotificationType = "FEED_PROCESSING_FINISHED"' | analysed
		printf '%s\n' '{ "status" : "failed" ,"message_id":"m-1",  "n": 1.50, "s":"\u00e9\/\"x", "error":{"type":"timeout"}}'
		printf '%s\n' '{"message_id":"n-1","dedupe_hash":"abc","status":"duplicate","notification":{"asin":"B000TEST01"},"x":[1,2.0,3e2]}'
		printf '%s\n' '{"z":1,"status":"rejected","a":{"b":[{}]},"é":"ü"}'
	} >"$IN"
	for db in sqlite pg; do
		on $db
		url=$(migrated_db $db)
		dedupe "$url" <"$IN" >"$OUT"
		cmp "$IN" "$OUT" || fail "[$db] output differs: $(diff "$IN" "$OUT")"
	done
}

# ---------------------------------------------------------------------------
# Alert decisions

@test "fingerprint is ASIN|MARKETPLACE|severity in lower case, with queue high_priority, standard or background" {
	{
		rec CRITICAL 2025-06-01T12:00:00.000Z n-c
		rec HIGH 2025-06-01T12:01:00.000Z n-h
		rec WARNING 2025-06-01T12:02:00.000Z n-w
		rec SUCCESS 2025-06-01T12:03:00.000Z n-su
		rec STABLE 2025-06-01T12:04:00.000Z n-st
	} >"$IN"
	expect "severities of the input" "$(jq -r .analysis.severity "$IN" | paste -sd' ')" "CRITICAL HIGH WARNING SUCCESS STABLE"
	for db in sqlite pg; do
		on $db
		url=$(migrated_db $db)
		dedupe "$url" <"$IN" >"$OUT"
		expect "alerts" "$(jq -r '.alert | "\(.fingerprint) \(.action) \(.queue_type)"' "$OUT")" \
			"$ASIN|$MKT|critical new high_priority
$ASIN|$MKT|high new high_priority
$ASIN|$MKT|warning new standard
$ASIN|$MKT|success none background
$ASIN|$MKT|stable none background"
		store "$url" <"$OUT" >/dev/null
		expect "alert_queues after the SUCCESS resolved them" \
			"$(q "$url" "SELECT fingerprint, queue_type, severity, status FROM alert_queues ORDER BY fingerprint")" \
			"$ASIN|$MKT|critical|high_priority|CRITICAL|resolved
$ASIN|$MKT|high|high_priority|HIGH|resolved
$ASIN|$MKT|warning|standard|WARNING|resolved"
	done
}

@test "scheduled_delivery: WARNING at the next 5-minute boundary, HIGH and CRITICAL at the event time" {
	{
		rec WARNING 2025-06-01T12:03:10.000Z n-1 B000000001
		rec WARNING 2025-06-01T12:05:00.000Z n-2 B000000002
		rec WARNING 2025-06-01T12:05:00.001Z n-3 B000000003
		rec WARNING 2025-06-01T23:59:59.999Z n-4 B000000004
		rec HIGH 2025-06-01T12:03:10.000Z n-5 B000000005
		rec CRITICAL 2025-06-01T12:03:10.123Z n-6 B000000006
		rec SUCCESS 2025-06-01T12:03:10.000Z n-7 B000000007
	} >"$IN"
	for db in sqlite pg; do
		on $db
		url=$(migrated_db $db)
		dedupe_store "$url" <"$IN" >"$OUT"
		expect "alerts" "$(alert_of <"$OUT")" \
			"new standard 2025-06-01T12:05:00.000Z null
new standard 2025-06-01T12:05:00.000Z null
new standard 2025-06-01T12:10:00.000Z null
new standard 2025-06-02T00:00:00.000Z null
new high_priority 2025-06-01T12:03:10.000Z null
new high_priority 2025-06-01T12:03:10.123Z null
none background null null"
		expect "alert_queues.scheduled_delivery" \
			"$(q "$url" "SELECT asin, $(ts "$url" scheduled_delivery) FROM alert_queues ORDER BY asin")" \
			"B000000001|2025-06-01T12:05:00.000Z
B000000002|2025-06-01T12:05:00.000Z
B000000003|2025-06-01T12:10:00.000Z
B000000004|2025-06-02T00:00:00.000Z
B000000005|2025-06-01T12:03:10.000Z
B000000006|2025-06-01T12:03:10.123Z"
	done
}

@test "alert windows in event time: update within 30 minutes of the last sighting, new at exactly 30 minutes" {
	{
		rec WARNING 2025-06-01T12:00:00.000Z n-1 # new
		rec WARNING 2025-06-01T12:20:00.000Z n-2 # 20:00 after 12:00: update
		rec WARNING 2025-06-01T12:50:00.000Z n-3 # exactly 30:00 after 12:20: new
		rec WARNING 2025-06-01T13:19:59.999Z n-4 # 29:59.999 after 12:50: update
	} >"$IN"
	for db in sqlite pg; do
		on $db
		for mode in "one run" "a run per record"; do
			url=$(migrated_db $db)
			if [ "$mode" = "one run" ]; then
				dedupe "$url" <"$IN" >"$OUT.proposed"
				store "$url" <"$OUT.proposed" >"$OUT"
			else
				run_each_proposed "$url" <"$IN" >"$OUT"
			fi
			expect "$mode: bb-dedupe's actions" "$(actions <"$OUT.proposed")" "new update new update"
			expect "$mode: stored actions" "$(actions <"$OUT")" "new update new update"
			expect "$mode: scheduled deliveries" "$(jq -r .alert.scheduled_delivery "$OUT.proposed" | paste -sd' ')" \
				"2025-06-01T12:00:00.000Z null 2025-06-01T12:50:00.000Z null"
			expect "$mode: alert_queues" "$(alert_rows "$url")" \
				"$ASIN|$MKT|warning|standard|queued|2|2025-06-01T12:50:00.000Z|2025-06-01T13:19:59.999Z|2025-06-01T12:50:00.000Z|"
		done
	done
}

@test "a snoozed fingerprint is suppressed until its snooze ends and new after" {
	{
		rec WARNING 2025-06-01T12:39:59.999Z n-2 # before the snooze ends: suppressed
		rec WARNING 2025-06-01T12:40:00.000Z n-3 # when it ends: new
	} >"$IN"
	for db in sqlite pg; do
		on $db
		url=$(migrated_db $db)
		rec WARNING 2025-06-01T12:00:00.000Z n-1 | dedupe_store "$url" >"$OUT.1"
		expect "first alert" "$(actions <"$OUT.1")" new
		q "$url" "UPDATE alert_queues SET status = 'snoozed', snooze_until = '2025-06-01T12:40:00.000Z'"
		head -n 1 "$IN" | dedupe_store "$url" >"$OUT.2"
		expect "while snoozed" "$(alert_of <"$OUT.2")" "suppressed standard null 2025-06-01T12:40:00.000Z"
		expect "alert_queues while snoozed" "$(alert_rows "$url")" \
			"$ASIN|$MKT|warning|standard|snoozed|2|2025-06-01T12:00:00.000Z|2025-06-01T12:39:59.999Z|2025-06-01T12:00:00.000Z|2025-06-01T12:40:00.000Z"
		expect "no alert event for a suppressed alert" "$(count "$url" events "kind = 'alert'")" 1
		tail -n 1 "$IN" | dedupe_store "$url" >"$OUT.3"
		expect "when the snooze ends" "$(alert_of <"$OUT.3")" "new standard 2025-06-01T12:40:00.000Z null"
		expect "alert_queues after the snooze" "$(alert_rows "$url")" \
			"$ASIN|$MKT|warning|standard|queued|1|2025-06-01T12:40:00.000Z|2025-06-01T12:40:00.000Z|2025-06-01T12:40:00.000Z|"
		# the same two records in one stream decide alike
		url2=$(migrated_db $db)
		rec WARNING 2025-06-01T12:00:00.000Z n-1 | dedupe_store "$url2" >/dev/null
		q "$url2" "UPDATE alert_queues SET status = 'snoozed', snooze_until = '2025-06-01T12:40:00.000Z'"
		dedupe_store "$url2" <"$IN" >"$OUT.4"
		expect "in one stream" "$(actions <"$OUT.4")" "suppressed new"
	done
}

@test "a recovery to SUCCESS (action none) resolves the ASIN's open alerts" {
	{
		rec WARNING 2025-06-01T12:00:00.000Z n-1 # new
		rec HIGH 2025-06-01T12:05:00.000Z n-2    # new
		rec SUCCESS 2025-06-01T12:10:00.000Z n-3 # none: resolves both
		rec WARNING 2025-06-01T12:15:00.000Z n-4 # new again, though within 30 min of 12:00
	} >"$IN"
	for db in sqlite pg; do
		on $db
		for mode in "one run" "a run per record"; do
			url=$(migrated_db $db)
			if [ "$mode" = "one run" ]; then
				head -n 3 "$IN" | dedupe_store "$url" >"$OUT"
			else
				head -n 3 "$IN" | run_each "$url" >"$OUT"
			fi
			expect "$mode: actions" "$(actions <"$OUT")" "new new none"
			expect "$mode: the SUCCESS alert" "$(tail -n 1 "$OUT" | jq -r '.alert | "\(.fingerprint) \(.queue_type) \(.scheduled_delivery)"')" \
				"$ASIN|$MKT|success background null"
			expect "$mode: alert_queues after the recovery" \
				"$(q "$url" "SELECT fingerprint, status FROM alert_queues ORDER BY fingerprint")" \
				"$ASIN|$MKT|high|resolved
$ASIN|$MKT|warning|resolved"
			url=$(migrated_db $db)
			if [ "$mode" = "one run" ]; then
				dedupe "$url" <"$IN" >"$OUT.proposed"
				store "$url" <"$OUT.proposed" >"$OUT"
			else
				run_each_proposed "$url" <"$IN" >"$OUT"
			fi
			expect "$mode: bb-dedupe's actions with a warning after the recovery" "$(actions <"$OUT.proposed")" "new new none new"
			expect "$mode: stored actions with a warning after the recovery" "$(actions <"$OUT")" "new new none new"
			expect "$mode: alert_queues at the end" \
				"$(q "$url" "SELECT fingerprint, status, occurrences, $(ts "$url" first_seen) FROM alert_queues ORDER BY fingerprint")" \
				"$ASIN|$MKT|high|resolved|1|2025-06-01T12:05:00.000Z
$ASIN|$MKT|warning|queued|1|2025-06-01T12:15:00.000Z"
		done
	done
}

@test "bb-store corrects a stale proposal: two bb-dedupe runs on the same state both propose new, the second is stored as update" {
	for db in sqlite pg; do
		on $db
		url=$(migrated_db $db)
		rec WARNING 2025-06-01T12:00:00.000Z n-a | dedupe "$url" >"$OUT.a"
		rec WARNING 2025-06-01T12:10:00.000Z n-b | dedupe "$url" >"$OUT.b"
		expect "proposals" "$(cat "$OUT.a" "$OUT.b" | actions)" "new new"
		store "$url" <"$OUT.a" >"$OUT.1"
		store "$url" <"$OUT.b" >"$OUT.2"
		expect "stored actions" "$(cat "$OUT.1" "$OUT.2" | actions)" "new update"
		expect "the rest of the alert member is kept" "$(jq -r .alert.fingerprint "$OUT.2")" "$ASIN|$MKT|warning"
		expect "alert_queues" "$(alert_rows "$url")" \
			"$ASIN|$MKT|warning|standard|queued|2|2025-06-01T12:00:00.000Z|2025-06-01T12:10:00.000Z|2025-06-01T12:00:00.000Z|"
		expect "alert events" "$(q "$url" "SELECT payload FROM events WHERE kind = 'alert' ORDER BY id" | jq -r .action | paste -sd' ')" \
			"new update"
	done
}

@test "PostgreSQL stopped mid-stream: the records in hand go on as they came, exit 75 naming the database" {
	url=$(migrated_db pg)
	gen 10 2 >"$IN"
	pg_stops_midway bb-dedupe --db "$url"
	expect "exit status" "$rc" 75
	grep -q "^bb-dedupe: fatal: unable to query database '" "$BATS_TEST_TMPDIR/err" ||
		fail "no fatal message: $(cat "$BATS_TEST_TMPDIR/err")"
	expect "decided" "$(head -n 5 "$OUT" | jq -r '.alert.action // "-"' | paste -sd' ')" "none none new new none"
	# the records in hand when the query failed: as they came, byte for byte
	n=$(($(wc -l <"$OUT") - 5))
	[ "$n" -ge 1 ] || fail "no record in hand came out"
	expect "undecided" "$(tail -n +6 "$OUT")" "$(tail -n 5 "$IN" | head -n "$n")"
}
