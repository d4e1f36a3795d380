#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Install the Debian packages the build and the tests need, when missing and we are root.
set -e
PKGS="build-essential pkg-config nanopb libnanopb-dev libcap-ng-dev libseccomp-dev libmnl-dev
libcjson-dev libinih-dev check busybox-static iproute2 util-linux procps perl"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing Debian packages:$missing (run as root, or install them)" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
