#!/usr/bin/env bats
# Running bb as a service: the Prometheus files of --metrics-file (each
# counter equal to what the run did, promtool clean), the systemd units
# (verify, security, and each ExecStart= line run as the unit writes it,
# against the emulator, SQLite and an SMTP sink), and scripts/bb-autoscale's
# decisions.

load helper
load store-helper
load sqs-helper
load smtp-helper

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
	UNIT_PIDS=()
}

teardown() {
	# what a failed test left running: each unit run is a process group
	local p
	for p in "${UNIT_PIDS[@]}"; do
		kill -KILL -- -"$p" 2>/dev/null || true
	done
	smtp_stop
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

@test "a metrics writer the host refuses a thread for is an internal error (70), not a configuration one" {
	# a user allowed no process more than the shell it runs in: no thread
	# either (the test's own directory is not open to that user). Under
	# SAN=1 LeakSanitizer, which needs a thread of its own at exit, stays off.
	d=$(mktemp -d) && chmod 777 "$d"
	run --separate-stderr env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		setpriv --reuid=65534 --regid=65534 --clear-groups bash -c \
		'ulimit -u 1; exec "$0" --db "sqlite:$1/s.db" --metrics-file "$1/s.prom" </dev/null' \
		"$(command -v bb-store)" "$d"
	rm -rf "$d"
	assert_failure 70
	expect message "$stderr" "bb-store: fatal: unable to start the metrics writer"
}

# ---------------------------------------------------------------------------
# systemd/: every unit verified, hardened, and its ExecStart= lines run

UNITS="bb-alert-deliver.service bb-alert-sweep.service bb-alert-sweep.timer bb-autoscale.service bb-autoscale.timer
bb-digest.service bb-digest.timer bb-ingest.service bb-ingest@.service bb-prune.service bb-prune.timer
bb-serve.service bb-status.service bb-status.timer bb-trend-weekly.service bb-trend-weekly.timer"

# usr_bin: a directory standing for /usr/bin: the programs and the scripts
# make install puts there. Sets BIN.
usr_bin() {
	BIN=$T/usr/bin
	mkdir -p "$BIN"
	ln -sf "$(cd "$BB_BIN" && pwd)"/bb-* "$BIN"/
	ln -sf "$(cd "$ROOT/scripts" && pwd)"/bb-{pipeline,autoscale,mail} "$BIN"/
}

# units_at DIR: the units with /usr/bin/ as DIR/, as make install writes them for a PREFIX; into $T/units.
units_at() {
	mkdir -p "$T/units"
	for u in $UNITS; do
		sed "s|/usr/bin/|$1/|g" "$ROOT/systemd/$u" >"$T/units/$u"
	done
}

# unit_run UNIT [INSTANCE]: the unit's ExecStart= lines run as systemd would
# (lines continued with a backslash, Environment= overridden by each
# EnvironmentFile= in turn, "-" for one that may be missing,
# WorkingDirectory=, StateDirectory=, %i, $$ and %%), with /usr/bin as BIN
# and /etc/bb and /var/lib/bb under $T, in a process group of its own, in
# the background. Sets RUN_PID.
unit_run() {
	local f=$ROOT/systemd/$1 i=${2:-} subst run=$T/run.$1$i d
	subst="s|/usr/bin/|$BIN/|g; s|/var/lib/bb|$T/var/lib/bb|g; s|/etc/bb/|$T/etc/bb/|g; s|%i|$i|g"
	sed -e ':a' -e '/\\$/{N;s/\\\n//;ba}' "$f" >"$run.unit"
	mkdir -p "$T/var/lib/bb/metrics"
	for d in $(sed -n 's/^StateDirectory=//p' "$run.unit"); do mkdir -p "$T/var/lib/$d"; done
	sed -n 's/^Environment=//p' "$run.unit" | sed "$subst" >"$run.env"
	sed -n 's/^EnvironmentFile=//p' "$run.unit" | sed "$subst" >"$run.files"
	sed -n 's/^ExecStart=//p' "$run.unit" | sed "$subst; s/\\$\\$/\\$/g; s/%%/%/g" >"$run.exec"
	setsid bash -c 'while read -r kv; do eval "export $kv"; done <"$1"
		while read -r file; do
			[[ $file != -* ]] || [ -e "${file#-}" ] || continue
			set -a; . "${file#-}"; set +a
		done <"$2"
		cd "$4/var/lib/bb" || exit 200
		[ "$(wc -l <"$3")" -eq 1 ] && eval "exec $(cat "$3")"
		while read -r line; do eval "$line" || exit $?; done <"$3"' unit "$run.env" "$run.files" "$run.exec" "$T" \
		</dev/null >>"$T/unit.out" 2>>"$T/unit.err" 3>&- &
	RUN_PID=$!
	UNIT_PIDS+=("$RUN_PID")
}

# unit_wait: wait for the unit's run to end (60 s at most); its status in $status.
unit_wait() {
	status=0
	timeout 60 tail --pid="$RUN_PID" -f /dev/null || fail "$1 did not finish: $(tail -n 20 "$T/unit.err")"
	wait "$RUN_PID" || status=$?
}

# unit_stop: SIGTERM to the whole process group, as KillMode=control-group does; wait.
unit_stop() {
	kill -TERM -- -"$RUN_PID" 2>/dev/null || fail "$1 had stopped already: $(tail -n 20 "$T/unit.err")"
	unit_wait "$@"
}

# env_file QUEUE DLQ DB: $T/etc/bb/bb.env, examples/bb.env with this test's
# queues and database, and an empty $T/etc/bb/bb.conf.
env_file() {
	mkdir -p "$T/etc/bb"
	: >"$T/etc/bb/bb.conf"
	{
		grep -v '^BB_DB=' "$ROOT/examples/bb.env"
		echo "BB_SQS_QUEUE_URL=$1"
		echo "BB_SQS_DLQ_URL=$2"
		echo "BB_DB=$3"
		echo "BB_ANALYSIS_SELLER_IDS=OURS"
		echo "BB_ALERT_EXEC='cat >>$T/delivered'"
		echo "BB_MAIL_URL=smtp://127.0.0.1:$((4693 + ${BB_TEST_PORT_OFFSET:-0}))"
		echo "BB_MAIL_FROM=bb@example.com"
	} >"$T/etc/bb/bb.env"
}

@test "systemd/ holds every unit, each passes systemd-analyze verify" {
	usr_bin
	run ls "$ROOT/systemd"
	assert_output "$(tr ' ' '\n' <<<"$UNITS" | sed '/^$/d')"
	units_at "$BIN"
	cd "$T/units"
	run systemd-analyze verify --man=no $UNITS
	assert_success
	assert_output ''
}

@test "every service's exposure by systemd-analyze security --offline is 2.0 or less" {
	for u in $UNITS; do
		[[ $u == *.service ]] || continue
		run systemd-analyze security --offline=yes --threshold=20 --no-pager "$ROOT/systemd/$u"
		assert_success
		level=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<<"$output")
		[ -n "$level" ] && awk -v l="$level" 'BEGIN { exit !(l <= 2.0) }' || fail "$u: exposure $level"
	done
}

@test "bb-ingest.service and bb-ingest@2.service, run as written, share the queue: each notification stored once" {
	fresh_queues ingest
	unset BB_NOW
	usr_bin
	env_file "$Q" "$DLQ" "sqlite:$T/var/lib/bb/bb.db"
	notifications 20 i | sdk_send "$Q" >/dev/null
	mkdir -p "$T/var/lib/bb"
	bb-store --migrate --db "sqlite:$T/var/lib/bb/bb.db" 2>/dev/null
	unit_run bb-ingest.service
	one=$RUN_PID
	unit_run bb-ingest@.service 2
	two=$RUN_PID
	for i in $(seq 150); do
		[ "$(sqlite3 "$T/var/lib/bb/bb.db" 'SELECT count(*) FROM worker_notifications')" = 20 ] && break
		sleep 0.2
	done
	sleep 1 # bb-ack settles after bb-store commits
	RUN_PID=$one unit_stop bb-ingest.service
	expect "bb-ingest exit (SIGTERM: 143, SuccessExitStatus=)" "$status" 143
	grep -q '^SuccessExitStatus=143$' "$ROOT/systemd/bb-ingest.service" || fail "143 is no success"
	RUN_PID=$two unit_stop bb-ingest@2.service
	expect "bb-ingest@2 exit" "$status" 143
	expect stored "$(sqlite3 "$T/var/lib/bb/bb.db" 'SELECT count(DISTINCT notification_id) || " " || count(*) FROM worker_notifications')" "20 20"
	expect "queue empty" "$(sqs_total "$Q")" 0
	for f in recv store ack; do
		[ -s "$T/var/lib/bb/metrics/bb-ingest-$f.prom" ] || fail "no bb-ingest-$f.prom"
		[ -s "$T/var/lib/bb/metrics/bb-ingest-2-$f.prom" ] || fail "no bb-ingest-2-$f.prom"
	done
	received=$(cat "$T"/var/lib/bb/metrics/bb-ingest*-recv.prom | sed -n 's/^worker_notifications_processed_total{.*status="received"} //p' | awk '{ s += $1 } END { print s }')
	expect "received by both" "$received" 20
}

@test "bb-alert-deliver.service, bb-status.service and bb-prune.service run as written" {
	fresh_queues units
	usr_bin
	db=sqlite:$T/var/lib/bb/bb.db
	env_file "$Q" "$DLQ" "$db"
	mkdir -p "$T/var/lib/bb"
	rec CRITICAL 2025-06-01T11:59:00Z n-c1 B000000001 | dedupe_store "$db" >/dev/null
	q "$db" "INSERT INTO competitive_history (id, notification_id, asin, marketplace, event_time, severity, priority,
	         buy_box_winner, created_at, offer_seller_ids, offer_landed, offer_prime, offer_fba, offer_buy_box_winner,
	         offer_ours) VALUES ('old', 'n-old', 'B0', 'X', '2025-01-01T00:00:00.000Z', 'STABLE', 5, 0,
	         '2025-01-01T00:00:00.000Z', $(no_offers "$db"))"
	unit_run bb-alert-deliver.service
	for i in $(seq 100); do [ -s "$T/delivered" ] && break; sleep 0.1; done
	unit_stop bb-alert-deliver.service
	assert_equal "$status" 0
	expect "delivered" "$(jq -r '.alerts[].asin' "$T/delivered")" B000000001
	[ -s "$T/var/lib/bb/metrics/bb-alert-deliver.prom" ] || fail "no metrics file"
	unit_run bb-status.service
	unit_wait bb-status.service
	assert_equal "$status" 0
	promtool_clean "$T/var/lib/bb/metrics/bb-status.prom"
	expect "queue depth" "$(sample "$T/var/lib/bb/metrics/bb-status.prom" 'worker_queue_depth_current\{queue_type="main"\}')" 0
	unit_run bb-prune.service
	unit_wait bb-prune.service
	assert_equal "$status" 0
	expect "history older than BB_KEEP pruned, the rest kept" \
		"$(q "$db" "SELECT asin FROM competitive_history ORDER BY asin")" B000000001
}

@test "bb-alert-sweep.service and bb-digest.service run bb-alert sweep and digest; the digest is mailed over SMTP" {
	usr_bin
	db=sqlite:$T/var/lib/bb/bb.db
	env_file "" "" "$db"
	echo "BB_MAIL_TO='ops@example.com root@example.com'" >>"$T/etc/bb/bb.env"
	smtp_start "$T/mail" 4693
	mkdir -p "$T/var/lib/bb"
	rec CRITICAL 2025-06-01T11:59:00Z n-c1 B000000001 | dedupe_store "$db" >/dev/null
	bb-alert --help | grep -q 'bb-alert sweep' || fail "bb-alert has no sweep command yet (ALERTS.md)"
	unit_run bb-alert-sweep.service
	unit_wait bb-alert-sweep.service
	assert_equal "$status" 0
	unit_run bb-digest.service
	unit_wait bb-digest.service
	assert_equal "$status" 0
	expect "mails" "$(ls "$T/mail")" 1.eml
	expect "envelope" "$(sed '/^$/q' "$T/mail/1.eml")" "MAIL FROM:<bb@example.com>
RCPT TO:<ops@example.com>
RCPT TO:<root@example.com>"
	expect "headers" "$(mail_headers "$T/mail/1.eml" From To Subject Content-Type)" \
		"From: bb@example.com
To: ops@example.com, root@example.com
Subject: bb: daily alert digest
Content-Type: text/plain; charset=utf-8"
	digest=$(BB_DB=$db bb-alert digest --since 24h --format text)
	[[ $digest == *B000000001* ]] || fail "the digest names no alert: $digest"
	expect "the digest, as bb-alert digest writes it" "$(mail_body "$T/mail/1.eml")" "$digest"
}

@test "bb-digest.service: a relay that does not answer fails the unit, and says so" {
	usr_bin
	db=sqlite:$T/var/lib/bb/bb.db
	env_file "" "" "$db"
	mkdir -p "$T/var/lib/bb"
	bb-store --migrate --db "$db" 2>/dev/null
	unit_run bb-digest.service
	unit_wait bb-digest.service
	expect "status (bb-mail's 75: the relay may answer later)" "$status" 75
	port=$((4693 + ${BB_TEST_PORT_OFFSET:-0}))
	expect_match "message" "$(tail -n 1 "$T/unit.err")" \
		"^bb-mail: fatal: unable to send mail through 'smtp://127.0.0.1:$port': Failed to connect to 127.0.0.1 port $port after [0-9]+ ms: Couldn't connect to server$"
}

@test "bb-serve.service and bb-trend-weekly.service run as written, on the database of bb.env" {
	usr_bin
	db=sqlite:$T/var/lib/bb/bb-env.db # not the default bb.db of WorkingDirectory=
	env_file "" "" "$db"
	mkdir -p "$T/var/lib/bb"
	bb-store --migrate --db "$db" 2>/dev/null
	q "$db" "INSERT INTO worker_heartbeats (worker_id, stage, host, pid, started_at, last_heartbeat, processed, failed)
	         VALUES ('h1:1', 'store', 'h1', 1, '2025-06-01T11:00:00.000Z', '2025-06-01T11:59:50.000Z', 7, 0)"
	port=$((4691 + ${BB_TEST_PORT_OFFSET:-0}))
	echo "BB_SERVE_LISTEN=127.0.0.1:$port" >>"$T/etc/bb/bb.env"
	unit_run bb-serve.service
	for _ in $(seq 100); do grep -q 'msg=listening' "$T/unit.err" && break; sleep 0.05; done
	run curl -sf "http://127.0.0.1:$port/api/worker-status"
	assert_success
	expect "the heartbeat of bb.env's database" "$(jq -c '[.workers[0].worker_id, .workers[0].processed]' <<<"$output")" \
		'["h1:1",7]'
	unit_stop bb-serve.service
	assert_equal "$status" 0

	unset BB_NOW
	week=$(date -u -d "7 days ago" +%G-W%V)
	echo "BB_MAIL_TO=analysts@example.com" >"$T/etc/bb/trend.env"
	smtp_start "$T/mail" 4693
	unit_run bb-trend-weekly.service
	unit_wait bb-trend-weekly.service
	assert_equal "$status" 0
	expect "the week's reports" "$(ls "$T/var/lib/bb/reports" | paste -sd' ')" "$week.html $week.md $week.txt"
	expect "mailed to trend.env's BB_MAIL_TO" "$(grep -E '^(RCPT TO|Subject):' "$T/mail/1.eml")" \
		"RCPT TO:<analysts@example.com>
Subject: bb: weekly report"
	expect "the text report mailed over SMTP" "$(mail_body "$T/mail/1.eml")" "$(cat "$T/var/lib/bb/reports/$week.txt")"
	[ ! -e "$T/var/lib/bb/bb.db" ] || fail "a unit used the default database, not bb.env's"
}

# ---------------------------------------------------------------------------
# scripts/bb-autoscale, with a stand-in systemctl

# fake_systemctl: systemctl on PATH that keeps unit states in $T/units.d and
# logs each start and stop to $T/systemctl.log.
fake_systemctl() {
	mkdir -p "$T/stub" "$T/units.d"
	cat >"$T/stub/systemctl" <<EOS
#!/bin/sh
case "\$1" in
is-active) [ -e "$T/units.d/\$3" ] ;;
start) echo "start \$2" >>"$T/systemctl.log"; touch "$T/units.d/\$2" ;;
stop) echo "stop \$2" >>"$T/systemctl.log"; rm -f "$T/units.d/\$2" ;;
*) exit 1 ;;
esac
EOS
	chmod +x "$T/stub/systemctl"
	PATH=$T/stub:$PATH
}

# scale AT DEPTH AGE-SECONDS [options]: one bb-autoscale run at time AT on a
# document with that depth and age; prints its decision's action from to.
scale() {
	local at=$1 depth=$2 age=$3
	shift 3
	jq -n --argjson d "$depth" --argjson a "$age" '{ingestion: {queue_depth: $d, oldest_message_age_seconds: $a}}' >"$T/doc.json"
	BB_NOW=$at "$ROOT/scripts/bb-autoscale" --status "$T/doc.json" --state "$T/last" "$@" 2>>"$T/decisions.log"
	tail -n 1 "$T/decisions.log" | sed 's/.*action=\([a-z]*\) from=\([0-9]*\) to=\([0-9]*\).*/\1 \2 \3/'
}

@test "bb-autoscale: a scripted sequence of depths, with hysteresis, a cool-down and max_instances" {
	fake_systemctl
	export BB_AUTOSCALE_COOLDOWN=300
	expect "none running: up to min" "$(scale 2025-06-01T12:00:00Z 0 0)" "up 0 1"
	expect "deep: up" "$(scale 2025-06-01T12:05:00Z 5000 2)" "up 1 2"
	expect "still deep, cooling down" "$(scale 2025-06-01T12:06:00Z 5000 2)" "none 2 2"
	expect "cooled down: up" "$(scale 2025-06-01T12:10:01Z 5000 2)" "up 2 3"
	expect "in the band: stays" "$(scale 2025-06-01T12:20:00Z 1500 2)" "none 3 3"
	expect "shallow: down" "$(scale 2025-06-01T12:30:00Z 150 2)" "down 3 2"
	expect "shallow, old messages: stays" "$(scale 2025-06-01T12:40:00Z 50 30)" "none 2 2"
	expect "old messages: up" "$(scale 2025-06-01T12:50:00Z 50 90)" "up 2 3"
	expect "max reached" "$(BB_AUTOSCALE_MAX_INSTANCES=3 scale 2025-06-01T13:00:00Z 99999 2)" "none 3 3"
	expect "idle: down to min, step by step" "$(scale 2025-06-01T13:10:00Z 0 0)" "down 3 2"
	expect "and again" "$(scale 2025-06-01T13:20:00Z 0 0)" "down 2 1"
	expect "never below min" "$(scale 2025-06-01T13:30:00Z 0 0)" "none 1 1"
	run cat "$T/systemctl.log"
	assert_output "start bb-ingest@1.service
start bb-ingest@2.service
start bb-ingest@3.service
stop bb-ingest@3.service
start bb-ingest@3.service
stop bb-ingest@3.service
stop bb-ingest@2.service"
	run grep -c 'prog=bb-autoscale msg="decision"' "$T/decisions.log"
	assert_output 12
	grep -q 'action=none from=2 to=2 queue_depth=5000 oldest_age_s=2.000 reason="depth 5000 > 1000 x 2 or oldest 2.000s > 60s; cooling down, 240s left"' "$T/decisions.log" ||
		fail "the cool-down is not logged: $(cat "$T/decisions.log")"
}

@test "bb-autoscale --dry-run decides and logs, and starts nothing" {
	fake_systemctl
	touch "$T/units.d/bb-ingest@1.service"
	expect "decided" "$(scale 2025-06-01T12:00:00Z 5000 0 --dry-run)" "up 1 2"
	grep -q 'dry_run=true' "$T/decisions.log" || fail "not logged as a dry run"
	[ ! -e "$T/systemctl.log" ] || fail "systemctl was asked: $(cat "$T/systemctl.log")"
	[ ! -e "$T/last" ] || fail "the cool-down was started"
}

@test "bb-autoscale.service runs bb-status and scales on what it says" {
	fresh_queues scale
	unset BB_NOW
	fake_systemctl
	usr_bin
	env_file "$Q" "$DLQ" "sqlite:$T/var/lib/bb/bb.db"
	notifications 3 a | sdk_send "$Q" >/dev/null
	mkdir -p "$T/var/lib/bb"
	bb-store --migrate --db "sqlite:$T/var/lib/bb/bb.db" 2>/dev/null
	touch "$T/units.d/bb-ingest@1.service" "$T/units.d/bb-ingest@2.service"
	echo "BB_AUTOSCALE_DOWN_DEPTH=4" >>"$T/etc/bb/bb.env"
	unit_run bb-autoscale.service
	unit_wait bb-autoscale.service
	assert_equal "$status" 0
	grep -q 'action=down from=2 to=1 queue_depth=3 ' "$T/unit.err" || fail "$(cat "$T/unit.err")"
	expect "stopped" "$(cat "$T/systemctl.log")" "stop bb-ingest@2.service"
}

# ---------------------------------------------------------------------------
# make install and make uninstall

@test "make install DESTDIR= puts every program, script, page, unit and example in place; uninstall removes them" {
	build=$(dirname "$(cd "$BB_BIN" && pwd)")
	make -s -C "$ROOT" -o all install BUILD="$build" PREFIX=/usr DESTDIR="$T/dest" >/dev/null
	expected=$(
		cd "$ROOT"
		for p in bb-validate bb-severity bb-dedupe bb-store bb-sqs-send bb-sqs-recv bb-ack bb-alert bb-serve bb-trend bb-status; do
			echo "usr/bin/$p"
		done
		echo usr/bin/bb-pipeline
		echo usr/bin/bb-autoscale
		echo usr/bin/bb-mail
		for m in man/*.[157]; do echo "usr/share/man/man${m##*.}/${m#man/}"; done
		for u in systemd/*; do echo "usr/lib/systemd/system/${u#systemd/}"; done
		for e in examples/*; do echo "usr/share/doc/bb/examples/${e#examples/}"; done
	)
	run bash -c "cd '$T/dest' && find . -type f | sed 's|^\./||' | sort"
	assert_output "$(sort <<<"$expected")"
	[ -x "$T/dest/usr/bin/bb-autoscale" ] || fail "a script is not executable"
	grep -q '^ExecStart=/usr/bin/bb-pipeline$' "$T/dest/usr/lib/systemd/system/bb-ingest.service"
	make -s -C "$ROOT" -o all install BUILD="$build" PREFIX=/opt/bb DESTDIR="$T/opt" >/dev/null
	grep -q '^ExecStart=/opt/bb/bin/bb-status ' "$T/opt/opt/bb/lib/systemd/system/bb-status.service" &&
		grep -q '^ExecStart=/opt/bb/bin/bb-serve$' "$T/opt/opt/bb/lib/systemd/system/bb-serve.service" &&
		[ "$(grep -c '/opt/bb/bin/bb-trend ' "$T/opt/opt/bb/lib/systemd/system/bb-trend-weekly.service")" = 3 ] ||
		fail "the units do not name the programs where they were installed"
	make -s -C "$ROOT" -o all uninstall BUILD="$build" PREFIX=/usr DESTDIR="$T/dest" >/dev/null
	run find "$T/dest" -type f
	assert_output ''
}
