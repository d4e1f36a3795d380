#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# bench/edge.py: what a 100-task small device costs (task_cgroups = limits, a 64 MiB memory cgroup), measured.
"""The small-device profile, measured (`make bench` runs it as phase "edge"; alone:
`python3 bench/edge.py`, as root, after `make`).

For each profile below, a private shimvisord (bench/benchlib.py's SvStack: snapshot of build/,
busybox-static rootfs, state on tmpfs) runs inside a fresh cgroup v1 memory cgroup limited to
64 MiB (--limit-mib), with `task_cgroups = limits`. Its binaries and the busybox rootfs are
copied from inside that cgroup, so the cgroup pays for their page cache as a device would.
Then N (default 100) `shimvisor run -d --rootfs RFS ID /bin/sleep 100000` tasks, 4 at a time:

  - the daemon's processes (monitor, engine, spare worker, warm init): RSS/PSS/USS, idle;
  - per task: the worker's and the task's own process's USS/PSS (medians), its processes;
  - the memory cgroup (the whole stack: daemon, workers, tasks, tmpfs state, page cache of the
    binaries, kernel memory), idle and at N, and the growth per task, split into anon
    (memory.stat rss), page cache/tmpfs (cache) and kernel (memory.kmem.usage_in_bytes);
    host-wide /proc/meminfo deltas (Slab, KernelStack, PageTables; results.json only: other
    work on the machine moves them);
  - the proof: all N tasks `running` in `shimvisor ls`, memory.failcnt (times the limit was
    hit) and oom_control's oom_kill (tasks killed) after the run.

Writes its own section ("Small device") of bench/RESULTS.md and key "edge" of
bench/results.json; prints the table. Stdlib only.
"""
import argparse
import datetime
import os
import platform
import select
import shutil
import subprocess
import sys
import time

from benchlib import (HERE, RESULTS_JSON, RESULTS_MD, SV_NS, BenchError, SvStack, children_of,
                      drive, kill_pids, log, merge_sections, pool_run, proc_cmdline, proc_comm, proc_ppid, read_json, run,
                      smaps_rollup, summ, update_json, wait_gone)

SECTION = "Small device"
MEMCG = "/sys/fs/cgroup/memory"
MIB = 1048576
# name, what it is, [daemon] lines, [policy] lines, extra `run` options. The first is the
# recommended profile and the proof (all N running, no OOM kill, or edge.py fails); the others
# show what one setting costs or saves. The cgroup parent is below the profile's memory cgroup,
# so that a task's own cgroup (`always`) is counted too.
SMALL = ["task_cgroups = limits", "log_max_size = 64k", "log_max_files = 1"]
PROFILES = [
    ("small", "the profile (README, \"Small devices\")", SMALL, [], []),
    ("small, no warm worker", "the same, without the spare worker and its warm init",
     SMALL + ["warm_worker = 0"], [], []),
    ("small, --net host", "the same as `small`, tasks in the host's network namespace",
     SMALL, ["host_namespaces = net"], ["--net", "host"]),
    ("task_cgroups = always", "`small` with every task in cgroups of its own (the profile turns this off)",
     ["task_cgroups = always"] + SMALL[1:], [], []),
]
HEADER = ("<!-- SPDX-License-Identifier: Apache-2.0 -->\n"
          "<!-- bench/RESULTS.md: figures measured by `make bench` (generated; do not edit by hand). -->\n"
          "# shimvisor benchmark results\n")


def read_kv(path):
    """{name: number} of a file of `name value [kB]` lines (memory.stat, /proc/meminfo)."""
    out = {}
    with open(path) as f:
        for line in f:
            p = line.split()
            if len(p) >= 2 and p[1].isdigit():
                out[p[0].rstrip(":")] = int(p[1])
    return out


def read_int(path):
    with open(path) as f:
        return int(f.read().split()[0])


def kib(x):
    return "%.0f" % x


class Edge(SvStack):
    def __init__(self, args):
        super().__init__(args.tmpdir, "shimvisor-edge.", args.keep)
        self.args = args
        self.cgs = []          # memory cgroups of ours, removed at the end
        self.cur = None        # the profile's {dir, cg, proc}

    def preflight(self):
        self.check_build()
        if not os.path.exists(MEMCG + "/memory.limit_in_bytes"):
            raise BenchError("no cgroup v1 memory controller at %s (this phase needs one)" % MEMCG)

    # ---- the memory cgroup ----------------------------------------------------------------
    def make_cg(self, k):
        cg = os.path.join(MEMCG, "shimvisor-edge.%d.%d" % (os.getpid(), k))
        os.mkdir(cg)
        self.cgs.append(cg)
        self.cg_names.append(os.path.basename(cg))    # the tasks' cgroups in every hierarchy
        with open(cg + "/memory.limit_in_bytes", "w") as f:
            f.write(str(self.args.limit_mib * MIB))
        return cg

    def joiner(self, cg):
        """A preexec_fn that moves the new process into memory cgroup cg before it execs."""
        def join_cg():
            with open(cg + "/cgroup.procs", "w") as f:
                f.write(str(os.getpid()))
        return join_cg

    def cg_read(self, cg):
        st = read_kv(cg + "/memory.stat")
        oom = read_kv(cg + "/memory.oom_control")
        kmem = read_int(cg + "/memory.kmem.usage_in_bytes")
        # total_*: the cgroup and those below it (the tasks' own, with task_cgroups = always)
        return {"anon_kib": st["total_rss"] / 1024, "cache_kib": st["total_cache"] / 1024,
                "shmem_kib": st["total_shmem"] / 1024, "mapped_file_kib": st["total_mapped_file"] / 1024,
                "kmem_kib": kmem / 1024, "total_kib": (st["total_rss"] + st["total_cache"] + kmem) / 1024,
                "usage_kib": read_int(cg + "/memory.usage_in_bytes") / 1024,
                "max_usage_kib": read_int(cg + "/memory.max_usage_in_bytes") / 1024,
                "failcnt": read_int(cg + "/memory.failcnt"),
                "oom_kill": oom.get("oom_kill", 0), "under_oom": oom.get("under_oom", 0)}

    # ---- one profile ------------------------------------------------------------------------
    def fresh_copy(self, d):
        """The binaries and the rootfs copied to d, written out and dropped from the page cache:
        the pages the profile's processes then fault in are charged to its cgroup, as on a
        device that reads them from its flash."""
        shutil.copytree(os.path.join(self.scr, "bin"), os.path.join(d, "bin"), symlinks=True)
        # stripped, as `make install` installs them (a symlink stays one)
        if shutil.which("strip"):
            for name in os.listdir(os.path.join(d, "bin")):
                if not os.path.islink(os.path.join(d, "bin", name)):
                    run(["strip", os.path.join(d, "bin", name)], timeout=30)
        shutil.copytree(os.path.join(self.scr, "rootfs"), os.path.join(d, "rootfs"), symlinks=True)
        for top in ("bin", "rootfs"):
            for dirpath, _, files in os.walk(os.path.join(d, top)):
                for fn in files:
                    p = os.path.join(dirpath, fn)
                    if os.path.islink(p):
                        continue
                    fd = os.open(p, os.O_RDONLY)
                    try:
                        os.fsync(fd)
                        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                    finally:
                        os.close(fd)

    def wait_sleeps(self, procs, want, timeout=30):
        """Wait (bounded) until `want` of the unshare processes procs have their sleep running."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if sum(1 for p in procs for c in children_of([p.pid]) if proc_comm(c) in ("busybox", "sleep")) >= want:
                return
            time.sleep(0.05)
        raise BenchError("floor: fewer than %d sleeps running after %d s" % (want, timeout))

    def floor(self, k):
        """The kernel's own floor for comparison: N `unshare --fork` of the task's namespaces (pid,
        mount, uts, ipc, net) around busybox sleep, in a memory cgroup of their own: two
        processes per task, as a worker and its task."""
        n = self.args.n
        log("floor: %d x unshare --fork --pid --mount --uts --ipc --net busybox sleep" % n)
        d = os.path.join(self.scr, "p%d" % k)
        os.makedirs(d)
        cg = self.make_cg(k)
        self.fresh_copy(d)
        bb = os.path.join(d, "rootfs", "bin", "busybox")
        procs = []
        try:
            # one started first, as the profiles' warm-up task: the binaries' first faults are not per task
            for i in range(n + 1):
                if i == 1:
                    self.wait_sleeps(procs, 1)
                    r0 = self.cg_read(cg)
                procs.append(subprocess.Popen(["unshare", "--fork", "--pid", "--mount", "--uts", "--ipc", "--net",
                                               bb, "sleep", "100000"], stdin=subprocess.DEVNULL,
                                              preexec_fn=self.joiner(cg), start_new_session=True))
            self.wait_sleeps(procs, n + 1)
            time.sleep(self.args.settle)
            r1 = self.cg_read(cg)
            kids = [c for p in procs for c in children_of([p.pid])]
            tasks = [smaps_rollup(c) for c in kids]
            outer = [smaps_rollup(p.pid) for p in procs]
        finally:
            for p in procs:
                try:
                    os.killpg(p.pid, 9)
                except ProcessLookupError:
                    pass
            for p in procs:
                p.wait()
        # below half a KiB is 0 (not "-0" in the table)
        per = lambda key: (r1[key] - r0[key]) / n if abs(r1[key] - r0[key]) >= n / 2 else 0.0
        r = {"n": n, "per_task_kib": {"total": per("total_kib"), "anon": per("anon_kib"), "cache": per("cache_kib"),
                                      "kmem": per("kmem_kib")},
             "unshare_uss_kib": summ([s["uss"] for s in outer if s]),
             "task_uss_kib": summ([s["uss"] for s in tasks if s])}
        log("  floor: %.0f KiB/task (anon %.0f, cache %.0f, kernel %.0f)" % (
            r["per_task_kib"]["total"], r["per_task_kib"]["anon"], r["per_task_kib"]["cache"], r["per_task_kib"]["kmem"]))
        return r

    def start_in_cg(self, k, daemon_lines, policy_lines):
        d = os.path.join(self.scr, "p%d" % k)
        os.makedirs(d)
        cg = self.make_cg(k)
        self.fresh_copy(d)
        svd = os.path.join(d, "bin", "shimvisord")
        self.sv = os.path.join(d, "bin", "shimvisor")
        rfs = os.path.join(d, "rootfs")
        state = os.path.join(d, "state")
        self.tmpfs_mount(state)
        self.sv_sock = os.path.join(d, "ctl.sock")
        conf = os.path.join(d, "shimvisord.conf")
        with open(conf, "w") as f:
            f.write("[daemon]\n%s\n[policy]\nrootfs_sources = %s\n%s\n"
                    % ("\n".join(daemon_lines), d, "\n".join(policy_lines)))
        logf = open(os.path.join(d, "daemon.log"), "w")
        self.logs.append(logf)
        r, w = os.pipe()
        self.svd_proc = subprocess.Popen(
            [svd, "-F", "-c", conf, "--state", state, "--address", self.sv_sock, "--pidfile", d + "/pid",
             "--cgroup-parent", "/%s/sv" % os.path.basename(cg), "--ready-fd", str(w)],
            stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT, pass_fds=(w,),
            start_new_session=True, preexec_fn=self.joiner(cg))
        os.close(w)
        rd, _, _ = select.select([r], [], [], 15)
        data = os.read(r, 1) if rd else b""
        os.close(r)
        if not data:
            raise BenchError("shimvisord not ready within 15 s; see %s" % logf.name)
        self.cur = {"dir": d, "cg": cg, "rfs": rfs, "conf": conf}
        return self.cur

    def daemon_procs(self):
        """{role: pid} of the daemon's own processes: monitor, engine, spare worker, warm init."""
        mon = self.svd_proc.pid
        out = {"monitor": mon}
        for p in children_of([mon]):
            pp, c = proc_ppid(p), proc_comm(p)
            if pp == mon and c == "shimvisord-eng":
                out["engine"] = p
            # comm is cut at 15 characters (TASK_COMM_LEN)
            elif pp == mon and c == "shimvisor-worke" and proc_cmdline(p).split()[1:2] == ["idle"]:
                out["spare worker"] = p
        if "spare worker" in out:
            for p in children_of([out["spare worker"]]):
                if proc_comm(p) == "shimvisor-init":
                    out["warm init"] = p
        return out

    def wait_spare(self, want, timeout=15):
        """Wait (bounded) until the spare worker and its warm init are there (want) or not."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            dp = self.daemon_procs()
            if not want or ("warm init" in dp and "spare worker" in dp):
                return dp
            time.sleep(0.1)
        return self.daemon_procs()

    def meminfo(self):
        return read_kv("/proc/meminfo")

    def profile(self, k, name, what, daemon_lines, policy_lines, run_opts):
        n = self.args.n
        log("profile %r: %s; %d tasks" % (name, what, n))
        cur = self.start_in_cg(k, daemon_lines, policy_lines)
        warm = not any(x in ("log_level = debug", "warm_worker = 0") for x in daemon_lines)

        def run_d(tid):
            return [self.sv, "-a", self.sv_sock, "-n", SV_NS, "run", "-d", "--rootfs", cur["rfs"]] + \
                run_opts + [tid, "/bin/sleep", "100000"]
        # one task started and deleted: first-use costs (tables, the seccomp filter cache) are
        # then part of the idle figure, not of the per-task one
        run(run_d("edge-warmup"), timeout=30)
        run(self.sv_cmd("delete", "-f", "edge-warmup"), timeout=30)
        dp = self.wait_spare(warm)
        time.sleep(self.args.settle)
        idle_cg, idle_mi = self.cg_read(cur["cg"]), self.meminfo()
        idle_procs = {role: smaps_rollup(p) for role, p in self.daemon_procs().items()}
        ids = ["edge-%03d" % i for i in range(n)]
        wall, _, errs = pool_run([run_d(i) for i in ids], 4, timeout=60)
        if errs:
            # the proof's failure; another profile's figure (a limit it does not fit in)
            log("  %s: %d of %d starts failed; first: %s" % (name, len(errs), n, errs[0]))
            if k == 0:
                raise BenchError("%s: %d of %d starts failed" % (name, len(errs), n))
        end = time.monotonic() + 60
        while True:
            ls = {t["id"]: t for t in self.sv_ls()}
            running = {i: ls[i]["pid"] for i in ids if i in ls and ls[i].get("status") == "running" and ls[i].get("pid")}
            if len(running) >= n - len(errs) or time.monotonic() > end:
                break
            time.sleep(0.2)
        self.wait_spare(warm)
        time.sleep(self.args.settle)
        # per task: its worker (the task's parent) and the task's own process
        workers, tasks, nprocs = [], [], []
        for tid, pid in running.items():
            w = proc_ppid(pid)
            sw, st = smaps_rollup(w), smaps_rollup(pid)
            if sw and st:
                workers.append(sw)
                tasks.append(st)
                nprocs.append(1 + len(children_of([w])))
        dp = self.daemon_procs()
        busy_procs = {role: smaps_rollup(p) for role, p in dp.items()}
        busy_cg, busy_mi = self.cg_read(cur["cg"]), self.meminfo()
        ls_running = sum(1 for t in self.sv_ls() if t.get("status") == "running")
        per = lambda key: (busy_cg[key] - idle_cg[key]) / n
        mi = lambda key: (busy_mi.get(key, 0) - idle_mi.get(key, 0)) / n
        r = {"name": name, "what": what, "n": n, "start_errors": len(errs), "conf": daemon_lines + policy_lines, "run_opts": run_opts,
             "limit_mib": self.args.limit_mib, "start_wall_s": wall,
             "running_in_ls": ls_running, "tasks_measured": len(workers),
             "daemon_idle": {role: s for role, s in idle_procs.items() if s},
             "daemon_busy": {role: s for role, s in busy_procs.items() if s},
             "cg_idle": idle_cg, "cg_busy": busy_cg,
             "worker_uss_kib": summ([s["uss"] for s in workers]), "worker_pss_kib": summ([s["pss"] for s in workers]),
             "task_uss_kib": summ([s["uss"] for s in tasks]), "task_pss_kib": summ([s["pss"] for s in tasks]),
             "procs_per_task": summ(nprocs),
             "per_task_kib": {"total": per("total_kib"), "anon": per("anon_kib"), "cache": per("cache_kib"),
                              "shmem": per("shmem_kib"), "kmem": per("kmem_kib")},
             "meminfo_per_task_kib": {k2: mi(k2) for k2 in ("Slab", "SUnreclaim", "KernelStack", "PageTables")},
             "meminfo_avail_drop_per_task_kib": -mi("MemAvailable")}
        log("  %s: %d/%d running in ls; cgroup idle %.0f KiB -> %.0f KiB at N=%d (%.0f KiB/task: anon %.0f, "
            "cache %.0f, kernel %.0f); peak %.0f KiB; failcnt %d, oom_kill %d; worker USS %.0f KiB, task USS %.0f KiB"
            % (name, ls_running, n, idle_cg["total_kib"], busy_cg["total_kib"], n, r["per_task_kib"]["total"],
               r["per_task_kib"]["anon"], r["per_task_kib"]["cache"], r["per_task_kib"]["kmem"],
               busy_cg["max_usage_kib"], busy_cg["failcnt"], busy_cg["oom_kill"],
               r["worker_uss_kib"]["median"], r["task_uss_kib"]["median"]))
        self.end_profile()
        r["cg_end"] = {k2: v for k2, v in self.cg_read(cur["cg"]).items() if k2 in ("failcnt", "oom_kill", "max_usage_kib")}
        r["ok"] = ls_running == n and r["cg_end"]["oom_kill"] == 0
        r["proof"] = k == 0
        return r

    def kill_cg(self, cg):
        """Every process left in memory cgroup cg (all of them ours: a worker whose daemon died,
        assigned from the spare, is still named `shimvisor-worker idle`), killed and waited for."""
        for _ in range(50):
            try:
                with open(cg + "/cgroup.procs") as f:
                    pids = [int(x) for x in f.read().split()]
            except FileNotFoundError:
                return
            if not pids:
                return
            kill_pids(pids)
            wait_gone(pids, 1)
        log("  %s: processes left in it" % cg)

    def end_profile(self):
        """Every task deleted, the daemon stopped, what is left killed; the cgroup kept for its counters."""
        self.sv_delete_quietly()
        if self.svd_proc and self.svd_proc.poll() is None:
            self.stop_daemon("shimvisord", self.svd_proc, list(self.daemon_procs().values())[1:])
        self.kill_leftovers()
        self.kill_cg(self.cur["cg"])
        for mp in ("state",):
            run(["umount", "-l", os.path.join(self.cur["dir"], mp)], check=False, timeout=10)
        self.svd_proc = None

    def cleanup(self):
        if self.scr:
            self.sv_delete_quietly()
            if self.svd_proc and self.svd_proc.poll() is None:
                self.stop_daemon("shimvisord", self.svd_proc, list(self.daemon_procs().values())[1:])
            self.kill_leftovers()
            for cg in self.cgs:
                self.kill_cg(cg)
            self.remove_cgroups()
            self.remove_scratch()
            self.scr = None
        for cg in self.cgs:
            # its page cache (the copies, now removed) is reparented on rmdir
            try:
                os.rmdir(cg)
            except FileNotFoundError:
                pass           # remove_cgroups() took it
            except OSError as e:
                log("  %s: %s (left in place)" % (cg, e))
        self.cgs = []


def report(res):
    P = []
    m = res["machine"]
    p0 = res["profiles"][0]
    P.append("## " + SECTION)
    P.append("")
    P.append("Written by `python3 bench/edge.py` (`make bench`, phase edge), %s, %s %s, Linux %s, cgroup v1 memory "
             "controller; shimvisor %s. Each profile: a private shimvisord inside its own memory cgroup limited to "
             "%d MiB, then %d detached `run -d --rootfs RFS ID /bin/sleep 100000` (busybox-static rootfs), 4 at a time. "
             "The cgroup holds everything a device would: the daemon, its spare worker and warm init, every worker "
             "and task, the tmpfs state, the page cache its processes fault in (the binaries, stripped as installed, "
             "and busybox are fresh copies, dropped from the cache before the start), and the kernel memory charged "
             "to them (memory.kmem); the tasks' own cgroups (`task_cgroups = always`) are below it. The shared "
             "libraries (libc, libcjson, libinih, libmnl) are the host's, already cached: not counted."
             % (m["date"], m["arch"], m.get("cpu", ""), m["kernel"], m.get("shimvisor", "?"), p0["limit_mib"], p0["n"]))
    P.append("")
    P.append("**The proof** (profile `%s`): %d of %d tasks running in `shimvisor ls`, peak %.1f MiB of the %d MiB "
             "limit, the limit reached %d times, %d processes OOM-killed: %s."
             % (p0["name"], p0["running_in_ls"], p0["n"], p0["cg_end"]["max_usage_kib"] / 1024, p0["limit_mib"],
                p0["cg_end"]["failcnt"], p0["cg_end"]["oom_kill"], "PASS" if p0["ok"] else "FAIL"))
    P.append("")
    P.append("| profile | tasks running (ls) | cgroup idle (KiB) | cgroup at N (KiB) | per task (KiB) | "
             "anon / cache / kernel per task | peak (KiB) | failcnt | OOM kills | start (s) |")
    P.append("|---|---|---|---|---|---|---|---|---|---|")
    for r in res["profiles"]:
        pt, ci, cb = r["per_task_kib"], r["cg_idle"], r["cg_busy"]
        P.append("| %s | %d/%d | %s | %s | %.0f | %.0f / %.0f / %.0f | %s | %d | %d | %.1f |"
                 % (r["name"], r["running_in_ls"], r["n"], kib(ci["total_kib"]), kib(cb["total_kib"]), pt["total"],
                    pt["anon"], pt["cache"], pt["kmem"], kib(r["cg_end"]["max_usage_kib"]), r["cg_end"]["failcnt"],
                    r["cg_end"]["oom_kill"], r["start_wall_s"]))
    P.append("")
    P.append("Processes (KiB, smaps_rollup; the daemon's idle, after one task was started and deleted; per-task "
             "rows are medians over the N tasks):")
    P.append("")
    P.append("| process | " + " | ".join("%s RSS / PSS / USS" % r["name"] for r in res["profiles"]) + " |")
    P.append("|---|" + "---|" * len(res["profiles"]) + "")
    roles = ["monitor", "engine", "spare worker", "warm init"]
    for role in roles:
        cells = []
        for r in res["profiles"]:
            s = r["daemon_idle"].get(role)
            cells.append("%d / %d / %d" % (s["rss"], s["pss"], s["uss"]) if s else "none")
        P.append("| daemon: %s | %s |" % (role, " | ".join(cells)))
    P.append("| daemon: engine at N | %s |" % " | ".join(
        "%d / %d / %d" % tuple(r["daemon_busy"].get("engine", {}).get(x, 0) for x in ("rss", "pss", "uss"))
        for r in res["profiles"]))
    P.append("| per task: worker | %s |" % " | ".join("- / %.0f / %.0f" % (r["worker_pss_kib"]["median"], r["worker_uss_kib"]["median"])
                                                   for r in res["profiles"]))
    P.append("| per task: its process (busybox sleep) | %s |" % " | ".join(
        "- / %.0f / %.0f" % (r["task_pss_kib"]["median"], r["task_uss_kib"]["median"]) for r in res["profiles"]))
    P.append("| per task: processes (worker + task) | %s |" % " | ".join("%.0f" % r["procs_per_task"]["median"]
                                                                        for r in res["profiles"]))
    P.append("| per task: kernel (memory.kmem growth / N) | %s |" % " | ".join("%.0f" % r["per_task_kib"]["kmem"]
                                                                              for r in res["profiles"]))
    P.append("| cgroup idle: anon / cache / kernel | %s |" % " | ".join(
        "%.0f / %.0f / %.0f" % (r["cg_idle"]["anon_kib"], r["cg_idle"]["cache_kib"], r["cg_idle"]["kmem_kib"])
        for r in res["profiles"]))
    P.append("")
    fl = res.get("floor")
    if fl:
        pt = fl["per_task_kib"]
        P.append("The kernel's floor, for comparison: %d `unshare --fork --pid --mount --uts --ipc --net busybox sleep "
                 "100000` in a memory cgroup of their own (two processes per task, as a worker and its task) cost "
                 "%.0f KiB per task: anon %.0f, cache %.0f, kernel %.0f (unshare's USS %.0f KiB, sleep's %.0f KiB)."
                 % (fl["n"], pt["total"], pt["anon"], pt["cache"], pt["kmem"], fl["unshare_uss_kib"]["median"],
                    fl["task_uss_kib"]["median"]))
        P.append("")
    for r in res["profiles"]:
        P.append("- `%s`: %s; config `%s`%s." % (r["name"], r["what"], "; ".join(r["conf"]),
                                                  ("; run " + " ".join(r["run_opts"])) if r["run_opts"] else ""))
    P.append("- The task's `shimvisor-init` is not resident: it execs the task's process. The task's process shares "
             "busybox's pages (PSS) with the other tasks. \"cache\" is the page cache and tmpfs (the bundles, "
             "the binaries' pages, reclaimable except tmpfs); \"kernel\" is memory.kmem (task_struct, stacks, page "
             "tables, namespaces, sockets, pipes). The cgroup's totals are memory.stat total_rss + total_cache + "
             "memory.kmem.usage_in_bytes; \"peak\" is memory.max_usage_in_bytes; failcnt counts the times the "
             "limit was reached (reclaim), OOM kills the processes the kernel killed (memory.oom_control).")
    P.append("")
    return "\n".join(P) + "\n"


def print_table(res):
    for r in res["profiles"]:
        print("%-24s running %d/%d  cgroup %6.0f -> %6.0f KiB  %5.0f KiB/task (anon %.0f, cache %.0f, kernel %.0f)  "
              "peak %.0f KiB of %d MiB  failcnt %d  oom_kill %d  %s"
              % (r["name"], r["running_in_ls"], r["n"], r["cg_idle"]["total_kib"], r["cg_busy"]["total_kib"],
                 r["per_task_kib"]["total"], r["per_task_kib"]["anon"], r["per_task_kib"]["cache"],
                 r["per_task_kib"]["kmem"], r["cg_end"]["max_usage_kib"], r["limit_mib"], r["cg_end"]["failcnt"],
                 r["cg_end"]["oom_kill"], ("PASS" if r["ok"] else "FAIL") if r["proof"] else ""))
    fl = res.get("floor")
    if fl:
        print("%-24s %5.0f KiB/task (anon %.0f, cache %.0f, kernel %.0f)" % (
            "unshare floor", fl["per_task_kib"]["total"], fl["per_task_kib"]["anon"], fl["per_task_kib"]["cache"],
            fl["per_task_kib"]["kmem"]))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100, help="tasks per profile (default 100)")
    ap.add_argument("--limit-mib", type=int, default=64, help="the memory cgroup's limit (default 64)")
    ap.add_argument("--settle", type=float, default=2.0, help="seconds idle before each reading (default 2)")
    ap.add_argument("--profiles", default="", help="comma-separated indexes into the profile list (default all)")
    ap.add_argument("--no-floor", action="store_true", help="skip the unshare floor")
    ap.add_argument("--tmpdir", default="/tmp")
    ap.add_argument("--keep", action="store_true", help="keep the scratch dir (debugging)")
    ap.add_argument("--out", default=RESULTS_MD)
    ap.add_argument("--json", default=RESULTS_JSON)
    ap.add_argument("--rewrite", action="store_true",
                    help="only write the section again from the edge key of --json (no run)")
    args = ap.parse_args()
    if args.rewrite:
        res = read_json(args.json).get("edge")
        if not res:
            ap.error("--rewrite: no edge key in %s" % args.json)
        merge_sections(args.out, report(res), {SECTION}, HEADER)
        print_table(res)
        return 0
    sel = [int(x) for x in args.profiles.split(",") if x] or list(range(len(PROFILES)))
    e = Edge(args)

    def body():
        e.preflight()
        e.make_scratch()
        info = e.copy_binaries()
        e.make_rootfs()
        res = {"machine": {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                           "kernel": platform.release(), "arch": platform.machine(), "binaries": info,
                           "shimvisor": run(["git", "-C", os.path.dirname(HERE), "describe", "--always", "--dirty"],
                                            check=False).stdout.strip() or "?"},
               "profiles": []}
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    res["machine"]["cpu"] = line.split(":", 1)[1].strip()
                    break
        for k in sel:
            res["profiles"].append(e.profile(k, *PROFILES[k]))
        if not args.no_floor:
            res["floor"] = e.floor(len(PROFILES))
        merge_sections(args.out, report(res), {SECTION}, HEADER)
        update_json(args.json, {"edge": res}, "bench/results.json: raw figures of the last `make bench`")
        print_table(res)
        log("wrote %s (section %s) and %s (key edge)" % (args.out, SECTION, args.json))
        return 0 if all(r["ok"] for r in res["profiles"] if r["proof"]) else 1
    return drive(body, e.cleanup)


if __name__ == "__main__":
    sys.exit(main())
