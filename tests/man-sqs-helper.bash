# man-sqs-helper.bash: the SQS emulator that the man-examples-* suites run a
# page's examples against, started as the pages start it (scripts/sqs-local),
# with its queues bb and bb-dlq in BB_SQS_QUEUE_URL and BB_SQS_DLQ_URL.
# Load it after helper; man_sqs_start PORT in setup_file, man_sqs_stop in
# teardown_file, empty_queues before each example that starts from empty
# queues.

# man_sqs_start PORT: one emulator for the file, on PORT plus the test port
# offset. The tests share its queues, so they run one at a time even under
# --jobs.
man_sqs_start() {
	local port=$(($1 + ${BB_TEST_PORT_OFFSET:-0}))
	export BATS_NO_PARALLELIZE_WITHIN_FILE=true
	unset AWS_ENDPOINT_URL_SQS AWS_ENDPOINT_URL BB_SQS_QUEUE_URL BB_SQS_DLQ_URL AWS_SESSION_TOKEN AWS_PROFILE
	eval "$("$BATS_TEST_DIRNAME/../scripts/sqs-local" start "$BATS_FILE_TMPDIR/sqs" "$port")"
	# eval of nothing succeeds: make sure the emulator really answers
	[ "$AWS_ENDPOINT_URL_SQS" = "http://127.0.0.1:$port" ]
	[ "$BB_SQS_QUEUE_URL" = "http://127.0.0.1:$port/000000000000/bb" ]
	[ "$BB_SQS_DLQ_URL" = "http://127.0.0.1:$port/000000000000/bb-dlq" ]
	curl -fsS -o /dev/null "$AWS_ENDPOINT_URL_SQS/health"
}

# man_sqs_stop: stop the file's emulator.
man_sqs_stop() {
	"$BATS_TEST_DIRNAME/../scripts/sqs-local" stop "$BATS_FILE_TMPDIR/sqs"
}

# sqs_call ACTION JSON: one request to the emulator, signed; its answer.
sqs_call() {
	curl -fsS --aws-sigv4 "aws:amz:$AWS_REGION:sqs" \
		--user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
		-H 'Content-Type: application/x-amz-json-1.0' -H "X-Amz-Target: AmazonSQS.$1" \
		--data "$2" "$AWS_ENDPOINT_URL_SQS/"
}

# purge URL: every message goes, in flight or not.
purge() {
	sqs_call PurgeQueue "{\"QueueUrl\":\"$1\"}" >/dev/null
}

# depth URL: [visible, in flight] of a queue, as the examples print it.
depth() {
	sqs_call GetQueueAttributes "{\"QueueUrl\":\"$1\",\"AttributeNames\":[\"All\"]}" |
		jq -c '.Attributes | [.ApproximateNumberOfMessages, .ApproximateNumberOfMessagesNotVisible] | map(tonumber)'
}

# empty_queues: both queues purged, and found empty. First, a second and a
# half for the long poll an earlier example's bb-sqs-recv left open when it
# stopped (they poll with --wait-seconds 1): the emulator, as SQS may, would
# hand a message sent meanwhile to that abandoned poll, where it would stay
# in flight for the visibility timeout, 120 s.
empty_queues() {
	sleep 1.5
	purge "$BB_SQS_QUEUE_URL"
	purge "$BB_SQS_DLQ_URL"
	[ "$(depth "$BB_SQS_QUEUE_URL")" = '[0,0]' ]
	[ "$(depth "$BB_SQS_DLQ_URL")" = '[0,0]' ]
}
