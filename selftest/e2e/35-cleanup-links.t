#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# selftest/e2e/35-cleanup-links.t: the root cleanup of a dead worker follows no link planted
# in its bundle (rootfs, address, log, exit, init.pid, cgroup, the bundle itself), and an
# id or namespace holding a NUL byte, or an empty namespace, is refused wherever it
# arrives. Each case plays the attacker and checks what it could not reach.
. "$(dirname "$0")/lib.sh"

# SIGKILL task $1's worker; return once the daemon's cleanup is done (its /tasks/delete is
# published after the monitor removed the bundle).
kill_worker_wait_cleanup() {
	local w=${2:-}
	[ -n "$w" ] || w=$(worker_pid "$1") || fail "no worker for $1"
	kill -9 "$w"
	events_wait 20 '"/tasks/delete"' "\"id\":\"$1\"" >/dev/null || fail "no delete event for $1"
	"$SV" ls -q | grep -qx "$1" && fail "$1 still listed after its delete event"
	return 0
}

task_pid() {
	"$SV" state --format json "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])'
}

# "<pid> <start time>" as init.pid records a process
pid_record() { echo "$1 $(awk '{print $22}' "/proc/$1/stat")"; }

# A tmpfs on $1 (made) holding one file `file` = precious; SKIP where no tmpfs can be mounted.
victim_mount() {
	mkdir -p "$1"
	mount -t tmpfs -o size=64k tmpfs "$1" || skip_case "cannot mount a tmpfs on $1"
	echo precious > "$1/file"
}

test_rootfs_link_not_unmounted() {
	daemon_start
	events_start
	victim_mount "$T/victim"
	"$SV" run -d rl /bin/sleep 1000 || fail "run"
	b="$T/state/default/rl"
	rmdir "$b/rootfs" || fail "rootfs is not an empty directory"
	ln -s "$T/victim" "$b/rootfs"
	kill_worker_wait_cleanup rl
	mountpoint -q "$T/victim" || fail "the cleanup unmounted $T/victim through a rootfs link"
	[ "$(cat "$T/victim/file")" = precious ] || fail "the victim mount changed"
	[ -e "$b" ] || [ -L "$b" ] && fail "bundle left"
	umount "$T/victim"
}

# address is read by nothing that unlinks: the cleanup removes only the socket it derives
test_address_not_unlinked() {
	daemon_start
	events_start
	echo keep > "$T/victim"
	python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$T/victim.sock" ||
		fail "victim socket"
	"$SV" run -d af /bin/sleep 1000 || fail "run af"
	"$SV" run -d as /bin/sleep 1000 || fail "run as"
	printf 'unix://%s' "$T/victim" > "$T/state/default/af/address"
	printf 'unix://%s\n' "$T/victim.sock" > "$T/state/default/as/address"
	kill_worker_wait_cleanup af
	kill_worker_wait_cleanup as
	[ "$(cat "$T/victim" 2>&1)" = keep ] || fail "the cleanup unlinked $T/victim, named by a rewritten address"
	[ -S "$T/victim.sock" ] || fail "the cleanup unlinked $T/victim.sock, named by a rewritten address"
	[ -z "$(ls -A "$T/state/.s")" ] || fail "shim socket left: $(ls -A "$T/state/.s")"
}

# A live worker's Shutdown (every delete) removes the socket it listens on, never the path
# its bundle's address names.
test_address_not_unlinked_on_delete() {
	daemon_start
	echo keep > "$T/victim"
	"$SV" run -d ad /bin/sleep 1000 || fail "run"
	printf 'unix://%s' "$T/victim" > "$T/state/default/ad/address"
	"$SV" delete -f ad || fail "delete"
	[ "$(cat "$T/victim" 2>&1)" = keep ] || fail "the delete unlinked $T/victim, named by a rewritten address"
	[ -z "$(ls -A "$T/state/.s")" ] || fail "shim socket left: $(ls -A "$T/state/.s")"
}

# log, exit, init.pid and cgroup as links to files outside: none is read, written or
# truncated, and the process an outside init.pid names is not killed
test_bundle_files_linked_outside() {
	daemon_start
	events_start
	mkdir "$T/out"
	sleep 1000 &
	victim=$!
	BG_PIDS+=("$victim")
	pid_record "$victim" > "$T/out/init.pid"
	echo "42 1700000000 0" > "$T/out/exit"
	echo "precious log" > "$T/out/log"
	echo "v1 pids /sys/fs/cgroup/pids" > "$T/out/cgroup"
	for f in init.pid exit log cgroup; do cp -p "$T/out/$f" "$T/out/$f.orig"; done
	"$SV" run -d lo /bin/sleep 1000 || fail "run"
	pid=$(task_pid lo)
	b="$T/state/default/lo"
	for f in init.pid exit log cgroup; do
		rm -f "$b/$f"
		ln -s "$T/out/$f" "$b/$f"
	done
	kill_worker_wait_cleanup lo
	line=$(grep '"/tasks/delete"' "$T/events" | grep '"lo"')
	python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["exit_status"]==137, d' "$line" ||
		fail "the exit was read through a link: $line"
	for f in init.pid exit log cgroup; do
		cmp -s "$T/out/$f" "$T/out/$f.orig" || fail "$f outside was changed"
		[ "$(stat -c %Y "$T/out/$f")" = "$(stat -c %Y "$T/out/$f.orig")" ] || fail "$f outside was written"
	done
	kill -0 "$victim" || fail "the process an init.pid link names was killed"
	# the task's own init was named by nothing the cleanup would read: it runs on
	kill -9 "$pid" 2>/dev/null
	return 0
}

# The worker records an exit through exit.tmp: one planted as a hard link to a file
# elsewhere is replaced, never truncated and written.
test_exit_tmp_hard_link() {
	daemon_start
	echo precious > "$T/victim"
	"$SV" run -d hl /bin/sleep 1000 || fail "run"
	ln "$T/victim" "$T/state/default/hl/exit.tmp" || fail "link"
	"$SV" kill hl || fail "kill"
	"$SV" wait hl; [ $? = 137 ] || fail "wait"
	[ "$(cat "$T/victim")" = precious ] || fail "the exit was written into $T/victim: $(cat "$T/victim")"
	read -r st _ < "$T/state/default/hl/exit" || fail "no exit file"
	[ "$st" = 137 ] || fail "exit file: $st"
	"$SV" delete hl || fail "delete"
}

# The bundle itself replaced by a link to a directory that looks like one (init.pid naming
# a victim process, a mount on rootfs): the cleanup does nothing there, and removes the link.
test_bundle_dir_is_a_link() {
	daemon_start
	events_start
	sleep 1000 &
	victim=$!
	BG_PIDS+=("$victim")
	"$SV" run -d bl /bin/sleep 1000 || fail "run"
	pid=$(task_pid bl)
	b="$T/state/default/bl"
	w=$(worker_pid bl)
	mkdir "$T/out"
	cp "$b/config.json" "$b/address" "$T/out/"
	pid_record "$victim" > "$T/out/init.pid"
	victim_mount "$T/out/rootfs"
	mv "$b" "$T/moved"
	ln -s "$T/out" "$b"
	kill_worker_wait_cleanup bl "$w"
	mountpoint -q "$T/out/rootfs" || fail "the cleanup unmounted $T/out/rootfs through the bundle link"
	for f in config.json address init.pid rootfs/file; do
		[ -e "$T/out/$f" ] || fail "$f was removed through the bundle link"
	done
	kill -0 "$victim" || fail "the process named in the link's init.pid was killed"
	[ -e "$b" ] || [ -L "$b" ] && fail "the link is left"
	kill -9 "$pid" 2>/dev/null
	umount "$T/out/rootfs"
}

# ttrpc client for the cases below: call SOCK SERVICE METHOD NS PAYLOAD_HEX, where NS is
# "-" for no namespace header and "=" for the header sent with an empty value; NS and
# PAYLOAD_HEX may hold any byte (given as Python escapes). Prints "CODE MESSAGE".
ttrpc_py() {
	python3 - "$@" <<'PY'
import socket, struct, sys

def varint(v):
    out = b""
    while v >= 0x80:
        out += bytes([v & 0x7F | 0x80]); v >>= 7
    return out + bytes([v])
def ld(tag, b): return varint(tag << 3 | 2) + varint(len(b)) + b
def vi(tag, v): return varint(tag << 3) + varint(v)
def fields(b):
    i, out = 0, {}
    while i < len(b):
        k = 0; s = 0
        while True:
            c = b[i]; i += 1; k |= (c & 0x7F) << s; s += 7
            if c < 0x80: break
        tag, wt = k >> 3, k & 7
        if wt == 0:
            v = 0; s = 0
            while True:
                c = b[i]; i += 1; v |= (c & 0x7F) << s; s += 7
                if c < 0x80: break
        elif wt == 2:
            n = 0; s = 0
            while True:
                c = b[i]; i += 1; n |= (c & 0x7F) << s; s += 7
                if c < 0x80: break
            v = b[i:i + n]; i += n
        else:
            raise SystemExit("wire type %d" % wt)
        out.setdefault(tag, []).append(v)
    return out

sock, calls = sys.argv[1], sys.argv[2:]
s = socket.socket(socket.AF_UNIX); s.connect(sock); s.settimeout(10)
stream = 1
for i in range(0, len(calls), 4):
    service, method, ns, payload = calls[i:i + 4]
    body = ld(1, service.encode()) + ld(2, method.encode()) + ld(3, eval("b'" + payload + "'"))
    if ns == "=":
        body += ld(5, ld(1, b"containerd-namespace-ttrpc"))
    elif ns != "-":
        body += ld(5, ld(1, b"containerd-namespace-ttrpc") + ld(2, eval("b'" + ns + "'")))
    s.sendall(struct.pack(">IIBB", len(body), stream, 1, 0) + body)
    hdr = b""
    while len(hdr) < 10:
        d = s.recv(10 - len(hdr)); assert d, "connection closed"; hdr += d
    n, sid, typ, _ = struct.unpack(">IIBB", hdr)
    resp = b""
    while len(resp) < n:
        d = s.recv(n - len(resp)); assert d, "connection closed"; resp += d
    assert sid == stream and typ == 2, (sid, typ)
    r = fields(resp)
    st = fields(r.get(1, [b""])[0])
    code = st.get(1, [0])[0]
    msg = st.get(2, [b""])[0].decode(errors="replace")
    ids = []
    if method == "List" and code == 0:
        ids = [fields(t)[2][0].decode() for t in fields(r.get(2, [b""])[0]).get(1, [])]
    print(code, msg, *ids)
    stream += 2
PY
}

CTL=shimvisor.v1.Control
TASK=containerd.task.v2.Task

# `a\0b` reached the daemon as `a`: a Kill or a forced Delete of it killed task a.
test_nul_ids_refused_on_control_socket() {
	daemon_start
	"$SV" run -d a /bin/sleep 1000 || fail "run"
	pid=$(task_pid a)
	ttrpc_py "$T/ctl.sock" \
		$CTL Kill default '\x0a\x03a\x00b\x18\x09' \
		$CTL Delete default '\x0a\x03a\x00b\x10\x01' \
		$CTL Create default '\x0a\x03a\x00b\x12\x09/bin/true' \
		$CTL State default '\x0a\x02a\x00' \
		$CTL Exec default '\x0a\x01a\x12\x03e\x00x\x1a\x09/bin/true' \
		$CTL List 'default\x00x' '' \
		$CTL List '=' '' \
		$CTL List - '' > "$T/out" || fail "client: $(cat "$T/out")"
	cat "$T/out" >&2
	for i in 1 2 3 4 5 6; do
		sed -n ${i}p "$T/out" | grep -q '^3 a string in the request holds a NUL byte' ||
			fail "call $i not refused as INVALID_ARGUMENT: $(sed -n ${i}p "$T/out")"
	done
	sed -n 7p "$T/out" | grep -q '^3 namespace cannot be empty' || fail "empty namespace: $(sed -n 7p "$T/out")"
	# no namespace header is "default"
	[ "$(sed -n 8p "$T/out")" = "0  a" ] || fail "no namespace header: $(sed -n 8p "$T/out")"
	kill -0 "$pid" || fail "task a was killed"
	[ "$("$SV" ls -q)" = a ] || fail "tasks: $("$SV" ls -q)"
	[ "$(ls "$T/state/default")" = a ] || fail "bundles: $(ls "$T/state/default")"
	"$SV" -n '' ls 2>/dev/null && fail "the CLI sent an empty namespace"
	[ "$("$SV" run --rm after /bin/echo ok)" = ok ] || fail "daemon stopped serving"
}

# The worker's own Task service (its shim socket), as a hostile client of it would call it.
test_nul_ids_refused_by_the_worker() {
	daemon_start
	"$SV" run -d a /bin/sleep 1000 || fail "run"
	pid=$(task_pid a)
	sock=$(sed 's|^unix://||' "$T/state/default/a/address")
	ttrpc_py "$sock" \
		$TASK Kill default '\x0a\x03a\x00b\x18\x09' \
		$TASK Delete default '\x0a\x03a\x00b' \
		$TASK Create default '\x0a\x03a\x00b\x12\x01/' \
		$TASK State 'default\x00x' '\x0a\x01a' \
		$TASK State '=' '\x0a\x01a' \
		$TASK State - '\x0a\x01a' > "$T/out" || fail "client: $(cat "$T/out")"
	cat "$T/out" >&2
	for i in 1 2 3; do
		sed -n ${i}p "$T/out" | grep -q '^3 a string in the request holds a NUL byte' ||
			fail "call $i not refused as INVALID_ARGUMENT: $(sed -n ${i}p "$T/out")"
	done
	sed -n 4p "$T/out" | grep -q '^3 ' || fail "namespace with a NUL: $(sed -n 4p "$T/out")"
	sed -n 5p "$T/out" | grep -q '^3 namespace cannot be empty' || fail "empty namespace: $(sed -n 5p "$T/out")"
	sed -n 6p "$T/out" | grep -q '^0 ' || fail "State: $(sed -n 6p "$T/out")"
	kill -0 "$pid" || fail "task a was killed"
	[ "$("$SV" state --format json a | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')" = running ] ||
		fail "task a: $("$SV" state a)"
}

run_cases "$@"
