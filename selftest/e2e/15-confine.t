#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# selftest/e2e/15-confine.t: a default task's confinement, tried from inside the task: its
# seccomp profile, bounding set, devices (with and without a cgroup), masked and read-only
# paths, zeroed kallsyms; and that ordinary programs still run under it.
. "$(dirname "$0")/lib.sh"

# Docker's default set less CAP_MKNOD: chown dac_override fowner fsetid kill setgid setuid
# setpcap net_bind_service net_raw sys_chroot audit_write setfcap
CAPBND=00000000a00425fb
# moby's masked and read-only paths
masked_list="/proc/asound /proc/acpi /proc/kcore /proc/keys /proc/latency_stats /proc/timer_list /proc/timer_stats /proc/sched_debug /proc/scsi /sys/firmware /sys/devices/virtual/powercap"
readonly_list="/proc/bus /proc/fs /proc/irq /proc/sys /proc/sysrq-trigger"

need_x86_64() { [ "$(uname -m)" = x86_64 ] || skip_case "the probes use x86_64 syscall numbers"; }

test_status_seccomp_nnp_capbnd() {
	daemon_start
	out=$("$SV" run --rm st /bin/sh -c 'grep -E "^(Seccomp|NoNewPrivs|CapBnd|CapEff):" /proc/self/status') ||
		fail "run: $out"
	[ "$out" = "CapEff:	$CAPBND
CapBnd:	$CAPBND
NoNewPrivs:	1
Seccomp:	2" ] || fail "status: $out"
	# the same with a cgroup of its own
	out=$("$SV" run --rm --pids 50 stp /bin/sh -c 'grep -E "^(Seccomp|CapBnd):" /proc/self/status') ||
		fail "run --pids: $out"
	[ "$out" = "CapBnd:	$CAPBND
Seccomp:	2" ] || fail "status with a cgroup: $out"
}

# mknod of a device outside the allow-list (loop-control) and opening it: refused
test_mknod_and_open_refused() {
	daemon_start
	for lim in "" "--pids 50"; do
		# shellcheck disable=SC2086
		out=$("$SV" run --rm $lim mk /bin/sh -c 'mknod /dev/lc c 10 237 && exec 3</dev/lc && echo opened' 2>&1)
		rc=$?
		[ $rc = 1 ] || fail "mknod+open ${lim:-without a cgroup}: rc $rc: $out"
		case "$out" in *"Operation not permitted"*) ;; *) fail "mknod ${lim:-}: $out" ;; esac
	done
	# the allowed ones work
	out=$("$SV" run --rm --pids 50 ok /bin/sh -c 'head -c4 /dev/zero | wc -c; echo x > /dev/null; head -c1 /dev/urandom | wc -c') ||
		fail "allowed devices: $out"
	[ "$out" = "4
1" ] || fail "allowed devices: $out"
}

# A device node already in the task's root (an image may hold one): nodev without a cgroup,
# the devices cgroup as well with one.
test_device_node_in_rootfs_refused() {
	[ -x /bin/busybox ] || skip_case "busybox-static is not installed"
	policy_conf "rootfs_sources = $T"
	daemon_start -c "$T/conf"
	mkdir -p "$T/rfs/bin" "$T/rfs/proc" "$T/rfs/dev" "$T/rfs/sys" "$T/rfs/tmp"
	cp /bin/busybox "$T/rfs/bin/"
	ln -s busybox "$T/rfs/bin/sh"
	mknod "$T/rfs/lc" c 10 237 || fail "host mknod"
	exec 3<"$T/rfs/lc" || fail "the host cannot open its own node: the probe proves nothing"
	exec 3<&-
	for lim in "" "--pids 50"; do
		# shellcheck disable=SC2086
		out=$("$SV" run --rm $lim --rootfs "$T/rfs" rn /bin/sh -c 'exec 3</lc && echo opened' 2>&1)
		rc=$?
		[ $rc = 1 ] || fail "open of a node in the root ${lim:-without a cgroup}: rc $rc: $out"
		case "$out" in *"Permission denied"*|*"Operation not permitted"*) ;; *) fail "${lim:-}: $out" ;; esac
	done
}

# A task with a cgroup: its v1 devices controller holds runc's rules, nothing more
test_devices_cgroup_rules() {
	grep -qw devices /proc/self/cgroup || skip_case "no cgroup v1 devices hierarchy here"
	daemon_start
	"$SV" run -d --pids 50 dv /bin/sleep 1000 || fail "run"
	pid=$("$SV" state --format json dv | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
	rel=$(awk -F: '$2 == "devices" { print $3 }' "/proc/$pid/cgroup")
	[ "$rel" = "$(case_cgroup)/default/dv" ] || fail "devices cgroup: $rel"
	got=$(sort < "/sys/fs/cgroup/devices$rel/devices.list" | tr '\n' ',')
	want=$(printf '%s\n' "b *:* m" "c *:* m" "c 1:3 rwm" "c 1:5 rwm" "c 1:7 rwm" "c 1:8 rwm" \
		"c 1:9 rwm" "c 5:0 rwm" "c 5:1 rwm" "c 5:2 rwm" "c 136:* rwm" "c 10:200 rwm" | sort | tr '\n' ',')
	[ "$got" = "$want" ] || fail "devices.list: $got"
	"$SV" delete -f dv >/dev/null || fail "delete"
}

# Every writable mount of a default task is nodev, but /dev (where its allowed nodes are),
# /dev/pts and the masked files (binds of /dev/null); the host's / is nodev too.
test_writable_mounts_nodev() {
	daemon_start
	out=$("$SV" run --rm mn /bin/sh -c 'cat /proc/self/mountinfo') || fail "run: $out"
	bad=$(echo "$out" | awk -v masked=" $masked_list " '{ split($6, o, ","); rw = 0; nodev = 0
		if (index(masked, " " $5 " ") && $4 == "/null") next
		for (i in o) { if (o[i] == "rw") rw = 1; if (o[i] == "nodev") nodev = 1 }
		if (rw && !nodev) print $5 }' | sort | tr '\n' ' ')
	[ "$bad" = "/dev /dev/pts " ] || fail "writable mounts without nodev: $bad"
	echo "$out" | awk '$5 == "/" { print $6 }' | grep -q '^ro,nodev' || fail "/: $(echo "$out" | awk '$5 == "/"')"
}

test_namespaces_and_mount_refused() {
	daemon_start
	out=$("$SV" run --rm ns /bin/sh -c '
		unshare -U true 2>/dev/null; echo "u=$?"
		unshare -n true 2>/dev/null; echo "n=$?"
		mount -t tmpfs t /mnt 2>/dev/null; echo "m=$?"
		umount /proc 2>/dev/null; echo "um=$?"' 2>&1) || fail "run: $out"
	[ "$out" = "u=1
n=1
m=32
um=32" ] || fail "got: $out"
	# the same probe works outside: it can fail
	unshare -U true || fail "unshare -U fails on the host too: the probe proves nothing"
}

# Each system call of moby's list a default task may not make: EPERM from the filter.
test_blocked_syscalls() {
	need_x86_64
	daemon_start
	cat > "$T/probe.py" <<'EOF'
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
calls = {  # x86_64 numbers; arguments that do nothing where they are allowed
    "keyctl": (250, 0, -4, 0), "add_key": (248, 0, 0), "request_key": (249, 0, 0),
    "ptrace": (101, 0x4206, 0), "bpf": (321, 0, 0), "perf_event_open": (298, 0, 0),
    "userfaultfd": (323, 0), "open_by_handle_at": (304, -1, 0, 0),
    "kexec_load": (246, 0, 0, 0, 0), "init_module": (175, 0, 0, 0),
    "finit_module": (313, -1, 0, 0), "delete_module": (176, 0, 0),
    "reboot": (169, 0, 0, 0, 0), "swapon": (167, 0, 0), "pivot_root": (155, 0, 0),
    "setns": (308, -1, 0), "unshare": (272, 0x10000000), "mount": (165, 0, 0, 0, 0, 0),
    "umount2": (166, 0, 0), "acct": (163, 0), "settimeofday": (164, 0, 0),
    "clone_newuser": (56, 0x10000000 | 17, 0, 0, 0, 0), "syslog": (103, 3, 0, 0),
}
only = sys.argv[1:] or calls
for name in only:
    nr, *args = calls[name]
    r = libc.syscall(nr, *[ctypes.c_long(a) for a in args])
    e = ctypes.get_errno()
    if r == 0 and name == "clone_newuser":
        os._exit(0)
    print(name, "ok" if r >= 0 else os.strerror(e))
# clone3 fails with ENOSYS, so that libc falls back to clone
r = libc.syscall(435, 0, 0); print("clone3", os.strerror(ctypes.get_errno()) if r < 0 else "ok")
EOF
	# the probe works: outside the task keyctl succeeds
	[ "$(python3 "$T/probe.py" keyctl | head -n1)" = "keyctl ok" ] || fail "keyctl fails on the host"
	out=$("$SV" run --rm -e PY="$(cat "$T/probe.py")" sc /bin/sh -c 'exec python3 -c "$PY"' 2>&1) ||
		fail "run: $out"
	bad=$(echo "$out" | grep -v -e ' Operation not permitted$' -e '^clone3 Function not implemented$')
	[ -z "$bad" ] || fail "not refused: $bad"
	[ "$(echo "$out" | wc -l)" = 24 ] || fail "probe output: $out"
}

# The same default task runs ordinary programs: a pipeline, threads, a loopback TCP echo.
test_ordinary_programs_run() {
	daemon_start
	out=$("$SV" run --rm pl /bin/sh -c 'echo a b | tr a-z A-Z | wc -c') || fail "pipeline: $out"
	[ "$out" = 4 ] || fail "pipeline: $out"
	out=$("$SV" run --rm -e PY='
import socket, threading
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
def serve():
    c, _ = s.accept(); c.sendall(c.recv(64).upper()); c.close()
t = threading.Thread(target=serve); t.start()
c = socket.create_connection(s.getsockname()); c.sendall(b"ping")
print(c.recv(64).decode()); t.join()
' echo /bin/sh -c 'exec python3 -c "$PY"' 2>&1) || fail "echo: $out"
	[ "$out" = PING ] || fail "loopback echo: $out"

}

test_masked_and_readonly_paths() {
	daemon_start
	# at least one of them has something on the host: the check can fail
	seen=0
	for p in $masked_list; do
		if [ -d "$p" ]; then [ -n "$(ls -A "$p")" ] && seen=1; elif [ -e "$p" ]; then [ -n "$(head -c1 "$p")" ] && seen=1; fi
	done
	[ $seen = 1 ] || skip_case "no masked path has content on this host"
	out=$("$SV" run --rm mp /bin/sh -c '
		for p in '"$masked_list"'; do
			if [ -d "$p" ]; then [ -z "$(ls -A "$p")" ] || echo "$p lists"
			elif [ -e "$p" ]; then [ -z "$(head -c1 "$p" 2>/dev/null)" ] || echo "$p reads"; fi
		done
		for p in '"$readonly_list"'; do
			[ -e "$p" ] || continue
			awk -v p="$p" '"'"'$5 == p { split($6, o, ","); if (o[1] != "ro") print p " is " $6; f = 1 } END { if (!f) print p " not a mount" }'"'"' /proc/self/mountinfo
		done
		v=$(cat /proc/sys/kernel/printk_ratelimit)
		(echo "$v" > /proc/sys/kernel/printk_ratelimit) 2>/dev/null && echo "/proc/sys written"
		echo done' 2>&1) || fail "run: $out"
	[ "$out" = done ] || fail "got: $out"
}

# /proc/kallsyms is readable, with every address zero (no CAP_SYSLOG)
test_kallsyms_zeroed() {
	daemon_start
	[ "$(awk '$1 != "0000000000000000"' /proc/kallsyms | head -n1)" ] ||
		skip_case "the host itself sees zeroed addresses (kptr_restrict)"
	out=$("$SV" run --rm ks /bin/sh -c 'wc -l < /proc/kallsyms; awk '"'"'$1 != "0000000000000000"'"'"' /proc/kallsyms | head -n3') ||
		fail "run: $out"
	[ "$(echo "$out" | head -n1)" -gt 1000 ] || fail "kallsyms: $out"
	[ "$(echo "$out" | wc -l)" = 1 ] || fail "addresses shown: $out"
}

# seccomp_profile = PATH replaces the built-in profile; one that is not a profile stops the
# daemon at start, with the reason.
test_seccomp_profile_override() {
	chmod 0755 "$T"         # the engine (nobody) reads the file
	cat > "$T/prof.json" <<'EOF'
# refuses mkdir only
{ "defaultAction": "SCMP_ACT_ALLOW",
  "syscalls": [ { "names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1 } ] }
EOF
	chmod 0644 "$T/prof.json"
	printf '[daemon]\nseccomp_profile = %s\n' "$T/prof.json" > "$T/d.conf"
	daemon_start -c "$T/d.conf"
	out=$("$SV" run --rm po /bin/sh -c 'mkdir /tmp/x 2>/dev/null && echo made; unshare -U true && echo unshared; grep Seccomp: /proc/self/status') ||
		fail "run: $out"
	[ "$out" = "unshared
Seccomp:	2" ] || fail "got: $out"
	daemon_stop
	echo '{"defaultAction":"SCMP_ACT_ALLOW"}' > "$T/prof.json"
	out=$(timeout 20 "$SVD" -F -c "$T/d.conf" --state "$T/state" --address "$T/ctl2.sock" 2>&1)
	rc=$?
	[ $rc != 0 ] && [ $rc != 124 ] || fail "a daemon with a bad profile: rc $rc: $out"
	case "$out" in *"$T/prof.json: not a seccomp profile"*) ;; *) fail "message: $out" ;; esac
}

run_cases "$@"
