#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# selftest/e2e/43-create-atomic.t: a create is atomic for its client: one told it failed finds
# nothing of it after an engine or daemon restart, or is told what became of it. The test
# plays the killer of the engine, at chosen points of a create and during 100 of them.
. "$(dirname "$0")/lib.sh"

# Poll a condition (a command) until it holds, for at most $1 seconds.
until_ok() {
	local tmo=$1; shift
	local end=$((SECONDS + tmo))
	until "$@"; do [ $SECONDS -lt $end ] || return 1; done
}

engine_pid() { pgrep -P "$DAEMON_PID" -x shimvisord-eng; }
idle_worker() { pgrep -P "$DAEMON_PID" -f '^shimvisor-worker idle$'; }
has_file() { [ -e "$1" ]; }
no_file() { [ ! -e "$1" ]; }
gone() { ! kill -0 "$1" 2>/dev/null; }
cwd_is() { [ "$(readlink "/proc/$1/cwd" 2>/dev/null)" = "$2" ]; }

# Every process below the monitor but the engine and the idle worker (and its warm init): a
# task's worker, init or process, or a cleaner. Empty once every listed task is deleted.
task_procs() {
	local keep eng idle
	eng=$(engine_pid); idle=$(idle_worker)
	keep=" $eng $idle $( [ -n "$idle" ] && pgrep -P "$idle" | tr '\n' ' ') "
	ps -eo pid=,ppid= | awk -v root="$DAEMON_PID" '{ p[$1] = $2 } END {
		for (x in p) { if (x == root) continue; y = x; while (y in p && y != root && y > 1) y = p[y]; if (y == root) print x } }' |
	while read -r pid; do case "$keep" in *" $pid "*) ;; *) echo "$pid" ;; esac; done
}
no_task_procs() { [ -z "$(task_procs)" ]; }

# Hold the next create inside its worker: the warm init it will be handed to is stopped, so
# the worker's Create never completes (and its answer, and so the commit, never come).
# Starts `run -d $1` (or `$2 $1`) in the background (its output in $T/$1.out, status in
# $T/$1.rc); returns once the worker has entered the bundle. Sets CLIENT, W (the worker)
# and WI (the stopped init).
held_create() {
	local id=$1 b="$T/state/default/$1"
	W=$(idle_worker) || fail "no idle worker"
	WI=$(pgrep -P "$W") || fail "no warm init"
	# a stopped process ignores the cleanup's SIGTERM and names nothing of the case: killed
	# here, whatever the case's end
	trap 'kill -9 "$WI" 2>/dev/null; case_cleanup' EXIT
	kill -STOP "$WI"
	( "$SV" ${2:-run -d} "$id" /bin/sleep 99432 > "$T/$id.out" 2>&1 &
	  echo $! > "$T/$id.pid"; wait $!; echo $? > "$T/$id.rc" ) &
	BG_PIDS+=($!)
	until_ok 10 has_file "$T/$id.pid" || fail "no client"
	CLIENT=$(cat "$T/$id.pid")
	BG_PIDS+=($CLIENT)
	until_ok 10 cwd_is "$W" "$b" || fail "the worker never entered $b"
	has_file "$b/creating" || fail "no intent mark in $b: $(ls "$b")"
}

# The client of $1 has finished; its message.
client_done() {
	until_ok 20 has_file "$T/$1.rc" || fail "client of $1 still waiting"
	[ "$(cat "$T/$1.rc")" = 1 ] || fail "client of $1: status $(cat "$T/$1.rc"): $(cat "$T/$1.out")"
	cat "$T/$1.out"
}

# Nothing of $1 is left: not listed, no bundle, worker $2 and init $3 gone.
nothing_left() {
	"$SV" ls -q | grep -qx "$1" && fail "$1 is listed: $("$SV" ls)"
	until_ok 10 no_file "$T/state/default/$1" || fail "its bundle is left: $(ls "$T/state/default/$1")"
	until_ok 10 gone "$2" || fail "its worker $2 is left"
	# the stopped init had no task yet (no init.pid for the cleanup to kill): once it runs
	# again it reads its worker's end and exits
	kill -CONT "$3" 2>/dev/null
	until_ok 10 gone "$3" || fail "its init $3 is left"
	until_ok 10 no_task_procs || fail "processes left: $(task_procs | xargs -r ps -o pid,stat,args -p)"
}

# The engine dies while a create is not committed: rolled back, and the client says so.
test_engine_killed_before_commit_rolls_back() {
	daemon_start
	held_create x
	kill -9 "$(engine_pid)"
	msg=$(client_done x)
	[ "$msg" = "shimvisor: run x: the daemon restarted during create; task x was rolled back" ] ||
		fail "client told: $msg"
	nothing_left x "$W" "$WI"
	grep -q "default/x: its create was not committed: rolled back" "$T/daemon.log" || fail "not logged"
	[ "$("$SV" run --rm x /bin/echo again)" = again ] || fail "the id is not free again"
}

# The whole daemon dies while a create is not committed (its worker is no longer the
# monitor's child): the next daemon rolls it back.
test_daemon_killed_before_commit_rolls_back() {
	daemon_start
	held_create x
	daemon_kill9
	kill -0 "$W" || fail "the worker died with the daemon"
	daemon_start
	msg=$(client_done x)
	case "$msg" in
	"shimvisor: run x: connection closed by shimvisord; task x: not known whether it exists"*) ;;
	*) fail "client told: $msg" ;;
	esac
	until_ok 10 gone "$W" || fail "its worker $W is left"
	kill -CONT "$WI" 2>/dev/null
	until_ok 10 gone "$WI" || fail "its init $WI is left"
	until_ok 10 no_file "$T/state/default/x" || fail "its bundle is left"
	"$SV" ls -q | grep -qx x && fail "x is listed"
	[ "$("$SV" run --rm x /bin/echo again)" = again ] || fail "the id is not free again"
}

# A pid the bundle records that is not its worker any more (reused) is never signalled.
test_rollback_spares_a_reused_pid() {
	daemon_start
	held_create x
	daemon_kill9
	kill -9 "$W" "$WI"
	until_ok 10 gone "$W" || fail "worker"
	sleep 99433 &     # stands for a process that got the pid: it must survive
	other=$!
	BG_PIDS+=($other)
	echo "$other" > "$T/state/default/x/worker.pid"
	daemon_start
	until_ok 10 no_file "$T/state/default/x" || fail "its bundle is left"
	kill -0 "$other" || fail "the process now named by worker.pid was killed"
}

# The engine dies after the commit, before the client's answer: the task exists, and the
# client is told so. The monitor is stopped while the commit is in flight (its queue seen
# with ss), then the engine, and the monitor goes on: it commits, the engine never answers.
test_engine_killed_after_commit_client_told() {
	daemon_start
	held_create x
	eng=$(engine_pid)
	chan=$(readlink "/proc/$eng/fd/3" | tr -dc 0-9)
	queued() { ss -x -a | awk -v peer="$chan" '$8 == peer && $3 > 0 { f = 1 } END { exit !f }'; }
	kill -STOP "$DAEMON_PID"
	kill -CONT "$WI"
	until_ok 10 queued || { kill -CONT "$DAEMON_PID"; fail "no commit reached the monitor"; }
	kill -STOP "$eng"
	kill -CONT "$DAEMON_PID"
	until_ok 10 no_file "$T/state/default/x/creating" || fail "not committed"
	kill -9 "$eng"
	msg=$(client_done x)
	[ "$msg" = "shimvisor: run x: the daemon restarted during create; task x exists (created)" ] ||
		fail "client told: $msg"
	"$SV" ls | grep -qE '^default +x +[0-9]+ +created' || fail "x not listed created: $("$SV" ls)"
	"$SV" delete x || fail "delete"
	until_ok 10 gone "$W" || fail "worker left"
	until_ok 10 no_task_procs || fail "processes left: $(task_procs | xargs -r ps -o pid,stat,args -p)"
}

# A task whose client died during its create (killed while the create was held) is listed
# created once done, and delete removes all of it.
test_created_by_dead_client_can_be_deleted() {
	daemon_start
	held_create c create
	kill -9 "$CLIENT"
	kill -CONT "$WI"
	listed() { "$SV" ls | grep -qE '^default +c +[0-9]+ +created'; }
	until_ok 10 listed || fail "not listed created: $("$SV" ls)"
	w=$(worker_pid c)
	[ "$w" = "$W" ] || fail "worker $w, not $W"
	"$SV" ls | grep -qE '^default +c +[0-9]+ +created' || fail "not listed created: $("$SV" ls)"
	ipid=$("$SV" state --format json c | json_field pid)
	kill -0 "$ipid" || fail "no held init"
	"$SV" delete c || fail "delete"
	until_ok 10 gone "$w" || fail "worker left"
	until_ok 10 gone "$ipid" || fail "init left"
	until_ok 10 no_file "$T/state/default/c" || fail "bundle left"
	until_ok 10 no_task_procs || fail "processes left: $(task_procs | xargs -r ps -o pid,stat,args -p)"
}

one() {
	if [ "$2" = create ]; then "$SV" create "$1" /bin/sleep 99431 > "$T/c/$1.out" 2>&1
	else "$SV" run -d "$1" /bin/sleep 99431 > "$T/c/$1.out" 2>&1; fi
	echo $? > "$T/c/$1.rc"
}

# 100 creates (a third `create`, the others `run -d`), 16 at a time; the engine is killed once
# the 30th worker exists. Each client's answer must match what is left.
test_engine_killed_during_100_creates() {
	daemon_start
	mkdir "$T/c"
	eng=$(engine_pid)
	export -f one; export T SV
	for i in $(seq 1 100); do m=run; [ $((i % 3)) = 0 ] && m=create; echo "t$i $m"; done |
		xargs -P 16 -n2 bash -c 'one "$0" "$1"' &
	xp=$!
	many() { [ "$(ls "$T"/state/default/*/worker.pid 2>/dev/null | wc -l)" -ge 30 ]; }
	until_ok 30 many || fail "never 30 workers"
	kill -9 "$eng"
	wait $xp
	"$SV" ls > "$T/ls" || fail "ls"
	local ok=0 told=0 bad=0 ns id pid st rc msg
	declare -A listed       # no process per id: under load a fork costs tens of ms
	while read -r ns id pid st; do listed[$id]=$st; done < "$T/ls"
	for i in $(seq 1 100); do
		id=t$i; read -r rc < "$T/c/$id.rc"; IFS= read -r msg < "$T/c/$id.out"
		st=${listed[$id]:-}
		if [ "$rc" = 0 ]; then
			case "$st" in running|stopped|created) ok=$((ok + 1)) ;; *) note "$id: succeeded, listed '$st'"; bad=$((bad + 1)) ;; esac
			continue
		fi
		case "$msg" in
		*"restarted during "*"; task $id exists ("*)
			[ -n "$st" ] || { note "$id: told it exists, not listed: $msg"; bad=$((bad + 1)); continue; } ;;
		*"restarted during create; task $id was rolled back")
			[ -z "$st" ] || { note "$id: told rolled back, listed $st"; bad=$((bad + 1)); continue; }
			until_ok 10 no_file "$T/state/default/$id" || { note "$id: rolled back, bundle left"; bad=$((bad + 1)); continue; } ;;
		*)
			note "$id: failed without being told which: $msg (listed '$st')"; bad=$((bad + 1)); continue ;;
		esac
		told=$((told + 1))
	done
	note "succeeded $ok, failed and told what is left $told, wrong $bad"
	[ $bad = 0 ] || fail "$bad clients were told something other than what is left"
	[ $told -gt 0 ] || note "no create was in flight at the kill (the kill came between them)"
	# nothing but the listed tasks: delete them all, then no task process is left
	"$SV" delete -f $("$SV" ls -q) > /dev/null || fail "delete"
	[ -z "$(ls "$T/state/default" 2>/dev/null)" ] || fail "bundles left: $(ls "$T/state/default")"
	until_ok 10 no_task_procs || fail "processes left: $(task_procs | xargs -r ps -o pid,args -p)"
}

run_cases "$@"
