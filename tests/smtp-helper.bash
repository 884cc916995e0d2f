# smtp-helper.bash: an SMTP relay for the tests of what mails (bb-mail,
# bb-digest.service, bb-trend-weekly.service): tests/smtp-sink, keeping
# each message it is sent as a file.

# smtp_start DIR PORT: the sink on 127.0.0.1:PORT (shifted by
# BB_TEST_PORT_OFFSET), its messages in DIR/N.eml. Sets SMTP_PORT and
# SMTP_PID; smtp_stop stops it.
smtp_start() {
	SMTP_PORT=$(($2 + ${BB_TEST_PORT_OFFSET:-0}))
	mkdir -p "$1"
	"$BATS_TEST_DIRNAME/smtp-sink" "$1" "$SMTP_PORT" >"$1.out" 2>&1 &
	SMTP_PID=$!
	for _ in $(seq 100); do grep -q listening "$1.out" && return; sleep 0.05; done
	fail "the SMTP sink did not start: $(cat "$1.out")"
}

smtp_stop() {
	[ -z "${SMTP_PID:-}" ] || kill "$SMTP_PID" 2>/dev/null || true
	SMTP_PID=
}

# mail_body FILE: a kept message after its envelope and headers.
mail_body() {
	awk 'n == 2 { print; next } /^$/ { n++ }' "$1"
}

# mail_headers FILE NAME...: the message's header lines of those names.
mail_headers() {
	local f=$1 re
	shift
	re=$(IFS='|'; echo "$*")
	sed '1,/^$/d; /^$/q' "$f" | grep -E "^($re):"
}
