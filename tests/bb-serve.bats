#!/usr/bin/env bats
# bb-serve: the HTTP API, the SSE stream and the dashboard, with curl and a
# headless chromium, on SQLite and PostgreSQL. Data is stored the way
# production stores it: the pipeline (bb-dedupe | bb-store).

load services-helper

T0=2025-06-01T12:00:00.000Z

setup_file() {
	services_start 55448 4593
}

teardown_file() {
	services_stop
}

setup() {
	export BB_NOW=2025-06-01T12:10:00Z
	BG_PIDS=()
	echo 's3cret-token' >"$BATS_TEST_TMPDIR/token"
}

teardown() {
	[ -z "${SRV_PID:-}" ] || kill "$SRV_PID" 2>/dev/null || true
	store_teardown
}

# serve DBURL [OPTIONS]: start bb-serve on this test's port; SRV is its URL.
serve() {
	local url=$1 port=$((18448 + ${BB_TEST_PORT_OFFSET:-0} + BATS_TEST_NUMBER * 3 + ${SRV_N:-0}))
	shift
	SRV_N=$((${SRV_N:-0} + 1))
	SRV_LOG=$BATS_TEST_TMPDIR/serve.log
	: >"$SRV_LOG"
	bb-serve --db "$url" --listen "127.0.0.1:$port" "$@" 2>>"$SRV_LOG" &
	SRV_PID=$!
	SRV=http://127.0.0.1:$port
	for _ in $(seq 100); do
		grep -q 'msg=listening' "$SRV_LOG" && return 0
		kill -0 "$SRV_PID" 2>/dev/null || break
		sleep 0.05
	done
	cat "$SRV_LOG" >&2
	return 1
}

# unserve: SIGTERM, and bb-serve's exit status must be 0.
unserve() {
	kill -TERM "$SRV_PID"
	wait "$SRV_PID"
	local rc=$?
	SRV_PID=
	return $rc
}

# seed DBURL: one ASIN of each severity (B00SEV0001 CRITICAL … B00SEV0005
# STABLE), stored through the pipeline.
seed() {
	{
		rec CRITICAL "$T0" n-1 B00SEV0001
		rec HIGH "$T0" n-2 B00SEV0002
		rec WARNING "$T0" n-3 B00SEV0003
		rec SUCCESS "$T0" n-4 B00SEV0004
		rec STABLE "$T0" n-5 B00SEV0005
	} | dedupe_store "$1" >/dev/null
}

# http METHOD PATH [curl args]: "STATUS BODY".
http() {
	local method=$1 path=$2
	shift 2
	curl -s -o "$BATS_TEST_TMPDIR/body" -w '%{http_code}' -X "$method" "$@" "$SRV$path"
	printf ' %s' "$(cat "$BATS_TEST_TMPDIR/body")"
}

# ack BODY [TOKEN]: POST the acknowledge.
ack() {
	http POST /api/notifications/acknowledge -H "Authorization: Bearer ${2:-s3cret-token}" \
		-H 'Content-Type: application/json' -d "$1"
}

# stream_ids FILE: the ids of the events a stream carried whole (up to
# the blank line that ends one), one per line.
stream_ids() {
	awk '/^id: / { id = substr($0, 5) } /^$/ && id != "" { print id; id = "" }' "$1"
}

# wait_id FILE ID: until FILE's stream carried ID (5 s at most).
wait_id() {
	for _ in $(seq 100); do
		stream_ids "$1" | grep -qx "$2" && return 0
		sleep 0.05
	done
	echo "no event $2 in $1 after 5 s" >&2
	return 1
}

# ---- the server ----

@test "--help lists every option, one line each, and names the page" {
	run -0 bb-serve --help
	for o in --listen --db --token-file --max-connections --timeout --heartbeat; do
		assert_line --partial "  $o "
	done
	assert_line "See bb-serve(1)."
}

@test "usage and configuration errors: 64 for a bad option, 78 for a bad key, an unreadable token file or a bad address" {
	run -64 bb-serve --bogus
	run -64 bb-serve --timeout 0s
	assert_line --index 0 "bb-serve: --timeout '0s': expected a duration such as 30s, 5m or 24h"
	BB_SERVE_MAX_CONNECTIONS=0 run -78 bb-serve --db "sqlite:$BATS_TEST_TMPDIR/a.db"
	assert_output "bb-serve: fatal: unable to use [serve] max_connections '0': expected a whole number from 1 to 65536"
	run -78 bb-serve --db "sqlite:$BATS_TEST_TMPDIR/a.db" --token-file /nonexistent/token
	assert_output --partial "bb-serve: fatal: unable to read token file '/nonexistent/token': No such file or directory"
	run -78 bb-serve --db "sqlite:$BATS_TEST_TMPDIR/a.db" --listen nowhere
	assert_output --partial "expected ADDRESS:PORT"
}

@test "an address already in use is a temporary failure (75)" {
	serve "sqlite:$BATS_TEST_TMPDIR/a.db"
	run -75 bb-serve --db "sqlite:$BATS_TEST_TMPDIR/a.db" --listen "${SRV#http://}"
	assert_output --partial "bb-serve: fatal: unable to listen on '${SRV#http://}'"
}

@test "unknown routes are 404, wrong methods 405 with Allow, a path outside the assets 404: all in JSON" {
	serve "sqlite:$BATS_TEST_TMPDIR/a.db"
	run -0 http GET /nope
	assert_output '404 {"error":"no such route","status":404}'
	run -0 http GET /assets/../../etc/passwd --path-as-is
	assert_output --regexp '^404 '
	run -0 http GET /assets/secret.txt
	assert_output '404 {"error":"no such asset","status":404}'
	run -0 http DELETE /api/notifications/prioritized
	assert_output '405 {"error":"method not allowed: use GET","status":405}'
	run -0 http GET /api/notifications/acknowledge
	assert_output '405 {"error":"method not allowed: use POST","status":405}'
	run -0 curl -si -X PUT "$SRV/metrics"
	assert_line --partial 'Allow: GET, HEAD'
}

@test "GET / serves the dashboard with a strict Content-Security-Policy and nothing from outside" {
	serve "sqlite:$BATS_TEST_TMPDIR/a.db"
	run -0 curl -si "$SRV/"
	assert_line --partial "Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'"
	assert_line --partial 'Content-Type: text/html; charset=utf-8'
	assert_output --partial '<script src="/assets/app.js" defer></script>'
	refute_output --regexp 'https?://[^"]*"'
	run -0 curl -s "$SRV/assets/app.js"
	refute_output --regexp "fetch\\('https?:|src=\"https?:|innerHTML"
	run -0 curl -s -o /dev/null -w '%{http_code} %{content_type}' "$SRV/assets/app.css"
	assert_output '200 text/css; charset=utf-8'
}

@test "SIGTERM ends an open stream and bb-serve exits 0; one log line per request, never the token" {
	serve "sqlite:$BATS_TEST_TMPDIR/a.db" --token-file "$BATS_TEST_TMPDIR/token"
	curl -sN "$SRV/api/notifications/stream" >"$BATS_TEST_TMPDIR/s.out" &
	local curl_pid=$!
	ack '{"id":"0000000000","action":"ack"}' >/dev/null
	sleep 0.2
	unserve
	run -0 timeout 5 tail --pid "$curl_pid" -f /dev/null # the stream ended with the server
	run -0 grep -c 'msg=request' "$SRV_LOG"
	assert_output 2
	run -0 grep 'msg=request method=POST path=/api/notifications/acknowledge status=404' "$SRV_LOG"
	run -0 grep 'msg=request method=GET path=/api/notifications/stream status=200' "$SRV_LOG"
	assert_output --partial 'end=shutdown'
	run -1 grep -r 's3cret' "$SRV_LOG"
}

# ---- prioritized ----

@test "prioritized: most threatened first, with prices in major units, its alert, and an opaque cursor, on both databases" {
	for kind in sqlite pg; do
		db=$(migrated_db $kind)
		seed "$db"
		serve "$db"
		run -0 curl -sf "$SRV/api/notifications/prioritized?limit=2"
		first=$output
		run -0 jq -c '[.items[] | [.asin, .severity, .our_price_text, .market_low_text, .gap_pct, .position, .buy_box_winner, .alert.status]], .counts' <<<"$first"
		assert_output - <<'EOF'
[["B00SEV0001","CRITICAL","USD 16.00","USD 10.00",60,6,false,"queued"],["B00SEV0002","HIGH","USD 13.00","USD 10.00",30,5,false,"queued"]]
{"CRITICAL":1,"HIGH":1,"WARNING":1,"SUCCESS":1,"STABLE":1}
EOF
		run -0 jq -r '.items[0].reasons[0]' <<<"$first"
		assert_output 'offers 10 ≥ 10'
		next=$(jq -r .next <<<"$first")
		run -0 curl -sf "$SRV/api/notifications/prioritized?limit=2&since=$next"
		run -0 jq -c '[.items[].asin], .counts' <<<"$output"
		assert_output - <<'EOF'
["B00SEV0003","B00SEV0004"]
null
EOF
		run -0 curl -sf "$SRV/api/notifications/prioritized?severity=stable,success"
		run -0 jq -c '[.items[].asin], .next' <<<"$output"
		assert_output $'["B00SEV0004","B00SEV0005"]\nnull'
		unserve
	done
}

# counts_seen N: the distinct counts of N first pages, each on a connection
# of its own (so on every thread of the server, each with its own counts).
counts_seen() {
	for _ in $(seq "$1"); do curl -sf "$SRV/api/notifications/prioritized?limit=1" | jq -c .counts; done | sort -u
}

@test "prioritized: the counts are kept only until another writer commits, on both databases" {
	for kind in sqlite pg; do
		db=$(migrated_db $kind)
		seed "$db"
		serve "$db"
		run -0 counts_seen 6
		assert_output '{"CRITICAL":1,"HIGH":1,"WARNING":1,"SUCCESS":1,"STABLE":1}'
		rec CRITICAL "$T0" n-6 B00SEV0006 | dedupe_store "$db" >/dev/null
		run -0 counts_seen 6
		assert_output '{"CRITICAL":2,"HIGH":1,"WARNING":1,"SUCCESS":1,"STABLE":1}'
		q "$db" "DELETE FROM current_state WHERE asin = 'B00SEV0005'" >/dev/null
		run -0 counts_seen 6
		assert_output '{"CRITICAL":2,"HIGH":1,"WARNING":1,"SUCCESS":1,"STABLE":0}'
		unserve
	done
}

@test "prioritized: a bad cursor, limit or severity is 400" {
	serve "sqlite:$BATS_TEST_TMPDIR/a.db"
	run -0 http GET '/api/notifications/prioritized?since=bm90LWEtY3Vyc29y'
	assert_output '400 {"error":"since: not a cursor this server gave","status":400}'
	run -0 http GET '/api/notifications/prioritized?limit=0'
	assert_output '400 {"error":"limit: expected 1 to 1000","status":400}'
	run -0 http GET '/api/notifications/prioritized?severity=URGENT'
	assert_output --regexp '^400 .*severity: expected CRITICAL'
}

# ---- acknowledge ----

@test "acknowledge: 401 without a token, 403 with a wrong one, 413 over 64 KiB, 400 bad JSON, 404 unknown, 409 resolved" {
	db=$(migrated_db sqlite)
	seed "$db"
	serve "$db" --token-file "$BATS_TEST_TMPDIR/token"
	fp='B00SEV0001|ATVPDKIKX0DER|critical'
	run -0 http POST /api/notifications/acknowledge -d "{\"fingerprint\":\"$fp\",\"action\":\"ack\"}"
	assert_output '401 {"error":"no token: send Authorization: Bearer TOKEN","status":401}'
	run -0 ack "{\"fingerprint\":\"$fp\",\"action\":\"ack\"}" wrong-token
	assert_output '403 {"error":"wrong token","status":403}'
	head -c 70000 /dev/zero | tr '\0' ' ' >"$BATS_TEST_TMPDIR/big"
	run -0 http POST /api/notifications/acknowledge -H 'Authorization: Bearer s3cret-token' --data-binary "@$BATS_TEST_TMPDIR/big"
	assert_output '413 {"error":"request body too large: at most 65536 bytes","status":413}'
	run -0 ack 'not json'
	assert_output --regexp '^400 .*expected a JSON object'
	run -0 ack "{\"fingerprint\":\"$fp\",\"action\":\"dance\"}"
	assert_output '400 {"error":"action: expected ack, snooze or resolve","status":400}'
	run -0 ack '{"id":"01234567-nope","action":"ack"}'
	assert_output '404 {"error":"no such alert","status":404}'
	run -0 ack "{\"fingerprint\":\"$fp\",\"action\":\"resolve\"}"
	assert_output --regexp '^200 .*"from":"queued","to":"resolved"'
	run -0 ack "{\"fingerprint\":\"$fp\",\"action\":\"ack\"}"
	assert_output '409 {"error":"invalid transition: the alert is resolved","status":409}'
	run -0 q "$db" "SELECT status FROM alert_queues WHERE fingerprint = '$fp'"
	assert_output resolved
}

@test "acknowledge without a configured token is refused (403)" {
	serve "sqlite:$BATS_TEST_TMPDIR/a.db"
	run -0 ack '{"id":"x","action":"ack"}'
	assert_output '403 {"error":"acknowledge is disabled: no [serve] token_file","status":403}'
}

@test "acknowledge moves the alert as bb-alert does, with its event, on both databases" {
	for kind in sqlite pg; do
		db=$(migrated_db $kind)
		seed "$db"
		serve "$db" --token-file "$BATS_TEST_TMPDIR/token"
		id=$(q "$db" "SELECT id FROM alert_queues WHERE asin = 'B00SEV0002'")
		run -0 ack "{\"id\":\"$id\",\"action\":\"snooze\",\"for\":\"1h\",\"by\":\"alice\",\"note\":\"on it\"}"
		assert_output --regexp "^200 \\{\"id\":\"$id\",\"action\":\"snooze\",\"from\":\"queued\",\"to\":\"snoozed\",\"event_id\":[0-9]+\\}"
		run -0 q "$db" "SELECT status, $(ts "$db" snooze_until) FROM alert_queues WHERE id = '$id'"
		assert_output 'snoozed|2025-06-01T13:10:00.000Z'
		run -0 bb-alert show --db "$db" "$id"
		assert_output --regexp 'snooze +queued -> snoozed by alice: on it'
		unserve
	done
}

# ---- worker status, health, trends, metrics ----

@test "worker-status is bb-status's document, the queue's figures from SQS included, on both databases" {
	sqs_require
	fresh_queues status
	printf '{"n":%d}\n' 1 2 3 | bb-sqs-send --queue-url "$Q" >/dev/null 2>&1
	for kind in sqlite pg; do
		db=$(migrated_db $kind)
		seed "$db"
		BB_SQS_QUEUE_URL=$Q BB_SQS_DLQ_URL=$DLQ serve "$db"
		run -0 curl -sf "$SRV/api/worker-status"
		served=$output
		run -0 jq -c '[.overall_health, .ingestion.queue_depth, .ingestion.dlq_count, .queue.url, (.workers | length), .workers[0].stage]' <<<"$served"
		assert_output "[\"healthy\",3,0,\"$Q\",1,\"store\"]"
		run -0 env BB_SQS_QUEUE_URL="$Q" BB_SQS_DLQ_URL="$DLQ" bb-status --db "$db" --format json
		expect "bb-serve's document is bb-status's" "$(jq -S 'del(.checked_at)' <<<"$served")" "$(jq -S 'del(.checked_at)' <<<"$output")"
		unserve
	done
}

@test "health: 200 healthy or degraded, 503 critical, with the failed checks; a collection serves [serve] status_cache" {
	db=$(migrated_db sqlite)
	seed "$db"
	BB_SERVE_STATUS_CACHE=500ms serve "$db"
	run -0 http GET /api/health
	assert_output '200 {"overall_health":"healthy","checked_at":"2025-06-01T12:10:00.000Z","checks":[]}'
	q "$db" "INSERT INTO worker_failures (id, message_id, status, error_type, raw_message, failure_count, first_failed,
	         last_failed) VALUES ('f-1', 'm-1', 'rejected', 'schema', '{}', 1, '$T0', '$T0')"
	run -0 http GET /api/health
	assert_output --partial '"overall_health":"healthy"' # the same collection
	sleep 0.6
	run -0 http GET /api/health
	assert_output '200 {"overall_health":"degraded","checked_at":"2025-06-01T12:10:00.000Z","checks":[{"name":"dlq_growth","level":"degraded","message":"1 of 6 processed (16.6666%) dead-lettered over 24h, over 0.0500%"}]}'
	q "$db" "DROP TABLE worker_failures"
	sleep 0.6
	run -0 http GET /api/health
	assert_output --regexp '^503 \{"overall_health":"critical",.*"name":"database","level":"critical","message":"unable to read database'
	run -0 http GET /api/worker-status
	assert_output --regexp '^200 \{"ingestion":.*"overall_health":"critical"'
}

@test "trends: bb-trend history's series, oldest first, on both databases" {
	for kind in sqlite pg; do
		db=$(migrated_db $kind)
		{
			rec HIGH 2025-06-01T11:00:00.000Z t-1 B00TREND01
			rec CRITICAL 2025-06-01T11:30:00.000Z t-2 B00TREND01
			rec STABLE 2025-05-01T11:30:00.000Z t-3 B00TREND01
		} | dedupe_store "$db" >/dev/null
		serve "$db"
		run -0 curl -sf "$SRV/api/competitive-intelligence/trends/B00TREND01?since=7d"
		assert_output '{"asin":"B00TREND01","marketplace":"ATVPDKIKX0DER","currency":"USD","since":"2025-05-25T12:10:00.000Z","points":[{"t":"2025-06-01T11:00:00.000Z","our_price":1300,"market_low":1000,"market_low_seller":"A","buy_box_price":null,"buy_box_winner":false,"buy_box_seller":null,"position":5,"total_offers":5,"severity":"HIGH"},{"t":"2025-06-01T11:30:00.000Z","our_price":1600,"market_low":1000,"market_low_seller":"A","buy_box_price":null,"buy_box_winner":false,"buy_box_seller":null,"position":6,"total_offers":10,"severity":"CRITICAL"}]}'
		run -0 bb-trend history B00TREND01 --db "$db" --since 7d --format ndjson
		expect "the points are bb-trend history's" \
			"$(curl -sf "$SRV/api/competitive-intelligence/trends/B00TREND01?since=7d" | jq -c '.points[] | del(.t)')" \
			"$(jq -c 'del(.event_time, .notification_id, .asin, .marketplace, .currency)' <<<"$output")"
		run -0 curl -sf "$SRV/api/competitive-intelligence/trends/B00TREND01?since=2025-01-01T00:00:00Z&marketplace=ATVPDKIKX0DER"
		run -0 jq -c '[.points[].t]' <<<"$output"
		assert_output '["2025-05-01T11:30:00.000Z","2025-06-01T11:00:00.000Z","2025-06-01T11:30:00.000Z"]'
		run -0 curl -sf "$SRV/api/competitive-intelligence/trends/B00TREND01?marketplace=A1PA6795UKMFR9"
		assert_output '{"asin":"B00TREND01","marketplace":"A1PA6795UKMFR9","currency":null,"since":"2025-05-25T12:10:00.000Z","points":[]}'
		run -0 http GET '/api/competitive-intelligence/trends/B00TREND01?since=soon'
		assert_output --regexp '^400 '
		unserve
	done
}

@test "metrics: requests by route and status, SSE clients, the commit-to-send histogram, bb-status's gauges" {
	db=$(migrated_db sqlite)
	BB_SERVE_STATUS_CACHE=0 serve "$db"
	curl -s "$SRV/nope" >/dev/null
	curl -s "$SRV/api/health" >/dev/null
	curl -sN "$SRV/api/notifications/stream" >"$BATS_TEST_TMPDIR/s.out" &
	BG_PIDS+=($!)
	sleep 0.2
	rec CRITICAL "$T0" n-1 B00SEV0001 | dedupe_store "$db" >/dev/null
	wait_id "$BATS_TEST_TMPDIR/s.out" 2
	run -0 curl -sf "$SRV/metrics"
	assert_line 'bb_serve_requests_total{route="other",status="404"} 1'
	assert_line 'bb_serve_requests_total{route="/api/health",status="503"} 1'
	assert_line 'bb_serve_sse_clients 1'
	assert_line 'sse_stream_gap_seconds_count 2'
	assert_line 'bb_overall_health 0'
	assert_line 'bb_last_event_id 2'
	metrics=$output
	run -0 bb-status --db "$db" --format prom
	expect "bb-status's gauges, each in /metrics" "$(grep -vxFf <(cat <<<"$metrics") <<<"$output")" ""
}

# ---- the stream ----

@test "stream: headers, retry, and a comment on an idle stream" {
	serve "sqlite:$BATS_TEST_TMPDIR/a.db" --heartbeat 300ms
	run curl -sN -D "$BATS_TEST_TMPDIR/h" --max-time 1 "$SRV/api/notifications/stream"
	assert_line --index 0 'retry: 3000'
	assert_line ':'
	run -0 tr -d '\r' <"$BATS_TEST_TMPDIR/h"
	assert_line 'Content-Type: text/event-stream'
	assert_line 'Cache-Control: no-store'
	assert_line 'X-Accel-Buffering: no'
}

@test "stream: ?severity and ?asin hold, and a bad Last-Event-ID is 400" {
	db=$(migrated_db sqlite)
	seed "$db"
	serve "$db"
	run curl -sN --max-time 0.6 "$SRV/api/notifications/stream?since=0&severity=critical,HIGH"
	run -0 grep -c '^data: ' <<<"$output"
	assert_output 4 # a state and an alert each
	run curl -sN --max-time 0.6 "$SRV/api/notifications/stream?since=0&severity=CRITICAL"
	run -0 sed -n 's/^event: //p' <<<"$output"
	assert_output $'state\nalert'
	run curl -sN --max-time 0.6 "$SRV/api/notifications/stream?since=0&asin=B00SEV0004,B00SEV0005"
	run -0 sed -n 's/^data: .*"asin":"\([^"]*\)","marketplace".*/\1/p' <<<"$output"
	assert_output $'B00SEV0004\nB00SEV0005'
	run -0 http GET /api/notifications/stream -H 'Last-Event-ID: seven'
	assert_output '400 {"error":"Last-Event-ID or since: expected an event id","status":400}'
}

# stream_resume DBURL: a client reads while the pipeline writes, is cut off
# after its 10th event, resumes with Last-Event-ID: every event exactly once, in order.
stream_resume() {
	local db=$1 start a=$BATS_TEST_TMPDIR/a.out b=$BATS_TEST_TMPDIR/b.out
	serve "$db"
	start=$(q "$db" "SELECT COALESCE(max(id), 0) FROM events")
	curl -sN "$SRV/api/notifications/stream?since=$start" >"$a" &
	local ca=$!
	{ for i in 0 1 2 3; do gen 15 6 $((i * 15)) | dedupe_store "$db" >/dev/null; sleep 0.1; done; } &
	local writer=$!
	until [ "$(stream_ids "$a" | wc -l)" -ge 10 ]; do sleep 0.02; done
	kill "$ca"
	wait "$ca" || true
	last=$(stream_ids "$a" | tail -n 1)
	curl -sN -H "Last-Event-ID: $last" "$SRV/api/notifications/stream" >"$b" &
	BG_PIDS+=($!)
	wait "$writer"
	wait_id "$b" "$(q "$db" "SELECT max(id) FROM events")"
	q "$db" "SELECT id FROM events WHERE id > $start ORDER BY id" >"$BATS_TEST_TMPDIR/want"
	{ stream_ids "$a"; stream_ids "$b"; } >"$BATS_TEST_TMPDIR/got"
	run -0 diff "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/want")" -ge 60 ]
	unserve
}

@test "stream on SQLite: events committed while a client listens arrive in order; a resume gets the rest exactly once" {
	stream_resume "$(migrated_db sqlite)"
}

@test "stream on PostgreSQL: events committed while a client listens arrive in order; a resume gets the rest exactly once" {
	stream_resume "$(migrated_db pg)"
}

@test "stream on PostgreSQL: the feed waits out the database stopping, warned once, and a client's stream goes on after with nothing missed" {
	db=$(migrated_db pg)
	out=$BATS_TEST_TMPDIR/s.out
	serve "$db"
	start=$(q "$db" "SELECT COALESCE(max(id), 0) FROM events")
	curl -sN "$SRV/api/notifications/stream?since=$start" >"$out" &
	BG_PIDS+=($!)
	gen 3 2 0 | dedupe_store "$db" >/dev/null
	wait_id "$out" "$(q "$db" "SELECT max(id) FROM events")"
	"$PG_LOCAL" stop "$PG_DIR"
	for _ in $(seq 50); do grep -q 'database unavailable: retrying' "$SRV_LOG" && break; sleep 0.1; done
	sleep 3 # reconnecting every second meanwhile: still one warning
	"$PG_LOCAL" start "$PG_DIR" "$PG_PORT" >/dev/null
	assert_equal "$(grep -c 'database unavailable: retrying' "$SRV_LOG")" 1
	for _ in $(seq 100); do grep -q 'database available again' "$SRV_LOG" && break; sleep 0.1; done
	grep -q 'database available again' "$SRV_LOG" || { cat "$SRV_LOG"; fail "not told the database is back within 10 s"; }
	gen 3 2 10 | dedupe_store "$db" >/dev/null
	wait_id "$out" "$(q "$db" "SELECT max(id) FROM events")"
	q "$db" "SELECT id FROM events WHERE id > $start ORDER BY id" >"$BATS_TEST_TMPDIR/want"
	stream_ids "$out" >"$BATS_TEST_TMPDIR/got"
	run -0 diff "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
	unserve
}

@test "stream on PostgreSQL: an id that commits after a later one is still sent first" {
	db=$(migrated_db pg)
	serve "$db"
	curl -sN "$SRV/api/notifications/stream?since=0" >"$BATS_TEST_TMPDIR/s.out" &
	BG_PIDS+=($!)
	ins="WITH e AS (INSERT INTO events (kind, asin, marketplace, payload, created_at) VALUES ('state', 'B0SLOW', 'M', '{}', now()) RETURNING id) SELECT pg_notify('bb_events', id::text) FROM e"
	psql -X -q -d "$db" -c "BEGIN" -c "$ins" -c "SELECT pg_sleep(0.7)" -c "COMMIT" >/dev/null &
	local slow=$!
	sleep 0.2
	psql -X -q -d "$db" -c "${ins//B0SLOW/B0FAST}" >/dev/null
	wait "$slow"
	wait_id "$BATS_TEST_TMPDIR/s.out" 2
	run -0 stream_ids "$BATS_TEST_TMPDIR/s.out"
	assert_output $'1\n2'
}

@test "stream on PostgreSQL: an id still in flight when bb-serve starts reaches a client resuming before it, and one starting at the newest gets only what follows" {
	db=$(migrated_db pg)
	ins="WITH e AS (INSERT INTO events (kind, asin, marketplace, payload, created_at) VALUES ('state', 'B0FAST', 'M', '{}', now()) RETURNING id) SELECT pg_notify('bb_events', id::text) FROM e"
	psql -X -q -d "$db" -c "$ins" >/dev/null
	# id 2 taken, committed 1.5 s later; id 3 committed at once; then bb-serve starts
	psql -X -q -d "$db" -c "BEGIN" -c "${ins//B0FAST/B0SLOW}" -c "SELECT pg_sleep(1.5)" -c "COMMIT" >/dev/null &
	local slow=$!
	until [ "$(q "$db" "SELECT last_value FROM events_id_seq")" = 2 ]; do sleep 0.02; done
	psql -X -q -d "$db" -c "$ins" >/dev/null
	serve "$db"
	curl -sN -H 'Last-Event-ID: 1' "$SRV/api/notifications/stream" >"$BATS_TEST_TMPDIR/resumed.out" &
	BG_PIDS+=($!)
	curl -sN "$SRV/api/notifications/stream" >"$BATS_TEST_TMPDIR/newest.out" &
	BG_PIDS+=($!)
	wait "$slow"
	psql -X -q -d "$db" -c "$ins" >/dev/null
	wait_id "$BATS_TEST_TMPDIR/resumed.out" 4
	wait_id "$BATS_TEST_TMPDIR/newest.out" 4
	run -0 stream_ids "$BATS_TEST_TMPDIR/resumed.out"
	assert_output $'2\n3\n4'
	run -0 stream_ids "$BATS_TEST_TMPDIR/newest.out"
	assert_output 4
}

# ---- the dashboard in a browser ----

@test "dashboard in chromium: seeded ASINs in their tabs, a stored change within 1 s, acknowledge through the page" {
	db=$(migrated_db sqlite)
	seed "$db"
	serve "$db" --token-file "$BATS_TEST_TMPDIR/token"
	out=$BB_BIN/../test-output/bb-serve
	{
		declare -f rec notify with_offers_count event_at with_id with_asin analysed dedupe_store LOG
		declare -p OFFERS_CRITICAL
		echo "BATS_TEST_TMPDIR='$BATS_TEST_TMPDIR'"
		echo "rec CRITICAL 2025-06-01T12:05:00.000Z n-9 B00SEV0005 | dedupe_store '$db' >/dev/null"
	} >"$BATS_TEST_TMPDIR/change"
	"$BATS_TEST_DIRNAME/../scripts/browser-local" install 2>&1 # npm's words stay out of the output checked
	run -0 env BB_URL="$SRV" BB_TOKEN=s3cret-token BB_OUT="$out" BB_CHANGE_ASIN=B00SEV0005 BB_CHANGE_TO=CRITICAL \
		BB_ACK_ASIN=B00SEV0001 BB_SNOOZE_ASIN=B00SEV0002 BB_STORE_CMD="bash $BATS_TEST_TMPDIR/change" \
		"$BATS_TEST_DIRNAME/../scripts/browser-local" run "$BATS_TEST_DIRNAME/browser/dashboard.mjs"
	assert_output - <<'EOF'
live live
tab CRITICAL 1: B00SEV0001
tab HIGH 1: B00SEV0002
tab WARNING 1: B00SEV0003
tab SUCCESS 1: B00SEV0004
tab STABLE 1: B00SEV0005
tab ALL 5: B00SEV0001 B00SEV0002 B00SEV0003 B00SEV0004 B00SEV0005
row CRITICAL | B00SEV0001 | ATVPDKIKX0DER | USD 16.00 | USD 10.00 | 60.0% | 6 of 10 | no
sparklines 5
reasons offers 10 ≥ 10
changed B00SEV0005 CRITICAL within 1 s
ack B00SEV0001 acknowledged
snooze B00SEV0002 snoozed
token asked 1 time(s), kept: true
fits 375 px
EOF
	run -0 q "$db" "SELECT asin, status, acked_by FROM alert_queues WHERE asin IN ('B00SEV0001', 'B00SEV0002') ORDER BY asin"
	assert_output $'B00SEV0001|acknowledged|dashboard\nB00SEV0002|snoozed|'
	[ -s "$out/dashboard-1280.png" ] && [ -s "$out/dashboard-375.png" ]
}

# ---- bb-serve(1) EXAMPLES ----

# example N: the Nth example of bb-serve(1), its 127.0.0.1:8080 made $SRV's address.
example() {
	sed -n '/^\.Sh EXAMPLES/,/^\.Sh/p' "$BATS_TEST_DIRNAME/../man/bb-serve.1" |
		awk -v n="$1" '/^\.Bd/ { k++; next } /^\.Ed/ { next } k == n && /^\$ / { sub(/^\$ /, ""); print; next } k == n && /^    / { print }' |
		sed -e 's/\\e/\\/g' -e "s|127.0.0.1:8080|${SRV#http://}|g" -e "s|/etc/bb/serve.token|$BATS_TEST_TMPDIR/token|g"
}

@test "bb-serve(1): the examples follow the stream, page the most urgent, and acknowledge" {
	db=$(migrated_db sqlite)
	seed "$db"
	serve "$db" --token-file "$BATS_TEST_TMPDIR/token"
	run -0 bash -c "$(example 2) | head -n 2"
	assert_output $'CRITICAL B00SEV0001 USD 16.00 against USD 10.00\nHIGH B00SEV0002 USD 13.00 against USD 10.00'
	run -0 bash -c "$(example 3)"
	assert_output --partial '"action":"ack","from":"queued","to":"acknowledged"'
	run timeout 1 bash -c "$(example 1)"
	assert_line 'event: alert'
	assert_line --partial '"action":"ack"'
}

@test "systemd/bb-serve.service is hardened: exposure at most 2.0" {
	run -0 systemd-analyze security --offline=yes "$BATS_TEST_DIRNAME/../systemd/bb-serve.service"
	run -0 sed -n 's/.*Overall exposure level for bb-serve.service: \([0-9.]*\).*/\1/p' <<<"$output"
	awk -v e="$output" 'BEGIN { exit !(e <= 2.0) }'
}
