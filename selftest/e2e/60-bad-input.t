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

run_cases "$@"
