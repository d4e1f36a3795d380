#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# bench/soak.py: `make soak` driver: N `run --rm` and N execs into one long task on a private shimvisord; drift, leaks, exit->event latency.
"""The soak (not CI; `make soak`, as root):

  1. a private shimvisord (bench/benchlib.py's SvStack: scratch dir, snapshot of build/,
     busybox-static rootfs, tmpfs state), a subscriber (`shimvisor events --format json`,
     read by a thread of this script) and one long task (`run -d ... /bin/sleep`);
  2. a warm-up of W `run --rm` and W execs into the long task (allocator arenas, the
     engine's tables and the worker's buffers reach their working size), then every exit
     event of it, then --settle seconds idle: the *start* reading;
  3. N `run --rm --rootfs RFS ID /bin/true` and N `exec --exec-id E LONG /bin/true`,
     interleaved, 4 at a time; then every exit event, --settle idle: the *end* reading;
  4. readings of the monitor, the engine (the monitor's child `shimvisord-eng`) and the long
     task's worker: RSS (smaps_rollup), the [heap] mapping's RSS, open fds; and counts:
     failed commands, missing exit events, zombies, stray processes, bundles, sockets and
     FIFOs left;
  5. then bench/hostile.py, when it exists (another helper's standalone script, run as
     `python3 bench/hostile.py --json FILE` with its own private daemon).

Writes only the "Soak" and "Hostile clients" sections of bench/RESULTS.md and the keys
"soak" and "hostile" of bench/results.json; bench.py's sections are left as they are.
"""
import argparse
import calendar
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time

from benchlib import (HERE, RESULTS_JSON, RESULTS_MD, SV_NS, BenchError, SvStack, all_pids, children_of, drive, fd_count,
                      log, merge_sections, pctl, pool_run, proc_comm, proc_ppid, proc_state, read_json, run, smaps_rollup,
                      update_json)

LONG = "soak-long"
DRIFT_RSS_KIB = 64       # the drift target per process, start -> end
DRIFT_FDS = 0
HOSTILE = os.path.join(HERE, "hostile.py")
HOSTILE_FIELDS = [       # key in hostile.py's JSON, what it is (as hostile.py describes it)
    ("connections_tried", "connections one uid tried to open and hold (lock-out)"),
    ("lockout_ms_root", "meanwhile, root's `Version`, connect to answer (ms; -1: no answer in time)"),
    ("lockout_ms_other", "meanwhile, another uid's `Version`, connect to answer (ms; -1: no answer in time)"),
    ("subscriber_closed_lost", "never-reading subscribers closed with a lost-events frame"),
    ("partial_bytes_max_kib", "engine RSS growth while partial-frame hogs held their frames (KiB)"),
    ("engine_rss_kib_start", "engine VmRSS at the start (KiB)"),
    ("engine_rss_kib_max", "engine VmRSS, highest sample through the suite (KiB)"),
]
MD_HEADER = ("<!-- SPDX-License-Identifier: Apache-2.0 -->\n"
             "<!-- bench/RESULTS.md: figures measured by `make bench` and `make soak` (generated; do not edit by hand). -->\n"
             "# shimvisor benchmark results\n")
JSON_PURPOSE = ("bench/results.json: raw figures of the last `make bench` (bench/bench.py) and `make soak` "
                "(bench/soak.py, keys soak and hostile)")


def now_utc():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc3339_ns(s):
    """"2026-12-04T17:30:00.123456789Z" (the CLI's format) -> ns since the epoch, or None."""
    try:
        sec = calendar.timegm(time.strptime(s[:19], "%Y-%m-%dT%H:%M:%S"))
        frac = s[20:-1] if len(s) > 20 and s[19] == "." else ""
        return sec * 10**9 + int((frac + "000000000")[:9])
    except (ValueError, IndexError):
        return None


def heap_rss_kib(pid):
    """Rss of the [heap] mapping (brk arena) of one process, 0 if none or gone."""
    try:
        with open("/proc/%d/smaps" % pid) as f:
            inheap = False
            for line in f:
                if not line[0].isupper() or line.startswith("VmFlags"):
                    inheap = line.rstrip().endswith("[heap]")
                elif inheap and line.startswith("Rss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def reading(pid):
    s = smaps_rollup(pid) or {"rss": -1, "pss": -1, "uss": -1}
    return {"pid": pid, "comm": proc_comm(pid), "rss_kib": s["rss"], "pss_kib": s["pss"], "uss_kib": s["uss"],
            "heap_kib": heap_rss_kib(pid), "fds": fd_count(pid)}


class Subscriber:
    """`shimvisor events --format json`, read by a thread: for every /tasks/exit event, keyed
    (id, exec_id), the exit time it carries (exited_at: when the worker reaped the process,
    CLOCK_REALTIME) and the time this script read its line (time.time_ns(), the same clock)."""

    def __init__(self, cmd, errpath):
        self.err = open(errpath, "w")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self.err, bufsize=0)
        self.cond = threading.Condition()
        self.exits = {}
        self.topics = {}
        self.dups = 0
        self.bad = 0
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        f = self.proc.stdout
        while True:
            line = f.readline()
            t = time.time_ns()
            if not line:
                break
            try:
                ev = json.loads(line)
            except ValueError:
                self.bad += 1
                continue
            with self.cond:
                top = ev.get("topic", "")
                self.topics[top] = self.topics.get(top, 0) + 1
                if top == "/tasks/exit":
                    key = (ev.get("id", ""), ev.get("exec_id", ""))
                    if key in self.exits:
                        self.dups += 1
                    self.exits[key] = (rfc3339_ns(ev.get("exited_at", "")), t, ev.get("exit_status"))
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait_exits(self, keys, timeout):
        """Wait until an exit event of every key has arrived; returns the keys still missing."""
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                missing = [k for k in keys if k not in self.exits]
                left = end - time.monotonic()
                if not missing or left <= 0 or self.proc.poll() is not None:
                    return missing
                self.cond.wait(min(left, 1.0))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.thread.join(timeout=5)
        self.err.close()


class Soak(SvStack):
    def __init__(self, args):
        super().__init__(args.tmpdir, "shimvisor-soak.", args.keep)
        self.args = args
        self.sub = None

    def run_cmd(self, tid):
        return self.sv_cmd("run", "--rm", "--rootfs", self.rfs, tid, "/bin/true")

    def exec_cmd(self, eid):
        return self.sv_cmd("exec", "--exec-id", eid, LONG, "/bin/true")

    def ops(self, prefix, n):
        """n `run --rm` and n execs, interleaved; and the (id, exec_id) of the exit event of each."""
        cmds, keys = [], []
        for i in range(n):
            tid, eid = "%s-r%d" % (prefix, i), "%s-x%d" % (prefix, i)
            cmds += [self.run_cmd(tid), self.exec_cmd(eid)]
            keys += [(tid, ""), (LONG, eid)]
        return cmds, keys

    def pids(self):
        """{"monitor", "engine", "worker"}: pids of the daemon's two processes and the long task's worker."""
        d = self.svd_pids()
        st = json.loads(run(self.sv_cmd("state", LONG, "--format", "json"), timeout=20).stdout)
        if st.get("status") != "running" or not st.get("pid"):
            raise BenchError("%s is not running: %s" % (LONG, st))
        return {"monitor": d[0], "engine": d[1] if len(d) > 1 else 0, "worker": proc_ppid(st["pid"]),
                "task_init": st["pid"]}

    def read_all(self, pids, malloc=False):
        r = {k: reading(pids[k]) for k in ("monitor", "engine", "worker")}
        if malloc:
            for k in ("monitor", "engine"):
                r[k]["malloc"] = self.malloc_stats(pids[k])
        return r

    def malloc_stats(self, pid):
        """glibc's malloc_stats() of a daemon process, called through gdb: it writes to the
        process's stderr, the daemon log. {"system": bytes, "in_use": bytes} of all arenas and
        mmap (the "Total" lines), {} when gdb or the text is missing. Stops the process ~0.5 s."""
        if not shutil.which("gdb"):
            return {}
        log_path = self.svd_log.name
        pos = os.path.getsize(log_path)
        run(["gdb", "-p", str(pid), "-batch", "-nx", "-ex", "call (void)malloc_stats()"], check=False, timeout=60)
        with open(log_path, errors="replace") as f:
            f.seek(pos)
            text = f.read()
        out = {}
        for line in text.splitlines():
            m = re.match(r"\s*(system|in use) bytes\s*=\s*(\d+)", line)
            if m and "total" in out.get("_section", ""):
                out["system" if m.group(1) == "system" else "in_use"] = int(m.group(2))
            if line.startswith("Total"):
                out["_section"] = "total"
        out.pop("_section", None)
        return out

    def settle(self):
        time.sleep(self.args.settle)

    def fifo_dir(self):
        return os.path.join(self.scr, "fifo")

    def leftovers(self, pids):
        """What the soak leaves behind once every command has returned and every exit arrived."""
        d = children_of([pids["monitor"]])
        zombies = [p for p in d | {pids["monitor"]} if proc_state(p) == "Z"]
        # every zombie whose parent is ours (a descendant may have been reparented to a subreaper)
        zombies += [p for p in all_pids() if proc_state(p) == "Z" and proc_ppid(p) in d and p not in zombies]
        expect = {pids["engine"], pids["worker"], pids["task_init"]}
        # the one warm worker the monitor keeps ready (a child of the monitor), and its warm init
        idle = [p for p in d - expect if proc_ppid(p) == pids["monitor"] and proc_comm(p) == "shimvisor-worke"]
        if len(idle) == 1:
            expect |= {idle[0]} | {p for p in children_of(idle) if proc_comm(p) == "shimvisor-init"}
        stray = {p: proc_comm(p) for p in d - expect}
        nsdir = os.path.join(self.sv_state, SV_NS)
        bundles = sorted(set(os.listdir(nsdir)) - {LONG}) if os.path.isdir(nsdir) else []
        sdir = os.path.join(self.sv_state, ".s")
        socks = len(os.listdir(sdir)) - 1 if os.path.isdir(sdir) else 0
        tasks = [t["id"] for t in self.sv_ls() if t["id"] != LONG]
        fifos = os.listdir(self.fifo_dir())
        return {"zombies": len(zombies), "stray_processes": len(stray),
                "stray": ["%d %s" % kv for kv in sorted(stray.items())][:20],
                "bundles_left": len(bundles), "bundles": bundles[:20], "sockets_left": socks,
                "tasks_left": len(tasks), "fifo_entries_left": len(fifos)}

    def soak(self):
        a = self.args
        res = {"date": now_utc(), "n": a.n, "warmup": a.warmup, "concurrency": a.conc, "settle_s": a.settle}
        # the CLI's FIFOs in a directory of ours, to count any left behind
        os.makedirs(self.fifo_dir(), mode=0o700)
        os.environ.pop("XDG_RUNTIME_DIR", None)
        os.environ["TMPDIR"] = self.fifo_dir()
        self.sub = Subscriber(self.sv_cmd("events", "--format", "json"), os.path.join(self.scr, "events.err"))
        run(self.sv_cmd("run", "-d", "--rootfs", self.rfs, LONG, "/bin/sleep", "100000000"), timeout=30)
        # the subscriber is subscribed once it has seen an exit of a task started after it
        run(self.run_cmd("soak-ready"), timeout=30)
        if self.sub.wait_exits([("soak-ready", "")], 30):
            raise BenchError("the subscriber saw no exit event within 30 s")
        pids = self.pids()
        res["pids"] = pids
        log("long task %s: init %d, worker %d; monitor %d, engine %d"
            % (LONG, pids["task_init"], pids["worker"], pids["monitor"], pids["engine"]))

        log("warm-up: %d run --rm + %d exec, %d at a time" % (a.warmup, a.warmup, a.conc))
        cmds, keys = self.ops("w", a.warmup)
        w, _, errs = pool_run(cmds, a.conc, timeout=60)
        missing = self.sub.wait_exits(keys, 60)
        res["warmup_failures"] = len(errs)
        if errs:
            log("  warm-up: %d failed; first: %s" % (len(errs), errs[0]))
        self.settle()
        res["start"] = self.read_all(pids, a.malloc_stats)
        self.log_reading("start", res["start"])

        total = 2 * a.n
        log("soak: %d run --rm + %d exec into %s, interleaved, %d at a time" % (a.n, a.n, LONG, a.conc))
        step = max(total // 20, 1)
        cmds, keys = self.ops("s", a.n)
        cuts = [len(cmds) * i // a.checkpoints for i in range(a.checkpoints + 1)]
        # idle readings between chunks: after each chunk's commands and exit events, --settle idle
        curve = res["checkpoints"] = []
        wall, errs, missing = 0.0, [], []
        for c0, c1 in zip(cuts, cuts[1:]):
            t0 = time.monotonic()

            def progress(done, c0=c0, t0=t0):
                if (c0 + done) % step == 0:
                    el = time.monotonic() - t0
                    log("  %d/%d (%.0f%%), %.1f ops/s" % (c0 + done, total, 100.0 * (c0 + done) / total, done / el))
            w, _, e = pool_run(cmds[c0:c1], a.conc, timeout=60, progress=progress)
            wall += w
            errs += e
            missing += self.sub.wait_exits(keys[c0:c1], 120)
            if c1 < len(cmds):
                self.settle()
                r = self.read_all(pids, a.malloc_stats)
                curve.append({"ops": c1, "reading": r})
                self.log_reading("after %d" % c1, r)
        res["wall_s"] = wall
        res["ops_per_s"] = total / wall
        res["failures"] = len(errs)
        res["failures_run"] = sum(1 for e in errs if " run --rm " in e)
        res["failures_exec"] = sum(1 for e in errs if " exec " in e)
        res["first_failures"] = [e.replace(self.scr, "$SCR") for e in errs[:5]]
        res["events_missing"] = len(missing)
        res["events_missing_first"] = ["%s/%s" % k for k in missing[:5]]
        self.settle()
        end_pids = self.pids()
        res["end_pids"] = end_pids
        res["end"] = self.read_all(end_pids, a.malloc_stats)
        curve.append({"ops": len(cmds), "reading": res["end"]})
        self.log_reading("end", res["end"])
        res["drift"] = {}
        for k in ("monitor", "engine", "worker"):
            s, e = res["start"][k], res["end"][k]
            same = s["pid"] == e["pid"]
            res["drift"][k] = {"same_pid": same, "rss_kib": e["rss_kib"] - s["rss_kib"],
                               "heap_kib": e["heap_kib"] - s["heap_kib"], "fds": e["fds"] - s["fds"],
                               "pass": same and e["rss_kib"] - s["rss_kib"] <= DRIFT_RSS_KIB
                               and e["fds"] - s["fds"] <= DRIFT_FDS}
        res["fds_leaked"] = sum(max(d["fds"], 0) for d in res["drift"].values())
        res.update(self.leftovers(end_pids))
        # exit -> event latency, main phase only
        lat = {"run": [], "exec": []}
        bad = 0
        for k in keys:
            x = self.sub.exits.get(k)
            if not x:
                continue
            if x[0] is None:
                bad += 1
                continue
            lat["exec" if k[1] else "run"].append((x[1] - x[0]) / 1e6)
        res["latency_ms"] = {}
        for name, xs in (("run --rm", lat["run"]), ("exec", lat["exec"]), ("all", lat["run"] + lat["exec"])):
            res["latency_ms"][name] = {"n": len(xs), "p50": pctl(xs, 50), "p99": pctl(xs, 99),
                                       "max": max(xs) if xs else float("nan")}
        res["events_no_exited_at"] = bad
        # the same latency with one command at a time (after the end reading: not in the drift)
        seq = []
        for i in range(a.seq):
            k = ("q-r%d" % i, "")
            run(self.run_cmd(k[0]), timeout=60)
            if not self.sub.wait_exits([k], 30):
                x = self.sub.exits[k]
                if x[0] is not None:
                    seq.append((x[1] - x[0]) / 1e6)
        res["latency_ms"]["run --rm, one at a time"] = {"n": len(seq), "p50": pctl(seq, 50), "p99": pctl(seq, 99),
                                                        "max": max(seq) if seq else float("nan")}
        res["events_duplicate"] = self.sub.dups
        res["events_topics"] = dict(self.sub.topics)
        res["load_end"] = open("/proc/loadavg").read().split()[:3]
        log("  %d ops in %.0f s (%.1f/s); failures %d; events missing %d; fds leaked %d; zombies %d; stray %d; "
            "bundles left %d; sockets left %d; fifos left %d"
            % (total, wall, total / wall, res["failures"], res["events_missing"], res["fds_leaked"], res["zombies"],
               res["stray_processes"], res["bundles_left"], res["sockets_left"], res["fifo_entries_left"]))
        for name, x in res["latency_ms"].items():
            log("  exit->event %-8s p50 %.2f ms, p99 %.2f ms, max %.2f ms (n %d)"
                % (name, x["p50"], x["p99"], x["max"], x["n"]))
        run(self.sv_cmd("delete", "-f", LONG), timeout=30)
        self.sub.stop()
        return res

    def log_reading(self, when, r):
        log("  %s: %s" % (when, "; ".join("%s %d: RSS %d KiB (heap %d%s), %d fds" % (
            k, v["pid"], v["rss_kib"], v["heap_kib"], ", malloc in use %.1f" % (v["malloc"]["in_use"] / 1024.0)
            if v.get("malloc", {}).get("in_use") is not None else "", v["fds"]) for k, v in r.items())))

    def cleanup(self):
        if self.sub:
            self.sub.stop()
            self.sub = None
        super().cleanup()


# ---- the report ----------------------------------------------------------------------------
def soak_section(r, cmd_show):
    P = []
    P.append("## Soak")
    P.append("")
    P.append("Written by `make soak` (bench/soak.py), %s: %d `run --rm` and %d `exec` into one long task, "
             "interleaved, %d at a time, on a private shimvisord; %d of each before as a warm-up. "
             "Wall time of the soak %.0f s (%.1f operations/s); load average at the end %s."
             % (r["date"], r["n"], r["n"], r["concurrency"], r["warmup"], r["wall_s"], r["ops_per_s"],
                " ".join(r["load_end"])))
    P.append("")
    P.append("| process | pid | RSS start (KiB) | RSS end | drift (target <= %d) | [heap] RSS start -> end | fds start | fds end | fd drift (target %d) | verdict |"
             % (DRIFT_RSS_KIB, DRIFT_FDS))
    P.append("|---|---|---|---|---|---|---|---|---|---|")
    names = {"monitor": "monitor (shimvisord)", "engine": "engine (shimvisord-eng)", "worker": "long task's worker"}
    for k in ("monitor", "engine", "worker"):
        s, e, d = r["start"][k], r["end"][k], r["drift"][k]
        pid = str(s["pid"]) if d["same_pid"] else "%d -> %d (restarted)" % (s["pid"], e["pid"])
        P.append("| %s | %s | %d | %d | %+d | %d -> %d | %d | %d | %+d | **%s** |"
                 % (names[k], pid, s["rss_kib"], e["rss_kib"], d["rss_kib"], s["heap_kib"], e["heap_kib"],
                    s["fds"], e["fds"], d["fds"], "PASS" if d["pass"] else "MISS"))
    P.append("")
    ms = [(k, r["start"][k].get("malloc", {}), r["end"][k].get("malloc", {})) for k in ("monitor", "engine")]
    if all(a.get("in_use") is not None and b.get("in_use") is not None for _, a, b in ms):
        P.append("glibc malloc_stats() (bytes in use / arena size, KiB), start -> end: %s. Bytes in use "
                 "that stay flat while RSS grows are pages of the arena touched again, not a leak."
                 % "; ".join("%s %.1f / %.0f -> %.1f / %.0f" % (k, a["in_use"] / 1024.0, a["system"] / 1024.0,
                                                                b["in_use"] / 1024.0, b["system"] / 1024.0)
                             for k, a, b in ms))
        P.append("")
    cp = r.get("checkpoints", [])
    if len(cp) > 1:
        inuse = lambda x: x.get("malloc", {}).get("in_use")
        P.append("Idle readings through the soak (KiB):")
        P.append("")
        P.append("| operations | engine RSS | engine [heap] | engine malloc in use | monitor RSS | worker RSS |")
        P.append("|---|---|---|---|---|---|")
        for c in [{"ops": 0, "reading": r["start"]}] + cp:
            x = c["reading"]
            mu = inuse(x["engine"])
            P.append("| %d | %d | %d | %s | %d | %d |" % (c["ops"], x["engine"]["rss_kib"], x["engine"]["heap_kib"],
                                                         "%.1f" % (mu / 1024.0) if mu is not None else "-",
                                                         x["monitor"]["rss_kib"], x["worker"]["rss_kib"]))
        P.append("")
        f, e = cp[0]["reading"], r["end"]
        P.append("From the first idle reading (after %d operations) to the end: %s."
                 % (cp[0]["ops"], "; ".join("%s RSS %+d KiB%s" % (
                     k, e[k]["rss_kib"] - f[k]["rss_kib"],
                     ", malloc in use %+.1f KiB" % ((inuse(e[k]) - inuse(f[k])) / 1024.0)
                     if inuse(e[k]) is not None and inuse(f[k]) is not None else "")
                     for k in ("monitor", "engine", "worker"))))
        P.append("")
    lt = r["latency_ms"]
    P.append("Exit -> event latency seen by a subscriber (ms): `run --rm` p50 %.2f, p99 %.2f (n %d); exec p50 %.2f, "
             "p99 %.2f (n %d); all p50 %.2f, p99 %.2f, max %.2f."
             % (lt["run --rm"]["p50"], lt["run --rm"]["p99"], lt["run --rm"]["n"], lt["exec"]["p50"],
                lt["exec"]["p99"], lt["exec"]["n"], lt["all"]["p50"], lt["all"]["p99"], lt["all"]["max"]))
    q = lt.get("run --rm, one at a time")
    if q and q["n"]:
        P.append("With one command at a time (%d `run --rm` after the soak): p50 %.2f, p99 %.2f, max %.2f."
                 % (q["n"], q["p50"], q["p99"], q["max"]))
    P.append("")
    P.append("Counts: failed commands **%d** (run --rm %d, exec %d; target 0); exit events missing %d, duplicated %d; "
             "fds leaked %d; zombies left %d; stray processes %d; bundles left in state %d; shim sockets left %d; "
             "tasks listed %d; CLI FIFO entries left %d (all besides the long task)."
             % (r["failures"], r["failures_run"], r["failures_exec"], r["events_missing"], r["events_duplicate"],
                r["fds_leaked"], r["zombies"], r["stray_processes"], r["bundles_left"], r["sockets_left"],
                r["tasks_left"], r["fifo_entries_left"]))
    if r["first_failures"]:
        P.append("First failures: " + "; ".join("`%s`" % e.replace("`", "'")[:300] for e in r["first_failures"]))
    if r["stray"]:
        P.append("Stray processes: " + ", ".join(r["stray"]))
    P.append("")
    P.append("How: the operations are `%s` and `%s` (N distinct ids), each a CLI process of a 4-thread pool; the "
             "long task is `run -d --rootfs RFS %s /bin/sleep 100000000`. Readings: `Rss` of /proc/PID/smaps_rollup, "
             "the `Rss` of its `[heap]` mapping in /proc/PID/smaps, and the entries of /proc/PID/fd, of the monitor, "
             "the engine (the monitor's child `shimvisord-eng`) and the long task's worker (parent of its init). "
             "*start* is read after the warm-up's commands have returned and all their exit events have arrived, "
             "then %g s idle (the warm-up lets the allocators and the daemon's tables reach their working size, so "
             "a one-off first growth is not counted as drift); the soak runs in chunks with the same idle reading "
             "after each, *end* after the last. malloc_stats(): gdb attaches to the idle process and calls it "
             "(it prints to the daemon's log). Latency: for every "
             "exit of the soak, the subscriber `shimvisor events --format json` (started before, read by a thread "
             "of the driver) gives `exited_at` (the worker's CLOCK_REALTIME when it reaped the process) and the "
             "driver stamps the line's arrival with time.time_ns(): latency = arrival - exited_at, so it includes "
             "worker -> engine report, the engine's publication, the CLI's decode and its pipe to the driver. "
             "Zombies: processes in state Z below the monitor or whose parent is below it; stray: processes below "
             "the monitor other than the engine, the long task's worker and init, and the one idle warm worker (comm `shimvisor-worke`) with its warm init. "
             "FIFOs: the CLI's TMPDIR points at an empty directory of the run."
             % (cmd_show(["run", "--rm", "--rootfs", "RFS", "ID", "/bin/true"]),
                cmd_show(["exec", "--exec-id", "E", LONG, "/bin/true"]), LONG, r["settle_s"]))
    P.append("")
    return "\n".join(P)


def hostile_section(h):
    P = ["## Hostile clients", ""]
    if h.get("skipped"):
        P.append("Not measured (%s), %s." % (h["skipped"], h["date"]))
        P.append("")
        return "\n".join(P)
    P.append("Written by `make soak` from `python3 bench/hostile.py --json FILE` (its own private daemon), %s; "
             "hostile.py's wall time %.0f s, exit status %d." % (h["date"], h.get("wall_s", 0), h.get("rc", 0)))
    P.append("")
    P.append("| figure | value |")
    P.append("|---|---|")
    fig = h.get("figures", {})
    for k, what in HOSTILE_FIELDS:
        v = fig.get(k)
        P.append("| %s (`%s`) | %s |" % (what, k, "not reported" if v is None else
                                        ("%.1f" % v if isinstance(v, float) else v)))
    for k in sorted(set(fig) - {f[0] for f in HOSTILE_FIELDS}):
        P.append("| `%s` | %s |" % (k, fig[k]))
    P.append("")
    return "\n".join(P)


def run_hostile(args, scr):
    """Run bench/hostile.py (when present) or read --hostile-json; returns the "hostile" record."""
    rec = {"date": now_utc()}
    path = args.hostile_json
    if not path:
        if not os.path.exists(HOSTILE):
            log("hostile clients: bench/hostile.py does not exist: skipped (section left as it was)")
            return None
        path = os.path.join(scr, "hostile.json")
        log("hostile clients: python3 bench/hostile.py --json %s" % path)
        t0 = time.monotonic()
        try:
            cp = subprocess.run([sys.executable, HOSTILE, "--json", path], stdin=subprocess.DEVNULL,
                                timeout=args.hostile_timeout)
            rec["rc"] = cp.returncode
        except subprocess.TimeoutExpired:
            rec["rc"] = -1
            log("hostile clients: timed out after %d s" % args.hostile_timeout)
        rec["wall_s"] = time.monotonic() - t0
    try:
        with open(path) as f:
            rec["figures"] = json.load(f)
    except (OSError, ValueError) as e:
        raise BenchError("hostile clients: no figures in %s: %s (exit status %s)" % (path, e, rec.get("rc")))
    if rec.get("rc"):
        log("hostile clients: hostile.py exited %d" % rec["rc"])
    return rec


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=int(os.environ.get("SOAK_N") or 20000),
                    help="run --rm and execs each (default $SOAK_N or 20000)")
    ap.add_argument("--warmup", type=int, default=None,
                    help="warm-up operations of each kind before the start reading (default min(300, max(50, N/10)))")
    ap.add_argument("--conc", type=int, default=4, help="commands in flight (default 4)")
    ap.add_argument("--seq", type=int, default=50,
                    help="run --rm one at a time after the soak, for the latency at rest (default 50)")
    ap.add_argument("--no-malloc-stats", dest="malloc_stats", action="store_false",
                    help="no glibc malloc_stats() of monitor and engine at the readings (taken through gdb, "
                         "when installed, while nothing is in flight)")
    ap.add_argument("--checkpoints", type=int, default=8,
                    help="the soak in this many chunks, an idle reading after each (default 8)")
    ap.add_argument("--settle", type=float, default=2.0, help="seconds idle before each reading (default 2)")
    ap.add_argument("--no-soak", action="store_true", help="only the hostile clients")
    ap.add_argument("--no-hostile", action="store_true", help="do not run bench/hostile.py")
    ap.add_argument("--hostile-json", help="take the hostile figures from this file instead of running hostile.py")
    ap.add_argument("--hostile-timeout", type=int, default=1800)
    ap.add_argument("--rewrite", action="store_true",
                    help="only write the Soak section again from the soak key of --json (no run)")
    ap.add_argument("--tmpdir", default="/tmp")
    ap.add_argument("--keep", action="store_true", help="keep the scratch dir (debugging)")
    ap.add_argument("--out", default=RESULTS_MD)
    ap.add_argument("--json", default=RESULTS_JSON)
    args = ap.parse_args()
    if args.n < 1 or args.conc < 1 or args.checkpoints < 1:
        ap.error("--n, --conc and --checkpoints must be at least 1")
    if args.warmup is None:
        args.warmup = min(300, max(50, args.n // 10))

    if args.rewrite:
        res = read_json(args.json).get("soak")
        if not res:
            ap.error("--rewrite: no soak key in %s" % args.json)
        merge_sections(args.out, soak_section(res, lambda a: " ".join(["$SV"] + a)), ("Soak",), MD_HEADER)
        return 0
    s = Soak(args)

    def body():
        rc = 0
        s.check_build()
        s.make_scratch()
        if not args.no_soak:
            s.copy_binaries()
            s.make_rootfs()
            s.start_shimvisord()
            res = s.soak()
            merge_sections(args.out, soak_section(res, lambda a: " ".join(["$SV"] + a)), ("Soak",), MD_HEADER)
            update_json(args.json, {"soak": res}, JSON_PURPOSE)
            log("wrote the Soak section of %s and key soak of %s" % (args.out, args.json))
            s.cleanup()       # a quiet machine for the hostile clients
            s.make_scratch()
            bad = [k for k, d in res["drift"].items() if not d["pass"]]
            counts = ("failures", "events_missing", "fds_leaked", "zombies", "stray_processes", "bundles_left",
                      "sockets_left", "tasks_left", "fifo_entries_left")
            if bad or any(res[k] for k in counts):
                log("MISS: drift of %s; %s" % (", ".join(bad) or "none",
                                               ", ".join("%s %d" % (k, res[k]) for k in counts if res[k]) or "no leaks"))
                rc = 3
        if not args.no_hostile:
            h = run_hostile(args, s.scr)
            if h:
                merge_sections(args.out, hostile_section(h), ("Hostile clients",), MD_HEADER)
                update_json(args.json, {"hostile": h}, JSON_PURPOSE)
                log("wrote the Hostile clients section of %s" % args.out)
                if h.get("rc"):
                    rc = rc or 1
        return rc
    return drive(body, s.cleanup)


if __name__ == "__main__":
    sys.exit(main())
