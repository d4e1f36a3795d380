#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# selftest/e2e/83-abandon.t: a containerd client that gives up mid-way leaves nothing behind
# (no shim, task process, logger, mount, cgroup, bundle or shim socket) wherever runc-v2
# leaves nothing: ctr killed while its Create is under way (containerd's clean-up: Delete,
# Shutdown, the bundle); ctr gone after Create (the task stays created; `ctr task rm` is
# refused; kill then rm, or Delete and Shutdown straight to the shim, clean up); ctr gone
# while the task runs (Delete refused with runc-v2's error; kill then rm). A binary://
# logger holds the Create until the case opens its gate; containerd's goroutine dump (its
# debug socket) shows when it has given up on the shim's Create. Each case runs on
# io.containerd.shimvisor.v2, then on Debian's runc as io.containerd.runc.v2, with the same
# assertions (SV_CTD_RUNTIME picks one runtime), in a private containerd (ctd.sh).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ctd.sh"

# containerd's goroutines (its debug socket's pprof dump), to see which call it is in
ctd_stacks() {
	"$PY" - "$CD/d.sock" <<-'PY'
	import socket, sys
	s = socket.socket(socket.AF_UNIX)
	s.settimeout(5)
	s.connect(sys.argv[1])
	s.sendall(b"GET /debug/pprof/goroutine?debug=2 HTTP/1.0\r\nHost: ctd\r\n\r\n")
	out = b""
	while True:
	    b = s.recv(65536)
	    if not b:
	        break
	    out += b
	sys.stdout.write(out.decode(errors="replace"))
	PY
}

# until TIMEOUT CMD...: poll CMD (every 50 ms) until it succeeds; 1 once TIMEOUT s passed
until_ok() {
	local end=$(( ${EPOCHREALTIME/./} + $1 * 1000000 ))
	shift
	until "$@"; do
		[ "${EPOCHREALTIME/./}" -lt $end ] || return 1
		read -r -t 0.05 <> <(:) || :      # a 50 ms pause without sleep(1)'s fork per poll
	done
}

# The task's command is `sleep $(secs TAG)`: a number of seconds each runtime's case owns.
secs() { [ "$1" = sv ] && echo 987651 || echo 987652; }

status_is() { [ "$(task_status "$1")" = "$2" ]; }
in_shim_create() { ctd_stacks | grep -qF '(*shimTask).Create('; }
not_in_shim_create() { ! in_shim_create; }

# A binary:// logger that holds its task's Create: it writes its pid to $CD/logger.pid, then
# says ready (closes fd 5) only once a line is written to the FIFO $CD/gate.
held_logger() {
	rm -f "$CD/gate" "$CD/logger.pid"
	mkfifo "$CD/gate"
	cat > "$CD/logger" <<-EOF
	#!/bin/sh
	echo \$\$ > "$CD/logger.pid.tmp" && mv "$CD/logger.pid.tmp" "$CD/logger.pid"
	read x < "$CD/gate"
	exec 5>&-
	cat <&3 >/dev/null & cat <&4 >/dev/null; wait
	EOF
	chmod +x "$CD/logger"
}

# ctr_bg ID CMD...: `ctr run` of the image with the held logger, in the background (CTR_PID:
# ctr itself, no wrapper between, so that a signal reaches it); returns once the logger runs
# (the shim is in its Create) and containerd waits on the shim's Create.
ctr_bg() {
	local id=$1
	shift
	held_logger
	"$CTR_BIN" -a "$CD/c.sock" -n "$CTD_NS" run "${RT[@]}" --fifo-dir "$CD/fifo" \
		--log-uri="binary://$CD/logger" "$CTD_IMAGE" "$id" "$@" > "$CD/run.out" 2>&1 &
	CTR_PID=$!
	BG_PIDS+=("$CTR_PID")
	until_ok 10 test -s "$CD/logger.pid" || rt_fail "$id: the logger never ran: $(cat "$CD/run.out")"
	LOGGER_PID=$(cat "$CD/logger.pid")
	SHIM_PID=$(ctd_shim_pids "$id")
	[ -n "$SHIM_PID" ] || rt_fail "$id: no shim"
	SOCK=$(sed -n 's#^unix://##p' "$(ctd_bundle "$id")/address")
	until_ok 10 in_shim_create || rt_fail "$id: containerd is not in the shim's Create"
}

# Nothing of task $1 is left: no task, bundle, shim, logger, task process, mount, cgroup or
# shim socket (the shim and logger pids were taken while it lived; the task's processes are
# found by their command line, `sleep $(secs TAG)`).
nothing_left() {
	local id=$1 tag=$2 cg
	pid_wait 10 "$SHIM_PID" || rt_fail "$id: shim $SHIM_PID left: $(ps -eo pid,ppid,args | grep -F -e "$id" -e " $SHIM_PID " | grep -v grep)"
	pid_wait 5 "$LOGGER_PID" || rt_fail "$id: logger $LOGGER_PID left"
	pgrep -f "sleep $(secs "$tag")" >/dev/null && rt_fail "$id: task process left: $(pgrep -af "sleep $(secs "$tag")")"
	[ -z "$(task_status "$id")" ] || rt_fail "$id: task left: $(ctr task ls)"
	[ -e "$(ctd_bundle "$id")" ] && rt_fail "$id: bundle left: $(ls -la "$(ctd_bundle "$id")")"
	grep -F "/$id/" /proc/self/mountinfo | grep -qF " $CD/" && rt_fail "$id: mounts left: $(grep -F "/$id/" /proc/self/mountinfo)"
	cg=$(ls -d /sys/fs/cgroup/*/"$CTD_NS/$id" /sys/fs/cgroup/"$CTD_NS/$id" 2>/dev/null)
	[ -z "$cg" ] || rt_fail "$id: cgroups left: $cg"
	[ -e "$SOCK" ] && rt_fail "$id: shim socket left: $SOCK"
	ctr containers rm "$id" || rt_fail "$id: containers rm"
	return 0
}

# kill_delete ID TAG: what a user does next, `ctr task kill -s KILL`, `ctr task rm`; nothing
# is left then
kill_delete() {
	ctr task kill -s KILL "$1" || rt_fail "$1: task kill"
	until_ok 10 status_is "$1" STOPPED || rt_fail "$1: not stopped: $(ctr task ls)"
	ctr task rm "$1" >/dev/null || rt_fail "$1: task rm"
	nothing_left "$1" "$2"
}

# ctr_gone_after_create ID TAG: `ctr run` of ID, stopped in its Create, killed once the
# Create is done: the task stays created, with no client
ctr_gone_after_create() {
	ctr_bg "$1" /bin/sleep "$(secs "$2")"
	kill -STOP "$CTR_PID"
	echo go > "$CD/gate"
	until_ok 10 not_in_shim_create || rt_fail "$1: Create never completed"
	kill -KILL "$CTR_PID"
	wait "$CTR_PID" 2>/dev/null
}

# 1. ctr is killed while its Create is under way: containerd cancels the Create and cleans
# up (Delete, Shutdown, the bundle); the Delete comes while the shim is still creating.
create_abandoned() {
	local t=$1 id=ca-$1
	ctr_bg "$id" /bin/sleep "$(secs "$t")"
	kill -KILL "$CTR_PID"
	wait "$CTR_PID" 2>/dev/null
	# containerd has noticed: it no longer waits on the shim's Create (it is cleaning up)
	until_ok 10 not_in_shim_create || rt_fail "$id: containerd still in the shim's Create"
	echo go > "$CD/gate"                    # the Create completes now
	nothing_left "$id" "$t"
}

test_create_abandoned() {
	ctd_setup
	ctd_import_image
	each_rt create_abandoned
}

# 2. ctr is gone after Create, before Start (stopped during Create, then killed): the task
# stays created; `ctr task rm` is refused by containerd's client, as for runc-v2; a kill and
# a delete then leave nothing.
created_abandoned() {
	local t=$1 id=cr-$1 out
	ctr_gone_after_create "$id" "$t"
	[ "$(task_status "$id")" = CREATED ] || rt_fail "$id: not created: $(ctr task ls)"
	out=$(ctr task rm "$id" 2>&1) && rt_fail "$id: task rm of a created task succeeded"
	[[ $out == *"task must be stopped before deletion: created: failed precondition"* ]] ||
		rt_fail "$id: task rm said: $out"
	kill_delete "$id" "$t"
}

test_created_abandoned() {
	ctd_setup
	ctd_import_image
	each_rt created_abandoned
}

# shim_call SOCK ID METHOD...: each METHOD (Delete, Shutdown) of task ID straight to its
# shim, on one connection: "CODE MESSAGE" a line
shim_call() {
	"$PY" - "$HERE" "$@" <<-'PY'
	import sys
	sys.path.insert(0, sys.argv[1])
	from shim_client import Shim, string
	shim = Shim(sys.argv[2])
	for m in sys.argv[4:]:
	    code, msg, _ = shim.call(m, string(1, sys.argv[3]))
	    print(code, msg)
	PY
}

# 3. a running task whose client is gone (ctr killed): `ctr task rm` is refused by
# containerd's client, a Delete straight to the shim with runc-v2's error; the task runs
# on; a kill and a delete then leave nothing.
running_abandoned() {
	local t=$1 id=ru-$1 out pid
	ctr_bg "$id" /bin/sleep "$(secs "$t")"
	echo go > "$CD/gate"
	until_ok 10 status_is "$id" RUNNING || rt_fail "$id: not running: $(ctr task ls; cat "$CD/run.out")"
	kill -KILL "$CTR_PID"
	wait "$CTR_PID" 2>/dev/null
	pid=$(task_pid "$id")
	out=$(ctr task rm "$id" 2>&1) && rt_fail "$id: task rm of a running task succeeded"
	[[ $out == *"task must be stopped before deletion: running: failed precondition"* ]] ||
		rt_fail "$id: task rm said: $out"
	out=$(shim_call "$SOCK" "$id" Delete)
	note "$CTD_RT: Delete of a running task: $out"
	[ "$out" = "2 cannot delete a running process" ] || rt_fail "$id: shim Delete of a running task: $out"
	kill -0 "$pid" && [ "$(task_status "$id")" = RUNNING ] || rt_fail "$id: the refused Delete stopped it"
	kill_delete "$id" "$t"
}

test_running_abandoned() {
	ctd_setup
	ctd_import_image
	each_rt running_abandoned
}

# 4. a created task whose client is gone, deleted straight through its shim, then the shim
# shut down (containerd's own clean-up of a Create it gave up on, with the Delete after
# Create's end): Delete succeeds (the init is killed), the shim exits, and containerd's
# clean-up of a dead shim removes the rest.
created_shim_delete() {
	local t=$1 id=cd-$1 out pid
	ctr_gone_after_create "$id" "$t"
	pid=$(task_pid "$id")
	[ -n "$pid" ] && [ "$(task_status "$id")" = CREATED ] || rt_fail "$id: not created: $(ctr task ls)"
	out=$(shim_call "$SOCK" "$id" Delete Shutdown)
	note "$CTD_RT: Delete, Shutdown of a created task: $(tr '\n' '|' <<<"$out")"
	[ "$(sed -n 1p <<<"$out" | cut -d' ' -f1)" = 0 ] || rt_fail "$id: Delete of a created task: $out"
	[ "$(sed -n 2p <<<"$out")" = "0 " ] || rt_fail "$id: Shutdown: $out"
	pid_wait 10 "$pid" || rt_fail "$id: its init $pid outlived the Delete"
	until_ok 10 status_is "$id" "" || rt_fail "$id: containerd kept the task: $(ctr task ls)"
	nothing_left "$id" "$t"
}

test_created_shim_delete() {
	ctd_setup
	ctd_import_image
	each_rt created_shim_delete
}

if [ "${1:-}" != --one ]; then
	ctd_cache_build
fi
run_cases "$@"
