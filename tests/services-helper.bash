# services-helper.bash: for the suites that read PostgreSQL and the SQS
# emulator together (bb-status, bb-serve). Loads helper, store-helper and
# sqs-helper: `load services-helper` alone; services_start PG_PORT SQS_PORT
# in setup_file, services_stop in teardown_file.

load helper
load store-helper
load sqs-helper

# services_start PG_PORT SQS_PORT: this file's cluster (pg_start) and
# emulator (sqs_start), each on its port plus the test port offset. The tests
# share them, so they run one at a time even under --jobs.
services_start() {
	export BATS_NO_PARALLELIZE_WITHIN_FILE=true
	pg_start "$1"
	sqs_start "$2"
}

# services_stop: stop them both.
services_stop() {
	sqs_stop
	pg_stop
}
