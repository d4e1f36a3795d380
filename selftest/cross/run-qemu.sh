#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# selftest/cross/run-qemu.sh: make check-qemu's runner. For each target triplet given, the
# unit suite built in build-TRIPLET/ (the Check binaries and the fuzz corpus replays) under
# qemu-user: TAP through prove (kept in build-TRIPLET/check-qemu.tap), then its counts. The
# e2e suites need a kernel of the target's architecture and are not run. SV_QEMU=1 tells the
# tests they run under qemu-user: only then do the cases qemu-user cannot serve SKIP, each
# saying why (selftest/unit/build_fixture.h); SV_TEST_BUILD_DIR is where the binaries are.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
status=0
summary=""
for t in "$@"; do
	case "$t" in
	aarch64-linux-gnu) q=qemu-aarch64 ;;
	arm-linux-gnueabihf) q=qemu-arm ;;
	*) echo "run-qemu: unknown target $t" >&2; exit 2 ;;
	esac
	b="$root/build-$t"
	command -v "$q" >/dev/null || { echo "run-qemu: no $q (make cross installs qemu-user)" >&2; exit 1; }
	# a binfmt_misc handler lets the tests exec the target's own binaries (the worker, the init)
	binfmt=0
	head -n1 "/proc/sys/fs/binfmt_misc/$q" 2>/dev/null | grep -qx enabled && binfmt=1
	tests=$(cd "$b/selftest" && for f in test_* fuzz_*; do
		[ -f "$f" ] && [ -x "$f" ] && echo "$b/selftest/$f"; done)
	log="$b/check-qemu.tap"
	echo "== $t under $q"
	# prove runs each through qemu; the tests run from the tree's root (they read etc/, selftest/)
	(cd "$root" && SV_QEMU=1 SV_QEMU_BINFMT=$binfmt SV_TEST_BUILD_DIR="$b" \
		prove -v -f --exec "$q" $tests; echo $? >"$log.rc") 2>&1 | tee "$log"
	rc=$(cat "$log.rc") && rm -f "$log.rc"
	# a case qemu-user cannot serve prints "# SKIP why" and passes (build_fixture.h)
	ok=$(grep -cE '^ok [0-9]+ ' "$log")
	skip=$(grep -cE '^# SKIP ' "$log")
	fail=$(grep -cE '^not ok [0-9]+ ' "$log")
	echo "skipped under qemu-user, by reason:"
	grep -E '^# SKIP ' "$log" | sed 's/^# SKIP [^:]*: //' | sort | uniq -c
	res=PASS
	[ "$rc" = 0 ] || res=FAIL   # also a binary that died before its TAP
	line="$t: $((ok - skip)) passed, $fail failed, $skip skipped; prove: $res (binfmt_misc: $binfmt; TAP: $log)"
	echo "$line"
	summary="$summary$line
"
	[ "$rc" = 0 ] || status=1
done
printf '%s' "$summary"
exit "$status"
