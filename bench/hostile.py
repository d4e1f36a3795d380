#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# bench/hostile.py: the hostile-client suite against a private shimvisord from build/: lock-out, never-reading subscribers, partial-frame hogs.
"""Starts its own daemon (private --state/--address under a scratch dir, a config
file that lets two non-root uids in), then plays, from the ttrpc frame format:

  1. lock-out: uid A (nobody) opens connections until --conns were tried and holds the
     ones the daemon kept; meanwhile root and uid B each time a Version call (connect to
     answer; -1 when none came within --probe-timeout);
  2. never-reading subscribers: --subs connections send Subscribe and read nothing during
     --runs `shimvisor run --rm` (4 at a time); then each reads what is there: events, and
     the daemon's final frame with the count of events it lost, if it cut the subscriber;
  3. partial-frame hogs: --hogs connections each announce a 4 MiB frame and send 1 MiB.

The engine's RSS (/proc/<engine>/status VmRSS) is sampled every 50 ms throughout. Prints
the figures; with --json FILE writes them:
  {"connections_tried", "engine_rss_kib_start", "engine_rss_kib_max", "lockout_ms_root",
   "lockout_ms_other", "subscriber_closed_lost", "partial_bytes_max_kib", ...}
subscriber_closed_lost: subscribers closed with a lost-count frame (events_lost_total: the
sum of their counts); partial_bytes_max_kib: the engine's RSS growth while the hogs held
their frames. Run as root; stdlib only; everything started is stopped on every exit path.
"""
import argparse
import concurrent.futures as cf
import grp
import json
import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import benchlib  # noqa: E402  (bench/: the /proc readers shared with bench.py and soak.py)
HDR = struct.Struct(">IIBB")
REQUEST, RESPONSE = 1, 2
CG_PARENT = "/shimvisor-hostile"


def log(msg):
    print("hostile: " + msg, file=sys.stderr, flush=True)


# ---- ttrpc, by hand (the protobuf helpers of the e2e suite's hostile shim client) ----------
sys.path.insert(0, os.path.join(TOP, "selftest", "e2e"))
from shim_client import fields as pb_fields, string as pb_str  # noqa: E402


def request(method, stream, ns="default"):
    """A Request frame of shimvisor.v1.Control with an empty payload."""
    meta = pb_str(1, "containerd-namespace-ttrpc") + pb_str(2, ns)
    body = pb_str(1, "shimvisor.v1.Control") + pb_str(2, method) + pb_str(5, meta)
    return HDR.pack(len(body), stream, REQUEST, 0) + body


def response_status(body):
    """(code, message) of a Response body (0, "" when it has no status)."""
    for num, v in pb_fields(body):
        if num == 1:
            st = dict(pb_fields(v))
            return st.get(1, 0), st.get(2, b"").decode(errors="replace")
    return 0, ""


def frames(buf):
    """Whole frames at the start of buf: [(stream, type, body)], the rest."""
    out = []
    while len(buf) >= HDR.size:
        ln, stream, typ, _ = HDR.unpack_from(buf)
        if len(buf) < HDR.size + ln:
            break
        out.append((stream, typ, buf[HDR.size:HDR.size + ln]))
        buf = buf[HDR.size + ln:]
    return out, buf


def readable(s):
    """s has something to read now (a frame, or EOF): poll, as fds pass FD_SETSIZE here."""
    p = select.poll()
    p.register(s, select.POLLIN)
    return bool(p.poll(0))


def version_ms(path, timeout):
    """Connect and call Version: ms to the answer, or -1 (refused, closed, or no answer)."""
    t0 = time.monotonic()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(path)
        s.sendall(request("Version", 1))
        buf = b""
        while True:
            d = s.recv(65536)
            if not d:
                return -1
            buf += d
            fs, buf = frames(buf)
            for stream, typ, body in fs:
                if typ == RESPONSE and stream == 1:
                    return round((time.monotonic() - t0) * 1000, 2) if response_status(body)[0] == 0 else -1
    except OSError:
        return -1
    finally:
        s.close()


# ---- as another uid, in a forked child ---------------------------------------------------
def as_uid(uid, gid_extra, fn, *args):
    """Run fn(*args) in a child as uid (its gid = uid, plus gid_extra for the socket's
    mode); its return value (JSON) comes back over a pipe. The child also gets a pipe to
    wait on: fn may call hold() to keep its state until the parent's release()."""
    r, w = os.pipe()
    gr, gw = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            os.close(gw)
            os.setgroups([gid_extra] if gid_extra is not None else [])
            os.setgid(uid)
            os.setuid(uid)
            res = fn(*args, hold=lambda note: (os.write(w, (json.dumps(note) + "\n").encode()),
                                               os.read(gr, 1)))
            os.write(w, (json.dumps(res) + "\n").encode())
        except BaseException as ex:     # noqa: the child reports everything, then goes
            os.write(w, (json.dumps({"error": repr(ex)}) + "\n").encode())
        os._exit(0)
    os.close(w)
    os.close(gr)
    return Child(pid, r, gw)


class Child:
    def __init__(self, pid, r, gw):
        self.pid, self.f, self.gw = pid, os.fdopen(r), gw

    def line(self, timeout=120):
        rd, _, _ = select.select([self.f], [], [], timeout)
        if not rd:
            raise RuntimeError("child %d: no answer in %d s" % (self.pid, timeout))
        ln = self.f.readline()
        if not ln:
            raise RuntimeError("child %d: gone" % self.pid)
        return json.loads(ln)

    def release(self):
        os.write(self.gw, b"x")

    def finish(self):
        try:
            os.close(self.gw)
        except OSError:
            pass
        self.f.close()
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass


def hold_conns(path, n, hold):
    """Open up to n connections; report how many the daemon kept, hold them until told."""
    socks, tried = [], 0
    for _ in range(n):
        tried += 1
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)     # blocking: a full backlog waits for the daemon's accept
            socks.append(s)
        except OSError:
            s.close()
    # the daemon accepts in order: once a Version on a later connection is answered (or
    # refused), every one of ours was taken or refused
    version_ms(path, 5)
    kept = []
    for s in socks:
        if readable(s):
            s.close()       # refused: an error frame and EOF, or EOF
        else:
            kept.append(s)
    hold({"tried": tried, "kept": len(kept)})
    for s in kept:
        s.close()
    return {"done": True}


def probe(path, timeout, hold=None):
    return {"ms": version_ms(path, timeout)}


# ---- the suite ----------------------------------------------------------------------------
class Suite:
    def __init__(self, a):
        self.a = a
        self.build = os.path.abspath(a.build)
        self.sv = os.path.join(self.build, "shimvisor")
        self.svd = os.path.join(self.build, "shimvisord")
        self.scr = None
        self.proc = None
        self.eng = None
        self.rss = []           # (t, kib)
        self.sampling = False
        self.res = {"connections_tried": 0}

    # daemon
    def start(self):
        self.scr = tempfile.mkdtemp(prefix="sv-hostile.")
        os.chmod(self.scr, 0o711)       # the other uids reach the socket
        self.sock = os.path.join(self.scr, "ctl.sock")
        conf = os.path.join(self.scr, "shimvisord.conf")
        with open(conf, "w") as f:
            f.write("[daemon]\nallow_uids = 0, %d, %d\n" % (self.a.uid, self.a.uid2))
            # a cut subscriber keeps its final frame until it reads (this suite's readers
            # start after the runs) or client_idle_ms passes
            if self.a.idle_ms >= 0:
                f.write("client_idle_ms = %d\n" % self.a.idle_ms)
        r, w = os.pipe()
        self.log = open(os.path.join(self.scr, "daemon.log"), "w")
        self.proc = subprocess.Popen(
            [self.svd, "-F", "-c", conf, "--state", self.scr + "/state",
             "--address", self.sock, "--pidfile", self.scr + "/pid", "--cgroup-parent", CG_PARENT,
             "--ready-fd", str(w)],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT, pass_fds=(w,),
            start_new_session=True)
        os.close(w)
        rd, _, _ = select.select([r], [], [], 15)
        ok = rd and os.read(r, 1)
        os.close(r)
        if not ok:
            raise RuntimeError("shimvisord not ready in 15 s: %s" % self.daemon_log())
        for p in os.listdir("/proc"):
            if p.isdigit():
                try:
                    with open("/proc/%s/stat" % p) as f:
                        st = f.read()
                    if int(st.rsplit(")", 1)[1].split()[1]) == self.proc.pid and "(shimvisord-eng)" in st:
                        self.eng = int(p)
                except (OSError, ValueError, IndexError):
                    pass
        if not self.eng:
            raise RuntimeError("no engine under the monitor %d" % self.proc.pid)
        try:
            self.gid = grp.getgrnam("shimvisor").gr_gid
        except KeyError:
            self.gid = None
            os.chmod(self.sock, 0o666)
        log("private shimvisord %d (engine %d) at %s" % (self.proc.pid, self.eng, self.sock))

    def daemon_log(self):
        try:
            with open(os.path.join(self.scr, "daemon.log")) as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def stop(self):
        self.sampling = False
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self.scr:
            for d in ("/sys/fs/cgroup/%s%s" % (h, CG_PARENT) for h in os.listdir("/sys/fs/cgroup")):
                if os.path.isdir(d):
                    subprocess.run(["find", d, "-depth", "-type", "d", "-exec", "rmdir", "{}", "+"],
                                   stderr=subprocess.DEVNULL)
            if os.environ.get("KEEP"):
                log("kept %s" % self.scr)
            else:
                shutil.rmtree(self.scr, ignore_errors=True)

    # RSS
    def rss_now(self):
        return benchlib.proc_status(self.eng, "VmRSS")

    def sampler(self):
        while self.sampling:
            self.rss.append((time.monotonic(), self.rss_now()))
            time.sleep(0.05)

    def rss_max_since(self, t0):
        return max([k for t, k in self.rss if t >= t0] + [self.rss_now()])

    # 1. lock-out
    def lockout(self):
        a = self.a
        hog = as_uid(a.uid, self.gid, hold_conns, self.sock, a.conns)
        note = hog.line()
        if "error" in note:
            raise RuntimeError("lock-out hog: %s" % note["error"])
        self.res["connections_tried"] += note["tried"]
        self.res["lockout_held"] = note["kept"]
        self.res["lockout_ms_root"] = probe(self.sock, a.probe_timeout)["ms"]
        other = as_uid(a.uid2, self.gid, probe, self.sock, a.probe_timeout)
        self.res["lockout_ms_other"] = other.line()["ms"]
        other.finish()
        self.res["connections_tried"] += 2
        hog.release()
        hog.line()
        hog.finish()
        log("lock-out: uid %d kept %d of %d connections; Version as root %s ms, as uid %d %s ms"
            % (a.uid, note["kept"], note["tried"], self.res["lockout_ms_root"], a.uid2,
               self.res["lockout_ms_other"]))

    # 2. never-reading subscribers
    def subscribers(self):
        a = self.a
        subs = []
        for _ in range(a.subs):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(self.sock)
            s.sendall(request("Subscribe", 1))
            subs.append(s)
        self.res["connections_tried"] += a.subs
        version_ms(self.sock, 5)        # the Subscribes are in before the first task
        t0 = time.monotonic()
        rss0 = self.rss_now()

        def one(i):
            return subprocess.run([self.sv, "-a", self.sock, "run", "--rm", "hostile-%d" % i, "/bin/true"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120).returncode
        with cf.ThreadPoolExecutor(4) as ex:
            rcs = list(ex.map(one, range(a.runs)))
        bad = sum(1 for r in rcs if r != 0)
        self.res["runs_failed"] = bad
        rss_max = self.rss_max_since(t0)
        closed = lost = events = 0
        for s in subs:
            buf, got_events, cut = b"", 0, None
            s.settimeout(2)
            try:
                while True:
                    d = s.recv(1 << 20)
                    if not d:
                        break
                    buf += d
                    fs, buf = frames(buf)
                    for _, typ, body in fs:
                        code, msg = response_status(body)
                        if code == 0:
                            got_events += 1
                        else:
                            cut = msg
            except (socket.timeout, OSError):
                pass
            s.close()
            events += got_events
            m = re.search(r"events lost: (\d+)", cut or "")
            if m:
                closed += 1
                lost += int(m.group(1))
        self.res.update(subscriber_closed_lost=closed, events_lost_total=lost,
                        subscriber_events_read=events, subscriber_rss_kib_growth=rss_max - rss0)
        log("subscribers: %d never-reading during %d run --rm (%d failed): engine RSS %d -> %d KiB; "
            "%d closed with a lost count (%d events lost), %d events read afterwards"
            % (a.subs, a.runs, bad, rss0, rss_max, closed, lost, events))

    # 3. partial-frame hogs
    def hogs(self):
        a = self.a
        rss0 = self.rss_now()
        t0 = time.monotonic()
        chunk = b"\0" * (1 << 20)
        socks, closed = [], 0
        for _ in range(a.hogs):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(10)
            try:
                s.connect(self.sock)
                s.sendall(HDR.pack(4 << 20, 1, REQUEST, 0) + chunk)
                socks.append(s)
            except OSError:
                closed += 1
                s.close()
        self.res["connections_tried"] += a.hogs
        version_ms(self.sock, 5)
        end = time.monotonic() + 1.0
        while time.monotonic() < end:       # what the engine still reads of the last sends
            time.sleep(0.05)
        for s in socks:
            if readable(s):
                closed += 1
        rss_max = self.rss_max_since(t0)
        self.res["partial_bytes_max_kib"] = max(0, rss_max - rss0)
        self.res["hogs_closed"] = closed
        for s in socks:
            s.close()
        log("partial frames: %d connections x 1 MiB of a 4 MiB frame: engine RSS %d -> %d KiB, "
            "%d closed by the daemon" % (a.hogs, rss0, rss_max, closed))

    def run(self):
        self.start()
        self.res["engine_rss_kib_start"] = self.rss_now()
        self.sampling = True
        th = threading.Thread(target=self.sampler, daemon=True)
        th.start()
        t0 = time.monotonic()
        self.lockout()
        self.subscribers()
        self.hogs()
        self.res["engine_rss_kib_max"] = self.rss_max_since(t0)
        self.res["served_after"] = version_ms(self.sock, 5) >= 0
        self.sampling = False
        th.join()
        return self.res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", metavar="FILE", help="write the figures here")
    ap.add_argument("--build", default=os.path.join(TOP, "build"), help="binaries (default build/)")
    ap.add_argument("--conns", type=int, default=1100, help="lock-out connections tried (1100)")
    ap.add_argument("--subs", type=int, default=20, help="never-reading subscribers (20)")
    ap.add_argument("--runs", type=int, default=600, help="run --rm during them (600)")
    ap.add_argument("--hogs", type=int, default=100, help="partial-frame connections (100)")
    ap.add_argument("--uid", type=int, default=65534, help="the hostile non-root uid (nobody)")
    ap.add_argument("--uid2", type=int, default=65533, help="a second non-root uid, probed")
    ap.add_argument("--probe-timeout", type=float, default=10.0, help="seconds a probe waits (10)")
    ap.add_argument("--idle-ms", type=int, default=600000,
                    help="the daemon's client_idle_ms (600000: the cut subscribers read after the runs; -1: not set)")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("hostile.py: run as root (it starts a daemon and plays other uids)")
    try:
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4 * a.conns + 256)), hard))
    except (ValueError, OSError):
        pass
    s = Suite(a)
    try:
        res = s.run()
    except BaseException:
        log("daemon log:\n" + s.daemon_log() if s.scr else "")
        raise
    finally:
        s.stop()
    print(json.dumps(res, indent=1, sort_keys=True))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1, sort_keys=True)
            f.write("\n")


if __name__ == "__main__":
    main()
