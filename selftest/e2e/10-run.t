#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# selftest/e2e/10-run.t: `shimvisor run`: output, exit status, stdin, isolation, options.
. "$(dirname "$0")/lib.sh"

test_output_and_status() {
	daemon_start
	out=$("$SV" run --rm hello /bin/echo hello) || fail "run: $?"
	[ "$out" = hello ] || fail "output: '$out'"
	"$SV" run --rm st /bin/sh -c 'echo to-err >&2; exit 7' 2>"$T/err"
	rc=$?
	[ $rc = 7 ] || fail "exit status $rc, want 7"
	grep -qx to-err "$T/err" || fail "stderr: $(cat "$T/err")"
	"$SV" ls -q | grep -q . && fail "--rm left a task: $("$SV" ls)"
	return 0
}

test_stdin_forwarded() {
	daemon_start
	out=$(printf 'line1\nline2\n' | "$SV" run --rm cat /bin/cat) || fail "run: $?"
	[ "$out" = "line1
line2" ] || fail "cat output: '$out'"
	# a reader that waits for EOF: stdin must be closed when ours ends
	out=$(printf 'abc' | "$SV" run --rm wc /usr/bin/wc -c) || fail "run wc"
	[ "$(echo $out)" = 3 ] || fail "wc: '$out'"
}

test_pid_uts_mount_isolation() {
	daemon_start
	# the host's /tmp holds at least this case's own $T: inside, /tmp must be empty
	out=$("$SV" run --rm iso /bin/sh -c 'echo $$; hostname; ls /tmp | wc -l; cat /proc/1/comm') || fail "run"
	set -- $out
	[ "$1" = 1 ] || fail "pid inside is $1, want 1"
	[ "$2" = iso ] || fail "hostname '$2', want iso"
	[ "$3" = 0 ] || fail "host /tmp is visible inside ($3 entries)"
	[ "$4" = sh ] || fail "pid 1 is '$4'"
	[ "$(hostname)" != iso ] || fail "host hostname changed"
	h=$("$SV" run --rm --hostname box h2 /bin/hostname) || fail "--hostname"
	[ "$h" = box ] || fail "--hostname gave '$h'"
}

test_host_root_read_only() {
	daemon_start
	"$SV" run --rm ro /bin/sh -c 'touch /usr/sv-should-not-exist' 2>/dev/null && fail "root is writable"
	[ -e /usr/sv-should-not-exist ] && { rm -f /usr/sv-should-not-exist; fail "wrote to the host"; }
	"$SV" run --rm rw /bin/sh -c 'echo x > /tmp/f && cat /tmp/f' | grep -qx x || fail "/tmp not writable"
	out=$("$SV" run --rm dev /bin/sh -c 'for d in null zero full random urandom tty; do [ -c /dev/$d ] || echo missing $d; done')
	[ -z "$out" ] || fail "$out"
}

test_network_namespace() {
	daemon_start
	out=$("$SV" run --rm net /bin/sh -c 'ls /sys/class/net; cat /sys/class/net/lo/operstate /sys/class/net/lo/flags') || fail "run"
	echo "$out" | head -n1 | grep -qx lo || fail "interfaces: $out"
	[ "$(echo "$out" | wc -l)" -le 4 ] || fail "host interfaces visible: $out"
	flags=$(echo "$out" | tail -n1)
	[ $(( flags & 1 )) = 1 ] || fail "lo is not up (flags $flags)"
	flags=$("$SV" run --rm --net none nn /bin/cat /sys/class/net/lo/flags) || fail "--net none"
	[ $(( flags & 1 )) = 0 ] || fail "--net none: lo is up (flags $flags)"
	# the host's network namespace only where the policy opts in to it
	out=$("$SV" run --rm --net host nh /bin/true 2>&1) && fail "--net host ran under the default policy"
	echo "$out" | grep -q "policy: linux.namespaces: the host's network namespace is not permitted" ||
		fail "--net host refused with: $out"
	"$SV" ls -q | grep -q . && fail "a refused task is listed: $("$SV" ls)"
	daemon_stop
	policy_conf "host_namespaces = net"
	daemon_start -c "$T/conf"
	hostns=$("$SV" run --rm --net host nh /bin/sh -c 'ls /sys/class/net | wc -l')
	[ "$hostns" = "$(ls /sys/class/net | wc -l)" ] || fail "--net host sees $hostns interfaces"
}

test_env_cwd_user() {
	daemon_start
	out=$("$SV" run --rm -e FOO=bar -e X=1 --cwd /usr -u 1000:1001 eu /bin/sh -c 'echo $FOO$X; pwd; id -u; id -g') || fail "run"
	[ "$out" = "bar1
/usr
1000
1001" ] || fail "got: $out"
}

test_rootfs_dir() {
	[ -x /bin/busybox ] || skip_case "busybox-static is not installed"
	policy_conf "rootfs_sources = $T"
	daemon_start -c "$T/conf"
	mkdir -p "$T/rfs/bin"
	cp /bin/busybox "$T/rfs/bin/"
	for a in sh echo cat ls hostname; do ln -s busybox "$T/rfs/bin/$a"; done
	out=$("$SV" run --rm --rootfs "$T/rfs" bb /bin/sh -c 'ls /bin | wc -l; echo made > /made; cat /made') || fail "run --rootfs"
	[ "$(echo "$out" | tail -n1)" = made ] || fail "got: $out"
	[ -f "$T/rfs/made" ] || fail "write did not land in the rootfs"
	[ "$(echo "$out" | head -n1)" = 6 ] || fail "rootfs /bin: $out"
}

# As runc: the executable is looked up at create (the task's PATH, inside its root), and
# its absence fails the create with runc's words
test_missing_binary_fails_cleanly() {
	daemon_start
	"$SV" run --rm nobin /no/such/binary 2>"$T/err" && fail "run of a missing binary succeeded"
	[ "$(cat "$T/err")" = 'shimvisor: run nobin: failed to create task: exec: "/no/such/binary": stat /no/such/binary: no such file or directory' ] ||
		fail "missing binary: $(cat "$T/err")"
	"$SV" run -d nocmd no-such-cmd 2>"$T/err" && fail "run of a missing command succeeded"
	[ "$(cat "$T/err")" = 'shimvisor: run nocmd: failed to create task: exec: "no-such-cmd": executable file not found in $PATH' ] ||
		fail "missing command: $(cat "$T/err")"
	"$SV" ls -q | grep -q . && fail "a failed run left a task"
	[ -z "$(ls "$T/state/default" 2>/dev/null)" ] || fail "bundle left: $(ls "$T/state/default")"
	return 0
}

test_bundle_dir() {
	[ -x /bin/busybox ] || skip_case "busybox-static is not installed"
	policy_conf "rootfs_sources = $T" "host_namespaces = net ipc"
	daemon_start -c "$T/conf"
	mkdir -p "$T/b/rootfs/bin"
	cp /bin/busybox "$T/b/rootfs/bin/"
	ln -s busybox "$T/b/rootfs/bin/sh"
	cat > "$T/b/config.json" <<JSON
{"ociVersion":"1.0.2",
 "process":{"args":["/bin/sh","-c","echo from-bundle \$GREETING; echo \$\$"],"env":["GREETING=hi"],"cwd":"/","user":{"uid":0,"gid":0}},
 "root":{"path":"rootfs","readonly":true},
 "hostname":"bundled",
 "mounts":[{"destination":"/proc","type":"proc","source":"proc"}],
 "linux":{$OCI_MASKS,"namespaces":[{"type":"pid"},{"type":"mount"},{"type":"uts"}]}}
JSON
	out=$("$SV" run --rm --bundle "$T/b" bun) || fail "run --bundle: $?"
	[ "$out" = "from-bundle hi
1" ] || fail "got: $out"
	[ -e "$T/b/rootfs/proc/1" ] && fail "proc mounted on the host side"
	return 0
}

test_join_network_namespace_by_path() {
	policy_conf "host_namespaces = ipc uts"
	daemon_start -c "$T/conf"
	"$SV" run -d owner /bin/sleep 1000 || fail "run owner"
	pid=$("$SV" state --format json owner | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
	want=$(readlink /proc/$pid/ns/net)
	mkdir -p "$T/j"
	cat > "$T/j/config.json" <<JSON
{"ociVersion":"1.0.2",
 "process":{"args":["/bin/readlink","/proc/self/ns/net"],"env":["PATH=/bin:/usr/bin"],"cwd":"/","user":{"uid":0,"gid":0}},
 "root":{"path":"/","readonly":true},
 "mounts":[{"destination":"/proc","type":"proc","source":"proc"}],
 "linux":{$OCI_MASKS,"namespaces":[{"type":"pid"},{"type":"mount"},{"type":"network","path":"/proc/$pid/ns/net"}]}}
JSON
	got=$("$SV" run --rm --bundle "$T/j" joiner) || fail "run joiner"
	[ "$got" = "$want" ] || fail "joined $got, want $want"
	[ "$got" != "$(readlink /proc/self/ns/net)" ] || fail "ended in the host's network namespace"
	"$SV" delete -f owner
}

test_make_install() {
	make -C "$HERE/../.." -s install DESTDIR="$T/dest" PREFIX=/usr >/dev/null || fail "make install"
	for f in usr/sbin/shimvisord usr/sbin/shimvisor-worker usr/sbin/shimvisor-init usr/bin/shimvisor \
		 etc/shimvisor/shimvisord.conf etc/init.d/shimvisord; do
		[ -e "$T/dest/$f" ] || fail "$f not installed"
	done
	[ "$(readlink "$T/dest/usr/bin/containerd-shim-shimvisor-v2")" = ../sbin/shimvisor-worker ] || fail "shim link"
	# the installed daemon finds its worker next to itself and serves
	T_SAVE=$T
	"$T/dest/usr/sbin/shimvisord" --state "$T/state" --address "$T/ctl.sock" --pidfile "$T/shimvisord.pid" --cgroup-parent "$(case_cgroup)" \
		|| fail "installed daemon did not start"
	DAEMON_PID=$(cat "$T/shimvisord.pid")
	export SHIMVISOR_ADDRESS="$T/ctl.sock"
	[ "$("$T/dest/usr/bin/shimvisor" run --rm inst /bin/echo installed)" = installed ] || fail "installed run"
	: "$T_SAVE"
}

test_selftest_command() {
	daemon_start
	out=$("$SV" selftest) || fail "selftest failed: $out"
	echo "$out" | grep -qx '5 passed, 0 failed' || fail "summary: $out"
	[ "$(echo "$out" | grep -c '^ok ')" = 5 ] || fail "results: $out"
	[ -z "$("$SV" ls -q)" ] || fail "tasks left: $("$SV" ls)"
	# no cgroups here: the limit's case is a SKIP with the reason, not a failure
	daemon_stop
	daemon_start --cgroup-parent ""
	out=$("$SV" selftest) || fail "selftest without cgroups failed: $out"
	echo "$out" | grep -q '^ok 5 - .* # SKIP .*cgroup' || fail "no SKIP: $out"
	daemon_stop
	out=$("$SV" selftest); rc=$?
	[ $rc = 1 ] && echo "$out" | grep -q '^not ok 1 - the daemon answers' || fail "no daemon: $rc $out"
	return 0
}

test_run_existing_id_untouched() {
	daemon_start
	"$SV" run -d a /bin/sleep 300 || fail "run -d a"
	pid=$("$SV" state a --format json | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
	[ -n "$pid" ] && [ "$pid" -gt 0 ] || fail "no pid for a: $("$SV" state a --format json)"
	out=$("$SV" run -d a /bin/true 2>&1) && fail "run of an id in use succeeded"
	echo "$out" | grep -q "already exists" || fail "run of an id in use says: $out"
	"$SV" run --rm a /bin/true 2>/dev/null && fail "run --rm of an id in use succeeded"
	st=$("$SV" state a --format json) || fail "a is gone after a refused run"
	echo "$st" | grep -q '"status": *"running"' || fail "a is no longer running: $st"
	echo "$st" | grep -q "\"pid\": *$pid[,}]" || fail "a has another pid: $st (was $pid)"
	kill -0 "$pid" || fail "a's process $pid is gone"
	# a created task is not started by a refused run of its id
	"$SV" create b /bin/true || fail "create b"
	"$SV" run b /bin/true 2>/dev/null && fail "run of a created id succeeded"
	"$SV" state b --format json | grep -q '"status": *"created"' ||
		fail "b left created: $("$SV" state b --format json)"
	[ "$("$SV" ls -q | sort | tr '\n' ' ')" = "a b " ] || fail "ls: $("$SV" ls)"
}

run_cases "$@"
