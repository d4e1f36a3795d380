#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# selftest/e2e/99-sanitizer-log.t: the last suite of a sanitized `make check` (SV_SAN_LOG set
# by the Makefile): a sanitizer report from any process (the daemon, the engine, a worker,
# shimvisor-init, a CLI run), written to that directory, fails the run even where the
# process's own test could not see it.
set -u
if [ -z "${SV_SAN_LOG:-}" ]; then
	echo "1..0 # SKIP not a sanitized build (make check SANITIZE=address,undefined)"
	exit 0
fi
echo "1..1"
if [ ! -d "$SV_SAN_LOG" ]; then
	echo "not ok 1 - the report directory $SV_SAN_LOG is missing"
	exit 1
fi
reports=$(find "$SV_SAN_LOG" -type f | sort)
if [ -z "$reports" ]; then
	echo "ok 1 - no sanitizer report in $SV_SAN_LOG"
	exit 0
fi
echo "not ok 1 - $(echo "$reports" | wc -l) sanitizer report(s) in $SV_SAN_LOG"
for f in $reports; do
	head -n 40 "$f" | sed "s|^|# $(basename "$f"): |" >&2
done
exit 1
