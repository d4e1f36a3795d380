#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# selftest/e2e/82-runc-options.t: containerd's runc options (containerd.runc.v1.Options) sent
# by a private containerd (ctd.sh) in its Tasks.Create, as CRI sends a runtime's `options`:
# ShimCgroup puts the shim in that cgroup, on every v1 hierarchy it exists in; a ShimCgroup
# that exists nowhere fails the create; IoUid/IoGid own the stdio pipes of init and execs;
# the options shimvisor does not honour are refused by name. Each case runs on both
# runtimes (SV_CTD_RUNTIME picks one); runc-v2's answers to the refused options are noted,
# not asserted (it honours them).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ctd.sh"

# Tasks.Create through containerd's gRPC API (ctr cannot send ShimCgroup): python3-grpcio
need_grpc() {
	"$PY" -c 'import grpc' 2>/dev/null || skip_case "python3-grpcio is not installed (Debian package python3-grpcio)"
}

# task_create [--stdio DIR] ID [FIELD=VALUE...]: containerd's Tasks.Create of container ID
# (no stdio, or stdout and stderr the FIFOs DIR/out and DIR/err) with task options, a containerd.runc.v1.Options of the fields
# given by number (1 2 9 bool, 4 5 uint, the others strings). The reference runc keeps its
# state in $CD/runc (field 7). Prints "0 PID" or "CODE MESSAGE".
task_create() {
	local out="" id
	[ "$1" = --stdio ] && { out=$2; shift 2; }
	id=$1
	shift
	[ "$CTD_RT" = io.containerd.runc.v2 ] && set -- "$@" "7=$CD/runc"
	"$PY" - "$HERE" "$CD/c.sock" "$CTD_NS" "$id" "$out" "$@" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
import grpc
from shim_client import string, field, fields
sock, ns, cid, out = sys.argv[2:6]
opts = b""
for kv in sorted(sys.argv[6:], key=lambda s: int(s.split("=", 1)[0])):
    num, val = kv.split("=", 1)
    num = int(num)
    opts += field(num, 0, int(val)) if num in (1, 2, 4, 5, 9) else string(num, val)
any_ = string(1, "containerd.runc.v1.Options") + string(2, opts)
req = string(1, cid) + (string(5, out + "/out") + string(6, out + "/err") if out else b"") + field(9, 2, any_)
ch = grpc.insecure_channel("unix://" + sock)
create = ch.unary_unary("/containerd.services.tasks.v1.Tasks/Create")
try:
    resp = create(req, metadata=[("containerd-namespace", ns)], timeout=20)
    pid = dict(fields(resp)).get(2, 0)
    print(0, pid)
except grpc.RpcError as e:
    print(e.code().value[0], e.details())
PY
}

# task_start ID: containerd's Tasks.Start of a created task (`ctr task start` would create it).
task_start() {
	"$PY" - "$CD/c.sock" "$CTD_NS" "$1" <<'PY'
import sys
import grpc
sock, ns, cid = sys.argv[1:4]
start = grpc.insecure_channel("unix://" + sock).unary_unary("/containerd.services.tasks.v1.Tasks/Start")
try:
    start(b"\x0a" + bytes([len(cid)]) + cid.encode(), metadata=[("containerd-namespace", ns)], timeout=20)
except grpc.RpcError as e:
    sys.exit("%s %s" % (e.code().value[0], e.details()))
PY
}

# A container ID of this case's busybox rootfs for the runtime under test (no task yet).
container_new() {
	ctr containers create --runtime "$CTD_RT" --rootfs "$RFS" "$1" /bin/sleep 1000 >/dev/null ||
		rt_fail "containers create $1"
}

# Task and container ID removed; its shim gone.
task_gone() {
	local shims
	shims=$(ctd_shim_pids "$1")
	ctr task rm -f "$1" >/dev/null 2>&1
	ctr containers rm "$1" >/dev/null 2>&1 || rt_fail "containers rm $1"
	pid_wait 10 $shims || rt_fail "$1: shim left: $shims"
}

# The v1 hierarchies under /sys/fs/cgroup (their mount points), one a line.
v1_mounts() { awk '$3 == "cgroup" { print $2 }' /proc/self/mounts; }

# The cgroup path of pid $1 in each v1 hierarchy, "<controllers>:<path>" a line, sorted.
v1_cgroups() { awk -F: '$1 != 0 { print $2 ":" $3 }' "/proc/$1/cgroup" | sort; }

shim_cgroup() {
	local t=$1 cg m out pid want got
	cg="/$CTD_NS/shim-$t"
	# the cgroup, made in every v1 hierarchy (cpuset's cpus and mems from its root)
	for m in $(v1_mounts); do
		mkdir -p "$m$cg" || rt_fail "mkdir $m$cg"
		if [ -f "$m/cpuset.cpus" ]; then
			cat "$m/cpuset.cpus" > "$m/$CTD_NS/cpuset.cpus"
			cat "$m/cpuset.mems" > "$m/$CTD_NS/cpuset.mems"
			cat "$m/cpuset.cpus" > "$m$cg/cpuset.cpus"
			cat "$m/cpuset.mems" > "$m$cg/cpuset.mems"
		fi
	done
	container_new "sc-$t"
	out=$(task_create "sc-$t" "3=$cg")
	[ "${out%% *}" = 0 ] || rt_fail "Tasks.Create with ShimCgroup $cg: $out"
	pid=$(ctd_shim_pids "sc-$t")
	[ -n "$pid" ] || rt_fail "no shim for sc-$t"
	want=$(awk -F: -v cg="$cg" '$1 != 0 { print $2 ":" cg }' "/proc/$pid/cgroup" | sort)
	got=$(v1_cgroups "$pid")
	note "$CTD_RT: shim $pid in $(tr '\n' ' ' <<<"$got")"
	[ "$got" = "$want" ] || rt_fail "shim $pid is not in $cg on every v1 hierarchy: $got"
	# the task's init is not the shim's cgroup's: it has its own (ctr's spec: /<ns>/<id>)
	[ "$(ctr task ls | awk -v id="sc-$t" '$1 == id { print $3 }')" = CREATED ] ||
		rt_fail "task sc-$t is not created: $(ctr task ls)"
	task_gone "sc-$t"
	# a ShimCgroup that is nowhere: the create fails, as runc-v2's `start` does
	container_new "sn-$t"
	out=$(task_create "sn-$t" "3=/$CTD_NS/no-such-$t")
	note "$CTD_RT: $out"
	[ "${out%% *}" != 0 ] || rt_fail "Tasks.Create with a ShimCgroup that does not exist succeeded"
	grep -qF "failed to load cgroup /$CTD_NS/no-such-$t" <<<"$out" || rt_fail "not refused by the cgroup: $out"
	[ -z "$(ctd_shim_pids "sn-$t")" ] || rt_fail "a shim is left: $(ctd_shim_pids "sn-$t")"
	ctr containers rm "sn-$t" >/dev/null || rt_fail "containers rm sn-$t"
}

test_shim_cgroup() {
	need_grpc
	[ -n "$(v1_mounts)" ] || skip_case "no cgroup v1 hierarchy (a cgroup2-only host is not covered here)"
	ctd_setup
	each_rt shim_cgroup
}

io_owner() {
	local t=$1 io out pid epid rd1 rd2 want
	# a directory of their own: a client's task delete removes the FIFOs' directory
	io="$CD/io-$t"
	mkdir "$io" && mkfifo "$io/out" "$io/err" || rt_fail "mkfifo in $io"
	# their reader, as containerd's client would be (runc-v2 waits for one)
	exec {rd1}<>"$io/out" {rd2}<>"$io/err"
	container_new "io-$t"
	out=$(task_create --stdio "$io" "io-$t" 4=4321 5=4322)
	[ "${out%% *}" = 0 ] || rt_fail "Tasks.Create with IoUid/IoGid: $out"
	pid=${out#0 }
	task_start "io-$t" || rt_fail "Tasks.Start io-$t"
	# the task's stdout and stderr: the pipes the shim reads, given to IoUid:IoGid by the
	# shim; the init (runc's fixStdioPermissions, shimvisor-init's process_stdio_owner)
	# then gives their uid to the process's user, root here (86-runc-parity2.t)
	out=$(stat -L -c '%F %u:%g' "/proc/$pid/fd/1" "/proc/$pid/fd/2" | sort -u)
	note "$CTD_RT: init $pid's stdout and stderr: $out"
	want="fifo 0:4322"
	[ "$out" = "$want" ] || rt_fail "init's stdout, stderr: '$out', not pipes of ${want#fifo }"
	# not the FIFOs containerd named: they keep their owner
	[ "$(stat -c %u:%g "$io/out" "$io/err" | sort -u)" = 0:0 ] || rt_fail "a stdio FIFO was given away"
	# an exec's pipes too (ctr's FIFOs, in a directory of their own)
	ctr task exec -d --fifo-dir "$io/x" --exec-id e1 "io-$t" /bin/sleep 1001 || rt_fail "exec -d e1"
	epid=$(ctr task ps "io-$t" | awk -v i="$pid" 'NR > 1 && $1 != i { print $1 }')
	[ -n "$epid" ] || rt_fail "no exec in $(ctr task ps "io-$t")"
	out=$(stat -L -c '%F %u:%g' "/proc/$epid/fd/1" "/proc/$epid/fd/2" | sort -u)
	note "$CTD_RT: exec $epid's stdout and stderr: $out"
	[ "$out" = "$want" ] || rt_fail "exec's stdout, stderr: '$out', not pipes of ${want#fifo }"
	task_gone "io-$t"
	exec {rd1}<&- {rd2}<&-
}

test_io_uid_gid() {
	need_grpc
	ctd_setup
	each_rt io_owner
}

# each option shimvisor refuses: field=value, its name in the error
REFUSED="1=1:NoPivotRoot 6=/usr/sbin/runc:BinaryName 7=/run/x:Root 8=/usr/sbin/criu:CriuPath
9=1:SystemdCgroup 10=/tmp/img:CriuImagePath 11=/tmp/work:CriuWorkPath"

refused() {
	local t=$1 r kv name out i=0
	for r in $REFUSED; do
		kv=${r%%:*}
		name=${r#*:}
		i=$((i + 1))
		# the reference's state stays in $CD/runc: its Root is not one to try
		[ "$t" = runc ] && [ "$name" = Root ] && continue
		container_new "rf$i-$t"
		out=$(task_create "rf$i-$t" "$kv")
		note "$CTD_RT: $name ($kv): $out"
		if [ "$t" = sv ]; then
			[ "${out%% *}" = 12 ] || rt_fail "$name set: not refused as unimplemented (12): $out"
			grep -qF "runc option $name (" <<<"$out" || rt_fail "$name: the error does not name it: $out"
		fi
		task_gone "rf$i-$t"
	done
	# set to their zero values, and the ones honoured: accepted
	container_new "ok-$t"
	out=$(task_create "ok-$t" 1=0 2=1 4=0 5=0 6= 8= 9=0)
	[ "${out%% *}" = 0 ] || rt_fail "zero values and NoNewKeyring refused: $out"
	task_gone "ok-$t"
}

test_refused_options() {
	need_grpc
	ctd_setup
	each_rt refused
}

run_cases "$@"
