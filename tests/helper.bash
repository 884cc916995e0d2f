# helper.bash: shared by every suite. Puts the fresh build first on PATH and
# builds notifications from a compact description, so each test states only
# what it is about.

bats_require_minimum_version 1.5.0
load /usr/lib/bats/bats-support/load.bash
load /usr/lib/bats/bats-assert/load.bash

: "${BB_BIN:=$BATS_TEST_DIRNAME/../build/bin}"
PATH="$BB_BIN:$PATH"
FIXTURES="$BATS_TEST_DIRNAME/fixtures"
export BB_CONFIG=/dev/null BB_NOW=2026-01-01T00:00:00Z
unset BB_LOG_FORMAT BB_DB

# notify OFFERS [JQ-FILTER]
# OFFERS: space-separated offers "SELLER:LISTING[+SHIPPING][:flags]" where flags
# are letters: w = IsBuyBoxWinner true, l = IsBuyBoxWinner false (absent when
# neither), p = prime, f = FBA. Our seller is OURS. The notification is USD,
# ATVPDKIKX0DER, ASIN B000TEST01, condition new, without a Summary; the
# optional jq filter edits it further (e.g. to add a Summary).
notify() {
	local spec=$1 filter=${2:-.}
	jq -cn --arg spec "$spec" '
	  def money($a): {Amount: $a, CurrencyCode: "USD"};
	  def offer($s):
	    ($s | split(":")) as $p
	    | ($p[1] | split("+")) as $price
	    | ($p[2] // "") as $f
	    | {SellerId: $p[0],
	       ListingPrice: money($price[0] | tonumber),
	       Shipping: money(($price[1] // "0") | tonumber),
	       IsFulfilledByAmazon: ($f | contains("f")),
	       PrimeInformation: {IsOfferPrime: ($f | contains("p")), IsOfferNationalPrime: false}}
	    + (if ($f | contains("w")) then {IsBuyBoxWinner: true}
	       elif ($f | contains("l")) then {IsBuyBoxWinner: false} else {} end);
	  {NotificationVersion: "1.0", NotificationType: "ANY_OFFER_CHANGED", PayloadVersion: "1.0",
	   EventTime: "2025-06-01T12:00:00.000Z",
	   NotificationMetadata: {ApplicationId: "amzn1.sellerapps.app.test", SubscriptionId: "sub-1",
	     PublishTime: "2025-06-01T12:00:01.000Z", NotificationId: "n-1"},
	   Payload: {AnyOfferChangedNotification: {SellerId: "OURS",
	     OfferChangeTrigger: {MarketplaceId: "ATVPDKIKX0DER", ASIN: "B000TEST01", ItemCondition: "new",
	       TimeOfOfferChange: "2025-06-01T12:00:00.000Z", OfferChangeType: "Internal"},
	     Offers: [$spec | split(" ")[] | select(length > 0) | offer(.)]}}}' | jq -c "$filter"
}

# with_offers_count N: a jq filter adding a Summary whose NumberOfOffers for "new" totals N.
with_offers_count() {
	printf '.Payload.AnyOfferChangedNotification.Summary.NumberOfOffers = [{Condition: "new", FulfillmentChannel: "Merchant", OfferCount: %d}]' "$1"
}

# analyse [bb-severity options]: validate stdin and analyse it; prints the analysis.
analyse() {
	bb-validate 2>/dev/null | bb-severity "$@" | jq -c .analysis
}

# field NAME [bb-severity options]: one field of the analysis of stdin.
field() {
	local name=$1
	shift
	bb-validate 2>/dev/null | bb-severity "$@" | jq -c ".analysis.$name"
}

# term_and_time PID: send SIGTERM to PID (a background job of this shell) and
# wait for it, at most 10 s (then it is killed). Sets term_ms to the
# milliseconds from the signal to its exit (date +%s%N) and term_status to
# its exit status (124 when it had to be killed).
term_and_time() {
	local pid=$1 start i=0
	start=$(date +%s%N)
	kill -TERM "$pid"
	while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 1000 ]; do
		sleep 0.01
		i=$((i + 1))
	done
	term_ms=$((($(date +%s%N) - start) / 1000000))
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		term_status=124
		return 0
	fi
	term_status=0
	wait "$pid" || term_status=$?
}

# ms_now: wall-clock milliseconds since the epoch.
ms_now() {
	date +%s%3N
}

# wait_for SECONDS COMMAND...: run COMMAND every $WAIT_STEP seconds (default
# 0.1) until it succeeds; fail after SECONDS.
wait_for() {
	local deadline=$(($(ms_now) + $1 * 1000))
	shift
	until "$@"; do
		[ "$(ms_now)" -lt "$deadline" ] || return 1
		sleep "${WAIT_STEP:-0.1}"
	done
}
