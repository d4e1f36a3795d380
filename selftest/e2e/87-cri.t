#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# selftest/e2e/87-cri.t: Kubernetes' runtime API (CRI) end to end, through a private
# containerd with its CRI plugin (cri/cri.sh), each case once per runtime handler: ours
# (`shimvisor`, io.containerd.shimvisor.v2), then the reference (`runc`,
# io.containerd.runc.v2), in the same containerd with the same assertions; after each,
# nothing of the pod is left (nothing_left_cri). SV_CRI_HANDLERS picks handlers.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ctd.sh"
. "$(dirname "$0")/cri/cri.sh"

# each_handler FN: FN HANDLER once per handler; H names the handler in failures.
each_handler() {
	local h
	for h in $CRI_HANDLERS; do
		[ "$h" = runc ] && ! command -v runc >/dev/null && skip_case "runc is not installed (Debian package runc)"
		H=$h
		"$1" "$h"
		nothing_left_cri
	done
}
h_fail() { fail "$H: $*"; }

SLEEPER='["/bin/sleep", "100000"]'

# Two containers in one pod: the pod's IP is on our bridge and reachable from the host; c1
# serves TCP, c2 reaches it on 127.0.0.1 (one network namespace), both see one IPC
# namespace and one /dev/shm; each keeps its own pid namespace. Then StopContainer,
# ContainerStatus EXITED with SIGTERM's status, RemoveContainer, the pod down.
pod_net_ipc() {
	local pod c1 c2 ip r i
	pod=$(run_pod "net-$1" "$1") || exit 1
	ip=$(cri_get "$(cri PodSandboxStatus '{"pod_sandbox_id": "'"$pod"'"}')" 'j["status"]["network"]["ip"]')
	[[ $ip == "$CRI_NET".* ]] || h_fail "pod IP '$ip' is not on $CRI_BR ($CRI_NET.0/24)"
	c1=$(run_ctr "$pod" "net-$1" c1 '["/bin/sh", "-c", "trap \"exit 42\" TERM; echo from-c1 > /dev/shm/mark; /bin/busybox nc -ll -p 8080 -e /bin/hostname & wait"]') || exit 1
	c2=$(run_ctr "$pod" "net-$1" c2 "$SLEEPER") || exit 1
	# c1 listens once nc is up: c2 connects until it answers (bounded)
	for i in $(seq 1 50); do
		r=$(exec_sync "$c2" /bin/busybox nc 127.0.0.1 8080) || h_fail "ExecSync nc"
		[ "$r" = "0 net-$1" ] && break
		sleep 0.1
	done
	[ "$r" = "0 net-$1" ] || h_fail "c2 -> 127.0.0.1:8080 (c1): '$r'"
	r=$(timeout 5 bash -c 'exec 3<>/dev/tcp/$0/8080 && cat <&3' "$ip") || h_fail "host -> $ip:8080: no answer"
	[ "$r" = "net-$1" ] || h_fail "host -> $ip:8080: '$r'"
	r=$(exec_sync "$c2" cat /dev/shm/mark) || h_fail "ExecSync cat"
	[ "$r" = "0 from-c1" ] || h_fail "c2's /dev/shm/mark: '$r'"
	local p1 p2
	p1=$(ctr_info "$c1" 'j["pid"]') && p2=$(ctr_info "$c2" 'j["pid"]') || h_fail "no pids"
	[ "$(readlink /proc/"$p1"/ns/ipc)" = "$(readlink /proc/"$p2"/ns/ipc)" ] || h_fail "IPC namespaces differ"
	[ "$(readlink /proc/"$p1"/ns/net)" = "$(readlink /proc/"$p2"/ns/net)" ] || h_fail "network namespaces differ"
	[ "$(readlink /proc/"$p1"/ns/ipc)" != "$(readlink /proc/self/ns/ipc)" ] || h_fail "c1 has the host's IPC namespace"
	[ "$(readlink /proc/"$p1"/ns/pid)" != "$(readlink /proc/"$p2"/ns/pid)" ] || h_fail "pid namespaces shared (pid: CONTAINER)"
	# StopContainer: SIGTERM, which c1's shell traps (SIGKILL would come after 10 s)
	cri StopContainer '{"container_id": "'"$c1"'", "timeout": 10}' >/dev/null || h_fail "StopContainer c1"
	r=$(cri ContainerStatus '{"container_id": "'"$c1"'"}')
	[ "$(cri_get "$r" '[j["status"]["state"], j["status"]["exit_code"], j["status"]["reason"]]')" = '["CONTAINER_EXITED", 42, "Error"]' ] ||
		h_fail "c1 after StopContainer: $r"
	cri RemoveContainer '{"container_id": "'"$c1"'"}' >/dev/null || h_fail "RemoveContainer c1"
	r=$(cri ListContainers '{"filter": {"pod_sandbox_id": "'"$pod"'"}}')
	[ "$(cri_get "$r" '[(c["metadata"]["name"], c["state"]) for c in j["containers"]]')" = '[["c2", "CONTAINER_RUNNING"]]' ] ||
		h_fail "ListContainers after removing c1: $r"
	pid_wait 5 "$p1" || h_fail "c1's process $p1 still runs"
	pod_down "$pod" "net-$1"
}
test_pod_net_ipc() {
	cri_setup
	each_handler pod_net_ipc
}

# ExecSync (stdout, exit status, stderr apart), then streaming Exec and Attach over
# containerd's streaming server (WebSocket, v4.channel.k8s.io): stdin in, stdout and stderr
# back on their channels, the exit status on the error channel.
exec_attach() {
	local pod c r
	pod=$(run_pod "ex-$1" "$1") || exit 1
	c=$(run_ctr "$pod" "ex-$1" c1 '["/bin/sh", "-c", "while read l; do echo att:$l; done"]' '"stdin": true') || exit 1
	r=$(cri ExecSync '{"container_id": "'"$c"'", "cmd": ["/bin/sh", "-c", "echo out; echo err >&2; exit 3"], "timeout": 10}') ||
		h_fail "ExecSync"
	[ "$(cri_get "$r" '[__import__("base64").b64decode(j[k]).decode() for k in ("stdout", "stderr")] + [j["exit_code"]]')" = '["out\n", "err\n", 3]' ] ||
		h_fail "ExecSync: $r"
	# streaming Exec: a shell that reads one line
	r=$(cri Exec '{"container_id": "'"$c"'", "cmd": ["/bin/sh", "-c", "read l; echo got:$l; echo e >&2; exit 5"], "stdin": true, "stdout": true, "stderr": true}') ||
		h_fail "Exec"
	r=$(cri_stream "$(cri_get "$r" 'j["url"]')" --stdin $'abc\n') || h_fail "Exec stream"
	[ "$(cri_get "$r" '[j["protocol"], j["stdout"], j["stderr"], j["status"]["reason"], j["status"]["details"]["causes"][0]["message"]]')" = \
		'["v4.channel.k8s.io", "got:abc\n", "e\n", "NonZeroExitCode", "5"]' ] || h_fail "Exec stream: $r"
	r=$(cri Exec '{"container_id": "'"$c"'", "cmd": ["/bin/true"], "stdout": true}') || h_fail "Exec true"
	r=$(cri_stream "$(cri_get "$r" 'j["url"]')") || h_fail "Exec stream true"
	[ "$(cri_get "$r" 'j["status"]["status"]')" = Success ] || h_fail "Exec of true: $r"
	# Attach to c1's stdin and stdout: what it reads comes back
	r=$(cri Attach '{"container_id": "'"$c"'", "stdin": true, "stdout": true}') || h_fail "Attach"
	r=$(cri_stream "$(cri_get "$r" 'j["url"]')" --stdin $'xyz\n' --until att:xyz) || h_fail "Attach stream"
	[ "$(cri_get "$r" 'j["stdout"]')" = att:xyz ] || h_fail "Attach: $r"
	pod_down "$pod" "ex-$1"
}
test_exec_attach() {
	cri_setup
	each_handler exec_attach
}

# ContainerStats (cpu and memory non-zero, from the shim's metrics), then
# UpdateContainerResources: the container's cgroup files change, and ContainerStatus says so.
stats_update() {
	local pod c r pid mem cpu
	pod=$(run_pod "st-$1" "$1") || exit 1
	c=$(run_ctr "$pod" "st-$1" c1 "$SLEEPER" "" '{"memory_limit_in_bytes": 134217728, "cpu_shares": 256}') || exit 1
	r=$(exec_sync "$c" sh -c 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; echo $i') || h_fail "ExecSync"
	[ "$r" = "0 20000" ] || h_fail "ExecSync loop: $r"
	r=$(cri ContainerStats '{"container_id": "'"$c"'"}') || h_fail "ContainerStats"
	[ "$(cri_get "$r" 'int(j["stats"]["cpu"]["usage_core_nano_seconds"]["value"]) > 0 and int(j["stats"]["memory"]["working_set_bytes"]["value"]) > 0')" = True ] ||
		h_fail "ContainerStats: $r"
	pid=$(ctr_info "$c" 'j["pid"]') || h_fail "pid"
	mem=$(cg_dir "$pid" memory) && cpu=$(cg_dir "$pid" cpu) || h_fail "no cgroup of $pid: $(cat /proc/$pid/cgroup)"
	[[ $mem == /sys/fs/cgroup/memory$CRI_CG/st-$1/$c ]] || h_fail "memory cgroup $mem"
	[ "$(cat "$mem/memory.limit_in_bytes") $(cat "$cpu/cpu.shares")" = "134217728 256" ] ||
		h_fail "created with: $(cat "$mem/memory.limit_in_bytes") $(cat "$cpu/cpu.shares")"
	cri UpdateContainerResources '{"container_id": "'"$c"'", "linux": {"memory_limit_in_bytes": 67108864, "cpu_shares": 512, "cpu_period": 100000, "cpu_quota": 50000}}' >/dev/null ||
		h_fail "UpdateContainerResources"
	[ "$(cat "$mem/memory.limit_in_bytes") $(cat "$cpu/cpu.shares") $(cat "$cpu/cpu.cfs_quota_us")" = "67108864 512 50000" ] ||
		h_fail "after the update: $(cat "$mem/memory.limit_in_bytes") $(cat "$cpu/cpu.shares") $(cat "$cpu/cpu.cfs_quota_us")"
	r=$(cri ContainerStatus '{"container_id": "'"$c"'"}')
	[ "$(cri_get "$r" 'j["status"]["resources"]["linux"]["memory_limit_in_bytes"]')" = 67108864 ] ||
		h_fail "ContainerStatus after the update: $r"
	pod_down "$pod" "st-$1"
}
test_stats_update() {
	cri_setup
	each_handler stats_update
}

# A container over its memory limit is killed by the kernel and reported OOMKilled, 137.
oom_killed() {
	local pod c r
	pod=$(run_pod "oom-$1" "$1") || exit 1
	c=$(run_ctr "$pod" "oom-$1" big '["/bin/dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1"]' "" \
		'{"memory_limit_in_bytes": 16777216, "memory_swap_limit_in_bytes": 16777216}') || exit 1
	wait_state "$c" CONTAINER_EXITED 20 || h_fail "big did not exit"
	r=$(cri ContainerStatus '{"container_id": "'"$c"'"}')
	[ "$(cri_get "$r" '[j["status"]["reason"], j["status"]["exit_code"]]')" = '["OOMKilled", 137]' ] ||
		h_fail "big: $r"
	pod_down "$pod" "oom-$1"
}
test_oom_killed() {
	cri_setup
	each_handler oom_killed
}

# containerd restarts with a pod of two containers running: they are listed running after
# it, ExecSync reaches them, and the pod comes down cleanly.
ctd_restart() {
	local pod c1 c2 r
	pod=$(run_pod "rs-$1" "$1") || exit 1
	c1=$(run_ctr "$pod" "rs-$1" c1 "$SLEEPER") || exit 1
	c2=$(run_ctr "$pod" "rs-$1" c2 "$SLEEPER") || exit 1
	ctd_stop
	ctd_start
	cri_ready || h_fail "the CRI plugin after the restart"
	r=$(cri ListContainers '{"filter": {"pod_sandbox_id": "'"$pod"'"}}') || h_fail "ListContainers after the restart"
	[ "$(cri_get "$r" 'sorted((c["metadata"]["name"], c["state"]) for c in j["containers"])')" = \
		'[["c1", "CONTAINER_RUNNING"], ["c2", "CONTAINER_RUNNING"]]' ] || h_fail "after the restart: $r"
	r=$(cri PodSandboxStatus '{"pod_sandbox_id": "'"$pod"'"}')
	[ "$(cri_get "$r" 'j["status"]["state"]')" = SANDBOX_READY ] || h_fail "pod after the restart: $r"
	r=$(exec_sync "$c2" sh -c 'echo alive') || h_fail "ExecSync after the restart"
	[ "$r" = "0 alive" ] || h_fail "ExecSync after the restart: $r"
	pod_down "$pod" "rs-$1"
}
test_ctd_restart() {
	cri_setup
	each_handler ctd_restart
}

cri_cache_build
run_cases "$@"
