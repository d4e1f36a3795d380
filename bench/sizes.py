#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# bench/sizes.py: bench.py's phase "sizes" (issue 13): installed binary sizes, worker USS, CLI start-up.
"""The installed size of the four binaries (`make install DESTDIR=tmp`, stripped) against the
600 KiB goal, beside the peers' binaries where installed and the research anchors; the
worker's USS at N tasks (the memory phase's figure when it ran, else measured here the same
way); the CLI's start-up (`shimvisor version` against the bench's daemon), interleaved with a
fork+exec of /bin/true so the ratio is from one run."""
import os
import shutil
import tempfile

from benchlib import TOP, BenchError, log, run, summ, timed

TARGET_INSTALLED_KIB = 600
TARGET_WORKER_USS_KIB = 64
# `shimvisor --help` / fork+exec of /bin/true, at most: the glibc static-pie CLI before issue 13
# measured 0.97 (RESULTS.md, "Size options (issue 13)"): "no slower than today"
TARGET_CLI_VS_TRUE = 1.0
CONMON_USS_KIB = 328      # anchor, as bench.py's
INSTALLED = (("sbin", "shimvisord"), ("sbin", "shimvisor-worker"), ("sbin", "shimvisor-init"), ("bin", "shimvisor"))
PEERS = ("conmon", "crun", "runc", "containerd-shim-runc-v2")
# Stripped sizes from issue 13's research (x86_64, Debian 12 packages), for peers not installed here
ANCHOR_KIB = {"conmon": 153, "crun": 479}


def installed_sizes(scr):
    """{name: (bytes, symlink target or "")} of each binary as `make install` puts it
    (stripped). A symlink counts its own bytes: on musl, shimvisor-worker and shimvisor are
    symlinks to shimvisord, one file for the three programs."""
    dest = tempfile.mkdtemp(prefix="install.", dir=scr)
    run(["make", "-s", "-C", TOP, "install", "DESTDIR=" + dest], timeout=600)
    out = {}
    for d, name in INSTALLED:
        path = os.path.join(dest, "usr/local", d, name)
        out[name] = (os.lstat(path).st_size, os.readlink(path) if os.path.islink(path) else "")
    shutil.rmtree(dest, ignore_errors=True)
    return out


def peer_sizes():
    """{name: (KiB, "installed"/"anchor")}: a peer's binary as found on PATH (as packaged,
    stripped by Debian), else the anchor figure."""
    out = {}
    for p in PEERS:
        path = shutil.which(p)
        if path:
            out[p] = (os.path.getsize(os.path.realpath(path)) / 1024, "installed here: " + path)
        elif p in ANCHOR_KIB:
            out[p] = (ANCHOR_KIB[p], "anchor: research figure, not measured here")
    return out


def cli_startup(b, runs):
    """Medians (ms) of `shimvisor version` (client and daemon answer) and of fork+exec
    /bin/true, interleaved, after 3 warm-ups."""
    modes = (("fork+exec /bin/true", ["/bin/true"]), ("shimvisor version", b.sv_cmd("version")),
             ("shimvisor --help", [b.sv, "--help"]))
    samples = {n: [] for n, _ in modes}
    for i in range(runs + 3):
        for name, cmd in modes:
            dt = timed(cmd, timeout=30)
            if i >= 3:
                samples[name].append(dt / 1e6)
    return {n: summ(xs) for n, xs in samples.items()}


def measure(b, res, n, runs):
    """The phase: fills res["sizes"]."""
    log("sizes: installed binaries (make install DESTDIR=$SCR/install.*)")
    inst = installed_sizes(b.scr)
    tot = sum(v for v, _ in inst.values())
    for k, (v, link) in inst.items():
        log("  %-20s %7.1f KiB%s" % (k, v / 1024, " (symlink to %s)" % link if link else ""))
    log("  %-20s %7.1f KiB (goal <= %d)" % ("total", tot / 1024, TARGET_INSTALLED_KIB))
    if res.get("mem", {}).get("shimvisor"):
        mem = res["mem"]["shimvisor"]
    else:
        mem = b.mem_stack("sv", n, "shimvisor")
    log("sizes: CLI start-up, %d runs interleaved with /bin/true" % runs)
    st = cli_startup(b, runs)
    for k, s in st.items():
        log("  %-22s median %6.2f ms [p10 %.2f - p90 %.2f]" % (k, s["median"], s["p10"], s["p90"]))
    res["sizes"] = {"installed_bytes": inst, "installed_total_kib": tot / 1024, "peers": peer_sizes(),
                    "worker_uss_kib": mem["uss_kib"], "worker_n": mem["n"], "cli_startup_ms": st,
                    "runs": runs}


def targets(res, T):
    s = res["sizes"]
    T("installed binaries, stripped, all four (KiB)", s["installed_total_kib"], "<= %d" % TARGET_INSTALLED_KIB,
      s["installed_total_kib"] <= TARGET_INSTALLED_KIB,
      "; ".join("%s %.0f%s" % (k, v[0], "" if v[1].startswith("installed") else " (anchor)")
                for k, v in s["peers"].items()))
    u = s["worker_uss_kib"]["median"]
    T("worker USS median at N=%d, issue 13 (KiB)" % s["worker_n"], u, "<= %d" % TARGET_WORKER_USS_KIB,
      u <= TARGET_WORKER_USS_KIB, "anchor conmon %d" % CONMON_USS_KIB)
    st = s["cli_startup_ms"]
    r = st["shimvisor --help"]["median"] / st["fork+exec /bin/true"]["median"]
    T("CLI start-up, `shimvisor --help` / fork+exec /bin/true (medians)", r, "<= %.1fx" % TARGET_CLI_VS_TRUE,
      r <= TARGET_CLI_VS_TRUE, "%.2f ms vs %.2f ms; glibc static-pie CLI before: 0.97x" % (
          st["shimvisor --help"]["median"], st["fork+exec /bin/true"]["median"]))


def section(res, P):
    s = res["sizes"]
    st = s["cli_startup_ms"]
    P("## Size (issue 13)")
    P("")
    P("As installed by `make install DESTDIR=$SCR/install.X` (stripped: `install -s`), in KiB; goal: the four "
      "binaries together <= %d KiB." % TARGET_INSTALLED_KIB)
    P("")
    P("| binary | KiB |")
    P("|---|---|")
    for k, (v, link) in s["installed_bytes"].items():
        P("| %s | %s |" % (k, "symlink to %s" % link if link else "%.1f" % (v / 1024)))
    P("| **total** | **%.1f** |" % s["installed_total_kib"])
    P("")
    P("Peers (one binary each, as packaged): %s."
      % "; ".join("%s %.0f KiB (%s)" % (k, v[0], v[1]) for k, v in s["peers"].items()))
    P("")
    P("Worker USS at N=%d: median %.1f KiB (p10 %.1f, p90 %.1f; goal <= %d)."
      % (s["worker_n"], s["worker_uss_kib"]["median"], s["worker_uss_kib"]["p10"], s["worker_uss_kib"]["p90"],
         TARGET_WORKER_USS_KIB))
    P("")
    t = st["fork+exec /bin/true"]["median"]
    P("CLI start-up (ms, %d runs each, interleaved with a fork+exec of /bin/true): %s."
      % (s["runs"], "; ".join("`%s` median %.2f (p90 %.2f, %.2fx /bin/true)" % (k, x["median"], x["p90"], x["median"] / t)
                              for k, x in st.items() if k != "fork+exec /bin/true") + "; /bin/true %.2f" % t))
    P("")
