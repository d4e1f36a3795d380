# SPDX-License-Identifier: Apache-2.0
# selftest/e2e/lib.sh: TAP harness for end-to-end tests (kernel-selftest style): each case
# runs in its own process under a timeout, with its own private shimvisord, and everything
# it started is stopped by pid at the end. Synchronisation is on events (readiness fd,
# the event stream, wait), never on sleep.
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD=${BUILD:-$(cd "$HERE/../../build" && pwd)}
SV="$BUILD/shimvisor"
SVD="$BUILD/shimvisord"
CASE_TIMEOUT=${CASE_TIMEOUT:-60}

# --- inside one case --------------------------------------------------------------------
T=""
DAEMON_PID=""
BG_PIDS=()

fail() { echo "# FAIL: $*" >&2; exit 1; }
note() { echo "# $*" >&2; }
# A figure for the TAP stream whether the case passes or not (prove shows it, as
# Test::More's diag); note's lines are shown only when the case fails.
diag() { echo "# diag: $*" >&2; }
# (exit 77: the driver's SKIP; the case's EXIT trap still cleans up)
skip_case() { echo "SKIP $*" >&2; exit 77; }

# The case's own cgroup parent: its tasks' cgroups go below it, and case_cleanup removes it.
case_cgroup() { echo "/$(basename "$T")"; }

# A config file $T/conf with a [policy] section of the given lines (`key = value`), for the
# cases that run what the default policy refuses (host namespaces, a rootfs in $T, ...).
policy_conf() {
	{ echo '[policy]'; printf '%s\n' "$@"; } > "$T/conf"
}

# The masked and read-only paths a bundle that mounts /proc and /sys must keep (the policy's
# defaults), as JSON members of "linux".
OCI_MASKS='"maskedPaths":["/proc/acpi","/proc/asound","/proc/kcore","/proc/keys","/proc/latency_stats","/proc/timer_list","/proc/timer_stats","/proc/sched_debug","/proc/scsi","/sys/firmware","/sys/devices/virtual/powercap"],"readonlyPaths":["/proc/bus","/proc/fs","/proc/irq","/proc/sys","/proc/sysrq-trigger"]'

# Start a private daemon and wait for its readiness byte. $DAEMON_WRAP, when set, is a
# command that execs it (e.g. prlimit).
daemon_start() {
	rm -f "$T/ready"
	mkfifo "$T/ready"
	${DAEMON_WRAP:-} "$SVD" -F --state "$T/state" --address "$T/ctl.sock" \
		--pidfile "$T/shimvisord.pid" --cgroup-parent "$(case_cgroup)" --ready-fd 3 "$@" \
		3>"$T/ready" 2>>"$T/daemon.log" &
	DAEMON_PID=$!
	local c
	c=$(timeout 10 head -c1 "$T/ready" | od -An -c | tr -d ' ')
	[ "$c" = '\n' ] || fail "daemon not ready: $(cat "$T/daemon.log")"
	export SHIMVISOR_ADDRESS="$T/ctl.sock"
}

# SIGKILL the whole daemon (monitor and engine), as a crash would.
daemon_kill9() {
	local eng
	eng=$(pgrep -P "$DAEMON_PID" -x shimvisord-eng || true)
	kill -9 "$DAEMON_PID" $eng 2>/dev/null || true
	wait "$DAEMON_PID" 2>/dev/null || true
	for p in $eng; do timeout 5 tail --pid="$p" -f /dev/null; done
	DAEMON_PID=""
}

daemon_stop() {
	[ -n "$DAEMON_PID" ] || return 0
	kill -TERM "$DAEMON_PID" 2>/dev/null || true
	timeout 10 tail --pid="$DAEMON_PID" -f /dev/null || kill -9 "$DAEMON_PID" 2>/dev/null
	wait "$DAEMON_PID" 2>/dev/null || true
	DAEMON_PID=""
}

# Start `shimvisor events --format json` into $T/events; returns once it is subscribed.
events_start() {
	"$SV" events --format json > "$T/events" 2>>"$T/events.err" &
	BG_PIDS+=($!)
	EVENTS_PID=$!
	subscribed $EVENTS_PID || fail "events did not subscribe"
}

# Wait (bounded) until `shimvisor events` of pid $1 has sent its Subscribe: it blocks in a
# system call only once it waits for its first event. Then a reply to a request on another
# connection, sent after that, means the engine has read the Subscribe too (it reads the
# older connection first: accepted before, its bytes ready before).
subscribed() {
	local pid=$1 s deadline=$((SECONDS + 20))
	while :; do
		s=$(cat "/proc/$pid/syscall" 2>/dev/null) || return 1
		case $s in running|"") ;; *) break ;; esac
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.01
	done
	"$SV" version >/dev/null
}

# Wait (bounded) for an event line matching all the given fixed strings.
events_wait() {
	local tmo=$1; shift
	local filter="grep -F -e \"$1\""
	timeout "$tmo" bash -c '
		f=$1; shift
		tail -n +1 -f "$f" | while IFS= read -r line; do
			ok=1
			for p in "$@"; do case "$line" in *"$p"*) ;; *) ok=0 ;; esac; done
			if [ $ok = 1 ]; then echo "$line"; exit 0; fi
		done' _ "$T/events" "$@" | head -n1 | grep . || { note "events so far:"; cat "$T/events" >&2; return 1; }
	: "$filter"
}

# The worker of task $1 (namespace $2): the monitor records it in the bundle (a warm worker's
# command line names no task).
worker_pid() { cat "$T/state/${2:-default}/$1/worker.pid"; }

# SIGKILL what the bundles under state dir $1 name: each worker (worker.pid) and each task
# the daemon could not clean up (a case that failed or timed out: init.pid, "<pid> <start
# time>", killed only while the start time still matches).
kill_bundle_processes() {
	local f ipid istart
	for f in "$1"/*/*/worker.pid; do
		[ -f "$f" ] && kill -9 "$(cut -d' ' -f1 "$f")" 2>/dev/null
	done
	for f in "$1"/*/*/init.pid; do
		[ -f "$f" ] || continue
		read -r ipid istart < "$f"
		[ -n "$ipid" ] && [ "$(awk '{print $22}' "/proc/$ipid/stat" 2>/dev/null)" = "$istart" ] &&
			kill -9 "$ipid" 2>/dev/null
	done
	return 0
}

case_cleanup() {
	set +e
	if [ -n "$DAEMON_PID" ] && [ -S "$T/ctl.sock" ]; then
		for id in $(timeout 5 "$SV" ls -q 2>/dev/null); do timeout 10 "$SV" delete -f "$id" >/dev/null 2>&1; done
	fi
	for p in "${BG_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	daemon_stop
	# anything still running from this case: workers (a warm one's command line names no
	# task: found by its bundle's worker.pid or its cwd), cleaners, tasks
	kill_bundle_processes "$T/state"
	# (one find, not a readlink per process: on a host running a thousand processes that
	# walk took longer than the case's timeout)
	find /proc -mindepth 2 -maxdepth 2 -name cwd -lname "$T/*" 2>/dev/null | cut -d/ -f3 |
		xargs -r kill -9 2>/dev/null
	for p in $(pgrep -f -- "$T/"); do kill -9 "$p" 2>/dev/null; done
	grep -F " $T/" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l 2>/dev/null
	# the case's cgroups, in every hierarchy, deepest first (empty once its tasks are gone)
	for d in /sys/fs/cgroup/*"$(case_cgroup)" /sys/fs/cgroup"$(case_cgroup)"; do
		[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}

# One field of a JSON object on stdin (`state --format json`).
json_field() { python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); print(d[sys.argv[1]])' "$1"; }

# The host pid of task $1's init.
task_pid() { "$SV" state --format json "$1" | json_field pid; }

# The cgroup v1 directory of task pid $1 in the hierarchy of controller $2 ("" when none).
cg_dir() {
	local rel
	rel=$(awk -F: -v c="$2" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' "/proc/$1/cgroup")
	[ -n "$rel" ] && [ -d "/sys/fs/cgroup/$2$rel" ] && echo "/sys/fs/cgroup/$2$rel"
}

# Skip the case unless the v1 hierarchies a task's limits and pause need are mounted.
need_v1() {
	for c in memory pids cpu freezer; do
		grep -qw "$c" /proc/self/cgroup 2>/dev/null || skip_case "no cgroup v1 $c hierarchy here"
	done
}

# The pids of processes in the pid namespace $1 (a "pid:[inode]" link), with one find: a
# readlink per process is minutes on a loaded host with thousands of processes.
ns_pids() {
	local d pat=${1//[/\\[}
	pat=${pat//]/\\]}
	for d in $(find /proc/[0-9]*/ns/pid -maxdepth 0 -lname "$pat" 2>/dev/null); do
		d=${d#/proc/}
		echo "${d%%/*}"
	done
}

# --- the driver -------------------------------------------------------------------------
# Each test script defines functions test_<name> and ends with `run_cases "$@"`.
run_cases() {
	if [ "${1:-}" = "--one" ]; then
		T=$(mktemp -d /tmp/sv-e2e.XXXXXX)
		trap case_cleanup EXIT
		# the driver's timeout: say where the case stood before cleaning up
		trap 'echo "# timed out; the daemon log says:" >&2; tail -n 30 "$T/daemon.log" >&2 2>/dev/null
		      ps -eo pid,stat,wchan:24,args | grep -F -- "$T" | grep -v grep >&2; exit 124' TERM
		# the case's own status counts: a function that ends on a failed command fails,
		# not only the checks written as `|| fail`
		"test_$2"
		local st=$?
		[ $st = 0 ] || { echo "# FAIL: test_$2 returned $st" >&2; exit 1; }
		exit 0
	fi
	if [ "$(id -u)" != 0 ]; then
		echo "1..0 # SKIP end-to-end tests need root (namespaces, mounts)"
		exit 0
	fi
	local names n=0 failed=0 rc out
	names=$(declare -F | awk '{print $3}' | grep '^test_' | sed 's/^test_//')
	for name in $names; do
		n=$((n + 1))
		out=$(timeout -k 5 "$CASE_TIMEOUT" bash "$0" --one "$name" 2>&1)
		rc=$?
		if [ $rc = 0 ]; then
			echo "ok $n - $name"
			echo "$out" | sed -n "s/^# diag: /# $name: /p" >&2
		elif [ $rc = 77 ]; then
			echo "ok $n - $name # SKIP $(echo "$out" | grep '^SKIP' | head -n1 | cut -c6-)"
		else
			[ $rc = 124 ] && out="$out
timed out after ${CASE_TIMEOUT}s"
			echo "not ok $n - $name"
			# diagnostics on stderr, as Test::More's diag: prove shows them without -v
			echo "$out" | sed "s/^/# $name: /" >&2
			failed=$((failed + 1))
		fi
	done
	echo "1..$n"
	[ $n -gt 0 ] || { echo "# no test ran"; exit 1; }
	[ $failed = 0 ]
}
