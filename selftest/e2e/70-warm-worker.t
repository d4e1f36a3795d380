#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# selftest/e2e/70-warm-worker.t: the monitor keeps one worker exec'd and idle, hands it the
# next task, replaces it, and never leaves an idle one behind when the daemon goes.
. "$(dirname "$0")/lib.sh"

idle_workers() { pgrep -P "$1" -f '^shimvisor-worker idle$' || true; }

test_handed_over_and_replaced() {
	printf '[daemon]\nwarm_delay_ms = 0\n[policy]\nhost_namespaces = pid ipc net\n' > "$T/conf"
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

# warm_worker = 0: no spare (a small device saves its ~0.4 MiB); a reload turns it on and off,
# and the spare it retires ends with its warm init.
test_warm_worker_switch() {
	printf '[daemon]\nwarm_worker = 0\nwarm_delay_ms = 0\n' > "$T/conf"
	daemon_start -c "$T/conf"
	[ -z "$(idle_workers "$DAEMON_PID")" ] || fail "an idle worker with warm_worker = 0"
	"$SV" run -d c1 /bin/sleep 1000 || fail "run, cold"
	"$SV" delete -f c1 || fail "delete"
	[ -z "$(idle_workers "$DAEMON_PID")" ] || fail "an idle worker after a cold start"
	printf '[daemon]\nwarm_worker = 1\nwarm_delay_ms = 0\n' > "$T/conf"
	kill -HUP "$DAEMON_PID"
	local end=$((SECONDS + 20)) idle= init
	while [ -z "$idle" ]; do
		[ $SECONDS -lt $end ] || fail "no idle worker after warm_worker = 1: $(cat "$T/daemon.log")"
		sleep 0.02
		idle=$(idle_workers "$DAEMON_PID")
	done
	end=$((SECONDS + 20))
	until init=$(pgrep -P "$idle" -x shimvisor-init); do
		[ $SECONDS -lt $end ] || fail "the idle worker has no warm init"
		sleep 0.02
	done
	printf '[daemon]\nwarm_worker = 0\nwarm_delay_ms = 0\n' > "$T/conf"
	kill -HUP "$DAEMON_PID"
	timeout 10 tail --pid="$idle" -f /dev/null || fail "the idle worker outlived warm_worker = 0"
	timeout 10 tail --pid="$init" -f /dev/null || fail "its warm init outlived it"
	"$SV" run --rm c2 /bin/true || fail "run, cold again"
	[ -z "$(idle_workers "$DAEMON_PID")" ] || fail "an idle worker came back"
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
	printf '[daemon]\nwarm_delay_ms = 0\n[policy]\nhost_namespaces = pid ipc net\n' > "$T/conf"
	daemon_start -c "$T/conf"
	idle=$(idle_workers "$DAEMON_PID")
	kill -9 "$idle"
	timeout 5 tail --pid="$idle" -f /dev/null
	[ "$("$SV" run --rm after /bin/echo ok)" = ok ] || fail "run after the idle worker died"
	[ -n "$(idle_workers "$DAEMON_PID")" ] || fail "not replaced"
}

# The warm init was forked into a new pid namespace: it is the task's pid 1 itself, no
# second process in between.
test_warm_init_is_the_task() {
	printf '[daemon]\nwarm_delay_ms = 0\n[policy]\nhost_namespaces = pid ipc net\n' > "$T/conf"
	daemon_start -c "$T/conf"
	idle=$(idle_workers "$DAEMON_PID")
	init=$(pgrep -P "$idle" -f 'shimvisor-init --warm$')
	[ -n "$init" ] || fail "no warm init under the idle worker $idle"
	grep -q "^NSpid:.*[[:space:]]1$" /proc/"$init"/status || fail "warm init is not pid 1 of a namespace"
	"$SV" run -d p1 /bin/sleep 1000 || fail "run"
	pid=$("$SV" state --format json p1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
	[ "$pid" = "$init" ] || fail "task pid $pid is not the warm init $init"
	[ "$(awk '{print $4}' /proc/$pid/stat)" = "$idle" ] || fail "task's parent is not the worker"
	[ "$(cat /proc/$pid/comm)" = sleep ] || fail "task runs $(cat /proc/$pid/comm)"
	"$SV" delete -f p1 || fail "delete"
}

host_pid_bundle() {
	mkdir -p "$T/h"
	cat > "$T/h/config.json" <<JSON
{"ociVersion":"1.0.2",
 "process":{"args":["/bin/sh","-c","echo \$\$; read x; echo got \$x"],"env":["PATH=/bin:/usr/bin"],"cwd":"/","user":{"uid":0,"gid":0}},
 "root":{"path":"/","readonly":true},
 "mounts":[{"destination":"/dev","type":"tmpfs","source":"tmpfs"}],
 "linux":{"namespaces":[{"type":"mount"},{"type":"uts"}]}}
JSON
}

# Run the host-pid bundle: its first line is the task's pid as the task sees it.
run_host_pid() {
	out=$(echo hello | "$SV" run --rm --bundle "$T/h" "$1") || fail "run $1: $?"
	first=$(echo "$out" | head -1)
	[ "$(echo "$out" | tail -1)" = "got hello" ] || fail "stdin/stdout lost on the way: $out"
	[ "$first" -gt 1 ] 2>/dev/null || fail "task was pid $first: not the host's pid namespace"
}

# A task's init is started as pid 1 of a new pid namespace. A spec that wants the host's
# cannot use that init: it answers COLD and the worker starts another with the same config
# and stdio. First the warm init, then (debug: no warm workers) a cold one.
test_host_pid_namespace_goes_cold() {
	printf '[daemon]\nwarm_delay_ms = 0\n[policy]\nhost_namespaces = pid ipc net\n' > "$T/conf"
	daemon_start -c "$T/conf"
	idle=$(idle_workers "$DAEMON_PID")
	init=$(pgrep -P "$idle" -f 'shimvisor-init --warm$')
	host_pid_bundle
	run_host_pid warm
	[ "$first" != "$init" ] || fail "the warm init ran it"
	timeout 5 tail --pid="$init" -f /dev/null || fail "the warm init $init was left behind"
	[ "$("$SV" run --rm after /bin/sh -c 'echo $$')" = 1 ] || fail "the next task is not pid 1"
	daemon_stop
	printf '[daemon]\ndebug = 1\n[policy]\nhost_namespaces = pid ipc net\n' > "$T/conf"
	daemon_start -c "$T/conf"
	[ -z "$(idle_workers "$DAEMON_PID")" ] || fail "debug keeps no idle worker"
	run_host_pid cold
	[ "$("$SV" run --rm after2 /bin/sh -c 'echo $$')" = 1 ] || fail "a cold task is not pid 1"
}

run_cases "$@"
