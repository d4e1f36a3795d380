#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Install the Debian packages `make bench` needs (containerd, runc, busybox-static, hyperfine), when missing.
set -e
# the engine's system user (shimvisord refuses to start without it)
[ "$(id -u)" != 0 ] || sh "$(dirname "$0")/../mk/sysuser.sh"
PKGS="containerd runc busybox-static util-linux procps python3"
OPT="hyperfine"
missing=""
for p in $PKGS $OPT; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "bench/deps: missing Debian packages:$missing (run as root, or install them)" >&2
	exit 1
fi
# Daemons that were already running before the install are not ours to stop.
before=$(pgrep -x containerd 2>/dev/null | tr '\n' ' ' || true)
echo "bench/deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# Keep maintainer scripts from starting services (no systemd here, but sysvinit scripts may run).
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 0755 "$policy" && made_policy=1
fi
cleanup() { [ "$made_policy" = 1 ] && rm -f "$policy"; return 0; }
trap cleanup EXIT
apt-get update -qq
apt-get install -y -qq --no-install-recommends $PKGS >/dev/null
# hyperfine is optional: not fatal when unavailable.
apt-get install -y -qq --no-install-recommends $OPT >/dev/null 2>&1 || echo "bench/deps: hyperfine not installed (optional)" >&2
# Stop any containerd the package install started (i.e. not running before).
for pid in $(pgrep -x containerd 2>/dev/null || true); do
	case " $before " in *" $pid "*) continue ;; esac
	echo "bench/deps: stopping containerd pid $pid started by the package install" >&2
	kill "$pid" 2>/dev/null || true
	i=0
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	kill -9 "$pid" 2>/dev/null || true
done
exit 0
