#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# selftest/e2e/80-containerd.t: a real containerd 1.6 (Debian's) drives shimvisor-worker as
# the runtime io.containerd.shimvisor.v2 through `ctr`: run, detached lifecycle and events,
# exec, pause, metrics, terminal, stdin, output with no reader, containerd restart, a killed
# shim, an image's rootfs mounts, checkpoint. One private containerd per case (ctd.sh).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ctd.sh"


# Whether process $1 is paused: frozen by a cgroup freezer (v1 or v2), or stopped (SIGSTOP).
is_frozen() {
	local pid=$1 st cg mnt
	st=$(awk '$1 == "State:" { print $2 }' "/proc/$pid/status")
	[ "$st" = T ] && return 0
	cg=$(awk -F: '$2 == "freezer" { print $3 }' "/proc/$pid/cgroup")
	[ -n "$cg" ] && [ "$(cat "/sys/fs/cgroup/freezer$cg/freezer.state" 2>/dev/null)" = FROZEN ] && return 0
	cg=$(awk -F: '$1 == "0" { print $3 }' "/proc/$pid/cgroup")
	mnt=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
	[ -n "$mnt" ] && grep -qx 'frozen 1' "$mnt$cg/cgroup.events" 2>/dev/null && return 0
	return 1
}

# No live process left in the pid namespace $1 (a "pid:[inode]" link); zombies do not
# count: an orphan whose reaper is this machine's pid 1 may stay one for a while.
ns_empty() {
	local p
	for p in $(ns_pids "$1"); do
		p=/proc/$p
		[ "$(awk '$1 == "State:" { print $2 }' "$p/status" 2>/dev/null)" = Z ] && continue
		echo "${p#/proc/}"
		return 1
	done
	return 0
}

# 1. ctr run --rm: output, exit statuses, a binary that is not there
test_01_run_output_and_exit_status() {
	ctd_setup
	out=$(rfs_run --rm r0 /bin/echo hello from shimvisor) || fail "run echo: rc $?"
	[ "$out" = "hello from shimvisor" ] || fail "output: '$out'"
	rfs_run --rm r7 /bin/sh -c 'echo to-err >&2; exit 7' >/dev/null 2>"$CD/err"
	rc=$?; [ $rc = 7 ] || fail "exit 7 gave rc $rc"
	grep -qx to-err "$CD/err" || fail "stderr: $(cat "$CD/err")"
	rfs_run --rm r0b /bin/true || fail "true gave rc $?"
	# `sh -c 'kill -9 $$'` cannot work as such: the kernel drops a SIGKILL that a pid
	# namespace's init gets from inside its namespace (sh stays alive, exits 0). A child
	# killed by SIGKILL: the shell reports 128+9.
	rfs_run --rm r9 /bin/sh -c 'sh -c "kill -9 \$\$"; exit $?'
	rc=$?; [ $rc = 137 ] || fail "child self-kill -9 gave rc $rc, want 137"
	# the init itself killed by SIGKILL (from the host): the shim's 128+signal status
	mkfifo "$CD/o9"
	"$CTR_BIN" -a "$CD/c.sock" -n "$CTD_NS" run "${RT[@]}" --fifo-dir "$CD/fifo" --rm --rootfs "$RFS" \
		r9i /bin/sh -c 'echo up; exec sleep 1000' > "$CD/o9" 2>&1 &
	ctrpid=$!
	BG_PIDS+=($ctrpid)
	exec {fd}< "$CD/o9"
	read -r -t 10 -u $fd line || fail "no output from r9i"
	[ "$line" = up ] || fail "r9i said '$line'"
	pid=$(task_pid r9i)
	[ -n "$pid" ] && [ "$(cat /proc/$pid/comm)" = sleep ] || fail "r9i pid '$pid' is not its sleep"
	kill -9 "$pid"
	pid_wait "$CTR_TIMEOUT" "$ctrpid" || fail "ctr run did not return after its task was killed"
	wait "$ctrpid"; rc=$?
	exec {fd}<&-
	[ $rc = 137 ] || fail "init killed by SIGKILL: ctr run gave rc $rc, want 137"
	# a missing binary: an error, promptly, and nothing left behind
	rfs_run --rm rm1 /no/such/binary > "$CD/out" 2> "$CD/err"
	rc=$?
	[ $rc = 124 ] || [ $rc = 137 ] && fail "run of a missing binary hung (killed after ${CTR_TIMEOUT}s)"
	[ $rc != 0 ] || fail "run of a missing binary succeeded"
	grep -q '^ctr: ' "$CD/err" || fail "no ctr error for a missing binary: $(cat "$CD/out" "$CD/err")"
	note "missing binary: rc $rc: $(cat "$CD/err")"
	[ -z "$(ctr task ls -q)" ] || fail "tasks left: $(ctr task ls)"
	[ -z "$(ctr containers ls -q)" ] || fail "containers left: $(ctr containers ls)"
	[ -z "$(ls "$CD/state/io.containerd.runtime.v2.task/$CTD_NS" 2>/dev/null)" ] ||
		fail "bundles left: $(ls "$CD/state/io.containerd.runtime.v2.task/$CTD_NS")"
	pid_wait 5 $(ctd_shim_pids) || fail "shims left: $(ctd_shim_pids)"
	return 0
}

# 2. ctr run -d, task ls / ps / kill / rm, c rm; what is left; the event sequence
test_02_detached_lifecycle_and_events() {
	ctd_setup
	ctd_events_start
	rfs_run -d d1 /bin/sleep 1000 || fail "run -d: rc $?"
	[ "$(task_status d1)" = RUNNING ] || fail "task ls: $(ctr task ls)"
	pid=$(task_pid d1)
	[ "$pid" -gt 0 ] 2>/dev/null && [ "$(cat /proc/$pid/comm)" = sleep ] || fail "task ls pid '$pid' is not the task's sleep"
	pids=$(ctr task ps d1 | awk 'NR > 1 { print $1 }')
	[ "$pids" = "$pid" ] || fail "task ps: $(ctr task ps d1)"
	shim=$(ctd_shim_pids d1)
	[ "$(echo "$shim" | wc -w)" = 1 ] || fail "shims of d1: '$shim'"
	b=$(ctd_bundle d1)
	[ -d "$b" ] || fail "no bundle $b"
	ctr task rm d1 2>"$CD/err" && fail "task rm of a running task succeeded"
	ctr task kill -s KILL d1 || fail "task kill"
	ev=$(ev_wait 10 /tasks/exit d1) || fail "no /tasks/exit for d1"
	[ "$(json_get "$ev" exit_status)" = 137 ] || fail "exit event: $ev"
	[ "$(json_get "$ev" pid)" = "$pid" ] || fail "exit event pid: $ev"
	[ "$(task_status d1)" = STOPPED ] || fail "after the exit: $(ctr task ls)"
	kill -0 "$pid" 2>/dev/null && fail "task process $pid still alive"
	ctr task rm d1 2>"$CD/err" || fail "task rm: $(cat "$CD/err")"
	grep -q 'exit code 137' "$CD/err" || fail "task rm did not report 137: $(cat "$CD/err")"
	ctr containers rm d1 || fail "containers rm"
	ev_wait 10 /tasks/delete d1 >/dev/null || fail "no /tasks/delete for d1"
	pid_wait 5 $shim || fail "shim $shim still running after task rm"
	[ -e "$b" ] && fail "bundle left: $(ls -la "$b")"
	[ -e "$CD/root/io.containerd.runtime.v2.task/$CTD_NS/d1" ] && fail "work dir left"
	cg=$(ls -d /sys/fs/cgroup/*/"$CTD_NS"/d1 /sys/fs/cgroup/"$CTD_NS"/d1 2>/dev/null)
	[ -z "$cg" ] || fail "cgroups left: $cg"
	[ -z "$(ctd_shim_pids)" ] || fail "shims left: $(ctd_shim_pids)"
	topics=$(ev_topics d1)
	[ "$topics" = "/tasks/create /tasks/start /tasks/exit /tasks/delete" ] || fail "events for d1: $topics"
}

# 3. ctr task exec: inside the container's namespaces, exit status, ps, kill, events
test_03_exec() {
	ctd_setup
	ctd_events_start
	rfs_run -d x1 /bin/sleep 1000 || fail "run -d"
	pid=$(task_pid x1)
	out=$(ctr task exec --fifo-dir "$CD/fifo" --exec-id e1 x1 /bin/sh -c \
		'echo $$; hostname; for n in pid uts mnt; do readlink /proc/self/ns/$n; done') ||
		fail "exec e1: rc $?: $out"
	set -- $out
	[ $# = 5 ] || fail "exec output: '$out'"
	[ "$1" -gt 1 ] 2>/dev/null || fail "exec's pid inside is '$1' (want > 1: the sleep is 1)"
	[ "$2" = "$(nsenter -t "$pid" -u hostname)" ] || fail "exec's hostname '$2' is not the container's"
	[ "$3" = "$(readlink /proc/$pid/ns/pid)" ] || fail "exec not in the task's pid namespace: $3"
	[ "$4" = "$(readlink /proc/$pid/ns/uts)" ] || fail "exec not in the task's uts namespace: $4"
	[ "$5" = "$(readlink /proc/$pid/ns/mnt)" ] || fail "exec not in the task's mount namespace: $5"
	ev_wait 10 /tasks/exit e1 id >/dev/null || fail "no /tasks/exit for e1"
	topics=$(awk '$6 ~ /^\/tasks\// && /"(exec_)?id":"e1"/ { printf "%s ", $6 }' "$CD/events")
	case "$topics" in
	"/tasks/exec-added /tasks/exec-started /tasks/exit " | \
	"/tasks/exec-added /tasks/exec-started /tasks/exit /tasks/delete ") ;;
	*) fail "events for e1: $topics" ;;
	esac
	ctr task exec --fifo-dir "$CD/fifo" --exec-id e2 x1 /bin/sh -c 'exit 3'
	rc=$?; [ $rc = 3 ] || fail "exec 'exit 3' gave rc $rc"
	ctr task exec --fifo-dir "$CD/fifo" -d --exec-id e3 x1 /bin/sleep 1001 || fail "exec -d e3"
	ev=$(ev_wait 10 /tasks/exec-started e3 exec_id) || fail "no /tasks/exec-started for e3"
	epid=$(json_get "$ev" pid)
	[ "$(cat /proc/$epid/comm 2>/dev/null)" = sleep ] || fail "exec-started pid '$epid' is not e3's sleep"
	pids=$(ctr task ps x1 | awk 'NR > 1 { print $1 }' | sort -n | tr '\n' ' ')
	[ "$pids" = "$(printf '%s\n' "$pid" "$epid" | sort -n | tr '\n' ' ')" ] ||
		fail "task ps with an exec running: $(ctr task ps x1), want $pid and $epid"
	ctr task kill --exec-id e3 -s KILL x1 || fail "kill --exec-id e3"
	ev=$(ev_wait 10 /tasks/exit e3 id) || fail "no /tasks/exit for e3"
	[ "$(json_get "$ev" exit_status)" = 137 ] || fail "e3 exit: $ev"
	[ "$(task_status x1)" = RUNNING ] || fail "init after the exec's kill: $(ctr task ls)"
	ctr task exec --fifo-dir "$CD/fifo" --exec-id e1 x1 /bin/true || fail "a finished exec's id cannot be reused"
}

# 4. pause / resume: state, the processes really frozen, events
test_04_pause_resume() {
	ctd_setup
	ctd_events_start
	rfs_run -d p1 /bin/sleep 1000 || fail "run -d"
	pid=$(task_pid p1)
	is_frozen "$pid" && fail "frozen before pause"
	ctr task pause p1 2>"$CD/err" || fail "pause: $(cat "$CD/err")"
	[ "$(task_status p1)" = PAUSED ] || fail "after pause: $(ctr task ls)"
	is_frozen "$pid" || fail "task ls says PAUSED but $pid is not frozen ($(grep State: /proc/$pid/status))"
	ev_wait 10 /tasks/paused p1 >/dev/null || fail "no /tasks/paused"
	ctr task resume p1 2>"$CD/err" || fail "resume: $(cat "$CD/err")"
	[ "$(task_status p1)" = RUNNING ] || fail "after resume: $(ctr task ls)"
	is_frozen "$pid" && fail "still frozen after resume"
	ev_wait 10 /tasks/resumed p1 >/dev/null || fail "no /tasks/resumed"
	[ "$(ev_topics p1)" = "/tasks/create /tasks/start /tasks/paused /tasks/resumed" ] ||
		fail "events for p1: $(ev_topics p1)"
	ctr task kill -s KILL p1 || fail "kill"
	ev=$(ev_wait 10 /tasks/exit p1) || fail "no exit after kill"
	[ "$(json_get "$ev" exit_status)" = 137 ] || fail "exit: $ev"
}

# 5. ctr task metrics: memory and pids figures of the task's cgroup
test_05_metrics() {
	ctd_setup
	rfs_run -d m1 /bin/sleep 1000 || fail "run -d"
	out=$(ctr task metrics m1 2>&1) || fail "metrics: rc $?: $out"
	echo "$out" | grep -q 'no metrics received' && fail "metrics: $out"
	pids=$(echo "$out" | awk '$1 == "pids.current" { print $2 }')
	[ "$pids" = 1 ] || fail "pids.current '$pids', want 1 (the sleep): $out"
	mem=$(echo "$out" | awk '$1 == "memory.usage_in_bytes" || $1 == "memory.usage" { print $2 }')
	[ "$mem" -gt 0 ] 2>/dev/null || fail "memory usage '$mem': $out"
}

# 6. -t: a pty inside, stdin through it, exec -t (script(1) gives ctr a terminal)
test_06_terminal() {
	command -v script >/dev/null || skip_case "script is not installed (bsdutils)"
	ctd_setup
	local run="$(CTR) run ${RT[*]} --fifo-dir $CD/fifo"
	# script's stdin never ends here: at an EOF it would type one more byte (a NUL once ctr
	# made the terminal raw), which the task's terminal would echo into the output
	mkfifo "$CD/tin"
	exec {tin}<>"$CD/tin"
	out=$(timeout 20 script -qec "$run --rm -t --rootfs $RFS tt /bin/sh -c 'tty; test -t 0 && echo isatty'" /dev/null \
		<"$CD/tin" | tr -d '\r') || fail "run -t: rc $?: $out"
	echo "$out" | grep -q '^/dev/pts/[0-9]' || fail "tty inside: '$out'"
	echo "$out" | grep -qx isatty || fail "stdin is not a tty inside: '$out'"
	# ResizePty: the size of ctr's terminal becomes the container's terminal's. ctr sends it
	# after Start, so the shell waits for it: SIGWINCH, or the size already there
	cat > "$RFS/tmp/winch" <<-'EOF'
	trap 'stty -a; exit 0' WINCH
	stty -a 2>/dev/null | grep -q 'rows 37;' && { stty -a; exit 0; }
	while :; do sleep 1; done
	EOF
	out=$(timeout 20 script -qec "stty rows 37 cols 111; $run --rm -t --rootfs $RFS ts /bin/sh /tmp/winch" /dev/null \
		<"$CD/tin" | tr -d '\r') || fail "run -t stty: rc $?: $out"
	echo "$out" | grep -q 'rows 37; columns 111;' || fail "terminal size inside: '$out' (want 37 x 111)"
	# typed input reaches the shell; the terminal echoes what is typed, so only the
	# command's output line counts
	out=$(printf 'x=tty; echo hi-from-$x\nexit\n' | timeout 20 script -qec "$run --rm -t --rootfs $RFS tt2 /bin/sh" /dev/null |
		tr -d '\r') || fail "run -t sh: rc $?: $out"
	echo "$out" | grep -v 'echo hi-from' | grep -q 'hi-from-tty' || fail "input through the tty: '$out'"
	rfs_run -d tx /bin/sleep 1000 || fail "run -d"
	out=$(timeout 20 script -qec "$(CTR) task exec -t --fifo-dir $CD/fifo --exec-id te tx /bin/sh -c 'tty; test -t 0 && echo isatty'" /dev/null \
		<"$CD/tin" | tr -d '\r') || fail "exec -t: rc $?: $out"
	exec {tin}>&-
	echo "$out" | grep -q '^/dev/pts/[0-9]' || fail "exec -t tty: '$out'"
	echo "$out" | grep -qx isatty || fail "exec -t stdin is not a tty: '$out'"
	[ "$(ctr task ls -q)" = tx ] || fail "tasks: $(ctr task ls)"
}

# 7. stdin: forwarded, and its end reaches the task (CloseIO / FIFO EOF)
test_07_stdin() {
	ctd_setup
	out=$(echo abc | rfs_run --rm si /bin/cat) || fail "run cat: rc $?"
	[ "$out" = abc ] || fail "cat gave '$out'"
	out=$(head -c 300000 /dev/zero | rfs_run --rm sw /bin/wc -c) || fail "run wc: rc $?"
	[ "$(echo $out)" = 300000 ] || fail "wc -c of 300000 bytes gave '$out'"
	rfs_run -d sx /bin/sleep 1000 || fail "run -d"
	out=$(echo def | ctr task exec --fifo-dir "$CD/fifo" --exec-id ci sx /bin/cat) || fail "exec cat: rc $?"
	[ "$out" = def ] || fail "exec cat gave '$out'"
}

# 8. output never blocks a task when nobody reads it (> 64 KiB, the FIFO's capacity)
test_08_output_without_reader() {
	ctd_setup
	ctd_events_start
	# ctr run -d: ctr leaves at once, nobody ever reads stdout or stderr
	rfs_run -d o1 /bin/sh -c 'yes | head -c 10000000 || exit 1; yes | head -c 1000000 >&2 || exit 2; echo done > /tmp/o1' \
		>/dev/null 2>&1 || fail "run -d"
	ev=$(ev_wait 10 /tasks/exit o1) || fail "o1 did not finish (blocked on output?): $(ctr task ls)"
	[ "$(json_get "$ev" exit_status)" = "" ] || fail "o1 exit: $ev (1/2: stdout/stderr write failed)"
	[ "$(task_status o1)" = STOPPED ] || fail "o1: $(ctr task ls)"
	[ "$(cat "$RFS/tmp/o1")" = done ] || fail "o1 did not get to its end"
	# the reader goes away while the task runs: ctr is killed, then the task writes
	mkfifo "$CD/o2" "$RFS/tmp/go"
	"$CTR_BIN" -a "$CD/c.sock" -n "$CTD_NS" run "${RT[@]}" --fifo-dir "$CD/fifo" --rootfs "$RFS" \
		o2 /bin/sh -c 'echo up; read g < /tmp/go; yes | head -c 10000000 || exit 1; echo done > /tmp/o2' \
		> "$CD/o2" 2>&1 &
	ctrpid=$!
	BG_PIDS+=($ctrpid)
	exec {fd}< "$CD/o2"
	read -r -t 10 -u $fd line || fail "no output from o2"
	[ "$line" = up ] || fail "o2 said '$line'"
	kill -9 "$ctrpid"
	wait "$ctrpid" 2>/dev/null
	exec {fd}<&-
	timeout 10 sh -c 'echo go > "$1"' _ "$RFS/tmp/go" || fail "o2 does not read /tmp/go"
	ev=$(ev_wait 10 /tasks/exit o2) || fail "o2 did not finish after its reader went away: $(ctr task ls)"
	[ "$(json_get "$ev" exit_status)" = "" ] || fail "o2 exit: $ev"
	[ "$(cat "$RFS/tmp/o2")" = done ] || fail "o2 did not get to its end"
}

# 9. containerd restarts: the task is re-attached (same pid) and still managed
test_09_containerd_restart() {
	ctd_setup
	rfs_run -d k1 /bin/sleep 1000 || fail "run -d"
	pid=$(task_pid k1)
	shim=$(ctd_shim_pids k1)
	[ -n "$pid" ] && [ -n "$shim" ] || fail "pid '$pid', shim '$shim'"
	ctd_stop
	kill -0 "$pid" || fail "the task died with containerd"
	kill -0 "$shim" || fail "the shim died with containerd"
	ctd_start
	grep -E 'level=(error|fatal)' "$CD/ctd-2.log" | grep -v 'failed to load plugin\|skip loading' >&2
	[ "$(task_status k1)" = RUNNING ] || fail "after the restart: $(ctr task ls)"
	[ "$(task_pid k1)" = "$pid" ] || fail "pid after the restart: $(ctr task ls), want $pid"
	[ "$(ctd_shim_pids k1)" = "$shim" ] || fail "shim after the restart: '$(ctd_shim_pids k1)', want $shim"
	ctd_events_start
	ctr task kill -s KILL k1 || fail "kill after the restart"
	# the shim's own /tasks/exit, forwarded to the new containerd
	ev=$(ev_wait 10 /tasks/exit k1) || fail "no /tasks/exit after the restart"
	[ "$(json_get "$ev" exit_status)" = 137 ] || fail "exit event: $ev"
	[ "$(task_status k1)" = STOPPED ] || fail "after the kill: $(ctr task ls)"
	ctr task rm k1 2>"$CD/err" || fail "task rm: $(cat "$CD/err")"
	grep -q 'exit code 137' "$CD/err" || fail "task rm did not report 137: $(cat "$CD/err")"
	ctr containers rm k1 || fail "containers rm"
	pid_wait 5 "$shim" || fail "shim still running"
	[ -e "$(ctd_bundle k1)" ] && fail "bundle left"
	return 0
}

# 10. SIGKILL of a running task's shim: containerd's dead-shim path cleans up
test_10_shim_killed() {
	ctd_setup
	ctd_import_image
	ctd_events_start
	ctr run "${RT[@]}" --fifo-dir "$CD/fifo" -d "$CTD_IMAGE" s1 /bin/sh -c 'sleep 1000 & exec sleep 1001' ||
		fail "run -d of the image"
	pid=$(task_pid s1)
	ns=$(readlink /proc/$pid/ns/pid) || fail "no task pid '$pid'"
	shim=$(ctd_shim_pids s1)
	[ "$(echo "$shim" | wc -w)" = 1 ] || fail "shims of s1: '$shim'"
	b=$(ctd_bundle s1)
	note "mounts under the bundle while running: $(grep -cF " $b/" /proc/self/mountinfo)"
	sock=$(sed -n 's#^unix://##p' "$b/address")
	[ -S "$sock" ] || fail "the shim's address '$sock' is not a socket"
	CTD_SOCKS+=("$sock")
	kill -9 "$shim"
	ev=$(ev_wait 15 /tasks/exit s1) || fail "no /tasks/exit after the shim's death"
	[ "$(json_get "$ev" pid)" = "$pid" ] || fail "exit event pid: $ev, want $pid"
	[ "$(json_get "$ev" exit_status)" = 137 ] || fail "exit event status: $ev"
	ev_wait 15 /tasks/delete s1 >/dev/null || fail "no /tasks/delete after the shim's death"
	grep -q 'cleaning up dead shim' "$CD"/ctd-1.log || fail "containerd did not take its dead-shim path"
	pid_wait 5 "$pid" || fail "the task's init $pid survived its shim"
	left=$(ns_empty "$ns") || fail "process $left of the task's pid namespace left"
	[ "$(grep -c ' /tasks/exit {"container_id":"s1"' "$CD/events")" = 1 ] || fail "exit published more than once"
	st=$(task_status s1)
	[ -z "$st" ] || fail "task still listed as $st: $(ctr task ls)"
	[ -e "$b" ] && fail "bundle left: $(ls -la "$b")"
	grep -F " $b" /proc/self/mountinfo >&2 && fail "mounts left under the bundle"
	if [ -e "$sock" ]; then
		# the runc shim's delete leaves it (PROTOCOL.md §1.9 asks ours to remove it)
		[ "$CTD_RT" = io.containerd.runc.v2 ] && note "the dead shim's socket is left" ||
			fail "the dead shim's socket $sock is left"
	fi
	ctr containers rm s1 || fail "containers rm after the dead shim"
	[ -z "$(ctd_shim_pids)" ] || fail "shim processes left: $(ctd_shim_pids)"
}

# 11. an image: containerd passes the rootfs mounts; nothing stays mounted
test_11_image_run() {
	ctd_setup
	ctd_import_image
	out=$(ctr run "${RT[@]}" --fifo-dir "$CD/fifo" --rm "$CTD_IMAGE" i1 /bin/echo from-image) ||
		fail "run image: rc $?: $out"
	[ "$out" = from-image ] || fail "output: '$out'"
	out=$(ctr run "${RT[@]}" --fifo-dir "$CD/fifo" --rm "$CTD_IMAGE" i2) || fail "run image Cmd: rc $?: $out"
	[ "$out" = from-image-cmd ] || fail "the image's Cmd gave '$out'"
	ctr run "${RT[@]}" --fifo-dir "$CD/fifo" -d "$CTD_IMAGE" i3 /bin/sleep 1000 || fail "run -d image"
	b=$(ctd_bundle i3)
	root=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["root"]["path"])' "$b/config.json")
	[ "$root" = rootfs ] || fail "root.path '$root': not the mounts' case"
	pid=$(task_pid i3)
	[ -x "/proc/$pid/root/bin/busybox" ] || fail "no image content in i3's root"
	ctr task rm -f i3 2>/dev/null || fail "task rm -f"
	ctr containers rm i3 || fail "containers rm"
	grep -F " $CD/state/" /proc/self/mountinfo >&2 && fail "mounts left under the bundles"
	grep -F "$CD/root/io.containerd.snapshotter.v1.overlayfs/snapshots" /proc/self/mountinfo >&2 &&
		fail "an overlay of the snapshots is still mounted"
	[ -z "$(ctr snapshots ls | awk 'NR > 1 && $1 ~ /^i[123]$/')" ] || fail "snapshots left: $(ctr snapshots ls)"
	return 0
}

# 12. checkpoint is not supported: a prompt, clear error; the task goes on running
test_12_checkpoint_error() {
	ctd_setup
	rfs_run -d c1 /bin/sleep 1000 || fail "run -d"
	pid=$(task_pid c1)
	ctr task checkpoint c1 > "$CD/out" 2> "$CD/err"
	rc=$?
	[ $rc = 124 ] || [ $rc = 137 ] && fail "checkpoint hung (killed after ${CTR_TIMEOUT}s)"
	[ $rc != 0 ] || fail "checkpoint succeeded: $(cat "$CD/out")"
	grep -q '^ctr: .*not implemented' "$CD/err" || fail "checkpoint error: $(cat "$CD/out" "$CD/err")"
	note "checkpoint: $(cat "$CD/err")"
	[ "$(task_status c1)" = RUNNING ] || fail "after the failed checkpoint: $(ctr task ls)"
	is_frozen "$pid" && fail "left frozen by the failed checkpoint"
	ctr task rm -f c1 2>/dev/null || fail "task rm -f"
}

# 13. an OOM kill in the task's memory cgroup: /tasks/oom, then the exit (137)
test_13_oom_event() {
	ctd_setup
	ctd_events_start
	# 64 MiB into a shell variable under an 8 MiB limit: the kernel's OOM killer ends it
	rfs_run --rm --memory-limit=8388608 om /bin/sh -c 'x=$(head -c 67108864 /dev/zero | tr "\0" a); echo survived'
	rc=$?
	[ $rc = 137 ] || fail "the memory hog gave rc $rc, want 137 (OOM kill)"
	ev_wait 10 /tasks/oom om >/dev/null || fail "no /tasks/oom: $(ev_topics om)"
	topics=$(ev_topics om | tr ' ' '\n' | uniq | tr '\n' ' ')
	[ "$topics" = "/tasks/create /tasks/start /tasks/oom /tasks/exit /tasks/delete " ] ||
		fail "events for om: $(ev_topics om)"
}

# 14. the log URIs containerd hands over: file:// (the shim opens the file) and binary://
# (a logging program gets stdout and stderr on its fds 3 and 4, and says ready on fd 5)
test_14_log_uris() {
	ctd_setup
	ctd_events_start
	rfs_run -d --log-uri="file://$CD/f.log" lf /bin/sh -c 'echo out-line; echo err-line >&2' ||
		fail "run -d --log-uri file://"
	ev_wait 10 /tasks/exit lf >/dev/null || fail "lf did not stop: $(ctr task ls)"
	grep -qx out-line "$CD/f.log" && grep -qx err-line "$CD/f.log" || fail "file log: $(cat "$CD/f.log")"
	cat > "$CD/logger" <<-EOF
	#!/bin/sh
	echo "\$CONTAINER_NAMESPACE/\$CONTAINER_ID \$*" > "$CD/b.args"
	exec 5>&-
	cat <&3 > "$CD/b.out" & cat <&4 > "$CD/b.err"; wait
	EOF
	chmod +x "$CD/logger"
	rfs_run --rm --log-uri="binary://$CD/logger?mode=test" lb /bin/sh -c 'echo to-out; echo to-err >&2' ||
		fail "run --log-uri binary://: rc $?"
	wait_line "$CD/b.out" 10 to-out >/dev/null || fail "binary logger stdout: $(cat "$CD/b.out" 2>&1)"
	wait_line "$CD/b.err" 10 to-err >/dev/null || fail "binary logger stderr: $(cat "$CD/b.err" 2>&1)"
	[ "$(cat "$CD/b.args")" = "$CTD_NS/lb mode test" ] || fail "logger args/env: $(cat "$CD/b.args")"
}

# 15. the shim confines itself once its task's init is ready (as shimvisord's workers do,
# 28-worker-confine.t), and still serves exec, pause, kill and delete
test_15_shim_confined() {
	[ "$CTD_RT" = io.containerd.shimvisor.v2 ] || skip_case "ours only: $CTD_RT"
	ctd_setup
	ctd_events_start
	rfs_run -d c1 /bin/sleep 1000 || fail "run -d"
	local shim had duties bnd f
	shim=$(ctd_shim_pids c1)
	[ "$(echo "$shim" | wc -w)" = 1 ] || fail "shims of c1: '$shim'"
	had=$(( 0x$(awk '$1 == "CapBnd:" { print $2 }' /proc/self/status) ))
	# CHOWN DAC_OVERRIDE KILL SETGID SETUID SETPCAP SYS_CHROOT SYS_PTRACE SYS_ADMIN SYS_RESOURCE
	duties=$(( (1<<0) | (1<<1) | (1<<5) | (1<<6) | (1<<7) | (1<<8) | (1<<18) | (1<<19) | (1<<21) | (1<<24) ))
	f() { awk -v f="$1:" '$1 == f { print $2 }' "/proc/$shim/status"; }
	[ "$(f NoNewPrivs)" = 1 ] || fail "shim NoNewPrivs $(f NoNewPrivs)"
	[ "$(f Seccomp)" = 2 ] || fail "shim Seccomp $(f Seccomp)"
	[ $(( 0x$(f CapEff) )) = $(( duties & had )) ] || fail "shim CapEff $(f CapEff)"
	bnd=$(( 0x$(f CapBnd) ))
	for c in 16 17 20 22; do        # SYS_MODULE SYS_RAWIO SYS_PACCT SYS_BOOT
		[ $(( bnd & (1 << c) )) = 0 ] || fail "shim's bounding set keeps capability $c: $(f CapBnd)"
	done
	[ "$(ctr task exec --fifo-dir "$CD/fifo" --exec-id e1 c1 /bin/sh -c 'echo in')" = in ] ||
		fail "exec in a confined shim"
	ctr task pause c1 && ctr task resume c1 || fail "pause/resume in a confined shim"
	ctr task kill -s KILL c1 || fail "kill"
	ev_wait 10 /tasks/exit c1 >/dev/null || fail "no /tasks/exit after kill"
	ctr task rm c1 >/dev/null || fail "task rm in a confined shim"
	ctr containers rm c1 || fail "containers rm"
}

if [ "${1:-}" != --one ]; then
	ctd_cache_build
fi
run_cases "$@"
