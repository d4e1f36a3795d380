#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# selftest/e2e/65-init-reach.t: a task holding CAP_SYS_PTRACE cannot write the host's
# shimvisor-init through the /proc entries of an init in its pid namespace (CVE-2019-5736).
#
# The attacker is a task given CAP_SYS_PTRACE (on top of the OCI default set) in the pid
# namespace of an init that is held before its exec: (1) the pid 1 of a task made with
# `create`, the attacker joining that task's pid namespace; (2) the init of a second task
# that joins the attacker's running pid namespace, as an exec's init does. While the init
# runs, it opens /proc/PID/exe O_WRONLY and O_RDWR, its map_files and every regular file
# among its fds for writing, and keeps an O_PATH of the exe; once the test has started the
# held task (its program replaced the init, and no other shimvisor-init runs: `debug`
# keeps no warm one), it re-opens that O_PATH through /proc/self/fd for writing and writes.
# Every open must fail and the daemon's shimvisor-init must be byte for byte the same.
# Each step waits on a FIFO the other side writes: no sleep.
. "$(dirname "$0")/lib.sh"

# The daemon's config: [daemon] lines $1; with a daemon that holds a [policy], one that
# permits the attacker's CAP_SYS_PTRACE.
attack_conf() {
	printf '[daemon]\n%s\n' "$1" > "$T/conf"
	grep -qa rootfs_sources "$BUILD/shimvisord" || return 0
	printf '[policy]\ncapabilities = %s\n' "$(echo $(echo "$CAPS" | tr '",' '  '))" >> "$T/conf"
}
CAPS='"CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FSETID","CAP_FOWNER","CAP_NET_RAW","CAP_SETGID",
      "CAP_SETUID","CAP_SETFCAP","CAP_SETPCAP","CAP_NET_BIND_SERVICE","CAP_SYS_CHROOT",
      "CAP_KILL","CAP_AUDIT_WRITE","CAP_SYS_PTRACE"'

# Write $1 into the FIFO $2, bounded (its reader may have died).
tell() { timeout 20 sh -c 'echo "$0" > "$1"' "$1" "$2" || fail "nobody read $2"; }

# The daemon runs from a copy of the build, so that a regression writes the copy only.
daemon_from_copy() {
	mkdir -p "$T/bin"
	cp "$BUILD/shimvisord" "$BUILD/shimvisor-worker" "$BUILD/shimvisor-init" "$T/bin/"
	INIT_SUM=$(sha256sum < "$T/bin/shimvisor-init")
	SVD="$T/bin/shimvisord"
	daemon_start "$@"
}

init_unchanged() {
	[ "$(sha256sum < "$T/bin/shimvisor-init")" = "$INIT_SUM" ] ||
		fail "the daemon's shimvisor-init was written"
}

# The attacker: reads its target's pid (as it sees it) from $T/target, tries every way to
# write the target's exe while it runs, says "ready" on $T/ready, waits for "go" on $T/go
# (the target has exec'd its program meanwhile) and tries the O_PATH it kept.
write_attacker() {
	mkfifo "$T/target" "$T/a-ready" "$T/go"
	cat > "$T/attack.py" <<'PY'
import errno, os, stat, sys
d = sys.argv[1]
def attempt(what, path, flags):
    try:
        fd = os.open(path, flags)
    except OSError as e:
        print(what, errno.errorcode[e.errno]); return
    try:
        os.lseek(fd, 0, os.SEEK_END)
        os.write(fd, b"written by a task")
        print(what, "WRITTEN")
    except OSError as e:
        print(what, "opened, write", errno.errorcode[e.errno])
    finally:
        os.close(fd)
pid = open(d + "/target").read().strip()
exe = "/proc/%s/exe" % pid
print("target", os.readlink(exe))
attempt("exe-wronly", exe, os.O_WRONLY)
attempt("exe-rdwr", exe, os.O_RDWR)
keep = os.open(exe, os.O_PATH)
print("exe-opath ok")
try:
    maps = os.listdir("/proc/%s/map_files" % pid)
    print("map_files listed")
except OSError as e:
    print("map_files", errno.errorcode[e.errno]); maps = []
got = set()
for n in maps:
    try:
        os.close(os.open("/proc/%s/map_files/%s" % (pid, n), os.O_RDWR)); got.add("OPENED")
    except OSError as e:
        got.add(errno.errorcode[e.errno])
print("map-files", " ".join(sorted(got)))
for n in os.listdir("/proc/%s/fd" % pid):
    p = "/proc/%s/fd/%s" % (pid, n)
    try:
        if not stat.S_ISREG(os.stat(p).st_mode):
            continue
    except OSError:
        continue
    attempt("fd-file %s %s" % (n, os.readlink(p)), p, os.O_RDWR)
sys.stdout.flush()
open(d + "/a-ready", "w").write("ready\n")
open(d + "/go").read()
print("after", os.readlink(exe))
attempt("opath-wronly", "/proc/self/fd/%d" % keep, os.O_WRONLY)
attempt("opath-rdwr", "/proc/self/fd/%d" % keep, os.O_RDWR)
PY
}

# A bundle at $T/$1 running the attacker (or, with $3, that command) with CAP_SYS_PTRACE,
# the host's root read-only (so $T's FIFOs are there), $2 as its pid namespace entry, and
# otherwise what a default task has (namespaces of its own, masked and read-only paths).
attack_bundle() {
	local args caps=$CAPS
	args=${3:-'"/usr/bin/python3","-S","'"$T"'/attack.py","'"$T"'"'}
	mkdir -p "$T/$1"
	cat > "$T/$1/config.json" <<JSON
{"ociVersion":"1.0.2",
 "process":{"args":[$args],"env":["PATH=/usr/bin:/bin"],"cwd":"/","user":{"uid":0,"gid":0},
  "capabilities":{"bounding":[$caps],"effective":[$caps],"permitted":[$caps]}},
 "root":{"path":"/","readonly":true},
 "mounts":[{"destination":"/proc","type":"proc","source":"proc"}],
 "linux":{"namespaces":[$2,{"type":"mount"},{"type":"network"},{"type":"ipc"},{"type":"uts"}],
  "maskedPaths":["/proc/acpi","/proc/asound","/proc/kcore","/proc/keys","/proc/latency_stats",
   "/proc/timer_list","/proc/timer_stats","/proc/sched_debug","/proc/scsi"],
  "readonlyPaths":["/proc/bus","/proc/fs","/proc/irq","/proc/sys","/proc/sysrq-trigger"]}}
JSON
}

# What the attacker printed ($1) must show every open refused, with the reason. The reopen
# after the exec meets only the read-only mount (EROFS) when no other init runs the same
# binary; with a warm init running it, ETXTBSY comes first ($2 = warm).
attack_refused() {
	local out=$1 reopen=EROFS
	[ "${2:-}" = warm ] && reopen='(ETXTBSY|EROFS)'

	note "attacker: $(echo "$out" | tr '\n' ';')"
	echo "$out" | grep -q WRITTEN && fail "the attacker wrote through an init's /proc entries: $out"
	echo "$out" | grep -q "opened" && fail "an open for writing succeeded: $out"
	# the init's exe is the root of its read-only pin
	echo "$out" | grep -qx "target /" || fail "the target was not a pinned init: $out"
	echo "$out" | grep -qx "exe-opath ok" || fail "the attack did not run to its end: $out"
	echo "$out" | grep -Eqx "exe-wronly (ETXTBSY|EROFS)" || fail "exe O_WRONLY: $out"
	echo "$out" | grep -Eqx "exe-rdwr (ETXTBSY|EROFS)" || fail "exe O_RDWR: $out"
	# no CAP_SYS_ADMIN: map_files can be listed, not opened
	echo "$out" | grep -qx "map_files listed" || fail "map_files: $out"
	echo "$out" | grep -qx "map-files EPERM" || fail "map_files: $out"
	# the init holds no host file (its 0-2 are /dev/null, never the worker's log)
	echo "$out" | grep -q "^fd-file" && fail "a file among the init's fds: $out"
	echo "$out" | grep -Eq "^after /(usr/)?bin/sleep$" || fail "the init had not exec'd away: $out"
	# once nothing runs it, only the read-only mount stands in the way
	echo "$out" | grep -Eqx "opath-wronly $reopen" || fail "reopen O_WRONLY: $out"
	echo "$out" | grep -Eqx "opath-rdwr $reopen" || fail "reopen O_RDWR: $out"
	init_unchanged
}

task_pid() {
	"$SV" state --format json "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])'
}

# (1) The held pid 1 of a created task, seen from a task that joined its pid namespace.
attack_created_pid1() {
	write_attacker
	"$SV" create victim /bin/sleep 1000 || fail "create victim"
	vpid=$(task_pid victim)
	[ "$(cat /proc/"$vpid"/comm)" = shimvisor-init ] || fail "victim's pid 1 is not the init"
	attack_bundle atk '{"type":"pid","path":"/proc/'"$vpid"'/ns/pid"}'
	"$SV" run --rm --bundle "$T/atk" attacker > "$T/atk.out" 2>&1 &
	apid=$!
	tell 1 "$T/target"
	timeout 20 cat "$T/a-ready" > /dev/null || fail "the attacker never got ready: $(cat "$T/atk.out")"
	"$SV" start victim || fail "start victim"
	tell go "$T/go"
	wait "$apid" || fail "attacker: $? $(cat "$T/atk.out")"
	attack_refused "$(cat "$T/atk.out")" "${1:-}"
	"$SV" delete -f victim > /dev/null
}

test_created_task_pid1_cold() {
	attack_conf 'debug = 1'
	daemon_from_copy -c "$T/conf"
	attack_created_pid1
}

# The same with warm workers: the victim's init is the warm one.
test_created_task_pid1_warm() {
	attack_conf 'warm_delay_ms = 0'
	daemon_from_copy -c "$T/conf"
	attack_created_pid1 warm
}

# (2) An init forked into a running task's pid namespace (the way an exec's init joins),
# held before its exec, seen by that task.
test_joining_init() {
	attack_conf 'debug = 1'
	daemon_from_copy -c "$T/conf"
	write_attacker
	events_start
	attack_bundle atk '{"type":"pid"}'
	"$SV" run --rm --bundle "$T/atk" attacker > "$T/atk.out" 2>&1 &
	apid=$!
	# started, it waits on $T/target
	events_wait 20 '"/tasks/start"' '"attacker"' > /dev/null ||
		fail "the attacker did not start: $(cat "$T/atk.out")"
	atk=$(task_pid attacker)
	attack_bundle joiner '{"type":"pid","path":"/proc/'"$atk"'/ns/pid"}' '"/bin/sleep","1000"'
	"$SV" create --bundle "$T/joiner" joiner || fail "create joiner"
	jpid=$(task_pid joiner)
	[ "$(cat /proc/"$jpid"/comm)" = shimvisor-init ] || fail "the joiner is not held in its init"
	tell "$(awk '/^NSpid:/ { print $NF }' /proc/"$jpid"/status)" "$T/target"
	timeout 20 cat "$T/a-ready" > /dev/null || fail "the attacker never got ready: $(cat "$T/atk.out")"
	"$SV" start joiner || fail "start joiner"
	tell go "$T/go"
	wait "$apid" || fail "attacker: $? $(cat "$T/atk.out")"
	attack_refused "$(cat "$T/atk.out")"
	"$SV" delete -f joiner > /dev/null
}

run_cases "$@"
