#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# selftest/e2e/41-restart-policy.t: run -d --restart, carried out by the daemon: on-failure:N
# gives N + 1 runs with growing gaps and none after a clean exit; always survives a daemon
# restart with its count; a client's kill ends the policy; --restart without -d is refused.
. "$(dirname "$0")/lib.sh"

# The /tasks/start events of task $1 so far: one line each, "<timestamp> <pid>".
starts() {
	python3 - "$T/events" "$1" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    try:
        d = json.loads(line)
    except ValueError:
        continue
    if d.get("topic") == "/tasks/start" and d.get("container_id", d.get("id")) == sys.argv[2]:
        print(d["timestamp"], d.get("pid", 0))
PY
}

# Wait (bounded, $2 s) until task $1 has had $3 starts.
starts_reach() {
	local deadline=$((SECONDS + $2))
	while [ "$(starts "$1" | wc -l)" -lt "$3" ]; do
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.02
	done
}

# Fail unless task $1 keeps exactly $2 starts for $3 s (a start that must not come: a
# restart would be due 0.1 to 0.8 s after the last exit).
starts_stay() {
	local deadline=$(( ${EPOCHREALTIME/./} / 1000 + $3 * 1000 )) n
	while [ $(( ${EPOCHREALTIME/./} / 1000 )) -lt $deadline ]; do
		n=$(starts "$1" | wc -l)
		[ "$n" = "$2" ] || fail "task $1: $n starts, want $2: $(starts "$1")"
		sleep 0.05
	done
}

# Wait (bounded, $2 s) until `state` of task $1 says status $3.
status_reach() {
	local deadline=$((SECONDS + $2))
	until [ "$("$SV" state --format json "$1" 2>/dev/null | json_field status)" = "$3" ]; do
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.02
	done
}

# Task $1 stopped, with restart_count $2 (and, when given, exit status $3).
stopped_with() {
	local st
	st=$("$SV" state --format json "$1") || fail "state $1"
	[ "$(echo "$st" | json_field status)" = stopped ] || fail "not stopped: $st"
	[ "$(echo "$st" | json_field restart_count)" = "$2" ] || fail "restart_count: $st"
	[ -z "${3:-}" ] || [ "$(echo "$st" | json_field exit_status)" = "$3" ] || fail "exit: $st"
}

test_on_failure_3_gives_4_starts_with_growing_gaps() {
	daemon_start
	events_start
	"$SV" run -d --restart on-failure:3 flaky /bin/sh -c 'echo "run $$"; exit 1' || fail "run"
	starts_reach flaky 10 4 || fail "4 starts not seen: $(starts flaky)"
	status_reach flaky 10 stopped || fail "not stopped: $("$SV" state flaky)"
	# past the next backoff (0.8 s) with room: no fifth start
	starts_stay flaky 4 2
	# the gaps grow: 0.1, 0.2, 0.4 s plus the run itself
	starts flaky | python3 -c '
import sys, datetime
def t(s):
    s = s[:26].rstrip("Z")
    return datetime.datetime.fromisoformat(s).timestamp()
ts = [t(l.split()[0]) for l in sys.stdin]
gaps = [b - a for a, b in zip(ts, ts[1:])]
print("# gaps:", " ".join("%.3f" % g for g in gaps), file=sys.stderr)
assert all(b > a for a, b in zip(gaps, gaps[1:])), gaps
assert gaps[0] >= 0.1 and gaps[2] >= 0.4, gaps
' || fail "gaps do not grow"
	pids=$(starts flaky | awk '{print $2}' | sort -u | wc -l)
	[ "$pids" = 4 ] || fail "each start with a new pid: $(starts flaky)"
	stopped_with flaky 3 1
	[ "$("$SV" state --format json flaky | json_field restart)" = on-failure:3 ] || fail "policy"
	"$SV" ls --format json | python3 -c '
import json, sys
t = [x for x in json.load(sys.stdin) if x["id"] == "flaky"][0]
assert t["restart_count"] == 3 and t["restart"] == "on-failure:3", t' || fail "ls json"
	# one log, continued by every run
	[ "$("$SV" logs flaky | grep -c '^run 1$')" = 4 ] || fail "log: $("$SV" logs flaky)"
	grep -q 'task default/flaky: restarting in 400 ms (restart 3 of 3)' "$T/daemon.log" ||
		fail "no restart log line: $(grep flaky "$T/daemon.log")"
	"$SV" delete flaky || fail "delete"
}

test_on_failure_clean_exit_not_restarted() {
	daemon_start
	events_start
	"$SV" run -d --restart on-failure ok /bin/true || fail "run"
	events_wait 10 '"/tasks/exit"' '"ok"' >/dev/null || fail "no exit"
	# a restart would come 0.1 s after the exit: wait well past it for a second start
	starts_stay ok 1 1
	stopped_with ok 0 0
	"$SV" delete ok || fail "delete"
}

test_always_survives_daemon_restart() {
	daemon_start
	events_start
	# each run waits for its go file, then exits 0: always restarts it anyway
	"$SV" run -d --restart always ever /bin/sh -c 'while [ ! -e /tmp/go ]; do sleep 0.02; done; exit 0' ||
		fail "run"
	starts_reach ever 10 1 || fail "no start"
	pid=$("$SV" state --format json ever | json_field pid)
	nsenter -t "$pid" -m touch /tmp/go || fail "nsenter"
	starts_reach ever 10 2 || fail "not restarted: $(starts ever)"
	status_reach ever 10 running || fail "not running again"
	[ "$("$SV" state --format json ever | json_field restart_count)" = 1 ] || fail "count 1"
	daemon_kill9
	# exits while the daemon is down: the next daemon restarts it, count kept
	pid=$(cut -d' ' -f1 "$T/state/default/ever/init.pid")
	nsenter -t "$pid" -m touch /tmp/go || fail "nsenter 2"
	timeout 10 tail --pid="$pid" -f /dev/null
	kill "$EVENTS_PID" 2>/dev/null
	mv "$T/events" "$T/events.1"
	daemon_start
	events_start
	starts_reach ever 10 1 || fail "not restarted after the daemon restart: $(starts ever)"
	status_reach ever 10 running || fail "not running after the daemon restart"
	st=$("$SV" state --format json ever)
	[ "$(echo "$st" | json_field restart_count)" = 2 ] || fail "count not kept: $st"
	[ "$(echo "$st" | json_field restart)" = always ] || fail "policy not kept: $st"
	"$SV" delete -f ever || fail "delete"
}

test_kill_ends_the_policy() {
	daemon_start
	events_start
	"$SV" run -d --restart always k /bin/sleep 1000 || fail "run"
	starts_reach k 10 1 || fail "no start"
	"$SV" kill -s KILL k || fail "kill"
	"$SV" wait k; rc=$?
	[ $rc = 137 ] || fail "wait: $rc"
	# a restart would be 0.1 s after the exit: wait past it (with room) for a start
	starts_stay k 1 1
	stopped_with k 0 137
	# the bundle says so: a daemon restart does not bring it back either
	kill "$EVENTS_PID" 2>/dev/null
	mv "$T/events" "$T/events.1"
	daemon_kill9
	daemon_start
	events_start
	starts_stay k 0 1
	stopped_with k 0 137
	"$SV" delete k || fail "delete as any stopped task"
}

# Killed between two runs (in its backoff, or while the next run is being made): answered at
# once, left stopped, and never started again.
test_kill_between_runs() {
	daemon_start
	events_start
	"$SV" run -d --restart always between /bin/sh -c 'exit 3' || fail "run"
	starts_reach between 10 2 || fail "not restarted: $(starts between)"
	"$SV" kill between || fail "kill between runs"
	status_reach between 10 stopped || fail "not stopped: $("$SV" state between)"
	n=$(starts between | wc -l)
	starts_stay between "$n" 1
	"$SV" delete between || fail "delete"
}

test_restart_needs_detach() {
	daemon_start
	out=$("$SV" run --restart always x /bin/true 2>&1); rc=$?
	[ $rc = 2 ] || fail "run --restart without -d: status $rc ($out)"
	echo "$out" | grep -q -- '--restart needs -d' || fail "$out"
	out=$("$SV" run --rm --restart on-failure x /bin/true 2>&1); rc=$?
	[ $rc = 2 ] || fail "--rm: status $rc ($out)"
	out=$("$SV" run -d --restart sometimes x /bin/true 2>&1); rc=$?
	[ $rc = 2 ] || fail "bad policy: status $rc ($out)"
	# the daemon refuses it too, from a client that skips the CLI's check
	out=$(python3 - "$T/ctl.sock" "$HERE" <<'PY'
import sys
sys.path.insert(0, sys.argv[2])
import shim_client as sc
sc.SERVICE = "shimvisor.v1.Control"
c = sc.Shim(sys.argv[1])
for pol, detach in (("always", False), ("sometimes", True), ("on-failure:0", True)):
    req = sc.string(1, "x") + sc.string(2, "/bin/true") + sc.string(21, pol)
    if detach:
        req += sc.field(17, 0, 1)
    code, msg, _ = c.call("Create", req)
    print(code, msg)
PY
) || fail "client: $out"
	[ "$(echo "$out" | grep -c '^3 create x: ')" = 3 ] || fail "not refused INVALID_ARGUMENT: $out"
	echo "$out" | grep -q 'a restart policy needs a detached task' || fail "$out"
	echo "$out" | grep -q 'restart policy "sometimes": must be no, on-failure' || fail "$out"
	[ -z "$("$SV" ls -q)" ] || fail "a task was created"
}

run_cases "$@"
