#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# selftest/e2e/28-worker-confine.t: a worker confines itself once its task's init is ready
# (capability sets, no_new_privs, seccomp: read from /proc), and clamps every Exec to its
# task whoever sends it: this test plays the compromised engine on the worker's own shim
# socket and asks for CAP_SYS_ADMIN to remount the host's / read-write.
. "$(dirname "$0")/lib.sh"

# The capability bits the worker keeps for its duties (worker/confine.c, DESIGN.md):
# CHOWN DAC_OVERRIDE KILL SETGID SETUID SETPCAP SYS_CHROOT SYS_PTRACE SYS_ADMIN SYS_RESOURCE
DUTIES=$(( (1<<0) | (1<<1) | (1<<5) | (1<<6) | (1<<7) | (1<<8) | (1<<18) | (1<<19) | (1<<21) | (1<<24) ))

# status_hex PID FIELD: a /proc/PID/status capability field as a number
status_hex() { echo $(( 0x$(awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status") )); }
status_field() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }

# The shim socket of task $1: the bundle's `address` (unix://PATH)
shim_socket() {
	local a
	a=$(cat "$T/state/default/$1/address") || return 1
	echo "${a#unix://}"
}

task_init_pid() { cut -d' ' -f1 "$T/state/default/$1/init.pid"; }

test_worker_with_task_is_confined() {
	daemon_start
	"$SV" run -d box /bin/sleep 1000 || fail "run"
	local w ipid had bnd eff task_bnd
	w=$(worker_pid box)
	ipid=$(task_init_pid box)
	had=$(status_hex $$ CapBnd)     # what root holds here (a CI container may lack some)
	task_bnd=$(status_hex "$ipid" CapBnd)
	bnd=$(status_hex "$w" CapBnd)
	eff=$(status_hex "$w" CapEff)
	[ "$bnd" = $(( (DUTIES | task_bnd) & had )) ] ||
		fail "worker CapBnd $(printf %x "$bnd"), want duties | the task's $(printf %x "$task_bnd")"
	[ "$(status_hex "$w" CapPrm)" = "$bnd" ] || fail "worker CapPrm is not its bounding set"
	[ "$eff" = $(( DUTIES & had )) ] || fail "worker CapEff $(printf %x "$eff"), want the duties'"
	[ "$(status_hex "$w" CapInh)" = 0 ] && [ "$(status_hex "$w" CapAmb)" = 0 ] ||
		fail "worker inheritable or ambient capabilities"
	for c in 16 17 20 22 25 2 12 32 33; do  # SYS_MODULE RAWIO PACCT BOOT TIME DAC_READ_SEARCH NET_ADMIN MAC_*
		[ $(( bnd & (1 << c) )) = 0 ] || fail "worker's bounding set keeps capability $c"
	done
	[ "$(status_field "$w" NoNewPrivs)" = 1 ] || fail "worker NoNewPrivs $(status_field "$w" NoNewPrivs)"
	[ "$(status_field "$w" Seccomp)" = 2 ] || fail "worker Seccomp $(status_field "$w" Seccomp)"
	# and the worker still does its duties: exec (setns), pause-free ps, kill, delete
	out=$("$SV" exec box /bin/sh -c 'echo in; grep -E "^(CapBnd|NoNewPrivs|Seccomp):" /proc/self/status') ||
		fail "exec after confinement: $out"
	[ "$(echo "$out" | head -n1)" = in ] || fail "exec output: $out"
	# an ordinary exec gets the task's bounding set, and the worker's filter
	[ $(( 0x$(echo "$out" | awk '$1 == "CapBnd:" { print $2 }') )) = "$task_bnd" ] ||
		fail "exec's bounding set is not the task's: $out"
	echo "$out" | grep -qx 'Seccomp:[[:space:]]*2' || fail "exec without the worker's filter: $out"
	"$SV" ps box >/dev/null || fail "ps"
	"$SV" kill box || fail "kill"
	"$SV" wait box >/dev/null; [ $? = 137 ] || fail "wait after kill"
	"$SV" delete box || fail "delete"
}

test_confined_when_the_task_starts() {
	daemon_start
	"$SV" create box /bin/sleep 1000 || fail "create"
	local w
	w=$(worker_pid box)
	# created, not started: the worker may still be asked for nothing but this task, and
	# confines itself at Start (the seccomp set-up overlaps the init's exec)
	[ "$(status_field "$w" NoNewPrivs)" = 0 ] || fail "confined before Start"
	"$SV" start box || fail "start"
	[ "$(status_field "$w" NoNewPrivs)" = 1 ] && [ "$(status_field "$w" Seccomp)" = 2 ] ||
		fail "not confined after Start: $(grep -E 'NoNewPrivs|Seccomp' "/proc/$w/status")"
	[ $(( $(status_hex "$w" CapBnd) & (1 << 16) )) = 0 ] || fail "keeps CAP_SYS_MODULE after Start"
	"$SV" delete -f box || fail "delete"
}

test_warm_worker_confined_after_handover() {
	daemon_start
	"$SV" run -d warm1 /bin/sleep 1000 || fail "run"
	local w
	w=$(worker_pid warm1)
	grep -q idle "/proc/$w/cmdline" || skip_case "the task did not get a warm worker"
	[ "$(status_field "$w" NoNewPrivs)" = 1 ] && [ "$(status_field "$w" Seccomp)" = 2 ] ||
		fail "warm worker with a task is not confined"
	[ $(( $(status_hex "$w" CapBnd) & (1 << 16) )) = 0 ] || fail "warm worker keeps CAP_SYS_MODULE"
	"$SV" delete -f warm1 || fail "delete"
}

# The compromised engine's Exec: $1 = exec id, $2 = Process JSON. Prints the client's lines.
hostile_exec() {
	printf '%s' "$2" > "$T/spec-$1.json"
	timeout 30 python3 "$HERE/shim_client.py" "$(shim_socket box)" box "$1" "$T/spec-$1.json"
}

test_hostile_exec_with_cap_sys_admin_refused() {
	command -v python3 >/dev/null || skip_case "no python3 for the hostile ttrpc client"
	daemon_start
	"$SV" run -d box /bin/sleep 1000 || fail "run"
	local w caps out
	w=$(worker_pid box)
	[ -S "$(shim_socket box)" ] || fail "no shim socket in the bundle's address"
	# the issue's attack: remount the task's read-only / (the host's) rw, write on the host
	# (in /var/tmp: the task's /tmp is its own tmpfs)
	pwned=/var/tmp/$(basename "$T").pwned
	caps='"CAP_SYS_ADMIN","CAP_DAC_OVERRIDE"'
	out=$(hostile_exec evil '{"args":["/bin/sh","-c","mount -o remount,rw / || exit 3; echo pwned > '"$pwned"' || exit 4"],
		"cwd":"/","user":{"uid":0,"gid":0},
		"capabilities":{"bounding":['"$caps"'],"effective":['"$caps"'],"permitted":['"$caps"'],
		"inheritable":['"$caps"'],"ambient":['"$caps"']}}') || fail "client: $out"
	note "$out"
	[ ! -e "$pwned" ] || { rm -f "$pwned"; fail "the hostile exec wrote on the host"; }
	echo "$out" | grep -q '^exec 0 ' || fail "Exec itself was refused (want the refusal at Start): $out"
	echo "$out" | grep -q "^start [1-9][0-9]* .*process.capabilities.bounding: CAP_SYS_ADMIN is not in the task's bounding set" ||
		fail "Start did not refuse CAP_SYS_ADMIN naming the field: $out"
	awk '$5 == "/" { print $6 }' "/proc/$(task_init_pid box)/mountinfo" | grep -q '^ro' ||
		fail "the task's / is no longer read-only"
	# one set is enough: only the effective set asks for it
	out=$(hostile_exec evil2 '{"args":["/bin/true"],"cwd":"/","user":{"uid":0,"gid":0},
		"capabilities":{"effective":["CAP_SYS_MODULE"]}}') || fail "client: $out"
	echo "$out" | grep -q "^start [1-9][0-9]* .*process.capabilities.effective: CAP_SYS_MODULE is not in the task's bounding set" ||
		fail "effective CAP_SYS_MODULE not refused: $out"
	# without capabilities it gets the task's: the remount fails, nothing is written
	out=$(hostile_exec evil3 '{"args":["/bin/sh","-c","mount -o remount,rw / && echo pwned > '"$pwned"'"],
		"cwd":"/","user":{"uid":0,"gid":0}}') || fail "client: $out"
	echo "$out" | grep -q '^wait 0 [1-9]' && echo "$out" | grep -q '^start 0 ' ||
		fail "exec without capabilities: $out"
	[ ! -e "$pwned" ] || { rm -f "$pwned"; fail "an exec without capabilities wrote on the host"; }
	# the worker and the task still serve
	[ "$(worker_pid box)" = "$w" ] && kill -0 "$w" || fail "the worker is gone"
	[ "$("$SV" exec box /bin/echo alive)" = alive ] || fail "an ordinary exec after the attack"
	"$SV" state box | grep -q running || fail "task state: $("$SV" state box)"
	"$SV" delete -f box || fail "delete"
}

run_cases "$@"
