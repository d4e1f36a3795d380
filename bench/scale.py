#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# bench/scale.py: what one daemon's operations cost as the number of tasks it holds grows.
"""Issue 15's figures (`make scale`; alone: `python3 bench/scale.py --n 200,2000`, as root,
after `make`).

First, nothing started yet, the host's limits: a task is two processes (its worker and its
process), so 2N pids beside those in use must fit kernel.pid_max and threads-max (else the run
stops before it starts, saying so); --nofile must fit fs.nr_open.

Each private daemon runs in a cgroup v1 memory cgroup of its own (when the host has one), so
the kernel memory charged to it, its workers and their tasks (memory.kmem: what the kernel
accounts) is read apart from the rest of the machine's; the meminfo and slabinfo figures are
the whole machine's.

Isolation (--iso-n N, 0: none): on one private daemon, N tasks of each isolation in turn, the
default (`--net loopback`: pid, ipc, uts, mount and network namespaces), `--net none`, `--net
host` and, through `--bundle`, `--net host` with the host's ipc and uts too (the daemon's policy
permits them), and a floor: N pairs of plain processes (busybox sh and its sleep) in the same
memory cgroup; --iso-reps rounds, each starting one variant later; before each variant the
tasks are deleted and the kernel settles (the network namespaces of deleted tasks are freed
late). Per task: the kernel's memory from /proc/meminfo (Slab and its unreclaimable part,
KernelStack, PageTables, Percpu), the memory cgroup's kmem, and the slab caches that grew most
(/proc/slabinfo: active objects x size). The median of the rounds, and the written verdict
computed from them: a default task's kernel memory split into the network, ipc + uts and pid +
mount namespaces and the two processes, which namespace costs the most, what a cheaper default
would save. When the rounds' meminfo figures lie too far apart (other work on the machine), the
verdict takes the memory cgroup's instead, with the growth of the plain kmalloc-N caches added
(allocations the kernel does not account to a cgroup: much of a network namespace's).

Beside a containerd shim (--runc-n N, 0: none): bench/bench.py's private containerd and its
issue-3 phase: N idle `ctr run -d` through containerd-shim-runc-v2 and through our worker as
containerd's shim, the shim servers' USS, PSS and RSS per task.

Then, for each N of --n (and again for each N of --net-host-n, the tasks run with `--net host`:
no network namespace, no sysfs of their own), a fresh private shimvisord (bench/benchlib.py's SvStack: snapshot of
build/, busybox-static rootfs, state on tmpfs, RLIMIT_NOFILE = --nofile) and, in order:

  - start: N `shimvisor run -d --rootfs RFS sK /bin/sleep 100000`, 4 at a time: tasks/s over
    all N and over the last tenth (what one more task costs at that size);
  - memory per task: the kernel's, as above, from the idle daemon (the kernel settled) to
    after the N starts, with the state's tmpfs (Shmem) and the drop of
    MemAvailable (other work on the machine moves them: a reading, not a proof); then each
    task's process (the pid `ls` gives) and its worker (that pid's parent), USS and PSS from
    /proc/PID/smaps_rollup, summed over N;
  - `ls` and `ls --format json`: wall time (median of 3) and bytes;
  - the engine's CPU time (/proc/PID/schedstat: ns on a CPU) per call, over --calls calls
    one at a time: `shimvisor state` (answered by the engine) and `shimvisor ps` (through
    the task's worker);
  - monitor and engine RSS, their fd counts and fds per task (so what --nofile holds);
  - restart: SIGKILL of monitor and engine, a new daemon on the same state; the time until
    a client (`ls -q`, waiting in the socket's backlog) is answered, the time to readiness
    (the ready fd: every task re-attached), the workers it logged late (no answer within
    reattach_timeout_ms), and the tasks `ls` shows after it;
  - delete: `shimvisor delete -f` of every task, 4 at a time: ms per task.

Writes section "Scale" of bench/RESULTS.md and key "scale" of bench/results.json; prints the
tables. Stdlib only.
"""
import argparse
import datetime
import json
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
                      SV_NS, merge_sections, pool_run, proc_comm, proc_ppid, smaps_rollup, update_json, wait_gone)

SECTION = "Scale"
CONC = 4
MEMCG = "/sys/fs/cgroup/memory"
# the kernel's memory, from /proc/meminfo: what a task's namespaces, processes and mounts take
KERNEL_KEYS = ("Slab", "KernelStack", "PageTables", "Percpu")
TOP_CACHES = 8                  # slab caches named per row, by growth
# pids a run leaves to the rest of the machine (each task is two: its worker and its process)
PID_HEADROOM = 512
# The isolation each task gets, the cheaper variants `shimvisor run` offers, one more a
# --bundle can say, and the floor: no task, a pair of plain processes as a worker and its task
# are: (label, run options, the namespaces a task gets). The daemon's policy permits the
# host's net, ipc and uts namespaces (host_namespaces) for them.
ISO_DEFAULT = "default (`--net loopback`)"
ISO_NET_NONE = "`--net none`"
ISO_NET_HOST = "`--net host`"
ISO_HOST_IPC_UTS = "`--net host` + host ipc, uts (`--bundle`)"
ISO_FLOOR = "floor: two plain processes (busybox `sh -c 'sleep & wait'`)"
ISO_VARIANTS = ((ISO_DEFAULT, [], "pid, ipc, uts, mount, net (lo up)"),
                (ISO_NET_NONE, ["--net", "none"], "pid, ipc, uts, mount, net (no lo)"),
                (ISO_NET_HOST, ["--net", "host"], "pid, ipc, uts, mount"),
                (ISO_HOST_IPC_UTS, None, "pid, mount"),
                (ISO_FLOOR, None, "none"))


def meminfo():
    out = {}
    with open("/proc/meminfo") as f:
        for line in f:
            k, v = line.split(":", 1)
            out[k] = int(v.split()[0])
    return out


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def oncpu_ns(pid):
    with open("/proc/%d/schedstat" % pid) as f:
        return int(f.read().split()[0])


def slabinfo():
    """{cache: KiB in use (active_objs * objsize)} of /proc/slabinfo (readable by root only)."""
    out = {}
    with open("/proc/slabinfo") as f:
        for line in f:
            p = line.split()
            if len(p) > 3 and p[1].isdigit():
                out[p[0]] = int(p[1]) * int(p[3]) / 1024
    return out


def slab_aliases(names):
    """{cache: [the other caches SLUB merged into it]} for the given names: /proc/slabinfo names
    a merged cache after one of its members; /sys/kernel/slab has a symlink per member."""
    d = "/sys/kernel/slab"
    try:
        links = {x: os.readlink(os.path.join(d, x)) for x in os.listdir(d) if os.path.islink(os.path.join(d, x))}
    except OSError:
        return {}
    out = {}
    for name in names:
        t = links.get(name)
        if t:
            out[name] = sorted(x for x, y in links.items() if y == t and x != name)
    return out


def memcg_kmem(cg):
    """KiB of kernel memory charged to the cgroup v1 memory cgroup `cg` (the allocations the kernel
    accounts: most of a task's namespaces, its task struct, stacks, page tables), or None."""
    try:
        with open(os.path.join(cg, "memory.kmem.usage_in_bytes")) as f:
            return int(f.read()) / 1024
    except (TypeError, OSError, ValueError):
        return None


def kernel_snapshot(cg=None):
    return {"meminfo": meminfo(), "slab": slabinfo(), "kmem": memcg_kmem(cg)}


def kernel_per_task(k0, k1, n):
    """The kernel's memory from snapshot k0 to k1, in KiB per task: each of KERNEL_KEYS, their
    sum ("kernel"), the unreclaimable part of Slab, tmpfs (the state's bundles), the drop of
    MemAvailable ("host") and every slab cache's growth ("caches", largest first)."""
    m0, m1 = k0["meminfo"], k1["meminfo"]
    r = {k: (m1.get(k, 0) - m0.get(k, 0)) / n for k in KERNEL_KEYS + ("SUnreclaim", "Shmem")}
    r["kernel"] = sum(r[k] for k in KERNEL_KEYS)
    r["host"] = (m0["MemAvailable"] - m1["MemAvailable"]) / n
    grow = {c: (v - k0["slab"].get(c, 0)) / n for c, v in k1["slab"].items()}
    r["slab_objects"] = sum(grow.values())
    r["memcg_kmem"] = (k1["kmem"] - k0["kmem"]) / n if k0["kmem"] is not None and k1["kmem"] is not None else None
    # the plain kmalloc caches: allocations the kernel does not account to a memory cgroup
    # (the accounted ones go to kmalloc-cg-*), so the memory cgroup's figure lacks them
    r["kmalloc_plain"] = sum(v for c, v in grow.items() if re.fullmatch(r"kmalloc-\d+k?", c))
    r["kmem_plus"] = r["memcg_kmem"] + r["kmalloc_plain"] if r["memcg_kmem"] is not None else None
    r["caches"] = sorted(([c, v] for c, v in grow.items() if abs(v) >= 0.05), key=lambda cv: -cv[1])
    return r


def kernel_median(rs):
    """The median of several kernel_per_task results, each figure apart (the caches too): other
    work on the machine moves a round's figures, one round more than the others."""
    out = {k: statistics.median(r[k] for r in rs) if rs[0][k] is not None else None for k in rs[0] if k != "caches"}
    caches = {}
    for r in rs:
        for c, v in r["caches"]:
            caches.setdefault(c, []).append(v)
    out["caches"] = sorted(([c, statistics.median(v + [0] * (len(rs) - len(v)))] for c, v in caches.items()),
                           key=lambda cv: -cv[1])
    out["kernel_range"] = [min(r["kernel"] for r in rs), max(r["kernel"] for r in rs)]
    return out


SETTLE_MAX = [120]              # --settle-max


def settle_kernel():
    """Wait until the kernel has freed what earlier tasks left (network namespaces are torn down
    by a workqueue after RCU grace periods): until, over 2 s, the unreclaimable slab and the
    per-cpu memory move less than 1 MiB and the network namespaces in use no longer drop.
    Returns the seconds waited (None: still moving at --settle-max)."""
    t0 = time.monotonic()
    timeout = SETTLE_MAX[0]
    seen, nets = [], []
    while time.monotonic() - t0 < timeout:
        m = meminfo()
        seen = (seen + [m["SUnreclaim"] + m.get("Percpu", 0)])[-5:]
        nets = (nets + [slabinfo().get("net_namespace", 0)])[-5:]
        if len(seen) == 5 and max(seen) - min(seen) < 1024 and nets[-1] >= nets[0]:
            return time.monotonic() - t0
        time.sleep(0.5)     # a reading every half second: polling the condition, with the deadline above
    log("the kernel's memory still moved after %d s (earlier tasks' namespaces being freed): "
        "reading anyway" % timeout)
    return None


def process_memory(tasks):
    """Each task's worker and process (the `pid` of `ls --format json`; its parent is the
    worker), USS/PSS/RSS summed in KiB: {"worker": {...}, "task": {...}, "missing": n}."""
    out = {"worker": {"uss": 0, "pss": 0, "rss": 0}, "task": {"uss": 0, "pss": 0, "rss": 0}, "missing": 0}
    for t in tasks:
        pid = t.get("pid", 0)
        w = proc_ppid(pid) if pid else 0
        if not w or not proc_comm(w).startswith("shimvisor-work"):
            out["missing"] += 1
            continue
        for role, p in (("worker", w), ("task", pid)):
            s = smaps_rollup(p)
            if s is None:
                out["missing"] += 1
                continue
            for k in ("uss", "pss", "rss"):
                out[role][k] += s[k]
    return out


def check_host(ns, nofile):
    """Refuse, before anything starts, an N the host cannot hold: a task is two processes (its
    worker and its process), so 2N pids and threads beside what runs already; the daemon's
    RLIMIT_NOFILE must be one the kernel allows (fs.nr_open)."""
    def num(path):
        with open(path) as f:
            return int(f.read().split()[0])
    pid_max, threads_max, nr_open = (num("/proc/sys/kernel/pid_max"), num("/proc/sys/kernel/threads-max"),
                                     num("/proc/sys/fs/nr_open"))
    with open("/proc/loadavg") as f:
        used = int(f.read().split()[3].split("/")[1])    # scheduling entities (threads) now
    n = max(ns)
    need = 2 * n + PID_HEADROOM + used
    if need > pid_max or need > threads_max:
        raise BenchError("N=%d needs %d pids (2 per task, %d running now, %d spare): kernel.pid_max is %d, "
                         "kernel.threads-max %d; raise them (sysctl) or lower --n" % (
                             n, need, used, PID_HEADROOM, pid_max, threads_max))
    if nofile > nr_open:
        raise BenchError("--nofile %d is above fs.nr_open %d" % (nofile, nr_open))
    avail = meminfo()["MemAvailable"]
    if n * 1024 > avail:
        log("warning: N=%d at ~1 MiB per task is more than MemAvailable (%d MiB)" % (n, avail // 1024))
    log("host: pid_max %d, threads-max %d, %d threads running: N=%d needs %d; MemAvailable %d MiB" % (
        pid_max, threads_max, used, n, need, avail // 1024))


class Scale(SvStack):
    def __init__(self, nofile, **kw):
        super().__init__(prefix="shimvisor-scale.", **kw)
        self.nofile = nofile
        self.memcg = None
        self.floor = []                 # ISO_FLOOR's shells (Popen)

    def make_memcg(self):
        """A cgroup v1 memory cgroup of the daemon's own (removed at clean-up), so the kernel
        memory charged to it and its children is read apart from the rest of the machine's;
        None without one (cgroup v2 hosts: the meminfo figures only)."""
        if not os.path.exists(os.path.join(MEMCG, "memory.kmem.usage_in_bytes")):
            return None
        name = os.path.basename(self.scr)
        os.mkdir(os.path.join(MEMCG, name))
        self.cg_names.append(name)
        return os.path.join(MEMCG, name)

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
                # the host's net, ipc and uts namespaces permitted for the isolation phase's variants
                f.write("[policy]\nrootfs_sources = %s\nhost_namespaces = net ipc uts\n" % os.path.dirname(self.rfs))
            self.memcg = self.make_memcg()
        self.svd_log = open(os.path.join(d, "daemon.log"), "a")
        self.logs.append(self.svd_log)
        nofile, memcg = self.nofile, self.memcg

        def limits():
            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
            if memcg:
                with open(os.path.join(memcg, "cgroup.procs"), "w") as f:
                    f.write(str(os.getpid()))
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

    def start_stack(self):
        self.make_scratch()
        self.copy_binaries()
        self.make_rootfs()

    def one(self, n, calls, net=None):
        r = {"n": n, "net": net or "own"}
        extra = ["--net", net] if net else []
        self.start_stack()
        self.daemon_popen()
        mon, eng = self.svd_pids()[:2]
        r["idle_rss_kib"] = self.daemon_rss([mon, eng])
        fds0 = {"monitor": fd_count(mon), "engine": fd_count(eng)}
        # the baseline: the idle daemon, the pids found (a /proc walk of the machine makes inodes)
        # and what an earlier N left freed
        r["settle_s"] = settle_kernel()
        k0 = kernel_snapshot(self.memcg)
        m0 = k0["meminfo"]

        # start
        cmds = [self.sv_cmd("run", "-d", *extra, "--rootfs", self.rfs, "s%d" % i, "/bin/sleep", "100000")
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
        # the kernel's share first: reading /proc of 2N processes below makes dentries and inodes
        k1 = kernel_snapshot(self.memcg)
        m1 = k1["meminfo"]
        r["host_kib_per_task"] = (m0["MemAvailable"] - m1["MemAvailable"]) / n
        r["slab_kib_per_task"] = (m1["Slab"] - m0["Slab"]) / n
        kp = kernel_per_task(k0, k1, n)
        kp["caches"] = kp["caches"][:TOP_CACHES]
        r["kernel_per_task_kib"] = kp
        pm = process_memory(self.sv_ls())
        if pm["missing"]:
            log("N=%d: %d tasks' worker or process not found in /proc" % (n, pm["missing"]))
        r["process_per_task_kib"] = {role: {k: v / n for k, v in pm[role].items()} for role in ("worker", "task")}
        r["process_missing"] = pm["missing"]
        w, t = r["process_per_task_kib"]["worker"], r["process_per_task_kib"]["task"]
        log("N=%d per task: worker USS %.0f PSS %.0f, task USS %.0f PSS %.0f; kernel %.0f (slab %.0f, stacks %.0f, "
            "page tables %.0f, per-cpu %.0f); host %.0f KiB; top caches %s" % (
                n, w["uss"], w["pss"], t["uss"], t["pss"], kp["kernel"], kp["Slab"], kp["KernelStack"],
                kp["PageTables"], kp["Percpu"], kp["host"],
                ", ".join("%s %.1f" % (c, v) for c, v in kp["caches"][:5])))

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
        r["fds_per_task"] = {k: (r["fds"][k] - fds0[k]) / n for k in fds0}
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

    def bundle_host_ipc_uts(self):
        """A bundle for ISO_HOST_IPC_UTS: the config.json the daemon writes for a `--net host`
        task, less its ipc and uts namespaces and what needs them (its hostname, /dev/mqueue)."""
        run_ok(self.sv_cmd("create", "--net", "host", "--rootfs", self.rfs, "iso-bundle", "/bin/sleep", "100000"))
        with open(os.path.join(self.sv_state, SV_NS, "iso-bundle", "config.json")) as f:
            cfg = json.load(f)
        run_ok(self.sv_cmd("delete", "-f", "iso-bundle"))
        cfg["linux"]["namespaces"] = [x for x in cfg["linux"]["namespaces"] if x["type"] not in ("ipc", "uts")]
        cfg.pop("hostname", None)
        cfg["mounts"] = [m for m in cfg.get("mounts", []) if m.get("type") != "mqueue"]
        cfg["process"]["env"] = [e for e in cfg["process"].get("env", []) if not e.startswith("HOSTNAME=")]
        d = os.path.join(self.scr, "bundle-host-ipc-uts")
        os.makedirs(d)
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(cfg, f)
        return ["--bundle", d]

    def floor_start(self, n):
        """ISO_FLOOR: N pairs of plain processes in the daemon's memory cgroup, no namespace of
        their own: busybox sh (from the rootfs) and its sleep; each shell says when its sleep is
        forked, on a pipe then closed."""
        bb = os.path.join(self.rfs, "bin", "busybox")
        memcg = self.memcg

        def join():
            if memcg:
                with open(os.path.join(memcg, "cgroup.procs"), "w") as f:
                    f.write(str(os.getpid()))
        for _ in range(n):
            p = subprocess.Popen([bb, "sh", "-c", "sleep 100000 & echo; wait"], stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, preexec_fn=join,
                                 start_new_session=True)
            self.floor.append(p)
        for p in self.floor:
            p.stdout.readline()
            p.stdout.close()

    def floor_stop(self):
        """Each pair of floor_start killed (its process group) and the shell reaped."""
        for p in self.floor:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for p in self.floor:
            p.wait(10)
        self.floor = []

    def cleanup(self):
        if self.floor:
            self.floor_stop()
        super().cleanup()

    def iso(self, n, reps):
        """The isolation phase: on one daemon, N tasks of each ISO_VARIANTS in turn (`reps`
        rounds), the kernel's memory from before their start to after it, per task; all deleted
        and the kernel settled between variants."""
        self.start_stack()
        self.daemon_popen()
        opts = {label: o for label, o, _ in ISO_VARIANTS}
        opts[ISO_HOST_IPC_UTS] = self.bundle_host_ipc_uts()
        seen = {label: [] for label, _, _ in ISO_VARIANTS}
        for rnd in range(reps):
            # each round starts one variant later: no variant always follows the same one
            order = ISO_VARIANTS[rnd % len(ISO_VARIANTS):] + ISO_VARIANTS[:rnd % len(ISO_VARIANTS)]
            for label, _, _ in order:
                self.sv_delete_all()
                settle_kernel()
                k0 = kernel_snapshot(self.memcg)
                if label == ISO_FLOOR:
                    self.floor_start(n)
                else:
                    rfs = [] if "--bundle" in opts[label] else ["--rootfs", self.rfs]
                    cmds = [self.sv_cmd(*(["run", "-d"] + opts[label] + rfs + ["i%d" % i, "/bin/sleep", "100000"]))
                            for i in range(n)]
                    wall, _, err = pool_run(cmds, CONC, timeout=60)
                    if err:
                        raise BenchError("isolation %s: %d starts failed: %s" % (label, len(err), err[:3]))
                k1 = kernel_snapshot(self.memcg)
                if label == ISO_FLOOR:
                    self.floor_stop()
                kp = kernel_per_task(k0, k1, n)
                seen[label].append(kp)
                log("isolation, round %d, %s: kernel %.0f KiB/task (slab %.0f, per-cpu %.0f, stacks %.0f, page "
                    "tables %.0f); top caches %s" % (rnd + 1, label, kp["kernel"], kp["Slab"], kp["Percpu"],
                                                      kp["KernelStack"], kp["PageTables"], ", ".join(
                                                          "%s %.1f" % (c, v) for c, v in kp["caches"][:4])))
        self.sv_delete_all()
        self.cleanup()
        out = []
        med = {label: kernel_median(seen[label]) for label, _, _ in ISO_VARIANTS}
        # the caches a task's network namespace grows: default minus `--net host`, cache by cache
        host = dict(med[ISO_NET_HOST]["caches"])
        net = sorted(([c, v - host.get(c, 0)] for c, v in med[ISO_DEFAULT]["caches"]), key=lambda cv: -cv[1])
        for label, o, nss in ISO_VARIANTS:
            m = med[label]
            m["caches"] = m["caches"][:TOP_CACHES]
            out.append({"variant": label, "namespaces": nss, "kernel_per_task_kib": m,
                        "options": " ".join(o) if o is not None else "--bundle DIR" if label == ISO_HOST_IPC_UTS else ""})
        return {"n": n, "reps": reps, "variants": out, "net_caches": net[:TOP_CACHES]}


def run_ok(cmd):
    cp = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    if cp.returncode:
        raise BenchError("%s: rc %d: %s" % (" ".join(cmd), cp.returncode, cp.stderr.decode(errors="replace")[-300:]))
    return cp


def runc_bench(settle):
    """bench/bench.py's stack (a private containerd beside the daemon), for runc_shim."""
    import bench
    b = bench.Bench(argparse.Namespace(tmpdir="/tmp", keep=False, settle=settle))
    b.prefix = "shimvisor-scale-runc."
    return b


def runc_shim(b, n):
    """One idle containerd-shim-runc-v2 per task, and our worker as containerd's shim beside it:
    bench/bench.py's private containerd and its issue-3 phase (`shim3_mem`), N `ctr run -d`."""
    b.preflight()
    b.machine()
    b.make_scratch()
    b.copy_binaries()
    b.make_rootfs()
    b.start_containerd()
    v = b.results["machine"]["versions"]
    res = {"n": n, "containerd_version": v["containerd"], "runc_version": v["runc"].split(";")[0]}
    for kind in ("runc", "sv"):
        m = b.shim3_mem(kind, n)
        res[kind] = {k: m[k + "_per_task_kib"] for k in ("uss", "pss", "rss")}
        res[kind].update(shims=m["shims"], threads=m["threads"])
    b.cleanup()
    return res


def opt(x):
    return "-" if x is None else "%.0f" % x


def caches_text(caches, k=5):
    """`name` KiB, ... of the first k caches (with the caches SLUB merged into each, when any)."""
    al = slab_aliases([c for c, _ in caches[:k]])
    return ", ".join("%s%s %.1f" % (c, " (+%s)" % ", ".join(al[c][:2] + (["..."] if len(al[c]) > 2 else []))
                                    if al.get(c) else "", v) for c, v in caches[:k])


def iso_parts(by, key):
    """A default task's kernel memory (figure `key`) split by the isolation variants: each
    namespace's share the difference of two variants, the processes' the floor's."""
    d, host, bare, floor = by[ISO_DEFAULT], by[ISO_NET_HOST], by[ISO_HOST_IPC_UTS], by[ISO_FLOOR]
    return [("the network namespace", d[key] - host[key]),
            ("the ipc and uts namespaces", host[key] - bare[key]),
            ("the pid and mount namespaces with their mounts", bare[key] - floor[key]),
            ("the two processes", floor[key])]


def iso_noisy(by):
    """Why the meminfo figures cannot rank the parts (other work on the machine moved them), or ""."""
    wide = [v for v, k in by.items() if k["kernel_range"][1] - k["kernel_range"][0] > max(32, abs(k["kernel"]) / 4)]
    if wide:
        return "the rounds' kernel figures of %d of the %d variants lie more than a quarter apart" % (
            len(wide), len(by))
    neg = [w for w, v in iso_parts(by, "kernel") if v < 0]
    if neg:
        return "%s came out negative" % " and ".join(neg)
    return ""


def iso_conclusion(iso):
    """The isolation phase's verdict, from its figures: what each namespace costs of a default
    task's kernel memory, which costs the most, and what a cheaper default would save. From the
    meminfo figures (all the kernel's memory), unless other work on the machine moved them too
    much: then from the memory cgroup's (only what the kernel accounts, but ours alone)."""
    by = {v["variant"]: v["kernel_per_task_kib"] for v in iso["variants"]}
    d = by[ISO_DEFAULT]
    noisy = iso_noisy(by)
    have_kmem = d.get("memcg_kmem") is not None
    out = []
    if noisy and have_kmem:
        key, what = "kmem_plus", ("charged to the daemon's memory cgroup (what the kernel accounts) plus the "
                                  "growth of the plain kmalloc caches (what it does not)")
        out.append("Other work on the machine moved the meminfo figures too much to rank the parts (%s): what "
                   "follows is the memory cgroup's, with the plain kmalloc caches added." % noisy)
    else:
        key, what = "kernel", "of kernel memory (slab, kernel stacks, page tables, per-cpu)"
        if noisy:
            out.append("Other work on the machine moved the figures (%s): a reading, not a ranking." % noisy)
    tot = d[key]

    def pct(x):
        return x / tot * 100 if tot else float("nan")
    parts = iso_parts(by, key)
    lo = tot - by[ISO_NET_NONE][key]
    out.append("At N=%d (median of %d rounds) a default task costs %.0f KiB %s: %s; its loopback, up, %.0f KiB of "
               "the network namespace's (default minus `--net none`)." % (
                   iso["n"], iso["reps"], tot, what, ", ".join("%s %.0f (%.0f%%)" % (w, v, pct(v)) for w, v in parts),
                   lo))
    top = max(parts[:3], key=lambda wv: wv[1])
    out.append("Of the default isolation, the most kernel memory goes to %s: %.0f KiB per task." % top)
    if have_kmem:
        kparts = iso_parts(by, "memcg_kmem")
        ktop = max(kparts[:3], key=lambda wv: wv[1])
        out.append("Charged to the daemon's memory cgroup alone (the part the kernel accounts, untouched by other "
                   "work on the machine): %.0f KiB per default task: %s; %s." % (
                       d["memcg_kmem"], ", ".join("%s %.0f" % wv for wv in kparts),
                       "the same first" if ktop[0] == top[0] else "by this measure the most goes to %s" % ktop[0]))
    out.append("The caches the network namespace grows most (default minus `--net host`): %s." %
               caches_text(iso["net_caches"]))
    net = parts[0][1]
    out.append("Cheaper defaults: `--net host` would save %.0f KiB (%.0f%%) but gives the task the host's network, "
               "so it stays an opt-in the policy must permit; `--net none` keeps the task off every network (no "
               "loopback either) and saves %.0f KiB (%.0f%%): %s; the host's ipc and uts would save %.0f KiB "
               "(%.0f%%)." % (
                   net, pct(net), lo, pct(lo),
                   "worth offering as the default, with `--net loopback` for a task that needs localhost"
                   if pct(lo) >= 20 else "too little to change the default for", parts[1][1], pct(parts[1][1])))
    return " ".join(out)


def row_name(r):
    """A run's label: N, and the isolation when it is not the default."""
    return "%d" % r["n"] if r.get("net", "own") == "own" else "%d, `--net %s`" % (r["n"], r["net"])


def flatness(rows, net):
    """The largest N's start rate (last tenth) and delete cost against the smallest N's, for
    the runs of one isolation: the issue's measure of a cost that does not grow with N."""
    rs = sorted((r for r in rows if r.get("net", "own") == net), key=lambda r: r["n"])
    if len(rs) < 2:
        return ""
    a, b = rs[0], rs[-1]
    return ("- %s: from N=%d to N=%d the start rate (last tenth) falls %.2fx (%.1f -> %.1f/s) and `delete -f` "
            "costs %.2fx (%.2f -> %.2f ms/task); the engine's CPU per `state` %.2fx." % (
                "tasks with a network namespace of their own (the default)" if net == "own"
                else "tasks with `--net %s`" % net, a["n"], b["n"],
                a["start_last_tenth_per_s"] / b["start_last_tenth_per_s"], a["start_last_tenth_per_s"],
                b["start_last_tenth_per_s"], b["delete_ms_per_task"] / a["delete_ms_per_task"],
                a["delete_ms_per_task"], b["delete_ms_per_task"],
                b["engine_us_per_state"] / a["engine_us_per_state"]))


def report(res):
    rows = res["runs"]
    P = []
    P.append("## %s\n" % SECTION)
    P.append("`python3 bench/scale.py --n %s%s --iso-n %d --runc-n %d` (%s, %s, %d CPUs, RLIMIT_NOFILE %d, load "
             "average %s at the start, %s at the end): one fresh daemon per N, `sleep` tasks started 4 at a time. "
             "Written by bench/scale.py.\n" % (
                 ",".join(str(r["n"]) for r in rows if r.get("net", "own") == "own"),
                 "".join(" --net-host-n " + ",".join(str(r["n"]) for r in rows if r.get("net", "own") == "host")
                         for _ in [0] if any(r.get("net", "own") == "host" for r in rows)),
                 res["iso"]["n"] if res.get("iso") else 0,
                 res["runc_shim"]["n"] if res.get("runc_shim") else 0, res["date"], res["kernel"],
                 os.cpu_count(), res["nofile"], res["loadavg"][0], res["loadavg"][-1]))
    if rows:
        P.append("| N | start/s (all; last tenth) | delete -f ms/task | restart: serving; all re-attached s "
                 "(late workers) | ls ms (json ms, KiB) | engine µs per state; per ps | "
                 "RSS KiB monitor; engine | host KiB/task (slab) |")
        P.append("|---|---|---|---|---|---|---|---|")
        for r in rows:
            P.append("| %s | %.1f; %.1f | %.2f | %.2f; %.2f (%d) | %.0f (%.0f, %d) | %.0f; %.0f | %d; %d | %.0f (%.0f) |" % (
                row_name(r), r["start_per_s"], r["start_last_tenth_per_s"], r["delete_ms_per_task"],
                r["restart_serve_s"], r["restart_s"], r["restart_late"], r["ls_ms"], r["ls_json_ms"],
                r["ls_json_bytes"] // 1024, r["engine_us_per_state"], r["engine_us_per_ps"],
                r["rss_kib"]["monitor"], r["rss_kib"]["engine"], r["host_kib_per_task"],
                r["slab_kib_per_task"]))
        P.append("")
        P.append("Memory per task, KiB: the workers' and the tasks' processes summed from "
                 "`/proc/PID/smaps_rollup` (USS = Private_Clean+Private_Dirty) over N; the kernel's from "
                 "`/proc/meminfo` from the idle daemon (the kernel settled) to after the N starts, over N: "
                 "Slab (unreclaimable part), kernel stacks, page tables, per-cpu; the slab caches that grew most "
                 "(`/proc/slabinfo`, active objects × size; SLUB's merged caches named after one member); the "
                 "state's tmpfs (Shmem); the host's (drop of MemAvailable). Other work on the machine moves these "
                 "(a reading, not a proof); not so the memcg kmem: the kernel memory charged to the daemon's own "
                 "memory cgroup (cgroup v1 `memory.kmem.usage_in_bytes`; every worker and task is in it), only the "
                 "allocations the kernel accounts, so less than the kernel column; with the growth of the plain "
                 "kmalloc caches (kmalloc-N: not accounted) added after it. Fds per task: each daemon "
                 "process's growth over N.\n")
        P.append("| N | worker USS; PSS | task process USS; PSS | kernel (memcg kmem; + plain kmalloc) | slab "
                 "(unreclaimable; objects) | stacks; page tables; per-cpu | tmpfs | sum: PSS + kernel + tmpfs | "
                 "host | slab caches that grew most | fds/task monitor; engine |")
        P.append("|---|---|---|---|---|---|---|---|---|---|---|")
        for r in rows:
            w, t = r["process_per_task_kib"]["worker"], r["process_per_task_kib"]["task"]
            k = r["kernel_per_task_kib"]
            P.append("| %s | %.0f; %.0f | %.0f; %.0f | %.0f (%s; %s) | %.0f (%.0f; %.0f) | %.0f; %.0f; %.0f | %.0f | "
                     "%.0f | %.0f | %s | %.2f; %.2f |" % (
                         row_name(r), w["uss"], w["pss"], t["uss"], t["pss"], k["kernel"], opt(k.get("memcg_kmem")),
                         opt(k.get("kmem_plus")), k["Slab"], k["SUnreclaim"],
                         k["slab_objects"], k["KernelStack"], k["PageTables"], k["Percpu"], k["Shmem"],
                         w["pss"] + t["pss"] + k["kernel"] + k["Shmem"], k["host"], caches_text(k["caches"]),
                         r["fds_per_task"]["monitor"], r["fds_per_task"]["engine"]))
        P.append("")
        for net in sorted(set(r.get("net", "own") for r in rows), key=lambda x: x != "own"):
            P.append(flatness(rows, net))
        P.append("")
        r = max(rows, key=lambda x: x["n"])
        fpt = r["fds_per_task"]["engine"]
        if fpt > 0:
            P.append("At %.2f engine fds per task (N=%d), RLIMIT_NOFILE %d holds at most ~%d tasks, less the "
                     "engine's reserve for clients.\n" % (fpt, r["n"], res["nofile"], res["nofile"] / fpt))
    iso = res.get("iso")
    if iso:
        P.append("Isolation: on one daemon, N=%d tasks of each kind in turn (%d rounds, the median of each figure "
                 "shown; the tasks deleted and the kernel settled in between), the kernel's memory per task from before "
                 "their start to after it. The CLI offers `--net none|host|loopback`; the host's ipc and uts "
                 "namespaces only through `--bundle` (the default `--net host` config.json less those "
                 "namespaces, its hostname and /dev/mqueue); the daemon's policy permits them "
                 "(`host_namespaces = net ipc uts`). Other work on the machine moves a round's figures: the range "
                 "of the kernel column shows by how much.\n" % (iso["n"], iso["reps"]))
        P.append("| isolation | namespaces of its own | kernel KiB/task (rounds' range) | memcg kmem (+ plain "
                 "kmalloc) | slab "
                 "(unreclaimable; objects) | stacks; page tables; per-cpu | host KiB/task | slab caches that grew "
                 "most |")
        P.append("|---|---|---|---|---|---|---|---|")
        for v in iso["variants"]:
            k = v["kernel_per_task_kib"]
            P.append("| %s | %s | %.0f (%.0f-%.0f) | %s (%s) | %.0f (%.0f; %.0f) | %.0f; %.0f; %.0f | %.0f | %s |" % (
                v["variant"], v["namespaces"], k["kernel"], k["kernel_range"][0], k["kernel_range"][1],
                opt(k.get("memcg_kmem")), opt(k.get("kmem_plus")), k["Slab"],
                k["SUnreclaim"], k["slab_objects"], k["KernelStack"], k["PageTables"], k["Percpu"], k["host"],
                caches_text(k["caches"])))
        P.append("")
        P.append(iso_conclusion(iso) + "\n")
    rs = res.get("runc_shim")
    if rs:
        P.append("Beside a containerd shim: one private containerd (%s; %s), N=%d idle `ctr run -d ... sleep` "
                 "through each runtime (bench/bench.py's issue-3 phase), the shim servers' memory per task, KiB; "
                 "our worker under shimvisord from the memory table above.\n" % (
                     rs["containerd_version"], rs["runc_version"], rs["n"]))
        P.append("| per task | USS | PSS | RSS |")
        P.append("|---|---|---|---|")
        P.append("| containerd-shim-runc-v2 (one per task) | %.0f | %.0f | %.0f |" % (
            rs["runc"]["uss"], rs["runc"]["pss"], rs["runc"]["rss"]))
        P.append("| our worker as containerd's shim (io.containerd.shimvisor.v2) | %.0f | %.0f | %.0f |" % (
            rs["sv"]["uss"], rs["sv"]["pss"], rs["sv"]["rss"]))
        for r in rows:
            w = r["process_per_task_kib"]["worker"]
            P.append("| our worker under shimvisord, N=%s | %.0f | %.0f | %.0f |" % (
                row_name(r), w["uss"], w["pss"], w["rss"]))
        own = [r for r in rows if r.get("net", "own") == "own"] or rows
        if own:
            big = max(own, key=lambda x: x["n"])
            w = big["process_per_task_kib"]["worker"]
            k = big["kernel_per_task_kib"]
            t = big["process_per_task_kib"]["task"]
            P.append("\nAt N=%d the runc-v2 shim costs %.1fx our worker in USS, %.1fx in PSS; per task the kernel "
                     "holds %.0f KiB, our worker %.0f and the task's process %.0f (PSS)." % (
                         big["n"], rs["runc"]["uss"] / w["uss"] if w["uss"] else float("nan"),
                         rs["runc"]["pss"] / w["pss"] if w["pss"] else float("nan"), k["kernel"], w["pss"], t["pss"]))
        P.append("")
    return "\n".join(P) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", default="200,2000", help="comma-separated task counts (default 200,2000)")
    ap.add_argument("--calls", type=int, default=200, help="state and pids calls per N (default 200)")
    ap.add_argument("--nofile", type=int, default=20000, help="the daemon's RLIMIT_NOFILE (default 20000)")
    ap.add_argument("--iso-n", type=int, default=200,
                    help="tasks per isolation variant (default 200; 0: no isolation phase)")
    ap.add_argument("--iso-reps", type=int, default=3,
                    help="rounds of the isolation variants, the median reported (default 3)")
    ap.add_argument("--runc-n", type=int, default=10,
                    help="idle tasks per containerd shim, runc-v2's and ours (default 10; 0: none)")
    ap.add_argument("--settle-max", type=float, default=120,
                    help="seconds at most to wait for the kernel to free earlier tasks' memory (default 120)")
    ap.add_argument("--net-host-n", default="",
                    help="comma-separated task counts to run again with `run --net host` (the host's network "
                         "namespace: no namespace, no sysfs of its own per task; default none)")
    ap.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    args = ap.parse_args()
    ns = [int(x) for x in args.n.split(",")] if args.n else []
    hosts = [int(x) for x in args.net_host_n.split(",")] if args.net_host_n else []
    res = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%MZ"),
           "kernel": platform.release(), "nofile": args.nofile, "runs": [], "loadavg": [loadavg()]}
    SETTLE_MAX[0] = args.settle_max
    cur = [None]

    def write():
        """RESULTS.md's section and results.json's key from what is measured so far: after each
        phase, so a long run that fails at its largest N keeps the others."""
        res["loadavg"][1:] = [loadavg()]
        text = report(res)
        if not args.no_write:
            merge_sections(RESULTS_MD, text, [SECTION])
            update_json(RESULTS_JSON, {"scale": res}, "scale")
        return text

    def body():
        check_host(ns + hosts + [args.iso_n], args.nofile)
        if args.iso_n:
            cur[0] = Scale(args.nofile)
            cur[0].check_build()
            res["iso"] = cur[0].iso(args.iso_n, max(1, args.iso_reps))
            write()
        if args.runc_n:
            cur[0] = runc_bench(settle=2.0)
            res["runc_shim"] = runc_shim(cur[0], args.runc_n)
            write()
        runs = [(n, None) for n in ns] + [(n, "host") for n in hosts]
        for i, (n, net) in enumerate(runs):
            cur[0] = Scale(args.nofile)
            cur[0].check_build()
            res["runs"].append(cur[0].one(n, args.calls, net))
            if i != len(runs) - 1:
                write()
        print(write())
        return 0

    def cleanup():
        if cur[0]:
            cur[0].cleanup()
    return drive(body, cleanup)


if __name__ == "__main__":
    sys.exit(main())
