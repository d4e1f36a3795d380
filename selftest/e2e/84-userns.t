#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# selftest/e2e/84-userns.t: user namespaces (linux.uidMappings/gidMappings, or a user
# namespace joined by path), as runc makes them: the task's uid_map, the mapped owner of what
# it writes, what its root cannot do on the host; the policy's userns and userns_host_ids;
# and `ctr run --uidmap/--gidmap` on shimvisor and on runc-v2 alike.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ctd.sh"

MAP='[{"containerID":0,"hostID":100000,"size":65536}]'

# A busybox rootfs in $T/rfs that the mapped root can read, and $T itself traversable (the
# rootfs is used as given: nothing is chowned for the user namespace).
userns_rootfs() {
	[ -x /bin/busybox ] || skip_case "busybox-static is not installed"
	chmod 0711 "$T"
	mkdir -p "$T/rfs/bin" "$T/rfs/proc" "$T/rfs/sys" "$T/rfs/dev" "$T/rfs/tmp" "$T/rfs/shared"
	cp /bin/busybox "$T/rfs/bin/"
	for a in sh echo cat id readlink ls true sleep; do ln -s busybox "$T/rfs/bin/$a"; done
	touch "$T/rfs/rootfile"
	chmod 1777 "$T/rfs/tmp"
}

# bundle DIR ARGS_JSON NAMESPACES_JSON [LINUX_EXTRA] [MOUNTS_EXTRA]: a config.json in DIR
# running ARGS in $T/rfs with proc, sysfs and the default masks, the capabilities of a
# default task but CAP_MKNOD.
bundle() {
	mkdir -p "$1"
	cat > "$1/config.json" <<JSON
{"ociVersion":"1.0.2",
 "process":{"args":$2,"env":["PATH=/bin"],"cwd":"/","user":{"uid":0,"gid":0},
  "capabilities":{"bounding":["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FOWNER","CAP_SETUID","CAP_SETGID","CAP_KILL"],
   "effective":["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FOWNER","CAP_SETUID","CAP_SETGID","CAP_KILL"],
   "permitted":["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FOWNER","CAP_SETUID","CAP_SETGID","CAP_KILL"]}},
 "root":{"path":"$T/rfs","readonly":true},
 "mounts":[{"destination":"/proc","type":"proc","source":"proc"},
  {"destination":"/sys","type":"sysfs","source":"sysfs","options":["ro","nosuid","nodev","noexec"]},
  {"destination":"/tmp","type":"tmpfs","source":"tmpfs","options":["nosuid","nodev"]}${5:-}],
 "linux":{$OCI_MASKS,"namespaces":$3${4:-}}}
JSON
}

ALL_NS='{"type":"pid"},{"type":"mount"},{"type":"ipc"},{"type":"uts"},{"type":"network"}'

# The task is root in its user namespace, ids mapped 0:100000:65536: its uid_map says so, a
# file it writes on a bind is 100000's on the host, and its CAP_DAC_OVERRIDE does not open
# a root-owned host file bound in read-write, nor may it chown it.
test_mapped_ids() {
	userns_rootfs
	policy_conf "rootfs_sources = $T" "bind_sources = $T"
	daemon_start -c "$T/conf"
	mkdir -p "$T/shared"
	chmod 0777 "$T/shared"
	echo host-secret > "$T/rootfile"
	chmod 0644 "$T/rootfile"
	bundle "$T/b" '["/bin/sh","-c","cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g; echo made > /shared/made; echo pwned >> /rootfile && echo WROTE; ls /dev/null; cat /sys/kernel/uevent_seqnum >/dev/null && echo sysfs"]' \
		"[$ALL_NS,{\"type\":\"user\"}]" ",\"uidMappings\":$MAP,\"gidMappings\":$MAP" \
		",{\"destination\":\"/shared\",\"type\":\"bind\",\"source\":\"$T/shared\",\"options\":[\"rbind\",\"rw\"]},{\"destination\":\"/rootfile\",\"type\":\"bind\",\"source\":\"$T/rootfile\",\"options\":[\"bind\",\"rw\"]}"
	out=$("$SV" run --rm --bundle "$T/b" un 2>"$T/err") || fail "run: $? $(cat "$T/err")"
	note "task said: $(tr '\n' '|' <<<"$out") / $(tr '\n' '|' < "$T/err")"
	[ "$(sed -n 1p <<<"$out" | tr -s ' ')" = " 0 100000 65536" ] || fail "uid_map: $out"
	[ "$(sed -n 2p <<<"$out" | tr -s ' ')" = " 0 100000 65536" ] || fail "gid_map: $out"
	[ "$(sed -n 3,4p <<<"$out" | tr '\n' ' ')" = "0 0 " ] || fail "not root inside: $out"
	[ "$(stat -c %u:%g "$T/shared/made")" = 100000:100000 ] || fail "made is $(stat -c %u:%g "$T/shared/made")"
	grep -q WROTE <<<"$out" && fail "the task's root wrote a host root's file"
	[ "$(cat "$T/rootfile")" = host-secret ] || fail "rootfile is now: $(cat "$T/rootfile")"
	grep -q 'Permission denied' "$T/err" || fail "the write was not refused for permission: $(cat "$T/err")"
	sed -n 5p <<<"$out" | grep -qx /dev/null || fail "no /dev/null: $out"
	sed -n 6p <<<"$out" | grep -qx sysfs || fail "no sysfs: $out"
	return 0
}

# The same task without a user namespace does write the file: what the case above shows is
# the user namespace's doing (and the test can fail).
test_without_userns_root_writes() {
	userns_rootfs
	policy_conf "rootfs_sources = $T" "bind_sources = $T"
	daemon_start -c "$T/conf"
	echo host-secret > "$T/rootfile"
	chmod 0644 "$T/rootfile"
	bundle "$T/b" '["/bin/sh","-c","echo pwned >> /rootfile && echo WROTE"]' "[$ALL_NS]" "" \
		",{\"destination\":\"/rootfile\",\"type\":\"bind\",\"source\":\"$T/rootfile\",\"options\":[\"bind\",\"rw\"]}"
	out=$("$SV" run --rm --bundle "$T/b" nu 2>&1) || fail "run: $out"
	[ "$out" = WROTE ] || fail "got: $out"
}

# A second task joins the first's user namespace by path (and makes its other namespaces
# inside it): same namespace, same maps.
test_join_by_path() {
	userns_rootfs
	policy_conf "rootfs_sources = $T"
	daemon_start -c "$T/conf"
	bundle "$T/a" '["/bin/sleep","1000"]' "[$ALL_NS,{\"type\":\"user\"}]" \
		",\"uidMappings\":$MAP,\"gidMappings\":$MAP"
	"$SV" run -d --bundle "$T/a" owner || fail "run owner"
	pid=$("$SV" state --format json owner | json_field pid)   # (ctd.sh's task_pid is ctr's)
	want=$(readlink "/proc/$pid/ns/user")
	bundle "$T/j" '["/bin/sh","-c","readlink /proc/self/ns/user; cat /proc/self/uid_map; id -u"]' \
		"[$ALL_NS,{\"type\":\"user\",\"path\":\"/proc/$pid/ns/user\"}]"
	out=$("$SV" run --rm --bundle "$T/j" joiner 2>&1) || fail "run joiner: $out"
	[ "$(sed -n 1p <<<"$out")" = "$want" ] || fail "joined $(sed -n 1p <<<"$out"), want $want"
	[ "$want" != "$(readlink /proc/self/ns/user)" ] || fail "the owner is in the host's user namespace"
	[ "$(sed -n 2p <<<"$out" | tr -s ' ')" = " 0 100000 65536" ] || fail "uid_map: $out"
	[ "$(sed -n 3p <<<"$out")" = 0 ] || fail "id -u: $out"
	# an exec joins the task's user namespace too
	out=$("$SV" exec owner /bin/sh -c 'readlink /proc/self/ns/user; id -u' 2>&1) || fail "exec: $out"
	[ "$out" = "$want
0" ] || fail "exec: $out"
	"$SV" delete -f owner >/dev/null || fail "delete owner"
}

# A create that fails inside the user namespace (no such program), with a cgroup of its own:
# refused with runc's words, and nothing left (its cgroup, made as the host's root before
# the user namespace, is removed).
test_failed_create_leaves_nothing() {
	need_v1
	userns_rootfs
	policy_conf "rootfs_sources = $T"
	daemon_start -c "$T/conf"
	bundle "$T/b" '["/bin/nosuch"]' "[$ALL_NS,{\"type\":\"user\"}]" \
		",\"uidMappings\":$MAP,\"gidMappings\":$MAP,\"cgroupsPath\":\"$(case_cgroup)/default/cgf\",\"resources\":{\"pids\":{\"limit\":50}}"
	"$SV" run --rm --bundle "$T/b" cgf >/dev/null 2>"$T/err" && fail "run of a missing program succeeded"
	grep -qF 'exec: "/bin/nosuch": stat /bin/nosuch: no such file or directory' "$T/err" || fail "error: $(cat "$T/err")"
	left=$(ls -d /sys/fs/cgroup/*"$(case_cgroup)/default/cgf" 2>/dev/null)
	[ -z "$left" ] || fail "cgroups left: $left"
	[ -z "$("$SV" ls -q)" ] || fail "task left: $("$SV" ls)"
}

# refused NAME WANT: `run --bundle $T/b NAME` is refused with WANT in its error.
refused() {
	"$SV" run --rm --bundle "$T/b" "$1" >/dev/null 2>"$T/err" && fail "$1: run succeeded"
	grep -qF -- "$2" "$T/err" || fail "$1: error does not say '$2': $(cat "$T/err")"
	note "$1: $(cat "$T/err")"
}

test_policy() {
	userns_rootfs
	policy_conf "rootfs_sources = $T" "userns = deny"
	daemon_start -c "$T/conf"
	bundle "$T/b" '["/bin/true"]' "[$ALL_NS,{\"type\":\"user\"}]" ",\"uidMappings\":$MAP,\"gidMappings\":$MAP"
	refused deny 'linux.namespaces[5]: a user namespace is not permitted by the policy (userns = deny)'
	daemon_stop
	# the default policy: a mapping may not name host ids below 65536 (root among them)
	policy_conf "rootfs_sources = $T"
	daemon_start -c "$T/conf"
	bundle "$T/b" '["/bin/true"]' "[$ALL_NS,{\"type\":\"user\"}]" \
		",\"uidMappings\":[{\"containerID\":0,\"hostID\":0,\"size\":1}],\"gidMappings\":$MAP"
	refused hostroot 'linux.uidMappings[0]: host ids 0-0 are outside the policy'"'"'s userns_host_ids'
	bundle "$T/b" '["/bin/true"]' "[$ALL_NS,{\"type\":\"user\",\"path\":\"/proc/1/ns/user\"}]"
	refused hostns 'linux.namespaces[5].path "/proc/1/ns/user": maps host ids 0-4294967294, outside the policy'"'"'s userns_host_ids'
	daemon_stop
	policy_conf "rootfs_sources = $T" "userns = require"
	daemon_start -c "$T/conf"
	bundle "$T/b" '["/bin/true"]' "[$ALL_NS]"
	refused require 'linux.namespaces: a user namespace is required by the policy (userns = require)'
	"$SV" run --rm req /bin/true 2>"$T/err" && fail "a default task ran under userns = require"
	grep -qF 'a user namespace is required by the policy' "$T/err" || fail "default task: $(cat "$T/err")"
	bundle "$T/b" '["/bin/true"]' "[$ALL_NS,{\"type\":\"user\"}]" ",\"uidMappings\":$MAP,\"gidMappings\":$MAP"
	"$SV" run --rm --bundle "$T/b" ok 2>"$T/err" || fail "a userns task under require: $(cat "$T/err")"
	# the host's / as the root: its bundle is out of the mapped root's reach, refused clearly
	sed -i "s|\"path\":\"$T/rfs\"|\"path\":\"/\"|" "$T/b/config.json"
	"$SV" run --rm --bundle "$T/b" hostroot 2>"$T/err" && fail "a userns task on the host's / ran"
	grep -qF "root.path: the host's / cannot be the root of a task with a user namespace" "$T/err" ||
		fail "host root: $(cat "$T/err")"
}

# ctr run --uidmap/--gidmap of the busybox image (ctr gives the task a snapshot chowned to
# the mapped ids: the caller's part), a directory bound in: the same uid_map, and the same
# host owner of a file the task writes, on both runtimes.
ctr_mapped() {
	local t=$1 out
	rm -f "$CD/shared/f"
	out=$(ctr run "${RT[@]}" --fifo-dir "$CD/fifo" --rm --uidmap 0:100000:65536 --gidmap 0:100000:65536 \
		"--mount=type=bind,src=$CD/shared,dst=/shared,options=rbind:rw" \
		"$CTD_IMAGE" "um-$t" /bin/sh -c 'cat /proc/self/uid_map; id -u; echo x > /shared/f' 2>&1) ||
		rt_fail "ctr run --uidmap: rc $?: $out"
	note "$CTD_RT: $(tr '\n' '|' <<<"$out")"
	[ "$(sed -n 1p <<<"$out" | tr -s ' ')" = " 0 100000 65536" ] || rt_fail "uid_map: $out"
	[ "$(sed -n 2p <<<"$out")" = 0 ] || rt_fail "id -u: $out"
	[ "$(stat -c %u:%g "$CD/shared/f")" = 100000:100000 ] || rt_fail "f is $(stat -c %u:%g "$CD/shared/f")"
	nothing_left_um "um-$t"
}

nothing_left_um() {
	[ -z "$(task_status "$1")" ] || rt_fail "$1: task left"
	ctr containers ls -q | grep -qxF "$1" && rt_fail "$1: container left"
	pid_wait 5 $(ctd_shim_pids "$1") || rt_fail "$1: shim left"
	return 0
}

test_ctr_uidmap() {
	ctd_setup
	ctd_import_image
	chmod 0711 "$CD"
	mkdir -p "$CD/shared"
	chmod 0777 "$CD/shared"
	each_rt ctr_mapped
}

if [ "${1:-}" != --one ]; then
	ctd_cache_build
fi
run_cases "$@"
