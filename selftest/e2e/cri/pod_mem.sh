#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# selftest/e2e/cri/pod_mem.sh: the shims' memory per pod (pod_mem.py) on each runtime handler,
# for N=1 and N=10 pods of a sandbox and two containers, in one private CRI containerd set
# up as 87-cri.t's cases are (cri.sh) and cleaned up the same way. One JSON line per run.
# Usage: pod_mem.sh [N...] (default 1 10); SV_CRI_HANDLERS picks handlers. Needs root.
HERE=$(cd "$(dirname "$0")/.." && pwd)
. "$HERE/lib.sh"
. "$HERE/ctd.sh"
. "$HERE/cri/cri.sh"

skip_case() { echo "pod_mem: SKIP $*" >&2; exit 77; }
[ "$(id -u)" = 0 ] || skip_case "needs root"
T=$(mktemp -d /tmp/sv-mem.XXXXXX)
trap case_cleanup EXIT
cri_setup
for h in $CRI_HANDLERS; do
	for n in ${*:-1 10}; do
		CRI_GEN="$CD/gen" "$PY" "$CRI_DIR/pod_mem.py" "$CD/c.sock" "$h" "$n" "$CRI_CG" "$CRI_IMAGE" ||
			fail "pod_mem.py $h $n"
		nothing_left_cri
	done
done
