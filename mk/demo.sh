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
"$B/shimvisord" --state "$D/state" --address "$D/shimvisord.sock" --pidfile "$D/shimvisord.pid"
step shimvisor version;                          "$SV" version
step shimvisor run --rm hello /bin/echo hello;   "$SV" run --rm hello /bin/echo hello
step "shimvisor run --rm iso /bin/sh -c 'echo pid \$\$ on \$(hostname); touch /x'"
"$SV" run --rm iso /bin/sh -c 'echo pid $$ on $(hostname); touch /x' || echo "(exit status $?: the host's / is read-only inside)"
step "shimvisor run -d --memory 32m web /bin/sh -c 'echo web up; exec sleep 1000'"
"$SV" run -d --memory 32m web /bin/sh -c 'echo web up; exec sleep 1000'
step shimvisor ls;                               "$SV" ls
step shimvisor exec web /bin/cat /proc/1/comm;  "$SV" exec web /bin/cat /proc/1/comm
step shimvisor logs web;                         "$SV" logs web
step shimvisor stats web;                        "$SV" stats web
step shimvisor update web --memory 64m --pids 50; "$SV" update web --memory 64m --pids 50
step shimvisor pause web;                        "$SV" pause web
step shimvisor ls;                               "$SV" ls
step shimvisor resume web;                       "$SV" resume web
step shimvisor state --format json web;          "$SV" state --format json web
step shimvisor kill web;                         "$SV" kill web
step shimvisor wait web;                         "$SV" wait web || echo "(exit status $?)"
step shimvisor delete web;                       "$SV" delete web
step shimvisor ls;                               "$SV" ls

# The same worker as containerd's shim: a private containerd (CRI off) in the scratch dir,
# driven by the real ctr on a busybox rootfs.
command -v containerd >/dev/null && command -v ctr >/dev/null && [ -x /bin/busybox ] || {
	echo "(containerd, ctr or busybox-static missing: skipping the containerd part)"; exit 0; }
C="$D/ctd"
mkdir -p "$C/bin" "$C/rootfs/bin" "$C/rootfs/proc" "$C/rootfs/dev" "$C/rootfs/sys" "$C/rootfs/tmp"
ln -s "$B/shimvisor-worker" "$C/bin/containerd-shim-shimvisor-v2"
cp /bin/busybox "$C/rootfs/bin/"
for a in sh echo sleep hostname ps; do ln -s busybox "$C/rootfs/bin/$a"; done
cat > "$C/config.toml" <<TOML
version = 2
root = "$C/root"
state = "$C/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$C/c.sock"
[ttrpc]
  address = "$C/c.sock.ttrpc"
TOML
PATH="$C/bin:$PATH" containerd --config "$C/config.toml" >"$C/log" 2>&1 &
CTD=$!
ctd_cleanup() {
	for id in $(ctr -a "$C/c.sock" task ls -q 2>/dev/null); do
		ctr -a "$C/c.sock" task kill -s KILL "$id" 2>/dev/null || true
	done
	kill "$CTD" 2>/dev/null || true
	timeout 10 tail --pid="$CTD" -f /dev/null || kill -9 "$CTD" 2>/dev/null || true
	cleanup
}
trap ctd_cleanup EXIT
# ready once it answers (bounded)
i=0; until ctr -a "$C/c.sock" version >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -lt 100 ] || { echo "containerd did not start: $(tail -3 "$C/log")"; exit 1; }
	sleep 0.1
done
X="ctr -a $C/c.sock"
R="--runtime io.containerd.shimvisor.v2 --rootfs $C/rootfs"
step "ctr run --rm $R hi /bin/echo hello from containerd"; $X run --rm $R hi /bin/echo hello from containerd
step "ctr run -d $R box /bin/sleep 1000";  $X run -d $R box /bin/sleep 1000
step "ctr task exec --exec-id e1 box /bin/ps"; $X task exec --exec-id e1 box /bin/ps
step "ctr task pause box; ctr task ls";    $X task pause box; $X task ls
step "ctr task resume box; ctr task metrics box"; $X task resume box; $X task metrics box
step "ctr task kill -s KILL box; ctr task rm box; ctr c rm box"
$X task kill -s KILL box
i=0; until [ "$($X task ls | awk '$1 == "box" { print $3 }')" = STOPPED ]; do
	i=$((i + 1)); [ $i -lt 100 ] || break; sleep 0.05
done
$X task rm box; $X c rm box
