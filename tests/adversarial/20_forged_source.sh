#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Case 2: a forged IPv6 source, reflected by an allowed host.  With
# IPV6_FREEBIND (no privilege needed), a socket may send from an address
# that is not the client's: 2001:db8:2::20, the denied host.  The router
# (allowed) answers the denied host instead: its ICMPv6 port unreachable
# for a closed port quotes the datagram, marker and all, and its dnsmasq's
# NXDOMAIN for <marker>.nx.test carries the name.  egressd judges only the
# destination, which is allowed.
#
# Expected under egressd: setsockopt(IPV6_FREEBIND) EPERM (also through
# the 32-bit compat syscall, which cgroup setsockopt programs never see:
# egressd's seccomp filter must refuse it); with net.ipv6.ip_nonlocal_bind=1
# a plain bind to the foreign address EPERM; no frame with the marker at
# the denied host.
#
# IPv4 has no such case: IP_FREEBIND lets a socket bind a foreign address,
# but sending from it (bind or IP_PKTINFO) fails with ENETUNREACH unless
# the socket is IP_TRANSPARENT, which needs CAP_NET_ADMIN.

. "$(dirname "$0")/lib.sh"

adv_init
adv_up
adv_start_servers

R6=$ADV_ROUTER6
D6=$ADV_DENIED6
CLOSED=$ADV_CLOSED_PORT
FREEBIND_EPERM='setsockopt IPV6_FREEBIND: EPERM'

lab_section "IPV6_FREEBIND: the router's ICMPv6 error reflects the marker to $D6"
adv_attack "IPV6_FREEBIND + IPV6_PKTINFO src $D6 -> [$R6]:$CLOSED/udp (closed)" \
	denied text "$FREEBIND_EPERM" \
	send --freebind --pktinfo "$D6" --marker @M@ udp "$R6" "$CLOSED"
adv_attack "IPV6_FREEBIND + bind($D6) -> [$R6]:$CLOSED/udp (closed)" \
	denied text "$FREEBIND_EPERM" \
	send --freebind --bind "$D6" --marker @M@ udp "$R6" "$CLOSED"

lab_section "IPV6_FREEBIND: the resolver's answer carries the name to $D6"
adv_attack "IPV6_FREEBIND + IPV6_PKTINFO src $D6 -> DNS query <marker>.nx.test to [$R6]:53" \
	denied text "$FREEBIND_EPERM" \
	send --freebind --pktinfo "$D6" --dns @M@.nx.test udp "$R6" 53
adv_attack "IPV6_FREEBIND + bind($D6) -> DNS query <marker>.nx.test to [$R6]:53" \
	denied text "$FREEBIND_EPERM" \
	send --freebind --bind "$D6" --dns @M@.nx.test udp "$R6" 53

lab_section "IPV6_FREEBIND through the 32-bit compat syscall (int \$0x80)"
# net/socket.c runs cgroup setsockopt programs only for native syscalls.
adv_attack "IPV6_FREEBIND via int \$0x80 + IPV6_PKTINFO src $D6 -> [$R6]:$CLOSED/udp" \
	denied text 'setsockopt IPV6_FREEBIND \(int 0x80\): EPERM' \
	send --freebind-compat --pktinfo "$D6" --marker @M@ udp "$R6" "$CLOSED"

lab_section "net.ipv6.ip_nonlocal_bind=1 in the client namespace (no FREEBIND)"
adv_sysctl "$LAB_CLIENT" net.ipv6.ip_nonlocal_bind=1
adv_attack "ip_nonlocal_bind=1: bind($D6) -> [$R6]:$CLOSED/udp" \
	denied text 'bind: EPERM' \
	send --bind "$D6" --marker @M@ udp "$R6" "$CLOSED"
# The same sysctl lets IPV6_PKTINFO name a foreign source without bind():
# whatever refuses it, nothing may reach the denied host.
adv_attack "ip_nonlocal_bind=1: IPV6_PKTINFO src $D6 (no bind) -> [$R6]:$CLOSED/udp" \
	denied text '' \
	send --pktinfo "$D6" --marker @M@ udp "$R6" "$CLOSED"
adv_sysctl "$LAB_CLIENT" net.ipv6.ip_nonlocal_bind=0

adv_finish
