#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Case 14 (issue 11, family 13): flooding the deny-event ring buffer.
# Every refused connect/sendmsg is an event the BPF programs push to
# egressd's ring buffer; a workload can make millions a second.  A full
# ring must cost events, never enforcement, and egressd must keep serving
# its DNS proxy.  The workload starts four flooders (UDP sendto to every
# port of the denied host, over IPv4 and IPv6, each EPERM: a distinct
# destination per event), and while they run sends the marker to the
# denied host and asks egressd's proxy for an allowed name (router.test)
# five times, each with a 3 s deadline.  Control: the same marker and
# query without egressd (and without the flood, which would only be
# traffic to the denied host) reach the denied host and dnsmasq.
# Asserted under egressd: no marker frame, the marker's sendmsg EPERM,
# every DNS query answered, the flooders really sent (their own count of
# refusals), and egressd exits with the command's status.

. "$(dirname "$0")/lib.sh"

adv_init
adv_up
adv_start_servers

PORT=5555
FLOOD_S=${ADV_FLOOD_S:-4}
ADV_ALLOW_MORE=router.test

cat >"$LAB_DIR/flood.py" <<'EOPY'
import errno, os, socket, sys, time
host, secs = sys.argv[1], float(sys.argv[2])
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
end = time.monotonic() + secs
n = refused = 0
while time.monotonic() < end:
    for port in range(1024, 65536, 7):
        try:
            s.sendto(b"f", (host, port))
        except OSError as e:
            if e.errno == errno.EPERM:
                refused += 1
        n += 1
print(f"flood {host}: {n} sends, {refused} EPERM", flush=True)
EOPY
chmod 0644 "$LAB_DIR/flood.py"

# The workload: FLOOD=1 starts the flooders first.
cat >"$LAB_DIR/workload.sh" <<EOSH
A=$ADV_ATTACK
if [ "\$FLOOD" = 1 ]; then
	for h in $ADV_DENIED4 $ADV_DENIED6 $ADV_DENIED4 $ADV_DENIED6; do
		$LAB_PY $LAB_DIR/flood.py \$h $FLOOD_S &
	done
	sleep 1
fi
\$A send --marker "\$1" udp $ADV_DENIED4 $PORT; echo "marker4 rc=\$?"
\$A send --marker "\$1" udp $ADV_DENIED6 $PORT; echo "marker6 rc=\$?"
ok=0
for i in 1 2 3 4 5; do
	\$A send --dns router.test --reply 3000 udp $ADV_ROUTER4 53 >/dev/null && ok=\$((ok + 1))
done
echo "dns answered \$ok of 5"
wait
EOSH
chmod 0755 "$LAB_DIR/workload.sh"

lab_section "the control: marker and DNS without egressd"
adv_marker text
adv_capture_start denied "$ADV_MARK_HEX"
lab_run_in client env FLOOD=0 "${LAB_NOBODY_CMD[@]}" sh "$LAB_DIR/workload.sh" "$ADV_M"
adv_capture_stop
if [ "$ADV_CAP_COUNT" -gt 0 ] && grep -qx 'dns answered 5 of 5' "$LAB_OUT"; then
	adv_pass "control: the marker reached the denied host ($ADV_CAP_COUNT frames), DNS answered 5 of 5"
else
	adv_fail "control" "$ADV_CAP_COUNT frame(s); $(grep dns "$LAB_OUT")"
fi

lab_section "under egressd, during a ${FLOOD_S}s flood of deny events"
adv_marker text
adv_capture_start denied "$ADV_MARK_HEX"
T0=$(date +%s%N)
lab_egressd run --user nobody --allow-domains "$ADV_ALLOW,$ADV_ALLOW_MORE" -- \
	env FLOOD=1 sh "$LAB_DIR/workload.sh" "$ADV_M"
T1=$(date +%s%N)
adv_capture_stop
TOTAL=$(sed -n 's/^flood .*, \([0-9]*\) EPERM$/\1/p' "$LAB_OUT" | awk '{ s += $1 } END { print s + 0 }')
echo "  flooders: $TOTAL refused sends in ${FLOOD_S}s; the run took $(((T1 - T0) / 1000000)) ms"
[ "$ADV_CAP_COUNT" -eq 0 ] && grep -qx 'marker4 rc=1' "$LAB_OUT" && grep -qx 'marker6 rc=1' "$LAB_OUT" &&
	grep -c '^sendmsg: EPERM$' "$LAB_OUT" | grep -qx 2 &&
	adv_pass "the marker, sent during the flood, was refused (EPERM, v4 and v6; 0 frames)" ||
	adv_fail "the marker during the flood" "$ADV_CAP_COUNT frame(s); $(grep -E 'marker|sendmsg' "$LAB_OUT" | tr '\n' ';')"
grep -qx 'dns answered 5 of 5' "$LAB_OUT" &&
	adv_pass "egressd's proxy answered 5 of 5 queries during the flood" ||
	adv_fail "egressd's proxy during the flood" "$(grep 'dns answered' "$LAB_OUT" || echo 'no dns line')"
[ "$TOTAL" -ge 100000 ] &&
	adv_pass "the flood was real: $TOTAL deny events' worth of refused sends" ||
	adv_fail "the flood was too small to fill anything" "$TOTAL refused sends (want >= 100000)"
[ "$LAB_RC" -eq 0 ] &&
	adv_pass "egressd exited with the command's status (0) after the flood" ||
	adv_fail "egressd's exit after the flood" "rc=$LAB_RC"
ADV_ALLOW_MORE=

adv_finish
