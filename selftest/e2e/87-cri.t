#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# selftest/e2e/87-cri.t: Kubernetes' runtime API (CRI) end to end, through a private
# containerd with its CRI plugin (cri/cri.sh), each case once per runtime handler: ours
# (`shimvisor`, io.containerd.shimvisor.v2) and the reference (`runc`, io.containerd.runc.v2)
# in the same run, with the same assertions. SV_CRI_HANDLERS picks handlers.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ctd.sh"
. "$(dirname "$0")/cri/cri.sh"

# each_handler FN: FN HANDLER once per handler; H (the handler) names pods apart.
each_handler() {
	local h
	for h in $CRI_HANDLERS; do
		[ "$h" = runc ] && ! command -v runc >/dev/null && skip_case "runc is not installed (Debian package runc)"
		H=$h
		"$1" "$h"
	done
}
h_fail() { fail "$H: $*"; }

# A pod with one container: it runs, ExecSync answers, the pod is on the bridge
one_container() {
	local pod c r
	pod=$(run_pod "p1-$1" "$1") || exit 1
	c=$(run_ctr "$pod" "p1-$1" c1 '["/bin/sleep", "1000"]') || exit 1
	wait_state "$c" CONTAINER_RUNNING || h_fail "c1 not running"
	r=$(exec_sync "$c" sh -c 'echo hello; exit 3') || h_fail "ExecSync"
	[ "$r" = "3 hello" ] || h_fail "ExecSync: $r"
	pod_down "$pod"
	nothing_left_cri
}
test_one_container() {
	cri_setup
	each_handler one_container
}

cri_cache_build
run_cases "$@"
