#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# selftest/e2e/26-cgroupless.t: a task started without a limit (no cgroup of its own) still
# answers stats (from /proc), pause, resume and update (a cgroup made at the first of them).
. "$(dirname "$0")/lib.sh"

# Wait (bounded) until the task's pid namespace holds $2 processes.
settle() {
	local pid ns
	pid=$(task_pid "$1")
	ns=$(readlink "/proc/$pid/ns/pid")
	timeout 10 bash -c '. "$0"; until [ "$(ns_pids "$1" | wc -l)" = "$2" ]; do :; done' \
		"$HERE/lib.sh" "$ns" "$2" || fail "task $1: not $2 processes: $(ns_pids "$ns" | wc -l)"
}

test_stats_from_proc() {
	daemon_start
	# a shell, its 2 sleeps, and a subshell that burns CPU and exits (waited for by the
	# shell: its time counts in the shell's)
	"$SV" run -d st /bin/sh -c 'sleep 1000 & sleep 1001 & i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; wait' ||
		fail "run"
	pid=$(task_pid st)
	grep -qF "$(case_cgroup)/" "/proc/$pid/cgroup" && fail "the task has a cgroup: $(cat /proc/$pid/cgroup)"
	settle st 3
	out=$("$SV" stats --format json st) || fail "stats: $out"
	python3 - "$out" <<'PY' || fail "stats json: $out"
import json, sys
d = json.loads(sys.argv[1])
assert d["id"] == "st", d
assert d["source"] == "proc", d
assert d["cgroup"] == "none", d
assert d["pids"] == 3, d
assert d["pids_limit"] == 0 and d["memory_limit_bytes"] == 0, d
assert d["memory_usage_bytes"] > 0, d
assert d["cpu_usage_ns"] > 0, d
PY
	"$SV" stats st > "$T/table" || fail "stats table"
	head -n1 "$T/table" | grep -qE '^ID +CPU-NS +MEMORY +MEMORY-LIMIT +PIDS +PIDS-LIMIT +SOURCE$' ||
		fail "stats heading: $(cat "$T/table")"
	sed -n 2p "$T/table" | grep -qE '^st +[1-9][0-9]* +[1-9][0-9]* +max +3 +max +proc$' ||
		fail "stats row: $(cat "$T/table")"
	"$SV" delete -f st || fail "delete"
}

# The last number task $1 wrote to its detached log.
counter() { tail -n1 "$T/state/default/$1/log" 2>/dev/null; }

# Whether the counter of task $1 moves past $2 within $3 seconds (default 10).
advances() {
	local until now
	until=$(echo "${EPOCHREALTIME/,/.} + ${3:-10}" | bc)
	while [ "$(echo "${EPOCHREALTIME/,/.} < $until" | bc)" = 1 ]; do
		now=$(counter "$1")
		[ -n "$now" ] && [ "$now" != "$2" ] && return 0
	done
	return 1
}

# The task's cgroup directory in hierarchy $2, as the lazy path names it.
lazy_dir() { echo "/sys/fs/cgroup/$2$(case_cgroup)/default/$1"; }

COUNT='i=0; while :; do i=$((i+1)); echo $i; sleep 0.01; done'

test_pause_makes_the_cgroup() {
	need_v1
	daemon_start
	"$SV" run -d pz /bin/sh -c "$COUNT" || fail "run"
	pid=$(task_pid pz)
	[ -d "$(lazy_dir pz freezer)" ] && fail "a cgroup before the pause"
	advances pz "" || fail "the counter does not run: $(counter pz)"
	"$SV" pause pz || fail "pause"
	[ "$("$SV" state --format json pz | json_field status)" = paused ] || fail "state: $("$SV" state pz)"
	fr=$(cg_dir "$pid" freezer)
	[ "$fr" = "$(lazy_dir pz freezer)" ] || fail "freezer cgroup: $(cat /proc/$pid/cgroup)"
	[ "$(cat "$fr/freezer.state")" = FROZEN ] || fail "freezer.state: $(cat "$fr/freezer.state")"
	# every process of the task is in every hierarchy's cgroup, and frozen: the counter stops
	ns=$(readlink "/proc/$pid/ns/pid")
	for p in $(ns_pids "$ns"); do
		for h in freezer memory pids cpu; do
			grep -qx "$p" "$(lazy_dir pz $h)/cgroup.procs" ||
				fail "process $p outside the $h cgroup: $(cat /proc/$p/cgroup)"
		done
	done
	c1=$(counter pz)
	advances pz "$c1" 1 && fail "the counter ran while paused: $c1 -> $(counter pz)"
	"$SV" resume pz || fail "resume"
	advances pz "$(counter pz)" || fail "the counter does not run after resume"
	out=$("$SV" stats --format json pz)
	echo "$out" | grep -q '"source":"cgroup"' || fail "stats source: $out"
	"$SV" delete -f pz || fail "delete"
	for h in memory freezer pids cpu; do
		[ -d "$(lazy_dir pz $h)" ] && fail "$h cgroup left behind"
	done
	return 0
}

test_update_makes_the_cgroup() {
	need_v1
	daemon_start
	"$SV" run -d up /bin/sh -c 'sleep 1000 & sleep 1001 & wait' || fail "run"
	settle up 3
	pid=$(task_pid up)
	"$SV" update up --memory 64m --pids 40 || fail "update"
	mem=$(cg_dir "$pid" memory)
	[ "$mem" = "$(lazy_dir up memory)" ] || fail "memory cgroup: $(cat /proc/$pid/cgroup)"
	[ "$(cat "$mem/memory.limit_in_bytes")" = 67108864 ] || fail "memory limit: $(cat "$mem/memory.limit_in_bytes")"
	[ "$(cat "$(lazy_dir up pids)/pids.max")" = 40 ] || fail "pids.max"
	[ "$(cat "$(lazy_dir up pids)/pids.current")" = 3 ] || fail "pids.current: $(cat "$(lazy_dir up pids)/pids.current")"
	# (the pages it had stay charged where they were: kernels since 6.x no longer move
	# charges, memory.move_charge_at_immigrate; what it allocates from now on counts)
	# a second update goes to the same cgroup
	"$SV" update up --memory 32m || fail "update 2"
	[ "$(cat "$mem/memory.limit_in_bytes")" = 33554432 ] || fail "memory limit 2"
	out=$("$SV" stats --format json up)
	python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["source"]=="cgroup" and d["memory_limit_bytes"]==32<<20 and d["pids"]==3, d' "$out" ||
		fail "stats: $out"
	"$SV" delete -f up || fail "delete"
	[ -d "$mem" ] && fail "cgroup left behind"
	return 0
}

# An exec started once the task has its cgroup joins it.
test_exec_after_the_cgroup_joins_it() {
	need_v1
	daemon_start
	"$SV" run -d ex /bin/sleep 1000 || fail "run"
	"$SV" update ex --pids 50 || fail "update"
	out=$("$SV" exec ex /bin/cat /proc/self/cgroup) || fail "exec: $out"
	echo "$out" | grep -q "pids:.*$(case_cgroup)/default/ex\$" || fail "the exec is not in the cgroup: $out"
	"$SV" delete -f ex || fail "delete"
}

# The worker killed after it made the cgroup: the dead worker's cleanup removes it.
test_worker_kill9_removes_the_cgroup() {
	need_v1
	daemon_start
	events_start
	"$SV" run -d wk /bin/sleep 1000 || fail "run"
	"$SV" pause wk || fail "pause"
	[ -d "$(lazy_dir wk freezer)" ] || fail "no cgroup"
	grep -q "$(case_cgroup)/default/wk" "$T/state/default/wk/cgroup" || fail "not recorded: $(cat "$T/state/default/wk/cgroup")"
	kill -9 "$(worker_pid wk)"
	events_wait 15 '"/tasks/delete"' '"wk"' >/dev/null || fail "no delete event"
	for h in memory freezer pids cpu; do
		[ -d "$(lazy_dir wk $h)" ] && fail "$h cgroup left: $(cat "$(lazy_dir wk $h)/cgroup.procs")"
	done
	return 0
}

# Without cgroup_parent no cgroup is kept for later: pause and update say how to get one.
test_no_cgroup_parent_says_how() {
	daemon_start --cgroup-parent ""
	"$SV" run -d np /bin/sleep 1000 || fail "run"
	"$SV" pause np 2> "$T/err" && fail "pause succeeded"
	grep -q "start it with a limit (--memory, --pids, --cpus), or with task_cgroups = always" "$T/err" ||
		fail "pause: $(cat "$T/err")"
	"$SV" update np --memory 64m 2> "$T/err" && fail "update succeeded"
	grep -q "task_cgroups = always" "$T/err" || fail "update: $(cat "$T/err")"
	[ "$("$SV" state --format json np | json_field status)" = running ] || fail "state"
	"$SV" delete -f np || fail "delete"
}

# A task paused while its shell forks hundreds of processes is moved whole (those forked
# during a round are caught by the next); how long the first pause takes, against a pause of
# the same task once it has its cgroup.
test_many_processes_and_forks() {
	need_v1
	daemon_start
	"$SV" run -d many /bin/sh -c 'i=0; while [ $i -lt 400 ]; do sleep 1000 & i=$((i+1)); done; wait' ||
		fail "run"
	pid=$(task_pid many)
	ns=$(readlink "/proc/$pid/ns/pid")
	timeout 10 bash -c '. "$0"; until [ "$(ns_pids "$1" | wc -l)" -ge 50 ]; do :; done' "$HERE/lib.sh" "$ns" ||
		fail "not 50 processes"
	t0=$EPOCHREALTIME
	"$SV" pause many || fail "pause"
	t1=$EPOCHREALTIME
	fr=$(lazy_dir many freezer)
	for p in $(ns_pids "$ns"); do
		grep -qx "$p" "$fr/cgroup.procs" || fail "process $p outside: $(cat /proc/$p/cgroup)"
	done
	note "first pause of $(ns_pids "$ns" | wc -l) processes (cgroup made): $(echo "(${t1/,/.} - ${t0/,/.}) * 1000" | bc) ms"
	"$SV" resume many || fail "resume"
	t0=$EPOCHREALTIME
	"$SV" pause many || fail "pause 2"
	t1=$EPOCHREALTIME
	note "second pause (cgroup there): $(echo "(${t1/,/.} - ${t0/,/.}) * 1000" | bc) ms"
	"$SV" delete -f many || fail "delete"
	[ -d "$fr" ] && fail "cgroup left behind"
	return 0
}

run_cases "$@"
