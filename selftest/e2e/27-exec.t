#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# selftest/e2e/27-exec.t: shimvisor exec: a new process in a running task's namespaces, its
# stdio, status and signals, detached execs removed by the daemon, and the refusals.
. "$(dirname "$0")/lib.sh"

test_exec_attached() {
	daemon_start
	"$SV" run -d --hostname boxhost box /bin/sleep 1000 || fail "run"
	out=$("$SV" exec box /bin/sh -c 'echo out; echo err >&2; exit 7' 2>"$T/err")
	rc=$?
	[ $rc = 7 ] || fail "exec status $rc, want 7"
	[ "$out" = out ] || fail "stdout: $out"
	[ "$(cat "$T/err")" = err ] || fail "stderr: $(cat "$T/err")"
	# the task's namespaces: its pid 1, its hostname, its private /tmp
	[ "$("$SV" exec box /bin/cat /proc/1/comm)" = sleep ] || fail "not in the task's pid namespace"
	[ "$("$SV" exec box /bin/hostname)" = boxhost ] || fail "not in the task's uts namespace"
	# stdin is forwarded, and its end is the process's EOF
	[ "$(printf 'hello\n' | "$SV" exec box /bin/cat)" = hello ] || fail "stdin"
	# an exec id may be used again once its process is gone
	"$SV" exec --exec-id again box /bin/true || fail "exec again 1"
	"$SV" exec --exec-id again box /bin/true || fail "exec again 2"
	"$SV" delete -f box || fail "delete"
}

test_exec_detached_and_removed() {
	daemon_start
	events_start
	"$SV" run -d box /bin/sleep 1000 || fail "run"
	"$SV" exec -d --exec-id bg box /bin/sh -c 'echo hi > /tmp/x' || fail "exec -d"
	events_wait 15 '"/tasks/exit"' '"bg"' >/dev/null || fail "no exit event for the detached exec"
	[ "$("$SV" exec box /bin/cat /tmp/x)" = hi ] || fail "the detached exec did not run in the task"
	# the daemon removed it: its id is free again (a worker refuses a live duplicate)
	timeout 10 sh -c 'until "$1" exec -d --exec-id bg box /bin/true 2>/dev/null; do :; done' _ "$SV" ||
		fail "the detached exec was never removed"
	"$SV" delete -f box || fail "delete"
}

test_exec_refusals() {
	daemon_start
	"$SV" run -d box /bin/sleep 1000 || fail "run"
	"$SV" exec -d --exec-id dup box /bin/sleep 100 || fail "exec dup"
	"$SV" exec -d --exec-id dup box /bin/true 2>"$T/err" && fail "a live duplicate exec id"
	grep -q "exists" "$T/err" || fail "duplicate: $(cat "$T/err")"
	"$SV" exec nosuch /bin/true 2>"$T/err"; [ $? = 1 ] || fail "exec in an unknown task"
	grep -q "not found" "$T/err" || fail "unknown: $(cat "$T/err")"
	"$SV" exec box 2>/dev/null; [ $? = 2 ] || fail "exec without a command is not a usage error"
	"$SV" exec box /nonexistent 2>"$T/err" && fail "exec of a missing binary"
	"$SV" kill box && "$SV" wait box
	"$SV" exec box /bin/true 2>"$T/err" && fail "exec in a stopped task"
	grep -q "not running" "$T/err" || fail "stopped: $(cat "$T/err")"
	"$SV" delete box || fail "delete"
	return 0
}

test_exec_signal_forwarded() {
	daemon_start
	"$SV" run -d box /bin/sleep 1000 || fail "run"
	# SIGTERM to the client reaches the exec'd process (a shell that traps it)
	"$SV" exec box /bin/sh -c 'trap "exit 42" TERM; echo ready; while :; do sleep 1 & wait; done' > "$T/out" &
	ep=$!
	BG_PIDS+=($ep)
	timeout 10 sh -c 'until grep -qx ready "$1"; do :; done' _ "$T/out" || fail "exec not ready"
	kill -TERM "$ep"
	timeout 15 tail --pid="$ep" -f /dev/null || fail "exec did not end"
	wait "$ep"
	rc=$?
	[ $rc = 42 ] || fail "status $rc, want 42"
	"$SV" delete -f box || fail "delete"
}

run_cases "$@"
