#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# selftest/e2e/60-bad-input.t: bad ids and garbage on the control socket cost the sender, never
# the daemon.
. "$(dirname "$0")/lib.sh"

test_bad_ids_refused() {
	daemon_start
	long=$(printf 'a%.0s' $(seq 1 77))
	for id in '../x' 'a/b' '' '.hidden' '-x' "$long" 'sp ace' 'ü'; do
		"$SV" run --rm -- "$id" /bin/true 2>"$T/err" && fail "id '$id' accepted"
		grep -q '^shimvisor: .*invalid id' "$T/err" || fail "id '$id': $(cat "$T/err")"
	done
	"$SV" -n '../etc' ls 2>"$T/err" && fail "namespace ../etc accepted"
	ok=$(printf 'a%.0s' $(seq 1 76))
	"$SV" run --rm "$ok" /bin/true || fail "76-char id refused"
	[ -z "$(ls "$T/state" | grep -v '^\.')" ] || fail "a path was made: $(ls "$T/state")"
}

test_garbage_on_control_socket() {
	daemon_start
	python3 - "$T/ctl.sock" <<'PY' || fail "python driver"
import socket, struct, sys, os
path = sys.argv[1]
def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.connect(path); s.settimeout(5); return s
def closed(s):
    try:
        while True:
            d = s.recv(65536)
            if not d: return True
    except socket.timeout:
        return False
# 1: random bytes that form a frame with a garbage body
s = conn(); s.sendall(struct.pack(">IIBB", 16, 1, 1, 0) + os.urandom(16)); s.recv(4096); s.close()
# 2: a header announcing more than 4 MiB
s = conn(); s.sendall(struct.pack(">IIBB", (4 << 20) + 1, 1, 1, 0)); assert closed(s), "over-cap frame kept the connection"
# 3: even stream id
s = conn(); s.sendall(struct.pack(">IIBB", 0, 2, 1, 0)); h = s.recv(10); assert len(h) == 10; s.close()
# 4: pure noise, then hang up mid-frame
s = conn(); s.sendall(os.urandom(7)); s.close()
# 5: unknown service
body = b"\x0a\x03foo\x12\x03bar"
s = conn(); s.sendall(struct.pack(">IIBB", len(body), 1, 1, 0) + body); r = s.recv(4096); assert r, "no answer"; s.close()
for i in range(200):
    s = conn(); s.sendall(os.urandom(64)); s.close()
PY
	[ "$("$SV" run --rm after /bin/echo alive)" = alive ] || fail "daemon stopped serving"
	kill -0 "$DAEMON_PID" || fail "daemon died"
}

test_refused_create_with_pipelined_start() {
	daemon_start
	"$SV" run --rm --cwd relative/dir rc /bin/true 2>"$T/err" && fail "a relative cwd was accepted"
	[ "$(wc -l < "$T/err")" = 1 ] || fail "not one line: $(cat "$T/err")"
	grep -q '^shimvisor: run rc: .*cwd' "$T/err" || fail "error: $(cat "$T/err")"
	"$SV" ls -q | grep -q . && fail "a task was left"
	[ "$("$SV" run --rm rc2 /bin/echo fine)" = fine ] || fail "the connection state broke"
}

# Under a low fd limit the engine budgets its fds: creates past the budget and clients past
# theirs are refused with a reason, and the daemon never runs out (before, the 46th task
# under 100 fds took the engine down: the monitor's reply could not carry its fd).
test_fd_limit_budget() {
	DAEMON_WRAP="prlimit --nofile=100:100" daemon_start
	line=$(grep -o 'allows at most [0-9]* tasks and [0-9]* clients' "$T/daemon.log") ||
		fail "no fd budget in the log: $(cat "$T/daemon.log")"
	set -- $line
	max_tasks=$4 max_clients=$7
	[ "$max_tasks" -gt 0 ] && [ "$max_clients" -gt 0 ] || fail "budget: $line"
	ok=0
	for i in $(seq $((max_tasks + 3))); do
		if "$SV" run -d "f$i" /bin/sleep 1000 2>"$T/err"; then
			ok=$((ok + 1))
		else
			grep -q "too many tasks" "$T/err" || fail "refusal does not say why: $(cat "$T/err")"
		fi
	done
	[ "$ok" = "$max_tasks" ] || fail "$ok tasks created, budget $max_tasks"
	python3 - "$T/ctl.sock" "$max_clients" <<'PY' || fail "clients"
import socket, struct, sys
path, cap = sys.argv[1], int(sys.argv[2])
body = b"\x0a\x03foo\x12\x03bar"          # an unknown service: answered with an error
req = struct.pack(">IIBB", len(body), 1, 1, 0) + body
def served():
    # a refused client is told why in one error frame and closed (it may be closed before
    # it sends); a served one gets the unknown service's error
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.connect(path); s.settimeout(10)
    try:
        s.sendall(req)
        r = s.recv(4096)
    except (ConnectionResetError, BrokenPipeError):
        r = b""
    if b"too many clients" in r:
        return s, False
    return s, bool(r)
held = []
for i in range(cap):
    s, ok = served(); assert ok, "client %d of %d refused" % (i + 1, cap); held.append(s)
s, ok = served(); assert not ok, "a client past the budget was served"; s.close()
held.pop().close()
# its place is freed once the engine has read its EOF: within a few attempts
for i in range(100):
    s, ok = served(); s.close()
    if ok: break
else:
    raise SystemExit("no client served after one left")
for s in held: s.close()
PY
	"$SV" ls -q | wc -l | grep -qx "$max_tasks" || fail "ls after the clients"
	"$SV" ls -q | xargs "$SV" delete -f || fail "delete"
	[ "$("$SV" run --rm after /bin/echo alive)" = alive ] || fail "daemon stopped serving"
	kill -0 "$DAEMON_PID" || fail "daemon died"
}

test_inherited_fds_closed() {
	# what a careless caller leaks (a pipe whose reader waits for EOF, a file, fds below
	# the engine's budget) is closed before anything else; 0-2 closed become /dev/null
	mkfifo "$T/leak"
	cat "$T/leak" > "$T/leak.out" &
	reader=$!
	BG_PIDS+=($reader)
	exec 7>"$T/leak" 8>"$T/leak.file"
	daemon_start 0<&- 1>&-
	exec 7>&- 8>&-
	# the pipe's last writer was the caller: its reader sees EOF once the daemon let go
	timeout 10 tail --pid="$reader" -f /dev/null || fail "the daemon holds the caller's pipe"
	"$SV" run -d fd /bin/sleep 1000 || fail "run"
	eng=$(pgrep -P "$DAEMON_PID" -x shimvisord-eng)
	task=$("$SV" state --format json fd | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
	for p in "$DAEMON_PID" "$eng" "$(worker_pid fd)" "$task"; do
		[ -n "$p" ] || fail "a process is missing"
		ls -l "/proc/$p/fd/" | grep -qF "$T/leak" && fail "pid $p holds an inherited fd: $(ls -l /proc/$p/fd/)"
	done
	for n in 0 1; do
		[ "$(readlink "/proc/$DAEMON_PID/fd/$n")" = /dev/null ] || fail "fd $n: $(readlink "/proc/$DAEMON_PID/fd/$n")"
	done
	"$SV" delete -f fd || fail "delete"
}

test_engine_runs_unprivileged() {
	# the engine parses every client byte: it runs as engine_user (shimvisor) with no
	# capability, no new privileges and a seccomp allow-list, and opens nothing in <state> (the monitor
	# connects its links and walks the bundles), so it must still serve and re-attach
	daemon_start
	eng=$(pgrep -P "$DAEMON_PID" -x shimvisord-eng)
	[ -n "$eng" ] || fail "no engine"
	st="/proc/$eng/status"
	u=$(id -u shimvisor) && g=$(id -g shimvisor) || fail "no user shimvisor (mk/deps.sh makes it)"
	[ "$(awk '/^Uid:/ {print $2, $3, $4, $5}' "$st")" = "$u $u $u $u" ] || fail "uids: $(grep Uid "$st")"
	[ "$(awk '/^Gid:/ {print $2, $3, $4, $5}' "$st")" = "$g $g $g $g" ] || fail "gids: $(grep Gid "$st")"
	[ -z "$(awk '/^Groups:/ {print $2}' "$st")" ] || fail "groups: $(grep Groups "$st")"
	for c in CapEff CapPrm CapAmb; do
		[ "$(awk -v c="$c:" '$1 == c {print $2}' "$st")" = 0000000000000000 ] || fail "$c: $(grep "$c" "$st")"
	done
	[ "$(awk '/^NoNewPrivs:/ {print $2}' "$st")" = 1 ] || fail "NoNewPrivs: $(grep NoNewPrivs "$st")"
	[ "$(awk '/^Seccomp:/ {print $2}' "$st")" = 2 ] || fail "no seccomp filter: $(grep Seccomp "$st")"
	"$SV" run -d up /bin/sleep 1000 || fail "run"
	daemon_kill9
	daemon_start
	"$SV" ls | grep -E '^default +up +[0-9]+ +running' >/dev/null || fail "not re-attached: $("$SV" ls)"
	# an engine_user that is root is refused
	printf '[daemon]\nengine_user = root\n' > "$T/conf"
	"$SVD" -F -c "$T/conf" --state "$T/state2" --address "$T/ctl2.sock" 2>"$T/err" &&
		fail "started with a root engine"
	grep -q "unprivileged" "$T/err" || fail "root engine: $(cat "$T/err")"
	"$SV" delete -f up || fail "delete"
}

run_cases "$@"
