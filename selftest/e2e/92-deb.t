#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# selftest/e2e/92-deb.t: the Debian packages (make deb) on this machine, as an operator uses
# them: apt-get install of the .debs makes the user and starts the service, `service` drives
# it, the installed CLI runs a task, and a purge leaves nothing but the system user (which
# Debian keeps). What the host had in the package's places (a make install's /etc files, a
# stale /run/shimvisor, /usr/sbin/policy-rc.d) is set aside and put back.
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$HERE/../.." && pwd)
# building the packages (make deb, lintian included) takes 1.5 to 4 minutes on the shared
# 2-CPU test machine, depending on its load; installing, running and purging ~10 s
[ "$CASE_TIMEOUT" -ge 600 ] || CASE_TIMEOUT=600
PKGS="shimvisor libshimvisor0 libshimvisor-dev"
POLICY=/usr/sbin/policy-rc.d
# where the package's daemon, config and state go (etc/shimvisord.conf's defaults)
PLACES="/etc/shimvisor /etc/init.d/shimvisord /etc/default/shimvisord /run/shimvisor /run/shimvisord.pid"

# build/deb's packages, built by make deb unless its last good run is newer than every source
ensure_debs() {
	local ok="$ROOT/build/deb/ok"
	if [ ! -e "$ok" ] || [ -n "$(find "$ROOT" \( -name 'build*' -o -name .git -o -name selftest \) -prune \
			-o -type f -newer "$ok" -print -quit)" ]; then
		make -C "$ROOT" -s deb > "$T/make-deb.log" 2>&1 || fail "make deb: $(tail -n 30 "$T/make-deb.log")"
	else
		note "reusing build/deb (built $(date -r "$ok"), newer than the sources)"
	fi
	VERSION=$(sed -n 's/^#define SV_VERSION *"\(.*\)"/\1/p' "$ROOT/wire/limits.h")
	DEBS=""
	for p in $PKGS; do
		f=$(echo "$ROOT/build/deb/${p}_${VERSION}_"*.deb)
		[ -f "$f" ] || fail "no $p package in build/deb"
		DEBS="$DEBS $f"
	done
}

# Move $1 (when present) to $SAVED, to be put back by deb_cleanup.
set_aside() {
	[ -e "$1" ] || [ -L "$1" ] || return 0
	mkdir -p "$SAVED$(dirname "$1")"
	mv "$1" "$SAVED$1" || fail "cannot set $1 aside"
}

deb_cleanup() {
	set +e
	local p
	for p in $PKGS; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' &&
			dpkg --purge "$p" >> "$T/purge.log" 2>&1
	done
	# a daemon the purge did not stop: by the pid it wrote
	[ -n "${PKG_PID:-}" ] && kill -9 "$PKG_PID" 2>/dev/null
	if [ -n "${SAVED:-}" ] && [ -d "$SAVED" ]; then
		for p in $PLACES $POLICY $(cd "$SAVED" && find etc/rc?.d -name '*shimvisord' 2>/dev/null | sed 's|^|/|'); do
			[ -e "$SAVED$p" ] || [ -L "$SAVED$p" ] || continue
			rm -rf "$p"
			mv "$SAVED$p" "$p"
		done
		[ "${MADE_POLICY:-0}" = 1 ] && rm -f "$POLICY"
		find "$SAVED" -depth -type d -empty -delete
		[ -d "$SAVED" ] && echo "# 92-deb: files left in $SAVED" >&2
	fi
}

# A process whose binary is one the package installed (gone or replaced once purged).
pkg_processes() {
	local f
	for f in /proc/[0-9]*/exe; do
		case $(readlink "$f" 2>/dev/null) in
		/usr/sbin/shimvisor*|/usr/bin/shimvisor*) f=${f#/proc/}; echo "${f%/exe}" ;;
		esac
	done
}

test_install_service_run_purge() {
	[ -z "${SV_SAN_LOG:-}" ] || skip_case "sanitized run: the package is built with Debian's flags (the plain run covers it)"
	for t in dpkg-buildpackage dh lintian apt-get; do
		command -v "$t" >/dev/null || skip_case "no $t (make deps installs dpkg-dev, debhelper, lintian)"
	done
	for p in $PKGS; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' &&
			skip_case "$p is installed on this host: not ours to purge"
	done
	[ -S /run/shimvisor/shimvisord.sock ] && "$SV" -a /run/shimvisor/shimvisord.sock version >/dev/null 2>&1 &&
		skip_case "a shimvisord serves /run/shimvisor: the package's would not start"
	for f in /run/shimvisor/*/*/worker.pid; do
		[ -f "$f" ] && kill -0 "$(cut -d' ' -f1 "$f")" 2>/dev/null &&
			skip_case "tasks run from /run/shimvisor: the purge would take their bundles"
	done
	ensure_debs

	SAVED=$(mktemp -d /var/tmp/sv-92-deb-saved.XXXXXX)
	trap 'deb_cleanup; case_cleanup' EXIT
	for p in $PLACES /etc/rc?.d/[SK][0-9][0-9]shimvisord; do set_aside "$p"; done
	# maintainer scripts may start shimvisord, and only it (invoke-rc.d asks policy-rc.d)
	if [ -e "$POLICY" ]; then set_aside "$POLICY"; else MADE_POLICY=1; fi
	printf '#!/bin/sh\n[ "$1" = shimvisord ] && exit 0\nexit 101\n' > "$POLICY"
	chmod 0755 "$POLICY"

	dpkg-deb -c "$ROOT/build/deb/shimvisor_${VERSION}_"*.deb | awk '$1 !~ /^d/ {print $6}' | sed 's|^\.||' > "$T/files"
	grep -qx /usr/sbin/shimvisord "$T/files" || fail "the package's files: $(cat "$T/files")"
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		-o DPkg::Lock::Timeout=120 $DEBS > "$T/apt.log" 2>&1 || fail "apt-get install: $(tail -n 30 "$T/apt.log")"

	# postinst: the user and group, the rc links, the service started
	id shimvisor >/dev/null && getent group shimvisor >/dev/null || fail "no user or group shimvisor"
	ls /etc/rc2.d/S[0-9][0-9]shimvisord >/dev/null 2>&1 || fail "update-rc.d did not enable it: $(ls /etc/rc2.d)"
	PKG_PID=$(cat /run/shimvisord.pid) || fail "the install did not start the service: $(tail -n 20 "$T/apt.log")"
	[ "$(readlink "/proc/$PKG_PID/exe")" = /usr/sbin/shimvisord ] || fail "pidfile: $PKG_PID is not /usr/sbin/shimvisord"
	[ "$(dpkg-query -W -f='${Conffiles}\n' shimvisor | awk 'NF {print $1}' | sort | tr '\n' ' ')" = \
		"/etc/default/shimvisord /etc/init.d/shimvisord /etc/shimvisor/seccomp-default.json /etc/shimvisor/shimvisord.conf " ] ||
		fail "conffiles: $(dpkg-query -W -f='${Conffiles}' shimvisor)"
	grep -qx 'DAEMON=${DAEMON:-/usr/sbin/shimvisord}' /etc/init.d/shimvisord || fail "the script's daemon path"

	service shimvisord start > "$T/service.out" 2>&1 || fail "service start: $(cat "$T/service.out")"
	service shimvisord status > "$T/service.out" 2>&1 || fail "service status: $(cat "$T/service.out")"
	[ "$(cat /run/shimvisord.pid)" = "$PKG_PID" ] || fail "start started another daemon"

	# the installed CLI, as root, on the default socket
	unset SHIMVISOR_ADDRESS
	[ "$(stat -c '%a %U %G' /run/shimvisor/shimvisord.sock)" = "660 root shimvisor" ] ||
		fail "control socket: $(stat -c '%a %U %G' /run/shimvisor/shimvisord.sock)"
	out=$(/usr/bin/shimvisor run --rm deb-test /bin/echo "from the package") || fail "run: $out"
	[ "$out" = "from the package" ] || fail "run printed: $out"
	/usr/bin/shimvisor version | grep -q "$VERSION" || fail "version: $(/usr/bin/shimvisor version)"
	[ "$(pkg-config --modversion shimvisor)" = "$VERSION" ] || fail "pkg-config: $(pkg-config --modversion shimvisor 2>&1)"
	service shimvisord reload > "$T/service.out" 2>&1 || fail "service reload: $(cat "$T/service.out")"
	/usr/bin/shimvisor version >/dev/null || fail "the daemon does not serve after reload"
	[ "$(cat /run/shimvisord.pid)" = "$PKG_PID" ] || fail "reload replaced the daemon"

	# an upgrade (the same version again): dpkg replaces the binaries under the running
	# daemon, postinst restarts it; its task runs on and is re-attached
	/usr/bin/shimvisor run -d deb-keep /bin/sleep 1000 || fail "run -d"
	task=$(/usr/bin/shimvisor state --format json deb-keep | json_field pid)
	# shellcheck disable=SC2086
	dpkg -i $DEBS > "$T/upgrade.log" 2>&1 || fail "dpkg -i again: $(tail -n 30 "$T/upgrade.log")"
	timeout 10 tail --pid="$PKG_PID" -f /dev/null || fail "the upgrade did not stop the old daemon $PKG_PID"
	PKG_PID=$(cat /run/shimvisord.pid) || fail "the upgrade did not start the daemon again"
	kill -0 "$task" || fail "the task did not survive the upgrade"
	/usr/bin/shimvisor ls | grep -E "^default +deb-keep +$task +running" >/dev/null ||
		fail "not re-attached after the upgrade: $(/usr/bin/shimvisor ls)"
	worker=$(cut -d' ' -f1 /run/shimvisor/default/deb-keep/worker.pid) || fail "no worker.pid"
	/usr/bin/shimvisor delete -f deb-keep || fail "delete"
	timeout 10 tail --pid="$worker" -f /dev/null || fail "the task's worker $worker runs on after delete"

	# shellcheck disable=SC2086
	dpkg --purge $PKGS > "$T/purge.log" 2>&1 || fail "purge: $(cat "$T/purge.log")"
	timeout 10 tail --pid="$PKG_PID" -f /dev/null || fail "the daemon $PKG_PID still runs after the purge"
	left=$(pkg_processes)
	[ -z "$left" ] || fail "processes of the package left: $(ps -o pid,args -p "$(echo $left | tr ' ' ,)")"
	while read -r f; do
		[ -e "$f" ] || [ -L "$f" ] && fail "$f left after the purge"
	done < "$T/files"
	for p in $PLACES; do
		[ -e "$p" ] && fail "$p left after the purge: $(ls -laR "$p"; cat "$T/purge.log")"
	done
	ls /etc/rc?.d/*shimvisord >/dev/null 2>&1 && fail "rc links left: $(ls /etc/rc?.d/*shimvisord)"
	for p in $PKGS; do
		st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)
		case $st in ""|*not-installed) ;; *) fail "$p after the purge: $st" ;; esac
	done
	# kept, as Debian keeps system users (files may still belong to them)
	id shimvisor >/dev/null || fail "the purge removed the user shimvisor"
	PKG_PID=""
	return 0
}

run_cases "$@"
