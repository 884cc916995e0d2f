load helper
load man-sqs-helper
load store-helper
load smtp-helper
# man-examples-ops.bats: every EXAMPLES entry of bb-pipeline(1),
# bb-autoscale(1) and bb-mail(1), run as the pages write them, from a scratch
# directory that sees the repository's examples/ and tools/, with
# bb-pipeline, bb-autoscale and bb-mail on PATH as make install puts them
# there. bb-mail(1) mails an SMTP sink (tests/smtp-sink, on port 2525).
#
# bb-pipeline(1) runs against a real SQS emulator (scripts/sqs-local, on port
# 4593) and SQLite; each example starts with both queues empty and no bb.db,
# so each test empties them first. bb-autoscale(1) runs with stand-ins for systemctl
# (the units it starts and stops are files) and bb-status (the document the
# page shows); its examples go on from each other, so a test first replays
# what the earlier ones did. Each test checks what a broken script would get
# wrong (what is stored, what is left on which queue, which units run), not
# just the exit status.

bats_require_minimum_version 1.5.0

setup_file() {
	man_sqs_start 4593
}

teardown_file() {
	man_sqs_stop
}

teardown() {
	smtp_stop
}

setup() {
	for d in examples tools; do
		ln -s "$BATS_TEST_DIRNAME/../$d" "$BATS_TEST_TMPDIR/$d"
	done
	mkdir "$BATS_TEST_TMPDIR/bin" "$BATS_TEST_TMPDIR/tmp"
	ln -s "$(cd "$BATS_TEST_DIRNAME/../scripts" && pwd)"/bb-{pipeline,autoscale,mail} "$BATS_TEST_TMPDIR/bin/"
	PATH=$BATS_TEST_TMPDIR/bin:$PATH
	# the pages pin no clock but where they say so; bb-pipeline's FIFO
	# directory where the test can see that it is removed
	unset BB_NOW
	export TMPDIR=$BATS_TEST_TMPDIR/tmp
	cd "$BATS_TEST_TMPDIR"
}

# no_fifo_left: bb-pipeline removed its directory.
no_fifo_left() {
	run -0 ls -A "$TMPDIR"
	assert_output ''
}

# ---- bb-pipeline(1) ----

@test "bb-pipeline(1): the sample notifications stored, and the queue emptied" {
	empty_queues
	run -0 bash <<'EOF'
export BB_DB=sqlite:bb.db BB_COSTS=examples/costs.csv
bb-sqs-send < examples/notifications.ndjson > /dev/null 2>&1
bb-pipeline --drain --wait-seconds 1 2>&1 |
    grep -o 'prog=bb-ack msg=summary.*'
sqlite3 bb.db 'SELECT severity, count(*) FROM current_state
    GROUP BY severity ORDER BY severity'
node tools/sqs/count.mjs "$BB_SQS_QUEUE_URL"
EOF
	assert_output - <<'EOF'
prog=bb-ack msg=summary deleted=9 dead_lettered=0 retry_later=0 unsettled=0
CRITICAL|1
HIGH|2
STABLE|1
SUCCESS|2
WARNING|2
0
EOF
	# each of the eight once, the PRICING_HEALTH one skipped
	run -0 sqlite3 bb.db 'SELECT count(*), count(DISTINCT message_id) FROM worker_notifications'
	assert_output '8|8'
	no_fifo_left
}

@test "bb-pipeline(1): bad notifications dead-lettered and recorded, with the metrics files of bb-ingest@2" {
	empty_queues
	run -0 bash <<'EOF'
export BB_DB=sqlite:bb.db BB_COSTS=examples/costs.csv
bb-sqs-send < examples/invalid.ndjson > /dev/null 2>&1
mkdir metrics
BB_METRICS_DIR=metrics BB_PIPELINE_ID=2 \
    bb-pipeline --drain --wait-seconds 1 2> /dev/null
node tools/sqs/count.mjs "$BB_SQS_DLQ_URL"
sqlite3 bb.db 'SELECT error_type, count(*) FROM worker_failures
    GROUP BY error_type ORDER BY error_type'
ls metrics
grep -h '^worker_notifications_processed_total' metrics/*.prom |
    sed 's/worker_id="[^"]*",//'
EOF
	assert_output - <<'EOF'
8
invalid_amount|2
invalid_asin|1
invalid_marketplace|1
invalid_time|1
malformed_json|1
schema|2
bb-ingest-2-ack.prom
bb-ingest-2-recv.prom
bb-ingest-2-store.prom
worker_notifications_processed_total{stage="ack",status="dead_lettered"} 8
worker_notifications_processed_total{stage="recv",status="received"} 8
worker_notifications_processed_total{stage="store",status="rejected"} 8
EOF
	# the dead-letter queue holds the bodies as they were sent, the queue nothing
	node tools/sqs/receive.mjs "$BB_SQS_DLQ_URL" --keep 2>/dev/null | jq -r .Body | sort >dlq.txt
	run -0 bash -c 'sort examples/invalid.ndjson | cmp - dlq.txt'
	run -0 depth "$BB_SQS_QUEUE_URL"
	assert_output '[0,0]'
	run -0 sqlite3 bb.db 'SELECT count(*) FROM worker_notifications'
	assert_output 0
	no_fifo_left
}

@test "bb-pipeline(1): a stage that cannot start stops the pipeline, named, and nothing is deleted" {
	empty_queues
	run -0 bash <<'EOF'
export BB_DB=sqlite:bb.db BB_COSTS=examples/costs.csv
bb-sqs-send < examples/notifications.ndjson > /dev/null 2>&1
BB_COSTS=nosuch.csv bb-pipeline --drain --wait-seconds 1 \
    2> pipeline.log
echo $?
grep -e '^bb-severity' -e '^bb-pipeline' pipeline.log
node tools/sqs/count.mjs "$BB_SQS_QUEUE_URL"
EOF
	assert_output - <<'EOF'
78
bb-severity: fatal: unable to load cost table: nosuch.csv: No such file or directory
bb-pipeline: fatal: bb-severity exited with status 78
9
EOF
	run -0 sqlite3 bb.db 'SELECT count(*) FROM worker_notifications'
	assert_output 0
	no_fifo_left
}

@test "bb-pipeline(1): SIGTERM to the whole job stops it with 143, and nothing is lost" {
	empty_queues
	run -0 bash <<'EOF'
set -m # job control, as in an interactive shell
export BB_DB=sqlite:bb.db BB_COSTS=examples/costs.csv
bb-sqs-send < examples/notifications.ndjson > /dev/null 2>&1
bb-pipeline 2> pipeline.log &
until [ "$(node tools/sqs/count.mjs "$BB_SQS_QUEUE_URL")" = 0 ]; do sleep 1; done
kill -TERM %1; wait %1; echo $?
sqlite3 bb.db 'SELECT count(*) FROM worker_notifications'
node tools/sqs/count.mjs "$BB_SQS_QUEUE_URL"
EOF
	assert_output - <<'EOF'
143
8
0
EOF
	# every stage stopped of itself and said so
	run -0 grep -c 'msg=summary' pipeline.log
	assert_output 6
	no_fifo_left
}

# ---- bb-autoscale(1) ----

# autoscale_setup: the host of the examples: a stand-in systemctl on PATH that
# keeps each active unit as a file in units/ and logs each start and stop to
# systemctl.log; bb-ingest@1.service active; a stand-in bb-status printing
# the document of the page; the state file in the test's directory.
autoscale_setup() {
	local T=$BATS_TEST_TMPDIR
	mkdir "$T/units"
	touch "$T/units/bb-ingest@1.service"
	cat >"$T/bin/systemctl" <<EOS
#!/bin/sh
units="$T/units"
case "\$1" in
is-active)
	shift
	quiet=
	[ "\$1" != --quiet ] || { quiet=1; shift; }
	rc=0
	for u; do
		if [ -e "\$units/\$u" ]; then s=active; else s=inactive rc=3; fi
		[ -n "\$quiet" ] || echo "\$s"
	done
	exit \$rc ;;
start) echo "start \$2" >>"$T/systemctl.log"; touch "\$units/\$2" ;;
stop) echo "stop \$2" >>"$T/systemctl.log"; rm -f "\$units/\$2" ;;
*) exit 1 ;;
esac
EOS
	jq -n '{ingestion: {queue_depth: 2400, oldest_message_age_seconds: 12.5,
	        last_heartbeat: "2025-06-01T11:59:58.000Z", dlq_count: 0, processed_per_minute: 610},
	        analysis: {backlog_count: 120, avg_processing_time_ms: 180, last_heartbeat: "2025-06-01T11:59:58.000Z"},
	        overall_health: "healthy"}' >"$T/status.json"
	printf '#!/bin/sh\n[ "$*" = "--format json" ] || [ -z "$*" ] || exit 64\ncat "%s"\n' "$T/status.json" >"$T/bin/bb-status"
	chmod +x "$T/bin/systemctl" "$T/bin/bb-status"
	export BB_AUTOSCALE_STATE=$T/last-change
}

# active: the units running, by name.
active() {
	ls "$BATS_TEST_TMPDIR/units"
}

@test "bb-autoscale(1): what bb-status says, and what it would do with it, doing nothing" {
	autoscale_setup
	# systemctl is-active says 3 of a unit that is not active
	run -3 bash <<'EOF'
bb-status | jq -c '.ingestion | {queue_depth, oldest_message_age_seconds}'
bb-autoscale --dry-run 2>&1 | grep -o 'action=.*'
systemctl is-active bb-ingest@2.service
EOF
	assert_output - <<'EOF'
{"queue_depth":2400,"oldest_message_age_seconds":12.5}
action=up from=1 to=2 queue_depth=2400 oldest_age_s=12.500 reason="depth 2400 > 1000 x 1 or oldest 12.500s > 60s" dry_run=true
inactive
EOF
	[ ! -e systemctl.log ] || fail "a dry run started or stopped: $(cat systemctl.log)"
	[ ! -e last-change ] || fail "a dry run started the cool-down"
}

# The second example: up to two pipelines at 12:00.
scale_up_at_noon() {
	bash <<'EOF'
BB_NOW=2025-06-01T12:00:00Z bb-autoscale
EOF
}

@test "bb-autoscale(1): a step up, then the cool-down holds the next one back" {
	autoscale_setup
	run -0 --separate-stderr scale_up_at_noon
	assert_output ''
	assert_equal "$stderr" 'ts=2025-06-01T12:00:00.000Z level=info prog=bb-autoscale msg="decision" action=up from=1 to=2 queue_depth=2400 oldest_age_s=12.500 reason="depth 2400 > 1000 x 1 or oldest 12.500s > 60s" dry_run=false'
	run -0 bash <<'EOF'
systemctl is-active bb-ingest@2.service
BB_NOW=2025-06-01T12:02:00Z bb-autoscale 2>&1 | grep -o 'action=.*'
EOF
	assert_output - <<'EOF'
active
action=none from=2 to=2 queue_depth=2400 oldest_age_s=12.500 reason="depth 2400 > 1000 x 2 or oldest 12.500s > 60s; cooling down, 180s left" dry_run=false
EOF
	run -0 cat systemctl.log
	assert_output 'start bb-ingest@2.service'
	run -0 cat last-change
	assert_output "$(date -u -d 2025-06-01T12:00:00Z +%s)"
}

@test "bb-autoscale(1): the thresholds tried on a document made by hand, and a minimum of three" {
	autoscale_setup
	scale_up_at_noon 2>/dev/null
	run -0 bash <<'EOF'
echo '{"ingestion": {"queue_depth": 50,
    "oldest_message_age_seconds": 0.1}}' > quiet.json
bb-autoscale --dry-run --status quiet.json 2>&1 | grep -o 'action=.*'
BB_AUTOSCALE_DOWN_DEPTH=50 bb-autoscale --dry-run --status quiet.json \
    2>&1 | grep -o 'action=.*'
EOF
	assert_output - <<'EOF'
action=down from=2 to=1 queue_depth=50 oldest_age_s=0.100 reason="depth 50 < 100 x 1 and oldest 0.100s <= 10s" dry_run=true
action=none from=2 to=2 queue_depth=50 oldest_age_s=0.100 reason="within the band" dry_run=true
EOF
	run -0 active
	assert_output "$(printf 'bb-ingest@1.service\nbb-ingest@2.service')"
	run -0 bash <<'EOF'
BB_NOW=2025-06-01T12:03:00Z bb-autoscale --min 3 --max 8 2>&1 |
    grep -o 'action=[a-z]* from=[0-9]* to=[0-9]* .*reason="[^"]*"'
EOF
	assert_output 'action=up from=2 to=3 queue_depth=2400 oldest_age_s=12.500 reason="below min_instances 3"'
	run -0 active
	assert_output "$(printf 'bb-ingest@1.service\nbb-ingest@2.service\nbb-ingest@3.service')"
}

# ---- bb-mail(1) ----

# mail_setup: the relay of the page's examples, its messages in mail/.
mail_setup() {
	smtp_start "$BATS_TEST_TMPDIR/mail" 2525
	export BB_MAIL_URL=smtp://127.0.0.1:$SMTP_PORT
}

@test "bb-mail(1): a note to two people, from bb" {
	mail_setup
	run -0 --separate-stderr bash <<'EOF'
echo 'The nightly export is late.' | bb-mail --to ops@example.com \
    --to oncall@example.com --from bb@example.com 'bb: export late'
EOF
	assert_output ''
	assert_equal "$stderr" ''
	run -0 ls mail
	assert_output 1.eml
	run -0 sed '/^$/Q' mail/1.eml
	assert_output "MAIL FROM:<bb@example.com>
RCPT TO:<ops@example.com>
RCPT TO:<oncall@example.com>"
	run -0 mail_headers mail/1.eml From To Subject Content-Type
	assert_output "From: bb@example.com
To: ops@example.com, oncall@example.com
Subject: bb: export late
Content-Type: text/plain; charset=utf-8"
	run -0 mail_body mail/1.eml
	assert_output 'The nightly export is late.'
}

@test "bb-mail(1): the daily digest, to the recipients of BB_MAIL_TO, as bb-alert wrote it" {
	mail_setup
	export BB_NOW=2025-06-01T12:00:00Z BB_DB=sqlite:$BATS_TEST_TMPDIR/bb.db
	rec CRITICAL 2025-06-01T11:59:00Z n-c1 B000000001 | dedupe_store "$BB_DB" >/dev/null
	run -0 --separate-stderr bash <<'EOF'
export BB_MAIL_TO='ops@example.com oncall@example.com'
bb-alert digest --since 24h --format text | bb-mail 'bb: daily alert digest'
EOF
	assert_output ''
	run -0 grep -E '^(RCPT TO|Subject):' mail/1.eml
	assert_output "RCPT TO:<ops@example.com>
RCPT TO:<oncall@example.com>
Subject: bb: daily alert digest"
	digest=$(bb-alert digest --since 24h --format text)
	[[ $digest == *B000000001* ]] || fail "no alert in the digest: $digest"
	run -0 mail_body mail/1.eml
	assert_output "$digest"
}

@test "bb-mail: a body's lines arrive as read, a lone dot and a leading one too" {
	mail_setup
	printf 'first\n.\n.leading\n..two\nütf-8 €\nlast\n' >body.txt
	run -0 bb-mail subject <body.txt
	run -0 mail_body mail/1.eml
	assert_output "$(cat body.txt)"
}

@test "bb-mail(1): a relay that does not answer is 75, and says so" {
	run -0 bash <<'EOF'
echo test | bb-mail --url smtp://localhost:1 test 2>/dev/null; echo $?
EOF
	assert_output 75
	run -75 --separate-stderr bb-mail --url smtp://127.0.0.1:1 test </dev/null
	assert_regex "$stderr" "^bb-mail: fatal: unable to send mail through 'smtp://127.0.0.1:1': Failed to connect to 127.0.0.1 port 1 after [0-9]+ ms: Couldn't connect to server$"
}

@test "bb-mail(1): usage and configuration errors, as DIAGNOSTICS words them" {
	run -64 --separate-stderr bb-mail
	assert_equal "$stderr" "bb-mail: expected one SUBJECT
usage: bb-mail [--to ADDRESS]... [--from ADDRESS] [--url URL] SUBJECT"
	run -64 --separate-stderr bb-mail --cc x s
	assert_equal "${stderr%%$'\n'*}" "bb-mail: unrecognized option '--cc'"
	run -64 --separate-stderr bb-mail --to
	assert_equal "${stderr%%$'\n'*}" "bb-mail: option '--to' requires an argument"
	run -64 --separate-stderr bb-mail --from $'bb@x\nBcc: all@example.com' s
	assert_equal "$(head -n 2 <<<"$stderr")" "bb-mail: a line break in 'bb@x
Bcc: all@example.com'"
	BB_MAIL_TO=' ' run -64 --separate-stderr bb-mail s
	assert_equal "${stderr%%$'\n'*}" "bb-mail: no recipient"
	run -78 --separate-stderr bb-mail --url http://mail.internal s </dev/null
	assert_equal "$stderr" "bb-mail: fatal: unable to use mail relay 'http://mail.internal': expected smtp://HOST[:PORT] or smtps://HOST[:PORT]"
	run -0 bb-mail --help
	assert_equal "${lines[-1]}" "See bb-mail(1)."
	run -0 bb-mail --version
	assert_output "bb-mail 0.1.0"
}
