#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# selftest/e2e/40-restart.t: tasks and workers outlive a SIGKILL of the daemon; the restarted
# daemon re-attaches, reports exits that happened meanwhile with their real status, and one
# wedged worker never stalls it.
. "$(dirname "$0")/lib.sh"

test_reattach_after_kill9() {
	daemon_start
	"$SV" run -d long /bin/sleep 1000 || fail "run long"
	"$SV" run -d short /bin/sh -c 'read x; exit 5' || fail "run short"   # stdin: /dev/null
	"$SV" run -d later /bin/sh -c 'while [ ! -e /tmp/go ]; do sleep 0.05; done; exit 6' || fail "run later"
	long_pid=$("$SV" state --format json long | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
	later=$("$SV" state --format json later | json_field pid)
	"$SV" wait short; [ $? = 5 ] || fail "short"
	daemon_kill9
	kill -0 "$long_pid" || fail "task died with the daemon"
	# exit while the daemon is down
	nsenter -t "$later" -m touch /tmp/go || fail "nsenter"
	timeout 10 tail --pid="$later" -f /dev/null
	daemon_start
	# live workers answer at once: none may be left for the re-attach deadline
	! grep "no answer within" "$T/daemon.log" || fail "a live worker's re-attach ran into the deadline"
	"$SV" ls | grep -E '^default +long +[0-9]+ +running' >/dev/null || fail "long not re-attached: $("$SV" ls)"
	"$SV" wait later; rc=$?; [ $rc = 6 ] || fail "later: wait gave $rc, want 6"
	"$SV" wait short; [ $? = 5 ] || fail "short after restart"
	"$SV" kill -s KILL long || fail "kill long"
	"$SV" wait long; [ $? = 137 ] || fail "long status"
	"$SV" delete long short later || fail "delete"
	[ -z "$(ls "$T/state" | grep -v '^\.')" ] || fail "bundles left: $(find "$T/state")"
}

test_exit_event_after_restart() {
	daemon_start
	"$SV" run -d x1 /bin/sleep 1000 || fail "run"
	pid=$("$SV" state --format json x1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
	daemon_kill9
	daemon_start
	events_start
	"$SV" ls | grep -q 'x1.*running' || fail "not re-attached"
	kill -9 "$pid"
	ev=$(events_wait 10 '"/tasks/exit"' '"x1"') || fail "no exit event after re-attach"
	python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["exit_status"]==137, d' "$ev" || fail "$ev"
	"$SV" delete x1 || fail "delete"
	events_wait 10 '"/tasks/delete"' '"x1"' >/dev/null || fail "no delete event"
}

test_wedged_worker_does_not_stall_restart() {
	daemon_start --worker "$BUILD/shimvisor-worker"
	"$SV" run -d stuck /bin/sleep 1000 || fail "run"
	w=$(worker_pid stuck)
	daemon_kill9
	kill -STOP "$w"
	start=$(date +%s%N)
	daemon_start
	[ "$("$SV" run --rm fresh /bin/echo served)" = served ] || fail "new task not served"
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	note "daemon served a new task ${ms} ms after restart with a wedged worker"
	kill -CONT "$w"
	"$SV" kill -s KILL stuck
	"$SV" wait stuck; [ $? = 137 ] || fail "wedged task not adopted after SIGCONT"
	"$SV" delete stuck || fail "delete"
}

# Re-attach and clients overlap: a worker that does not answer (stopped) keeps readiness
# waiting for its deadline (here 20 s), but clients are served SV_REATTACH_SERVE_MS after the
# scan, the wedged task listed unknown and the others re-attached; once the worker runs
# again it is adopted and readiness follows. No per-worker warning, one closing line.
test_clients_served_while_a_worker_is_reattached() {
	printf '[daemon]\nreattach_timeout_ms = 20000\n' > "$T/conf"
	daemon_start -c "$T/conf"
	"$SV" run -d stuck /bin/sleep 1000 || fail "run stuck"
	"$SV" run -d fine /bin/sleep 1000 || fail "run fine"
	w=$(worker_pid stuck)
	daemon_kill9
	kill -STOP "$w"
	rm -f "$T/ready"; mkfifo "$T/ready"
	"$SVD" -F -c "$T/conf" --state "$T/state" --address "$T/ctl.sock" --pidfile "$T/shimvisord.pid" \
		--cgroup-parent "$(case_cgroup)" --ready-fd 3 3>"$T/ready" 2>>"$T/daemon.log" &
	DAEMON_PID=$!
	exec 4<"$T/ready"       # (opened before ls: a byte written later stays readable)
	# its socket listens once it logs its version line (the second in this log)
	timeout 10 sh -c 'until [ "$(grep -c ": serving " "$1")" -ge 2 ]; do sleep 0.02; done' _ \
		"$T/daemon.log" || { kill -CONT "$w"; fail "the daemon did not start"; }
	timeout 10 "$SV" ls >"$T/ls" || { kill -CONT "$w"; fail "not served while re-attaching"; }
	if read -r -t 0 -u 4; then kill -CONT "$w"; fail "ready before the wedged worker answered"; fi
	grep -Eq '^default +stuck +[0-9]+ +unknown' "$T/ls" || { kill -CONT "$w"; fail "stuck: $(cat "$T/ls")"; }
	grep -Eq '^default +fine +[0-9]+ +running' "$T/ls" || { kill -CONT "$w"; fail "fine: $(cat "$T/ls")"; }
	grep -q "re-attach: serving clients meanwhile (1 of 2 tasks done)" "$T/daemon.log" ||
		{ kill -CONT "$w"; fail "log: $(cat "$T/daemon.log")"; }
	kill -CONT "$w"
	c=$(timeout 10 head -c1 <&4 | od -An -c | tr -d ' ')
	exec 4<&-
	[ "$c" = '\n' ] || fail "not ready after the worker ran again"
	"$SV" ls | grep -Eq '^default +stuck +[0-9]+ +running' || fail "stuck not adopted: $("$SV" ls)"
	grep -q "re-attach: 2 tasks in [0-9]* ms" "$T/daemon.log" || fail "no closing line: $(cat "$T/daemon.log")"
	! grep -q "no answer within" "$T/daemon.log" || fail "a live worker counted late"
	"$SV" delete -f stuck fine || fail "delete"
}

# A wedged worker whose listen backlog is full: a blocking connect would hang the monitor
# (and with it every spawn and cleanup) until the worker ran again.
test_wedged_worker_with_full_backlog_does_not_hang_restart() {
	daemon_start
	"$SV" run -d stuck /bin/sleep 1000 || fail "run"
	w=$(worker_pid stuck)
	daemon_kill9
	kill -STOP "$w"
	mkfifo "$T/full"
	python3 - "$T/state" "$T/full" <<'PY' &
import hashlib, socket, sys, time
state, fifo = sys.argv[1], sys.argv[2]
sock = state + "/.s/" + hashlib.sha256((state + "/default/stuck").encode()).hexdigest()[:32]
held = []
while True:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.setblocking(False)
    try:
        s.connect(sock)
    except BlockingIOError:
        break
    held.append(s)
open(fifo, "w").write("%d\n" % len(held))
while True:
    time.sleep(3600)
PY
	BG_PIDS+=($!)
	n=$(timeout 10 head -n1 "$T/full") || fail "the backlog was not filled"
	note "worker backlog full after $n connections"
	daemon_start
	[ "$("$SV" run --rm fresh /bin/echo served)" = served ] || fail "new task not served"
	"$SV" ls | grep -E '^default +stuck +[0-9]+ +unknown' >/dev/null || fail "ls: $("$SV" ls)"
	grep -q "re-attach default/stuck: cannot connect" "$T/daemon.log" || fail "log: $(cat "$T/daemon.log")"
	# once it runs again and has room, a restart adopts it
	kill "${BG_PIDS[-1]}"
	kill -CONT "$w"
	daemon_kill9
	daemon_start
	"$SV" kill stuck && "$SV" wait stuck; [ $? = 137 ] || fail "not adopted after SIGCONT"
	"$SV" delete stuck || fail "delete"
}

test_restart_removes_empty_bundles() {
	mkdir -p "$T/state/default/empty"
	daemon_start
	[ -e "$T/state/default/empty" ] && fail "empty bundle left"
	return 0
}

# The daemon died between spawning a worker and sending it Create: the worker serves, with
# no task. Made here by hand exactly as the monitor makes one (bundle, socket, link,
# worker.pid not yet written). A restart lets it go and removes its bundle, at once.
test_restart_releases_a_worker_without_task() {
	mkdir -p "$T/state/default/ghost/rootfs" "$T/state/.s"
	echo '{}' > "$T/state/default/ghost/config.json"
	python3 - "$T/state" "$(dirname "$SVD")/shimvisor-worker" <<'PY' || fail "ghost worker"
import hashlib, os, socket, sys
state, worker = sys.argv[1], sys.argv[2]
bundle = state + "/default/ghost"
sock = state + "/.s/" + hashlib.sha256(bundle.encode()).hexdigest()[:32]
l = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); l.bind(sock); l.listen(64)
open(bundle + "/address", "w").write("unix://" + sock)
r, w = socket.socketpair()                 # the link: the engine's end dies with us
if os.fork() == 0:
    os.setsid()
    a, b = os.dup(l.fileno()), os.dup(w.fileno())  # copies: no dup2 below overwrites a source
    os.dup2(a, 3); os.dup2(b, 4)
    os.set_inheritable(3, True); os.set_inheritable(4, True)
    os.chdir(bundle)
    os.closerange(5, 1024)
    os.execv(worker, ["shimvisor-worker", "-namespace", "default", "-id", "ghost", "-bundle", bundle])
PY
	ghost=$(pgrep -f -- "-id ghost -bundle $T/")
	[ -n "$ghost" ] || fail "the ghost worker is not running"
	daemon_start
	grep -q "re-attach default/ghost: the worker has no task" "$T/daemon.log" ||
		fail "not released: $(cat "$T/daemon.log")"
	! grep "no answer within" "$T/daemon.log" || fail "readiness waited for the deadline"
	timeout 10 tail --pid="$ghost" -f /dev/null || fail "the ghost worker did not exit"
	[ -z "$("$SV" ls -q)" ] || fail "listed: $("$SV" ls)"
	[ ! -e "$T/state/default/ghost" ] || fail "its bundle is left"
}

# A restart starved of fds (here 18) cannot read the bundles: it must leave them and their
# live tasks alone, never take them for half-made ones and remove them (it did: the tasks
# ran on with no bundle and no way to reach them). A restart with room re-attaches all.
test_fd_starved_restart_keeps_bundles() {
	# 10 tasks under an 18-fd limit: the engine's own dozen fds leave room for some of
	# them, never all (the daemon closes what it inherits, so the count is its own)
	daemon_start
	for i in $(seq 1 10); do "$SV" run -d "s$i" /bin/sleep 99921 || fail "run s$i"; done
	daemon_kill9
	DAEMON_WRAP="prlimit --nofile=18:18" daemon_start
	grep -q "left as it is" "$T/daemon.log" || fail "no starved re-attach: $(cat "$T/daemon.log")"
	daemon_kill9
	[ "$(ls "$T/state/default" | wc -l)" = 10 ] || fail "bundles removed: $(ls "$T/state/default")"
	# this case's own tasks, by the pid and start time each bundle records (another run's
	# tasks on the machine must not count)
	alive=0
	for f in "$T"/state/default/*/init.pid; do
		read -r ipid istart < "$f"
		[ "$(awk '{print $22}' "/proc/$ipid/stat" 2>/dev/null)" = "$istart" ] && alive=$((alive + 1))
	done
	[ "$alive" = 10 ] || fail "tasks died: $alive of 10 alive"
	daemon_start
	[ "$("$SV" ls | grep -cE ' s[0-9]+ +[0-9]+ +running')" = 10 ] || fail "not re-attached: $("$SV" ls)"
	pids=$(for i in $(seq 1 10); do "$SV" state --format json "s$i" | json_field pid; done)
	"$SV" delete -f $(seq -f 's%g' 1 10) || fail "delete"
	for p in $pids; do kill -0 "$p" 2>/dev/null && fail "task $p left running"; done
	return 0
}

test_sysvinit_script_restart_keeps_tasks() {
	export DAEMON="$SVD" PIDFILE="$T/shimvisord.pid"
	export DAEMON_ARGS="--state $T/state --address $T/ctl.sock --cgroup-parent $(case_cgroup)"
	export SHIMVISOR_ADDRESS="$T/ctl.sock"
	init="$HERE/../../etc/init.d/shimvisord"
	sh "$init" start >/dev/null || fail "init script start"
	DAEMON_PID=$(cat "$PIDFILE")
	sh "$init" status >/dev/null || fail "status after start"
	"$SV" run -d keep /bin/sleep 1000 || fail "run"
	pid=$("$SV" state --format json keep | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
	sh "$init" restart >/dev/null || fail "init script restart"
	DAEMON_PID=$(cat "$PIDFILE")
	kill -0 "$pid" || fail "the task did not survive the restart"
	"$SV" ls | grep -E '^default +keep +[0-9]+ +running' >/dev/null || fail "not re-attached: $("$SV" ls)"
	"$SV" delete -f keep || fail "delete"
	sh "$init" stop >/dev/null || fail "init script stop"
	sh "$init" status >/dev/null && fail "status after stop says running"
	DAEMON_PID=""
	return 0
}

# The engine ends (killed here; a request outside the monitor's table ends it the same way,
# test_sup_monitor): the monitor starts another, which re-attaches every task, and the
# daemon serves on. An engine that keeps ending is restarted with a growing backoff, never
# the daemon's end (42-engine-restart.t: the backoff itself).
test_engine_replaced_when_it_ends() {
	daemon_start
	"$SV" run -d a /bin/sleep 99923 || fail "run a"
	apid=$("$SV" state --format json a | json_field pid)
	eng=$(pgrep -P "$DAEMON_PID" -x shimvisord-eng) || fail "no engine"
	kill -9 "$eng"
	# a client waits in the backlog until the new engine re-attached the tasks
	"$SV" ls | grep -E "^default +a +$apid +running" >/dev/null || fail "a not re-attached: $("$SV" ls)"
	eng2=$(pgrep -P "$DAEMON_PID" -x shimvisord-eng) || fail "no new engine"
	[ "$eng2" != "$eng" ] || fail "the same engine"
	[ "$(awk '/^Uid:/{print $2}' /proc/$eng2/status)" = "$(id -u shimvisor)" ] || fail "new engine's uid"
	[ "$("$SV" run --rm b /bin/echo after)" = after ] || fail "run after the engine was replaced"
	grep -q "the engine was killed by signal 9 (Killed) after .*: restart 1 (attempt 1) in 100 ms" \
		"$T/daemon.log" || fail "not logged: $(cat "$T/daemon.log")"
	# five more within the minute (the old limit ended the daemon here): it serves on
	for i in 1 2 3 4 5; do
		eng=$(pgrep -P "$DAEMON_PID" -x shimvisord-eng) || fail "no engine at end $i"
		kill -9 "$eng"
		"$SV" version >/dev/null || fail "version after end $i"
	done
	kill -0 "$DAEMON_PID" || fail "the daemon ended after 6 engine ends"
	grep -q "restart 6 (attempt 6) in 3200 ms" "$T/daemon.log" || fail "log: $(tail -3 "$T/daemon.log")"
	"$SV" ls | grep -E "^default +a +$apid +running" >/dev/null || fail "a: $("$SV" ls)"
	"$SV" delete -f a || fail "delete a"
}

run_cases "$@"
