load helper
# man-examples.bats: every EXAMPLES entry of the man pages, run as the page
# writes it, from a scratch directory that sees the repository's examples/,
# so the files an example writes land in $BATS_TEST_TMPDIR. Each test checks
# what a broken program would get wrong, not just the exit status.

bats_require_minimum_version 1.5.0

setup() {
	ln -s "$BATS_TEST_DIRNAME/../examples" "$BATS_TEST_TMPDIR/examples"
	cd "$BATS_TEST_TMPDIR"
}

# ---- bb-validate(1) ----

@test "bb-validate(1): the sample notifications are 8 ok and 1 skipped" {
	run -0 bash <<'EOF'
bb-validate < examples/notifications.ndjson 2>/dev/null |
    jq -r .status | sort | uniq -c
EOF
	assert_output "$(printf '      8 ok\n      1 skipped')"
}

@test "bb-validate(1): each bad notification is rejected with its error type and path" {
	run -0 bash <<'EOF'
bb-validate < examples/invalid.ndjson 2>/dev/null |
    jq -r '.error.type + " " + (.error.path // "-")'
EOF
	assert_output - <<'EOF'
invalid_asin Payload.AnyOfferChangedNotification.OfferChangeTrigger.ASIN
schema Payload.AnyOfferChangedNotification.Offers[3].ListingPrice.Amount
invalid_amount Payload.AnyOfferChangedNotification.Offers[1].Shipping.Amount
invalid_amount Payload.AnyOfferChangedNotification.Offers[2].ListingPrice.CurrencyCode
invalid_marketplace Payload.AnyOfferChangedNotification.OfferChangeTrigger.MarketplaceId
invalid_time EventTime
schema Payload.AnyOfferChangedNotification.Offers[0].SellerId
malformed_json -
EOF
}

@test "bb-validate(1): --rejects keeps the 8 rejected records while all reach stdout" {
	run -0 bash <<'EOF'
bb-validate --rejects rejects.ndjson \
    < examples/invalid.ndjson > validated.ndjson
EOF
	run -0 bash -c 'wc -l < rejects.ndjson'
	assert_output 8
	run -0 bash -c 'jq -r .status validated.ndjson | sort | uniq -c'
	assert_output '      8 rejected'
	# the rejects file holds the very records written on stdout
	run -0 cmp rejects.ndjson validated.ndjson
}

@test "bb-validate(1): --strict stops after the first rejected record with 65" {
	run -65 bash -c 'bb-validate --strict < examples/invalid.ndjson > first.ndjson'
	assert_line --partial 'level=warn prog=bb-validate'
	assert_line --partial 'msg=summary ok=0 rejected=1 skipped=0 passed=0'
	run -0 jq -r .error.type first.ndjson
	assert_output invalid_asin
}

@test "bb-validate(1): --unsupported reject rejects the PRICING_HEALTH notification" {
	run -0 bash <<'EOF'
bb-validate --unsupported reject < examples/notifications.ndjson \
    2>/dev/null | jq -c 'select(.status != "ok") | {status, type: .error.type}'
EOF
	assert_output '{"status":"rejected","type":"unsupported_type"}'
}

@test "bb-validate(1): a message received a fourth time is poison" {
	run -0 bash <<'EOF'
head -n 1 examples/notifications.ndjson |
    jq -c '{sqs: {message_id: "m-1", receive_count: 4}, body: tojson}' |
    bb-validate --max-receive-count 3 2>/dev/null |
    jq -c '{message_id, status, error: .error.type}'
EOF
	assert_output '{"message_id":"m-1","status":"rejected","error":"poison"}'
}

# ---- bb-severity(1) ----

@test "bb-severity(1): the text report of the sample notifications" {
	run -0 bash <<'EOF'
bb-validate < examples/notifications.ndjson 2>/dev/null |
    bb-severity --costs examples/costs.csv --seller-id A1BBDEMOSELLER \
    --format text 2>/dev/null
EOF
	assert_output - <<'EOF'
CRITICAL B0CRIT0001 ATVPDKIKX0DER ours USD 21.00 low USD 10.00 critical: offers 12 ≥ 10; gap 110.00% ≥ 50%; not buy-box winner; position 11 of 12 (90.9th percentile) ≥ 80th [margin-squeeze,race-to-bottom]
HIGH     B0HIGH0002 ATVPDKIKX0DER ours USD 15.00 low USD 12.00 high-gap: offers 6 ≥ 5; gap 25.00% ≥ 20%; not buy-box winner
HIGH     B0THIN0003 ATVPDKIKX0DER ours USD 9.49 low USD 9.79 high-thin-margin: buy-box winner; margin at current price 2.85% < 10%
WARNING  B0WARN0004 ATVPDKIKX0DER ours USD 28.00 low USD 25.00 warning-gap: offers 5 ≥ 3; gap 12.00% ≥ 10%; position 4 ≥ 4
SUCCESS  B0GOOD0005 ATVPDKIKX0DER ours USD 39.99 low USD 42.49 success-buy-box: buy-box winner
STABLE   B0STBL0006 ATVPDKIKX0DER ours USD 52.00 low USD 50.00 stable: no rule above held
SUCCESS  B0JPYN0007 A1VC38T7YXB528 ours JPY 3010 low JPY 2980 success-top3: position 2 ≤ 3; gap 1.01% ≤ 5%
WARNING  B0DEUT0008 A1PA6795UKMFR9 ours - low EUR 4.60 offer-missing: no offer of ours among 3 offers [offer-missing]
SKIPPED  - line 9 unsupported_type: NotificationType: PRICING_HEALTH is not analysed by bb
EOF
}

@test "bb-severity(1): jq lists the one CRITICAL ASIN" {
	run -0 bash <<'EOF'
bb-validate < examples/notifications.ndjson 2>/dev/null |
    bb-severity --costs examples/costs.csv 2>/dev/null |
    jq -r 'select(.analysis.severity == "CRITICAL") | .notification.asin'
EOF
	assert_output B0CRIT0001
}

@test "bb-severity(1): --set high_min_gap_pct=30 drops the 25% gap to WARNING" {
	run -0 bash <<'EOF'
bb-validate < examples/notifications.ndjson 2>/dev/null |
    bb-severity --costs examples/costs.csv --set high_min_gap_pct=30 \
    2>/dev/null | jq -r 'select(.status == "ok") |
    .notification.asin + " " + .analysis.severity + " " + .analysis.rule'
EOF
	assert_output - <<'EOF'
B0CRIT0001 CRITICAL critical
B0HIGH0002 WARNING warning-gap
B0THIN0003 HIGH high-thin-margin
B0WARN0004 WARNING warning-gap
B0GOOD0005 SUCCESS success-buy-box
B0STBL0006 STABLE stable
B0JPYN0007 SUCCESS success-top3
B0DEUT0008 WARNING offer-missing
EOF
}

@test "bb-severity(1): the recommended prices of the CRITICAL and HIGH ASINs" {
	run -0 bash <<'EOF'
bb-validate < examples/notifications.ndjson 2>/dev/null |
    bb-severity --costs examples/costs.csv 2>/dev/null |
    jq -c 'select(.status == "ok" and .analysis.priority <= 2) | {asin: .notification.asin,
    min: .analysis.min_viable_price,
    prices: [.analysis.recommended_prices[] | .price]}'
EOF
	assert_output - <<'EOF'
{"asin":"B0CRIT0001","min":1143,"prices":[]}
{"asin":"B0HIGH0002","min":996,"prices":[1200,1199,1350]}
{"asin":"B0THIN0003","min":918,"prices":[979,978,949]}
EOF
}

@test "bb-severity(1): the ASINs with risk flags" {
	run -0 bash <<'EOF'
bb-validate < examples/notifications.ndjson 2>/dev/null |
    bb-severity --costs examples/costs.csv 2>/dev/null |
    jq -r 'select((.analysis.risk_flags // []) != []) |
    .notification.asin + " " + (.analysis.risk_flags | join(","))'
EOF
	assert_output - <<'EOF'
B0CRIT0001 margin-squeeze,race-to-bottom
B0DEUT0008 offer-missing
EOF
}

# ---- bb-record(5) ----

@test "bb-record(5): the members bb-validate gives a bare notification" {
	run -0 bash <<'EOF'
head -n 1 examples/notifications.ndjson | bb-validate 2>/dev/null |
    jq -c keys_unsorted
EOF
	assert_output '["body","received_at","trace_id","message_id","dedupe_hash","notification","status"]'
}

@test "bb-record(5): the normalised notification and its first offer" {
	run -0 bash <<'EOF'
head -n 1 examples/notifications.ndjson | bb-validate 2>/dev/null |
    jq -c '.notification | del(.offers)'
EOF
	assert_output '{"type":"ANY_OFFER_CHANGED","notification_id":"0b3e6c1a-1111-4a8e-9c01-000000000001","event_time":"2026-01-05T09:00:00.120Z","publish_time":"2026-01-05T09:00:00.120Z","seller_id":"A1BBDEMOSELLER","marketplace":"ATVPDKIKX0DER","asin":"B0CRIT0001","condition":"new","change_type":"Internal","currency":"USD","summary":{"total_offers":12,"buy_box_eligible_offers":null,"lowest_landed":null,"buy_box_landed":1000,"list_price":null,"sales_rankings":[{"category":"home_display_on_website","rank":5120}]}}'
	run -0 bash <<'EOF'
head -n 1 examples/notifications.ndjson | bb-validate 2>/dev/null |
    jq -c '.notification.offers[0]'
EOF
	assert_output '{"seller_id":"A2COMPET0XYZ","listing":1000,"shipping":0,"landed":1000,"fba":true,"prime":true,"buy_box_winner":true,"featured":true,"feedback_count":1200,"feedback_rating":97,"sub_condition":"new","min_hours":0,"max_hours":0}'
}

@test "bb-record(5): dedupe_hash is the SHA-256 of the body bytes" {
	run -0 bash <<'EOF'
head -n 1 examples/notifications.ndjson | bb-validate 2>/dev/null \
    > record.ndjson
EOF
	run -0 bash -c 'jq -j .body record.ndjson | sha256sum'
	assert_output '0460b1a5b1626436e80dcf9048eddb7ba1887fdc9b9ff6f88fb594c28b03fce4  -'
	run -0 jq -r .dedupe_hash record.ndjson
	assert_output 0460b1a5b1626436e80dcf9048eddb7ba1887fdc9b9ff6f88fb594c28b03fce4
}

@test "bb-record(5): an envelope keeps its own trace id" {
	run -0 bash <<'EOF'
head -n 1 examples/notifications.ndjson |
    jq -c '{trace_id: "replay-0001", body: tojson}' |
    bb-validate 2>/dev/null | jq -c '{trace_id, message_id, status}'
EOF
	assert_output '{"trace_id":"replay-0001","message_id":"0b3e6c1a-1111-4a8e-9c01-000000000001","status":"ok"}'
}

# ---- bb.conf(5) ----

@test "bb.conf(5): the sample configuration names our seller id" {
	run -0 bash <<'EOF'
export BB_CONFIG=examples/bb.conf BB_ANALYSIS_COSTS=examples/costs.csv
bb-validate < examples/notifications.ndjson 2>/dev/null |
    bb-severity 2>/dev/null | jq -r 'select(.status == "ok") |
    .notification.asin + " " + .analysis.severity'
EOF
	assert_output - <<'EOF'
B0CRIT0001 CRITICAL
B0HIGH0002 HIGH
B0THIN0003 HIGH
B0WARN0004 WARNING
B0GOOD0005 SUCCESS
B0STBL0006 STABLE
B0JPYN0007 SUCCESS
B0DEUT0008 WARNING
EOF
}

@test "bb.conf(5): a configuration is checked on no input, and a bad threshold exits 78" {
	run -0 bash <<'EOF'
BB_CONFIG=examples/bb.conf BB_ANALYSIS_COSTS=examples/costs.csv \
    bb-severity < /dev/null 2>/dev/null && echo configuration ok
EOF
	assert_output 'configuration ok'
	run -78 bash <<'EOF'
BB_CONFIG=examples/bb.conf BB_SEVERITY_HIGH_MIN_GAP_PCT=20% \
    bb-severity < /dev/null
EOF
	assert_output "bb-severity: fatal: unable to use [severity] high_min_gap_pct '20%': expected a non-negative number with at most two decimals"
}

@test "bb.conf(5): the environment overrides the file and --set overrides both" {
	run -0 bash <<'EOF'
export BB_CONFIG=examples/bb.conf BB_ANALYSIS_COSTS=examples/costs.csv
bb-validate < examples/notifications.ndjson 2>/dev/null > validated.ndjson
EOF
	run -0 bash <<'EOF'
export BB_CONFIG=examples/bb.conf BB_ANALYSIS_COSTS=examples/costs.csv
BB_SEVERITY_CRITICAL_MIN_GAP_PCT=150 bb-severity < validated.ndjson \
    2>/dev/null | jq -r 'select(.notification.asin == "B0CRIT0001") |
    .analysis.rule'
EOF
	assert_output high-gap
	run -0 bash <<'EOF'
export BB_CONFIG=examples/bb.conf BB_ANALYSIS_COSTS=examples/costs.csv
BB_SEVERITY_CRITICAL_MIN_GAP_PCT=150 bb-severity \
    --set critical_min_gap_pct=100 < validated.ndjson 2>/dev/null |
    jq -r 'select(.notification.asin == "B0CRIT0001") | .analysis.rule'
EOF
	assert_output critical
}

# ---- bb(7) ----

@test "bb(7): how many products are at each severity" {
	run -0 bash <<'EOF'
bb-validate < examples/notifications.ndjson 2>/dev/null |
    bb-severity --costs examples/costs.csv --seller-id A1BBDEMOSELLER \
    2>/dev/null | jq -r 'select(.status == "ok") | .analysis.severity' |
    sort | uniq -c
EOF
	assert_output - <<'EOF'
      1 CRITICAL
      2 HIGH
      1 STABLE
      2 SUCCESS
      2 WARNING
EOF
}

# The replay runbook starts from a rejects file kept by an earlier run.
keep_rejects() {
	bb-validate --rejects rejects.ndjson < examples/invalid.ndjson \
	    > /dev/null 2>&1
}

@test "bb(7): replaying: a run keeps its rejected records" {
	run -0 keep_rejects
	run -0 jq -r .status rejects.ndjson
	assert_equal "${#lines[@]}" 8
	refute_line --regexp '^(ok|skipped)$'
}

@test "bb(7): replaying: the rejects moved aside say what went wrong" {
	keep_rejects
	run -0 mv rejects.ndjson replay.ndjson
	run -0 bash -c 'jq -r .error.type replay.ndjson | sort | uniq -c'
	assert_output - <<'EOF'
      2 invalid_amount
      1 invalid_asin
      1 invalid_marketplace
      1 invalid_time
      1 malformed_json
      2 schema
EOF
	run -0 jq -r 'select(.error.type == "schema") | .error.message' replay.ndjson
	assert_output - <<'EOF'
Payload.AnyOfferChangedNotification.Offers[3].ListingPrice.Amount: expected a number, got string
Payload.AnyOfferChangedNotification.Offers[0].SellerId: missing (required, expected a string)
EOF
}

@test "bb(7): replaying: the fixed record goes through, keeps its trace id, loses its old error" {
	keep_rejects
	mv rejects.ndjson replay.ndjson
	run -0 bash <<'EOF'
jq -c 'select(.error.message | endswith("expected a number, got string"))
    | .body |= (fromjson
        | (.. | objects | select(has("Amount")) | .Amount) |= tonumber
        | tojson)' replay.ndjson > fixed.ndjson
bb-validate --rejects rejects.ndjson < fixed.ndjson 2>/dev/null |
    bb-severity --costs examples/costs.csv --format text 2>/dev/null
EOF
	assert_output 'HIGH     B0HIGH0002 ATVPDKIKX0DER ours USD 15.00 low USD 12.00 high-gap: offers 6 ≥ 5; gap 25.00% ≥ 20%; not buy-box winner'
	# nothing was rejected this time, and the record is the one rejected before
	run -0 wc -c < rejects.ndjson
	assert_output 0
	old=$(jq -r 'select(.error.type == "schema") | .trace_id' replay.ndjson | head -n 1)
	run -0 bash -c 'bb-validate < fixed.ndjson 2>/dev/null | jq -c "{trace_id, status, error}"'
	assert_output "{\"trace_id\":\"$old\",\"status\":\"ok\",\"error\":null}"
}

analyse_samples() {
	bb-validate < examples/notifications.ndjson 2>/dev/null |
	    bb-severity --costs examples/costs.csv 2>/dev/null > analysed.ndjson
}

@test "bb(7): investigating: the CRITICAL ASIN and the reasons its rule held" {
	run -0 analyse_samples
	run -0 jq -r 'select(.analysis.severity == "CRITICAL") | .notification.asin' \
	    analysed.ndjson
	assert_output B0CRIT0001
	run -0 jq -r 'select(.notification.asin == "B0CRIT0001") | .analysis.reasons[]' \
	    analysed.ndjson
	assert_output - <<'EOF'
offers 12 ≥ 10
gap 110.00% ≥ 50%
not buy-box winner
position 11 of 12 (90.9th percentile) ≥ 80th
EOF
}

@test "bb(7): investigating: the numbers behind a CRITICAL verdict" {
	analyse_samples
	run -0 jq -c 'select(.notification.asin == "B0CRIT0001") | .analysis |
    {our_price, market_low, market_low_seller, min_viable_price,
     margin_at_market_low, estimated_daily_sales, risk_flags}' analysed.ndjson
	assert_output '{"our_price":2100,"market_low":1000,"market_low_seller":"A2COMPET0XYZ","min_viable_price":1143,"margin_at_market_low":-12.2,"estimated_daily_sales":3,"risk_flags":["margin-squeeze","race-to-bottom"]}'
}

@test "bb(7): investigating: every offer, cheapest first, ours 11th of 12" {
	analyse_samples
	run -0 jq -r 'select(.notification.asin == "B0CRIT0001") |
    .notification.offers | sort_by(.landed)[] |
    [.landed, .seller_id, .buy_box_winner] | map(tostring) | join(" ")' \
	    analysed.ndjson
	assert_output - <<'EOF'
1000 A2COMPET0XYZ true
1050 A2COMPET1XYZ false
1100 A2COMPET2XYZ false
1150 A2COMPET3XYZ false
1200 A2COMPET4XYZ false
1250 A2COMPET5XYZ false
1300 A2COMPET6XYZ false
1350 A2COMPET7XYZ false
1400 A2COMPET8XYZ false
1450 A2COMPET9XYZ false
2100 A1BBDEMOSELLER false
2998 A3EXPENSIVEONE false
EOF
}

@test "bb(7): investigating: critical_min_daily_sales=5 downgrades 3 sales a day to HIGH" {
	run -0 bash <<'EOF'
bb-validate < examples/notifications.ndjson 2>/dev/null |
    bb-severity --costs examples/costs.csv --set critical_min_daily_sales=5 \
    --format text 2>/dev/null | grep B0CRIT0001
EOF
	assert_output 'HIGH     B0CRIT0001 ATVPDKIKX0DER ours USD 21.00 low USD 10.00 critical-downgraded: offers 12 ≥ 10; gap 110.00% ≥ 50%; not buy-box winner; position 11 of 12 (90.9th percentile) ≥ 80th; estimated daily sales 3 < 5 [margin-squeeze,race-to-bottom]'
}

# A notification as the SQS console shows it: pretty-printed.
pretty_notification() {
	jq 'select(.Payload.AnyOfferChangedNotification.OfferChangeTrigger.ASIN == "B0HIGH0002")' \
	    examples/notifications.ndjson > notification.json
}

@test "bb(7): by hand: a pretty-printed notification is checked and analysed" {
	pretty_notification
	run -0 jq -c . notification.json
	run -0 bash <<'EOF'
jq -c . notification.json > one.ndjson
bb-validate < one.ndjson 2>/dev/null | jq -c '.status,
    [.notification.offers[] | [.seller_id, .landed, .buy_box_winner]]'
EOF
	assert_output - <<'EOF'
"ok"
[["A2LOWPRICEXYZ",1200,true],["A1BBDEMOSELLER",1500,false],["A4OTHERSELLER1",1350,false],["A4OTHERSELLER2",1425,false],["A4OTHERSELLER3",1600,false],["A4OTHERSELLER4",1950,false]]
EOF
	run -0 bash <<'EOF'
bb-validate < one.ndjson 2>/dev/null |
    bb-severity --costs examples/costs.csv --format text 2>/dev/null
EOF
	assert_output 'HIGH     B0HIGH0002 ATVPDKIKX0DER ours USD 15.00 low USD 12.00 high-gap: offers 6 ≥ 5; gap 25.00% ≥ 20%; not buy-box winner'
}

@test "bb(7): by hand: our price cut to 12.50 would be SUCCESS" {
	pretty_notification
	jq -c . notification.json > one.ndjson
	run -0 bash <<'EOF'
jq -c '.Payload.AnyOfferChangedNotification.Offers[1].ListingPrice.Amount
    = 12.5' one.ndjson | bb-validate 2>/dev/null |
    bb-severity --costs examples/costs.csv --format text 2>/dev/null
EOF
	assert_output 'SUCCESS  B0HIGH0002 ATVPDKIKX0DER ours USD 12.50 low USD 12.00 success-top3: position 2 ≤ 3; gap 4.17% ≤ 5%'
}

@test "bb(7): by hand: a bad notification says where it is wrong" {
	run -0 bash <<'EOF'
head -n 1 examples/invalid.ndjson | bb-validate 2>/dev/null |
    jq -r .error.message
EOF
	assert_output "Payload.AnyOfferChangedNotification.OfferChangeTrigger.ASIN: 'B0BAD' is not 10 characters of A-Z and 0-9"
}

@test "bb(7): logs: 8 warnings, and one record followed by its trace id" {
	run -0 bash -c 'bb-validate < examples/invalid.ndjson 2>&1 >/dev/null | grep -c level=warn'
	assert_output 8
	run -0 bash <<'EOF'
head -n 1 examples/invalid.ndjson |
    jq -c '{trace_id: "replay-0001", body: tojson}' |
    bb-validate 2>&1 >/dev/null | grep trace_id=replay-0001
EOF
	assert_equal "${#lines[@]}" 1
	[[ $output =~ ^ts=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z\  ]]
	assert_equal "${output#* }" "level=warn prog=bb-validate trace_id=replay-0001 msg=\"line 1: invalid_asin: Payload.AnyOfferChangedNotification.OfferChangeTrigger.ASIN: 'B0BAD' is not 10 characters of A-Z and 0-9\" line=1 error_type=invalid_asin"
}

@test "bb(7): logs: the summary as JSON" {
	run -0 bash <<'EOF'
BB_LOG_FORMAT=json bb-validate < examples/invalid.ndjson 2>&1 >/dev/null |
    jq -c 'select(.msg == "summary") | {prog, ok, rejected}'
EOF
	assert_output '{"prog":"bb-validate","ok":"0","rejected":"8"}'
}
