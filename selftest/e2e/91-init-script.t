#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# selftest/e2e/91-init-script.t: the installed sysvinit script (make install into a staging
# dir) run against a private daemon, through a private defaults file: LSB's exit code for
# every action, and reload's SIGHUP going only to the daemon the pidfile names.
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$HERE/../.." && pwd)

# Install into $T/dest (PREFIX=/usr) and write the defaults file that points the installed
# script at the staged daemon and a private pidfile, state, socket and cgroup parent.
staged_script() {
	make -C "$ROOT" -s install DESTDIR="$T/dest" PREFIX=/usr >/dev/null || fail "make install"
	INIT="$T/dest/etc/init.d/shimvisord"
	[ -x "$INIT" ] || fail "no executable $INIT"
	PIDFILE="$T/shimvisord.pid"
	: > "$T/conf"
	cat > "$T/defaults" <<EOF
DAEMON=$T/dest/usr/sbin/shimvisord
PIDFILE=$PIDFILE
DAEMON_ARGS="-c $T/conf --state $T/state --address $T/ctl.sock --cgroup-parent $(case_cgroup)"
EOF
	export SHIMVISORD_DEFAULTS="$T/defaults" SHIMVISOR_ADDRESS="$T/ctl.sock"
	unset DAEMON DAEMON_ARGS NOFILE
}

# Run the script with action $1; fail unless it exits $2. Its output goes to $T/init.out.
act() {
	local r
	sh "$INIT" "$1" > "$T/init.out" 2>&1
	r=$?
	[ "$r" = "$2" ] || fail "$1: exit $r, want $2: $(cat "$T/init.out")"
	# the daemon the pidfile names, for case_cleanup (it ends each case with daemon_stop)
	DAEMON_PID=$(cat "$PIDFILE" 2>/dev/null)
	return 0
}

# The pidfile's daemon: alive, root's, the monitor (with its engine below it), serving.
serving() {
	local pid
	pid=$(cat "$PIDFILE") || fail "no pidfile after $1"
	[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = shimvisord ] || fail "$1: pidfile names $pid, no shimvisord"
	pgrep -P "$pid" -x shimvisord-eng >/dev/null || fail "$1: no engine below $pid"
	"$SV" version >/dev/null || fail "$1: the daemon does not serve"
	echo "$pid"
}

test_installed_script_names_the_installed_daemon() {
	staged_script
	grep -qx 'DAEMON=${DAEMON:-/usr/sbin/shimvisord}' "$INIT" ||
		fail "@SBINDIR@ not substituted: $(grep -n '^DAEMON=' "$INIT")"
	grep -q '@[A-Z]*@' "$INIT" && fail "a placeholder left: $(grep -n '@[A-Z]*@' "$INIT")"
	# the sample defaults file: only comments, so that an operator who never edits it gets
	# the script's defaults; each commented setting is one the script reads
	sample="$T/dest/etc/default/shimvisord"
	[ -e "$sample" ] || { note "make install does not install etc/default/shimvisord yet"; sample="$ROOT/etc/default/shimvisord"; }
	grep -v '^#' "$sample" | grep -q . && fail "the sample sets something: $(grep -v '^#' "$sample")"
	for v in $(sed -n 's/^#\([A-Z_]*\)=.*/\1/p' "$sample"); do
		grep -q "^$v=\\\${$v:-" "$INIT" || fail "the sample names $v, which the script does not read"
	done
	[ "$(sed -n 's/^#\([A-Z_]*\)=.*/\1/p' "$sample" | sort | tr '\n' ' ')" = "DAEMON DAEMON_ARGS NOFILE PIDFILE " ] ||
		fail "the sample's settings: $(grep '^#[A-Z_]*=' "$sample")"
	return 0
}

# A private syslog (a datagram socket in $T, its lines in $T/syslog) for a daemon that logs
# to syslog_socket and handles SIGHUP (issue 11's log and reload parts); else returns 1.
private_syslog() {
	printf '[daemon]\nsyslog_socket = %s\n' "$T/log.sock" > "$T/conf"
	if ! "$T/dest/usr/sbin/shimvisord" -c "$T/conf" --version >/dev/null 2>&1 || ! grep -aq "reload: %s: applied" "$T/dest/usr/sbin/shimvisord"; then
		: > "$T/conf"
		return 1
	fi
	python3 -u - "$T/log.sock" > "$T/syslog" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
while True:
    print(s.recv(65536).decode(errors="replace"))
PY
	BG_PIDS+=($!)
	for _ in $(seq 100); do [ -S "$T/log.sock" ] && return 0; sleep 0.05; done
	fail "the private syslog did not start"
}

# Wait (bounded) for $2 lines of the private syslog that hold $1.
syslog_wait() {
	[ "$(timeout 10 tail -n +1 -f "$T/syslog" | grep -m"$2" -F -- "$1" | wc -l)" = "$2" ] ||
		fail "not $2 \"$1\" in the daemon's syslog: $(cat "$T/syslog")"
}

# start, start again, status, reload, stop, stop again, status: every exit code LSB's.
test_every_action_exit_code() {
	staged_script
	private_syslog && syslog=1 ||
		{ syslog=0; note "this shimvisord has no syslog_socket or no reload: reload is checked by its pid"; }
	act status 3
	act start 0
	pid=$(serving start) || exit 1
	act start 0
	p=$(serving "start again") || exit 1
	[ "$p" = "$pid" ] || fail "start again started another daemon"
	act status 0
	grep -q "is running (pid $pid)" "$T/init.out" || fail "status said: $(cat "$T/init.out")"
	act reload 0
	p=$(serving reload) || exit 1
	[ "$p" = "$pid" ] || fail "reload replaced the daemon"
	# the daemon got the SIGHUP: it reread its config file
	[ $syslog = 0 ] || syslog_wait "reload: $T/conf: applied" 1
	act force-reload 0
	p=$(serving force-reload) || exit 1
	[ "$p" = "$pid" ] || fail "force-reload replaced the daemon"
	[ $syslog = 0 ] || syslog_wait "reload: $T/conf: applied" 2
	act try-restart 0
	pid2=$(serving try-restart) || exit 1
	[ "$pid2" != "$pid" ] || fail "try-restart did not restart"
	act restart 0
	pid3=$(serving restart) || exit 1
	[ "$pid3" != "$pid2" ] || fail "restart did not restart"
	act stop 0
	kill -0 "$pid3" 2>/dev/null && fail "stop left $pid3 running"
	[ -e "$PIDFILE" ] && fail "stop left the pidfile"
	act stop 0
	act status 3
	act reload 7
	act force-reload 7
	act try-restart 0
	[ -e "$PIDFILE" ] && fail "try-restart started a stopped daemon"
	act restart 0
	serving "restart when stopped" >/dev/null || exit 1
	act stop 0
	act bogus 2
	act "" 2
	return 0
}

# A daemon killed with SIGKILL leaves its pidfile: status 1; start then starts a new one.
test_dead_daemon_with_pidfile() {
	staged_script
	act start 0
	pid=$(serving start) || exit 1
	eng=$(pgrep -P "$pid" -x shimvisord-eng)
	kill -9 "$pid" $eng
	for p in $pid $eng; do timeout 10 tail --pid="$p" -f /dev/null; done
	[ "$(cat "$PIDFILE")" = "$pid" ] || fail "the pidfile went with the daemon"
	act status 1
	act reload 7
	act try-restart 0
	[ "$(cat "$PIDFILE")" = "$pid" ] || fail "try-restart started a dead daemon"
	act start 0
	p=$(serving "start after the kill") || exit 1
	[ "$p" != "$pid" ] || fail "no new daemon"
	act stop 0
	# stop when dead with the pidfile left: success, and the stale pidfile goes
	act start 0
	pid=$(serving start) || exit 1
	kill -9 "$pid" $(pgrep -P "$pid" -x shimvisord-eng)
	timeout 10 tail --pid="$pid" -f /dev/null
	act stop 0
	[ -e "$PIDFILE" ] && fail "stop left a dead daemon's pidfile"
	act status 3
}

# A pidfile that cannot be read as one: status unknown (4).
test_status_unknown() {
	staged_script
	echo "not a pid" > "$PIDFILE"
	act status 4
	rm -f "$PIDFILE"
	mkdir "$PIDFILE"
	act status 4
}

# reload signals the pidfile's process only if it is our daemon: root's, named shimvisord.
# A process the pidfile names otherwise (here sleep, which SIGHUP would kill) is left alone
# and reload says not running (7).
test_reload_signals_only_our_daemon() {
	staged_script
	command -v setpriv >/dev/null || skip_case "no setpriv"
	sleep 1000 &
	BG_PIDS+=($!)
	echo $! > "$PIDFILE"
	act reload 7
	act status 1
	# named shimvisord, but not root's (a user who got its pid into the pidfile)
	cp /bin/sleep "$T/shimvisord"
	chmod 0755 "$T" "$T/shimvisord"
	setpriv --reuid nobody --regid nogroup --clear-groups "$T/shimvisord" 1000 &
	BG_PIDS+=($!)
	fake=$!
	for _ in $(seq 100); do [ "$(cat /proc/$fake/comm)" = shimvisord ] && break; sleep 0.05; done
	[ "$(cat /proc/$fake/comm)" = shimvisord ] || fail "the fake did not start"
	echo "$fake" > "$PIDFILE"
	act reload 7
	act stop 0
	for p in "${BG_PIDS[@]}"; do kill -0 "$p" || fail "the script signalled $p"; done
	return 0
}

run_cases "$@"
