#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# A --log-file that takes nothing (/dev/full, ENOSPC) loses no deny event
# silently: each one goes to stderr instead, a warning says so at the first
# failure, an ERROR: line at exit counts them, and a command that exited 0
# makes egressd exit 125.  A command that failed keeps its own status.

. "$(dirname "$0")/../lib/lab.sh"

lab_init
lab_require_egressd
lab_up
lab_start_servers

[ -c /dev/full ] || lab_skip "no /dev/full on this machine"

PY=$LAB_PY
ALLOW=(--allow-domains "$LAB_ALLOWED4" --user nobody)
# The workload: two blocked attempts (TCP, UDP), then exit with $2.
WORKLOAD='"$0" tcp '"$LAB_DENIED4"' 80 1000 >"$1/tcp.out"
"$0" udp '"$LAB_DENIED4"' 7 1000 >"$1/udp.out"
exit "$2"'
TCP_LINE="-> $LAB_DENIED4:80/tcp: not in allowlist"
UDP_LINE="-> $LAB_DENIED4:7/udp: not in allowlist"

# expect_count FILE STRING N DESC: N lines of FILE contain STRING.
expect_count()
{
	local n

	n=$(grep -cF -- "$2" "$1")
	if [ "$n" -eq "$3" ]; then
		lab_ok "$4"
	else
		lab_fail "$4" "want $3 line(s) with '$2', found $n"
	fi
}

expect_blocked_attempts()
{
	if [ "$(head -n1 "$LAB_WORK/tcp.out")" = "blocked errno=EPERM" ] &&
		[ "$(head -n1 "$LAB_WORK/udp.out")" = "blocked errno=EPERM" ]; then
		lab_ok "$1: both attempts were blocked with EPERM"
	else
		lab_fail "$1: both attempts were blocked with EPERM" \
			"tcp: $(head -n1 "$LAB_WORK/tcp.out"), udp: $(head -n1 "$LAB_WORK/udp.out")"
	fi
}

lab_section "control: a --log-file that takes every line"
LOG=$LAB_WORK/events.log
lab_egressd run "${ALLOW[@]}" --log-file "$LOG" -- sh -c "$WORKLOAD" "$LAB_PROBE" "$LAB_WORK" 0
expect_rc 0 "the command's status 0 passes through"
expect_blocked_attempts "control"
expect_count "$LOG" "egressd: blocked probe[" 2 "both deny events are in the log file"
expect_no_grep "$LAB_ERR" 'egressd: blocked' "no deny event on stderr"
expect_no_grep "$LAB_ERR" 'ERROR:' "no ERROR:"

lab_section "--log-file /dev/full, text: events on stderr, the loss counted, exit 125"
lab_egressd run "${ALLOW[@]}" --log-file /dev/full -- sh -c "$WORKLOAD" "$LAB_PROBE" "$LAB_WORK" 0
expect_rc 125 "the command exited 0 but deny events were lost from the file: exit 125"
expect_blocked_attempts "/dev/full"
expect_count "$LAB_ERR" "$TCP_LINE" 1 "the TCP deny event is on stderr"
expect_count "$LAB_ERR" "$UDP_LINE" 1 "the UDP deny event is on stderr"
expect_grep "$LAB_ERR" "^egressd: blocked probe\[[0-9]+\] $TCP_LINE\$" "it is the usual deny line"
expect_count "$LAB_ERR" \
	"egressd: WARNING: cannot write deny events to /dev/full: No space left on device; writing them to stderr instead" \
	1 "one warning at the first failed write"
expect_count "$LAB_ERR" \
	"egressd: ERROR: 2 deny events could not be written to /dev/full: No space left on device (they went to stderr instead)" \
	1 "the ERROR: line at exit counts both and names the file and the errno"
if [ "$(tail -n1 "$LAB_ERR")" = "egressd: ERROR: 2 deny events could not be written to /dev/full: No space left on device (they went to stderr instead)" ]; then
	lab_ok "the ERROR: line is the last word"
else
	lab_fail "the ERROR: line is the last word" "last line: $(tail -n1 "$LAB_ERR")"
fi

lab_section "--log-file /dev/full, a failing command keeps its status"
lab_egressd run "${ALLOW[@]}" --log-file /dev/full -- sh -c "$WORKLOAD" "$LAB_PROBE" "$LAB_WORK" 3
expect_rc 3 "the command's status 3 passes through"
expect_count "$LAB_ERR" "egressd: ERROR: 2 deny events could not be written to /dev/full" 1 \
	"the loss is still reported"
expect_count "$LAB_ERR" "$TCP_LINE" 1 "the deny event is on stderr"

lab_section "--log-file /dev/full, JSON Lines: the fallback is JSON Lines too"
lab_egressd run "${ALLOW[@]}" --log-format json --log-file /dev/full -- \
	sh -c "$WORKLOAD" "$LAB_PROBE" "$LAB_WORK" 0
expect_rc 125 "exit 125"
grep '^{' "$LAB_ERR" >"$LAB_DIR/json.lines"
if out=$("$PY" -c '
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1])]
got = sorted((o["event"], o["proto"], o["daddr"], o["dport"]) for o in objs)
want = sorted([("deny", "tcp", sys.argv[2], 80), ("deny", "udp", sys.argv[2], 7)])
if got != want:
    sys.exit("got %r, want %r" % (got, want))
' "$LAB_DIR/json.lines" "$LAB_DENIED4" 2>&1); then
	lab_ok "both deny events are on stderr as JSON objects"
else
	lab_fail "both deny events are on stderr as JSON objects" "$out"
fi
expect_count "$LAB_ERR" "egressd: ERROR: 2 deny events could not be written to /dev/full" 1 \
	"the loss is reported"

lab_finish
