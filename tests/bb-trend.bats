#!/usr/bin/env bats
# bb-trend: the series, patterns, rollup and report of TREND.md on SQLite and
# PostgreSQL. Histories are written straight into the tables by
# tests/trend-gen (one place per case, see tests/fixtures/trend/*.txt), so a
# test states exactly which prices each seller had when.

load helper
load store-helper

BATS_NO_PARALLELIZE_WITHIN_FILE=true
TREND="$BATS_TEST_DIRNAME/fixtures/trend"
NOW=2025-06-09T00:00:00Z

# filled BACKEND FIXTURE: a new database holding the schema and FIXTURE's history.
filled() {
	local url
	url=$(fresh_db "$1") || return 1
	bb-trend prune --db "$url" --keep 3650d >/dev/null 2>&1 || { echo "filled: unable to migrate $url" >&2; return 1; }
	case $url in
	sqlite:*) "$BATS_TEST_DIRNAME/trend-gen" sqlite <"$2" | sqlite3 -bail "${url#sqlite:}" ;;
	*) "$BATS_TEST_DIRNAME/trend-gen" pg <"$2" | psql -X -q -v ON_ERROR_STOP=1 -d "$url" ;;
	esac || { echo "filled: trend-gen failed on $url" >&2; return 1; }
	echo "$url"
}

setup_file() {
	pg_start 55447
	export BB_NOW=$NOW
	# the patterns' findings, found once per backend and read by many tests
	local b url
	for b in sqlite pg; do
		url=$(filled "$b" "$TREND/patterns.txt") || return 1
		bb-trend detect --db "$url" >"$BATS_FILE_TMPDIR/detect.$b" 2>/dev/null || return 1
		echo "$url" >"$BATS_FILE_TMPDIR/patterns.$b"
		filled "$b" "$TREND/rollup.txt" >"$BATS_FILE_TMPDIR/rollup.$b" || return 1
		# the report's week: both fixtures, their findings recorded, W22 and W23 rolled up
		cat "$TREND/patterns.txt" "$TREND/rollup.txt" >"$BATS_FILE_TMPDIR/report.txt"
		url=$(filled "$b" "$BATS_FILE_TMPDIR/report.txt") || return 1
		bb-trend detect --record --db "$url" >/dev/null 2>&1 &&
			bb-trend rollup --db "$url" --week 2025-W22 >/dev/null &&
			bb-trend rollup --db "$url" --week 2025-W23 >/dev/null || return 1
		echo "$url" >"$BATS_FILE_TMPDIR/report.$b"
	done
}

# report_db, patterns_db, rollup_db BACKEND: the URL of the database of the
# report's week, of the patterns, of the rollup cases, made by setup_file.
report_db() {
	cat "$BATS_FILE_TMPDIR/report.$1"
}
patterns_db() {
	cat "$BATS_FILE_TMPDIR/patterns.$1"
}
rollup_db() {
	cat "$BATS_FILE_TMPDIR/rollup.$1"
}

teardown_file() {
	pg_stop
}

setup() {
	export BB_NOW=$NOW
}

teardown() {
	store_teardown
}

# found BACKEND [JQ-FILTER]: the findings' lines "asin kind seller leader count from to".
found() {
	jq -r "select(${2:-true}) | [.asin, .kind, .seller_id // \"-\", .leader_id // \"-\", .count, .from, .to // \"-\"] | join(\" \")" \
		"$BATS_FILE_TMPDIR/detect.$1"
}

# finding BACKEND ASIN KIND JQ: a value of that finding.
finding() {
	jq -c --arg a "$2" --arg k "$3" "select(.asin == \$a and .kind == \$k) | $4" "$BATS_FILE_TMPDIR/detect.$1"
}

@test "each pattern is found once, and no near miss fires" {
	for db in sqlite pg; do
		expect "findings" "$(found $db)" "F1 leader_follower C B 3 2025-06-03T09:15:00.000Z 2025-06-03T13:45:00.000Z
F4 leader_follower C OURS 3 2025-06-03T09:10:00.000Z 2025-06-03T13:30:00.000Z
L1 buy_box_lost - - 2 2025-06-05T09:00:00.000Z 2025-06-05T13:00:00.000Z
L3 buy_box_lost - - 1 2025-06-05T09:00:00.000Z -
O1 opportunity - - 1 2025-06-06T08:00:00.000Z 2025-06-06T08:00:00.000Z
O2 opportunity - - 1 2025-06-06T08:00:00.000Z 2025-06-06T08:00:00.000Z
U1 creeping_undercut A - 3 2025-06-02T11:00:00.000Z 2025-06-02T13:00:00.000Z
W1 price_war - - 4 2025-06-04T00:00:00.000Z 2025-06-04T18:00:00.000Z"
	done
}

@test "both databases give the same bytes" {
	cmp "$BATS_FILE_TMPDIR/detect.sqlite" "$BATS_FILE_TMPDIR/detect.pg"
}

@test "a creeping undercut lists each drop, 60 minutes apart at most" {
	for db in sqlite pg; do
		expect "evidence" "$(finding $db U1 creeping_undercut '[.price_from, .price_to, .total_drop, [.evidence[] | .step]]')" \
			'[2100,2090,10,[3,2,5]]'
		expect "reasons" "$(finding $db U1 creeping_undercut '.reasons[2]')" '"USD 21.00 to USD 20.90 in 2 h"'
	done
}

@test "drops of 6, a 61-minute gap, two steps or a rise inside the run are no creeping undercut" {
	for db in sqlite pg; do
		expect "near misses" "$(found $db '.asin | test("^U[2-5]$")')" ""
	done
}

@test "a follower 15 minutes after its leader is found with each pair; 15 min 1 s is not following" {
	for db in sqlite pg; do
		expect "F1" "$(finding $db F1 leader_follower '[.changes, .ratio, .leader_is_us, [.evidence[] | .leader_at[11:16] + ">" + .follower_at[11:16] + " " + .direction]]')" \
			'[3,100,false,["09:00>09:15 down","11:15>11:30 up","13:30>13:45 down"]]'
		expect "F2" "$(found $db '.asin == "F2"')" ""
	done
}

@test "a follower that moves on its own half the time is below the 60% ratio" {
	for db in sqlite pg; do
		expect "F3" "$(found $db '.asin == "F3"')" ""
	done
}

@test "a competitor that tracks our price is a leader_follower finding whose leader is us" {
	for db in sqlite pg; do
		expect "F4" "$(finding $db F4 leader_follower '[.changes, .ratio, .leader_is_us, .reasons[2]]')" \
			'[4,75,true,"the leader is us: this competitor tracks our price"]'
	done
}

@test "a price war needs a 20% fall within 24 h and three competitors cutting" {
	for db in sqlite pg; do
		expect "W1" "$(finding $db W1 price_war '[.drop_pct, .market_low_from, .market_low_to, .sellers, [.evidence[] | .seller_id]]')" \
			'[20,2000,1600,["A","B","C"],["A","B","C","A"]]'
		expect "W2 (19.99%) and W3 (two sellers)" "$(found $db '.asin == "W2" or .asin == "W3"')" ""
	done
}

@test "the buy box lost for 4 hours is a finding; back after 3 h 59 min is not" {
	for db in sqlite pg; do
		expect "L1" "$(finding $db L1 buy_box_lost '[.lost_for_s, [.evidence[] | .buy_box_seller], .reasons]')" \
			'[14400,["A","A"],["buy box lost to A","won back 4 h later ≥ 4 h"]]'
		expect "L3 ongoing" "$(finding $db L3 buy_box_lost '[.to, .lost_for_s, .reasons[1]]')" \
			'[null,313200,"not won back for 3 d 15 h ≥ 4 h"]'
		expect "L2" "$(found $db '.asin == "L2"')" ""
	done
}

@test "an opportunity's target is the market low less a cent, never below the minimum viable price" {
	for db in sqlite pg; do
		expect "O1" "$(finding $db O1 opportunity '[.our_price, .market_low, .gap_pct, .recommended_price, .gain]')" \
			'[9800,10000,2,9999,199]'
		expect "O2" "$(finding $db O2 opportunity '[.min_viable_price, .recommended_price, .gain]')" '[10100,10100,300]'
		expect "O3 (1.99%)" "$(found $db '.asin == "O3"')" ""
	done
}

@test "detect --record stores each finding once and raises its alert; a rerun adds nothing" {
	for db in sqlite pg; do
		on $db
		url=$(patterns_db $db)
		run -0 --separate-stderr bb-trend detect --record --db "$url"
		expect "findings out" "${#lines[@]}" 8
		expect "stored" "$(q "$url" "SELECT kind, asin, seller_id, leader_id, count FROM trend_findings ORDER BY asin")" \
			"leader_follower|F1|C|B|3
leader_follower|F4|C|OURS|3
buy_box_lost|L1|||2
buy_box_lost|L3|||1
opportunity|O1|||1
opportunity|O2|||1
creeping_undercut|U1|A||3
price_war|W1|||4"
		expect "alerts" "$(q "$url" "SELECT fingerprint, queue_type, severity, status, $(ts "$url" scheduled_delivery)
		                           FROM alert_queues ORDER BY fingerprint")" \
			"F1|ATVPDKIKX0DER|leader_follower|standard|WARNING|queued|2025-06-03T13:45:00.000Z
F4|ATVPDKIKX0DER|leader_follower|standard|WARNING|queued|2025-06-03T13:30:00.000Z
L1|ATVPDKIKX0DER|buy_box_lost|standard|WARNING|queued|2025-06-05T13:00:00.000Z
L3|ATVPDKIKX0DER|buy_box_lost|standard|WARNING|queued|2025-06-05T09:00:00.000Z
O1|ATVPDKIKX0DER|opportunity|background|SUCCESS|queued|
O2|ATVPDKIKX0DER|opportunity|background|SUCCESS|queued|
U1|ATVPDKIKX0DER|creeping_undercut|standard|WARNING|queued|2025-06-02T13:00:00.000Z
W1|ATVPDKIKX0DER|price_war|standard|WARNING|queued|2025-06-04T18:00:00.000Z"
		expect "alert events" "$(count "$url" events "kind = 'alert'")" 8
		before=$(q "$url" "SELECT count(*) FROM trend_findings")/$(count "$url" alert_queues)/$(count "$url" events)
		run -0 --separate-stderr bb-trend detect --record --db "$url"
		expect "rerun" "$(q "$url" "SELECT count(*) FROM trend_findings")/$(count "$url" alert_queues)/$(count "$url" events)" "$before"
	done
}

@test "detect --asin reads one ASIN, --format text writes a line per finding" {
	for db in sqlite pg; do
		url=$(patterns_db $db)
		run -0 --separate-stderr bb-trend detect --db "$url" --asin W1 --format text
		expect "text" "$output" "2025-06-04T00:00:00.000Z  price_war          W1 ATVPDKIKX0DER: market low fell 20.00% (USD 20.00 to USD 16.00) in 18 h ≥ 20.00%; 3 competitors cut their prices ≥ 3: A, B, C"
	done
}

@test "detect --since leaves out what is older" {
	run -0 --separate-stderr bb-trend detect --db "$(patterns_db sqlite)" --since 4d
	expect "kinds" "$(jq -r .asin <<<"$output" | paste -sd' ')" "L1 L3 O1 O2"
}

# rollup_of DBURL ASIN JQ: a value of the ASIN's rollup of 2025-W23.
rollup_of() {
	q "$1" "SELECT payload FROM weekly_rollups WHERE iso_week = '2025-W23' AND asin = '$2'" | jq -c "$3"
}

@test "rollup: TREND.md's example is 35.71% of the week as winner, the state carried in from Sunday" {
	for db in sqlite pg; do
		on $db
		url=$(rollup_db $db)
		run -0 --separate-stderr bb-trend rollup --db "$url" --week 2025-W23
		expect "output" "$output" "2025-W23: 3 rollups"
		expect "R1" "$(rollup_of "$url" R1 '[.partial, .notifications, .buy_box_share_pct, .market_low_min, .market_low_max, .market_low_avg, .our_price_min, .offers_avg, .severity_share.CRITICAL, .severity_share.WARNING]')" \
			'[false,1,35.71,1800,2000,1871,2100,2.64,35.71,64.29]'
		expect "R1 days" "$(rollup_of "$url" R1 '[.daily[] | .buy_box_share_pct] ')" '[100,100,50,0,0,0,0]'
	done
}

@test "rollup: time before the first known state counts in no share; a state 31 days old is not carried in" {
	for db in sqlite pg; do
		url=$(rollup_db $db)
		run -0 --separate-stderr bb-trend rollup --db "$url" --week 2025-W23
		expect "R2" "$(rollup_of "$url" R2 '[.known_ms / 86400000, .buy_box_share_pct, .severity_share.SUCCESS, .severity_share.HIGH, .daily[0].buy_box_share_pct]')" \
			'[6,33.33,33.33,66.67,null]'
		expect "R3" "$(rollup_of "$url" R3 '[.known_ms / 86400000, .notifications, .buy_box_share_pct]')" '[3,1,0]'
	done
}

@test "rollup: a week not over is partial, known until now; re-running it replaces its rows" {
	for db in sqlite pg; do
		url=$(rollup_db $db)
		run -0 --separate-stderr bb-trend rollup --db "$url" --week 2025-W23 --now 2025-06-05T12:00:00Z
		expect "output" "$output" "2025-W23: 2 rollups (partial: the week is not over)"
		expect "R1 partial" "$(rollup_of "$url" R1 '[.partial, .buy_box_share_pct, .known_ms / 3600000]')" '[true,71.43,84]'
		expect "partial column" "$(q "$url" "SELECT count(*) FROM weekly_rollups WHERE partial = $( [ $db = pg ] && echo true || echo 1)")" 2
		run -0 --separate-stderr bb-trend rollup --db "$url"
		expect "default week" "$output" "2025-W23: 3 rollups"
		expect "rows" "$(q "$url" "SELECT asin, notifications FROM weekly_rollups ORDER BY asin")" "R1|1
R2|2
R3|1"
	done
}

@test "rollup: alerts raised and findings per kind come from the week's findings" {
	for db in sqlite pg; do
		url=$(report_db $db)
		expect "U1" "$(rollup_of "$url" U1 '[.alerts_raised, .findings.creeping_undercut, .findings.price_war]')" '[1,1,0]'
		expect "W1" "$(rollup_of "$url" W1 '[.alerts_raised, .findings.price_war]')" '[1,1]'
	done
}

@test "report: the text and Markdown reports of a small week are as written down, on both databases" {
	for db in sqlite pg; do
		run -0 --separate-stderr bb-trend report --db "$(report_db $db)" --week 2025-W23
		expect "text" "$output" "$(cat "$TREND/report.txt.golden")"
		run -0 --separate-stderr bb-trend report --db "$(report_db $db)" --week 2025-W23 --format markdown
		expect "markdown" "$output" "$(cat "$TREND/report.md.golden")"
	done
}

@test "report: the HTML is one well-formed file with an SVG chart per top ASIN, and Chromium renders it" {
	local out=${BB_TEST_ARTIFACTS:-$BATS_TEST_DIRNAME/../build/test-artifacts}
	mkdir -p "$out"
	for db in sqlite pg; do
		run -0 --separate-stderr bb-trend report --db "$(report_db $db)" --format html --output "$BATS_TEST_TMPDIR/r.html"
		expect "stdout" "$output" ""
		run -0 python3 - "$BATS_TEST_TMPDIR/r.html" <<-'EOF'
			import sys, xml.etree.ElementTree as ET
			svg = "{http://www.w3.org/2000/svg}"
			root = ET.parse(sys.argv[1]).getroot()
			print(len(root.findall(".//" + svg + "svg")), len(root.findall(".//" + svg + "polyline")),
			      " ".join(f.text.split()[0] for f in root.iter("figcaption")),
			      len(root.findall(".//script")), len(root.findall(".//link")), len(root.findall(".//img")))
		EOF
		expect "svgs, lines, charted ASINs, no script, link or image" "$output" "9 16 R2 R1 F1 F4 U1 W1 L3 L1 0 0 0"
	done
	cp "$BATS_TEST_TMPDIR/r.html" "$out/bb-trend-report.html"
	rm -f "$out/bb-trend-report.png"
	timeout 60 chromium --headless --no-sandbox --disable-gpu --user-data-dir="$BATS_TEST_TMPDIR/chromium" \
		--window-size=1200,2400 --screenshot="$out/bb-trend-report.png" "file://$out/bb-trend-report.html" 2>/dev/null
	[ "$(head -c 8 "$out/bb-trend-report.png" | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a ] ||
		fail "no PNG screenshot at $out/bb-trend-report.png"
	[ "$(stat -c %s "$out/bb-trend-report.png")" -gt 30000 ] || fail "the screenshot is nearly empty"
}

@test "report: JSON holds the summary, the threats, the findings and every ASIN's rollup" {
	run -0 --separate-stderr bb-trend report --db "$(report_db sqlite)" --format json
	expect "json" "$(jq -c '[.week, .partial, .summary.asins, .summary.buy_box_share_pct, .week_before.asins,
		[.top_threats[].asin], (.price_wars | length), (.creeping_undercuts | length), (.leader_follower | length),
		[.opportunities[].recommended_price], (.asins | length)]' <<<"$output")" \
		'["2025-W23",false,21,18.51,2,["R2","R1","F1","F4","U1","W1","L3","L1"],1,1,2,[9999,10100],21]'
}

@test "report: --output replaces the file whole; a week without data is one line and exit 0" {
	url=$(report_db sqlite)
	echo old >"$BATS_TEST_TMPDIR/r.txt"
	run -0 --separate-stderr bb-trend report --db "$url" --output "$BATS_TEST_TMPDIR/r.txt"
	expect "file" "$(cat "$BATS_TEST_TMPDIR/r.txt")" "$(cat "$TREND/report.txt.golden")"
	expect "no temporary left" "$(ls "$BATS_TEST_TMPDIR" | grep -c tmp)" 0
	run -0 --separate-stderr bb-trend report --db "$url" --week 2025-W10
	expect "no data" "$output" "No data for 2025-W10: no rollups (bb-trend rollup --week 2025-W10 makes them)."
	run -74 --separate-stderr bb-trend report --db "$url" --output /nonexistent/dir/r.txt
	expect_match "error" "$stderr" "^bb-trend: fatal: unable to create '/nonexistent/dir/r.txt.tmp.[A-Za-z0-9]+': No such file or directory$"
}

@test "history: the series with sparklines, as NDJSON and as CSV" {
	for db in sqlite pg; do
		url=$(report_db $db)
		run -0 --separate-stderr bb-trend history W1 --db "$url"
		expect "text" "$(head -n 3 <<<"$output")" "W1 ATVPDKIKX0DER: 6 notifications, 2025-06-04T00:00:00.000Z to 2025-06-05T18:00:00.000Z
  our price   ▄▄▄▄▄▄  USD 30.00
  market low  █▄▃▂▁▁  USD 16.00 to USD 20.00"
		expect "row" "${lines[6]}" "  2025-06-04T04:00:00.000Z  USD 30.00   USD 17.50   B             USD 18.00   A             4    4       STABLE"
		run -0 --separate-stderr bb-trend history L1 --db "$url" --format ndjson
		expect "ndjson" "$(jq -c '[.event_time[11:16], .buy_box_winner, .buy_box_seller, .market_low_seller]' <<<"$output" | paste -sd' ')" \
			'["08:00",true,"OURS","A"] ["09:00",false,"A","A"] ["11:00",false,"A","A"] ["13:00",true,"OURS","A"]'
		run -0 --separate-stderr bb-trend history L1 --db "$url" --format csv --since 1d
		expect "csv" "$output" "event_time,notification_id,asin,marketplace,currency,our_price,market_low,market_low_seller,buy_box_price,buy_box_winner,buy_box_seller,position,total_offers,severity"
		run -0 --separate-stderr bb-trend history L1 --db "$url" --format csv --now 2025-06-05T10:00:00Z --since 1d
		expect "csv rows" "$output" "event_time,notification_id,asin,marketplace,currency,our_price,market_low,market_low_seller,buy_box_price,buy_box_winner,buy_box_seller,position,total_offers,severity
2025-06-05T08:00:00.000Z,n-L1-ATVPDKIKX0DER-0001,L1,ATVPDKIKX0DER,USD,20.50,20.00,A,20.50,true,OURS,2,2,STABLE
2025-06-05T09:00:00.000Z,n-L1-ATVPDKIKX0DER-0002,L1,ATVPDKIKX0DER,USD,20.50,20.00,A,20.00,false,A,2,2,STABLE"
	done
}

@test "prune deletes the history stored more than --keep ago, as bb-store --keep does" {
	for db in sqlite pg; do
		url=$(filled $db "$TREND/rollup.txt") # each row stored at its event time
		run -0 --separate-stderr bb-trend prune --db "$url" --keep 30d
		expect "output" "$output" "pruned 1 notifications older than 2025-05-10T00:00:00.000Z"
		expect "left" "$(q "$url" "SELECT asin FROM competitive_history ORDER BY event_time" | paste -sd' ')" "R1 R2 R1 R2 R3"
		# stored time, not event time: an old event stored lately stays, a recent one stored long ago goes
		url=$(filled $db "$TREND/rollup.txt")
		q "$url" "UPDATE competitive_history SET created_at = '2025-06-08T00:00:00.000Z'
		          WHERE asin = 'R3' AND event_time < '2025-06-01T00:00:00Z'" >/dev/null
		q "$url" "UPDATE competitive_history SET created_at = '2025-05-01T00:00:00.000Z'
		          WHERE asin = 'R2' AND event_time > '2025-06-04T00:00:00Z'" >/dev/null
		run -0 --separate-stderr bb-trend prune --db "$url" --keep 30d
		expect "output, by created_at" "$output" "pruned 1 notifications older than 2025-05-10T00:00:00.000Z"
		expect "left, by created_at" "$(q "$url" "SELECT asin FROM competitive_history ORDER BY event_time" | paste -sd' ')" \
			"R3 R1 R2 R1 R3"
	done
}

@test "usage errors exit 64 and name what is wrong" {
	run -64 --separate-stderr bb-trend
	expect_match "no command" "$stderr" "no command given"
	run -64 --separate-stderr bb-trend frobnicate
	expect_match "unknown" "$stderr" "unknown command 'frobnicate'"
	run -64 --separate-stderr bb-trend history
	expect_match "asin" "$stderr" "history: expected an ASIN"
	run -64 --separate-stderr bb-trend report --week 2025-23
	expect_match "week" "$stderr" "--week '2025-23': expected an ISO week such as 2025-W23"
	run -64 --separate-stderr bb-trend detect --format csv
	expect_match "format" "$stderr" "--format 'csv': not a format of this command"
	run -64 --separate-stderr bb-trend detect --since soon
	expect_match "since" "$stderr" "--since 'soon': expected a duration such as 30s, 5m, 24h or 7d"
	run -64 --separate-stderr bb-trend rollup 2025-W23
	expect_match "operand" "$stderr" "rollup: unexpected argument '2025-W23'"
	BB_TREND_WAR_DROP_PCT=abc run -78 --separate-stderr bb-trend detect --db "sqlite:$BATS_TEST_TMPDIR/x.db"
	expect "config" "$stderr" "bb-trend: fatal: unable to use [trend] war_drop_pct 'abc': expected a percentage with at most two decimals"
	run -0 bb-trend --help
	expect "help ends" "${lines[-1]}" "See bb-trend(1)."
}

@test "bb-trend(1): every example runs as the page writes it" {
	cd "$BATS_TEST_TMPDIR"
	export BB_DB=$(report_db sqlite)
	run -0 --separate-stderr bash -c 'bb-trend history W1 --since 7d | head -n 3'
	expect "history" "$output" "W1 ATVPDKIKX0DER: 6 notifications, 2025-06-04T00:00:00.000Z to 2025-06-05T18:00:00.000Z
  our price   ▄▄▄▄▄▄  USD 30.00
  market low  █▄▃▂▁▁  USD 16.00 to USD 20.00"
	run -0 --separate-stderr bash -c "bb-trend detect --since 7d --record --format text | awk '{ print \$2 }' | sort | uniq -c"
	expect "detect" "$output" "      3 buy_box_lost
      1 creeping_undercut
      2 leader_follower
      2 opportunity
      1 price_war"
	run -0 --separate-stderr bash <<-'EOF'
		bb-trend detect | jq -r 'select(.kind == "price_war") |
		    "\(.asin) \(.drop_pct)% \(.sellers | join(","))"'
	EOF
	expect "price wars" "$output" "W1 20% A,B,C"
	run -0 --separate-stderr bash <<-'EOF'
		bb-trend rollup --week 2025-W23
		bb-trend report --week 2025-W23 --format html --output week.html
		bb-trend report --week 2025-W23 --format markdown | sed -n '1p'
	EOF
	expect "rollup and report" "$output" "2025-W23: 21 rollups
# bb weekly competitive intelligence: 2025-W23"
	expect_match "html" "$(head -c 200 week.html)" "^<!DOCTYPE html>"
}

@test "systemd: the weekly timer runs Monday 06:00, catches up, and its service is hardened (exposure <= 2.0)" {
	local unit="$BATS_TEST_DIRNAME/../systemd/bb-trend-weekly"
	expect "timer" "$(grep -E '^(OnCalendar|Persistent|Unit)=' "$unit.timer")" "OnCalendar=Mon *-*-* 06:00:00
Persistent=true
Unit=bb-trend-weekly.service"
	run -0 systemd-analyze security --offline=yes "$unit.service"
	exposure=$(sed -n 's/.*Overall exposure level for bb-trend-weekly.service: \([0-9.]*\).*/\1/p' <<<"$output")
	awk -v e="$exposure" 'BEGIN { exit !(e != "" && e <= 2.0) }' || fail "exposure '$exposure' > 2.0"
}

@test "systemd: the service's script writes the week's three reports and mails the text" {
	# its ExecStart as the shell gets it: systemd's $$ and %% unescaped, /usr/bin the build's
	script=$(sed -n '/^ExecStart=/,/fi.$/p' "$BATS_TEST_DIRNAME/../systemd/bb-trend-weekly.service" |
		sed -e 's/^ExecStart=//' -e 's/\\$//' | tr -d '\n' | sed -e 's/\$\$/$/g' -e 's/%%/%/g' -e "s|/usr/bin/|$BB_BIN/|g")
	cd "$BATS_TEST_TMPDIR"
	mkdir reports
	week=$(date -u -d "7 days ago" +%G-W%V)
	BB_DB=sqlite:weekly.db BB_NOW= BB_REPORT_MAIL="cat > mailed.txt" run -0 --separate-stderr bash -c "$script"
	expect "files" "$(ls reports | paste -sd' ')" "$week.html $week.md $week.txt"
	expect "mailed" "$(cat mailed.txt)" "No data for $week: no rollups (bb-trend rollup --week $week makes them)."
}
