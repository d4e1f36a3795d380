#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# selftest/e2e/86-runc-parity2.t: more behaviours where shimvisor follows containerd's runc-v2
# shim, each case run once per runtime (io.containerd.shimvisor.v2, then Debian's runc as
# io.containerd.runc.v2) with the same assertions, in one private containerd (ctd.sh): a
# non-root task's stdio pipes are its user's (it can reopen /dev/stdout); each task has a
# session keyring of its own, `_ses.<id>`, which its execs join (none with the runc option
# NoNewKeyring); an executable found through a relative PATH entry is refused at Create
# (Go's ErrDot); a Create whose request and process.terminal disagree is refused.
# SV_CTD_RUNTIME picks one runtime.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ctd.sh"

# spec_write ID UID TERMINAL CWD PATH CMD...: $CD/spec-ID.json, ctr's default spec (`ctr oci
# spec`) for this case's busybox rootfs with that process (uid and gid UID, terminal 0|1,
# cwd, PATH: a PATH entry in env, or several split on '|') and /proc/keys left unmasked
# (ctr's own run has no --user: this spec does); with HOST_PIDNS set, no pid namespace.
spec_write() {
	local id=$1
	ctr oci spec | "$PY" -c '
import json, os, sys
d = json.load(sys.stdin)
out, rfs, ns, cid, uid, tty, cwd, path = sys.argv[1:9]
p = d["process"]
p.update(args=sys.argv[9:], user={"uid": int(uid), "gid": int(uid)}, terminal=tty == "1",
         cwd=cwd, env=["PATH=" + p for p in path.split("|")])
d["root"] = {"path": rfs}
d["linux"]["cgroupsPath"] = "/%s/%s" % (ns, cid)
d["linux"]["maskedPaths"].remove("/proc/keys")
if os.environ.get("HOST_PIDNS"):
    d["linux"]["namespaces"] = [n for n in d["linux"]["namespaces"] if n["type"] != "pid"]
json.dump(d, open(out, "w"))
' "$CD/spec-$id.json" "$RFS" "$CTD_NS" "$@" || rt_fail "spec of $id"
}

# spec_run [ctr run options] ID UID TERMINAL CWD PATH CMD...: `ctr run` of spec_write's spec.
spec_run() {
	local o=()
	while [ "${1#-}" != "$1" ]; do o+=("$1"); shift; done
	spec_write "$@"
	ctr run "${RT[@]}" --fifo-dir "$CD/fifo" "${o[@]}" --config "$CD/spec-$1.json" "$1"
}

# spec_run_tty ID: `ctr run --rm -t` of spec_write's spec ID on a terminal (script(1));
# prints what the terminal showed (its echo of the EOF of our stdin: ^@), without CRs.
spec_run_tty() {
	timeout 20 script -qec "$(CTR) run ${RT[*]} --fifo-dir $CD/fifo --rm -t --config $CD/spec-$1.json $1" \
		/dev/null </dev/null 2>&1 | tr -d '\r'
}

# Nothing of task $1 is left: no task, container, shim or cgroup.
nothing_left() {
	[ -z "$(task_status "$1")" ] || rt_fail "$1: task left: $(ctr task ls)"
	ctr containers ls -q | grep -qxF "$1" && rt_fail "$1: container left"
	pid_wait 5 $(ctd_shim_pids "$1") || rt_fail "$1: shim left: $(ctd_shim_pids "$1")"
	cg=$(ls -d /sys/fs/cgroup/*/"$CTD_NS/$1" /sys/fs/cgroup/"$CTD_NS/$1" 2>/dev/null)
	[ -z "$cg" ] || rt_fail "$1: cgroups left: $cg"
	return 0
}

# Task and container $1 removed.
task_gone() {
	ctr task rm -f "$1" >/dev/null 2>&1 || rt_fail "task rm -f $1"
	ctr containers rm "$1" || rt_fail "containers rm $1"
}

# refused_at_create WANT CMD...: CMD (a ctr run --rm) fails at Create ("failed to create shim
# task") with WANT in its error; its output in $CD/err.
refused_at_create() {
	local want=$1 rc
	shift
	"$@" > "$CD/out" 2> "$CD/err"
	rc=$?
	[ $rc = 124 ] || [ $rc = 137 ] && rt_fail "ctr hung (killed after ${CTR_TIMEOUT}s)"
	[ $rc != 0 ] || rt_fail "succeeded: $(cat "$CD/out")"
	grep -qF "failed to create shim task" "$CD/err" || rt_fail "not refused at create: $(cat "$CD/err" "$CD/out")"
	grep -qF -- "$want" "$CD/err" || rt_fail "the error does not say '$want': $(cat "$CD/err")"
	note "$CTD_RT: $(cat "$CD/err")"
}

# --- 1. stdio re-owned to the process's user -----------------------------------------------

stdio_owner() {
	local t=$1 out
	# a uid-1000 task reopens its stdout and stderr (pipes: ctr gives FIFOs, the shims pipes)
	out=$(spec_run --rm "so-$t" 1000 0 / /bin sh -c \
		'echo x >/dev/stdout && echo y >/proc/self/fd/1 && echo z >/dev/stderr; ls -lnL /proc/self/fd/1' \
		2>"$CD/err") || rt_fail "uid 1000 reopening its stdio: rc $?: $out $(cat "$CD/err")"
	note "$CTD_RT: $(tr '\n' '|' <<<"$out") stderr: $(cat "$CD/err")"
	[ "$(sed -n 1,2p <<<"$out" | tr '\n' ' ')" = "x y " ] || rt_fail "uid 1000's output: '$out'"
	[ "$(cat "$CD/err")" = z ] || rt_fail "uid 1000's stderr: '$(cat "$CD/err")'"
	# the owner is the user, the group stays the pipe's (root's)
	[ "$(sed -n 3p <<<"$out" | awk '{ print $1, $3, $4 }')" = "prw------- 1000 0" ] ||
		rt_fail "stdout pipe's owner: '$(sed -n 3p <<<"$out")'"
	# an exec as uid 1000, likewise
	spec_run -d "sx-$t" 0 0 / /bin sleep 1000 >/dev/null || rt_fail "run -d sx-$t"
	out=$(ctr task exec --user 1000 --exec-id e1 "sx-$t" sh -c 'echo x >/dev/stdout; ls -lnL /proc/self/fd/1') ||
		rt_fail "exec as uid 1000 reopening its stdout: rc $?: $out"
	[ "$(sed -n 1p <<<"$out")" = x ] || rt_fail "exec's output: '$out'"
	[ "$(sed -n 2p <<<"$out" | awk '{ print $1, $3, $4 }')" = "prw------- 1000 0" ] ||
		rt_fail "exec's stdout pipe's owner: '$(sed -n 2p <<<"$out")'"
	task_gone "sx-$t"
	# a terminal: the pty slave is the user's (its group devpts' gid=5)
	spec_write "st-$t" 1000 1 / /bin sh -c 'echo x >/dev/stdout; ls -lnL /proc/self/fd/1'
	out=$(spec_run_tty "st-$t")
	note "$CTD_RT: -t: $(tr '\n' '|' <<<"$out")"
	grep -qE '^(\^@)?x$' <<<"$out" || rt_fail "uid 1000 on a terminal reopening /dev/stdout: '$out'"
	grep -q '^crw--w---- *1 1000 *5 ' <<<"$out" || rt_fail "pty slave's owner: '$out'"
	# a file:// log: runc-v2 gives the task a pipe and copies it to the file; shimvisor gives
	# the task the file itself, and leaves it the host's (root's): on purpose, the task
	# cannot reopen it, where under runc it can
	out=$(spec_run --rm "--log-uri=file://$CD/log-$t" "sl-$t" 1000 0 / /bin sh -c \
		'echo a; echo b >/dev/stdout; echo rc=$?' 2>&1) || rt_fail "file:// log: rc $?: $out"
	note "$CTD_RT: file://: $(tr '\n' '|' < "$CD/log-$t")"
	note "$CTD_RT: file:// log's owner and mode: $(stat -c '%u %a' "$CD/log-$t")"
	[ "$(stat -c '%u' "$CD/log-$t")" = 0 ] || rt_fail "log file's owner: $(stat -c '%u' "$CD/log-$t")"
	if [ "$t" = sv ]; then
		[ "$(sed -n '1p;$p' "$CD/log-$t" | tr '\n' ' ')" = "a rc=1 " ] || rt_fail "file:// log: $(cat "$CD/log-$t")"
	else
		[ "$(tr '\n' ' ' < "$CD/log-$t")" = "a b rc=0 " ] || rt_fail "file:// log: $(cat "$CD/log-$t")"
	fi
	nothing_left "so-$t"
	nothing_left "st-$t"
	nothing_left "sl-$t"
}

test_stdio_owned_by_process_user() {
	ctd_setup
	each_rt stdio_owner
}

# --- 2. a session keyring per task ---------------------------------------------------------

# keys_of OUT: the keyrings in /proc/keys output OUT as "perm uid gid description" lines.
keys_of() { awk '$8 == "keyring" { print $5, $6, $7, $9 }' <<<"$1"; }

# task_create_run ID OPTS: containerd's Tasks.Create of container ID with runc options
# (the fields given as "NUM=VALUE", bools and uints), stdout and stderr on a FIFO, then Start; prints
# the task's output to its end, or "CODE MESSAGE" of a failed call.
task_create_run() {
	local extra=()
	[ "$CTD_RT" = io.containerd.runc.v2 ] && extra=("7=$CD/runc")
	mkfifo "$CD/fifo/$1.out"
	"$PY" - "$HERE" "$CD/c.sock" "$CTD_NS" "$1" "$CD/fifo/$1.out" "$2" "${extra[@]}" <<'PY'
import os, select, sys, time
sys.path.insert(0, sys.argv[1])
import grpc
from shim_client import string, field
sock, ns, cid, out = sys.argv[2:6]
opts = b""
for kv in sorted(sys.argv[6:], key=lambda s: int(s.split("=", 1)[0])):
    num, val = kv.split("=", 1)
    opts += string(int(num), val) if int(num) == 7 else field(int(num), 0, int(val))
any_ = string(1, "containerd.runc.v1.Options") + string(2, opts)
md = [("containerd-namespace", ns)]
ch = grpc.insecure_channel("unix://" + sock)
fd = os.open(out, os.O_RDONLY | os.O_NONBLOCK)
try:
    ch.unary_unary("/containerd.services.tasks.v1.Tasks/Create")(
        string(1, cid) + string(5, out) + string(6, out) + field(9, 2, any_), metadata=md, timeout=20)
    ch.unary_unary("/containerd.services.tasks.v1.Tasks/Start")(string(1, cid), metadata=md, timeout=20)
except grpc.RpcError as e:
    sys.exit("%s %s" % (e.code().value[0], e.details()))
buf, end = b"", time.monotonic() + 10
while time.monotonic() < end:
    r, _, _ = select.select([fd], [], [], max(0.0, end - time.monotonic()))
    chunk = os.read(fd, 4096) if r else b""
    if r and not chunk:
        break
    buf += chunk
print(buf.decode(errors="replace"), end="")
PY
}

keyring() {
	local t=$1 out a b
	# each task's session keyring is its own, named for it, searchable by its owner (root):
	# a uid-1000 task sees only the keyring it holds
	a=$(spec_run --rm "ka-$t" 1000 0 / /bin cat /proc/keys) || rt_fail "ka-$t: rc $?: $a"
	b=$(spec_run --rm "kb-$t" 1000 0 / /bin cat /proc/keys) || rt_fail "kb-$t: rc $?: $b"
	note "$CTD_RT: ka: $(keys_of "$a" | tr '\n' '|') kb: $(keys_of "$b" | tr '\n' '|')"
	[ "$(keys_of "$a")" = "3f1b0000 0 0 _ses.ka-$t:" ] || rt_fail "ka-$t's keyrings: '$a'"
	[ "$(keys_of "$b")" = "3f1b0000 0 0 _ses.kb-$t:" ] || rt_fail "kb-$t's keyrings: '$b'"
	# in the host's pid namespace (the worker starts its init again, out of the one it made)
	a=$(HOST_PIDNS=1 spec_run --rm "kp-$t" 1000 0 / /bin cat /proc/keys) || rt_fail "kp-$t: rc $?: $a"
	[ "$(keys_of "$a")" = "3f1b0000 0 0 _ses.kp-$t:" ] || rt_fail "kp-$t's keyrings: '$a'"
	# an exec joins its task's
	spec_run -d "kx-$t" 0 0 / /bin sleep 1000 >/dev/null || rt_fail "run -d kx-$t"
	out=$(ctr task exec --user 1000 --exec-id e1 "kx-$t" cat /proc/keys) || rt_fail "exec: rc $?: $out"
	[ "$(keys_of "$out")" = "3f1b0000 0 0 _ses.kx-$t:" ] || rt_fail "kx-$t exec's keyrings: '$out'"
	task_gone "kx-$t"
	# runc option NoNewKeyring (2): no keyring of its own; its shim's (containerd's) is not
	# one a uid-1000 task can see
	"$PY" -c 'import grpc' 2>/dev/null || { note "no python3-grpcio: NoNewKeyring not tried"; return 0; }
	spec_write "kn-$t" 1000 0 / /bin sh -c 'cat /proc/keys; echo END'
	ctr containers create --runtime "$CTD_RT" --config "$CD/spec-kn-$t.json" "kn-$t" ||
		rt_fail "containers create kn-$t"
	out=$(task_create_run "kn-$t" 2=1 2>&1) || rt_fail "NoNewKeyring: $out"
	note "$CTD_RT: NoNewKeyring: $(keys_of "$out" | tr '\n' '|')"
	[ "$(tail -n1 <<<"$out")" = END ] || rt_fail "kn-$t (NoNewKeyring) did not run: '$out'"
	[ -z "$(keys_of "$out")" ] || rt_fail "kn-$t (NoNewKeyring) has a keyring: '$out'"
	task_gone "kn-$t"
	nothing_left "ka-$t"
	nothing_left "kn-$t"
}

test_session_keyring_per_task() {
	ctd_setup
	each_rt keyring
}

# Under shimvisord the task's init is a warm one (its keyring and terminal come with its
# CONFIG): the same keyring, read through keyctl (python3 of the host's root, the task's
# default view; its default seccomp profile refuses keyctl, as runc's does), the same stdio.
test_daemon_task_keyring_and_stdio() {
	[ -x /usr/bin/python3 ] || skip_case "no /usr/bin/python3 on the host to read the keyring with"
	daemon_start
	local out py='import ctypes; b = ctypes.create_string_buffer(512)
n = ctypes.CDLL(None).syscall(250, 6, ctypes.c_long(-3), b, 512)
print(b.value.decode() if n > 0 else "none")'
	[ "$(uname -m)" = x86_64 ] || skip_case "the keyctl syscall number below is x86_64's"
	out=$("$SV" run --rm --security-opt seccomp=unconfined k1 /usr/bin/python3 -c "$py" 2>&1) ||
		fail "run k1: $out"
	[ "$out" = "keyring;0;0;3f1b0000;_ses.k1" ] || fail "k1's session keyring: '$out'"
	out=$("$SV" run --rm -u 1000 u1 /bin/sh -c 'echo x >/dev/stdout' 2>&1) ||
		fail "run -u 1000: $out"
	[ "$out" = x ] || fail "uid 1000 reopening /dev/stdout: '$out'"
}

# --- 3. Go's ErrDot ------------------------------------------------------------------------

errdot() {
	local t=$1 out want='exec: "echo": cannot run executable found relative to current directory'
	refused_at_create "$want" spec_run --rm "d1-$t" 0 0 /bin .:/bin echo hi
	nothing_left "d1-$t"
	refused_at_create "$want" spec_run --rm "d2-$t" 0 0 /bin :/bin echo hi   # "" is "."
	refused_at_create "$want" spec_run --rm "d3-$t" 0 0 / /no:bin:/bin echo hi
	# two PATHs in env: runc looks up with the last one
	refused_at_create "$want" spec_run --rm "d6-$t" 0 0 /bin '/bin|.:/bin' echo hi
	# an absolute entry first, or a name with a slash: run
	out=$(spec_run --rm "d4-$t" 0 0 /bin /bin:. echo hi 2>&1) || rt_fail "PATH=/bin:.: rc $?: $out"
	[ "$out" = hi ] || rt_fail "PATH=/bin:. said '$out'"
	out=$(spec_run --rm "d5-$t" 0 0 /bin .:/bin ./echo hi 2>&1) || rt_fail "./echo: rc $?: $out"
	[ "$out" = hi ] || rt_fail "./echo said '$out'"
	# an exec, looked up with its task's PATH where it stands: refused, the task unharmed
	spec_run -d "dx-$t" 0 0 / .:/bin /bin/sleep 1000 >/dev/null || rt_fail "run -d dx-$t"
	out=$(ctr task exec --cwd /bin --exec-id e1 "dx-$t" echo hi 2>&1) && rt_fail "exec through '.' ran: $out"
	note "$CTD_RT: exec: $out"
	grep -qF "$want" <<<"$out" || rt_fail "exec's error: '$out'"
	out=$(ctr task exec --cwd /bin --exec-id e2 "dx-$t" /bin/echo hi 2>&1) || rt_fail "exec /bin/echo: $out"
	[ "$out" = hi ] || rt_fail "exec /bin/echo said '$out'"
	task_gone "dx-$t"
}

test_relative_path_entry_refused() {
	ctd_setup
	each_rt errdot
}

# --- 4. CreateTaskRequest.terminal vs process.terminal ------------------------------------

tty_mismatch() {
	local t=$1 out
	# the request asks for a terminal (-t), the spec has none; and the other way round. The
	# words differ: runc's name its console socket ("cannot use console socket if runc
	# will not detach or allocate tty", "cannot allocate tty if runc will detach without
	# setting console socket"), ours both terminals
	spec_write "m1-$t" 0 0 / /bin tty
	out=$(spec_run_tty "m1-$t")
	note "$CTD_RT: request 1, spec 0: $out"
	grep -qF "failed to create shim task" <<<"$out" || rt_fail "request 1, spec 0: not refused at create: '$out'"
	[ "$t" = sv ] && { grep -qF "terminal: the request's is true and process.terminal false" <<<"$out" ||
		rt_fail "request 1, spec 0: '$out'"; }
	nothing_left "m1-$t"
	refused_at_create "" spec_run --rm "m2-$t" 0 1 / /bin tty
	[ "$t" = sv ] && { grep -qF "terminal: the request's is false and process.terminal true" "$CD/err" ||
		rt_fail "request 0, spec 1: '$(cat "$CD/err")'"; }
	nothing_left "m2-$t"
}

test_terminal_request_and_spec_disagree() {
	ctd_setup
	each_rt tty_mismatch
}

run_cases "$@"
