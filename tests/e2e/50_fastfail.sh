#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Fail fast: the socket hooks deny a blocked destination with EPERM at the
# syscall (connect, sendto, connect of a UDP socket), for IPv4, IPv6 and
# IPv4-mapped IPv6, instead of leaving the workload to time out; allowed
# traffic of every kind is unaffected.
#
# The probe gets a 3 s timeout even for blocked destinations: a packet-only
# drop would then show up as "timeout" after 3 s and fail, where the hooks
# answer in milliseconds.  The 1000 ms bound is a correctness bound, not a
# benchmark.

. "$(dirname "$0")/../lib/lab.sh"


lab_init
lab_require_egressd
lab_up
lab_start_servers

FAST_MS=1000
EG_ARGS=(--allow-domains "$LAB_ALLOWED4,$LAB_ALLOWED6" --user nobody)

# The probe's elapsed_ms= line.
probe_elapsed() { sed -n 's/^elapsed_ms=//p' "$LAB_OUT" | head -n1; }

# expect_eperm DESC SYSCALL KIND ADDR PORT
#   The control run (as nobody, no egressd) must succeed; under egressd the
#   probe must report "blocked errno=EPERM", fail at SYSCALL, within FAST_MS.
expect_eperm()
{
	local desc=$1 at=$2 kind=$3 addr=$4 port=$5 v ms

	lab_run_in client "${LAB_NOBODY_CMD[@]}" "$LAB_PROBE" "$kind" "$addr" "$port" "$LAB_OK_MS"
	if [ "$LAB_RC" -ne 0 ] || [ "$(lab_verdict)" != ok ]; then
		lab_fail "$desc" "control failed: $kind $addr $port unreachable without egressd"
		return 0
	fi

	lab_egressd run "${EG_ARGS[@]}" -- "$LAB_PROBE" "$kind" "$addr" "$port" "$LAB_OK_MS"
	v=$(lab_verdict)
	ms=$(probe_elapsed)
	if [ "$LAB_RC" -ne 1 ] || [ "$v" != "blocked errno=EPERM" ]; then
		lab_fail "$desc" "expected 'blocked errno=EPERM' with exit 1, got rc=$LAB_RC verdict='$v'"
		return 0
	fi
	if ! grep -qx "failed_at=$at" "$LAB_OUT"; then
		lab_fail "$desc" "expected EPERM at $at, got '$(grep '^failed_at=' "$LAB_OUT")'"
		return 0
	fi
	if ! [[ $ms =~ ^[0-9]+$ ]] || [ "$ms" -ge "$FAST_MS" ]; then
		lab_fail "$desc" "EPERM took elapsed_ms='$ms', want < $FAST_MS"
		return 0
	fi
	lab_ok "$desc (EPERM at $at in ${ms} ms)"
}

lab_section "blocked IPv4: EPERM at once"
expect_eperm "tcp $LAB_DENIED4:80 connect" connect tcp "$LAB_DENIED4" 80
expect_eperm "tcp $LAB_DENIED4:8080 connect" connect tcp "$LAB_DENIED4" 8080
expect_eperm "udp $LAB_DENIED4:7 sendto" sendto udp "$LAB_DENIED4" 7
expect_eperm "connected udp $LAB_DENIED4:7 fails at connect" connect udp-connected "$LAB_DENIED4" 7

lab_section "blocked IPv6: EPERM at once"
expect_eperm "tcp [$LAB_DENIED6]:80 connect" connect tcp "$LAB_DENIED6" 80
expect_eperm "udp [$LAB_DENIED6]:7 sendto" sendto udp "$LAB_DENIED6" 7
expect_eperm "connected udp [$LAB_DENIED6]:7 fails at connect" connect udp-connected "$LAB_DENIED6" 7

lab_section "IPv4-mapped IPv6 (AF_INET6 socket) is judged as the IPv4 address"
expect_eperm "tcp [::ffff:$LAB_DENIED4]:80 connect" connect tcp "::ffff:$LAB_DENIED4" 80
expect_eperm "udp [::ffff:$LAB_DENIED4]:7 sendto" sendto udp "::ffff:$LAB_DENIED4" 7
expect_eperm "connected udp [::ffff:$LAB_DENIED4]:7 fails at connect" connect \
	udp-connected "::ffff:$LAB_DENIED4" 7
expect_probe ok "tcp [::ffff:$LAB_ALLOWED4]:80 works" tcp "::ffff:$LAB_ALLOWED4" 80
expect_grep "$LAB_OUT" '^reply=ok$' "tcp [::ffff:$LAB_ALLOWED4]:80 greeting read"
expect_probe ok "udp [::ffff:$LAB_ALLOWED4]:7 echo works" udp "::ffff:$LAB_ALLOWED4" 7
expect_probe ok "connected udp [::ffff:$LAB_ALLOWED4]:7 echo works" udp-connected "::ffff:$LAB_ALLOWED4" 7

lab_section "allowed traffic is unaffected"
for port in 80 8080; do
	expect_probe ok "tcp $LAB_ALLOWED4:$port" tcp "$LAB_ALLOWED4" "$port"
	expect_grep "$LAB_OUT" '^reply=ok$' "tcp $LAB_ALLOWED4:$port greeting read"
	expect_probe ok "tcp [$LAB_ALLOWED6]:$port" tcp "$LAB_ALLOWED6" "$port"
	expect_grep "$LAB_OUT" '^reply=ok$' "tcp [$LAB_ALLOWED6]:$port greeting read"
done
expect_probe ok "udp $LAB_ALLOWED4:7 echo" udp "$LAB_ALLOWED4" 7
expect_probe ok "connected udp $LAB_ALLOWED4:7 echo" udp-connected "$LAB_ALLOWED4" 7
expect_probe ok "udp [$LAB_ALLOWED6]:7 echo" udp "$LAB_ALLOWED6" 7
expect_probe ok "connected udp [$LAB_ALLOWED6]:7 echo" udp-connected "$LAB_ALLOWED6" 7
expect_probe ok "loopback tcp 127.0.0.1:9000" tcp 127.0.0.1 9000
expect_probe ok "loopback udp [::1]:7" udp ::1 7

lab_section "an allowed and a blocked destination in one workload"
lab_egressd run "${EG_ARGS[@]}" -- sh -c '"$0" tcp "$1" 80 3000 >"$3/a.out"; "$0" tcp "$2" 80 3000 >"$3/b.out"; exit 0' \
	"$LAB_PROBE" "$LAB_ALLOWED4" "$LAB_DENIED4" "$LAB_WORK"
expect_rc 0 "workload ran to the end"
if [ "$(head -n1 "$LAB_WORK/a.out" 2>/dev/null)" = ok ]; then
	lab_ok "allowed connect succeeded next to a blocked one"
else
	lab_fail "allowed connect succeeded next to a blocked one" "got: $(tr '\n' ' ' <"$LAB_WORK/a.out" 2>/dev/null)"
fi
if [ "$(head -n1 "$LAB_WORK/b.out" 2>/dev/null)" = "blocked errno=EPERM" ]; then
	lab_ok "blocked connect in the same workload: EPERM"
else
	lab_fail "blocked connect in the same workload: EPERM" "got: $(tr '\n' ' ' <"$LAB_WORK/b.out" 2>/dev/null)"
fi

lab_finish
