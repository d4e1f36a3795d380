#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# selftest/e2e/70-warm-worker.t: the monitor keeps one worker exec'd and idle, hands it the
# next task, replaces it, and never leaves an idle one behind when the daemon goes.
. "$(dirname "$0")/lib.sh"

idle_workers() { pgrep -P "$1" -f '^shimvisor-worker idle$' || true; }

test_handed_over_and_replaced() {
	printf '[daemon]\nwarm_delay_ms = 0\n' > "$T/conf"
	daemon_start -c "$T/conf"
	idle=$(idle_workers "$DAEMON_PID")
	[ "$(echo "$idle" | grep -c .)" = 1 ] || fail "want one idle worker, have: '$idle'"
	"$SV" run -d w1 /bin/sleep 1000 || fail "run"
	[ "$(worker_pid w1)" = "$idle" ] || fail "task not given to the warm worker ($(worker_pid w1) vs $idle)"
	next=$(idle_workers "$DAEMON_PID")
	[ -n "$next" ] && [ "$next" != "$idle" ] || fail "no new idle worker after the hand-over"
	pid=$("$SV" state --format json w1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
	[ "$(awk '{print $4}' /proc/$pid/stat)" = "$idle" ] || fail "task's parent is not the worker"
	"$SV" delete -f w1 || fail "delete"
}

test_idle_worker_goes_with_the_daemon() {
	daemon_start
	idle=$(idle_workers "$DAEMON_PID")
	[ -n "$idle" ] || fail "no idle worker"
	daemon_stop
	timeout 5 tail --pid="$idle" -f /dev/null || fail "idle worker outlived a clean stop"
	daemon_start
	idle=$(idle_workers "$DAEMON_PID")
	daemon_kill9
	timeout 5 tail --pid="$idle" -f /dev/null || fail "idle worker outlived SIGKILL of the daemon"
}

test_killed_idle_worker_is_replaced() {
	printf '[daemon]\nwarm_delay_ms = 0\n' > "$T/conf"
	daemon_start -c "$T/conf"
	idle=$(idle_workers "$DAEMON_PID")
	kill -9 "$idle"
	timeout 5 tail --pid="$idle" -f /dev/null
	[ "$("$SV" run --rm after /bin/echo ok)" = ok ] || fail "run after the idle worker died"
	[ -n "$(idle_workers "$DAEMON_PID")" ] || fail "not replaced"
}

run_cases "$@"
