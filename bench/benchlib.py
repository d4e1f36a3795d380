#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# bench/benchlib.py: what bench.py and soak.py share: /proc readers, a command pool, a private shimvisord, RESULTS.md sections.
"""Stdlib only. `SvStack` is a private shimvisord under a scratch directory (tmpfs state, a
snapshot of build/, a busybox-static rootfs) and its clean-up; `merge_sections` /
`update_json` let each driver rewrite only its own part of bench/RESULTS.md and
bench/results.json."""
import concurrent.futures as cf
import datetime
import hashlib
import json
import os
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
BUILD = os.path.join(TOP, "build")
BINS = ("shimvisord", "shimvisor-worker", "shimvisor-init", "shimvisor")
SV_NS = "bench"
SV_CG_PARENT = "/shimvisor-bench"   # shimvisord --cgroup-parent: its tasks' cgroups go below
CG_ROOT = "/sys/fs/cgroup"
RESULTS_MD = os.path.join(HERE, "RESULTS.md")
RESULTS_JSON = os.path.join(HERE, "results.json")
PROG = os.path.splitext(os.path.basename(sys.argv[0]))[0] or "bench"


def log(msg):
    print(PROG + ": " + msg, file=sys.stderr, flush=True)


class BenchError(Exception):
    pass


def run(cmd, timeout=60, check=True, env=None, quiet=False):
    """Run cmd (list), bounded; returns CompletedProcess with text output."""
    try:
        cp = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        raise BenchError("timed out after %ss: %s" % (timeout, " ".join(cmd)))
    if check and cp.returncode != 0:
        raise BenchError("failed (rc %d): %s\n%s" % (cp.returncode, " ".join(cmd),
                                                      (cp.stderr or "").strip()[-2000:]))
    return cp


def timed(cmd, timeout=60, env=None):
    """Wall time (ns) of one fork+exec+wait of cmd; raises on failure."""
    t0 = time.perf_counter_ns()
    try:
        cp = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        raise BenchError("timed out after %ss: %s" % (timeout, " ".join(cmd)))
    dt = time.perf_counter_ns() - t0
    if cp.returncode != 0:
        raise BenchError("failed (rc %d): %s\n%s" % (cp.returncode, " ".join(cmd),
                                                      cp.stderr.decode(errors="replace").strip()[-2000:]))
    return dt


def cpu_busy_ms():
    """Busy CPU time of the whole machine so far (user+nice+system+irq+softirq, /proc/stat), in ms:
    a start run's CPU per task is steadier on a shared VM than its wall-clock rate."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (v[0] + v[1] + v[2] + v[5] + v[6]) * 1000.0 / os.sysconf("SC_CLK_TCK")


def pctl(xs, q):
    """Percentile q in [0,100] with linear interpolation."""
    s = sorted(xs)
    if not s:
        return float("nan")
    k = (len(s) - 1) * q / 100.0
    f = int(k)
    c = min(f + 1, len(s) - 1)
    return s[f] + (s[c] - s[f]) * (k - f)


def summ(xs):
    return {"n": len(xs), "median": pctl(xs, 50), "p10": pctl(xs, 10), "p90": pctl(xs, 90),
            "mean": statistics.fmean(xs) if xs else float("nan")}


def smaps_rollup(pid):
    """Rss, Pss, USS (Private_Clean+Private_Dirty) in KiB of one process, or None if gone."""
    out = {}
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 2 and parts[0].endswith(":") and parts[1].isdigit():
                    out[parts[0][:-1]] = int(parts[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return {"rss": out.get("Rss", 0), "pss": out.get("Pss", 0),
            "uss": out.get("Private_Clean", 0) + out.get("Private_Dirty", 0)}


def proc_status(pid, key):
    """The number of one line of /proc/PID/status ("Threads", "VmRSS" in KiB); 0 if gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def proc_threads(pid):
    return proc_status(pid, "Threads")


def proc_ppid(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
        return int(s[s.rindex(")") + 2:].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


def proc_comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return ""


def proc_cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def all_pids():
    return [int(d) for d in os.listdir("/proc") if d.isdigit()]


def children_of(pids):
    """All descendants of the given pids (one /proc scan, transitive)."""
    pp = {}
    for p in all_pids():
        pp.setdefault(proc_ppid(p), []).append(p)
    out, todo = set(), list(pids)
    while todo:
        p = todo.pop()
        for c in pp.get(p, []):
            if c not in out:
                out.add(c)
                todo.append(c)
    return out


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child of ours counts as gone
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read()
        return st[st.rindex(")") + 2] != "Z"
    except (OSError, ValueError, IndexError):
        return False


def wait_gone(pids, timeout):
    end = time.monotonic() + timeout
    pids = [p for p in pids if p]
    while time.monotonic() < end:
        for p in pids:
            try:
                os.waitpid(p, os.WNOHANG)
            except ChildProcessError:
                pass
        if not any(alive(p) for p in pids):
            return True
        time.sleep(0.05)
    return not any(alive(p) for p in pids)


def unlink_dead_socket(path):
    """Remove a unix socket that no longer answers (its server is gone)."""
    c = socket.socket(socket.AF_UNIX)
    try:
        c.settimeout(1)
        c.connect(path)
    except OSError:
        try:
            os.unlink(path)
        except OSError:
            pass
    finally:
        c.close()


def mounts_under(path):
    prefix = path.rstrip("/") + "/"
    res = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = line.split()[4].encode().decode("unicode_escape")
            if mp == path or mp.startswith(prefix):
                res.append(mp)
    return res


def pool_run(cmds, conc, timeout=60, progress=None):
    """Run each command list (or list of command lists, run in sequence) with `conc` workers;
    returns (wall_s, [per-item seconds], [errors]). A command that fails or outlives `timeout`
    is an error (its item stops there). `progress(done)` is called after each item."""
    done = [0]

    def one(item):
        seq = item if isinstance(item[0], list) else [item]
        t0 = time.perf_counter_ns()
        err = None
        for c in seq:
            try:
                cp = subprocess.run(c, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, timeout=timeout)
            except subprocess.TimeoutExpired:
                err = "%s: timed out after %ss" % (" ".join(c), timeout)
                break
            if cp.returncode != 0:
                err = "%s: rc %d: %s" % (" ".join(c), cp.returncode,
                                         cp.stderr.decode(errors="replace").strip()[-300:])
                break
        if progress:
            done[0] += 1      # under the GIL; only a progress figure
            progress(done[0])
        return (time.perf_counter_ns() - t0) / 1e9, err
    t0 = time.perf_counter_ns()
    ex = cf.ThreadPoolExecutor(max_workers=conc)
    try:
        res = list(ex.map(one, cmds))
    except BaseException:
        ex.shutdown(wait=True, cancel_futures=True)  # running calls are bounded by `timeout`
        raise
    ex.shutdown(wait=True)
    wall = (time.perf_counter_ns() - t0) / 1e9
    return wall, [r[0] for r in res], [r[1] for r in res if r[1]]



def fd_count(pid):
    """Open fds of one process, or -1 if it is gone."""
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return -1


def proc_state(pid):
    """The one-letter state of /proc/PID/stat (R, S, Z...), "" if gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read()
        return st[st.rindex(")") + 2]
    except (OSError, ValueError, IndexError):
        return ""


def kill_pids(pids, sig=signal.SIGKILL):
    for p in pids:
        try:
            os.kill(p, sig)
        except ProcessLookupError:
            pass


# --------------------------------------------------------------------------------------
class SvStack:
    """A private shimvisord: scratch dir $SCR (`prefix`XXXXXX under `tmpdir`), binaries copied
    from build/ to $SCR/bin, a busybox-static rootfs $SCR/rootfs, state on tmpfs $SCR/sv/state,
    socket $SCR/sv/ctl.sock. cleanup() undoes all of it, whatever the point of failure."""

    def __init__(self, tmpdir="/tmp", prefix="shimvisor-bench.", keep=False):
        self.tmpdir, self.prefix, self.keep = tmpdir, prefix, keep
        self.scr = None
        self.rfs = None
        self.sv = os.path.join(BUILD, "shimvisor")
        self.svd = os.path.join(BUILD, "shimvisord")
        self.svd_proc = None
        self.svd_log = None
        self.cg_names = [SV_CG_PARENT.strip("/")]   # top cgroup dirs of ours (removed at the end when new)
        self.cg_before = set()
        self.logs = []                                # files closed at the end

    def check_build(self):
        if os.geteuid() != 0:
            raise BenchError("must run as root (namespaces, cgroups)")
        for name in BINS:
            if not os.access(os.path.join(BUILD, name), os.X_OK):
                raise BenchError("%s missing: run `make` first" % os.path.join(BUILD, name))
        if not shutil.which("busybox"):
            raise BenchError("busybox not found: run `sh bench/deps.sh` as root")

    def make_scratch(self):
        self.scr = tempfile.mkdtemp(prefix=self.prefix, dir=self.tmpdir)
        os.chmod(self.scr, 0o711)
        log("scratch dir " + self.scr)
        # cgroup dirs that exist before: ours are the new ones
        for ctl in os.listdir(CG_ROOT):
            for name in self.cg_names:
                p = os.path.join(CG_ROOT, ctl, name)
                if os.path.isdir(p):
                    self.cg_before.add(p)

    def copy_binaries(self):
        """Run a snapshot of build/ (copied into $SCR/bin) so a rebuild during the run cannot mix
        builds; returns {name: "sha256:... KiB, built ..."}."""
        d = os.path.join(self.scr, "bin")
        os.makedirs(d)
        info = {}
        for name in BINS:
            src = os.path.join(BUILD, name)
            dst = os.path.join(d, name)
            if os.path.islink(src):     # musl builds: the worker and the CLI are shimvisord
                os.symlink(os.readlink(src), dst)
            else:
                shutil.copy2(src, dst)
            with open(dst, "rb") as f:
                h = hashlib.sha256(f.read()).hexdigest()[:12]
            info[name] = "sha256:%s %s KiB, built %s" % (h, os.path.getsize(dst) // 1024, datetime.datetime.fromtimestamp(
                os.path.getmtime(src), datetime.timezone.utc).strftime("%H:%M:%SZ"))
        self.sv = os.path.join(d, "shimvisor")
        self.svd = os.path.join(d, "shimvisord")
        return info

    def sv_version(self):
        return " ".join(run([self.sv, "version"], check=False, timeout=10).stdout.split())

    def make_rootfs(self):
        rfs = os.path.join(self.scr, "rootfs")
        for d in ("bin", "dev", "proc", "sys", "tmp", "etc", "root", "run"):
            os.makedirs(os.path.join(rfs, d), exist_ok=True)
        os.chmod(os.path.join(rfs, "tmp"), 0o1777)
        bb = shutil.which("busybox")
        shutil.copy2(os.path.realpath(bb), os.path.join(rfs, "bin", "busybox"))
        applets = run([bb, "--list"]).stdout.split()
        for a in applets:
            if a == "busybox" or "/" in a:
                continue
            os.symlink("busybox", os.path.join(rfs, "bin", a))
        for d in ("sbin", "usr"):
            os.symlink("bin" if d == "sbin" else ".", os.path.join(rfs, d))
        with open(os.path.join(rfs, "etc", "passwd"), "w") as f:
            f.write("root:x:0:0:root:/root:/bin/sh\n")
        with open(os.path.join(rfs, "etc", "group"), "w") as f:
            f.write("root:x:0:\n")
        ldd = run(["ldd", bb], check=False)
        if "not a dynamic executable" not in ldd.stdout + ldd.stderr:
            raise BenchError("%s is dynamically linked: install busybox-static" % bb)
        self.rfs = os.path.realpath(rfs)
        log("busybox rootfs at %s (%d applets)" % (rfs, len(applets)))

    def tmpfs_mount(self, path):
        os.makedirs(path, exist_ok=True)
        run(["mount", "-t", "tmpfs", "-o", "mode=0711", "tmpfs", path], timeout=10)

    def start_shimvisord(self):
        d = os.path.join(self.scr, "sv")
        os.makedirs(d)
        self.sv_state = os.path.join(d, "state")
        self.tmpfs_mount(self.sv_state)
        self.sv_sock = os.path.join(d, "ctl.sock")
        self.sv_env = dict(os.environ, SHIMVISOR_ADDRESS=self.sv_sock, SHIMVISOR_NAMESPACE=SV_NS)
        self.svd_log = open(os.path.join(d, "daemon.log"), "w")
        self.logs.append(self.svd_log)
        # the policy lets tasks run on the bench's busybox rootfs (its default permits
        # /var/lib/shimvisor and /srv only)
        conf = os.path.join(d, "shimvisord.conf")
        with open(conf, "w") as f:
            f.write("[policy]\nrootfs_sources = %s\n" % os.path.dirname(self.rfs) if self.rfs else "")
        self.spawn_daemon(conf)
        log("private shimvisord pid %d, socket %s" % (self.svd_proc.pid, self.sv_sock))

    def spawn_daemon(self, conf, timeout=15, preexec_fn=None, meanwhile=None):
        """shimvisord -F with this stack's state, socket and log; the seconds until it said
        ready on its ready fd (a restart on the same state is one more call). meanwhile(t0),
        if given, runs once the daemon is started, before its readiness is awaited."""
        d = os.path.dirname(conf)
        r, w = os.pipe()
        t0 = time.perf_counter()
        self.svd_proc = subprocess.Popen(
            [self.svd, "-F", "-c", conf, "--state", self.sv_state, "--address", self.sv_sock,
             "--pidfile", d + "/pid", "--cgroup-parent", SV_CG_PARENT, "--ready-fd", str(w)],
            stdin=subprocess.DEVNULL, stdout=self.svd_log, stderr=subprocess.STDOUT,
            pass_fds=(w,), start_new_session=True, preexec_fn=preexec_fn)
        os.close(w)
        if meanwhile:
            meanwhile(t0)
        rd, _, _ = select.select([r], [], [], timeout)
        data = os.read(r, 1) if rd else b""
        os.close(r)
        if not data:
            raise BenchError("shimvisord not ready within %d s; see %s" % (timeout, self.svd_log.name))
        return time.perf_counter() - t0

    def show(self, cmd):
        """A command as printed in RESULTS.md: scratch dir as $SCR, binaries relative to the repo."""
        return " ".join(cmd).replace(self.scr, "$SCR")

    def sv_cmd(self, *a):
        return [self.sv, "-a", self.sv_sock, "-n", SV_NS] + list(a)

    def svd_pids(self):
        """[monitor, engine...]: the engine is the monitor's child `shimvisord-eng`."""
        mon = self.svd_proc.pid
        eng = [p for p in children_of([mon]) if proc_ppid(p) == mon and proc_comm(p) == "shimvisord-eng"]
        return [mon] + eng

    def daemon_rss(self, pids):
        tot = 0
        for p in pids:
            s = smaps_rollup(p)
            if s:
                tot += s["rss"]
        return tot

    def sv_ls(self):
        out = run(self.sv_cmd("ls", "--format", "json"), timeout=20).stdout.strip()
        return json.loads(out) if out else []

    def sv_delete_all(self, conc=4):
        ids = [t["id"] for t in self.sv_ls()]
        if ids:
            pool_run([self.sv_cmd("delete", "-f", i) for i in ids], conc, timeout=20)
        left = self.sv_ls()
        if left:
            raise BenchError("shimvisor tasks left after delete -f: %s" % [t["id"] for t in left][:10])

    # ---- clean-up pieces (each bounded; a driver's cleanup() runs them in order) ----------
    def sv_delete_quietly(self):
        """Every task of the daemon deleted (-f), when it still runs; a failure is logged only."""
        if self.svd_proc and self.svd_proc.poll() is None:
            try:
                self.sv_delete_all()
            except Exception as e:
                log("  shimvisor delete: %s" % e)

    def stop_daemon(self, name, p, extra=()):
        """TERM a daemon we started (Popen `p`), KILL it and `extra` pids after 10 s."""
        if not p or p.poll() is not None:
            return
        try:
            p.terminate()
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            log("  %s pid %d: SIGKILL" % (name, p.pid))
            kill_pids([p.pid] + list(extra))
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        wait_gone(list(extra), 5)

    def kill_leftovers(self):
        """Anything left that names the scratch dir (workers, shims, engine) and its descendants."""
        me = os.getpid()
        left = [p for p in all_pids() if p != me and self.scr in proc_cmdline(p)]
        if left:
            victims = set(left) | children_of(left)
            victims.discard(me)
            log("  killing %d leftover processes: %s" % (len(victims), "; ".join(
                "%d %s [%s]" % (q, proc_comm(q), proc_cmdline(q).strip().replace(self.scr, "$SCR")[:160])
                for q in sorted(victims)[:20])))
            kill_pids(victims)
            wait_gone(list(victims), 5)

    def remove_cgroups(self):
        """Cgroup dirs we created (below each name of cg_names), only when empty, deepest first."""
        for ctl in os.listdir(CG_ROOT):
            for name in self.cg_names:
                top = os.path.join(CG_ROOT, ctl, name)
                if top in self.cg_before or not os.path.isdir(top):
                    continue
                for dirpath, _, _ in sorted(os.walk(top), key=lambda w: -len(w[0])):
                    try:
                        os.rmdir(dirpath)
                    except OSError:
                        pass

    def remove_scratch(self):
        """Mounts under the scratch dir (deepest first), then the dir itself unless --keep."""
        for mp in sorted(mounts_under(self.scr), key=len, reverse=True):
            run(["umount", "-l", mp], check=False, timeout=10)
        for f in self.logs:
            f.close()
        if mounts_under(self.scr):
            log("  mounts still under %s: left in place" % self.scr)
        elif self.keep:
            log("  --keep: scratch dir left at %s" % self.scr)
        else:
            shutil.rmtree(self.scr, ignore_errors=True)

    def cleanup(self):
        """The shimvisor-only clean-up (soak.py): tasks, daemon, leftovers, cgroups, mounts, dir."""
        if not self.scr:
            return
        log("cleaning up " + self.scr)
        self.sv_delete_quietly()
        if self.svd_proc and self.svd_proc.poll() is None:
            self.stop_daemon("shimvisord", self.svd_proc, self.svd_pids()[1:])
        self.kill_leftovers()
        self.remove_cgroups()
        self.remove_scratch()
        self.scr = None


def drive(body, cleanup):
    """A driver's main: body() returns the exit status; SIGINT/TERM/HUP, a BenchError or an
    interruption end it (130 or 1), and cleanup() runs on every path, signals ignored meanwhile."""
    def on_signal(sig, _frm):
        raise KeyboardInterrupt("signal %d" % sig)
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)
    t_start = time.monotonic()
    rc = 0
    try:
        rc = body()
    except KeyboardInterrupt as e:
        log("interrupted (%s)" % e)
        rc = 130
    except BenchError as e:
        log("error: %s" % e)
        rc = 1
    finally:
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            cleanup()
        except Exception as e:
            log("cleanup error: %s" % e)
            rc = rc or 1
    log("done in %.0f s" % (time.monotonic() - t_start))
    return rc


# ---- RESULTS.md / results.json: each driver owns some `## ` sections / top-level keys --------
def split_sections(text):
    """[(title or None, text)]: the part before the first `## ` heading, then one part per
    `## ` heading (its line included)."""
    parts, cur, title = [], [], None
    for line in text.split("\n"):
        if line.startswith("## "):
            parts.append((title, "\n".join(cur)))
            cur, title = [], line[3:].strip()
        cur.append(line)
    parts.append((title, "\n".join(cur)))
    return parts


def merge_sections(path, new_text, owned, header=""):
    """Rewrite `path`: every `## ` section whose title is in `owned` comes from `new_text` (a
    section of `owned` absent from it is kept as it was); every other section is kept as the
    file has it. With no file yet, `header` + new_text. Returns the text written."""
    try:
        with open(path) as f:
            old = f.read()
    except FileNotFoundError:
        old = ""
    new = {t: s for t, s in split_sections(new_text) if t in owned}
    out, done = [], set()
    for t, s in split_sections(old) if old else [(None, header)]:
        if t in new:
            s = new[t]
            done.add(t)
        out.append(s.rstrip("\n") + "\n")
    for t, s in split_sections(new_text):
        if t in new and t not in done:
            out.append(s.rstrip("\n") + "\n")
    text = "\n".join(x for x in out if x.strip())
    with open(path, "w") as f:
        f.write(text)
    return text


def foreign_sections(path, owned_by_others):
    """The text of the sections of `path` titled in `owned_by_others` (for a driver that
    rewrites the whole file and must keep them)."""
    try:
        with open(path) as f:
            old = f.read()
    except FileNotFoundError:
        return ""
    return "\n".join(s.rstrip("\n") + "\n" for t, s in split_sections(old) if t in owned_by_others)


def read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (FileNotFoundError, ValueError):
        return {}


def update_json(path, items, purpose):
    """Set the top-level keys of `items` in the JSON file `path`, keeping the others."""
    js = read_json(path)
    js.setdefault("SPDX-License-Identifier", "Apache-2.0")
    js.setdefault("purpose", purpose)
    js.update(items)
    with open(path, "w") as f:
        json.dump(js, f, indent=1, default=str)
