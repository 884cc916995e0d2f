#!/usr/bin/env bats
# bb-ack: each record settled with a real SQS (the fauxqs emulator) by its
# outcome: stored, duplicate and skipped deleted; rejected (and failed on its
# last delivery) copied to the DLQ with error_type and trace_id, then deleted;
# failed given back later; nothing deleted before it is stored; --all.
# What bb-ack did is checked with an independent client (the AWS SDK).

load helper
load sqs-helper

BATS_NO_PARALLELIZE_WITHIN_FILE=true
STORED='{"notification_id":null,"event_id":null,"at":"2026-01-01T00:00:00.000Z"}'

setup_file() {
	sqs_start 4582
}

teardown_file() {
	sqs_stop
}

setup() {
	sqs_require
	T=$BATS_TEST_TMPDIR
}

# receive ARGS...: bb-sqs-recv --queue-url $Q ARGS > $T/recv.ndjson (real
# envelopes with live receipt handles).
receive() {
	timeout 60 bb-sqs-recv --queue-url "$Q" --wait-seconds 1 "$@" >"$T/recv.ndjson" 2>"$T/recv.err" ||
		{ cat "$T/recv.err" >&2; return 1; }
}

# outcome STATUS [ERROR-TYPE] < records: the records as bb-store passes them
# on: status set, error added when a type is given, stored added.
outcome() {
	jq -c --arg s "$1" --arg e "${2:-}" --argjson stored "$STORED" '. + {status: $s}
	  + (if $e == "" then {} else {error: {type: $e, message: "test", stage: "store", path: null}} end)
	  + {stored: $stored}'
}

# ack ARGS... < records: bb-ack ARGS > $T/out.ndjson, stderr in $T/err,
# status in $status.
ack() {
	status=0
	timeout 60 bb-ack "$@" >"$T/out.ndjson" 2>"$T/err" || status=$?
}

# acks: the ack member of each output line, compact.
acks() {
	jq -c .ack "$T/out.ndjson"
}

@test "stored, duplicate and skipped records are deleted, and come out with ack added" {
	fresh_queues delete
	printf 'one\ntwo ✓\nthree\n' | sdk_send "$Q" >/dev/null
	receive --drain
	{
		sed -n 1p "$T/recv.ndjson" | outcome ok
		sed -n 2p "$T/recv.ndjson" | outcome duplicate
		sed -n 3p "$T/recv.ndjson" | outcome skipped
	} >"$T/in.ndjson"

	ack --dlq-url "$DLQ" <"$T/in.ndjson"
	expect "exit status" "$status" 0
	expect "acks" "$(acks | paste -sd' ' -)" "$(printf '{"deleted":true,"dlq":false,"error":null} %.0s' 1 2 3 | sed 's/ $//')"
	for i in 1 2 3; do
		in=$(sed -n "${i}p" "$T/in.ndjson")
		expect "output line $i" "$(sed -n "${i}p" "$T/out.ndjson")" "${in%\}},\"ack\":{\"deleted\":true,\"dlq\":false,\"error\":null}}"
	done
	expect "messages left in the queue" "$(sqs_total "$Q")" 0
	expect "messages in the DLQ" "$(sqs_total "$DLQ")" 0
}

@test "a rejected record goes to the DLQ with error_type and trace_id, its body byte for byte, and leaves the queue" {
	fresh_queues reject
	printf '{"NotificationType": "ANY_OFFER_CHANGED", "broken": "日本 😀 \\" tab\there\n' >"$T/body.txt"
	sdk_send "$Q" <"$T/body.txt" >/dev/null
	receive --drain
	outcome rejected malformed_json <"$T/recv.ndjson" >"$T/in.ndjson"
	trace=$(jq -r .trace_id "$T/in.ndjson")

	ack --dlq-url "$DLQ" <"$T/in.ndjson"
	expect "exit status" "$status" 0
	expect "ack" "$(acks)" '{"deleted":true,"dlq":true,"error":null}'
	expect "messages left in the queue" "$(sqs_total "$Q")" 0
	sdk_receive "$DLQ" --max 10 >"$T/dlq.ndjson"
	expect "messages in the DLQ" "$(wc -l <"$T/dlq.ndjson")" 1
	expect "DLQ message attributes" "$(jq -c .MessageAttributes "$T/dlq.ndjson")" \
		"{\"error_type\":{\"DataType\":\"String\",\"StringValue\":\"malformed_json\"},\"trace_id\":{\"DataType\":\"String\",\"StringValue\":\"$trace\"}}"
	jq -j .Body "$T/dlq.ndjson" >"$T/dlq-body"
	cmp "$T/dlq-body" <(head -c -1 "$T/body.txt") || fail "the DLQ message's body differs from the original"
}

@test "without --dlq-url a rejected record is left in the queue, not deleted" {
	fresh_queues nodlq
	printf 'not json\n' | sdk_send "$Q" >/dev/null
	receive --drain
	outcome rejected malformed_json <"$T/recv.ndjson" >"$T/in.ndjson"

	ack <"$T/in.ndjson"
	expect "exit status" "$status" 0
	expect "ack deleted, dlq" "$(jq -c '[.ack.deleted, .ack.dlq]' "$T/out.ndjson")" '[false,false]'
	expect "visible, in flight" "$(sqs_counts "$Q")" "0 1"
	expect "messages in the DLQ" "$(sqs_total "$DLQ")" 0
}

@test "a failed record with receive_count below 3 is not deleted and comes back later than its original timeout" {
	fresh_queues retry 2
	printf 'try again\n' | sdk_send "$Q" >/dev/null
	receive --max-messages 1 --visibility-timeout 2
	received=$(ms_now)
	expect "receive_count" "$(jq -r .sqs.receive_count "$T/recv.ndjson")" 1
	outcome failed db_unavailable <"$T/recv.ndjson" >"$T/in.ndjson"

	ack --dlq-url "$DLQ" <"$T/in.ndjson"
	expect "exit status" "$status" 0
	expect "ack" "$(acks)" '{"deleted":false,"dlq":false,"error":null}'
	# the original timeout (2 s) is long past: still hidden, still there
	sleep_until $((received + 4000))
	expect "visible, in flight 4 s after the receive" "$(sqs_counts "$Q")" "0 1"
	WAIT_STEP=1 wait_for 45 counts_are "$Q" "1 0" ||
		fail "not visible again 45 s after the receive: $(sqs_counts "$Q")"
	back=$(($(ms_now) - received))
	[ "$back" -gt 5000 ] || fail "visible again after only ${back} ms"
	expect "messages in the DLQ" "$(sqs_total "$DLQ")" 0
	receive --max-messages 1
	expect "the same message, second delivery" "$(jq -c '[.body, .sqs.receive_count]' "$T/recv.ndjson")" '["try again",2]'
}

@test "a failed record on its third delivery goes to the DLQ and is deleted" {
	fresh_queues poison
	printf 'poison pill ☠\n' | sdk_send "$Q" >/dev/null
	receive --max-messages 1 --visibility-timeout 0
	receive --max-messages 1 --visibility-timeout 0
	receive --max-messages 1
	expect "receive_count" "$(jq -r .sqs.receive_count "$T/recv.ndjson")" 3
	outcome failed db_unavailable <"$T/recv.ndjson" >"$T/in.ndjson"
	trace=$(jq -r .trace_id "$T/in.ndjson")

	ack --dlq-url "$DLQ" <"$T/in.ndjson"
	expect "exit status" "$status" 0
	expect "ack" "$(acks)" '{"deleted":true,"dlq":true,"error":null}'
	expect "messages left in the queue" "$(sqs_total "$Q")" 0
	sdk_receive "$DLQ" --max 10 >"$T/dlq.ndjson"
	expect "DLQ messages (body, attributes)" "$(jq -c '[.Body, .MessageAttributes]' "$T/dlq.ndjson")" \
		"[\"poison pill ☠\",{\"error_type\":{\"DataType\":\"String\",\"StringValue\":\"db_unavailable\"},\"trace_id\":{\"DataType\":\"String\",\"StringValue\":\"$trace\"}}]"
}

@test "records without sqs pass through byte for byte, in order, among settled ones" {
	fresh_queues passthrough
	printf 'settle me\n' | sdk_send "$Q" >/dev/null
	receive --drain
	{
		notify "OURS:20.00:w"
		printf '%s\n' 'not JSON at all ✓'
		outcome ok <"$T/recv.ndjson"
		printf '%s\n' '{ "spaced" : "out \u00e9" ,"status":"ok","stored":{}  }'
		printf '%s\n' '{"trace_id":"t-1","body":"x","status":"rejected","error":{"type":"schema"},"stored":{}}'
		printf '%s\n' '[1, 2, 3]'
	} >"$T/in.ndjson"

	ack --dlq-url "$DLQ" <"$T/in.ndjson"
	expect "exit status" "$status" 0
	expect "output lines" "$(wc -l <"$T/out.ndjson")" 6
	for i in 1 2 4 5 6; do
		cmp <(sed -n "${i}p" "$T/in.ndjson") <(sed -n "${i}p" "$T/out.ndjson") || fail "line $i changed"
	done
	expect "line 3's ack" "$(sed -n 3p "$T/out.ndjson" | jq -c .ack)" '{"deleted":true,"dlq":false,"error":null}'
	expect "messages left in the queue" "$(sqs_total "$Q")" 0
	expect "messages in the DLQ" "$(sqs_total "$DLQ")" 0
}

@test "a record without stored is not deleted, ack.error says so, and the log holds no full receipt handle" {
	fresh_queues unstored
	printf 'not yet\n' | sdk_send "$Q" >/dev/null
	receive --drain
	jq -c '. + {status: "ok"}' "$T/recv.ndjson" >"$T/in.ndjson"
	handle=$(jq -r .sqs.receipt_handle "$T/in.ndjson")

	ack --dlq-url "$DLQ" <"$T/in.ndjson"
	expect "exit status" "$status" 0
	expect "ack deleted, dlq" "$(jq -c '[.ack.deleted, .ack.dlq]' "$T/out.ndjson")" '[false,false]'
	expect_match "ack.error" "$(jq -r .ack.error "$T/out.ndjson")" 'not stored'
	expect "visible, in flight" "$(sqs_counts "$Q")" "0 1"
	expect "messages in the DLQ" "$(sqs_total "$DLQ")" 0
	grep -q 'not settled' "$T/err" || fail "no warning logged: $(cat "$T/err")"
	! grep -qF -- "$handle" "$T/err" || fail "stderr holds the full receipt handle"
}

@test "--all deletes whatever it reads: a DLQ drained into a file" {
	fresh_queues dump
	big_body 262144 >"$T/big.txt"
	{
		printf 'dead one\n{"NotificationType":"X","é":"😀"}\nnot json {\n'
		cat "$T/big.txt"
		echo
	} >"$T/bodies.txt"
	sdk_send "$DLQ" --attr error_type=malformed_json <"$T/bodies.txt" >/dev/null

	status=0
	timeout 60 bb-sqs-recv --queue-url "$DLQ" --drain --wait-seconds 1 2>"$T/recv.err" |
		bb-ack --all >"$T/dump.ndjson" 2>"$T/err" || status=$?
	expect "exit status" "$status" 0
	expect "messages left in the DLQ" "$(sqs_total "$DLQ")" 0
	expect "records in the dump" "$(wc -l <"$T/dump.ndjson")" 4
	expect "acks" "$(jq -c .ack "$T/dump.ndjson" | sort -u)" '{"deleted":true,"dlq":false,"error":null}'
	# every body, byte for byte (sorted by content)
	python3 - "$T/bodies.txt" "$T/dump.ndjson" <<-'EOF' || fail "the dump does not hold every message's body"
		import json, sys
		want = sorted(open(sys.argv[1], "rb").read().split(b"\n")[:-1])
		got = sorted(json.loads(l)["body"].encode() for l in open(sys.argv[2], "rb"))
		sys.exit(0 if want == got else 1)
	EOF
}

@test "--settled FIFO: an empty line first, then the receipt handle of every record it settled, whatever the outcome" {
	fresh_queues report
	printf 'a\nb\nc\n' | sdk_send "$Q" >/dev/null
	receive --drain
	{
		sed -n 1p "$T/recv.ndjson" | outcome ok
		echo '{"body":"a replay, no sqs","status":"ok"}'
		sed -n 2p "$T/recv.ndjson" | outcome rejected schema
		sed -n 3p "$T/recv.ndjson" | outcome failed
	} >"$T/in.ndjson"
	mkfifo "$T/settled"
	cat "$T/settled" >"$T/reported" &
	reader=$!
	ack --dlq-url "$DLQ" --settled "$T/settled" <"$T/in.ndjson"
	wait "$reader"
	expect "exit status" "$status" 0
	expect "records out" "$(wc -l <"$T/out.ndjson")" 4
	# deleted, dead-lettered and given back for later: each is settled as far
	# as bb-sqs-recv is concerned; the replay had nothing to settle
	expect "reported" "$(cat "$T/reported")" "$(printf '\n'; jq -r .sqs.receipt_handle "$T/recv.ndjson")"
}

@test "--settled: bb-ack goes on, and settles everything, when nobody reads the FIFO any more" {
	fresh_queues noreader
	printf 'a\nb\n' | sdk_send "$Q" >/dev/null
	receive --drain
	outcome ok <"$T/recv.ndjson" >"$T/in.ndjson"
	mkfifo "$T/settled"
	# a reader that goes away after the first line it reads
	head -n 1 "$T/settled" >/dev/null &
	ack --settled "$T/settled" <"$T/in.ndjson"
	expect "exit status" "$status" 0
	expect "acks" "$(acks | sort -u)" '{"deleted":true,"dlq":false,"error":null}'
	expect "messages left in the queue" "$(sqs_total "$Q")" 0
}

@test "--settled on a path that is not a FIFO, or missing: exit 78 before reading anything, naming it" {
	: >"$T/plain"
	ack --settled "$T/plain" </dev/null
	expect "exit status" "$status" 78
	grep -qF "'$T/plain'" "$T/err" || fail "stderr does not name the path: $(cat "$T/err")"
	expect "nothing written to the file" "$(wc -c <"$T/plain")" 0
	ack --settled "$T/missing" </dev/null
	expect "exit status, missing" "$status" 78
}

# ---------------------------------------------------------------------------
# What an operator sees: a missing dead-letter queue, a failing endpoint, a
# stop, a broken output

@test "a dead-letter queue that does not exist: exit 78 before reading or deleting anything, naming it" {
	fresh_queues missingdlq
	printf 'keep me\n' | sdk_send "$Q" >/dev/null
	receive --drain
	outcome ok <"$T/recv.ndjson" >"$T/in.ndjson"
	missing="${DLQ%/*}/no-such-dlq-$BATS_TEST_NUMBER"
	# one open file shared with bb-ack: what it did not read is left
	exec 8<"$T/in.ndjson"
	status=0
	timeout 60 bb-ack --dlq-url "$missing" <&8 >"$T/out.ndjson" 2>"$T/err" || status=$?
	left=$(cat <&8)
	exec 8<&-
	expect "exit status" "$status" 78
	expect "stderr" "$(cat "$T/err")" \
		"bb-ack: fatal: unable to use dead-letter queue '$missing': AWS.SimpleQueueService.NonExistentQueue: The specified queue does not exist."
	expect "stdout" "$(cat "$T/out.ndjson")" ""
	expect "the input, unread" "$left" "$(cat "$T/in.ndjson")"
	expect "visible, in flight: not deleted" "$(sqs_counts "$Q")" "0 1"
}

@test "an endpoint that refuses connections is warned about within 5 s, naming it; SIGTERM ends the retries within 1 s, the record unsettled" {
	fresh_queues deadack
	printf 'one\n' | sdk_send "$Q" >/dev/null
	receive --drain
	outcome ok <"$T/recv.ndjson" >"$T/in.ndjson"
	mkfifo "$T/in"
	AWS_ENDPOINT_URL_SQS=http://127.0.0.1:9 timeout 60 bb-ack <"$T/in" >"$T/out.ndjson" 2>"$T/err" &
	pid=$!
	exec 7>"$T/in"
	cat "$T/in.ndjson" >&7
	wait_for 5 grep -q 'SQS unavailable' "$T/err" || fail "no warning within 5 s: $(cat "$T/err")"
	term_and_time "$pid"
	exec 7>&-
	[ "$term_ms" -le 1000 ] || fail "bb-ack took $term_ms ms to stop"
	expect "exit status" "$term_status" 0
	expect_match "the warning" "$(grep 'SQS unavailable' "$T/err")" \
		'^ts=[^ ]+ level=warn prog=bb-ack msg="SQS unavailable: retrying" endpoint=http://127.0.0.1:9 error=connection detail="Couldn.t connect to server" attempts=1 failing_for_s=0$'
	expect "ack" "$(jq -c .ack "$T/out.ndjson")" \
		"{\"deleted\":false,\"dlq\":false,\"error\":\"DeleteMessageBatch: connection: Couldn't connect to server\"}"
	grep -q 'msg=summary deleted=0 dead_lettered=0 retry_later=0 unsettled=1' "$T/err" || fail "summary: $(cat "$T/err")"
	expect "visible, in flight: left for redelivery" "$(sqs_counts "$Q")" "0 1"
}

@test "standard output on a full disk: exit 74, saying so" {
	status=0
	echo '{"body":"a replay, nothing to settle","status":"ok","stored":{}}' |
		timeout 60 bb-ack >/dev/full 2>"$T/err" || status=$?
	expect "exit status" "$status" 74
	grep -qx 'bb-ack: fatal: unable to write standard output: No space left on device' "$T/err" ||
		fail "no message: $(cat "$T/err")"
}
