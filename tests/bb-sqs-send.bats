#!/usr/bin/env bats
# bb-sqs-send: each line's body sent to a real SQS (the fauxqs emulator) byte
# for byte, checked with an independent client (the AWS SDK); the sent
# MessageId on every output line; --rate; usage errors.

load helper
load sqs-helper

BATS_NO_PARALLELIZE_WITHIN_FILE=true

setup_file() {
	sqs_start 4583
}

teardown_file() {
	sqs_stop
}

setup() {
	sqs_require
	T=$BATS_TEST_TMPDIR
}

# got_body ID: the Body the SDK received for MessageId ID, as raw bytes.
got_body() {
	jq -j --arg id "$1" 'select(.MessageId == $id) | .Body' "$T/got.ndjson"
}

@test "every line's body arrives byte for byte: a bare line as itself, an envelope line's body string decoded" {
	fresh_queues send
	# the expected bodies, one file each
	printf 'plain text\twith a tab, a quote " and a CR\r' >"$T/exp.1"
	printf 'escapes: " \\ / \xe2\x80\xa8 \xf0\x9f\x98\x80 caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac\ttab\nnewline \xef\xbb\xbf end' >"$T/exp.2"
	notify "OURS:20.00:w COMP:19.50" '.Payload.AnyOfferChangedNotification.SellerId = "Ünïcødé-😀"' |
		tr -d '\n' >"$T/exp.3"
	printf '{ "spaced" : "object \\u00e9 kept as written" , "n" : 1 }' >"$T/exp.4"
	# the input: lines 1, 3 and 4 are sent as they are; line 2 is an envelope
	# whose body (written with JSON escapes) decodes to exp.2
	{
		cat "$T/exp.1"
		echo
		printf '{"trace_id":"t-2","body":"escapes: \\" \\\\ \\/ \\u2028 \\ud83d\\ude00 caf\\u00e9 \xe6\x97\xa5\xe6\x9c\xac\\ttab\\nnewline \\ufeff end","received_at":"2026-01-01T00:00:00.000Z"}\n'
		cat "$T/exp.3"
		echo
		cat "$T/exp.4"
		echo
	} >"$T/in.ndjson"

	run -0 --separate-stderr bb-sqs-send --queue-url "$Q" <"$T/in.ndjson"
	printf '%s\n' "$output" >"$T/out.ndjson"
	expect "output lines" "$(wc -l <"$T/out.ndjson")" 4
	sdk_receive "$Q" --max 20 >"$T/got.ndjson"
	expect "messages in the queue" "$(wc -l <"$T/got.ndjson")" 4
	for i in 1 2 3 4; do
		id=$(sed -n "${i}p" "$T/out.ndjson" | jq -r .sent.message_id)
		got_body "$id" >"$T/got.$i"
		cmp "$T/exp.$i" "$T/got.$i" || fail "line $i: the body SQS holds for message $id differs from the expected bytes"
	done
	# object lines come out as they came in, with sent added at the end
	for i in 2 3 4; do
		in=$(sed -n "${i}p" "$T/in.ndjson")
		out=$(sed -n "${i}p" "$T/out.ndjson")
		id=$(jq -r .sent.message_id <<<"$out")
		expect "output line $i" "$out" "${in%\}},\"sent\":{\"queue_url\":\"$Q\",\"message_id\":\"$id\"}}"
	done
}

@test "a 256 KiB body is sent whole, bare and inside an envelope" {
	fresh_queues big
	big_body 262144 >"$T/exp.1"
	big_body 262144 | tr 'a' 'b' >"$T/exp.2"
	{
		cat "$T/exp.1"
		echo
		body_line "$T/exp.2"
	} >"$T/in.ndjson"

	run -0 --separate-stderr bb-sqs-send --queue-url "$Q" <"$T/in.ndjson"
	printf '%s\n' "$output" >"$T/out.ndjson"
	expect "output lines" "$(wc -l <"$T/out.ndjson")" 2
	sdk_receive "$Q" --max 10 >"$T/got.ndjson"
	expect "messages in the queue" "$(wc -l <"$T/got.ndjson")" 2
	for i in 1 2; do
		id=$(sed -n "${i}p" "$T/out.ndjson" | jq -r .sent.message_id)
		got_body "$id" >"$T/got.$i"
		expect "bytes of body $i" "$(wc -c <"$T/got.$i")" 262144
		cmp "$T/exp.$i" "$T/got.$i" || fail "body $i differs"
	done
}

@test "each output line carries sent.message_id equal to the MessageId the SDK receives for that line" {
	fresh_queues ids
	for i in $(seq 1 25); do printf 'message %02d ✓\n' "$i"; done >"$T/in.txt"

	run -0 --separate-stderr bb-sqs-send --queue-url "$Q" <"$T/in.txt"
	printf '%s\n' "$output" >"$T/out.ndjson"
	expect "output lines" "$(wc -l <"$T/out.ndjson")" 25
	expect "distinct message ids" "$(jq -r .sent.message_id "$T/out.ndjson" | sort -u | wc -l)" 25
	expect "queue_url on every line" "$(jq -r .sent.queue_url "$T/out.ndjson" | sort -u)" "$Q"
	sdk_receive "$Q" --max 100 >"$T/got.ndjson"
	# line i's message id -> the body the SDK received under that id == line i
	paste -d'\t' <(jq -r .sent.message_id "$T/out.ndjson") "$T/in.txt" | sort >"$T/want"
	jq -r '"\(.MessageId)\t\(.Body)"' "$T/got.ndjson" | sort >"$T/have"
	diff "$T/want" "$T/have" || fail "message ids on the output do not name the messages SQS holds"
}

@test "--rate 5 spreads 10 messages over at least about a second" {
	fresh_queues rate
	seq 1 10 >"$T/in.txt"

	start=$(ms_now)
	run -0 --separate-stderr bb-sqs-send --queue-url "$Q" --rate 5 <"$T/in.txt"
	elapsed=$(($(ms_now) - start))
	expect "output lines" "${#lines[@]}" 10
	expect "messages in the queue" "$(sqs_total "$Q")" 10
	# 5 per second: the 6th message cannot leave before one second has passed
	[ "$elapsed" -ge 900 ] || fail "10 messages at --rate 5 took only ${elapsed} ms"
}

@test "without a queue URL it exits 64 and writes nothing" {
	run -64 --separate-stderr bb-sqs-send <<<"hello"
	expect "stdout" "$output" ""
	[[ $stderr == *"queue URL"* ]] || fail "stderr does not say a queue URL is needed: $stderr"
}

# ---------------------------------------------------------------------------
# What an operator sees: a missing queue, a failing endpoint, a stop, a
# broken output

@test "a queue that does not exist: exit 78 before reading any input, naming the queue URL" {
	fresh_queues missing
	missing="${Q%/*}/no-such-queue-$BATS_TEST_NUMBER"
	printf 'one\ntwo\n' >"$T/in.txt"
	# one open file shared with bb-sqs-send: what it did not read is left
	exec 8<"$T/in.txt"
	status=0
	timeout 60 bb-sqs-send --queue-url "$missing" <&8 >"$T/out" 2>"$T/err" || status=$?
	echo "left: $(cat <&8)" >"$T/left"
	exec 8<&-
	expect "exit status" "$status" 78
	expect "stderr" "$(cat "$T/err")" \
		"bb-sqs-send: fatal: unable to use queue '$missing': AWS.SimpleQueueService.NonExistentQueue: The specified queue does not exist."
	expect "stdout" "$(cat "$T/out")" ""
	expect "the input, unread" "$(cat "$T/left")" "left: one
two"
}

@test "an endpoint that refuses connections is warned about within 5 s, naming it; SIGTERM then ends the retries within 1 s" {
	mkfifo "$T/in"
	AWS_ENDPOINT_URL_SQS=http://127.0.0.1:9 timeout 60 bb-sqs-send --queue-url http://127.0.0.1:9/000000000000/bb \
		<"$T/in" >"$T/out" 2>"$T/err" &
	pid=$!
	exec 7>"$T/in"
	echo hello >&7
	wait_for 5 grep -q 'SQS unavailable' "$T/err" || fail "no warning within 5 s: $(cat "$T/err")"
	term_and_time "$pid"
	exec 7>&-
	[ "$term_ms" -le 1000 ] || fail "bb-sqs-send took $term_ms ms to stop"
	expect "exit status (the line could not be sent)" "$term_status" 69
	expect_match "the warning" "$(grep 'level=warn' "$T/err")" \
		'^ts=[^ ]+ level=warn prog=bb-sqs-send msg="SQS unavailable: retrying" endpoint=http://127.0.0.1:9 error=connection detail="Couldn.t connect to server" attempts=1 failing_for_s=0$'
	grep -qx "bb-sqs-send: fatal: unable to send to queue 'http://127.0.0.1:9/000000000000/bb': connection: Couldn't connect to server" "$T/err" ||
		fail "no fatal message: $(cat "$T/err")"
	expect "stdout" "$(cat "$T/out")" ""
}

@test "standard output on a full disk: exit 74, saying so, the message sent all the same" {
	fresh_queues full
	status=0
	echo hello | timeout 60 bb-sqs-send --queue-url "$Q" >/dev/full 2>"$T/err" || status=$?
	expect "exit status" "$status" 74
	grep -qx 'bb-sqs-send: fatal: unable to write standard output: No space left on device' "$T/err" ||
		fail "no message: $(cat "$T/err")"
	expect "messages in the queue" "$(sqs_total "$Q")" 1
}
