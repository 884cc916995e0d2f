#!/usr/bin/env bats
# bb-sqs-recv: messages from a real SQS (the fauxqs emulator), sent by an
# independent client (the AWS SDK), come out as DESIGN.md's envelope with the
# body byte for byte; --max-messages, --drain, the visibility timeout,
# --concurrency; a missing queue; no receipt handle in the logs.

load helper
load sqs-helper

BATS_NO_PARALLELIZE_WITHIN_FILE=true

setup_file() {
	sqs_start 4581
}

teardown_file() {
	sqs_stop
}

setup() {
	sqs_require
	T=$BATS_TEST_TMPDIR
}

# recv ARGS...: bb-sqs-recv ARGS > $T/out.ndjson, stderr in $T/err; its
# status in $status.
recv() {
	status=0
	timeout 60 bb-sqs-recv "$@" >"$T/out.ndjson" 2>"$T/err" || status=$?
}

@test "bodies sent by the SDK come out byte for byte in .body: Unicode, JSON text, attributes, 256 KiB" {
	fresh_queues bodies
	{
		printf 'plain ASCII\n'
		printf 'caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80 \xe2\x80\xa8 \xef\xbb\xbf \xc2\xa0 end\n'
		printf '{"NotificationType":"ANY_OFFER_CHANGED","s":"quote \\" backslash \\\\ slash \\/ \\u00e9"}\n'
		printf 'tab\tand CR\r\n'
		printf '  leading and trailing spaces  \n'
	} >"$T/small.txt"
	big_body 262144 >"$T/big.txt"
	sdk_send "$Q" --attr 'origin=sdk ✓' --attr 'n:Number=42' <"$T/small.txt" >"$T/ids"
	{ cat "$T/big.txt"; echo; } | sdk_send "$Q" >>"$T/ids"
	expect "messages sent" "$(wc -l <"$T/ids")" 6

	recv --queue-url "$Q" --drain --wait-seconds 1
	expect "exit status" "$status" 0
	expect "records" "$(wc -l <"$T/out.ndjson")" 6
	n=0
	while IFS= read -r line; do
		n=$((n + 1))
		id=$(sed -n "${n}p" "$T/ids")
		jq -j --arg id "$id" 'select(.sqs.message_id == $id) | .body' "$T/out.ndjson" >"$T/got.$n"
		cmp "$T/got.$n" <(printf '%s' "$line") || fail "message $n ($id): .body differs from the bytes sent"
	done <"$T/small.txt"
	jq -j --arg id "$(sed -n 6p "$T/ids")" 'select(.sqs.message_id == $id) | .body' "$T/out.ndjson" >"$T/got.6"
	expect "bytes of the 256 KiB body" "$(wc -c <"$T/got.6")" 262144
	cmp "$T/got.6" "$T/big.txt" || fail "the 256 KiB body differs"
}

@test "the envelope: trace_id (UUID v7), sqs {queue_url, message_id, receipt_handle, receive_count 1, sent_at, first_received_at}, received_at" {
	fresh_queues envelope
	id=$(printf 'hello\n' | sdk_send "$Q")
	before=$(ms_rfc3339 "$(ms_now)")

	# visibility 0: the message is visible again at once, for the SDK to read
	# the timestamps SQS keeps for it
	recv --queue-url "$Q" --max-messages 1 --wait-seconds 1 --visibility-timeout 0
	after=$(ms_rfc3339 "$(($(ms_now) + 1))")
	expect "exit status" "$status" 0
	expect "records" "$(wc -l <"$T/out.ndjson")" 1
	rec=$(cat "$T/out.ndjson")
	expect "members, in order" "$(jq -c 'keys_unsorted' <<<"$rec")" '["trace_id","sqs","body","received_at"]'
	expect "sqs members, in order" "$(jq -c '.sqs | keys_unsorted' <<<"$rec")" \
		'["queue_url","message_id","receipt_handle","receive_count","sent_at","first_received_at"]'
	expect_match "trace_id" "$(jq -r .trace_id <<<"$rec")" "$UUID7"
	expect "sqs.queue_url" "$(jq -r .sqs.queue_url <<<"$rec")" "$Q"
	expect "sqs.message_id" "$(jq -r .sqs.message_id <<<"$rec")" "$id"
	expect "sqs.receive_count" "$(jq -c .sqs.receive_count <<<"$rec")" 1
	expect "body" "$(jq -c .body <<<"$rec")" '"hello"'
	expect "receipt_handle is a non-empty string" "$(jq -r '.sqs.receipt_handle | type == "string" and length > 0' <<<"$rec")" true

	sdk_receive "$Q" --max 1 >"$T/sdk.ndjson"
	sent=$(ms_rfc3339 "$(jq -r .Attributes.SentTimestamp "$T/sdk.ndjson")")
	first=$(ms_rfc3339 "$(jq -r .Attributes.ApproximateFirstReceiveTimestamp "$T/sdk.ndjson")")
	expect "the SDK sees the second receive" "$(jq -r .Attributes.ApproximateReceiveCount "$T/sdk.ndjson")" 2
	expect "sqs.sent_at (SentTimestamp)" "$(jq -r .sqs.sent_at <<<"$rec")" "$sent"
	expect "sqs.first_received_at (ApproximateFirstReceiveTimestamp)" "$(jq -r .sqs.first_received_at <<<"$rec")" "$first"
	received=$(jq -r .received_at <<<"$rec")
	expect_match "received_at" "$received" "$RFC3339_MS"
	[[ ! $received < $first && ! $received < $before && ! $after < $received ]] ||
		fail "received_at $received is not the time of receipt (first receive $first, run $before .. $after)"
}

@test "every record has its own trace_id" {
	fresh_queues traces
	seq 1 30 | sdk_send "$Q" >/dev/null
	recv --queue-url "$Q" --drain --wait-seconds 1
	expect "records" "$(wc -l <"$T/out.ndjson")" 30
	expect "distinct trace ids" "$(jq -r .trace_id "$T/out.ndjson" | sort -u | wc -l)" 30
	expect "UUID v7 trace ids" "$(jq -r .trace_id "$T/out.ndjson" | grep -cE "$UUID7")" 30
}

@test "--max-messages 3 stops after exactly 3 and leaves the others in the queue" {
	fresh_queues max
	seq 1 12 | sdk_send "$Q" >/dev/null
	recv --queue-url "$Q" --max-messages 3 --wait-seconds 1
	expect "exit status" "$status" 0
	expect "records" "$(wc -l <"$T/out.ndjson")" 3
	# only 3 received: the other 9 are still visible
	expect "visible, in flight" "$(sqs_counts "$Q")" "9 3"
}

@test "--drain exits 0 at once when the queue is empty" {
	fresh_queues empty
	start=$(ms_now)
	recv --queue-url "$Q" --drain --wait-seconds 1
	elapsed=$(($(ms_now) - start))
	expect "exit status" "$status" 0
	expect "records" "$(wc -l <"$T/out.ndjson")" 0
	[ "$elapsed" -lt 5000 ] || fail "--drain on an empty queue took ${elapsed} ms"
}

@test "--drain takes every message, then exits 0" {
	fresh_queues drain
	seq 1 45 | sdk_send "$Q" >/dev/null
	recv --queue-url "$Q" --drain --wait-seconds 1
	expect "exit status" "$status" 0
	expect "bodies" "$(jq -r .body "$T/out.ndjson" | sort -n | paste -sd, -)" "$(seq 1 45 | paste -sd, -)"
	expect "visible, in flight" "$(sqs_counts "$Q")" "0 45"
}

@test "a message received and never settled comes back after its visibility timeout with receive_count 2" {
	fresh_queues redeliver
	id=$(printf 'again\n' | sdk_send "$Q")
	recv --queue-url "$Q" --max-messages 1 --wait-seconds 1 --visibility-timeout 2
	start=$(ms_now)
	cp "$T/out.ndjson" "$T/first.ndjson"
	expect "first receive" "$(jq -c '[.sqs.message_id, .sqs.receive_count]' "$T/first.ndjson")" "[\"$id\",1]"
	# still hidden within the timeout
	recv --queue-url "$Q" --drain --wait-seconds 0
	expect "records within the timeout" "$(wc -l <"$T/out.ndjson")" 0
	sleep_until $((start + 3000))
	recv --queue-url "$Q" --max-messages 1 --wait-seconds 2
	expect "exit status" "$status" 0
	expect "second receive" "$(jq -c '[.sqs.message_id, .sqs.receive_count, .body]' "$T/out.ndjson")" "[\"$id\",2,\"again\"]"
	expect "first_received_at unchanged" "$(jq -r .sqs.first_received_at "$T/out.ndjson")" \
		"$(jq -r .sqs.first_received_at "$T/first.ndjson")"
	[ "$(jq -r .sqs.receipt_handle "$T/out.ndjson")" != "$(jq -r .sqs.receipt_handle "$T/first.ndjson")" ] ||
		fail "the second receive has the first one's receipt handle"
}

@test "--concurrency 4 drains 200 messages, each emitted exactly once" {
	fresh_queues concurrency
	seq -f 'm%03g' 1 200 | sdk_send "$Q" --batch >/dev/null
	recv --queue-url "$Q" --concurrency 4 --drain --wait-seconds 1
	expect "exit status" "$status" 0
	expect "records" "$(wc -l <"$T/out.ndjson")" 200
	expect "every line one JSON object" "$(jq -c 'type' "$T/out.ndjson" | sort | uniq -c | awk '{print $1, $2}')" '200 "object"'
	expect "distinct message ids" "$(jq -r .sqs.message_id "$T/out.ndjson" | sort -u | wc -l)" 200
	expect "bodies" "$(jq -r .body "$T/out.ndjson" | sort | paste -sd, -)" "$(seq -f 'm%03g' 1 200 | paste -sd, -)"
	expect "receive counts" "$(jq -r .sqs.receive_count "$T/out.ndjson" | sort -u)" 1
	expect "visible, in flight" "$(sqs_counts "$Q")" "0 200"
}

@test "a queue that does not exist: exit 69, naming the queue URL" {
	fresh_queues exists
	missing="${Q%/*}/no-such-queue-$BATS_TEST_NUMBER"
	start=$(ms_now)
	recv --queue-url "$missing" --drain --wait-seconds 1
	elapsed=$(($(ms_now) - start))
	expect "exit status" "$status" 69
	expect "records" "$(wc -l <"$T/out.ndjson")" 0
	grep -qF "$missing" "$T/err" || fail "stderr does not name $missing: $(cat "$T/err")"
	[ "$elapsed" -lt 10000 ] || fail "took ${elapsed} ms to give up on a queue that does not exist"
}

@test "no full receipt handle in stderr, even at debug level" {
	fresh_queues handles
	seq 1 5 | sdk_send "$Q" >/dev/null
	BB_LOG_LEVEL=debug recv --queue-url "$Q" --drain --wait-seconds 1
	expect "records" "$(wc -l <"$T/out.ndjson")" 5
	[ -s "$T/err" ] || fail "nothing logged"
	while IFS= read -r h; do
		[ ${#h} -gt 12 ] || fail "receipt handle '$h' too short to check"
		! grep -qF -- "$h" "$T/err" || fail "stderr holds a full receipt handle"
	done < <(jq -r .sqs.receipt_handle "$T/out.ndjson")
}
