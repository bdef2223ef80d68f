#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Case 10 (issue 11, family 2): raw IP sockets (SOCK_RAW, IP_HDRINCL),
# packet sockets (AF_PACKET) and the obsolete SOCK_PACKET.  Packet sockets
# bypass every cgroup hook, so what stops them is the capability they need
# (CAP_NET_RAW over the interface's network namespace), which the workload
# does not have.
#   1. Outside any new namespace: the control is root holding CAP_NET_RAW
#      only (the channel exists, with the privilege); under egressd the
#      workload (nobody, no capabilities) gets EPERM at socket().
#   2. Inside a user namespace the workload made itself (unshare
#      CLONE_NEWUSER, root there): its CAP_NET_RAW covers only namespaces
#      that user namespace owns, not the lab's netns: EPERM, with and
#      without egressd.  With CLONE_NEWNET as well the socket opens, but
#      the new namespace has only a loopback that is down: ENETUNREACH (EADDRNOTAVAIL for IPv6),
#      and the interface the frame names does not exist there (ENXIO).
#   3. A process holding CAP_NET_RAW put into egressd's cgroup (what a
#      runtime with NET_RAW would make): raw IP sockets are still judged by
#      the cgroup/skb program, which drops the marker.  (Packet sockets in
#      that position are not filtered: design.md, egressd warns at start.)
# Raw frames are matched on the denied host (IP) or on the router's
# client-facing veth (broadcast frames, which go no further).

. "$(dirname "$0")/lib.sh"

adv_init
adv_up
adv_start_servers

D4=$ADV_DENIED4
D6=$ADV_DENIED6

lab_section "CAP_NET_RAW root can; the workload cannot even open the socket"
ADV_CONTROL=adv_run_netraw_control
adv_attack "SOCK_RAW (proto 253) to $D4" denied text 'socket: EPERM' \
	send --marker @M@ raw "$D4" 1
adv_attack "SOCK_RAW (proto 253) to $D6" denied text 'socket: EPERM' \
	send --marker @M@ raw "$D6" 1
adv_attack "SOCK_RAW + IP_HDRINCL to $D4" denied text 'socket: EPERM' \
	send --hdrincl --marker @M@ raw "$D4" 1
adv_attack "AF_PACKET broadcast frame on $LAB_VC" router text 'socket: EPERM' \
	send --marker @M@ packet "$LAB_VC" 1
adv_attack "SOCK_PACKET broadcast frame on $LAB_VC" router text 'socket: EPERM' \
	send --marker @M@ sockpacket "$LAB_VC" 1
ADV_CONTROL=adv_run_control

lab_section "inside a user namespace the workload made"
USERNS_REFUSED='(socket|unshare[^:]*): EPERM'
for kind in "raw $D4" "raw $D6"; do
	adv_refused "unshare -U, SOCK_RAW to ${kind#raw }" denied text "$USERNS_REFUSED" \
		send --unshare user --marker @M@ $kind 1
done
adv_refused "unshare -U, SOCK_RAW + IP_HDRINCL to $D4" denied text "$USERNS_REFUSED" \
	send --unshare user --hdrincl --marker @M@ raw "$D4" 1
for kind in packet sockpacket; do
	adv_refused "unshare -U, $kind frame on $LAB_VC" router text "$USERNS_REFUSED" \
		send --unshare user --marker @M@ "$kind" "$LAB_VC" 1
done
NETNS_REFUSED='(socket|unshare[^:]*): EPERM|sendto \([A-Za-z_ ]+\): (ENETUNREACH|EADDRNOTAVAIL|ENXIO|ENODEV|EPERM)'
for kind in "raw $D4" "raw $D6"; do
	adv_refused "unshare -Un, SOCK_RAW to ${kind#raw }" denied text "$NETNS_REFUSED" \
		send --unshare user+net --marker @M@ $kind 1
done
adv_refused "unshare -Un, SOCK_RAW + IP_HDRINCL to $D4" denied text "$NETNS_REFUSED" \
	send --unshare user+net --hdrincl --marker @M@ raw "$D4" 1
for kind in packet sockpacket; do
	adv_refused "unshare -Un, $kind frame on $LAB_VC (ifindex from outside)" router text \
		"$NETNS_REFUSED" send --unshare user+net --marker @M@ "$kind" "$LAB_VC" 1
done

lab_section "CAP_NET_RAW inside egressd's cgroup: raw IP is still dropped"
ADV_CONTROL=adv_run_netraw_control
ADV_UNDER=adv_run_netraw_in_egressd
adv_attack "in egressd's cgroup with CAP_NET_RAW: SOCK_RAW to $D4" denied text '' \
	send --marker @M@ raw "$D4" 1
adv_attack "in egressd's cgroup with CAP_NET_RAW: SOCK_RAW to $D6" denied text '' \
	send --marker @M@ raw "$D6" 1
adv_attack "in egressd's cgroup with CAP_NET_RAW: IP_HDRINCL to $D4" denied text '' \
	send --hdrincl --marker @M@ raw "$D4" 1
ADV_CONTROL=adv_run_control
ADV_UNDER=adv_run_egressd

adv_finish
