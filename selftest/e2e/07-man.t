#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# selftest/e2e/07-man.t: the manual pages (man/) render without a warning, and cannot rot
# silently: every option of `shimvisord --help`, every command and option of
# `shimvisor --help`, every key of etc/shimvisord.conf and every function libshimvisor
# exports is in its page. No daemon.
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$HERE/../.." && pwd)
MAN=$ROOT/man
PAGES="shimvisor.1 libshimvisor.3 shimvisord.conf.5 shimvisord.8 shimvisor-worker.8"

# How a word is written in roff source: each - as \-.
roff() { printf '%s' "$1" | sed 's/-/\\-/g'; }

# The section $2 (a .SH title) of page $1, as roff source.
section() { awk -v s=".SH $2" '$0 == s { on = 1; next } /^\.SH / { on = 0 } on' "$1"; }

test_pages_render_without_warnings() {
	local p out n=0
	command -v man >/dev/null && command -v groff >/dev/null ||
		skip_case "man or groff missing (man-db, groff-base: mk/deps.sh installs them)"
	for p in $PAGES; do
		[ -f "$MAN/$p" ] || fail "man/$p missing"
	done
	for p in "$MAN"/*.[1-8]; do
		n=$((n + 1))
		out=$(groff -ww -z -man -Tutf8 -rLL=80n "$p" 2>&1) || fail "groff $p: $?"
		[ -z "$out" ] || fail "groff warns on $(basename "$p"): $out"
		out=$(MANWIDTH=80 LC_ALL=C man --warnings -l "$p" 2>&1 >"$T/out") || fail "man -l $p: $?"
		[ -z "$out" ] || fail "man warns on $(basename "$p"): $out"
		grep -q '^NAME' "$T/out" && grep -q '^SEE ALSO' "$T/out" ||
			fail "$(basename "$p") renders without NAME or SEE ALSO: $(head -5 "$T/out")"
		# the title line names the page
		head -n1 "$T/out" | grep -qiF "$(basename "$p" | sed 's/\.\([1-8]\)$/(\1)/')" ||
			fail "$(basename "$p"): title line $(head -n1 "$T/out")"
	done
	[ "$n" = 5 ] || fail "$n pages in man/, want the 5 of: $PAGES"
	# each page says which version it describes: SV_VERSION
	local ver
	ver=$(sed -n 's/^#define SV_VERSION *"\(.*\)"/\1/p' "$ROOT/wire/limits.h")
	for p in $PAGES; do
		grep -q "^\.TH .* \"shimvisor $ver\" " "$MAN/$p" ||
			fail "$p: .TH does not name shimvisor $ver: $(grep '^\.TH' "$MAN/$p")"
	done
}

test_daemon_options_documented() {
	local o missing=""
	"$SVD" --help > "$T/help" || fail "shimvisord --help: $?"
	section "$MAN/shimvisord.8" OPTIONS > "$T/opts"
	for o in $(grep -oE '(^|[[ ])--?[A-Za-z][A-Za-z-]*' "$T/help" | tr -d '[ ' | sort -u); do
		grep -qF -- "$(roff "$o")" "$T/opts" || missing="$missing $o"
	done
	[ -z "$missing" ] || fail "shimvisord(8) OPTIONS lacks:$missing"
	grep -q -- '--ready-fd' "$T/help" || fail "did not parse shimvisord --help: $(cat "$T/help")"
}

test_cli_commands_and_options_documented() {
	local w missing=""
	"$SV" --help > "$T/help" || fail "shimvisor --help: $?"
	# commands: the first word of each |-separated part of the lines indented by two
	grep -E '^  [a-z]' "$T/help" | tr '|' '\n' | awk '{ print $1 }' |
		grep -E '^[a-z]+$' | sort -u > "$T/cmds"
	[ "$(wc -l < "$T/cmds")" -ge 18 ] || fail "parsed only $(tr '\n' ' ' < "$T/cmds")"
	section "$MAN/shimvisor.1" COMMANDS > "$T/cmdsec"
	while read -r w; do
		grep -qE "^\.B $w( |$)" "$T/cmdsec" || missing="$missing $w"
	done < "$T/cmds"
	[ -z "$missing" ] || fail "shimvisor(1) COMMANDS lacks:$missing"
	for w in $(grep -oE '(^|[[ ])--?[A-Za-z][A-Za-z-]*' "$T/help" | tr -d '[ ' | sort -u); do
		grep -qF -- "$(roff "$w")" "$MAN/shimvisor.1" || missing="$missing $w"
	done
	[ -z "$missing" ] || fail "shimvisor(1) lacks the options:$missing"
	for w in SHIMVISOR_ADDRESS SHIMVISOR_NAMESPACE; do
		section "$MAN/shimvisor.1" ENVIRONMENT | grep -q "^\.B $w$" || fail "ENVIRONMENT lacks $w"
	done
}

test_config_keys_documented() {
	local k missing=""
	# every key of the sample, commented out or not, is a .TP item of its section
	for k in $(grep -oE '^#?[a-z_]+ *=' "$ROOT/etc/shimvisord.conf" | tr -d '#= ' | sort -u); do
		awk -v k="$k" 'prev == ".TP" && $0 == ".B " k { f = 1 } { prev = $0 } END { exit !f }' \
			"$MAN/shimvisord.conf.5" || missing="$missing $k"
	done
	[ -z "$missing" ] || fail "shimvisord.conf(5) lacks the keys:$missing"
	for k in daemon policy; do
		grep -qx "\.SH \[$k\]" "$MAN/shimvisord.conf.5" || fail "no section [$k]"
	done
}

test_library_functions_documented() {
	local f missing=""
	section "$MAN/libshimvisor.3" SYNOPSIS > "$T/syn"
	for f in $(sed -n 's/^\t\(sv_[a-z_]*\);$/\1/p' "$ROOT/client/libshimvisor.map"); do
		grep -qE "\"?[a-z_ *]*$f\(" "$T/syn" || missing="$missing $f"
	done
	[ -z "$missing" ] || fail "libshimvisor(3) SYNOPSIS lacks:$missing"
	[ "$(sed -n 's/^\t\(sv_[a-z_]*\);$/\1/p' "$ROOT/client/libshimvisor.map" | wc -l)" -ge 30 ] ||
		fail "parsed too few functions of client/libshimvisor.map"
}

run_cases "$@"
