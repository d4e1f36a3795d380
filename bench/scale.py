#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# bench/scale.py: what one daemon's operations cost as the number of tasks it holds grows.
"""Issue 15's figures (`make scale`; alone: `python3 bench/scale.py --n 200,2000`, as root,
after `make`).

For each N, a fresh private shimvisord (bench/benchlib.py's SvStack: snapshot of build/,
busybox-static rootfs, state on tmpfs, RLIMIT_NOFILE = --nofile) and then, in order:

  - start: N `shimvisor run -d --rootfs RFS sK /bin/sleep 100000`, 4 at a time: tasks/s over
    all N and over the last tenth (what one more task costs at that size);
  - `ls` and `ls --format json`: wall time (median of 3) and bytes;
  - the engine's CPU time (/proc/PID/schedstat: ns on a CPU) per call, over --calls calls
    one at a time: `shimvisor state` (answered by the engine) and `shimvisor ps` (through
    the task's worker);
  - monitor and engine RSS, their fd counts;
  - the host's memory per task: MemAvailable and Slab deltas from before the daemon started
    (other work on the machine moves them: a reading, not a proof);
  - restart: SIGKILL of monitor and engine, a new daemon on the same state; the time until
    a client (`ls -q`, waiting in the socket's backlog) is answered, the time to readiness
    (the ready fd: every task re-attached), the workers it logged late (no answer within
    reattach_timeout_ms), and the tasks `ls` shows after it;
  - delete: `shimvisor delete -f` of every task, 4 at a time: ms per task.

Writes section "Scale" of bench/RESULTS.md and key "scale" of bench/results.json; prints the
table. Stdlib only.
"""
import argparse
import datetime
import os
import platform
import re
import resource
import signal
import statistics
import subprocess
import sys
import time

from benchlib import (RESULTS_JSON, RESULTS_MD, SvStack, BenchError, drive, fd_count, log,
                      merge_sections, pool_run, smaps_rollup, update_json, wait_gone)

SECTION = "Scale"
CONC = 4


def meminfo():
    out = {}
    with open("/proc/meminfo") as f:
        for line in f:
            k, v = line.split(":", 1)
            out[k] = int(v.split()[0])
    return out


def oncpu_ns(pid):
    with open("/proc/%d/schedstat" % pid) as f:
        return int(f.read().split()[0])


class Scale(SvStack):
    def __init__(self, nofile, **kw):
        super().__init__(prefix="shimvisor-scale.", **kw)
        self.nofile = nofile

    def daemon_popen(self, meanwhile=None):
        """Start (or restart on the same state) the private daemon; seconds to its readiness."""
        d = os.path.join(self.scr, "sv")
        conf = os.path.join(d, "shimvisord.conf")
        if not os.path.exists(conf):
            os.makedirs(d)
            self.sv_state = os.path.join(d, "state")
            self.tmpfs_mount(self.sv_state)
            self.sv_sock = os.path.join(d, "ctl.sock")
            with open(conf, "w") as f:
                f.write("[policy]\nrootfs_sources = %s\n" % os.path.dirname(self.rfs))
        self.svd_log = open(os.path.join(d, "daemon.log"), "a")
        self.logs.append(self.svd_log)
        nofile = self.nofile

        def limits():
            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
        return self.spawn_daemon(conf, timeout=120, preexec_fn=limits, meanwhile=meanwhile)

    def first_answer(self, t0, out):
        """The seconds from t0 until an `ls -q` is answered: a client connects as soon as the
        socket is there and waits in its backlog until the engine serves."""
        while time.perf_counter() - t0 < 120:
            cp = subprocess.run(self.sv_cmd("ls", "-q"), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                timeout=120)
            if cp.returncode == 0:
                out["serve_s"] = time.perf_counter() - t0
                out["listed_at_serve"] = len(cp.stdout.split())
                return
            time.sleep(0.01)   # the socket is not there yet (the monitor binds it first)
        raise BenchError("no answer within 120 s of the restart")

    def late_workers(self):
        """Workers the daemon's log names late at re-attach: one line per worker (older
        daemons), or one line with their count."""
        n = 0
        with open(os.path.join(self.scr, "sv", "daemon.log"), errors="replace") as f:
            for line in f:
                m = re.search(r"re-attach: (\d+) of \d+ workers gave no answer", line)
                n += int(m.group(1)) if m else "no answer within" in line
        return n

    def one(self, n, calls):
        r = {"n": n}
        self.make_scratch()
        self.copy_binaries()
        self.make_rootfs()
        m0 = meminfo()
        self.daemon_popen()
        mon, eng = self.svd_pids()[:2]
        r["idle_rss_kib"] = self.daemon_rss([mon, eng])

        # start
        cmds = [self.sv_cmd("run", "-d", "--rootfs", self.rfs, "s%d" % i, "/bin/sleep", "100000")
                for i in range(n)]
        tenth = max(1, n // 10)
        wall1, _, err1 = pool_run(cmds[:n - tenth], CONC, timeout=60)
        wall2, _, err2 = pool_run(cmds[n - tenth:], CONC, timeout=60)
        if err1 or err2:
            raise BenchError("N=%d: %d starts failed: %s" % (n, len(err1 + err2), (err1 + err2)[:3]))
        r["start_per_s"] = n / (wall1 + wall2)
        r["start_last_tenth_per_s"] = tenth / wall2
        log("N=%d: started in %.1f s (%.1f/s; last tenth %.1f/s)" % (
            n, wall1 + wall2, r["start_per_s"], r["start_last_tenth_per_s"]))
        m1 = meminfo()
        r["host_kib_per_task"] = (m0["MemAvailable"] - m1["MemAvailable"]) / n
        r["slab_kib_per_task"] = (m1["Slab"] - m0["Slab"]) / n

        # ls
        for fmt, key in ((["ls"], "ls"), (["ls", "--format", "json"], "ls_json")):
            ts = []
            for _ in range(3):
                t0 = time.perf_counter()
                cp = subprocess.run(self.sv_cmd(*fmt), stdout=subprocess.PIPE, timeout=60, check=True)
                ts.append(time.perf_counter() - t0)
            r[key + "_ms"] = statistics.median(ts) * 1000
            r[key + "_bytes"] = len(cp.stdout)
        if len(self.sv_ls()) != n:
            raise BenchError("N=%d: ls shows %d tasks" % (n, len(self.sv_ls())))

        # the engine's CPU per call: state (answered by the engine), pids (through the worker)
        for verb in ("state", "ps"):
            c0 = oncpu_ns(eng)
            wall, _, err = pool_run([self.sv_cmd(verb, "s%d" % (i % n)) for i in range(calls)], 1)
            if err:
                raise BenchError("%s: %s" % (verb, err[:2]))
            r["engine_us_per_" + verb] = (oncpu_ns(eng) - c0) / calls / 1000
        r["rss_kib"] = {"monitor": smaps_rollup(mon)["rss"], "engine": smaps_rollup(eng)["rss"]}
        r["fds"] = {"monitor": fd_count(mon), "engine": fd_count(eng)}
        log("N=%d: engine %.1f us/state %.1f us/ps; RSS monitor %d engine %d KiB" % (
            n, r["engine_us_per_state"], r["engine_us_per_ps"], r["rss_kib"]["monitor"],
            r["rss_kib"]["engine"]))

        # restart
        before = self.late_workers()
        os.kill(mon, signal.SIGKILL)
        os.kill(eng, signal.SIGKILL)
        self.svd_proc.wait(10)
        wait_gone([eng], 10)
        served = {}
        r["restart_s"] = self.daemon_popen(lambda t0: self.first_answer(t0, served))
        r["restart_serve_s"] = served["serve_s"]
        r["restart_late"] = self.late_workers() - before
        left = len(self.sv_ls())
        r["restart_tasks_seen"] = left
        log("N=%d: restart served after %.2f s, re-attached after %.2f s, %d late workers, %d tasks" % (
            n, r["restart_serve_s"], r["restart_s"], r["restart_late"], left))

        # delete
        ids = ["s%d" % i for i in range(n)]
        wall, _, err = pool_run([self.sv_cmd("delete", "-f", i) for i in ids], CONC, timeout=60)
        if err:
            raise BenchError("N=%d: %d deletes failed: %s" % (n, len(err), err[:3]))
        r["delete_ms_per_task"] = wall / n * 1000
        log("N=%d: delete -f %.2f ms per task" % (n, r["delete_ms_per_task"]))
        self.cleanup()
        return r


def report(res):
    rows = res["runs"]
    P = []
    P.append("## %s\n" % SECTION)
    P.append("`python3 bench/scale.py --n %s` (%s, %s, %d CPUs, RLIMIT_NOFILE %d): one fresh daemon "
             "per N, `sleep` tasks started 4 at a time. Written by bench/scale.py.\n" % (
                 ",".join(str(r["n"]) for r in rows), res["date"], res["kernel"], os.cpu_count(),
                 res["nofile"]))
    P.append("| N | start/s (all; last tenth) | delete -f ms/task | restart: serving; all re-attached s "
             "(late workers) | ls ms (json ms, KiB) | engine µs per state; per ps | "
             "RSS KiB monitor; engine | host KiB/task (slab) |")
    P.append("|---|---|---|---|---|---|---|---|")
    for r in rows:
        P.append("| %d | %.1f; %.1f | %.2f | %.2f; %.2f (%d) | %.0f (%.0f, %d) | %.0f; %.0f | %d; %d | %.0f (%.0f) |" % (
            r["n"], r["start_per_s"], r["start_last_tenth_per_s"], r["delete_ms_per_task"],
            r["restart_serve_s"], r["restart_s"], r["restart_late"], r["ls_ms"], r["ls_json_ms"],
            r["ls_json_bytes"] // 1024, r["engine_us_per_state"], r["engine_us_per_ps"],
            r["rss_kib"]["monitor"], r["rss_kib"]["engine"], r["host_kib_per_task"],
            r["slab_kib_per_task"]))
    P.append("")
    return "\n".join(P) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", default="200,2000", help="comma-separated task counts (default 200,2000)")
    ap.add_argument("--calls", type=int, default=200, help="state and pids calls per N (default 200)")
    ap.add_argument("--nofile", type=int, default=20000, help="the daemon's RLIMIT_NOFILE (default 20000)")
    ap.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    args = ap.parse_args()
    ns = [int(x) for x in args.n.split(",")]
    res = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%MZ"),
           "kernel": platform.release(), "nofile": args.nofile, "runs": []}
    cur = [None]

    def body():
        for n in ns:
            cur[0] = Scale(args.nofile)
            cur[0].check_build()
            res["runs"].append(cur[0].one(n, args.calls))
        text = report(res)
        print(text)
        if not args.no_write:
            merge_sections(RESULTS_MD, text, [SECTION])
            update_json(RESULTS_JSON, {"scale": res}, "scale")
        return 0

    def cleanup():
        if cur[0]:
            cur[0].cleanup()
    return drive(body, cleanup)


if __name__ == "__main__":
    sys.exit(main())
