#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# bench/pods.py: the shims' memory per Kubernetes pod on each CRI runtime handler.
"""Issue 14's figure (`make bench`'s last phase, "pods"; alone: `python3 bench/pods.py`, as
root, after `make`).

Runs selftest/e2e/cri/pod_mem.sh: one private containerd with the CRI plugin and the runtime
handlers `shimvisor` (our worker as io.containerd.shimvisor.v2) and `runc` (containerd's
runc-v2 shim), set up as selftest/e2e/87-cri.t's cases are; on each handler N pods of a
sandbox and two busybox containers (N = 1 and 10), then the shims' RSS, PSS and USS from
/proc/PID/smaps_rollup, summed and divided by N. What counts as the shim: every
containerd-shim-* process of that containerd and its descendants outside the pods' cgroups
(runc-v2: one shim per pod; ours: one worker per container, so three per pod).

Writes section "Pods (CRI)" of bench/RESULTS.md and key "pods" of bench/results.json; prints
the table. A host without what the CRI scenario needs (cgroup v1, the CNI plugins) skips
(exit 77). Stdlib only.
"""
import argparse
import datetime
import json
import os
import platform
import subprocess
import sys

from benchlib import BUILD, RESULTS_JSON, RESULTS_MD, TOP, log, merge_sections, update_json

SECTION = "Pods (CRI)"
SCRIPT = os.path.join(TOP, "selftest", "e2e", "cri", "pod_mem.sh")


def report(res):
    P = ["## %s\n" % SECTION,
         "`python3 bench/pods.py` (%s, %s): `selftest/e2e/cri/pod_mem.sh %s` in one private "
         "containerd 1.6 with the CRI plugin; per pod (a sandbox and two busybox containers), "
         "the shims' memory on each runtime handler, in KiB. runc-v2 runs one shim per pod; "
         "shimvisor one worker per container (3 per pod).\n" % (
             res["date"], res["kernel"], " ".join(str(n) for n in res["ns"])),
         "| handler | pods | shim processes | RSS per pod | PSS per pod | USS per pod |",
         "|---|---|---|---|---|---|"]
    for r in res["runs"]:
        p = r["per_pod_kib"]
        P.append("| %s | %d | %d | %d | %d | %d |" % (r["handler"], r["pods"], r["shim_processes"],
                                                    p["rss"], p["pss"], p["uss"]))
    by = {(r["handler"], r["pods"]): r["per_pod_kib"] for r in res["runs"]}
    ratios = []
    for n in res["ns"]:
        a, b = by.get(("shimvisor", n)), by.get(("runc", n))
        if a and b and a["uss"] and a["pss"]:
            ratios.append("at %d pods runc-v2's shim costs %.1fx ours in USS, %.1fx in PSS" % (
                n, b["uss"] / a["uss"], b["pss"] / a["pss"]))
    if ratios:
        P.append("\n" + "; ".join(ratios) + ".")
    P.append("")
    return "\n".join(P) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", default="1,10", help="pod counts (default 1,10)")
    ap.add_argument("--out", default=RESULTS_MD)
    ap.add_argument("--json", default=RESULTS_JSON)
    args = ap.parse_args()
    ns = [int(x) for x in args.n.split(",")]
    env = dict(os.environ, BUILD=BUILD)
    cp = subprocess.run(["bash", SCRIPT] + [str(n) for n in ns], env=env, stdout=subprocess.PIPE,
                        timeout=1800)
    if cp.returncode == 77:
        log("skipped: the host lacks what the CRI scenario needs")
        return 0
    if cp.returncode:
        log("pod_mem.sh failed (status %d)" % cp.returncode)
        return 1
    runs = [json.loads(line) for line in cp.stdout.decode().splitlines() if line.startswith("{")]
    if len(runs) != 2 * len(ns):
        log("pod_mem.sh gave %d results, not %d" % (len(runs), 2 * len(ns)))
        return 1
    res = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%MZ"),
           "kernel": platform.release(), "ns": ns, "runs": runs}
    text = report(res)
    print(text)
    merge_sections(args.out, text, {SECTION})
    update_json(args.json, {"pods": res}, "pods")
    return 0


if __name__ == "__main__":
    sys.exit(main())
