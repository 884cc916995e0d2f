# store-helper.bash: databases and inputs for the bb-dedupe and bb-store
# suites. Load it after helper: `load helper; load store-helper`.
#
# Every storage test runs against both backends: SQLite (a new file per
# database) and PostgreSQL (a throwaway cluster per suite, started by pg_start
# in setup_file; one new database per fresh_db).

STORE_FIXTURES="$BATS_TEST_DIRNAME/fixtures/store"
: "${PG_LOCAL:=$BATS_TEST_DIRNAME/../scripts/pg-local}"
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -z "$PG_BIN" ] || PATH="$PATH:$PG_BIN"

UUID7='^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'

# ---------------------------------------------------------------------------
# PostgreSQL

# pg_start PORT: start this suite's cluster in $BATS_FILE_TMPDIR/pg (for
# setup_file). Exports PG_DB (the conninfo of its database bb), PG_DIR,
# PG_PORT and PG_USER. Fails, never skips, when the server cannot start.
pg_start() {
	local port=$(($1 + ${BB_TEST_PORT_OFFSET:-0})) dir="$BATS_FILE_TMPDIR/pg" d
	if [ "$(id -u)" -eq 0 ]; then
		# pg-local runs the server as postgres, which must reach DIR through
		# bats' private (mode 0700) temporary directories
		d=$BATS_FILE_TMPDIR
		while [ -n "$d" ] && [ "$d" != / ]; do
			chmod o+x "$d"
			[ "$d" != "$BATS_RUN_TMPDIR" ] || break
			d=$(dirname "$d")
		done
		su postgres -s /bin/sh -c "cd '$BATS_FILE_TMPDIR'" 2>/dev/null || {
			echo "# pg_start: the postgres user cannot reach $BATS_FILE_TMPDIR (set TMPDIR to a directory it can)" >&3
			return 1
		}
	fi
	if ! PG_DB=$("$PG_LOCAL" start "$dir" "$port"); then
		echo "# pg_start: scripts/pg-local start $dir $port failed" >&3
		cat "$dir"/initdb.log "$dir"/server.log 2>/dev/null | sed 's/^/# /' >&3
		return 1
	fi
	PG_DIR=$dir
	PG_PORT=$port
	PG_USER=$(sed -n 's/.*user=\([^ ]*\).*/\1/p' <<<"$PG_DB")
	export PG_DB PG_DIR PG_PORT PG_USER
	pg_admin -c 'SELECT 1' >/dev/null || { echo "# pg_start: the server does not answer" >&3; return 1; }
}

# pg_stop: stop this suite's cluster (for teardown_file).
pg_stop() {
	[ -z "${PG_DIR:-}" ] || "$PG_LOCAL" stop "$PG_DIR"
}

# pg_up: start the cluster again if a test left it stopped.
pg_up() {
	[ -z "${PG_DIR:-}" ] || [ -f "$PG_DIR/data/postmaster.pid" ] || "$PG_LOCAL" start "$PG_DIR" "$PG_PORT" >/dev/null
}

# pg_admin PSQL-ARGS...: psql on the maintenance database, through the socket.
pg_admin() {
	psql -X -qAt -v ON_ERROR_STOP=1 -h "$PG_DIR" -p "$PG_PORT" -U "$PG_USER" -d postgres "$@"
}

# ---------------------------------------------------------------------------
# Databases

# fresh_db sqlite|pg: the URL of a new, empty database.
fresh_db() {
	case $1 in
	sqlite)
		echo "sqlite:$(mktemp -u "$BATS_TEST_TMPDIR/db-XXXXXX").db"
		;;
	pg)
		[ -n "${PG_DIR:-}" ] || { echo "fresh_db pg: no cluster (pg_start in setup_file)" >&2; return 1; }
		local seq_file="$BATS_FILE_TMPDIR/db.seq" n name
		n=$(($(cat "$seq_file" 2>/dev/null || echo 0) + 1))
		echo "$n" >"$seq_file"
		name="t${BATS_TEST_NUMBER:-0}_$n"
		PGOPTIONS="-c client_min_messages=warning" \
			pg_admin -c "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name" || return 1
		echo "host=$PG_DIR port=$PG_PORT dbname=$name user=$PG_USER"
		;;
	*)
		echo "fresh_db: expected sqlite or pg, got '$1'" >&2
		return 1
		;;
	esac
}

# migrated_db sqlite|pg: a new database holding the schema (bb-store
# --migrate), so that the processes of a pipeline do not race to create it.
migrated_db() {
	local url
	url=$(fresh_db "$1") || return 1
	bb-store --migrate --db "$url" 2>/dev/null || { echo "migrated_db: bb-store --migrate failed on $url" >&2; return 1; }
	echo "$url"
}

# q DBURL SQL: run SQL, print each row as a|b|c (NULL as empty).
q() {
	case $1 in
	sqlite:*) sqlite3 -batch -bail -separator '|' -nullvalue '' "${1#sqlite:}" "$2" ;;
	*) psql -X -qAt -F '|' -v ON_ERROR_STOP=1 -d "$1" -c "$2" ;;
	esac
}

# ts DBURL COLUMN: SQL for COLUMN as RFC 3339 UTC text with milliseconds
# (SQLite stores it so; PostgreSQL has timestamptz).
ts() {
	case $1 in
	sqlite:*) echo "$2" ;;
	*) echo "to_char($2 AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')" ;;
	esac
}

# b COLUMN: SQL for a boolean column as 1, 0 or NULL in both dialects.
b() {
	echo "(CASE WHEN $1 THEN 1 WHEN NOT $1 THEN 0 END)"
}

# count DBURL TABLE [WHERE]: the number of rows.
count() {
	q "$1" "SELECT count(*) FROM $2${3:+ WHERE $3}"
}

# offers DBURL: the number of offers stored, over every competitive_history
# row (each holds its notification's offers as arrays).
offers() {
	case $1 in
	sqlite:*) q "$1" "SELECT COALESCE(sum(json_array_length(offer_seller_ids)), 0) FROM competitive_history" ;;
	*) q "$1" "SELECT COALESCE(sum(cardinality(offer_seller_ids)), 0) FROM competitive_history" ;;
	esac
}

# no_offers DBURL: SQL values for the six offer arrays of a competitive_history
# row (offer_seller_ids … offer_ours), each empty, for rows written by hand.
no_offers() {
	local e="'{}'"
	case $1 in sqlite:*) e="'[]'" ;; esac
	echo "$e, $e, $e, $e, $e, $e"
}

# offer_rows DBURL [WHERE]: the stored offers of the competitive_history rows
# WHERE selects (of h), one line per offer, as offer_snapshots had them:
# ord|seller_id|landed|prime|fba|buy_box_winner|ours, flags 1, 0 or empty;
# by event time, notification and ord.
offer_rows() {
	local where=${2:+WHERE $2} k cols=
	case $1 in
	sqlite:*)
		for k in landed prime fba buy_box_winner ours; do
			cols+=", json_extract(h.offer_$k, '\$[' || s.key || ']')"
		done
		q "$1" "SELECT s.key, s.value$cols FROM competitive_history AS h, json_each(h.offer_seller_ids) AS s
		        $where ORDER BY h.event_time, h.notification_id, s.key"
		;;
	*)
		q "$1" "SELECT o.ord - 1, o.seller_id, o.landed, $(b o.prime), $(b o.fba), $(b o.winner), $(b o.ours)
		        FROM competitive_history AS h, unnest(h.offer_seller_ids, h.offer_landed, h.offer_prime,
		          h.offer_fba, h.offer_buy_box_winner, h.offer_ours)
		          WITH ORDINALITY AS o(seller_id, landed, prime, fba, winner, ours, ord)
		        $where ORDER BY h.event_time, h.notification_id, o.ord"
		;;
	esac
}

# counts DBURL: "worker_notifications competitive_history offers events
# alert_queues worker_failures" counts, for before/after checks.
counts() {
	local t out=
	for t in worker_notifications competitive_history offers events alert_queues worker_failures; do
		if [ $t = offers ]; then
			out+="offers=$(offers "$1") "
		else
			out+="$t=$(count "$1" "$t") "
		fi
	done
	echo "${out% }"
}

# state_of DBURL: current_state's columns that do not depend on ids.
state_of() {
	q "$1" "SELECT asin, marketplace, $(ts "$1" event_time), severity, our_price, market_low
	        FROM current_state ORDER BY asin, marketplace"
}

# expected_state < RECORDS: the same rows computed from the records: the
# newest event per (asin, marketplace) wins.
expected_state() {
	jq -rs 'map(select(.status == "ok"))
	  | group_by([.notification.asin, .notification.marketplace]) | map(max_by(.notification.event_time))
	  | sort_by([.notification.asin, .notification.marketplace])[]
	  | [.notification.asin, .notification.marketplace, .notification.event_time, .analysis.severity,
	     .analysis.our_price, .analysis.market_low] | map(. // "" | tostring) | join("|")'
}

# ---------------------------------------------------------------------------
# Inputs

# analysed: validate and analyse the notifications on stdin (our seller: OURS).
analysed() {
	bb-validate 2>/dev/null | bb-severity --seller-id OURS 2>/dev/null
}

# event_at TIME: a jq filter setting the notification's EventTime (and
# TimeOfOfferChange) to TIME.
event_at() {
	printf '.EventTime = "%s" | .Payload.AnyOfferChangedNotification.OfferChangeTrigger.TimeOfOfferChange = "%s"' "$1" "$1"
}

# with_id NOTIFICATION-ID: a jq filter setting NotificationId.
with_id() {
	printf '.NotificationMetadata.NotificationId = "%s"' "$1"
}

# with_asin ASIN: a jq filter setting the trigger's ASIN.
with_asin() {
	printf '.Payload.AnyOfferChangedNotification.OfferChangeTrigger.ASIN = "%s"' "$1"
}

# Offers giving each severity (bb-severity's defaults, our seller OURS, no
# costs); see SEVERITY.md "Severity: the first rule that holds decides".
#   CRITICAL: 10 offers in the summary, gap 60 %, last of 6    (rule critical)
#   HIGH:     5 offers, gap 30 %, not the buy-box winner       (high-gap)
#   WARNING:  no offer of ours                                 (offer-missing)
#   SUCCESS:  2 offers                                         (success-few-offers)
#   STABLE:   3 offers, gap 20 %, position 3                   (stable)
OFFERS_CRITICAL="OURS:16.00 A:10.00 B:11.00 C:12.00 D:13.00 E:14.00"
OFFERS_HIGH="OURS:13.00 A:10.00 B:10.50 C:11.00 D:11.50"
OFFERS_WARNING="A:10.00 B:12.00:p"
OFFERS_SUCCESS="OURS:10.00 A:12.00"
OFFERS_STABLE="OURS:12.00 A:10.00 B:11.00:pw"

# rec SEVERITY TIME [NOTIFICATION-ID [ASIN]]: one analysed record of that
# severity (see above) for an event at TIME.
rec() {
	local sev=$1 time=$2 nid=${3:-n-$1-$2} a=${4:-B000TEST01} offers filter
	offers="OFFERS_$sev"
	filter="$(event_at "$time") | $(with_id "$nid") | $(with_asin "$a")"
	[ "$sev" != CRITICAL ] || filter+=" | $(with_offers_count 10)"
	notify "${!offers}" "$filter" | analysed
}

# gen N M [FIRST]: N distinct analysed records (numbers FIRST.. FIRST+N-1,
# default 0) over M ASINs (B000000000 + number mod M), one minute apart in
# event time from 2025-06-01T00:00:00Z, NotificationId n-NUMBER. Five offers
# each; our price cycles so that severities vary (SUCCESS, SUCCESS, WARNING,
# HIGH, HIGH) and differ between consecutive records of one ASIN.
gen() {
	local n=$1 m=$2 first=${3:-0}
	notify "OURS:12.00 A:10.00 B:10.50 C:11.00 D:11.50" |
		jq -c --argjson n "$n" --argjson m "$m" --argjson first "$first" '
		  . as $t | range($first; $first + $n) as $i
		  | ($i % $m) as $k | ((($i / $m | floor) + $i) % 5) as $v
		  | ((1748736000 + 60 * $i) | todate) as $time
		  | $t | .EventTime = $time
		  | .NotificationMetadata.NotificationId = "n-\($i)"
		  | .Payload.AnyOfferChangedNotification.OfferChangeTrigger.ASIN = ("B" + ("\(1000000000 + $k)" | .[1:]))
		  | .Payload.AnyOfferChangedNotification.OfferChangeTrigger.TimeOfOfferChange = $time
		  | .Payload.AnyOfferChangedNotification.Offers[0].ListingPrice.Amount =
		      ([9.00, 10.40, 11.20, 12.00, 13.00][$v] + (($i % 3) / 100))' |
		analysed
}

# ---------------------------------------------------------------------------
# Outputs

# statuses < RECORDS: the status of each record, space-separated.
statuses() {
	jq -r .status | paste -sd' ' -
}

# ids_with STATUS < RECORDS: the sorted message ids of the records with STATUS.
ids_with() {
	jq -r --arg s "$1" 'select(.status == $s) | .message_id' | LC_ALL=C sort
}

# wait_lines FILE N SECONDS: wait until FILE has at least N lines; fails
# after SECONDS.
wait_lines() {
	local file=$1 n=$2 deadline=$((SECONDS + $3))
	until [ "$(wc -l 2>/dev/null <"$file" || echo 0)" -ge "$n" ]; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.05
	done
}

# slowly DELAY < LINES: copy LINES with DELAY seconds before each.
slowly() {
	local line
	while IFS= read -r line; do
		sleep "$1"
		printf '%s\n' "$line" || return 0
	done
}

# ---------------------------------------------------------------------------
# Running the programs

# Everything the programs of a test log goes here; shown when a test fails.
LOG() { echo "$BATS_TEST_TMPDIR/stderr"; }

# store DBURL [bb-store options] < RECORDS: bb-store's output; fails when
# bb-store exits non-zero.
store() {
	local url=$1
	shift
	bb-store --db "$url" "$@" 2>>"$(LOG)" || { echo "bb-store exited $? on $url" >&2; return 1; }
}

# dedupe DBURL < RECORDS: bb-dedupe's output.
dedupe() {
	bb-dedupe --db "$1" 2>>"$(LOG)" || { echo "bb-dedupe exited $? on $1" >&2; return 1; }
}

# dedupe_store DBURL [bb-store options] < RECORDS: bb-dedupe | bb-store on one
# database (which must already hold the schema: see migrated_db).
dedupe_store() {
	local url=$1 s
	shift
	bb-dedupe --db "$url" 2>>"$(LOG)" | bb-store --db "$url" "$@" 2>>"$(LOG)"
	s=("${PIPESTATUS[@]}")
	[ "${s[0]}" -eq 0 ] && [ "${s[1]}" -eq 0 ] ||
		{ echo "bb-dedupe exited ${s[0]}, bb-store ${s[1]} on $url" >&2; return 1; }
}

# expect WHAT ACTUAL EXPECTED: fail, naming the backend under test ($db) and
# WHAT, unless ACTUAL equals EXPECTED.
expect() {
	[ "$2" == "$3" ] && return 0
	fail "$(printf '[%s] %s\n-- expected --\n%s\n-- actual --\n%s' "${db:-}" "$1" "$3" "$2")"
}

# expect_match WHAT ACTUAL REGEX
expect_match() {
	[[ $2 =~ $3 ]] && return 0
	fail "$(printf '[%s] %s: expected to match %s, got: %s' "${db:-}" "$1" "$3" "$2")"
}

# on BACKEND: announce the backend a loop is testing (shown on failure).
on() {
	db=$1
	echo "--- backend: $db"
}

# Background processes a test started, killed (by id) in teardown.
BG_PIDS=()
track() {
	BG_PIDS+=("$@")
}

store_teardown() {
	local p
	for p in "${BG_PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null || true
	done
	pg_up
	if [ -z "${BATS_TEST_COMPLETED:-}" ] && [ -s "$(LOG)" ]; then
		echo "--- last lines the programs logged:"
		tail -n 25 "$(LOG)"
	fi
}

# hold_lock DBURL SECONDS READY-FILE: hold a write lock that keeps bb-store
# from committing (SQLite: the database's write lock; PostgreSQL: the tables
# a batch writes first) for SECONDS; READY-FILE appears once it is held.
hold_lock() {
	case $1 in
	sqlite:*)
		printf '.timeout 10000\nBEGIN IMMEDIATE;\n.shell touch %s\n.shell sleep %s\nCOMMIT;\n' "$3" "$2" |
			sqlite3 -batch -bail "${1#sqlite:}" >/dev/null
		;;
	*)
		printf 'BEGIN;\nLOCK TABLE worker_notifications, worker_failures IN ACCESS EXCLUSIVE MODE;\n\\! touch %s\nSELECT pg_sleep(%s);\nCOMMIT;\n' "$3" "$2" |
			psql -X -q -v ON_ERROR_STOP=1 -d "$1" >/dev/null
		;;
	esac
}

# wait_file FILE SECONDS
wait_file() {
	local deadline=$((SECONDS + $2))
	until [ -e "$1" ]; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.05
	done
}

# wait_exit PID SECONDS: wait for a background process of this shell; its
# exit status, or 124 (after killing it) when it outlives SECONDS.
wait_exit() {
	local pid=$1 deadline=$((SECONDS + $2))
	while kill -0 "$pid" 2>/dev/null; do
		if [ "$SECONDS" -ge "$deadline" ]; then
			kill -9 "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
			return 124
		fi
		sleep 0.1
	done
	wait "$pid"
}

# pg_stops_midway CMD...: CMD reads the ten records of $IN through a FIFO,
# writing $OUT, its stderr to $BATS_TEST_TMPDIR/err. Once the first five have
# come out, PostgreSQL is stopped and the other five are sent; CMD gets 30 s
# to exit, then PostgreSQL is started again. Sets rc to CMD's exit status.
pg_stops_midway() {
	local pid
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	"$@" <"$BATS_TEST_TMPDIR/fifo" >"$OUT" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	pid=$!
	track $pid
	exec 4>"$BATS_TEST_TMPDIR/fifo"
	head -n 5 "$IN" >&4
	wait_lines "$OUT" 5 10 || fail "the first five records did not come out"
	"$PG_LOCAL" stop "$PG_DIR"
	tail -n 5 "$IN" >&4 || true # a program that reads nothing after the failure: the rest may meet a closed pipe
	rc=0
	wait_exit $pid 30 || rc=$?
	exec 4>&-
	"$PG_LOCAL" start "$PG_DIR" "$PG_PORT" >/dev/null
}

# envelope BODY MESSAGE-ID: the record bb-sqs-recv writes for an SQS message.
envelope() {
	jq -cn --arg b "$1" --arg m "$2" '{trace_id: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
	  sqs: {queue_url: "https://sqs.us-east-1.amazonaws.com/123456789012/bb", message_id: $m,
	        receipt_handle: "rh-0123456789abcdef", receive_count: 1, sent_at: "2025-12-31T23:59:50.000Z"},
	  body: $b, received_at: "2025-12-31T23:59:55.000Z"}'
}
