#!/usr/bin/env bats
# bb-store: each record's outcome made durable exactly once, one transaction
# per batch, and only then passed on (DESIGN.md "Database", "Principles").
# Every storage test runs the same scenario against SQLite and PostgreSQL
# (a throwaway cluster, started for this suite by scripts/pg-local).

load helper
load store-helper

BATS_NO_PARALLELIZE_WITHIN_FILE=true
NOW=2026-01-01T00:00:00.000Z # BB_NOW as bb formats it
# the schema versions lib/sql ships, in order: what a migrated database records
SHIPPED=$(ls "$BATS_TEST_DIRNAME/../lib/sql/sqlite" | sed -n 's/^0*\([0-9][0-9]*\)_.*\.sql$/\1/p' | sort -n | paste -sd' ')

setup_file() {
	pg_start 55433
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

# n_times N WORD: WORD N times, space-separated.
n_times() {
	yes "$2" | head -n "$1" | paste -sd' ' -
}

# padded N BYTES ID: N analysed notifications, ids ID-1 to ID-N, each with
# a Padding member of BYTES bytes in its body.
padded() {
	head -c "$2" /dev/zero | tr '\0' x >"$BATS_TEST_TMPDIR/pad"
	notify "OURS:12.00 A:10.00" "$(with_id "$3")" |
		jq -c --rawfile pad "$BATS_TEST_TMPDIR/pad" '.Padding = $pad' >"$BATS_TEST_TMPDIR/one"
	for i in $(seq 1 "$1"); do
		sed "s/\"$3\"/\"$3-$i\"/" "$BATS_TEST_TMPDIR/one"
	done | analysed
}

# nid_of MESSAGE-ID < RECORDS: stored.notification_id of that record.
nid_of() {
	jq -r --arg m "$1" 'select(.message_id == $m) | .stored.notification_id'
}

# ---------------------------------------------------------------------------
# Exactly once

@test "replaying the same input stores nothing new and every record of the replay comes out duplicate" {
	gen 40 5 >"$IN"
	for db in sqlite pg; do
		on $db
		url=$(migrated_db $db)
		store "$url" <"$IN" >"$OUT.1"
		expect "first run" "$(statuses <"$OUT.1")" "$(n_times 40 ok)"
		before=$(counts "$url")
		expect "rows after the first run" \
			"$(count "$url" worker_notifications) $(count "$url" competitive_history) $(offers "$url")" \
			"40 40 200"
		store "$url" <"$IN" >"$OUT.2"
		expect "replay statuses" "$(statuses <"$OUT.2")" "$(n_times 40 duplicate)"
		expect "replay order (message ids)" "$(jq -r .message_id "$OUT.2")" "$(jq -r .message_id "$IN")"
		expect "replay stored.notification_id" "$(jq -r .stored.notification_id "$OUT.2" | sort -u)" null
		expect "rows after the replay" "$(counts "$url")" "$before"
	done
}

@test "the same body under a new message id is a duplicate (dedupe_hash is the SHA-256 of the body)" {
	body=$(notify "OURS:12.00 A:10.00 B:11.00:pw")
	# a different NotificationId makes a different body: a new notification
	other=$(notify "OURS:12.00 A:10.00 B:11.00:pw" "$(with_id n-2)")
	for db in sqlite pg; do
		on $db
		url=$(migrated_db $db)
		envelope "$body" m-1 | analysed | store "$url" >"$OUT.1"
		expect "first message" "$(statuses <"$OUT.1")" ok
		{ envelope "$body" m-2; envelope "$other" m-3; } | analysed | store "$url" >"$OUT.2"
		expect "same body as m-1 under m-2; another body under m-3" "$(statuses <"$OUT.2")" "duplicate ok"
		expect "stored rows" "$(q "$url" "SELECT message_id, dedupe_hash FROM worker_notifications ORDER BY message_id")" \
			"m-1|$(printf '%s' "$body" | sha256sum | cut -d' ' -f1)
m-3|$(printf '%s' "$other" | sha256sum | cut -d' ' -f1)"
		# the same within one batch, on an empty database
		url=$(migrated_db $db)
		{ envelope "$body" m-1; envelope "$body" m-2; envelope "$other" m-3; } | analysed | store "$url" >"$OUT.3"
		expect "in one batch" "$(statuses <"$OUT.3")" "ok duplicate ok"
		expect "rows in one batch" "$(count "$url" worker_notifications) $(count "$url" competitive_history)" "2 2"
	done
}

@test "the same message id with a different body is a duplicate" {
	body=$(notify "OURS:12.00 A:10.00 B:11.00:pw")
	changed=$(notify "OURS:12.50 A:10.00 B:11.00:pw")
	for db in sqlite pg; do
		on $db
		url=$(migrated_db $db)
		envelope "$body" m-1 | analysed | store "$url" >"$OUT.1"
		envelope "$changed" m-1 | analysed | store "$url" >"$OUT.2"
		expect "statuses" "$(cat "$OUT.1" "$OUT.2" | statuses)" "ok duplicate"
		expect "the stored price is the first message's" \
			"$(q "$url" "SELECT count(*), max(our_price) FROM competitive_history")" "1|1200"
	done
}

# ---------------------------------------------------------------------------
# current_state

@test "shuffled input ends in the same current_state as ordered input: the newest event per ASIN wins" {
	gen 60 6 >"$IN"
	shuf --random-source=<(yes) "$IN" >"$IN.shuffled"
	! cmp -s "$IN" "$IN.shuffled" || fail "the shuffle left the input in order"
	expected=$(expected_state <"$IN")
	[ "$(wc -l <<<"$expected")" -eq 6 ]
	for db in sqlite pg; do
		on $db
		ordered=$(migrated_db $db)
		store "$ordered" <"$IN" >/dev/null
		shuffled=$(migrated_db $db)
		store "$shuffled" --batch 7 <"$IN.shuffled" >/dev/null
		expect "current_state from ordered input" "$(state_of "$ordered")" "$expected"
		expect "current_state from shuffled input" "$(state_of "$shuffled")" "$expected"
		expect "history from shuffled input" "$(count "$shuffled" competitive_history)" 60
	done
}

@test "an older event arriving after a newer one does not roll current_state back but is kept in history" {
	newer=$(rec HIGH 2025-06-01T12:10:00.000Z n-new)
	older=$(rec SUCCESS 2025-06-01T12:00:00.000Z n-old)
	for db in sqlite pg; do
		on $db
		for mode in "two runs" "one batch"; do
			url=$(migrated_db $db)
			if [ "$mode" = "two runs" ]; then
				store "$url" <<<"$newer" >"$OUT.1"
				store "$url" <<<"$older" >"$OUT.2"
			else
				printf '%s\n%s\n' "$newer" "$older" | store "$url" >"$OUT.1"
				tail -n 1 "$OUT.1" >"$OUT.2"
			fi
			expect "$mode: the older record is stored" "$(jq -r .status "$OUT.2")" ok
			expect_match "$mode: the older record's id" "$(jq -r .stored.notification_id "$OUT.2")" "$UUID7"
			expect "$mode: current_state" \
				"$(q "$url" "SELECT $(ts "$url" event_time), severity, our_price, notification_id FROM current_state")" \
				"2025-06-01T12:10:00.000Z|HIGH|1300|$(nid_of n-new <"$OUT.1")"
			expect "$mode: history" \
				"$(q "$url" "SELECT $(ts "$url" event_time), severity, our_price FROM competitive_history ORDER BY event_time")" \
				"2025-06-01T12:00:00.000Z|SUCCESS|1000
2025-06-01T12:10:00.000Z|HIGH|1300"
			expect "$mode: state events" "$(count "$url" events "kind = 'state'")" 1
			# nor does the older SUCCESS resolve the newer HIGH alert
			expect "$mode: alerts" "$(q "$url" "SELECT fingerprint, status FROM alert_queues")" \
				"B000TEST01|ATVPDKIKX0DER|high|queued"
		done
	done
}

# ---------------------------------------------------------------------------
# Rows

@test "a notification's offers are arrays on its competitive_history row, in payload order, with ours true for our seller's offers" {
	line=$(notify "A:10.00 OURS:12.00+1.50:f B:11.00:pw C:13.00:l OURS-FBA:12.50:fp" "$(event_at 2025-06-01T12:00:00.000Z)")
	for db in sqlite pg; do
		on $db
		# by default our seller is the notification's SellerId
		url=$(migrated_db $db)
		analysed <<<"$line" | store "$url" >"$OUT"
		nid=$(jq -r .stored.notification_id "$OUT")
		expect "offers" "$(offer_rows "$url" "h.notification_id = '$nid'")" \
			"0|A|1000|0|0||0
1|OURS|1350|0|1||1
2|B|1100|1|0|1|0
3|C|1300|0|0|0|0
4|OURS-FBA|1250|1|1||0"
		expect "the history row" "$(q "$url" "SELECT count(*), min(asin), min(marketplace), min($(ts "$url" event_time)) FROM competitive_history")" \
			"1|B000TEST01|ATVPDKIKX0DER|2025-06-01T12:00:00.000Z"
		# [analysis] seller_ids names all of ours
		url=$(migrated_db $db)
		analysed <<<"$line" | BB_CONFIG="$STORE_FIXTURES/sellers.conf" store "$url" >"$OUT"
		expect "ours with seller_ids = OURS, OURS-FBA" "$(offer_rows "$url" | awk -F'|' '$7 == 1 { print $2 }')" "OURS
OURS-FBA"
	done
}

@test "an offer without a seller_id or an integer landed price is left out, and its notification stored" {
	line=$(notify "A:10.00 B:11.00 C:12.00" "$(event_at 2025-06-01T12:00:00.000Z)")
	for db in sqlite pg; do
		on $db
		url=$(migrated_db $db)
		analysed <<<"$line" | jq -c '.notification.offers[0].seller_id = null | .notification.offers[2].landed = "12"' |
			store "$url" >"$OUT"
		expect "status" "$(statuses <"$OUT")" ok
		expect "offers" "$(offer_rows "$url")" "0|B|1100|0|0||0"
	done
}

@test "every record comes out with stored = {notification_id, event_id, at}; rejected and skipped ones too, with a null id" {
	ok1=$(notify "A:10.00 B:12.00:p" "$(with_id n-a) | $(with_asin B000000AAA)")
	ok2=$(notify "$OFFERS_HIGH" "$(with_id n-b) | $(with_asin B000000BBB)")
	skipped=$(notify "A:10.00" '.NotificationType = "FEED_PROCESSING_FINISHED" | .NotificationMetadata.NotificationId = "n-skip"')
	bad=$(notify "A:10.00" 'del(.Payload.AnyOfferChangedNotification.OfferChangeTrigger.ASIN) | .NotificationMetadata.NotificationId = "n-bad"')
	printf '%s\n' "$ok1" 'not json' "$ok2" "$skipped" "$ok1" "$bad" | analysed >"$IN"
	junk=$(printf 'not json' | sha256sum | cut -d' ' -f1)
	for db in sqlite pg; do
		on $db
		url=$(migrated_db $db)
		dedupe_store "$url" <"$IN" >"$OUT.1"
		expect "statuses" "$(statuses <"$OUT.1")" "ok rejected ok skipped duplicate rejected"
		expect "message ids, in input order" "$(jq -r .message_id "$OUT.1" | paste -sd' ')" "n-a $junk n-b n-skip n-a n-bad"
		for m in n-a n-b; do
			nid=$(jq -r --arg m $m 'select(.status == "ok" and .message_id == $m) | .stored.notification_id' "$OUT.1")
			expect_match "$m: stored.notification_id" "$nid" "$UUID7"
			expect "$m: the stored row's id" "$(q "$url" "SELECT id FROM worker_notifications WHERE message_id = '$m'")" "$nid"
			expect "$m: stored.event_id is the last event it appended" \
				"$(jq -r --arg m $m 'select(.status == "ok" and .message_id == $m) | .stored.event_id' "$OUT.1")" \
				"$(q "$url" "SELECT max(id) FROM events WHERE CAST(payload AS TEXT) LIKE '%$nid%'")"
		done
		expect "stored.at" "$(jq -r .stored.at "$OUT.1" | sort -u)" "$NOW"
		expect "stored of the records not stored" \
			"$(jq -c 'select(.status != "ok") | .stored' "$OUT.1" | sort -u)" \
			"{\"notification_id\":null,\"event_id\":null,\"at\":\"$NOW\"}"
		expect "notifications" "$(q "$url" "SELECT message_id FROM worker_notifications ORDER BY message_id")" "n-a
n-b"
		expect "failures after one run" \
			"$(q "$url" "SELECT message_id, status, error_type, stage, failure_count FROM worker_failures ORDER BY message_id")" \
			"$junk|rejected|malformed_json|validate|1
n-bad|rejected|schema|validate|1"
		expect "the raw message of a line that is not JSON" \
			"$(q "$url" "SELECT raw_message FROM worker_failures WHERE message_id = '$junk'")" "not json"
		rows="$(count "$url" worker_notifications)|$(count "$url" competitive_history)|$(offers "$url")|$(count "$url" events)|$(count "$url" alert_queues)"
		dedupe_store "$url" <"$IN" >"$OUT.2"
		expect "replay statuses" "$(statuses <"$OUT.2")" "duplicate rejected duplicate skipped duplicate rejected"
		expect "replay stored.notification_id" "$(jq -r .stored.notification_id "$OUT.2" | sort -u)" null
		expect "failures after a replay" \
			"$(q "$url" "SELECT message_id, failure_count FROM worker_failures ORDER BY message_id")" \
			"$junk|2
n-bad|2"
		expect "rows after a replay" \
			"$(count "$url" worker_notifications)|$(count "$url" competitive_history)|$(offers "$url")|$(count "$url" events)|$(count "$url" alert_queues)" \
			"$rows"
	done
}

@test "ok records bb-store cannot use are kept as failures; the rest of their batch is stored" {
	good1=$(notify "A:10.00 B:12.00:p" "$(with_id n-1) | $(with_asin B000000AAA)")
	late=$(notify "A:10.00" "$(with_id n-2) | $(with_asin B000000BBB)")
	bare=$(notify "A:10.00" "$(with_id n-3) | $(with_asin B000000CCC)")
	good2=$(notify "$OFFERS_HIGH" "$(with_id n-4) | $(with_asin B000000DDD)")
	flat=$(notify "A:10.00" "$(with_id n-5) | $(with_asin B000000EEE)")
	printf '%s\n' "$good1" "$late" "$bare" "$good2" "$flat" | analysed |
		jq -c 'if .message_id == "n-2" then .notification.event_time = "yesterday"
		       elif .message_id == "n-3" then del(.analysis)
		       elif .message_id == "n-5" then .notification.offers = {} else . end' >"$IN"
	for db in sqlite pg; do
		on $db
		url=$(migrated_db $db)
		bb-store --db "$url" <"$IN" >"$OUT"
		expect "statuses" "$(statuses <"$OUT")" "ok rejected rejected ok rejected"
		expect "errors" "$(jq -r '.error.message // "-"' "$OUT" | paste -sd'|')" \
			"-|the notification's event_time is not an RFC 3339 time|no analysis member: run bb-severity before bb-store|-|the notification's offers are not an array"
		expect "stored" "$(q "$url" "SELECT message_id FROM worker_notifications ORDER BY message_id")" "n-1
n-4"
		expect "failures" \
			"$(q "$url" "SELECT message_id, status, error_type, stage, failure_count FROM worker_failures ORDER BY message_id")" \
			"n-2|rejected|schema|store|1
n-3|rejected|schema|store|1
n-5|rejected|schema|store|1"
		expect "state of the stored ones only" "$(q "$url" "SELECT asin FROM current_state ORDER BY asin")" "B000000AAA
B000000DDD"
	done
}

@test "records whose status is duplicate or skipped write nothing" {
	gen 3 1 >"$IN"
	for db in sqlite pg; do
		on $db
		url=$(migrated_db $db)
		store "$url" <"$IN" >/dev/null
		before=$(counts "$url")
		{
			jq -c '.status = "duplicate"' "$IN"
			gen 2 1 3 | jq -c '.status = "duplicate"' # never stored
			gen 2 1 5 | jq -c '.status = "skipped"'
		} | store "$url" >"$OUT"
		expect "statuses" "$(statuses <"$OUT")" "duplicate duplicate duplicate duplicate duplicate skipped skipped"
		expect "rows" "$(counts "$url")" "$before"
	done
}

@test "a record comes out only after its batch is committed" {
	r=$(rec WARNING 2025-06-01T12:00:00.000Z n-c1)
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	for db in sqlite pg; do
		on $db
		url=$(migrated_db $db)
		rm -f "$OUT" "$BATS_TEST_TMPDIR/locked"
		bb-store --db "$url" --max-delay 0 <"$BATS_TEST_TMPDIR/fifo" >"$OUT" 2>>"$(LOG)" 3>&- &
		pid=$!
		track $pid
		exec 4>"$BATS_TEST_TMPDIR/fifo"
		hold_lock "$url" 2 "$BATS_TEST_TMPDIR/locked" 3>&- &
		locker=$!
		track $locker
		wait_file "$BATS_TEST_TMPDIR/locked" 10 || fail "[$db] could not lock the database"
		echo "$r" >&4
		sleep 1
		expect "lines out while the database is locked" "$(wc -l <"$OUT")" 0
		wait $locker
		wait_lines "$OUT" 1 10 || fail "[$db] nothing came out within 10 s of the unlock"
		# read by another connection the moment the line is out: committed
		expect "the row of the record that came out" \
			"$(q "$url" "SELECT id FROM worker_notifications WHERE message_id = 'n-c1'")" \
			"$(jq -r .stored.notification_id "$OUT")"
		exec 4>&-
		rc=0
		wait_exit $pid 10 || rc=$?
		expect "exit status" "$rc" 0
	done
}

@test "SQLite: a batch of 60 KB bodies, more WAL than bb-store writes at once, is stored byte for byte and readable by another connection" {
	on sqlite
	pad=$(head -c 60000 /dev/zero | tr '\0' x)
	for i in $(seq 1 80); do
		notify "OURS:12.00 A:10.00" "$(with_id "n-big-$i") | .Padding = \"$pad\""
	done | analysed >"$IN"
	url=$(migrated_db sqlite)
	store "$url" --batch 100 <"$IN" >"$OUT"
	expect "statuses" "$(statuses <"$OUT")" "$(n_times 80 ok)"
	expect "bodies" "$(q "$url" "SELECT message_id, body FROM worker_notifications ORDER BY message_id" | sha256sum)" \
		"$(jq -rs 'sort_by(.message_id)[] | .message_id + "|" + .body' "$IN" | sha256sum)"
	expect "integrity" "$(q "$url" "PRAGMA integrity_check")" ok
}

@test "a batch of records near the 1 MiB limit is committed once it holds 64 MiB, however few records that is" {
	on sqlite
	# 80 notifications of their own: about 1.7 MiB held apiece (line and body)
	padded 80 880000 n-huge >"$IN"
	expect "distinct inputs" "$(jq -r '.message_id + " " + .dedupe_hash' "$IN" | sort -u | wc -l)" 80
	url=$(migrated_db sqlite)
	# only the count, the end of input or the bytes held could end a batch
	# here; the clock runs, so that each batch has a time of its own
	BB_NOW= store "$url" --batch 100000 --max-delay 3600000 <"$IN" >"$OUT"
	expect "statuses" "$(statuses <"$OUT")" "$(n_times 80 ok)"
	expect "stored" "$(count "$url" worker_notifications)" 80
	# a batch's records share its time: three batches, none over 64 MiB
	expect "records per batch" "$(jq -r .stored.at "$OUT" | uniq -c | awk '{ print $1 }' | paste -sd' ')" "38 38 4"
}

# peak_kib FILE COMMAND...: run it, its standard output to FILE, and print
# its peak resident set in KiB, as the kernel counted it
peak_kib() {
	python3 -c 'import resource, subprocess, sys
with open(sys.argv[1], "wb") as out:
    subprocess.run(sys.argv[2:], stdout=out, check=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$@"
}

@test "--page-cache bounds SQLite's pages in memory: 1 MiB holds far less than the default 64; a bad value is a usage error" {
	on sqlite
	padded 1500 12000 n-pc >"$IN"
	# 1,500 bodies of 12 KB: about 20 MB of pages written, each batch's kept
	# in memory up to the page cache's size
	big=$(migrated_db sqlite)
	small=$(migrated_db sqlite)
	kib_default=$(peak_kib "$OUT" bb-store --db "$big" --batch 100 <"$IN" 2>>"$(LOG)")
	expect "stored with the default" "$(count "$big" worker_notifications)" 1500
	kib_small=$(peak_kib "$OUT" bb-store --db "$small" --batch 100 --page-cache 1 <"$IN" 2>>"$(LOG)")
	expect "stored with --page-cache 1" "$(count "$small" worker_notifications)" 1500
	[ $((kib_default - kib_small)) -ge 10240 ] ||
		fail "peak memory: ${kib_default} KiB by default, ${kib_small} KiB with --page-cache 1"
	for v in 0 4097 x 1.5 ''; do
		run --separate-stderr bb-store --db "$small" --page-cache "$v" <"$IN"
		expect "exit status for --page-cache '$v'" "$status" 64
		expect "stdout for --page-cache '$v'" "$output" ""
		expect "stderr for --page-cache '$v'" "$stderr" \
			"bb-store: --page-cache '$v': expected a whole number of MiB from 1 to 4096"
	done
}

# ---------------------------------------------------------------------------
# events

@test "events: a state event per current_state change and an alert event per new, updated or resolved alert, ids increasing" {
	{
		rec WARNING 2025-06-01T12:00:00.000Z n-1 # state; alert new
		rec WARNING 2025-06-01T12:10:00.000Z n-2 # state; alert update
		rec HIGH 2025-06-01T11:50:00.000Z n-3    # older: no state; alert new
		rec STABLE 2025-06-01T11:55:00.000Z n-4  # older: no state; resolves high (last seen 11:50)
		rec STABLE 2025-06-01T12:20:00.000Z n-5  # state; resolves warning (last seen 12:10)
		rec STABLE 2025-06-01T12:30:00.000Z n-6  # state; nothing left to resolve
	} >"$IN"
	for db in sqlite pg; do
		on $db
		url=$(migrated_db $db)
		dedupe_store "$url" --batch 1 <"$IN" >"$OUT"
		expect "statuses" "$(statuses <"$OUT")" "ok ok ok ok ok ok"
		q "$url" "SELECT id, kind, payload FROM events ORDER BY id" >"$BATS_TEST_TMPDIR/events"
		# kind, then the alert's action and fingerprint, then the record (n-K) it came from
		actual=$(while IFS='|' read -r id kind payload; do
			nid=$(jq -r .notification_id <<<"$payload")
			m=$(jq -r --arg n "$nid" 'select(.stored.notification_id == $n) | .message_id' "$OUT")
			echo "$kind $(jq -r '[.action, .fingerprint] | map(. // "-") | join(" ")' <<<"$payload") $m"
		done <"$BATS_TEST_TMPDIR/events")
		expect "events in id order" "$actual" \
			"state - - n-1
alert new B000TEST01|ATVPDKIKX0DER|warning n-1
state - - n-2
alert update B000TEST01|ATVPDKIKX0DER|warning n-2
alert new B000TEST01|ATVPDKIKX0DER|high n-3
alert resolved B000TEST01|ATVPDKIKX0DER|high n-4
state - - n-5
alert resolved B000TEST01|ATVPDKIKX0DER|warning n-5
state - - n-6"
		ids=$(cut -d'|' -f1 "$BATS_TEST_TMPDIR/events")
		expect "ids strictly increasing" "$(sort -n -u <<<"$ids")" "$ids"
		# each record's stored.event_id is the id of the last event it appended
		last=$(sed -n '2p;4p;5p;6p;8p;9p' <<<"$ids" | paste -sd' ')
		expect "stored.event_id" "$(jq -r .stored.event_id "$OUT" | paste -sd' ')" "$last"
		expect "state payload" "$(q "$url" "SELECT payload FROM events WHERE kind = 'state' ORDER BY id DESC LIMIT 1" |
			jq -c '[.asin, .marketplace, .event_time, .severity, .rule]')" \
			'["B000TEST01","ATVPDKIKX0DER","2025-06-01T12:30:00.000Z","STABLE","stable"]'
	done
}

@test "an alert another program changes between two batches is decided on as it stands then" {
	r1=$(rec WARNING 2025-06-01T12:00:00.000Z n-v1)
	r2=$(rec WARNING 2025-06-01T12:10:00.000Z n-v2)
	for db in sqlite pg; do
		on $db
		url=$(migrated_db $db)
		mkfifo "$BATS_TEST_TMPDIR/fifo.$db"
		bb-store --db "$url" --max-delay 0 <"$BATS_TEST_TMPDIR/fifo.$db" >"$OUT.$db" 2>>"$(LOG)" 3>&- &
		pid=$!
		track $pid
		exec 4>"$BATS_TEST_TMPDIR/fifo.$db"
		echo "$r1" >&4
		wait_lines "$OUT.$db" 1 10 || fail "[$db] the first record did not come out"
		# the alert bb-store raised, snoozed by another program while bb-store runs
		bb-alert snooze --db "$url" --by ops --for 2h "$(q "$url" "SELECT id FROM alert_queues")" >/dev/null 2>>"$(LOG)"
		echo "$r2" >&4
		exec 4>&-
		wait $pid
		# a second event of a snoozed alert is suppressed: counted, not announced
		expect "alert events" "$(q "$url" "SELECT payload->>'action' FROM events WHERE kind = 'alert' ORDER BY id" | paste -sd' ')" \
			"new snooze"
		expect "the alert" "$(q "$url" "SELECT status || ' ' || occurrences FROM alert_queues")" "snoozed 2"
	done
}

# ---------------------------------------------------------------------------
# Batching and promptness

@test "a closed output pipe stops bb-store with status 74 before it stores the rest of its input" {
	gen 200 20 >"$IN"
	for db in sqlite pg; do
		on $db
		url=$(migrated_db $db)
		# the next stage reads one record and goes away
		rc=$(slowly 0.01 <"$IN" | { bb-store --db "$url" --batch 5 2>>"$(LOG)"; echo $? >"$BATS_TEST_TMPDIR/rc"; } |
			head -n 1 >/dev/null; cat "$BATS_TEST_TMPDIR/rc")
		expect "exit status" "$rc" 74
		stored=$(count "$url" worker_notifications)
		[ "$stored" -ge 5 ] && [ "$stored" -lt 100 ] ||
			{ echo "[$db] $stored of 200 stored: expected the first batches only" >&2; return 1; }
	done
}

@test "with --batch 3 all 7 records come out, in order" {
	gen 7 2 >"$IN"
	for db in sqlite pg; do
		on $db
		url=$(migrated_db $db)
		store "$url" --batch 3 <"$IN" >"$OUT"
		expect "message ids" "$(jq -r .message_id "$OUT" | paste -sd' ')" "n-0 n-1 n-2 n-3 n-4 n-5 n-6"
		expect "statuses" "$(statuses <"$OUT")" "ok ok ok ok ok ok ok"
		expect "stored" "$(count "$url" worker_notifications)" 7
	done
}

@test "a record is committed and comes out within --max-delay while more input is awaited" {
	r1=$(rec WARNING 2025-06-01T12:00:00.000Z n-s1)
	r2=$(rec WARNING 2025-06-01T12:01:00.000Z n-s2)
	for db in sqlite pg; do
		on $db
		url=$(migrated_db $db)
		exec 5< <({ echo "$r1"; sleep 3; echo "$r2"; } | bb-store --db "$url" --max-delay 100 2>>"$(LOG)" 3>&-)
		track $!
		line1= line2=
		IFS= read -r -t 1 -u 5 line1 || fail "[$db] the first record did not come out within 1 s"
		expect "first record" "$(jq -r '"\(.message_id) \(.status)"' <<<"$line1")" "n-s1 ok"
		expect "committed when it came out" "$(count "$url" worker_notifications "message_id = 'n-s1'")" 1
		IFS= read -r -t 10 -u 5 line2 || fail "[$db] the second record did not come out"
		expect "second record" "$(jq -r '"\(.message_id) \(.status)"' <<<"$line2")" "n-s2 ok"
		exec 5<&-
	done
}

@test "a heartbeat row names the worker id, stage store and the records processed" {
	{ gen 5 2; echo 'not json' | analysed; } >"$IN"
	# both backends first, then one comparison: a failure shows them side by side
	actual= expected=
	for db in sqlite pg; do
		url=$(migrated_db $db)
		bb-store --db "$url" --worker-id "w-$db" --batch 2 <"$IN" >"$OUT" 2>>"$(LOG)" 3>&- &
		pid=$!
		wait $pid
		actual+="$db: $(q "$url" "SELECT worker_id, stage, host, pid, $(ts "$url" last_heartbeat), processed, failed,
			lag_max_ms, lag_p99_ms FROM worker_heartbeats")"$'\n'
		# records without sqs.sent_at have no lag
		expected+="$db: w-$db|store|$(hostname)|$pid|$NOW|6|1||"$'\n'
	done
	db="sqlite and pg"
	expect "worker_heartbeats after 6 records (1 rejected) in batches of 2" "$actual" "$expected"
}

@test "the heartbeat row has the largest and the 99th percentile ingest-to-commit lag of the period's records" {
	# record n-I was sent I + 1 seconds before the commit (BB_NOW): lags of 1 to 100 s
	gen 100 7 | jq -c '. + {sqs: {sent_at: ((1767225600 - (.notification.notification_id | ltrimstr("n-") | tonumber) - 1) | todate)}}' >"$IN"
	for db in sqlite pg; do
		on $db
		url=$(migrated_db $db)
		store "$url" --worker-id w-lag <"$IN" >/dev/null
		expect "lag_max_ms, lag_p99_ms (nearest rank)" "$(q "$url" "SELECT processed, lag_max_ms, lag_p99_ms FROM worker_heartbeats")" \
			"100|100000|99000"
	done
}

# ---------------------------------------------------------------------------
# Schema

# indexes_by_asin DBURL: the indexes of worker_notifications and
# competitive_history named for the ASIN.
indexes_by_asin() {
	case $1 in
	sqlite:*) q "$1" "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE '%asin'
	                  AND tbl_name IN ('worker_notifications', 'competitive_history') ORDER BY name" ;;
	*) q "$1" "SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND indexname LIKE '%asin'
	           AND tablename IN ('worker_notifications', 'competitive_history') ORDER BY indexname" ;;
	esac | paste -sd' '
}

@test "--migrate creates every table of the design and records every version shipped in lib/sql; a second --migrate changes nothing" {
	tables="alert_deliveries alert_queues competitive_history current_state events schema_migrations trend_findings weekly_rollups worker_failures worker_heartbeats worker_notifications"
	for db in sqlite pg; do
		on $db
		url=$(fresh_db $db)
		if [ $db = sqlite ]; then
			list="SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
			schema="SELECT type, name, sql FROM sqlite_master ORDER BY type, name"
		else
			list="SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
			schema="SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
			        WHERE table_schema = 'public' ORDER BY table_name, column_name"
		fi
		expect "tables before" "$(q "$url" "$list" | LC_ALL=C sort | paste -sd' ')" ""
		run bb-store --migrate --db "$url"
		expect "--migrate exit status" "$status" 0
		expect "--migrate output" "$(bb-store --migrate --db "$(fresh_db $db)" 2>/dev/null)" ""
		expect "tables" "$(q "$url" "$list" | LC_ALL=C sort | paste -sd' ')" "$tables"
		expect "schema_migrations" "$(q "$url" "SELECT version FROM schema_migrations ORDER BY version" | paste -sd' ')" "$SHIPPED"
		[ $db = sqlite ] || expect "the body's type and compression" "$(q "$url" "SELECT atttypid::regtype, attcompression
			FROM pg_attribute WHERE attrelid = 'worker_notifications'::regclass AND attname = 'body'")" "text|l"
		expect "indexes by ASIN" "$(indexes_by_asin "$url")" "competitive_history_asin"
		before=$(q "$url" "$schema")
		run bb-store --migrate --db "$url"
		expect "second --migrate exit status" "$status" 0
		expect "schema after a second --migrate" "$(q "$url" "$schema")" "$before"
		expect "schema_migrations after a second --migrate" "$(q "$url" "SELECT version FROM schema_migrations ORDER BY version" | paste -sd' ')" "$SHIPPED"
	done
}

# priority_index DBURL: the columns of current_state's index by priority, in order.
priority_index() {
	case $1 in
	sqlite:*) q "$1" "SELECT i.name || ' (' || (SELECT group_concat(name, ', ') FROM
	                  (SELECT name FROM pragma_index_info(i.name) ORDER BY seqno)) || ')'
	                  FROM sqlite_master AS i WHERE i.type = 'index' AND i.tbl_name = 'current_state'
	                  AND i.name LIKE '%priority%'" ;;
	*) q "$1" "SELECT indexname || ' ' || regexp_replace(indexdef, '.*USING btree ', '') FROM pg_indexes
	           WHERE tablename = 'current_state' AND indexname LIKE '%priority%'" ;;
	esac
}

@test "a database at versions 1 to 8 and 10 gets version 9 (the index of the dashboard's key), its rows unchanged" {
	gen 12 3 >"$IN"
	for db in sqlite pg; do
		on $db
		url=$(migrated_db $db)
		store "$url" <"$IN" >/dev/null
		expect "version 9's index" "$(priority_index "$url")" "current_state_priority_key (priority, asin, marketplace)"
		# as version 10 left it, when 9 was not yet written
		q "$url" "DROP INDEX current_state_priority_key;
			CREATE INDEX current_state_priority ON current_state (priority, asin);
			DELETE FROM schema_migrations WHERE version = 9" >/dev/null
		expect "versions before" "$(q "$url" "SELECT version FROM schema_migrations ORDER BY version" | paste -sd' ')" \
			"1 2 3 4 5 6 7 8 10"
		before=$(q "$url" "SELECT * FROM current_state ORDER BY asin, marketplace")
		run bb-store --migrate --db "$url"
		expect "--migrate exit status" "$status" 0
		expect "schema_migrations" "$(q "$url" "SELECT version FROM schema_migrations ORDER BY version" | paste -sd' ')" "$SHIPPED"
		expect "the index" "$(priority_index "$url")" "current_state_priority_key (priority, asin, marketplace)"
		expect "the rows" "$(q "$url" "SELECT * FROM current_state ORDER BY asin, marketplace")" "$before"
		[ $db = pg ] || expect "a page in the keyset's order, without sorting" "$(q "$url" "EXPLAIN QUERY PLAN SELECT rowid
			FROM current_state WHERE (priority, asin, marketplace) > (1, '', '') ORDER BY priority, asin, marketplace LIMIT 5" |
			grep -c 'TEMP B-TREE')" 0
	done
}

# pg_back_to_3 DBURL: undo migration 4 on a PostgreSQL database: the offers
# back into offer_snapshots, a row per offer, as version 3 kept them.
pg_back_to_3() {
	q "$1" "CREATE TABLE offer_snapshots (notification_id TEXT COLLATE \"C\" NOT NULL, ord INTEGER NOT NULL,
		asin TEXT NOT NULL, marketplace TEXT NOT NULL, event_time TIMESTAMPTZ NOT NULL, seller_id TEXT NOT NULL,
		landed BIGINT NOT NULL, prime BOOLEAN, fba BOOLEAN, buy_box_winner BOOLEAN, ours BOOLEAN NOT NULL,
		PRIMARY KEY (notification_id, ord));
	INSERT INTO offer_snapshots SELECT h.notification_id, o.ord - 1, h.asin, h.marketplace, h.event_time,
		o.seller_id, o.landed, o.prime, o.fba, o.winner, o.ours
		FROM competitive_history AS h, unnest(h.offer_seller_ids, h.offer_landed, h.offer_prime, h.offer_fba,
		h.offer_buy_box_winner, h.offer_ours) WITH ORDINALITY AS o(seller_id, landed, prime, fba, winner, ours, ord);
	ALTER TABLE competitive_history DROP COLUMN offer_seller_ids, DROP COLUMN offer_landed,
		DROP COLUMN offer_prime, DROP COLUMN offer_fba, DROP COLUMN offer_buy_box_winner, DROP COLUMN offer_ours;
	CREATE INDEX worker_notifications_asin ON worker_notifications (asin, marketplace, event_time);
	DELETE FROM schema_migrations WHERE version = 4" >/dev/null
}

# v3_offer_rows DBURL: the offers of a version 3 database, as offer_rows
# gives them from version 4 on.
v3_offer_rows() {
	q "$1" "SELECT o.ord, o.seller_id, o.landed, $(b o.prime), $(b o.fba), $(b o.buy_box_winner), $(b o.ours)
	        FROM competitive_history AS h JOIN offer_snapshots AS o ON o.notification_id = h.notification_id
	        ORDER BY h.event_time, h.notification_id, o.ord"
}

# rows_of DBURL: every row of the tables migrations 4, 5 and 7 leave as they
# were, and the columns of version 3 of those they change, for before/after
# checks.
rows_of() {
	local t
	for t in worker_notifications current_state events worker_failures; do
		echo "-- $t"
		q "$1" "SELECT * FROM $t ORDER BY 1"
	done
	echo "-- worker_heartbeats" # its columns of version 3 (migration 7 adds more)
	q "$1" "SELECT worker_id, stage, host, pid, started_at, last_heartbeat, processed, failed FROM worker_heartbeats ORDER BY 1"
	echo "-- alert_queues" # its columns of version 3 (migration 5 adds more)
	q "$1" "SELECT id, fingerprint, queue_type, asin, marketplace, severity, status, occurrences, first_seen,
	        last_seen, scheduled_delivery, snooze_until, last_notification_id, updated_at FROM alert_queues ORDER BY 1"
	echo "-- competitive_history"
	q "$1" "SELECT id, notification_id, asin, marketplace, event_time, severity, priority, our_price, market_low,
	        buy_box_price, buy_box_winner, position, total_offers, gap_pct, created_at
	        FROM competitive_history ORDER BY id"
}

@test "PostgreSQL: migrating a version 2 database keeps each stored body byte for byte" {
	on pg
	line=$(notify "A:10.00 OURS:12.00" "$(with_id n-body)")
	url=$(migrated_db pg)
	analysed <<<"$line" | store "$url" >/dev/null
	# back to version 2, where the body was json
	pg_back_to_3 "$url"
	q "$url" "ALTER TABLE worker_notifications ALTER COLUMN body TYPE json USING body::json;
		DELETE FROM schema_migrations WHERE version = 3" >/dev/null
	run bb-store --migrate --db "$url"
	expect "--migrate exit status" "$status" 0
	expect "schema_migrations" "$(q "$url" "SELECT version FROM schema_migrations ORDER BY version" | paste -sd' ')" "$SHIPPED"
	expect "the body's type and compression" "$(q "$url" "SELECT atttypid::regtype, attcompression
		FROM pg_attribute WHERE attrelid = 'worker_notifications'::regclass AND attname = 'body'")" "text|l"
	expect "the body's SHA-256 is still its dedupe_hash" \
		"$(q "$url" "SELECT encode(sha256(convert_to(body, 'UTF8')), 'hex') = dedupe_hash FROM worker_notifications")" "t"
	expect "the body as sent" "$(q "$url" "SELECT body FROM worker_notifications")" "$(jq -r .body <<<"$(analysed <<<"$line")")"
}

@test "PostgreSQL: migrating a version 3 database moves each notification's offers, in order, onto its history row" {
	on pg
	{ gen 30 4; rec STABLE 2025-06-02T00:00:00.000Z n-winner-unknown; } >"$IN"
	url=$(migrated_db pg)
	store "$url" <"$IN" >/dev/null
	before=$(rows_of "$url")
	offers=$(offer_rows "$url")
	pg_back_to_3 "$url"
	expect "version 3: a row of offer_snapshots per offer" "$(v3_offer_rows "$url")" "$offers"
	run bb-store --migrate --db "$url"
	expect "--migrate exit status" "$status" 0
	expect "schema_migrations" "$(q "$url" "SELECT version FROM schema_migrations ORDER BY version" | paste -sd' ')" "$SHIPPED"
	expect "tables" "$(q "$url" "SELECT count(*) FROM information_schema.tables WHERE table_name = 'offer_snapshots'")" 0
	expect "indexes by ASIN" "$(indexes_by_asin "$url")" "competitive_history_asin"
	expect "the offers" "$(offer_rows "$url")" "$offers"
	expect "the other rows" "$(rows_of "$url")" "$before"
	expect "a replay" "$(store "$url" <"$IN" | statuses)" "$(n_times 31 duplicate)"
}

# v3_db sqlite|pg: a database at version 3 holding the rows of the fixture
# v3.sql (a SQLite dump): on PostgreSQL, the schema of migrations 1 to 3,
# then each table's rows copied over.
v3_db() {
	local lite="$BATS_TEST_TMPDIR/v3.db" url t cols
	[ -f "$lite" ] || sqlite3 -bail "$lite" <"$STORE_FIXTURES/v3.sql"
	if [ "$1" = sqlite ]; then
		url=$(fresh_db sqlite)
		cp "$lite" "${url#sqlite:}"
		echo "$url"
		return
	fi
	url=$(fresh_db pg)
	{
		echo "BEGIN; CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL);"
		cat "$BATS_TEST_DIRNAME"/../lib/sql/postgres/00[123]_*.sql
		echo "COMMIT;"
	} | psql -X -q -v ON_ERROR_STOP=1 -d "$url" >/dev/null || return 1
	for t in $(q "sqlite:$lite" "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"); do
		cols=$(q "sqlite:$lite" "SELECT group_concat(name, ', ') FROM pragma_table_info('$t')")
		sqlite3 -csv "$lite" "SELECT * FROM $t" |
			psql -X -q -v ON_ERROR_STOP=1 -d "$url" -c "\\copy $t ($cols) FROM STDIN WITH (FORMAT csv)" || return 1
	done
	q "$url" "SELECT setval('events_id_seq', (SELECT max(id) FROM events))" >/dev/null
	echo "$url"
}

@test "a version 3 database with rows migrates to the latest on both databases, each notification's offers moved in order onto its history row" {
	bb-validate <"$STORE_FIXTURES/v3-input.ndjson" 2>/dev/null |
		bb-severity --costs "$BATS_TEST_DIRNAME/../examples/costs.csv" 2>/dev/null >"$IN"
	for db in sqlite pg; do
		on $db
		url=$(v3_db $db)
		expect "version 3" "$(q "$url" "SELECT version FROM schema_migrations ORDER BY version" | paste -sd' ')" "1 2 3"
		offers=$(v3_offer_rows "$url")
		before=$(rows_of "$url")
		expect "offers of version 3" "$(wc -l <<<"$offers") $(grep -c '|1$' <<<"$offers") $(grep -c '||' <<<"$offers")" "51 9 1"
		run bb-store --migrate --db "$url"
		expect "--migrate exit status" "$status" 0
		expect "schema_migrations" "$(q "$url" "SELECT version FROM schema_migrations ORDER BY version" | paste -sd' ')" "$SHIPPED"
		if [ $db = pg ]; then
			expect "tables" "$(count "$url" information_schema.tables "table_name = 'offer_snapshots'")" 0
		else
			expect "tables" "$(count "$url" sqlite_master "name = 'offer_snapshots'")" 0
		fi
		expect "alert_deliveries" "$(count "$url" alert_deliveries)" 0
		expect "indexes by ASIN" "$(indexes_by_asin "$url")" "competitive_history_asin"
		expect "the offers" "$(offer_rows "$url")" "$offers"
		expect "the other rows" "$(rows_of "$url")" "$before"
		expect "alerts' new columns" "$(q "$url" "SELECT DISTINCT attempts, escalation_level, delivered_at IS NULL FROM alert_queues" |
			tr 'tf' '10')" "0|0|1"
		[ $db = pg ] || expect "integrity" "$(q "$url" "PRAGMA integrity_check")" ok
		# the notifications it was made from are still stored once
		before=$(counts "$url")
		expect "a replay" "$(dedupe_store "$url" <"$IN" | jq -r .status | sort | uniq -c | awk '{ print $1, $2 }' | paste -sd' ')" \
			"10 duplicate 1 skipped"
		expect "rows after a replay" "$(counts "$url")" "$before"
		# and a new one is stored as version 4 stores it
		rec HIGH 2026-01-06T00:00:00.000Z n-after B0HIGH0002 | store "$url" >"$OUT"
		expect "a new notification" "$(offer_rows "$url" "h.asin = 'B0HIGH0002' AND h.event_time >= '2026-01-06'")" \
			"0|OURS|1300|0|0||1
1|A|1000|0|0||0
2|B|1050|0|0||0
3|C|1100|0|0||0
4|D|1150|0|0||0"
	done
}

# ---------------------------------------------------------------------------
# Concurrency, crashes, outages

# concurrent DBURL P: P bb-store processes on DBURL, each fed the whole of $IN
# shuffled its own way, in batches of 10. Outputs in $OUT.1 .. $OUT.P.
concurrent() {
	local url=$1 p=$2 k pids=() rc=0
	for k in $(seq 1 "$p"); do
		shuf --random-source=<(yes "$k") "$IN" >"$IN.$k"
	done
	for k in $(seq 1 "$p"); do
		bb-store --db "$url" --batch 10 --max-delay 5 <"$IN.$k" >"$OUT.$k" 2>>"$(LOG)" 3>&- &
		pids+=($!)
	done
	track "${pids[@]}"
	for k in "${!pids[@]}"; do
		wait_exit "${pids[$k]}" 60 || { rc=$?; echo "writer $((k + 1)) exited $rc" >&2; }
	done
	return $rc
}

# check_concurrent DBURL P REFERENCE-STATE: the database holds each notification
# of $IN exactly once, each came out ok from exactly one writer (duplicate
# from the others), and current_state is REFERENCE-STATE.
check_concurrent() {
	local url=$1 p=$2 ref=$3 n k
	n=$(wc -l <"$IN")
	expect "$p writers: rows" \
		"$(count "$url" worker_notifications) $(q "$url" "SELECT count(DISTINCT message_id) FROM worker_notifications") $(count "$url" competitive_history) $(offers "$url")" \
		"$n $n $n $((5 * n))"
	expect "$p writers: message ids stored" \
		"$(q "$url" "SELECT message_id FROM worker_notifications" | LC_ALL=C sort)" "$(jq -r .message_id "$IN" | LC_ALL=C sort)"
	for k in $(seq 1 "$p"); do
		expect "$p writers: lines out of writer $k" "$(wc -l <"$OUT.$k")" "$n"
	done
	expect "$p writers: ok once per notification" "$(for k in $(seq 1 "$p"); do ids_with ok <"$OUT.$k"; done | LC_ALL=C sort)" \
		"$(jq -r .message_id "$IN" | LC_ALL=C sort)"
	expect "$p writers: duplicates" "$(for k in $(seq 1 "$p"); do ids_with duplicate <"$OUT.$k"; done | wc -l)" "$(((p - 1) * n))"
	expect "$p writers: current_state" "$(state_of "$url")" "$ref"
}

@test "concurrent writers on overlapping shuffled input store each notification once and agree with a single writer" {
	gen 120 6 >"$IN"
	for db in sqlite pg; do
		on $db
		single=$(migrated_db $db)
		store "$single" <"$IN" >/dev/null
		ref=$(state_of "$single")
		expect "single writer's current_state" "$ref" "$(expected_state <"$IN")"
		writers="2 4"
		[ $db = pg ] || writers=2
		for p in $writers; do
			url=$(migrated_db $db)
			concurrent "$url" "$p"
			check_concurrent "$url" "$p" "$ref"
		done
	done
}

@test "after kill -9 in the middle of a batch, replaying the whole input stores every notification exactly once" {
	gen 200 4 >"$IN"
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	for db in sqlite pg; do
		on $db
		url=$(migrated_db $db)
		slowly 0.005 <"$IN" >"$BATS_TEST_TMPDIR/fifo" 3>&- &
		feeder=$!
		track $feeder
		bb-store --db "$url" --batch 50 --max-delay 60000 <"$BATS_TEST_TMPDIR/fifo" >"$OUT.$db.1" 2>>"$(LOG)" 3>&- &
		pid=$!
		track $pid
		wait_lines "$OUT.$db.1" 50 30 || fail "[$db] no batch came out"
		kill -9 $pid
		wait $pid 2>/dev/null || true
		kill $feeder 2>/dev/null || true
		wait $feeder 2>/dev/null || true
		emitted=$(wc -l <"$OUT.$db.1")
		kept=$(count "$url" worker_notifications)
		[ "$emitted" -lt 200 ] || fail "[$db] the kill came too late: all 200 records came out"
		[ "$kept" -ge "$emitted" ] || fail "[$db] $emitted records came out but only $kept are stored"
		# every record that came out is stored
		expect "records out before the kill, stored" \
			"$(ids_with ok <"$OUT.$db.1" | while read -r m; do count "$url" worker_notifications "message_id = '$m'"; done | sort -u)" 1
		store "$url" <"$IN" >"$OUT.$db.2"
		expect "replay: statuses" "$(jq -r .status "$OUT.$db.2" | sort -u | paste -sd' ')" "duplicate ok"
		expect "replay: ok records" "$(ids_with ok <"$OUT.$db.2" | wc -l)" "$((200 - kept))"
		expect "replay: records out before the kill are duplicates" \
			"$(comm -12 <(ids_with ok <"$OUT.$db.1") <(ids_with ok <"$OUT.$db.2"))" ""
		expect "rows" \
			"$(count "$url" worker_notifications) $(q "$url" "SELECT count(DISTINCT dedupe_hash) FROM worker_notifications") $(count "$url" competitive_history) $(offers "$url")" \
			"200 200 200 1000"
		expect "current_state" "$(state_of "$url")" "$(expected_state <"$IN")"
	done
}

@test "PostgreSQL stopped for 10 s mid-run: bb-store waits it out, then stores and emits every record once" {
	db=pg
	url=$(migrated_db pg)
	gen 30 3 >"$IN"
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	slowly 0.3 <"$IN" >"$BATS_TEST_TMPDIR/fifo" 3>&- &
	track $!
	bb-store --db "$url" --batch 5 --max-delay 200 <"$BATS_TEST_TMPDIR/fifo" >"$OUT" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	pid=$!
	track $pid
	wait_lines "$OUT" 3 15 || fail "nothing came out before the outage"
	"$PG_LOCAL" stop "$PG_DIR"
	sleep 10
	"$PG_LOCAL" start "$PG_DIR" "$PG_PORT" >/dev/null
	rc=0
	wait_exit $pid 60 || rc=$?
	cat "$BATS_TEST_TMPDIR/err" >>"$(LOG)"
	expect "exit status" "$rc" 0
	grep -q 'database unavailable: retrying' "$BATS_TEST_TMPDIR/err" || fail "bb-store never met the outage"
	expect "every record out once" "$(jq -r .message_id "$OUT" | LC_ALL=C sort)" "$(jq -r .message_id "$IN" | LC_ALL=C sort)"
	expect "statuses" "$(jq -r .status "$OUT" | grep -cv -e '^ok$' -e '^duplicate$')" 0
	expect "rows" \
		"$(count "$url" worker_notifications) $(q "$url" "SELECT count(DISTINCT message_id) FROM worker_notifications") $(count "$url" competitive_history)" \
		"30 30 30"
	expect "message ids stored" "$(q "$url" "SELECT message_id FROM worker_notifications" | LC_ALL=C sort)" \
		"$(jq -r .message_id "$IN" | LC_ALL=C sort)"
}

@test "PostgreSQL down for longer than --retry-for: bb-store exits 75 and emits none of the uncommitted records" {
	db=pg
	url=$(migrated_db pg)
	gen 10 2 >"$IN"
	pg_stops_midway bb-store --db "$url" --retry-for 3s --max-delay 100
	cat "$BATS_TEST_TMPDIR/err" >>"$(LOG)"
	expect "exit status" "$rc" 75
	grep -q '^bb-store: fatal: unable to write batch' "$BATS_TEST_TMPDIR/err" || fail "no fatal message: $(cat "$BATS_TEST_TMPDIR/err")"
	expect "records out" "$(jq -r .message_id "$OUT" | paste -sd' ')" "n-0 n-1 n-2 n-3 n-4"
	expect "stored" "$(q "$url" "SELECT message_id FROM worker_notifications ORDER BY message_id" | paste -sd' ')" "n-0 n-1 n-2 n-3 n-4"
}

# ---------------------------------------------------------------------------
# What an operator sees: a --db that is wrong, a database that goes away, a
# stop, a broken output

@test "an empty --db, or one that names no usable database, exits 78 at once naming it, reading nothing" {
	printf '%s\n' "$(gen 1 1)" >"$IN"
	for url in '' ' ' 'bb.db' 'sqlite:' 'sqlite:/nonexistent/dir/x.db' "sqlite:$BATS_TEST_TMPDIR"; do
		exec 8<"$IN"
		run --separate-stderr timeout 20 bb-store --db "$url" <&8
		left=$(cat <&8)
		exec 8<&-
		expect "exit status for --db '$url'" "$status" 78
		expect "stdout for --db '$url'" "$output" ""
		expect_match "stderr for --db '$url'" "$stderr" "^bb-store: fatal: unable to open database '$url': .+$"
		expect "lines of stderr for --db '$url'" "${#stderr_lines[@]}" 1
		expect "input left for --db '$url'" "$left" "$(cat "$IN")"
	done
	run --separate-stderr bb-store --db '' </dev/null
	expect "the reason for an empty --db" "$stderr" \
		"bb-store: fatal: unable to open database '': empty: expected sqlite:PATH, or a PostgreSQL URL or conninfo string"
	# the system's reason, naming the file
	run --separate-stderr bb-store --db sqlite:/nonexistent/dir/x.db </dev/null
	expect "the reason for a missing directory" "$stderr" \
		"bb-store: fatal: unable to open database 'sqlite:/nonexistent/dir/x.db': /nonexistent/dir/x.db: No such file or directory"
	run --separate-stderr bb-store --db "sqlite:$BATS_TEST_TMPDIR" </dev/null
	expect "the reason for a directory" "$stderr" \
		"bb-store: fatal: unable to open database 'sqlite:$BATS_TEST_TMPDIR': $BATS_TEST_TMPDIR: Is a directory"
	# a directory the user may not write: the file cannot be created
	d=$(mktemp -d) && chmod 555 "$d"
	run --separate-stderr setpriv --reuid=65534 --regid=65534 --clear-groups "$(command -v bb-store)" --db "sqlite:$d/x.db" </dev/null
	rmdir "$d"
	expect "exit status for a directory not open to the user" "$status" 78
	expect "the reason for a directory not open to the user" "$stderr" \
		"bb-store: fatal: unable to open database 'sqlite:$d/x.db': $d/x.db: Permission denied"
	echo "not a database" >"$BATS_TEST_TMPDIR/text.db"
	run --separate-stderr bb-store --db "sqlite:$BATS_TEST_TMPDIR/text.db" </dev/null
	expect "exit status for a file that is no database" "$status" 78
	expect "the reason" "$stderr" \
		"bb-store: fatal: unable to open database 'sqlite:$BATS_TEST_TMPDIR/text.db': unable to set WAL mode: file is not a database"
}

@test "PostgreSQL: a database that does not exist exits 78 naming it, its password masked; a server not listening, 75" {
	db=pg
	url="postgresql://$PG_USER:s3cret@/no_such_db?host=$PG_DIR&port=$PG_PORT"
	run --separate-stderr timeout 20 bb-store --db "$url" </dev/null
	expect "exit status" "$status" 78
	expect_match "stderr" "$stderr" \
		"^bb-store: fatal: unable to open database 'postgresql://$PG_USER:\\*\\*\\*@/no_such_db\\?host=[^']+': unable to connect: .*FATAL: +database \"no_such_db\" does not exist"
	[[ $stderr != *s3cret* ]] || fail "the password was shown: $stderr"
	# nothing listens on port 9: a server that may come, not a mistake
	run --separate-stderr timeout 20 bb-store --db "host=127.0.0.1 port=9 dbname=bb" </dev/null
	expect "exit status, nothing listening" "$status" 75
	expect_match "stderr, nothing listening" "$stderr" \
		"^bb-store: fatal: unable to open database 'host=127.0.0.1 port=9 dbname=bb': unable to connect: .*refused"
}

@test "PostgreSQL stopped mid-run: warned about within 5 s naming the database, password masked; SIGTERM ends the retries within 1 s" {
	db=pg
	name=$(fresh_db pg | sed -n 's/.*dbname=\([^ ]*\).*/\1/p')
	url="postgresql://$PG_USER:s3cret@/$name?host=$PG_DIR&port=$PG_PORT"
	bb-store --migrate --db "$url" 2>>"$(LOG)"
	gen 10 2 >"$IN"
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	timeout 60 bb-store --db "$url" --max-delay 100 <"$BATS_TEST_TMPDIR/fifo" >"$OUT" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	pid=$!
	track $pid
	exec 4>"$BATS_TEST_TMPDIR/fifo"
	head -n 5 "$IN" >&4
	wait_lines "$OUT" 5 10 || fail "the first five records did not come out"
	"$PG_LOCAL" stop "$PG_DIR"
	tail -n 5 "$IN" >&4
	wait_for 5 grep -q 'database unavailable' "$BATS_TEST_TMPDIR/err" ||
		fail "no warning within 5 s: $(cat "$BATS_TEST_TMPDIR/err")"
	term_and_time $pid
	exec 4>&-
	"$PG_LOCAL" start "$PG_DIR" "$PG_PORT" >/dev/null
	cat "$BATS_TEST_TMPDIR/err" >>"$(LOG)"
	[ "$term_ms" -le 1000 ] || fail "bb-store took $term_ms ms to stop"
	expect "exit status (the batch in hand could not be committed)" "$term_status" 75
	expect "warnings" "$(grep -c 'level=warn' "$BATS_TEST_TMPDIR/err")" 1
	expect_match "the warning" "$(grep 'level=warn' "$BATS_TEST_TMPDIR/err")" \
		"^ts=[^ ]+ level=warn prog=bb-store msg=\"database unavailable: retrying\" db=\"?postgresql://$PG_USER:\\*\\*\\*@/$name\\?host=[^ ]+ error=\"[^\"]+\" attempts=1 failing_for_s=0\$"
	grep -q "^bb-store: fatal: unable to write batch to 'postgresql://$PG_USER:\*\*\*@/$name?host=.*(stopped while retrying)\$" \
		"$BATS_TEST_TMPDIR/err" || fail "no fatal message: $(cat "$BATS_TEST_TMPDIR/err")"
	! grep -q s3cret "$BATS_TEST_TMPDIR/err" || fail "the password was logged"
	expect "records out: the committed ones only" "$(jq -r .message_id "$OUT" | paste -sd' ')" "n-0 n-1 n-2 n-3 n-4"
}

@test "SQLite locked by another writer: SIGTERM ends the wait for the lock within 1 s" {
	db=sqlite
	url=$(migrated_db sqlite)
	gen 3 1 >"$IN"
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	timeout 60 bb-store --db "$url" --max-delay 100 <"$BATS_TEST_TMPDIR/fifo" >"$OUT" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	pid=$!
	track $pid
	exec 4>"$BATS_TEST_TMPDIR/fifo"
	# bb-store has the database open; then another writer takes its lock
	sleep 1
	hold_lock "$url" 8 "$BATS_TEST_TMPDIR/locked" 3>&- &
	track $!
	wait_file "$BATS_TEST_TMPDIR/locked" 10 || fail "the lock was not taken"
	cat "$IN" >&4
	sleep 2
	term_and_time $pid
	exec 4>&-
	cat "$BATS_TEST_TMPDIR/err" >>"$(LOG)"
	[ "$term_ms" -le 1000 ] || fail "bb-store took $term_ms ms to stop"
	expect "exit status (the batch in hand could not be committed)" "$term_status" 75
	grep -q "^bb-store: fatal: unable to write batch to '$url': .*locked.*(stopped while retrying)\$" "$BATS_TEST_TMPDIR/err" ||
		fail "no fatal message: $(cat "$BATS_TEST_TMPDIR/err")"
	expect "records out" "$(wc -l <"$OUT")" 0
}

@test "standard output on a full disk: exit 74, saying so" {
	for db in sqlite pg; do
		on $db
		url=$(migrated_db $db)
		run --separate-stderr bash -c 'bb-store --db "$1" >/dev/full' _ "$url" <<<"$(gen 1 1)"
		expect "exit status" "$status" 74
		expect_match "stderr" "$stderr" '^bb-store: fatal: unable to write standard output: No space left on device'
		expect "stored all the same" "$(count "$url" worker_notifications)" 1
	done
}

# ---- bad input to the letter ----

@test "a stored body is the bytes that were hashed, and valid JSON, on both databases" {
	# an escaped NUL where bb keeps no id, and text beyond ASCII, kept as sent
	body=$(notify "OURS:12.00 A:10.00" '.NotificationMetadata.ApplicationId = "app\u0000tail" | .Payload.AnyOfferChangedNotification.Note = "prix €12 – 😀"')
	[[ $body == *'\u0000'* ]] || fail "the fixture lost its escaped NUL"
	want=$(printf '%s' "$body" | sha256sum | cut -d' ' -f1)
	for db in sqlite pg; do
		on $db
		url=$(migrated_db $db)
		envelope "$body" m-1 | analysed | store "$url" >"$OUT.1"
		expect "status" "$(statuses <"$OUT.1")" ok
		expect "dedupe_hash" "$(q "$url" "SELECT dedupe_hash FROM worker_notifications")" "$want"
		case $db in
		sqlite)
			expect "the body re-hashed" "$(q "$url" "SELECT body FROM worker_notifications" | head -c -1 | sha256sum | cut -d' ' -f1)" "$want"
			expect "json_valid(body)" "$(q "$url" "SELECT json_valid(body) FROM worker_notifications")" 1
			expect "json_extract over the table" "$(q "$url" "SELECT count(json_extract(body, '$.NotificationType')) FROM worker_notifications")" 1
			;;
		pg)
			expect "the body re-hashed" \
				"$(q "$url" "SELECT encode(sha256(convert_to(body, 'UTF8')), 'hex') FROM worker_notifications")" "$want"
			# json keeps \u0000 as written (jsonb and ->> cannot turn it into text)
			expect "body::json" "$(q "$url" "SELECT json_typeof(body::json) FROM worker_notifications")" object
			;;
		esac
	done
}

@test "ids that differ only after an escaped NUL are two failures, never one duplicate, on both databases" {
	a=$(notify "OURS:12.00 A:10.00" "$(with_id 'n-1\u0000a')")
	b=$(notify "OURS:12.00 A:10.00" "$(with_id 'n-1\u0000b')")
	for db in sqlite pg; do
		on $db
		url=$(migrated_db $db)
		printf '%s\n%s\n' "$a" "$b" | analysed | store "$url" >"$OUT.1"
		expect "statuses" "$(statuses <"$OUT.1")" "rejected rejected"
		expect "failures" "$(q "$url" "SELECT error_type, count(*) FROM worker_failures GROUP BY error_type")" "schema|2"
		expect "their ids, the hashes of their bodies" \
			"$(q "$url" "SELECT message_id FROM worker_failures ORDER BY message_id")" \
			"$(printf '%s\n%s\n' "$(printf '%s' "$a" | sha256sum | cut -d' ' -f1)" "$(printf '%s' "$b" | sha256sum | cut -d' ' -f1)" | sort)"
		expect "nothing stored as ok" "$(count "$url" worker_notifications)" 0
	done
}

@test "bodies that are not strict JSON are never stored as ok, on both databases" {
	for form in +5 .5 05 1.; do
		line=$(notify "OURS:12.00 A:10.00" | sed "s/\"Amount\":10,/\"Amount\":$form,/")
		for db in sqlite pg; do
			on $db
			url=$(migrated_db $db)
			envelope "$line" m-1 | analysed | store "$url" >"$OUT.1"
			expect "$form: status" "$(statuses <"$OUT.1")" rejected
			expect "$form: kept as a failure" "$(q "$url" "SELECT error_type FROM worker_failures")" malformed_json
			expect "$form: nothing stored as ok" "$(count "$url" worker_notifications)" 0
		done
	done
}
