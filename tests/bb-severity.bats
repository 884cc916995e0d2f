#!/usr/bin/env bats
# bb-severity: the competitive analysis of SEVERITY.md, rule by rule, each
# threshold at its boundary and one minor unit either side. Every expected
# number below was computed by hand from SEVERITY.md (the working is in the
# comments), never copied from the program's output.

load helper

setup() {
	COSTS="$BATS_TEST_TMPDIR/costs.csv"
	HEADER=asin,marketplace,currency,unit_cost,fulfillment_fee,other_fees,referral_pct,min_referral_fee,daily_sales
}

# verdict: "rule SEVERITY priority" of the analysis on stdin.
verdict() {
	jq -r '"\(.rule) \(.severity) \(.priority)"'
}

# pick FIELDS: a compact array of some fields of the analysis on stdin.
pick() {
	jq -c "[$1]"
}

# same_json ACTUAL EXPECTED: equal as JSON values (key order ignored).
same_json() {
	assert_equal "$(jq -S -c . <<<"$1")" "$(jq -S -c . <<<"$2")"
}

# Five competitors at 10, 11, 12, 13 and 20 dollars, ours at $1: ranked 6;
# at 15.00 four competitors are strictly cheaper, so position 5 of 6, which
# is exactly the 80th percentile (100·4 = 80·5).
crit_offers() {
	echo "OURS:$1 A:10.00 B:11.00 C:12.00 D:13.00 E:20.00"
}

# The notification edited into the Japanese marketplace, every amount in JPY.
JPY='.Payload.AnyOfferChangedNotification |= (.OfferChangeTrigger.MarketplaceId = "A1VC38T7YXB528" | .Offers[] |= (.ListingPrice.CurrencyCode = "JPY" | .Shipping.CurrencyCode = "JPY"))'

# A Summary with NumberOfOffers totalling 6 for "new" and a BuyBoxPrices entry
# for "New" at $1.
with_buy_box() {
	printf '.Payload.AnyOfferChangedNotification.Summary = {NumberOfOffers: [{Condition: "new", FulfillmentChannel: "Merchant", OfferCount: 6}], BuyBoxPrices: [{Condition: "New", LandedPrice: {Amount: %s, CurrencyCode: "USD"}}]}' "$1"
}

# Cost rows used by several tests, with their hand-computed break-even:
#   COST972: unit 6.10 + fulfilment 3.22 + other 0.40 = 972 cents, referral 15 %
#   (min 0.30). profit(1143) = 1143 - floor(171.45+0.5)=171 - 972 = 0 and
#   profit(1142) = 1142 - 171 - 972 = -1, so min_viable_price = 1143.
COST972=B000TEST01,ATVPDKIKX0DER,USD,6.10,3.22,0.40,15,0.30,

# ---------------------------------------------------------------------------
# The rules, in order

@test "a notification without an offer of ours is WARNING offer-missing with null position, gap and price" {
	a=$(notify "A:10.00 B:12.00:p" | analyse)
	same_json "$(jq 'del(.reasons)' <<<"$a")" '{
	  "severity": "WARNING", "priority": 3, "rule": "offer-missing",
	  "our_price": null, "market_low": 1000, "market_low_seller": "A", "prime_low": 1200,
	  "buy_box_price": null, "total_offers": 2, "offers_listed": 2, "position": null,
	  "position_percentile": null, "gap_pct": null, "buy_box_winner": false,
	  "min_viable_price": null, "margin_at_current": null, "margin_at_market_low": null,
	  "margin_at_prime_low": null, "estimated_daily_sales": null,
	  "risk_flags": ["no-cost-data", "offer-missing"], "recommended_prices": []}'
}

@test "a gap of exactly 50% with 12 offers and position at the 80th percentile is CRITICAL (high-gap holds too)" {
	a=$(notify "$(crit_offers 15.00)" "$(with_offers_count 12)" | analyse)
	same_json "$(jq 'del(.reasons)' <<<"$a")" '{
	  "severity": "CRITICAL", "priority": 1, "rule": "critical",
	  "our_price": 1500, "market_low": 1000, "market_low_seller": "A", "prime_low": null,
	  "buy_box_price": null, "total_offers": 12, "offers_listed": 6, "position": 5,
	  "position_percentile": 80, "gap_pct": 50, "buy_box_winner": false,
	  "min_viable_price": null, "margin_at_current": null, "margin_at_market_low": null,
	  "margin_at_prime_low": null, "estimated_daily_sales": null,
	  "risk_flags": ["no-cost-data"], "recommended_prices": []}'
}

@test "the critical reasons state the numbers as in the SEVERITY.md example" {
	# low 8.00, ours 13.00: gap 500/800 = 62.5 %; ten competitors below us and
	# one above: position 11 of 12, 100·10/11 = 90.909 → 90.9th
	a=$(notify "A:8.00 B:8.50 C:9.00 D:9.50 E:10.00 F:10.50 G:11.00 H:11.50 I:12.00 J:12.50 K:14.00 OURS:13.00" \
		"$(with_offers_count 12)" | analyse)
	assert_equal "$(verdict <<<"$a")" "critical CRITICAL 1"
	assert_equal "$(pick '.gap_pct, .position, .position_percentile' <<<"$a")" '[62.5,11,90.91]'
	assert_equal "$(jq -r '.reasons | join("; ")' <<<"$a")" \
		"offers 12 ≥ 10; gap 62.50% ≥ 50%; not buy-box winner; position 11 of 12 (90.9th percentile) ≥ 80th"
}

@test "a critical case whose cost row sells 0.99 a day is downgraded to HIGH critical-downgraded" {
	cat >"$COSTS" <<-EOF
	$HEADER
	B000TEST01,ATVPDKIKX0DER,USD,1.00,0,0,0,0,0.99
	EOF
	a=$(notify "$(crit_offers 15.00)" "$(with_offers_count 12)" | analyse --costs "$COSTS")
	assert_equal "$(verdict <<<"$a")" "critical-downgraded HIGH 2"
	assert_equal "$(pick '.estimated_daily_sales, .gap_pct, .position' <<<"$a")" '[0.99,50,5]'
}

@test "a critical case selling exactly 1 a day (the threshold) stays CRITICAL" {
	cat >"$COSTS" <<-EOF
	$HEADER
	B000TEST01,ATVPDKIKX0DER,USD,1.00,0,0,0,0,1
	EOF
	a=$(notify "$(crit_offers 15.00)" "$(with_offers_count 12)" | analyse --costs "$COSTS")
	assert_equal "$(verdict <<<"$a")" "critical CRITICAL 1"
	assert_equal "$(pick '.estimated_daily_sales' <<<"$a")" '[1]'
}

@test "a critical case selling 1.01 a day stays CRITICAL" {
	cat >"$COSTS" <<-EOF
	$HEADER
	B000TEST01,ATVPDKIKX0DER,USD,1.00,0,0,0,0,1.01
	EOF
	a=$(notify "$(crit_offers 15.00)" "$(with_offers_count 12)" | analyse --costs "$COSTS")
	assert_equal "$(verdict <<<"$a")" "critical CRITICAL 1"
	assert_equal "$(pick '.estimated_daily_sales' <<<"$a")" '[1.01]'
}

@test "daily_sales comes from the chosen (exact) row only, not from the * row" {
	cat >"$COSTS" <<-EOF
	$HEADER
	B000TEST01,*,USD,1.00,0,0,0,0,0.5
	B000TEST01,ATVPDKIKX0DER,USD,1.00,0,0,0,0,
	EOF
	a=$(notify "$(crit_offers 15.00)" "$(with_offers_count 12)" | analyse --costs "$COSTS")
	assert_equal "$(verdict <<<"$a")" "critical CRITICAL 1"
	assert_equal "$(pick '.estimated_daily_sales' <<<"$a")" '[null]'
}

@test "a 30% gap with 6 offers (one above the high threshold of 5) and no buy box is HIGH high-gap" {
	a=$(notify "OURS:13.00 A:10.00" "$(with_offers_count 6)" | analyse)
	assert_equal "$(verdict <<<"$a")" "high-gap HIGH 2"
	assert_equal "$(pick '.gap_pct, .total_offers, .offers_listed, .position, .position_percentile' <<<"$a")" '[30,6,2,2,100]'
	assert_equal "$(jq -r '.reasons | join("; ")' <<<"$a")" "offers 6 ≥ 5; gap 30.00% ≥ 20%; not buy-box winner"
}

@test "high-gap and warning-gap both hold (gap 30%, position 4, 6 offers): high-gap decides" {
	a=$(notify "OURS:13.00 A:10.00 B:10.50 C:11.00" "$(with_offers_count 6)" | analyse)
	assert_equal "$(verdict <<<"$a")" "high-gap HIGH 2"
	assert_equal "$(pick '.gap_pct, .position' <<<"$a")" '[30,4]'
}

@test "a buy-box winner with a 33% gap at position 4 and no costs is not high-gap but warning-gap" {
	# 6 offers, gap 500/1500 = 33.33 %, three competitors below: position 4
	a=$(notify "OURS:20.00:w A:15.00 B:16.00 C:17.00" "$(with_offers_count 6)" | analyse)
	assert_equal "$(verdict <<<"$a")" "warning-gap WARNING 3"
	assert_equal "$(pick '.buy_box_winner, .gap_pct, .position' <<<"$a")" '[true,33.33,4]'
}

@test "a buy-box winner whose margin is 9.95% is HIGH high-thin-margin (before warning-gap)" {
	# cost 15.00 all-in + 15 % referral; at 19.99 the referral is
	# floor(299.85+0.5) = 300, profit 1999-300-1500 = 199, 100·199/1999 = 9.95
	cat >"$COSTS" <<-EOF
	$HEADER
	B000TEST01,ATVPDKIKX0DER,USD,10.00,4.50,0.50,15,0.30,
	EOF
	a=$(notify "OURS:19.99:w A:15.00 B:16.00 C:17.00" "$(with_offers_count 6)" | analyse --costs "$COSTS")
	assert_equal "$(verdict <<<"$a")" "high-thin-margin HIGH 2"
	assert_equal "$(pick '.margin_at_current, .position, .buy_box_winner' <<<"$a")" '[9.95,4,true]'
}

@test "a gap of exactly 10% at position 4 with 4 offers is WARNING warning-gap" {
	a=$(notify "A:10.00 B:10.50 C:10.80 OURS:11.00" | analyse)
	assert_equal "$(verdict <<<"$a")" "warning-gap WARNING 3"
	assert_equal "$(pick '.gap_pct, .position, .total_offers' <<<"$a")" '[10,4,4]'
}

@test "a market low with a margin of 4.95% is WARNING warning-margin" {
	# cost 16.00 all-in + 15 %: at 19.99 referral 300, profit 99, 100·99/1999 = 4.95
	cat >"$COSTS" <<-EOF
	$HEADER
	B000TEST01,ATVPDKIKX0DER,USD,11.00,4.50,0.50,15,0.30,
	EOF
	a=$(notify "OURS:20.50 A:19.99" "$(with_offers_count 6)" | analyse --costs "$COSTS")
	assert_equal "$(verdict <<<"$a")" "warning-margin WARNING 3"
	assert_equal "$(pick '.margin_at_market_low, .risk_flags' <<<"$a")" '[4.95,["margin-squeeze"]]'
}

@test "warning-margin comes before success-few-offers" {
	# 2 offers; market low 10.00 with COST972: profit 1000-150-972 = -122
	cat >"$COSTS" <<-EOF
	$HEADER
	$COST972
	EOF
	a=$(notify "OURS:11.00 A:10.00" | analyse --costs "$COSTS")
	assert_equal "$(verdict <<<"$a")" "warning-margin WARNING 3"
	assert_equal "$(pick '.total_offers, .margin_at_market_low' <<<"$a")" '[2,-12.2]'
}

@test "success-few-offers comes before success-buy-box" {
	a=$(notify "OURS:10.00:w A:12.00" | analyse)
	assert_equal "$(verdict <<<"$a")" "success-few-offers SUCCESS 4"
	assert_equal "$(pick '.buy_box_winner' <<<"$a")" '[true]'
}

@test "the buy-box winner among 6 offers with no other rule is SUCCESS success-buy-box (before success-top3)" {
	a=$(notify "OURS:10.00:w A:12.00" "$(with_offers_count 6)" | analyse)
	assert_equal "$(verdict <<<"$a")" "success-buy-box SUCCESS 4"
	assert_equal "$(pick '.buy_box_winner, .position' <<<"$a")" '[true,1]'
}

@test "position 3 with a 4% gap among 6 offers is SUCCESS success-top3" {
	a=$(notify "A:10.00 B:10.10 C:10.50 OURS:10.40" "$(with_offers_count 6)" | analyse)
	assert_equal "$(verdict <<<"$a")" "success-top3 SUCCESS 4"
	assert_equal "$(pick '.position, .gap_pct' <<<"$a")" '[3,4]'
}

@test "position 4 with a 4% gap among 6 offers is STABLE" {
	a=$(notify "A:10.00 B:10.10 C:10.20 OURS:10.40" "$(with_offers_count 6)" | analyse)
	assert_equal "$(verdict <<<"$a")" "stable STABLE 5"
	assert_equal "$(pick '.position, .gap_pct' <<<"$a")" '[4,4]'
}

# ---------------------------------------------------------------------------
# Gap thresholds: at, one cent below, one cent above

@test "critical gap: 14.99 against a low of 10.00 (49.9%) is not CRITICAL but high-gap" {
	a=$(notify "$(crit_offers 14.99)" "$(with_offers_count 12)" | analyse)
	assert_equal "$(verdict <<<"$a")" "high-gap HIGH 2"
	assert_equal "$(pick '.gap_pct, .position' <<<"$a")" '[49.9,5]'
}

@test "critical gap: 15.01 against a low of 10.00 (50.1%) is CRITICAL" {
	a=$(notify "$(crit_offers 15.01)" "$(with_offers_count 12)" | analyse)
	assert_equal "$(verdict <<<"$a")" "critical CRITICAL 1"
	assert_equal "$(pick '.gap_pct, .position' <<<"$a")" '[50.1,5]'
}

@test "high gap: exactly 20% (12.00 against 10.00) is high-gap" {
	a=$(notify "OURS:12.00 A:10.00" "$(with_offers_count 6)" | analyse)
	assert_equal "$(verdict <<<"$a")" "high-gap HIGH 2"
	assert_equal "$(pick '.gap_pct' <<<"$a")" '[20]'
}

@test "high gap: 11.99 against 10.00 (19.9%) is STABLE" {
	a=$(notify "OURS:11.99 A:10.00" "$(with_offers_count 6)" | analyse)
	assert_equal "$(verdict <<<"$a")" "stable STABLE 5"
	assert_equal "$(pick '.gap_pct' <<<"$a")" '[19.9]'
}

@test "high gap: 12.01 against 10.00 (20.1%) is high-gap" {
	a=$(notify "OURS:12.01 A:10.00" "$(with_offers_count 6)" | analyse)
	assert_equal "$(verdict <<<"$a")" "high-gap HIGH 2"
	assert_equal "$(pick '.gap_pct' <<<"$a")" '[20.1]'
}

@test "warning gap: 10.99 against 10.00 (9.9%) at position 4 is STABLE" {
	a=$(notify "A:10.00 B:10.50 C:10.80 OURS:10.99" | analyse)
	assert_equal "$(verdict <<<"$a")" "stable STABLE 5"
	assert_equal "$(pick '.gap_pct, .position' <<<"$a")" '[9.9,4]'
}

@test "warning gap: 11.01 against 10.00 (10.1%) at position 4 is warning-gap" {
	a=$(notify "A:10.00 B:10.50 C:10.80 OURS:11.01" | analyse)
	assert_equal "$(verdict <<<"$a")" "warning-gap WARNING 3"
	assert_equal "$(pick '.gap_pct, .position' <<<"$a")" '[10.1,4]'
}

@test "success gap: exactly 5% (10.50 against 10.00) at position 2 is success-top3" {
	a=$(notify "OURS:10.50 A:10.00" "$(with_offers_count 6)" | analyse)
	assert_equal "$(verdict <<<"$a")" "success-top3 SUCCESS 4"
	assert_equal "$(pick '.gap_pct' <<<"$a")" '[5]'
}

@test "success gap: 10.49 against 10.00 (4.9%) is success-top3" {
	a=$(notify "OURS:10.49 A:10.00" "$(with_offers_count 6)" | analyse)
	assert_equal "$(verdict <<<"$a")" "success-top3 SUCCESS 4"
	assert_equal "$(pick '.gap_pct' <<<"$a")" '[4.9]'
}

@test "success gap: 10.51 against 10.00 (5.1%) is STABLE" {
	a=$(notify "OURS:10.51 A:10.00" "$(with_offers_count 6)" | analyse)
	assert_equal "$(verdict <<<"$a")" "stable STABLE 5"
	assert_equal "$(pick '.gap_pct' <<<"$a")" '[5.1]'
}

# ---------------------------------------------------------------------------
# Offer-count thresholds: at, one below, one above

@test "critical offers: exactly 10 offers is CRITICAL" {
	a=$(notify "$(crit_offers 15.00)" "$(with_offers_count 10)" | analyse)
	assert_equal "$(verdict <<<"$a")" "critical CRITICAL 1"
	assert_equal "$(pick '.total_offers' <<<"$a")" '[10]'
}

@test "critical offers: 9 offers is only high-gap" {
	a=$(notify "$(crit_offers 15.00)" "$(with_offers_count 9)" | analyse)
	assert_equal "$(verdict <<<"$a")" "high-gap HIGH 2"
	assert_equal "$(pick '.total_offers' <<<"$a")" '[9]'
}

@test "critical offers: 11 offers is CRITICAL" {
	a=$(notify "$(crit_offers 15.00)" "$(with_offers_count 11)" | analyse)
	assert_equal "$(verdict <<<"$a")" "critical CRITICAL 1"
	assert_equal "$(pick '.total_offers' <<<"$a")" '[11]'
}

@test "high offers: exactly 5 offers with a 30% gap is high-gap" {
	a=$(notify "OURS:13.00 A:10.00" "$(with_offers_count 5)" | analyse)
	assert_equal "$(verdict <<<"$a")" "high-gap HIGH 2"
}

@test "high offers: 4 offers with a 30% gap at position 2 is STABLE" {
	a=$(notify "OURS:13.00 A:10.00" "$(with_offers_count 4)" | analyse)
	assert_equal "$(verdict <<<"$a")" "stable STABLE 5"
	assert_equal "$(pick '.total_offers' <<<"$a")" '[4]'
}

@test "warning offers: exactly 3 offers with a 15% gap at position 4 is warning-gap" {
	a=$(notify "A:10.00 B:10.50 C:10.80 OURS:11.50" "$(with_offers_count 3)" | analyse)
	assert_equal "$(verdict <<<"$a")" "warning-gap WARNING 3"
	assert_equal "$(pick '.total_offers, .offers_listed, .gap_pct, .position' <<<"$a")" '[3,4,15,4]'
}

@test "warning offers: 2 offers with a 15% gap at position 4 is success-few-offers" {
	a=$(notify "A:10.00 B:10.50 C:10.80 OURS:11.50" "$(with_offers_count 2)" | analyse)
	assert_equal "$(verdict <<<"$a")" "success-few-offers SUCCESS 4"
	assert_equal "$(pick '.total_offers' <<<"$a")" '[2]'
}

@test "warning offers: 4 offers with a 15% gap at position 4 (the warning position) is warning-gap" {
	a=$(notify "A:10.00 B:10.50 C:10.80 OURS:11.50" "$(with_offers_count 4)" | analyse)
	assert_equal "$(verdict <<<"$a")" "warning-gap WARNING 3"
}

@test "success offers: 1 offer in the summary is success-few-offers" {
	a=$(notify "OURS:10.00 A:20.00" "$(with_offers_count 1)" | analyse)
	assert_equal "$(verdict <<<"$a")" "success-few-offers SUCCESS 4"
	assert_equal "$(pick '.total_offers' <<<"$a")" '[1]'
}

@test "success offers: exactly 2 offers in the summary is success-few-offers" {
	a=$(notify "OURS:10.00 A:20.00" "$(with_offers_count 2)" | analyse)
	assert_equal "$(verdict <<<"$a")" "success-few-offers SUCCESS 4"
	assert_equal "$(pick '.total_offers' <<<"$a")" '[2]'
}

@test "success offers: 3 offers in the summary is not few offers but success-top3" {
	a=$(notify "OURS:10.00 A:20.00" "$(with_offers_count 3)" | analyse)
	assert_equal "$(verdict <<<"$a")" "success-top3 SUCCESS 4"
	assert_equal "$(pick '.total_offers' <<<"$a")" '[3]'
}

# ---------------------------------------------------------------------------
# Position thresholds

@test "percentile: position 4 of 6 (60th) with a 50% gap is not CRITICAL but high-gap" {
	a=$(notify "OURS:15.00 A:10.00 B:11.00 C:12.00 D:16.00 E:20.00" "$(with_offers_count 12)" | analyse)
	assert_equal "$(verdict <<<"$a")" "high-gap HIGH 2"
	assert_equal "$(pick '.position, .position_percentile' <<<"$a")" '[4,60]'
}

@test "percentile: position 6 of 6 (100th) with a 50% gap is CRITICAL" {
	a=$(notify "OURS:15.00 A:10.00 B:11.00 C:12.00 D:13.00 E:14.00" "$(with_offers_count 12)" | analyse)
	assert_equal "$(verdict <<<"$a")" "critical CRITICAL 1"
	assert_equal "$(pick '.position, .position_percentile' <<<"$a")" '[6,100]'
}

@test "percentile: position 9 of 11 (exactly 80th: 100·8 = 80·10) is CRITICAL" {
	a=$(notify "OURS:15.00 A:10.00 B:10.50 C:11.00 D:11.50 E:12.00 F:12.50 G:13.00 H:13.50 I:16.00 J:17.00" \
		"$(with_offers_count 12)" | analyse)
	assert_equal "$(verdict <<<"$a")" "critical CRITICAL 1"
	assert_equal "$(pick '.position, .position_percentile' <<<"$a")" '[9,80]'
}

@test "percentile: position 8 of 11 (70th) is not CRITICAL" {
	a=$(notify "OURS:15.00 A:10.00 B:10.50 C:11.00 D:11.50 E:12.00 F:12.50 G:13.00 H:15.50 I:16.00 J:17.00" \
		"$(with_offers_count 12)" | analyse)
	assert_equal "$(verdict <<<"$a")" "high-gap HIGH 2"
	assert_equal "$(pick '.position, .position_percentile' <<<"$a")" '[8,70]'
}

@test "warning position: position 3 with a 15% gap is not warning-gap (STABLE)" {
	a=$(notify "A:10.00 B:10.50 C:12.00 OURS:11.50" | analyse)
	assert_equal "$(verdict <<<"$a")" "stable STABLE 5"
	assert_equal "$(pick '.position, .gap_pct' <<<"$a")" '[3,15]'
}

@test "warning position: position 5 with a 15% gap is warning-gap" {
	a=$(notify "A:10.00 B:10.50 C:10.80 D:11.00 OURS:11.50" | analyse)
	assert_equal "$(verdict <<<"$a")" "warning-gap WARNING 3"
	assert_equal "$(pick '.position, .total_offers' <<<"$a")" '[5,5]'
}

# ---------------------------------------------------------------------------
# Margin thresholds (hand-computed rows; see each comment)

@test "winner margin: exactly 10% at 20.00 is not thin (success-buy-box)" {
	# cost 15.00 all-in + 15 %: referral(2000) = 300, profit 200 = 10 % of 2000
	cat >"$COSTS" <<-EOF
	$HEADER
	B000TEST01,ATVPDKIKX0DER,USD,10.00,4.50,0.50,15,0.30,
	EOF
	a=$(notify "OURS:20.00:w A:25.00" "$(with_offers_count 6)" | analyse --costs "$COSTS")
	assert_equal "$(verdict <<<"$a")" "success-buy-box SUCCESS 4"
	assert_equal "$(pick '.margin_at_current, .margin_at_market_low' <<<"$a")" '[10,25]'
}

@test "winner margin: 19.99 (9.95%) is HIGH high-thin-margin" {
	cat >"$COSTS" <<-EOF
	$HEADER
	B000TEST01,ATVPDKIKX0DER,USD,10.00,4.50,0.50,15,0.30,
	EOF
	a=$(notify "OURS:19.99:w A:25.00" "$(with_offers_count 6)" | analyse --costs "$COSTS")
	assert_equal "$(verdict <<<"$a")" "high-thin-margin HIGH 2"
	assert_equal "$(pick '.margin_at_current' <<<"$a")" '[9.95]'
}

@test "winner margin: 20.01 (10.04%) is not thin (success-buy-box)" {
	# referral(2001) = floor(300.15+0.5) = 300, profit 201, 100·201/2001 = 10.045 → 10.04
	cat >"$COSTS" <<-EOF
	$HEADER
	B000TEST01,ATVPDKIKX0DER,USD,10.00,4.50,0.50,15,0.30,
	EOF
	a=$(notify "OURS:20.01:w A:25.00" "$(with_offers_count 6)" | analyse --costs "$COSTS")
	assert_equal "$(verdict <<<"$a")" "success-buy-box SUCCESS 4"
	assert_equal "$(pick '.margin_at_current' <<<"$a")" '[10.04]'
}

@test "market-low margin: exactly 5% at 20.00 is no squeeze (success-top3)" {
	# cost 16.00 all-in + 15 %: referral(2000) = 300, profit 100 = 5 % of 2000
	cat >"$COSTS" <<-EOF
	$HEADER
	B000TEST01,ATVPDKIKX0DER,USD,11.00,4.50,0.50,15,0.30,
	EOF
	a=$(notify "OURS:20.50 A:20.00" "$(with_offers_count 6)" | analyse --costs "$COSTS")
	assert_equal "$(verdict <<<"$a")" "success-top3 SUCCESS 4"
	assert_equal "$(pick '.margin_at_market_low, .risk_flags' <<<"$a")" '[5,[]]'
}

@test "market-low margin: 20.01 (5.05%) is no squeeze (success-top3)" {
	# referral(2001) = 300, profit 101, 100·101/2001 = 5.047 → 5.05
	cat >"$COSTS" <<-EOF
	$HEADER
	B000TEST01,ATVPDKIKX0DER,USD,11.00,4.50,0.50,15,0.30,
	EOF
	a=$(notify "OURS:20.50 A:20.01" "$(with_offers_count 6)" | analyse --costs "$COSTS")
	assert_equal "$(verdict <<<"$a")" "success-top3 SUCCESS 4"
	assert_equal "$(pick '.margin_at_market_low, .risk_flags' <<<"$a")" '[5.05,[]]'
}

# ---------------------------------------------------------------------------
# --set

@test "--set high_min_gap_pct=30 turns a 25% high-gap case into STABLE" {
	in=$(notify "OURS:12.50 A:10.00" "$(with_offers_count 6)")
	assert_equal "$(analyse <<<"$in" | verdict)" "high-gap HIGH 2"
	assert_equal "$(analyse --set high_min_gap_pct=30 <<<"$in" | verdict)" "stable STABLE 5"
}

@test "--set warning_min_gap_pct=12.5 compares in hundredths: 12.5% holds, 12.4% does not" {
	at=$(notify "A:10.00 B:10.50 C:10.80 OURS:11.25" | analyse --set warning_min_gap_pct=12.5)
	below=$(notify "A:10.00 B:10.50 C:10.80 OURS:11.24" | analyse --set warning_min_gap_pct=12.5)
	assert_equal "$(verdict <<<"$at")" "warning-gap WARNING 3"
	assert_equal "$(pick '.gap_pct' <<<"$at")" '[12.5]'
	assert_equal "$(verdict <<<"$below")" "stable STABLE 5"
	assert_equal "$(pick '.gap_pct' <<<"$below")" '[12.4]'
}

@test "--set critical_min_daily_sales=5 downgrades a critical case selling 3 a day" {
	cat >"$COSTS" <<-EOF
	$HEADER
	B000TEST01,ATVPDKIKX0DER,USD,1.00,0,0,0,0,3
	EOF
	in=$(notify "$(crit_offers 15.00)" "$(with_offers_count 12)")
	assert_equal "$(analyse --costs "$COSTS" <<<"$in" | verdict)" "critical CRITICAL 1"
	assert_equal "$(analyse --costs "$COSTS" --set critical_min_daily_sales=5 <<<"$in" | verdict)" \
		"critical-downgraded HIGH 2"
}

@test "--set with a negative value exits 78 naming the key" {
	run bb-severity --set high_min_gap_pct=-5 </dev/null
	assert_failure 78
	assert_output --partial high_min_gap_pct
}

@test "--set with three decimals exits 78 naming the key" {
	run bb-severity --set warning_min_gap_pct=12.345 </dev/null
	assert_failure 78
	assert_output --partial warning_min_gap_pct
}

@test "--set with an unknown key exits 78 naming the key" {
	run bb-severity --set no_such_threshold=5 </dev/null
	assert_failure 78
	assert_output --partial no_such_threshold
}

# ---------------------------------------------------------------------------
# Ties

@test "two competitors at the same lowest price: market_low_seller is the first in payload order" {
	a=$(notify "OURS:12.00 B:10.00 A:10.00 C:11.00" | analyse)
	# B and A tie at 10.00; B comes first. Three competitors below us: position 4
	assert_equal "$(pick '.market_low, .market_low_seller, .position' <<<"$a")" '[1000,"B",4]'
}

@test "competitors at exactly our price do not push our position down" {
	a=$(notify "OURS:11.00 A:10.00 B:11.00 C:11.00 D:12.00" | analyse)
	# only A is strictly cheaper: position 2 of 5, 100·1/4 = 25
	assert_equal "$(pick '.position, .position_percentile' <<<"$a")" '[2,25]'
}

# ---------------------------------------------------------------------------
# Our offers and sellers

@test "our offer alone: no competitors, market_low and gap null, position 1 at percentile 0" {
	a=$(notify "OURS:21.00" | analyse)
	same_json "$(jq 'del(.reasons)' <<<"$a")" '{
	  "severity": "SUCCESS", "priority": 4, "rule": "success-few-offers",
	  "our_price": 2100, "market_low": null, "market_low_seller": null, "prime_low": null,
	  "buy_box_price": null, "total_offers": 1, "offers_listed": 1, "position": 1,
	  "position_percentile": 0, "gap_pct": null, "buy_box_winner": false,
	  "min_viable_price": null, "margin_at_current": null, "margin_at_market_low": null,
	  "margin_at_prime_low": null, "estimated_daily_sales": null,
	  "risk_flags": ["no-cost-data"], "recommended_prices": []}'
}

@test "with several offers of ours the buy-box winner is ours even if dearer, and our others do not count" {
	a=$(notify "OURS:25.00:w A:20.00 OURS:18.00" | analyse)
	# ranked 2 (one competitor); position 2, not 3: our 18.00 offer is not a competitor
	assert_equal "$(pick '.our_price, .buy_box_winner, .market_low, .position, .position_percentile, .gap_pct' <<<"$a")" \
		'[2500,true,2000,2,100,25]'
	assert_equal "$(verdict <<<"$a")" "success-buy-box SUCCESS 4"
}

@test "with several offers of ours and no buy-box winner, the cheapest landed one is ours" {
	a=$(notify "OURS:25.00 A:20.00 OURS:18.00+0.50 OURS:18.00" | analyse)
	assert_equal "$(pick '.our_price, .market_low, .position, .position_percentile, .gap_pct, .offers_listed' <<<"$a")" \
		'[1800,2000,1,0,-10,4]'
	assert_equal "$(verdict <<<"$a")" "success-top3 SUCCESS 4"
}

@test "an absent IsBuyBoxWinner counts as false" {
	a=$(notify "OURS:13.00:w A:10.00" \
		"del(.Payload.AnyOfferChangedNotification.Offers[].IsBuyBoxWinner) | $(with_offers_count 6)" | analyse)
	assert_equal "$(pick '.buy_box_winner' <<<"$a")" '[false]'
	assert_equal "$(verdict <<<"$a")" "high-gap HIGH 2"
}

@test "a competitor winning the buy box does not make us the winner" {
	a=$(notify "OURS:13.00:l A:10.00:w" "$(with_offers_count 6)" | analyse)
	assert_equal "$(pick '.buy_box_winner' <<<"$a")" '[false]'
	assert_equal "$(verdict <<<"$a")" "high-gap HIGH 2"
}

@test "--seller-id replaces the notification's SellerId: OURS's offers become competitors" {
	in=$(notify "OURS:15.00 X:12.00 A:10.00" "$(with_offers_count 6)")
	assert_equal "$(analyse <<<"$in" | pick '.our_price, .market_low, .position, .gap_pct')" '[1500,1000,3,50]'
	a=$(analyse --seller-id X <<<"$in")
	# ours X 12.00; competitors OURS 15.00 and A 10.00: position 2 of 3
	assert_equal "$(pick '.our_price, .market_low, .market_low_seller, .position, .position_percentile, .gap_pct' <<<"$a")" \
		'[1200,1000,"A",2,50,20]'
}

@test "--seller-id is repeatable and every id given is ours" {
	a=$(notify "OURS:15.00 X:12.00 Y:11.00:w A:10.00" | analyse --seller-id X --seller-id Y)
	# ours: X and Y, the winner Y (11.00); competitors OURS 15.00 and A 10.00
	assert_equal "$(pick '.our_price, .buy_box_winner, .market_low, .position, .gap_pct, .offers_listed' <<<"$a")" \
		'[1100,true,1000,2,10,4]'
	assert_equal "$(verdict <<<"$a")" "success-buy-box SUCCESS 4"
}

@test "seller ids match case-sensitively: 'ours' is a competitor of OURS" {
	a=$(notify "ours:9.00 OURS:12.00" | analyse)
	assert_equal "$(pick '.our_price, .market_low, .market_low_seller, .position' <<<"$a")" '[1200,900,"ours",2]'
}

# ---------------------------------------------------------------------------
# Costs

@test "without a cost row for the ASIN: no-cost-data, null margins and nothing recommended" {
	cat >"$COSTS" <<-EOF
	$HEADER
	B000OTHER1,ATVPDKIKX0DER,USD,1.00,0,0,0,0,
	EOF
	a=$(notify "OURS:13.00 A:10.00:p" | analyse --costs "$COSTS")
	assert_equal "$(pick '.min_viable_price, .margin_at_current, .margin_at_market_low, .margin_at_prime_low, .risk_flags, .recommended_prices' <<<"$a")" \
		'[null,null,null,null,["no-cost-data"],[]]'
}

@test "min_viable_price and margins are exact for a 15% referral row" {
	# COST972: min_viable 1143 (see top). At 13.00: referral 195, profit 133,
	# 13300/1300 = 10.23; at 12.00 (prime): referral 180, profit 48 → 4
	cat >"$COSTS" <<-EOF
	$HEADER
	$COST972
	EOF
	a=$(notify "OURS:13.00 A:12.00:p" | analyse --costs "$COSTS")
	assert_equal "$(pick '.min_viable_price, .margin_at_current, .margin_at_market_low, .margin_at_prime_low, .risk_flags' <<<"$a")" \
		'[1143,10.23,4,4,["margin-squeeze"]]'
}

@test "min_viable_price honours min_referral_fee: 1.00 unit cost and a 1.00 minimum fee break even at 200" {
	# profit(200) = 200 - max(100, 30) - 100 = 0; profit(199) = -1
	cat >"$COSTS" <<-EOF
	$HEADER
	B000TEST01,ATVPDKIKX0DER,USD,1.00,0,0,15,1.00,
	EOF
	a=$(notify "OURS:5.00 A:6.00" | analyse --costs "$COSTS")
	# margin at 5.00: referral max(100, 75) = 100, profit 300 → 60
	assert_equal "$(pick '.min_viable_price, .margin_at_current' <<<"$a")" '[200,60]'
}

@test "the referral fee rounds half up: a 12.5% referral on 10.00 breaks even at 1143, not 1142" {
	# referral(1142) = floor(142.75+0.5) = 143, profit -1; referral(1143) = 143, profit 0
	cat >"$COSTS" <<-EOF
	$HEADER
	B000TEST01,ATVPDKIKX0DER,USD,10.00,0,0,12.5,0,
	EOF
	a=$(notify "OURS:15.00 A:16.00" | analyse --costs "$COSTS")
	assert_equal "$(pick '.min_viable_price' <<<"$a")" '[1143]'
}

@test "a * marketplace row is used when there is no exact row" {
	cat >"$COSTS" <<-EOF
	$HEADER
	B000TEST01,*,USD,10.00,0,0,12.5,0,
	EOF
	a=$(notify "OURS:15.00 A:16.00" | analyse --costs "$COSTS")
	assert_equal "$(pick '.min_viable_price, .risk_flags' <<<"$a")" '[1143,[]]'
}

@test "an exact marketplace row beats the * row wherever they stand in the file" {
	# exact row: profit(P) = P - 100, min_viable 100; the * row would give 1143
	cat >"$COSTS" <<-EOF
	$HEADER
	B000TEST01,*,USD,10.00,0,0,12.5,0,
	B000TEST01,ATVPDKIKX0DER,USD,1.00,0,0,0,0,
	B000TEST01,A1PA6795UKMFR9,EUR,50.00,0,0,0,0,
	EOF
	a=$(notify "OURS:15.00 A:16.00" | analyse --costs "$COSTS")
	# margin at 15.00: profit 1400 → 93.33
	assert_equal "$(pick '.min_viable_price, .margin_at_current' <<<"$a")" '[100,93.33]'
}

@test "a cost row in another currency is not used: no-cost-data, and one warning for many records" {
	cat >"$COSTS" <<-EOF
	$HEADER
	B000TEST01,ATVPDKIKX0DER,EUR,1.00,0,0,0,0,
	EOF
	out=$({ notify "OURS:13.00 A:10.00"; notify "OURS:14.00 A:10.00"; } | bb-validate 2>/dev/null |
		bb-severity --costs "$COSTS" 2>"$BATS_TEST_TMPDIR/err" | jq -c '.analysis | [.min_viable_price, .margin_at_current, .risk_flags]')
	assert_equal "$out" '[null,null,["no-cost-data"]]
[null,null,["no-cost-data"]]'
	assert_equal "$(grep 'level=warn' "$BATS_TEST_TMPDIR/err" | sed 's/^ts=[^ ]* //')" \
		"level=warn prog=bb-severity msg=\"$COSTS:2: the cost row of B000TEST01 in ATVPDKIKX0DER is in EUR, the notification in USD: treated as no cost data\" asin=B000TEST01 marketplace=ATVPDKIKX0DER currency=USD cost_currency=EUR"
}

@test "each cost row in another currency is warned about once, naming its ASIN, marketplace and both currencies" {
	cat >"$COSTS" <<-EOF
	$HEADER
	B000TEST01,*,EUR,1.00,0,0,0,0,
	B000TEST02,ATVPDKIKX0DER,GBP,1.00,0,0,0,0,
	EOF
	other='.Payload.AnyOfferChangedNotification.OfferChangeTrigger.ASIN = "B000TEST02"'
	{ notify "OURS:13.00 A:10.00"; notify "OURS:13.00 A:10.00" "$other"; notify "OURS:14.00 A:10.00"; } |
		bb-validate 2>/dev/null | bb-severity --costs "$COSTS" 2>"$BATS_TEST_TMPDIR/err" >/dev/null
	assert_equal "$(grep 'level=warn' "$BATS_TEST_TMPDIR/err" | sed 's/^ts=[^ ]* //')" \
		"level=warn prog=bb-severity msg=\"$COSTS:2: the cost row of B000TEST01 in ATVPDKIKX0DER is in EUR, the notification in USD: treated as no cost data\" asin=B000TEST01 marketplace=ATVPDKIKX0DER currency=USD cost_currency=EUR
level=warn prog=bb-severity msg=\"$COSTS:3: the cost row of B000TEST02 in ATVPDKIKX0DER is in GBP, the notification in USD: treated as no cost data\" asin=B000TEST02 marketplace=ATVPDKIKX0DER currency=USD cost_currency=GBP"
}

@test "a referral of 100% gives no min_viable_price, no race-to-bottom and no recommendation" {
	# profit(P) = P - P - 100 = -100 at every price
	cat >"$COSTS" <<-EOF
	$HEADER
	B000TEST01,ATVPDKIKX0DER,USD,1.00,0,0,100,0,
	EOF
	a=$(notify "OURS:13.00 A:10.00:p" | analyse --costs "$COSTS")
	assert_equal "$(pick '.min_viable_price, .recommended_prices, .risk_flags, .margin_at_current, .margin_at_market_low, .margin_at_prime_low' <<<"$a")" \
		'[null,[],["below-cost","margin-squeeze"],-7.69,-10,-10]'
}

@test "risk flags below-cost, margin-squeeze and race-to-bottom together, sorted" {
	# COST972 (min_viable 1143): ours 11.00 → referral 165, profit -37;
	# low 10.00 → referral 150, profit -122 (-12.2 %), and 1000 < 1143
	cat >"$COSTS" <<-EOF
	$HEADER
	$COST972
	EOF
	a=$(notify "OURS:11.00 A:10.00" | analyse --costs "$COSTS")
	assert_equal "$(pick '.risk_flags, .margin_at_current, .margin_at_market_low, .recommended_prices' <<<"$a")" \
		'[["below-cost","margin-squeeze","race-to-bottom"],-3.36,-12.2,[]]'
}

@test "risk flags with our offer missing sort offer-missing before race-to-bottom" {
	cat >"$COSTS" <<-EOF
	$HEADER
	$COST972
	EOF
	a=$(notify "A:10.00 B:12.00" | analyse --costs "$COSTS")
	assert_equal "$(verdict <<<"$a")" "offer-missing WARNING 3"
	assert_equal "$(pick '.risk_flags' <<<"$a")" '[["margin-squeeze","offer-missing","race-to-bottom"]]'
}

@test "recommended prices: match-low, beat-low, match-prime-low, and a match-buy-box at the low price is dropped" {
	# COST972; low 15.00: referral 225, profit 303 → 20.2; 14.99: referral 225,
	# profit 302 → 20.15; prime 16.00: referral 240, profit 388 → 24.25
	cat >"$COSTS" <<-EOF
	$HEADER
	$COST972
	EOF
	a=$(notify "OURS:17.00 A:15.00 B:16.00:p" "$(with_buy_box 15.00)" | analyse --costs "$COSTS")
	assert_equal "$(pick '.buy_box_price, .prime_low, .min_viable_price' <<<"$a")" '[1500,1600,1143]'
	same_json "$(jq .recommended_prices <<<"$a")" '[
	  {"strategy": "match-low", "price": 1500, "margin_pct": 20.2},
	  {"strategy": "beat-low", "price": 1499, "margin_pct": 20.15},
	  {"strategy": "match-prime-low", "price": 1600, "margin_pct": 24.25}]'
}

@test "recommended prices keep a price equal to min_viable_price and drop one below it" {
	# COST972; low 11.43 = min_viable: margin 0, kept; beat-low 1142 < 1143 dropped;
	# prime 12.00 → 4; buy box 13.00: referral 195, profit 133 → 10.23
	cat >"$COSTS" <<-EOF
	$HEADER
	$COST972
	EOF
	a=$(notify "OURS:13.50 A:11.43 B:12.00:p" "$(with_buy_box 13.00)" | analyse --costs "$COSTS")
	same_json "$(jq .recommended_prices <<<"$a")" '[
	  {"strategy": "match-low", "price": 1143, "margin_pct": 0},
	  {"strategy": "match-prime-low", "price": 1200, "margin_pct": 4},
	  {"strategy": "match-buy-box", "price": 1300, "margin_pct": 10.23}]'
	# market_low is not below min_viable: no race-to-bottom; its margin 0 < 5: squeeze
	assert_equal "$(pick '.risk_flags' <<<"$a")" '[["margin-squeeze"]]'
	assert_equal "$(verdict <<<"$a")" "warning-margin WARNING 3"
}

@test "recommended prices drop match-prime-low when the prime offer is the market low" {
	cat >"$COSTS" <<-EOF
	$HEADER
	$COST972
	EOF
	a=$(notify "OURS:17.00 A:15.00:p B:16.00" | analyse --costs "$COSTS")
	same_json "$(jq .recommended_prices <<<"$a")" '[
	  {"strategy": "match-low", "price": 1500, "margin_pct": 20.2},
	  {"strategy": "beat-low", "price": 1499, "margin_pct": 20.15}]'
}

@test "recommended prices never go below one minor unit" {
	# a free product: profit(P) = P, min_viable 1; beat-low would be 0
	cat >"$COSTS" <<-EOF
	$HEADER
	B000TEST01,ATVPDKIKX0DER,USD,0,0,0,0,0,
	EOF
	a=$(notify "OURS:5.00 A:0.01" | analyse --costs "$COSTS")
	assert_equal "$(pick '.min_viable_price, .recommended_prices' <<<"$a")" \
		'[1,[{"strategy":"match-low","price":1,"margin_pct":100}]]'
}

@test "a market low of 0.00 leaves gap and its margin null but is a race to the bottom" {
	# COST972; ours 5.00: referral max(30, 75) = 75, profit 500-75-972 = -547 → -109.4
	cat >"$COSTS" <<-EOF
	$HEADER
	$COST972
	EOF
	a=$(notify "OURS:5.00 A:0.00" | analyse --costs "$COSTS")
	assert_equal "$(pick '.market_low, .gap_pct, .margin_at_current, .margin_at_market_low, .risk_flags, .recommended_prices' <<<"$a")" \
		'[0,null,-109.4,null,["below-cost","race-to-bottom"],[]]'
	assert_equal "$(verdict <<<"$a")" "success-few-offers SUCCESS 4"
}

@test "a cost table without the daily_sales column loads; estimated_daily_sales is null" {
	cat >"$COSTS" <<-EOF
	asin,marketplace,currency,unit_cost,fulfillment_fee,other_fees,referral_pct,min_referral_fee
	B000TEST01,ATVPDKIKX0DER,USD,6.10,3.22,0.40,15,0.30
	EOF
	a=$(notify "OURS:13.00 A:12.00" | analyse --costs "$COSTS")
	assert_equal "$(pick '.min_viable_price, .estimated_daily_sales' <<<"$a")" '[1143,null]'
}

@test "blank lines, # comments and padded cells in the cost table are skipped and trimmed" {
	cat >"$COSTS" <<-EOF
	# landed costs

	asin, marketplace, currency, unit_cost, fulfillment_fee, other_fees, referral_pct, min_referral_fee, daily_sales
	# the test product

	B000TEST01,  ATVPDKIKX0DER , USD,  6.10, 3.22, 0.40, 15, 0.30, 0.5
	EOF
	a=$(notify "OURS:13.00 A:12.00" | analyse --costs "$COSTS")
	assert_equal "$(pick '.min_viable_price, .estimated_daily_sales, .margin_at_current' <<<"$a")" '[1143,0.5,10.23]'
}

# ---------------------------------------------------------------------------
# Amounts, currencies and rounding

@test "amounts round half away from zero before landed adds them: 10.005 + 21.005 USD is 3102" {
	a=$(notify "OURS:10.005+21.005 A:21.005" | analyse)
	assert_equal "$(pick '.our_price, .market_low' <<<"$a")" '[3102,2101]'
}

@test "JPY amounts are whole yen (1050.5 JPY is 1051) and a JPY cost row gives yen margins, min_viable_price and recommendations" {
	# 600 yen all-in + 10 % (min 30): referral(667) = floor(66.7+0.5) = 67, profit 0;
	# referral(666) = 67, profit -1 → 667. At 1051: referral 105, profit 346 → 32.92;
	# at 1000: 100, 300 → 30; at 999: 100, 299 → 29.93
	cat >"$COSTS" <<-EOF
	$HEADER
	B000TEST01,A1VC38T7YXB528,JPY,500,100,0,10,30,
	EOF
	a=$(notify "OURS:1050.5 A:1000" "$JPY" | analyse --costs "$COSTS")
	same_json "$(jq 'del(.reasons)' <<<"$a")" '{
	  "severity": "SUCCESS", "priority": 4, "rule": "success-few-offers",
	  "our_price": 1051, "market_low": 1000, "market_low_seller": "A", "prime_low": null,
	  "buy_box_price": null, "total_offers": 2, "offers_listed": 2, "position": 2,
	  "position_percentile": 100, "gap_pct": 5.1, "buy_box_winner": false,
	  "min_viable_price": 667, "margin_at_current": 32.92, "margin_at_market_low": 30,
	  "margin_at_prime_low": null, "estimated_daily_sales": null, "risk_flags": [],
	  "recommended_prices": [
	    {"strategy": "match-low", "price": 1000, "margin_pct": 30},
	    {"strategy": "beat-low", "price": 999, "margin_pct": 29.93}]}'
}

@test "displayed percentages round half away from zero: gaps of +0.125% and -0.125% show as 0.13 and -0.13" {
	up=$(notify "OURS:80.10 A:80.00" | analyse)
	down=$(notify "OURS:79.90 A:80.00" | analyse)
	assert_equal "$(pick '.gap_pct' <<<"$up")" '[0.13]'
	assert_equal "$(pick '.gap_pct' <<<"$down")" '[-0.13]'
}

@test "a gap of 62.5% is the JSON number 62.5 and thirds round to two decimals" {
	raw=$(notify "OURS:13.00 A:8.00 B:14.00 C:15.00" | bb-validate 2>/dev/null | bb-severity 2>/dev/null)
	assert_regex "$raw" '"gap_pct":62\.5[,}]'
	# position 2 of 4: 100·1/3 = 33.33
	assert_equal "$(jq -c '.analysis | [.gap_pct, .position_percentile]' <<<"$raw")" '[62.5,33.33]'
}

# ---------------------------------------------------------------------------
# Summary

@test "total_offers sums the trigger condition's NumberOfOffers over channels, case-insensitively, ignoring other conditions" {
	a=$(notify "OURS:13.00 A:10.00" '.Payload.AnyOfferChangedNotification.Summary.NumberOfOffers = [
	  {Condition: "new", FulfillmentChannel: "Merchant", OfferCount: 4},
	  {Condition: "used", FulfillmentChannel: "Merchant", OfferCount: 9},
	  {Condition: "New", FulfillmentChannel: "Amazon", OfferCount: 3}]' | analyse)
	assert_equal "$(pick '.total_offers, .offers_listed' <<<"$a")" '[7,2]'
	assert_equal "$(verdict <<<"$a")" "high-gap HIGH 2"
}

@test "NumberOfOffers entries for the condition adding up to 0 give total_offers 0, not the listed count" {
	a=$(notify "OURS:13.00 A:10.00 B:11.00" '.Payload.AnyOfferChangedNotification.Summary.NumberOfOffers = [
	  {Condition: "new", FulfillmentChannel: "Merchant", OfferCount: 0},
	  {Condition: "new", FulfillmentChannel: "Amazon", OfferCount: 0},
	  {Condition: "used", FulfillmentChannel: "Amazon", OfferCount: 8}]' | analyse)
	assert_equal "$(pick '.total_offers, .offers_listed' <<<"$a")" '[0,3]'
	assert_equal "$(verdict <<<"$a")" "success-few-offers SUCCESS 4"
}

@test "without a summary total_offers is the number of offers listed" {
	a=$(notify "OURS:13.00 A:10.00 B:10.50 C:11.00 D:11.50 E:12.00" | analyse)
	assert_equal "$(pick '.total_offers, .offers_listed' <<<"$a")" '[6,6]'
	assert_equal "$(verdict <<<"$a")" "high-gap HIGH 2"
}

@test "a summary with NumberOfOffers only for another condition falls back to the offers listed" {
	a=$(notify "OURS:13.00 A:10.00 B:11.00" '.Payload.AnyOfferChangedNotification.Summary.NumberOfOffers = [
	  {Condition: "used", FulfillmentChannel: "Merchant", OfferCount: 20}]' | analyse)
	assert_equal "$(pick '.total_offers' <<<"$a")" '[3]'
}

@test "buy_box_price is the first BuyBoxPrices entry whose condition matches case-insensitively" {
	a=$(notify "OURS:13.00 A:10.00" '.Payload.AnyOfferChangedNotification.Summary.BuyBoxPrices = [
	  {Condition: "Used", LandedPrice: {Amount: 9.00, CurrencyCode: "USD"}},
	  {Condition: "New", LandedPrice: {Amount: 12.34, CurrencyCode: "USD"},
	   ListingPrice: {Amount: 12.34, CurrencyCode: "USD"}, Shipping: {Amount: 0, CurrencyCode: "USD"}},
	  {Condition: "new", LandedPrice: {Amount: 11.00, CurrencyCode: "USD"}}]' | analyse)
	assert_equal "$(pick '.buy_box_price' <<<"$a")" '[1234]'
}

# ---------------------------------------------------------------------------
# Records, formats, options

@test "records whose status is not ok pass through byte for byte" {
	bad=$(echo 'not json' | bb-validate 2>/dev/null)
	odd='{"status" : "rejected",  "body":"x", "n": 1.50, "analysis":{"keep":true} }'
	skipped='{"status":"skipped","notification":{"asin":"B000TEST01","offers":[]}}'
	out=$(printf '%s\n%s\n%s\n' "$bad" "$odd" "$skipped" | bb-severity 2>/dev/null)
	assert_equal "$out" "$(printf '%s\n%s\n%s' "$bad" "$odd" "$skipped")"
}

@test "--format text prints one line per record beginning with the severity" {
	out=$(notify "OURS:13.00 A:10.00" "$(with_offers_count 6)" | bb-validate 2>/dev/null | bb-severity --format text 2>/dev/null)
	assert_equal "$out" "HIGH     B000TEST01 ATVPDKIKX0DER ours USD 13.00 low USD 10.00 high-gap: offers 6 ≥ 5; gap 30.00% ≥ 20%; not buy-box winner [no-cost-data]"
}

@test "--format text gives each price with its currency code, yen without decimals" {
	out=$(notify "OURS:3010 A:2980" "$JPY" | bb-validate 2>/dev/null | bb-severity --format text 2>/dev/null)
	assert_equal "$out" "SUCCESS  B000TEST01 A1VC38T7YXB528 ours JPY 3010 low JPY 2980 success-few-offers: offers 2 ≤ 2 [no-cost-data]"
}

@test "a raw notification piped straight into bb-severity is rejected: bb-validate must run first" {
	out=$(notify "OURS:13.00 A:10.00" | bb-severity 2>/dev/null)
	same_json "$(jq -c '{status, error}' <<<"$out")" '{"status": "rejected", "error": {"type": "schema",
	  "message": "no notification member: run bb-validate before bb-severity",
	  "stage": "severity", "path": "notification"}}'
	# the notification's own bytes go on, for bb-store to keep
	assert_equal "$(jq -c 'del(.status, .error)' <<<"$out")" "$(notify "OURS:13.00 A:10.00")"
}

@test "an ok record without a notification is rejected the same way, and the text format says why" {
	run --separate-stderr bb-severity --format text <<<'{"status":"ok","message_id":"m-1"}'
	assert_success
	assert_output "REJECTED - line 1 schema: no notification member: run bb-validate before bb-severity"
	[[ "$stderr" == *'level=warn prog=bb-severity msg="line 1: schema: no notification member: run bb-validate before bb-severity" line=1 error_type=schema'* ]] ||
		fail "logged: $stderr"
}

@test "an ok record whose notification is not as bb-validate writes it is rejected naming the member" {
	out=$(notify "OURS:13.00 A:10.00" | bb-validate 2>/dev/null | jq -c '.notification.offers[1].landed = "1000"' | bb-severity 2>/dev/null)
	same_json "$(jq -c '{status, error}' <<<"$out")" '{"status": "rejected", "error": {"type": "schema",
	  "message": "notification.offers[].landed: expected an integer", "stage": "severity", "path": "notification"}}'
}

@test "seller ids are compared and written whole, whatever bytes they hold (a NUL, a quote)" {
	# ours is "O\u0000S"; "O\u0000X" differs from it only after the NUL and is a competitor
	out=$(notify "OURS:13.00 A:10.00 B:11.00" | bb-validate 2>/dev/null |
		jq -c '.notification.seller_id = "O\u0000S" | .notification.offers[0].seller_id = "O\u0000S" |
		       .notification.offers[1].seller_id = "O\u0000X\"" ' | bb-severity 2>/dev/null)
	assert_equal "$(jq -c '.analysis | [.our_price, .market_low_seller, .position, .offers_listed]' <<<"$out")" \
		'[1300,"O\u0000X\"",3,3]'
}

@test "the outputs on the stored inputs equal tests/fixtures/severity/*.expected.ndjson as JSON values" {
	run "$BATS_TEST_DIRNAME/../scripts/compare-outputs"
	assert_success
}

@test "--help prints the usage on stdout and exits 0" {
	out=$(bb-severity --help 2>/dev/null)
	assert_equal "$?" 0
	assert_regex "$out" '^usage: bb-severity'
}

@test "an unknown option exits 64" {
	run bb-severity --no-such-option </dev/null
	assert_failure 64
}

# ---------------------------------------------------------------------------
# Malformed cost tables: FILE:LINE and exit 78 (the physical line in the file)

@test "a USD money cell with three decimals (4.205) is malformed at its physical line" {
	cat >"$COSTS" <<-EOF
	# comment
	$HEADER

	B000TEST01,ATVPDKIKX0DER,USD,4.205,1.00,0,15,0.30,
	EOF
	run --separate-stderr bb-severity --costs "$COSTS" </dev/null
	[ "$status" -eq 78 ]
	assert_equal "$stderr" "bb-severity: fatal: unable to load cost table: $COSTS:4: unit_cost (column 4) '4.205' is not a USD amount with at most 2 decimals"
}

@test "a non-number money cell is malformed" {
	cat >"$COSTS" <<-EOF
	$HEADER
	B000OTHER1,ATVPDKIKX0DER,USD,1.00,1.00,0,15,0.30,
	B000TEST01,ATVPDKIKX0DER,USD,1.00,abc,0,15,0.30,
	EOF
	run bb-severity --costs "$COSTS" </dev/null
	assert_failure 78
	assert_output --partial "$COSTS:3:"
}

@test "a negative money cell is malformed" {
	cat >"$COSTS" <<-EOF
	$HEADER
	B000TEST01,ATVPDKIKX0DER,USD,-1.00,1.00,0,15,0.30,
	EOF
	run --separate-stderr bb-severity --costs "$COSTS" </dev/null
	[ "$status" -eq 78 ]
	assert_equal "$stderr" "bb-severity: fatal: unable to load cost table: $COSTS:2: unit_cost (column 4) '-1.00' is out of range: 0 to 1000000000"
}

@test "a JPY money cell with decimals is malformed" {
	cat >"$COSTS" <<-EOF
	$HEADER
	B000TEST01,A1VC38T7YXB528,JPY,1200.5,420,30,10,30,
	EOF
	run --separate-stderr bb-severity --costs "$COSTS" </dev/null
	[ "$status" -eq 78 ]
	assert_equal "$stderr" "bb-severity: fatal: unable to load cost table: $COSTS:2: unit_cost (column 4) '1200.5' is not a JPY amount without decimals"
}

@test "a referral_pct with three decimals is malformed" {
	cat >"$COSTS" <<-EOF
	$HEADER
	B000TEST01,ATVPDKIKX0DER,USD,1.00,1.00,0,15.125,0.30,
	EOF
	run --separate-stderr bb-severity --costs "$COSTS" </dev/null
	[ "$status" -eq 78 ]
	assert_equal "$stderr" "bb-severity: fatal: unable to load cost table: $COSTS:2: referral_pct (column 7) '15.125' is not a percent with at most 2 decimals"
}

@test "a referral_pct over 100 is out of range, naming file, line and column; 100 itself is not" {
	cat >"$COSTS" <<-EOF
	$HEADER
	B000TEST01,ATVPDKIKX0DER,USD,1.00,1.00,0,100,0.30,
	B000TEST01,*,USD,1.00,1.00,0,100.01,0.30,
	EOF
	run --separate-stderr bb-severity --costs "$COSTS" </dev/null
	[ "$status" -eq 78 ]
	assert_equal "$stderr" "bb-severity: fatal: unable to load cost table: $COSTS:3: referral_pct (column 7) '100.01' is out of range: 0 to 100"
}

@test "an amount beyond what fits is out of range, never wrapped round" {
	# 10^20 cents does not fit in 64 bits; a billion and a cent is past the limit
	cat >"$COSTS" <<-EOF
	$HEADER
	B000TEST01,ATVPDKIKX0DER,USD,1.00,1000000000000000000.00,0,15,0.30,
	EOF
	run --separate-stderr bb-severity --costs "$COSTS" </dev/null
	[ "$status" -eq 78 ]
	assert_equal "$stderr" "bb-severity: fatal: unable to load cost table: $COSTS:2: fulfillment_fee (column 5) '1000000000000000000.00' is out of range: 0 to 1000000000"
	cat >"$COSTS" <<-EOF
	$HEADER
	B000TEST01,A1VC38T7YXB528,JPY,1000000000,0,0,10,30,
	B000TEST02,ATVPDKIKX0DER,USD,1.00,0,1000000000.01,15,0.30,
	EOF
	run --separate-stderr bb-severity --costs "$COSTS" </dev/null
	[ "$status" -eq 78 ]
	assert_equal "$stderr" "bb-severity: fatal: unable to load cost table: $COSTS:3: other_fees (column 6) '1000000000.01' is out of range: 0 to 1000000000"
}

@test "a negative daily_sales is out of range" {
	cat >"$COSTS" <<-EOF
	$HEADER
	B000TEST01,ATVPDKIKX0DER,USD,1.00,1.00,0,15,0.30,-1
	EOF
	run --separate-stderr bb-severity --costs "$COSTS" </dev/null
	[ "$status" -eq 78 ]
	assert_equal "$stderr" "bb-severity: fatal: unable to load cost table: $COSTS:2: daily_sales (column 9) '-1' is out of range: 0 to 1000000000"
}

@test "a cost table that starts with a UTF-8 byte order mark loads" {
	printf '\xef\xbb\xbf%s\n%s\n' "$HEADER" "$COST972" >"$COSTS"
	a=$(notify "OURS:13.00 A:12.00" | analyse --costs "$COSTS")
	assert_equal "$(pick '.min_viable_price, .risk_flags' <<<"$a")" '[1143,["margin-squeeze"]]'
}

@test "a header missing a required column is malformed at the header's line" {
	cat >"$COSTS" <<-EOF
	# no referral_pct below
	asin,marketplace,currency,unit_cost,fulfillment_fee,other_fees,min_referral_fee,daily_sales
	B000TEST01,ATVPDKIKX0DER,USD,1.00,1.00,0,0.30,
	EOF
	run bb-severity --costs "$COSTS" </dev/null
	assert_failure 78
	assert_output --partial "$COSTS:2:"
	assert_output --partial referral_pct
}

@test "a duplicate (asin, marketplace) row is malformed at the duplicate's line" {
	cat >"$COSTS" <<-EOF
	$HEADER
	B000TEST01,ATVPDKIKX0DER,USD,1.00,1.00,0,15,0.30,
	B000TEST01,*,USD,1.00,1.00,0,15,0.30,

	B000TEST01,ATVPDKIKX0DER,USD,2.00,1.00,0,15,0.30,
	EOF
	run bb-severity --costs "$COSTS" </dev/null
	assert_failure 78
	assert_output --partial "$COSTS:5:"
}

@test "a row with a wrong number of cells is malformed" {
	cat >"$COSTS" <<-EOF
	$HEADER
	# a row with eight cells follows
	B000TEST01,ATVPDKIKX0DER,USD,1.00,1.00,0,15,0.30
	EOF
	run bb-severity --costs "$COSTS" </dev/null
	assert_failure 78
	assert_output --partial "$COSTS:3:"
}

# ---- --findings: bb-trend's findings fed back ----

# findings_file: a creeping undercut on B000TEST01 that ended 2025-06-02T13:00,
# a price war on B000TEST02 still going on, and a buy-box loss (no flag).
findings_file() {
	cat >"$BATS_TEST_TMPDIR/findings.ndjson" <<-'EOF'
		{"kind":"creeping_undercut","asin":"B000TEST01","marketplace":"ATVPDKIKX0DER","seller_id":"A","leader_id":null,"from":"2025-06-02T11:00:00.000Z","to":"2025-06-02T13:00:00.000Z","count":3}
		{"kind":"price_war","asin":"B000TEST02","marketplace":"ATVPDKIKX0DER","seller_id":null,"leader_id":null,"from":"2025-06-04T00:00:00.000Z","to":null,"count":4}
		{"kind":"buy_box_lost","asin":"B000TEST01","marketplace":"ATVPDKIKX0DER","seller_id":null,"leader_id":null,"from":"2025-06-02T11:00:00.000Z","to":null,"count":1}
	EOF
	echo "$BATS_TEST_TMPDIR/findings.ndjson"
}

# flags_at ASIN TIME: the risk flags of a notification of ASIN at TIME, with the findings.
flags_at() {
	notify "OURS:12.00 A:10.00" ".EventTime = \"$2\" | $(printf '.Payload.AnyOfferChangedNotification.OfferChangeTrigger.ASIN = "%s"' "$1")" |
		analyse --findings "$(findings_file)" | jq -c .risk_flags
}

@test "--findings: an open creeping undercut or price war is a risk flag, in byte order among the others" {
	assert_equal "$(flags_at B000TEST01 2025-06-02T12:00:00Z)" '["creeping-undercut","no-cost-data"]'
	assert_equal "$(flags_at B000TEST02 2025-06-09T00:00:00Z)" '["no-cost-data","price-war"]'
}

@test "--findings: a finding is open from its start until 24 hours after its end, and flags nothing else" {
	assert_equal "$(flags_at B000TEST01 2025-06-02T10:59:59Z)" '["no-cost-data"]'
	assert_equal "$(flags_at B000TEST01 2025-06-03T13:00:00Z)" '["creeping-undercut","no-cost-data"]'
	assert_equal "$(flags_at B000TEST01 2025-06-03T13:00:01Z)" '["no-cost-data"]'
	assert_equal "$(flags_at B000TEST03 2025-06-02T12:00:00Z)" '["no-cost-data"]'
}

@test "--findings: a malformed line is a configuration error naming the file and line" {
	printf '{"kind":"price_war"}\n' >"$BATS_TEST_TMPDIR/bad.ndjson"
	run -78 bb-severity --findings "$BATS_TEST_TMPDIR/bad.ndjson" </dev/null
	assert_output "bb-severity: fatal: unable to load findings: $BATS_TEST_TMPDIR/bad.ndjson:1: a finding needs kind, asin, marketplace and from"
}
