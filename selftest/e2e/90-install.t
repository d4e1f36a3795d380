#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# selftest/e2e/90-install.t: `make install` into a staged tree (DESTDIR, PREFIX=/usr) from the
# already-built $BUILD: every file of the layout, stripped binaries (and install-debug's
# with symbols), the man pages render, and libshimvisor is usable with pkg-config alone: the
# example program of libshimvisor(3), built against the staged .so and statically against
# the .a, runs a task on the staged daemon and prints its exit status. The .so exports
# exactly what the installed headers declare.
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$HERE/../.." && pwd)
# the make that ran us (make check) must not hand its jobserver to ours
unset MAKEFLAGS MAKELEVEL MFLAGS

# Install the built tree into $T/$1 (PREFIX=/usr); $2: the target (install, install-debug).
# B= is the build tree the binaries come from: nothing is compiled when it is up to date.
stage() {
	[ -z "${SV_SAN_LOG:-}" ] ||
		skip_case "sanitized build: its libshimvisor needs the ASan runtime loaded first"
	make -s -C "$ROOT" "${2:-install}" B="$BUILD" DESTDIR="$T/$1" PREFIX=/usr \
		> "$T/make.log" 2>&1 || fail "make ${2:-install}: $(tail -n 20 "$T/make.log")"
	grep -E '^(cc|gcc) ' "$T/make.log" && fail "make install compiled something: the build is stale"
	return 0
}

# pkg-config, seeing only the staged tree
spc() {
	PKG_CONFIG_SYSROOT_DIR="$T/root" PKG_CONFIG_LIBDIR="$T/root/usr/lib/pkgconfig" \
		pkg-config "$@" shimvisor
}

# The example program of libshimvisor(3), as C (roff's \e and \- undone).
example_c() {
	awk '/^\.SH EXAMPLES/ { ex = 1 } ex && /^\.EX/ { on = 1; next } on && /^\.EE/ { exit }
	     on' "$ROOT/man/libshimvisor.3" | sed 's/\\e/\\/g; s/\\-/-/g; s/^\\&//'
}

has_symtab() { readelf -S "$1" | grep -q ' \.symtab '; }

test_layout() {
	stage root
	local f r=$T/root
	for f in usr/sbin/shimvisord usr/sbin/shimvisor-worker usr/sbin/shimvisor-init \
		 usr/bin/shimvisor usr/bin/containerd-shim-shimvisor-v2 \
		 usr/lib/libshimvisor.so usr/lib/libshimvisor.so.0 usr/lib/libshimvisor.a \
		 usr/lib/pkgconfig/shimvisor.pc usr/include/shimvisor.h \
		 usr/share/man/man1/shimvisor.1 usr/share/man/man3/libshimvisor.3 \
		 usr/share/man/man5/shimvisord.conf.5 usr/share/man/man8/shimvisord.8 \
		 usr/share/man/man8/shimvisor-worker.8 \
		 etc/shimvisor/shimvisord.conf etc/shimvisor/seccomp-default.json etc/init.d/shimvisord; do
		[ -e "$r/$f" ] || fail "not installed: /$f"
	done
	[ ! -f "$ROOT/etc/default/shimvisord" ] || [ -f "$r/etc/default/shimvisord" ] ||
		fail "etc/default/shimvisord not installed"
	# the links resolve inside the tree, to what they should
	[ "$(readlink "$r/usr/bin/containerd-shim-shimvisor-v2")" = ../sbin/shimvisor-worker ] ||
		fail "shim link: $(readlink "$r/usr/bin/containerd-shim-shimvisor-v2")"
	local ver real
	ver=$(sed -n 's/^#define SV_VERSION *"\(.*\)"/\1/p' "$ROOT/wire/limits.h")
	real=libshimvisor.so.0.${ver#*.}
	[ "$(readlink "$r/usr/lib/libshimvisor.so.0")" = "$real" ] && [ -f "$r/usr/lib/$real" ] ||
		fail "libshimvisor.so.0 -> $(readlink "$r/usr/lib/libshimvisor.so.0"), want $real"
	[ "$(readlink "$r/usr/lib/libshimvisor.so")" = libshimvisor.so.0 ] || fail "libshimvisor.so link"
	readelf -d "$r/usr/lib/$real" | grep -q 'SONAME.*\[libshimvisor\.so\.0\]' ||
		fail "soname: $(readelf -d "$r/usr/lib/$real" | grep SONAME)"
	[ "$(spc --modversion)" = "$ver" ] || fail "shimvisor.pc Version $(spc --modversion), want $ver"
	# nothing outside the prefix and /etc; no system user made for a staged install
	f=$(cd "$r" && find . -mindepth 1 -maxdepth 1 | sort | tr '\n' ' ')
	[ "$f" = "./etc ./usr " ] || fail "installed at the top: $f"
}

# On musl one file is the daemon, the worker and the CLI (common/multicall.c): installed
# once, the other names symlinks to it, each name running its own program; another name runs
# nothing. On glibc (MUSL=0, sanitized builds) they are three files.
test_one_binary_three_names() {
	[ -L "$BUILD/shimvisor-worker" ] || skip_case "three binaries in this build (MUSL=0)"
	stage root
	local r=$T/root out rc
	[ -f "$r/usr/sbin/shimvisord" ] && [ ! -L "$r/usr/sbin/shimvisord" ] || fail "shimvisord not a file"
	[ "$(readlink "$r/usr/sbin/shimvisor-worker")" = shimvisord ] ||
		fail "shimvisor-worker -> $(readlink "$r/usr/sbin/shimvisor-worker")"
	[ "$(readlink "$r/usr/bin/shimvisor")" = ../sbin/shimvisord ] ||
		fail "shimvisor -> $(readlink "$r/usr/bin/shimvisor")"
	readelf -d "$r/usr/sbin/shimvisord" | grep -q NEEDED && fail "shimvisord needs shared libraries"
	out=$("$r/usr/sbin/shimvisord" --version) &&
		[ "$out" = "shimvisord $(sed -n 's/^#define SV_VERSION *"\(.*\)"/\1/p' "$ROOT/wire/limits.h")" ] ||
		fail "shimvisord --version: $out"
	out=$("$r/usr/bin/shimvisor" --help) && [ "${out%%$'\n'*}" = "usage: shimvisor [-a SOCK] [-n NS] COMMAND [ARGS...]" ] ||
		fail "shimvisor --help: ${out%%$'\n'*}"
	# the worker and the shim name: the worker's own complaint, without its flags
	for n in usr/sbin/shimvisor-worker usr/bin/containerd-shim-shimvisor-v2; do
		out=$("$r/$n" 2>&1); rc=$?
		[ $rc = 1 ] && [ "$out" = "shimvisor-worker: shim namespace cannot be empty" ] ||
			fail "$n: status $rc: $out"
	done
	cp "$r/usr/sbin/shimvisord" "$T/other"
	out=$("$T/other" --version 2>&1); rc=$?
	[ $rc = 127 ] && [ "$out" = "other: run this program as shimvisord, shimvisor-worker, containerd-shim-shimvisor-v2 or shimvisor" ] ||
		fail "another name: status $rc: $out"
}

test_stripped_and_debug() {
	stage root
	stage dbg install-debug
	local f
	for f in usr/sbin/shimvisord usr/sbin/shimvisor-worker usr/sbin/shimvisor-init \
		 usr/bin/shimvisor usr/lib/libshimvisor.so.0; do
		has_symtab "$T/root/$f" && fail "install left /$f unstripped"
		has_symtab "$T/dbg/$f" || fail "install-debug stripped /$f"
		file -L "$T/root/$f" | grep -q ', stripped' || fail "file(1): $(file -L "$T/root/$f")"
	done
	# the .a keeps its symbol table (a stripped archive cannot be linked), not its debug info
	nm "$T/root/usr/lib/libshimvisor.a" | grep -q ' T sv_connect$' || fail "libshimvisor.a has no sv_connect"
	readelf -S "$T/root/usr/lib/libshimvisor.a" | grep -q ' \.debug_info ' && fail "install: libshimvisor.a has debug info"
	readelf -S "$T/dbg/usr/lib/libshimvisor.a" | grep -q ' \.debug_info ' || fail "install-debug: libshimvisor.a has none"
	local a b
	a=$(du -sb "$T/root/usr/sbin" "$T/root/usr/bin/shimvisor" | awk '{ s += $1 } END { print s }')
	b=$(du -sb "$T/dbg/usr/sbin" "$T/dbg/usr/bin/shimvisor" | awk '{ s += $1 } END { print s }')
	note "binaries: $a bytes stripped, $b with symbols"
	[ "$a" -lt "$b" ] || fail "stripped $a >= unstripped $b"
}

test_man_pages_render() {
	stage root
	local p out n=0
	command -v man >/dev/null || skip_case "man missing (man-db)"
	for p in "$T"/root/usr/share/man/man*/*; do
		n=$((n + 1))
		out=$(MANWIDTH=80 LC_ALL=C man --warnings -l "$p" 2>&1 >"$T/page") || fail "man -l $p: $?"
		[ -z "$out" ] || fail "man warns on $p: $out"
		grep -q '^NAME' "$T/page" || fail "$p renders no NAME"
	done
	[ "$n" = 5 ] || fail "$n man pages installed, want 5"
	# man finds them by name in the staged tree
	MANWIDTH=80 LC_ALL=C man -M "$T/root/usr/share/man" 5 shimvisord.conf 2>/dev/null |
		grep -q '^SHIMVISORD.CONF(5)' || fail "man -M <staged> 5 shimvisord.conf finds nothing"
}

# Names the installed headers declare: functions, and the message descriptors.
declared() {
	local inc=$T/root/usr/include
	{
		sed -n 's/^[a-z][a-z_ ]*[ *]\(sv_[a-z_]*\)(.*/\1/p' "$inc/shimvisor.h" "$inc"/shimvisor/*/*.h
		sed -n 's/^extern const pb_msgdesc_t \(sv_[A-Za-z0-9_]*\);$/\1/p' "$inc"/shimvisor/*.pb.h
	} | sort -u
}

test_exports_only_the_api() {
	stage root
	local so=$T/root/usr/lib/libshimvisor.so.0
	declared > "$T/declared"
	[ "$(wc -l < "$T/declared")" -gt 100 ] || fail "parsed only $(wc -l < "$T/declared") declarations"
	grep -qx sv_connect "$T/declared" && grep -qx sv_StateResponse_msg "$T/declared" ||
		fail "declarations: $(head "$T/declared")"
	nm -D --defined-only "$so" | awk '$2 != "A" { print $3 }' > "$T/dynsym"
	# every export is versioned SHIMVISOR_0, and is exactly a declared name
	grep -v '@@SHIMVISOR_0$' "$T/dynsym" && fail "exports outside SHIMVISOR_0 (above)"
	sed 's/@@.*//' "$T/dynsym" | sort -u > "$T/exported"
	diff "$T/declared" "$T/exported" > "$T/diff" ||
		fail "exports differ from the installed headers (< declared only, > exported only): $(cat "$T/diff")"
	# nanopb and the internals stay inside: a program cannot reach them
	printf 'int ttrpc_read(void *r, int fd);\nint pb_decode(void);\nint main(void) { return ttrpc_read(0, 0) + pb_decode(); }\n' > "$T/in.c"
	cc -o "$T/in" "$T/in.c" $(spc --cflags --libs) 2> "$T/in.err" && fail "linked against internal symbols"
	grep -q "undefined reference to \`ttrpc_read'" "$T/in.err" || fail "link: $(cat "$T/in.err")"
	# the archive's global definitions are the same names
	nm -g --defined-only "$T/root/usr/lib/libshimvisor.a" | awk 'NF == 3 { print $3 }' | sort -u > "$T/a_exported"
	diff "$T/declared" "$T/a_exported" > "$T/diff" || fail "libshimvisor.a globals differ: $(cat "$T/diff")"
}

# Build the example with the flags pkg-config gives (--static when $1 is static, with cc
# -static), run it on the staged daemon, check it prints the task's exit status.
client_runs() {
	local kind=$1 pc=() ld=()
	[ "$kind" = static ] && pc=(--static) ld=(-static)
	example_c > "$T/run-one.c"
	grep -q 'sv_wait(c, req.id' "$T/run-one.c" || fail "no example in libshimvisor(3): $(head "$T/run-one.c")"
	# shellcheck disable=SC2046
	cc -Wall -Wextra -Werror "${ld[@]}" -o "$T/run-one" "$T/run-one.c" $(spc "${pc[@]}" --cflags) \
		$(spc "${pc[@]}" --libs) 2> "$T/cc.err" || fail "cc ($kind): $(cat "$T/cc.err")"
	# the staged daemon, worker and first stage
	SVD=$T/root/usr/sbin/shimvisord
	daemon_start
	out=$(LD_LIBRARY_PATH="$T/root/usr/lib" "$T/run-one" "c-$kind" /bin/sh -c 'exit 3') ||
		fail "run-one ($kind): $? $out: $(tail -n 5 "$T/daemon.log")"
	[ "$out" = "c-$kind: pid ${out#*pid }" ] && [ "${out##*, }" = "exit status 3" ] ||
		fail "run-one ($kind) printed '$out'"
	# it cleaned up: no task left
	[ -z "$("$SV" ls -q)" ] || fail "task left: $("$SV" ls)"
}

test_client_shared() {
	stage root
	client_runs shared
	local needed
	needed=$(readelf -d "$T/run-one" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
	[ "$needed" = "libshimvisor.so.0 libc.so.6 " ] || fail "run-one needs: $needed"
	LD_LIBRARY_PATH="$T/root/usr/lib" ldd "$T/run-one" | grep -q "libshimvisor.so.0 => $T/root/usr/lib/" ||
		fail "ldd: $(LD_LIBRARY_PATH="$T/root/usr/lib" ldd "$T/run-one")"
}

test_client_static() {
	stage root
	client_runs static
	readelf -d "$T/run-one" 2>/dev/null | grep -q NEEDED && fail "static run-one has NEEDED entries"
	nm "$T/run-one" | grep -q ' T sv_connect$' || fail "static run-one has no sv_connect"
}

run_cases "$@"
