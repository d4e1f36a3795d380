#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# selftest/e2e/19-verbs.t: the docker-style verbs: stop (SIGTERM, SIGKILL after -t, tasks in
# parallel), restart (the Restart method), top, ps/version --format json, rm, prune, and
# run --rm -d (the daemon deletes the task once it exits, also after its own restart).
. "$(dirname "$0")/lib.sh"

# A task that ignores SIGTERM, and one that ends on it with 143 (a pid 1 has no default
# action: it must trap it).
IGNORES_TERM='trap "" TERM; while :; do sleep 0.05; done'
HANDLES_TERM='trap "exit 143" TERM; echo trapped; while :; do sleep 0.05; done'

# Wait (bounded) until task $1's shell has set its trap (its log says so): as pid 1 of its
# namespace it would drop a TERM sent before.
trapped() {
	timeout 10 sh -c 'until grep -qx trapped "$1" 2>/dev/null; do :; done' _ \
		"$T/state/default/$1/log" || fail "$1: the trap was not set"
}

now_ms() { echo $(( ${EPOCHREALTIME/./} / 1000 )); }

# Task $1's field $2 from state --format json.
field() { "$SV" state --format json "$1" | json_field "$2"; }

# Wait (bounded, $2 s) until `state` of task $1 says status $3.
status_reach() {
	local deadline=$((SECONDS + $2))
	until [ "$(field "$1" status 2>/dev/null)" = "$3" ]; do
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.02
	done
}

# A Control call from a client that skips the CLI's checks: prints "CODE MESSAGE".
raw_call() {
	python3 - "$T/ctl.sock" "$HERE" "$1" "$2" <<'PY'
import sys
sys.path.insert(0, sys.argv[2])
import shim_client as sc
sc.SERVICE = "shimvisor.v1.Control"
c = sc.Shim(sys.argv[1])
code, msg, _ = c.call(sys.argv[3], eval(sys.argv[4], {"sc": sc}))
print(code, msg)
PY
}

test_stop_of_a_task_that_ignores_term_kills_it_after_the_grace_period() {
	daemon_start
	"$SV" run -d deaf /bin/sh -c "$IGNORES_TERM" || fail "run"
	local t0 el out
	t0=$(now_ms)
	out=$("$SV" stop -t 1 deaf) || fail "stop: $out"
	el=$(( $(now_ms) - t0 ))
	[ "$out" = deaf ] || fail "stop printed: $out"
	[ $el -ge 1000 ] || fail "stopped in $el ms: before the grace period"
	[ $el -lt 3500 ] || fail "stopped in $el ms"
	[ "$(field deaf status)" = stopped ] || fail "not stopped"
	[ "$(field deaf exit_status)" = 137 ] || fail "exit status $(field deaf exit_status), want 137"
	note "stop -t 1 of a task ignoring TERM: $el ms"
}

test_stop_of_a_task_that_handles_term_is_quick_and_143() {
	daemon_start
	"$SV" run -d polite /bin/sh -c "$HANDLES_TERM" || fail "run"
	trapped polite
	local t0 el out
	t0=$(now_ms)
	out=$("$SV" stop polite) || fail "stop: $out"        # the default grace: 10 s
	el=$(( $(now_ms) - t0 ))
	[ "$out" = polite ] || fail "stop printed: $out"
	[ $el -lt 3000 ] || fail "stopped in $el ms"
	[ "$(field polite exit_status)" = 143 ] || fail "exit status $(field polite exit_status)"
	# a task already stopped is fine; an unknown one is not
	out=$("$SV" stop polite) || fail "stop of a stopped task: $out"
	[ "$out" = polite ] || fail "$out"
	out=$("$SV" stop nosuch 2>&1); rc=$?
	[ $rc = 1 ] || fail "stop of an unknown task: status $rc ($out)"
	echo "$out" | grep -q 'nosuch: not found' || fail "$out"
	note "stop of a task handling TERM: $el ms"
}

test_stop_of_several_tasks_overlaps_their_grace_periods() {
	daemon_start
	for i in 1 2 3; do "$SV" run -d "d$i" /bin/sh -c "$IGNORES_TERM" || fail "run d$i"; done
	local t0 el out
	t0=$(now_ms)
	out=$("$SV" stop -t 1 d1 d2 d3) || fail "stop: $out"
	el=$(( $(now_ms) - t0 ))
	[ "$(echo "$out" | sort | tr '\n' ' ')" = "d1 d2 d3 " ] || fail "stop printed: $out"
	[ $el -ge 1000 ] || fail "$el ms"
	[ $el -lt 2800 ] || fail "3 tasks with -t 1 took $el ms: the grace periods added up"
	for i in 1 2 3; do
		[ "$(field "d$i" exit_status)" = 137 ] || fail "d$i: $(field "d$i" exit_status)"
	done
	note "stop -t 1 of 3 tasks ignoring TERM: $el ms"
}

test_stop_ends_a_restart_policy() {
	daemon_start
	events_start
	"$SV" run -d --restart always pol /bin/sh -c "$HANDLES_TERM" || fail "run"
	trapped pol
	"$SV" stop pol >/dev/null || fail "stop"
	[ "$(field pol status)" = stopped ] || fail "not stopped"
	[ "$(field pol exit_status)" = 143 ] || fail "exit status"
	grep -q 'task default/pol: stopped by a client: its restart policy ends' "$T/daemon.log" ||
		fail "the policy was not ended: $(cat "$T/daemon.log")"
	# a restart would be due 0.1 s after the exit: none comes
	local deadline=$(( $(now_ms) + 1000 ))
	while [ "$(now_ms)" -lt $deadline ]; do
		[ "$(grep -c '"topic":"/tasks/start"' "$T/events")" = 1 ] || fail "restarted: $(cat "$T/events")"
		[ "$(field pol status)" = stopped ] || fail "restarted"
		sleep 0.05
	done
}

test_restart_runs_a_stopped_task_again_on_its_bundle() {
	daemon_start
	"$SV" run -d again /bin/sh -c "echo run; $HANDLES_TERM" || fail "run"
	local pid1 pid2 out
	pid1=$(field again pid)
	trapped again
	"$SV" stop again >/dev/null || fail "stop"
	out=$("$SV" restart again) || fail "restart: $out"
	[ "$out" = again ] || fail "restart printed: $out"
	[ "$(field again status)" = running ] || fail "not running: $("$SV" state again)"
	pid2=$(field again pid)
	[ "$pid2" != "$pid1" ] && [ "$pid2" -gt 0 ] || fail "pid $pid1 -> $pid2"
	kill -0 "$pid2" || fail "pid $pid2 is not alive"
	# its log (in the bundle it kept) has both runs; wait for the second run's trap
	local deadline=$((SECONDS + 10))
	until [ "$("$SV" logs again | grep -c '^run$')" = 2 ] &&
	      [ "$("$SV" logs again | grep -c '^trapped$')" = 2 ]; do
		[ $SECONDS -lt $deadline ] || fail "log: $("$SV" logs again)"
		sleep 0.02
	done
	# restart of a running task: stopped first (TERM), then run again
	out=$("$SV" restart -t 5 again) || fail "restart of a running task: $out"
	[ "$(field again status)" = running ] || fail "not running"
	[ "$(field again pid)" != "$pid2" ] || fail "same pid"
	until [ "$("$SV" logs again | grep -c '^run$')" = 3 ]; do
		[ $SECONDS -lt $deadline ] || fail "log: $("$SV" logs again)"
		sleep 0.02
	done
}

# Wait (bounded) until task $1 runs with restart_count $2.
runs_with_count() {
	local deadline=$((SECONDS + 10))
	until [ "$(field "$1" restart_count)" = "$2" ] && [ "$(field "$1" status)" = running ]; do
		[ $SECONDS -lt $deadline ] || fail "not running with restart_count $2: $("$SV" state "$1")"
		sleep 0.02
	done
}

test_restart_of_a_task_whose_policy_a_client_ended_starts_it_over() {
	daemon_start
	"$SV" run -d --restart on-failure:1 flaky /bin/sh -c "$HANDLES_TERM" || fail "run"
	kill -9 "$(field flaky pid)" || fail "kill -9 of its pid"     # a failure, not a client's
	runs_with_count flaky 1
	"$SV" stop flaky >/dev/null || fail "stop"
	"$SV" restart flaky >/dev/null || fail "restart"
	[ "$(field flaky status)" = running ] || fail "not running"
	[ "$(field flaky restart_count)" = 0 ] || fail "restart_count $(field flaky restart_count)"
	[ "$(field flaky restart)" = on-failure:1 ] || fail "policy $(field flaky restart)"
	# the policy holds again, with its N: one failure is restarted by the daemon
	kill -9 "$(field flaky pid)" || fail "kill -9 of its pid"
	runs_with_count flaky 1
}

test_restart_method_refuses_what_is_not_stopped() {
	daemon_start
	"$SV" run -d busy /bin/sleep 100 || fail "run"
	out=$(raw_call Restart 'sc.string(1, "busy")') || fail "client: $out"
	[ "$out" = "9 task must be stopped before a restart: running: failed precondition" ] ||
		fail "Restart of a running task: $out"
	out=$(raw_call Restart 'sc.string(1, "nosuch")') || fail "client: $out"
	[ "$out" = "5 task nosuch: not found" ] || fail "$out"
	[ "$(field busy status)" = running ] || fail "touched"
}

test_top_shows_the_tasks_processes() {
	daemon_start
	"$SV" run -d tp /bin/sh -c '/bin/sleep 1000 & exec /bin/sleep 999' || fail "run"
	local pid out
	pid=$(field tp pid)
	local deadline=$((SECONDS + 10))
	until [ "$("$SV" ps tp | wc -l)" = 3 ]; do
		[ $SECONDS -lt $deadline ] || fail "ps: $("$SV" ps tp)"
		sleep 0.02
	done
	out=$("$SV" top tp) || fail "top: $out"
	echo "$out" | head -n1 | grep -Eq '^PID +USER +TIME +CMD$' || fail "heading: $out"
	echo "$out" | grep -Eq "^$pid +root +00:00:00 +/bin/sleep 999$" || fail "no init row: $out"
	echo "$out" | grep -Eq "^[0-9]+ +root +00:00:00 +/bin/sleep 1000$" || fail "no child row: $out"
	[ "$(echo "$out" | wc -l)" = 3 ] || fail "$out"
	out=$("$SV" top tp --format json) || fail "top json"
	echo "$out" | python3 -m json.tool >/dev/null || fail "not JSON: $out"
	echo "$out" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["id"] == "tp", d
ps = d["processes"]
assert len(ps) == 2, ps
for p in ps:
    assert set(p) == {"pid", "uid", "user", "time", "cmd"}, p
    assert p["uid"] == 0 and p["user"] == "root", p
assert sorted(p["cmd"] for p in ps) == ["/bin/sleep 1000", "/bin/sleep 999"], ps
assert int(sys.argv[1]) in [p["pid"] for p in ps]
' "$pid" || fail "top json: $out"
	out=$("$SV" top nosuch 2>&1); rc=$?
	[ $rc = 1 ] || fail "top of an unknown task: $rc ($out)"
}

test_ps_and_version_format_json() {
	daemon_start
	"$SV" run -d pj /bin/sleep 100 || fail "run"
	"$SV" exec -d --exec-id e1 pj /bin/sleep 99 || fail "exec"
	local out pid
	pid=$(field pj pid)
	out=$("$SV" ps pj --format json) || fail "ps: $out"
	echo "$out" | python3 -m json.tool >/dev/null || fail "not JSON: $out"
	echo "$out" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert set(d) == {"id", "processes"} and d["id"] == "pj", d
by = {p["pid"]: p["exec_id"] for p in d["processes"]}
assert all(set(p) == {"pid", "exec_id"} for p in d["processes"]), d
assert by.get(int(sys.argv[1])) == "", by
assert sorted(by.values()) == ["", "e1"], by
' "$pid" || fail "ps json: $out"
	out=$("$SV" version --format json) || fail "version: $out"
	echo "$out" | python3 -m json.tool >/dev/null || fail "not JSON: $out"
	echo "$out" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert set(d) == {"client", "server"}, d
assert set(d["client"]) == {"version"}, d
assert set(d["server"]) == {"version", "revision", "engine_restarts", "engine_started_ms",
    "last_engine_end", "last_engine_end_ms", "restart_backoff_ms", "restart_waited_ms",
    "restart_attempt"}, d
assert d["client"]["version"] == d["server"]["version"], d
assert d["server"]["engine_restarts"] == 0 and d["server"]["engine_started_ms"] > 0, d
' || fail "version json: $out"
	out=$("$SV" version --format yaml 2>&1); rc=$?
	[ $rc = 2 ] || fail "version --format yaml: $rc ($out)"
}

test_rm_is_delete() {
	daemon_start
	"$SV" run -d r1 /bin/sleep 100 || fail "run r1"
	"$SV" create r2 /bin/true || fail "create r2"
	out=$("$SV" rm r1 2>&1); rc=$?
	[ $rc = 1 ] || fail "rm of a running task: status $rc ($out)"
	echo "$out" | grep -q '^shimvisor: rm r1: task must be stopped before deletion: running' || fail "$out"
	"$SV" rm r2 || fail "rm r2"
	"$SV" rm -f r1 || fail "rm -f r1"
	[ -z "$("$SV" ls -q)" ] || fail "left: $("$SV" ls)"
	out=$("$SV" rm 2>&1); rc=$?
	[ $rc = 2 ] || fail "rm without ID: $rc ($out)"
	echo "$out" | grep -q 'rm: missing ID (usage: rm \[-f\] ID...)' || fail "$out"
}

test_prune_removes_exactly_the_stopped_tasks() {
	daemon_start
	"$SV" run -d up /bin/sleep 100 || fail "run up"
	"$SV" create made /bin/true || fail "create made"
	"$SV" run -d s1 /bin/sh -c 'exit 3' || fail "run s1"
	"$SV" run -d s2 /bin/true || fail "run s2"
	"$SV" wait s1; "$SV" wait s2
	out=$("$SV" prune -f) || fail "prune: $out"
	[ "$(echo "$out" | sort | tr '\n' ' ')" = "s1 s2 " ] || fail "prune printed: $out"
	[ "$("$SV" ls -q | sort | tr '\n' ' ')" = "made up " ] || fail "left: $("$SV" ls)"
	[ ! -e "$T/state/default/s1" ] && [ ! -e "$T/state/default/s2" ] || fail "bundles left"
	out=$("$SV" prune) || fail "prune again"
	[ -z "$out" ] || fail "pruned again: $out"
	# only its own namespace
	"$SV" -n other run -d o1 /bin/true || fail "run o1"
	"$SV" -n other wait o1
	out=$("$SV" prune) || fail "prune"
	[ -z "$out" ] || fail "pruned another namespace: $out"
	[ "$("$SV" -n other ls -q)" = o1 ] || fail "o1 gone"
}

test_run_rm_detached_leaves_nothing_once_it_exits() {
	daemon_start
	events_start
	"$SV" run -d --rm gone /bin/sh -c 'exit 3' || fail "run --rm -d"
	events_wait 20 '"topic":"/tasks/exit"' '"gone"' >/dev/null || fail "no exit event"
	events_wait 20 '"topic":"/tasks/delete"' '"gone"' >/dev/null || fail "no delete event"
	# the bundle goes right after the event: the delete is answered once it is removed
	local deadline=$((SECONDS + 10))
	while "$SV" state gone >/dev/null 2>&1 || [ -e "$T/state/default/gone" ]; do
		[ $SECONDS -lt $deadline ] || fail "left: $("$SV" ls); $(ls "$T/state/default")"
		sleep 0.02
	done
	grep -q 'task default/gone: removed once exited (--rm)' "$T/daemon.log" || fail "log"
	# stop of a --rm -d task: it is gone once stopped, and stop says it stopped
	"$SV" run -d --rm gone2 /bin/sh -c "$HANDLES_TERM" || fail "run gone2"
	trapped gone2
	out=$("$SV" stop gone2) || fail "stop gone2: $out"
	[ "$out" = gone2 ] || fail "$out"
	events_wait 20 '"topic":"/tasks/delete"' '"gone2"' >/dev/null || fail "gone2 not deleted"
	# with a restart policy it is refused, by the CLI and by the daemon
	out=$("$SV" run -d --rm --restart always x /bin/true 2>&1); rc=$?
	[ $rc = 2 ] || fail "--rm --restart: $rc ($out)"
	out=$(raw_call Create 'sc.string(1,"x")+sc.string(2,"/bin/true")+sc.field(17,0,1)+sc.string(21,"always")+sc.field(32,0,1)') ||
		fail "client: $out"
	[ "$out" = "3 create x: auto_remove (--rm) and a restart policy exclude each other: invalid argument" ] ||
		fail "auto_remove with a policy: $out"
	[ -z "$("$SV" ls -q)" ] || fail "left: $("$SV" ls)"
}

test_run_rm_detached_is_removed_also_after_a_daemon_restart() {
	daemon_start
	"$SV" run -d --rm keep /bin/sh -c "$HANDLES_TERM" || fail "run"
	# the daemon keeps it in the bundle's restart record, as a policy
	[ "$(cat "$T/state/default/keep/restart")" = "0 0 0 0 1" ] ||
		fail "record: $(cat "$T/state/default/keep/restart" 2>&1)"
	daemon_kill9
	daemon_start
	[ "$(field keep status)" = running ] || fail "not re-attached: $("$SV" state keep 2>&1)"
	out=$("$SV" stop keep) || fail "stop: $out"
	[ "$out" = keep ] || fail "$out"
	local deadline=$((SECONDS + 10))
	while "$SV" state keep >/dev/null 2>&1 || [ -e "$T/state/default/keep" ]; do
		[ $SECONDS -lt $deadline ] || fail "left after a restart: $("$SV" ls)"
		sleep 0.02
	done
}

run_cases "$@"
