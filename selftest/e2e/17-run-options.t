#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# selftest/e2e/17-run-options.t: run's mounts, users, environment, capabilities, seccomp,
# labels and network namespace, each within the daemon's policy.
. "$(dirname "$0")/lib.sh"

# A busybox root in $T/rfs (the policy must permit it: rootfs_sources = $T).
busybox_rootfs() {
	[ -x /bin/busybox ] || skip_case "busybox-static is not installed"
	mkdir -p "$T/rfs/bin" "$T/rfs/proc" "$T/rfs/dev" "$T/rfs/sys" "$T/rfs/tmp" "$T/rfs/etc"
	cp /bin/busybox "$T/rfs/bin/"
	for a in sh id touch cat grep; do ln -s busybox "$T/rfs/bin/$a"; done
}

# -v read-write: a file written inside is on the host; :ro and readonly: EROFS.
test_bind_rw_and_ro() {
	mkdir -p "$T/share"
	policy_conf "bind_sources = $T/share"
	daemon_start -c "$T/conf"
	out=$("$SV" run --rm -v "$T/share:/mnt" rw /bin/sh -c 'echo inside > /mnt/f && cat /mnt/f') ||
		fail "-v rw: $out"
	[ "$out" = inside ] || fail "-v rw output: $out"
	[ "$(cat "$T/share/f")" = inside ] || fail "the host does not see the file"
	for v in "-v $T/share:/mnt:ro" "--mount type=bind,source=$T/share,target=/mnt,readonly"; do
		# shellcheck disable=SC2086
		out=$("$SV" run --rm $v ro /bin/sh -c 'echo x > /mnt/g' 2>&1)
		rc=$?
		[ $rc = 2 ] || fail "$v: write: rc $rc: $out"
		case "$out" in *"Read-only file system"*) ;; *) fail "$v: $out" ;; esac
		[ ! -e "$T/share/g" ] || fail "$v: the write reached the host"
	done
	# relative sources are made absolute by the CLI
	out=$(cd "$T" && "$SV" run --rm -v ./share:/mnt rel /bin/cat /mnt/f) || fail "-v ./share: $out"
	[ "$out" = inside ] || fail "-v ./share: $out"
}

# The default policy has no bind_sources: a bind is refused, the field named; a mount point
# missing in the read-only host root is not made on the host.
test_bind_refused_and_missing_mount_point() {
	mkdir -p "$T/share"
	daemon_start
	out=$("$SV" run --rm -v "$T/share:/mnt" b true 2>&1)
	rc=$?
	[ $rc = 1 ] || fail "bind without bind_sources: rc $rc: $out"
	case "$out" in *"policy: mounts["*"].source \"$T/share\": not below the policy's bind_sources"*) ;;
		*) fail "refusal: $out" ;; esac
	daemon_stop
	policy_conf "bind_sources = $T/share"
	daemon_start -c "$T/conf"
	dst="/sv-e2e-missing-$$"
	out=$("$SV" run --rm -v "$T/share:$dst" m true 2>&1)
	rc=$?
	[ $rc = 1 ] || fail "missing mount point: rc $rc: $out"
	case "$out" in *"mount $dst: no such mount point, and the root is read-only"*"Read-only file system"*) ;;
		*) fail "missing mount point: $out" ;; esac
	[ ! -e "$dst" ] || { rmdir "$dst"; fail "$dst was made on the host"; }
	out=$("$SV" run --rm -v relative:/mnt n true 2>&1)
	[ $? = 2 ] || fail "named volume: $out"
	case "$out" in *"no named volumes"*) ;; *) fail "named volume: $out" ;; esac
}

# --read-only: a writable --rootfs stays writable unless asked.
test_read_only_rootfs() {
	busybox_rootfs
	policy_conf "rootfs_sources = $T"
	daemon_start -c "$T/conf"
	out=$("$SV" run --rm --rootfs "$T/rfs" w /bin/sh -c 'touch /w && echo ok' 2>&1) ||
		fail "writable rootfs: $out"
	[ -e "$T/rfs/w" ] || fail "the write did not reach the rootfs"
	out=$("$SV" run --rm --read-only --rootfs "$T/rfs" r /bin/sh -c 'touch /r' 2>&1)
	rc=$?
	[ $rc = 1 ] || fail "--read-only: rc $rc: $out"
	case "$out" in *"Read-only file system"*) ;; *) fail "--read-only: $out" ;; esac
	[ ! -e "$T/rfs/r" ] || fail "--read-only: the write reached the rootfs"
	# the task's own /tmp stays writable
	"$SV" run --rm --read-only --rootfs "$T/rfs" t /bin/touch /tmp/x || fail "/tmp under --read-only"
}

# --tmpfs and --mount type=tmpfs: a tmpfs with the options asked, nosuid,nodev always.
test_tmpfs() {
	daemon_start
	line=$("$SV" run --rm --tmpfs /mnt:size=1m,mode=700 t grep ' /mnt ' /proc/self/mountinfo) ||
		fail "--tmpfs: $line"
	case "$line" in *" /mnt rw,nosuid,nodev,noexec,"*" - tmpfs tmpfs rw,size=1024k,mode=700"*) ;;
		*) fail "--tmpfs mountinfo: $line" ;; esac
	line=$("$SV" run --rm --mount type=tmpfs,target=/mnt,tmpfs-size=2m,tmpfs-mode=1770 m \
		grep ' /mnt ' /proc/self/mountinfo) || fail "--mount tmpfs: $line"
	case "$line" in *" /mnt rw,nosuid,nodev,"*" - tmpfs tmpfs rw,size=2048k,mode=1770"*) ;;
		*) fail "--mount tmpfs mountinfo: $line" ;; esac
	# "exec" undoes docker's noexec; "dev" and "suid" are not for run mounts
	line=$("$SV" run --rm --tmpfs /mnt:exec e grep ' /mnt ' /proc/self/mountinfo) || fail "exec: $line"
	case "$line" in *noexec*) fail "--tmpfs :exec: $line" ;; esac
	out=$("$SV" run --rm --tmpfs /mnt:dev d true 2>&1)
	[ $? = 1 ] || fail "--tmpfs :dev accepted: $out"
	case "$out" in *'option "dev" not permitted'*) ;; *) fail "--tmpfs :dev: $out" ;; esac
}

# -u NAME from the rootfs's /etc/passwd and /etc/group, not the host's.
test_user_by_name_from_rootfs() {
	busybox_rootfs
	grep -q '^svuser:' /etc/passwd && skip_case "the host has a user svuser"
	printf 'root:x:0:0::/:/bin/sh\nsvuser:x:4321:4322::/:/bin/sh\nnobody:x:7777:7778::/:/bin/sh\n' \
		> "$T/rfs/etc/passwd"
	printf 'root:x:0:\nsvgrp:x:4322:\nextra:x:5555:svuser,other\nmore:x:5556:svuser\nother:x:6000:\n' \
		> "$T/rfs/etc/group"
	policy_conf "rootfs_sources = $T"
	daemon_start -c "$T/conf"
	out=$("$SV" run --rm -u svuser --rootfs "$T/rfs" u /bin/sh -c 'id -u; id -g; id -G') ||
		fail "-u svuser: $out"
	[ "$out" = "4321
4322
4322 5555 5556" ] || fail "-u svuser: $out"
	# the same name as the host's, another uid: the rootfs's
	out=$("$SV" run --rm -u nobody --rootfs "$T/rfs" n /bin/sh -c 'id -u; id -g') || fail "-u nobody: $out"
	[ "$out" = "7777
7778" ] || fail "-u nobody: $out (the host's nobody is $(id -u nobody))"
	out=$("$SV" run --rm -u svuser:other --rootfs "$T/rfs" g /bin/sh -c 'id -g') || fail "-u svuser:other"
	[ "$out" = 6000 ] || fail "-u svuser:other: $out"
	out=$("$SV" run --rm -u nosuch --rootfs "$T/rfs" x true 2>&1)
	[ $? = 1 ] || fail "-u nosuch: $out"
	case "$out" in *"no such user in $T/rfs/etc/passwd"*) ;; *) fail "-u nosuch: $out" ;; esac
	# the host-root view: the host's files
	want=$(id -u nobody)
	out=$("$SV" run --rm -u nobody h id -u) || fail "-u nobody (host): $out"
	[ "$out" = "$want" ] || fail "-u nobody (host): $out, want $want"
}

# --env-file (docker's format, before -e), -w, --entrypoint.
test_env_file_workdir_entrypoint() {
	daemon_start
	printf '# a comment\n\nA=1\n  B=two words\nC\nUNSET_IN_CLI_%s\nD=x=y\n' $$ > "$T/env"
	out=$(C=from-cli "$SV" run --rm --env-file "$T/env" -e A=override e /bin/sh -c \
		'echo "$A|$B|$C|$D|${UNSET_IN_CLI_'$$'-unset}"') || fail "--env-file: $out"
	[ "$out" = "override|two words|from-cli|x=y|unset" ] || fail "--env-file: $out"
	# docker's order: the file's first, -e after, one entry a name
	env_out=$("$SV" run --rm --env-file "$T/env" -e A=override e2 /usr/bin/env) || fail "env"
	[ "$(echo "$env_out" | grep '^A=')" = A=override ] || fail "A entries: $env_out"
	# a PATH of the caller's replaces the default one: one PATH, searched for the command
	env_out=$("$SV" run --rm -e PATH=/usr/bin:/bin p env) || fail "-e PATH: $env_out"
	[ "$(echo "$env_out" | grep '^PATH=')" = PATH=/usr/bin:/bin ] || fail "PATH entries: $env_out"
	printf 'BAD KEY=1\n' > "$T/bad"
	out=$("$SV" run --rm --env-file "$T/bad" b true 2>&1)
	[ $? = 2 ] || fail "bad env file: $out"
	case "$out" in *"line 1: want K=V"*) ;; *) fail "bad env file: $out" ;; esac
	out=$("$SV" run --rm -w /tmp w pwd) || fail "-w: $out"
	[ "$out" = /tmp ] || fail "-w: $out"
	out=$("$SV" run --rm --workdir=/proc wd pwd) || fail "--workdir: $out"
	[ "$out" = /proc ] || fail "--workdir: $out"
	out=$("$SV" run --rm --entrypoint /bin/echo ep a b) || fail "--entrypoint: $out"
	[ "$out" = "a b" ] || fail "--entrypoint: $out"
}

# --net PATH joins a namespace made by `ip netns add`: the same inode inside.
test_net_path_joins() {
	command -v ip >/dev/null || skip_case "iproute2 is not installed"
	ns="sv-e2e-$$"
	ip netns add "$ns" || skip_case "ip netns add failed"
	want=$(stat -L -c %i "/run/netns/$ns")
	daemon_start
	out=$("$SV" run --rm --net "/var/run/netns/$ns" n readlink /proc/self/ns/net 2>&1)
	rc=$?
	ip netns del "$ns"
	[ $rc = 0 ] || fail "--net PATH: rc $rc: $out"
	[ "$out" = "net:[$want]" ] || fail "--net PATH: $out, want net:[$want]"
	# the host's own namespace (the daemon's), by its /proc path: host_namespaces says no
	out=$("$SV" run --rm --net "/proc/$DAEMON_PID/ns/net" h true 2>&1)
	[ $? = 1 ] || fail "--net /proc/$DAEMON_PID/ns/net: $out"
	case "$out" in *"the host's network namespace is not permitted by the policy"*) ;;
		*) fail "--net /proc/$DAEMON_PID/ns/net: $out" ;; esac
	out=$("$SV" run --rm --net /etc/passwd p true 2>&1)
	[ $? = 1 ] || fail "--net /etc/passwd: $out"
	case "$out" in *"only /proc/PID/ns/net or /run/netns/NAME"*) ;; *) fail "--net /etc/passwd: $out" ;; esac
	out=$("$SV" run --rm --net bridge br true 2>&1)
	[ $? = 2 ] || fail "--net bridge: $out"
	case "$out" in *"not supported: the daemon runs no CNI plugin"*) ;; *) fail "--net bridge: $out" ;; esac
}

# --cap-add/--cap-drop: CapEff inside; beyond the policy, the policy's refusal.
test_caps_within_policy() {
	daemon_start
	out=$("$SV" run --rm --cap-drop ALL --cap-add net_raw c grep CapEff /proc/self/status) ||
		fail "caps: $out"
	[ "$out" = "CapEff:	0000000000002000" ] || fail "--cap-drop ALL --cap-add net_raw: $out"
	out=$("$SV" run --rm --cap-drop CAP_CHOWN --cap-drop kill d grep CapEff /proc/self/status) ||
		fail "caps: $out"
	[ "$out" = "CapEff:	00000000a00425da" ] || fail "--cap-drop chown,kill: $out"
	out=$("$SV" run --rm --cap-add SYS_ADMIN a true 2>&1)
	rc=$?
	[ $rc = 1 ] || fail "--cap-add SYS_ADMIN: rc $rc: $out"
	case "$out" in *"policy: process.capabilities.bounding["*"] CAP_SYS_ADMIN: not permitted by the policy"*) ;;
		*) fail "--cap-add SYS_ADMIN: $out" ;; esac
	out=$("$SV" run --rm --cap-add NO_SUCH x true 2>&1)
	[ $? = 1 ] || fail "--cap-add NO_SUCH: $out"
	case "$out" in *'cap_add "CAP_NO_SUCH": unknown capability'*) ;; *) fail "NO_SUCH: $out" ;; esac
	# an exec gets its task's set, not the default one
	"$SV" run -d --cap-drop ALL ex sleep 30 || fail "run -d"
	out=$("$SV" exec ex grep CapEff /proc/self/status) || fail "exec: $out"
	[ "$out" = "CapEff:	0000000000000000" ] || fail "exec in a --cap-drop ALL task: $out"
}

# --security-opt seccomp=unconfined (the policy permits a config without a filter) and a
# FILE of the user's.
test_seccomp() {
	daemon_start
	out=$("$SV" run --rm --security-opt seccomp=unconfined u grep Seccomp: /proc/self/status) ||
		fail "unconfined: $out"
	[ "$out" = "Seccomp:	0" ] || fail "unconfined: $out"
	cat > "$T/profile.json" <<-'EOF'
	{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}
	EOF
	out=$("$SV" run --rm --security-opt "seccomp=$T/profile.json" --security-opt no-new-privileges \
		f /bin/sh -c 'grep Seccomp: /proc/self/status; mkdir /tmp/d' 2>&1)
	rc=$?
	[ $rc = 1 ] || fail "profile: rc $rc: $out"
	case "$out" in "Seccomp:	2"*"Operation not permitted"*) ;; *) fail "profile: $out" ;; esac
	echo '{"syscalls":[]}' > "$T/bad.json"
	out=$("$SV" run --rm --security-opt "seccomp=$T/bad.json" b true 2>&1)
	[ $? = 1 ] || fail "bad profile: $out"
	case "$out" in *"not a seccomp profile"*) ;; *) fail "bad profile: $out" ;; esac
	out=$("$SV" run --rm --security-opt no-new-privileges=false n true 2>&1)
	[ $? = 2 ] || fail "no-new-privileges=false: $out"
}

# --label: the config.json's annotations, io.shimvisor.label.K.
test_labels_in_config() {
	daemon_start
	"$SV" create --label app=web --label "team=a b" --label app=api l sleep 1 || fail "create"
	out=$(python3 -c 'import json,sys; a=json.load(open(sys.argv[1]))["annotations"]
print(a["io.shimvisor.label.app"], a["io.shimvisor.label.team"], sep="|")' \
		"$T/state/default/l/config.json") || fail "config.json: $out"
	[ "$out" = "api|a b" ] || fail "labels: $out"
	out=$("$SV" run --rm --label "bad key=1" x true 2>&1)
	[ $? = 2 ] || fail "bad label: $out"
	case "$out" in *"K must be printable, without blanks"*) ;; *) fail "bad label: $out" ;; esac
}

# From a hostile client's side: a Create sent by hand, not by the CLI, gets no set-uid or
# device mount and no bind the policy does not permit.
test_hostile_client_mounts() {
	mkdir -p "$T/share"
	policy_conf "bind_sources = $T/share"
	daemon_start -c "$T/conf"
	cat > "$T/raw.py" <<'PY'
import socket, struct, sys
def varint(n):
    out = b""
    while n > 0x7f:
        out += bytes([n & 0x7f | 0x80]); n >>= 7
    return out + bytes([n])
def ld(num, data):
    data = data.encode() if isinstance(data, str) else data
    return varint(num << 3 | 2) + varint(len(data)) + data
def mount(typ, src, dst, opts):
    return ld(1, typ) + (ld(2, src) if src else b"") + ld(3, dst) + b"".join(ld(4, o) for o in opts)
tid, typ, src, dst = sys.argv[2:6]
req = ld(1, tid) + ld(2, "sleep") + ld(2, "30") + varint(17 << 3) + b"\x01" + \
      ld(22, mount(typ, src, dst, sys.argv[6:]))
body = ld(1, "shimvisor.v1.Control") + ld(2, "Create") + ld(3, req)
s = socket.socket(socket.AF_UNIX); s.settimeout(20); s.connect(sys.argv[1])
s.sendall(struct.pack(">IIBB", len(body), 1, 1, 0) + body)
hdr = b""
while len(hdr) < 10: hdr += s.recv(10 - len(hdr))
n = struct.unpack(">IIBB", hdr)[0]
resp = b""
while len(resp) < n: resp += s.recv(n - len(resp))
sys.stdout.write(resp.decode("latin-1"))
PY
	out=$(python3 "$T/raw.py" "$T/ctl.sock" h1 bind "$T/share" /mnt rbind suid dev) || fail "raw: $out"
	case "$out" in *'option "suid" not permitted'*) ;; *) fail "suid: $out" ;; esac
	out=$(python3 "$T/raw.py" "$T/ctl.sock" h2 tmpfs "" /mnt rshared) || fail "raw: $out"
	case "$out" in *'option "rshared" not permitted'*) ;; *) fail "rshared: $out" ;; esac
	out=$(python3 "$T/raw.py" "$T/ctl.sock" h3 bind /etc /mnt rbind) || fail "raw: $out"
	case "$out" in *"not below the policy's bind_sources"*) ;; *) fail "/etc: $out" ;; esac
	"$SV" ls -q | grep -q . && fail "a refused create left a task: $("$SV" ls)"
	# a bind it may have: nosuid,nodev whatever it asked
	out=$(python3 "$T/raw.py" "$T/ctl.sock" h4 bind "$T/share" /mnt rbind rw) || fail "raw: $out"
	"$SV" start h4 || fail "start h4 ($out)"
	line=$("$SV" exec h4 grep ' /mnt ' /proc/self/mountinfo) || fail "exec: $line"
	case "$line" in *" /mnt rw,nosuid,nodev"*) ;; *) fail "h4's /mnt: $line" ;; esac
}

run_cases "$@"
