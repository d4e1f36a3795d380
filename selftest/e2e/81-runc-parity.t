#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# selftest/e2e/81-runc-parity.t: behaviours where shimvisor follows containerd's runc-v2
# shim, each case run once per runtime (io.containerd.shimvisor.v2, then Debian's runc as
# io.containerd.runc.v2) with the same assertions, in one private containerd (ctd.sh):
# Create fails when the executable is not in the rootfs; Exec's terminal comes from the
# request; ResizePty without a terminal succeeds. SV_CTD_RUNTIME picks one runtime.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ctd.sh"

# The shim socket of task $1 (its bundle's address file).
shim_sock() { sed -n 's#^unix://##p' "$(ctd_bundle "$1")/address"; }

# shim_call SOCK CALL...: containerd.task.v2.Task calls on a shim socket of our own, one
# line "CODE MESSAGE" each (shim_client.py's Shim). A CALL is
#   exec:ID:EXEC:TERMINAL:STDOUT:JSON   Exec (TERMINAL 0|1, spec's JSON), Start, then
#                                       STDOUT (a FIFO) read to its end: "0 <output>"
#   resize:ID:EXEC                      ResizePty to 99x33
#   delete:ID:EXEC                      Delete
shim_call() {
	"$PY" - "$HERE" "$@" <<'PY'
import os, select, sys, time
sys.path.insert(0, sys.argv[1])
from shim_client import Shim, string, field
shim = Shim(sys.argv[2])
for c in sys.argv[3:]:
    kind, rest = c.split(":", 1)
    if kind == "exec":
        tid, eid, tty, out, js = rest.split(":", 4)
        spec = string(1, "types.containerd.io/opencontainers/runtime-spec/1/Process") + string(2, js)
        fd = os.open(out, os.O_RDONLY | os.O_NONBLOCK)
        code, msg, _ = shim.call("Exec", string(1, tid) + string(2, eid) + field(3, 0, int(tty)) +
                                 string(5, out) + string(6, out) + field(7, 2, spec))
        if code:
            print(code, msg)
            continue
        code, msg, _ = shim.call("Start", string(1, tid) + string(2, eid))
        if code:
            print(code, msg)
            continue
        buf, end = b"", time.monotonic() + 10
        while time.monotonic() < end:
            r, _, _ = select.select([fd], [], [], max(0.0, end - time.monotonic()))
            buf += os.read(fd, 4096) if r else b""
            if b"END" in buf:
                break
        os.close(fd)
        shim.call("Wait", string(1, tid) + string(2, eid))
        print(0, " ".join(buf.decode(errors="replace").replace("\r", "").split()))
    elif kind == "resize":
        tid, eid = rest.split(":")
        code, msg, _ = shim.call("ResizePty", string(1, tid) + string(2, eid) + field(3, 0, 99) + field(4, 0, 33))
        print(code, msg)
    elif kind == "delete":
        tid, eid = rest.split(":")
        code, msg, _ = shim.call("Delete", string(1, tid) + string(2, eid))
        print(code, msg)
PY
}

# Nothing of task $1 is left: no task, container, bundle, shim, mount or cgroup.
nothing_left() {
	[ -z "$(task_status "$1")" ] || rt_fail "$1: task left: $(ctr task ls)"
	ctr containers ls -q | grep -qxF "$1" && rt_fail "$1: container left"
	[ -e "$(ctd_bundle "$1")" ] && rt_fail "$1: bundle left: $(ls -la "$(ctd_bundle "$1")")"
	pid_wait 5 $(ctd_shim_pids "$1") || rt_fail "$1: shim left: $(ctd_shim_pids "$1")"
	grep -F "/$1/" /proc/self/mountinfo | grep -qF " $CD/" && rt_fail "$1: mounts left: $(grep -F "/$1/" /proc/self/mountinfo)"
	cg=$(ls -d /sys/fs/cgroup/*/"$CTD_NS/$1" /sys/fs/cgroup/"$CTD_NS/$1" 2>/dev/null)
	[ -z "$cg" ] || rt_fail "$1: cgroups left: $cg"
	return 0
}

# run_refused ID WANT [--image] CMD...: `ctr run --rm ID CMD` of the busybox rootfs (of the
# image, its layers mounted by the shim, with --image) fails at Create (containerd's
# "failed to create shim task") with WANT in its error, promptly, and leaves nothing behind.
run_refused() {
	local id=$1 want=$2 rc
	shift 2
	if [ "$1" = --image ]; then
		shift
		ctr run "${RT[@]}" --fifo-dir "$CD/fifo" --rm "$CTD_IMAGE" "$id" "$@"
	else
		rfs_run --rm "$id" "$@"
	fi > "$CD/out" 2> "$CD/err"
	rc=$?
	[ $rc = 124 ] || [ $rc = 137 ] && rt_fail "$id: ctr run hung (killed after ${CTR_TIMEOUT}s)"
	[ $rc != 0 ] || rt_fail "$id: ctr run of '$*' succeeded: $(cat "$CD/out")"
	grep -qF "failed to create shim task" "$CD/err" || rt_fail "$id: not refused at create: $(cat "$CD/err")"
	grep -qF -- "$want" "$CD/err" || rt_fail "$id: error does not say '$want': $(cat "$CD/err")"
	note "$CTD_RT: $(cat "$CD/err")"
	nothing_left "$id"
}

missing_exec() {
	local t=$1
	run_refused "nf-$t" 'exec: "no-such-cmd": executable file not found in $PATH' no-such-cmd
	run_refused "na-$t" 'exec: "/no/such/binary": stat /no/such/binary: no such file or directory' /no/such/binary
	run_refused "np-$t" 'exec: "/etc/passwd": permission denied' /etc/passwd
	run_refused "ni-$t" 'exec: "no-such-cmd": executable file not found in $PATH' --image no-such-cmd
	# resolved with the task's PATH, inside its root, after its mounts: a command that is
	# only in a directory bound over the rootfs
	out=$(rfs_run --rm --env=PATH=/opt/xbin "--mount=type=bind,src=$CD/xbin,dst=/opt/xbin,options=rbind:ro" \
		"ok-$t" only-in-mount 2>&1) || rt_fail "command on a mount and the task's PATH: rc $?: $out"
	[ "$out" = inside ] || rt_fail "only-in-mount said '$out'"
	run_refused "nm-$t" 'exec: "only-in-mount": executable file not found in $PATH' only-in-mount
}

test_create_missing_executable() {
	ctd_setup
	ctd_import_image
	mkdir -p "$CD/xbin" "$RFS/opt/xbin"
	printf '#!/bin/sh\necho inside\n' > "$CD/xbin/only-in-mount"
	chmod 0755 "$CD/xbin/only-in-mount"
	each_rt missing_exec
}

exec_tty() {
	local t=$1 sock out
	rfs_run -d "et-$t" /bin/sleep 1000 || rt_fail "run -d et-$t"
	sock=$(shim_sock "et-$t")
	[ -S "$sock" ] || rt_fail "no shim socket '$sock'"
	mkfifo "$CD/et-$t.a" "$CD/et-$t.b"
	# the request asks for a terminal, the spec does not; and the other way round
	out=$(shim_call "$sock" \
		"exec:et-$t:a:1:$CD/et-$t.a:"'{"args":["/bin/sh","-c","tty; echo END"],"cwd":"/","user":{"uid":0,"gid":0},"env":["PATH=/bin"]}' \
		"exec:et-$t:b:0:$CD/et-$t.b:"'{"terminal":true,"args":["/bin/sh","-c","tty; echo END"],"cwd":"/","user":{"uid":0,"gid":0},"env":["PATH=/bin"]}' \
		"delete:et-$t:a" "delete:et-$t:b") || rt_fail "shim_call: $out"
	note "$CTD_RT: $(tr '\n' '|' <<<"$out")"
	[ "$(sed -n 1p <<<"$out")" = "0 /dev/pts/0 END" ] || rt_fail "Exec terminal=1, spec without: '$(sed -n 1p <<<"$out")'"
	[ "$(sed -n 2p <<<"$out")" = "0 not a tty END" ] || rt_fail "Exec terminal=0, spec with: '$(sed -n 2p <<<"$out")'"
	[ "$(sed -n 3,4p <<<"$out" | cut -d' ' -f1 | tr '\n' ' ')" = "0 0 " ] || rt_fail "exec deletes: $out"
	ctr task rm -f "et-$t" >/dev/null 2>&1 || rt_fail "task rm -f et-$t"
	ctr containers rm "et-$t" || rt_fail "containers rm et-$t"
}

test_exec_terminal_from_request() {
	ctd_setup
	each_rt exec_tty
}

resize_no_tty() {
	local t=$1 sock out
	rfs_run -d "rz-$t" /bin/sleep 1000 || rt_fail "run -d rz-$t"
	ctr task exec -d --fifo-dir "$CD/fifo" --exec-id e1 "rz-$t" /bin/sleep 1001 || rt_fail "exec -d e1"
	sock=$(shim_sock "rz-$t")
	out=$(shim_call "$sock" "resize:rz-$t:" "resize:rz-$t:e1" "resize:rz-$t:nosuch") || rt_fail "shim_call: $out"
	note "$CTD_RT: $(tr '\n' '|' <<<"$out")"
	[ "$(sed -n 1p <<<"$out")" = "0 " ] || rt_fail "ResizePty of an init without a terminal: '$(sed -n 1p <<<"$out")'"
	[ "$(sed -n 2p <<<"$out")" = "0 " ] || rt_fail "ResizePty of an exec without a terminal: '$(sed -n 2p <<<"$out")'"
	# 5: NOT_FOUND, in runc-v2's words
	[ "$(sed -n 3p <<<"$out")" = "5 process does not exist nosuch: not found" ] ||
		rt_fail "ResizePty of an unknown exec: '$(sed -n 3p <<<"$out")'"
	ctr task rm -f "rz-$t" >/dev/null 2>&1 || rt_fail "task rm -f rz-$t"
	ctr containers rm "rz-$t" || rt_fail "containers rm rz-$t"
}

test_resize_pty_without_terminal() {
	ctd_setup
	each_rt resize_no_tty
}

if [ "${1:-}" != --one ]; then
	ctd_cache_build
fi
run_cases "$@"
