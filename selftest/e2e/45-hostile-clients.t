#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# selftest/e2e/45-hostile-clients.t: fair service and bounded memory per client, from the side
# of the hostile client: a uid holding connections up to its cap, idle connections, a
# subscriber that never reads, a client holding half-sent frames.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3     # not a per-user shim: the other users run it too

# ttrpc by hand, for the clients below (imported from $T/tt.py)
write_tt() {
	cat > "$T/tt.py" <<'PY'
import os, select, socket, struct, sys, time
HDR = struct.Struct(">IIBB")

def pb(num, data):
    data = data.encode() if isinstance(data, str) else data
    return bytes([num << 3 | 2]) + enc(len(data)) + data

def enc(n):
    out = b""
    while n > 0x7f:
        out += bytes([n & 0x7f | 0x80]); n >>= 7
    return out + bytes([n])

def request(method, stream, payload=b""):
    body = pb(1, "shimvisor.v1.Control") + pb(2, method)
    if payload:
        body += pb(3, payload)
    return HDR.pack(len(body), stream, 1, 0) + body

def conn(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(20)
    s.connect(path)
    return s

def frames(s, until_eof=True, quiet_s=None):
    """Read frames to EOF (or until quiet_s without data): [(stream, body)], eof."""
    buf, out = b"", []
    s.settimeout(quiet_s if quiet_s else 20)
    try:
        while True:
            d = s.recv(1 << 16)
            if not d:
                break
            buf += d
    except socket.timeout:
        return parse(buf), False
    except ConnectionResetError:
        pass
    return parse(buf), True

def parse(buf):
    out = []
    while len(buf) >= 10:
        ln, st, _, _ = HDR.unpack_from(buf)
        if len(buf) < 10 + ln:
            break
        out.append((st, buf[10:10 + ln]))
        buf = buf[10 + ln:]
    return out

def closed(s, timeout):
    """True once the daemon closed s (EOF, after any frames) within timeout."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        r, _, _ = select.select([s], [], [], end - time.monotonic())
        if r:
            try:
                if not s.recv(1 << 16):
                    return True
            except ConnectionResetError:
                return True
    return False

def settle(path):
    """The daemon takes connections in order: once a later one is answered (or refused),
    every earlier one is settled."""
    v = conn(path)
    try:
        v.sendall(request("Version", 1))
        v.recv(1 << 16)
    except OSError:
        pass
    v.close()

def is_open(s):
    r, _, _ = select.select([s], [], [], 0)
    return not r
PY
}

need_users() {
	command -v setpriv >/dev/null || skip_case "no setpriv"
	SV_GID=$(getent group shimvisor | cut -d: -f3)
	[ -n "$SV_GID" ] || fail "no group shimvisor (mk/deps.sh creates it)"
	chmod 755 "$T"     # the other uids import $T/tt.py (a listing)
}

# As uid $1 (and the socket's group): hold up to $2 connections; prints "kept N" and the
# refusal messages, then holds them until $T/release.$1 is written.
hold_as() {
	mkfifo "$T/release.$1" "$T/held.$1"
	setpriv --reuid="$1" --regid="$1" --groups="$SV_GID" "$PY" - "$T" "$2" "$1" \
		> "$T/held.$1" 2> "$T/held.$1.err" <<'PY' &
import sys; sys.path.insert(0, sys.argv[1]); from tt import *
T, n, uid = sys.argv[1], int(sys.argv[2]), sys.argv[3]
socks = [conn(T + "/ctl.sock") for _ in range(n)]
# the daemon takes connections in order: once a later one is answered, ours are settled
settle(T + "/ctl.sock")
kept, why = [], set()
for s in socks:
    if is_open(s):
        kept.append(s)
    else:
        fs, _ = frames(s)
        why.update(b[b.find(b"too"):].decode() for _, b in fs)
print("kept %d" % len(kept))
for w in sorted(why):
    print("refused: %s" % w)
sys.stdout.flush(); os.close(1)     # EOF for the reader
open(T + "/release." + uid).read()
PY
	BG_PIDS+=($!)
	timeout 20 cat "$T/held.$1" > "$T/held.$1.out" || fail "uid $1 did not report: $(cat "$T/held.$1.err")"
}

# One uid stops at its share; others, and root, are still served; past the non-root total,
# only root is. The budget: 96 fds -> 16 clients; root keeps 4, a uid gets (16-4)/2 = 6.
test_peer_caps_and_root_reserve() {
	need_users
	write_tt
	printf '[daemon]\nallow_uids = 0 65534 65533 65532\nclient_peer_max = 8\nclient_root_reserve = 4\n' > "$T/conf"
	DAEMON_WRAP="prlimit --nofile=96:96" daemon_start -c "$T/conf"
	hold_as 65534 10
	grep -qx 'kept 6' "$T/held.65534.out" || fail "uid 65534: $(cat "$T/held.65534.out")"
	grep -qx 'refused: too many connections from uid 65534 (client_peer_max 6)' "$T/held.65534.out" ||
		fail "refusal: $(cat "$T/held.65534.out")"
	# another uid and root are served while it holds its share
	setpriv --reuid=65533 --regid=65533 --groups="$SV_GID" "$SV" version | grep -q '^Server' ||
		fail "uid 65533 not served beside uid 65534's connections"
	"$SV" version | grep -q '^Server' || fail "root not served"
	# the CLI of the capped uid says why
	setpriv --reuid=65534 --regid=65534 --groups="$SV_GID" "$SV" version >/dev/null 2>"$T/err" &&
		fail "uid 65534 served past its cap"
	grep -q 'too many connections from uid 65534' "$T/err" || fail "uid 65534 CLI: $(cat "$T/err")"
	# a second uid takes its share: the non-root clients are at 16 - 4; a third is refused,
	# root is still served from its reserve
	hold_as 65533 6
	grep -qx 'kept 6' "$T/held.65533.out" || fail "uid 65533: $(cat "$T/held.65533.out")"
	setpriv --reuid=65532 --regid=65532 --groups="$SV_GID" "$SV" version >/dev/null 2>"$T/err" &&
		fail "uid 65532 served past the non-root total"
	grep -q 'keeps its last 4 connections for root' "$T/err" || fail "uid 65532: $(cat "$T/err")"
	"$SV" version | grep -q '^Server' || fail "root not served from its reserve"
	# once a holder lets go, its uid's place is free again
	echo > "$T/release.65534"
	local end=$((SECONDS + 20))
	until setpriv --reuid=65534 --regid=65534 --groups="$SV_GID" "$SV" version >/dev/null 2>&1; do
		[ $SECONDS -lt $end ] || fail "uid 65534 not served after it closed its connections"
	done
	echo > "$T/release.65533"
}

# A connection with nothing in flight is closed after client_idle_ms; one with a Wait in
# flight, or subscribed, is not; the CLI connects again when its idle connection was closed.
test_idle_closed_busy_kept() {
	write_tt
	printf '[daemon]\nclient_idle_ms = 300\n' > "$T/conf"
	daemon_start -c "$T/conf"
	"$SV" run -d long /bin/sleep 1000 >/dev/null || fail "run -d"
	"$PY" - "$T" <<'PY' || fail "idle"
import sys, time; sys.path.insert(0, sys.argv[1]); from tt import *
p = sys.argv[1] + "/ctl.sock"
# a Wait in flight (payload: id "long") and a subscription, both older than the idle one
w = conn(p); w.sendall(request("Wait", 1, pb(1, "long")))
sub = conn(p); sub.sendall(request("Subscribe", 1))
settle(p)
t0 = time.monotonic()
idle = conn(p)
assert closed(idle, 10), "idle connection not closed"
ms = (time.monotonic() - t0) * 1000
assert ms >= 250, "closed after %d ms, before client_idle_ms" % ms
# the idle list is oldest first: had they been closable, they would have gone before it
assert is_open(w), "connection with a Wait in flight closed"
assert is_open(sub), "subscriber closed"
print("idle closed after %d ms; wait and subscriber open" % ms)
PY
	"$SV" kill -s KILL long || fail "kill"
	"$SV" wait long >/dev/null
	# a run whose task outlives client_idle_ms: its control connection is closed meanwhile,
	# and run --rm's delete connects again
	"$SV" run --rm slow /bin/sh -c 'sleep 1; echo done' > "$T/out" 2>"$T/err" ||
		fail "run --rm across an idle close: $(cat "$T/err")"
	[ "$(cat "$T/out")" = done ] || fail "output: $(cat "$T/out")"
	[ ! -s "$T/err" ] || fail "run --rm said: $(cat "$T/err")"
	[ -z "$("$SV" ls -q | grep -x slow)" ] || fail "slow not removed"
}

# The engine's RSS in KiB (the engine is the monitor's child).
engine_rss() {
	local eng
	eng=$(pgrep -P "$DAEMON_PID" -x shimvisord-eng) || fail "no engine"
	awk '/^VmRSS:/ {print $2}' "/proc/$eng/status"
}

# Subscribers that read nothing during 300 tasks are cut with the count of events they
# lost; the engine's RSS stays bounded; `shimvisor events`, stopped meanwhile, says so.
test_slow_subscribers_cut() {
	write_tt
	printf '[daemon]\nclient_idle_ms = 0\n' > "$T/conf"
	daemon_start -c "$T/conf"
	mkfifo "$T/subs.ready" "$T/subs.go"
	"$PY" - "$T" > "$T/subs.out" <<'PY' &
import re, sys; sys.path.insert(0, sys.argv[1]); from tt import *
T = sys.argv[1]; p = T + "/ctl.sock"
subs = [conn(p) for _ in range(10)]
for s in subs:
    s.sendall(request("Subscribe", 1))
settle(p)
open(T + "/subs.ready", "w").write("ready\n")
open(T + "/subs.go").read()
for s in subs:
    fs, eof = frames(s, quiet_s=5)
    if not eof:
        print("no EOF after %d frames" % len(fs))
        break
    lost = [b for _, b in fs if b"events lost" in b]
    m = re.search(rb"events lost: (\d+) events", lost[0]) if lost else None
    print("events %d eof %d lost %s" % (len(fs) - len(lost), eof, m.group(1).decode() if m else "-"))
PY
	BG_PIDS+=($!)
	local py=$!
	timeout 20 cat "$T/subs.ready" >/dev/null || fail "subscribers not ready"
	"$SV" events > "$T/ev.out" 2> "$T/ev.err" &
	local evp=$!
	BG_PIDS+=($evp)
	subscribed $evp || fail "events did not subscribe"
	kill -STOP $evp
	local rss0 rss1
	rss0=$(engine_rss)
	seq 1 300 | xargs -P4 -I{} "$SV" run --rm "t{}" /bin/true || fail "runs"
	rss1=$(engine_rss)
	note "engine RSS $rss0 -> $rss1 KiB over 300 tasks with 11 never-reading subscribers"
	# each subscriber: events, then the final frame with the count, then EOF
	echo > "$T/subs.go"
	wait $py
	[ "$(wc -l < "$T/subs.out")" = 10 ] || fail "subscribers: $(cat "$T/subs.out")"
	grep -vqE '^events [0-9]+ eof 1 lost [1-9][0-9]*$' "$T/subs.out" &&
		fail "a subscriber not cut with its lost count: $(cat "$T/subs.out")"
	# (not in a sanitized build: ASan's quarantine keeps freed memory, up to 256 MiB)
	[ -n "${SV_SAN_LOG:-}" ] || [ $((rss1 - rss0)) -lt 1024 ] ||
		fail "engine RSS grew $rss0 -> $rss1 KiB"
	# the CLI prints the events it had, then the daemon's reason, and fails
	kill -CONT $evp
	wait $evp
	local st=$?
	[ $st = 1 ] || fail "events exit $st: $(cat "$T/ev.err")"
	grep -qE '^shimvisor: events: events lost: [0-9]+ events this subscriber did not read in time \(more than event_queue_max 16 unread\): subscription closed$' \
		"$T/ev.err" || fail "events said: $(cat "$T/ev.err")"
	grep -q 't1' "$T/ev.out" || fail "no event printed before the cut"
	grep -q 'subscriber of uid 0 closed: [0-9]* events lost' "$T/daemon.log" || fail "not logged"
	"$SV" version >/dev/null || fail "not serving"
}

# Over client_partial_max of half-sent frames, the largest holder goes first; a smaller one
# and a new client are served.
test_partial_hog_closed_first() {
	write_tt
	printf '[daemon]\nclient_partial_max = 1m\n' > "$T/conf"
	daemon_start -c "$T/conf"
	"$PY" - "$T" <<'PY' || fail "partial"
import sys; sys.path.insert(0, sys.argv[1]); from tt import *
p = sys.argv[1] + "/ctl.sock"
big = conn(p)
big.sendall(HDR.pack(4 << 20, 1, 1, 0) + b"\0" * (600 << 10))
small = conn(p)
small.sendall(HDR.pack(4 << 20, 1, 1, 0) + b"\0" * (100 << 10))
assert closed(big, 10), "largest holder not closed"
assert is_open(small), "the smaller holder closed"
v = conn(p); v.sendall(request("Version", 1))
buf = b""
while not parse(buf):
    d = v.recv(1 << 16)
    assert d, "closed: Version not answered"
    buf += d
assert parse(buf)[0][0] == 1, "Version not answered"
print("largest closed; smaller open; Version answered")
PY
	grep -q 'closed: it held 1048576 bytes of an unfinished request' "$T/daemon.log" ||
		fail "not logged: $(cat "$T/daemon.log")"
	"$SV" run --rm after /bin/true || fail "run after"
}

run_cases "$@"
