#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# bench/bench.py: `make bench` driver: shimvisor vs a private containerd 1.6 + runc-v2 shim vs the unshare floor.
"""Measures, in one run, on one machine:

  (run in the order issue-13 idle, 2, issue-3 latency, 1, issue-3 memory, 3, sizes, edge, pods; `--phases` picks a subset)
  1. idle per-task monitor memory at N detached `sleep 100000` tasks (shimvisor-worker vs
     containerd-shim-runc-v2) and the daemons' RSS growth per task;
  2. run-to-exit latency of /bin/true (unshare floor, `shimvisor run --rm`, `ctr run --rm`),
     interleaved round-robin per iteration;
  3. throughput: N detached tasks started 4 at a time, then `delete -f` 4 at a time;
  Issue 13 ("sizes", bench/sizes.py): the installed binaries' size, the worker's USS at N
     tasks and the CLI's start-up.
  Issue 3: our worker as containerd's shim (`ctr run --runtime io.containerd.shimvisor.v2`)
     beside containerd-shim-runc-v2 under the same private containerd: shim USS/PSS per task
     at N detached tasks, and `ctr run --rm /bin/true` latency interleaved A/B.
  Issue 13 ("idle"): the idle daemon's processes (monitor, engine, spare worker, warm init),
     each one's RSS/PSS/USS and where its RSS lies (bench/idle.py), on the fresh daemon.
  Issue 13 (phase "edge"): bench/edge.py, the small-device profile (100 tasks in a 64 MiB
     memory cgroup), on a daemon of its own; it writes its own section.
  Issue 14 (phase "pods", last): bench/pods.py, the shims' memory per Kubernetes pod on the
     CRI handlers shimvisor and runc (selftest/e2e/cri/pod_mem.sh); its own section.

Everything runs under a private scratch directory; everything started is stopped on every
exit path (see Cleanup). Stdlib only. Run as root: `make bench` or `python3 bench/bench.py`.
"""
import argparse
import datetime
import hashlib
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import idle
import sizes
from benchlib import (CG_ROOT, HERE, SV_CG_PARENT, SV_NS, TOP, BenchError, SvStack, all_pids,
                      cpu_busy_ms, drive, foreign_sections, log, pool_run, proc_cmdline, proc_comm, proc_ppid,
                      proc_threads, read_json, run, smaps_rollup, summ, timed, unlink_dead_socket, wait_gone)

CTR_NS = "bench"
UNSHARE = ["unshare", "--pid", "--fork", "--mount", "--uts", "--ipc", "--net", "/bin/true"]
# RESULTS.md sections the bench does not write (bench/soak.py's, and the hand-kept record of
# single changes): kept when the bench rewrites the file; results.json keys likewise
SOAK_SECTIONS = ("Soak", "Hostile clients", "Measurements of single changes", "Small device",
                 "Size options (issue 13)", "Pods (CRI)", "Scale")
SOAK_KEYS = ("soak", "hostile", "edge", "pods", "scale")
# in the order they run (latency first: mass teardown leaves the kernel busy in the background)
# ("edge": bench/edge.py, the small-device profile, on a daemon of its own, after the report)
ALL_PHASES = ["idle", "lat", "shim-lat", "mem", "shim-mem", "tp", "sizes", "edge", "pods"]
# Issue 3: our worker as containerd's runtime v2 shim, beside containerd's own runc-v2 shim
SHIM3_RUNTIME = "io.containerd.shimvisor.v2"
SHIM3_BIN = "containerd-shim-shimvisor-v2"
RUNC_RUNTIME = "io.containerd.runc.v2"
SHIM3_NAMES = {"sv": (SHIM3_BIN, "shimvisor-worker"), "runc": ("containerd-shim-runc-v2",)}
SHIM3_LABEL = {"sv": "shimvisor shim", "runc": "runc-v2 shim"}
SHIM3_SOCK_DIR = {"sv": "/run/shimvisor/.s", "runc": "/run/containerd/s"}

# Targets from the performance section, and the anchor figures of a 2026-11-23 run on
# a machine of this kind, quoted for the peers not run here (conmon).
TARGET_USS_KIB = 100
TARGET_PSS_KIB = 150
TARGET_DAEMON_KIB = 8
TARGET_LAT_VS_FLOOR = 1.7
TARGET_LAT_VS_CTR = 15.0
TARGET_START_RATE = 400.0
TARGET_DELETE_MS = 2.5
TARGET_SHIM_USS_RATIO = 10.0     # issue 3: runc-v2 shim USS per task / ours, at least
TARGET_SHIM_LAT_RATIO = 1.0      # issue 3: `ctr run --rm` median, ours / runc-v2 shim, at most
ANCHOR = {
    "runc_shim_uss_mib": 2.35, "conmon_uss_mib": 0.32, "containerd_growth_kib": 176,
    "conmon_crun_rate": 76.5, "ctr_runc_rate": 24.9, "ctr_runc_lat_ms": 110.3,
    "unshare_lat_ms": 3.51, "conmon_crun_lat_ms": 25.39,
}



# --------------------------------------------------------------------------------------
class Bench(SvStack):
    def __init__(self, args):
        super().__init__(args.tmpdir, "shimvisor-bench.", args.keep)
        self.args = args
        self.cg_names.append(CTR_NS)
        self.ctd_proc = None
        self.ctd_log = None
        self.shim_socks_before = set()
        self.results = {"targets": {}, "notes": []}
        self.cleaned = False
        self.shim3_ids = {}     # task id -> kind, of every issue-3 `ctr run` (their sockets, at clean-up)

    # ---- set-up ------------------------------------------------------------------
    def preflight(self):
        self.check_build()
        for t in ("containerd", "ctr", "runc", "containerd-shim-runc-v2", "busybox", "unshare"):
            if not shutil.which(t):
                raise BenchError("%s not found: run `sh bench/deps.sh` as root" % t)
        self.ctr = shutil.which("ctr")

    def machine(self):
        m = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
             "kernel": platform.release(), "arch": platform.machine(), "nproc": os.cpu_count()}
        try:
            with open("/proc/cpuinfo") as f:
                for line in f:
                    if line.startswith("model name"):
                        m["cpu"] = line.split(":", 1)[1].strip()
                        break
        except OSError:
            pass
        try:
            with open("/proc/meminfo") as f:
                for line in f:
                    if line.startswith("MemTotal:"):
                        m["mem_gib"] = round(int(line.split()[1]) / 1048576, 1)
        except OSError:
            pass
        try:
            with open("/etc/os-release") as f:
                for line in f:
                    if line.startswith("PRETTY_NAME="):
                        m["os"] = line.split("=", 1)[1].strip().strip('"')
        except OSError:
            pass
        virt = []
        if "hypervisor" in open("/proc/cpuinfo").read():
            virt.append("virtual machine (cpu hypervisor flag)")
        if shutil.which("systemd-detect-virt"):
            cp = run(["systemd-detect-virt", "-c"], check=False, timeout=5)
            if cp.stdout.strip() and cp.stdout.strip() != "none":
                virt.append("container: " + cp.stdout.strip())
        m["virt"] = ", ".join(virt)
        m["loadavg_start"] = open("/proc/loadavg").read().split()[:3]
        m["cgroups"] = "v2" if os.path.exists(CG_ROOT + "/cgroup.controllers") else "v1"
        tmpfs = run(["stat", "-f", "-c", "%T", tempfile.gettempdir()], check=False, timeout=5).stdout.strip()
        m["scratch_fs"] = tmpfs
        v = {}
        v["containerd"] = run(["containerd", "--version"], check=False).stdout.strip()
        v["runc"] = run(["runc", "--version"], check=False).stdout.strip().replace("\n", "; ")
        v["ctr"] = run(["ctr", "--version"], check=False).stdout.strip()
        v["shimvisor"] = self.sv_version()
        try:
            v["shimvisor_git"] = run(["git", "-C", TOP, "describe", "--always", "--dirty"], check=False).stdout.strip()
        except BenchError:
            pass
        v["python"] = platform.python_version()
        for pkg in ("containerd", "runc", "busybox-static"):
            v["deb:" + pkg] = run(["dpkg-query", "-W", "-f=${Version}", pkg], check=False).stdout.strip()
        m["versions"] = v
        self.results["machine"] = m

    def make_scratch(self):
        super().make_scratch()
        # shim sockets that exist before: ours are the new ones
        if os.path.isdir("/run/containerd/s"):
            self.shim_socks_before = set(os.listdir("/run/containerd/s"))

    def copy_binaries(self):
        self.results["machine"]["binaries"] = super().copy_binaries()
        self.results["machine"]["versions"]["shimvisor"] = self.sv_version()

    def start_containerd(self):
        d = os.path.join(self.scr, "ctd")
        os.makedirs(d)
        self.ctd_sock = os.path.join(d, "containerd.sock")
        self.runc_root = os.path.join(self.scr, "runc")
        os.makedirs(self.runc_root)
        # runtime state on tmpfs, as /run is on a real host (both stacks alike)
        self.tmpfs_mount(os.path.join(d, "state"))
        self.tmpfs_mount(self.runc_root)
        os.makedirs(os.path.join(self.scr, "logs"))
        cfg = os.path.join(d, "config.toml")
        with open(cfg, "w") as f:
            f.write("""# private containerd for shimvisor's bench (written by bench/bench.py)
version = 2
root = "{d}/root"
state = "{d}/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = "{d}/containerd.sock"

[ttrpc]
  address = "{d}/containerd.sock.ttrpc"

[debug]
  address = "{d}/debug.sock"
  level = "warn"

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "{d}/opt"
""".format(d=d))
        self.ctd_log = open(os.path.join(d, "containerd.log"), "w")
        self.logs.append(self.ctd_log)
        # Issue 3: `--runtime io.containerd.shimvisor.v2` resolves to containerd-shim-shimvisor-v2,
        # looked up in containerd's cwd, then on its PATH, then next to containerd (PROTOCOL.md 1.1).
        # cwd = $SCR/ctd (holds no shim), PATH starts with $SCR/shim: a symlink to the worker of
        # the build snapshot ($SCR/bin, beside its shimvisor-init).
        shimdir = os.path.join(self.scr, "shim")
        os.makedirs(shimdir)
        self.shim_link = os.path.join(shimdir, SHIM3_BIN)
        os.symlink(os.path.join(self.scr, "bin", "shimvisor-worker"), self.shim_link)
        env = dict(os.environ, PATH=shimdir + ":" + os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"))
        self.ctd_proc = subprocess.Popen(["containerd", "--config", cfg], stdin=subprocess.DEVNULL,
                                         stdout=self.ctd_log, stderr=subprocess.STDOUT,
                                         start_new_session=True, cwd=d, env=env)
        log("private containerd pid %d, socket %s" % (self.ctd_proc.pid, self.ctd_sock))
        end = time.monotonic() + 30
        while time.monotonic() < end:
            if self.ctd_proc.poll() is not None:
                raise BenchError("containerd exited (rc %s); see %s" % (self.ctd_proc.returncode, self.ctd_log.name))
            if os.path.exists(self.ctd_sock):
                cp = run(self.ctr_cmd("version"), check=False, timeout=5)
                if cp.returncode == 0 and "Server:" in cp.stdout:
                    return
            time.sleep(0.1)
        raise BenchError("containerd did not answer `ctr version` within 30 s")

    def ctr_cmd(self, *a):
        return [self.ctr, "-a", self.ctd_sock, "-n", CTR_NS] + list(a)

    # ---- task helpers --------------------------------------------------------------
    def ctr_tasks(self):
        """{id: (pid, status)} from `ctr task ls`."""
        out = run(self.ctr_cmd("task", "ls"), timeout=30).stdout.splitlines()[1:]
        res = {}
        for line in out:
            f = line.split()
            if len(f) >= 3:
                res[f[0]] = (int(f[1]), f[2])
        return res

    def wait_running(self, kind, ids, timeout=60):
        ids = set(ids)
        end = time.monotonic() + timeout
        while True:
            if kind == "sv":
                st = {t["id"]: (t.get("pid", 0), t.get("status")) for t in self.sv_ls()}
                ok = {i: st[i][0] for i in ids if i in st and st[i][1] == "running" and st[i][0] > 0}
            else:
                st = self.ctr_tasks()
                ok = {i: st[i][0] for i in ids if i in st and st[i][1] == "RUNNING" and st[i][0] > 0}
            if len(ok) == len(ids) or time.monotonic() > end:
                return ok
            time.sleep(0.2)

    def sv_run_d(self, tid, rootfs=False):
        a = ["run", "-d"] + (["--rootfs", self.rfs] if rootfs else []) + [tid, "/bin/sleep", "100000"]
        return self.sv_cmd(*a)

    def ctr_run_d(self, tid):
        return self.ctr_cmd("run", "-d", "--log-uri", "file://%s/logs/%s.log" % (self.scr, tid),
                            "--runc-root", self.runc_root, "--rootfs", self.rfs, tid, "/bin/sleep", "100000")

    def ctr_rm(self, tid):
        return [self.ctr_cmd("task", "rm", "-f", tid), self.ctr_cmd("container", "rm", tid)]

    def ctr_delete_all(self, conc=4):
        tasks = list(self.ctr_tasks())
        if tasks:
            pool_run([self.ctr_cmd("task", "rm", "-f", i) for i in tasks], conc, timeout=30)
        cons = run(self.ctr_cmd("container", "ls", "-q"), timeout=30).stdout.split()
        if cons:
            pool_run([self.ctr_cmd("container", "rm", i) for i in cons], conc, timeout=30)
        if self.ctr_tasks():
            raise BenchError("ctr tasks left after task rm -f")

    # ---- 1. memory -------------------------------------------------------------------
    def mem_stack(self, kind, n, label, rootfs=False):
        log("memory: %s, %d detached sleep tasks, 4 at a time" % (label, n))
        if kind == "sv":
            dpids = self.svd_pids()
        else:
            dpids = [self.ctd_proc.pid]
        idp = "mem-%s" % "".join(c for c in label if c.isalnum())
        # one warm-up task (start, run, delete) so one-off first-use costs are not counted per task
        if kind == "sv":
            run(self.sv_run_d(idp + "-warm", rootfs), timeout=30)
            run(self.sv_cmd("delete", "-f", idp + "-warm"), timeout=30)
        else:
            run(self.ctr_run_d(idp + "-warm"), timeout=60)
            for c in self.ctr_rm(idp + "-warm"):
                run(c, timeout=60)
        time.sleep(self.args.settle)
        before = self.daemon_rss(dpids)
        before_parts = {proc_comm(p): (smaps_rollup(p) or {}).get("rss", 0) for p in dpids}
        ids = ["%s-%03d" % (idp, i) for i in range(n)]
        if kind == "sv":
            cmds = [self.sv_run_d(i, rootfs) for i in ids]
        else:
            cmds = [self.ctr_run_d(i) for i in ids]
        wall, per, errs = pool_run(cmds, 4, timeout=60)
        if errs:
            raise BenchError("%s: %d of %d starts failed; first: %s" % (label, len(errs), n, errs[0]))
        running = self.wait_running(kind, ids, timeout=60)
        if len(running) != n:
            raise BenchError("%s: only %d of %d tasks running" % (label, len(running), n))
        time.sleep(self.args.settle)
        mons, seen = [], set()
        for tid, pid in running.items():
            pp = proc_ppid(pid)
            if pp and pp not in seen:
                seen.add(pp)
                mons.append(pp)
        samples = []
        for m in mons:
            s = smaps_rollup(m)
            if s:
                s["threads"] = proc_threads(m)
                s["comm"] = proc_comm(m)
                samples.append(s)
        dpids = dpids if kind == "ctr" else self.svd_pids()
        after = self.daemon_rss(dpids)
        after_parts = {proc_comm(p): (smaps_rollup(p) or {}).get("rss", 0) for p in dpids}
        comms = sorted({s["comm"] for s in samples})
        r = {"label": label, "n": n, "monitors_seen": len(samples), "monitor_comm": comms,
             "uss_kib": summ([s["uss"] for s in samples]),
             "pss_kib": summ([s["pss"] for s in samples]),
             "rss_kib": summ([s["rss"] for s in samples]),
             "threads": statistics.median([s["threads"] for s in samples]) if samples else 0,
             "daemon_rss_before_kib": before, "daemon_rss_after_kib": after,
             "daemon_growth_per_task_kib": (after - before) / n,
             "daemon_parts_kib": {k: [before_parts.get(k, 0), after_parts.get(k, 0)] for k in after_parts},
             "start_wall_s": wall, "start_rate": n / wall}
        log("  %s: monitors %d (%s), USS median %.0f KiB, PSS %.0f KiB, RSS %.0f KiB; daemon %d -> %d KiB (%.1f KiB/task; %s)"
            % (label, len(samples), ",".join(comms), r["uss_kib"]["median"], r["pss_kib"]["median"],
               r["rss_kib"]["median"], before, after, r["daemon_growth_per_task_kib"],
               ", ".join("%s %d -> %d" % (k, v[0], v[1]) for k, v in r["daemon_parts_kib"].items())))
        if kind == "sv":
            self.sv_delete_all()
        else:
            self.ctr_delete_all()
        return r

    # ---- 2. latency --------------------------------------------------------------------
    def latency(self):
        runs, warm = self.args.lat_runs, self.args.lat_warmup
        log("latency: /bin/true run-to-exit, %d runs + %d warmups, interleaved round-robin, %g s gap"
            % (runs, warm, self.args.gap))
        modes = [
            ("fork+exec /bin/true", lambda i: ["/bin/true"], None),
            ("unshare floor", lambda i: UNSHARE, None),
            ("shimvisor run --rm", lambda i: self.sv_cmd("run", "--rm", "lat-sv-%d" % i, "/bin/true"), None),
            ("shimvisor run --rm --rootfs RFS",
             lambda i: self.sv_cmd("run", "--rm", "--rootfs", self.rfs, "lat-svr-%d" % i, "/bin/true"), None),
            # a limit gives the task its own cgroup in every hierarchy, as runc makes for ctr
            ("shimvisor run --rm --pids 100 (own cgroup)",
             lambda i: self.sv_cmd("run", "--rm", "--pids", "100", "lat-svc-%d" % i, "/bin/true"), None),
            ("ctr run --rm (runc)",
             lambda i: self.ctr_cmd("run", "--rm", "--runc-root", self.runc_root, "--rootfs", self.rfs,
                                    "lat-ctr-%d" % i, "/bin/true"), None),
            ("ctr version (client start-up)", lambda i: self.ctr_cmd("version"), None),
            ("shimvisor version (client start-up)", lambda i: self.sv_cmd("version"), None),
        ]
        samples = {m[0]: [] for m in modes}
        gap = self.args.gap
        for i in range(warm + runs):
            for name, mk, env in modes:
                dt = timed(mk(i), timeout=60, env=env)
                if i >= warm:
                    samples[name].append(dt / 1e6)
                # let the previous command's asynchronous aftermath (shim exit, the kernel's namespace
                # teardown) finish before the next one, the same gap after every mode
                if name.startswith("ctr run"):
                    shims = [p for p in all_pids() if "-id lat-ctr-%d " % i in proc_cmdline(p) + " "]
                    wait_gone(shims, 2)
                time.sleep(gap)
        res = {name: summ(xs) for name, xs in samples.items()}
        self.results.setdefault("raw", {})["lat_ms"] = samples
        for name, s in res.items():
            log("  %-34s median %7.2f ms [p10 %.2f - p90 %.2f]" % (name, s["median"], s["p10"], s["p90"]))
        cmds = {name: self.show(mk(0)) for name, mk, _ in modes}
        return {"stats": res, "commands": cmds, "runs": runs, "warmup": warm}

    def hyperfine(self):
        if not shutil.which("hyperfine") or self.args.no_hyperfine:
            return None
        log("hyperfine (cross-check): unshare floor, shimvisor run --rm, ctr run --rm")
        out = os.path.join(self.scr, "hyperfine.json")
        cp = run(["hyperfine", "-N", "--warmup", "3", "--runs", str(self.args.lat_runs), "--export-json", out,
                  " ".join(UNSHARE), " ".join(self.sv_cmd("run", "--rm", "hf", "/bin/true")),
                  " ".join(self.ctr_cmd("run", "--rm", "--runc-root", self.runc_root, "--rootfs", self.rfs, "hf",
                                        "/bin/true"))],
                 check=False, timeout=300)
        if cp.returncode != 0:
            self.results["notes"].append("hyperfine failed: " + cp.stderr.strip()[-300:])
            return None
        with open(out) as f:
            js = json.load(f)
        res = {}
        for key, r in zip(("unshare floor", "shimvisor run --rm", "ctr run --rm (runc)"), js["results"]):
            res[key] = {"command": self.show([r["command"]]),
                        "median": r["median"] * 1e3, "mean": r["mean"] * 1e3, "stddev": (r.get("stddev") or 0) * 1e3}
        for k, s in res.items():
            log("  %-34s median %7.2f ms (mean %.2f ± %.2f)" % (k, s["median"], s["mean"], s["stddev"]))
        return res

    # ---- 3. throughput -------------------------------------------------------------
    def throughput(self, kind, n, reps):
        label = "shimvisor" if kind == "sv" else "ctr+runc"
        log("throughput: %s, %d detached tasks 4 at a time, then delete -f 4 at a time, %d reps" % (label, n, reps))
        out = []
        for rep in range(reps):
            ids = ["tp%d-%03d" % (rep, i) for i in range(n)]
            if kind == "sv":
                start = [self.sv_run_d(i) for i in ids]
                stop = [self.sv_cmd("delete", "-f", i) for i in ids]
            else:
                start = [self.ctr_run_d(i) for i in ids]
                stop = [self.ctr_rm(i) for i in ids]
            c0 = cpu_busy_ms()
            w1, p1, e1 = pool_run(start, 4, timeout=60)
            cpu = (cpu_busy_ms() - c0) / n
            running = self.wait_running(kind, ids, timeout=60)
            w2, p2, e2 = pool_run(stop, 4, timeout=60)
            r = {"start_wall_s": w1, "start_rate": n / w1, "start_ms": summ([x * 1e3 for x in p1]),
                 "start_cpu_ms": cpu, "start_errors": len(e1), "running": len(running),
                 "delete_wall_s": w2, "delete_ms_each": w2 * 1e3 / n, "delete_ms": summ([x * 1e3 for x in p2]),
                 "delete_errors": len(e2)}
            if e1 or e2:
                r["first_error"] = (e1 + e2)[0]
            log("  rep %d: start %.2f s = %.1f tasks/s, %.2f ms CPU/task (per call median %.1f ms, %d errors, "
                "%d running); delete %.2f s = %.2f ms/task (per call median %.1f ms, %d errors)"
                % (rep + 1, w1, n / w1, cpu, r["start_ms"]["median"], len(e1), len(running), w2, r["delete_ms_each"],
                   r["delete_ms"]["median"], len(e2)))
            out.append(r)
            # anything left (errors) goes before the next rep
            if kind == "sv":
                self.sv_delete_all()
            else:
                self.ctr_delete_all()
        med = lambda k: statistics.median([r[k] for r in out])
        return {"n": n, "reps": out, "start_rate": med("start_rate"), "start_wall_s": med("start_wall_s"),
                "start_cpu_ms": med("start_cpu_ms"),
                "delete_wall_s": med("delete_wall_s"), "delete_ms_each": med("delete_ms_each"),
                "start_ms_median": statistics.median([r["start_ms"]["median"] for r in out]),
                "delete_ms_median": statistics.median([r["delete_ms"]["median"] for r in out]),
                "errors": sum(r["start_errors"] + r["delete_errors"] for r in out)}

    def xargs_check(self, n):
        """Cross-check of the shimvisor start rate with plain `xargs -P4` (no Python pool)."""
        ids = "\n".join("xa-%03d" % i for i in range(n)) + "\n"
        base = self.sv_cmd()
        t0 = time.perf_counter_ns()
        cp = subprocess.run(["xargs", "-P4", "-I{}"] + base + ["run", "-d", "{}", "/bin/sleep", "100000"],
                            input=ids.encode(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)
        w1 = (time.perf_counter_ns() - t0) / 1e9
        ok1 = cp.returncode == 0
        t0 = time.perf_counter_ns()
        cp = subprocess.run(["xargs", "-P4", "-I{}"] + base + ["delete", "-f", "{}"],
                            input=ids.encode(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)
        w2 = (time.perf_counter_ns() - t0) / 1e9
        ok2 = cp.returncode == 0
        self.sv_delete_all()
        r = {"n": n, "start_wall_s": w1, "start_rate": n / w1, "delete_wall_s": w2,
             "delete_ms_each": w2 * 1e3 / n, "ok": ok1 and ok2}
        log("  xargs -P4 cross-check: start %.1f tasks/s, delete %.2f ms/task%s"
            % (r["start_rate"], r["delete_ms_each"], "" if r["ok"] else " (some calls failed)"))
        return r

    def kernel_floor_rate(self, n):
        """The kernel's own rate for the same parallelism, two ways, no monitor in either:
        `unshare` of the five namespaces running /bin/true (the task exits at once), and the
        same with a fresh /proc left running detached (`setsid -f`), as `run -d` leaves a task:
        xargs -> setsid -> unshare -> sleep, three execs and one mount per task."""
        res = {"n": n}
        cmd = ["unshare", "--pid", "--fork", "--mount", "--uts", "--ipc", "--net", "/bin/true"]
        c0 = cpu_busy_ms()
        t0 = time.perf_counter_ns()
        cp = subprocess.run(["xargs", "-P4", "-n1", "-I{}"] + cmd, input=("x\n" * n).encode(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)
        w = (time.perf_counter_ns() - t0) / 1e9
        res.update({"wall_s": w, "rate": n / w, "cpu_ms": (cpu_busy_ms() - c0) / n, "ok": cp.returncode == 0})
        log("  kernel floor: unshare 5 namespaces + /bin/true, 4 at a time: %.1f /s, %.2f ms CPU/task"
            % (res["rate"], res["cpu_ms"]))
        marker = "%d" % (100000 + os.getpid() % 10000 + 1)     # sleep's argument names our tasks
        det = ["setsid", "-f", "unshare", "--pid", "--fork", "--mount", "--uts", "--ipc", "--net",
               "--mount-proc", "/bin/sleep", marker]
        c0 = cpu_busy_ms()
        t0 = time.perf_counter_ns()
        # the tasks live on with xargs's output fds: those must not be our pipes
        cp = subprocess.run(["xargs", "-P4", "-n1", "-I{}"] + det, input=("x\n" * n).encode(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
        w = (time.perf_counter_ns() - t0) / 1e9
        cpu = (cpu_busy_ms() - c0) / n
        # every process of it: unshare (its parent) and sleep (pid 1 of its namespace, which
        # ignores TERM from here): KILL by pid, then wait for all of them to be gone
        pids = [p for p in all_pids() if proc_cmdline(p).split()[-2:] == ["/bin/sleep", marker]]
        for p in pids:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        gone = wait_gone(pids, 30)
        res["detached"] = {"wall_s": w, "rate": n / w, "cpu_ms": cpu, "ok": cp.returncode == 0 and gone,
                           "killed": len(pids)}
        log("  kernel floor, detached: setsid -f unshare ... --mount-proc sleep, 4 at a time: %.1f /s, "
            "%.2f ms CPU/task (%d processes killed after)" % (n / w, cpu, len(pids)))
        return res

    def ctr3_run(self, kind, tid, detach, argv):
        """`ctr run` of `argv` through runtime `kind` ("sv": io.containerd.shimvisor.v2, "runc":
        io.containerd.runc.v2): the same spec (ctr's default) and the same rootfs for both; runc's
        state root on tmpfs (it sets runc's options only, not the spec)."""
        self.shim3_ids[tid] = kind
        a = ["run"] + (["-d", "--log-uri", "file://%s/logs/%s.log" % (self.scr, tid)] if detach else ["--rm"])
        if kind == "sv":
            a += ["--runtime", SHIM3_RUNTIME]
        else:
            a += ["--runtime", RUNC_RUNTIME, "--runc-root", self.runc_root]
        return self.ctr_cmd(*(a + ["--rootfs", self.rfs, tid] + list(argv)))

    def shim3_procs(self, kind):
        """{pid: info} of the live shim servers of our private containerd for runtime `kind`: argv[0]'s
        basename is the shim's, the command line names our containerd's socket (`-address`), there is
        no action word, and the parent is not itself a shim (1 or a subreaper: the shim daemonised)."""
        names = SHIM3_NAMES[kind]
        cand = {}
        for p in all_pids():
            try:
                with open("/proc/%d/cmdline" % p, "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            argv = [x.decode(errors="replace") for x in argv if x]
            if not argv or os.path.basename(argv[0]) not in names:
                continue
            if self.ctd_sock not in argv or "start" in argv or "delete" in argv:
                continue
            cand[p] = argv
        out = {}
        for p, argv in cand.items():
            pp = proc_ppid(p)
            if pp in cand:
                continue
            tid = argv[argv.index("-id") + 1] if "-id" in argv[:-1] else ""
            out[p] = {"ppid": pp, "comm": proc_comm(p), "id": tid, "argv0": argv[0]}
        return out

    def ctr3_ids(self):
        return run(self.ctr_cmd("container", "ls", "-q"), timeout=30).stdout.split()

    def shim3_clear(self, kind, ids):
        """Between phases: kill -9 every task, `ctr task rm`, `ctr c rm`; wait until no shim server of
        ours is left. Returns the number of shims still alive after 10 s (should be 0)."""
        tasks = self.ctr_tasks()
        live = [i for i in tasks if tasks[i][1] != "STOPPED"]
        if live:
            pool_run([self.ctr_cmd("task", "kill", "-s", "SIGKILL", i) for i in live], 4, timeout=30)
            end = time.monotonic() + 30
            while time.monotonic() < end:
                st = self.ctr_tasks()
                if all(st[i][1] == "STOPPED" for i in st):
                    break
                time.sleep(0.2)
        tasks = list(self.ctr_tasks())
        if tasks:
            pool_run([self.ctr_cmd("task", "rm", i) for i in tasks], 4, timeout=30)
        cons = self.ctr3_ids()
        if cons:
            pool_run([self.ctr_cmd("container", "rm", i) for i in cons], 4, timeout=30)
        if self.ctr_tasks() or self.ctr3_ids():
            self.ctr_delete_all()
        end = time.monotonic() + 10
        left = {}
        while time.monotonic() < end:
            left = {**self.shim3_procs("sv"), **self.shim3_procs("runc")}
            if not left:
                break
            time.sleep(0.1)
        # sockets the shims of these ids should have removed on exit
        socks = 0
        for tid in ids:
            key = "%s/%s/%s" % (self.ctd_sock, CTR_NS, tid)
            h = hashlib.sha256(key.encode()).hexdigest()
            path = os.path.join(SHIM3_SOCK_DIR[kind], h[:32] if kind == "sv" else h)
            if os.path.exists(path):
                socks += 1
        return len(left), socks

    def shim3_mem(self, kind, n):
        label = SHIM3_LABEL[kind]
        log("issue 3 memory: %s, %d detached `ctr run -d ... /bin/sleep 1000`, 4 at a time" % (label, n))
        pre = self.shim3_procs(kind)
        if pre:
            raise BenchError("%s: %d shim servers of this containerd alive before the phase" % (label, len(pre)))
        ids = ["m3%s-%03d" % (kind, i) for i in range(n)]
        wall, per, errs = pool_run([self.ctr3_run(kind, i, True, ["/bin/sleep", "1000"]) for i in ids], 4, timeout=60)
        if errs:
            raise BenchError("%s: %d of %d `ctr run -d` failed; first: %s" % (label, len(errs), n, errs[0]))
        running = self.wait_running("ctr", ids, timeout=60)
        if len(running) != n:
            raise BenchError("%s: only %d of %d tasks running" % (label, len(running), n))
        time.sleep(self.args.settle)
        shims = self.shim3_procs(kind)
        samples, parents = [], {}
        for p, info in shims.items():
            s = smaps_rollup(p)
            if not s:
                continue
            s.update(pid=p, threads=proc_threads(p), comm=info["comm"], ppid=info["ppid"], id=info["id"])
            samples.append(s)
            parents[info["ppid"]] = parents.get(info["ppid"], 0) + 1
        # every task's init must be a child of a counted shim (the task's processes are not counted)
        orphans = [i for i, pid in running.items() if proc_ppid(pid) not in shims]
        task_comms = sorted({proc_comm(pid) for pid in running.values()})
        binpath = ""
        try:
            with open(os.path.join(self.scr, "ctd", "state", "io.containerd.runtime.v2.task", CTR_NS, ids[0],
                                   "shim-binary-path")) as f:
                binpath = f.read().strip().replace(self.scr, "$SCR")
        except OSError:
            pass
        uss = sum(s["uss"] for s in samples)
        pss = sum(s["pss"] for s in samples)
        rss = sum(s["rss"] for s in samples)
        r = {"label": label, "runtime": SHIM3_RUNTIME if kind == "sv" else RUNC_RUNTIME, "n": n,
             "shims": len(samples), "shim_comm": sorted({s["comm"] for s in samples}),
             "shim_parents": {str(k): v for k, v in parents.items()}, "shim_binary_path": binpath,
             "tasks_not_child_of_a_shim": len(orphans), "task_comm": task_comms,
             "uss_sum_kib": uss, "pss_sum_kib": pss, "rss_sum_kib": rss,
             "uss_per_task_kib": uss / n, "pss_per_task_kib": pss / n, "rss_per_task_kib": rss / n,
             "uss_kib": summ([s["uss"] for s in samples]), "pss_kib": summ([s["pss"] for s in samples]),
             "threads": statistics.median([s["threads"] for s in samples]) if samples else 0,
             "start_wall_s": wall, "start_rate": n / wall, "start_ms": summ([x * 1e3 for x in per])}
        log("  %s: %d shim servers (%s; parents %s), USS %.0f KiB/task, PSS %.0f KiB/task, RSS %.0f KiB/task, "
            "threads %g; %d tasks not a shim's child; start %.1f tasks/s; shim-binary-path %s"
            % (label, len(samples), ",".join(r["shim_comm"]), r["shim_parents"], r["uss_per_task_kib"],
               r["pss_per_task_kib"], r["rss_per_task_kib"], r["threads"], len(orphans), r["start_rate"], binpath))
        left, socks = self.shim3_clear(kind, ids)
        r["shims_left_after_rm"], r["sockets_left_after_rm"] = left, socks
        if left or socks:
            log("  %s: after the clean-up %d shim servers still alive, %d of their sockets left" % (label, left, socks))
        return r

    def shim3_latency(self):
        runs, warm = self.args.shim_lat_runs, self.args.shim_lat_warmup
        log("issue 3 latency: `ctr run --rm ... /bin/true`, shimvisor shim vs runc-v2 shim, %d runs each + %d "
            "warm-ups, interleaved A/B (order alternating), %g s gap" % (runs, warm, self.args.gap))
        samples = {"sv": [], "runc": []}
        for i in range(warm + runs):
            order = ("sv", "runc") if i % 2 == 0 else ("runc", "sv")
            for kind in order:
                tid = "l3%s-%d" % (kind, i)
                dt = timed(self.ctr3_run(kind, tid, False, ["/bin/true"]), timeout=60)
                if i >= warm:
                    samples[kind].append(dt / 1e6)
                # the same aftermath wait as section 2: until this run's shim has exited, then the gap
                shims = [p for p in all_pids() if "-id %s " % tid in proc_cmdline(p) + " "]
                wait_gone(shims, 2)
                time.sleep(self.args.gap)
        left, _ = self.shim3_clear("sv", [])
        res = {k: summ(v) for k, v in samples.items()}
        self.results.setdefault("raw", {})["shim3_lat_ms"] = samples
        for k, s in res.items():
            log("  %-16s median %7.2f ms [p10 %.2f - p90 %.2f]" % (SHIM3_LABEL[k], s["median"], s["p10"], s["p90"]))
        return {"stats": res, "runs": runs, "warmup": warm, "shims_left": left,
                "commands": {k: self.show(self.ctr3_run(k, "ID", False, ["/bin/true"])) for k in ("sv", "runc")}}

    # ---- clean-up ------------------------------------------------------------------
    def cleanup(self):
        if self.cleaned:
            return
        self.cleaned = True
        if not self.scr:
            return
        log("cleaning up " + self.scr)
        # 1. tasks, through the stacks themselves (bounded)
        self.sv_delete_quietly()
        if self.ctd_proc and self.ctd_proc.poll() is None:
            try:
                self.ctr_delete_all()
            except Exception as e:
                log("  ctr delete: %s" % e)
        # 2. the daemons, by pid
        self.stop_daemon("shimvisord", self.svd_proc, self.svd_pids()[1:] if self.svd_proc else [])
        self.stop_daemon("containerd", self.ctd_proc)
        # 3. anything left that names the scratch dir (workers, shims, engine) and its descendants
        self.kill_leftovers()
        # 4. runc state left behind (cgroups of killed containers)
        rr = os.path.join(self.scr, "runc")
        if os.path.isdir(rr):
            for cid in os.listdir(rr):
                run(["runc", "--root", rr, "delete", "-f", cid], check=False, timeout=10)
        # 5. cgroup dirs we created (ctr's /<namespace>/<id>, shimvisord's
        #    <SV_CG_PARENT>/<namespace>/<id>), only when empty, deepest first
        self.remove_cgroups()
        # 6. shim sockets that appeared during the run and no longer answer
        if os.path.isdir("/run/containerd/s"):
            for s in set(os.listdir("/run/containerd/s")) - self.shim_socks_before:
                unlink_dead_socket(os.path.join("/run/containerd/s", s))
        # 6b. sockets of our issue-3 shims (by their exact names) that no longer answer
        for tid, kind in self.shim3_ids.items():
            h = hashlib.sha256(("%s/%s/%s" % (self.ctd_sock, CTR_NS, tid)).encode()).hexdigest()
            path = os.path.join(SHIM3_SOCK_DIR[kind], h[:32] if kind == "sv" else h)
            if os.path.exists(path):
                unlink_dead_socket(path)
        # 7. mounts under the scratch dir, deepest first; 8. the scratch dir, unless something is
        #    still mounted in it
        self.remove_scratch()


# --------------------------------------------------------------------------------------
def verdict(ok):
    return "PASS" if ok else "MISS"


def report(b, res, path):
    m = res["machine"]
    lines = []
    P = lines.append
    kib = lambda x: "%.0f" % x
    targets = []
    T = lambda *t: targets.append(t)
    if res.get("mem"):
        mem_sv, mem_ctr = res["mem"]["shimvisor"], res["mem"]["ctr+runc"]
        T("worker USS median at N=%d (KiB)" % mem_sv["n"], mem_sv["uss_kib"]["median"], "<= %d" % TARGET_USS_KIB,
          mem_sv["uss_kib"]["median"] <= TARGET_USS_KIB,
          "runc-v2 shim %s (%.1fx ours); anchor conmon %d" % (kib(mem_ctr["uss_kib"]["median"]),
                                                             mem_ctr["uss_kib"]["median"] / max(mem_sv["uss_kib"]["median"], 1),
                                                             ANCHOR["conmon_uss_mib"] * 1024))
        T("worker PSS median at N=%d (KiB)" % mem_sv["n"], mem_sv["pss_kib"]["median"], "<= %d" % TARGET_PSS_KIB,
          mem_sv["pss_kib"]["median"] <= TARGET_PSS_KIB,
          "runc-v2 shim %s (%.1fx ours)" % (kib(mem_ctr["pss_kib"]["median"]),
                                           mem_ctr["pss_kib"]["median"] / max(mem_sv["pss_kib"]["median"], 1)))
        T("daemon RSS growth per task (KiB)", mem_sv["daemon_growth_per_task_kib"], "<= %d" % TARGET_DAEMON_KIB,
          mem_sv["daemon_growth_per_task_kib"] <= TARGET_DAEMON_KIB,
          "containerd %.1f" % mem_ctr["daemon_growth_per_task_kib"])
    if res.get("lat"):
        lat = res["lat"]["stats"]
        floor = lat["unshare floor"]["median"]
        svl = lat["shimvisor run --rm"]["median"]
        ctl = lat["ctr run --rm (runc)"]["median"]
        T("`run --rm /bin/true` median / unshare floor", svl / floor, "<= %.1fx" % TARGET_LAT_VS_FLOOR,
          svl / floor <= TARGET_LAT_VS_FLOOR, "%.2f ms vs %.2f ms" % (svl, floor))
        T("`ctr run --rm` median / `run --rm` median", ctl / svl, ">= %.0fx" % TARGET_LAT_VS_CTR,
          ctl / svl >= TARGET_LAT_VS_CTR, "%.2f ms vs %.2f ms" % (ctl, svl))
    if res.get("tp"):
        tsv, tctr = res["tp"]["shimvisor"], res["tp"]["ctr+runc"]
        T("start rate, %d tasks 4 at a time (tasks/s)" % tsv["n"], tsv["start_rate"], ">= %d" % TARGET_START_RATE,
          tsv["start_rate"] >= TARGET_START_RATE,
          "ctr+runc %.1f (%d tasks; %.1fx slower); anchor conmon+crun %.1f" % (
              tctr["start_rate"], tctr["n"], tsv["start_rate"] / tctr["start_rate"], ANCHOR["conmon_crun_rate"]))
        T("`delete -f` of all %d, 4 at a time (ms per task, wall/N)" % tsv["n"], tsv["delete_ms_each"],
          "<= %.1f" % TARGET_DELETE_MS, tsv["delete_ms_each"] <= TARGET_DELETE_MS,
          "per-call median %.2f ms; ctr+runc %.1f ms/task" % (tsv["delete_ms_median"], tctr["delete_ms_each"]))
    if res.get("shim_mem"):
        m3s, m3r = res["shim_mem"]["sv"], res["shim_mem"]["runc"]
        ratio = m3r["uss_per_task_kib"] / max(m3s["uss_per_task_kib"], 1e-9)
        T("containerd shim USS per task at N=%d, runc-v2 shim / ours" % m3s["n"], ratio,
          ">= %.0fx" % TARGET_SHIM_USS_RATIO, ratio >= TARGET_SHIM_USS_RATIO,
          "%.0f KiB (runc-v2 shim) vs %.0f KiB (ours); PSS %.0f vs %.0f" % (
              m3r["uss_per_task_kib"], m3s["uss_per_task_kib"], m3r["pss_per_task_kib"], m3s["pss_per_task_kib"]))
    if res.get("shim_lat"):
        l3 = res["shim_lat"]["stats"]
        ratio = l3["sv"]["median"] / l3["runc"]["median"]
        T("`ctr run --rm /bin/true` median, our shim / runc-v2 shim", ratio, "<= %.1fx" % TARGET_SHIM_LAT_RATIO,
          ratio <= TARGET_SHIM_LAT_RATIO, "%.2f ms vs %.2f ms; p90 %.2f vs %.2f ms" % (
              l3["sv"]["median"], l3["runc"]["median"], l3["sv"]["p90"], l3["runc"]["p90"]))
    if res.get("idle"):
        T(*idle.target(res["idle"]))
    if res.get("sizes"):
        sizes.targets(res, T)
    res["targets"] = [{"what": t[0], "value": t[1], "target": t[2], "pass": t[3], "peer": t[4]} for t in targets]

    P("<!-- SPDX-License-Identifier: Apache-2.0 -->")
    P("<!-- bench/RESULTS.md: figures measured by `make bench` (generated by bench/bench.py; do not edit by hand). -->")
    P("# shimvisor benchmark results")
    P("")
    P("Written by `make bench` (bench/bench.py%s). Numbers from one run; compare only figures from the same run."
      % ("" if res["phases"] == ALL_PHASES else " --phases " + ",".join(res["phases"])))
    P("")
    P("- **Date:** %s" % m["date"])
    P("- **Machine:** %s, %s CPUs (nproc), %s GiB RAM%s; Linux %s %s; %s; cgroups %s; scratch on %s"
      % (m.get("cpu", "?"), m["nproc"], m.get("mem_gib", "?"), (", " + m["virt"]) if m.get("virt") else "",
         m["kernel"], m["arch"], m.get("os", "?"), m["cgroups"], m.get("scratch_fs", "?")))
    v = m["versions"]
    P("- **Versions:** %s (deb %s); %s (deb %s); busybox-static %s; shimvisor %s (git %s); python %s"
      % (v["containerd"], v["deb:containerd"], v["runc"], v["deb:runc"], v["deb:busybox-static"],
         v.get("shimvisor") or "?", v.get("shimvisor_git", "?"), v["python"]))
    if m.get("binaries"):
        P("- **Binaries** (build/ copied to `$SCR/bin` at the start): %s"
          % "; ".join("%s %s" % (k, v) for k, v in m["binaries"].items()))
    P("- **Run time:** %.0f s; load average at start %s, at end %s (shared VM: other work may run beside)"
      % (res["elapsed_s"], " ".join(m["loadavg_start"]), " ".join(m["loadavg_end"])))
    P("")
    P("## Targets")
    P("")
    P("| target | measured | target | verdict | peer (same run unless marked anchor) |")
    P("|---|---|---|---|---|")
    for t in targets:
        val = ("%.2f" % t[1]) if isinstance(t[1], float) else str(t[1])
        P("| %s | %s | %s | **%s** | %s |" % (t[0], val, t[2], verdict(t[3]), t[4]))
    P("")
    if res.get("idle"):
        idle.report(res["idle"], P)
    if res.get("mem"):
        P("## 1. Idle per-task monitor memory (N detached `sleep 100000` tasks, read %g s after all run)" % b.args.settle)
        P("")
        P("| stack | N (seen) | monitor USS median (KiB) | PSS median (KiB) | RSS median (KiB) | USS p10-p90 | threads | daemon RSS before -> after (KiB) | daemon growth per task (KiB) | per task ≈ PSS + growth (KiB) |")
        P("|---|---|---|---|---|---|---|---|---|---|")
        for key in res["mem"]:
            r = res["mem"][key]
            P("| %s | %d (%d) | %s | %s | %s | %s-%s | %g | %d -> %d | %.1f | %.0f |"
              % (key, r["n"], r["monitors_seen"], kib(r["uss_kib"]["median"]), kib(r["pss_kib"]["median"]),
                 kib(r["rss_kib"]["median"]), kib(r["uss_kib"]["p10"]), kib(r["uss_kib"]["p90"]), r["threads"],
                 r["daemon_rss_before_kib"], r["daemon_rss_after_kib"], r["daemon_growth_per_task_kib"],
                 r["pss_kib"]["median"] + r["daemon_growth_per_task_kib"]))
        P("")
        P("Ratios: runc-v2 shim / shimvisor-worker USS %.1fx, PSS %.1fx, RSS %.1fx; containerd / shimvisord growth per task %s."
          % (mem_ctr["uss_kib"]["median"] / max(mem_sv["uss_kib"]["median"], 1),
             mem_ctr["pss_kib"]["median"] / max(mem_sv["pss_kib"]["median"], 1),
             mem_ctr["rss_kib"]["median"] / max(mem_sv["rss_kib"]["median"], 1),
             ("%.1fx" % (mem_ctr["daemon_growth_per_task_kib"] / mem_sv["daemon_growth_per_task_kib"]))
             if mem_sv["daemon_growth_per_task_kib"] > 0 else "n/a (ours did not grow)"))
        for key, r in res["mem"].items():
            P("Daemon RSS by process, %s (KiB, before -> after): %s." % (key, ", ".join(
                "%s %d -> %d" % (k, v[0], v[1]) for k, v in r["daemon_parts_kib"].items())))
        P("")
        P("Anchor (2026-11-23, not re-run here): runc-v2 shim USS 2.35 MiB; conmon 0.32 MiB; containerd growth 176 KiB/task.")
        P("")
    if res.get("lat"):
        P("## 2. Run-to-exit latency of `/bin/true` (ms; %d interleaved round-robin iterations after %d warm-ups)"
          % (res["lat"]["runs"], res["lat"]["warmup"]))
        P("")
        P("| path | median | p10 | p90 | mean | / unshare floor | command |")
        P("|---|---|---|---|---|---|---|")
        for name, s in lat.items():
            P("| %s | %.2f | %.2f | %.2f | %.2f | %.2fx | `%s` |" % (name, s["median"], s["p10"], s["p90"], s["mean"],
                                                               s["median"] / floor, res["lat"]["commands"][name]))
        P("")
        P("`ctr run --rm` / `shimvisor run --rm`: %.1fx (anchor: ctr+runc 110.3 ms, conmon+crun 25.4 ms, unshare 3.5 ms)."
          % (ctl / svl))
        P("Timed with `time.perf_counter_ns()` around `subprocess.run` from CPython; its own fork/exec cost is the first row. "
          "After every sample the harness idles %g s (after `ctr run`, first until its shim has exited) so one command's "
          "asynchronous aftermath (e.g. the kernel tearing down namespaces) does not land on the next." % b.args.gap)
        if res.get("hyperfine"):
            P("")
            P("hyperfine cross-check (`hyperfine -N --warmup 3 --runs %d`):" % b.args.lat_runs)
            P("")
            for name, s in res["hyperfine"].items():
                P("- %s `%s`: median %.2f ms (mean %.2f ± %.2f)" % (name, s["command"], s["median"], s["mean"], s["stddev"]))
            hf = res["hyperfine"]
            P("")
            P("hyperfine ratios: `run --rm` / unshare floor %.2fx (target <= %.1fx); `ctr run --rm` / `run --rm` %.1fx (target >= %.0fx)."
              % (hf["shimvisor run --rm"]["median"] / hf["unshare floor"]["median"], TARGET_LAT_VS_FLOOR,
                 hf["ctr run --rm (runc)"]["median"] / hf["shimvisor run --rm"]["median"], TARGET_LAT_VS_CTR))
        P("")
    if res.get("tp"):
        P("## 3. Throughput: detached `sleep` tasks started 4 at a time, then deleted 4 at a time")
        P("")
        P("| stack | N | reps | start wall s (median) | start tasks/s (reps) | start per-call median ms | delete wall s | delete ms/task (wall/N) | delete per-call median ms | errors |")
        P("|---|---|---|---|---|---|---|---|---|---|")
        for key, t in res["tp"].items():
            P("| %s | %d | %d | %.3f | %.1f (%s) | %.1f | %.3f | %.2f | %.1f | %d |"
              % (key, t["n"], len(t["reps"]), t["start_wall_s"], t["start_rate"],
                 ", ".join("%.1f" % r["start_rate"] for r in t["reps"]), t["start_ms_median"], t["delete_wall_s"],
                 t["delete_ms_each"], t["delete_ms_median"], t["errors"]))
        if res.get("xargs"):
            x = res["xargs"]
            P("| shimvisor, plain `xargs -P4` | %d | 1 | %.3f | %.1f | — | %.3f | %.2f | — | %s |"
              % (x["n"], x["start_wall_s"], x["start_rate"], x["delete_wall_s"], x["delete_ms_each"],
                 "0" if x["ok"] else "some"))
        P("")
        P("Start rate ratio shimvisor / ctr+runc: %.1fx. Anchor: ctr+runc 24.9 tasks/s, conmon+crun 76.5 tasks/s (100 tasks)."
          % (tsv["start_rate"] / tctr["start_rate"]))
        P("")
        P("CPU per started task (the whole machine's busy time during the start phase / N, median of reps): "
          "shimvisor %.2f ms, ctr+runc %.2f ms." % (tsv["start_cpu_ms"], tctr["start_cpu_ms"]))
        if res.get("tp_floor"):
            f = res["tp_floor"]
            P("")
            P("Kernel floor at the same parallelism (no monitor, no rootfs), %d runs 4 at a time:" % f["n"])
            P("")
            xr = res.get("xargs", {}).get("start_rate")
            share = lambda fl: "%.0f%% | %s" % (100.0 * tsv["start_rate"] / fl,
                                                "%.0f%%" % (100.0 * xr / fl) if xr else "—")
            P("| floor | tasks/s | ms CPU per task | shimvisor's start rate as a share of it | "
              "the same with `xargs -P4`, the floor's own driver |")
            P("|---|---|---|---|---|")
            P("| `unshare --pid --fork --mount --uts --ipc --net /bin/true` (exits at once) | %.1f | %.2f | %s |"
              % (f["rate"], f["cpu_ms"], share(f["rate"])))
            d = f.get("detached")
            if d:
                P("| `setsid -f unshare ... --mount-proc /bin/sleep N` (left running, as `run -d` leaves a task) | %.1f | %.2f | %s |"
                  % (d["rate"], d["cpu_ms"], share(d["rate"])))
                P("")
                P("The detached floor is three execs (setsid, unshare, sleep), one fork and one mount per task, with "
                  "nothing supervising the result; `shimvisor run -d` adds the worker and the init (two more execs), "
                  "the root bind, /dev, /sys, /tmp, masked and read-only paths, pivot_root and the daemon's bookkeeping. "
                  "The issue-2 target (%d tasks/s) is %.0f%% of the detached floor measured here."
                  % (TARGET_START_RATE, 100.0 * TARGET_START_RATE / d["rate"]))
        P("")
    if res.get("shim_lat") or res.get("shim_mem"):
        report_shim3(b, res, P)
    if res.get("sizes"):
        sizes.section(res, P)
    P("## Commands")
    P("")
    P("`$SCR` is the private scratch dir (`%s/shimvisor-bench.XXXXXX`), `RFS=$SCR/rootfs` a busybox-static rootfs "
      "(`busybox` + one symlink per applet in /bin), `SV=$SCR/bin/shimvisor -a $SCR/sv/ctl.sock -n %s` (`$SCR/bin` = a copy of build/ taken at the start), "
      "`CTR=ctr -a $SCR/ctd/containerd.sock -n %s`." % (b.args.tmpdir, SV_NS, CTR_NS))
    P("")
    P("- runtime state on tmpfs, as `/run` is on a real host: `$SCR/ctd/state`, `$SCR/runc` and `$SCR/sv/state` are tmpfs mounts.")
    P("- containerd: `containerd --config $SCR/ctd/config.toml` (root, state, grpc/ttrpc/debug sockets under "
      "`$SCR/ctd`, `disabled_plugins = [\"io.containerd.grpc.v1.cri\"]`), fresh for this run; ready when `$CTR version` answers.")
    P("- shimvisord: `$SCR/bin/shimvisord -F --state $SCR/sv/state --address $SCR/sv/ctl.sock "
      "--pidfile $SCR/sv/pid --cgroup-parent %s --ready-fd FD` (task_cgroups = limits, the default: only the "
      "`--pids 100` row's tasks get a cgroup of their own)." % SV_CG_PARENT)
    P("- memory, shimvisor: `$SV run -d ID /bin/sleep 100000` (host / read-only, the default), and the `--rootfs RFS` row "
      "with `$SV run -d --rootfs RFS ID /bin/sleep 100000`; monitor = parent of the task's init (`state` pid) = shimvisor-worker; "
      "daemon = monitor + shimvisord-eng.")
    P("- memory, ctr: `$CTR run -d --log-uri file://$SCR/logs/ID.log --runc-root $SCR/runc --rootfs RFS ID /bin/sleep 100000`; "
      "monitor = parent of the task's init = containerd-shim-runc-v2; daemon = containerd.")
    P("- USS/PSS/RSS: `Private_Clean+Private_Dirty`, `Pss`, `Rss` of `/proc/PID/smaps_rollup`; daemon growth = (Rss after - Rss before)/N, "
      "before read %g s after one warm-up task (started and deleted) on the running daemon, after read %g s after the last task runs; "
      "monitors are read at that same point." % (b.args.settle, b.args.settle))
    P("- throughput: a 4-thread pool runs `$SV run -d ID /bin/sleep 100000` per task, then `$SV delete -f ID` per task; "
      "ctr: `$CTR run -d ...` as above, then `$CTR task rm -f ID && $CTR container rm ID` per task.")
    P("- clean-up: every task deleted through its stack, daemons stopped by pid, leftovers naming `$SCR` killed, "
      "mounts under `$SCR` unmounted, `$SCR` removed.")
    if res["notes"]:
        P("")
        P("## Notes")
        P("")
        for n in res["notes"]:
            P("- " + n)
    P("")
    # the soak's sections (bench/soak.py) are not the bench's to drop
    text = "\n".join(lines) + foreign_sections(path, SOAK_SECTIONS)
    with open(path, "w") as f:
        f.write(text)
    return targets


def report_shim3(b, res, P):
    """The section "Issue 3: containerd shim": our worker as containerd 1.6's runtime v2 shim
    (io.containerd.shimvisor.v2) beside containerd-shim-runc-v2, one private containerd, one run."""
    m = res["machine"]
    P("## Issue 3: containerd shim")
    P("")
    P("Our worker (`shimvisor-worker`, run by containerd as `containerd-shim-shimvisor-v2`, runtime `%s`) beside "
      "`containerd-shim-runc-v2` (runtime `%s`, with runc), both driven by the same private containerd of this run, "
      "same `ctr` default spec, same busybox-static rootfs. %s, %s CPUs; Linux %s; measured %s."
      % (SHIM3_RUNTIME, RUNC_RUNTIME, m.get("cpu", "?"), m["nproc"], m["kernel"], m["date"]))
    P("")
    if res.get("shim_mem"):
        m3 = res["shim_mem"]
        n = m3["sv"]["n"]
        P("### Shim memory per task (%d detached `ctr run -d ... /bin/sleep 1000` per runtime, read %g s after all run)"
          % (n, b.args.settle))
        P("")
        P("| shim | tasks | shim servers counted | USS per task (KiB) | PSS per task (KiB) | RSS per task (KiB) | USS sum (KiB) | PSS sum (KiB) | USS per shim p10-p90 | threads per shim | shim parent (count) |")
        P("|---|---|---|---|---|---|---|---|---|---|---|")
        for k in ("sv", "runc"):
            r = m3[k]
            P("| %s (%s) | %d | %d | %.1f | %.1f | %.1f | %d | %d | %.0f-%.0f | %g | %s |"
              % (r["label"], ", ".join(r["shim_comm"]), r["n"], r["shims"], r["uss_per_task_kib"], r["pss_per_task_kib"],
                 r["rss_per_task_kib"], r["uss_sum_kib"], r["pss_sum_kib"], r["uss_kib"]["p10"], r["uss_kib"]["p90"],
                 r["threads"], ", ".join("%s (%d)" % (p, c) for p, c in sorted(r["shim_parents"].items()))))
        s, r = m3["sv"], m3["runc"]
        P("")
        P("Ratios runc-v2 shim / ours: USS %.1fx (target >= %.0fx), PSS %.1fx, RSS %.1fx."
          % (r["uss_per_task_kib"] / max(s["uss_per_task_kib"], 1e-9), TARGET_SHIM_USS_RATIO,
             r["pss_per_task_kib"] / max(s["pss_per_task_kib"], 1e-9), r["rss_per_task_kib"] / max(s["rss_per_task_kib"], 1e-9)))
        P("Start of the %d tasks, 4 at a time (for context, not a target): ours %.1f tasks/s, runc-v2 shim %.1f tasks/s."
          % (n, s["start_rate"], r["start_rate"]))
        P("Checks: tasks whose init is not a child of a counted shim: ours %d, runc %d (the task's own processes are "
          "never counted); containerd's `shim-binary-path` for ours: `%s`; after the clean-up, shim servers still "
          "alive: ours %d, runc %d; shim sockets left: ours %d, runc %d."
          % (s["tasks_not_child_of_a_shim"], r["tasks_not_child_of_a_shim"], s["shim_binary_path"],
             s["shims_left_after_rm"], r["shims_left_after_rm"], s["sockets_left_after_rm"], r["sockets_left_after_rm"]))
        if "exe" in s["shim_comm"]:
            P("Our shim servers' process name (comm) is `exe`, not `%s` or `shimvisor-worker`: `start` re-execs "
              "`/proc/self/exe`, and the kernel names a process after the last component of the path it execs "
              "(argv[0] and /proc/PID/exe stay right). `pgrep -x %s` finds none of them; they are counted by argv[0]."
              % (SHIM3_BIN, SHIM3_BIN))
        P("")
    if res.get("shim_lat"):
        l3 = res["shim_lat"]
        st = l3["stats"]
        P("### `ctr run --rm ... /bin/true` run-to-exit latency (ms; %d per shim after %d warm-up pairs, interleaved A/B)"
          % (l3["runs"], l3["warmup"]))
        P("")
        P("| shim | median | p10 | p90 | mean | command |")
        P("|---|---|---|---|---|---|")
        for k in ("sv", "runc"):
            x = st[k]
            P("| %s | %.2f | %.2f | %.2f | %.2f | `%s` |" % (SHIM3_LABEL[k], x["median"], x["p10"], x["p90"], x["mean"],
                                                          l3["commands"][k]))
        P("")
        P("Ratio ours / runc-v2 shim: median %.3fx (target <= %.1fx), p90 %.3fx, mean %.3fx."
          % (st["sv"]["median"] / st["runc"]["median"], TARGET_SHIM_LAT_RATIO, st["sv"]["p90"] / st["runc"]["p90"],
             st["sv"]["mean"] / st["runc"]["mean"]))
        P("Each iteration runs one of each, the order alternating (ours first on even iterations); after each sample "
          "the harness waits until that run's shim has exited, then idles %g s, as in section 2." % b.args.gap)
        P("")
    P("How: containerd resolves `%s` to `%s` via its PATH, whose first entry `$SCR/shim` holds only the symlink "
      "`%s -> $SCR/bin/shimvisor-worker` (the build snapshot; `shimvisor-init` beside it); containerd's cwd is "
      "`$SCR/ctd`. Shim servers counted: processes whose argv[0] basename is `%s` or `shimvisor-worker` (ours) or "
      "`containerd-shim-runc-v2`, whose command line carries `-address $SCR/ctd/containerd.sock` and no action "
      "word, and whose parent is not itself a shim; USS = `Private_Clean+Private_Dirty`, PSS = `Pss` of "
      "`/proc/PID/smaps_rollup`, summed over those processes and divided by the task count. Between phases every "
      "task gets `ctr task kill -s SIGKILL`, `ctr task rm`, `ctr c rm`, and the harness waits for the shims to exit. "
      "runc's `--runc-root $SCR/runc` (tmpfs) only sets runc's options, not the spec. Shim sockets: ours in "
      "/run/shimvisor/.s, runc's in /run/containerd/s (the same file system here)."
      % (SHIM3_RUNTIME, SHIM3_BIN, SHIM3_BIN, SHIM3_BIN))
    P("")


def print_table(targets):
    print()
    print("%-58s %12s %10s  %-5s  %s" % ("target", "measured", "target", "", "peer"))
    for t in targets:
        val = ("%.2f" % t[1]) if isinstance(t[1], float) else str(t[1])
        print("%-58s %12s %10s  %-5s  %s" % (t[0], val, t[2], verdict(t[3]), t[4]))
    print()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mem-n", type=int, default=100, help="tasks per stack for memory (default 100)")
    ap.add_argument("--tp-n", type=int, default=200, help="tasks for shimvisor throughput (default 200)")
    ap.add_argument("--tp-ctr-n", type=int, default=200, help="tasks for ctr throughput (default 200)")
    ap.add_argument("--reps", type=int, default=3, help="throughput repetitions for shimvisor (default 3)")
    ap.add_argument("--ctr-reps", type=int, default=2, help="throughput repetitions for ctr (default 2)")
    ap.add_argument("--lat-runs", type=int, default=50)
    ap.add_argument("--lat-warmup", type=int, default=3)
    ap.add_argument("--gap", type=float, default=0.1, help="seconds idle after each latency sample (default 0.1)")
    ap.add_argument("--settle", type=float, default=5.0, help="seconds idle before memory reads (default 5)")
    ap.add_argument("--no-hyperfine", action="store_true")
    ap.add_argument("--no-rootfs-mem", action="store_true", help="skip the shimvisor --rootfs memory row")
    ap.add_argument("--shim-n", type=int, default=50,
                    help="issue 3: detached tasks per containerd shim for memory (default 50)")
    ap.add_argument("--shim-lat-runs", type=int, default=40,
                    help="issue 3: `ctr run --rm` samples per shim (default 40)")
    ap.add_argument("--shim-lat-warmup", type=int, default=3)
    ap.add_argument("--cli-runs", type=int, default=100, help="issue 13: CLI start-up samples (default 100)")
    ap.add_argument("--phases", default=",".join(ALL_PHASES),
                    help="which measurements, a comma-separated subset of %s; `shim` = shim-lat,shim-mem "
                         "(issue 3); default all" % ",".join(ALL_PHASES))
    ap.add_argument("--tmpdir", default="/tmp")
    ap.add_argument("--keep", action="store_true", help="keep the scratch dir (debugging)")
    ap.add_argument("--out", default=os.path.join(HERE, "RESULTS.md"))
    ap.add_argument("--json", default=os.path.join(HERE, "results.json"))
    args = ap.parse_args()
    phases = []
    for x in args.phases.split(","):
        for y in (["shim-lat", "shim-mem"] if x == "shim" else [x] if x else []):
            if y not in phases:
                phases.append(y)
    if not phases or set(phases) - set(ALL_PHASES):
        ap.error("--phases: a comma-separated subset of %s (or shim)" % ",".join(ALL_PHASES))
    phases = [x for x in ALL_PHASES if x in phases]

    b = Bench(args)

    t_start = time.monotonic()

    def body():
        b.preflight()
        b.machine()
        b.make_scratch()
        b.copy_binaries()
        b.make_rootfs()
        if phases != ["sizes"]:
            b.start_containerd()
        b.start_shimvisord()
        res = b.results
        res["phases"] = phases
        # the idle daemon first, as started: nothing run on it yet
        if "idle" in phases:
            res["idle"] = idle.measure(b, settle=args.settle)
        # latency first: mass task creation/teardown (memory, throughput) leaves the kernel tearing
        # down hundreds of namespaces in the background, which slows every namespace-creating path
        if "lat" in phases:
            res["lat"] = b.latency()
            res["hyperfine"] = b.hyperfine()
        if "shim-lat" in phases:
            res["shim_lat"] = b.shim3_latency()
        if "mem" in phases:
            res["mem"] = {}
            res["mem"]["shimvisor"] = b.mem_stack("sv", args.mem_n, "shimvisor")
            res["mem"]["ctr+runc"] = b.mem_stack("ctr", args.mem_n, "ctr+runc")
            if not args.no_rootfs_mem:
                res["mem"]["shimvisor --rootfs RFS"] = b.mem_stack("sv", args.mem_n, "shimvisor-rootfs", rootfs=True)
        if "shim-mem" in phases:
            res["shim_mem"] = {"sv": b.shim3_mem("sv", args.shim_n), "runc": b.shim3_mem("runc", args.shim_n)}
        if "tp" in phases:
            res["tp"] = {}
            res["tp"]["shimvisor"] = b.throughput("sv", args.tp_n, args.reps)
            res["xargs"] = b.xargs_check(args.tp_n)
            res["tp_floor"] = b.kernel_floor_rate(args.tp_n)
            res["tp"]["ctr+runc"] = b.throughput("ctr", args.tp_ctr_n, args.ctr_reps)
        if "sizes" in phases:
            sizes.measure(b, res, args.mem_n, args.cli_runs)
        res["notes"] += [
            "Target verdicts use the first shimvisor memory row (default: host / read-only) and the interleaved "
            "harness medians; hyperfine figures are a cross-check only.",
            "`delete -f ... <= 2.5 ms each` is read as wall time of deleting all N, 4 at a time, divided by N; "
            "the per-call latency (median over calls, 4 in flight) is reported beside it.",
            "Order: latency (fresh daemons), issue 3 latency, memory, issue 3 memory, then throughput. Daemon growth "
            "is measured once per row on the same long-running daemons (after the latency runs and one warm-up task); "
            "the first shimvisor row includes the daemon's first growth to N live tasks (tables, heap), later rows reuse it.",
            "Peers not run here (conmon+crun) are quoted from anchor figures measured on 2026-11-23 on a machine of this kind.",
        ]
        if "tp" in phases and args.tp_ctr_n != args.tp_n:
            res["notes"].append("ctr throughput used N=%d (shimvisor N=%d)" % (args.tp_ctr_n, args.tp_n))
        res["elapsed_s"] = time.monotonic() - t_start
        res["machine"]["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
        targets = report(b, res, args.out)
        kept = [(k, v) for k, v in read_json(args.json).items() if k in SOAK_KEYS]
        with open(args.json, "w") as f:
            json.dump(dict([("SPDX-License-Identifier", "Apache-2.0"),
                            ("purpose", "bench/results.json: raw figures of the last `make bench` (bench/bench.py) "
                                        "and `make soak` (bench/soak.py, keys soak and hostile)")]
                           + list(res.items()) + kept), f, indent=1, default=str)
        print_table(targets)
        log("wrote %s and %s" % (args.out, args.json))
        if "edge" in phases:
            # its own section of RESULTS.md and key of results.json; a failed proof fails the bench
            if subprocess.run([sys.executable, os.path.join(HERE, "edge.py"), "--tmpdir", args.tmpdir,
                               "--out", args.out, "--json", args.json]).returncode:
                raise BenchError("bench/edge.py failed")
        if "pods" in phases:
            if subprocess.run([sys.executable, os.path.join(HERE, "pods.py"), "--out", args.out,
                               "--json", args.json]).returncode:
                raise BenchError("bench/pods.py failed")
        return 0
    return drive(body, b.cleanup)


if __name__ == "__main__":
    sys.exit(main())
