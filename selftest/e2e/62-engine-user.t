#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# selftest/e2e/62-engine-user.t: the engine runs as the system user shimvisor, exec'd onto its
# fixed fds, and serves only the clients allow_uids / allow_gids name: checked from the side
# of the other local users.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3     # not a per-user shim: the other users run it too

need_user() {
	getent passwd shimvisor >/dev/null && getent group shimvisor >/dev/null ||
		fail "no system user shimvisor (mk/deps.sh creates it)"
	SV_UID=$(id -u shimvisor)
	SV_GID=$(getent group shimvisor | cut -d: -f3)
	command -v setpriv >/dev/null || skip_case "no setpriv"
}

engine_pid() {
	eng=$(pgrep -P "$DAEMON_PID" -x shimvisord-eng)
	[ -n "$eng" ] || fail "no engine"
}

# As another user ($1: setpriv options), connect; prints what came back before the close:
# "closed" (EOF or ECONNRESET before any byte) or "open" (the daemon answered a Version).
as_client() {
	setpriv "$@" "$PY" - "$T/ctl.sock" <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(20)
s.connect(sys.argv[1])
try:
    # a ttrpc request frame: Version of shimvisor.v1.Control, empty payload
    svc, meth = b"shimvisor.v1.Control", b"Version"
    body = bytes([0x0a, len(svc)]) + svc + bytes([0x12, len(meth)]) + meth
    s.sendall(struct.pack(">IIBB", len(body), 1, 1, 0) + body)
    d = s.recv(65536)
except (ConnectionResetError, BrokenPipeError):
    d = b""
print("open" if d else "closed")
PY
}

test_engine_identity_and_fds() {
	need_user
	daemon_start
	engine_pid
	st="/proc/$eng/status"
	[ "$(awk '/^Uid:/ {print $2, $3, $4, $5}' "$st")" = "$SV_UID $SV_UID $SV_UID $SV_UID" ] ||
		fail "uids: $(grep Uid "$st") want $SV_UID"
	[ "$(awk '/^Gid:/ {print $2, $3, $4, $5}' "$st")" = "$SV_GID $SV_GID $SV_GID $SV_GID" ] ||
		fail "gids: $(grep Gid "$st") want $SV_GID"
	[ -z "$(awk '/^Groups:/ {print $2}' "$st")" ] || fail "groups: $(grep Groups "$st")"
	for c in CapInh CapPrm CapEff CapBnd CapAmb; do
		[ "$(awk -v c="$c:" '$1 == c {print $2}' "$st")" = 0000000000000000 ] || fail "$(grep "$c" "$st")"
	done
	[ "$(awk '/^NoNewPrivs:/ {print $2}' "$st")" = 1 ] || fail "$(grep NoNewPrivs "$st")"
	[ "$(awk '/^Seccomp:/ {print $2}' "$st")" = 2 ] || fail "$(grep Seccomp "$st")"
	# exec'd, not only forked: its own image of shimvisord, in engine mode
	[ "$(readlink "/proc/$eng/exe")" = "$SVD" ] || fail "exe: $(readlink "/proc/$eng/exe")"
	[ "$(tr '\0' ' ' < "/proc/$eng/cmdline")" = "shimvisord-eng --engine " ] ||
		fail "cmdline: $(tr '\0' ' ' < "/proc/$eng/cmdline")"
	# non-dumpable: its /proc files are root's, not its own uid's
	[ "$(stat -c %u "/proc/$eng/environ")" = 0 ] || fail "dumpable: $(stat -c %U "/proc/$eng/environ")"
	# its fds: stdio, the fixed 3 (monitor channel) and 4 (control listener), and what it
	# opens itself (signalfd, epoll, the spare slot: a dup of the epoll fd); the readiness fd is closed once
	# ready; nothing of the monitor's (state dir, lock, sockets dir)
	"$SV" version >/dev/null || fail "version"
	local inode3 inode4 others
	inode3=$(readlink "/proc/$eng/fd/3" | sed -n 's/^socket:\[\([0-9]*\)\]$/\1/p')
	inode4=$(readlink "/proc/$eng/fd/4" | sed -n 's/^socket:\[\([0-9]*\)\]$/\1/p')
	[ -n "$inode3" ] && [ -n "$inode4" ] || fail "fds 3, 4: $(ls -l "/proc/$eng/fd")"
	# /proc/net/unix: Num RefCount Protocol Flags Type St Inode Path
	awk -v i="$inode3" '$7 == i && $5 == "0005" {f=1} END {exit !f}' /proc/net/unix ||
		fail "fd 3 is not the SEQPACKET monitor channel"
	awk -v i="$inode4" -v p="$T/ctl.sock" '$7 == i && $4 == "00010000" && $8 == p {f=1} END {exit !f}' \
		/proc/net/unix || fail "fd 4 is not the listener of $T/ctl.sock"
	others=$(for f in /proc/"$eng"/fd/*; do
		n=${f##*/}; [ "$n" -le 4 ] && continue; readlink "$f"; done | sort | tr '\n' ' ')
	[ "$others" = "anon_inode:[eventpoll] anon_inode:[eventpoll] anon_inode:[signalfd] " ] ||
		fail "other fds: $others ($(ls -l "/proc/$eng/fd"))"
	[ "$(ls "/proc/$eng/fd" | wc -l)" = 8 ] || fail "fds: $(ls -l "/proc/$eng/fd")"
}

test_socket_mode_and_peers() {
	need_user
	daemon_start
	chmod 711 "$T"
	[ "$(stat -c '%a %U %G' "$T/ctl.sock")" = "660 root shimvisor" ] ||
		fail "socket: $(stat -c '%a %U %G' "$T/ctl.sock")"
	# the file mode alone keeps out a user not in the group
	setpriv --reuid=65534 --regid=65534 --clear-groups "$SV" version >/dev/null 2>"$T/err" &&
		fail "uid 65534 served through a 0660 socket"
	grep -q 'Permission denied' "$T/err" || fail "uid 65534: $(cat "$T/err")"
	# with the mode opened, the engine's own check on the peer's credentials stands alone
	chmod 0666 "$T/ctl.sock"
	[ "$(as_client --reuid=65534 --regid=65534 --clear-groups)" = closed ] ||
		fail "uid 65534 served"
	[ "$(as_client --reuid=12345 --regid=12345 --groups=4242,4343)" = closed ] ||
		fail "uid 12345 with groups 4242,4343 served"
	setpriv --reuid=65534 --regid=65534 --clear-groups "$SV" version >"$T/out" 2>"$T/err" &&
		fail "CLI as uid 65534 served"
	grep -qE 'connection closed|Broken pipe|Connection reset' "$T/err" || fail "uid 65534 CLI: $(cat "$T/err")"
	grep -q 'Server' "$T/out" && fail "uid 65534 got a reply: $(cat "$T/out")"
	# served: a supplementary member of the group, a primary member, root
	[ "$(as_client --reuid=12345 --regid=12345 --groups="$SV_GID")" = open ] ||
		fail "member of shimvisor (supplementary) refused"
	[ "$(as_client --reuid=12345 --regid="$SV_GID" --clear-groups)" = open ] ||
		fail "member of shimvisor (primary) refused"
	setpriv --reuid=12345 --regid=12345 --groups="$SV_GID" "$SV" version | grep -q '^Server' ||
		fail "CLI as a member of shimvisor"
	[ "$(as_client)" = open ] || fail "root refused"
	"$SV" run --rm t /bin/true || fail "root run after the refusals"
	grep -q 'engine: client of uid 65534 gid 65534 pid [0-9]* refused' "$T/daemon.log" ||
		fail "refusal not logged: $(cat "$T/daemon.log")"
	# a flood of refused clients writes a bounded number of lines: at most 5 in 10 s (here
	# the flood may straddle two windows)
	setpriv --reuid=65534 --regid=65534 --clear-groups "$PY" - "$T/ctl.sock" <<'PY' || fail "flood"
import socket, sys
for i in range(200):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    s.settimeout(20)
    try:
        assert s.recv(1) == b""
    except ConnectionResetError:
        pass
    s.close()
PY
	n=$(grep -c 'refused: not in allow' "$T/daemon.log")
	[ "$n" -le 10 ] || fail "$n log lines for 203 refused clients"
	"$SV" version >/dev/null || fail "not serving after the flood"
}

test_allow_lists_from_config() {
	need_user
	getent passwd daemon >/dev/null || skip_case "no user daemon"
	# names and numbers; an empty allow_gids lets no group in, not even shimvisor
	printf '[daemon]\nallow_uids = root, daemon 12345\nallow_gids =\n' > "$T/conf"
	daemon_start -c "$T/conf"
	chmod 711 "$T"
	chmod 0666 "$T/ctl.sock"
	[ "$(as_client --reuid=12345 --regid=12345 --clear-groups)" = open ] || fail "uid 12345 refused"
	[ "$(as_client --reuid=daemon --regid=12345 --clear-groups)" = open ] || fail "user daemon refused"
	[ "$(as_client --reuid=23456 --regid="$SV_GID" --groups="$SV_GID")" = closed ] ||
		fail "group shimvisor served with allow_gids empty"
	[ "$(as_client)" = open ] || fail "root refused"
	printf '[daemon]\nallow_uids = no-such-user-x\n' > "$T/conf2"
	timeout 10 "$SVD" -F -c "$T/conf2" --state "$T/state2" --address "$T/ctl2.sock" \
		2>"$T/err"
	[ $? = 1 ] || fail "started with an unknown user in allow_uids"
	grep -q 'allow_uids: no-such-user-x: no such user' "$T/err" || fail "$(cat "$T/err")"
}

test_other_users_cannot_signal_or_trace() {
	need_user
	daemon_start
	engine_pid
	# nobody's processes: the engine is not theirs to stop
	setpriv --reuid=65534 --regid=65534 --clear-groups kill -STOP "$eng" 2>"$T/err" &&
		fail "uid 65534 stopped the engine"
	grep -q 'Operation not permitted' "$T/err" || fail "kill: $(cat "$T/err")"
	setpriv --reuid=65534 --regid=65534 --clear-groups kill -KILL "$eng" 2>/dev/null &&
		fail "uid 65534 killed the engine"
	[ "$(awk '{print $3}' "/proc/$eng/stat")" != T ] || fail "engine stopped"
	# a process of the engine's own uid: non-dumpable, so no ptrace-class access either
	setpriv --reuid=shimvisor --regid=shimvisor --clear-groups cat "/proc/$eng/environ" \
		>/dev/null 2>"$T/err" && fail "the engine's uid read its environ"
	grep -q 'Permission denied' "$T/err" || fail "environ: $(cat "$T/err")"
	"$SV" version >/dev/null || fail "not serving"
}

test_nobody_needs_opt_in() {
	need_user
	getent passwd nobody >/dev/null || skip_case "no user nobody"
	printf '[daemon]\nengine_user = nobody\n' > "$T/conf"
	# it must fail at once (a daemon that starts is stopped by the timeout, and fails)
	timeout 10 "$SVD" -F -c "$T/conf" --state "$T/state" --address "$T/ctl.sock" \
		2>"$T/err"
	[ $? = 1 ] || fail "engine_user nobody: not refused"
	grep -q 'engine_user nobody: a uid other processes share.*engine_user_shared = 1' "$T/err" ||
		fail "message: $(cat "$T/err")"
	[ -e "$T/ctl.sock" ] && fail "a socket was made"
	printf '[daemon]\nengine_user = nobody\nengine_user_shared = 1\n' > "$T/conf"
	daemon_start -c "$T/conf"
	engine_pid
	[ "$(awk '/^Uid:/ {print $2}' "/proc/$eng/status")" = "$(id -u nobody)" ] ||
		fail "$(grep Uid "/proc/$eng/status")"
	"$SV" version >/dev/null || fail "not serving"
}

run_cases "$@"
