#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Fault injection (issue 11): the upstream DNS server dies mid-run, then
# comes back.  One egressd run throughout, no restart:
#   - while dnsmasq is dead, names fail (SERVFAIL), egressd warns and
#     egressd status counts them, and nothing bypasses the proxy: a query
#     sent straight to another live server (one that would answer) is
#     still answered by the proxy, SERVFAIL, and never reaches it;
#   - an address learned before the death stays allowed until its TTL
#     runs out, and is refused after, since no answer can renew it;
#   - dnsmasq restarted, the same egressd resolves again, old and new names.

. "$(dirname "$0")/../lib/lab.sh"

lab_init
lab_require_egressd
lab_up
command -v dig >/dev/null || lab_skip "dig not installed (bind9-dnsutils)"
ROGUE=198.51.100.50
lab_add_host_addr 198.51.100.42 198.51.100.43 198.51.100.45 "$ROGUE"
lab_dns_add 'host-record=a.wild.test,198.51.100.42' 'host-record=b.wild.test,198.51.100.43'
lab_start_servers

# Another DNS server, alive the whole time, that would answer b.wild.test
# with an address of its own: what a bypass would reach.
cat >"$LAB_DIR/rogue.conf" <<'EOF'
host-record=b.wild.test,198.51.100.45
EOF
lab_bg rogue "$LAB_HOST" dnsmasq --keep-in-foreground --no-resolv --no-hosts --no-poll \
	--conf-file="$LAB_DIR/rogue.conf" --bind-interfaces --port=53 --user=root --group=root \
	--pid-file= --listen-address="$ROGUE" --local=/test/ --log-queries --log-facility=-
lab_wait_listen rogue "$LAB_LAST_PID" "$LAB_HOST" u 53 4

PY=/usr/bin/python3
TTL=4
# rogue_asked NAME: the other server logged a query for NAME after the controls.
ROGUE_SKIP=0
rogue_asked() { tail -n +"$((ROGUE_SKIP + 1))" "$LAB_DIR/rogue.log" | grep -qi "query\[[A-Z]*\] $1 "; }

lab_section "controls, without egressd"
lab_run_in client dig +short +tries=1 +time=2 @"$ROGUE" ctl.b.wild.test
lab_run_in client dig +short +tries=1 +time=2 @"$ROGUE" b.wild.test
expect_fgrep "$LAB_OUT" 198.51.100.45 "(the other server answers b.wild.test with .45)"
rogue_asked ctl.b.wild.test && lab_ok "(and its log shows the queries it gets)" ||
	lab_fail "(and its log shows the queries it gets)"
ROGUE_SKIP=$(wc -l <"$LAB_DIR/rogue.log")

# The workload, in three phases the test paces with files in $LAB_WORK.
cat >"$LAB_DIR/w.sh" <<EOF
W=$LAB_WORK
# Its own file: on egressd's stderr, lines of the two could interleave.
exec >"\$W/w.out" 2>&1
st() { dig +tries=1 +time=5 "\$@" | sed -n 's/.*status: \([A-Z]*\).*/\1/p'; }
ans() { dig +short +tries=1 +time=5 "\$@" | tr '\n' ' '; }
conn() { "$PY" -c '
import socket, sys
s = socket.socket(); s.settimeout(2)
try:
    s.connect((sys.argv[1], 80)); print("ok" if s.recv(4).startswith(b"ok") else "noanswer")
except PermissionError:
    print("EPERM")
except OSError as e:
    print("ERR:" + e.__class__.__name__)
' "\$1"; }
waitfor() { i=0; while [ ! -e "\$W/\$1" ] && [ \$i -lt 400 ]; do sleep 0.05; i=\$((i+1)); done; }

echo "p1 a \$(ans a.wild.test)"
t0=\$(date +%s.%N)
echo "p1 connect42 \$(conn 198.51.100.42)"
touch "\$W/p1"; waitfor dead
echo "p2 b \$(st b.wild.test)"
echo "p2 direct \$(st @$ROGUE b.wild.test)"
echo "p2 direct-tcp \$(st +tcp @$ROGUE b.wild.test)"
echo "p2 connect42 \$(conn 198.51.100.42)"
touch "\$W/p2"; waitfor read
# Past the TTL of a.wild.test's address (learned at t0).
"$PY" -c 'import sys, time; time.sleep(max(0, float(sys.argv[1]) + $TTL + 1.5 - time.time()))' "\$t0"
echo "p2 a-again \$(st a.wild.test)"
echo "p2 expired42 \$(conn 198.51.100.42)"
touch "\$W/p3"; waitfor back
echo "p3 a \$(ans a.wild.test)"
echo "p3 connect42 \$(conn 198.51.100.42)"
echo "p3 b \$(ans b.wild.test)"
echo "p3 connect43 \$(conn 198.51.100.43)"
EOF
chmod 0644 "$LAB_DIR/w.sh"

# wait_file FILE: until it exists, or die if egressd exited first.
wait_file()
{
	local i

	for ((i = 0; i < 400; i++)); do
		[ -e "$LAB_WORK/$1" ] && return 0
		lab_alive "$EGPID" || { sed 's/^/    /' "$LAB_DIR/eg.log"; lab_die "egressd exited before $1"; }
		sleep 0.05
	done
	sed 's/^/    /' "$LAB_DIR/eg.log"
	lab_die "timed out waiting for $1"
}

lab_section "one egressd run while dnsmasq dies and comes back"
lab_bg eg "$LAB_CLIENT" sh -c 'mount -t cgroup2 cgroup2 /sys/fs/cgroup && exec "$@"' sh \
	"$EGRESSD" run --user nobody --min-ttl "$TTL" --max-ttl "$TTL" \
	--allow-domains '*.wild.test' -- sh "$LAB_DIR/w.sh"
EGPID=$LAB_LAST_PID
wait_file p1
kill "$LAB_DNS_PID"
lab_wait 5 "dnsmasq to die" lab_gone "$LAB_DNS_PID"
touch "$LAB_WORK/dead"
wait_file p2
CHILD=$(pgrep -P "$EGPID" | head -n1)
HOSTCG=$(lab_pid_cgroup "$CHILD") || lab_die "no cgroup for the workload"
lab_run_in client "$EGRESSD" status --cgroup "/sys/fs/cgroup${HOSTCG#"$LAB_CG2"}" --format json
"$PY" -c 'import json, sys; print("upstream_failed=%d" % json.load(sys.stdin)["faults"]["dns_upstream_failed"])' \
	<"$LAB_OUT" >"$LAB_DIR/faults" 2>&1
sed 's/^/    faults| /' "$LAB_DIR/faults"
touch "$LAB_WORK/read"
wait_file p3
lab_start_dns
lab_wait_listen dnsmasq "$LAB_DNS_PID" "$LAB_HOST" u 53 4
touch "$LAB_WORK/back"
lab_wait 30 "egressd to exit" lab_gone "$EGPID"
L=$LAB_DIR/eg.log
O=$LAB_WORK/w.out
sed 's/^/    | /' "$L"
sed 's/^/    w| /' "$O"

expect_grep "$O" '^p1 a 198\.51\.100\.42 $' "before: a.wild.test resolves"
expect_grep "$O" '^p1 connect42 ok$' "before: its address is reachable"
lab_section "upstream dead"
expect_grep "$O" '^p2 b SERVFAIL$' "a new name fails: SERVFAIL"
expect_grep "$O" "^p2 direct SERVFAIL$" "a query straight to another server gets the proxy's SERVFAIL"
expect_grep "$O" "^p2 direct-tcp SERVFAIL$" "over TCP too"
if rogue_asked b.wild.test; then
	lab_fail "the other server never saw the workload's query" "$(grep -i 'b.wild.test' "$LAB_DIR/rogue.log")"
else
	lab_ok "the other server never saw the workload's query"
fi
expect_no_grep "$O" '198\.51\.100\.45' "its answer (.45) never reached the workload"
expect_grep "$O" '^p2 connect42 ok$' "an address learned before stays allowed within its TTL"
expect_grep "$L" 'WARNING: DNS proxy: upstream failed for b\.wild\.test: .*; answered SERVFAIL' \
	"egressd warns that the upstream failed"
expect_grep "$LAB_DIR/faults" '^upstream_failed=[1-9][0-9]*$' "egressd status counts the upstream failures"
expect_grep "$O" '^p2 a-again SERVFAIL$' "the learned name cannot be renewed either"
expect_grep "$O" '^p2 expired42 EPERM$' "after its TTL the address is refused"
lab_section "upstream back, same egressd"
expect_grep "$O" '^p3 a 198\.51\.100\.42 $' "a.wild.test resolves again"
expect_grep "$O" '^p3 connect42 ok$' "and is learned and reachable again"
expect_grep "$O" '^p3 b 198\.51\.100\.43 $' "b.wild.test resolves"
expect_grep "$O" '^p3 connect43 ok$' "and is reachable"
expect_grep "$L" 'isolation ON' "(it was one egressd run)"
n=$(grep -c 'isolation ON' "$L")
[ "$n" = 1 ] && lab_ok "egressd was never restarted" || lab_fail "egressd was never restarted" "$n start lines"

lab_finish
