#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Fetch and unpack the Debian source package of an installed -dev package, at the version
# installed, with Debian's patches applied. Usage: debsrc.sh DEV-PACKAGE OUTDIR.
# The static musl shimvisord needs cJSON as objects, and Debian ships libcjson-dev with no
# .a: the Makefile compiles the same cJSON.c, from the same Debian source and version as
# the installed libcjson.so, with musl. It uses a private apt list of deb-src entries under
# OUTDIR for the Debian archives the host's apt uses (the host's configuration is not
# changed), apt's signature checks, and dpkg-source (dpkg-dev). Nothing fetched is committed.
set -e
pkg=$1 out=${2:+$(realpath -m "$2")}
[ -n "$pkg" ] && [ -n "$out" ] || { echo "usage: debsrc.sh DEV-PACKAGE OUTDIR" >&2; exit 2; }
arch=$(dpkg --print-architecture)
src=$(dpkg-query -W -f='${source:Package}' "$pkg:$arch")
ver=$(dpkg-query -W -f='${source:Version}' "$pkg:$arch")
[ -n "$src" ] && [ -n "$ver" ] || { echo "debsrc: $pkg is not installed (make deps)" >&2; exit 1; }
apt="$out/.apt"
rm -rf "$out" && mkdir -p "$apt/sources" "$apt/lists/partial" "$apt/cache/archives/partial"
# deb-src entries for the Debian archives the host's apt fetches binary packages from (a
# local mirror included), as its own index targets name them
key=/usr/share/keyrings/debian-archive-keyring.gpg
apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT)' 'Identifier: Packages' \
	'Origin: Debian' | sort -u | while read -r uri suite comp; do
	printf 'Types: deb-src\nURIs: %s\nSuites: %s\nComponents: %s\nSigned-By: %s\n\n' \
		"$uri" "$suite" "$comp" "$key"
done > "$apt/sources/debian-src.sources"
[ -s "$apt/sources/debian-src.sources" ] || {
	echo "debsrc: the host's apt has no Debian archive (apt-get update)" >&2; exit 1; }
: > "$apt/none.list"
set -- -o Dir::Etc::SourceList="$apt/none.list" -o Dir::Etc::SourceParts="$apt/sources" \
	-o Dir::State::Lists="$apt/lists" -o Dir::Cache="$apt/cache" -o APT::Sandbox::User=root \
	-o Debug::NoLocking=1 -q
apt-get "$@" update >"$apt/update.log" 2>&1 || {
	cat "$apt/update.log" >&2; echo "debsrc: apt-get update of deb-src lists failed" >&2; exit 1; }
(cd "$out" && apt-get "$@" --download-only source "$src=$ver") >"$apt/source.log" 2>&1 || {
	cat "$apt/source.log" >&2; echo "debsrc: cannot fetch Debian source $src $ver" >&2; exit 1; }
dpkg-source -x "$out/${src}_$(echo "$ver" | sed 's/^[0-9]*://').dsc" "$out/tree" >"$apt/unpack.log" 2>&1 || {
	cat "$apt/unpack.log" >&2; echo "debsrc: dpkg-source -x failed" >&2; exit 1; }
echo "$src $ver" > "$out/VERSION"
