#!/usr/bin/env bats
# scripts/bb-pipeline end to end against a real SQS (the fauxqs emulator) and
# SQLite: every notification stored once and deleted from the queue; a
# malformed message dead-lettered and recorded; and DESIGN.md's first
# principle under kill -9 of any stage mid-stream (after a restart, every
# notification is stored exactly once and no message is left behind) and
# under SQS going away for 10 s mid-run (the pipeline waits, then finishes
# the job, each notification stored once).

load helper
load sqs-helper

BATS_NO_PARALLELIZE_WITHIN_FILE=true
PIPELINE="$BATS_TEST_DIRNAME/../scripts/bb-pipeline"

setup_file() {
	sqs_start 4584
}

teardown_file() {
	sqs_stop
}

setup() {
	sqs_require
	T=$BATS_TEST_TMPDIR
	DBFILE=$T/bb.db
	BIN=$(cd "$BB_BIN" && pwd)
}

teardown() {
	# an emulator a failed test left frozen, a pipeline it left running (in a
	# process group of its own: every stage)
	[ -z "${FROZEN:-}" ] || kill -CONT "$FROZEN" 2>/dev/null || true
	[ -z "${RUN_PID:-}" ] || kill -TERM -- -"$RUN_PID" 2>/dev/null || true
}

# pipeline ARGS...: scripts/bb-pipeline ARGS on this test's queues and
# database; stderr in $T/err; status in $status.
pipeline() {
	status=0
	BB_SQS_QUEUE_URL=$Q BB_SQS_DLQ_URL=$DLQ BB_DB=sqlite:$DBFILE \
		timeout 120 "$PIPELINE" "$@" 2>"$T/err" || status=$?
}

# sql QUERY: one value from this test's database.
sql() {
	sqlite3 -cmd '.timeout 5000' "$DBFILE" "$1"
}

# stored_at_least N: worker_notifications holds N rows or more.
stored_at_least() {
	[ -f "$DBFILE" ] || return 1
	local n
	n=$(sql 'SELECT count(*) FROM worker_notifications' 2>/dev/null) || return 1
	[ "${n:-0}" -ge "$1" ]
}

# The six stages, in pipeline order.
STAGES=(bb-sqs-recv bb-validate bb-severity bb-dedupe bb-store bb-ack)

# make_shims: $T/shims, to put first on PATH: a shim per stage that records
# the stage's pid in $T/shims/STAGE.pid and execs the program, so that the pid
# is the program's own and kill -9 hits the stage itself, never a wrapper; its
# log goes to $T/logs/STAGE.err (stages that log at the same moment into one
# file can tear each other's lines). bb-validate reads its input through a
# perl filter, started in a process substitution before the exec, that passes
# about 100 records a second: bb-sqs-recv is held back by the full pipe, so the
# queue is still being received when a stage is killed or SQS goes away.
# bb-store commits every 5 records.
make_shims() {
	local stage run
	mkdir -p "$T/shims" "$T/logs"
	for stage in "${STAGES[@]}"; do
		case $stage in
		bb-validate)
			run="exec \"$BIN/bb-validate\" \"\$@\" < <(exec perl -ne 'BEGIN { \$| = 1 } print; select(undef, undef, undef, 0.01)')" ;;
		bb-store) run="exec \"$BIN/bb-store\" --batch 5 \"\$@\"" ;;
		*) run="exec \"$BIN/$stage\" \"\$@\"" ;;
		esac
		printf '#!/bin/bash\necho $$ >"%s"\nexec 2>>"%s"\n%s\n' "$T/shims/$stage.pid" "$T/logs/$stage.err" "$run" >"$T/shims/$stage"
	done
	chmod +x "$T/shims"/bb-*
}

# stage_logs: the logs of every stage of the run through the shims.
stage_logs() {
	tail -n +1 "$T/logs"/*.err 2>/dev/null
}

# start_pipeline ARGS...: run the pipeline (ARGS) through the shims in the
# background, in a process group of its own (RUN_PID its id), its own stderr
# in $T/run1.err.
start_pipeline() {
	make_shims
	BB_SQS_QUEUE_URL=$Q BB_SQS_DLQ_URL=$DLQ BB_DB=sqlite:$DBFILE PATH="$T/shims:$PATH" \
		setsid "$PIPELINE" "$@" 2>"$T/run1.err" 3>&- &
	RUN_PID=$!
}

# wait_pipeline: wait for the pipeline of start_pipeline to end (within 30 s);
# its status in run1. No stage may have hit a sanitizer error (SAN=1 builds).
wait_pipeline() {
	wait_for 30 eval '! kill -0 "$RUN_PID" 2>/dev/null' ||
		fail "the pipeline did not end within 30 s: $(cat "$T/run1.err"; stage_logs)"
	run1=0
	wait "$RUN_PID" || run1=$?
	RUN_PID=
	! grep -l 'Sanitizer\|runtime error:' "$T"/logs/*.err || fail "a sanitizer error: $(stage_logs)"
}

# kill_midstream STAGE ARGS...: run the pipeline (ARGS) through the shims;
# once 20 notifications are stored, kill -9 STAGE, which must be running as
# itself; wait for the pipeline to end. Sets at_kill (rows stored just before
# the kill) and run1 (the pipeline's status).
kill_midstream() {
	local stage=$1 victim
	shift
	start_pipeline "$@"
	wait_for 30 stored_at_least 20 || fail "20 notifications not stored within 30 s: $(cat "$T/run1.err"; stage_logs)"
	victim=$(cat "$T/shims/$stage.pid")
	expect "the process killed" "$(cat "/proc/$victim/comm" 2>/dev/null)" "$stage"
	if [ "$stage" = bb-ack ]; then
		# stopped first, so that bb-store commits records it never settles
		# (bb-pipeline stops the other stages as soon as one dies)
		kill -STOP "$victim"
		sleep 1
	fi
	at_kill=$(sql 'SELECT count(*) FROM worker_notifications')
	kill -9 "$victim"
	wait_pipeline
}

# kill_restart STAGE [CHECK...]: 300 notifications on a queue whose visibility
# timeout is 3 s; kill -9 STAGE mid-stream; the run fails naming STAGE, has
# not stored everything, and has lost nothing: what is not stored is still on
# the queue (left: how many messages are). CHECK, if given, runs then. After
# the visibility timeout of whatever the first run left in flight, a restart
# runs until the queue is empty: every notification stored exactly once,
# nothing left behind.
kill_restart() {
	local stage=$1 stored
	shift
	fresh_queues "kill-${stage#bb-}" 3
	notifications 300 >"$T/in.ndjson"
	sdk_send "$Q" --batch <"$T/in.ndjson" >"$T/ids"

	kill_midstream "$stage" --drain --wait-seconds 1 --visibility-timeout 3
	[ "$at_kill" -lt 300 ] || fail "all 300 were stored before the kill: not mid-stream"
	expect "status of the pipeline whose $stage was killed" "$run1" 137
	grep -qx "bb-pipeline: fatal: $stage exited with status 137" "$T/run1.err" ||
		fail "bb-pipeline did not name $stage as the stage that failed: $(cat "$T/run1.err")"
	stored=$(sql 'SELECT count(*) FROM worker_notifications')
	[ "$stored" -lt 300 ] || fail "all 300 stored by the killed run: nothing left for the restart"
	left=$(sqs_total "$Q")
	[ "$left" -ge $((300 - stored)) ] || fail "$stored stored and only $left left on the queue: messages lost"
	[ $# -eq 0 ] || "$@"
	sleep 3.5 # past the visibility timeout of every message the first run received

	pipeline --drain --wait-seconds 1 --visibility-timeout 3
	expect "exit status of the restart" "$status" 0
	# a record cut short by the kill is dropped by the next stage, with a
	# warning, not stored as a failure: its message comes back
	exactly_once "$T/ids" 300
}

# exactly_once IDS-FILE N [FAILURES]: the database holds each of the N
# messages of IDS-FILE exactly once; FAILURES (default 0) rows in
# worker_failures; the queue and the DLQ are empty.
exactly_once() {
	expect "rows in worker_notifications" "$(sql 'SELECT count(*) FROM worker_notifications')" "$2"
	expect "stored message ids" "$(sql 'SELECT message_id FROM worker_notifications ORDER BY 1')" "$(sort "$1")"
	expect "distinct notification ids" "$(sql "SELECT count(DISTINCT json_extract(body, '\$.NotificationMetadata.NotificationId')) FROM worker_notifications")" "$2"
	expect "rows in worker_failures" "$(sql 'SELECT count(*) FROM worker_failures')" "${3:-0}"
	expect "queue: visible, in flight" "$(sqs_counts "$Q")" "0 0"
	expect "messages in the DLQ" "$(sqs_total "$DLQ")" 0
}

@test "100 notifications: 100 rows in worker_notifications and nothing left in the queue" {
	fresh_queues hundred
	notifications 100 >"$T/in.ndjson"
	sdk_send "$Q" --batch <"$T/in.ndjson" >"$T/ids"
	expect "messages sent" "$(wc -l <"$T/ids")" 100

	pipeline --drain --wait-seconds 1
	expect "exit status" "$status" 0
	exactly_once "$T/ids" 100
	expect "bodies stored byte for byte" "$(sql 'SELECT body FROM worker_notifications' | sort)" "$(sort "$T/in.ndjson")"
}

@test "a malformed message: in the DLQ with its attributes, in worker_failures, gone from the queue" {
	fresh_queues malformed
	notifications 3 >"$T/in.ndjson"
	printf '{"NotificationType": "ANY_OFFER_CHANGED", "Payload": {"cut short ✂\n' >"$T/bad.txt"
	sdk_send "$Q" <"$T/in.ndjson" >/dev/null
	bad_id=$(sdk_send "$Q" <"$T/bad.txt")

	pipeline --drain --wait-seconds 1
	expect "exit status" "$status" 0
	expect "rows in worker_notifications" "$(sql 'SELECT count(*) FROM worker_notifications')" 3
	expect "worker_failures (message_id, error_type, failure_count)" \
		"$(sql "SELECT message_id || ' ' || error_type || ' ' || failure_count FROM worker_failures")" \
		"$bad_id malformed_json 1"
	cmp <(sql 'SELECT raw_message FROM worker_failures') "$T/bad.txt" || fail "raw_message is not the body"
	trace=$(sql 'SELECT trace_id FROM worker_failures')
	expect_match "worker_failures.trace_id" "$trace" "$UUID7"
	expect "queue: visible, in flight" "$(sqs_counts "$Q")" "0 0"
	sdk_receive "$DLQ" --max 10 >"$T/dlq.ndjson"
	expect "messages in the DLQ" "$(wc -l <"$T/dlq.ndjson")" 1
	expect "DLQ message attributes" "$(jq -c .MessageAttributes "$T/dlq.ndjson")" \
		"{\"error_type\":{\"DataType\":\"String\",\"StringValue\":\"malformed_json\"},\"trace_id\":{\"DataType\":\"String\",\"StringValue\":\"$trace\"}}"
	cmp <(jq -j .Body "$T/dlq.ndjson") <(head -c -1 "$T/bad.txt") || fail "the DLQ message's body differs"
}

@test "kill -9 of bb-sqs-recv mid-stream, then a restart: every notification stored exactly once, the queue empty" {
	kill_restart bb-sqs-recv
}

@test "kill -9 of bb-validate mid-stream, then a restart: every notification stored exactly once, the queue empty" {
	kill_restart bb-validate
}

@test "kill -9 of bb-severity mid-stream, then a restart: every notification stored exactly once, the queue empty" {
	kill_restart bb-severity
}

@test "kill -9 of bb-dedupe mid-stream, then a restart: every notification stored exactly once, the queue empty" {
	kill_restart bb-dedupe
}

@test "kill -9 of bb-store mid-stream, then a restart: every notification stored exactly once, the queue empty" {
	kill_restart bb-store
}

@test "a stage that dies while the others wait for input stops the whole pipeline at once, naming it" {
	fresh_queues idle-death 30
	notifications 10 >"$T/in.ndjson"
	sdk_send "$Q" --batch <"$T/in.ndjson" >"$T/ids"
	# not --drain: bb-sqs-recv would poll an empty queue for ever
	start_pipeline --wait-seconds 1 --visibility-timeout 30
	wait_for 30 stored_at_least 10 || fail "10 notifications not stored within 30 s: $(cat "$T/run1.err"; stage_logs)"
	sleep 1 # every stage idle, waiting for input
	local pids=() stage
	for stage in "${STAGES[@]}"; do pids+=("$(cat "$T/shims/$stage.pid")"); done
	kill -9 "$(cat "$T/shims/bb-store.pid")"
	# the others are told to stop, not left waiting for a line that never comes
	wait_for 5 eval '! kill -0 "$RUN_PID" 2>/dev/null' ||
		fail "the pipeline still runs 5 s after bb-store died: $(cat "$T/run1.err"; stage_logs)"
	wait_pipeline
	expect "status of the pipeline" "$run1" 137
	grep -qx "bb-pipeline: fatal: bb-store exited with status 137" "$T/run1.err" ||
		fail "bb-pipeline did not name bb-store: $(cat "$T/run1.err")"
	for pid in "${pids[@]}"; do
		! kill -0 "$pid" 2>/dev/null || fail "a stage (pid $pid) outlived its pipeline"
	done
	exactly_once "$T/ids" 10
}

# stored_not_deleted: some message whose notification is stored is still on
# the queue (bb-ack was killed before deleting it).
stored_not_deleted() {
	[ "$left" -gt $((300 - $(sql 'SELECT count(*) FROM worker_notifications'))) ] ||
		fail "no stored message was left undeleted by the kill: nothing redelivered to test"
}

@test "kill -9 of bb-ack mid-stream, then a restart: every notification stored exactly once, the queue empty" {
	# what was stored but not deleted is redelivered: the restart must see it as a duplicate
	kill_restart bb-ack stored_not_deleted
}

# The SQS emulator unavailable for 10 s while the pipeline runs. fauxqs keeps
# its queues in memory only, so `scripts/sqs-local stop` and start again would
# lose them with every message in them: that is a new, empty SQS, not an outage
# (bb-sqs-recv would stop at once, 78, on the queue that no longer exists).
# The emulator is frozen instead (SIGSTOP, then SIGCONT): it keeps its state,
# and to its clients it is an SQS that does not answer. The kernel still
# accepts their connections, and their requests hang unanswered; its clock
# runs on, so the messages in flight outlive their visibility timeout (3 s)
# and are delivered again once it answers, as by a real SQS after such a gap.
# No request fails outright in 10 s (an attempt waits 10 s more than its long
# poll, one that times out is made again, and the client keeps trying for a
# minute before bb-ack leaves a message "not settled"; an attempt that times
# out would be warned about as "SQS unavailable"), so the logs show the outage
# otherwise: bb-sqs-recv's summary, whose longest lag spans it, and its
# warnings that the visibility of messages in flight could not be extended,
# their receipt handles having expired meanwhile.
@test "SQS unavailable for 10 s mid-run: the pipeline waits, resumes, and stores every notification exactly once" {
	local stage fauxqs visible lag
	fresh_queues outage 3
	notifications 300 >"$T/in.ndjson"
	sdk_send "$Q" --batch <"$T/in.ndjson" >"$T/ids"

	# not --drain: the run goes on until it is stopped
	start_pipeline --wait-seconds 1 --visibility-timeout 3
	wait_for 30 stored_at_least 20 || fail "20 notifications not stored within 30 s: $(cat "$T/run1.err"; stage_logs)"
	visible=$(sqs_counts "$Q" | cut -d' ' -f1)
	[ "$visible" -ge 50 ] || fail "only $visible messages still to receive: the outage would not be mid-stream"
	fauxqs=$(cat "$SQS_DIR/fauxqs.pid")
	kill -STOP "$fauxqs"
	FROZEN=$fauxqs
	sleep 10
	for stage in "${STAGES[@]}"; do
		kill -0 "$(cat "$T/shims/$stage.pid")" 2>/dev/null ||
			fail "$stage exited while SQS was away: $(cat "$T/run1.err"; stage_logs)"
	done
	kill -CONT "$fauxqs"
	FROZEN=

	wait_for 60 eval 'stored_at_least 300 && counts_are "$Q" "0 0"' ||
		fail "not every notification stored and deleted within 60 s of SQS coming back: $(sqs_counts "$Q"); $(stage_logs)"
	kill -TERM -- -"$RUN_PID"
	wait_pipeline
	expect "status of the pipeline stopped by SIGTERM" "$run1" 143
	! grep -h 'fatal' "$T/run1.err" "$T"/logs/*.err || fail "a stage failed: $(stage_logs)"
	for stage in "${STAGES[@]}"; do
		grep -q "prog=$stage msg=summary" "$T/logs/$stage.err" || fail "$stage did not stop cleanly: $(stage_logs)"
	done
	exactly_once "$T/ids" 300

	# the outage was felt: messages waited in the queue through it...
	lag=$(grep ' msg=summary ' "$T/logs/bb-sqs-recv.err" | grep -o ' max_lag_ms=[0-9]*' | cut -d= -f2)
	[ "${lag:-0}" -ge 10000 ] || fail "bb-sqs-recv's longest lag is ${lag:-unknown} ms, not the 10 s of the outage: $(cat "$T/logs/bb-sqs-recv.err")"
	# ...and those in flight outlived their visibility timeout
	grep -q 'msg="unable to extend visibility" .*ReceiptHandleIsInvalid' "$T/logs/bb-sqs-recv.err" ||
		fail "bb-sqs-recv extended every visibility timeout despite the outage: $(cat "$T/logs/bb-sqs-recv.err")"
}
