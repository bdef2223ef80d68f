#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Case 9 (issue 11, families 1 and 5): datagrams that reach the denied
# host some other way than one plain sendto().
#   - sendmmsg with mixed destinations: an allowed datagram first (the
#     router's echo port), the marker second, and the other way round; the
#     hook judges each message: the first is sent, the kernel returns 1,
#     and the rest gets EPERM on its own;
#   - sendto with an address on a UDP socket connected to the allowed
#     router (Linux sends to the address given, not the connected peer);
#   - UDP-Lite (IPPROTO_UDPLITE, its own protocol number on the wire);
#   - an AF_UNSPEC destination: udp_sendmsg takes sin_addr from a
#     sockaddr whose family is AF_UNSPEC, on a connected socket too;
#   - an IPv4 sockaddr_in given to an AF_INET6 UDP socket (udpv6_sendmsg
#     hands it to the IPv4 path);
#   - ICMP echo on ping sockets (only the cgroup/skb program sees these:
#     no sock_addr hook runs for ping sockets), the marker its data;
#   - IPv4-mapped IPv6 of all of the above where there is an IPv6 form.
# Control: without egressd the marker reaches the denied host.  Under
# egressd: EPERM at the syscall, or (ping) the packet dropped.

. "$(dirname "$0")/lib.sh"

adv_init
adv_up
adv_start_servers

PORT=5555
R4=$ADV_ROUTER4
R6=$ADV_ROUTER6

lab_section "sendmmsg: an allowed datagram and a denied one in one call"
for pair in "$ADV_DENIED4 $R4" "$ADV_DENIED6 $R6" "::ffff:$ADV_DENIED4 ::ffff:$R4"; do
	set -- $pair
	adv_attack "sendmmsg [$2:7, $(adv_hostport "$1" $PORT)]" denied text \
		'sendmmsg \(the rest\): EPERM' \
		send --mmsg-with "$2" --mmsg-port 7 --marker @M@ udp "$1" "$PORT"
	adv_attack "sendmmsg [$(adv_hostport "$1" $PORT), $2:7]" denied text \
		'sendmmsg \(denied first\): EPERM' \
		send --mmsg-with "$2" --mmsg-port 7 --mmsg-denied-first --marker @M@ udp "$1" "$PORT"
done
adv_no_false_drop "sendmmsg [$R4:7, $R4:7]: both sent" \
	send --mmsg-with "$R4" --mmsg-port 7 --marker y udp "$R4" 7

lab_section "sendto with an address on a UDP socket connected to the allowed router"
for pair in "$ADV_DENIED4 $R4" "$ADV_DENIED6 $R6" "::ffff:$ADV_DENIED4 ::ffff:$R4"; do
	set -- $pair
	adv_attack "connect $2:7, then sendmsg to $(adv_hostport "$1" $PORT)" denied text \
		'sendmsg: EPERM' \
		send --connect-to "$2" --connect-port 7 --marker @M@ udp "$1" "$PORT"
done

lab_section "UDP-Lite"
for dst in "$ADV_DENIED4" "$ADV_DENIED6" "::ffff:$ADV_DENIED4"; do
	adv_attack "UDP-Lite sendmsg to $(adv_hostport "$dst" $PORT)" denied text 'sendmsg: EPERM' \
		send --marker @M@ udplite "$dst" "$PORT"
done

lab_section "AF_UNSPEC and cross-family destinations"
adv_attack "sendmsg to $ADV_DENIED4:$PORT as an AF_UNSPEC sockaddr" denied text \
	'sendmsg: EPERM' \
	send --name-family unspec --marker @M@ udp "$ADV_DENIED4" "$PORT"
adv_attack "connect $R4:7, then sendmsg to $ADV_DENIED4:$PORT as AF_UNSPEC" denied text \
	'sendmsg: EPERM' \
	send --connect-to "$R4" --connect-port 7 --name-family unspec --marker @M@ \
	udp "$ADV_DENIED4" "$PORT"
adv_attack "an AF_INET6 UDP socket, sendmsg to sockaddr_in $ADV_DENIED4:$PORT" denied text \
	'sendmsg: EPERM' \
	send --v6-socket --marker @M@ udp "$ADV_DENIED4" "$PORT"

lab_section "ICMP echo on ping sockets"
for dst in "$ADV_DENIED4" "$ADV_DENIED6"; do
	adv_attack "ping socket echo request to $dst, the marker its data" denied text '' \
		send --marker @M@ icmp "$dst" 1
done
adv_no_false_drop "ping socket echo request to the allowed router $R4" \
	send --marker y icmp "$R4" 1

adv_finish
