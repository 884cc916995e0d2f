#!/usr/bin/env bats
# Conventions every program follows: options, configuration precedence,
# logging, exit statuses, signals, installation.

load helper

PROGS="bb-validate bb-severity bb-dedupe bb-store bb-sqs-recv bb-ack bb-sqs-send bb-alert"
# The shell scripts of scripts/ that make install puts beside the programs:
# the same --help, --version, usage and page, but no configuration file.
SCRIPTS="bb-pipeline bb-autoscale"
PATH="$(cd "$BATS_TEST_DIRNAME/../scripts" && pwd):$PATH"

@test "every program prints its version and its usage on stdout with status 0" {
	for p in $PROGS $SCRIPTS; do
		run "$p" --version
		assert_success
		assert_output "$p 0.1.0"
		run "$p" --help
		assert_success
		assert_line --index 0 --partial "usage: $p"
	done
}

@test "no program links libpq: bb-store loads it for a PostgreSQL URL only" {
	n=0
	for f in "$BB_BIN"/bb-*; do
		readelf -d "$f" >/dev/null 2>&1 || continue # a script
		n=$((n + 1))
		! readelf -d "$f" | grep -q 'NEEDED.*libpq' || fail "${f##*/} links libpq"
	done
	[ "$n" -ge 10 ] || fail "only $n programs in $BB_BIN"
	mkfifo "$BATS_TEST_TMPDIR/in"
	bb-store --db "sqlite:$BATS_TEST_TMPDIR/s.db" <"$BATS_TEST_TMPDIR/in" >/dev/null 2>&1 &
	pid=$!
	exec 4>"$BATS_TEST_TMPDIR/in"
	for _ in $(seq 100); do grep -q libsqlite3 "/proc/$pid/maps" 2>/dev/null && break; sleep 0.05; done
	grep -q libsqlite3 "/proc/$pid/maps" || fail "bb-store did not start"
	! grep -q libpq "/proc/$pid/maps" || fail "bb-store on SQLite has libpq mapped"
	exec 4>&-
	wait $pid
	# a PostgreSQL URL loads it: a server that is not there is then a 75, not a 78
	run --separate-stderr bb-store --db "postgresql://bb@127.0.0.1:1/bb" </dev/null
	assert_equal "$status" 75
	assert_equal "$stderr" "bb-store: fatal: unable to open database 'postgresql://bb@127.0.0.1:1/bb': unable to connect: connection to server at \"127.0.0.1\", port 1 failed: Connection refused"
}

@test "every program exits 64 on an unknown option and says so on stderr" {
	for p in $PROGS $SCRIPTS; do
		run --separate-stderr "$p" --no-such-option
		[ "$status" -eq 64 ]
		[ -z "$output" ]
		[[ "$stderr" == *"usage: $p"* ]]
	done
}

@test "every program's usage matches the SYNOPSIS of its man page option for option" {
	for p in $PROGS $SCRIPTS; do
		usage_opts=$("$p" --help | sed '/^$/q' | grep -o -- '--[a-z-]*' | sort -u)
		page_opts=$(sed -n '/^\.Sh SYNOPSIS/,/^\.Sh DESCRIPTION/p' "man/$p.1" | sed 's/\\-/-/g' | grep -o 'Fl -[a-z-]*' | sed 's/^Fl /-/' | sort -u)
		[ "$usage_opts" = "$page_opts" ] || { echo "$p usage: $usage_opts"; echo "$p man: $page_opts"; false; }
	done
}

# long_options PROG: the long options of PROG's getopt_long table, or of the
# patterns of a script's case over its arguments, one a line.
long_options() {
	if [ -f "$BATS_TEST_DIRNAME/../scripts/$1" ]; then
		sed -n '/^while \[ \$# -gt 0 \]; do$/,/^done$/p' "$BATS_TEST_DIRNAME/../scripts/$1" |
			sed -n 's/^\t*\(-[^)]*\)).*/\1/p' | grep -o -- '--[a-z][a-z-]*' | sort -u
		return
	fi
	sed -n '/struct option opts\[\]/,/{ NULL, 0, NULL, 0 }/p' "$BATS_TEST_DIRNAME/../cmd/$1/main.c" |
		grep -o '{ "[a-z-]*"' | sed 's/^{ "/--/; s/"$//'
}

@test "every program's --help mentions each long option it accepts and ends naming its man page" {
	for p in $PROGS $SCRIPTS; do
		opts=$(long_options "$p")
		[ -n "$opts" ] || fail "$p: no getopt_long table found"
		run --separate-stderr "$p" --help
		[ "$status" -eq 0 ] || fail "$p --help: exit status $status"
		[ -z "$stderr" ] || fail "$p --help wrote on stderr: $stderr"
		for o in $opts; do
			grep -q -e "$o\\b" <<<"$output" || fail "$p --help does not mention $o"
		done
		[ "${lines[-1]}" = "See $p(1)." ] || fail "$p --help ends with: ${lines[-1]}"
		[ "$(grep -c '^See ' <<<"$output")" -eq 1 ] || fail "$p --help names its page more than once"
	done
}

@test "every program's --help has a line for each option of its man page, in the page's order" {
	for p in $PROGS $SCRIPTS; do
		page=$(sed -n '/^\.It Fl /p' "$BATS_TEST_DIRNAME/../man/$p.1" | sed 's/\\-/-/g' |
			grep -o ' -[a-z][a-z-]*' | sed 's/^ /-/')
		help=$("$p" --help | grep '^  -' | sed 's/^  \(-[a-zA-Z], \)\{0,1\}\(--[a-z-]*\).*/\2/')
		[ "$help" = "$page" ] || fail "$p --help lists:
$help
but its page:
$page"
		! "$p" --help | grep '^  -' | awk 'length > 79' | grep . || fail "$p --help has option lines over 79 columns"
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
	assert_equal "$stderr" "bb-severity: fatal: unable to load config: $BATS_TEST_TMPDIR/bad.conf:1: syntax error: section name without its closing ']'"
}

@test "an unknown [severity] key in the config file is a configuration error" {
	printf '[severity]\nhigh_min_gap = 20\n' >"$BATS_TEST_TMPDIR/typo.conf"
	run --separate-stderr env BB_CONFIG="$BATS_TEST_TMPDIR/typo.conf" bb-severity </dev/null
	[ "$status" -eq 78 ]
	assert_equal "$stderr" "bb-severity: fatal: unable to load config: $BATS_TEST_TMPDIR/typo.conf:2: no such key [severity] high_min_gap (see bb.conf(5))"
}

@test "a misspelt key or section anywhere in the config file stops every program with 78, naming file, line and key" {
	printf '[db]\nurl = sqlite:x.db\n\n[sqs]\nqueue_ur = http://127.0.0.1:1/q\n' >"$BATS_TEST_TMPDIR/typo.conf"
	for p in $PROGS; do
		run --separate-stderr env BB_CONFIG="$BATS_TEST_TMPDIR/typo.conf" "$p" </dev/null
		[ "$status" -eq 78 ] || fail "$p: exit status $status"
		[ "$stderr" = "$p: fatal: unable to load config: $BATS_TEST_TMPDIR/typo.conf:5: no such key [sqs] queue_ur (see bb.conf(5))" ] ||
			fail "$p said: $stderr"
	done
	printf '[database]\nurl = sqlite:x.db\n' >"$BATS_TEST_TMPDIR/section.conf"
	run --separate-stderr env BB_CONFIG="$BATS_TEST_TMPDIR/section.conf" bb-store </dev/null
	[ "$status" -eq 78 ]
	assert_equal "$stderr" "bb-store: fatal: unable to load config: $BATS_TEST_TMPDIR/section.conf:2: no such key [database] url (see bb.conf(5))"
	# every key of the example file is known
	run --separate-stderr env BB_CONFIG="$(cd "$BATS_TEST_DIRNAME/.." && pwd)/examples/bb.conf" bb-validate </dev/null
	[ "$status" -eq 0 ] || fail "examples/bb.conf refused: $stderr"
}

@test "every misspelt key of a config file is named with its own line, then the program exits 78" {
	conf=$BATS_TEST_TMPDIR/typos.conf
	cat >"$conf" <<-EOF
	[db]
	ulr = sqlite:x.db

	[sqs]
	queue_url = http://127.0.0.1:1/q
	dlq = http://127.0.0.1:1/dlq
	[severity]
	high_min_gap = 25
	EOF
	run --separate-stderr env BB_CONFIG="$conf" bb-dedupe </dev/null
	[ "$status" -eq 78 ]
	[ -z "$output" ]
	assert_equal "$stderr" "bb-dedupe: fatal: unable to load config: $conf:2: no such key [db] ulr (see bb.conf(5))
bb-dedupe: fatal: unable to load config: $conf:6: no such key [sqs] dlq (see bb.conf(5))
bb-dedupe: fatal: unable to load config: $conf:8: no such key [severity] high_min_gap (see bb.conf(5))"
}

@test "an unclosed [section is a syntax error at its line, and its keys are not reported as unknown" {
	conf=$BATS_TEST_TMPDIR/section.conf
	cat >"$conf" <<-EOF
	; the thresholds
	[severity
	high_min_gap_pct = 25
	[db]
	url = sqlite:x.db
	EOF
	run --separate-stderr env BB_CONFIG="$conf" bb-severity </dev/null
	[ "$status" -eq 78 ]
	assert_equal "$stderr" "bb-severity: fatal: unable to load config: $conf:2: syntax error: section name without its closing ']'"
}

@test "a config line that is no name = value, a key before any section and an overlong line are each named" {
	conf=$BATS_TEST_TMPDIR/lines.conf
	{
		printf 'url = sqlite:x.db\n[db]\nurl bb.db\n[sqs]\nqueue_url = http://127.0.0.1:1/'
		head -c 200 /dev/zero | tr '\0' q
		printf '\n'
	} >"$conf"
	run --separate-stderr env BB_CONFIG="$conf" bb-sqs-send </dev/null
	[ "$status" -eq 78 ]
	assert_equal "$stderr" "bb-sqs-send: fatal: unable to load config: $conf:1: no such key url before any [section] (see bb.conf(5))
bb-sqs-send: fatal: unable to load config: $conf:3: syntax error: expected name = value
bb-sqs-send: fatal: unable to load config: $conf:5: line longer than 198 bytes"
}

@test "a config file may start with a UTF-8 byte order mark" {
	printf '\xef\xbb\xbf[severity]\nhigh_min_gap_pct = 25\n' >"$BATS_TEST_TMPDIR/bom.conf"
	run --separate-stderr env BB_CONFIG="$BATS_TEST_TMPDIR/bom.conf" bb-severity </dev/null
	assert_success
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

@test "every filter given a full disk as standard output exits 74, saying so" {
	notify "OURS:10.00 A:9.00" >"$BATS_TEST_TMPDIR/one"
	# the SQS programs have theirs in their own suites, against the emulator
	for p in bb-validate bb-severity bb-dedupe bb-store; do
		args=()
		[[ $p != bb-dedupe && $p != bb-store ]] || args=(--db "sqlite:$BATS_TEST_TMPDIR/$p.db")
		run --separate-stderr bash -c '"$@" >/dev/full' _ "$p" "${args[@]}" <"$BATS_TEST_TMPDIR/one"
		[ "$status" -eq 74 ] || fail "$p: exit status $status; stderr: $stderr"
		[[ $stderr == *"$p: fatal: unable to write standard output: No space left on device"* ]] ||
			fail "$p said: $stderr"
	done
}

@test "an empty --db is a configuration error, 78, for every program that takes one" {
	for p in bb-dedupe bb-store; do
		run --separate-stderr "$p" --db '' </dev/null
		[ "$status" -eq 78 ] || fail "$p: exit status $status; stderr: $stderr"
		[ "$stderr" = "$p: fatal: unable to open database '': empty: expected sqlite:PATH, or a PostgreSQL URL or conninfo string" ] ||
			fail "$p said: $stderr"
	done
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
	for p in $PROGS $SCRIPTS; do
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
	for p in $PROGS $SCRIPTS; do
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
	notify "OURS:10.00 A:9.00" | bb-validate 2>/dev/null | jq -c 'del(.notification.offers)' >"$BATS_TEST_TMPDIR/in"
	run bash -c "bb-severity --format text <'$BATS_TEST_TMPDIR/in' 2>/dev/null"
	assert_output "REJECTED B000TEST01 line 1 schema: notification.offers: expected an array"
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

@test "make demo's tables show money with its currency, in major units" {
	cd "$BATS_TEST_DIRNAME/.."
	run env PATH="$BB_BIN:$PATH" BB_DEMO_PORT=$((4592 + ${BB_TEST_PORT_OFFSET:-0})) scripts/demo
	assert_success
	assert_line --regexp '^CRITICAL +B0CRIT0001 +ATVPDKIKX0DER +critical +USD 21\.00 +USD 10\.00 +110\.0 +11 +12 *$'
	assert_line --regexp '^HIGH +B0THIN0003 +ATVPDKIKX0DER +high-thin-margin +USD 9\.49 +USD 9\.79 +-3\.06 +1 +3 *$'
	assert_line --regexp '^WARNING +B0DEUT0008 +A1PA6795UKMFR9 +offer-missing +EUR 4\.60 +3 *$'
	assert_line --regexp '^SUCCESS +B0JPYN0007 +A1VC38T7YXB528 +success-top3 +JPY 3010 +JPY 2980 +1\.01 +2 +4 *$'
	assert_line --partial '"min_viable_price":"USD 11.43"'
}

@test "a raw notification piped past bb-validate is rejected by bb-severity, bb-dedupe and bb-store, naming bb-validate" {
	raw=$(head -n 1 "$BATS_TEST_DIRNAME/../examples/notifications.ndjson")
	db="sqlite:$BATS_TEST_TMPDIR/bb.db"
	for p in "bb-severity" "bb-dedupe --db $db" "bb-store --db $db"; do
		out=$(printf '%s\n' "$raw" | $p 2>/dev/null)
		name=${p%% *}
		jq -e --arg p "$name" '.status == "rejected" and .error.type == "schema" and
		  (.error.message | test("run bb-validate before " + $p + "$"))' <<<"$out" >/dev/null ||
			fail "$name: $(jq -c '{status, error}' <<<"$out")"
	done
	[ "$(sqlite3 "$BATS_TEST_TMPDIR/bb.db" "SELECT error_type || ' ' || stage FROM worker_failures")" = "schema store" ]
}

@test "every message a program can print on stderr is listed in the DIAGNOSTICS of its page" {
	cd "$BATS_TEST_DIRNAME/.."
	run --separate-stderr scripts/check-diagnostics
	[ "$status" -eq 0 ] || fail "$stderr"
	# the extraction finds what it should: a fatal error, a usage error, a
	# log line, a message made in a local buffer, a lib/ message
	run -0 scripts/check-diagnostics --list
	assert_line "bb-store	unable to write batch to '%s': %s (%s)	cmd/bb-store/stages.c:$(grep -n '(%s)", bb_db_name' cmd/bb-store/stages.c | cut -d: -f1)"
	assert_line --regexp "^bb-trend	--week '%s': expected an ISO week such as 2025-W23	"
	assert_line --regexp "^bb-sqs-send	body over SQS's 256 KiB limit: not sent	"
	assert_line --regexp "^bb-validate	line %zu: %s: %s	"
	assert_line --regexp "^bb-autoscale	unable to start %s@%s.service	"
	assert_line --regexp "^bb \(shared\)	unable to load config: %s:%d: %s	lib/conf.c:"
}

@test "a new message that no page lists fails the DIAGNOSTICS check, naming it and its page" {
	tree=$BATS_TEST_TMPDIR/tree
	mkdir "$tree"
	cp -r "$BATS_TEST_DIRNAME"/../{cmd,lib,man,scripts} "$tree"
	cat >>"$tree/cmd/bb-dedupe/main.c" <<-'C'
	static int undocumented(const char *what)
	{
		bb_log(BB_WARN, NULL, "widget wobbling", NULL);
		return bb_fatal(BB_EX_SOFTWARE, "unable to frobnicate '%s': %s", what, "no reason");
	}
	C
	printf 'log warn "no widget here"\n' >>"$tree/scripts/bb-pipeline"
	cd "$tree"
	run --separate-stderr scripts/check-diagnostics
	[ "$status" -eq 1 ]
	assert_equal "$stderr" "man/bb-dedupe.1: DIAGNOSTICS does not list \"widget wobbling\" (cmd/bb-dedupe/main.c:$(($(wc -l <cmd/bb-dedupe/main.c) - 2)))
man/bb-dedupe.1: DIAGNOSTICS does not list \"unable to frobnicate '%s': %s\" (cmd/bb-dedupe/main.c:$(($(wc -l <cmd/bb-dedupe/main.c) - 1)))
man/bb-pipeline.1: DIAGNOSTICS does not list \"no widget here\" (scripts/bb-pipeline:$(wc -l <scripts/bb-pipeline))"
}
