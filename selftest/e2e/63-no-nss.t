#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# selftest/e2e/63-no-nss.t: the resident daemon never loads an NSS module. The monitor resolves
# engine_user, group and the allow lists by reading /etc/passwd and /etc/group itself
# (common/passwd.c), at start and at each reload, so neither it nor the engine maps a
# libnss_* library (nor what such a module pulls in), even after a name the files lack, which
# NSS would have gone on to ask every other service of nsswitch.conf about.
. "$(dirname "$0")/lib.sh"

# Wait (bounded) until the daemon's log holds a line matching the regex $1.
log_wait() {
	local end=$((SECONDS + 20))
	until grep -qE -- "$1" "$T/daemon.log"; do
		[ $SECONDS -lt $end ] || fail "no line '$1' in the log: $(cat "$T/daemon.log")"
		sleep 0.02
	done
}

# The NSS modules mapped by pid $1 (none: empty).
nss_maps() { grep -o 'libnss_[^ ]*' "/proc/$1/maps" | sort -u; }

conf() {
	cat > "$T/conf" <<EOC
[daemon]
engine_user = shimvisor
group = shimvisor
allow_uids = root shimvisor $1
allow_gids = shimvisor root
EOC
}

test_names_resolved_without_nss() {
	getent passwd shimvisor >/dev/null && getent group shimvisor >/dev/null ||
		skip_case "no user and group shimvisor (mk/deps.sh creates them)"
	local eng uid
	uid=$(id -u shimvisor)
	conf ""
	daemon_start -c "$T/conf"
	eng=$(pgrep -P "$DAEMON_PID" -x shimvisord-eng) || fail "no engine"
	# the names took effect: the engine runs as the user shimvisor
	[ "$(awk '/^Uid:/ {print $2}' "/proc/$eng/status")" = "$uid" ] || fail "engine's uid is not $uid"
	# a reload naming a user no file knows: refused, as before, by the files alone
	conf "no-such-user-nss-x"
	kill -HUP "$DAEMON_PID"
	log_wait 'allow_uids: no-such-user-nss-x: no such user; keeping the running settings$'
	for p in "$DAEMON_PID" "$eng"; do
		[ -z "$(nss_maps "$p")" ] || fail "pid $p maps $(nss_maps "$p" | tr '\n' ' ')"
	done
}

run_cases "$@"
