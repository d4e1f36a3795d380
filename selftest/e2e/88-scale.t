#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# selftest/e2e/88-scale.t: a daemon holding thousands of tasks (issue 15) costs per operation
# what one holding fifty costs, and a restart re-attaches every one of its tasks, none late.
# bench/scale.py's method as a pass/fail check: the engine's time on a CPU
# (/proc/PID/schedstat's first field, ns) over calls made one at a time; SIGKILL of the
# monitor and the engine, then a new daemon on the same state.
#
# The two sizes are measured side by side, not one after the other: a small daemon (N=50)
# and the large one (N=2000) run at once and take turns, batch by batch, and the check is
# on the least batch of each (the work of others on the machine only ever adds to a batch:
# the least is the one it disturbed least; at a load of 4 on this shared 2-CPU host one
# batch's mean varied 4x). Measured one after the other in one daemon, the ratio also
# carried the host's own change (2000 more workers and tasks make every context switch
# dearer: `ps`, three processes a call, came out 1.4-1.8x with nothing in the engine
# walking) and whatever else the machine did meanwhile.
#
# What it catches: a `state` costs the engine ~35-60 us, most of it the connection (accept,
# epoll, read, write, close, each through its seccomp filter), and one walk of 2000 tasks
# per call adds ~25-40 us with cold caches. With task_find made to walk the list, a `state`
# of tasks found came out 1.25-1.8x, too close to the noise to be the check; of a missing id
# (the whole list walked), 2.5-2.6x: that one carries it. Unchanged, the three came out
# 0.95-1.44x (ps the highest: its three processes a call), so state's bound is 1.5 and ps's
# 2 (a walk showed in ps's median batches, 1.9x, not in its least).

# Sanitized binaries cost each worker tens of MiB of shadow memory and run 2-3x slower: a
# sanitized run (SV_SAN_LOG set) holds 300 tasks instead of 2000.

# ~45 s on the shared 2-CPU host (2000 starts, 4 at a time, and as many deletes); the
# case's timeout leaves room for a loaded machine
CASE_TIMEOUT=$(( ${CASE_TIMEOUT:-60} * 5 / 2 ))
. "$(dirname "$0")/lib.sh"

if [ -n "${SV_SAN_LOG:-}" ]; then SCALE_N=${SCALE_N:-300}; fi
SCALE_N=${SCALE_N:-2000}         # the large daemon's tasks (the restart's too)
SCALE_SMALL=${SCALE_SMALL:-50}   # the small daemon's
SCALE_CALLS=${SCALE_CALLS:-300}  # calls per measurement and daemon, in 10 batches
SCALE_MAX_RATIO=${SCALE_MAX_RATIO:-1.5}    # state's bound; ps's is SCALE_MAX_RATIO_PS
SCALE_MAX_RATIO_PS=${SCALE_MAX_RATIO_PS:-2}
CONC=4                           # starts and deletes at once
SMALL=""                         # the small daemon's directory, once started
SMALL_PID=""

# The engine's time on a CPU so far, in ns (its only thread: schedstat's first field).
oncpu_ns() { cut -d' ' -f1 "/proc/$1/schedstat"; }

# Start tasks s$2 .. s$3 on the daemon at socket $1, CONC at a time: `sleep` on the busybox
# rootfs.
start_tasks() {
	seq "$2" "$3" | xargs -P "$CONC" -I{} \
		"$SV" -a "$1" run -d --rootfs "$T/rfs" "s{}" /bin/sleep 99988 >/dev/null 2>>"$T/run.err" ||
		fail "starting s$2..s$3: $(sort "$T/run.err" | uniq -c | head -n 5)"
}

# The small daemon: its own state, socket and log under $T/small, its tasks' cgroups below
# the case's; stopped (its tasks deleted) by small_stop, or by the case's end.
small_start() {
	SMALL="$T/small"
	mkdir -p "$SMALL"
	mkfifo "$SMALL/ready"
	"$SVD" -F -c "$T/conf" --state "$SMALL/state" --address "$SMALL/ctl.sock" \
		--pidfile "$SMALL/shimvisord.pid" --cgroup-parent "$(case_cgroup)/small" --ready-fd 3 \
		3>"$SMALL/ready" 2>>"$SMALL/daemon.log" &
	SMALL_PID=$!
	local c
	c=$(timeout 10 head -c1 "$SMALL/ready" | od -An -c | tr -d ' ')
	[ "$c" = '\n' ] || fail "the small daemon is not ready: $(cat "$SMALL/daemon.log")"
}

small_stop() {
	[ -n "$SMALL_PID" ] || return 0
	local ids
	ids=$(timeout 10 "$SV" -a "$SMALL/ctl.sock" ls -q)
	[ -z "$ids" ] || timeout 60 "$SV" -a "$SMALL/ctl.sock" delete -f $ids >/dev/null ||
		note "the small daemon's delete failed"
	kill -TERM "$SMALL_PID" 2>/dev/null
	timeout 10 tail --pid="$SMALL_PID" -f /dev/null || kill -9 "$SMALL_PID" 2>/dev/null
	wait "$SMALL_PID" 2>/dev/null
	SMALL_PID=""
}

# The case's end: the small daemon first (case_cleanup knows the large one only), then what
# it left (its workers and tasks, by the pid files in its bundles), then the rest.
scale_cleanup() {
	set +e
	if [ -n "$SMALL" ]; then
		small_stop
		kill_bundle_processes "$SMALL/state"
	fi
	case_cleanup
}

# The engine's ns on a CPU per call in batch $6 of SCALE_CALLS `shimvisor $3 ID` calls, made
# one at a time to the daemon at socket $1 (engine pid $2) with N=$5 tasks, of tasks $4:
# "found" (the ids spread over all N, the newest and the oldest alike) or "missing" (each
# answered "not found").
batch() {
	local sock=$1 eng=$2 verb=$3 how=$4 n=$5 j=$6 per=$((SCALE_CALLS / 10)) i id c0 c1
	c0=$(oncpu_ns "$eng")
	for ((i = j * per; i < (j + 1) * per; i++)); do
		if [ "$how" = missing ]; then
			id=x$i
			! "$SV" -a "$sock" "$verb" "$id" >/dev/null 2>"$T/call.err" &&
				grep -q "not found" "$T/call.err" || fail "$verb $id: $(cat "$T/call.err")"
		else
			id=s$((i * n / SCALE_CALLS + 1))
			"$SV" -a "$sock" "$verb" "$id" >/dev/null || fail "$verb $id"
		fi
	done
	c1=$(oncpu_ns "$eng")
	echo $(( (c1 - c0) / per ))
}

# The least and the median of the numbers on stdin.
least_median() { sort -g | awk '{ v[NR] = $1 } END { print v[1], (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# `shimvisor $1 ID` of tasks $2 ("found" or "missing"): 10 batches on each daemon, taking
# turns (which goes first alternates), after a batch on each not counted. Prints the
# least and the median ns per call of the small daemon's batches, then of the large one's;
# the batches go to $T/batches.
cost_pair() {
	local verb=$1 how=$2 j a b as=() bs=()
	batch "$SMALL/ctl.sock" "$ENG_SMALL" "$verb" "$how" "$SCALE_SMALL" 0 >/dev/null || exit 1
	batch "$T/ctl.sock" "$ENG" "$verb" "$how" "$SCALE_N" 0 >/dev/null || exit 1
	for ((j = 0; j < 10; j++)); do
		if ((j % 2)); then
			b=$(batch "$T/ctl.sock" "$ENG" "$verb" "$how" "$SCALE_N" "$j") || exit 1
			a=$(batch "$SMALL/ctl.sock" "$ENG_SMALL" "$verb" "$how" "$SCALE_SMALL" "$j") || exit 1
		else
			a=$(batch "$SMALL/ctl.sock" "$ENG_SMALL" "$verb" "$how" "$SCALE_SMALL" "$j") || exit 1
			b=$(batch "$T/ctl.sock" "$ENG" "$verb" "$how" "$SCALE_N" "$j") || exit 1
		fi
		as+=("$a") bs+=("$b")
	done
	echo "$verb ($how), ns per call at N=$SCALE_SMALL: ${as[*]}; at N=$SCALE_N: ${bs[*]}" >>"$T/batches"
	echo "$(printf '%s\n' "${as[@]}" | least_median) $(printf '%s\n' "${bs[@]}" | least_median)"
}

# Restart on the same state (the daemon SIGKILLed before): a client connects as soon as the
# socket listens and must be answered correctly whether re-attach is over or not; then the
# ready byte (every task re-attached or late).
restart_with_client() {
	rm -f "$T/ready"; mkfifo "$T/ready"
	local serving c
	serving=$(grep -c ": serving " "$T/daemon.log")
	"$SVD" -F -c "$T/conf" --state "$T/state" --address "$T/ctl.sock" --pidfile "$T/shimvisord.pid" \
		--cgroup-parent "$(case_cgroup)" --ready-fd 3 3>"$T/ready" 2>>"$T/daemon.log" &
	DAEMON_PID=$!
	exec 4<"$T/ready"       # (opened before the client: a byte written later stays readable)
	# the socket listens once the new monitor logs its version line
	timeout 30 sh -c 'until [ "$(grep -c ": serving " "$1")" -gt "$2" ]; do sleep 0.02; done' _ \
		"$T/daemon.log" "$serving" || fail "the daemon did not start: $(tail -n 20 "$T/daemon.log")"
	timeout 60 "$SV" ls >"$T/ls.early" || fail "not served during re-attach: $(tail -n 5 "$T/daemon.log")"
	c=$(timeout 60 head -c1 <&4 | od -An -c | tr -d ' ')
	exec 4<&-
	[ "$c" = '\n' ] || fail "not ready: $(tail -n 20 "$T/daemon.log")"
}

# "PID START" of the worker and the task's init of each bundle under state directory $1
# (START: the 22nd field of /proc/PID/stat, so that a pid used again does not count); with
# --alive FILE instead, the lines of FILE whose process still runs.
proc_list() {
	python3 - "$@" <<'PY'
import glob, sys

def start(pid):
    try:
        with open("/proc/%s/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except OSError:
        return None

if sys.argv[1] == "--alive":
    for line in open(sys.argv[2]):
        pid, st = line.split()
        if start(pid) == st:
            print(line, end="")
else:
    for b in sorted(glob.glob(sys.argv[1] + "/*/*/")):
        w = open(b + "worker.pid").read().split()[0]
        i, ist = open(b + "init.pid").read().split()[:2]
        for pid, st in ((w, start(w)), (i, ist)):
            print(pid, st)
PY
}

ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

test_flat_cost_and_restart() {
	trap scale_cleanup EXIT
	[ -x /bin/busybox ] || skip_case "busybox-static is not installed"
	# the engine: two fds a task and at most 1024 for clients (DESIGN.md, Limits)
	local need_fds=$((2 * SCALE_N + 1024 + 64)) hard
	hard=$(ulimit -Hn)
	[ "$hard" = unlimited ] || [ "$hard" -ge "$need_fds" ] ||
		skip_case "RLIMIT_NOFILE's hard limit is $hard: $SCALE_N tasks need $need_fds"
	ulimit -Sn "$hard" || fail "raise the soft RLIMIT_NOFILE to $hard"
	# each task: its worker and its init; room for the rest of the machine
	local procs pid_max need_pids=$((2 * (SCALE_N + SCALE_SMALL) + 2000))
	pid_max=$(cat /proc/sys/kernel/pid_max)
	procs=$(ls -d /proc/[0-9]* 2>/dev/null | wc -l)
	[ $((pid_max - procs)) -ge "$need_pids" ] ||
		skip_case "pid_max $pid_max with $procs processes running: $SCALE_N tasks need $need_pids pids free"
	local avail
	avail=$(awk '/^MemAvailable:/ {print $2}' /proc/meminfo)
	[ "$avail" -ge $((SCALE_N * 1024 + 262144)) ] ||
		skip_case "MemAvailable $((avail / 1024)) MiB: $SCALE_N tasks need ~1 MiB each"

	mkdir -p "$T/rfs/bin"
	cp /bin/busybox "$T/rfs/bin/" && ln -s busybox "$T/rfs/bin/sleep" || fail "rootfs"
	policy_conf "rootfs_sources = $T"
	daemon_start -c "$T/conf"
	ENG=$(pgrep -P "$DAEMON_PID" -x shimvisord-eng) || fail "no engine"
	small_start
	ENG_SMALL=$(pgrep -P "$SMALL_PID" -x shimvisord-eng) || fail "no small engine"
	local t0
	t0=$(date +%s%N)
	start_tasks "$SMALL/ctl.sock" 1 "$SCALE_SMALL"
	start_tasks "$T/ctl.sock" 1 "$SCALE_N"
	diag "$((SCALE_SMALL + SCALE_N)) tasks started in $(ms_since "$t0") ms"
	[ "$("$SV" ls -q | wc -l)" = "$SCALE_N" ] || fail "ls lists $("$SV" ls -q | wc -l) tasks"

	# flat cost: state (answered by the engine: an id that is there, one that is not) and
	# ps (through the task's worker)
	local what out failed="" left r max
	t0=$(date +%s%N)
	for what in "state found" "state missing" "ps found"; do
		out=$(cost_pair $what) || exit 1
		set -- $out
		r=$(awk -v a="$1" -v b="$3" 'BEGIN { printf "%.2f", b / a }')
		diag "engine ns on a CPU per $what: $1 at N=$SCALE_SMALL, $3 at N=$SCALE_N:" \
			"x$r (the least of 10 batches; their medians $2, $4)"
		max=$SCALE_MAX_RATIO
		[ "$what" = "ps found" ] && max=$SCALE_MAX_RATIO_PS
		awk -v r="$r" -v m="$max" 'BEGIN { exit !(r < m) }' ||
			failed="$failed; $what: x$r at N=$SCALE_N, not below $max"
	done
	diag "measured in $(ms_since "$t0") ms"
	[ -z "$failed" ] || fail "not flat${failed}: $(cat "$T/batches")"
	small_stop

	# restart with every task live
	daemon_kill9
	t0=$(date +%s%N)
	restart_with_client
	diag "restart: ready $(ms_since "$t0") ms after the new daemon's start;" \
		"$(grep -o 're-attach: [0-9]* tasks in [0-9]* ms' "$T/daemon.log" | tail -n1)"
	local running unknown
	running=$(grep -cE '^default +s[0-9]+ +[0-9]+ +running' "$T/ls.early")
	unknown=$(grep -cE '^default +s[0-9]+ +[0-9]+ +unknown' "$T/ls.early")
	diag "the first client during the restart: $running running, $unknown not re-attached yet"
	[ $((running + unknown)) = "$SCALE_N" ] && [ "$(grep -c . "$T/ls.early")" = $((SCALE_N + 1)) ] ||
		fail "the first client's ls: $(grep -vE ' (running|unknown) ' "$T/ls.early" | head -n 5)"
	"$SV" ls >"$T/ls" || fail "ls after the restart"
	[ "$(grep -cE '^default +s[0-9]+ +[0-9]+ +running' "$T/ls")" = "$SCALE_N" ] ||
		fail "not all running after re-attach: $(grep -vE ' running ' "$T/ls" | head -n 5)"
	[ "$(grep -c ': re-attached (pid ' "$T/daemon.log")" = "$SCALE_N" ] ||
		fail "$(grep -c ': re-attached (pid ' "$T/daemon.log") re-attached lines, want $SCALE_N"
	grep -q "re-attach: $SCALE_N tasks in [0-9]* ms" "$T/daemon.log" ||
		fail "no closing line for $SCALE_N tasks: $(grep 're-attach' "$T/daemon.log" | tail -n 5)"
	# no worker late (one line counts them, "... gave no answer within ..."; the progress line,
	# each second while re-attach goes on, ends ", N late"), none left out ("re-attach NS/ID:
	# ..." says why)
	! grep -E "no answer| [1-9][0-9]* late$|re-attach [^ :]+: " "$T/daemon.log" ||
		fail "re-attach warnings"

	# delete every task, CONC at a time: nothing left, no process, no bundle
	proc_list "$T/state" >"$T/procs" || fail "the tasks' processes"
	[ "$(grep -vc ' None$' "$T/procs")" = $((2 * SCALE_N)) ] ||
		fail "$(grep -vc ' None$' "$T/procs") processes found, want a worker and an init per task"
	t0=$(date +%s%N)
	seq 1 "$SCALE_N" | sed 's/^/s/' | xargs -P "$CONC" -n 25 "$SV" delete -f >/dev/null 2>>"$T/delete.err" ||
		fail "delete: $(head -n 5 "$T/delete.err")"
	diag "$SCALE_N tasks deleted in $(ms_since "$t0") ms"
	[ -z "$("$SV" ls -q)" ] || fail "listed after delete: $("$SV" ls -q | head -n 5)"
	daemon_stop
	left=$(find "$T/state" "$SMALL/state" -mindepth 1 -maxdepth 1 ! -name '.*')
	[ -z "$left" ] || fail "bundles left: $(find $left | head -n 5)"
	# (a worker ends once it has answered its Delete: it may still be on its way out)
	local deadline=$((SECONDS + 10))
	while [ -n "$(proc_list --alive "$T/procs")" ]; do
		[ $SECONDS -lt $deadline ] || fail "left running: $(proc_list --alive "$T/procs" | head -n 5)"
		sleep 0.05
	done
	[ -z "$(pgrep -f -- "$T/")" ] || fail "processes left: $(pgrep -af -- "$T/" | head -n 5)"
}

run_cases "$@"
