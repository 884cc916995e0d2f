load helper
# man-examples-alert.bats: every EXAMPLES entry of bb-alert(1), run as the
# page writes it, from a scratch directory whose bb.db holds the sample
# notifications' alerts (the default database of the examples). Each test
# checks what a broken program would get wrong, not just the exit status.

bats_require_minimum_version 1.5.0

setup() {
	ln -s "$BATS_TEST_DIRNAME/../examples" "$BATS_TEST_TMPDIR/examples"
	cd "$BATS_TEST_TMPDIR"
	# the samples' events are at 09:00 to 09:10 on 2026-01-05
	export BB_NOW=2026-01-05T09:30:00Z
	bb-validate < examples/notifications.ndjson 2>/dev/null |
		bb-severity --costs examples/costs.csv 2>/dev/null |
		bb-dedupe --db sqlite:bb.db 2>/dev/null |
		bb-store --db sqlite:bb.db >/dev/null 2>&1
}

teardown() {
	[ -z "${HOOK_PID:-}" ] || kill "$HOOK_PID" 2>/dev/null || true
}

@test "bb-alert(1): the most urgent alert is acknowledged by alice" {
	run -0 bash <<'EOF'
bb-alert list --format ndjson | head -n 1 | jq -r .id |
    xargs bb-alert ack --by alice --note 'repricing'
EOF
	assert_output --regexp '^ack [-0-9a-f]{36}: queued -> acknowledged$'
	run -0 sqlite3 bb.db "SELECT asin, severity, status, acked_by FROM alert_queues WHERE status = 'acknowledged'"
	assert_output 'B0CRIT0001|CRITICAL|acknowledged|alice'
}

@test "bb-alert(1): a Slack-style webhook gets a line of text per alert, shaped by --jq" {
	node "$BATS_TEST_DIRNAME/webhook-server.js" port hooks 200 &
	HOOK_PID=$!
	for _ in $(seq 100); do [ -s port ] && break; sleep 0.05; done
	export SLACK_URL="http://127.0.0.1:$(cat port)/services/T000/B000/XXXX"
	run -0 bash <<'EOF'
bb-alert deliver --once --webhook "$SLACK_URL" --jq '{text:
    ([.alerts[] | "\(.severity) \(.asin) \(.marketplace) \(.status)"]
    | join("\n"))}'
EOF
	run -0 jq -r '.body.text' hooks
	assert_output - <<'EOF'
CRITICAL B0CRIT0001 ATVPDKIKX0DER queued
HIGH B0HIGH0002 ATVPDKIKX0DER queued
HIGH B0THIN0003 ATVPDKIKX0DER queued
WARNING B0WARN0004 ATVPDKIKX0DER queued
WARNING B0DEUT0008 A1PA6795UKMFR9 queued
EOF
	run -0 sqlite3 bb.db "SELECT DISTINCT status FROM alert_queues"
	assert_output delivered
}

@test "bb-alert(1): the day's digest is mailed as HTML through sendmail -t" {
	mkdir bin
	printf '#!/bin/sh\necho "$@" > "%s/sendmail.args"\ncat > "%s/mail.txt"\n' "$PWD" "$PWD" >bin/sendmail
	chmod +x bin/sendmail
	PATH="$PWD/bin:$PATH"
	run -0 bash <<'EOF'
{ printf 'To: oncall@example.com\nSubject: bb alert digest\n'
    printf 'Content-Type: text/html; charset=utf-8\n\n'
    bb-alert digest --since 24h --format html; } | sendmail -t
EOF
	assert_equal "$(cat sendmail.args)" -t
	run -0 head -n 5 mail.txt
	assert_output - <<'EOF'
To: oncall@example.com
Subject: bb alert digest
Content-Type: text/html; charset=utf-8

<!DOCTYPE html>
EOF
	assert_equal "$(grep -c '<h2 ' mail.txt)" 5
	grep -q '2026-01-04T09:30:00.000Z to 2026-01-05T09:30:00.000Z: 5 alerts on 5 ASINs, 5 open' mail.txt
	grep -q '<li>our price USD 21.00 against the market low USD 10.00 (gap 110.0%)</li>' mail.txt
	grep -q '<li>our price - against the market low EUR 4.60</li>' mail.txt
}

@test "bb-alert(1): the sweep timer's units are valid and the service's command runs the clock" {
	mkdir units
	cat >units/bb-alert-sweep.service <<EOF
[Unit]
Description=bb alert clock: snooze expiry, escalation, auto-resolve

[Service]
Type=oneshot
Environment=BB_CONFIG=/etc/bb/bb.conf
ExecStart=$(command -v bb-alert) sweep --once
EOF
	cat >units/bb-alert-sweep.timer <<'EOF'
[Unit]
Description=bb alert clock, every minute

[Timer]
OnCalendar=minutely
AccuracySec=1s

[Install]
WantedBy=timers.target
EOF
	run -0 systemd-analyze verify --man=no units/bb-alert-sweep.timer units/bb-alert-sweep.service
	run -0 systemd-analyze calendar --iterations 2 --base-time '2026-01-05 09:30:10 UTC' minutely
	assert_line --partial 'Next elapse: Mon 2026-01-05 09:31:00 UTC'
	# the service's command, with the clock 25 hours on: the delivered alerts went stale
	bb-alert deliver --once >/dev/null 2>&1
	run -0 env BB_NOW=2026-01-06T10:30:00Z BB_CONFIG=/dev/null bash -c "$(sed -n 's/^ExecStart=//p' units/bb-alert-sweep.service)"
	run -0 sqlite3 bb.db "SELECT DISTINCT status FROM alert_queues"
	assert_output resolved
}
