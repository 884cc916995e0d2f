#!/usr/bin/env bats
# bb-status: the worker-status document from SQS (the emulator) and the
# database (SQLite and PostgreSQL), with heartbeats, failures and alerts
# written by hand, so that each health state is reached by its own
# condition at a time given with --now.

load services-helper

NOW=2025-06-01T12:00:00.000Z

setup_file() {
	services_start 55446 4589
}

teardown_file() {
	services_stop
}

setup() {
	sqs_require
	unset BB_NOW
}

teardown() {
	store_teardown
}

backends() {
	echo sqlite pg
}

# at SECONDS: NOW minus SECONDS, as RFC 3339.
at() {
	date -u -d "2025-06-01T12:00:00Z - $1 seconds" +%Y-%m-%dT%H:%M:%S.000Z
}

# beat DBURL WORKER STAGE SECONDS-AGO [PROCESSED]: a heartbeat row.
beat() {
	q "$1" "INSERT INTO worker_heartbeats (worker_id, stage, host, pid, started_at, last_heartbeat, processed, failed)
	        VALUES ('$2', '$3', 'h1', 4242, '$(at 3600)', '$(at "$4")', ${5:-100}, 0)"
}

# with_lag DBURL WORKER MAX-MS P99-MS: the lag columns bb-store's heartbeat
# records, added to the schema when it does not have them yet.
with_lag() {
	q "$1" "ALTER TABLE worker_heartbeats ADD COLUMN lag_max_ms INTEGER" 2>/dev/null || true
	q "$1" "ALTER TABLE worker_heartbeats ADD COLUMN lag_p99_ms INTEGER" 2>/dev/null || true
	q "$1" "UPDATE worker_heartbeats SET lag_max_ms = $3, lag_p99_ms = $4 WHERE worker_id = '$2'"
}

# stored DBURL N SECONDS-AGO: N history rows, as N notifications stored then.
stored() {
	local win=0 from="SELECT i FROM s" with="WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $2)"
	case $1 in
	sqlite:*) ;;
	*) win=false with="" from="SELECT i FROM generate_series(1, $2) i" ;;
	esac
	q "$1" "$with INSERT INTO competitive_history (id, notification_id, asin, marketplace, event_time, severity,
	        priority, buy_box_winner, created_at, offer_seller_ids, offer_landed, offer_prime, offer_fba,
	        offer_buy_box_winner, offer_ours)
	        SELECT 'h-$3-' || i, 'n-$3-' || i, 'B000TEST01', 'ATVPDKIKX0DER', '$(at "$3")', 'STABLE', 5, $win,
	        '$(at "$3")', $(no_offers "$1") FROM ($from) AS x"
}

# failure DBURL ID STATUS ERROR-TYPE SECONDS-AGO [COUNT]: a worker_failures row.
failure() {
	q "$1" "INSERT INTO worker_failures (id, message_id, status, error_type, raw_message, failure_count,
	        first_failed, last_failed) VALUES ('f-$2', '$2', '$3', '$4', '{}', ${6:-1}, '$(at "$5")', '$(at "$5")')"
}

# alert DBURL ID STATUS: an alert_queues row.
alert() {
	q "$1" "INSERT INTO alert_queues (id, fingerprint, queue_type, asin, marketplace, severity, status, occurrences,
	        first_seen, last_seen, updated_at) VALUES ('$2', 'fp-$2', 'standard', 'B000TEST01', 'ATVPDKIKX0DER',
	        'WARNING', '$3', 1, '$(at 60)', '$(at 60)', '$(at 60)')"
}

# healthy_db sqlite|pg: a database whose store worker beat 10 s ago.
healthy_db() {
	local db
	db=$(migrated_db "$1") || return 1
	beat "$db" h1:4242 store 10
	echo "$db"
}

# status DBURL [bb-status options]: bb-status at NOW against this test's queues.
status() {
	local db=$1
	shift
	bb-status --db "$db" --queue-url "$Q" --dlq-url "$DLQ" --now "$NOW" "$@"
}

# ---------------------------------------------------------------------------
# The document

@test "the document has exactly the plan's keys, and bb's own beside them" {
	fresh_queues keys
	for b in $(backends); do
		db=$(healthy_db $b)
		run --separate-stderr status "$db"
		assert_success
		expect "$b top keys" "$(jq -c 'keys_unsorted' <<<"$output")" \
			'["ingestion","analysis","overall_health","checked_at","checks","queue","lag","workers","alerts","failures_24h","dlq","events"]'
		expect "$b ingestion" "$(jq -c '.ingestion | keys_unsorted' <<<"$output")" \
			'["queue_depth","oldest_message_age_seconds","last_heartbeat","dlq_count","processed_per_minute"]'
		expect "$b analysis" "$(jq -c '.analysis | keys_unsorted' <<<"$output")" \
			'["backlog_count","avg_processing_time_ms","last_heartbeat"]'
		expect "$b health" "$(jq -r .overall_health <<<"$output")" healthy
		expect "$b heartbeat" "$(jq -r .ingestion.last_heartbeat <<<"$output")" 2025-06-01T11:59:50.000Z
		expect "$b worker" "$(jq -c '.workers[0] | [.worker_id, .stage, .pid, .age_seconds, .stale, .processed]' <<<"$output")" \
			'["h1:4242","store",4242,10,false,100]'
	done
}

@test "queue depth, messages in flight and the DLQ count come from SQS" {
	fresh_queues depth
	printf 'a\nb\nc\n' | sdk_send "$Q" >/dev/null
	printf 'x\ny\n' | sdk_send "$DLQ" >/dev/null
	sdk_receive "$Q" --max 1 --keep >/dev/null
	db=$(healthy_db sqlite)
	run --separate-stderr status "$db"
	assert_success
	expect "ingestion" "$(jq -c '.ingestion | [.queue_depth, .dlq_count]' <<<"$output")" '[2,2]'
	expect "queue" "$(jq -c '.queue | [.visible, .in_flight, .delayed, .dlq_visible]' <<<"$output")" '[2,1,0,2]'
	expect "backlog: what is in flight" "$(jq -c .analysis.backlog_count <<<"$output")" 1
}

@test "processed per minute, processing time, alerts, failures and events are read from the database" {
	fresh_queues counts
	for b in $(backends); do
		db=$(healthy_db $b)
		stored "$db" 30 60      # 30 in the 5-minute window
		stored "$db" 500 3600   # outside it, inside 24 h
		failure "$db" m1 rejected schema 600
		failure "$db" m2 rejected schema 700
		failure "$db" m3 failed database 800
		failure "$db" m4 rejected poison 90000 # older than 24 h
		alert "$db" a1 queued
		alert "$db" a2 queued
		alert "$db" a3 acknowledged
		run --separate-stderr status "$db"
		assert_success
		expect "$b per minute" "$(jq -c .ingestion.processed_per_minute <<<"$output")" 6
		expect "$b alerts" "$(jq -c .alerts <<<"$output")" '{"acknowledged":1,"queued":2}'
		expect "$b failures" "$(jq -c .failures_24h <<<"$output")" '{"database":1,"schema":2}'
		expect "$b dlq" "$(jq -c '.dlq | [.growth_24h, .processed_24h]' <<<"$output")" '[2,533]'
	done
}

@test "avg_processing_time_ms is the mean receive to commit time of what the pipeline stored" {
	db=$(migrated_db sqlite)
	notify "OURS:20.00 A:19.00" | analysed |
		jq -c '.received_at = "2025-06-01T11:59:58.000Z"' |
		BB_NOW=2025-06-01T11:59:59.500Z bb-store --db "$db" >/dev/null 2>&1
	run --separate-stderr bb-status --db "$db" --now "$NOW"
	assert_success
	expect "avg" "$(jq -c .analysis.avg_processing_time_ms <<<"$output")" 1500
	expect "the store's heartbeat" "$(jq -r .analysis.last_heartbeat <<<"$output")" 2025-06-01T11:59:59.500Z
}

# ---------------------------------------------------------------------------
# Health: each state by its condition

@test "an empty queue is healthy whatever the last lag: --check prints nothing and exits 0" {
	fresh_queues empty
	for b in $(backends); do
		db=$(healthy_db $b)
		with_lag "$db" h1:4242 400000 300000
		run --separate-stderr status "$db" --check
		assert_success
		assert_output ''
		run --separate-stderr status "$db"
		expect "$b age" "$(jq -c .ingestion.oldest_message_age_seconds <<<"$output")" 0
		expect "$b note" "$(jq -r .lag.note <<<"$output")" "the queue is empty"
	done
}

@test "the oldest message over 120 s is degraded (exit 1), over 300 s critical (exit 2)" {
	fresh_queues age
	printf 'a\n' | sdk_send "$Q" >/dev/null
	for b in $(backends); do
		db=$(healthy_db $b)
		with_lag "$db" h1:4242 120000 90000
		run --separate-stderr status "$db" --check
		assert_success # exactly 120 s is not over
		with_lag "$db" h1:4242 130500 90000
		run --separate-stderr status "$db" --check
		assert_failure 1
		assert_output "degraded: oldest_message_age: oldest message 2m10s old, over 2m00s (ingest to commit lag recorded by h1:4242)"
		run --separate-stderr status "$db"
		expect "$b age" "$(jq -c .ingestion.oldest_message_age_seconds <<<"$output")" 130.5
		expect "$b lag" "$(jq -c '.lag | [.max_ms, .p99_ms, .worker_id, .at]' <<<"$output")" \
			'[130500,90000,"h1:4242","2025-06-01T11:59:50.000Z"]'
		with_lag "$db" h1:4242 301000 90000
		run --separate-stderr status "$db" --check
		assert_failure 2
		assert_output "critical: oldest_message_age: oldest message 5m01s old, over 5m00s (ingest to commit lag recorded by h1:4242)"
	done
}

@test "without a lag recorded the age is null, and says so" {
	fresh_queues nolag
	printf 'a\n' | sdk_send "$Q" >/dev/null
	for b in $(backends); do
		db=$(healthy_db $b)
		run --separate-stderr status "$db"
		assert_success
		expect "$b age" "$(jq -c .ingestion.oldest_message_age_seconds <<<"$output")" null
		expect "$b note" "$(jq -r .lag.note <<<"$output")" "no lag recorded"
		expect "$b health" "$(jq -r .overall_health <<<"$output")" healthy
	done
}

@test "a newest heartbeat older than 5 minutes is critical, and so is none at all" {
	fresh_queues beat
	for b in $(backends); do
		db=$(migrated_db $b)
		run --separate-stderr status "$db" --check
		assert_failure 2
		assert_output "critical: heartbeat: no worker has written a heartbeat"
		beat "$db" old:1 store 3600
		beat "$db" h1:4242 store 301
		run --separate-stderr status "$db" --check
		assert_failure 2
		assert_output "critical: heartbeat: newest heartbeat 5m01s old, over 5m00s"
		beat "$db" h2:7 recv 30
		run --separate-stderr status "$db"
		assert_success
		expect "$b health" "$(jq -r .overall_health <<<"$output")" healthy
		expect "$b stale" "$(jq -c '[.workers[] | [.worker_id, .stale]]' <<<"$output")" \
			'[["h2:7",false],["h1:4242",true],["old:1",true]]'
		expect "$b analysis" "$(jq -r .analysis.last_heartbeat <<<"$output")" "$(at 301)"
	done
}

@test "DLQ growth above 0.05% of what was processed over 24 h is degraded" {
	fresh_queues growth
	for b in $(backends); do
		db=$(healthy_db $b)
		stored "$db" 1999 3600
		failure "$db" m1 rejected schema 600
		run --separate-stderr status "$db" --check
		assert_success # 1 of 2000: exactly 0.05%
		failure "$db" m2 failed database 600 3 # its last allowed delivery: dead-lettered
		run --separate-stderr status "$db" --check
		assert_failure 1
		assert_output "degraded: dlq_growth: 2 of 2001 processed (0.0999%) dead-lettered over 24h, over 0.0500%"
		failure "$db" m3 failed database 600 1 # to be retried: not dead-lettered
		run --separate-stderr status "$db"
		expect "$b dlq" "$(jq -c '.dlq | [.growth_24h, .processed_24h, .growth_pct, .threshold_pct]' <<<"$output")" \
			'[2,2002,0.0999,0.05]'
	done
}

@test "SQS unreachable is critical, and the database is still read" {
	db=$(healthy_db sqlite)
	port=9 # nothing listens on the discard port
	AWS_ENDPOINT_URL_SQS=http://127.0.0.1:$port run --separate-stderr bb-status --db "$db" --now "$NOW" --check \
		--queue-url "http://127.0.0.1:$port/000000000000/q" --dlq-url ''
	assert_failure 2
	assert_output --regexp "^critical: sqs: unable to get attributes of queue 'http://127.0.0.1:$port/000000000000/q': connection: "
	AWS_ENDPOINT_URL_SQS=http://127.0.0.1:$port run --separate-stderr bb-status --db "$db" --now "$NOW" \
		--queue-url "http://127.0.0.1:$port/000000000000/q"
	assert_success
	expect "depth" "$(jq -c .ingestion.queue_depth <<<"$output")" null
	expect "heartbeat still read" "$(jq -r .ingestion.last_heartbeat <<<"$output")" 2025-06-01T11:59:50.000Z
}

@test "a database that cannot be reached is critical, and no SQLite file is made" {
	fresh_queues nodb
	run --separate-stderr status "sqlite:$BATS_TEST_TMPDIR/none.db" --check
	assert_failure 2
	assert_output "critical: database: unable to open database 'sqlite:$BATS_TEST_TMPDIR/none.db': No such file or directory"
	[ ! -e "$BATS_TEST_TMPDIR/none.db" ]
	run --separate-stderr status "host=127.0.0.1 port=9 dbname=x connect_timeout=2" --check
	assert_failure 2
	assert_output --regexp "^critical: database: unable to open database 'host=127.0.0.1 port=.*': .+"

	run --separate-stderr status "sqlite:$BATS_TEST_TMPDIR/none.db"
	assert_success
	expect "queue still read" "$(jq -c .ingestion.queue_depth <<<"$output")" 0
	expect "health" "$(jq -r .overall_health <<<"$output")" critical
}

# ---------------------------------------------------------------------------
# Formats, configuration, usage

@test "--format text is a short dashboard" {
	fresh_queues text
	db=$(healthy_db sqlite)
	failure "$db" m1 rejected schema 600
	alert "$db" a1 queued
	run --separate-stderr status "$db" --format text
	assert_success
	assert_output "bb status at 2025-06-01T12:00:00.000Z: degraded
ingestion  queue 0 (in flight 0, delayed 0)  oldest 0.000s  dlq 0  0 stored in 5m  heartbeat 10s ago
analysis   backlog 0  avg ms -  heartbeat 10s ago
lag        the queue is empty
worker     h1:4242 store  heartbeat 10s ago  processed 100 failed 0
alerts     queued 1
failures   schema 1 (24h)
dlq        1 dead-lettered of 1 processed (24h)
check      degraded: dlq_growth: 1 of 1 processed (100.0000%) dead-lettered over 24h, over 0.0500%"
}

@test "--format prom passes promtool, with the plan's gauge names" {
	fresh_queues prom
	printf 'a\nb\n' | sdk_send "$Q" >/dev/null
	db=$(healthy_db pg)
	with_lag "$db" h1:4242 2500 1000
	failure "$db" m1 rejected 'schema"x' 600
	run --separate-stderr status "$db" --format prom --output "$BATS_TEST_TMPDIR/bb-status.prom"
	assert_success
	assert_output ''
	run promtool check metrics <"$BATS_TEST_TMPDIR/bb-status.prom"
	assert_success
	run grep -v '^#' "$BATS_TEST_TMPDIR/bb-status.prom"
	assert_line 'worker_queue_depth_current{queue_type="main"} 2'
	assert_line 'worker_queue_depth_current{queue_type="dlq"} 0'
	assert_line 'worker_oldest_message_age_seconds{queue_type="main"} 2.500'
	assert_line 'bb_worker_last_heartbeat_timestamp_seconds{worker_id="h1:4242",stage="store"} 1748779190.000'
	assert_line 'bb_failures_24h{error_type="schema\"x"} 1'
	assert_line 'bb_overall_health 1'
	assert_line 'bb_status_check_failed{check="dlq_growth"} 1'
	ls "$BATS_TEST_TMPDIR" | grep -q tmp && fail "a temporary file was left"
	true
}

@test "thresholds come from [status] of bb.conf; a bad one is a configuration error" {
	fresh_queues conf
	printf 'a\n' | sdk_send "$Q" >/dev/null
	db=$(healthy_db sqlite)
	with_lag "$db" h1:4242 50000 1000
	printf '[status]\noldest_age_degraded = 30s\noldest_age_critical = 40s\n' >"$BATS_TEST_TMPDIR/bb.conf"
	BB_CONFIG=$BATS_TEST_TMPDIR/bb.conf run --separate-stderr status "$db" --check
	assert_failure 2
	assert_output "critical: oldest_message_age: oldest message 50.000s old, over 40.000s (ingest to commit lag recorded by h1:4242)"
	printf '[status]\nheartbeat_critical = 9s\n' >"$BATS_TEST_TMPDIR/bb.conf"
	BB_CONFIG=$BATS_TEST_TMPDIR/bb.conf run --separate-stderr status "$db" --check
	assert_failure 2
	assert_output "critical: heartbeat: newest heartbeat 10.000s old, over 9.000s"
	printf '[status]\ndlq_growth_pct = lots\n' >"$BATS_TEST_TMPDIR/bb.conf"
	BB_CONFIG=$BATS_TEST_TMPDIR/bb.conf run --separate-stderr status "$db"
	assert_failure 78
	expect "message" "$stderr" "bb-status: fatal: unable to use [status] dlq_growth_pct 'lots': expected a percentage such as 0.05"
}

@test "usage errors exit 64; --help lists every option" {
	run --separate-stderr bb-status --format yaml
	assert_failure 64
	expect "message" "${stderr_lines[0]}" "bb-status: --format 'yaml': expected json, text or prom"
	run --separate-stderr bb-status extra
	assert_failure 64
	expect "message" "${stderr_lines[0]}" "bb-status: unexpected argument 'extra'"
	run bb-status --help
	assert_success
	for o in --db --queue-url --dlq-url --format --output --check --now --help --version; do
		assert_line --regexp "^  (-[a-zA-Z], )?$o "
	done
	assert_line "See bb-status(1)."
}

# ---------------------------------------------------------------------------
# bb-status(1) EXAMPLES, as the page writes them

@test "bb-status(1): --check prints the failed check and exits 2" {
	db=$(migrated_db sqlite)
	beat "$db" h1:4242 store 301
	cp "${db#sqlite:}" "$BATS_TEST_TMPDIR/bb.db"
	cd "$BATS_TEST_TMPDIR"
	run -0 bash <<'EOS'
bb-status --db sqlite:bb.db --queue-url '' --check --now 2025-06-01T12:00:00Z
echo $?
EOS
	assert_output "critical: heartbeat: newest heartbeat 5m01s old, over 5m00s
2"
}

@test "bb-status(1): the plan's keys of the document" {
	db=$(healthy_db sqlite)
	cp "${db#sqlite:}" "$BATS_TEST_TMPDIR/bb.db"
	cd "$BATS_TEST_TMPDIR"
	export BB_NOW=$NOW
	run -0 bash -c "bb-status --db sqlite:bb.db | jq -c '{ingestion, overall_health}'"
	assert_output '{"ingestion":{"queue_depth":null,"oldest_message_age_seconds":null,"last_heartbeat":"2025-06-01T11:59:50.000Z","dlq_count":null,"processed_per_minute":0},"overall_health":"healthy"}'
}

@test "bb-status(1): the Prometheus text for node_exporter" {
	db=$(healthy_db sqlite)
	mkdir -p "$BATS_TEST_TMPDIR/var/lib/bb/metrics"
	export BB_DB=$db BB_NOW=$NOW
	run -0 bash -c "$(sed 's|/var|$BATS_TEST_TMPDIR/var|' <<<'bb-status --format prom --output /var/lib/bb/metrics/bb-status.prom')"
	run -0 promtool check metrics <"$BATS_TEST_TMPDIR/var/lib/bb/metrics/bb-status.prom"
	run -0 grep -c '^bb_overall_health 0$' "$BATS_TEST_TMPDIR/var/lib/bb/metrics/bb-status.prom"
}
