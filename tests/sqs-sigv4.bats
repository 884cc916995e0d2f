#!/usr/bin/env bats
# SQS requests checked by a proxy (tools/sqs/sigv4-proxy.mjs) that verifies
# each SigV4 signature with AWS's own signer before the emulator (which never
# checks them) sees it: bb-sqs-send, bb-sqs-recv and bb-ack sign exactly
# content-type;host;x-amz-date;x-amz-target (and the session token); a wrong
# secret fails as each page says; throttling, 5xx and dropped connections are
# retried, the circuit breaker waits; failed batch entries are sent again, and
# refused ones reported. The proxy's log says what bb sent and how often; the
# queues are checked with an independent client (the AWS SDK).

load helper
load sqs-helper

BATS_NO_PARALLELIZE_WITHIN_FILE=true
PROXY_PORT=4586
SIGNED='content-type;host;x-amz-date;x-amz-target'
SIGNED_TOKEN='content-type;host;x-amz-date;x-amz-security-token;x-amz-target'
SCOPE='^[0-9]{8}/us-east-1/sqs/aws4_request$'
STORED='{"notification_id":null,"event_id":null,"at":"2026-01-01T00:00:00.000Z"}'
BAD_SIGNATURE='InvalidSignatureException: The request signature we calculated does not match the signature you provided.'

setup_file() {
	sqs_start 4585
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

# run_bb PROGRAM ARGS... < input: PROGRAM through the proxy, stdout in
# $T/out, stderr in $T/err, its status in $status.
run_bb() {
	status=0
	through_proxy timeout 90 "$@" >"$T/out" 2>"$T/err" || status=$?
}

# received N: bb-sqs-recv straight from the emulator (not through the proxy)
# into $T/recv.ndjson, which must then hold N records.
received() {
	timeout 60 bb-sqs-recv --queue-url "$Q" --drain --wait-seconds 1 >"$T/recv.ndjson" 2>"$T/recv.err" ||
		{ cat "$T/recv.err" >&2; return 1; }
	expect "records received" "$(wc -l <"$T/recv.ndjson")" "$1"
}

# outcome STATUS < records: as bb-store passes them on, stored.
outcome() {
	jq -c --arg s "$1" --argjson stored "$STORED" '. + {status: $s, stored: $stored}'
}

# handle N: the receipt handle of record N of $T/recv.ndjson.
handle() {
	sed -n "$1p" "$T/recv.ndjson" | jq -r .sqs.receipt_handle
}

# bodies_in URL: the bodies the queue holds, sorted, one per line (deleted).
bodies_in() {
	sdk_receive "$1" --max 100 --body-only | sort
}

# all_verified [SIGNED-HEADERS]: every request the proxy saw verified, signed
# exactly SIGNED-HEADERS (default $SIGNED) in a credential scope of the
# region and sqs.
all_verified() {
	local want=${1:-$SIGNED} bad
	[ -s "$PROXY_LOG" ] || fail "the proxy saw no request"
	bad=$(jq -c --arg w "$want" --arg scope "$SCOPE" \
		'select(.verdict != "ok" or .signed_headers != $w or (.scope | test($scope) | not))' "$PROXY_LOG")
	[ -z "$bad" ] || fail "requests that did not verify as signed over $want: $bad"
}

# gaps_at_least ACTION MS...: the waits between consecutive ACTION requests
# were at least MS each, in order, and at most twice MS plus a second.
gaps_at_least() {
	local action=$1 i=0 gap
	shift
	mapfile -t ts < <(proxied "$action" | jq -r .t)
	[ "${#ts[@]}" -gt "$#" ] || fail "$action: ${#ts[@]} requests, too few for $# waits"
	for min in "$@"; do
		gap=$((ts[i + 1] - ts[i]))
		[ "$gap" -ge "$min" ] || fail "$action: wait $((i + 1)) was $gap ms, under $min ms"
		[ "$gap" -le $((2 * min + 1000)) ] || fail "$action: wait $((i + 1)) was $gap ms, far over $((2 * min)) ms"
		i=$((i + 1))
	done
}

# --- signing ----------------------------------------------------------------

@test "the proxy accepts what AWS's own SDK signs and refuses a wrong secret, a changed body and an extra signed header" {
	fresh_queues control
	printf 'one\ntwo\n' | sdk_send "$Q" >/dev/null
	proxy_start "$PROXY_PORT" --signed-headers any

	# the SDK (its own signer) through the proxy: verified, and answered
	run -0 through_proxy node "$SQS_TOOLS/count.mjs" "$Q"
	expect "count through the proxy" "$output" 2
	expect "verdict on the SDK's request" "$(proxied | jq -r .verdict)" ok
	run -1 env AWS_SECRET_ACCESS_KEY=not-the-secret AWS_ENDPOINT_URL_SQS="$PROXY_URL" \
		node "$SQS_TOOLS/count.mjs" "$Q"
	assert_output --partial "InvalidSignatureException"
	# a request signed right, then its body changed
	run -0 bash -c 'cd "$1" && node --input-type=module -e "
		import { Sha256 } from \"@aws-crypto/sha256-js\";
		import { SignatureV4 } from \"@smithy/signature-v4\";
		const u = new URL(process.argv[1]);
		const body = JSON.stringify({ QueueUrl: process.argv[2], AttributeNames: [\"All\"] });
		const s = new SignatureV4({ service: \"sqs\", region: \"us-east-1\", sha256: Sha256,
			credentials: { accessKeyId: \"test\", secretAccessKey: \"test\" } });
		const r = await s.sign({ method: \"POST\", protocol: \"http:\", hostname: u.hostname, port: +u.port,
			path: \"/\", query: {}, body, headers: { host: u.host,
			\"content-type\": \"application/x-amz-json-1.0\", \"x-amz-target\": \"AmazonSQS.GetQueueAttributes\" } });
		const res = await fetch(u.origin + \"/\", { method: \"POST\", headers: r.headers,
			body: body.replace(\"All\", \"Policy\") });
		console.log(res.status, res.headers.get(\"x-amzn-query-error\"));" "$2" "$3"' _ "$SQS_TOOLS" "$PROXY_URL" "$Q"
	expect "answer to a changed body" "$output" "403 InvalidSignatureException;Sender"
	# a header signed beyond the four bb signs
	proxy_stop
	proxy_start "$PROXY_PORT"
	run -0 curl -s -o "$T/answer" -w '%{http_code}' --aws-sigv4 aws:amz:us-east-1:sqs -u test:test \
		-H 'Content-Type: application/x-amz-json-1.0' -H 'X-Amz-Target: AmazonSQS.GetQueueAttributes' \
		-H 'X-Extra: 1' --data "{\"QueueUrl\":\"$Q\"}" "$PROXY_URL/"
	expect "HTTP status for an extra signed header" "$output" 403
	expect "why" "$(proxied | jq -r .why)" "SignedHeaders 'content-type;host;x-amz-date;x-amz-target;x-extra' is not '$SIGNED'"
	expect "error type" "$(jq -r .__type "$T/answer")" "com.amazon.coral.service#InvalidSignatureException"
	# and the same request without it verifies
	run -0 curl -s -o /dev/null -w '%{http_code}' --aws-sigv4 aws:amz:us-east-1:sqs -u test:test \
		-H 'Content-Type: application/x-amz-json-1.0' -H 'X-Amz-Target: AmazonSQS.GetQueueAttributes' \
		--data "{\"QueueUrl\":\"$Q\"}" "$PROXY_URL/"
	expect "HTTP status for the four headers" "$output" 200
	expect "verdicts" "$(proxied | jq -r .verdict | paste -sd' ')" "bad ok"
	expect "messages untouched" "$(sqs_counts "$Q")" "2 0"
}

@test "every request of bb-sqs-send, bb-sqs-recv and bb-ack verifies, signed over exactly content-type;host;x-amz-date;x-amz-target" {
	fresh_queues sign 60
	printf 'one\ntwo ✓\nthree 😀 "quoted"\n' >"$T/in.txt"
	proxy_start "$PROXY_PORT"

	run_bb bb-sqs-send --queue-url "$Q" <"$T/in.txt"
	expect "bb-sqs-send status" "$status" 0
	expect "lines sent" "$(wc -l <"$T/out")" 3
	run_bb bb-sqs-recv --queue-url "$Q" --drain --wait-seconds 1
	expect "bb-sqs-recv status" "$status" 0
	cp "$T/out" "$T/recv.ndjson"
	expect "bodies received" "$(jq -r .body "$T/recv.ndjson" | sort)" "$(sort "$T/in.txt")"
	# one of each: deleted; copied to the DLQ, then deleted; given back later
	{
		jq -c 'select(.body == "one")' "$T/recv.ndjson" | outcome ok
		jq -c 'select(.body == "two ✓")' "$T/recv.ndjson" | outcome rejected
		jq -c 'select(.body | startswith("three"))' "$T/recv.ndjson" | outcome failed
	} >"$T/in.ndjson"
	run_bb bb-ack --dlq-url "$DLQ" <"$T/in.ndjson"
	expect "bb-ack status" "$status" 0
	expect "acks" "$(jq -c '[.ack.deleted, .ack.dlq, .ack.error]' "$T/out" | paste -sd' ')" \
		'[true,false,null] [true,true,null] [false,false,null]'

	all_verified
	# each program first checks that its queue (bb-ack: its dead-letter queue) exists
	expect "requests, in order" "$(jq -r .action "$PROXY_LOG" | paste -sd' ')" \
		"GetQueueAttributes SendMessageBatch GetQueueAttributes ReceiveMessage ReceiveMessage GetQueueAttributes SendMessageBatch DeleteMessageBatch ChangeMessageVisibilityBatch"
	expect "statuses" "$(jq -r .status "$PROXY_LOG" | sort -u)" 200
	expect "no session token sent" "$(jq -r .token "$PROXY_LOG" | sort -u)" false
	expect "messages per receive" "$(proxied ReceiveMessage | jq -r .messages | paste -sd' ')" "3 0"
	# what each request carried
	expect "bodies sent" "$(proxied SendMessageBatch | head -n 1 | jq -r '.entries[].ref' | sort)" \
		"$(while IFS= read -r l; do entry_ref "$l"; done <"$T/in.txt" | sort)"
	expect "handles deleted" "$(proxied DeleteMessageBatch | jq -r '.entries[].ref' | paste -sd' ')" \
		"$(entry_ref "$(sed -n 1p "$T/in.ndjson" | jq -r .sqs.receipt_handle)") $(entry_ref "$(sed -n 2p "$T/in.ndjson" | jq -r .sqs.receipt_handle)")"
	expect "handle given back" "$(proxied ChangeMessageVisibilityBatch | jq -r '.entries[].ref')" \
		"$(entry_ref "$(sed -n 3p "$T/in.ndjson" | jq -r .sqs.receipt_handle)")"
	# and the queues hold what they should
	expect "queue (visible, in flight)" "$(sqs_counts "$Q")" "0 1"
	expect "DLQ body" "$(bodies_in "$DLQ")" "two ✓"
}

@test "with AWS_SESSION_TOKEN, bb-sqs-send, bb-sqs-recv and bb-ack send the token and sign it; a missing or other token is refused" {
	fresh_queues token
	token=$(head -c 750 /dev/zero | tr '\0' 'x' | sed 's/x/IQoJb3JpZ2luX2VjE+/g' | head -c 1000)/AbC+dEf==
	printf 'a\nb\n' >"$T/in.txt"
	AWS_SESSION_TOKEN=$token proxy_start "$PROXY_PORT"

	export AWS_SESSION_TOKEN=$token
	run_bb bb-sqs-send --queue-url "$Q" <"$T/in.txt"
	expect "bb-sqs-send status" "$status" 0
	run_bb bb-sqs-recv --queue-url "$Q" --drain --wait-seconds 1
	expect "bb-sqs-recv status" "$status" 0
	expect "records received" "$(wc -l <"$T/out")" 2
	cp "$T/out" "$T/recv.ndjson"
	run_bb bb-ack --all <"$T/recv.ndjson"
	expect "bb-ack status" "$status" 0
	expect "deleted" "$(jq -r .ack.deleted "$T/out" | sort -u)" true
	all_verified "$SIGNED_TOKEN"
	expect "token on every request" "$(jq -r .token "$PROXY_LOG" | sort -u)" true
	expect "requests" "$(jq -r .action "$PROXY_LOG" | paste -sd' ')" \
		"GetQueueAttributes SendMessageBatch GetQueueAttributes ReceiveMessage ReceiveMessage DeleteMessageBatch"
	expect "queue after" "$(sqs_counts "$Q")" "0 0"

	# the same proxy refuses a request without the token, or with another one
	: >"$PROXY_LOG"
	unset AWS_SESSION_TOKEN
	run_bb bb-sqs-send --queue-url "$Q" <<<"c"
	expect "bb-sqs-send status without the token" "$status" 70
	grep -qF "unable to send to queue '$Q': UnrecognizedClientException: The security token included in the request is invalid" "$T/err" ||
		fail "no error naming the token: $(cat "$T/err")"
	AWS_SESSION_TOKEN=${token%==}xx run_bb bb-sqs-send --queue-url "$Q" <<<"d"
	expect "bb-sqs-send status with another token" "$status" 70
	grep -qF "unable to send to queue '$Q': UnrecognizedClientException: The security token included in the request is invalid" "$T/err" ||
		fail "no error naming the token: $(cat "$T/err")"
	expect "verdicts" "$(proxied SendMessageBatch | jq -c '[.verdict, .code, .token, .signed_headers]' | paste -sd' ')" \
		"[\"bad\",\"UnrecognizedClientException\",false,\"$SIGNED\"] [\"bad\",\"UnrecognizedClientException\",true,\"$SIGNED_TOKEN\"]"
	! grep -qF -- "${token:0:40}" "$PROXY_LOG" || fail "the proxy logged the token"
	expect "queue after" "$(sqs_counts "$Q")" "0 0"
}

# --- a wrong secret -----------------------------------------------------------

@test "bb-sqs-send with a wrong secret: refused as a bad signature, not retried, exit 70, nothing sent" {
	fresh_queues badsend
	proxy_start "$PROXY_PORT"

	AWS_SECRET_ACCESS_KEY=not-the-secret run_bb bb-sqs-send --queue-url "$Q" < <(printf 'x\ny\n')
	expect "exit status (a request that retrying cannot mend)" "$status" 70
	expect "stdout" "$(cat "$T/out")" ""
	grep -qF "bb-sqs-send: fatal: unable to send to queue '$Q': $BAD_SIGNATURE" "$T/err" ||
		fail "no error naming the signature problem: $(cat "$T/err")"
	# the check of the queue at start, refused too, leaves the refusal to the send
	expect "requests (not retried)" "$(jq -c '[.action, .verdict, .status, .code]' "$PROXY_LOG" | paste -sd' ')" \
		'["GetQueueAttributes","bad",403,"InvalidSignatureException"] ["SendMessageBatch","bad",403,"InvalidSignatureException"]'
	! grep -q not-the-secret "$PROXY_LOG" "$T/err" || fail "the secret was logged"
	expect "messages in the queue" "$(sqs_counts "$Q")" "0 0"
}

@test "bb-sqs-recv with a wrong secret: refused as a bad signature, not retried, exit 69, nothing received" {
	fresh_queues badrecv
	printf 'x\ny\n' | sdk_send "$Q" >/dev/null
	proxy_start "$PROXY_PORT"

	AWS_SECRET_ACCESS_KEY=not-the-secret run_bb bb-sqs-recv --queue-url "$Q" --drain --wait-seconds 1
	expect "exit status" "$status" 69
	expect "stdout" "$(cat "$T/out")" ""
	grep -qF "bb-sqs-recv: fatal: unable to receive from '$Q': $BAD_SIGNATURE" "$T/err" ||
		fail "no error naming the signature problem: $(cat "$T/err")"
	# the check of the queue at start, refused too, leaves the refusal to the receive
	expect "requests (not retried)" "$(jq -c '[.action, .verdict, .status]' "$PROXY_LOG" | paste -sd' ')" \
		'["GetQueueAttributes","bad",403] ["ReceiveMessage","bad",403]'
	expect "messages, still visible" "$(sqs_counts "$Q")" "2 0"
}

@test "bb-sqs-recv signing for another region than the endpoint's: refused for its credential scope, exit 69" {
	fresh_queues region
	printf 'x\n' | sdk_send "$Q" >/dev/null
	proxy_start "$PROXY_PORT"

	AWS_REGION=eu-west-1 run_bb bb-sqs-recv --queue-url "$Q" --drain --wait-seconds 1
	expect "exit status" "$status" 69
	grep -qF "unable to receive from '$Q': InvalidSignatureException: Credential should be scoped to a valid region, not 'eu-west-1'" "$T/err" ||
		fail "no error naming the scope: $(cat "$T/err")"
	expect "requests (not retried)" "$(proxied ReceiveMessage | jq -c '[.verdict, .scope]' | sed 's/"[0-9]\{8\}\//"DATE\//')" \
		'["bad","DATE/eu-west-1/sqs/aws4_request"]'
	expect "message, still visible" "$(sqs_counts "$Q")" "1 0"
}

@test "bb-ack with a wrong secret: refused as a bad signature, not retried, each record unsettled with the error, exit 0" {
	fresh_queues badack
	printf 'x\ny\n' | sdk_send "$Q" >/dev/null
	received 2
	outcome ok <"$T/recv.ndjson" >"$T/in.ndjson"
	proxy_start "$PROXY_PORT"

	AWS_SECRET_ACCESS_KEY=not-the-secret run_bb bb-ack <"$T/in.ndjson"
	expect "exit status (bb-ack never exits for a failed request)" "$status" 0
	expect "records out" "$(wc -l <"$T/out")" 2
	expect "acks" "$(jq -c '[.ack.deleted, .ack.dlq]' "$T/out" | sort -u)" '[false,false]'
	jq -r .ack.error "$T/out" | while IFS= read -r e; do
		expect_match "ack.error" "$e" "^DeleteMessageBatch: InvalidSignatureException: The request signature we calculated does not match"
	done
	expect "warnings" "$(grep -c 'msg="not settled".*InvalidSignatureException' "$T/err")" 2
	grep -q 'deleted=0 dead_lettered=0 retry_later=0 unsettled=2' "$T/err" || fail "summary: $(cat "$T/err")"
	expect "requests (not retried)" "$(jq -c '[.action, .verdict, .status, (.entries | length)]' "$PROXY_LOG")" \
		'["DeleteMessageBatch","bad",403,2]'
	expect "messages, still in flight" "$(sqs_counts "$Q")" "0 2"
}

# --- retried failures ---------------------------------------------------------

@test "bb-sqs-send: SendMessageBatch throttled (400 ThrottlingException, 400 RequestThrottled, 403) and 503 is sent again until accepted, each message once" {
	fresh_queues throttlesend
	printf 'one\ntwo\nthree\n' >"$T/in.txt"
	proxy_start "$PROXY_PORT" --fault SendMessageBatch:throttle:1 --fault SendMessageBatch:requestthrottled:1 \
		--fault SendMessageBatch:throttle403:1 --fault SendMessageBatch:503:1

	run_bb bb-sqs-send --queue-url "$Q" <"$T/in.txt"
	expect "exit status" "$status" 0
	expect "lines out" "$(jq -r .body "$T/out" | sort)" "$(sort "$T/in.txt")"
	all_verified
	expect "attempts" "$(proxied SendMessageBatch | jq -c '[.fault, .status]' | paste -sd' ')" \
		'["throttle",400] ["requestthrottled",400] ["throttle403",403] ["503",503] [null,200]'
	expect "the same three entries each time" "$(proxied SendMessageBatch | jq -c '[.entries[].ref]' | sort -u | wc -l)" 1
	# jittered exponential backoff: half to all of 100, 200, 400, 800 ms
	gaps_at_least SendMessageBatch 50 100 200 400
	expect "bodies in the queue, once each" "$(bodies_in "$Q")" "$(sort "$T/in.txt")"
}

@test "bb-sqs-recv: ReceiveMessage answered by a dropped connection, 503, 403 throttled, then 500, is made again; every message comes out once" {
	fresh_queues throttlerecv
	printf 'one\ntwo\nthree\n' | sdk_send "$Q" >/dev/null
	# the connection dropped first: on a kept-alive one, libcurl would send
	# the request again itself, at once, before bb sees a failure
	proxy_start "$PROXY_PORT" --fault ReceiveMessage:reset:1 --fault ReceiveMessage:503:1 \
		--fault ReceiveMessage:throttle403:1 --fault ReceiveMessage:500:1

	run_bb bb-sqs-recv --queue-url "$Q" --drain --wait-seconds 1
	expect "exit status" "$status" 0
	expect "bodies out" "$(jq -r .body "$T/out" | sort | paste -sd' ')" "one three two"
	expect "distinct messages" "$(jq -r .sqs.message_id "$T/out" | sort -u | wc -l)" 3
	expect "receive counts" "$(jq -r .sqs.receive_count "$T/out" | sort -u)" 1
	all_verified
	expect "attempts" "$(proxied ReceiveMessage | jq -c '[.fault, .status, .messages]' | paste -sd' ')" \
		'["reset",0,null] ["503",503,null] ["throttle403",403,null] ["500",500,null] [null,200,3] [null,200,0]'
	# retried inside the client: no failed receive, as bb-sqs-recv counts them
	grep -q 'emitted=3 receives=2 errors=0' "$T/err" || fail "summary: $(cat "$T/err")"
	# the first failed attempt warned about at once, the next ones within 30 s not
	expect "warnings" "$(grep -c 'level=warn' "$T/err")" 1
	expect_match "the warning" "$(grep 'level=warn' "$T/err")" \
		"^ts=[^ ]+ level=warn prog=bb-sqs-recv msg=\"SQS unavailable: retrying\" endpoint=$PROXY_URL error=connection detail=\"[^\"]+\" attempts=1 failing_for_s=0\$"
	grep -q "level=info prog=bb-sqs-recv msg=\"SQS available again\" endpoint=$PROXY_URL failed_for_s=[0-9]" "$T/err" ||
		fail "the end of the outage was not logged: $(cat "$T/err")"
	gaps_at_least ReceiveMessage 50 100 200 400
	expect "messages in flight" "$(sqs_counts "$Q")" "0 3"
}

@test "bb-ack: throttled and unavailable batch requests are made again; every message settled once" {
	fresh_queues throttleack 60
	printf 'ok 1\nok 2\nbad\nlater\n' | sdk_send "$Q" >/dev/null
	received 4
	{
		jq -c 'select(.body | startswith("ok"))' "$T/recv.ndjson" | outcome ok
		jq -c 'select(.body == "bad")' "$T/recv.ndjson" | outcome rejected
		jq -c 'select(.body == "later")' "$T/recv.ndjson" | outcome failed
	} >"$T/in.ndjson"
	cat >"$T/faults" <<-'EOF'
		# the copy to the DLQ, the deletes, the later visibility
		SendMessageBatch:requestthrottled:2
		DeleteMessageBatch:throttle403:1
		DeleteMessageBatch:throttle:1
		ChangeMessageVisibilityBatch:503:2
	EOF
	proxy_start "$PROXY_PORT" --faults "$T/faults"

	run_bb bb-ack --dlq-url "$DLQ" <"$T/in.ndjson"
	expect "exit status" "$status" 0
	expect "acks" "$(jq -c '[.ack.deleted, .ack.dlq, .ack.error]' "$T/out" | paste -sd' ')" \
		'[true,false,null] [true,false,null] [true,true,null] [false,false,null]'
	grep -q 'deleted=3 dead_lettered=1 retry_later=1 unsettled=0' "$T/err" || fail "summary: $(cat "$T/err")"
	all_verified
	expect "attempts" "$(jq -c 'select(.action != "GetQueueAttributes") | [.action, .fault, .status]' "$PROXY_LOG" | paste -sd' ')" \
		"$(printf '%s ' '["SendMessageBatch","requestthrottled",400]' '["SendMessageBatch","requestthrottled",400]' \
			'["SendMessageBatch",null,200]' '["DeleteMessageBatch","throttle403",403]' \
			'["DeleteMessageBatch","throttle",400]' '["DeleteMessageBatch",null,200]' \
			'["ChangeMessageVisibilityBatch","503",503]' '["ChangeMessageVisibilityBatch","503",503]' \
			'["ChangeMessageVisibilityBatch",null,200]' | sed 's/ $//')"
	expect "queue (visible, in flight)" "$(sqs_counts "$Q")" "0 1"
	expect "DLQ, one copy" "$(bodies_in "$DLQ")" "bad"
}

@test "after five failed attempts in a row the circuit opens: the sixth waits out a 5 s cool-down, then succeeds" {
	fresh_queues breaker
	printf 'one\ntwo\n' >"$T/in.txt"
	proxy_start "$PROXY_PORT" --fault SendMessageBatch:503:5

	run_bb bb-sqs-send --queue-url "$Q" <"$T/in.txt"
	expect "exit status" "$status" 0
	all_verified
	expect "attempts" "$(proxied SendMessageBatch | jq -r .status | paste -sd' ')" "503 503 503 503 503 200"
	mapfile -t ts < <(proxied SendMessageBatch | jq -r .t)
	gap=$((ts[5] - ts[4]))
	[ "$gap" -ge 5000 ] || fail "the sixth attempt came $gap ms after the fifth, within the 5 s cool-down"
	[ "$gap" -le 7000 ] || fail "the sixth attempt came $gap ms after the fifth, long after the cool-down"
	gaps_at_least SendMessageBatch 50 100 200 400
	expect "bodies in the queue, once each" "$(bodies_in "$Q")" "$(sort "$T/in.txt")"
}

# --- batch entries ------------------------------------------------------------

@test "bb-ack: a DeleteMessageBatch entry failed not as the sender's fault is sent again alone; every message deleted" {
	fresh_queues partialack
	printf 'one\ntwo\nthree\n' | sdk_send "$Q" >/dev/null
	received 3
	outcome ok <"$T/recv.ndjson" >"$T/in.ndjson"
	proxy_start "$PROXY_PORT" --fault DeleteMessageBatch:partial:1

	run_bb bb-ack <"$T/in.ndjson"
	expect "exit status" "$status" 0
	expect "acks" "$(jq -c .ack "$T/out" | sort -u)" '{"deleted":true,"dlq":false,"error":null}'
	expect "records out" "$(wc -l <"$T/out")" 3
	all_verified
	expect "requests: entries, entries failed" "$(jq -c '[(.entries | length), .failed]' "$PROXY_LOG" | paste -sd' ')" \
		'[3,["0"]] [1,null]'
	expect "the entry sent again" "$(proxied | sed -n 2p | jq -r '.entries[].ref')" "$(entry_ref "$(handle 1)")"
	expect "queue" "$(sqs_counts "$Q")" "0 0"
}

@test "bb-ack: a DeleteMessageBatch entry refused as the sender's fault is not sent again; its record says why, the others are deleted" {
	fresh_queues refuseack
	printf 'one\ntwo\nthree\n' | sdk_send "$Q" >/dev/null
	received 3
	outcome ok <"$T/recv.ndjson" >"$T/in.ndjson"
	proxy_start "$PROXY_PORT" --fault DeleteMessageBatch:refuse:1

	run_bb bb-ack <"$T/in.ndjson"
	expect "exit status" "$status" 0
	expect "acks" "$(jq -c .ack "$T/out" | paste -sd' ')" \
		'{"deleted":false,"dlq":false,"error":"DeleteMessageBatch: ReceiptHandleIsInvalid"} {"deleted":true,"dlq":false,"error":null} {"deleted":true,"dlq":false,"error":null}'
	tag=$(handle 1 | cut -c1-6)
	grep -qF "msg=\"not settled\" receipt=$tag" "$T/err" || fail "no warning for the refused message: $(cat "$T/err")"
	! grep -qF "$(handle 1)" "$T/err" || fail "a whole receipt handle was logged"
	grep -q 'deleted=2 dead_lettered=0 retry_later=0 unsettled=1' "$T/err" || fail "summary: $(cat "$T/err")"
	all_verified
	expect "requests: entries, entries failed" "$(jq -c '[(.entries | length), .failed]' "$PROXY_LOG")" '[3,["0"]]'
	expect "queue: the refused one still in flight" "$(sqs_counts "$Q")" "0 1"
}

@test "bb-ack: a DeleteMessageBatch entry that keeps failing is sent four times in all, then its record says so" {
	fresh_queues keepfailing
	printf 'one\ntwo\nthree\n' | sdk_send "$Q" >/dev/null
	received 3
	outcome ok <"$T/recv.ndjson" >"$T/in.ndjson"
	proxy_start "$PROXY_PORT" --fault 'DeleteMessageBatch:partial:*'

	run_bb bb-ack <"$T/in.ndjson"
	expect "exit status" "$status" 0
	expect "acks" "$(jq -c .ack "$T/out" | paste -sd' ')" \
		'{"deleted":false,"dlq":false,"error":"DeleteMessageBatch: still failing after retries"} {"deleted":true,"dlq":false,"error":null} {"deleted":true,"dlq":false,"error":null}'
	all_verified
	expect "entries per request" "$(jq -r '.entries | length' "$PROXY_LOG" | paste -sd' ')" "3 1 1 1"
	expect "the entry sent again" "$(proxied | tail -n 3 | jq -r '.entries[].ref' | sort -u)" "$(entry_ref "$(handle 1)")"
	expect "queue: that one still in flight" "$(sqs_counts "$Q")" "0 1"
}

@test "bb-sqs-send: a SendMessageBatch entry failed not as the sender's fault is sent again alone; every message sent once" {
	fresh_queues partialsend
	printf 'one\ntwo\nthree\n' >"$T/in.txt"
	proxy_start "$PROXY_PORT" --fault SendMessageBatch:partial:1

	run_bb bb-sqs-send --queue-url "$Q" <"$T/in.txt"
	expect "exit status" "$status" 0
	# in the order SQS reports them: the entry sent again comes last
	expect "lines out" "$(jq -r .body "$T/out" | paste -sd' ')" "two three one"
	expect "distinct message ids" "$(jq -r .sent.message_id "$T/out" | sort -u | wc -l)" 3
	all_verified
	expect "requests: entries, entries failed" "$(proxied SendMessageBatch | jq -c '[(.entries | length), .failed]' | paste -sd' ')" \
		'[3,["0"]] [1,null]'
	expect "the entry sent again" "$(proxied SendMessageBatch | sed -n 2p | jq -r '.entries[].ref')" "$(entry_ref one)"
	expect "bodies in the queue, once each" "$(bodies_in "$Q")" "$(sort "$T/in.txt")"
}

@test "bb-sqs-send: a SendMessageBatch entry refused as the sender's fault is logged and counted, the others sent, exit 65" {
	fresh_queues refusesend
	printf 'one\ntwo\nthree\n' >"$T/in.txt"
	proxy_start "$PROXY_PORT" --fault SendMessageBatch:refuse:1

	run_bb bb-sqs-send --queue-url "$Q" <"$T/in.txt"
	expect "exit status" "$status" 65
	expect "lines out" "$(jq -r .body "$T/out" | paste -sd' ')" "two three"
	grep -q 'level=error prog=bb-sqs-send msg="message refused by SQS" entry=0 code=InvalidMessageContents' "$T/err" ||
		fail "no error for the refused message: $(cat "$T/err")"
	grep -q 'msg=summary sent=2 failed=1' "$T/err" || fail "summary: $(cat "$T/err")"
	all_verified
	expect "requests (not sent again)" "$(proxied SendMessageBatch | jq -c '[(.entries | length), .failed]')" '[3,["0"]]'
	expect "bodies in the queue" "$(bodies_in "$Q" | paste -sd' ')" "three two"
}

@test "bb-sqs-send: an entry failed in the same request as another is refused ends the retries: exit 69, the rest of the batch sent" {
	fresh_queues mixedsend
	printf 'one\ntwo\nthree\nfour\n' >"$T/in.txt"
	proxy_start "$PROXY_PORT" --fault SendMessageBatch:mixed:1

	run_bb bb-sqs-send --queue-url "$Q" <"$T/in.txt"
	expect "exit status" "$status" 69
	grep -qF "bb-sqs-send: fatal: unable to send 1 messages to '$Q' after retries" "$T/err" ||
		fail "no fatal error: $(cat "$T/err")"
	grep -q 'msg="message refused by SQS" entry=0 code=InvalidMessageContents' "$T/err" ||
		fail "no error for the refused message: $(cat "$T/err")"
	expect "lines out: exactly what reached the queue" "$(jq -r .body "$T/out" | paste -sd' ')" "three four"
	all_verified
	expect "requests (not sent again)" "$(proxied SendMessageBatch | jq -c '[(.entries | length), .failed]')" '[4,["0","1"]]'
	expect "bodies in the queue" "$(bodies_in "$Q" | paste -sd' ')" "four three"
}

@test "bb-sqs-send: an entry that keeps failing is sent five times in all, then exit 69; the others sent once" {
	fresh_queues keepfailingsend
	printf 'one\ntwo\nthree\n' >"$T/in.txt"
	proxy_start "$PROXY_PORT" --fault 'SendMessageBatch:partial:*'

	run_bb bb-sqs-send --queue-url "$Q" <"$T/in.txt"
	expect "exit status" "$status" 69
	grep -qF "bb-sqs-send: fatal: unable to send 1 messages to '$Q' after retries" "$T/err" ||
		fail "no fatal error: $(cat "$T/err")"
	expect "lines out" "$(jq -r .body "$T/out" | paste -sd' ')" "two three"
	all_verified
	expect "entries per request" "$(proxied SendMessageBatch | jq -r '.entries | length' | paste -sd' ')" "3 1 1 1 1"
	expect "the entry sent again" "$(proxied SendMessageBatch | tail -n 4 | jq -r '.entries[].ref' | sort -u)" "$(entry_ref one)"
	expect "bodies in the queue, once each" "$(bodies_in "$Q" | paste -sd' ')" "three two"
}
