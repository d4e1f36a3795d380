#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# selftest/e2e/50-concurrency.t: many clients at once.
. "$(dirname "$0")/lib.sh"

test_30_concurrent_runs() {
	daemon_start
	pids=()
	for i in $(seq 1 30); do
		( out=$("$SV" run --rm "c$i" /bin/sh -c "echo out-$i; exit $((i % 7))"); rc=$?
		  echo "$i $rc $out" > "$T/r$i" ) &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p"; done
	for i in $(seq 1 30); do
		[ "$(cat "$T/r$i")" = "$i $((i % 7)) out-$i" ] || fail "run $i: $(cat "$T/r$i")"
	done
	"$SV" ls -q | grep -q . && fail "tasks left"
	[ -z "$(ls "$T/state" | grep -v '^\.')" ] || fail "bundles left"
	return 0
}

run_cases "$@"
