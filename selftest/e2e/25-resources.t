#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# selftest/e2e/25-resources.t: every task's own cgroup: limits at run, update, stats, pause and
# resume, all read back from the kernel's cgroup files; no cgroup when cgroup_parent is "".
. "$(dirname "$0")/lib.sh"

test_limits_at_run_and_update() {
	need_v1
	daemon_start
	"$SV" run -d --memory 64m --pids 20 --cpus 0.5 lim /bin/sleep 1000 || fail "run"
	pid=$(task_pid lim)
	mem=$(cg_dir "$pid" memory) && pids=$(cg_dir "$pid" pids) && cpu=$(cg_dir "$pid" cpu) ||
		fail "no cgroup: $(cat /proc/$pid/cgroup)"
	[ "$mem" = "/sys/fs/cgroup/memory$(case_cgroup)/default/lim" ] || fail "cgroup path: $mem"
	[ "$(cat "$mem/memory.limit_in_bytes")" = 67108864 ] || fail "memory: $(cat "$mem/memory.limit_in_bytes")"
	[ "$(cat "$pids/pids.max")" = 20 ] || fail "pids: $(cat "$pids/pids.max")"
	[ "$(cat "$cpu/cpu.cfs_quota_us")" = 50000 ] || fail "quota: $(cat "$cpu/cpu.cfs_quota_us")"
	[ "$(cat "$cpu/cpu.cfs_period_us")" = 100000 ] || fail "period"
	# update changes only what it names
	"$SV" update lim --memory 128m --cpus 1.5 || fail "update"
	[ "$(cat "$mem/memory.limit_in_bytes")" = 134217728 ] || fail "memory after update"
	[ "$(cat "$cpu/cpu.cfs_quota_us")" = 150000 ] || fail "quota after update"
	[ "$(cat "$pids/pids.max")" = 20 ] || fail "pids changed by an update that did not name it"
	"$SV" update lim --pids 7 || fail "update pids"
	[ "$(cat "$pids/pids.max")" = 7 ] || fail "pids after update"
	"$SV" update lim 2>/dev/null; [ $? = 2 ] || fail "update without a limit is not a usage error"
	"$SV" update lim --memory 0 2>/dev/null; [ $? = 2 ] || fail "--memory 0 accepted"
	"$SV" update nosuch --pids 3 2>"$T/err" && fail "update of an unknown task"
	grep -q "not found" "$T/err" || fail "update unknown: $(cat "$T/err")"
	"$SV" kill lim && "$SV" wait lim
	"$SV" update lim --pids 3 2>"$T/err" && fail "update of a stopped task"
	grep -q "not running" "$T/err" || fail "update stopped: $(cat "$T/err")"
	"$SV" delete lim || fail "delete"
	[ -d "$mem" ] && fail "cgroup $mem left"
	return 0
}

test_pids_limit_holds() {
	need_v1
	daemon_start
	# the shell and its children may not pass 4 processes: its 4th fork fails, and a shell
	# that cannot fork gives up
	out=$("$SV" run --rm --pids 4 pl /bin/sh -c 'for i in 1 2 3 4 5 6 7 8; do sleep 1000 & echo "forked $i"; done' 2>&1)
	rc=$?
	[ $rc != 0 ] || fail "all forks succeeded: $out"
	echo "$out" | grep -qi "fork" || fail "no fork error: $out"
	[ "$(echo "$out" | grep -c '^forked')" = 3 ] || fail "want 3 forks: $out"
	"$SV" ls -q | grep -q . && fail "task left: $("$SV" ls)"
	return 0
}

test_stats() {
	need_v1
	daemon_start
	"$SV" run -d --memory 32m --pids 50 st /bin/sh -c 'sleep 1000 & exec sleep 1001' || fail "run"
	# both processes in place: the exec'd init and its child
	pid=$(task_pid st)
	timeout 10 sh -c "until [ \"\$(cat /proc/$pid/comm)\" = sleep ] && [ -n \"\$(pgrep -P $pid)\" ]; do :; done" ||
		fail "task not settled"
	out=$("$SV" stats --format json st) || fail "stats"
	python3 - "$out" <<'PY' || fail "stats json: $out"
import json, sys
d = json.loads(sys.argv[1])
assert d["id"] == "st", d
assert d["cgroup"] == "v1", d
assert d["pids"] == 2, d
assert d["pids_limit"] == 50, d
assert d["memory_limit_bytes"] == 32 << 20, d
assert 0 < d["memory_usage_bytes"] <= 32 << 20, d
assert d["cpu_usage_ns"] > 0, d
PY
	"$SV" stats st | grep -E '^ID' >/dev/null || fail "stats table: $("$SV" stats st)"
	"$SV" stats st | grep -E '^st ' >/dev/null || fail "stats table row: $("$SV" stats st)"
	"$SV" delete -f st || fail "delete"
	"$SV" stats st 2>/dev/null && fail "stats of a deleted task"
	return 0
}

test_pause_resume() {
	need_v1
	daemon_start --task-cgroups always
	events_start
	"$SV" run -d pz /bin/sh -c 'while :; do :; done' || fail "run"
	pid=$(task_pid pz)
	fz=$(cg_dir "$pid" freezer) || fail "no freezer cgroup"
	"$SV" pause pz || fail "pause"
	[ "$(cat "$fz/freezer.state")" = FROZEN ] || fail "freezer: $(cat "$fz/freezer.state")"
	# the busy loop is runnable whenever it is not frozen
	grep -q '^State:.R' "/proc/$pid/status" && fail "not frozen: $(grep State /proc/$pid/status)"
	[ "$("$SV" state --format json pz | json_field status)" = paused ] || fail "state not paused"
	"$SV" ls | grep -E '^default +pz +[0-9]+ +paused' >/dev/null || fail "ls: $("$SV" ls)"
	events_wait 10 '"/tasks/paused"' '"pz"' >/dev/null || fail "no paused event"
	"$SV" pause pz 2>"$T/err" && fail "second pause accepted"
	grep -q "already paused" "$T/err" || fail "second pause: $(cat "$T/err")"
	# a paused task survives a daemon restart as paused
	daemon_kill9
	daemon_start --task-cgroups always
	[ "$("$SV" state --format json pz | json_field status)" = paused ] || fail "not paused after restart"
	"$SV" resume pz || fail "resume"
	[ "$(cat "$fz/freezer.state")" = THAWED ] || fail "freezer after resume: $(cat "$fz/freezer.state")"
	[ "$("$SV" state --format json pz | json_field status)" = running ] || fail "state not running"
	"$SV" resume pz 2>/dev/null && fail "resume of a running task accepted"
	# a paused task is still killed and deleted by delete -f
	"$SV" pause pz || fail "pause again"
	"$SV" delete -f pz || fail "delete -f of a paused task"
	kill -0 "$pid" 2>/dev/null && fail "paused task $pid left"
	[ -d "$fz" ] && fail "freezer cgroup left"
	return 0
}

test_cgroups_for_limits_only_by_default() {
	need_v1
	daemon_start
	"$SV" run -d plain /bin/sleep 1000 || fail "run plain"
	"$SV" run -d --pids 100 limited /bin/sleep 1000 || fail "run limited"
	grep -q "$(case_cgroup)" "/proc/$(task_pid plain)/cgroup" && fail "plain task got a cgroup"
	[ -n "$(cg_dir "$(task_pid limited)" freezer)" ] || fail "limited task has no cgroup"
	grep -q ":$(case_cgroup)/default/limited\$" "/proc/$(task_pid limited)/cgroup" || fail "cgroup path"
	# the plain one gets its cgroup at its first pause (26-cgroupless.t)
	"$SV" pause plain || fail "pause plain"
	grep -q ":$(case_cgroup)/default/plain\$" "/proc/$(task_pid plain)/cgroup" || fail "plain's cgroup"
	"$SV" resume plain || fail "resume plain"
	"$SV" pause limited || fail "pause limited"
	"$SV" resume limited || fail "resume limited"
	"$SV" delete -f plain limited || fail "delete"
}

test_no_cgroup_parent() {
	daemon_start --cgroup-parent "" --task-cgroups always
	"$SV" run -d nc /bin/sleep 1000 || fail "run"
	pid=$(task_pid nc)
	grep -q "$(case_cgroup)" "/proc/$pid/cgroup" && fail "a cgroup was made: $(cat /proc/$pid/cgroup)"
	"$SV" pause nc 2>"$T/err" && fail "pause without a cgroup"
	grep -q "no cgroup" "$T/err" || fail "pause: $(cat "$T/err")"
	"$SV" run -d --memory 64m lim /bin/true 2>"$T/err" && fail "a limit without a cgroup"
	grep -q "cgroup_parent" "$T/err" || fail "limit: $(cat "$T/err")"
	"$SV" delete -f nc || fail "delete"
}

run_cases "$@"
