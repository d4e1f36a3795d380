#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# selftest/e2e/18-inspect.t: `inspect ID...` (the task's state and the summary of its final
# config.json, as JSON) and labels (`ls --filter label=K[=V]`), for a generated task and a
# --bundle one, and the same answers once the engine was killed and replaced.
. "$(dirname "$0")/lib.sh"

# Check the JSON in $T/$1 with the python expression $2 (the parsed document is `d`).
json_ok() {
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
ok = eval(sys.argv[2])
if not ok:
    print("failed: %s\non: %s" % (sys.argv[2], json.dumps(d, indent=1)), file=sys.stderr)
sys.exit(0 if ok else 1)' "$T/$1" "$2"
}

# A --bundle config in $T/b: the host's root read-only, its own namespaces, and labels.
bundle_config() {
	mkdir -p "$T/b"
	cat > "$T/b/config.json" <<JSON
{"ociVersion":"1.0.2",
 "process":{"args":["/bin/sleep","99918"],"env":["PATH=/bin:/usr/bin"],"cwd":"/tmp","user":{"uid":0,"gid":0,"additionalGids":[4]}},
 "root":{"path":"/","readonly":true},
 "hostname":"bundled",
 "mounts":[{"destination":"/proc","type":"proc","source":"proc"},{"destination":"/tmp","type":"tmpfs","source":"tmpfs","options":["nosuid","size=1m"]}],
 "linux":{$OCI_MASKS,"namespaces":[{"type":"pid"},{"type":"ipc"},{"type":"uts"},{"type":"mount"},{"type":"network"}]},
 "annotations":{"io.shimvisor.label.tier":"front","io.shimvisor.label.team":"a=b","io.shimvisor.label.flag":""}}
JSON
}

test_inspect_generated_task() {
	daemon_start
	"$SV" run -d --memory 64m --pids 50 --cpus 0.5 --hostname hh -e A=1 gen /bin/sleep 99917 ||
		fail "run gen"
	"$SV" inspect gen > "$T/i" || fail "inspect gen: $?"
	python3 -m json.tool "$T/i" >/dev/null || fail "not JSON: $(cat "$T/i")"
	pid=$("$SV" state --format json gen | json_field pid)
	json_ok i 'type(d) == list and len(d) == 1' || fail "not one object"
	json_ok i "d[0]['id'] == 'gen' and d[0]['namespace'] == 'default' and d[0]['status'] == 'running' and d[0]['pid'] == $pid and d[0]['bundle'] == '$T/state/default/gen' and d[0]['restart'] == 'no' and d[0]['summary'] is True" ||
		fail "state keys"
	json_ok i "d[0]['args'] == ['/bin/sleep', '99917'] and d[0]['env_count'] == 3 and d[0]['cwd'] == '/' and d[0]['hostname'] == 'hh' and d[0]['terminal'] is False and d[0]['user'] == {'uid': 0, 'gid': 0, 'additional_gids': []}" ||
		fail "process keys"
	json_ok i "len(d[0]['capabilities']) == 13 and 'CAP_MKNOD' not in d[0]['capabilities'] and 'CAP_SYS_ADMIN' not in d[0]['capabilities'] and d[0]['no_new_privileges'] is True" ||
		fail "capabilities"
	json_ok i "d[0]['root'] == {'path': '/', 'readonly': True, 'nodev': True} and d[0]['masked_paths'] == 11 and d[0]['readonly_paths'] == 5" ||
		fail "root"
	json_ok i "[m['destination'] for m in d[0]['mounts']] == ['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys', '/tmp'] and d[0]['mounts'][5] == {'type': 'sysfs', 'source': 'sysfs', 'destination': '/sys', 'options': ['nosuid', 'noexec', 'nodev', 'ro']}" ||
		fail "mounts"
	json_ok i "[n['type'] for n in d[0]['namespaces']] == ['pid', 'ipc', 'uts', 'mount', 'network'] and all(n['path'] == '' for n in d[0]['namespaces']) and d[0]['net'] == 'loopback'" ||
		fail "namespaces"
	json_ok i "d[0]['seccomp']['mode'] == 'default' and d[0]['seccomp']['default_action'] == 'SCMP_ACT_ERRNO' and d[0]['seccomp']['rules'] > 0" ||
		fail "seccomp"
	json_ok i "d[0]['limits'] == {'memory': 67108864, 'pids': 50, 'cpu_quota': 50000, 'cpu_period': 100000, 'cgroups_path': '$(case_cgroup)/default/gen'}" ||
		fail "limits"
	json_ok i "d[0]['labels'] == {} and d[0]['summary_truncated'] is False" || fail "labels"
	# several ids: an array; one missing is an error, the others still printed
	"$SV" run -d gen2 /bin/sleep 99917 || fail "run gen2"
	"$SV" inspect gen nope gen2 > "$T/i2" 2> "$T/err"; rc=$?
	[ $rc = 1 ] || fail "inspect with a missing id: exit $rc"
	[ "$(cat "$T/err")" = "shimvisor: inspect nope: task nope: not found" ] || fail "stderr: $(cat "$T/err")"
	json_ok i2 "[t['id'] for t in d] == ['gen', 'gen2'] and d[1]['limits']['memory'] == 0 and d[1]['limits']['cgroups_path'] == ''" ||
		fail "two tasks"
	"$SV" inspect > /dev/null 2> "$T/err"; rc=$?
	[ $rc = 2 ] && grep -q "inspect: want at least one ID" "$T/err" || fail "no id: $rc $(cat "$T/err")"
	# a stopped task keeps its summary
	"$SV" kill -s KILL gen2; "$SV" wait gen2
	"$SV" inspect gen2 > "$T/i3" || fail "inspect stopped"
	json_ok i3 "d[0]['status'] == 'stopped' and d[0]['exit_status'] == 137 and d[0]['args'] == ['/bin/sleep', '99917']" ||
		fail "stopped task"
	"$SV" delete -f gen gen2
}

test_bundle_task_labels_and_filters() {
	daemon_start
	bundle_config
	"$SV" run -d --bundle "$T/b" bun || fail "run --bundle"
	"$SV" run -d plain /bin/sleep 99919 || fail "run plain"
	"$SV" create other /bin/true || fail "create other"
	"$SV" inspect bun > "$T/i" || fail "inspect bun"
	python3 -m json.tool "$T/i" >/dev/null || fail "not JSON"
	json_ok i "d[0]['labels'] == {'tier': 'front', 'team': 'a=b', 'flag': ''}" || fail "labels"
	json_ok i "d[0]['args'] == ['/bin/sleep', '99918'] and d[0]['cwd'] == '/tmp' and d[0]['hostname'] == 'bundled' and d[0]['user']['additional_gids'] == [4]" ||
		fail "process"
	json_ok i "d[0]['root'] == {'path': '/', 'readonly': True, 'nodev': False} and d[0]['capabilities'] == [] and d[0]['no_new_privileges'] is False" ||
		fail "root and capabilities"
	json_ok i "d[0]['mounts'][1] == {'type': 'tmpfs', 'source': 'tmpfs', 'destination': '/tmp', 'options': ['nosuid', 'size=1m']} and d[0]['seccomp'] == {'mode': 'unconfined', 'default_action': '', 'rules': 0} and d[0]['net'] == ''" ||
		fail "mounts, seccomp"
	# filters: labels all match, statuses are alternatives, keys combine
	[ "$("$SV" ls -q --filter label=tier)" = bun ] || fail "label=tier: $("$SV" ls -q --filter label=tier)"
	[ "$("$SV" ls -q -f label=tier=front -f label=team=a=b)" = bun ] || fail "two labels"
	[ -z "$("$SV" ls -q --filter label=tier=back)" ] || fail "label=tier=back"
	[ -z "$("$SV" ls -q --filter label=tier --filter label=nope)" ] || fail "label and missing label"
	[ "$("$SV" ls -q --filter label=flag=)" = bun ] || fail "empty value"
	[ "$("$SV" ls -q --filter status=created)" = other ] || fail "status=created"
	[ "$("$SV" ls -q --filter status=running | sort | tr '\n' ' ')" = "bun plain " ] || fail "status=running"
	[ "$("$SV" ls -q --filter status=created --filter status=running | wc -l)" = 3 ] || fail "two statuses"
	[ "$("$SV" ls -q --filter id=pl)" = plain ] || fail "id=pl"
	[ -z "$("$SV" ls -q --filter id=pl --filter label=tier)" ] || fail "id and label"
	"$SV" ls --filter label=tier > "$T/ls" || fail "ls table"
	grep -Eq "^default +bun +[0-9]+ +running$" "$T/ls" && [ "$(wc -l < "$T/ls")" = 2 ] || fail "table: $(cat "$T/ls")"
	"$SV" ls --format json --filter status=running > "$T/lsj" || fail "ls json"
	json_ok lsj "sorted(t['id'] for t in d) == ['bun', 'plain'] and [t['labels'] for t in d if t['id'] == 'bun'] == [{'tier': 'front', 'team': 'a=b', 'flag': ''}] and [t['labels'] for t in d if t['id'] == 'plain'] == [{}]" ||
		fail "ls json labels"
	"$SV" ls --filter colour=red 2> "$T/err"; rc=$?
	[ $rc = 2 ] && grep -q 'ls: --filter "colour=red": want label=K\[=V\], status=S or id=ID' "$T/err" ||
		fail "bad filter: $rc $(cat "$T/err")"
	"$SV" delete -f bun plain other
}

# The engine is killed; the next one gets each summary back from its bundle (the monitor's
# scan) and answers inspect and the label filter as before; so does a daemon restarted whole.
test_summary_survives_engine_and_daemon_restart() {
	daemon_start
	bundle_config
	"$SV" run -d --bundle "$T/b" bun || fail "run --bundle"
	"$SV" run -d --pids 20 gen /bin/sleep 99917 || fail "run gen"
	[ -s "$T/state/default/bun/summary" ] || fail "no summary file in the bundle"
	"$SV" inspect bun gen > "$T/before" || fail "inspect before"
	"$SV" ls -q --filter label=team=a=b > "$T/ls-before"
	[ "$(cat "$T/ls-before")" = bun ] || fail "filter before: $(cat "$T/ls-before")"
	eng=$(pgrep -P "$DAEMON_PID" -x shimvisord-eng) || fail "no engine"
	kill -9 "$eng"
	timeout 10 tail --pid="$eng" -f /dev/null || fail "the engine did not end"
	# (clients wait in the backlog until the new engine has re-attached its tasks)
	"$SV" inspect bun gen > "$T/after" || fail "inspect after the engine's restart"
	cmp -s "$T/before" "$T/after" || fail "inspect changed: $(diff "$T/before" "$T/after")"
	[ "$("$SV" ls -q --filter label=team=a=b)" = bun ] || fail "filter after the engine's restart"
	daemon_kill9
	daemon_start
	"$SV" inspect bun gen > "$T/after2" || fail "inspect after the daemon's restart"
	cmp -s "$T/before" "$T/after2" || fail "inspect changed: $(diff "$T/before" "$T/after2")"
	[ "$("$SV" ls -q --filter label=tier)" = bun ] || fail "filter after the daemon's restart"
	"$SV" delete -f bun gen
}

# A restart-policy respawn keeps the bundle, its summary file with it.
test_summary_kept_across_policy_restart() {
	daemon_start
	events_start
	"$SV" run -d --restart on-failure:1 rs /bin/sh -c 'exit 3' || fail "run rs"
	events_wait 20 '"topic":"/tasks/exit"' '"id":"rs"' >/dev/null || fail "first exit"
	timeout 20 sh -c 'until "$1" state --format json rs | grep -q "\"restart_count\":1"; do sleep 0.05; done' _ "$SV" ||
		fail "not restarted: $("$SV" state --format json rs)"
	"$SV" wait rs
	[ -s "$T/state/default/rs/summary" ] || fail "summary file gone after the respawn"
	"$SV" inspect rs > "$T/i" || fail "inspect rs"
	json_ok i "d[0]['restart'] == 'on-failure:1' and d[0]['restart_count'] == 1 and d[0]['args'] == ['/bin/sh', '-c', 'exit 3']" ||
		fail "after the restart"
	"$SV" delete -f rs
}

run_cases "$@"
