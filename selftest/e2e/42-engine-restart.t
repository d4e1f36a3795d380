#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# selftest/e2e/42-engine-restart.t: the engine (the monitor's unprivileged child) is killed
# from outside, as a crash would end it: the monitor logs why and starts another after a
# backoff that doubles while the engine keeps ending; the daemon never ends for it, its
# tasks never notice, and a client cut off mid-call is told what happened.
. "$(dirname "$0")/lib.sh"

# The running engine's pid (the monitor's child), waiting (10 s at most) for one other than $1.
engine_pid() {
	local deadline=$((SECONDS + 10)) e
	while [ $SECONDS -lt $deadline ]; do
		e=$(pgrep -P "$DAEMON_PID" -x shimvisord-eng) && [ "$e" != "${1:-}" ] &&
			{ echo "$e"; return 0; }
		kill -0 "$DAEMON_PID" 2>/dev/null || return 1
		sleep 0.02
	done
	return 1
}

# One "  Name: value" line of `shimvisor version`.
version_field() { sed -n "s/^  $1: //p" "$T/version"; }

test_sigkill_of_the_engine_is_survived() {
	daemon_start
	"$SV" run -d gated /bin/sh -c 'mkfifo /tmp/gate && read x < /tmp/gate; exit 7' || fail "run gated"
	"$SV" run -d long /bin/sleep 99942 || fail "run long"
	gpid=$("$SV" state --format json gated | json_field pid)
	lpid=$("$SV" state --format json long | json_field pid)
	timeout 10 sh -c 'until [ -p "$1" ]; do sleep 0.02; done' _ "/proc/$gpid/root/tmp/gate" ||
		fail "the task made no gate"
	eng=$(engine_pid) || fail "no engine"
	# the task exits while no engine runs: stopped, then killed
	kill -STOP "$eng"
	timeout 10 sh -c 'echo go > "$1"' _ "/proc/$gpid/root/tmp/gate" || fail "gate"
	timeout 10 tail --pid="$gpid" -f /dev/null || fail "the task did not exit"
	kill -9 "$eng"
	# the monitor stays; a client waits in the backlog until the new engine's scan is over
	"$SV" ls >"$T/ls" || fail "ls after the engine's death: $(cat "$T/ls")"
	kill -0 "$DAEMON_PID" || fail "the monitor ended"
	grep -Eq "^default +long +$lpid +running" "$T/ls" || fail "long not re-attached: $(cat "$T/ls")"
	grep -Eq "^default +gated +$gpid +stopped" "$T/ls" || fail "gated: $(cat "$T/ls")"
	"$SV" wait gated; rc=$?
	[ $rc = 7 ] || fail "gated: wait gave $rc, want 7"
	eng2=$(engine_pid) || fail "no new engine"
	[ "$eng2" != "$eng" ] || fail "the same engine"
	[ "$(awk '/^Uid:/{print $2}' "/proc/$eng2/status")" = "$(id -u shimvisor)" ] ||
		fail "the new engine's uid"
	# the cause and the attempt, in the log and in `version`
	grep -Eq "the engine was killed by signal 9 \(Killed\) after [0-9.]+ s: restart 1 \(attempt 1\) in 100 ms" \
		"$T/daemon.log" || fail "log: $(cat "$T/daemon.log")"
	grep -q "engine restart 1 (attempt 1): pid $eng2, [0-9]* ms after the end; if it ends within a minute, the next in 200 ms" \
		"$T/daemon.log" || fail "log: $(cat "$T/daemon.log")"
	"$SV" version >"$T/version" || fail "version"
	[ "$(head -n1 "$T/version")" = "Client:" ] || fail "version's first line: $(head -n1 "$T/version")"
	[ "$(version_field 'Engine restarts')" = 1 ] || fail "version: $(cat "$T/version")"
	version_field 'Last engine end' | grep -q '^was killed by signal 9 (Killed), at 20' ||
		fail "version: $(cat "$T/version")"
	[ "$("$SV" run --rm after /bin/echo served)" = served ] || fail "run after the restart"
	"$SV" delete -f long gated || fail "delete"
}

# Engines killed as soon as they appear: each waits twice as long as the one before
# (100, 200, ... ms, as the version reply and the log record them); the daemon lives on and
# serves once the killing stops.
test_crash_loop_backs_off() {
	daemon_start
	"$SV" run -d long /bin/sleep 99943 || fail "run long"
	lpid=$("$SV" state --format json long | json_field pid)
	eng=$(engine_pid) || fail "no engine"
	kill -9 "$eng"
	want=100
	for k in 1 2 3 4 5 6; do
		# answered by the k-th new engine (the call waits in the backlog meanwhile)
		"$SV" version >"$T/version" || fail "version $k"
		[ "$(version_field 'Engine restarts')" = "$k" ] || fail "restart $k: $(cat "$T/version")"
		read -r attempt backoff waited <<<"$(version_field 'Restart attempt' |
			sed -n 's/^\([0-9]*\) (backoff \([0-9]*\) ms, waited \([0-9]*\) ms)$/\1 \2 \3/p')"
		[ "$attempt" = "$k" ] && [ "$backoff" = "$want" ] ||
			fail "restart $k: attempt $attempt backoff $backoff, want $k $want: $(cat "$T/version")"
		[ "$waited" -ge "$backoff" ] || fail "restart $k came after $waited ms, before its $backoff ms"
		grep -q "restart $k (attempt $k) in $want ms" "$T/daemon.log" || fail "not logged: restart $k"
		note "restart $k: backoff $backoff ms, waited $waited ms"
		eng=$(engine_pid "$eng") || fail "no engine $k"
		kill -9 "$eng"
		want=$((want * 2))
	done
	# the killing stops: the 7th engine serves, the task ran on
	kill -0 "$DAEMON_PID" || fail "the daemon ended in the crash loop"
	[ "$("$SV" run --rm after /bin/echo served)" = served ] || fail "not served after the loop"
	"$SV" ls | grep -Eq "^default +long +$lpid +running" || fail "long: $("$SV" ls)"
	"$SV" version >"$T/version" || fail "version"
	[ "$(version_field 'Engine restarts')" = 7 ] || fail "version: $(cat "$T/version")"
	version_field 'Restart attempt' | grep -q '^7 (backoff 6400 ms' || fail "version: $(cat "$T/version")"
	"$SV" delete -f long || fail "delete"
}

# SIGTERM while the monitor waits out a backoff: the daemon stops at once and cleanly (no
# engine is started for it), its task runs on.
test_sigterm_during_backoff_stops() {
	daemon_start
	"$SV" run -d long /bin/sleep 99944 || fail "run long"
	lpid=$("$SV" state --format json long | json_field pid)
	eng=$(engine_pid) || fail "no engine"
	# four ends: the next wait is 1600 ms
	for k in 1 2 3 4; do
		kill -9 "$eng"
		"$SV" version >/dev/null || fail "version $k"
		eng=$(engine_pid "$eng") || fail "no engine $k"
	done
	kill -9 "$eng"
	timeout 5 tail --pid="$eng" -f /dev/null
	# the monitor reaps it at once; its wait has 1600 ms to run
	timeout 5 sh -c 'until grep -q "restart 5 (attempt 5) in 1600 ms" "$1"; do sleep 0.01; done' \
		_ "$T/daemon.log" || fail "the fifth end not logged: $(cat "$T/daemon.log")"
	kill -TERM "$DAEMON_PID"
	timeout 10 tail --pid="$DAEMON_PID" -f /dev/null || fail "the daemon runs on after SIGTERM"
	wait "$DAEMON_PID"; rc=$?
	DAEMON_PID=""
	[ $rc = 0 ] || fail "daemon exit status $rc after SIGTERM, want 0"
	grep -q "engine restart 5" "$T/daemon.log" && fail "an engine was started after SIGTERM"
	[ -e "$T/ctl.sock" ] && fail "the control socket is left"
	kill -0 "$lpid" || fail "the task ended with the daemon"
	daemon_start
	"$SV" delete -f long || fail "delete"
}

# A client whose call is in flight when the engine dies is told so, with the cause; a client
# the engine refuses is not (62-engine-user.t: "connection closed by shimvisord").
test_client_in_flight_told_of_the_restart() {
	daemon_start
	"$SV" run -d long /bin/sleep 99945 || fail "run long"
	eng=$(engine_pid) || fail "no engine"
	n=$(ls "/proc/$eng/fd" | wc -l)
	"$SV" wait long >"$T/wait.out" 2>"$T/wait.err" &
	w=$!
	BG_PIDS+=($w)
	# the engine took its connection: one more fd
	timeout 10 sh -c 'until [ "$(ls "/proc/$1/fd" | wc -l)" -gt "$2" ]; do sleep 0.01; done' \
		_ "$eng" "$n" || fail "the wait never connected"
	kill -9 "$eng"
	timeout 20 tail --pid="$w" -f /dev/null || fail "the wait still waits"
	wait "$w"; rc=$?
	[ $rc = 1 ] || fail "wait: status $rc, want 1: $(cat "$T/wait.err")"
	grep -q "connection closed by shimvisord: the daemon's engine restarted during the call (the engine was killed by signal 9 (Killed); restart 1): the call may or may not have been carried out" \
		"$T/wait.err" || fail "wait said: $(cat "$T/wait.err")"
	# the task is untouched: a new wait is served by the new engine
	"$SV" ls | grep -Eq '^default +long +[0-9]+ +running' || fail "long: $("$SV" ls)"
	"$SV" delete -f long || fail "delete"
}

run_cases "$@"
