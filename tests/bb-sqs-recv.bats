#!/usr/bin/env bats
# bb-sqs-recv: messages from a real SQS (the fauxqs emulator), sent by an
# independent client (the AWS SDK), come out as DESIGN.md's envelope with the
# body byte for byte; --max-messages, --drain, the visibility timeout,
# --concurrency; a missing queue; no receipt handle in the logs; answers
# that hold U+0000, or are not JSON (through tools/sqs/sigv4-proxy.mjs).

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

teardown() {
	proxy_stop
}

PROXY_PORT=4587

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

@test "a queue that does not exist: exit 78 at start, naming the queue URL" {
	fresh_queues exists
	missing="${Q%/*}/no-such-queue-$BATS_TEST_NUMBER"
	start=$(ms_now)
	recv --queue-url "$missing" --drain --wait-seconds 1
	elapsed=$(($(ms_now) - start))
	expect "exit status" "$status" 78
	expect "records" "$(wc -l <"$T/out.ndjson")" 0
	expect "stderr" "$(cat "$T/err")" \
		"bb-sqs-recv: fatal: unable to use queue '$missing': AWS.SimpleQueueService.NonExistentQueue: The specified queue does not exist."
	[ "$elapsed" -lt 5000 ] || fail "took ${elapsed} ms to give up on a queue that does not exist"
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

# ---------------------------------------------------------------------------
# In-flight control: --settled FIFO (bb-ack reports back), --max-inflight,
# releasing what will not be emitted

@test "--max-messages 5 with --concurrency 4: exactly 5 emitted, the surplus visible again at once" {
	fresh_queues surplus
	seq -f 's%02g' 1 40 | sdk_send "$Q" --batch >/dev/null
	recv --queue-url "$Q" --max-messages 5 --concurrency 4 --wait-seconds 1
	expect "exit status" "$status" 0
	expect "records" "$(wc -l <"$T/out.ndjson")" 5
	# the four receives asked for up to 5 each: what came beyond the 5 went
	# back to the queue, not into a 120 s limbo
	expect "visible, in flight" "$(sqs_counts "$Q")" "35 5"
	grep -q 'msg=summary emitted=5 .*released=[0-9]' "$T/err" || fail "no summary with released=: $(cat "$T/err")"
}

@test "--settled: a message held downstream longer than its visibility timeout is extended, never redelivered" {
	fresh_queues extend 2
	id=$(printf 'slow\n' | sdk_send "$Q")
	mkfifo "$T/settled"
	( timeout 60 bb-sqs-recv --queue-url "$Q" --settled "$T/settled" --visibility-timeout 2 --max-messages 1 \
		--wait-seconds 1 2>"$T/recv.err" | (sleep 6; cat) |
		timeout 60 bb-ack --settled "$T/settled" --all >"$T/acked.ndjson" 2>"$T/ack.err" ) &
	pid=$!
	# three timeouts later the message is still in flight: nobody else can
	# receive it, and it was received once
	sleep 4.5
	expect "visible, in flight at 4.5 s" "$(sqs_counts "$Q")" "0 1"
	wait "$pid"
	expect "settled" "$(jq -c '[.sqs.message_id, .sqs.receive_count, .ack.deleted]' "$T/acked.ndjson")" "[\"$id\",1,true]"
	expect "visible, in flight at the end" "$(sqs_counts "$Q")" "0 0"
	extended=$(sed -n 's/.*msg=summary .*extended=\([0-9]*\).*/\1/p' "$T/recv.err")
	[ "${extended:-0}" -ge 3 ] || fail "extended ${extended:-?} times in 6 s at a 2 s timeout: $(cat "$T/recv.err")"
	grep -q 'msg=summary .*unsettled=0' "$T/recv.err" || fail "bb-sqs-recv ended with messages unsettled: $(cat "$T/recv.err")"
}

@test "--settled: bb-sqs-recv keeps extending after its input ends, until bb-ack has settled the last message" {
	fresh_queues lastone 2
	seq 1 3 | sdk_send "$Q" >/dev/null
	mkfifo "$T/settled"
	start=$(ms_now)
	timeout 60 bb-sqs-recv --queue-url "$Q" --settled "$T/settled" --visibility-timeout 2 --drain \
		--wait-seconds 1 2>"$T/recv.err" | (sleep 5; cat) |
		timeout 60 bb-ack --settled "$T/settled" --all >"$T/acked.ndjson" 2>"$T/ack.err"
	expect "deleted" "$(jq -c .ack.deleted "$T/acked.ndjson" | sort | uniq -c | awk '{print $1, $2}')" "3 true"
	expect "visible, in flight" "$(sqs_counts "$Q")" "0 0"
	grep -q 'msg=summary .*unsettled=0' "$T/recv.err" || fail "bb-sqs-recv did not wait for bb-ack: $(cat "$T/recv.err")"
	expect "errors of bb-ack" "$(grep -c 'level=warn' "$T/ack.err" || true)" 0
}

@test "--max-inflight 3: no more than 3 unsettled messages are received" {
	fresh_queues inflight
	seq 1 10 | sdk_send "$Q" >/dev/null
	mkfifo "$T/settled"
	# nothing settles: no bb-ack writes to the FIFO
	timeout 60 bb-sqs-recv --queue-url "$Q" --settled "$T/settled" --max-inflight 3 --wait-seconds 1 \
		>"$T/out.ndjson" 2>"$T/err" &
	pid=$!
	wait_for 10 eval '[ "$(wc -l <"$T/out.ndjson")" -ge 3 ]' || fail "3 records not emitted within 10 s"
	sleep 2
	expect "records while 3 are unsettled" "$(wc -l <"$T/out.ndjson")" 3
	expect "visible, in flight" "$(sqs_counts "$Q")" "7 3"
	# settling one lets exactly one more in
	jq -r .sqs.receipt_handle "$T/out.ndjson" | head -n 1 >"$T/settled"
	wait_for 10 eval '[ "$(wc -l <"$T/out.ndjson")" -ge 4 ]' || fail "no record after one was settled"
	sleep 2
	expect "records after one settled" "$(wc -l <"$T/out.ndjson")" 4
	kill -TERM "$pid"
	wait "$pid" || true
}

@test "SIGTERM during a long poll: exit 0 within 1 s; what SQS hands the abandoned poll comes back after its visibility timeout" {
	fresh_queues term
	mkfifo "$T/settled"
	timeout 60 bb-sqs-recv --queue-url "$Q" --settled "$T/settled" --wait-seconds 20 --visibility-timeout 2 \
		>"$T/out.ndjson" 2>"$T/err" &
	pid=$!
	sleep 1
	term_and_time "$pid"
	expect "exit status" "$term_status" 0
	[ "$term_ms" -le 1000 ] || fail "bb-sqs-recv took $term_ms ms to stop"
	grep -q 'msg=summary emitted=0 ' "$T/err" || fail "no summary: $(cat "$T/err")"
	# a message sent at the stop is never written; should SQS have handed it
	# to the poll abandoned at that instant, it is hidden for the timeout only
	printf 'late\n' | sdk_send "$Q" >/dev/null
	expect "records" "$(wc -l <"$T/out.ndjson")" 0
	wait_for 10 counts_are "$Q" "1 0" || fail "the message is not visible: $(sqs_counts "$Q")"
	expect "the message" "$(sdk_receive "$Q" | jq -r .Body)" late
}

@test "--settled on a path that is not a FIFO: exit 78, naming it" {
	fresh_queues nofifo
	: >"$T/plain"
	recv --queue-url "$Q" --settled "$T/plain" --drain --wait-seconds 1
	expect "exit status" "$status" 78
	grep -qF "$T/plain" "$T/err" || fail "stderr does not name the path: $(cat "$T/err")"
	recv --queue-url "$Q" --settled "$T/missing" --drain --wait-seconds 1
	expect "exit status, missing" "$status" 78
}

# ---------------------------------------------------------------------------
# What an operator sees: a failing endpoint, a stop, a broken output

@test "an endpoint that refuses connections is warned about within 5 s, once for every poller, naming it without its credentials" {
	AWS_ENDPOINT_URL_SQS=http://ops:s3cret@127.0.0.1:9 timeout 60 bb-sqs-recv --queue-url "http://127.0.0.1:9/000000000000/bb" \
		--concurrency 4 --wait-seconds 1 >"$T/out.ndjson" 2>"$T/err" &
	pid=$!
	wait_for 5 grep -q 'SQS unavailable' "$T/err" || fail "no warning within 5 s: $(cat "$T/err")"
	sleep 3
	term_and_time "$pid"
	expect "exit status" "$term_status" 0
	[ "$term_ms" -le 1000 ] || fail "bb-sqs-recv took $term_ms ms to stop while retrying"
	expect "warnings in 4 s (the next is due 30 s after the first)" "$(grep -c 'level=warn' "$T/err")" 1
	expect_match "the warning" "$(grep 'level=warn' "$T/err")" \
		'^ts=[^ ]+ level=warn prog=bb-sqs-recv msg="SQS unavailable: retrying" endpoint=http://127.0.0.1:9 error=connection detail="Couldn.t connect to server" attempts=1 failing_for_s=0$'
	! grep -q s3cret "$T/err" || fail "the endpoint's password was logged: $(cat "$T/err")"
	expect "records" "$(wc -l <"$T/out.ndjson")" 0
}

@test "SIGTERM while waiting out an open circuit: exit 0 within 1 s" {
	AWS_ENDPOINT_URL_SQS=http://127.0.0.1:9 timeout 60 bb-sqs-recv --queue-url "http://127.0.0.1:9/000000000000/bb" \
		>"$T/out.ndjson" 2>"$T/err" &
	pid=$!
	# five failures in about 1.5 s open the circuit for 5 s
	sleep 3
	term_and_time "$pid"
	expect "exit status" "$term_status" 0
	[ "$term_ms" -le 1000 ] || fail "bb-sqs-recv took $term_ms ms to stop"
	grep -q 'msg=summary emitted=0 ' "$T/err" || fail "no summary: $(cat "$T/err")"
}

@test "standard output on a full disk: exit 74, saying so" {
	fresh_queues full
	printf 'one\n' | sdk_send "$Q" >/dev/null
	status=0
	timeout 60 bb-sqs-recv --queue-url "$Q" --max-messages 1 --wait-seconds 1 >/dev/full 2>"$T/err" || status=$?
	expect "exit status" "$status" 74
	grep -qx 'bb-sqs-recv: fatal: unable to write standard output: No space left on device' "$T/err" ||
		fail "no message: $(cat "$T/err")"
}

# answer_file FILE BODY_FILE...: a ReceiveMessage answer, as SQS writes it,
# with one message per BODY_FILE whose Body is that file's bytes.
answer_file() {
	python3 - "$@" <<'PY'
import json, sys
msgs = []
for i, path in enumerate(sys.argv[2:]):
    body = open(path, "rb").read().decode("utf-8", "surrogatepass")
    msgs.append({"MessageId": "m-%d" % i, "ReceiptHandle": "rh-%d" % i, "MD5OfBody": "-", "Body": body,
                 "Attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1767225600000"}})
open(sys.argv[1], "w", encoding="utf-8").write(json.dumps({"Messages": msgs}, ensure_ascii=False))
PY
}

@test "bodies holding \u0000, in their JSON strings and as a byte, come out byte for byte; dedupe_hash is the SHA-256 of the exact body" {
	Q=$AWS_ENDPOINT_URL_SQS/000000000000/bb # scripts/sqs-local's: only its existence is asked of SQS
	# a notification whose strings hold \u0000 (as SQS carries it), and a
	# body that is bytes with U+0000 and the U+FFFD SQS puts for a byte that
	# is not UTF-8
	notify "OURS:20.00:w COMP:19.50" '.NotificationMetadata.ApplicationId = "app\u0000x"' |
		tr -d '\n' >"$T/body.0"
	grep -qF 'app\u0000x' "$T/body.0" || fail "the fixture lacks its escape: $(cat "$T/body.0")"
	printf 'nul:\0 fffd:\xef\xbf\xbd quote:" backslash:\\ end' >"$T/body.1"
	answer_file "$T/answer.json" "$T/body.0" "$T/body.1"
	proxy_start "$PROXY_PORT" --fault ReceiveMessage:answer:1 --answer "$T/answer.json"
	status=0
	through_proxy timeout 60 bb-sqs-recv --queue-url "$Q" --max-messages 2 --wait-seconds 1 2>"$T/err" |
		bb-validate >"$T/out.ndjson" 2>/dev/null || status=$?
	expect "exit status" "$status" 0
	expect "records" "$(wc -l <"$T/out.ndjson")" 2
	for i in 0 1; do
		python3 -c 'import json, sys; sys.stdout.buffer.write(json.loads(open(sys.argv[1], "rb").readlines()[int(sys.argv[2])])["body"].encode("utf-8", "surrogatepass"))' \
			"$T/out.ndjson" "$i" >"$T/got.$i"
		cmp "$T/body.$i" "$T/got.$i" || fail "body $i: sent $(od -c "$T/body.$i" | head -3), got $(od -c "$T/got.$i" | head -3)"
		expect "dedupe_hash $i" "$(sed -n "$((i + 1))p" "$T/out.ndjson" | jq -r .dedupe_hash)" "$(sha256sum <"$T/body.$i" | cut -c1-64)"
	done
	expect "statuses" "$(jq -r '[.status, .error.type // "-"] | join(" ")' "$T/out.ndjson" | paste -sd,)" "ok -,rejected malformed_json"
}

@test "an answer that is not JSON: exit 69 naming the endpoint and the byte offset, nothing emitted, the message left in the queue" {
	fresh_queues garbled
	printf 'one\n' | sdk_send "$Q" >/dev/null
	# a raw byte that is not UTF-8 inside the Body, then one cut short
	printf '{"Messages":[{"MessageId":"m","ReceiptHandle":"r","Body":"a\xffb"}]}' >"$T/bad-utf8.json"
	printf '{"Messages":[{"MessageId":"m","Body":"ab' >"$T/truncated.json"
	for answer in bad-utf8 truncated; do
		proxy_start "$PROXY_PORT" --fault ReceiveMessage:answer:1 --answer "$T/$answer.json"
		through_proxy recv --queue-url "$Q" --wait-seconds 1
		proxy_stop
		expect "$answer: exit status" "$status" 69
		expect "$answer: records" "$(wc -l <"$T/out.ndjson")" 0
		case $answer in
		bad-utf8) why='invalid UTF-8 at byte 59' ;;
		truncated) why='string not closed at byte 37' ;;
		esac
		expect "$answer: the error" "$(grep fatal "$T/err")" \
			"bb-sqs-recv: fatal: unable to receive from '$Q': InvalidResponse: the answer of $PROXY_URL to ReceiveMessage is not JSON: $why"
	done
	expect "the queue (visible, in flight)" "$(sqs_counts "$Q")" "1 0"
}
