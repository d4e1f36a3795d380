#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# selftest/e2e/14-reload.t: SIGHUP rereads shimvisord.conf: a live setting takes effect at once
# (the log level, a client limit, the policy), a broken file changes nothing and says why, a
# setting that needs a restart is named and not applied; tasks, workers and the engine are
# never touched. Synchronised on the daemon's own lines (-F: stderr to $T/daemon.log).
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3     # not a per-user shim: uid 65534 runs it too

# Wait (bounded) until the daemon's log holds at least $2 lines matching the regex $1.
log_wait() {
	local end=$((SECONDS + 20))
	until [ "$(grep -cE -- "$1" "$T/daemon.log")" -ge "$2" ]; do
		[ $SECONDS -lt $end ] || fail "no $2 lines '$1' in the log: $(cat "$T/daemon.log")"
		sleep 0.02
	done
}

log_count() { grep -cE -- "$1" "$T/daemon.log"; }

# (unanchored at the start: whatever prefix the log lines carry)
APPLIED='reload: .*: applied \('
IN_EFFECT='engine: the reloaded settings are in effect$'
REFUSED='reload: .*; keeping the running settings$'

# SIGHUP; returns once the monitor applied the file and the engine took its settings.
reload_applied() {
	local a i
	a=$(log_count "$APPLIED") i=$(log_count "$IN_EFFECT")
	kill -HUP "$DAEMON_PID"
	log_wait "$APPLIED" $((a + 1))
	log_wait "$IN_EFFECT" $((i + 1))
}

# SIGHUP with a file that must be refused; returns once it was.
reload_refused() {
	local r
	r=$(log_count "$REFUSED")
	kill -HUP "$DAEMON_PID"
	log_wait "$REFUSED" $((r + 1))
}

engine_pid() { pgrep -P "$DAEMON_PID" -x shimvisord-eng; }

# As uid $1 (with the socket's group): open $2 connections, then say how many the engine
# kept and why it refused the others. It takes connections in order: once one more, opened
# last, is answered or refused, every earlier one is settled.
hold_as() {
	command -v setpriv >/dev/null || skip_case "no setpriv"
	local gid
	gid=$(getent group shimvisor | cut -d: -f3)
	[ -n "$gid" ] || fail "no group shimvisor (mk/deps.sh creates it)"
	chmod 755 "$T"     # the socket's directory, for the other uid
	setpriv --reuid="$1" --regid="$1" --groups="$gid" "$PY" - "$T/ctl.sock" "$2" <<'PY'
import select, socket, struct, sys
path, n = sys.argv[1], int(sys.argv[2])
def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(20)
    s.connect(path)
    return s
socks = [conn() for _ in range(n)]
v = conn()
body = b"\x0a\x14shimvisor.v1.Control\x12\x07Version"
try:                # refused (the uid's cap) or answered: either way settled
    v.sendall(struct.pack(">IIBB", len(body), 1, 1, 0) + body)
    v.recv(1 << 16)
except OSError:
    pass
kept, why = 0, set()
for s in socks:
    if not select.select([s], [], [], 0)[0]:
        kept += 1
        continue
    d = s.recv(1 << 16)
    if b"too many" in d:
        why.add(d[d.find(b"too many"):].decode(errors="replace"))
print("kept %d" % kept)
for w in sorted(why):
    print("refused: %s" % w)
PY
}

# (a) log_level info -> debug: a client's connection is logged at debug only after it.
test_log_level_live() {
	printf '[daemon]\nlog_level = info\n' > "$T/conf"
	daemon_start -c "$T/conf"
	"$SV" version >/dev/null || fail "version"
	grep -q 'accepted' "$T/daemon.log" && fail "a debug line at info: $(cat "$T/daemon.log")"
	printf '[daemon]\nlog_level = debug\n' > "$T/conf"
	reload_applied
	grep -qE "$APPLIED"'log_level\)$' "$T/daemon.log" || fail "applied line: $(cat "$T/daemon.log")"
	"$SV" version >/dev/null || fail "version after the reload"
	log_wait 'engine: client [0-9]+ of uid 0 accepted$' 1
	# an engine started after the reload (a restart) has the reloaded level from the start
	local eng end=$((SECONDS + 20))
	eng=$(engine_pid)
	kill -9 "$eng"
	until [ -n "$(engine_pid)" ] && [ "$(engine_pid)" != "$eng" ]; do
		[ $SECONDS -lt $end ] || fail "no engine after the kill: $(cat "$T/daemon.log")"
		sleep 0.02
	done
	"$SV" version >/dev/null || fail "version from the restarted engine"
	log_wait 'engine: client [0-9]+ of uid 0 accepted$' 2
	# and back: the engine stops logging at debug
	printf '[daemon]\nlog_level = info\n' > "$T/conf"
	reload_applied
	local n
	n=$(log_count 'accepted$')
	"$SV" version >/dev/null || fail "version at info"
	"$SV" version >/dev/null || fail "version at info"
	[ "$(log_count 'accepted$')" = "$n" ] || fail "debug lines after info again: $(cat "$T/daemon.log")"
}

# (b) + (c) client_peer_max, from a non-root client's side: a broken file is refused with its
# line and the old cap holds; a good one lowers the cap for the next connections.
test_broken_refused_then_limit_live() {
	printf '[daemon]\nallow_uids = 0 65534 65533\nclient_peer_max = 3\n' > "$T/conf"
	daemon_start -c "$T/conf"
	out=$(hold_as 65534 5) || fail "uid 65534: $out"
	[ "$(echo "$out" | head -n1)" = "kept 3" ] || fail "before: $out"
	printf '[daemon]\nallow_uids = 0 65534 65533\nclient_peer_max = 1\nbogus_key = 1\n' > "$T/conf"
	reload_refused
	grep -qF "reload: $T/conf:4: [daemon] bogus_key = 1: unknown key or bad value; keeping the running settings" \
		"$T/daemon.log" || fail "refusal: $(cat "$T/daemon.log")"
	grep -qE "$APPLIED" "$T/daemon.log" && fail "a broken file applied: $(cat "$T/daemon.log")"
	out=$(hold_as 65533 5) || fail "uid 65533: $out"
	[ "$out" = "kept 3
refused: too many connections from uid 65533 (client_peer_max 3)" ] || fail "after the refused reload: $out"
	# now a good file: the cap is 1 for what connects next
	printf '[daemon]\nallow_uids = 0 65534 65533 65532\nclient_peer_max = 1\n' > "$T/conf"
	reload_applied
	grep -qE "$APPLIED"'allow_uids, client_peer_max\)$' "$T/daemon.log" ||
		fail "applied line: $(cat "$T/daemon.log")"
	out=$(hold_as 65532 5) || fail "uid 65532: $out"
	[ "$out" = "kept 1
refused: too many connections from uid 65532 (client_peer_max 1)" ] || fail "after the reload: $out"
	"$SV" version >/dev/null || fail "root not served"
}

# (c) the [policy]: a create it refused is permitted after a reload, and refused again after
# the next; the task created meanwhile runs on, untouched. (e) the engine, the task and its
# worker are the same processes across every reload.
test_policy_live_tasks_untouched() {
	: > "$T/conf"
	daemon_start -c "$T/conf"
	out=$("$SV" run --rm --net host nh /bin/true 2>&1) && fail "--net host ran under the default policy"
	echo "$out" | grep -q "the host's network namespace is not permitted" || fail "refused with: $out"
	"$SV" run -d keep /bin/sleep 1000 || fail "run keep"
	local eng wpid tpid
	eng=$(engine_pid) wpid=$(worker_pid keep)
	tpid=$("$SV" state --format json keep | json_field pid)
	printf '[daemon]\nlog_level = debug\nclient_idle_ms = 5000\n[policy]\nhost_namespaces = net\n' > "$T/conf"
	reload_applied
	grep -qE "$APPLIED"'log_level, client_idle_ms, policy\)$' "$T/daemon.log" ||
		fail "applied line: $(cat "$T/daemon.log")"
	"$SV" run -d --net host hn /bin/sleep 1000 || fail "--net host refused after the reload"
	printf '[daemon]\n[policy]\nhost_namespaces =\n' > "$T/conf"
	reload_applied
	out=$("$SV" run --rm --net host nh2 /bin/true 2>&1) && fail "--net host ran after the policy dropped it"
	echo "$out" | grep -q "the host's network namespace is not permitted" || fail "refused with: $out"
	# nothing that ran was touched
	[ "$(engine_pid)" = "$eng" ] || fail "the engine was restarted: $eng -> $(engine_pid)"
	[ "$(worker_pid keep)" = "$wpid" ] && kill -0 "$wpid" || fail "keep's worker changed or died"
	[ "$("$SV" state --format json keep | json_field pid)" = "$tpid" ] && kill -0 "$tpid" ||
		fail "keep's task changed or died"
	"$SV" ls | grep -qE '^default +hn +[0-9]+ +running' || fail "hn: $("$SV" ls)"
	grep -q 'engine (pid' "$T/daemon.log" && fail "an engine end: $(cat "$T/daemon.log")"
	"$SV" kill -s KILL keep && "$SV" kill -s KILL hn || fail "kill"
	"$SV" wait keep; "$SV" wait hn
	"$SV" delete keep hn || fail "delete"
}

# (d) state and address cannot change live: named in one warning, not applied; the daemon
# keeps serving where it did. The live change beside them is applied.
test_fixed_settings_named() {
	rm -f "$T/ready"
	mkfifo "$T/ready"
	printf '[daemon]\nstate = %s\naddress = %s\n' "$T/state" "$T/ctl.sock" > "$T/conf"
	"$SVD" -F -c "$T/conf" --pidfile "$T/shimvisord.pid" --cgroup-parent "$(case_cgroup)" \
		--ready-fd 3 3>"$T/ready" 2>>"$T/daemon.log" &
	DAEMON_PID=$!
	[ "$(timeout 10 head -c1 "$T/ready" | od -An -c | tr -d ' ')" = '\n' ] ||
		fail "daemon not ready: $(cat "$T/daemon.log")"
	export SHIMVISOR_ADDRESS="$T/ctl.sock"
	printf '[daemon]\nstate = %s\naddress = %s\nclient_root_reserve = 7\n' "$T/state2" "$T/other.sock" > "$T/conf"
	reload_applied
	grep -qE 'reload: state, address: changed; take effect at the next start$' \
		"$T/daemon.log" || fail "warning: $(cat "$T/daemon.log")"
	grep -qE "$APPLIED"'client_root_reserve\)$' "$T/daemon.log" || fail "applied: $(cat "$T/daemon.log")"
	[ ! -e "$T/state2" ] && [ ! -e "$T/other.sock" ] || fail "a fixed setting was applied"
	[ "$("$SV" run --rm r /bin/echo served)" = served ] || fail "not served at the old address"
	[ -d "$T/state/default" ] || [ -z "$(ls "$T/state")" ] || fail "state: $(ls -a "$T/state")"
}

run_cases "$@"
