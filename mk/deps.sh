#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Install the Debian packages the build and the tests need, when missing and we are root;
# then the system user and group shimvisor (the engine's) when missing. Usage: deps.sh
# [TRIPLET...] (with triplets: the cross builds' packages, below).
# containerd (and its dependency runc) is for selftest/e2e/80-containerd.t, which runs
# private instances; bsdutils gives it script(1), a terminal for `ctr run -t`; python3-grpcio
# speaks containerd's gRPC API where ctr cannot send a call (82-runc-options.t).
# containernetworking-plugins (bridge, host-local, loopback), protobuf-compiler and
# python3-protobuf: 87-cri.t, containerd's CRI plugin with CNI, spoken to over gRPC.
# man-db and groff-base render the manual pages (07-man.t, 90-install.t); file(1) tells a
# stripped binary (90-install.t); dpkg-dev, debhelper and lintian are for `make deb`
# (selftest/e2e/92-deb.t). musl-tools: shimvisord, the worker and the CLI are one static musl
# binary (the Makefile's MUSL), with cJSON compiled from Debian's source of libcjson-dev
# (mk/debsrc.sh, which dpkg-dev's dpkg-source unpacks).
set -e
PKGS="build-essential musl-tools pkg-config python3 nanopb libnanopb-dev libcap-ng-dev libseccomp-dev libmnl-dev
libcjson-dev libinih-dev check busybox-static iproute2 util-linux procps perl containerd bsdutils
man-db groff-base file dpkg-dev debhelper lintian python3-grpcio containernetworking-plugins
protobuf-compiler python3-protobuf"
# With target triplets (make cross, make check-qemu): instead, those targets' gcc, the Debian
# multiarch architecture and -dev packages of what we link, Check, and qemu-user to run the unit
# tests; nanopb's generator stays the native one.
ARCHS=""
[ $# -gt 0 ] && PKGS="qemu-user"
for t in "$@"; do
	case "$t" in
	aarch64-linux-gnu) a=arm64 ;;
	arm-linux-gnueabihf) a=armhf ;;
	*) echo "deps: unknown target $t (aarch64-linux-gnu or arm-linux-gnueabihf)" >&2; exit 2 ;;
	esac
	ARCHS="$ARCHS $a"
	PKGS="$PKGS gcc-$t libc6-dev:$a libseccomp-dev:$a libcap-ng-dev:$a libmnl-dev:$a
libcjson-dev:$a libinih-dev:$a libnanopb-dev:$a check:$a"
done
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exec sh "$(dirname "$0")/sysuser.sh"
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing Debian packages:$missing (run as root, or install them)" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# Keep maintainer scripts from starting services: the tests need no system containerd.
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 0755 "$policy" && made_policy=1
fi
trap '[ "$made_policy" = 1 ] && rm -f "$policy"' EXIT
for a in $ARCHS; do
	dpkg --print-foreign-architectures | grep -qx "$a" || dpkg --add-architecture "$a"
done
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
sh "$(dirname "$0")/sysuser.sh"
