#!/usr/bin/env bats
# bb-alert: the lifecycle of an alert (ALERTS.md) on SQLite and PostgreSQL.
# Alerts are raised the way production raises them, through bb-dedupe and
# bb-store; then bb-alert moves them, at times given with --now.

load helper
load store-helper

BATS_NO_PARALLELIZE_WITHIN_FILE=true
T0=2025-06-01T12:00:00.000Z

setup_file() {
	pg_start 55440
}

teardown_file() {
	pg_stop
}

setup() {
	export BB_NOW=2025-06-01T12:10:00Z
}

teardown() {
	store_teardown
}

# raise DBURL SEVERITY [TIME [ASIN]]: an alert raised through the pipeline.
raise() {
	rec "$2" "${3:-$T0}" "n-$2-${3:-$T0}-${4:-B000TEST01}" "${4:-B000TEST01}" | dedupe_store "$1" >/dev/null
}

# alert_id DBURL SEVERITY [ASIN]: the id of that alert.
alert_id() {
	q "$1" "SELECT id FROM alert_queues WHERE severity = '$2' AND asin = '${3:-B000TEST01}'"
}

# status_of DBURL ID: the alert's status.
status_of() {
	q "$1" "SELECT status FROM alert_queues WHERE id = '$2'"
}

# event_fields DBURL KEY...: the alert events that move an alert (those
# with a from), the payload's KEYs of each separated by spaces, null as -.
event_fields() {
	local db=$1 k sel=
	shift
	for k; do
		case $db in
		sqlite:*) sel+="${sel:+ || ' ' || }coalesce(json_extract(payload, '\$.$k'), '-')" ;;
		*) sel+="${sel:+, }coalesce(payload->>'$k', '-')" ;;
		esac
	done
	case $db in
	sqlite:*) q "$db" "SELECT $sel FROM events WHERE kind = 'alert' AND json_extract(payload, '\$.from') IS NOT NULL ORDER BY id" ;;
	*) q "$db" "SELECT concat_ws(' ', $sel) FROM events WHERE kind = 'alert' AND payload ? 'from' ORDER BY id" ;;
	esac
}

# alert_events DBURL: the operator's events, "action from to by note".
alert_events() {
	event_fields "$1" action from to by note
}

# gen_critical DBURL N: N CRITICAL alerts, on ASINs B0000000001…
gen_critical() {
	local i
	for i in $(seq "$2"); do
		rec CRITICAL "$T0" "n-c$i" "$(printf 'B%09d' "$i")"
	done | dedupe_store "$1" >/dev/null
}

backends() {
	echo sqlite pg
}

# ---------------------------------------------------------------------------
# list and show

@test "list shows open alerts most urgent first, money in major units" {
	for b in $(backends); do
		db=$(fresh_db $b)
		raise "$db" WARNING
		raise "$db" CRITICAL "$T0" B000TEST02
		run --separate-stderr bb-alert list --db "$db"
		assert_success
		crit=$(alert_id "$db" CRITICAL B000TEST02)
		assert_line --index 0 --regexp '^ID +SEVERITY +ASIN +MARKETPLACE +STATUS +OCC +AGE +OUR PRICE +MARKET LOW +REASON$'
		assert_line --index 1 --regexp "^${crit:0:8}[-0-9a-f]* +CRITICAL +B000TEST02 +ATVPDKIKX0DER +queued +1 +10m +USD 16.00 +USD 10.00 +offers 10 ≥ 10$"
		assert_line --index 2 --regexp "^[-0-9a-f]{8,} +WARNING +B000TEST01 +ATVPDKIKX0DER +queued +1 +10m +- +USD 10.00 +no offer of ours among 2 offers$"
		[ "${#lines[@]}" -eq 3 ]
		# the short ids tell the two apart, though raised in one minute
		assert_equal "$(cut -c1-12 <<<"$output" | sort -u | wc -l)" 3
	done
}

@test "list --format ndjson gives each row with its current analysis" {
	for b in $(backends); do
		db=$(fresh_db $b)
		raise "$db" CRITICAL
		run --separate-stderr bb-alert list --db "$db" --format ndjson
		assert_success
		assert_equal "$(jq -c '[.severity, .status, .occurrences, .first_seen, .state.currency, .state.our_price,
		                         .state.market_low, .state.rule, .analysis.severity, .fingerprint]' <<<"$output")" \
			'["CRITICAL","queued",1,"2025-06-01T12:00:00.000Z","USD",1600,1000,"critical","CRITICAL","B000TEST01|ATVPDKIKX0DER|critical"]'
	done
}

@test "list filters by status, severity, ASIN and queue" {
	for b in $(backends); do
		db=$(fresh_db $b)
		raise "$db" WARNING
		raise "$db" HIGH "$T0" B000TEST02
		n() { bb-alert list --db "$db" --format ndjson "$@" | jq -r .asin | paste -sd' ' -; }
		assert_equal "$(n --severity WARNING)" B000TEST01
		assert_equal "$(n --asin B000TEST02)" B000TEST02
		assert_equal "$(n --queue standard)" B000TEST01
		assert_equal "$(n --status queued,delivered)" "B000TEST02 B000TEST01"
		assert_equal "$(n --status resolved)" ""
	done
}

@test "list rejects an unknown status, severity or format with exit 64" {
	for b in $(backends); do
		db=$(fresh_db $b)
		run --separate-stderr bb-alert list --db "$db" --status open
		assert_failure 64
		assert_equal "${stderr_lines[0]}" "bb-alert: --status 'open': unknown value 'open'"
		run --separate-stderr bb-alert list --db "$db" --severity CRITICAL,bad
		assert_failure 64
		assert_equal "${stderr_lines[0]}" "bb-alert: --severity 'CRITICAL,bad': unknown value 'bad'"
		run --separate-stderr bb-alert list --db "$db" --format csv
		assert_failure 64
		assert_equal "$stderr" "bb-alert: --format 'csv': expected text or ndjson"
	done
}

@test "show prints the alert, its state and its timeline, by id, prefix or fingerprint" {
	for b in $(backends); do
		db=$(fresh_db $b)
		raise "$db" CRITICAL
		id=$(alert_id "$db" CRITICAL)
		bb-alert ack --db "$db" --by alice --note "on it" "$id" >/dev/null
		for ref in "$id" "${id:0:8}" "B000TEST01|ATVPDKIKX0DER|critical"; do
			run --separate-stderr bb-alert show --db "$db" "$ref"
			assert_success
			assert_line "id             $id"
			assert_line "status         acknowledged"
			assert_line "acked_by       alice"
			assert_line "our_price      USD 16.00"
			assert_line "market_low     USD 10.00"
			assert_line --regexp '^2025-06-01T12:10:00.000Z  new *$'
			assert_line '2025-06-01T12:10:00.000Z  ack       queued -> acknowledged by alice: on it'
		done
	done
}

# ---------------------------------------------------------------------------
# the operator's transitions

@test "ack, snooze, unsnooze, resolve move an alert, each with its event" {
	for b in $(backends); do
		db=$(fresh_db $b)
		raise "$db" CRITICAL
		id=$(alert_id "$db" CRITICAL)
		run --separate-stderr bb-alert ack --db "$db" --by alice "$id"
		assert_success
		assert_output "ack $id: queued -> acknowledged"
		run --separate-stderr bb-alert snooze --db "$db" --by bob --for 2h "${id:0:8}"
		assert_output "snooze $id: acknowledged -> snoozed"
		assert_equal "$(q "$db" "SELECT $(ts "$db" snooze_until) FROM alert_queues")" 2025-06-01T14:10:00.000Z
		run --separate-stderr bb-alert unsnooze --db "$db" --by bob "$id"
		assert_output "unsnooze $id: snoozed -> queued"
		run --separate-stderr bb-alert resolve --db "$db" --by carol --note fixed "$id"
		assert_output "resolve $id: queued -> resolved"
		assert_equal "$(alert_events "$db")" "ack queued acknowledged alice -
snooze acknowledged snoozed bob -
unsnooze snoozed queued bob -
resolve queued resolved carol fixed"
		assert_equal "$(q "$db" "SELECT acked_by, $(ts "$db" acked_at) FROM alert_queues")" "alice|2025-06-01T12:10:00.000Z"
	done
}

@test "a transition from resolved is invalid: exit 65, nothing changed" {
	for b in $(backends); do
		db=$(fresh_db $b)
		raise "$db" CRITICAL
		id=$(alert_id "$db" CRITICAL)
		bb-alert resolve --db "$db" "$id" >/dev/null
		before=$(counts "$db")
		for op in ack snooze unsnooze resolve retry; do
			run --separate-stderr bb-alert $op --db "$db" "$id"
			assert_failure 65
			assert_equal "$stderr" "bb-alert: fatal: unable to $op alert '$id': invalid transition: the alert is resolved"
		done
		assert_equal "$(counts "$db")" "$before"
	done
}

@test "one bad id among several: exit 65 and not even the good ones move" {
	for b in $(backends); do
		db=$(fresh_db $b)
		raise "$db" CRITICAL
		raise "$db" WARNING "$T0" B000TEST02
		c=$(alert_id "$db" CRITICAL)
		w=$(alert_id "$db" WARNING B000TEST02)
		before=$(counts "$db")
		run --separate-stderr bb-alert ack --db "$db" "$c" 00000000-dead "$w"
		assert_failure 65
		assert_equal "$stderr" "bb-alert: fatal: unable to ack alert '00000000-dead': no such alert"
		run --separate-stderr bb-alert retry --db "$db" "$c" "$w"
		assert_failure 65
		assert_equal "$stderr" "bb-alert: fatal: unable to retry alert '$c': invalid transition: the alert is queued"
		assert_equal "$(counts "$db")" "$before"
		assert_equal "$(q "$db" "SELECT DISTINCT status FROM alert_queues")" queued
		run --separate-stderr bb-alert ack --db "$db" "$c" "$w"
		assert_success
		assert_equal "$(q "$db" "SELECT DISTINCT status FROM alert_queues")" acknowledged
	done
}

# refused OP REF REASON: bb-alert OP of REF on $db is refused with exit 65
# and REASON, writing nothing on standard output.
refused() {
	run --separate-stderr bb-alert "$1" --db "$db" "$2"
	assert_failure 65
	assert_output ""
	assert_equal "$stderr" "bb-alert: fatal: unable to $1 alert '$2': $3"
}

@test "an id must be whole, a unique prefix of 8 characters, or a fingerprint" {
	for b in $(backends); do
		db=$(fresh_db $b)
		raise "$db" CRITICAL
		raise "$db" HIGH "$T0" B000TEST02
		id=$(alert_id "$db" CRITICAL)
		q "$db" "UPDATE alert_queues SET id = '${id:0:8}' || substr(id, 9) || '' WHERE severity = 'HIGH'"
		q "$db" "UPDATE alert_queues SET id = substr(id, 1, 35) || 'x' WHERE severity = 'HIGH'"
		none="B000TEST09|ATVPDKIKX0DER|critical"
		for op in ack show; do
			refused $op "${id:0:8}" "ambiguous id: more than one alert starts so"
			refused $op "${id:0:7}" "no such alert"
			refused $op "$none" "no such alert"
		done
		assert_equal "$(q "$db" "SELECT DISTINCT status FROM alert_queues")" queued
		run --separate-stderr bb-alert ack --db "$db" "B000TEST01|ATVPDKIKX0DER|critical"
		assert_success
		assert_output "ack $id: queued -> acknowledged"
	done
}

# usage_error MESSAGE ARGS...: bb-alert ARGS is a usage error (64) whose
# first line says MESSAGE.
usage_error() {
	local msg=$1
	shift
	run --separate-stderr bb-alert "$@"
	assert_failure 64
	assert_equal "${stderr_lines[0]}" "$msg"
}

@test "a bad duration, a missing id, a stray argument, two channels or an unknown command is a usage error (64)" {
	for b in $(backends); do
		db=$(fresh_db $b)
		raise "$db" CRITICAL
		id=$(alert_id "$db" CRITICAL)
		before=$(counts "$db")
		usage_error "bb-alert: --for '30x': expected a duration such as 30s, 5m, 24h or 7d" \
			snooze --db "$db" --for 30x "$id"
		usage_error "bb-alert: ack: no alert id given" ack --db "$db"
		usage_error "bb-alert: show: expected one alert id or fingerprint" show --db "$db"
		usage_error "bb-alert: show: expected one alert id or fingerprint" show --db "$db" "$id" "$id"
		usage_error "bb-alert: list: unexpected argument 'open'" list --db "$db" open
		usage_error "bb-alert: deliver: unexpected argument 'now'" deliver --db "$db" now
		usage_error "bb-alert: --exec and --webhook: give one channel" \
			deliver --db "$db" --exec true --webhook http://127.0.0.1:9/hook
		usage_error "bb-alert: --once and --interval: give one" deliver --db "$db" --once --interval 30s
		usage_error "bb-alert: --interval '0': expected a duration such as 30s, 5m, 24h or 7d" \
			deliver --db "$db" --interval 0
		usage_error "bb-alert: no command given" --db "$db"
		# nothing changed, nothing delivered
		assert_equal "$(counts "$db")" "$before"
		assert_equal "$(q "$db" "SELECT status, attempts FROM alert_queues")" "queued|0"
	done
	run --separate-stderr bb-alert frobnicate
	assert_failure 64
	assert_equal "${stderr_lines[0]}" "bb-alert: unknown command 'frobnicate'"
	run --separate-stderr bb-alert --now yesterday list
	assert_failure 64
	assert_equal "${stderr_lines[0]}" "bb-alert: --now 'yesterday': expected an RFC 3339 time such as 2026-01-01T00:00:00Z"
}

@test "--help prints the usage, one line per option and the page to read" {
	run bb-alert --help
	assert_success
	assert_line --index 0 --regexp '^usage: bb-alert list '
	assert_line '  --for DURATION    snooze: how long (default: [alert] snooze, else 30m)'
	assert_line 'See bb-alert(1).'
}

# ---------------------------------------------------------------------------
# the schema

@test "a database of schema 3 migrates to the lifecycle columns with its alerts" {
	for b in $(backends); do
		db=$(fresh_db $b)
		for f in "$BATS_TEST_DIRNAME"/../lib/sql/$([ $b = pg ] && echo postgres || echo sqlite)/00[123]_*.sql; do
			case $b in
			sqlite) sqlite3 -bail "${db#sqlite:}" <"$f" >/dev/null ;;
			pg) psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f "$f" >/dev/null ;;
			esac
		done
		q "$db" "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL);
		         INSERT INTO schema_migrations VALUES (1, 'x'), (2, 'x'), (3, 'x');
		         INSERT INTO alert_queues (id, fingerprint, queue_type, asin, marketplace, severity, status,
		           occurrences, first_seen, last_seen, updated_at) VALUES ('01900000-0000-7000-8000-000000000001',
		           'B000TEST01|ATVPDKIKX0DER|high', 'high_priority', 'B000TEST01', 'ATVPDKIKX0DER', 'HIGH',
		           'delivered', 3, '2025-06-01T12:00:00Z', '2025-06-01T12:05:00Z', '2025-06-01T12:06:00Z')"
		run --separate-stderr bb-alert list --db "$db" --format ndjson
		assert_success
		assert_equal "$(jq -c '[.id, .status, .occurrences, .attempts, .escalation_level, .delivered_at]' <<<"$output")" \
			'["01900000-0000-7000-8000-000000000001","delivered",3,0,0,"2025-06-01T12:06:00.000Z"]'
		assert_equal "$(q "$db" "SELECT count(*) FROM schema_migrations WHERE version = 8")" 1
	done
}

# ---------------------------------------------------------------------------
# delivery

# flaky FAILURES: a command for --exec that appends its stdin to $DOCS and
# fails its first FAILURES runs.
flaky() {
	echo "n=\$(cat '$BATS_TEST_TMPDIR/runs' 2>/dev/null || echo 0); n=\$((n + 1)); echo \$n >'$BATS_TEST_TMPDIR/runs'; cat >>'$DOCS'; [ \$n -gt $1 ]"
}

# deliver_at DBURL TIME [options]: one pass of deliver at TIME.
deliver_at() {
	local db=$1 t=$2
	shift 2
	timeout 30 bb-alert deliver --db "$db" --once --now "$t" "$@" 2>>"$(LOG)"
}

# attempts_of DBURL ID: "attempt outcome delivery_id" per attempt.
attempts_of() {
	q "$1" "SELECT attempt, outcome, delivery_id FROM alert_deliveries WHERE alert_id = '$2' ORDER BY id" | tr '|' ' '
}

@test "deliver writes a due alert's document to stdout, once" {
	for b in $(backends); do
		db=$(fresh_db $b)
		raise "$db" CRITICAL
		id=$(alert_id "$db" CRITICAL)
		run --separate-stderr deliver_at "$db" 2025-06-01T12:00:01Z
		assert_success
		assert_equal "$(jq -c '[.kind, .created_at, (.alerts | length), .alerts[0].id, .alerts[0].severity,
		                         .alerts[0].status, .alerts[0].state.our_price, .alerts[0].state.market_low,
		                         .alerts[0].state.rule, (.delivery_id | test("^[0-9a-f-]{36}$"))]' <<<"$output")" \
			"[\"alert\",\"2025-06-01T12:00:01.000Z\",1,\"$id\",\"CRITICAL\",\"queued\",1600,1000,\"critical\",true]"
		assert_equal "$(status_of "$db" "$id")" delivered
		assert_equal "$(q "$db" "SELECT $(ts "$db" delivered_at), attempts FROM alert_queues")" "2025-06-01T12:00:01.000Z|1"
		run --separate-stderr deliver_at "$db" 2025-06-01T12:30:00Z
		assert_success
		assert_output ""
	done
}

@test "--jq shapes the document sent: a string goes as its text, any other value as one JSON line" {
	for b in $(backends); do
		db=$(fresh_db $b)
		raise "$db" CRITICAL
		id=$(alert_id "$db" CRITICAL)
		run --separate-stderr deliver_at "$db" 2025-06-01T12:00:01Z \
			--jq '{text: "\(.alerts[0].severity) \(.alerts[0].asin): \(.alerts[0].state.our_price)", id: .delivery_id}'
		assert_success
		assert_equal "$(jq -r .text <<<"$output")" "CRITICAL B000TEST01: 1600"
		assert_equal "$(jq -r .id <<<"$output")" "$(q "$db" "SELECT delivery_id FROM alert_queues")"
		assert_equal "$(status_of "$db" "$id")" delivered
	done
	db=$(fresh_db sqlite)
	raise "$db" CRITICAL
	DOCS="$BATS_TEST_TMPDIR/docs"
	deliver_at "$db" 2025-06-01T12:00:01Z --jq '"alert \(.alerts[0].asin)\u0000end"' --exec "cat >'$DOCS'"
	assert_equal "$(od -An -c "$DOCS" | tr -d ' \n')" 'alertB000TEST01\0end\n'
}

@test "--jq that fails at delivery fails the attempt, with its reason; one that does not compile is a usage error" {
	for b in $(backends); do
		db=$(fresh_db $b)
		raise "$db" CRITICAL
		id=$(alert_id "$db" CRITICAL)
		run --separate-stderr deliver_at "$db" 2025-06-01T12:00:01Z --jq '.alerts[], .alerts[]'
		assert_success
		assert_output ""
		assert_equal "$(status_of "$db" "$id")" queued
		assert_equal "$(q "$db" "SELECT outcome, detail FROM alert_deliveries")" "retry|jq: the expression gave 2 outputs, not one"
		run --separate-stderr deliver_at "$db" 2025-06-01T12:10:01Z --jq '.alerts | error("no channel for \(length)")'
		assert_success
		assert_equal "$(q "$db" "SELECT outcome FROM alert_deliveries ORDER BY id" | paste -sd' ')" "retry retry"
		[[ "$(q "$db" "SELECT detail FROM alert_deliveries ORDER BY id DESC LIMIT 1")" == "jq: no channel for 1" ]]
		run --separate-stderr bb-alert deliver --db "$db" --once --jq '.alerts['
		assert_failure 64
		[[ "$stderr" == "bb-alert: unable to compile --jq: jq: error: syntax error"* ]]
		printf '[alert]\njq = {\n' >"$BATS_TEST_TMPDIR/bb.conf"
		run --separate-stderr env BB_CONFIG="$BATS_TEST_TMPDIR/bb.conf" bb-alert deliver --db "$db" --once
		assert_failure 78
		assert_equal "$stderr" "bb-alert: fatal: unable to compile [alert] jq '{': jq: error: syntax error, unexpected \$end (Unix shell quoting issues?) at <top-level>, line 1:"
		assert_equal "$(q "$db" "SELECT count(*) FROM alert_deliveries")" 2
	done
}

@test "nothing is delivered before it is due, snoozed or failed" {
	for b in $(backends); do
		db=$(fresh_db $b)
		raise "$db" WARNING 2025-06-01T12:01:00.000Z
		raise "$db" CRITICAL "$T0" B000TEST02
		bb-alert snooze --db "$db" "$(alert_id "$db" CRITICAL B000TEST02)" >/dev/null
		run --separate-stderr deliver_at "$db" 2025-06-01T12:04:59.999Z
		assert_success
		assert_output ""
		assert_equal "$(q "$db" "SELECT count(*) FROM alert_deliveries")" 0
	done
}

@test "an --exec failing three times then succeeding: delivered once, 4 attempts, one delivery_id" {
	for b in $(backends); do
		db=$(fresh_db $b)
		DOCS="$BATS_TEST_TMPDIR/docs-$b"
		rm -f "$BATS_TEST_TMPDIR/runs"
		raise "$db" CRITICAL
		id=$(alert_id "$db" CRITICAL)
		for t in 12:01 12:12 12:23 12:34 12:45 12:56; do
			deliver_at "$db" 2025-06-01T$t:00Z --exec "$(flaky 3)"
		done
		assert_equal "$(wc -l <"$DOCS")" 4
		assert_equal "$(jq -r .delivery_id "$DOCS" | sort -u | wc -l)" 1
		did=$(jq -r .delivery_id "$DOCS" | head -n 1)
		assert_equal "$(attempts_of "$db" "$id")" "1 retry $did
2 retry $did
3 retry $did
4 ok $did"
		assert_equal "$(q "$db" "SELECT status, attempts, delivery_id FROM alert_queues")" "delivered|4|$did"
		run alert_events "$db"
		assert_output --regexp '^deliver queued delivered bb-alert deliver [^ ]+:[0-9]+ -$'
	done
}

@test "a failed attempt waits its backoff: no retry before retry_base" {
	for b in $(backends); do
		db=$(fresh_db $b)
		DOCS="$BATS_TEST_TMPDIR/docs-$b"
		rm -f "$BATS_TEST_TMPDIR/runs"
		raise "$db" CRITICAL
		deliver_at "$db" 2025-06-01T12:01:00Z --exec "$(flaky 9)"
		deliver_at "$db" 2025-06-01T12:01:04Z --exec "$(flaky 9)"
		assert_equal "$(wc -l <"$DOCS")" 1
		deliver_at "$db" 2025-06-01T12:01:10Z --exec "$(flaky 9)"
		assert_equal "$(wc -l <"$DOCS")" 2
	done
}

@test "a command that never succeeds: failed after 5 attempts, shown by list, retry queues it again" {
	for b in $(backends); do
		db=$(fresh_db $b)
		DOCS="$BATS_TEST_TMPDIR/docs-$b"
		rm -f "$BATS_TEST_TMPDIR/runs"
		raise "$db" HIGH
		id=$(alert_id "$db" HIGH)
		for t in 12:01 12:12 12:23 12:34 12:45 12:56 13:07; do
			deliver_at "$db" 2025-06-01T$t:00Z --exec "$(flaky 99)"
		done
		assert_equal "$(wc -l <"$DOCS")" 5
		assert_equal "$(q "$db" "SELECT status, attempts, last_error FROM alert_queues")" "failed|5|the command exited 1"
		run --separate-stderr bb-alert list --db "$db" --status failed
		assert_line --index 1 --regexp '^[-0-9a-f]{8,} +HIGH +B000TEST01 +ATVPDKIKX0DER +failed '
		run --separate-stderr bb-alert retry --db "$db" "$id"
		assert_output "retry $id: failed -> queued"
		assert_equal "$(q "$db" "SELECT status, attempts FROM alert_queues")" "queued|0"
	done
}

@test "warnings of one 5-minute boundary go out as one batch, grouped by ASIN" {
	for b in $(backends); do
		db=$(fresh_db $b)
		raise "$db" WARNING 2025-06-01T12:01:00.000Z B000TEST03
		raise "$db" WARNING 2025-06-01T12:02:00.000Z B000TEST01
		raise "$db" WARNING 2025-06-01T12:06:00.000Z B000TEST02
		run --separate-stderr deliver_at "$db" 2025-06-01T12:05:00Z
		assert_success
		assert_equal "$(jq -c '[.kind, [.alerts[].asin]]' <<<"$output")" '["batch",["B000TEST01","B000TEST03"]]'
		run --separate-stderr deliver_at "$db" 2025-06-01T12:10:00Z
		assert_equal "$(jq -c '[.kind, [.alerts[].asin]]' <<<"$output")" '["batch",["B000TEST02"]]'
		assert_equal "$(q "$db" "SELECT count(DISTINCT delivery_id) FROM alert_queues")" 2
	done
}

@test "a webhook answering 500, then 429 with Retry-After, then 200: delivered with one Idempotency-Key" {
	for b in $(backends); do
		db=$(fresh_db $b)
		raise "$db" CRITICAL
		id=$(alert_id "$db" CRITICAL)
		pf="$BATS_TEST_TMPDIR/port-$b" log="$BATS_TEST_TMPDIR/hooks-$b"
		node "$BATS_TEST_DIRNAME/webhook-server.js" "$pf" "$log" 500 429:120 200 &
		track $!
		wait_file "$pf" 10
		url="http://127.0.0.1:$(cat "$pf")/hook"
		deliver_at "$db" 2025-06-01T12:01:00Z --webhook "$url"
		deliver_at "$db" 2025-06-01T12:12:00Z --webhook "$url"
		# the 429 asked for 120 s: a minute later is too soon, whatever the backoff
		deliver_at "$db" 2025-06-01T12:13:00Z --webhook "$url"
		assert_equal "$(wc -l <"$log")" 2
		deliver_at "$db" 2025-06-01T12:14:01Z --webhook "$url"
		assert_equal "$(wc -l <"$log")" 3
		assert_equal "$(jq -r '.idempotency_key == .body.delivery_id' "$log" | sort -u)" true
		assert_equal "$(jq -r .idempotency_key "$log" | sort -u | wc -l)" 1
		assert_equal "$(jq -r '.content_type + " " + .body.alerts[0].id' "$log" | sort -u)" "application/json $id"
		assert_equal "$(q "$db" "SELECT status, attempts FROM alert_queues")" "delivered|3"
		assert_equal "$(attempts_of "$db" "$id" | cut -d' ' -f1,2)" "1 retry
2 retry
3 ok"
	done
}

@test "two concurrent deliverers send every alert exactly once" {
	for b in $(backends); do
		db=$(fresh_db $b)
		DOCS="$BATS_TEST_TMPDIR/docs-$b"
		gen_critical "$db" 12
		for i in 1 2; do
			timeout 60 bb-alert deliver --db "$db" --once --now 2025-06-01T13:00:00Z \
				--exec "cat >>'$DOCS'; sleep 0.05" 2>>"$(LOG)" &
		done
		wait
		assert_equal "$(jq -r '.alerts[].id' "$DOCS" | wc -l)" 12
		assert_equal "$(jq -r '.alerts[].id' "$DOCS" | sort -u | wc -l)" 12
		assert_equal "$(q "$db" "SELECT count(*) FROM alert_queues WHERE status = 'delivered' AND attempts = 1")" 12
		assert_equal "$(q "$db" "SELECT count(*) FROM alert_deliveries")" 12
	done
}

@test "kill -9 between send and mark: nothing marked, re-delivered with the same id once the lease ends" {
	for b in $(backends); do
		db=$(fresh_db $b)
		DOCS="$BATS_TEST_TMPDIR/docs-$b" pf="$BATS_TEST_TMPDIR/sh-$b"
		raise "$db" CRITICAL
		# no timeout(1) in between: the test kills bb-alert itself (teardown, if it fails first)
		bb-alert deliver --db "$db" --once --now 2025-06-01T12:01:00Z \
			--exec "echo \$\$ >'$pf'; cat >>'$DOCS'; exec sleep 30" 2>>"$(LOG)" &
		pid=$!
		track "$pid"
		wait_lines "$DOCS" 1 20
		wait_file "$pf" 5
		kill -9 "$pid"
		kill -9 "$(cat "$pf")"
		wait "$pid" || true
		assert_equal "$(q "$db" "SELECT status FROM alert_queues")" queued
		# the claim lasts claim_lease (2m): a deliverer a minute later leaves it alone
		deliver_at "$db" 2025-06-01T12:02:00Z --exec "cat >>'$DOCS'"
		assert_equal "$(wc -l <"$DOCS")" 1
		deliver_at "$db" 2025-06-01T12:03:01Z --exec "cat >>'$DOCS'"
		assert_equal "$(wc -l <"$DOCS")" 2
		assert_equal "$(jq -r .delivery_id "$DOCS" | sort -u | wc -l)" 1
		assert_equal "$(q "$db" "SELECT status, attempts FROM alert_queues")" "delivered|2"
	done
}

@test "[alert] in bb.conf sets the thresholds; an unknown key there stops bb-alert with 78" {
	for b in $(backends); do
		db=$(fresh_db $b)
		DOCS="$BATS_TEST_TMPDIR/docs-$b"
		rm -f "$BATS_TEST_TMPDIR/runs"
		printf '[alert]\nmax_attempts = 2\nretry_base = 1m\n' >"$BATS_TEST_TMPDIR/bb.conf"
		raise "$db" CRITICAL
		for t in 12:01:00 12:01:59 12:03:00 12:10:00; do
			BB_CONFIG="$BATS_TEST_TMPDIR/bb.conf" deliver_at "$db" 2025-06-01T$t.000Z --exec "$(flaky 9)"
		done
		# the second attempt waits at least half of retry_base; the alert fails after two
		assert_equal "$(wc -l <"$DOCS")" 2
		assert_equal "$(q "$db" "SELECT status, attempts FROM alert_queues")" "failed|2"
		printf '[alert]\nescalate_afterr = 1h\n' >"$BATS_TEST_TMPDIR/typo.conf"
		run --separate-stderr env BB_CONFIG="$BATS_TEST_TMPDIR/typo.conf" bb-alert list --db "$db"
		assert_failure 78
		assert_equal "$stderr" "bb-alert: fatal: unable to load config: $BATS_TEST_TMPDIR/typo.conf:2: no such key [alert] escalate_afterr (see bb.conf(5))"
	done
}

# ---------------------------------------------------------------------------
# the timeline of an alert, and the clock (bb-alert sweep)

# sweep_at DBURL TIME [options]: one pass of sweep at TIME; its stdout (the
# escalations' documents) goes on.
sweep_at() {
	local db=$1 t=$2
	shift 2
	timeout 30 bb-alert sweep --db "$db" --once --now "$t" "$@" 2>>"$(LOG)"
}

# clock_events DBURL: the clock's and the deliverers' events, "action from to reason".
clock_events() {
	event_fields "$1" action from to reason
}

@test "raise, update within 30 minutes, then a new alert after resolve" {
	for b in $(backends); do
		db=$(fresh_db $b)
		raise "$db" CRITICAL
		id=$(alert_id "$db" CRITICAL)
		raise "$db" CRITICAL 2025-06-01T12:29:59.999Z
		assert_equal "$(q "$db" "SELECT id, status, occurrences, $(ts "$db" last_seen) FROM alert_queues")" \
			"$id|queued|2|2025-06-01T12:29:59.999Z"
		bb-alert resolve --db "$db" "$id" >/dev/null
		raise "$db" CRITICAL 2025-06-01T12:35:00.000Z
		# the fingerprint's row starts over: queued, one occurrence, first seen now
		assert_equal "$(q "$db" "SELECT status, occurrences, $(ts "$db" first_seen), attempts FROM alert_queues")" \
			"queued|1|2025-06-01T12:35:00.000Z|0"
		case $b in
		sqlite) acts=$(q "$db" "SELECT json_extract(payload, '\$.action') FROM events WHERE kind = 'alert' ORDER BY id") ;;
		pg) acts=$(q "$db" "SELECT payload->>'action' FROM events WHERE kind = 'alert' ORDER BY id") ;;
		esac
		assert_equal "$(paste -sd' ' <<<"$acts")" "new update resolve new"
	done
}

@test "a snooze suppresses; on expiry the alert is queued again if its condition holds, else resolved" {
	for b in $(backends); do
		db=$(fresh_db $b)
		gen_critical "$db" 2
		deliver_at "$db" 2025-06-01T12:00:01Z >"$BATS_TEST_TMPDIR/first"
		a1=$(alert_id "$db" CRITICAL B000000001) a2=$(alert_id "$db" CRITICAL B000000002)
		bb-alert snooze --db "$db" --for 30m "$a1" "$a2" >/dev/null
		# another occurrence while snoozed is counted, not delivered
		rec CRITICAL 2025-06-01T12:15:00.000Z n-again B000000001 | dedupe_store "$db" >/dev/null
		# the other place recovers meanwhile
		rec SUCCESS 2025-06-01T12:15:00.000Z n-ok B000000002 | dedupe_store "$db" >/dev/null
		run --separate-stderr deliver_at "$db" 2025-06-01T12:20:00Z
		assert_output ""
		assert_equal "$(q "$db" "SELECT status, occurrences FROM alert_queues ORDER BY asin" | paste -sd' ')" \
			"snoozed|2 snoozed|1"
		run --separate-stderr sweep_at "$db" 2025-06-01T12:39:59.999Z
		assert_equal "$(q "$db" "SELECT DISTINCT status FROM alert_queues")" snoozed
		run --separate-stderr sweep_at "$db" 2025-06-01T12:40:00Z
		assert_output ""
		assert_equal "$(q "$db" "SELECT asin, status, $(ts "$db" scheduled_delivery) FROM alert_queues ORDER BY asin")" \
			"B000000001|queued|2025-06-01T12:40:00.000Z
B000000002|resolved|2025-06-01T12:00:00.000Z"
		assert_equal "$(clock_events "$db" | grep -v '^deliver')" "snooze delivered snoozed -
snooze delivered snoozed -
expire snoozed queued snooze ended
resolve snoozed resolved recovered"
		# sent again, under a delivery id of its own: the first one was confirmed
		run --separate-stderr deliver_at "$db" 2025-06-01T12:40:01Z
		assert_equal "$(jq -r '.alerts[].asin' <<<"$output")" B000000001
		first=$(jq -r 'select(.alerts[0].asin == "B000000001") | .delivery_id' "$BATS_TEST_TMPDIR/first")
		[ "$(jq -r .delivery_id <<<"$output")" != "$first" ]
		assert_equal "$(q "$db" "SELECT status, occurrences FROM alert_queues WHERE asin = 'B000000001'")" "delivered|2"
	done
}

@test "a CRITICAL escalates 1, 2 and 3 hours after delivery, not a fourth time, and an ack stops it" {
	for b in $(backends); do
		db=$(fresh_db $b)
		gen_critical "$db" 2
		deliver_at "$db" 2025-06-01T12:00:00Z >/dev/null
		docs=$BATS_TEST_TMPDIR/esc-$b
		for t in 12:59:59.999 13:00:00.000 13:30:00.000 13:59:59.999 14:00:00.000 15:00:00.000 16:00:00.000 \
			17:00:00.000; do
			[ $t != 13:30:00.000 ] || bb-alert ack --db "$db" --by alice "$(alert_id "$db" CRITICAL B000000002)" >/dev/null
			sweep_at "$db" 2025-06-01T$t"Z" >>"$docs"
		done
		assert_equal "$(jq -c '[.kind, .created_at, .alerts[0].asin, .alerts[0].escalation_level]' "$docs" | sort)" \
			'["escalation","2025-06-01T13:00:00.000Z","B000000001",1]
["escalation","2025-06-01T13:00:00.000Z","B000000002",1]
["escalation","2025-06-01T14:00:00.000Z","B000000001",2]
["escalation","2025-06-01T15:00:00.000Z","B000000001",3]'
		assert_equal "$(jq -r .delivery_id "$docs" | sort -u | wc -l)" 4
		assert_equal "$(q "$db" "SELECT asin, status, escalation_level FROM alert_queues ORDER BY asin" | paste -sd' ')" \
			"B000000001|delivered|3 B000000002|acknowledged|1"
		assert_equal "$(clock_events "$db" | grep -c '^escalate delivered delivered unacknowledged$')" 4
		assert_equal "$(q "$db" "SELECT count(*) FROM alert_deliveries WHERE kind = 'escalation' AND outcome = 'ok'")" 4
	done
}

@test "an escalation is sent on the escalation channel, again under its id until it is taken" {
	for b in $(backends); do
		db=$(fresh_db $b)
		DOCS="$BATS_TEST_TMPDIR/docs-$b"
		rm -f "$BATS_TEST_TMPDIR/runs"
		unset BB_CONFIG
		raise "$db" CRITICAL
		deliver_at "$db" 2025-06-01T12:00:00Z >/dev/null
		flaky 1 >"$BATS_TEST_TMPDIR/esc.sh"
		printf '[alert]\nexec = false\nescalate_exec = sh %s\n' "$BATS_TEST_TMPDIR/esc.sh" >"$BATS_TEST_TMPDIR/bb.conf"
		export BB_CONFIG="$BATS_TEST_TMPDIR/bb.conf"
		sweep_at "$db" 2025-06-01T13:00:00Z
		sweep_at "$db" 2025-06-01T13:00:05Z
		assert_equal "$(wc -l <"$DOCS")" 1
		sweep_at "$db" 2025-06-01T13:00:30Z
		assert_equal "$(jq -c '[.kind, .alerts[0].escalation_level]' "$DOCS" | sort -u)" '["escalation",1]'
		assert_equal "$(jq -r .delivery_id "$DOCS" | sort -u | wc -l)" 1
		assert_equal "$(q "$db" "SELECT attempt, outcome FROM alert_deliveries WHERE kind = 'escalation' ORDER BY id" |
			paste -sd' ')" "1|retry 2|ok"
		assert_equal "$(q "$db" "SELECT escalation_level, $(b "escalation_delivery_id IS NULL") FROM alert_queues")" "1|1"
	done
}

@test "auto-resolve: delivered or acknowledged and last seen exactly 24 hours ago, not 23:59:59.999" {
	for b in $(backends); do
		db=$(fresh_db $b)
		raise "$db" HIGH
		raise "$db" WARNING "$T0" B000TEST02
		raise "$db" HIGH "$T0" B000TEST03
		deliver_at "$db" 2025-06-01T12:00:00Z --exec true
		bb-alert ack --db "$db" "$(alert_id "$db" WARNING B000TEST02)" >/dev/null
		bb-alert snooze --db "$db" --for 7d "$(alert_id "$db" HIGH B000TEST03)" >/dev/null
		run --separate-stderr sweep_at "$db" 2025-06-02T11:59:59.999Z
		assert_equal "$(q "$db" "SELECT status FROM alert_queues ORDER BY asin" | paste -sd' ')" \
			"delivered acknowledged snoozed"
		run --separate-stderr sweep_at "$db" 2025-06-02T12:00:00Z
		assert_output ""
		assert_equal "$(q "$db" "SELECT status FROM alert_queues ORDER BY asin" | paste -sd' ')" \
			"resolved resolved snoozed"
		assert_equal "$(clock_events "$db" | grep '^resolve')" "resolve delivered resolved stale
resolve acknowledged resolved stale"
	done
}

@test "recovery: an open alert whose place is now SUCCESS or STABLE is resolved, once" {
	for b in $(backends); do
		db=$(fresh_db $b)
		raise "$db" HIGH
		raise "$db" CRITICAL "$T0" B000TEST02
		# a failed alert is not one bb-store resolves when its place recovers
		q "$db" "UPDATE alert_queues SET status = 'failed'"
		raise "$db" STABLE 2025-06-01T12:05:00.000Z
		assert_equal "$(q "$db" "SELECT status FROM alert_queues ORDER BY asin" | paste -sd' ')" "failed failed"
		run --separate-stderr sweep_at "$db" 2025-06-01T12:06:00Z
		assert_equal "$(q "$db" "SELECT asin, status FROM alert_queues ORDER BY asin" | paste -sd' ')" \
			"B000TEST01|resolved B000TEST02|failed"
		run --separate-stderr sweep_at "$db" 2025-06-01T12:07:00Z
		assert_equal "$(clock_events "$db")" "resolve failed resolved recovered"
		run --separate-stderr bb-alert show --db "$db" "B000TEST01|ATVPDKIKX0DER|high"
		assert_line --regexp '^2025-06-01T12:06:00.000Z  resolve   failed -> resolved by bb-alert sweep [^ ]+:[0-9]+ \(recovered\)$'
	done
}

@test "sweep and digest refuse what they cannot use: a stray argument, a bad duration, a bad [alert] value" {
	for b in $(backends); do
		db=$(fresh_db $b)
		run --separate-stderr bb-alert sweep --db "$db" now
		assert_failure 64
		assert_equal "$stderr" "bb-alert: sweep: unexpected argument 'now'"
		run --separate-stderr bb-alert digest --db "$db" --since yesterday
		assert_failure 64
		assert_equal "${stderr_lines[0]}" "bb-alert: --since 'yesterday': expected a duration such as 30s, 5m, 24h or 7d"
		printf '[alert]\nmax_escalations = many\n' >"$BATS_TEST_TMPDIR/bb.conf"
		run --separate-stderr env BB_CONFIG="$BATS_TEST_TMPDIR/bb.conf" bb-alert sweep --db "$db"
		assert_failure 78
		assert_equal "$stderr" "bb-alert: fatal: unable to use [alert] max_escalations 'many': expected 0 to 1000"
		printf '[alert]\nauto_resolve_after = 0\n' >"$BATS_TEST_TMPDIR/bb.conf"
		run --separate-stderr env BB_CONFIG="$BATS_TEST_TMPDIR/bb.conf" bb-alert sweep --db "$db"
		assert_failure 78
		assert_equal "$stderr" "bb-alert: fatal: unable to use [alert] auto_resolve_after '0': expected a duration such as 30s"
	done
}

@test "[alert] escalate_after, max_escalations and auto_resolve_after set the clock" {
	for b in $(backends); do
		db=$(fresh_db $b)
		unset BB_CONFIG
		raise "$db" CRITICAL
		deliver_at "$db" 2025-06-01T12:00:00Z >/dev/null
		printf '[alert]\nescalate_after = 10m\nmax_escalations = 1\nauto_resolve_after = 1h\n' >"$BATS_TEST_TMPDIR/bb.conf"
		export BB_CONFIG="$BATS_TEST_TMPDIR/bb.conf"
		for t in 12:09:59 12:10:00 12:20:00 12:30:00; do
			sweep_at "$db" 2025-06-01T$t.000Z
		done >"$BATS_TEST_TMPDIR/esc"
		assert_equal "$(jq -c '[.created_at, .alerts[0].escalation_level]' "$BATS_TEST_TMPDIR/esc")" \
			'["2025-06-01T12:10:00.000Z",1]'
		sweep_at "$db" 2025-06-01T12:59:59.999Z
		assert_equal "$(status_of "$db" "$(alert_id "$db" CRITICAL)")" delivered
		sweep_at "$db" 2025-06-01T13:00:00Z
		assert_equal "$(status_of "$db" "$(alert_id "$db" CRITICAL)")" resolved
	done
}

# ---------------------------------------------------------------------------
# the digest

# digest_day DBURL: a day of alerts: one acknowledged, one snoozed, one
# delivered, one resolved in the window, one resolved long before it.
digest_day() {
	raise "$1" CRITICAL
	raise "$1" WARNING "$T0" B000TEST02
	raise "$1" HIGH "$T0" B000TEST02
	raise "$1" WARNING "$T0" B000TEST03
	raise "$1" HIGH "$T0" B000TEST04
	bb-alert resolve --db "$1" --now 2025-06-01T12:10:30Z "B000TEST04|ATVPDKIKX0DER|high" >/dev/null
	q "$1" "UPDATE alert_queues SET last_seen = '2025-05-01T00:00:00Z', updated_at = '2025-05-01T00:00:00Z'
	        WHERE asin = 'B000TEST04'"
	deliver_at "$1" 2025-06-01T12:11:00Z --exec true
	bb-alert ack --db "$1" --now 2025-06-01T12:12:00Z --by alice --note 'on <it> & *more*' \
		"B000TEST01|ATVPDKIKX0DER|critical" >/dev/null
	bb-alert snooze --db "$1" --now 2025-06-01T12:13:00Z --by bob --for 2h "B000TEST02|ATVPDKIKX0DER|high" >/dev/null
	bb-alert resolve --db "$1" --now 2025-06-01T12:14:00Z --by carol --note fixed \
		"B000TEST03|ATVPDKIKX0DER|warning" >/dev/null
}

@test "digest: the day's alerts by ASIN, most severe first, with what was done (text and markdown)" {
	for b in $(backends); do
		db=$(fresh_db $b)
		digest_day "$db"
		run --separate-stderr bb-alert digest --db "$db" --now 2025-06-01T13:00:00Z
		assert_success
		assert_output - <<'OUT'
bb alert digest
2025-05-31T13:00:00.000Z to 2025-06-01T13:00:00.000Z: 4 alerts on 3 ASINs, 3 open

B000TEST01 ATVPDKIKX0DER
  CRITICAL, acknowledged, 1 occurrence, first seen 2025-06-01T12:00:00.000Z, last seen 2025-06-01T12:00:00.000Z
    our price USD 16.00 against the market low USD 10.00 (gap 60.0%)
    reasons: offers 10 ≥ 10; gap 60.00% ≥ 50%; not buy-box winner; position 6 of 6 (100.0th percentile) ≥ 80th
    done:
      2025-06-01T12:10:00.000Z raised
      2025-06-01T12:11:00.000Z delivered
      2025-06-01T12:12:00.000Z acknowledged by alice: on <it> & *more*

B000TEST02 ATVPDKIKX0DER
  HIGH, snoozed, 1 occurrence, first seen 2025-06-01T12:00:00.000Z, last seen 2025-06-01T12:00:00.000Z
    our price USD 13.00 against the market low USD 10.00 (gap 30.0%)
    reasons: offers 5 ≥ 5; gap 30.00% ≥ 20%; not buy-box winner
    done:
      2025-06-01T12:10:00.000Z raised
      2025-06-01T12:11:00.000Z delivered
      2025-06-01T12:13:00.000Z snoozed until 2025-06-01T14:13:00.000Z by bob
  WARNING, delivered, 1 occurrence, first seen 2025-06-01T12:00:00.000Z, last seen 2025-06-01T12:00:00.000Z
    our price USD 13.00 against the market low USD 10.00 (gap 30.0%)
    reasons: offers 5 ≥ 5; gap 30.00% ≥ 20%; not buy-box winner
    done:
      2025-06-01T12:10:00.000Z raised
      2025-06-01T12:11:00.000Z delivered

B000TEST03 ATVPDKIKX0DER
  WARNING, resolved, 1 occurrence, first seen 2025-06-01T12:00:00.000Z, last seen 2025-06-01T12:00:00.000Z
    our price - against the market low USD 10.00
    reasons: no offer of ours among 2 offers
    done:
      2025-06-01T12:10:00.000Z raised
      2025-06-01T12:11:00.000Z delivered
      2025-06-01T12:14:00.000Z resolved by carol: fixed
OUT
		run --separate-stderr bb-alert digest --db "$db" --now 2025-06-01T13:00:00Z --format markdown
		assert_success
		assert_equal "$(head -n 11 <<<"$output")" "# bb alert digest

2025-05-31T13:00:00.000Z to 2025-06-01T13:00:00.000Z: 4 alerts on 3 ASINs, 3 open

## B000TEST01 ATVPDKIKX0DER

### CRITICAL, acknowledged, 1 occurrence, first seen 2025-06-01T12:00:00.000Z, last seen 2025-06-01T12:00:00.000Z

- our price USD 16.00 against the market low USD 10.00 (gap 60.0%)
- reasons: offers 10 ≥ 10; gap 60.00% ≥ 50%; not buy-box winner; position 6 of 6 (100.0th percentile) ≥ 80th
- done:"
		assert_line '  - 2025-06-01T12:12:00.000Z acknowledged by alice: on \<it\> & \*more\*'
		assert_line '### WARNING, resolved, 1 occurrence, first seen 2025-06-01T12:00:00.000Z, last seen 2025-06-01T12:00:00.000Z'
	done
}

@test "digest: html fit for mail (inline styles, nothing fetched, escaped) and ndjson with each alert's events" {
	for b in $(backends); do
		db=$(fresh_db $b)
		digest_day "$db"
		run --separate-stderr bb-alert digest --db "$db" --now 2025-06-01T13:00:00Z --format html
		assert_success
		assert_line --index 0 '<!DOCTYPE html>'
		assert_line '<li>2025-06-01T12:12:00.000Z acknowledged by alice: on &lt;it&gt; &amp; *more*</li>'
		assert_line --regexp '^<p style="[^"]*"><span style="background:#c0392b;[^"]*">CRITICAL</span> acknowledged, '
		refute_output --regexp '<(link|script|img|style)|src=|href=|class='
		[ "$(grep -o '<li>' <<<"$output" | wc -l)" -eq "$(grep -o '</li>' <<<"$output" | wc -l)" ]
		run --separate-stderr bb-alert digest --db "$db" --now 2025-06-01T13:00:00Z --format ndjson --since 2h
		assert_success
		assert_equal "$(jq -c '[.alert.asin, .alert.severity, .alert.status, [.events[].payload.action]]' <<<"$output")" \
			'["B000TEST01","CRITICAL","acknowledged",["new","deliver","ack"]]
["B000TEST02","HIGH","snoozed",["new","deliver","snooze"]]
["B000TEST02","WARNING","delivered",["new","deliver"]]
["B000TEST03","WARNING","resolved",["new","deliver","resolve"]]'
		# a window that the day's events left: the open alerts, with nothing done
		run --separate-stderr bb-alert digest --db "$db" --now 2025-06-01T13:00:00Z --since 30m
		assert_line '2025-06-01T12:30:00.000Z to 2025-06-01T13:00:00.000Z: 3 alerts on 2 ASINs, 3 open'
		assert_equal "$(grep -c 'done: nothing in the window' <<<"$output")" 3
		run --separate-stderr bb-alert digest --db "$db" --format pdf
		assert_failure 64
		assert_equal "$stderr" "bb-alert: --format 'pdf': expected text, markdown, html or ndjson"
	done
}

# ---------------------------------------------------------------------------
# promptness

@test "a running deliver wakes on the commit: a CRITICAL goes out within 1 s, and SIGTERM ends its wait at once" {
	for b in $(backends); do
		db=$(fresh_db $b)
		DOCS="$BATS_TEST_TMPDIR/docs-$b"
		raise "$db" WARNING "$T0" B000TEST09 # the schema, and a first pass that has work
		bb-alert deliver --db "$db" --interval 1h --exec "cat >>'$DOCS'" 2>>"$(LOG)" &
		pid=$!
		track $pid
		wait_lines "$DOCS" 1 10
		sleep 0.3 # the deliverer is in its hour's pause
		raise "$db" CRITICAL
		t0=$(ms_now)
		wait_lines "$DOCS" 2 5
		elapsed=$(($(ms_now) - t0))
		[ "$elapsed" -lt 1000 ] || fail "[$b] delivered ${elapsed} ms after the commit"
		assert_equal "$(tail -n 1 "$DOCS" | jq -c '[.kind, .alerts[0].severity]')" '["alert","CRITICAL"]'
		term_and_time $pid
		assert_equal "$term_status" 0
		[ "$term_ms" -lt 1000 ] || fail "[$b] SIGTERM took ${term_ms} ms"
	done
}

# iso_ms MS: RFC 3339 UTC text with milliseconds, as bb writes times.
iso_ms() {
	date -u -d "@$(($1 / 1000)).$(printf %03d $(($1 % 1000)))" +%Y-%m-%dT%H:%M:%S.%3NZ
}

# ms_of TIME: the RFC 3339 TIME in milliseconds since the epoch.
ms_of() {
	date -u -d "$1" +%s%3N
}

@test "a running deliver wakes when a backoff ends or a batch's boundary passes, not at the end of its interval" {
	printf '[alert]\nretry_base = 1s\n' >"$BATS_TEST_TMPDIR/bb.conf"
	for b in $(backends); do
		db=$(fresh_db $b)
		DOCS="$BATS_TEST_TMPDIR/docs-$b"
		rm -f "$BATS_TEST_TMPDIR/runs"
		# on the wall clock: a CRITICAL due now, and two WARNINGs whose
		# 5-minute boundary is moved to 1.5 s from now (a real one is minutes off)
		t=$(iso_ms "$(ms_now)")
		{
			rec CRITICAL "$t" n-c B000TEST01
			rec WARNING "$t" n-w2 B000TEST02
			rec WARNING "$t" n-w3 B000TEST03
		} | dedupe_store "$db" >/dev/null
		boundary=$(iso_ms $(($(ms_now) + 1500)))
		q "$db" "UPDATE alert_queues SET scheduled_delivery = '$boundary' WHERE severity = 'WARNING'"
		# the command fails its first run: the CRITICAL waits retry_base (jittered: 0.5 to 1 s)
		env -u BB_NOW BB_CONFIG="$BATS_TEST_TMPDIR/bb.conf" bb-alert deliver --db "$db" --interval 1h \
			--exec "$(flaky 1)" 2>>"$(LOG)" &
		pid=$!
		track $pid
		wait_lines "$DOCS" 3 10 || fail "[$b] $(wc -l <"$DOCS") documents sent in 10 s, not 3"
		assert_equal "$(jq -c '[.kind, [.alerts[].asin]]' "$DOCS" | sort)" '["alert",["B000TEST01"]]
["alert",["B000TEST01"]]
["batch",["B000TEST02","B000TEST03"]]'
		id=$(alert_id "$db" CRITICAL)
		assert_equal "$(attempts_of "$db" "$id" | cut -d' ' -f1,2 | paste -sd' ')" "1 retry 2 ok"
		mapfile -t started < <(q "$db" "SELECT $(ts "$db" started_at) FROM alert_deliveries WHERE alert_id = '$id' ORDER BY id")
		gap=$(($(ms_of "${started[1]}") - $(ms_of "${started[0]}")))
		[ "$gap" -ge 500 ] && [ "$gap" -lt 2500 ] || fail "[$b] retried ${gap} ms after the first attempt"
		late=$(($(ms_of "$(jq -r 'select(.kind == "batch") | .created_at' "$DOCS")") - $(ms_of "$boundary")))
		[ "$late" -ge 0 ] && [ "$late" -lt 1000 ] || fail "[$b] the batch went out ${late} ms after its boundary"
		term_and_time $pid
		assert_equal "$term_status" 0
	done
}

@test "a running sweep wakes when a snooze ends or an escalation falls due, not at the end of its interval" {
	printf '[alert]\nescalate_after = 3s\n' >"$BATS_TEST_TMPDIR/bb.conf"
	for b in $(backends); do
		db=$(fresh_db $b)
		DOCS="$BATS_TEST_TMPDIR/esc-$b"
		# on the wall clock: two CRITICALs delivered now; one of them snoozed
		# for 1.5 s, the other escalated 3 s after its delivery
		t=$(iso_ms "$(ms_now)")
		{
			rec CRITICAL "$t" n-e1 B000TEST01
			rec CRITICAL "$t" n-e2 B000TEST02
		} | dedupe_store "$db" >/dev/null
		env -u BB_NOW bb-alert deliver --db "$db" --once --exec 'cat >/dev/null' 2>>"$(LOG)"
		snoozed=$(alert_id "$db" CRITICAL B000TEST02)
		env -u BB_NOW bb-alert snooze --db "$db" --for 2s "$snoozed" >/dev/null
		until_ms=$(ms_of "$(q "$db" "SELECT $(ts "$db" snooze_until) FROM alert_queues WHERE id = '$snoozed'")")
		env -u BB_NOW BB_CONFIG="$BATS_TEST_TMPDIR/bb.conf" BB_LOG_LEVEL=debug bb-alert sweep --db "$db" \
			--interval 1h --exec "cat >>'$DOCS'" 2>"$BATS_TEST_TMPDIR/sweep-$b.log" &
		pid=$!
		track $pid
		wait_lines "$DOCS" 1 10 || fail "[$b] no escalation within 10 s"
		escalated=$(alert_id "$db" CRITICAL B000TEST01)
		due=$(($(ms_of "$(q "$db" "SELECT $(ts "$db" delivered_at) FROM alert_queues WHERE id = '$escalated'")") + 3000))
		late=$(($(ms_of "$(jq -r .created_at "$DOCS")") - due))
		[ "$late" -ge 0 ] && [ "$late" -lt 1000 ] || fail "[$b] escalated ${late} ms after it fell due"
		assert_equal "$(status_of "$db" "$snoozed")" queued
		case $b in
		sqlite) at=$(q "$db" "SELECT json_extract(payload, '\$.at') FROM events WHERE kind = 'alert' AND json_extract(payload, '\$.action') = 'expire'") ;;
		pg) at=$(q "$db" "SELECT payload->>'at' FROM events WHERE kind = 'alert' AND payload->>'action' = 'expire'") ;;
		esac
		late=$(($(ms_of "$at") - until_ms))
		[ "$late" -ge 0 ] && [ "$late" -lt 1000 ] || fail "[$b] the snooze ended ${late} ms after its time"
		# with nothing left to fall due, the next pass waits for the interval
		# (three so far: at the start, at the snooze's end, at the escalation)
		sleep 3
		passes=$(grep -c 'msg=swept' "$BATS_TEST_TMPDIR/sweep-$b.log")
		[ "$passes" -le 4 ] || fail "[$b] $passes passes: it did not wait once nothing was due"
		term_and_time $pid
		assert_equal "$term_status" 0
	done
}

@test "a running deliver waits out PostgreSQL stopping: warned at once and not again within 30 s, told when it is back, then delivers; SIGTERM meanwhile within 1 s" {
	db=$(fresh_db pg)
	DOCS="$BATS_TEST_TMPDIR/docs"
	ERR="$BATS_TEST_TMPDIR/err"
	raise "$db" WARNING "$T0" B000TEST09
	bb-alert deliver --db "$db" --interval 1s --exec "cat >>'$DOCS'" 2>"$ERR" &
	pid=$!
	track $pid
	wait_lines "$DOCS" 1 10
	"$PG_LOCAL" stop "$PG_DIR"
	for _ in $(seq 50); do grep -q 'database unavailable: retrying' "$ERR" && break; sleep 0.1; done
	grep -q 'database unavailable: retrying' "$ERR" || { cat "$ERR"; fail "no warning within 5 s of the database stopping"; }
	kill -0 $pid || fail "deliver exited while the database was down"
	sleep 5 # passes tried every 2 s meanwhile: still one warning
	assert_equal "$(grep -c 'database unavailable: retrying' "$ERR")" 1
	grep 'database unavailable' "$ERR" | grep -q "db=" || fail "the warning does not name the database"
	"$PG_LOCAL" start "$PG_DIR" "$PG_PORT" >/dev/null
	for _ in $(seq 100); do grep -q 'database available again' "$ERR" && break; sleep 0.1; done
	grep -q 'database available again' "$ERR" || { cat "$ERR"; fail "not told the database is back within 10 s"; }
	raise "$db" CRITICAL
	wait_lines "$DOCS" 2 10
	assert_equal "$(tail -n 1 "$DOCS" | jq -r '.alerts[0].severity')" CRITICAL
	"$PG_LOCAL" stop "$PG_DIR"
	sleep 1
	term_and_time $pid
	"$PG_LOCAL" start "$PG_DIR" "$PG_PORT" >/dev/null
	assert_equal "$term_status" 0
	[ "$term_ms" -lt 1000 ] || fail "SIGTERM during the outage took ${term_ms} ms"
	# every line is bb-alert's own, none in libpq's words
	run grep -v '^ts=.* prog=bb-alert ' "$ERR"
	assert_output ''
}
