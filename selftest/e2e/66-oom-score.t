#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# selftest/e2e/66-oom-score.t: the daemon's oom_score_adj (shimvisord.conf, default -500) is
# the monitor's and the engine's, so that the kernel's OOM killer takes a task before the
# supervisor; workers and tasks are ordinary (0, or the spec's process.oomScoreAdj), and a
# task cannot take the daemon's protection for itself. A reload changes the monitor's and
# the engine's at once.
. "$(dirname "$0")/lib.sh"

adj() { cat "/proc/$1/oom_score_adj"; }
engine_pid() { pgrep -P "$DAEMON_PID" -x shimvisord-eng; }

# every worker the daemon started (its spare included), and each task's pid
expect_workers_ordinary() {
	local p n=0
	for p in $(pgrep -P "$DAEMON_PID" -f '^shimvisor-worker'); do
		n=$((n + 1))
		[ "$(adj "$p")" = 0 ] || fail "worker $p: oom_score_adj $(adj "$p")"
	done
	[ $n -ge 1 ] || fail "no worker under the daemon"
}

# Lowering an oom_score_adj below 0 needs CAP_SYS_RESOURCE, which some hosts (a container)
# do not give even to root: there the daemon keeps the inherited value and says so.
can_lower() { sh -c 'echo -1 > /proc/self/oom_score_adj' 2>/dev/null; }

test_default_protects_the_daemon_only() {
	daemon_start
	if can_lower; then
		[ "$(adj "$DAEMON_PID")" = -500 ] || fail "monitor: $(adj "$DAEMON_PID")"
		[ "$(adj "$(engine_pid)")" = -500 ] || fail "engine: $(adj "$(engine_pid)")"
	else
		grep -q 'oom_score_adj -500: kept the inherited one' "$T/daemon.log" ||
			fail "no CAP_SYS_RESOURCE, and no word of it: $(cat "$T/daemon.log")"
		note "no CAP_SYS_RESOURCE here: -500 not applied (warned)"
	fi
	"$SV" run -d t /bin/sleep 1000 || fail "run"
	pid=$("$SV" state --format json t | json_field pid)
	[ "$(adj "$pid")" = 0 ] || fail "task: oom_score_adj $(adj "$pid")"
	expect_workers_ordinary
	# the root task cannot take the daemon's protection (it has no CAP_SYS_RESOURCE)
	out=$("$SV" run --rm t2 /bin/sh -c 'echo -500 > /proc/self/oom_score_adj' 2>&1) &&
		fail "a task lowered its oom_score_adj: $out"
	"$SV" run --rm t3 /bin/sh -c 'echo 300 > /proc/self/oom_score_adj && cat /proc/self/oom_score_adj' \
		> "$T/out" || fail "a task could not raise its own"
	[ "$(cat "$T/out")" = 300 ] || fail "raised: $(cat "$T/out")"
	"$SV" delete -f t || fail "delete"
}

# Values >= 0 need no capability: the same checks on every host. The workers and the task
# go back down to 0 from the daemon's 300.
test_configured_and_reloaded() {
	printf '[daemon]\noom_score_adj = 300\n' > "$T/conf"
	daemon_start -c "$T/conf"
	[ "$(adj "$DAEMON_PID")" = 300 ] || fail "monitor: $(adj "$DAEMON_PID")"
	[ "$(adj "$(engine_pid)")" = 300 ] || fail "engine: $(adj "$(engine_pid)")"
	"$SV" run -d t /bin/sleep 1000 || fail "run"
	pid=$("$SV" state --format json t | json_field pid)
	[ "$(adj "$pid")" = 0 ] || fail "task: oom_score_adj $(adj "$pid")"
	expect_workers_ordinary
	printf '[daemon]\noom_score_adj = 200\n' > "$T/conf"
	kill -HUP "$DAEMON_PID"
	local end=$((SECONDS + 20))
	until grep -q 'reload: .*: applied (.*oom_score_adj' "$T/daemon.log"; do
		[ $SECONDS -lt $end ] || fail "no reload applied: $(cat "$T/daemon.log")"
		sleep 0.02
	done
	[ "$(adj "$DAEMON_PID")" = 200 ] || fail "monitor after reload: $(adj "$DAEMON_PID")"
	[ "$(adj "$(engine_pid)")" = 200 ] || fail "engine after reload: $(adj "$(engine_pid)")"
	expect_workers_ordinary
	"$SV" delete -f t || fail "delete"
}

test_out_of_range_refused() {
	printf '[daemon]\noom_score_adj = -1001\n' > "$T/conf"
	out=$("$SVD" -F -c "$T/conf" --state "$T/state" --address "$T/ctl.sock" 2>&1) &&
		fail "started with oom_score_adj -1001"
	case "$out" in
	*oom_score_adj*) ;;
	*) fail "the refusal names no oom_score_adj: $out" ;;
	esac
}

run_cases "$@"
