#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# selftest/e2e/20-lifecycle.t: detached tasks: create/start/state/ls/ps/kill/wait/delete, events.
. "$(dirname "$0")/lib.sh"


test_detached_lifecycle() {
	daemon_start
	"$SV" run -d web /bin/sleep 1000 || fail "run -d"
	"$SV" ls | grep -E '^default +web +[0-9]+ +running' >/dev/null || fail "ls: $("$SV" ls)"
	st=$("$SV" state --format json web) || fail "state"
	[ "$(echo "$st" | json_field status)" = running ] || fail "state: $st"
	pid=$(echo "$st" | json_field pid)
	[ "$(cat /proc/$pid/comm)" = sleep ] || fail "pid $pid is not the task's sleep"
	[ "$(echo "$st" | json_field bundle)" = "$T/state/default/web" ] || fail "bundle: $st"
	"$SV" ps web | grep -qx "$pid" || fail "ps: $("$SV" ps web)"
	"$SV" delete web 2>"$T/err" && fail "delete of a running task succeeded"
	grep -q 'must be stopped' "$T/err" || fail "delete error: $(cat "$T/err")"
	"$SV" kill web || fail "kill"
	"$SV" wait web
	rc=$?
	[ $rc = 137 ] || fail "wait: $rc, want 137"
	st=$("$SV" state --format json web)
	[ "$(echo "$st" | json_field status)" = stopped ] || fail "state after exit: $st"
	[ "$(echo "$st" | json_field exit_status)" = 137 ] || fail "exit_status: $st"
	"$SV" delete web || fail "delete"
	"$SV" state web 2>/dev/null && fail "state after delete"
	[ -e "$T/state/default/web" ] && fail "bundle left"
	kill -0 "$pid" 2>/dev/null && fail "task process $pid left"
	return 0
}

test_create_then_start() {
	daemon_start
	"$SV" create c1 /bin/sh -c 'echo started; exit 4' || fail "create"
	st=$("$SV" state --format json c1)
	[ "$(echo "$st" | json_field status)" = created ] || fail "state: $st"
	pid=$(echo "$st" | json_field pid)
	[ -e "/proc/$pid" ] || fail "held init $pid not there"
	[ ! -s "$T/state/default/c1/log" ] || fail "output before start"
	"$SV" start c1 || fail "start"
	"$SV" wait c1
	[ $? = 4 ] || fail "wait status"
	grep -qx started "$T/state/default/c1/log" || fail "log: $(cat "$T/state/default/c1/log")"
	"$SV" delete c1 || fail "delete"
	# a created task that is never started can be deleted
	"$SV" create c2 /bin/true || fail "create c2"
	"$SV" delete c2 || fail "delete created"
	"$SV" ls -q | grep -q . && fail "tasks left: $("$SV" ls)"
	return 0
}

test_ls_json_and_namespaces() {
	daemon_start
	"$SV" -n alpha run -d a1 /bin/sleep 1000 || fail "run alpha"
	SHIMVISOR_NAMESPACE=beta "$SV" run -d b1 /bin/sleep 1000 || fail "run beta"
	out=$("$SV" -n alpha ls --format json)
	python3 -c 'import json,sys; l=json.loads(sys.argv[1]); assert [t["id"] for t in l]==["a1"], l; assert l[0]["namespace"]=="alpha"; assert l[0]["status"]=="running"' "$out" || fail "ls json: $out"
	[ "$("$SV" -n beta ls -q)" = b1 ] || fail "ns beta"
	[ -z "$("$SV" ls -q)" ] || fail "default ns is not empty"
	"$SV" -n alpha delete -f a1 && "$SV" -n beta delete -f b1 || fail "delete -f"
	[ -z "$(ls "$T/state" | grep -v '^\.')" ] || fail "namespace dirs left: $(ls "$T/state")"
}

test_events_in_order() {
	daemon_start
	events_start
	"$SV" run --rm ev /bin/sh -c 'exit 3' ; [ $? = 3 ] || fail "run"
	events_wait 10 '"/tasks/delete"' '"ev"' >/dev/null || fail "no delete event"
	topics=$(python3 -c '
import json,sys
for l in open(sys.argv[1]):
    d=json.loads(l)
    if d.get("id")=="ev": print(d["topic"])' "$T/events")
	[ "$topics" = "/tasks/create
/tasks/start
/tasks/exit
/tasks/delete" ] || fail "topics: $topics"
	line=$(grep '"/tasks/exit"' "$T/events")
	python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["namespace"]=="default" and d["exit_status"]==3 and d["pid"]>0 and d["exited_at"], d' "$line" || fail "exit event: $line"
}

test_kill_signal_and_all() {
	daemon_start
	"$SV" run -d k1 /bin/sh -c 'trap "exit 42" TERM; echo ready; while :; do sleep 1 & wait; done' ||
		fail "run"
	# pid 1 of its namespace: a TERM before the trap is set would be dropped
	timeout 10 sh -c 'until grep -qx ready "$1" 2>/dev/null; do :; done' _ "$T/state/default/k1/log" ||
		fail "the trap was not set"
	"$SV" kill -s TERM k1 || fail "kill TERM"
	"$SV" wait k1; [ $? = 42 ] || fail "trap status"
	"$SV" run -d k2 /bin/sh -c 'sleep 1000 & sleep 1000 & wait' || fail "run k2"
	"$SV" kill --all -s KILL k2 || fail "kill --all"
	"$SV" wait k2; [ $? = 137 ] || fail "k2 status"
	"$SV" kill k2 2>"$T/err" && fail "kill of an exited task succeeded"
	grep -q 'not found\|finished' "$T/err" || fail "kill error: $(cat "$T/err")"
	return 0
}

test_detached_log_capped_and_rotated() {
	printf '[daemon]\nlog_max_size = 50000\nlog_max_files = 2\n' > "$T/conf"
	daemon_start -c "$T/conf"
	# 1.29 MB on stdout, then a last line on stderr: both into the one capped log
	"$SV" run -d chatty /bin/sh -c 'seq 1 200000; echo END >&2' || fail "run"
	"$SV" wait chatty; [ $? = 0 ] || fail "the task did not finish well"
	b="$T/state/default/chatty"
	for f in log log.1 log.2; do
		[ -f "$b/$f" ] || fail "no $f: $(ls "$b")"
		[ "$(stat -c %s "$b/$f")" -le 50000 ] || fail "$f over the cap: $(stat -c %s "$b/$f")"
	done
	[ -e "$b/log.3" ] && fail "more files kept than log_max_files"
	{ seq 1 200000; echo END; } > "$T/want"
	cat "$b/log.2" "$b/log.1" "$b/log" > "$T/got"
	n=$(stat -c %s "$T/got")
	[ "$(stat -c %s "$b/log.2")" = 50000 ] && [ "$(stat -c %s "$b/log.1")" = 50000 ] ||
		fail "rotated files not full: $(ls -l "$b")"
	tail -c "$n" "$T/want" | cmp -s - "$T/got" || fail "the kept output is not the tail of what was written"
	"$SV" delete chatty || fail "delete"
	# 0: the task writes the file itself, no pipe through the worker
	daemon_stop
	printf '[daemon]\nlog_max_size = 0\n' > "$T/conf"
	daemon_start -c "$T/conf"
	"$SV" run -d direct /bin/sleep 1000 || fail "run direct"
	pid=$("$SV" state --format json direct | json_field pid)
	[ "$(readlink "/proc/$pid/fd/1")" = "$T/state/default/direct/log" ] ||
		fail "stdout: $(readlink "/proc/$pid/fd/1")"
	"$SV" delete -f direct || fail "delete direct"
}

test_logs_and_follow() {
	printf '[daemon]\nlog_max_size = 50000\nlog_max_files = 2\n' > "$T/conf"
	daemon_start -c "$T/conf"
	"$SV" run -d chatty /bin/sh -c 'seq 1 200000; echo END >&2' || fail "run"
	"$SV" wait chatty
	b="$T/state/default/chatty"
	"$SV" logs chatty > "$T/got" || fail "logs"
	cat "$b/log.2" "$b/log.1" "$b/log" | cmp -s - "$T/got" || fail "logs is not log.2 log.1 log"
	"$SV" logs nosuch 2>"$T/err"; [ $? = 1 ] || fail "logs of an unknown task"
	grep -q "not found" "$T/err" || fail "logs unknown: $(cat "$T/err")"
	# -f: what is there, then what comes, across rotations, until the task exits. The
	# follower is stopped while the task writes 108,894 bytes (two rotations, as many as
	# log_max_files keeps), so it must pick up its old file (now log.2), log.1, then log.
	"$SV" run -d fol /bin/sh -c 'trap "seq 1 20000; echo done" USR1; echo a; while :; do sleep 1000 & wait; done' ||
		fail "run fol"
	"$SV" logs -f fol > "$T/fol" 2>"$T/fol.err" &
	lp=$!
	BG_PIDS+=($lp)
	timeout 10 sh -c 'until grep -qx a "$1"; do :; done' _ "$T/fol" || fail "logs -f printed no a"
	kill -STOP "$lp"
	"$SV" kill -s USR1 fol || fail "kill USR1"
	timeout 10 sh -c 'until grep -qx done "$1"; do :; done' _ "$T/state/default/fol/log" ||
		fail "the task did not write"
	[ -f "$T/state/default/fol/log.2" ] || fail "not two rotations: $(ls "$T/state/default/fol")"
	kill -CONT "$lp"
	timeout 10 sh -c 'until grep -qx done "$1"; do :; done' _ "$T/fol" || fail "logs -f did not catch up"
	{ echo a; seq 1 20000; echo done; } | cmp -s - "$T/fol" || fail "logs -f lost or repeated output"
	"$SV" kill fol || fail "kill"
	timeout 20 tail --pid="$lp" -f /dev/null || fail "logs -f did not end with the task"
	wait "$lp" || fail "logs -f exit status: $(cat "$T/fol.err")"
	"$SV" delete chatty fol || fail "delete"
}

run_cases "$@"
