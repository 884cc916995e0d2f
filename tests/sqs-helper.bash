# sqs-helper.bash: a real SQS emulator (fauxqs, via scripts/sqs-local) for the
# bb-sqs-send, bb-sqs-recv, bb-ack and pipeline suites, fresh queues per test,
# and an independent client (the AWS SDK, tools/sqs/*.mjs) to check what bb
# sent, received and settled. Load it after helper: `load helper; load sqs-helper`.
#
# Each suite starts its own emulator in setup_file (sqs_start PORT) and stops
# it in teardown_file (sqs_stop); every test calls sqs_require in setup, so
# that when the emulator could not start, every test fails (never skips).

: "${SQS_LOCAL:=$BATS_TEST_DIRNAME/../scripts/sqs-local}"
SQS_TOOLS=$(cd "$BATS_TEST_DIRNAME/../tools/sqs" && pwd)
SQS_FIXTURES="$BATS_TEST_DIRNAME/fixtures/sqs"
UUID7='^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'
RFC3339_MS='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$'

# Queue URLs come from each test's fresh_queues, never from the environment:
# bb-sqs-recv, bb-sqs-send and bb-ack would otherwise pick them up.
unset BB_SQS_QUEUE_URL BB_SQS_DLQ_URL AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true

# ---------------------------------------------------------------------------
# The emulator

# sqs_start PORT: start this suite's emulator in $BATS_FILE_TMPDIR/sqs (for
# setup_file). Exports AWS_ENDPOINT_URL_SQS, AWS_REGION and the keys, and
# SQS_DIR. When it cannot start, exports SQS_START_ERROR instead (and returns
# 0), so that sqs_require fails every test with the reason.
sqs_start() {
	local port=$(($1 + ${BB_TEST_PORT_OFFSET:-0})) dir="$BATS_FILE_TMPDIR/sqs" env
	mkdir -p "$dir"
	if env=$("$SQS_LOCAL" start "$dir" "$port" 2>"$dir/start.log"); then
		eval "$env"
		unset BB_SQS_QUEUE_URL BB_SQS_DLQ_URL
		export SQS_DIR=$dir
	else
		export SQS_START_ERROR="scripts/sqs-local start $dir $port failed: $(cat "$dir/start.log")"
	fi
}

# sqs_stop: stop this suite's emulator (for teardown_file).
sqs_stop() {
	[ -z "${SQS_DIR:-}" ] || "$SQS_LOCAL" stop "$SQS_DIR"
}

# sqs_require: fail unless the emulator runs and answers (for setup).
sqs_require() {
	if [ -n "${SQS_START_ERROR:-}" ] || [ -z "${SQS_DIR:-}" ]; then
		echo "the SQS emulator did not start: ${SQS_START_ERROR:-sqs_start was not called}" >&2
		return 1
	fi
	curl -sf -m 5 "$AWS_ENDPOINT_URL_SQS/health" >/dev/null || {
		echo "the SQS emulator at $AWS_ENDPOINT_URL_SQS does not answer; last lines of its log:" >&2
		tail -n 20 "$SQS_DIR/fauxqs.log" >&2
		return 1
	}
}

# ---------------------------------------------------------------------------
# The SigV4-checking proxy (tools/sqs/sigv4-proxy.mjs), in front of the
# emulator, which never checks signatures

# proxy_start PORT [sigv4-proxy.mjs options]: start a proxy for this test on
# PORT that verifies the signature of every request with the credentials of
# the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
# AWS_REGION: set them on the call to start it with others), injects the
# --fault options, forwards the rest to $AWS_ENDPOINT_URL_SQS and logs each
# request to $PROXY_LOG. Sets PROXY_URL, PROXY_LOG and PROXY_PID; fails, with
# the reason, when it cannot start. Stop it with proxy_stop (in teardown).
proxy_start() {
	local port=$(($1 + ${BB_TEST_PORT_OFFSET:-0})) dir="$BATS_TEST_TMPDIR/proxy" i=0
	shift
	mkdir -p "$dir"
	rm -f "$dir/ready"
	PROXY_LOG=$dir/requests.ndjson
	: >"$PROXY_LOG"
	# fd 3 closed: bats waits for whatever holds it
	node "$SQS_TOOLS/sigv4-proxy.mjs" --port "$port" --upstream "$AWS_ENDPOINT_URL_SQS" \
		--log "$PROXY_LOG" --ready-file "$dir/ready" "$@" </dev/null >"$dir/proxy.err" 2>&1 3>&- &
	PROXY_PID=$!
	until [ -f "$dir/ready" ]; do
		if ! kill -0 "$PROXY_PID" 2>/dev/null; then
			echo "the SigV4 proxy did not start on port $port: $(cat "$dir/proxy.err")" >&2
			PROXY_PID=
			return 1
		fi
		i=$((i + 1))
		if [ "$i" -gt 200 ]; then
			echo "the SigV4 proxy did not listen on port $port within 20 s: $(cat "$dir/proxy.err")" >&2
			proxy_stop
			return 1
		fi
		sleep 0.1
	done
	PROXY_URL=http://127.0.0.1:$port
}

# proxy_stop: stop this test's proxy, if one runs (TERM, KILL after 5 s).
proxy_stop() {
	local i=0
	[ -n "${PROXY_PID:-}" ] || return 0
	kill -TERM "$PROXY_PID" 2>/dev/null || true
	while kill -0 "$PROXY_PID" 2>/dev/null && [ "$i" -lt 50 ]; do
		i=$((i + 1))
		sleep 0.1
	done
	kill -KILL "$PROXY_PID" 2>/dev/null || true
	wait "$PROXY_PID" 2>/dev/null || true
	PROXY_PID=
}

# through_proxy COMMAND...: COMMAND with its SQS requests sent to the proxy.
through_proxy() {
	AWS_ENDPOINT_URL_SQS=$PROXY_URL "$@"
}

# proxied [ACTION]: the proxy's log lines (of ACTION only, when given).
proxied() {
	jq -c --arg a "${1:-}" 'select($a == "" or .action == $a)' "$PROXY_LOG"
}

# entry_ref TEXT: how the proxy's log names a message body or receipt handle
# (the first 16 hex digits of its SHA-256).
entry_ref() {
	printf '%s' "$1" | sha256sum | cut -c1-16
}

# ---------------------------------------------------------------------------
# Queues, through the AWS SDK (an independent client)

# fresh_queues NAME [VISIBILITY]: create queue NAME (made unique to the test)
# with VisibilityTimeout VISIBILITY (default 120) and a redrive policy
# (maxReceiveCount 3) to NAME-dlq. Sets Q and DLQ to their URLs.
fresh_queues() {
	local name="t${BATS_TEST_NUMBER:-0}-$1" out
	out=$(node "$SQS_TOOLS/setup.mjs" --endpoint "$AWS_ENDPOINT_URL_SQS" --queue "$name" \
		--dlq "$name-dlq" --max-receive 3 --visibility "${2:-120}" --wait-ready 5) || return 1
	Q=$(sed -n 's/^BB_SQS_QUEUE_URL=//p' <<<"$out")
	DLQ=$(sed -n 's/^BB_SQS_DLQ_URL=//p' <<<"$out")
	[ -n "$Q" ] && [ -n "$DLQ" ]
}

# sdk_send URL [send.mjs options] < lines: one message per line; prints the
# MessageIds in input order.
sdk_send() {
	node "$SQS_TOOLS/send.mjs" "$@" 2>"$BATS_TEST_TMPDIR/sdk_send.err" ||
		{ cat "$BATS_TEST_TMPDIR/sdk_send.err" >&2; return 1; }
}

# sdk_receive URL [receive.mjs options]: {MessageId, Body, Attributes,
# MessageAttributes} per line; deletes what it printed unless --keep.
sdk_receive() {
	node "$SQS_TOOLS/receive.mjs" "$@" 2>"$BATS_TEST_TMPDIR/sdk_receive.err" ||
		{ cat "$BATS_TEST_TMPDIR/sdk_receive.err" >&2; return 1; }
}

# sqs_counts URL: "VISIBLE NOT_VISIBLE" (ApproximateNumberOfMessages and
# ApproximateNumberOfMessagesNotVisible).
sqs_counts() {
	node "$SQS_TOOLS/count.mjs" "$1" --json |
		jq -r '"\(.ApproximateNumberOfMessages) \(.ApproximateNumberOfMessagesNotVisible)"'
}

# counts_are URL "VISIBLE NOT_VISIBLE": whether sqs_counts URL says so.
counts_are() {
	[ "$(sqs_counts "$1")" = "$2" ]
}

# sqs_total URL: visible + not visible.
sqs_total() {
	node "$SQS_TOOLS/count.mjs" "$1"
}

# ---------------------------------------------------------------------------
# Checks and inputs

# expect WHAT ACTUAL EXPECTED: fail naming WHAT unless equal.
expect() {
	[ "$2" = "$3" ] || fail "$1: expected '$3', got '$2'"
}

# expect_match WHAT ACTUAL REGEX
expect_match() {
	[[ $2 =~ $3 ]] || fail "$1: '$2' does not match $3"
}

# sleep_until MS: sleep until ms_now reaches MS.
sleep_until() {
	local left=$(($1 - $(ms_now)))
	[ "$left" -le 0 ] || sleep "$((left / 1000)).$(printf '%03d' $((left % 1000)))"
}

# ms_rfc3339 MS: MS as bb writes times, 2026-01-05T09:00:00.120Z.
ms_rfc3339() {
	jq -rn --argjson ms "$1" '(($ms / 1000 | floor | strftime("%Y-%m-%dT%H:%M:%S")) + "."
	  + ("00" + ($ms % 1000 | tostring) | .[-3:]) + "Z")'
}

# notifications N [TAG]: N distinct ANY_OFFER_CHANGED notifications, one per
# line (NotificationId TAG-1..TAG-N, prices differing too).
notifications() {
	local n=$1 tag=${2:-n}
	notify "OURS:20.00:w COMP:19.50+1.00:fp" |
		jq -c --argjson n "$n" --arg tag "$tag" '. as $t | range(1; $n + 1) as $i | $t
		  | .NotificationMetadata.NotificationId = "\($tag)-\($i)"
		  | .Payload.AnyOfferChangedNotification.Offers[1].ListingPrice.Amount = (1000 + $i) / 100'
}

# big_body BYTES: a UTF-8 text of exactly BYTES bytes (BYTES >= 16), mixing
# one-, two-, three- and four-byte characters, without a newline.
big_body() {
	python3 -c '
import sys
n = int(sys.argv[1])
unit = "aé日😀 \"\\{}\t"            # 1+2+3+4+1+1+1+1+1+1 = 16 bytes
b = (unit * (n // 16 + 1)).encode()[: n - n % 16] + b"z" * (n % 16)
assert len(b) == n
sys.stdout.buffer.write(b)' "$1"
}

# body_line FILE: {"body": FILE's text} as one line (python, not jq -R: jq
# 1.6 garbles a UTF-8 character that straddles its raw-input buffer).
body_line() {
	python3 -c 'import json, sys
sys.stdout.write(json.dumps({"body": open(sys.argv[1], encoding="utf-8", newline="").read()}, ensure_ascii=False) + "\n")' "$1"
}
