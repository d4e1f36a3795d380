#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# make demo: a private shimvisord in a scratch directory, a few sample tasks, then stop.
set -eu
B=$(cd "$(dirname "$0")/../build" && pwd)
D=$(mktemp -d /tmp/shimvisor-demo.XXXXXX)
SV="$B/shimvisor"
export SHIMVISOR_ADDRESS="$D/shimvisord.sock"
cleanup() {
	for id in $("$SV" ls -q 2>/dev/null); do "$SV" delete -f "$id" >/dev/null 2>&1 || true; done
	[ -f "$D/shimvisord.pid" ] && kill "$(cat "$D/shimvisord.pid")" 2>/dev/null || true
	rm -rf "$D"
}
trap cleanup EXIT
step() { printf '\n$ %s\n' "$*"; }

# without -F, shimvisord returns once it is ready
"$B/shimvisord" --root "$D/root" --state "$D/state" --address "$D/shimvisord.sock" --pidfile "$D/shimvisord.pid"
step shimvisor version;                          "$SV" version
step shimvisor run --rm hello /bin/echo hello;   "$SV" run --rm hello /bin/echo hello
step "shimvisor run --rm iso /bin/sh -c 'echo pid \$\$ on \$(hostname); touch /x'"
"$SV" run --rm iso /bin/sh -c 'echo pid $$ on $(hostname); touch /x' || echo "(exit status $?: the host's / is read-only inside)"
step shimvisor run -d web /bin/sleep 1000;       "$SV" run -d web /bin/sleep 1000
step shimvisor ls;                               "$SV" ls
step shimvisor state --format json web;          "$SV" state --format json web
step shimvisor kill web;                         "$SV" kill web
step shimvisor wait web;                         "$SV" wait web || echo "(exit status $?)"
step shimvisor delete web;                       "$SV" delete web
step shimvisor ls;                               "$SV" ls
