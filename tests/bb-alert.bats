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

# alert_events DBURL: the payloads of the operator's events, action from to by note.
alert_events() {
	case $1 in
	sqlite:*) q "$1" "SELECT json_extract(payload, '\$.action') || ' ' || json_extract(payload, '\$.from') || ' ' ||
	                  json_extract(payload, '\$.to') || ' ' || coalesce(json_extract(payload, '\$.by'), '-') || ' ' ||
	                  coalesce(json_extract(payload, '\$.note'), '-')
	                  FROM events WHERE kind = 'alert' AND json_extract(payload, '\$.from') IS NOT NULL ORDER BY id" ;;
	*) q "$1" "SELECT concat_ws(' ', payload->>'action', payload->>'from', payload->>'to',
	                  coalesce(payload->>'by', '-'), coalesce(payload->>'note', '-'))
	           FROM events WHERE kind = 'alert' AND payload ? 'from' ORDER BY id" ;;
	esac
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
	db=$(fresh_db sqlite)
	run --separate-stderr bb-alert list --db "$db" --status open
	assert_failure 64
	assert_equal "${stderr_lines[0]}" "bb-alert: --status 'open': unknown value 'open'"
	run --separate-stderr bb-alert list --db "$db" --severity CRITICAL,bad
	assert_failure 64
	assert_equal "${stderr_lines[0]}" "bb-alert: --severity 'CRITICAL,bad': unknown value 'bad'"
	run --separate-stderr bb-alert list --db "$db" --format csv
	assert_failure 64
	assert_equal "$stderr" "bb-alert: --format 'csv': expected text or ndjson"
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

@test "an id must be whole, a unique prefix of 8 characters, or a fingerprint" {
	db=$(fresh_db sqlite)
	raise "$db" CRITICAL
	raise "$db" HIGH "$T0" B000TEST02
	id=$(alert_id "$db" CRITICAL)
	q "$db" "UPDATE alert_queues SET id = '${id:0:8}' || substr(id, 9) || '' WHERE severity = 'HIGH'"
	q "$db" "UPDATE alert_queues SET id = substr(id, 1, 35) || 'x' WHERE severity = 'HIGH'"
	run --separate-stderr bb-alert ack --db "$db" "${id:0:8}"
	assert_failure 65
	assert_equal "$stderr" "bb-alert: fatal: unable to ack alert '${id:0:8}': ambiguous id: more than one alert starts so"
	run --separate-stderr bb-alert ack --db "$db" "${id:0:7}"
	assert_failure 65
	assert_equal "$stderr" "bb-alert: fatal: unable to ack alert '${id:0:7}': no such alert"
	run --separate-stderr bb-alert ack --db "$db" "B000TEST09|ATVPDKIKX0DER|critical"
	assert_failure 65
	assert_equal "$stderr" "bb-alert: fatal: unable to ack alert 'B000TEST09|ATVPDKIKX0DER|critical': no such alert"
	run --separate-stderr bb-alert ack --db "$db" "B000TEST01|ATVPDKIKX0DER|critical"
	assert_success
	assert_output "ack $id: queued -> acknowledged"
}

@test "a bad duration, a missing id or an unknown command is a usage error (64)" {
	db=$(fresh_db sqlite)
	run --separate-stderr bb-alert snooze --db "$db" --for 30x abc
	assert_failure 64
	assert_equal "${stderr_lines[0]}" "bb-alert: --for '30x': expected a duration such as 30s, 5m, 24h or 7d"
	run --separate-stderr bb-alert ack --db "$db"
	assert_failure 64
	assert_equal "$stderr" "bb-alert: ack: no alert id given"
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
		assert_equal "$(q "$db" "SELECT max(version) FROM schema_migrations")" 10
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
	db=$(fresh_db sqlite)
	DOCS="$BATS_TEST_TMPDIR/docs"
	raise "$db" CRITICAL
	deliver_at "$db" 2025-06-01T12:01:00Z --exec "$(flaky 9)"
	deliver_at "$db" 2025-06-01T12:01:04Z --exec "$(flaky 9)"
	assert_equal "$(wc -l <"$DOCS")" 1
	deliver_at "$db" 2025-06-01T12:01:10Z --exec "$(flaky 9)"
	assert_equal "$(wc -l <"$DOCS")" 2
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
	db=$(fresh_db sqlite)
	DOCS="$BATS_TEST_TMPDIR/docs"
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
}
