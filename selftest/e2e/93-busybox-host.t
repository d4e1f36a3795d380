#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# selftest/e2e/93-busybox-host.t: a busybox-only host: the installed init script, daemon and CLI
# run in a chroot holding only busybox-static, our installed files and the libraries ldd names.
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$HERE/../.." && pwd)

# $T/root: make install (PREFIX=/usr), busybox as /bin/sh and every applet, the shared
# libraries of our binaries at the paths ldd gives, /etc/passwd and /etc/group with root and
# the engine's user, and a defaults file pointing the daemon at the case's cgroup parent.
busybox_root() {
	local bb lib a
	[ -z "${SV_SAN_LOG:-}" ] || skip_case "a sanitized build: its runtime writes to $SV_SAN_LOG, outside the chroot"
	bb=$(command -v busybox) || skip_case "no busybox"
	ldd "$bb" 2>&1 | grep -q 'not a dynamic executable' || skip_case "$bb is not busybox-static"
	command -v unshare >/dev/null || skip_case "no unshare"
	R="$T/root"
	make -C "$ROOT" -s install DESTDIR="$R" PREFIX=/usr >/dev/null || fail "make install"
	mkdir -p "$R/bin" "$R/proc" "$R/sys" "$R/dev" "$R/run" "$R/tmp" "$R/var/run" "$R/etc/default"
	cp "$bb" "$R/bin/busybox"
	for a in $("$bb" --list); do
		[ -e "$R/bin/$a" ] || ln -s busybox "$R/bin/$a"
	done
	ln -s bin "$R/sbin"
	for lib in $(ldd "$R"/usr/sbin/* "$R"/usr/bin/shimvisor 2>/dev/null | grep -o '/[^ ]*\.so[^ ]*' | sort -u); do
		mkdir -p "$R$(dirname "$lib")"
		cp -L "$lib" "$R$lib"
	done
	ENG_UID=$(id -u shimvisor 2>/dev/null || echo 999)
	ENG_GID=$(id -g shimvisor 2>/dev/null || echo 995)
	printf 'root:x:0:0:root:/root:/bin/sh\nshimvisor:x:%s:%s::/nonexistent:/bin/false\n' "$ENG_UID" "$ENG_GID" > "$R/etc/passwd"
	printf 'root:x:0:\nshimvisor:x:%s:\n' "$ENG_GID" > "$R/etc/group"
	echo "DAEMON_ARGS=\"--cgroup-parent $(case_cgroup)\"" > "$R/etc/default/shimvisord"
	# nothing of the host's userland: no bash, coreutils, python, start-stop-daemon, lsb
	for a in bash python3 start-stop-daemon; do
		[ -e "$R/usr/bin/$a" ] || [ -e "$R/usr/sbin/$a" ] && fail "$a in the chroot"
	done
	[ "$(readlink "$R/bin/sh")" = busybox ] || fail "/bin/sh is not busybox"
	[ -e "$R/lib/lsb/init-functions" ] && fail "lsb in the chroot"
	return 0
}

# Run the script $1 (a file in $T) in a private mount namespace, chrooted in $R (a mount point,
# as a host's / is), with a private /dev (a tmpfs with the usual nodes), /proc, the host's
# /sys and tmpfs /run and /tmp.
in_root() {
	cp "$1" "$R/check.sh"
	unshare --mount --propagation private sh -c '
		R=$1
		mount --bind "$R" "$R" &&
		mount -t tmpfs -o mode=0755 dev "$R/dev" &&
		mknod -m 0666 "$R/dev/null" c 1 3 && mknod -m 0666 "$R/dev/zero" c 1 5 &&
		mknod -m 0666 "$R/dev/full" c 1 7 && mknod -m 0666 "$R/dev/random" c 1 8 &&
		mknod -m 0666 "$R/dev/urandom" c 1 9 && mknod -m 0666 "$R/dev/tty" c 5 0 &&
		mkdir "$R/dev/pts" "$R/dev/shm" &&
		mount -t proc proc "$R/proc" &&
		mount --rbind /sys "$R/sys" &&
		mount -t tmpfs -o mode=0755 run "$R/run" &&
		mount -t tmpfs -o mode=1777 tmp "$R/tmp" &&
		exec chroot "$R" /bin/sh /check.sh' sh "$R"
}

# start, status, a task run, listed and deleted, stop, status: under busybox sh, with
# busybox's syslogd taking the daemon's log; every exit code LSB's.
test_init_script_and_a_task_on_busybox_only() {
	busybox_root
	cat > "$T/check.sh" <<'EOF'
PATH=/bin:/usr/bin:/usr/sbin
export PATH
syslogd -O /run/messages
step() { "$@"; echo "$1 ${2:-} $?"; }
quiet() { "$@" >/dev/null; echo "$1 ${2:-} $?"; }
quiet /etc/init.d/shimvisord start
step /etc/init.d/shimvisord status
pid=$(cat /run/shimvisord.pid)
echo "engine $(ps -o ppid,comm | grep -q "^ *$pid shimvisord-eng$" && echo yes)"
step shimvisor run -d t1 /bin/sleep 1000
shimvisor ls --format json | grep -o '"id":"t1"[^}]*"status":"running"' >/dev/null && echo "t1 running"
quiet shimvisor delete -f t1
quiet /etc/init.d/shimvisord stop
[ -d "/proc/$pid" ] && echo "daemon $pid still there"
step /etc/init.d/shimvisord status
quiet /etc/init.d/shimvisord stop
kill "$(cat /var/run/syslogd.pid)"
cat /run/messages > /daemon.log
EOF
	in_root "$T/check.sh" > "$T/out" 2> "$T/err"
	cat > "$T/want" <<EOF
/etc/init.d/shimvisord start 0
shimvisord is running (pid PID)
/etc/init.d/shimvisord status 0
engine yes
shimvisor run 0
t1 running
shimvisor delete 0
/etc/init.d/shimvisord stop 0
shimvisord is not running
/etc/init.d/shimvisord status 3
/etc/init.d/shimvisord stop 0
EOF
	sed -i 's/(pid [0-9]*)/(pid PID)/' "$T/out"
	diff -u "$T/want" "$T/out" >&2 || fail "in the busybox chroot: $(cat "$T/err"); the daemon's log: $(tail -n 20 "$R/daemon.log" 2>/dev/null)"
}

run_cases "$@"
