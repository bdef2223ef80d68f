#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Case 8 (issue 11, family 4): TCP that does not start with a plain
# connect().  TCP Fast Open sends its SYN from sendto(MSG_FASTOPEN), or,
# with TCP_FASTOPEN_CONNECT, from the first write after a connect() that
# sent nothing; MPTCP (IPPROTO_MPTCP) sends its SYN from a subflow socket
# the kernel makes.  Each must meet the connect hook: EPERM, and no SYN
# (marker: its ports) reaches the denied host.  The lab's client namespace
# keeps the default net.ipv4.tcp_fastopen=1 (client on, cookie needed);
# a second run sets 0x5 (no cookie needed), where the first SYN carries
# the data itself (marker: the text), the case a server-side cookie cache
# would give an attacker.

. "$(dirname "$0")/lib.sh"

adv_init
adv_up
adv_start_servers

PORT=5555

lab_section "TCP Fast Open: sendto(MSG_FASTOPEN), TCP_FASTOPEN_CONNECT"
for dst in "$ADV_DENIED4" "$ADV_DENIED6" "::ffff:$ADV_DENIED4"; do
	adv_attack "sendto MSG_FASTOPEN to $dst (marker: the SYN's ports)" denied tcp \
		'sendto MSG_FASTOPEN: EPERM' \
		send --fastopen --marker x --sport @S@ tcp "$dst" @P@
	adv_attack "TCP_FASTOPEN_CONNECT, connect + write to $dst (marker: the SYN's ports)" \
		denied tcp '(connect|send \(TCP_FASTOPEN_CONNECT\)): EPERM' \
		send --fastopen-connect --marker x --sport @S@ tcp "$dst" @P@
done

lab_section "TCP Fast Open without cookies (tcp_fastopen=0x5): the data rides in the SYN"
adv_sysctl "$LAB_CLIENT" net.ipv4.tcp_fastopen=5
for dst in "$ADV_DENIED4" "$ADV_DENIED6"; do
	adv_attack "sendto MSG_FASTOPEN to $(adv_hostport "$dst" $PORT), data in the SYN" \
		denied text 'sendto MSG_FASTOPEN: EPERM' \
		send --fastopen --marker @M@ tcp "$dst" "$PORT"
	adv_attack "TCP_FASTOPEN_CONNECT to $(adv_hostport "$dst" $PORT), data in the SYN" \
		denied text '(connect|send \(TCP_FASTOPEN_CONNECT\)): EPERM' \
		send --fastopen-connect --marker @M@ tcp "$dst" "$PORT"
done
adv_sysctl "$LAB_CLIENT" net.ipv4.tcp_fastopen=1

lab_section "MPTCP"
if [ "$(ip netns exec "$LAB_CLIENT" sysctl -n net.mptcp.enabled 2>/dev/null)" != 1 ]; then
	lab_skip "MPTCP is not enabled in this kernel (net.mptcp.enabled)"
fi
for dst in "$ADV_DENIED4" "$ADV_DENIED6" "::ffff:$ADV_DENIED4"; do
	adv_attack "MPTCP connect to $dst (marker: the SYN's ports)" denied tcp 'connect: EPERM' \
		send --mptcp --sport @S@ tcp "$dst" @P@
done
# The subflow must not be a way around the connect hook for allowed
# traffic either: an MPTCP connection to the router works.
adv_no_false_drop "MPTCP connect to the allowed router, port 80" \
	send --mptcp --reply 2000 tcp "$ADV_ROUTER4" 80
adv_no_false_drop "TCP_FASTOPEN_CONNECT to the allowed router, port 80" \
	send --fastopen-connect --marker x --reply 2000 tcp "$ADV_ROUTER4" 80

adv_finish
