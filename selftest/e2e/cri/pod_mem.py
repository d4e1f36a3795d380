# SPDX-License-Identifier: Apache-2.0
# selftest/e2e/cri/pod_mem.py: the shims' memory per Kubernetes pod (a sandbox and two
# containers), through containerd's CRI: starts N pods on a runtime handler, measures, removes
# them, prints one JSON object. Run by pod_mem.sh, which sets up the private containerd.
#
#   pod_mem.py SOCK HANDLER N CGROUP_PARENT IMAGE     ($CRI_GEN: api.proto's Python)
#
# What counts as the shim: every process whose command line is a containerd-shim-* binary
# with `-address SOCK` (runc-v2's shim; our worker, exec'd under that name, and its forked
# server), and every descendant of one that is not in a pod's cgroup (CGROUP_PARENT, on the
# pids hierarchy): the containers' processes are the pods', the shim's helpers are the
# shim's (runc-v2 has none left running; ours neither, once a task started).
# Figures from /proc/PID/smaps_rollup, in KiB: RSS, PSS (shared pages split among their
# users), USS (private pages: what the process alone costs).
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cri import Client  # noqa: E402


def check(rc_out, what):
    rc, out = rc_out
    if rc:
        sys.exit("pod_mem: %s: %s" % (what, out))
    return json.loads(out)


def start_pods(c, handler, n, parent, image):
    pods = []
    ns = {"network": "POD", "pid": "CONTAINER", "ipc": "POD"}
    for i in range(n):
        name = "mem-%s-%d" % (handler, i)
        cfg = {"metadata": {"name": name, "uid": "uid-" + name, "namespace": "bench"},
               "hostname": name,
               "linux": {"cgroup_parent": "%s/%s" % (parent, name),
                         "security_context": {"namespace_options": ns}}}
        pod = check(c.call("RunPodSandbox", json.dumps({"config": cfg, "runtime_handler": handler})),
                    "RunPodSandbox " + name)["pod_sandbox_id"]
        pods.append(pod)
        for k in ("c1", "c2"):
            ctr = {"metadata": {"name": k}, "image": {"image": image},
                   "command": ["/bin/sleep", "100000"],
                   "linux": {"security_context": {"namespace_options": ns}}}
            cid = check(c.call("CreateContainer", json.dumps(
                {"pod_sandbox_id": pod, "config": ctr, "sandbox_config": cfg})),
                "CreateContainer %s/%s" % (name, k))["container_id"]
            check(c.call("StartContainer", json.dumps({"container_id": cid})), "StartContainer")
    return pods


def shim_pids(sock, parent):
    procs = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open("/proc/%s/cmdline" % d, "rb") as f:
                argv = f.read().split(b"\0")
            with open("/proc/%s/cgroup" % d) as f:
                cg = [l.split(":", 2)[2].strip() for l in f if l.split(":", 2)[1] == "pids"]
        except (OSError, IndexError, ValueError):
            continue
        procs[int(d)] = (ppid, argv, cg[0] if cg else "")
    addr = sock.encode()
    shims = {p for p, (_, argv, _) in procs.items()
             if os.path.basename(argv[0]).startswith(b"containerd-shim-")
             and b"-address" in argv and addr in argv}
    in_pod = lambda cg: cg == parent or cg.startswith(parent + "/")
    grown = True
    while grown:
        grown = False
        for p, (ppid, _, cg) in procs.items():
            if p not in shims and ppid in shims and not in_pod(cg):
                shims.add(p)
                grown = True
    return sorted(shims)


def rollup(pid):
    v = {"rss": 0, "pss": 0, "uss": 0}
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            k, _, rest = line.partition(":")
            kib = int(rest.split()[0]) if rest.strip().endswith("kB") else 0
            if k == "Rss":
                v["rss"] = kib
            elif k == "Pss":
                v["pss"] = kib
            elif k in ("Private_Clean", "Private_Dirty"):
                v["uss"] += kib
    return v


def main(argv):
    if len(argv) != 5:
        sys.exit("usage: pod_mem.py SOCK HANDLER N CGROUP_PARENT IMAGE")
    sock, handler, n, parent, image = argv[0], argv[1], int(argv[2]), argv[3], argv[4]
    c = Client(sock)
    pods = start_pods(c, handler, n, parent, image)
    pids = shim_pids(sock, parent)
    tot = {"rss": 0, "pss": 0, "uss": 0}
    names = {}
    for p in pids:
        try:
            r = rollup(p)
            with open("/proc/%d/comm" % p) as f:
                comm = f.read().strip()
        except OSError:
            continue
        names[comm] = names.get(comm, 0) + 1
        for k in tot:
            tot[k] += r[k]
    for pod in pods:
        check(c.call("StopPodSandbox", json.dumps({"pod_sandbox_id": pod})), "StopPodSandbox")
        check(c.call("RemovePodSandbox", json.dumps({"pod_sandbox_id": pod})), "RemovePodSandbox")
    print(json.dumps({"handler": handler, "pods": n, "shim_processes": len(pids), "by_name": names,
                      "total_kib": tot,
                      "per_pod_kib": {k: round(v / n) for k, v in tot.items()}}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
