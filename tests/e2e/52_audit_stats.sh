#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# --audit: nothing is blocked, everything that would be is reported live
# ("audit: would block") and summarised at exit, most frequent first, with
# an --allow-domains suggestion that uses names egressd resolved and leaves
# DNS to non-resolvers out.  --stats: counters at exit.

. "$(dirname "$0")/../lib/lab.sh"


lab_init
lab_require_egressd
lab_up
lab_start_servers

W=$LAB_WORK

# The suggestion line, and the summary's lines (between the header and
# the suggestion), from LAB_ERR.
suggestion() { grep -F 'egressd: audit: to allow all of it, run with: --allow-domains "' "$LAB_ERR"; }
summary_lines() { sed -n '/egressd: audit summary: /,/--allow-domains/p' "$LAB_ERR"; }

# The quoted list of the suggestion, split on commas, one entry a line.
suggested_entries() { suggestion | sed -n 's/.*--allow-domains "\(.*\)"$/\1/p' | tr ',' '\n'; }

# expect_entry_count ENTRY N DESC: ENTRY is in the suggested list N times.
expect_entry_count()
{
	local n

	n=$(suggested_entries | grep -cxF -- "$1")
	if [ "$n" -eq "$2" ]; then
		lab_ok "$3"
	else
		lab_fail "$3" "'$1' appears $n times in: $(suggestion)"
	fi
}

# expect_probe_file FILE ok DESC: the probe's verdict saved in FILE.
expect_probe_file()
{
	local v

	v=$(head -n1 "$1" 2>/dev/null)
	if [ "$v" = "$2" ]; then
		lab_ok "$3"
	else
		lab_fail "$3" "expected '$2', got: $(tr '\n' ' ' <"$1" 2>/dev/null)"
	fi
}

lab_section "--audit: denied traffic flows and is reported"
EG_ARGS=(--allow-domains "$LAB_ALLOWED4" --user nobody --audit)
expect_probe ok "audit: tcp $LAB_DENIED4:80 goes through" tcp "$LAB_DENIED4" 80
expect_grep "$LAB_OUT" '^reply=ok$' "audit: the server's greeting arrives"
expect_grep "$LAB_ERR" '^egressd: isolation ON \(AUDIT' "startup line says AUDIT"
expect_grep "$LAB_ERR" "^egressd: audit: would block probe\[[0-9]+\] -> $LAB_DENIED4:80/tcp: not in allowlist\$" \
	"live line: audit: would block probe[pid] -> $LAB_DENIED4:80/tcp"
expect_no_grep "$LAB_ERR" '^egressd: blocked ' "no 'blocked' lines in audit mode"
expect_grep "$LAB_ERR" '^egressd: audit summary: 1 destination\(s\) would have been blocked:$' \
	"summary header: 1 destination"
# One connect is one occurrence: the packets audit then lets through for
# it are that same attempt (enforcing, they would not exist).
expect_grep "$LAB_ERR" "^egressd:  +1  $LAB_DENIED4:80/tcp  not in allowlist\$" \
	"summary lists $LAB_DENIED4:80/tcp with count 1 and its reason"
expect_no_grep "$LAB_ERR" '\(packet\)' "the connection's packets are not reported on their own"
expect_entry_count "$LAB_DENIED4:80" 1 "suggestion contains $LAB_DENIED4:80"
expect_no_grep "$LAB_ERR" 'DNS went to a server' "no DNS note without DNS to a non-resolver"

expect_probe ok "audit: udp [$LAB_DENIED6]:7 goes through" udp "$LAB_DENIED6" 7
expect_grep "$LAB_ERR" "^egressd: audit: would block probe\[[0-9]+\] -> \[$LAB_DENIED6\]:7/udp: not in allowlist\$" \
	"live line: audit: would block probe[pid] -> [$LAB_DENIED6]:7/udp"
expect_entry_count "[$LAB_DENIED6]:7" 1 "suggestion contains [$LAB_DENIED6]:7"

lab_section "--audit with names: the suggestion uses the name egressd resolved"
# allowed.test resolves to $LAB_ALLOWED4 and $LAB_ALLOWED6; only :443 is allowed,
# so port 80 on either address is a named destination.
EG_ARGS=(--no-dns-proxy --allow-domains allowed.test:443 --user nobody --audit)
lab_egressd run "${EG_ARGS[@]}" -- sh -c '
	p=$0 w=$1
	"$p" tcp 198.51.100.10 80 3000 >"$w/n1.out"
	"$p" tcp 2001:db8::10 80 3000 >"$w/n2.out"
	"$p" tcp 198.51.100.20 80 3000 >"$w/n3.out"
	"$p" tcp 198.51.100.20 80 3000 >"$w/n4.out"
	"$p" tcp 198.51.100.30 53 3000 >"$w/n5.out"
	exit 0' "$LAB_PROBE" "$W"
expect_rc 0 "audit workload ran to the end"
expect_probe_file "$W/n1.out" ok "audit: tcp $LAB_ALLOWED4:80 (allowed.test, wrong port) goes through"
expect_probe_file "$W/n2.out" ok "audit: tcp [$LAB_ALLOWED6]:80 (allowed.test, wrong port) goes through"
expect_probe_file "$W/n3.out" ok "audit: tcp $LAB_DENIED4:80 goes through"
expect_probe_file "$W/n5.out" ok "audit: tcp $LAB_OTHER4:53 (DNS to a non-resolver) goes through"
expect_grep "$LAB_ERR" "^egressd: audit: would block probe\[[0-9]+\] -> $LAB_ALLOWED4:80/tcp \(allowed.test\): port not allowed\$" \
	"live line names allowed.test and says port not allowed"
expect_grep "$LAB_ERR" '^egressd: audit summary: 4 destination\(s\) would have been blocked:$' \
	"summary header: 4 destinations"
summary_lines >"$LAB_DIR/summary.txt"
expect_grep "$LAB_DIR/summary.txt" "^egressd:  +[0-9]+  $LAB_ALLOWED4:80/tcp \(allowed.test\)  port not allowed\$" \
	"summary: $LAB_ALLOWED4:80/tcp (allowed.test) port not allowed"
expect_grep "$LAB_DIR/summary.txt" "^egressd:  +[0-9]+  \[$LAB_ALLOWED6\]:80/tcp \(allowed.test\)  port not allowed\$" \
	"summary: [$LAB_ALLOWED6]:80/tcp (allowed.test) port not allowed"
expect_grep "$LAB_DIR/summary.txt" "^egressd:  +[0-9]+  $LAB_DENIED4:80/tcp  not in allowlist\$" \
	"summary: $LAB_DENIED4:80/tcp not in allowlist"
expect_grep "$LAB_DIR/summary.txt" "^egressd:  +[0-9]+  $LAB_OTHER4:53/tcp  DNS to a non-resolver\$" \
	"summary: $LAB_OTHER4:53/tcp DNS to a non-resolver"
# Most frequent first: the counts never go up down the list.
counts=$(sed -n 's/^egressd:  *\([0-9][0-9]*\)  .*/\1/p' "$LAB_DIR/summary.txt" | tr '\n' ' ')
if [ -n "$counts" ] && [ "$(echo $counts | tr ' ' '\n' | sort -rn | tr '\n' ' ')" = "$counts" ]; then
	lab_ok "summary sorted by count, most first ($counts)"
else
	lab_fail "summary sorted by count, most first" "counts in order: '$counts'"
fi
# Counted per attempt: two connects to $LAB_DENIED4:80, one to each other.
if [ "$counts" = "2 1 1 1 " ]; then
	lab_ok "counts are attempts: 2 for $LAB_DENIED4:80, 1 for each of the others"
else
	lab_fail "counts are attempts: 2 1 1 1" "got '$counts'"
fi
expect_grep "$LAB_DIR/summary.txt" "^egressd:  +2  $LAB_DENIED4:80/tcp  " "$LAB_DENIED4:80 (2 connects) listed first with count 2"
expect_no_grep "$LAB_ERR" '\(packet\)' "no per-packet lines for connections audit let through"
if [ "$(suggestion | wc -l)" -eq 1 ]; then
	lab_ok "one suggestion line"
else
	lab_fail "one suggestion line" "found $(suggestion | wc -l)"
fi
expect_entry_count allowed.test 1 "suggestion names allowed.test once (for both addresses)"
expect_entry_count "$LAB_DENIED4:80" 1 "suggestion contains $LAB_DENIED4:80"
n=$(suggested_entries | wc -l)
if [ "$n" -eq 2 ]; then
	lab_ok "suggestion has exactly those 2 entries"
else
	lab_fail "suggestion has exactly those 2 entries" "$(suggestion)"
fi
if suggestion | grep -qF -e "$LAB_OTHER4" -e ':53'; then
	lab_fail "DNS to a non-resolver is not suggested" "$(suggestion)"
else
	lab_ok "DNS to a non-resolver is not suggested"
fi
if suggestion | grep -qF -e "$LAB_ALLOWED4" -e "$LAB_ALLOWED6"; then
	lab_fail "addresses of allowed.test are not suggested by address" "$(suggestion)"
else
	lab_ok "addresses of allowed.test are not suggested by address"
fi
expect_grep "$LAB_ERR" '^egressd: audit: DNS went to a server that is not a resolver' \
	"DNS to a non-resolver gets its own note"

lab_section "--audit with nothing to report"
EG_ARGS=(--allow-domains "$LAB_ALLOWED4" --user nobody --audit)
expect_probe ok "audit: allowed tcp $LAB_ALLOWED4:80" tcp "$LAB_ALLOWED4" 80
expect_grep "$LAB_ERR" '^egressd: audit: nothing would have been blocked$' "summary: nothing would have been blocked"
expect_no_grep "$LAB_ERR" 'allow-domains "' "no suggestion when nothing was blocked"

lab_section "without --audit: no summary, no stats"
EG_ARGS=(--allow-domains "$LAB_ALLOWED4" --user nobody)
lab_egressd run "${EG_ARGS[@]}" -- "$LAB_PROBE" tcp "$LAB_DENIED4" 80 1000
expect_grep "$LAB_ERR" "^egressd: blocked probe\[[0-9]+\] -> $LAB_DENIED4:80/tcp" "enforcing: blocked line"
expect_no_grep "$LAB_ERR" 'audit' "enforcing: no audit lines"
expect_no_grep "$LAB_ERR" 'stats:' "no stats lines without --stats"

lab_section "--stats"
EG_ARGS=(--allow-domains allowed.test --user nobody --stats)
lab_egressd run "${EG_ARGS[@]}" -- sh -c '
	"$0" tcp 198.51.100.10 80 3000 >"$1/s1.out"
	"$0" udp 198.51.100.10 7 3000 >"$1/s2.out"
	"$0" tcp 198.51.100.20 80 3000 >"$1/s3.out"
	"$0" udp 198.51.100.20 7 3000 >"$1/s4.out"
	exit 0' "$LAB_PROBE" "$W"
expect_rc 0 "stats workload ran to the end"
expect_probe_file "$W/s1.out" ok "stats run: tcp $LAB_ALLOWED4:80 allowed"
expect_probe_file "$W/s2.out" ok "stats run: udp $LAB_ALLOWED4:7 allowed"
expect_probe_file "$W/s3.out" "blocked errno=EPERM" "stats run: tcp $LAB_DENIED4:80 blocked"
expect_probe_file "$W/s4.out" "blocked errno=EPERM" "stats run: udp $LAB_DENIED4:7 blocked"
ST=$LAB_DIR/stats.txt
grep '^egressd: stats: ' "$LAB_ERR" >"$ST"
line=$(grep -E '^egressd: stats: packets allowed [0-9]+ \([0-9]+ bytes\), denied [0-9]+ \([0-9]+ bytes\)$' "$ST")
pa=$(sed -n 's/.*packets allowed \([0-9]*\) .*/\1/p' <<<"$line")
pd=$(sed -n 's/.*, denied \([0-9]*\) .*/\1/p' <<<"$line")
if [ -n "$line" ] && [ "${pa:-0}" -ge 3 ]; then
	lab_ok "packets allowed line: $pa packets (a TCP exchange and a UDP echo)"
else
	lab_fail "packets allowed line with the allowed traffic counted" "line: '$line'"
fi
if [ "${pd:-x}" = 0 ]; then
	lab_ok "packets denied 0: the socket hooks stopped everything before a packet"
else
	lab_fail "packets denied 0" "line: '$line'"
fi
expect_grep "$ST" '^egressd: stats: connect4 +allowed +in allowlist +1 calls$' "stats: connect4 allowed 1 call"
expect_grep "$ST" '^egressd: stats: connect4 +denied +not in allowlist +1 calls$' "stats: connect4 denied 1 call"
expect_grep "$ST" '^egressd: stats: sendmsg4 +allowed +in allowlist +1 calls$' "stats: sendmsg4 allowed 1 call"
expect_grep "$ST" '^egressd: stats: sendmsg4 +denied +not in allowlist +1 calls$' "stats: sendmsg4 denied 1 call"
expect_grep "$ST" '^egressd: stats: packet +allowed +in allowlist +[1-9][0-9]* packets$' "stats: packet allowed in allowlist"
r4=$(grep -E "^egressd: stats: rule $LAB_ALLOWED4/32 \(allowed.test\): [0-9]+ packets, [0-9]+ bytes\$" "$ST")
rp=$(sed -n 's/.*: \([0-9]*\) packets.*/\1/p' <<<"$r4")
if [ -n "$r4" ] && [ "${rp:-0}" -ge 3 ] && [ "${rp:-0}" -eq "${pa:-x}" ]; then
	lab_ok "per-rule line: $LAB_ALLOWED4/32 (allowed.test) carries all $rp allowed packets"
else
	lab_fail "per-rule line for $LAB_ALLOWED4/32 (allowed.test)" "line: '$r4', packets allowed: '$pa'"
fi
expect_grep "$ST" "^egressd: stats: rule $LAB_ALLOWED6/128 \(allowed.test\): 0 packets, 0 bytes\$" \
	"per-rule line: $LAB_ALLOWED6/128 (allowed.test) unused: 0 packets"

lab_section "--stats with --audit: would-be-denied packets are counted"
EG_ARGS=(--allow-domains "$LAB_ALLOWED4" --user nobody --stats --audit)
expect_probe ok "audit+stats: tcp $LAB_DENIED4:80 goes through" tcp "$LAB_DENIED4" 80
line=$(grep -E '^egressd: stats: packets allowed [0-9]+ \([0-9]+ bytes\), denied [0-9]+ \([0-9]+ bytes\)$' "$LAB_ERR")
pd=$(sed -n 's/.*, denied \([0-9]*\) .*/\1/p' <<<"$line")
if [ "${pd:-0}" -ge 1 ]; then
	lab_ok "audit+stats: $pd packets counted as denied"
else
	lab_fail "audit+stats: packets counted as denied" "line: '$line'"
fi
expect_grep "$LAB_ERR" '^egressd: stats: connect4 +denied +not in allowlist +1 calls$' "audit+stats: connect4 denied 1 call"
expect_grep "$LAB_ERR" '^egressd: stats: packet +denied +not in allowlist +[1-9][0-9]* packets$' "audit+stats: packet denied line"
expect_grep "$LAB_ERR" '^egressd: audit summary: ' "audit+stats: the audit summary is there too"

lab_finish
