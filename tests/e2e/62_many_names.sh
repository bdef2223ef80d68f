#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Many names (issue 7): an allowlist of 2,000 names resolves, and egressd
# starts with all of them.  When every A and AAAA query went out in one
# burst, the lab dnsmasq answered the first 256 names and dropped the rest,
# the retries went out as a burst too, so from the 257th name on every name
# timed out and egressd refused to start.  egressd now keeps a bounded
# window of queries in flight (user/dns.c).
#
# Names (lab dnsmasq, authoritative for .test): nI.many.test for I in
# 1..2000 -> 198.51.100.(100 + I % 100) and 2001:db8::1:I (I in hex), so
# every name has its own AAAA; n2000.many.test -> 198.51.100.10 +
# 2001:db8::10 (the lab's allowed host) instead, for the probes.

. "$(dirname "$0")/../lib/lab.sh"

N=2000

lab_init
lab_require_egressd
lab_up

# For name I: NAME, A4 and A6 (printf -v: 2,000 subshells would be slow).
name_addrs()
{
	printf -v NAME 'n%d.many.test' "$1"
	if [ "$1" -eq "$N" ]; then
		A4=$LAB_ALLOWED4 A6=$LAB_ALLOWED6
	else
		A4=198.51.100.$((100 + $1 % 100))
		printf -v A6 '2001:db8::1:%x' "$1"
	fi
}

RECORDS=()
for ((i = 1; i <= N; i++)); do
	name_addrs "$i"
	RECORDS+=("host-record=$NAME,$A4,$A6")
	printf '%s\n' "$NAME" >&3
	printf '%s %s %s 3\n' "$NAME" "$A4" "$A6" >&4
done 3>"$LAB_WORK/allow.txt" 4>"$LAB_DIR/want.txt"
sort -o "$LAB_DIR/want.txt" "$LAB_DIR/want.txt"
LAST=$NAME
lab_dns_add "${RECORDS[@]}"
lab_start_servers

lab_section "egressd resolve: all $N names, A and AAAA"
# The names come from a file so that the log shows a short command line.
lab_run_in client sh -c 'exec "$0" resolve $(cat "$1")' "$EGRESSD" "$LAB_WORK/allow.txt"
expect_rc 0 "egressd resolve exits 0"
n=$(grep -c 'Failed to resolve domain' "$LAB_ERR")
if [ "$n" -eq 0 ]; then
	lab_ok "no name failed"
else
	lab_fail "no name failed" "$n names failed, first: $(grep -m1 'Failed to resolve domain' "$LAB_ERR")"
fi
# Each output line is "NAME ADDR..."; compare as "NAME A AAAA", sorted.
awk '{ a4 = a6 = ""; for (i = 2; i <= NF; i++) if ($i ~ /:/) a6 = $i; else a4 = $i
       print $1, a4, a6, NF }' "$LAB_OUT" | sort >"$LAB_DIR/got.txt"
if diff "$LAB_DIR/want.txt" "$LAB_DIR/got.txt" >"$LAB_DIR/diff.txt"; then
	lab_ok "every name has exactly its A and its AAAA"
else
	lab_fail "every name has exactly its A and its AAAA" \
		"$(grep -c '^[<>]' "$LAB_DIR/diff.txt") lines differ, first: $(grep -m1 '^[<>]' "$LAB_DIR/diff.txt")"
fi
if lab_dns_was_asked "$LAST"; then
	lab_ok "the lab resolver was asked about the last name"
else
	lab_fail "the lab resolver was asked about the last name" "no query for $LAST in the dnsmasq log"
fi

lab_section "egressd run --allow-file with $N names"
lab_egressd run --allow-file "$LAB_WORK/allow.txt" --user nobody -- true
expect_rc 0 "egressd run ... -- true exits 0"
expect_no_grep "$LAB_ERR" 'Failed to resolve domain|refusing to start' "egressd did not refuse to start"

EG_ARGS=(--allow-file "$LAB_WORK/allow.txt" --user nobody)
expect_probe ok "tcp $LAB_ALLOWED4:80 ($LAST, the last name)" tcp "$LAB_ALLOWED4" 80
expect_probe ok "tcp [$LAB_ALLOWED6]:80 ($LAST, its AAAA)" tcp "$LAB_ALLOWED6" 80
expect_probe blocked "tcp $LAB_DENIED4:80 (in no name's answer)" tcp "$LAB_DENIED4" 80

lab_finish
