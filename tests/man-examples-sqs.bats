load helper
load man-sqs-helper
# man-examples-sqs.bats: every EXAMPLES entry of bb-sqs-recv(1), bb-ack(1)
# and bb-sqs-send(1), and the SQS runbooks of bb(7), run as the pages write
# them against a real SQS emulator (scripts/sqs-local, on port 4591), from a
# scratch directory that sees the repository's examples/, tools/ and
# scripts/. The pages say that each example starts with both queues empty:
# setup() purges them. Each test checks what a broken program would get
# wrong (counts, bodies byte for byte, what is left on which queue), not just
# the exit status.

bats_require_minimum_version 1.5.0

setup_file() {
	man_sqs_start 4591
}

teardown_file() {
	man_sqs_stop
}

setup() {
	for d in examples tools scripts; do
		ln -s "$BATS_TEST_DIRNAME/../$d" "$BATS_TEST_TMPDIR/$d"
	done
	cd "$BATS_TEST_TMPDIR"
	empty_queues
}

# ---- bb-sqs-recv(1) ----

@test "bb-sqs-recv(1): --drain reads the nine samples as records whose bodies are the messages byte for byte" {
	run -0 bash <<'EOF'
bb-sqs-send --queue-url "$BB_SQS_QUEUE_URL" \
    < examples/notifications.ndjson > /dev/null 2>&1
bb-sqs-recv --queue-url "$BB_SQS_QUEUE_URL" --drain --wait-seconds 1 \
    > received.ndjson 2> recv.log
grep -o 'emitted=[0-9]*' recv.log
jq -c keys_unsorted received.ndjson | uniq -c
jq -c '.sqs | keys_unsorted' received.ndjson | uniq -c
jq -r .body received.ndjson | sort |
    cmp - <(sort examples/notifications.ndjson) && echo same bytes
EOF
	assert_output - <<'EOF'
emitted=9
      9 ["trace_id","sqs","body","received_at"]
      9 ["queue_url","message_id","receipt_handle","receive_count","sent_at","first_received_at"]
same bytes
EOF
	# each record: a UUIDv7 trace id, its queue, a first delivery, RFC 3339 times
	run -0 jq -e -s 'length == 9 and all(.[];
	    (.trace_id | test("^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"))
	    and .sqs.queue_url == env.BB_SQS_QUEUE_URL and .sqs.receive_count == 1
	    and (.sqs.message_id | type == "string") and (.sqs.receipt_handle | length > 0)
	    and ([.sqs.sent_at, .sqs.first_received_at, .received_at] |
	         all(test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$"))))
	    and ([.[].sqs.message_id] | unique | length == 9)' received.ndjson
	run -0 grep -c 'msg=summary emitted=9 receives=[0-9]* errors=0 max_lag_ms=[0-9]* released=0 extended=0 unsettled=- queue=bb$' recv.log
	# it deletes nothing: the nine are in flight
	run -0 depth "$BB_SQS_QUEUE_URL"
	assert_output '[0,9]'
	# and never logs a receipt handle
	run -0 jq -r .sqs.receipt_handle received.ndjson
	for rh in "${lines[@]}"; do
		! grep -qF "$rh" recv.log
	done
}

@test "bb-sqs-recv(1): --max-messages 3 takes three and leaves six" {
	run -0 bash <<'EOF'
bb-sqs-send --queue-url "$BB_SQS_QUEUE_URL" \
    < examples/notifications.ndjson > /dev/null 2>&1
bb-sqs-recv --queue-url "$BB_SQS_QUEUE_URL" --max-messages 3 \
    2>/dev/null | wc -l
node tools/sqs/count.mjs "$BB_SQS_QUEUE_URL" --json | jq -c \
    '[.ApproximateNumberOfMessages, .ApproximateNumberOfMessagesNotVisible]'
EOF
	assert_output - <<'EOF'
3
[6,3]
EOF
}

@test "bb-sqs-recv(1): a message not deleted comes back counted, and its second delivery is poison at a maximum of 1" {
	run -0 bash <<'EOF'
head -n 1 examples/notifications.ndjson |
    bb-sqs-send --queue-url "$BB_SQS_QUEUE_URL" > /dev/null 2>&1
for i in 1 2; do
    bb-sqs-recv --queue-url "$BB_SQS_QUEUE_URL" --max-messages 1 \
        --visibility-timeout 0 2>/dev/null
  done | bb-validate --max-receive-count 1 2>/dev/null |
    jq -c '[.sqs.receive_count, .status, .error.type]'
EOF
	assert_output - <<'EOF'
[1,"ok",null]
[2,"rejected","poison"]
EOF
	# a third delivery: the same message, a new receipt handle; it is the last
	# that the queue's redrive policy (3) allows, so the next receive finds the
	# message moved to bb-dlq
	head -n 1 examples/notifications.ndjson | jq -c . >sent.json
	bb-sqs-recv --queue-url "$BB_SQS_QUEUE_URL" --max-messages 1 --visibility-timeout 0 2>/dev/null >third.ndjson
	run -0 jq -e '.sqs.receive_count == 3 and (.body | fromjson) == input' third.ndjson sent.json
	run -0 --separate-stderr bb-sqs-recv --queue-url "$BB_SQS_QUEUE_URL" --drain --wait-seconds 1
	assert_output ''
	run -0 depth "$BB_SQS_DLQ_URL"
	assert_output '[1,0]'
}

@test "bb-sqs-recv(1): four pollers drain 27 messages, each once" {
	run -0 bash <<'EOF'
for i in 1 2 3; do cat examples/notifications.ndjson; done |
    bb-sqs-send --queue-url "$BB_SQS_QUEUE_URL" > /dev/null 2>&1
bb-sqs-recv --queue-url "$BB_SQS_QUEUE_URL" --concurrency 4 --drain \
    --wait-seconds 1 2>/dev/null | jq -r .sqs.message_id | sort -u | wc -l
EOF
	assert_output 27
	# all 27 received, none left behind
	run -0 depth "$BB_SQS_QUEUE_URL"
	assert_output '[0,27]'
}

@test "bb-sqs-recv(1): --settled keeps the nine hidden past their timeout while a slow stage holds them, until bb-ack settles them" {
	run -0 bash <<'EOF'
bb-sqs-send --queue-url "$BB_SQS_QUEUE_URL" \
    < examples/notifications.ndjson > /dev/null 2>&1
mkfifo settled
bb-sqs-recv --queue-url "$BB_SQS_QUEUE_URL" --settled settled --drain \
    --wait-seconds 1 --visibility-timeout 2 2> recv.log |
    (sleep 4; cat) | bb-ack --settled settled --all 2>/dev/null \
    > acked.ndjson &
sleep 3; node tools/sqs/count.mjs "$BB_SQS_QUEUE_URL" --json | jq -c \
    '[.ApproximateNumberOfMessages, .ApproximateNumberOfMessagesNotVisible]'
wait; jq -c '[.sqs.receive_count, .ack.deleted]' acked.ndjson | uniq -c
grep -o 'unsettled=[0-9]*' recv.log
node tools/sqs/count.mjs "$BB_SQS_QUEUE_URL"
EOF
	assert_output - <<'EOF'
[0,9]
      9 [1,true]
unsettled=0
0
EOF
	# extended about every second, each of the nine; deleted for good, not just hidden
	run -0 sed -n 's/.*msg=summary emitted=9 .*released=0 extended=\([0-9]*\) unsettled=0 queue=bb$/\1/p' recv.log
	[ "${output:-0}" -ge 18 ] || { echo "extended ${output:-?} times: $(cat recv.log)"; false; }
	run -0 depth "$BB_SQS_QUEUE_URL"
	assert_output '[0,0]'
	# without --settled the nine are visible again three seconds in
	run -0 bash <<'EOF'
bb-sqs-send --queue-url "$BB_SQS_QUEUE_URL" \
    < examples/notifications.ndjson > /dev/null 2>&1
bb-sqs-recv --queue-url "$BB_SQS_QUEUE_URL" --drain \
    --wait-seconds 1 --visibility-timeout 2 2>/dev/null |
    (sleep 4; cat) | bb-ack --all >/dev/null 2>&1 &
sleep 3; node tools/sqs/count.mjs "$BB_SQS_QUEUE_URL" --json | jq -c \
    '[.ApproximateNumberOfMessages, .ApproximateNumberOfMessagesNotVisible]'
wait
EOF
	assert_output '[9,0]'
}

# ---- bb-ack(1) ----

@test "bb-ack(1): the pipeline deletes all 17 messages and first copies the 8 rejected to the dead-letter queue" {
	run -0 bash <<'EOF'
bb-store --db sqlite:bb.db --migrate 2>/dev/null
cat examples/notifications.ndjson examples/invalid.ndjson |
    bb-sqs-send --queue-url "$BB_SQS_QUEUE_URL" > /dev/null 2>&1
bb-sqs-recv --queue-url "$BB_SQS_QUEUE_URL" --drain --wait-seconds 1 \
    2>/dev/null | bb-validate 2>/dev/null |
    bb-severity --costs examples/costs.csv 2>/dev/null |
    bb-dedupe --db sqlite:bb.db 2>/dev/null |
    bb-store --db sqlite:bb.db 2>/dev/null |
    bb-ack --dlq-url "$BB_SQS_DLQ_URL" 2> ack.log > acked.ndjson
jq -c '[.status, .ack.deleted, .ack.dlq]' acked.ndjson | sort | uniq -c
grep -o 'deleted=.*' ack.log
node tools/sqs/count.mjs "$BB_SQS_QUEUE_URL"
node tools/sqs/receive.mjs "$BB_SQS_DLQ_URL" --keep 2>/dev/null \
    > dead.ndjson
jq -r .MessageAttributes.error_type.StringValue dead.ndjson | sort | uniq -c
jq -r .Body dead.ndjson | sort |
    cmp - <(sort examples/invalid.ndjson) && echo same bytes
EOF
	assert_output - <<'EOF'
      8 ["ok",true,false]
      8 ["rejected",true,true]
      1 ["skipped",true,false]
deleted=17 dead_lettered=8 retry_later=0 unsettled=0
0
      2 invalid_amount
      1 invalid_asin
      1 invalid_marketplace
      1 invalid_time
      1 malformed_json
      2 schema
same bytes
EOF
	# every record settled, none with an error; the copies carry the trace ids
	run -0 jq -e -s 'length == 17 and all(.[]; .ack.error == null and .stored != null)' acked.ndjson
	run -0 bash -c 'diff <(jq -r "select(.status == \"rejected\") | .trace_id" acked.ndjson | sort) \
		<(jq -r .MessageAttributes.trace_id.StringValue dead.ndjson | sort)'
	run -0 sqlite3 bb.db 'SELECT count(*) FROM worker_notifications; SELECT count(*) FROM worker_failures'
	assert_output "$(printf '8\n8')"
	# the main queue really is empty: nothing in flight either
	run -0 depth "$BB_SQS_QUEUE_URL"
	assert_output '[0,0]'
}

@test "bb-ack(1): without bb-store nothing is deleted and all nine stay in flight" {
	run -0 bash <<'EOF'
bb-sqs-send --queue-url "$BB_SQS_QUEUE_URL" \
    < examples/notifications.ndjson > /dev/null 2>&1
bb-sqs-recv --queue-url "$BB_SQS_QUEUE_URL" --drain --wait-seconds 1 \
    2>/dev/null | bb-validate 2>/dev/null | bb-ack 2>/dev/null |
    jq -c .ack | uniq -c
node tools/sqs/count.mjs "$BB_SQS_QUEUE_URL" --json | jq -c \
    '[.ApproximateNumberOfMessages, .ApproximateNumberOfMessagesNotVisible]'
EOF
	assert_output - <<'EOF'
      9 {"deleted":false,"dlq":false,"error":"outcome not stored yet: left for redelivery"}
[0,9]
EOF
	run -0 depth "$BB_SQS_DLQ_URL"
	assert_output '[0,0]'
	# each is logged "not settled" with its receipt handle shortened, never whole
	rh=AQEBzWsecretreceipthandle0123456789x3Q=
	jq -nc --arg q "$BB_SQS_QUEUE_URL" --arg rh "$rh" \
		'{trace_id: "t-1", sqs: {queue_url: $q, receipt_handle: $rh, receive_count: 1}, status: "ok"}' >one.ndjson
	run -0 --separate-stderr bb-ack <one.ndjson
	[[ "$stderr" == *'level=warn prog=bb-ack trace_id=t-1 msg="not settled" receipt="AQEBzW…x3Q=" error="outcome not stored yet: left for redelivery"'* ]]
	[[ "$stderr" != *secretreceipt* ]]
}

@test "bb-ack(1): --all drains the dead-letter queue to a file" {
	run -0 bash <<'EOF'
bb-sqs-send --queue-url "$BB_SQS_DLQ_URL" \
    < examples/invalid.ndjson > /dev/null 2>&1
bb-sqs-recv --queue-url "$BB_SQS_DLQ_URL" --drain --wait-seconds 1 \
    2>/dev/null | bb-ack --all 2>/dev/null > dlq.ndjson
jq -c .ack dlq.ndjson | uniq -c
node tools/sqs/count.mjs "$BB_SQS_DLQ_URL"
bb-validate < dlq.ndjson 2>/dev/null | jq -r .error.type | sort | uniq -c
EOF
	assert_output - <<'EOF'
      8 {"deleted":true,"dlq":false,"error":null}
0
      2 invalid_amount
      1 invalid_asin
      1 invalid_marketplace
      1 invalid_time
      1 malformed_json
      2 schema
EOF
	# deleted for good, not just hidden; and the file holds the bodies byte for byte
	run -0 depth "$BB_SQS_DLQ_URL"
	assert_output '[0,0]'
	run -0 bash -c 'jq -r .body dlq.ndjson | sort | cmp - <(sort examples/invalid.ndjson)'
}

@test "bb-ack(1): a failed record comes back 30 s later, and on its last allowed delivery goes to the dead-letter queue" {
	run -0 bash <<'EOF'
head -n 1 examples/notifications.ndjson |
    bb-sqs-send --queue-url "$BB_SQS_QUEUE_URL" > /dev/null 2>&1
bb-sqs-recv --queue-url "$BB_SQS_QUEUE_URL" --max-messages 1 \
    --visibility-timeout 5 2>/dev/null |
    jq -c '. + {status: "failed", error: {type: "timeout"}, stored: {}}' \
    > failed.ndjson
bb-ack --dlq-url "$BB_SQS_DLQ_URL" < failed.ndjson 2>&1 >/dev/null |
    grep -o 'deleted=.*'
sleep 6; node tools/sqs/count.mjs "$BB_SQS_QUEUE_URL" --json | jq -c \
    '[.ApproximateNumberOfMessages, .ApproximateNumberOfMessagesNotVisible]'
bb-ack --dlq-url "$BB_SQS_DLQ_URL" --max-receive-count 1 \
    < failed.ndjson 2>&1 >/dev/null | grep -o 'deleted=.*'
node tools/sqs/receive.mjs "$BB_SQS_DLQ_URL" --keep 2>/dev/null \
    > dead.ndjson
jq -r .MessageAttributes.error_type.StringValue dead.ndjson
EOF
	assert_output - <<'EOF'
deleted=0 dead_lettered=0 retry_later=1 unsettled=0
[0,1]
deleted=1 dead_lettered=1 retry_later=0 unsettled=0
timeout
EOF
	# the dead-letter copy is the message body byte for byte, with the record's trace id
	run -0 bash -c 'jq -r .Body dead.ndjson | cmp - <(head -n 1 examples/notifications.ndjson)'
	run -0 jq -r .MessageAttributes.trace_id.StringValue dead.ndjson
	assert_output "$(jq -r .trace_id failed.ndjson)"
	run -0 depth "$BB_SQS_QUEUE_URL"
	assert_output '[0,0]'
}

@test "bb-ack(1): records that did not come from SQS go through unchanged" {
	run -0 bash <<'EOF'
bb-validate < examples/notifications.ndjson 2>/dev/null > validated.ndjson
bb-ack < validated.ndjson 2>/dev/null | cmp - validated.ndjson &&
    echo unchanged
EOF
	assert_output unchanged
	run -0 bash -c 'bb-ack < validated.ndjson 2>&1 >/dev/null | grep -o "deleted=.*"'
	assert_output 'deleted=0 dead_lettered=0 retry_later=0 unsettled=0'
}

# ---- bb-sqs-send(1) ----

@test "bb-sqs-send(1): the nine samples are sent, each line coming back with sent" {
	run -0 bash <<'EOF'
bb-sqs-send --queue-url "$BB_SQS_QUEUE_URL" \
    < examples/notifications.ndjson 2>&1 > sent.ndjson | grep -o 'msg=.*'
jq -c '.sent | keys' sent.ndjson | uniq -c
node tools/sqs/count.mjs "$BB_SQS_QUEUE_URL"
EOF
	assert_output - <<'EOF'
msg=summary sent=9 failed=0 queue=bb
      9 ["message_id","queue_url"]
9
EOF
	# each line was sent as it is, and sent names the message SQS made of it
	node tools/sqs/receive.mjs "$BB_SQS_QUEUE_URL" --max 100 2>/dev/null >got.ndjson
	run -0 bash -c 'jq -r .Body got.ndjson | sort | cmp - <(sort examples/notifications.ndjson)'
	run -0 bash -c 'diff <(jq -r .sent.message_id sent.ndjson | sort) <(jq -r .MessageId got.ndjson | sort)'
	run -0 jq -e -s 'all(.[]; .sent.queue_url == env.BB_SQS_QUEUE_URL)' sent.ndjson
}

@test "bb-sqs-send(1): a dead-letter dump is redriven body by body, byte for byte" {
	run -0 bash <<'EOF'
bb-sqs-send --queue-url "$BB_SQS_DLQ_URL" \
    < examples/invalid.ndjson > /dev/null 2>&1
bb-sqs-recv --queue-url "$BB_SQS_DLQ_URL" --drain --wait-seconds 1 \
    2>/dev/null | bb-ack --all 2>/dev/null > dlq.ndjson
bb-sqs-send --queue-url "$BB_SQS_QUEUE_URL" < dlq.ndjson 2>/dev/null |
    wc -l
node tools/sqs/receive.mjs "$BB_SQS_QUEUE_URL" --body-only 2>/dev/null |
    sort | cmp - <(sort examples/invalid.ndjson) && echo same bytes
EOF
	assert_output - <<'EOF'
8
same bytes
EOF
	run -0 depth "$BB_SQS_DLQ_URL"
	assert_output '[0,0]'
}

@test "bb-sqs-send(1): --rate 20 sends the 90 messages of a load test in three to four seconds" {
	start=$(date +%s%3N)
	run -0 bash <<'EOF'
for i in $(seq 10); do cat examples/notifications.ndjson; done |
    bb-sqs-send --queue-url "$BB_SQS_QUEUE_URL" --rate 20 2>&1 >/dev/null |
    grep -o 'sent=.*'
EOF
	elapsed=$(($(date +%s%3N) - start))
	assert_output 'sent=90 failed=0 queue=bb'
	# at most 29 go out in a second, so at least three waits for a new one
	[ "$elapsed" -ge 2900 ] || { echo "took ${elapsed} ms"; false; }
	[ "$elapsed" -lt 10000 ] || { echo "took ${elapsed} ms"; false; }
	run -0 node tools/sqs/count.mjs "$BB_SQS_QUEUE_URL"
	assert_output 90
}

@test "bb-sqs-send(1): a body over 256 KiB is not sent, the others are, and the status is 65" {
	run -0 bash <<'EOF'
{ head -n 2 examples/notifications.ndjson
    jq -nc '{body: ("x" * 262145)}'; } > big.ndjson
bb-sqs-send --queue-url "$BB_SQS_QUEUE_URL" < big.ndjson \
    > sent.ndjson 2> send.log
echo $?
grep -o 'msg=.*' send.log
wc -l < sent.ndjson
EOF
	assert_output - <<'EOF'
65
msg="body over SQS's 256 KiB limit: not sent" line=3
msg=summary sent=2 failed=1 queue=bb
2
EOF
	# what went out is exactly the first two lines, and standard output says so
	run -0 bash -c 'node tools/sqs/receive.mjs "$BB_SQS_QUEUE_URL" --max 100 --body-only 2>/dev/null |
		sort | cmp - <(head -n 2 examples/notifications.ndjson | sort)'
	run -0 jq -r .NotificationMetadata.NotificationId sent.ndjson
	assert_output "$(head -n 2 examples/notifications.ndjson | jq -r .NotificationMetadata.NotificationId)"
}

# ---- bb(7) ----

@test "bb(7): the pipeline on the local emulator settles all 17 messages" {
	run -0 bash <<'EOF'
export BB_DB=sqlite:bb.db BB_COSTS=examples/costs.csv
bb-store --migrate 2>/dev/null
cat examples/notifications.ndjson examples/invalid.ndjson |
    bb-sqs-send > /dev/null 2>&1
scripts/bb-pipeline --drain --wait-seconds 1 2>&1 |
    grep -o 'prog=bb-\(store\|ack\) msg=summary.*'
node tools/sqs/count.mjs "$BB_SQS_QUEUE_URL"
node tools/sqs/count.mjs "$BB_SQS_DLQ_URL"
sqlite3 bb.db 'SELECT count(*) FROM current_state'
EOF
	assert_output - <<'EOF'
prog=bb-store msg=summary processed=17 failed=8 duplicates=0
prog=bb-ack msg=summary deleted=17 dead_lettered=8 retry_later=0 unsettled=0
0
8
8
EOF
	run -0 depth "$BB_SQS_QUEUE_URL"
	assert_output '[0,0]'
}

# The runbook's start: the bad notifications through the pipeline, into the
# dead-letter queue.
dlq_filled() {
	bash <<'EOF'
export BB_DB=sqlite:bb.db BB_COSTS=examples/costs.csv
bb-store --migrate 2>/dev/null
bb-sqs-send < examples/invalid.ndjson > /dev/null 2>&1
scripts/bb-pipeline --drain --wait-seconds 1 2>/dev/null
node tools/sqs/count.mjs "$BB_SQS_DLQ_URL"
EOF
}

# The runbook's fix: from the dump in dlq.ndjson to fixed.ndjson.
fix_amount() {
	bash <<'EOF'
bb-validate < dlq.ndjson 2>/dev/null |
    jq -c 'select(.error.message | endswith("expected a number, got string"))
    | .body |= (fromjson
        | (.. | objects | select(has("Amount")) | .Amount) |= tonumber
        | tojson)' > fixed.ndjson
EOF
}

@test "bb(7): draining the dead-letter queue: drain it, see what is wrong, fix, replay into the database" {
	run -0 dlq_filled
	assert_output 8
	run -0 bash <<'EOF'
bb-sqs-recv --queue-url "$BB_SQS_DLQ_URL" --drain 2>/dev/null |
    bb-ack --all > dlq.ndjson 2>/dev/null
wc -l < dlq.ndjson
node tools/sqs/count.mjs "$BB_SQS_DLQ_URL"
EOF
	assert_output "$(printf '8\n0')"
	run -0 bash <<'EOF'
bb-validate < dlq.ndjson 2>/dev/null | jq -r .error.type | sort | uniq -c
bb-validate < dlq.ndjson 2>/dev/null |
    jq -r 'select(.error.type == "schema") | .error.message' | sort
EOF
	assert_output - <<'EOF'
      2 invalid_amount
      1 invalid_asin
      1 invalid_marketplace
      1 invalid_time
      1 malformed_json
      2 schema
Payload.AnyOfferChangedNotification.Offers[0].SellerId: missing (required, expected a string)
Payload.AnyOfferChangedNotification.Offers[3].ListingPrice.Amount: expected a number, got string
EOF
	run -0 fix_amount
	run -0 wc -l <fixed.ndjson
	assert_output 1
	run -0 bash <<'EOF'
export BB_DB=sqlite:bb.db
bb-validate < fixed.ndjson 2>/dev/null |
    bb-severity --costs examples/costs.csv 2>/dev/null |
    bb-dedupe 2>/dev/null | bb-store 2>/dev/null |
    jq -c '{status, asin: .notification.asin, severity: .analysis.severity}'
EOF
	assert_output '{"status":"ok","asin":"B0HIGH0002","severity":"HIGH"}'
	run -0 sqlite3 bb.db 'SELECT severity, asin FROM current_state'
	assert_output 'HIGH|B0HIGH0002'
	# stored once: a second replay is a duplicate
	run -0 bash -c 'BB_DB=sqlite:bb.db bb-validate < fixed.ndjson 2>/dev/null | bb-severity 2>/dev/null |
		BB_DB=sqlite:bb.db bb-store 2>/dev/null | jq -r .status'
	assert_output duplicate
}

@test "bb(7): draining the dead-letter queue: or redrive the fixed record through the pipeline" {
	run -0 dlq_filled
	assert_output 8
	bb-sqs-recv --queue-url "$BB_SQS_DLQ_URL" --drain --wait-seconds 1 2>/dev/null |
		bb-ack --all >dlq.ndjson 2>/dev/null
	run -0 fix_amount
	run -0 bash <<'EOF'
export BB_DB=sqlite:bb.db BB_COSTS=examples/costs.csv
bb-sqs-send --queue-url "$BB_SQS_QUEUE_URL" < fixed.ndjson > /dev/null 2>&1
scripts/bb-pipeline --drain --wait-seconds 1 2>&1 |
    grep -o 'prog=bb-store msg=summary.*'
sqlite3 bb.db 'SELECT severity, asin FROM current_state'
EOF
	assert_output - <<'EOF'
prog=bb-store msg=summary processed=1 failed=0 duplicates=0
HIGH|B0HIGH0002
EOF
	# settled: both queues empty
	run -0 depth "$BB_SQS_QUEUE_URL"
	assert_output '[0,0]'
	run -0 depth "$BB_SQS_DLQ_URL"
	assert_output '[0,0]'
}
