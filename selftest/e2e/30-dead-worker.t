#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# selftest/e2e/30-dead-worker.t: a worker killed with SIGKILL: its task is killed, the exit is
# published (the recorded status when there is one), nothing is left.
. "$(dirname "$0")/lib.sh"

test_kill9_worker_with_running_task() {
	daemon_start
	events_start
	"$SV" run -d dw /bin/sh -c 'sleep 1000 & exec sleep 1001' || fail "run"
	pid=$("$SV" state --format json dw | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
	ns=$(readlink /proc/$pid/ns/pid)
	w=$(worker_pid dw)
	[ -n "$w" ] || fail "no worker"
	kill -9 "$w"
	ev=$(events_wait 15 '"/tasks/delete"' '"dw"') || fail "no delete event"
	line=$(grep '"/tasks/exit"' "$T/events" | grep '"dw"') || fail "no exit event"
	python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["exit_status"]==137, d' "$line" || fail "exit: $line"
	[ "$(grep -c '"/tasks/exit"' "$T/events")" = 1 ] || fail "exit published twice"
	kill -0 "$pid" 2>/dev/null && fail "task init $pid still alive"
	# its pid 1 gone, the kernel kills the rest of the namespace: bounded, a leak stays
	local end=$((SECONDS + 5))
	while p=$(ns_pids "$ns"); [ -n "$p" ] && [ $SECONDS -lt $end ]; do :; done
	[ -z "$p" ] || fail "process $p of the task's pid namespace left"
	[ -e "$T/state/default/dw" ] && fail "bundle left"
	[ -z "$(ls -A "$T/state/.s")" ] || fail "socket left: $(ls -A "$T/state/.s")"
	grep -qF "$T/state" /proc/self/mountinfo && fail "mount left"
	"$SV" ls -q | grep -q . && fail "task still listed"
	# the daemon goes on serving
	[ "$("$SV" run --rm after /bin/echo ok)" = ok ] || fail "daemon stopped serving"
}

test_kill9_worker_after_exit_keeps_status() {
	daemon_start
	events_start
	"$SV" run -d ex /bin/sh -c 'exit 3' || fail "run"
	"$SV" wait ex; [ $? = 3 ] || fail "wait"
	events_wait 10 '"/tasks/exit"' '"ex"' >/dev/null || fail "no exit event"
	kill -9 "$(worker_pid ex)"
	events_wait 15 '"/tasks/delete"' '"ex"' >/dev/null || fail "no delete event"
	[ "$(grep -c '"/tasks/exit"' "$T/events")" = 1 ] || fail "exit published twice"
	line=$(grep '"/tasks/delete"' "$T/events")
	python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["exit_status"]==3, d' "$line" || fail "delete: $line"
	[ -e "$T/state/default/ex" ] && fail "bundle left"
	return 0
}

test_worker_dies_while_daemon_down_records_status() {
	# the daemon runs the worker through a wrapper whose `delete` (the cleaner) waits at a
	# gate, so that the restarted daemon's cleanup happens once this case is subscribed
	mkdir -p "$T/bin/real"
	cp "$(dirname "$SVD")/shimvisor-worker" "$(dirname "$SVD")/shimvisor-init" "$T/bin/real/"
	mkfifo "$T/gate"
	printf '#!/bin/sh\ncase " $* " in *" delete "*) cat "%s" >/dev/null ;; esac\nexec "%s" "$@"\n' \
		"$T/gate" "$T/bin/real/shimvisor-worker" > "$T/bin/shimvisor-worker"
	chmod 755 "$T/bin/shimvisor-worker"
	printf '[daemon]\ncleanup_timeout_ms = 60000\n' > "$T/conf"
	daemon_start -c "$T/conf" --worker "$T/bin/shimvisor-worker"
	"$SV" run -d rec /bin/sh -c 'read x; exit 9' < /dev/null || fail "run"
	"$SV" wait rec; [ $? = 9 ] || fail "wait"
	w=$(worker_pid rec)
	daemon_kill9
	kill -9 "$w"
	timeout 5 tail --pid="$w" -f /dev/null
	daemon_start -c "$T/conf" --worker "$T/bin/shimvisor-worker"
	events_start
	"$SV" ls -q | grep -qx rec || fail "rec was cleaned up before its cleaner ran: $("$SV" ls)"
	timeout 10 sh -c 'echo > "$1"' _ "$T/gate" || fail "the cleaner never reached its gate"
	# the restarted daemon found a dead worker: cleaned up, its delete reports the recorded 9
	line=$(events_wait 20 '"/tasks/delete"' '"rec"') || fail "no delete event"
	python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["exit_status"]==9, d' "$line" ||
		fail "delete event: $line"
	"$SV" ls -q | grep -qx rec && fail "rec still listed after its delete event"
	[ -e "$T/state/default/rec" ] && fail "bundle left"
	return 0
}

# Hundreds of workers die at once (an OOM sweep, a careless pkill) while the engine is not
# reading (stopped here): every task is cleaned up. Before, the packets over what the
# engine<->monitor socket holds were dropped with a warning, both ways: 193 of 600 tasks
# stayed listed "running" with their processes left behind.
test_mass_worker_death() {
	local n=600 eng
	daemon_start
	seq -f "m%04g" $n | xargs -P4 -I{} "$SV" run -d {} /bin/sleep 99917 || fail "run"
	[ "$("$SV" ls -q | wc -l)" = $n ] || fail "not all $n started"
	events_start
	eng=$(pgrep -P "$DAEMON_PID" -x shimvisord-eng)
	kill -STOP "$eng"
	# the monitor reaps every worker while the engine reads nothing: its reports queue
	python3 - $(cat "$T"/state/default/m*/worker.pid) <<'PY' || { kill -CONT "$eng"; fail "workers"; }
import os, select, signal, sys
fds = [os.pidfd_open(int(p)) for p in sys.argv[1:]]
for p in sys.argv[1:]:
    os.kill(int(p), signal.SIGKILL)
po = select.poll()
for f in fds:
    po.register(f, select.POLLIN)
left = len(fds)
while left:
    ev = po.poll(30000)
    if not ev:
        sys.exit("workers not gone")
    for f, _ in ev:
        po.unregister(f); left -= 1
PY
	kill -CONT "$eng"
	timeout 60 tail -n +1 -f "$T/events" | grep -m $n -F '"/tasks/delete"' | wc -l | grep -qx $n ||
		fail "not every task was deleted: $("$SV" ls -q | wc -l) left"
	[ -z "$("$SV" ls -q)" ] || fail "tasks left listed"
	[ -z "$(ls "$T/state/default" 2>/dev/null)" ] || fail "bundles left: $(ls "$T/state/default" | wc -l)"
	! pgrep -f '^/bin/sleep 99917$' > /dev/null || fail "$(pgrep -cf '^/bin/sleep 99917$') tasks left running"
	! grep -E "cleanup request failed|reply to engine" "$T/daemon.log" || fail "a packet was lost"
}

# A worker dies while its cleaner cannot start (the binary is gone: an upgrade half done).
# The bundle is what the cleaner needs to kill the task: it stays, and the cleaner is
# retried until it runs. Before, the bundle was removed at once and the task ran on.
test_cleaner_retried_until_it_runs() {
	mkdir -p "$T/bin"
	cp "$(dirname "$SVD")/shimvisor-worker" "$(dirname "$SVD")/shimvisor-init" "$T/bin/"
	printf '[daemon]\ndebug = 1\n' > "$T/conf"
	daemon_start -c "$T/conf" --worker "$T/bin/shimvisor-worker"
	"$SV" run -d orphan /bin/sleep 99922 || fail "run"
	task=$("$SV" state --format json orphan | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
	events_start
	rm "$T/bin/shimvisor-worker"
	kill -9 "$(worker_pid orphan)"
	timeout 10 tail -n +1 -f "$T/daemon.log" | grep -q -m1 "cleanup of default/orphan: cannot start" ||
		fail "no failed cleaner: $(cat "$T/daemon.log")"
	[ -d "$T/state/default/orphan" ] || fail "bundle removed before its cleaner ran"
	kill -0 "$task" || fail "task gone without its cleaner"
	cp "$(dirname "$SVD")/shimvisor-worker" "$T/bin/"
	events_wait 15 '"/tasks/delete"' '"orphan"' > /dev/null || fail "not cleaned up once the binary was back"
	timeout 5 tail --pid="$task" -f /dev/null || fail "task left running"
	[ ! -e "$T/state/default/orphan" ] || fail "bundle left"
}

# `run --rm ID /bin/true` must fail, say WHY, list no task and leave no bundle.
run_fails_saying() {
	local id=$1 why=$2 out
	out=$("$SV" run --rm "$id" /bin/true 2>&1) && fail "run $id succeeded"
	case "$out" in
	*"$why"*) ;;
	*) fail "run $id: error does not say '$why': $out" ;;
	esac
	[ -z "$("$SV" ls -q)" ] || fail "task left listed: $("$SV" ls -q)"
	[ ! -e "$T/state/default/$id" ] || fail "bundle $id left behind"
}

# The worker binary disappears under a running daemon (an upgrade gone wrong): the next
# create fails with the reason, leaves nothing, and the daemon serves on; once the binary
# is back, tasks run again. The same for shimvisor-init, which the worker starts.
# (debug: no warm worker exec'd ahead, every spawn execs.)
test_worker_binary_gone() {
	mkdir -p "$T/bin"
	cp "$(dirname "$SVD")/shimvisor-worker" "$(dirname "$SVD")/shimvisor-init" "$T/bin/"
	printf '[daemon]\ndebug = 1\n' > "$T/conf"
	daemon_start -c "$T/conf" --worker "$T/bin/shimvisor-worker"
	[ "$("$SV" run --rm before /bin/echo ok)" = ok ] || fail "run with the binary there"
	rm "$T/bin/shimvisor-worker"
	run_fails_saying gone "No such file or directory"
	kill -0 "$DAEMON_PID" || fail "daemon exited"
	cp "$(dirname "$SVD")/shimvisor-worker" "$T/bin/"
	[ "$("$SV" run --rm back /bin/echo ok)" = ok ] || fail "run once the binary is back"
	rm "$T/bin/shimvisor-init"
	run_fails_saying noinit "shimvisor-init: No such file or directory"
	# a failed create is answered once its bundle is gone: the same id works at once
	cp "$(dirname "$SVD")/shimvisor-init" "$T/bin/"
	[ "$("$SV" run --rm noinit /bin/echo ok)" = ok ] || fail "the same id right after the failure"
}

run_cases "$@"
