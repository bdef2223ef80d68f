#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Fault injection (issue 11): egressd is SIGSTOPped, then continued.
# While it is stopped the filter is the kernel's alone:
#   - the workload stays filtered: denied addresses stay denied (TCP,
#     UDP), an allowed literal address still passes (the maps are in the
#     kernel, egressd need not run);
#   - DNS waits or fails, never bypasses: a lookup times out; one sent
#     straight to another server too, and that server never sees it; a
#     name not allowed, asked during the stop, never reaches dnsmasq even
#     once egressd runs again;
# and after SIGCONT, a lookup that waited through the stop is answered,
# new lookups work, the denials made during the stop are reported, and
# egressd exits with the command's status.

. "$(dirname "$0")/../lib/lab.sh"

lab_init
lab_require_egressd
lab_up
command -v dig >/dev/null || lab_skip "dig not installed (bind9-dnsutils)"
ROGUE=198.51.100.50
lab_add_host_addr 198.51.100.42 "$ROGUE"
lab_dns_add 'host-record=a.wild.test,198.51.100.42'
lab_start_servers
cat >"$LAB_DIR/rogue.conf" <<'EOF'
host-record=a.wild.test,198.51.100.45
EOF
lab_bg rogue "$LAB_HOST" dnsmasq --keep-in-foreground --no-resolv --no-hosts --no-poll \
	--conf-file="$LAB_DIR/rogue.conf" --bind-interfaces --port=53 --user=root --group=root \
	--pid-file= --listen-address="$ROGUE" --local=/test/ --log-queries --log-facility=-
lab_wait_listen rogue "$LAB_LAST_PID" "$LAB_HOST" u 53 4

P=$LAB_PROBE
state() { sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null; }
asked() { grep -qi "query\[[A-Z]*\] $2 " "$1"; }

lab_section "controls, without egressd"
lab_run_in client dig +short +tries=1 +time=2 @"$ROGUE" ctl.a.wild.test
asked "$LAB_DIR/rogue.log" ctl.a.wild.test && lab_ok "(the other server answers and logs queries)" ||
	lab_fail "(the other server answers and logs queries)"
lab_run_in client dig +short +tries=1 +time=2 ctl.exfil.test
lab_dns_was_asked ctl.exfil.test && lab_ok "(dnsmasq logs queries)" || lab_fail "(dnsmasq logs queries)"
lab_run_in client "${LAB_NOBODY_CMD[@]}" "$P" tcp "$LAB_DENIED4" 80 "$LAB_OK_MS"
lab_check_verdict ok "(the denied host answers TCP without egressd)"
lab_run_in client "${LAB_NOBODY_CMD[@]}" "$P" udp "$LAB_DENIED4" 7 "$LAB_OK_MS"
lab_check_verdict ok "(and UDP)"
ROGUE_SKIP=$(wc -l <"$LAB_DIR/rogue.log")

cat >"$LAB_DIR/w.sh" <<EOF
W=$LAB_WORK
# Its own file: on egressd's stderr, lines of the two could interleave.
exec >>"\$W/w.out" 2>&1
waitfor() { i=0; while [ ! -e "\$W/\$1" ] && [ \$i -lt 400 ]; do sleep 0.05; i=\$((i+1)); done; }
st() { dig +tries=1 +time=2 "\$@" | sed -n 's/.*status: \([A-Z]*\).*/\1/p;s/.*\(timed out\).*/TIMEOUT/p' | head -n1; }
echo "before \$(dig +short +tries=1 +time=2 a.wild.test)"
touch "\$W/ready"; waitfor stopped
# A lookup that waits through the stop (answered after SIGCONT).
dig +tries=1 +time=12 a.wild.test >"\$W/waiter.out" 2>&1 &
echo "stopped allowed \$("$P" tcp $LAB_ALLOWED4 80 $LAB_OK_MS | head -n1)"
echo "stopped denied-tcp \$("$P" tcp $LAB_DENIED4 80 $LAB_BLOCK_MS | head -n1)"
echo "stopped denied-udp \$("$P" udp $LAB_DENIED4 7 $LAB_BLOCK_MS | head -n1)"
echo "stopped dns \$(st a.wild.test)"
echo "stopped dns-tcp \$(st +tcp a.wild.test)"
echo "stopped direct \$(st @$ROGUE a.wild.test)"
echo "stopped exfil \$(st c2VjcmV0.exfil.test)"
touch "\$W/probed"; waitfor cont
wait
echo "waiter \$(sed -n 's/.*status: \([A-Z]*\).*/\1/p' "\$W/waiter.out") \$(grep -c '^a\.wild\.test\..*198\.51\.100\.42' "\$W/waiter.out")"
echo "after dns \$(dig +short +tries=1 +time=3 a.wild.test)"
echo "after denied-tcp \$("$P" tcp $LAB_DENIED4 80 $LAB_BLOCK_MS | head -n1)"
EOF
chmod 0644 "$LAB_DIR/w.sh"

wait_file()
{
	local i

	for ((i = 0; i < 600; i++)); do
		[ -e "$LAB_WORK/$1" ] && return 0
		lab_alive "$EGPID" || { sed 's/^/    /' "$LAB_DIR/eg.log"; lab_die "egressd exited before $1"; }
		sleep 0.05
	done
	sed 's/^/    /' "$LAB_DIR/eg.log"
	kill -CONT "$EGPID" 2>/dev/null
	lab_die "timed out waiting for $1"
}

lab_section "egressd stopped while the workload runs"
# sh stays to say how egressd exited.
lab_bg eg "$LAB_CLIENT" sh -c 'mount -t cgroup2 cgroup2 /sys/fs/cgroup && "$@"; echo "egressd-rc $?"' sh \
	"$EGRESSD" run --user nobody --allow-domains "$LAB_ALLOWED4,*.wild.test" -- \
	sh -c 'sh "$1"; echo "exit 7" >>"$2"; exit 7' sh "$LAB_DIR/w.sh" "$LAB_WORK/w.out"
SHPID=$LAB_LAST_PID
EGPID=$SHPID
lab_wait 10 "egressd to start" sh -c "pgrep -P $SHPID -x egressd"
EGPID=$(pgrep -P "$SHPID" -x egressd)
wait_file ready
[ "$(cat "/proc/$EGPID/comm" 2>/dev/null)" = egressd ] || lab_die "pid $EGPID is not egressd"
kill -STOP "$EGPID"
lab_wait 5 "egressd to stop" sh -c "grep -q '^State:[[:space:]]*T' /proc/$EGPID/status"
touch "$LAB_WORK/stopped"
wait_file probed
s=$(state "$EGPID")
[ "$s" = T ] && lab_ok "egressd was stopped through every check below" ||
	lab_fail "egressd was stopped through every check below" "state: $s"
# Time for a proxy that would forward late to do it: it must not.
sleep 1
kill -CONT "$EGPID"
touch "$LAB_WORK/cont"
lab_wait 40 "egressd to exit" lab_gone "$SHPID"
L=$LAB_DIR/eg.log
O=$LAB_WORK/w.out
sed 's/^/    | /' "$L"
sed 's/^/    w| /' "$O"

expect_grep "$O" '^before 198\.51\.100\.42$' "(before the stop: the name resolves)"
lab_section "while stopped"
expect_grep "$O" '^stopped allowed ok$' "an allowed literal address still passes"
expect_grep "$O" '^stopped denied-tcp blocked errno=EPERM$' "a denied address stays denied (TCP)"
expect_grep "$O" '^stopped denied-udp blocked errno=EPERM$' "and UDP"
expect_grep "$O" '^stopped dns TIMEOUT$' "a lookup waits and times out: no answer from anywhere"
expect_grep "$O" '^stopped dns-tcp TIMEOUT$' "over TCP too"
expect_grep "$O" '^stopped direct TIMEOUT$' "a lookup sent straight to another server times out too"
expect_grep "$O" '^stopped exfil TIMEOUT$' "and a name not allowed"
if tail -n +"$((ROGUE_SKIP + 1))" "$LAB_DIR/rogue.log" | grep -qi 'a\.wild\.test'; then
	lab_fail "the other server never saw a query" "$(tail -n +"$((ROGUE_SKIP + 1))" "$LAB_DIR/rogue.log")"
else
	lab_ok "the other server never saw a query"
fi
expect_no_grep "$O" '198\.51\.100\.45' "its answer never reached the workload"
lab_section "after SIGCONT"
if lab_dns_was_asked c2VjcmV0.exfil.test; then
	lab_fail "the name not allowed never reached dnsmasq, even after SIGCONT"
else
	lab_ok "the name not allowed never reached dnsmasq, even after SIGCONT"
fi
expect_grep "$O" '^waiter NOERROR 1$' "the lookup that waited through the stop is answered"
expect_grep "$O" '^after dns 198\.51\.100\.42$' "new lookups are answered"
expect_grep "$O" '^after denied-tcp blocked errno=EPERM$' "and the filter holds"
expect_grep "$L" 'blocked DNS (dig\[[0-9]+\]|a process) -> c2vjcmv0\.exfil\.test A: name not in allowlist' \
	"the name refused during the stop is reported"
expect_grep "$L" "blocked probe\[[0-9]+\] -> $LAB_DENIED4:80/tcp" "the denials made during the stop are reported"
expect_grep "$O" '^exit 7$' "(the command ran to its end)"
expect_grep "$L" '^egressd-rc 7$' "egressd exits with the command's status"
wait_rc=$(grep -c 'egressd: ERROR' "$L")
[ "$wait_rc" = 0 ] && lab_ok "no ERROR: from egressd" || lab_fail "no ERROR: from egressd" "$(grep 'ERROR' "$L")"

lab_finish
