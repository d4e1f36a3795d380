#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# selftest/e2e/16-tty.t: terminals: run/exec -t [-i], create -t + start -a, attach, detach
# keys, the window size at start and on SIGWINCH, exit statuses, the caller's terminal mode
# restored, and where a terminal's FIFOs live and who may open them. The CLI runs on a real
# pty opened by tty_drive.py, which also checks the terminal's mode after each run.
. "$(dirname "$0")/lib.sh"

DRIVE="$HERE/tty_drive.py"

# The FIFOs of terminal tasks go under $XDG_RUNTIME_DIR: the case's own.
tty_setup() {
	daemon_start "$@"
	export XDG_RUNTIME_DIR="$T/xdg"
	mkdir -m 0700 "$XDG_RUNTIME_DIR"
}

# drive LOG [steps...] -- CMD...: the CLI on a pty; its status (or the driver's, 101-103).
drive() {
	local log=$1; shift
	python3 "$DRIVE" --log "$T/$log" "$@"
}

tty_dirs() { ls -d "$XDG_RUNTIME_DIR"/shimvisor-tty.* 2>/dev/null; }

test_run_tty_size_and_status() {
	tty_setup
	drive size --size 33x77 -- "$SV" run -t --rm t1 /bin/stty size
	rc=$?
	[ $rc = 0 ] || fail "run -t: status $rc: $(cat "$T/size")"
	grep -q '^33 77' "$T/size" || fail "stty size inside: $(cat -A "$T/size")"
	# -i: raw mode on our side (the driver fails with 102 unless it is undone), and the
	# process's status is ours
	drive st --size 20x60 --expect 'READY' --send 'exit 7\r' -- \
		"$SV" run -t -i --rm t2 /bin/sh -c 'echo READY; read x; $x'
	rc=$?
	[ $rc = 7 ] || fail "run -t -i of exit 7: status $rc: $(cat -A "$T/st")"
	[ -z "$(tty_dirs)" ] || fail "FIFOs left: $(tty_dirs)"
	[ -z "$("$SV" ls -q)" ] || fail "--rm left the task"
}

test_sigwinch_resize() {
	tty_setup
	# bash runs its WINCH trap between two 1 s reads: each resize shows up as a line (the
	# PONG says the trap is over before the next resize)
	drive winch --size 24x80 --expect 'READY' --resize 40x100 --expect '40 100' \
		--send 'p\r' --expect 'PONG' --resize 41x101 --expect '41 101' --send 'q\r' -- \
		"$SV" run -t -i --rm w /bin/bash -c 'trap "stty size" WINCH; echo READY
			while :; do read -t 1 x; case $x in q) exit 3;; p) echo PONG;; esac; done'
	rc=$?
	[ $rc = 3 ] || fail "status $rc: $(cat -A "$T/winch")"
}

test_detach_and_attach() {
	tty_setup
	drive d1 --expect '# $' --send 'echo A$((1+1))\r' --expect 'A2' --send '\x10\x11' -- \
		"$SV" run -t -i d /bin/sh
	rc=$?
	[ $rc = 0 ] || fail "detach: status $rc: $(cat -A "$T/d1")"
	grep -q 'shimvisor: d: detached, it runs on (attach again: shimvisor attach d)' "$T/d1" ||
		fail "no re-attach line: $(cat -A "$T/d1")"
	[ "$("$SV" state d --format json | json_field status)" = running ] || fail "not running"
	# its FIFOs stay, private to us
	dir=$(tty_dirs)
	[ -p "$dir/stdin" ] && [ -p "$dir/stdout" ] || fail "FIFOs gone: $dir"
	[ "$(stat -c %a "$dir")" = 700 ] || fail "mode $(stat -c %a "$dir")"
	# output written while nobody is attached is dropped, never blocks the task
	timeout 20 "$SV" exec d /bin/sh -c 'head -c 1000000 /dev/zero | tr "\0" x > /proc/1/fd/1' ||
		fail "writing to a detached terminal blocked or failed"
	drive d2 --send '\r' --expect '# $' --send 'echo B$((2+3))\r' --expect 'B5' \
		--send 'exit 7\r' -- "$SV" attach d
	rc=$?
	[ $rc = 7 ] || fail "attach: status $rc: $(cat -A "$T/d2")"
	[ -z "$(tty_dirs)" ] || fail "FIFOs left once it exited: $(tty_dirs)"
	"$SV" attach d 2>"$T/err" && fail "attach to an exited task"
	grep -q 'has exited (status 7)' "$T/err" || fail "$(cat "$T/err")"
	"$SV" delete d || fail "delete"
}

# run --rm -t: a client that detaches never sees the exit, so the daemon removes the task
test_rm_tty_detached_is_removed_once_it_exits() {
	tty_setup
	events_start
	drive r1 --expect '# $' --send '\x10\x11' -- "$SV" run --rm -t -i r /bin/sh
	rc=$?
	[ $rc = 0 ] || fail "detach: status $rc: $(cat -A "$T/r1")"
	[ "$("$SV" state r --format json | json_field status)" = running ] || fail "not running"
	"$SV" kill -s KILL r || fail "kill"
	events_wait 20 '"topic":"/tasks/delete"' '"r"' >/dev/null || fail "not deleted once it exited"
	# the event comes once the worker has deleted it; the listing ends once its bundle is gone
	timeout 10 sh -c 'while "$1" state r >/dev/null 2>&1; do :; done' _ "$SV" ||
		fail "still listed after its delete"
	# attached to the end, the CLI's own delete meets the daemon's: no error, status kept
	drive r2 --expect '# $' --send 'exit 3\r' -- "$SV" run --rm -t -i r2 /bin/sh
	rc=$?
	[ $rc = 3 ] || fail "attached run --rm -t: status $rc: $(cat -A "$T/r2")"
	grep -q 'shimvisor:' "$T/r2" && fail "an error at the end: $(cat -A "$T/r2")"
	events_wait 20 '"topic":"/tasks/delete"' '"r2"' >/dev/null || fail "r2 not deleted"
	"$SV" rm -f r 2>/dev/null
	return 0
}

test_detach_keys_option() {
	tty_setup
	# the default keys are just keys now (erased from the line by ^U); ctrl-a d leaves
	drive k1 --expect '# $' --send '\x10\x11\x15echo C$((1+1))\r' --expect 'C2' --send '\x01d' -- \
		"$SV" run -t -i --detach-keys ctrl-a,d k /bin/sh
	rc=$?
	[ $rc = 0 ] || fail "status $rc: $(cat -A "$T/k1")"
	grep -q detached "$T/k1" || fail "$(cat -A "$T/k1")"
	[ -n "$(tty_dirs)" ] || fail "no FIFOs kept"
	# the CLI's delete takes the FIFOs with the task
	"$SV" delete -f k || fail "delete"
	[ -z "$(tty_dirs)" ] || fail "FIFOs left after delete: $(tty_dirs)"
}

test_exec_tty() {
	tty_setup
	"$SV" run -d box /bin/sleep 1000 || fail "run"
	drive e1 --size 30x90 --expect '# $' --send 'stty size; echo X$((3+4))\r' --expect 'X7' \
		--send 'exit 9\r' -- "$SV" exec -t -i box /bin/sh
	rc=$?
	[ $rc = 9 ] || fail "exec -t: status $rc: $(cat -A "$T/e1")"
	grep -q '^30 90' "$T/e1" || fail "size: $(cat -A "$T/e1")"
	drive e2 --expect '# $' --send '\x10\x11' -- "$SV" exec -t -i --exec-id sh1 box /bin/sh
	rc=$?
	[ $rc = 0 ] || fail "exec detach: $rc: $(cat -A "$T/e2")"
	grep -q 'attach again: shimvisor attach --exec-id sh1 box' "$T/e2" || fail "$(cat -A "$T/e2")"
	drive e3 --send 'exit 4\r' -- "$SV" attach --exec-id sh1 box
	rc=$?
	[ $rc = 4 ] || fail "attach --exec-id: status $rc: $(cat -A "$T/e3")"
	# removed once it exited, as exec removes its own: the exec id is free again
	"$SV" exec --exec-id sh1 box /bin/true || fail "exec id sh1 still taken"
	"$SV" delete -f box || fail "delete"
}

test_create_start_attach() {
	tty_setup
	drive c0 -- "$SV" create -t c /bin/sh || fail "create -t"
	[ "$("$SV" state c --format json | json_field status)" = created ] || fail "not created"
	"$SV" attach c 2>"$T/err" && fail "attach before start"
	grep -q 'not started yet' "$T/err" || fail "$(cat "$T/err")"
	# the size at start -a is ours (sent before Start), not create's
	drive c1 --size 21x71 --expect '# $' --send 'stty size\r' --expect '21 71' \
		--send 'exit 5\r' -- "$SV" start -a c
	rc=$?
	[ $rc = 5 ] || fail "start -a: status $rc: $(cat -A "$T/c1")"
	# run -d -t: a terminal task nobody is attached to yet
	"$SV" run -d -t r /bin/sh || fail "run -d -t"
	drive r1 --send 'echo Z$((1+8))\r' --expect 'Z9' --send 'exit 2\r' -- "$SV" attach r
	rc=$?
	[ $rc = 2 ] || fail "attach after run -d -t: status $rc: $(cat -A "$T/r1")"
	"$SV" delete c r || fail "delete"
}

test_start_attach_without_tty() {
	tty_setup
	"$SV" create n /bin/sh -c 'echo hello; echo err >&2; exit 6' || fail "create"
	out=$("$SV" start -a n)
	rc=$?
	[ $rc = 6 ] || fail "start -a: status $rc"
	[ "$out" = "hello
err" ] || fail "output: $out"
	"$SV" attach n 2>"$T/err" && fail "attach to a task without a terminal"
	grep -q 'has no terminal (started without -t)' "$T/err" || fail "$(cat "$T/err")"
	"$SV" delete n || fail "delete"
}

# From the other side: a user the daemon serves, but not the one who made the FIFOs, cannot
# attach to the terminal (read its screen, type into it); the task runs on.
test_attach_by_another_user() {
	id shimvisor >/dev/null 2>&1 || skip_case "no user shimvisor"
	command -v setpriv >/dev/null || skip_case "no setpriv"
	tty_setup
	chmod 0755 "$T" "$XDG_RUNTIME_DIR"
	chgrp shimvisor "$T/ctl.sock" && chmod 0660 "$T/ctl.sock"
	"$SV" run -d -t victim /bin/sh || fail "run -d -t"
	setpriv --reuid=shimvisor --regid=shimvisor --init-groups \
		"$SV" attach victim </dev/null >"$T/out" 2>"$T/err"
	rc=$?
	[ $rc = 1 ] || fail "attach by another user: status $rc: $(cat "$T/err")"
	grep -q 'Permission denied (only the user who started it may attach)' "$T/err" ||
		fail "$(cat "$T/err")"
	[ "$("$SV" state victim --format json | json_field status)" = running ] || fail "not running"
	"$SV" delete -f victim || fail "delete"
}

# A bundle's process.consoleSize is the pty's size from the start.
test_bundle_console_size() {
	[ -x /bin/busybox ] || skip_case "busybox-static is not installed"
	policy_conf "rootfs_sources = $T"
	tty_setup -c "$T/conf"
	mkdir -p "$T/b/rootfs/bin" "$T/b/rootfs/dev/pts" "$T/b/rootfs/proc"
	cp /bin/busybox "$T/b/rootfs/bin/"
	ln -s busybox "$T/b/rootfs/bin/sh"
	ln -s busybox "$T/b/rootfs/bin/stty"
	ln -s pts/ptmx "$T/b/rootfs/dev/ptmx"
	cat > "$T/b/config.json" <<JSON
{"ociVersion":"1.0.2",
 "process":{"terminal":true,"consoleSize":{"height":12,"width":34},"args":["/bin/stty","size"],"cwd":"/","user":{"uid":0,"gid":0}},
 "root":{"path":"rootfs","readonly":true},
 "mounts":[{"destination":"/proc","type":"proc","source":"proc"},
   {"destination":"/dev/pts","type":"devpts","source":"devpts","options":["nosuid","noexec","newinstance","ptmxmode=0666","mode=0620"]}],
 "linux":{$OCI_MASKS,"namespaces":[{"type":"pid"},{"type":"mount"},{"type":"network"},{"type":"ipc"},{"type":"uts"}]}}
JSON
	drive b1 --size 24x80 -- "$SV" run -t --rm --bundle "$T/b" bun
	rc=$?
	[ $rc = 0 ] || fail "run -t --bundle: status $rc: $(cat -A "$T/b1")"
	grep -q '^12 34' "$T/b1" || fail "consoleSize not applied: $(cat -A "$T/b1")"
}

run_cases "$@"
