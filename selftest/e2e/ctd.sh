# SPDX-License-Identifier: Apache-2.0
# selftest/e2e/ctd.sh: helpers for 80-containerd.t and 81-runc-parity.t (sourced after
# lib.sh): a private containerd 1.6 per case that runs shimvisor-worker as the runtime io.containerd.shimvisor.v2,
# a busybox rootfs and a hand-built OCI image of it, bounded waits on files and pids (never a
# sleep), and the clean-up: containerd stopped, its shims and their tasks killed by pid,
# mounts undone.
#
# Layout of one case, under $CD ($T, or a short /tmp/svc.XXXX when $T is too long for
# unix socket paths):
#   config.toml  c.sock c.sock.ttrpc d.sock   containerd's config and sockets
#   root/ state/                              containerd's root and state (bundles in
#                                             state/io.containerd.runtime.v2.task/<ns>/<id>)
#   bin/containerd-shim-shimvisor-v2          -> $BUILD/shimvisor-worker, first on its PATH
#   ctd-<n>.log                               containerd's debug log, one per start
#   events                                    `ctr events`, once ctd_events_start ran
#   rfs/                                      this case's copy of the busybox rootfs
#   fifo/                                     ctr's stdio FIFOs (--fifo-dir)
# Its namespace is svt-<the dir's random suffix>: cases may run beside other runs.

# SV_CTD_RUNTIME=io.containerd.runc.v2 runs the same cases on the reference shim (to check the cases)
CTD_RT=${SV_CTD_RUNTIME:-io.containerd.shimvisor.v2}
CTD_NS=default     # ctd_setup makes it unique: cgroups are named <ns>/<id> by ctr's spec
CTD_IMAGE=localhost/shimvisor/busybox:e2e
CTD_APPLETS="sh echo cat sleep true false ls ps id hostname tty test head wc yes dd grep readlink kill tr stty"
CTR_TIMEOUT=${CTR_TIMEOUT:-10}   # a ctr call that hangs fails its case, well before the case timeout
CTR_BIN=$(command -v ctr || echo /usr/bin/ctr)
CTD_BIN=$(command -v containerd || echo /usr/bin/containerd)
# Debian's python3 when there is one: a version manager's shim costs ~0.2 s a call
PY=/usr/bin/python3; [ -x "$PY" ] || PY=python3
CD=""
CTD_PID=""
CTD_STARTS=0
RFS=""
RT=()
CTD_SOCKS=()       # shim sockets a case wants gone at its end (their bundle may be gone)

# --- waits ----------------------------------------------------------------------------

# pid_wait TIMEOUT PID...: wait (pidfd, no polling) until every PID is gone; 1 if one is left.
pid_wait() {
	local tmo=$1; shift
	[ $# -gt 0 ] || return 0
	"$PY" - "$tmo" "$@" <<'PY'
import os, select, sys, time
end = time.monotonic() + float(sys.argv[1])
for p in sys.argv[2:]:
    try:
        fd = os.pidfd_open(int(p))
    except ProcessLookupError:
        continue
    left = max(0.0, end - time.monotonic())
    r, _, _ = select.select([fd], [], [], left)
    os.close(fd)
    if not r:
        sys.exit(1)
PY
}

# wait_line [--pid P] FILE TIMEOUT STR...: print the first line of FILE (read from its start,
# then followed as it grows) that holds every fixed string STR; 1 if none within TIMEOUT
# seconds, or once process P has exited. The follower is our child, killed and reaped here.
wait_line() {
	local pidopt=() file tmo line s ok fd tpid end left rc=1
	if [ "$1" = --pid ]; then pidopt=(--pid="$2"); shift 2; fi
	file=$1 tmo=$2; shift 2
	end=$(( ${EPOCHREALTIME/./} + ${tmo%.*} * 1000000 ))
	[[ $tmo == *.* ]] && end=$(( end + 10#$(printf '%-6s' "${tmo#*.}" | tr ' ' 0) ))
	exec {fd}< <(exec tail -n +1 "${pidopt[@]}" -F "$file" 2>/dev/null)
	tpid=$!
	while :; do
		left=$(( end - ${EPOCHREALTIME/./} ))
		[ $left -gt 0 ] || break
		printf -v left '%d.%06d' $((left / 1000000)) $((left % 1000000))
		IFS= read -r -t "$left" -u "$fd" line || break
		ok=1
		for s in "$@"; do [[ $line == *"$s"* ]] || { ok=0; break; }; done
		[ $ok = 1 ] && { printf '%s\n' "$line"; rc=0; break; }
	done
	kill "$tpid" 2>/dev/null
	wait "$tpid" 2>/dev/null
	exec {fd}<&-
	return $rc
}

# --- the private containerd -----------------------------------------------------------

ctr() { timeout -k 2 "$CTR_TIMEOUT" "$CTR_BIN" -a "$CD/c.sock" -n "$CTD_NS" "$@"; }
CTR() { echo "$CTR_BIN -a $CD/c.sock -n $CTD_NS"; }   # for command strings (script -c)

# Set the case up: check what it needs, lay out $CD, copy the rootfs, start containerd.
ctd_setup() {
	[ -x "$CTD_BIN" ] && [ -x "$CTR_BIN" ] || skip_case "containerd is not installed (Debian package containerd)"
	[ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1 || skip_case "no static /bin/busybox (busybox-static)"
	"$PY" -c 'import os; os.pidfd_open' 2>/dev/null || skip_case "python3 with os.pidfd_open is needed"
	[ -x "$BUILD/shimvisor-worker" ] || fail "$BUILD/shimvisor-worker is not built"
	CD=$T
	# the longest socket path is $CD/c.sock.ttrpc; sun_path holds 107 bytes and a NUL
	[ ${#CD} -le 80 ] || CD=$(mktemp -d /tmp/svc.XXXX)
	CTD_NS="svt-${CD##*.}"
	trap 'ctd_cleanup; case_cleanup' EXIT
	mkdir -p "$CD/bin" "$CD/fifo"
	ln -s "$BUILD/shimvisor-worker" "$CD/bin/containerd-shim-shimvisor-v2"
	cat > "$CD/config.toml" <<EOF
# private containerd of one selftest/e2e/80-containerd.t case
version = 2
root = "$CD/root"
state = "$CD/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = "$CD/c.sock"

[ttrpc]
  address = "$CD/c.sock.ttrpc"

[debug]
  address = "$CD/d.sock"
  level = "debug"

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "$CD/opt"
EOF
	ctd_runtime "$CTD_RT"
	RFS="$CD/rfs"
	if [ -n "${CTD_CACHE:-}" ] && [ -d "$CTD_CACHE/rootfs" ]; then
		cp -a "$CTD_CACHE/rootfs" "$RFS"
	else
		ctd_build_rootfs "$RFS"
	fi
	ctd_start
	ctr namespaces create "$CTD_NS" || fail "namespaces create $CTD_NS"
}

# ctd_runtime NAME: the runtime the case's next `ctr run`s use (CTD_RT), and RT, the `ctr run`
# options naming it; the reference shim's runc keeps its state in /run/containerd/runc
# unless told otherwise.
ctd_runtime() {
	CTD_RT=$1
	RT=(--runtime "$CTD_RT")
	[ "$CTD_RT" = io.containerd.runc.v2 ] && RT+=(--runc-root "$CD/runc")
	return 0
}

# Start containerd (again, after ctd_stop: same config, same root and state) and wait
# until its log says it booted.
ctd_start() {
	CTD_STARTS=$((CTD_STARTS + 1))
	local log="$CD/ctd-$CTD_STARTS.log"
	: > "$log"
	# cwd $CD: containerd looks for a dotted runtime's binary in its cwd first; none is there
	(cd "$CD" && PATH="$CD/bin:$PATH" exec "$CTD_BIN" --config "$CD/config.toml") \
		</dev/null >>"$log" 2>&1 &
	CTD_PID=$!
	wait_line --pid "$CTD_PID" "$log" 10 'containerd successfully booted' >/dev/null ||
		fail "containerd did not boot: $(tail -n 20 "$log")"
	[ -S "$CD/c.sock" ] || fail "no socket $CD/c.sock after boot"
}

# SIGTERM containerd and reap it; SIGKILL after 10 s. Its shims keep running.
ctd_stop() {
	[ -n "$CTD_PID" ] || return 0
	kill -TERM "$CTD_PID" 2>/dev/null
	pid_wait 10 "$CTD_PID" || { note "containerd ignored SIGTERM: SIGKILL"; kill -9 "$CTD_PID" 2>/dev/null; }
	wait "$CTD_PID" 2>/dev/null
	CTD_PID=""
}

# rfs_run [ctr run options] ID CMD...: `ctr run` of this case's busybox rootfs ($RFS) with
# the runtime under test (ctr takes its first word after the options as the rootfs)
rfs_run() {
	local o=()
	while [ "${1#-}" != "$1" ]; do o+=("$1"); shift; done
	ctr run "${RT[@]}" --fifo-dir "$CD/fifo" "${o[@]}" --rootfs "$RFS" "$@"
}

ctd_bundle() { echo "$CD/state/io.containerd.runtime.v2.task/$CTD_NS/$1"; }

# Pids of the shims this containerd started for task $1 (every shim with no argument).
ctd_shim_pids() {
	local p
	for p in $(pgrep -f -- "-address $CD/c.sock( |$)"); do
		[ $# = 0 ] && { echo "$p"; continue; }
		tr '\0' '\n' < "/proc/$p/cmdline" 2>/dev/null | grep -A1 -x -- -id | tail -n1 | grep -qxF -- "$1" && echo "$p"
	done
}

# Task pid and status from `ctr task ls` (empty when the task is not listed).
task_pid() { ctr task ls | awk -v id="$1" '$1 == id { print $2 }'; }
task_status() { ctr task ls | awk -v id="$1" '$1 == id { print $3 }'; }

# The case's end: containerd, its shims and their tasks, stray sockets and mounts.
ctd_cleanup() {
	set +e
	[ -n "$CD" ] || return 0
	local p pids="" b socks="" pid st now
	# our background clients (ctr events, ctr run): stopped and reaped
	for p in "${BG_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	pid_wait 5 "${BG_PIDS[@]}" || kill -9 "${BG_PIDS[@]}" 2>/dev/null
	for p in "${BG_PIDS[@]}"; do wait "$p" 2>/dev/null; done
	BG_PIDS=()
	ctd_stop
	# a shim's children are its tasks; init.pid ("pid starttime") catches the tasks of a
	# dead shim, if the pid still names the same process
	for p in $(ctd_shim_pids); do pids="$pids $p $(pgrep -P "$p")"; done
	for b in "$CD"/state/io.containerd.runtime.v2.task/*/*; do
		[ -d "$b" ] || continue
		if read -r pid st < "$b/init.pid" 2>/dev/null && [ -n "$st" ]; then
			now=$(awk '{ sub(/^.*\) /, ""); print $20 }' "/proc/$pid/stat" 2>/dev/null)
			[ "$now" = "$st" ] && pids="$pids $pid"
		fi
		socks="$socks $(sed -n 's#^unix://##p' "$b/address" 2>/dev/null)"
	done
	[ -n "${pids// /}" ] && { note "killing what the case left: $pids"; kill -9 $pids 2>/dev/null; }
	pid_wait 5 $pids || note "still alive after SIGKILL: $pids"
	for p in $socks "${CTD_SOCKS[@]}"; do case "$p" in /*) rm -f "$p" ;; esac; done
	# cgroups under this case's namespace (ctr's spec says <ns>/<id>), once empty
	for p in /sys/fs/cgroup/*/"$CTD_NS" /sys/fs/cgroup/"$CTD_NS"; do
		[ -d "$p" ] && find "$p" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	grep -F " $CD/" /proc/self/mountinfo | awk '{ print $5 }' | sort -r | xargs -r -n1 umount -l 2>/dev/null
	[ "$CD" != "$T" ] && [ -z "${KEEP:-}" ] && rm -rf "$CD"
	return 0
}

# On failure: containerd's logs and the events seen, as TAP diagnostics (lib.sh prefixes
# every line of a failed case's output with '# '). Replaces lib.sh's fail().
fail() {
	echo "# FAIL: $*" >&2
	local f
	for f in "$CD"/ctd-*.log; do
		[ -f "$f" ] || continue
		echo "--- ${f##*/}, last 40 lines ---" >&2
		tail -n 40 "$f" >&2
	done
	[ -s "$CD/events" ] && { echo "--- ctr events ---" >&2; cat "$CD/events" >&2; }
	exit 1
}

# --- events ---------------------------------------------------------------------------

# Start `ctr events` into $CD/events; returns once it is subscribed: a namespace label
# update made after the subscription shows up in it (bounded retries: a label set before
# the stream is in place is never seen).
ctd_events_start() {
	"$CTR_BIN" -a "$CD/c.sock" events > "$CD/events" 2> "$CD/events.err" &
	BG_PIDS+=($!)
	local i
	for i in $(seq 1 20); do
		ctr namespaces label "$CTD_NS" "evsync=$i" || fail "namespaces label"
		wait_line "$CD/events" 0.5 ' /namespaces/update ' "\"evsync\":\"$i\"" >/dev/null && return 0
	done
	fail "ctr events never saw a namespace update: $(cat "$CD/events.err")"
}

# ev_wait TIMEOUT TOPIC ID [FIELD]: the first event TOPIC whose JSON names process ID
# (container_id, or id/exec_id for an exec); prints its JSON body.
ev_wait() {
	local line
	line=$(wait_line "$CD/events" "$1" " $2 {" "\"${4:-container_id}\":\"$3\"") || return 1
	printf '%s\n' "${line#* $2 }"
}

# ev_topics ID [FIELD]: the /tasks/ topics seen so far for ID, in order, on one line.
ev_topics() {
	awk -v k="\"${2:-container_id}\":\"$1\"" '$6 ~ /^\/tasks\// && index($0, k) { printf "%s ", $6 }' \
		"$CD/events" | sed 's/ $//'
}

# json_get JSON KEY: a top-level field ("" when absent: proto3 drops zeros).
json_get() { "$PY" -c 'import json,sys; print(json.loads(sys.argv[1]).get(sys.argv[2], ""))' "$1" "$2"; }

# --- rootfs and image -----------------------------------------------------------------

# A busybox rootfs in DIR: bin/ with the applets, the usual mount points, root in
# /etc/passwd and /etc/group; fixed modes, so the image built from it is the same each run.
ctd_build_rootfs() {
	local d=$1 a
	mkdir -p "$d/bin" "$d/proc" "$d/dev" "$d/sys" "$d/tmp" "$d/etc" "$d/root"
	cp /bin/busybox "$d/bin/busybox"
	for a in $CTD_APPLETS; do ln -s busybox "$d/bin/$a"; done
	echo 'root:x:0:0:root:/root:/bin/sh' > "$d/etc/passwd"
	echo 'root:x:0:' > "$d/etc/group"
	find "$d" -type d -exec chmod 0755 {} +
	chmod 1777 "$d/tmp"
	chmod 0644 "$d/etc/passwd" "$d/etc/group"
	chmod 0755 "$d/bin/busybox"
}

_sha() { sha256sum "$1" | cut -d' ' -f1; }
_size() { stat -c %s "$1"; }

# An OCI image layout tarball of a busybox rootfs, built by hand into DIR/image.tar
# (DIR/rootfs too): one gzip layer, a config with diff_ids and Cmd, a manifest, index.json
# naming it $CTD_IMAGE. Deterministic: sorted tar, fixed owners and mtimes, gzip -n.
ctd_build_image() {
	local d=$1 arch l b cfg man layer diff ldig cdig mdig
	case "$(uname -m)" in
	x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; *) arch=$(uname -m) ;;
	esac
	[ -d "$d/rootfs" ] || ctd_build_rootfs "$d/rootfs"
	l="$d/layout"
	b="$l/blobs/sha256"
	mkdir -p "$b"
	tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=posix \
		--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
		-C "$d/rootfs" -cf "$d/layer.tar" . || return 1
	gzip -n -9 -c "$d/layer.tar" > "$d/layer.tar.gz" || return 1
	diff=$(_sha "$d/layer.tar")
	ldig=$(_sha "$d/layer.tar.gz")
	cp "$d/layer.tar.gz" "$b/$ldig"
	cfg="$d/config.json"
	printf '%s' '{"architecture":"'"$arch"'","os":"linux",'\
'"config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],'\
'"Cmd":["/bin/sh","-c","echo from-image-cmd"],"WorkingDir":"/"},'\
'"rootfs":{"type":"layers","diff_ids":["sha256:'"$diff"'"]},'\
'"history":[{"created_by":"selftest/e2e/ctd.sh"}]}' > "$cfg"
	cdig=$(_sha "$cfg")
	cp "$cfg" "$b/$cdig"
	man="$d/manifest.json"
	printf '%s' '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",'\
'"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:'"$cdig"'","size":'"$(_size "$cfg")"'},'\
'"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:'"$ldig"'","size":'"$(_size "$d/layer.tar.gz")"'}]}' > "$man"
	mdig=$(_sha "$man")
	cp "$man" "$b/$mdig"
	printf '%s' '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",'\
'"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:'"$mdig"'","size":'"$(_size "$man")"','\
'"annotations":{"org.opencontainers.image.ref.name":"'"$CTD_IMAGE"'"},'\
'"platform":{"architecture":"'"$arch"'","os":"linux"}}]}' > "$l/index.json"
	printf '%s' '{"imageLayoutVersion":"1.0.0"}' > "$l/oci-layout"
	tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=ustar \
		-C "$l" -cf "$d/image.tar" oci-layout index.json blobs
}

# Import the image into this case's containerd (unpacked into the overlayfs snapshotter).
ctd_import_image() {
	local img="${CTD_CACHE:-}/image.tar"
	if [ -z "${CTD_CACHE:-}" ] || [ ! -f "$img" ]; then
		mkdir -p "$CD/img"
		ctd_build_image "$CD/img" || fail "building the OCI image"
		img="$CD/img/image.tar"
	fi
	ctr image import "$img" > "$CD/import.out" 2>&1 || fail "image import: $(cat "$CD/import.out")"
	ctr image ls -q | grep -qxF "$CTD_IMAGE" || fail "image $CTD_IMAGE not listed after import: $(cat "$CD/import.out"; ctr image ls)"
}

# In the parent of the cases (once per run of the file): build the rootfs and the image in
# a temp dir the cases copy from; removed when the file's run ends.
ctd_cache_build() {
	[ -x /bin/busybox ] || return 0
	CTD_CACHE=$(mktemp -d /tmp/svc-img.XXXX)
	export CTD_CACHE
	trap 'rm -rf "$CTD_CACHE"' EXIT
	ctd_build_image "$CTD_CACHE" >/dev/null 2>&1 || { rm -rf "$CTD_CACHE"; CTD_CACHE=""; }
}

# The suites that run each case on both runtimes with the same assertions (81, 82, 83):
# PARITY_RTS, from SV_CTD_RUNTIME when set (one runtime).
PARITY_RTS=${SV_CTD_RUNTIME:-io.containerd.shimvisor.v2 io.containerd.runc.v2}

# rt_fail MSG: fail, naming the runtime under test
rt_fail() { fail "$CTD_RT: $*"; }

# each_rt FN: FN TAG once per runtime (TAG, sv or runc, keeps ids apart); ctr's own options
# (RT) name that runtime meanwhile.
each_rt() {
	local rt
	for rt in $PARITY_RTS; do
		[ "$rt" = io.containerd.runc.v2 ] && ! command -v runc >/dev/null &&
			skip_case "runc is not installed (Debian package runc)"
		ctd_runtime "$rt"
		"$1" "$([ "$rt" = io.containerd.runc.v2 ] && echo runc || echo sv)"
	done
}
