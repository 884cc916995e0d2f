#!/usr/bin/env bats
# Conventions every program follows: options, configuration precedence,
# logging, exit statuses, signals, installation.

load helper

PROGS="bb-validate bb-severity bb-dedupe bb-store bb-sqs-recv bb-ack bb-sqs-send bb-alert"

@test "every program prints its version and its usage on stdout with status 0" {
	for p in $PROGS; do
		run "$p" --version
		assert_success
		assert_output "$p 0.1.0"
		run "$p" --help
		assert_success
		assert_line --index 0 --partial "usage: $p"
	done
}

@test "every program exits 64 on an unknown option and says so on stderr" {
	for p in $PROGS; do
		run --separate-stderr "$p" --no-such-option
		[ "$status" -eq 64 ]
		[ -z "$output" ]
		[[ "$stderr" == *"usage: $p"* ]]
	done
}

@test "every program's usage matches the SYNOPSIS of its man page option for option" {
	for p in $PROGS; do
		usage_opts=$("$p" --help | grep -o -- '--[a-z-]*' | sort -u)
		page_opts=$(sed -n '/^\.Sh SYNOPSIS/,/^\.Sh DESCRIPTION/p' "man/$p.1" | sed 's/\\-/-/g' | grep -o 'Fl -[a-z-]*' | sed 's/^Fl /-/' | sort -u)
		[ "$usage_opts" = "$page_opts" ] || { echo "$p usage: $usage_opts"; echo "$p man: $page_opts"; false; }
	done
}

@test "a flag beats the environment, which beats the config file" {
	conf=$BATS_TEST_TMPDIR/bb.conf
	printf '[severity]\nhigh_min_gap_pct = 30\n' >"$conf"
	line=$(notify "OURS:12.50 A:10.00 B:11.00 C:11.50 D:13.00" "$(with_offers_count 5)")
	# the gap is 25%: HIGH at the default 20, not at 30
	run bash -c "echo '$line' | BB_CONFIG=$conf bb-validate 2>/dev/null | BB_CONFIG=$conf bb-severity 2>/dev/null | jq -r .analysis.rule"
	assert_output "warning-gap"
	run bash -c "echo '$line' | bb-validate 2>/dev/null | BB_CONFIG=$conf BB_SEVERITY_HIGH_MIN_GAP_PCT=25 bb-severity 2>/dev/null | jq -r .analysis.rule"
	assert_output "high-gap"
	run bash -c "echo '$line' | bb-validate 2>/dev/null | BB_CONFIG=$conf BB_SEVERITY_HIGH_MIN_GAP_PCT=20 bb-severity --set high_min_gap_pct=26 2>/dev/null | jq -r .analysis.rule"
	assert_output "warning-gap"
}

@test "a config file that cannot be read or parsed is a configuration error naming it" {
	run --separate-stderr env BB_CONFIG=/nonexistent/bb.conf bb-validate </dev/null
	[ "$status" -eq 78 ]
	[[ "$stderr" == "bb-validate: fatal: unable to read config '/nonexistent/bb.conf': No such file or directory" ]]
	printf '[severity\n' >"$BATS_TEST_TMPDIR/bad.conf"
	run --separate-stderr env BB_CONFIG="$BATS_TEST_TMPDIR/bad.conf" bb-severity </dev/null
	[ "$status" -eq 78 ]
	[[ "$stderr" == *"$BATS_TEST_TMPDIR/bad.conf:1: syntax error"* ]]
}

@test "an unknown [severity] key in the config file is a configuration error" {
	printf '[severity]\nhigh_min_gap = 20\n' >"$BATS_TEST_TMPDIR/typo.conf"
	run --separate-stderr env BB_CONFIG="$BATS_TEST_TMPDIR/typo.conf" bb-severity </dev/null
	[ "$status" -eq 78 ]
	[[ "$stderr" == *"'high_min_gap': no such threshold"* ]]
}

@test "a misspelt key or section anywhere in the config file stops every program with 78, naming file, line and key" {
	printf '[db]\nurl = sqlite:x.db\n\n[sqs]\nqueue_ur = http://127.0.0.1:1/q\n' >"$BATS_TEST_TMPDIR/typo.conf"
	for p in $PROGS; do
		run --separate-stderr env BB_CONFIG="$BATS_TEST_TMPDIR/typo.conf" "$p" </dev/null
		[ "$status" -eq 78 ] || fail "$p: exit status $status"
		[ "$stderr" = "$p: fatal: $BATS_TEST_TMPDIR/typo.conf:5: no such key: [sqs] queue_ur (see bb.conf(5))" ] ||
			fail "$p said: $stderr"
	done
	printf '[database]\nurl = sqlite:x.db\n' >"$BATS_TEST_TMPDIR/section.conf"
	run --separate-stderr env BB_CONFIG="$BATS_TEST_TMPDIR/section.conf" bb-store </dev/null
	[ "$status" -eq 78 ]
	[[ "$stderr" == *"section.conf:2: no such key: [database] url"* ]] || fail "bb-store said: $stderr"
	# every key of the example file is known
	run --separate-stderr env BB_CONFIG="$(cd "$BATS_TEST_DIRNAME/.." && pwd)/examples/bb.conf" bb-validate </dev/null
	[ "$status" -eq 0 ] || fail "examples/bb.conf refused: $stderr"
}

@test "logs are logfmt by default and JSON with BB_LOG_FORMAT=json" {
	bad=$(notify "OURS:10.00" '.Payload.AnyOfferChangedNotification.OfferChangeTrigger.ASIN = "bad"')
	run --separate-stderr bash -c "echo '$bad' | bb-validate >/dev/null"
	[[ "${stderr_lines[0]}" =~ ^ts=[0-9T:.-]+Z\ level=warn\ prog=bb-validate\ trace_id=[0-9a-f-]{36}\ msg=\"line\ 1:\ invalid_asin: ]]
	run --separate-stderr bash -c "echo '$bad' | BB_LOG_FORMAT=json bb-validate >/dev/null"
	echo "$stderr" | jq -e -s 'length == 2 and .[0].level == "warn" and .[0].error_type == "invalid_asin" and .[1].msg == "summary" and .[1].rejected == "1"'
}

@test "a full receipt handle never reaches the log" {
	body=$(notify "OURS:10.00" '.Payload.AnyOfferChangedNotification.OfferChangeTrigger.ASIN = "bad"')
	rh=AQEBSECRETRECEIPTHANDLE0123456789abcdefghijklmnopqrstuvwxyz
	env=$(jq -cn --arg b "$body" --arg rh "$rh" '{sqs: {message_id: "m-1", receipt_handle: $rh, receive_count: 1}, body: $b}')
	run --separate-stderr bash -c "echo '$env' | bb-validate | bb-severity >/dev/null"
	assert_success
	[[ "$stderr" != *SECRETRECEIPT* ]]
}

@test "a closed output pipe ends the program with status 74, not a signal" {
	line=$(notify "OURS:10.00 A:9.00")
	for i in $(seq 20000); do echo "$line"; done >"$BATS_TEST_TMPDIR/many"
	run bash -c "bb-validate <'$BATS_TEST_TMPDIR/many' 2>/dev/null | head -1 >/dev/null; echo \${PIPESTATUS[0]}"
	assert_output 74
}

@test "SIGTERM while waiting for input flushes what was read and exits 0" {
	fifo=$BATS_TEST_TMPDIR/in
	mkfifo "$fifo"
	notify "OURS:10.00 A:9.00" >"$BATS_TEST_TMPDIR/one"
	bb-validate <"$fifo" >"$BATS_TEST_TMPDIR/out" 2>/dev/null &
	pid=$!
	exec 7>"$fifo"
	cat "$BATS_TEST_TMPDIR/one" >&7
	sleep 0.5
	kill -TERM "$pid"
	wait "$pid" && rc=0 || rc=$?
	exec 7>&-
	[ "$rc" -eq 0 ]
	[ "$(jq -r .status "$BATS_TEST_TMPDIR/out")" = ok ]
}

@test "make install puts programs and man pages under DESTDIR and PREFIX" {
	cd "$BATS_TEST_DIRNAME/.."
	run make --no-print-directory install DESTDIR="$BATS_TEST_TMPDIR/root" PREFIX=/opt/bb
	assert_success
	for p in $PROGS; do
		[ -x "$BATS_TEST_TMPDIR/root/opt/bb/bin/$p" ]
		[ -f "$BATS_TEST_TMPDIR/root/opt/bb/share/man/man1/$p.1" ]
	done
	[ -f "$BATS_TEST_TMPDIR/root/opt/bb/share/man/man5/bb-record.5" ]
	[ -f "$BATS_TEST_TMPDIR/root/opt/bb/share/man/man7/bb.7" ]
	"$BATS_TEST_TMPDIR/root/opt/bb/bin/bb-validate" --version
}

@test "the build treats every warning as an error" {
	cd "$BATS_TEST_DIRNAME/.."
	run env -u MAKEFLAGS -u MAKELEVEL -u SAN make --no-print-directory -n -B build/lib/money.o
	assert_output --partial "-Wall -Wextra -Werror"
}

@test "install-deps is a quick no-op when everything is present" {
	run "$BATS_TEST_DIRNAME/../scripts/install-deps"
	assert_success
	assert_output "install-deps: all packages present"
}

@test "--help and --version answer even when the config file is broken" {
	for p in $PROGS; do
		run env BB_CONFIG=/nonexistent/bb.conf "$p" --help
		assert_success
		assert_line --index 0 --partial "usage: $p"
		run env BB_CONFIG=/nonexistent/bb.conf "$p" --version
		assert_output "$p 0.1.0"
	done
}

@test "a line that is not a record goes through bb-severity as it came, never lost" {
	printf 'not json at all\n[1,2]\n' >"$BATS_TEST_TMPDIR/in"
	run bash -c "bb-severity <'$BATS_TEST_TMPDIR/in' 2>/dev/null"
	assert_success
	assert_output "$(cat "$BATS_TEST_TMPDIR/in")"
}

@test "a validated record over 1 MiB is still analysed by bb-severity" {
	head -c 700000 /dev/zero | tr '\0' 'x' >"$BATS_TEST_TMPDIR/pad"
	notify "OURS:10.00 A:9.00" | jq -c --rawfile pad "$BATS_TEST_TMPDIR/pad" '.NotificationMetadata.ApplicationId = $pad' >"$BATS_TEST_TMPDIR/big"
	run bash -c "bb-validate <'$BATS_TEST_TMPDIR/big' 2>/dev/null | bb-severity 2>/dev/null | jq -r '[.status, .analysis.rule] | @tsv'"
	assert_output "$(printf 'ok\tsuccess-few-offers')"
}

@test "text format reports a record bb-severity itself rejects as REJECTED with its reason" {
	run bash -c "echo '{\"status\":\"ok\",\"notification\":{\"asin\":\"B000TEST01\"}}' | bb-severity --format text 2>/dev/null"
	assert_output "REJECTED B000TEST01 line 1 schema: notification lacks asin, marketplace or offers with seller_id and landed"
}

@test "an unterminated last line that is not a JSON object is dropped with a warning; one that is, is a record" {
	export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 # bb-ack: never called
	for p in bb-severity bb-dedupe bb-ack; do
		run --separate-stderr "$p" < <(printf '{"status":"failed","n":1}\n{"trace_id":"01a2","sqs":{"message_')
		[ "$status" -eq 0 ] || fail "$p: exit status $status: $stderr"
		[ "$output" = '{"status":"failed","n":1}' ] || fail "$p wrote: $output"
		[[ "$stderr" == *'level=warn prog='"$p"' msg="incomplete last line dropped: no newline, not a JSON object" line=2'* ]] ||
			fail "$p logged: $stderr"
		run --separate-stderr "$p" < <(printf '{"status":"failed","n":1}\n{"status":"failed","n":2}')
		[ "$(printf '%s\n' "$output" | wc -l)" -eq 2 ] || fail "$p dropped a complete last line: $output"
	done
	# bb-validate too: no rejected record for the fragment, nothing for bb-store to keep
	run --separate-stderr bb-validate < <(printf '{"body":"{\\"Notification')
	[ -z "$output" ] || fail "bb-validate wrote: $output"
	[[ "$stderr" == *'incomplete last line dropped'* ]] || fail "bb-validate logged: $stderr"
}

@test "log lines of stages writing to one stderr at once never interleave" {
	# eight programs each logging a warning for each of 300 bad lines, into one pipe, all at once
	for i in 1 2 3 4 5 6 7 8; do
		yes 'not json at all, a line long enough to take more than one write if written in pieces' | head -n 300 |
			bb-validate >/dev/null 2>>"$BATS_TEST_TMPDIR/all.err" &
	done
	wait
	pattern='^ts=[0-9T:.Z-]* level=(warn|info) prog=bb-validate (trace_id=[0-9a-f-]* )?msg=.*[^ ]$'
	bad=$(grep -Evc "$pattern" "$BATS_TEST_TMPDIR/all.err" || true)
	[ "$bad" -eq 0 ] || fail "$bad torn lines: $(grep -Ev "$pattern" "$BATS_TEST_TMPDIR/all.err" | head -3)"
	expect_lines=$((8 * 301))
	[ "$(wc -l <"$BATS_TEST_TMPDIR/all.err")" -eq "$expect_lines" ] ||
		fail "$(wc -l <"$BATS_TEST_TMPDIR/all.err") lines logged, expected $expect_lines"
}
