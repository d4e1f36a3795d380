#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# selftest/e2e/tty_drive.py: run a command on a real pty, as a user at a terminal would, and
# play a script against it: expect output, type keys, resize the window, wait for its exit.
#
# usage: tty_drive.py [--size ROWSxCOLS] [--log FILE] STEP... -- CMD [ARG...]
# steps, in order:
#   --expect REGEX      wait (20 s at most) until the output since the last match matches
#   --send TEXT         type TEXT (Python escapes: \r, \x10 for ctrl-p, ...)
#   --resize ROWSxCOLS  set the window size (the kernel sends SIGWINCH to the foreground)
# Then it waits for the command's exit (20 s) and checks that the terminal's mode is what it
# was before the command ran (as `stty -g` would show it).
# Exit: the command's status (128+N for signal N); 101 an --expect timed out, 102 the mode
# was not restored, 103 the command did not exit. The whole output goes to --log.
import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time

TIMEOUT = 20.0


def set_size(fd, spec):
    rows, cols = (int(x) for x in spec.split("x"))
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def main():
    args = sys.argv[1:]
    size, log, steps = "24x80", None, []
    while args and args[0] != "--":
        opt, val = args[0], args[1]
        args = args[2:]
        if opt == "--size":
            size = val
        elif opt == "--log":
            log = val
        else:
            steps.append((opt, val))
    cmd = args[1:]
    master, slave = os.openpty()
    set_size(slave, size)
    before = termios.tcgetattr(slave)

    def child_setup():
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    p = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave,
                         preexec_fn=child_setup, close_fds=True)
    out = b""
    seen = 0        # output before this offset has been matched already

    def pump(deadline, until=None):
        nonlocal out
        while time.monotonic() < deadline:
            if until and until():
                return True
            r, _, _ = select.select([master], [], [], 0.05)
            if r:
                try:
                    data = os.read(master, 65536)
                except OSError:
                    data = b""
                out += data
        return bool(until and until())

    rc = 0
    for opt, val in steps:
        if opt == "--expect":
            rx = re.compile(val.encode())
            m = None

            def found():
                nonlocal m
                m = rx.search(out, seen)
                return m is not None
            if not pump(time.monotonic() + TIMEOUT, found):
                sys.stderr.write("tty_drive: timed out waiting for %r\n" % val)
                rc = 101
                break
            seen = m.end()
        elif opt == "--send":
            os.write(master, val.encode().decode("unicode_escape").encode("latin-1"))
        elif opt == "--resize":
            set_size(master, val)
        else:
            sys.stderr.write("tty_drive: unknown step %s\n" % opt)
            rc = 2
            break
    if rc == 0:
        if not pump(time.monotonic() + TIMEOUT, lambda: p.poll() is not None):
            rc = 103
        else:
            while select.select([master], [], [], 0)[0]:     # what it wrote last
                out += os.read(master, 65536)
            st = p.returncode
            rc = st if st >= 0 else 128 - st
            if termios.tcgetattr(slave) != before:
                sys.stderr.write("tty_drive: the terminal's mode was not restored\n")
                rc = 102
    if p.poll() is None:
        p.send_signal(signal.SIGKILL)
        p.wait()
    if log:
        with open(log, "wb") as f:
            f.write(out)
    os.close(master)
    os.close(slave)
    sys.exit(rc)


if __name__ == "__main__":
    main()
