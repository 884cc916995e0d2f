#!/usr/bin/env bats
# The Debian package (make check, or make check-package; as root): built
# with make deb, it installs with dpkg -i, its programs and pages work from
# where it put them (a page for every command), it creates the bb user and
# /var/lib/bb, ships /etc/bb/bb.conf and bb.env as conffiles, enables no
# unit, and purges cleanly. The machine is left as it was: the bb user, which
# a purge keeps as Debian keeps system users, goes too if this suite made it.

bats_require_minimum_version 1.5.0
load /usr/lib/bats/bats-support/load.bash
load /usr/lib/bats/bats-assert/load.bash

ROOT=$BATS_TEST_DIRNAME/../..

setup_file() {
	[ "$(id -u)" -eq 0 ] || { echo "# dpkg -i needs root" >&3; return 1; }
	! dpkg-query -W bb >/dev/null 2>&1 ||
		{ echo "# bb is installed on this machine: purge it first (dpkg --purge bb), or test elsewhere" >&3; return 1; }
	export BB_PACKAGE_OURS=1 # from here on, whatever bb package is installed is this suite's
	make -C "$ROOT" --no-print-directory deb >"$BATS_FILE_TMPDIR/deb.log" 2>&1 ||
		{ echo "# make deb failed:" >&3; tail -n 30 "$BATS_FILE_TMPDIR/deb.log" | sed 's/^/# /' >&3; return 1; }
	DEB=$(ls "$ROOT"/build/deb/bb_*.deb | head -n 1)
	BB_USER_BEFORE=$(id -u bb 2>/dev/null || echo none)
	export DEB BB_USER_BEFORE
}

teardown_file() {
	[ -n "${BB_PACKAGE_OURS:-}" ] || return 0
	dpkg --purge bb >/dev/null 2>&1 || true
	if [ "${BB_USER_BEFORE:-}" = none ] && id bb >/dev/null 2>&1; then
		deluser --system --quiet bb 2>/dev/null # its group too, when no one else is in it
		! getent group bb >/dev/null || delgroup --system --quiet bb
	fi
}

@test "the package installs; --version and man -w of bb-validate, bb-alert, bb-serve and bb-trend work from it" {
	run dpkg -i "$DEB"
	assert_success
	run /usr/bin/bb-validate --version
	assert_success
	assert_output "bb-validate 0.1.0"
	run man -w bb-alert
	assert_success
	assert_output --regexp '^/usr/share/man/man1/bb-alert\.1(\.gz)?$'
	run man -w 7 bb
	assert_success
	for p in bb-serve bb-trend; do
		run /usr/bin/$p --version
		assert_output "$p 0.1.0"
		run man -w $p
		assert_output --regexp "^/usr/share/man/man1/$p\.1(\.gz)?$"
	done
}

@test "the package depends on libpq5, which its programs load only for a PostgreSQL URL" {
	run dpkg-deb -f "$DEB" Depends
	assert_success
	assert_output --regexp '(^|, )libpq5(,|$| )'
}

@test "every command it puts in /usr/bin has its man page, as lintian asks" {
	run bash -c "dpkg -L bb | grep '^/usr/bin/.'"
	assert_success
	for f in "${lines[@]}"; do
		man -w "${f##*/}" >/dev/null 2>&1 || fail "no man page for $f"
	done
	for p in bb-pipeline bb-autoscale bb-mail; do
		run man -w "$p"
		assert_output --regexp "^/usr/share/man/man1/$p\.1(\.gz)?$"
	done
}

@test "it holds the programs, the units and the examples, and the conffiles" {
	for p in bb-validate bb-severity bb-dedupe bb-store bb-sqs-send bb-sqs-recv bb-ack bb-alert bb-serve bb-trend bb-status \
		bb-pipeline bb-autoscale bb-mail; do
		[ -x "/usr/bin/$p" ] || fail "no /usr/bin/$p"
	done
	for u in bb-ingest.service bb-ingest@.service bb-alert-deliver.service bb-alert-sweep.timer bb-digest.timer \
		bb-prune.timer bb-status.timer bb-autoscale.timer bb-serve.service bb-trend-weekly.service bb-trend-weekly.timer; do
		[ -f "/lib/systemd/system/$u" ] || fail "no /lib/systemd/system/$u"
	done
	[ -f /usr/share/doc/bb/examples/iam-policy.json ] || fail "no examples"
	run dpkg-query -W -f '${Conffiles}\n' bb
	assert_line --regexp '^ /etc/bb/bb\.conf [0-9a-f]{32}$'
	assert_line --regexp '^ /etc/bb/bb\.env [0-9a-f]{32}$'
}

@test "it creates the bb user and /var/lib/bb; bb.env is readable by bb alone" {
	run id -u bb
	assert_success
	run stat -c '%U:%G %a' /var/lib/bb /etc/bb/bb.env
	assert_output "bb:bb 750
root:bb 640"
	run env BB_CONFIG=/etc/bb/bb.conf /usr/bin/bb-validate </dev/null
	assert_success
}

@test "it enables and starts nothing" {
	run bash -c 'ls /etc/systemd/system/*.wants/ 2>/dev/null | grep "^bb-"'
	assert_output ''
}

@test "purge removes it all, and its state" {
	run dpkg --purge bb
	assert_success
	[ ! -e /usr/bin/bb-validate ] || fail "a program is left"
	[ ! -e /lib/systemd/system/bb-ingest.service ] || fail "a unit is left"
	[ ! -e /etc/bb/bb.conf ] || fail "a conffile is left"
	[ ! -e /var/lib/bb ] || fail "/var/lib/bb is left"
	[ ! -e /etc/bb ] || fail "/etc/bb is left"
	run id -u bb
	assert_success # a system user is kept, as Debian keeps them; teardown_file removes the one this suite made
}
