#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# make deb: the Debian packages of debian/ (shimvisor, libshimvisor0, libshimvisor-dev and
# their -dbgsym) in build/deb/, built by dpkg-buildpackage (binary only, unsigned, Debian's
# build flags) from a copy of the tree in build/deb/shimvisor-<version>/, as it writes its
# results to the parent directory; then lintian on them: an error or a warning fails
# (debian/*lintian-overrides say why each overridden tag stays).
set -e
cd "$(dirname "$0")/.."
for t in dpkg-buildpackage dh lintian; do
	command -v "$t" >/dev/null || { echo "deb: no $t (make deps installs dpkg-dev, debhelper, lintian)" >&2; exit 1; }
done
version=$(sed -n 's/^#define SV_VERSION *"\(.*\)"/\1/p' wire/limits.h)
changelog=$(dpkg-parsechangelog -S Version)
if [ "$changelog" != "$version" ]; then
	echo "deb: debian/changelog's version is $changelog, SV_VERSION (wire/limits.h) $version" >&2
	exit 1
fi
out=build/deb
src=$out/shimvisor-$version
rm -rf "$out"
mkdir -p "$src"
tar -c --exclude-vcs --exclude='./build*' . | tar -x -C "$src"
(cd "$src" && dpkg-buildpackage -b -us -uc -Jauto)
lintian -I --fail-on error,warning "$out/shimvisor_${version}_$(dpkg-architecture -qDEB_HOST_ARCH).changes"
ls "$out"/*.deb
# for selftest/e2e/92-deb.t: these packages passed, and when
touch "$out/ok"
