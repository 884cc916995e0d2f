load helper
# man-examples-store.bats: every EXAMPLES entry of bb-dedupe(1) and
# bb-store(1), run as the page writes it, from a scratch directory that sees
# the repository's examples/, so bb.db and the files an example writes land
# in $BATS_TEST_TMPDIR. The examples of a page go on from each other: a test
# first replays what the earlier ones left behind. Each test checks what a
# broken program would get wrong, not just the exit status.

bats_require_minimum_version 1.5.0

setup() {
	ln -s "$BATS_TEST_DIRNAME/../examples" "$BATS_TEST_TMPDIR/examples"
	cd "$BATS_TEST_TMPDIR"
}

# The sample notifications through the whole pipeline into bb.db, as the
# second example of bb-store(1) does.
store_samples() {
	bb-validate < examples/notifications.ndjson 2>/dev/null |
		bb-severity --costs examples/costs.csv 2>/dev/null |
		bb-dedupe --db sqlite:bb.db 2>/dev/null |
		bb-store --db sqlite:bb.db 2>/dev/null > stored.ndjson
}

# What the first example of bb-dedupe(1) leaves: bb.db created by bb-dedupe
# alone. (Two programs that create the same new SQLite file at once can race
# on setting WAL mode, so the examples never start from a missing file.)
dedupe_first_example() {
	bb-validate < examples/notifications.ndjson 2>/dev/null |
		bb-severity --costs examples/costs.csv 2>/dev/null |
		bb-dedupe --db sqlite:bb.db > /dev/null 2>&1
}

# ---- bb-dedupe(1) ----

@test "bb-dedupe(1): the alerts of the sample notifications on an empty database" {
	run -0 bash <<'EOF'
bb-validate < examples/notifications.ndjson 2>/dev/null |
    bb-severity --costs examples/costs.csv 2>/dev/null |
    bb-dedupe --db sqlite:bb.db 2>/dev/null |
    jq -r 'select(.status == "ok") | .alert |
    [.action, .queue_type, .scheduled_delivery // "-", .fingerprint] |
    join(" ")'
EOF
	assert_output - <<'EOF'
new high_priority 2026-01-05T09:00:00.120Z B0CRIT0001|ATVPDKIKX0DER|critical
new high_priority 2026-01-05T09:01:00.000Z B0HIGH0002|ATVPDKIKX0DER|high
new high_priority 2026-01-05T09:02:00.000Z B0THIN0003|ATVPDKIKX0DER|high
new standard 2026-01-05T09:05:00.000Z B0WARN0004|ATVPDKIKX0DER|warning
none background - B0GOOD0005|ATVPDKIKX0DER|success
none background - B0STBL0006|ATVPDKIKX0DER|stable
none background - B0JPYN0007|A1VC38T7YXB528|success
new standard 2026-01-05T09:10:00.000Z B0DEUT0008|A1PA6795UKMFR9|warning
EOF
	# bb-dedupe only reads: it created the schema, but stored nothing
	run -0 sqlite3 bb.db 'SELECT count(*) FROM worker_notifications; SELECT count(*) FROM alert_queues'
	assert_output "$(printf '0\n0')"
}

@test "bb-dedupe(1): a replay of stored notifications is 8 duplicates" {
	dedupe_first_example
	run -0 bash <<'EOF'
bb-validate < examples/notifications.ndjson 2>/dev/null |
    bb-severity --costs examples/costs.csv 2>/dev/null > analysed.ndjson
bb-dedupe --db sqlite:bb.db < analysed.ndjson 2>/dev/null |
    bb-store --db sqlite:bb.db > /dev/null 2>&1
EOF
	run -0 sqlite3 bb.db 'SELECT count(*) FROM worker_notifications'
	assert_output 8
	run -0 bash <<'EOF'
bb-dedupe --db sqlite:bb.db < analysed.ndjson 2>&1 >/dev/null |
    grep -o 'unique=.*'
EOF
	assert_output 'unique=0 duplicates=8 passed=1'
	run -0 bash <<'EOF'
bb-dedupe --db sqlite:bb.db < analysed.ndjson 2>/dev/null |
    jq -r .status | sort | uniq -c
EOF
	assert_output "$(printf '      8 duplicate\n      1 skipped')"
	# a duplicate gets no alert
	run -0 bash -c 'bb-dedupe --db sqlite:bb.db < analysed.ndjson 2>/dev/null | jq -c "select(has(\"alert\"))"'
	assert_output ''
}

@test "bb-dedupe(1): a message delivered twice in one stream is a duplicate before anything is stored" {
	run -0 bash <<'EOF'
head -n 1 examples/notifications.ndjson | sed p |
    bb-validate 2>/dev/null | bb-severity 2>/dev/null |
    bb-dedupe --db sqlite:twice.db 2>/dev/null |
    jq -c '[.status, .alert.action]'
EOF
	assert_output "$(printf '["ok","new"]\n["duplicate",null]')"
	run -0 sqlite3 twice.db 'SELECT count(*) FROM worker_notifications'
	assert_output 0
}

@test "bb-dedupe(1): CRITICAL again after 20 minutes is an update, 40 minutes after that a new alert" {
	run -0 bash <<'EOF'
head -n 1 examples/notifications.ndjson |
    jq -c '., (.EventTime = "2026-01-05T09:20:00Z" |
    .NotificationMetadata.NotificationId = "n-0920"),
    (.EventTime = "2026-01-05T10:00:00Z" |
    .NotificationMetadata.NotificationId = "n-1000")' |
    bb-validate 2>/dev/null | bb-severity 2>/dev/null |
    bb-dedupe --db sqlite:window.db 2>/dev/null |
    jq -r '.notification.event_time + " " + .alert.action'
EOF
	assert_output - <<'EOF'
2026-01-05T09:00:00.120Z new
2026-01-05T09:20:00.000Z update
2026-01-05T10:00:00.000Z new
EOF
}

@test "bb-dedupe(1): a CRITICAL notification during a snooze is suppressed" {
	dedupe_first_example
	bb-validate < examples/notifications.ndjson 2>/dev/null |
		bb-severity --costs examples/costs.csv 2>/dev/null > analysed.ndjson
	bb-dedupe --db sqlite:bb.db < analysed.ndjson 2>/dev/null |
		bb-store --db sqlite:bb.db > /dev/null 2>&1
	run -0 bash <<'EOF'
sqlite3 bb.db "UPDATE alert_queues SET status = 'snoozed',
    snooze_until = '2026-01-05T12:00:00.000Z'
    WHERE fingerprint = 'B0CRIT0001|ATVPDKIKX0DER|critical'"
EOF
	run -0 bash <<'EOF'
head -n 1 examples/notifications.ndjson |
    jq -c '.EventTime = "2026-01-05T10:30:00Z" |
    .NotificationMetadata.NotificationId = "n-1030"' |
    bb-validate 2>/dev/null | bb-severity 2>/dev/null |
    bb-dedupe --db sqlite:bb.db 2>/dev/null |
    jq -c '.alert | {action, snooze_until}'
EOF
	assert_output '{"action":"suppressed","snooze_until":"2026-01-05T12:00:00.000Z"}'
	# once the snooze is over, the same notification is a new alert
	run -0 bash <<'EOF'
head -n 1 examples/notifications.ndjson |
    jq -c '.EventTime = "2026-01-05T12:30:00Z" |
    .NotificationMetadata.NotificationId = "n-1230"' |
    bb-validate 2>/dev/null | bb-severity 2>/dev/null |
    bb-dedupe --db sqlite:bb.db 2>/dev/null | jq -r .alert.action
EOF
	assert_output new
}

# ---- bb-store(1) ----

@test "bb-store(1): --migrate creates the schema and reads no input" {
	run -0 bash <<'EOF'
bb-store --db sqlite:bb.db --migrate 2>/dev/null
EOF
	run -0 bash <<'EOF'
sqlite3 bb.db "SELECT name FROM sqlite_master WHERE type = 'table'
    AND name NOT LIKE 'sqlite%' ORDER BY name"
EOF
	assert_output - <<'EOF'
alert_deliveries
alert_queues
competitive_history
current_state
events
schema_migrations
trend_findings
weekly_rollups
worker_failures
worker_heartbeats
worker_notifications
EOF
	run -0 bash <<'EOF'
sqlite3 bb.db 'SELECT version FROM schema_migrations'
EOF
	assert_output $'1\n2\n3\n4\n5\n6\n7\n8\n9\n10'
	# a second run finds nothing to do, and still logs that all is well
	run -0 --separate-stderr bb-store --db sqlite:bb.db --migrate
	assert_output ''
	[[ "$stderr" == *'level=info prog=bb-store msg="schema up to date" db=sqlite:bb.db'* ]]
	run -0 sqlite3 bb.db 'SELECT count(*) FROM schema_migrations'
	assert_output 10
}

@test "bb-store(1): the stored samples, the most urgent first" {
	bb-store --db sqlite:bb.db --migrate 2>/dev/null
	run -0 bash <<'EOF'
bb-validate < examples/notifications.ndjson 2>/dev/null |
    bb-severity --costs examples/costs.csv 2>/dev/null |
    bb-dedupe --db sqlite:bb.db 2>/dev/null |
    bb-store --db sqlite:bb.db 2>/dev/null > stored.ndjson
EOF
	run -0 bash <<'EOF'
jq -r '.status + " " + (.stored.notification_id != null | tostring)' \
    stored.ndjson | sort | uniq -c
EOF
	assert_output "$(printf '      8 ok true\n      1 skipped false')"
	run -0 bash <<'EOF'
sqlite3 bb.db 'SELECT priority, severity, asin, marketplace, rule
    FROM current_state ORDER BY priority, asin'
EOF
	assert_output - <<'EOF'
1|CRITICAL|B0CRIT0001|ATVPDKIKX0DER|critical
2|HIGH|B0HIGH0002|ATVPDKIKX0DER|high-gap
2|HIGH|B0THIN0003|ATVPDKIKX0DER|high-thin-margin
3|WARNING|B0DEUT0008|A1PA6795UKMFR9|offer-missing
3|WARNING|B0WARN0004|ATVPDKIKX0DER|warning-gap
4|SUCCESS|B0GOOD0005|ATVPDKIKX0DER|success-buy-box
4|SUCCESS|B0JPYN0007|A1VC38T7YXB528|success-top3
5|STABLE|B0STBL0006|ATVPDKIKX0DER|stable
EOF
	# records go out in input order, each with the batch's time (BB_NOW)
	run -0 jq -r '[.notification.asin // "-", .stored.at] | join(" ")' stored.ndjson
	assert_output - <<'EOF'
B0CRIT0001 2026-01-01T00:00:00.000Z
B0HIGH0002 2026-01-01T00:00:00.000Z
B0THIN0003 2026-01-01T00:00:00.000Z
B0WARN0004 2026-01-01T00:00:00.000Z
B0GOOD0005 2026-01-01T00:00:00.000Z
B0STBL0006 2026-01-01T00:00:00.000Z
B0JPYN0007 2026-01-01T00:00:00.000Z
B0DEUT0008 2026-01-01T00:00:00.000Z
- 2026-01-01T00:00:00.000Z
EOF
}

@test "bb-store(1): the id in stored finds the 12 offers of B0CRIT0001, one of them ours" {
	bb-store --db sqlite:bb.db --migrate 2>/dev/null
	store_samples
	run -0 bash <<'EOF'
id=$(jq -r 'select(.notification.asin == "B0CRIT0001") |
    .stored.notification_id' stored.ndjson)
sqlite3 bb.db "SELECT json_array_length(offer_seller_ids),
    (SELECT sum(value) FROM json_each(offer_ours))
    FROM competitive_history WHERE notification_id = '$id'"
EOF
	assert_output '12|1'
	# the same id keys the notification's row and its state
	id=$(jq -r 'select(.notification.asin == "B0CRIT0001") | .stored.notification_id' stored.ndjson)
	run -0 sqlite3 bb.db "SELECT message_id FROM worker_notifications WHERE id = '$id';
		SELECT asin FROM current_state WHERE notification_id = '$id'"
	assert_output "$(printf '0b3e6c1a-1111-4a8e-9c01-000000000001\nB0CRIT0001')"
}

@test "bb-store(1): the alerts waiting for delivery, and the change feed" {
	bb-store --db sqlite:bb.db --migrate 2>/dev/null
	store_samples
	run -0 bash <<'EOF'
sqlite3 bb.db 'SELECT scheduled_delivery, queue_type, fingerprint
    FROM alert_queues ORDER BY scheduled_delivery'
EOF
	assert_output - <<'EOF'
2026-01-05T09:00:00.120Z|high_priority|B0CRIT0001|ATVPDKIKX0DER|critical
2026-01-05T09:01:00.000Z|high_priority|B0HIGH0002|ATVPDKIKX0DER|high
2026-01-05T09:02:00.000Z|high_priority|B0THIN0003|ATVPDKIKX0DER|high
2026-01-05T09:05:00.000Z|standard|B0WARN0004|ATVPDKIKX0DER|warning
2026-01-05T09:10:00.000Z|standard|B0DEUT0008|A1PA6795UKMFR9|warning
EOF
	run -0 bash <<'EOF'
sqlite3 bb.db 'SELECT kind, count(*) FROM events GROUP BY kind'
EOF
	assert_output "$(printf 'alert|5\nstate|8')"
	# each stored record names the last event it appended
	run -0 bash -c "jq -r 'select(.status == \"ok\") | .stored.event_id' stored.ndjson | paste -sd ' '"
	assert_output '2 4 6 8 9 10 11 13'
}

@test "bb-store(1): a replay without bb-dedupe stores nothing twice" {
	bb-store --db sqlite:bb.db --migrate 2>/dev/null
	store_samples
	run -0 bash <<'EOF'
bb-validate < examples/notifications.ndjson 2>/dev/null |
    bb-severity --costs examples/costs.csv 2>/dev/null |
    bb-store --db sqlite:bb.db 2>/dev/null | jq -r .status | sort | uniq -c
EOF
	assert_output "$(printf '      8 duplicate\n      1 skipped')"
	run -0 bash <<'EOF'
sqlite3 bb.db 'SELECT count(*) FROM worker_notifications'
EOF
	assert_output 8
	run -0 sqlite3 bb.db 'SELECT count(*) FROM competitive_history; SELECT count(*) FROM events;
		SELECT sum(occurrences) FROM alert_queues'
	assert_output "$(printf '8\n13\n5')"
}

@test "bb-store(1): rejected records are kept in worker_failures, one row per message" {
	bb-store --db sqlite:bb.db --migrate 2>/dev/null
	store_samples
	run -0 bash <<'EOF'
jq -Rc '{sqs: {message_id: "m-\(input_line_number)"}, body: .}' \
    examples/invalid.ndjson | bb-validate 2>/dev/null |
    bb-store --db sqlite:bb.db 2>&1 >/dev/null | grep -o 'processed=.*'
EOF
	assert_output 'processed=8 failed=8 duplicates=0'
	run -0 bash <<'EOF'
sqlite3 bb.db 'SELECT error_type, count(*) FROM worker_failures
    GROUP BY error_type ORDER BY error_type'
EOF
	assert_output - <<'EOF'
invalid_amount|2
invalid_asin|1
invalid_marketplace|1
invalid_time|1
malformed_json|1
schema|2
EOF
	# the raw message is the body as received, and nothing reached the state
	run -0 sqlite3 bb.db "SELECT raw_message = '$(sed -n 8p examples/invalid.ndjson | sed "s/'/''/g")' FROM worker_failures WHERE message_id = 'm-8'"
	assert_output 1
	run -0 sqlite3 bb.db 'SELECT count(*) FROM current_state'
	assert_output 8
}

@test "bb-store(1): a price cut to SUCCESS resolves the HIGH alert and updates the state" {
	bb-store --db sqlite:bb.db --migrate 2>/dev/null
	store_samples
	run -0 bash <<'EOF'
sed -n 2p examples/notifications.ndjson |
    jq -c '.EventTime = "2026-01-05T10:00:00Z" |
    .NotificationMetadata.NotificationId = "n-price-cut" |
    .Payload.AnyOfferChangedNotification.Offers[1].ListingPrice.Amount
    = 12.5' |
    bb-validate 2>/dev/null | bb-severity --costs examples/costs.csv \
    2>/dev/null | bb-dedupe --db sqlite:bb.db 2>/dev/null |
    bb-store --db sqlite:bb.db 2>/dev/null |
    jq -c '{severity: .analysis.severity, alert: .alert.action}'
EOF
	assert_output '{"severity":"SUCCESS","alert":"none"}'
	run -0 bash <<'EOF'
sqlite3 bb.db "SELECT fingerprint, status FROM alert_queues
    WHERE asin = 'B0HIGH0002'"
EOF
	assert_output 'B0HIGH0002|ATVPDKIKX0DER|high|resolved'
	run -0 bash <<'EOF'
sqlite3 bb.db "SELECT severity, rule FROM current_state
    WHERE asin = 'B0HIGH0002'"
EOF
	assert_output 'SUCCESS|success-top3'
	# only B0HIGH0002's alert was resolved, with an event saying so
	run -0 sqlite3 bb.db "SELECT count(*) FROM alert_queues WHERE status = 'resolved';
		SELECT json_extract(payload, '$.action') FROM events WHERE kind = 'alert' ORDER BY id DESC LIMIT 1"
	assert_output "$(printf '1\nresolved')"
}

@test "bb-store(1): two alerts decided new before either is stored: the second is corrected to update" {
	run -0 bash <<'EOF'
head -n 1 examples/notifications.ndjson |
    jq -c '., (.EventTime = "2026-01-05T09:10:00Z" |
    .NotificationMetadata.NotificationId = "n-0910")' |
    bb-validate 2>/dev/null |
    bb-severity --costs examples/costs.csv 2>/dev/null > two.ndjson
head -n 1 two.ndjson | bb-dedupe --db sqlite:two.db 2>/dev/null > a.ndjson
tail -n 1 two.ndjson | bb-dedupe --db sqlite:two.db 2>/dev/null > b.ndjson
EOF
	run -0 bash <<'EOF'
jq -r .alert.action a.ndjson b.ndjson
EOF
	assert_output "$(printf 'new\nnew')"
	run -0 bash <<'EOF'
cat a.ndjson b.ndjson | bb-store --db sqlite:two.db 2>/dev/null |
    jq -r .alert.action
EOF
	assert_output "$(printf 'new\nupdate')"
	run -0 bash <<'EOF'
sqlite3 two.db 'SELECT fingerprint, status, occurrences FROM alert_queues'
EOF
	assert_output 'B0CRIT0001|ATVPDKIKX0DER|critical|queued|2'
}

@test "bb-store(1): a store under its own worker id shows in worker_heartbeats as soon as it starts" {
	bb-store --db sqlite:bb.db --migrate 2>/dev/null
	store_samples
	run -0 bash <<'EOF'
bb-store --db sqlite:bb.db --batch 100 --max-delay 50 \
    --worker-id store-1 < /dev/null 2>/dev/null
EOF
	assert_output ''
	run -0 bash <<'EOF'
sqlite3 bb.db "SELECT worker_id, stage FROM worker_heartbeats
    WHERE worker_id = 'store-1'"
EOF
	assert_output 'store-1|store'
	run -0 sqlite3 bb.db "SELECT pid > 0, last_heartbeat FROM worker_heartbeats WHERE worker_id = 'store-1'"
	assert_output '1|2026-01-01T00:00:00.000Z'
}

@test "bb-store(1): --keep 1d with the clock in 2099 prunes the history, not the state" {
	bb-store --db sqlite:bb.db --migrate 2>/dev/null
	store_samples
	# the default --keep of 30 days keeps what was just stored
	bb-store --db sqlite:bb.db < /dev/null 2>/dev/null
	run -0 sqlite3 bb.db 'SELECT count(*) FROM competitive_history;
		SELECT sum(json_array_length(offer_seller_ids)) FROM competitive_history'
	assert_output "$(printf '8\n41')"
	run -0 bash <<'EOS'
BB_NOW=2099-01-01T00:00:00Z bb-store --db sqlite:bb.db --keep 1d \
    < /dev/null 2>/dev/null
EOS
	run -0 bash <<'EOS'
sqlite3 bb.db 'SELECT count(*) FROM competitive_history;
    SELECT count(*) FROM current_state'
EOS
	assert_output "$(printf '0\n8')"
}
