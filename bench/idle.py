#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# bench/idle.py: issue 13's "idle" phase of `make bench`: what an idle daemon's processes cost (RSS/PSS/USS of each, and where).
"""An idle shimvisord is four processes: the monitor (root), the engine (`shimvisord-eng`),
the spare worker exec'd ahead of need (`shimvisor-worker idle`) and the warm first stage it
exec'd ahead (`shimvisor-init --warm`). `measure(stack)` waits until all four exist, lets them
settle, and reads each one's smaps: totals (Rss, Pss, USS = Private_Clean+Private_Dirty) and
the Rss per kind of mapping (its own binary, libc, ld.so, other libraries, heap, stack,
anonymous), so a regression says where it grew. `python3 bench/idle.py` runs it alone on a
private daemon (no containerd needed) and prints the table."""
import os
import sys
import time

from benchlib import BenchError, SvStack, children_of, drive, log, proc_comm, proc_ppid, smaps_rollup

TARGET_IDLE_KIB = 2048          # issue 13: monitor + engine RSS, summed
ROLES = ("monitor", "engine", "spare worker", "warm init")


def mapping_kind(path, exe):
    if not path:
        return "anon"
    if path in ("[heap]", "[stack]"):
        return path.strip("[]")
    if path.startswith("["):
        return "anon"           # [vdso], [vvar]: not ours, and tiny
    base = os.path.basename(path)
    if path == exe or base.startswith("shimvisor") or path.startswith("/memfd:") or "(deleted)" in path:
        return "binary"
    if base.startswith("libc.so"):
        return "libc"
    if base.startswith("ld-linux"):
        return "ld.so"
    return "lib:" + base.split(".so")[0]


def smaps_by_kind(pid):
    """{kind: Rss KiB} of one process's mappings; None if it is gone."""
    try:
        exe = os.readlink("/proc/%d/exe" % pid)
        out, kind = {}, None
        with open("/proc/%d/smaps" % pid) as f:
            for line in f:
                parts = line.split()
                if "-" in parts[0] and ":" not in parts[0]:
                    kind = mapping_kind(" ".join(parts[5:]) if len(parts) > 5 else "", exe)
                elif parts[0] == "Rss:":
                    out[kind] = out.get(kind, 0) + int(parts[1])
        return {k: v for k, v in out.items() if v}
    except (FileNotFoundError, ProcessLookupError):
        return None


def daemon_processes(mon):
    """{role: pid} of the idle daemon below the monitor pid mon (a role not found is absent)."""
    procs = {"monitor": mon}
    for p in children_of([mon]):
        comm, pp = proc_comm(p), proc_ppid(p)
        if pp == mon and comm == "shimvisord-eng":
            procs["engine"] = p
        elif pp == mon and comm.startswith("shimvisor-work"):
            procs["spare worker"] = p
    w = procs.get("spare worker")
    for p in children_of([w]) if w else ():
        if proc_ppid(p) == w and proc_comm(p).startswith("shimvisor-init"):
            procs["warm init"] = p
    return procs


def measure(stack, settle=5.0, timeout=20.0):
    """Each idle process's memory, once all four run and `settle` seconds passed."""
    end = time.monotonic() + timeout
    while True:
        procs = daemon_processes(stack.svd_proc.pid)
        if len(procs) == len(ROLES):
            break
        if time.monotonic() > end:
            raise BenchError("idle: only %s after %g s" % (", ".join(procs), timeout))
        time.sleep(0.05)
    time.sleep(settle)
    rows = {}
    for role in ROLES:
        pid = procs[role]
        s, kinds = smaps_rollup(pid), smaps_by_kind(pid)
        if s is None or kinds is None:
            raise BenchError("idle: the %s (pid %d) ended while measured" % (role, pid))
        rows[role] = dict(s, pid=pid, comm=proc_comm(pid), kinds=kinds)
    daemon = [rows[r] for r in ("monitor", "engine")]
    res = {"processes": rows, "settle_s": settle,
           "daemon_rss_kib": sum(r["rss"] for r in daemon),
           "daemon_pss_kib": sum(r["pss"] for r in daemon),
           "daemon_uss_kib": sum(r["uss"] for r in daemon),
           "target_kib": TARGET_IDLE_KIB}
    for role in ROLES:
        r = rows[role]
        log("  idle %-12s pid %-7d RSS %5d PSS %5d USS %5d KiB  (%s)" % (
            role, r["pid"], r["rss"], r["pss"], r["uss"],
            ", ".join("%s %d" % kv for kv in sorted(r["kinds"].items(), key=lambda kv: -kv[1]))))
    log("  idle daemon (monitor + engine): RSS %d KiB (target <= %d), PSS %d, USS %d" % (
        res["daemon_rss_kib"], TARGET_IDLE_KIB, res["daemon_pss_kib"], res["daemon_uss_kib"]))
    return res


def target(res):
    """The bench's target row: (what, value, target, pass, peer)."""
    p = res["processes"]
    return ("idle daemon RSS, monitor + engine (KiB)", res["daemon_rss_kib"], "<= %d" % TARGET_IDLE_KIB,
            res["daemon_rss_kib"] <= TARGET_IDLE_KIB,
            "PSS %d, USS %d; spare worker USS %d, warm init USS %d (each apart)" % (
                res["daemon_pss_kib"], res["daemon_uss_kib"], p["spare worker"]["uss"], p["warm init"]["uss"]))


def report(res, P):
    """RESULTS.md's section on the idle daemon."""
    kinds = ["binary", "libc", "ld.so", "heap", "stack", "anon"]
    rows = res["processes"]
    libs = sorted({k for r in rows.values() for k in r["kinds"] if k not in kinds})
    P("## Idle daemon memory (issue 13)")
    P("")
    P("A private shimvisord with no task, read %g s after its spare worker and warm init exist "
      "(`bench/idle.py`; `/proc/PID/smaps_rollup`: USS = Private_Clean+Private_Dirty; the Rss of "
      "each kind of mapping from `/proc/PID/smaps`)." % res["settle_s"])
    P("")
    P("| process | RSS | PSS | USS | %s |" % " | ".join("Rss " + k for k in kinds + libs))
    P("|---|---|---|---|%s" % ("---|" * len(kinds + libs)))
    for role in ROLES:
        r = rows[role]
        P("| %s (`%s`) | %d | %d | %d | %s |" % (role, r["comm"], r["rss"], r["pss"], r["uss"],
                                                 " | ".join(str(r["kinds"].get(k, 0)) for k in kinds + libs)))
    P("| **monitor + engine** | **%d** | %d | %d | (target: RSS <= %d KiB) |" % (
        res["daemon_rss_kib"], res["daemon_pss_kib"], res["daemon_uss_kib"], TARGET_IDLE_KIB))
    P("")
    P("RSS counts every page mapped, shared ones whole: libc's and ld.so's text are the same "
      "page-cache pages in every process of the machine, mapped 64 KiB at a time around each "
      "fault (fault-around), so they dominate RSS but hardly PSS. What the daemon costs the "
      "machine is its PSS; what it alone holds, its USS.")
    P("")


def main():
    st = SvStack(prefix="shimvisor-idle.")

    def body():
        st.check_build()
        st.make_scratch()
        st.copy_binaries()
        st.start_shimvisord()
        res = measure(st, settle=float(os.environ.get("IDLE_SETTLE", "5")))
        lines = []
        report(res, lines.append)
        print("\n".join(lines))
        return 0 if target(res)[3] else 1
    return drive(body, st.cleanup)


if __name__ == "__main__":
    sys.exit(main())
