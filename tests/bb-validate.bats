#!/usr/bin/env bats
# bb-validate: schema checks, normalisation, the record envelope, rejections,
# and the filter's behaviour on a stream (order, promptness, signals, options).

load helper
bats_require_minimum_version 1.5.0

V=$FIXTURES/validate
AOC=Payload.AnyOfferChangedNotification
UUID7='^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'

# envelope BODY [JQ-FILTER]: the record bb-sqs-recv writes for an SQS message
# whose body is BODY; the filter edits the envelope.
envelope() {
	jq -cn --arg b "$1" '{trace_id: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
	  sqs: {queue_url: "https://sqs.us-east-1.amazonaws.com/123456789012/bb", message_id: "m-1",
	        receipt_handle: "rh-0123456789abcdef", receive_count: 1, sent_at: "2025-12-31T23:59:50.000Z"},
	  body: $b, received_at: "2025-12-31T23:59:55.000Z"}' | jq -c "${2:-.}"
}

# sha LINE: lowercase hex SHA-256 of LINE's bytes (no newline).
sha() {
	printf '%s' "$1" | sha256sum | cut -d' ' -f1
}

# check JQ-EXPR: $output (one record) satisfies the jq expression.
check() {
	jq -e "$1" <<<"$output" >/dev/null || fail "expected $1; got: $(jq -c "del(.body)" <<<"$output" 2>&1 || echo "$output")"
}

# is_rejected RECORD TYPE PATH: RECORD was rejected by bb-validate with that
# error type at that path (PATH "null": no path).
is_rejected() {
	jq -e --arg t "$2" --arg p "$3" '.status == "rejected" and .error.type == $t
	  and .error.stage == "validate" and .error.path == (if $p == "null" then null else $p end)' \
	  <<<"$1" >/dev/null ||
	  fail "expected rejected/$2 at $3; got: $(jq -c '{status, error}' <<<"$1" 2>&1 || echo "$1")"
}

# expect_rejected TYPE PATH: $output is exactly one record, rejected so.
expect_rejected() {
	[ "${#lines[@]}" -eq 1 ] || fail "expected one output line, got ${#lines[@]}: $output"
	is_rejected "$output" "$1" "$2"
}

# rejects_as LINE TYPE PATH: bb-validate rejects the single LINE so (for loops).
rejects_as() {
	local out
	out=$(bb-validate 2>/dev/null <<<"$1") || fail "bb-validate exited $? for: $1"
	[ "$(wc -l <<<"$out")" -eq 1 ] || fail "expected one output line for: $1"
	is_rejected "$out" "$2" "$3"
}

# accepted_notification LINE: the normalised notification of LINE, which must be ok.
accepted_notification() {
	local out
	# runs in command substitutions, where errexit is off: return explicitly
	out=$(bb-validate 2>/dev/null <<<"$1") || { fail "bb-validate exited $?"; return 1; }
	jq -e '.status == "ok"' <<<"$out" >/dev/null || { fail "not ok: $(jq -c '{status, error}' <<<"$out" 2>&1)"; return 1; }
	jq -cS .notification <<<"$out"
}

# ---- a bare notification becomes an envelope ----

@test "a bare notification's exact bytes become the body" {
	line=$(notify "A2COMP01:10.5+1.25 OURS:11:w")
	run --separate-stderr bb-validate <<<"$line"
	assert_success
	[ "${#lines[@]}" -eq 1 ]
	[ "$(jq -j .body <<<"$output")" = "$line" ]
	check '.status == "ok" and (has("error") | not)'
}

@test "the body keeps unusual whitespace, key order and escapes byte for byte" {
	line=$(cat "$V/unusual-whitespace.ndjson")
	run --separate-stderr bb-validate <"$V/unusual-whitespace.ndjson"
	assert_success
	jq -j .body <<<"$output" >"$BATS_TEST_TMPDIR/body"
	printf '%s' "$line" | cmp - "$BATS_TEST_TMPDIR/body"
	jq -e --arg l "$line" '.body == $l and .status == "ok"' <<<"$output"
}

@test "dedupe_hash is the lowercase SHA-256 of the line's bytes" {
	line=$(cat "$V/unusual-whitespace.ndjson")
	run --separate-stderr bb-validate <<<"$line"
	assert_success
	want=$(sha "$line")
	[[ $want =~ ^[0-9a-f]{64}$ ]]
	[ "$(jq -r .dedupe_hash <<<"$output")" = "$want" ]
}

@test "message_id falls back to the NotificationId, trimmed of surrounding spaces" {
	line=$(notify "A:10" '.NotificationMetadata.NotificationId = "  n-trim-42 \t"')
	run --separate-stderr bb-validate <<<"$line"
	assert_success
	check '.message_id == "n-trim-42" and .notification.notification_id == "n-trim-42"'
}

@test "message_id falls back to the dedupe hash when there is no NotificationId" {
	line=$(notify "A:10" 'del(.NotificationMetadata.NotificationId)')
	run --separate-stderr bb-validate <<<"$line"
	assert_success
	jq -e --arg h "$(sha "$line")" '.status == "ok" and .message_id == $h and .dedupe_hash == $h' <<<"$output"
}

@test "message_id of a rejected notification is still its NotificationId" {
	line=$(notify "A:10" '.NotificationMetadata.NotificationId = "n-bad-asin" | .Payload.AnyOfferChangedNotification.OfferChangeTrigger.ASIN = "B0BAD"')
	run --separate-stderr bb-validate <<<"$line"
	assert_success
	expect_rejected invalid_asin "$AOC.OfferChangeTrigger.ASIN"
	check '.message_id == "n-bad-asin"'
}

@test "each bare record gets its own UUID v7 trace_id" {
	run --separate-stderr bb-validate < <(notify "A:10"; notify "B:11")
	assert_success
	[ "${#lines[@]}" -eq 2 ]
	t1=$(jq -r .trace_id <<<"${lines[0]}")
	t2=$(jq -r .trace_id <<<"${lines[1]}")
	[[ $t1 =~ $UUID7 ]] || fail "not a UUID v7: $t1"
	[[ $t2 =~ $UUID7 ]] || fail "not a UUID v7: $t2"
	[ "$t1" != "$t2" ]
}

@test "a bare record's received_at is now, in RFC 3339 UTC with milliseconds" {
	run --separate-stderr env BB_NOW=2026-03-04T05:06:07.891Z bb-validate <<<"$(notify "A:10")"
	assert_success
	check '.received_at == "2026-03-04T05:06:07.891Z" and .status == "ok"'
}

# ---- the envelope form ----

@test "an envelope's own bytes come out unchanged as the prefix of the output" {
	env=$(envelope "$(notify "A:10 B:12:w")")
	run --separate-stderr bb-validate <<<"$env"
	assert_success
	[ "${#lines[@]}" -eq 1 ]
	[[ $output == "${env%\}}"* ]] || fail "output does not start with the input: $output"
	[[ ${output:${#env}-1:1} == , ]] || fail "expected the added members right after the input's last member"
}

@test "an envelope keeps its trace_id, its body and its received_at" {
	body=$(notify "A:10")
	env=$(envelope "$body")
	run --separate-stderr bb-validate <<<"$env"
	assert_success
	jq -e --arg b "$body" '.trace_id == "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b" and .body == $b
	  and .received_at == "2025-12-31T23:59:55.000Z" and .status == "ok"' <<<"$output"
	[ "$(grep -o '"trace_id":' <<<"$output" | wc -l)" -eq 1 ]
}

@test "an envelope's message_id is the SQS message_id" {
	run --separate-stderr bb-validate <<<"$(envelope "$(notify "A:10")")"
	assert_success
	check '.message_id == "m-1" and .notification.notification_id == "n-1"'
}

@test "an envelope's dedupe_hash is the SHA-256 of the decoded body string" {
	body=$(cat "$V/unusual-whitespace.ndjson")
	run --separate-stderr bb-validate <<<"$(envelope "$body")"
	assert_success
	jq -e --arg h "$(sha "$body")" '.dedupe_hash == $h and .status == "ok"' <<<"$output"
}

@test "an envelope without a trace_id gets a UUID v7" {
	run --separate-stderr bb-validate <<<"$(envelope "$(notify "A:10")" 'del(.trace_id)')"
	assert_success
	[[ $(jq -r .trace_id <<<"$output") =~ $UUID7 ]]
	[ "$(grep -o '"trace_id":' <<<"$output" | wc -l)" -eq 1 ]
}

@test "members bb-validate adds replace stale ones, never duplicate them" {
	env=$(envelope "$(notify "A:10")" '. + {status: "ok", notification: {stale: true}, message_id: "old", dedupe_hash: "old"}')
	run --separate-stderr bb-validate <<<"$env"
	assert_success
	[ "$(grep -o '"status":' <<<"$output" | wc -l)" -eq 1 ]
	[ "$(grep -o '"notification":' <<<"$output" | wc -l)" -eq 1 ]
	[ "$(grep -o '"dedupe_hash":' <<<"$output" | wc -l)" -eq 1 ]
	[ "$(grep -o '"message_id":' <<<"$output" | wc -l)" -eq 2 ] # sqs.message_id and ours
	check '.status == "ok" and .message_id == "m-1" and .notification.asin == "B000TEST01"
	  and (.notification | has("stale") | not) and .dedupe_hash != "old" and .sqs.receipt_handle == "rh-0123456789abcdef"'
}

@test "a record rejected earlier by bb-validate is validated again" {
	env=$(envelope "$(notify "A:10")" '. + {status: "rejected", notification: {stale: true},
	  error: {type: "schema", message: "old", stage: "validate", path: "Payload"}}')
	run --separate-stderr bb-validate <<<"$env"
	assert_success
	[ "$(grep -o '"status":' <<<"$output" | wc -l)" -eq 1 ]
	[ "$(grep -o '"notification":' <<<"$output" | wc -l)" -eq 1 ]
	check '.status == "ok" and .notification.asin == "B000TEST01"'
}

@test "a record that now passes carries no stale validate error" {
	env=$(envelope "$(notify "A:10")" '. + {status: "rejected",
	  error: {type: "schema", message: "old", stage: "validate", path: "Payload"}}')
	run --separate-stderr bb-validate <<<"$env"
	assert_success
	check '.status == "ok"'
	check '.error == null'
}

@test "an envelope whose body is not a string keeps its sqs members" {
	env='{"trace_id":"t-5","sqs":{"message_id":"m-5","receipt_handle":"rh-5","receive_count":1},"body":5}'
	run --separate-stderr bb-validate <<<"$env"
	assert_success
	expect_rejected schema body
	check '.sqs.message_id == "m-5" and .sqs.receipt_handle == "rh-5" and .trace_id == "t-5"'
}

# ---- the normalised notification ----

@test "a representative notification is normalised in full" {
	run --separate-stderr bb-validate <"$V/representative.json"
	assert_success
	check '.status == "ok" and .message_id == "rep-0001"'
	diff -u "$V/representative.expected.json" <(jq -S .notification <<<"$output")
}

@test "the summary is reduced to the trigger's condition, whatever its case" {
	line=$(jq -c '.Payload.AnyOfferChangedNotification.OfferChangeTrigger.ItemCondition = "Used"' "$V/representative.json")
	run --separate-stderr bb-validate <<<"$line"
	assert_success
	check '.notification.condition == "used"'
	check '.notification.summary == {total_offers: 7, buy_box_eligible_offers: 4, lowest_landed: 500,
	  buy_box_landed: 600, list_price: 2999, sales_rankings: [{category: "kitchen_display_on_website", rank: 1234},
	  {category: "3167641", rank: 56}]}'
}

@test "a BuyBoxPrices Condition of New matches the trigger's new" {
	line=$(notify "A:10" '.Payload.AnyOfferChangedNotification.Summary.BuyBoxPrices =
	  [{Condition: "New", ListingPrice: {Amount: 9.5, CurrencyCode: "USD"}, Shipping: {Amount: 1.25, CurrencyCode: "USD"}}]')
	run --separate-stderr bb-validate <<<"$line"
	assert_success
	check '.notification.condition == "new" and .notification.summary.buy_box_landed == 1075'
}

@test "buy_box_winner is true, false or null when IsBuyBoxWinner is absent" {
	run --separate-stderr bb-validate <<<"$(notify "A:10:w B:11:l C:12")"
	assert_success
	check '[.notification.offers[].buy_box_winner] == [true, false, null]'
}

@test "money is rounded half away from zero to the cent" {
	line=$(notify "A:10.005+2.675 B:0.125+0.994")
	run --separate-stderr bb-validate <<<"$line"
	assert_success
	check '[.notification.offers[] | [.listing, .shipping, .landed]] == [[1001, 268, 1269], [13, 99, 112]]'
}

@test "JPY amounts are whole yen" {
	line=$(notify "A:1980+350 B:2100" '.Payload.AnyOfferChangedNotification.OfferChangeTrigger.MarketplaceId = "A1VC38T7YXB528"
	  | (.. | objects | select(has("CurrencyCode")) | .CurrencyCode) = "JPY"')
	run --separate-stderr bb-validate <<<"$line"
	assert_success
	check '.notification.currency == "JPY" and [.notification.offers[].landed] == [2330, 2100]'
}

# ---- event_time ----

@test "without EventTime, event_time falls back to TimeOfOfferChange" {
	line=$(notify "A:10" 'del(.EventTime) | .Payload.AnyOfferChangedNotification.OfferChangeTrigger.TimeOfOfferChange = "2025-06-01T11:59:58.500Z"')
	run --separate-stderr bb-validate <<<"$line"
	assert_success
	check '.status == "ok" and .notification.event_time == "2025-06-01T11:59:58.500Z"'
}

@test "an empty EventTime falls back like an absent one" {
	line=$(notify "A:10" '.EventTime = "" | .Payload.AnyOfferChangedNotification.OfferChangeTrigger.TimeOfOfferChange = "2025-06-01T11:59:58.500Z"')
	run --separate-stderr bb-validate <<<"$line"
	assert_success
	check '.status == "ok" and .notification.event_time == "2025-06-01T11:59:58.500Z"'
}

@test "without either time, event_time falls back to the SQS sent_at" {
	body=$(notify "A:10" 'del(.EventTime) | del(.Payload.AnyOfferChangedNotification.OfferChangeTrigger.TimeOfOfferChange)')
	run --separate-stderr bb-validate <<<"$(envelope "$body")"
	assert_success
	check '.status == "ok" and .notification.event_time == "2025-12-31T23:59:50.000Z"'
}

@test "without sent_at, event_time falls back to the envelope's received_at" {
	body=$(notify "A:10" 'del(.EventTime) | del(.Payload.AnyOfferChangedNotification.OfferChangeTrigger.TimeOfOfferChange)')
	run --separate-stderr bb-validate <<<"$(envelope "$body" 'del(.sqs.sent_at)')"
	assert_success
	check '.status == "ok" and .notification.event_time == "2025-12-31T23:59:55.000Z"'
}

@test "a bare notification without times takes its event_time from received_at" {
	line=$(notify "A:10" 'del(.EventTime) | del(.Payload.AnyOfferChangedNotification.OfferChangeTrigger.TimeOfOfferChange)')
	run --separate-stderr bb-validate <<<"$line"
	assert_success
	check '.status == "ok" and .received_at == "2026-01-01T00:00:00.000Z" and .notification.event_time == "2026-01-01T00:00:00.000Z"'
}

@test "times with or without fractions and with offsets are normalised to UTC milliseconds" {
	while read -r given want; do
		got=$(accepted_notification "$(notify "A:10" ".EventTime = \"$given\" | .NotificationMetadata.PublishTime = \"$given\"")")
		jq -e --arg w "$want" '.event_time == $w and .publish_time == $w' <<<"$got" >/dev/null ||
			fail "$given: expected $want, got $(jq -c '[.event_time, .publish_time]' <<<"$got")"
	done <<-'EOF'
	2025-06-01T12:00:00Z 2025-06-01T12:00:00.000Z
	2025-06-01T12:00:00.5Z 2025-06-01T12:00:00.500Z
	2025-06-01T12:00:00.123456Z 2025-06-01T12:00:00.123Z
	2025-06-01T14:00:00.250+02:00 2025-06-01T12:00:00.250Z
	2025-06-01T01:30:00+02:00 2025-05-31T23:30:00.000Z
	2025-06-01T06:30:00-05:30 2025-06-01T12:00:00.000Z
	EOF
}

# ---- variations real payloads show ----

@test "a notification without NotificationMetadata is accepted" {
	line=$(notify "A:10" 'del(.NotificationMetadata)')
	run --separate-stderr bb-validate <<<"$line"
	assert_success
	jq -e --arg h "$(sha "$line")" '.status == "ok" and .notification.notification_id == null
	  and .notification.publish_time == null and .message_id == $h' <<<"$output"
}

@test "a notification without Summary is accepted with an empty summary" {
	run --separate-stderr bb-validate <<<"$(notify "A:10")"
	assert_success
	check '.status == "ok" and .notification.summary == {total_offers: null, buy_box_eligible_offers: null,
	  lowest_landed: null, buy_box_landed: null, list_price: null, sales_rankings: []}'
}

@test "a Summary with only BuyBoxPrices holding only a LandedPrice is accepted" {
	line=$(notify "A:10" '.Payload.AnyOfferChangedNotification.Summary = {BuyBoxPrices: [{Condition: "new", LandedPrice: {Amount: 12.34, CurrencyCode: "USD"}}]}')
	run --separate-stderr bb-validate <<<"$line"
	assert_success
	check '.status == "ok" and .notification.summary == {total_offers: null, buy_box_eligible_offers: null,
	  lowest_landed: null, buy_box_landed: 1234, list_price: null, sales_rankings: []}'
}

@test "a notification without ItemCondition is accepted" {
	run --separate-stderr bb-validate <<<"$(notify "A:10" 'del(.Payload.AnyOfferChangedNotification.OfferChangeTrigger.ItemCondition)')"
	assert_success
	check '.status == "ok" and .notification.condition == null and .notification.asin == "B000TEST01"'
}

@test "a notification without TimeOfOfferChange is accepted" {
	run --separate-stderr bb-validate <<<"$(notify "A:10" 'del(.Payload.AnyOfferChangedNotification.OfferChangeTrigger.TimeOfOfferChange)')"
	assert_success
	check '.status == "ok" and .notification.event_time == "2025-06-01T12:00:00.000Z"'
}

@test "an empty OfferChangeType is accepted" {
	run --separate-stderr bb-validate <<<"$(notify "A:10" '.Payload.AnyOfferChangedNotification.OfferChangeTrigger.OfferChangeType = ""')"
	assert_success
	check '.status == "ok" and .notification.change_type == ""'
}

@test "amounts written as 10 and as 10.0 are the same 1000 cents" {
	line=$(notify "A:10 B:10")
	line=${line/\"Amount\":10,/\"Amount\":10.0,}
	[[ $line == *'"Amount":10.0,'*'"Amount":10,'* ]] || fail "fixture: $line"
	run --separate-stderr bb-validate <<<"$line"
	assert_success
	check '.status == "ok" and [.notification.offers[].listing] == [1000, 1000]'
}

@test "offers with and without ShipsFrom are accepted" {
	line=$(notify "A:10 B:11" '.Payload.AnyOfferChangedNotification.Offers[0].ShipsFrom = {State: "WA", Country: "US"}')
	run --separate-stderr bb-validate <<<"$line"
	assert_success
	check '.status == "ok" and (.notification.offers | length) == 2'
}

@test "an offer without PrimeInformation is accepted with prime null" {
	line=$(notify "A:10:p B:11:p" 'del(.Payload.AnyOfferChangedNotification.Offers[1].PrimeInformation)')
	run --separate-stderr bb-validate <<<"$line"
	assert_success
	check '.status == "ok" and [.notification.offers[].prime] == [true, null]'
}

@test "a SellerFeedbackRating of 0 out of 0 is accepted" {
	line=$(notify "A:10" '.Payload.AnyOfferChangedNotification.Offers[0].SellerFeedbackRating = {FeedbackCount: 0, SellerPositiveFeedbackRating: 0}')
	run --separate-stderr bb-validate <<<"$line"
	assert_success
	check '.status == "ok" and .notification.offers[0].feedback_count == 0 and .notification.offers[0].feedback_rating == 0'
}

@test "an empty AvailableDate is accepted" {
	line=$(notify "A:10" '.Payload.AnyOfferChangedNotification.Offers[0].ShippingTime = {MinimumHours: 24, MaximumHours: 48, AvailabilityType: "NOW", AvailableDate: ""}')
	run --separate-stderr bb-validate <<<"$line"
	assert_success
	check '.status == "ok" and .notification.offers[0].min_hours == 24 and .notification.offers[0].max_hours == 48'
}

@test "keys in alphabetical order make the same notification" {
	line=$(notify "A:10 B:11.5+2:w")
	sorted=$(jq -cS . <<<"$line")
	[ "$sorted" != "$line" ]
	want=$(accepted_notification "$line")
	got=$(accepted_notification "$sorted")
	[ -n "$want" ] && [ "$got" = "$want" ]
}

@test "pretty-printed whitespace collapsed to one line makes the same notification" {
	line=$(notify "A:10 B:11.5+2:w")
	spaced=$(jq . <<<"$line" | sed 's/": /"  :   /; s/,$/ ,\t/' | tr '\n' ' ')
	[[ $spaced == *'"  :   '* && $spaced == *' ,'* && $spaced != *$'\n'* ]] || fail "fixture: $spaced"
	run --separate-stderr bb-validate <<<"$spaced"
	assert_success
	jq -e --arg s "$spaced" '.body == $s and .status == "ok"' <<<"$output"
	want=$(accepted_notification "$line")
	[ -n "$want" ] && [ "$(jq -cS .notification <<<"$output")" = "$want" ]
}

@test "an empty Offers array is accepted with no offers" {
	run --separate-stderr bb-validate <<<"$(notify "")"
	assert_success
	check '.status == "ok" and .notification.offers == [] and .notification.currency == null'
}

# ---- rejections ----

@test "malformed JSON is rejected" {
	run --separate-stderr bb-validate <<<'{"NotificationType": "ANY_OFFER_CHANGED", "Payload": {'"'"'oops'"'"': 1}}'
	assert_success
	expect_rejected malformed_json null
	check '.body | startswith("{\"NotificationType\"")'
}

@test "malformed JSON says why and at which byte" {
	run --separate-stderr bb-validate <<<'{"NotificationType": "ANY_OFFER_CHANGED", "Payload": {"a" "b"}}'
	expect_rejected malformed_json null
	check '.error.message == "invalid JSON structure at byte 58"'
	run --separate-stderr bb-validate <<<'{"NotificationType": "ANY_OFFER_CHANGED", "Payload": {"a": "b'
	check '.error.message == "string not closed at byte 59"'
}

@test "an empty body first of all is rejected as empty, and the next record validated" {
	{ envelope ''; envelope "$(cat "$V/representative.json")"; } >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr bb-validate <"$BATS_TEST_TMPDIR/in"
	assert_success
	[ "${#lines[@]}" -eq 2 ]
	is_rejected "${lines[0]}" malformed_json null
	jq -e '.error.message == "empty input at byte 0"' <<<"${lines[0]}" >/dev/null
	jq -e '.status == "ok" and .notification.type == "ANY_OFFER_CHANGED"' <<<"${lines[1]}" >/dev/null
}

@test "a truncated line is rejected as malformed JSON" {
	line=$(notify "A:10 B:11 C:12")
	run --separate-stderr bb-validate <<<"${line:0:${#line}/2}"
	assert_success
	expect_rejected malformed_json null
	jq -e --arg h "$(sha "${line:0:${#line}/2}")" '.dedupe_hash == $h' <<<"$output"
}

@test "a line of exactly 1 MiB is read whole, and refused when its record would be over 1 MiB" {
	line=$(notify "A:10")
	pad=$((1048576 - ${#line} - 9)) # {"Pad":"…",
	printf '{"Pad":"%s",%s\n' "$(head -c "$pad" /dev/zero | tr '\0' a)" "${line#\{}" >"$BATS_TEST_TMPDIR/big"
	[ "$(head -n1 "$BATS_TEST_TMPDIR/big" | tr -d '\n' | wc -c)" -eq 1048576 ]
	run --separate-stderr bb-validate <"$BATS_TEST_TMPDIR/big"
	assert_success
	[ "${#lines[@]}" -eq 1 ]
	# read and validated (its message_id is the notification's), but the body
	# kept beside the notification makes a record the next stage cannot read
	check '.status == "rejected" and .error.type == "too_large" and .message_id == "n-1" and (has("notification") | not)'
	check '.error.message | test("^the record with its notification would be 10[0-9]{5} bytes, over the 1048576-byte limit$")'
	# half of it is well under: ok
	pad=$((524288 - ${#line} - 9))
	printf '{"Pad":"%s",%s\n' "$(head -c "$pad" /dev/zero | tr '\0' a)" "${line#\{}" >"$BATS_TEST_TMPDIR/half"
	run --separate-stderr bb-validate <"$BATS_TEST_TMPDIR/half"
	assert_success
	check '.status == "ok" and .notification.offers[0].seller_id == "A"'
}

@test "a line over 1 MiB is rejected as too_large and the next line still validates" {
	line=$(notify "A:10")
	pad=$((1048577 - ${#line} - 9))
	{
		printf '{"Pad":"%s",%s\n' "$(head -c "$pad" /dev/zero | tr '\0' a)" "${line#\{}"
		notify "A:10" '.NotificationMetadata.NotificationId = "after-big"'
	} >"$BATS_TEST_TMPDIR/big"
	[ "$(head -n1 "$BATS_TEST_TMPDIR/big" | tr -d '\n' | wc -c)" -eq 1048577 ]
	run --separate-stderr bb-validate <"$BATS_TEST_TMPDIR/big"
	assert_success
	[ "${#lines[@]}" -eq 2 ]
	is_rejected "${lines[0]}" too_large null
	jq -e '.status == "ok" and .message_id == "after-big"' <<<"${lines[1]}"
}

@test "a line over 16 MiB is rejected as too_large and the next line still validates" {
	{
		printf '{"NotificationType":"ANY_OFFER_CHANGED","Pad":"'
		head -c 17000000 /dev/zero | tr '\0' a
		printf '"}\n'
		notify "A:10" '.NotificationMetadata.NotificationId = "after-huge"'
	} >"$BATS_TEST_TMPDIR/huge"
	run --separate-stderr bb-validate <"$BATS_TEST_TMPDIR/huge"
	assert_success
	[ "${#lines[@]}" -eq 2 ]
	[ "${#lines[0]}" -lt 4096 ]
	is_rejected "${lines[0]}" too_large null
	jq -e '.status == "ok" and .message_id == "after-huge"' <<<"${lines[1]}"
}

@test "a notification without NotificationType, Payload or AnyOfferChangedNotification is rejected at that path" {
	rejects_as "$(notify "A:10" 'del(.NotificationType)')" schema NotificationType
	rejects_as "$(notify "A:10" 'del(.Payload)')" schema Payload
	rejects_as "$(notify "A:10" 'del(.Payload.AnyOfferChangedNotification)')" schema "$AOC"
}

@test "a notification without SellerId, OfferChangeTrigger, MarketplaceId, ASIN or Offers is rejected at that path" {
	for f in SellerId OfferChangeTrigger Offers; do
		rejects_as "$(notify "A:10" "del(.$AOC.$f)")" schema "$AOC.$f"
	done
	for f in MarketplaceId ASIN; do
		rejects_as "$(notify "A:10" "del(.$AOC.OfferChangeTrigger.$f)")" schema "$AOC.OfferChangeTrigger.$f"
	done
}

@test "an offer without SellerId, ListingPrice, Shipping, Amount or CurrencyCode is rejected at that path" {
	for f in SellerId ListingPrice Shipping ListingPrice.Amount ListingPrice.CurrencyCode Shipping.Amount Shipping.CurrencyCode; do
		rejects_as "$(notify "A:10 B:11" "del(.$AOC.Offers[1].$f)")" schema "$AOC.Offers[1].$f"
	done
}

@test "the message of a missing field says it is missing" {
	run --separate-stderr bb-validate <<<"$(notify "A:10" "del(.$AOC.Offers[0].Shipping)")"
	expect_rejected schema "$AOC.Offers[0].Shipping"
	check '.error.message | test("missing")'
}

@test "null in a required field is rejected at that path" {
	rejects_as "$(notify "A:10" '.NotificationType = null')" schema NotificationType
	rejects_as "$(notify "A:10" '.Payload = null')" schema Payload
	rejects_as "$(notify "A:10" ".$AOC.SellerId = null")" schema "$AOC.SellerId"
	rejects_as "$(notify "A:10" ".$AOC.OfferChangeTrigger.ASIN = null")" schema "$AOC.OfferChangeTrigger.ASIN"
	rejects_as "$(notify "A:10" ".$AOC.Offers = null")" schema "$AOC.Offers"
	rejects_as "$(notify "A:10" ".$AOC.Offers[0].ListingPrice.Amount = null")" schema "$AOC.Offers[0].ListingPrice.Amount"
}

@test "an amount written as a string is a schema error that expects a number" {
	line=$(notify "A:10 B:11 C:12 D:13" ".$AOC.Offers[3].ListingPrice.Amount = \"14.25\"")
	run --separate-stderr bb-validate <<<"$line"
	assert_success
	expect_rejected schema "$AOC.Offers[3].ListingPrice.Amount"
	check '.error.message | contains("expected a number")'
}

@test "Offers written as an object is a schema error" {
	run --separate-stderr bb-validate <<<"$(notify "A:10" ".$AOC.Offers = .$AOC.Offers[0]")"
	assert_success
	expect_rejected schema "$AOC.Offers"
}

@test "IsBuyBoxWinner written as the string true is a schema error" {
	run --separate-stderr bb-validate <<<"$(notify "A:10 B:11" ".$AOC.Offers[1].IsBuyBoxWinner = \"true\"")"
	assert_success
	expect_rejected schema "$AOC.Offers[1].IsBuyBoxWinner"
}

@test "an OfferCount of -1 or 2.5 is a schema error" {
	for n in -1 2.5; do
		rejects_as "$(notify "A:10" ".$AOC.Summary.NumberOfOffers = [{Condition: \"new\", FulfillmentChannel: \"Merchant\", OfferCount: 1}, {Condition: \"new\", FulfillmentChannel: \"Amazon\", OfferCount: $n}]")" \
			schema "$AOC.Summary.NumberOfOffers[1].OfferCount"
	done
}

@test "a FeedbackCount of 1e300 is out of range, a schema error; 2^53 - 1 is still a count" {
	run --separate-stderr bb-validate <<<"$(notify "A:10" ".$AOC.Offers[0].SellerFeedbackRating = {FeedbackCount: 1e300}")"
	assert_success
	expect_rejected schema "$AOC.Offers[0].SellerFeedbackRating.FeedbackCount"
	check '.error.message | endswith("FeedbackCount: 1e+300 is out of range")'
	run --separate-stderr bb-validate <<<"$(notify "A:10" ".$AOC.Offers[0].SellerFeedbackRating = {FeedbackCount: 9007199254740991}")"
	check '.status == "ok" and .notification.offers[0].feedback_count == 9007199254740991'
}

@test "an ASIN too short, in lower case or 12 characters long is invalid_asin" {
	for asin in B0SHORT b000test01 B000TEST0123; do
		rejects_as "$(notify "A:10" ".$AOC.OfferChangeTrigger.ASIN = \"$asin\"")" invalid_asin "$AOC.OfferChangeTrigger.ASIN"
	done
}

@test "an unknown marketplace is invalid_marketplace" {
	run --separate-stderr bb-validate <<<"$(notify "A:10" ".$AOC.OfferChangeTrigger.MarketplaceId = \"A9ZZTESTMKT01\"")"
	assert_success
	expect_rejected invalid_marketplace "$AOC.OfferChangeTrigger.MarketplaceId"
}

@test "--marketplace accepts a marketplace beyond Amazon's table" {
	run --separate-stderr bb-validate --marketplace A9ZZTESTMKT01 <<<"$(notify "A:10" ".$AOC.OfferChangeTrigger.MarketplaceId = \"A9ZZTESTMKT01\"")"
	assert_success
	check '.status == "ok" and .notification.marketplace == "A9ZZTESTMKT01"'
}

@test "[validate] marketplaces in the config file accepts a marketplace beyond Amazon's table" {
	printf '[validate]\nmarketplaces = A8YYOTHERMKT1, A9ZZTESTMKT01\n' >"$BATS_TEST_TMPDIR/bb.conf"
	run --separate-stderr env BB_CONFIG="$BATS_TEST_TMPDIR/bb.conf" bb-validate <<<"$(notify "A:10" ".$AOC.OfferChangeTrigger.MarketplaceId = \"A9ZZTESTMKT01\"")"
	assert_success
	check '.status == "ok" and .notification.marketplace == "A9ZZTESTMKT01"'
}

@test "a negative amount is invalid_amount" {
	run --separate-stderr bb-validate <<<"$(notify "A:10 B:11+-1")"
	assert_success
	expect_rejected invalid_amount "$AOC.Offers[1].Shipping.Amount"
}

@test "mixed currencies are invalid_amount at the later CurrencyCode" {
	run --separate-stderr bb-validate <<<"$(notify "A:10 B:11 C:12" ".$AOC.Offers[2].ListingPrice.CurrencyCode = \"EUR\"")"
	assert_success
	expect_rejected invalid_amount "$AOC.Offers[2].ListingPrice.CurrencyCode"
}

@test "a lower-case currency code is invalid_amount" {
	run --separate-stderr bb-validate <<<"$(notify "A:10" ".$AOC.Offers[0].ListingPrice.CurrencyCode = \"usd\"")"
	assert_success
	expect_rejected invalid_amount "$AOC.Offers[0].ListingPrice.CurrencyCode"
}

@test "an invalid time is invalid_time at its path" {
	rejects_as "$(notify "A:10" '.EventTime = "05/01/2026 09:01"')" invalid_time EventTime
	rejects_as "$(notify "A:10" '.EventTime = "2026-02-30T00:00:00Z"')" invalid_time EventTime
	rejects_as "$(notify "A:10" '.NotificationMetadata.PublishTime = "2026-01-05 09:01:00"')" invalid_time NotificationMetadata.PublishTime
	rejects_as "$(notify "A:10" ".$AOC.OfferChangeTrigger.TimeOfOfferChange = \"yesterday\"")" invalid_time "$AOC.OfferChangeTrigger.TimeOfOfferChange"
}

@test "a message received 4 times is rejected as poison" {
	run --separate-stderr bb-validate <<<"$(envelope "$(notify "A:10")" '.sqs.receive_count = 4')"
	assert_success
	expect_rejected poison null
	check '.sqs.receipt_handle == "rh-0123456789abcdef" and .message_id == "m-1"'
}

@test "a message received 3 times is still validated" {
	run --separate-stderr bb-validate <<<"$(envelope "$(notify "A:10")" '.sqs.receive_count = 3')"
	assert_success
	check '.status == "ok"'
}

@test "--max-receive-count 5 lets a fourth receive through" {
	run --separate-stderr bb-validate --max-receive-count 5 <<<"$(envelope "$(notify "A:10")" '.sqs.receive_count = 4')"
	assert_success
	check '.status == "ok"'
}

# ---- other notification types ----

@test "PRICING_HEALTH is skipped as an unsupported type" {
	run --separate-stderr bb-validate <"$V/pricing-health.json"
	assert_success
	[ "${#lines[@]}" -eq 1 ]
	check '.status == "skipped" and .error.type == "unsupported_type" and .error.stage == "validate"
	  and .error.path == "NotificationType" and (has("notification") | not)'
	jq -e --arg b "$(cat "$V/pricing-health.json")" '.body == $b' <<<"$output"
}

@test "B2B_ANY_OFFER_CHANGED is skipped as an unsupported type" {
	run --separate-stderr bb-validate <"$V/b2b-any-offer-changed.json"
	assert_success
	check '.status == "skipped" and .error.type == "unsupported_type" and .error.stage == "validate"
	  and .error.path == "NotificationType"'
}

@test "--unsupported reject rejects other notification types" {
	run --separate-stderr bb-validate --unsupported reject < <(cat "$V/pricing-health.json" "$V/b2b-any-offer-changed.json")
	assert_success
	[ "${#lines[@]}" -eq 2 ]
	is_rejected "${lines[0]}" unsupported_type NotificationType
	is_rejected "${lines[1]}" unsupported_type NotificationType
}

# ---- streams ----

@test "good and bad lines interleaved each give one record, in order" {
	for i in 1 2 3 4 5; do
		notify "A:1$i" ".NotificationMetadata.NotificationId = \"good-$i\""
		case $i in
		1) echo '{"NotificationType":"ANY_OFFER_CHANGED","Payload":' ;;
		2) notify "A:10" ".$AOC.OfferChangeTrigger.ASIN = \"nope\"" ;;
		3) notify "A:10" "del(.$AOC.Offers)" ;;
		4) notify "A:10+-2" ;;
		5) echo '[1,2,3]' ;;
		esac
	done >"$BATS_TEST_TMPDIR/mixed.ndjson"
	run --separate-stderr bb-validate <"$BATS_TEST_TMPDIR/mixed.ndjson"
	assert_success
	[ "${#lines[@]}" -eq 10 ]
	[ "$(jq -r .status <<<"$output" | paste -sd' ')" = "ok rejected ok rejected ok rejected ok rejected ok rejected" ]
	[ "$(jq -r 'select(.status == "ok") | .message_id' <<<"$output" | paste -sd' ')" = "good-1 good-2 good-3 good-4 good-5" ]
	[ "$(jq -r 'select(.status == "rejected") | .error.type' <<<"$output" | paste -sd' ')" = \
	  "malformed_json invalid_asin schema invalid_amount schema" ]
}

@test "blank lines are skipped" {
	{ echo; notify "A:10"; printf '   \n\t\n'; notify "B:11"; echo; } >"$BATS_TEST_TMPDIR/blanks.ndjson"
	run --separate-stderr bb-validate <"$BATS_TEST_TMPDIR/blanks.ndjson"
	assert_success
	[ "${#lines[@]}" -eq 2 ]
	[ "$(jq -r .status <<<"$output" | paste -sd' ')" = "ok ok" ]
}

@test "the last line needs no newline" {
	run --separate-stderr bb-validate < <(printf '%s' "$(notify "A:10")")
	assert_success
	[ "${#lines[@]}" -eq 1 ]
	check '.status == "ok"'
}

@test "--rejects appends every rejected record and only those" {
	{ notify "A:10"; notify "A:10" ".$AOC.OfferChangeTrigger.ASIN = \"x\""; cat "$V/pricing-health.json"
	  notify "B:11"; echo '{"broken":'; } >"$BATS_TEST_TMPDIR/in.ndjson"
	run --separate-stderr bb-validate --rejects "$BATS_TEST_TMPDIR/rejects.ndjson" <"$BATS_TEST_TMPDIR/in.ndjson"
	assert_success
	[ "${#lines[@]}" -eq 5 ]
	[ "$(wc -l <"$BATS_TEST_TMPDIR/rejects.ndjson")" -eq 2 ]
	[ "$(jq -r '[.status, .error.type] | join(":")' "$BATS_TEST_TMPDIR/rejects.ndjson" | paste -sd' ')" = \
	  "rejected:invalid_asin rejected:malformed_json" ]
	# the rejects file holds the very records written to stdout
	[ "$(grep '"rejected"' <<<"$output" | jq -c 'del(.trace_id)')" = "$(jq -c 'del(.trace_id)' "$BATS_TEST_TMPDIR/rejects.ndjson")" ]
}

@test "--rejects keeps the rejections of earlier runs" {
	{ notify "A:10+-1"; notify "A:10"; } >"$BATS_TEST_TMPDIR/in.ndjson"
	bb-validate --rejects "$BATS_TEST_TMPDIR/rejects.ndjson" <"$BATS_TEST_TMPDIR/in.ndjson" >/dev/null 2>&1
	run --separate-stderr bb-validate --rejects "$BATS_TEST_TMPDIR/rejects.ndjson" <"$BATS_TEST_TMPDIR/in.ndjson"
	assert_success
	[ "$(wc -l <"$BATS_TEST_TMPDIR/rejects.ndjson")" -eq 2 ]
	[ "$(jq -r .error.type "$BATS_TEST_TMPDIR/rejects.ndjson" | paste -sd' ')" = "invalid_amount invalid_amount" ]
	[ "$(jq -r .trace_id "$BATS_TEST_TMPDIR/rejects.ndjson" | sort -u | wc -l)" -eq 2 ]
}

@test "--strict exits 65 at the first rejection, after writing it" {
	{ notify "A:10"; notify "A:10" ".$AOC.OfferChangeTrigger.ASIN = \"x\""; notify "B:11"; echo '{'; } >"$BATS_TEST_TMPDIR/in.ndjson"
	run --separate-stderr bb-validate --strict --rejects "$BATS_TEST_TMPDIR/rejects.ndjson" <"$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 65 ]
	[ "${#lines[@]}" -eq 2 ]
	[ "$(jq -r .status <<<"$output" | paste -sd' ')" = "ok rejected" ]
	[ "$(jq -r .error.type "$BATS_TEST_TMPDIR/rejects.ndjson")" = invalid_asin ]
}

@test "--strict is not stopped by a skipped notification" {
	run --separate-stderr bb-validate --strict < <(cat "$V/pricing-health.json"; notify "A:10")
	assert_success
	[ "$(jq -r .status <<<"$output" | paste -sd' ')" = "skipped ok" ]
}

@test "a summary line on stderr counts ok, rejected and skipped" {
	{ notify "A:10"; echo '{"x":'; cat "$V/pricing-health.json"; notify "B:11"; notify "C:12"
	  notify "A:10+-1"; cat "$V/b2b-any-offer-changed.json"; } >"$BATS_TEST_TMPDIR/in.ndjson"
	run --separate-stderr bb-validate <"$BATS_TEST_TMPDIR/in.ndjson"
	assert_success
	[ "${#lines[@]}" -eq 7 ]
	summary=$(grep 'msg=summary' <<<"$stderr")
	[ "$(wc -l <<<"$summary")" -eq 1 ]
	[[ " $summary " == *" ok=3 "* ]] || fail "ok=3 not in: $summary"
	[[ " $summary " == *" rejected=2 "* ]] || fail "rejected=2 not in: $summary"
	[[ " $summary " == *" skipped=2 "* ]] || fail "skipped=2 not in: $summary"
}

@test "a duplicate decided by a later stage passes through byte for byte" {
	rec='{"trace_id":"t-9",  "sqs":{"message_id":"m-9","receive_count":7},"body":"{\"NotificationType\":5}" ,"message_id":"m-9","status":"duplicate"}'
	run --separate-stderr bb-validate <<<"$rec"
	assert_success
	[ "$output" = "$rec" ]
}

@test "a failure recorded by the store stage passes through byte for byte" {
	rec='{"body":"not json at all","status":"failed","error":{"type":"db_busy","message":"database is locked","stage":"store","path":null},"trace_id":"t-8"}'
	run --separate-stderr bb-validate <<<"$rec"
	assert_success
	[ "$output" = "$rec" ]
}

@test "a finished record is written before the next input line arrives" {
	l1=$(notify "A:10" '.NotificationMetadata.NotificationId = "slow-1"')
	l2=$(notify "A:10" '.NotificationMetadata.NotificationId = "slow-2"')
	mkfifo "$BATS_TEST_TMPDIR/out"
	{ printf '%s\n' "$l1"; sleep 2; printf '%s\n' "$l2"; } | bb-validate >"$BATS_TEST_TMPDIR/out" 2>/dev/null 3>&- &
	exec {fd}<"$BATS_TEST_TMPDIR/out"
	first= second=
	read -r -t 1 -u "$fd" first || true
	read -r -t 5 -u "$fd" second || true
	exec {fd}<&-
	wait
	[ -n "$first" ] || fail "no record within 1 s of the first line"
	jq -e '.message_id == "slow-1" and .status == "ok"' <<<"$first"
	jq -e '.message_id == "slow-2" and .status == "ok"' <<<"$second"
}

@test "SIGTERM while waiting for input exits 0 with the record in hand written" {
	mkfifo "$BATS_TEST_TMPDIR/in"
	bb-validate <"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	pid=$!
	exec {w}>"$BATS_TEST_TMPDIR/in"
	notify "A:10" '.NotificationMetadata.NotificationId = "in-hand"' >&"$w"
	for _ in $(seq 50); do [ -s "$BATS_TEST_TMPDIR/out" ] && break; sleep 0.1; done
	kill -TERM "$pid"
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid"
		exec {w}>&-
		fail "bb-validate still running 5 s after SIGTERM"
	fi
	rc=0
	wait "$pid" || rc=$?
	exec {w}>&-
	[ "$rc" -eq 0 ] || fail "exit status $rc"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/out")" -eq 1 ]
	jq -e '.message_id == "in-hand" and .status == "ok"' "$BATS_TEST_TMPDIR/out"
	grep -q 'msg=summary' "$BATS_TEST_TMPDIR/err"
}

# ---- options and configuration ----

@test "--help prints the usage on stdout and exits 0" {
	run --separate-stderr bb-validate --help
	assert_success
	[[ $output == *"usage: bb-validate"* ]]
	[[ $output == *"--rejects"* && $output == *"--max-receive-count"* ]]
	[ -z "$stderr" ]
}

@test "an unknown option exits 64 with the usage on stderr" {
	run --separate-stderr bb-validate --no-such-option </dev/null
	[ "$status" -eq 64 ]
	[ -z "$output" ]
	[[ $stderr == *usage* ]]
}

@test "--max-receive-count abc exits 64" {
	run --separate-stderr bb-validate --max-receive-count abc </dev/null
	[ "$status" -eq 64 ]
	[ -z "$output" ]
	[[ $stderr == *abc* ]]
}

@test "other usage errors exit 64" {
	run --separate-stderr bb-validate --unsupported drop </dev/null
	[ "$status" -eq 64 ] || fail "--unsupported drop: exit $status"
	[ -z "$output" ]
	run --separate-stderr bb-validate --max-receive-count 0 </dev/null
	[ "$status" -eq 64 ] || fail "--max-receive-count 0: exit $status"
	run --separate-stderr bb-validate notifications.ndjson </dev/null
	[ "$status" -eq 64 ] || fail "stray argument: exit $status"
	[ -z "$output" ]
}

@test "BB_CONFIG naming a missing file exits 78 naming the file" {
	run --separate-stderr env BB_CONFIG="$BATS_TEST_TMPDIR/no-such.conf" bb-validate <<<"$(notify "A:10")"
	[ "$status" -eq 78 ]
	[ -z "$output" ]
	[[ $stderr == *"$BATS_TEST_TMPDIR/no-such.conf"* ]]
}

@test "a bad [validate] max_receive_count in the config exits 78" {
	printf '[validate]\nmax_receive_count = many\n' >"$BATS_TEST_TMPDIR/bb.conf"
	run --separate-stderr env BB_CONFIG="$BATS_TEST_TMPDIR/bb.conf" bb-validate </dev/null
	[ "$status" -eq 78 ]
	[[ $stderr == *max_receive_count* ]]
}

@test "--max-receive-count overrides the config file" {
	printf '[validate]\nmax_receive_count = 2\n' >"$BATS_TEST_TMPDIR/bb.conf"
	in=$(envelope "$(notify "A:10")" '.sqs.receive_count = 3')
	run --separate-stderr env BB_CONFIG="$BATS_TEST_TMPDIR/bb.conf" bb-validate <<<"$in"
	expect_rejected poison null
	run --separate-stderr env BB_CONFIG="$BATS_TEST_TMPDIR/bb.conf" bb-validate --max-receive-count 3 <<<"$in"
	check '.status == "ok"'
}

# ---- strict JSON (RFC 8259) ----

# amount_as TEXT: a notification whose first ListingPrice.Amount is TEXT, verbatim.
amount_as() {
	notify "A:10.00" | sed "s/\"Amount\":10,/\"Amount\":$1,/"
}

@test "every number form JSON does not allow is malformed_json naming its byte offset" {
	for form in +5 .5 05 1. - 1e 1e+ 01.5 0x10 NaN Infinity -Infinity 1.5.2; do
		line=$(amount_as "$form")
		[[ $line == *"\"Amount\":$form,"* ]] || fail "fixture did not take $form"
		out=$(bb-validate 2>/dev/null <<<"$line")
		is_rejected "$out" malformed_json null
		offset=$(( $(awk -v s="$line" -v f="\"Amount\":$form," 'BEGIN { print index(s, f) }') - 1 + 9 ))
		jq -e --arg o "at byte $offset" '.error.message | endswith($o)' <<<"$out" >/dev/null ||
			fail "$form: $(jq -r .error.message <<<"$out"), expected one ending 'at byte $offset'"
		jq -e '.notification == null' <<<"$out" >/dev/null || fail "$form: a notification came out"
	done
}

@test "numbers JSON allows are accepted: -0, 1E+1, 100e-1 and 0.1e2" {
	for form in 0 -0 10.00 1E+1 100e-1 0.1e2; do
		out=$(bb-validate 2>/dev/null <<<"$(amount_as "$form")")
		jq -e '.status == "ok"' <<<"$out" >/dev/null || fail "$form: $(jq -c .error <<<"$out")"
	done
}

@test "a number beyond what 64-bit integers and doubles hold is refused as out of range, where it stands" {
	line=$(notify "A:10" '.Payload.AnyOfferChangedNotification.Offers[0].Extra = 0' |
		sed 's/"Extra":0/"Extra":123456789012345678901234567890/')
	run --separate-stderr bb-validate <<<"$line"
	expect_rejected malformed_json null
	prefix=${line%%123456789012345678901234567890*}
	check ".error.message == \"number out of range at byte ${#prefix}\""
}

@test "an amount too large is quoted as written" {
	run --separate-stderr bb-validate <<<"$(amount_as 999999999999999.99)"
	expect_rejected invalid_amount "$AOC.Offers[0].ListingPrice.Amount"
	check '.error.message == "Payload.AnyOfferChangedNotification.Offers[0].ListingPrice.Amount: 999999999999999.99 is out of range"'
}

@test "a raw control byte inside a string is malformed_json at its offset" {
	for byte in '\x00' '\x01' '\x1f' '\t' ; do
		line=$(notify "A:10" | sed 's/"n-1"/"n-X1"/')
		prefix=${line%%X1*}
		printf '%s'"$byte"'%s\n' "$prefix" "${line#*X}" >"$BATS_TEST_TMPDIR/in"
		out=$(bb-validate 2>/dev/null <"$BATS_TEST_TMPDIR/in")
		is_rejected "$out" malformed_json null
		jq -e --arg o "control byte in a string (must be escaped) at byte ${#prefix}" '.error.message == $o' <<<"$out" >/dev/null ||
			fail "$byte: $(jq -r .error.message <<<"$out")"
	done
}

@test "invalid, overlong and truncated UTF-8 is malformed_json at the first bad byte" {
	for seq in '\xff' '\xc0\xaf' '\xe0\x80\xaf' '\xed\xa0\x80' '\xf4\x90\x80\x80' '\xe2\x82'; do
		line=$(notify "A:10" | sed 's/"n-1"/"n-X1"/')
		prefix=${line%%X1*}
		printf '%s'"$seq"'%s\n' "$prefix" "${line#*X}" >"$BATS_TEST_TMPDIR/in"
		out=$(bb-validate 2>/dev/null <"$BATS_TEST_TMPDIR/in")
		is_rejected "$out" malformed_json null
		jq -e --arg o "invalid UTF-8 at byte ${#prefix}" '.error.message == $o' <<<"$out" >/dev/null ||
			fail "$seq: $(jq -r .error.message <<<"$out")"
		# the record itself is valid JSON, and its hash is that of the bytes as read
		jq -e --arg h "$(head -c -1 "$BATS_TEST_TMPDIR/in" | sha256sum | cut -d' ' -f1)" '.dedupe_hash == $h' <<<"$out" >/dev/null ||
			fail "$seq: dedupe_hash is not the SHA-256 of the bytes read"
	done
}

@test "bytes after the notification are malformed_json at the first of them" {
	line=$(notify "A:10")
	for tail in ' x' '}' ' {}' ',1'; do
		out=$(bb-validate 2>/dev/null <<<"$line$tail")
		is_rejected "$out" malformed_json null
		want=$(( ${#line} + $( [ "${tail:0:1}" = ' ' ] && echo 1 || echo 0) ))
		jq -e --arg o "bytes after the value at byte $want" '.error.message == $o' <<<"$out" >/dev/null ||
			fail "'$tail': $(jq -r .error.message <<<"$out")"
	done
}

@test "an envelope whose body is not strict JSON is rejected, the envelope kept" {
	run --separate-stderr bb-validate <<<"$(envelope "$(amount_as 05)")"
	expect_rejected malformed_json null
	check '.sqs.message_id == "m-1" and .message_id == "m-1" and (.error.message | startswith("invalid number at byte"))'
}

# ---- no string cut short ----

@test "NotificationIds differing only after an escaped NUL are both rejected as schema, never one duplicate" {
	a=$(notify "A:10" '.NotificationMetadata.NotificationId = "n-1\u0000a"')
	b=$(notify "A:10" '.NotificationMetadata.NotificationId = "n-1\u0000b"')
	run --separate-stderr bb-validate <<<"$a"$'\n'"$b"
	[ "${#lines[@]}" -eq 2 ]
	for l in "${lines[@]}"; do
		is_rejected "$l" schema NotificationMetadata.NotificationId
		jq -e '.error.message == "NotificationMetadata.NotificationId: contains U+0000, which no id may hold"' <<<"$l" >/dev/null ||
			fail "$(jq -r .error.message <<<"$l")"
	done
	# each keeps an identity of its own: the hash of its bytes
	[ "$(jq -r .message_id <<<"${lines[0]}")" != "$(jq -r .message_id <<<"${lines[1]}")" ]
	jq -e --arg h "$(sha "$a")" '.message_id == $h' <<<"${lines[0]}"
}

@test "U+0000 in a seller id, the ASIN, the marketplace or the condition is schema at its path" {
	rejects_as "$(notify "A:10" '.Payload.AnyOfferChangedNotification.Offers[0].SellerId = "A\u0000B"')" schema "$AOC.Offers[0].SellerId"
	rejects_as "$(notify "A:10" '.Payload.AnyOfferChangedNotification.SellerId = "OURS\u0000"')" schema "$AOC.SellerId"
	rejects_as "$(notify "A:10" '.Payload.AnyOfferChangedNotification.OfferChangeTrigger.ASIN = "B000TEST\u00001"')" schema "$AOC.OfferChangeTrigger.ASIN"
	rejects_as "$(notify "A:10" '.Payload.AnyOfferChangedNotification.OfferChangeTrigger.MarketplaceId = "ATVPDKIKX0DER\u0000"')" schema "$AOC.OfferChangeTrigger.MarketplaceId"
	rejects_as "$(notify "A:10" '.Payload.AnyOfferChangedNotification.OfferChangeTrigger.ItemCondition = "new\u0000"')" schema "$AOC.OfferChangeTrigger.ItemCondition"
}

@test "a string with an escaped NUL where bb keeps no id is accepted whole" {
	run --separate-stderr bb-validate <<<"$(notify "A:10" '.NotificationMetadata.ApplicationId = "app\u0000tail"')"
	check '.status == "ok" and ((.body | fromjson).NotificationMetadata.ApplicationId == "app\u0000tail")'
}

# ---- the same output as before the strict reader ----

# The expected files were written by bb-validate as it was when it read with
# libjq (members that vary or are large left out, keys sorted): the strict
# reader must not change what a valid notification becomes. Only the wording
# of a malformed_json message differs, and the expected file says it anew.
compare_with() {
	local input=$1 expected=$BATS_TEST_DIRNAME/fixtures/validate/compare/$2
	BB_NOW=2026-01-01T00:00:00Z bb-validate <"$input" 2>/dev/null |
		jq -cS 'del(.trace_id, .received_at, .body)' >"$BATS_TEST_TMPDIR/got"
	diff "$expected" "$BATS_TEST_TMPDIR/got" >"$BATS_TEST_TMPDIR/diff" ||
		fail "differs from $2: $(head -c 2000 "$BATS_TEST_TMPDIR/diff")"
}

@test "outputs equal the libjq reader's on a generated corpus, as JSON values" {
	"$BATS_TEST_DIRNAME/../scripts/gen-corpus" 200 11 "$BATS_TEST_TMPDIR/costs.csv" >"$BATS_TEST_TMPDIR/corpus"
	compare_with "$BATS_TEST_TMPDIR/corpus" corpus-200-11.expected.ndjson
}

@test "outputs equal the libjq reader's on the examples and fixtures, as JSON values" {
	cat "$BATS_TEST_DIRNAME/../examples/notifications.ndjson" "$BATS_TEST_DIRNAME/../examples/invalid.ndjson" >"$BATS_TEST_TMPDIR/ex"
	compare_with "$BATS_TEST_TMPDIR/ex" examples.expected.ndjson
	(cd "$V" && cat b2b-any-offer-changed.json pricing-health.json representative.json unusual-whitespace.ndjson | jq -c .) >"$BATS_TEST_TMPDIR/fix"
	compare_with "$BATS_TEST_TMPDIR/fix" fixtures.expected.ndjson
}
