#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# selftest/e2e/13-syslog.t: the daemon's log. Without -F every line, the monitor's and those
# its engine and workers relay, reaches syslog: here a private /dev/log (a datagram socket
# the test binds, `syslog_socket =`), with its priority (daemon.*), ident shimvisord and the
# sending process's pid. The attacker's side: a process holding the engine's or a worker's
# relay end (taken with pidfd_getfd) floods it, sends hostile bytes and fds: syslog gets a
# bounded number of lines and a "suppressed" count, cleaned text, and the monitor keeps
# serving and holds no fd it was sent. With -F, the same lines go to stderr as before.
. "$(dirname "$0")/lib.sh"

# A syslogd stand-in: binds $T/log.sock, appends each datagram to $T/syslog as one line.
syslog_start() {
	cat > "$T/listen.py" <<'PY'
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
s.bind(sys.argv[1])
out = open(sys.argv[2], "ab", buffering=0)
out.write(b"#ready\n")
while True:
    out.write(s.recv(65536).replace(b"\n", b"\\n") + b"\n")
PY
	python3 "$T/listen.py" "$T/log.sock" "$T/syslog" &
	BG_PIDS+=($!)
	timeout 10 sh -c 'until [ -s "$1" ]; do sleep 0.02; done' _ "$T/syslog" || fail "no listener"
}

# A daemon as an init script starts it: without -F (it returns once it serves), its pid from
# the pidfile; config lines $@ under [daemon].
daemon_start_bg() {
	{ echo '[daemon]'; echo "syslog_socket = $T/log.sock"; printf '%s\n' "$@"; } > "$T/conf"
	"$SVD" -c "$T/conf" --state "$T/state" --address "$T/ctl.sock" --pidfile "$T/shimvisord.pid" \
		--cgroup-parent "$(case_cgroup)" || fail "the daemon did not start"
	DAEMON_PID=$(cat "$T/shimvisord.pid")
	export SHIMVISOR_ADDRESS="$T/ctl.sock"
}

# Wait (10 s at most) for a syslog line matching the extended regex $1; print it.
syslog_wait() {
	timeout 10 tail -n +1 -f "$T/syslog" | grep -E -m1 -- "$1" ||
		{ note "no syslog line matching $1; syslog so far:"; cat "$T/syslog" >&2; return 1; }
}

# The engine (the monitor's child).
engine_of() { pgrep -P "$DAEMON_PID" -x shimvisord-eng; }

# Write the attacker: it takes fd 2 of pid $1 (pidfd_getfd: root may, as a debugger) and
# sends $2 lines of $3 as fast as the relay takes them; or, with $2 = hostile, bytes a parser
# could choke on, with 64 fds of the file $4 a line ($3: the syslog file each line is waited in).
write_attacker() {
	cat > "$T/attack.py" <<'PY'
import array, ctypes, os, select, socket, sys, time
libc = ctypes.CDLL(None, use_errno=True)
pidfd = libc.syscall(434, int(sys.argv[1]), 0)            # pidfd_open
fd = libc.syscall(438, pidfd, 2, 0) if pidfd >= 0 else -1  # pidfd_getfd
if fd < 0:
    sys.exit("pidfd_getfd: %s" % os.strerror(ctypes.get_errno()))
s = socket.socket(fileno=fd)
def sent_and_logged(send):
    # one line at a time, each waited for in the syslog file (its queue holds 10 datagrams)
    n = os.path.getsize(sys.argv[3])
    send()
    deadline = time.monotonic() + 10
    while os.path.getsize(sys.argv[3]) == n:
        if time.monotonic() > deadline:
            sys.exit("a line never reached syslog")
        time.sleep(0.01)
if sys.argv[2] == "hostile":
    fds = array.array("i", [os.open(sys.argv[4], os.O_RDONLY) for _ in range(64)])
    for i in range(5):
        sent_and_logged(lambda: s.sendmsg([b"<0>evil\nshimvisord[1]: forged \x1b[2J\x00 line"],
                                          [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds.tobytes())]))
    sent_and_logged(lambda: s.send(b"no marker at all"))
    sent_and_logged(lambda: s.send(b"<6>" + b"y" * 4000))
    sys.exit(0)
n, line, t0 = int(sys.argv[2]), sys.argv[3].encode(), time.monotonic()
sent = 0
while sent < n:
    try:
        s.send(line)
        sent += 1
    except BlockingIOError:
        select.select([], [s], [], 1)
print("%d %.2f" % (sent, time.monotonic() - t0))
PY
}

test_lifecycle_reaches_syslog() {
	syslog_start
	daemon_start_bg
	syslog_wait "^<29>[A-Z][a-z]{2} [ 0-9]{2} [0-9:]{8} shimvisord\[$DAEMON_PID\]: version [0-9.]+: serving $T/ctl.sock, state $T/state$" >/dev/null ||
		fail "no start line"
	eng=$(engine_of) || fail "no engine"
	"$SV" run -d t1 /bin/sh -c 'exit 3' || fail "run t1"
	"$SV" wait t1; [ $? = 3 ] || fail "wait t1"
	for l in "created \(pid [0-9]+, worker [0-9]+\)" "started \(pid [0-9]+\)" "exited with status 3"; do
		syslog_wait "^<30>.* shimvisord\[$eng\]: task default/t1: $l$" >/dev/null || fail "t1: $l"
	done
	"$SV" delete t1 || fail "delete t1"
	syslog_wait "^<30>.* shimvisord\[$eng\]: task default/t1: deleted, cleaned up$" >/dev/null || fail "t1 deleted"
	"$SV" run -d t2 /bin/sleep 99913 || fail "run t2"
	w=$(worker_pid t2)
	kill -9 "$w"
	syslog_wait "^<28>.* shimvisord\[$eng\]: task default/t2: its worker \(pid $w\) died$" >/dev/null ||
		fail "no worker death"
	syslog_wait "^<30>.* shimvisord\[$eng\]: task default/t2: cleaned up after its worker \(exit status 137\)$" >/dev/null ||
		fail "no cleanup of t2"
	grep -q "debug:" "$T/syslog" && fail "debug lines at info: $(grep debug: "$T/syslog")"
	daemon_stop
	syslog_wait "^<29>.* shimvisord\[[0-9]+\]: stopped; tasks left running$" >/dev/null || fail "no stop line"
	return 0
}

# The monitor's level filters every line, the engine's and the workers' too.
test_level_is_the_monitors() {
	syslog_start
	daemon_start_bg "log_level = debug"
	"$SV" run --rm dbg /bin/true || fail "run"
	# a worker's own line, with the worker's pid: it runs as root, its fd 2 is its relay
	syslog_wait "^<31>.* shimvisord\[[0-9]+\]: shimvisor-worker: debug: " >/dev/null || fail "no worker debug line"
	daemon_stop
	: > "$T/syslog"
	daemon_start_bg "log_level = warning"
	"$SV" run -d w1 /bin/sleep 99914 || fail "run w1"
	w=$(worker_pid w1)
	kill -9 "$w"
	syslog_wait "^<28>.* task default/w1: its worker \(pid $w\) died$" >/dev/null || fail "no warning"
	! grep -E "^<(29|30|31)>" "$T/syslog" || fail "lines below warning reached syslog"
}

# The task's processes never hold the relay: not the first stage held before its start, not
# the task's init, not an exec.
test_task_never_holds_the_relay() {
	syslog_start
	daemon_start_bg
	"$SV" create held /bin/sleep 99915 || fail "create"
	w=$(worker_pid held)
	relay=$(readlink "/proc/$w/fd/2")
	case $relay in socket:*) ;; *) fail "the worker's fd 2 is $relay, not its relay" ;; esac
	pid=$("$SV" state --format json held | json_field pid)
	for when in created started; do
		for f in /proc/$pid/fd/*; do
			[ "$(readlink "$f")" != "$relay" ] || fail "the task's init ($when) holds the relay on $f"
		done
		[ $when = started ] || "$SV" start held || fail "start"
	done
	out=$("$SV" exec held /bin/sh -c 'for f in /proc/$$/fd/*; do readlink $f; done; exit 0') || fail "exec"
	echo "$out" | grep -q "^pipe:\|^/dev/null$" || fail "exec: no fds read: $out"
	echo "$out" | grep -qxF "$relay" && fail "an exec holds the relay: $out"
	return 0
}

# A hostile worker (here: whoever holds its relay end) floods 100000 lines: syslog gets its
# burst, 10 a second after it, and one "suppressed" count; the daemon keeps serving.
test_flood_from_a_worker() {
	syslog_start
	daemon_start_bg
	"$SV" run -d victim /bin/sleep 99916 || fail "run"
	write_attacker
	python3 "$T/attack.py" "$(worker_pid victim)" 100000 "<6>flood" > "$T/attack.out" 2>&1 &
	apid=$!
	# meanwhile the daemon serves
	start=$SECONDS
	[ "$(timeout 20 "$SV" run --rm during /bin/echo ok)" = ok ] || fail "the daemon stopped serving"
	wait "$apid" || fail "attacker: $(cat "$T/attack.out")"
	read -r sent secs < "$T/attack.out"
	[ "$sent" = 100000 ] || fail "the attacker sent $sent"
	rep=$(syslog_wait "shimvisord\[[0-9]+\]: log: shimvisor-worker \(pid $apid\): [0-9]+ lines suppressed") ||
		fail "no suppressed count"
	got=$(grep -c "shimvisord\[$apid\]: shimvisor-worker: flood$" "$T/syslog")
	dropped=$(sed -n 's/.*: \([0-9]*\) lines were not sent to syslog$/\1/p' "$T/syslog" | paste -sd+ | bc)
	bound=$((100 + 10 * (SECONDS - start + 2)))
	note "sent 100000 in $secs s: $got lines reached syslog (bound $bound), ${dropped:-0} not taken by it; $rep"
	[ "$got" -ge 1 ] && [ "$((got + ${dropped:-0}))" -le "$bound" ] || fail "$got lines of the flood reached syslog"
	"$SV" ls -q | grep -qx victim || fail "victim gone"
}

# The same from the engine's relay: the engine's limit (2000, then 1000 a second) bounds it.
test_flood_from_the_engine() {
	syslog_start
	daemon_start_bg
	write_attacker
	eng=$(engine_of) || fail "no engine"
	start=$SECONDS
	python3 "$T/attack.py" "$eng" 100000 "<6>flood" > "$T/attack.out" 2>&1 || fail "attacker: $(cat "$T/attack.out")"
	syslog_wait "log: the engine \(pid [0-9]+\): [0-9]+ lines suppressed" >/dev/null || fail "no suppressed count"
	got=$(grep -c ": flood$" "$T/syslog")
	bound=$((2000 + 1000 * (SECONDS - start + 2)))
	note "$got lines of 100000 reached syslog (bound $bound)"
	[ "$got" -le "$bound" ] || fail "$got lines of the flood reached syslog"
	[ "$("$SV" run --rm after /bin/echo ok)" = ok ] || fail "the daemon stopped serving"
}

# Bytes a parser could choke on, and fds sent along: one line each, cleaned, the level
# clamped (no emerg from a worker), no fd kept by the monitor.
test_hostile_bytes_and_fds() {
	syslog_start
	daemon_start_bg
	"$SV" run -d victim /bin/sleep 99917 || fail "run"
	write_attacker
	# the fds sent are of a file of the test's own: the monitor holds none of them once the
	# last line reached syslog (it closes them as it reads each datagram)
	: > "$T/bait"
	python3 "$T/attack.py" "$(worker_pid victim)" hostile "$T/syslog" "$T/bait" > "$T/attack.out" 2>&1 ||
		fail "attacker: $(cat "$T/attack.out")"
	syslog_wait "shimvisor-worker: y{100}" >/dev/null || fail "no long line"
	kept=$(for f in /proc/"$DAEMON_PID"/fd/*; do readlink "$f"; done | grep -cxF "$T/bait")
	[ "$kept" = 0 ] || fail "the monitor holds $kept of the fds it was sent"
	n=$(grep -cF 'shimvisor-worker: evil\012shimvisord[1]: forged \033[2J\000 line' "$T/syslog")
	[ "$n" = 5 ] || fail "$n cleaned lines: $(tail -n 5 "$T/syslog")"
	grep -F 'evil\012' "$T/syslog" | grep -qv '^<27>' && fail "a level above err got through"
	grep -q '^<28>.*shimvisor-worker: no marker at all$' "$T/syslog" || fail "unmarked line"
	long=$(grep -F 'shimvisor-worker: yyy' "$T/syslog")
	[ "${#long}" -lt 1200 ] || fail "a line of ${#long} bytes"
	return 0
}

# With -F, stderr as before ("prog: what: why"), the workers' lines too; nothing to syslog.
test_foreground_writes_stderr() {
	syslog_start
	printf '[daemon]\nsyslog_socket = %s\n' "$T/log.sock" > "$T/conf"
	daemon_start -c "$T/conf" -D
	"$SV" run --rm fg /bin/sh -c 'exit 4'; [ $? = 4 ] || fail "run"
	for l in "shimvisord: version [0-9.]+: serving $T/ctl.sock" "shimvisord: task default/fg: exited with status 4" \
		 "shimvisor-worker: debug: "; do
		timeout 10 tail -n +1 -f "$T/daemon.log" | grep -E -q -m1 -- "^$l" || fail "no line $l: $(cat "$T/daemon.log")"
	done
	[ "$(wc -l < "$T/syslog")" = 1 ] || fail "lines went to syslog: $(cat "$T/syslog")"
}

run_cases "$@"
