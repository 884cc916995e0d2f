#!/usr/bin/env bats
# unit-db: the database tests of the C unit tests (tests/unit) on SQLite and
# on PostgreSQL. `make check` runs them on SQLite with the other unit tests;
# this suite runs them on both, with a migrated database of each kind.

load helper
load store-helper

: "${BB_UNIT:=$BB_BIN/../tests/unit-tests}"

setup_file() {
	pg_start 55435
}

teardown_file() {
	pg_stop
}

# unit_on sqlite|pg: the database unit tests on a new database of that
# kind; on failure, the test points that failed.
unit_on() {
	local url out
	[ -x "$BB_UNIT" ] || fail "no unit tests at $BB_UNIT: make check builds them (or set BB_UNIT)"
	url=$(migrated_db "$1")
	out=$("$BB_UNIT" --db "$url") || fail "$(grep -v '^ok ' <<<"$out")"
	[[ $out == *"ok "* ]] || fail "no test ran: $out"
}

@test "the database unit tests pass on SQLite" {
	unit_on sqlite
}

@test "the database unit tests pass on PostgreSQL" {
	unit_on pg
}
