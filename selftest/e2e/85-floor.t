#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# selftest/e2e/85-floor.t: the kernel floor (Linux 5.4). First, that floor-run's filter is on
# (close_range and openat2 answer ENOSYS, a pidfd's setns EINVAL); then the cases of
# FLOOR_SUITES, each run again under floor-run, so every fallback of common/kernel.c and its
# callers runs in a whole daemon. An entry is SUITE[@FLOOR][:CASE,CASE...]: FLOOR below 5.3
# takes pidfd_open away too (exec and re-attach without pidfds). Each case is a TAP line.
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD=${BUILD:-$(cd "$HERE/../../build" && pwd)}
CASE_TIMEOUT=${CASE_TIMEOUT:-60}
FLOOR_RUN="$BUILD/selftest/floor-run"
FLOOR_SUITES=${FLOOR_SUITES:-$(make -s --no-print-directory -C "$HERE/../.." floor-suites)}
n=0
failed=0
tap() {  # status name [diagnostics]
	n=$((n + 1))
	case $1 in
	0) echo "ok $n - $2" ;;
	77) echo "ok $n - $2 # SKIP $(echo "$3" | grep '^SKIP' | head -n1 | cut -c6-)" ;;
	*) echo "not ok $n - $2"
	   echo "$3" | sed "s/^/# $2: /" >&2
	   failed=$((failed + 1)) ;;
	esac
}

# What a process under floor-run meets, as a probe prints it: Seccomp mode, then each call's
# errno name.
PROBE='
import ctypes, errno, os
libc = ctypes.CDLL(None, use_errno=True)
def call(nr, *a):
    r = libc.syscall(nr, *a)
    return "ok" if r >= 0 else errno.errorcode[ctypes.get_errno()]
mode = [l.split()[1] for l in open("/proc/self/status") if l.startswith("Seccomp:")][0]
print("seccomp", mode)
print("close_range", call(436, 1000, 1001, 0))
print("openat2", call(437, -100, b"/", None, 0))
print("pidfd_open", call(434, os.getpid(), 0))
try:
    pidfd = os.pidfd_open(os.getpid())
except OSError:
    print("setns_pidfd n/a")
else:  # our own uts and ipc namespaces: a kernel taking pidfds joins them
    print("setns_pidfd", call(308, pidfd, 0x4000000 | 0x8000000))
'
probe_expect() {  # floor-args expected-output
	local out
	out=$("$FLOOR_RUN" $1 python3 -c "$PROBE" 2>&1)
	[ "$out" = "$2" ] && return 0
	printf 'floor-run %s: got\n%s\nwanted\n%s\n' "$1" "$out" "$2"
	return 1
}

if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP end-to-end tests need root (namespaces, mounts)"
	exit 0
fi
if [ "$(uname -m)" != x86_64 ]; then
	echo "1..0 # SKIP the probe's syscall numbers are x86_64's"
	exit 0
fi

# the filter is on: without it every case below would pass on this kernel's own calls
for f in 5.4:ok:EINVAL 5.2:ENOSYS:n/a; do
	set -- ${f//:/ }
	out=$(probe_expect "--floor $1" "seccomp 2
close_range ENOSYS
openat2 ENOSYS
pidfd_open $2
setns_pidfd $3" 2>&1)
	tap $? "floor-run $1: newer calls answer ENOSYS (pidfd_open: $2)" "$out"
done

# sanitized binaries run 2-3x slower: the unit test of the fallbacks covers them there
if [ -n "${SV_SAN_LOG:-}" ]; then
	tap 77 "FLOOR_SUITES under floor-run" "SKIP sanitized run: test_common_kernel covers the fallbacks"
	FLOOR_SUITES=
fi
for entry in $FLOOR_SUITES; do
	suite=${entry%%[@:]*}
	floor=5.4
	case $entry in *@*) floor=${entry#*@}; floor=${floor%%:*} ;; esac
	cases=
	case $entry in *:*) cases=${entry#*:} ;; esac
	file="$HERE/$suite.t"
	if [ ! -f "$file" ]; then
		tap 1 "$entry" "no suite $file"
		continue
	fi
	[ -n "$cases" ] || cases=$(grep -o '^test_[a-z0-9_]*' "$file" | sed 's/^test_//' | sort)
	for c in ${cases//,/ }; do
		out=$(timeout -k 5 "$CASE_TIMEOUT" "$FLOOR_RUN" --floor "$floor" \
			bash "$file" --one "$c" 2>&1)
		rc=$?
		[ $rc = 124 ] && out="$out
timed out after ${CASE_TIMEOUT}s"
		tap $rc "$suite@$floor $c" "$out"
	done
done
echo "1..$n"
[ $failed = 0 ]
