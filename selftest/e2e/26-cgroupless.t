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

run_cases "$@"
