# SPDX-License-Identifier: Apache-2.0
# selftest/e2e/cri/cri.sh: a private containerd with its CRI plugin for 87-cri.t (sourced
# after lib.sh and ctd.sh, whose start, stop, waits and clean-up it reuses): runtime
# handlers `shimvisor` (io.containerd.shimvisor.v2) and `runc` (io.containerd.runc.v2), CNI
# bridge networking from Debian's plugins on a bridge and subnet of the case's own, a
# sandbox ("pause") image and a busybox image built locally and imported into k8s.io.
#
# Beside ctd.sh's layout, under $CD:
#   cni/10-e2e.conflist cni-ipam/     the CNI config (bridge $CRI_BR) and host-local's leases
#   logs/                             the pods' log directories (CRI's container logs)
#   runc/                             the reference runc's state (runtime option Root)
#   gen/api_pb2.py                    api.proto compiled by protoc (cri.py imports it)
#   cri.in cri.out                    FIFOs of the case's `cri.py serve`
# Pods' cgroups go under $CRI_CG (/svcri-<suffix>) on every v1 hierarchy (the pod's own
# made by containerd's runtime, removed by pod_down as kubelet would); their network
# namespaces under containerd's state (netns_mounts_under_state_dir). The host's
# ip_forward, iptables and oom_score_adj floor are left as they are.

CRI_DIR="$HERE/cri"
CRI_IMAGE=localhost/shimvisor/busybox:e2e     # ctd.sh's image, as CRI names it
CRI_PAUSE=localhost/shimvisor/pause:e2e       # the same layer, Cmd sleeps
CRI_HANDLERS=${SV_CRI_HANDLERS:-shimvisor runc}
CRI_BR=""
CRI_CG=""
CRI_NET=""     # the case's /24 as a.b.c (the bridge is .1)

# cri METHOD [JSON]: one CRI call, its reply JSON on stdout; an error on stderr, status 1.
# Through the case's `cri.py serve` once cri_serve started it, else a cri.py of its own.
CRI_W=""
CRI_R=""
cri() {
	local line
	if [ -z "$CRI_W" ]; then
		CRI_GEN="$CD/gen" timeout -k 2 40 "$PY" "$CRI_DIR/cri.py" "$CD/c.sock" call "$@"
		return
	fi
	printf '%s\t%s\n' "$1" "$(printf '%s' "${2:-"{}"}" | tr '\n' ' ')" >&"$CRI_W"
	IFS= read -r -t 45 -u "$CRI_R" line || fail "cri.py serve: no answer to $1"
	case $line in
	"0 "*) printf '%s\n' "${line#0 }" ;;
	*) printf '%s\n' "${line#1 }" >&2; return 1 ;;
	esac
}

# Wait (30 s at most) until a restarted containerd's CRI plugin has recovered its state: until
# then it answers every call "server is not initialized yet".
cri_ready() {
	local end=$((SECONDS + 30)) err
	while [ $SECONDS -lt $end ]; do
		err=$(cri ListPodSandbox '{}' 2>&1 >/dev/null) && return 0
		case $err in *"not initialized"*) ;; *) printf '%s\n' "$err" >&2; return 1 ;; esac
	done
	echo "the CRI plugin did not finish its start" >&2
	return 1
}

# Start `cri.py serve` on two FIFOs (its stdin, then its stdout: opened in that order on
# both sides); ctd_cleanup stops it with the other background clients.
cri_serve() {
	mkfifo "$CD/cri.in" "$CD/cri.out"
	CRI_GEN="$CD/gen" "$PY" "$CRI_DIR/cri.py" "$CD/c.sock" serve < "$CD/cri.in" > "$CD/cri.out" &
	BG_PIDS+=($!)
	exec {CRI_W}> "$CD/cri.in" {CRI_R}< "$CD/cri.out"
}
# cri_stream URL [cri.py stream options]: an Exec/Attach URL over WebSocket.
cri_stream() { timeout -k 2 30 "$PY" "$CRI_DIR/cri.py" - stream "$@"; }
# jq-like: cri_get JSON EXPR prints the Python expression EXPR of the parsed JSON `j`.
cri_get() { "$PY" -c 'import json,sys; j=json.loads(sys.argv[1]); v=eval(sys.argv[2]); print(json.dumps(v) if isinstance(v,(dict,list)) else v)' "$1" "$2"; }

# A free /24 in 10.213.0.0/16 that no route of the host's covers; the third byte from the
# case's suffix, then the next ones.
cri_subnet() {
	local n i
	n=$(( $(printf '%s' "$CD" | cksum | cut -d' ' -f1) % 250 ))
	for i in $(seq 0 249); do
		CRI_NET="10.213.$(( (n + i) % 250 + 1 ))"
		ip -4 route show | grep -qF "$CRI_NET." || return 0
	done
	fail "no free 10.213.x.0/24"
}

cri_setup() {
	[ -x /usr/lib/cni/bridge ] && [ -x /usr/lib/cni/host-local ] && [ -x /usr/lib/cni/loopback ] ||
		skip_case "no CNI plugins in /usr/lib/cni (Debian package containernetworking-plugins)"
	"$PY" -c 'import grpc, google.protobuf' 2>/dev/null || skip_case "python3-grpcio and python3-protobuf are needed"
	command -v protoc >/dev/null || skip_case "protoc is not installed (Debian package protobuf-compiler)"
	need_v1
	# ctd.sh's containerd, its checks and layout; restarted below with the CRI plugin
	ctd_setup
	trap 'cri_cleanup; ctd_cleanup; case_cleanup' EXIT
	ctd_stop
	CRI_BR="svcri${CD##*.}"
	CRI_BR=${CRI_BR:0:15}
	CRI_CG="/svcri-${CD##*.}"
	mkdir -p "$CD/cni" "$CD/cni-ipam" "$CD/logs" "$CD/gen" "$CD/runc"
	protoc -I "$CRI_DIR" --python_out="$CD/gen" "$CRI_DIR/api.proto" || fail "protoc api.proto"
	cri_subnet
	# the bridge is ours, made before containerd: the CNI bridge plugin (isGateway false)
	# only attaches veths to it, and so never turns on the host's ip_forward
	ip link add "$CRI_BR" type bridge || fail "ip link add $CRI_BR"
	ip addr add "$CRI_NET.1/24" dev "$CRI_BR" && ip link set "$CRI_BR" up || fail "bridge $CRI_BR"
	cat > "$CD/cni/10-e2e.conflist" <<EOF
{"cniVersion": "1.0.0", "name": "$CRI_BR", "plugins": [
  {"type": "bridge", "bridge": "$CRI_BR", "isGateway": false, "ipMasq": false,
   "ipam": {"type": "host-local", "dataDir": "$CD/cni-ipam",
            "ranges": [[{"subnet": "$CRI_NET.0/24", "rangeStart": "$CRI_NET.10"}]]}}]}
EOF
	local cri='plugins."io.containerd.grpc.v1.cri"'
	sed -i '/^disabled_plugins = /d' "$CD/config.toml"
	cat >> "$CD/config.toml" <<EOF

[$cri]
  sandbox_image = "$CRI_PAUSE"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  disable_apparmor = true
  # this host's bounding set lacks CAP_SYS_RESOURCE: the sandbox's -998 could not be set
  # (by runc either); containerd then clamps to its own (as for rootless)
  restrict_oom_score_adj = true
  disable_cgroup = false
  netns_mounts_under_state_dir = true
  enable_unprivileged_ports = false
  enable_unprivileged_icmp = false

[$cri.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[$cri.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[$cri.containerd.runtimes.runc.options]
  Root = "$CD/runc"

[$cri.containerd.runtimes.shimvisor]
  runtime_type = "io.containerd.shimvisor.v2"

[$cri.cni]
  bin_dir = "/usr/lib/cni"
  conf_dir = "$CD/cni"
  max_conf_num = 1
EOF
	ctd_start
	cri_serve
	cri_images
	cri Version > "$CD/version.json" || fail "CRI Version: is the plugin up?"
}

# Both images, into containerd's k8s.io namespace: ctd.sh's busybox OCI layout plus a second
# manifest (same layer, Cmd a long sleep) named $CRI_PAUSE, imported with one `ctr import`.
cri_images() {
	local d=${CTD_CACHE:-}
	if [ -z "$d" ] || [ ! -f "$d/cri-image.tar" ]; then
		d="$CD/img"
		mkdir -p "$d"
		ctd_build_image "$d" >/dev/null || fail "building the OCI image"
		cri_pause_layout "$d" || fail "adding the pause image"
	fi
	CTD_NS=k8s.io ctr image import "$d/cri-image.tar" > "$CD/import.out" 2>&1 ||
		fail "image import: $(cat "$CD/import.out")"
	local i
	for i in "$CRI_IMAGE" "$CRI_PAUSE"; do
		cri ImageStatus '{"image": {"image": "'"$i"'"}}' | grep -qF '"repo_tags": ["'"$i"'"]' ||
			fail "CRI does not see image $i: $(cri ImageStatus '{"image": {"image": "'"$i"'"}}')"
	done
}

# cri_pause_layout DIR: DIR/layout (ctd_build_image's) gets the pause image's config and
# manifest; DIR/cri-image.tar is the layout with both.
cri_pause_layout() {
	"$PY" - "$1/layout" "$CRI_PAUSE" <<'PY' || return 1
import hashlib, json, os, sys
lay, name = sys.argv[1:3]
blobs = os.path.join(lay, "blobs", "sha256")
def put(obj):
    b = json.dumps(obj, separators=(",", ":"), sort_keys=True).encode()
    d = hashlib.sha256(b).hexdigest()
    open(os.path.join(blobs, d), "wb").write(b)
    return "sha256:" + d, len(b)
index = json.load(open(os.path.join(lay, "index.json")))
desc = index["manifests"][0]
man = json.load(open(os.path.join(blobs, desc["digest"].split(":")[1])))
cfg = json.load(open(os.path.join(blobs, man["config"]["digest"].split(":")[1])))
cfg["config"]["Cmd"] = ["/bin/sleep", "2000000000"]
man["config"]["digest"], man["config"]["size"] = put(cfg)
d = dict(desc)
d["digest"], d["size"] = put(man)
d["annotations"] = {"org.opencontainers.image.ref.name": name}
index["manifests"].append(d)
json.dump(index, open(os.path.join(lay, "index.json"), "w"), separators=(",", ":"))
PY
	tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=ustar \
		-C "$1/layout" -cf "$1/cri-image.tar" oci-layout index.json blobs
}

# Once per run of the file (the parent): both images built into a temp dir the cases import.
cri_cache_build() {
	ctd_cache_build
	[ -n "${CTD_CACHE:-}" ] && { cri_pause_layout "$CTD_CACHE" >/dev/null 2>&1 || rm -f "$CTD_CACHE/cri-image.tar"; }
	return 0
}

# On failure: containerd's errors and the shims' lines, each cut to 400 bytes (ctd.sh's fail
# prints its log's tail, where one debug line of a spec runs to kilobytes). Replaces it.
fail() {
	echo "# FAIL: $*" >&2
	grep -h -e level=error -e level=warn -e '^shimvisor' "$CD"/ctd-*.log 2>/dev/null | tail -n 30 | cut -c1-400 >&2
	exit 1
}

# --- pods and containers ----------------------------------------------------------------

# pod_config NAME: a PodSandboxConfig (JSON) of pod NAME under $CRI_CG, logs in $CD/logs.
pod_config() {
	mkdir -p "$CD/logs/$1"
	printf '{"metadata": {"name": "%s", "uid": "uid-%s", "namespace": "e2e", "attempt": 0},
 "hostname": "%s", "log_directory": "%s", "labels": {"e2e": "%s"},
 "linux": {"cgroup_parent": "%s/%s",
           "security_context": {"namespace_options": {"network": "POD", "pid": "CONTAINER", "ipc": "POD"}}}}' \
		"$1" "$1" "$1" "$CD/logs/$1" "$1" "$CRI_CG" "$1"
}

# run_pod NAME HANDLER: RunPodSandbox; prints the sandbox id.
run_pod() {
	local r
	r=$(cri RunPodSandbox '{"config": '"$(pod_config "$1")"', "runtime_handler": "'"$2"'"}') ||
		fail "$2: RunPodSandbox $1"
	cri_get "$r" 'j["pod_sandbox_id"]'
}

# ctr_config NAME CMDJSON [EXTRA [RESOURCES]]: a ContainerConfig of the busybox image running
# CMDJSON (a JSON list), namespaces as kubelet asks by default (network and IPC the pod's,
# pid its own); EXTRA, JSON members added ("stdin": true); RESOURCES, its
# LinuxContainerResources.
ctr_config() {
	printf '{"metadata": {"name": "%s"}, "image": {"image": "%s"}, "command": %s, "log_path": "%s.log",
 "linux": {"resources": %s, "security_context": {"namespace_options": {"network": "POD", "pid": "CONTAINER", "ipc": "POD"}}}%s}' \
		"$1" "$CRI_IMAGE" "$2" "$1" "${4:-{\}}" "${3:+, $3}"
}

# run_ctr POD PODNAME NAME CMDJSON [EXTRA [RESOURCES]]: CreateContainer + StartContainer;
# prints its id.
run_ctr() {
	local r id
	r=$(cri CreateContainer '{"pod_sandbox_id": "'"$1"'", "config": '"$(ctr_config "$3" "$4" "${5:-}" "${6:-}")"',
		"sandbox_config": '"$(pod_config "$2")"'}') || fail "CreateContainer $3 in $2"
	id=$(cri_get "$r" 'j["container_id"]')
	cri StartContainer '{"container_id": "'"$id"'"}' >/dev/null || fail "StartContainer $3 ($id)"
	echo "$id"
}

# exec_sync ID CMD...: ExecSync; prints "EXIT STDOUT" (stdout's whitespace squeezed).
exec_sync() {
	local id=$1 r
	shift
	r=$(cri ExecSync "$("$PY" -c 'import json,sys; print(json.dumps({"container_id": sys.argv[1], "cmd": sys.argv[2:], "timeout": 10}))' "$id" "$@")") ||
		return 1
	cri_get "$r" 'str(j["exit_code"]) + " " + " ".join(__import__("base64").b64decode(j["stdout"]).decode().split())'
}

# ctr_state ID: CONTAINER_RUNNING etc. (ContainerStatus)
ctr_state() { cri_get "$(cri ContainerStatus '{"container_id": "'"$1"'"}')" 'j["status"]["state"]'; }

# wait_state ID STATE [TIMEOUT]: poll ContainerStatus (containerd's CRI state has no
# subscription in runtime.v1 1.6) until STATE, bounded.
wait_state() {
	local end=$((SECONDS + ${3:-10})) s
	while :; do
		s=$(ctr_state "$1")
		[ "$s" = "$2" ] && return 0
		[ $SECONDS -lt $end ] || { note "$1: state $s, not $2"; return 1; }
		sleep 0.1
	done
}

# pod_down POD NAME: StopPodSandbox + RemovePodSandbox (which stop and remove its
# containers), then, as kubelet does, the pod's cgroup: rmdir fails unless it is empty.
pod_down() {
	local d
	cri StopPodSandbox '{"pod_sandbox_id": "'"$1"'"}' >/dev/null || fail "StopPodSandbox $2"
	cri RemovePodSandbox '{"pod_sandbox_id": "'"$1"'"}' >/dev/null || fail "RemovePodSandbox $2"
	for d in /sys/fs/cgroup/*"$CRI_CG/$2"; do
		[ -d "$d" ] || continue
		rmdir "$d" || fail "pod $2: cgroup $d not empty: $(find "$d" -mindepth 1 -type d)"
	done
}

# ctr_info ID EXPR: EXPR of ContainerStatus's verbose "info" (containerd's JSON: pid,
# runtimeSpec, ...), parsed as `j`.
ctr_info() {
	cri_get "$(cri_get "$(cri ContainerStatus '{"container_id": "'"$1"'", "verbose": true}')" 'j["info"]["info"]')" "$2"
}

# The shim processes of this containerd (every process whose command line names its address).
cri_shims() { pgrep -f -- "-address $CD/c.sock( |$)"; }

# nothing_left_cri: no shim, no bundle or runc state, no mount under $CD (rootfs, shm,
# netns), no netns file, no veth on the bridge, no container cgroup (so no task process).
nothing_left_cri() {
	local s cg
	s=$(cri_shims)
	[ -z "$s" ] || pid_wait 5 $s || fail "shims left: $(ps -o pid,args -p "$(echo $s | tr ' ' ,)")"
	[ -z "$(find "$CD/runc" -mindepth 2 2>/dev/null)" ] || fail "runc state left: $(find "$CD/runc" -mindepth 2)"
	ls "$CD"/state/io.containerd.runtime.v2.task/k8s.io 2>/dev/null | grep -q . &&
		fail "bundles left: $(ls "$CD"/state/io.containerd.runtime.v2.task/k8s.io)"
	grep -qF " $CD/" /proc/self/mountinfo && fail "mounts left: $(grep -F " $CD/" /proc/self/mountinfo)"
	[ -z "$(ls "$CD"/state/io.containerd.grpc.v1.cri/netns 2>/dev/null)" ] ||
		fail "netns left: $(ls "$CD"/state/io.containerd.grpc.v1.cri/netns)"
	[ -z "$(ip -o link show master "$CRI_BR" 2>/dev/null)" ] || fail "veths left: $(ip -o link show master "$CRI_BR")"
	# the pods' own cgroups are kubelet's to make and remove; containers' are below them
	cg=$(find /sys/fs/cgroup/*"$CRI_CG" -mindepth 2 -type d 2>/dev/null)
	[ -z "$cg" ] || fail "cgroups left: $cg"
	return 0
}

# The CRI parts of the clean-up (before ctd.sh's): pods removed while containerd still runs,
# then the bridge and its veths, the pods' cgroups.
cri_cleanup() {
	set +e
	[ -n "$CD" ] || return 0
	local p
	CRI_W=""     # calls of their own, each with a short timeout: containerd may be stuck
	if [ -n "$CTD_PID" ] && [ -S "$CD/c.sock" ]; then
		for p in $(CRI_TIMEOUT=5 cri ListPodSandbox '{}' 2>/dev/null | "$PY" -c 'import json,sys; [print(i["id"]) for i in json.load(sys.stdin)["items"]]' 2>/dev/null); do
			CRI_TIMEOUT=10 cri StopPodSandbox '{"pod_sandbox_id": "'"$p"'"}' >/dev/null 2>&1
			CRI_TIMEOUT=10 cri RemovePodSandbox '{"pod_sandbox_id": "'"$p"'"}' >/dev/null 2>&1
		done
	fi
	ctd_stop
	# task processes in the pods' cgroups (what a failed case left): killed by pid
	p=$(cat /sys/fs/cgroup/pids"$CRI_CG"/*/*/cgroup.procs /sys/fs/cgroup/pids"$CRI_CG"/*/cgroup.procs 2>/dev/null)
	[ -n "$p" ] && { note "killing pod processes left: $p"; kill -9 $p 2>/dev/null; pid_wait 5 $p; }
	for p in $(ip -o link show master "$CRI_BR" 2>/dev/null | awk -F': ' '{ print $2 }' | cut -d@ -f1); do
		ip link del "$p" 2>/dev/null
	done
	[ -n "$CRI_BR" ] && ip link del "$CRI_BR" 2>/dev/null
	for p in /sys/fs/cgroup/*"$CRI_CG"; do
		[ -d "$p" ] && find "$p" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	return 0
}
