#!/usr/bin/env bats
# Running bb as a service: the Prometheus files of --metrics-file (each
# counter equal to what the run did, promtool clean), the systemd units
# (verify, security, and each ExecStart= line run as the unit writes it,
# against the emulator and SQLite), and scripts/bb-autoscale's decisions.

load helper
load store-helper
load sqs-helper

BATS_NO_PARALLELIZE_WITHIN_FILE=true
ROOT="$BATS_TEST_DIRNAME/.."

setup_file() {
	sqs_start 4689
}

teardown_file() {
	sqs_stop
}

setup() {
	T=$BATS_TEST_TMPDIR
	export BB_NOW=2025-06-01T12:00:00Z
}

# sample FILE METRIC-AND-LABELS: the value of one sample, e.g.
# sample s.prom 'worker_notifications_processed_total{.*status="ok"}'
sample() {
	grep -E "^$2 " "$1" | awk '{ print $2 }'
}

# promtool_clean FILE: promtool check metrics finds nothing to say.
promtool_clean() {
	run promtool check metrics <"$1"
	assert_success
	assert_output ''
}

# sent_before SECONDS: a jq filter giving the record an sqs.sent_at SECONDS before BB_NOW.
sent_before() {
	printf '.sqs = {sent_at: "%s"}' "$(date -u -d "2025-06-01T12:00:00Z - $1 seconds" +%Y-%m-%dT%H:%M:%S.000Z)"
}

# ---------------------------------------------------------------------------
# --metrics-file

@test "bb-store --metrics-file counts each outcome and the ingest to commit time" {
	db=$(migrated_db sqlite)
	{
		rec STABLE 2025-06-01T11:00:00Z n-1 | jq -c "$(sent_before 3)"
		rec STABLE 2025-06-01T11:01:00Z n-2 | jq -c "$(sent_before 40)"
		rec STABLE 2025-06-01T11:02:00Z n-3
		rec STABLE 2025-06-01T11:00:00Z n-1 | jq -c "$(sent_before 3)" # a redelivery
		echo '{"status":"rejected","error":{"type":"malformed_json"},"body":"{","message_id":"m-bad","dedupe_hash":"00"}'
	} >"$T/in.ndjson"
	run --separate-stderr bb-store --db "$db" --metrics-file "$T/store.prom" <"$T/in.ndjson"
	assert_success
	promtool_clean "$T/store.prom"
	expect ok "$(sample "$T/store.prom" 'worker_notifications_processed_total\{.*,stage="store",status="ok"\}')" 3
	expect duplicate "$(sample "$T/store.prom" 'worker_notifications_processed_total\{.*status="duplicate"\}')" 1
	expect rejected "$(sample "$T/store.prom" 'worker_notifications_processed_total\{.*status="rejected"\}')" 1
	expect "stored rows" "$(count "$db" worker_notifications)" 3
	# received_at is BB_NOW for the bare notifications: 0 s, but for the two sent 3 s and 40 s before
	expect "observed" "$(sample "$T/store.prom" 'worker_processing_duration_seconds_count\{.*\}')" 4
	expect "within 10 ms" "$(sample "$T/store.prom" 'worker_processing_duration_seconds_bucket\{.*le="0.01"\}')" 1
	expect "within 5 s" "$(sample "$T/store.prom" 'worker_processing_duration_seconds_bucket\{.*le="5"\}')" 3
	expect "within 60 s" "$(sample "$T/store.prom" 'worker_processing_duration_seconds_bucket\{.*le="60"\}')" 4
	expect "sum" "$(sample "$T/store.prom" 'worker_processing_duration_seconds_sum\{.*\}')" 46.000
	ls "$T" | grep -q '\.tmp$' && fail "a temporary file was left"
	true
}

@test "the metrics file is rewritten every period while the program runs, whole" {
	db=$(migrated_db sqlite)
	mkfifo "$T/in"
	BB_METRICS_PERIOD=200ms bb-store --db "$db" --worker-id w-1 --metrics-file "$T/store.prom" --max-delay 0 \
		<"$T/in" >/dev/null 2>"$T/err" &
	pid=$!
	exec 4>"$T/in"
	rec STABLE 2025-06-01T11:00:00Z n-1 >&4
	rec STABLE 2025-06-01T11:01:00Z n-2 >&4
	for i in $(seq 50); do
		[ "$(sample "$T/store.prom" 'worker_notifications_processed_total\{worker_id="w-1",stage="store",status="ok"\}')" = 2 ] && break
		sleep 0.1
	done
	expect "counted while running" "$(sample "$T/store.prom" 'worker_notifications_processed_total\{worker_id="w-1",stage="store",status="ok"\}')" 2
	first=$(sample "$T/store.prom" 'worker_heartbeat_timestamp\{.*\}')
	sleep 0.5
	[ "$(sample "$T/store.prom" 'worker_heartbeat_timestamp\{.*\}')" != "$first" ] || fail "not rewritten"
	promtool_clean "$T/store.prom"
	exec 4>&-
	wait "$pid"
}

@test "bb-sqs-recv, bb-store and bb-ack count what the run received, stored and settled" {
	fresh_queues metrics
	unset BB_NOW # SQS's SentTimestamp is the clock's
	db=$(migrated_db sqlite)
	{ notifications 4 m; echo '{not json'; } | sdk_send "$Q" >/dev/null
	bb-sqs-recv --queue-url "$Q" --drain --wait-seconds 1 --metrics-file "$T/recv.prom" 2>"$T/recv.err" |
		bb-validate 2>/dev/null | bb-severity --seller-id OURS 2>/dev/null | bb-dedupe --db "$db" 2>/dev/null |
		bb-store --db "$db" --metrics-file "$T/store.prom" 2>/dev/null |
		bb-ack --dlq-url "$DLQ" --metrics-file "$T/ack.prom" >/dev/null 2>"$T/ack.err"
	for f in recv store ack; do
		promtool_clean "$T/$f.prom"
	done
	expect received "$(sample "$T/recv.prom" 'worker_notifications_processed_total\{.*,stage="recv",status="received"\}')" 5
	expect stored "$(sample "$T/store.prom" 'worker_notifications_processed_total\{.*status="ok"\}')" 4
	expect rejected "$(sample "$T/store.prom" 'worker_notifications_processed_total\{.*status="rejected"\}')" 1
	expect "ingest to commit, each from SentTimestamp" "$(sample "$T/store.prom" 'worker_processing_duration_seconds_count\{.*\}')" 5
	expect deleted "$(sample "$T/ack.prom" 'worker_notifications_processed_total\{.*,stage="ack",status="deleted"\}')" 4
	expect "dead-lettered" "$(sample "$T/ack.prom" 'worker_notifications_processed_total\{.*status="dead_lettered"\}')" 1
	expect "by error type" "$(sample "$T/ack.prom" 'worker_dlq_messages_total\{.*error_type="malformed_json"\}')" 1
	expect "the DLQ holds it" "$(sqs_total "$DLQ")" 1
}

@test "bb-alert deliver --metrics-file counts its deliveries" {
	db=$(migrated_db sqlite)
	for i in 1 2 3; do
		rec CRITICAL 2025-06-01T11:5$i:00Z "n-c$i" "B00000000$i"
	done | bb-dedupe --db "$db" 2>/dev/null | bb-store --db "$db" >/dev/null 2>&1
	run --separate-stderr bb-alert deliver --db "$db" --once --exec 'cat >/dev/null' --metrics-file "$T/alert.prom"
	assert_success
	promtool_clean "$T/alert.prom"
	expect delivered "$(sample "$T/alert.prom" 'bb_alert_deliveries_total\{.*,stage="alert",outcome="delivered"\}')" 3
	expect "in the database" "$(count "$db" alert_queues "status = 'delivered'")" 3
}

@test "a metrics file that cannot be written is a configuration error (78), named" {
	db=$(migrated_db sqlite)
	run --separate-stderr bb-store --db "$db" --metrics-file "$T/no/such/dir/s.prom" </dev/null
	assert_failure 78
	expect message "$stderr" "bb-store: fatal: unable to write metrics file '$T/no/such/dir/s.prom': No such file or directory"
	run --separate-stderr bb-alert deliver --db "$db" --once --metrics-file "$T/no/a.prom"
	assert_failure 78
	fresh_queues nofile
	run --separate-stderr bb-sqs-recv --queue-url "$Q" --drain --wait-seconds 0 --metrics-file "$T/no/r.prom"
	assert_failure 78
	run --separate-stderr bb-ack --metrics-file "$T/no/a.prom" </dev/null
	assert_failure 78
	expect message "$stderr" "bb-ack: fatal: unable to write metrics file '$T/no/a.prom': No such file or directory"
}
