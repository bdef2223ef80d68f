#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Case 1: loopback pushed out of the NIC.  egressd lets loopback through
# (127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104 are "always allowed"), but a
# socket bound to the veth (SO_BINDTODEVICE, unprivileged since 5.7) or
# pointed at it (IP_UNICAST_IF, IPV6_UNICAST_IF) routes a loopback
# destination out through the client's default route: the frame, marker
# and all, lands on the router's segment (where the kernel then drops it
# as a martian; the frame has left already).  An attacker measured 7 MB in
# 16 ms this way.
#
# Expected under egressd: EPERM, or the packet silently dropped; either
# way no frame with the marker on the router's client-facing veth.
#
# Not cases, because they are not channels on 6.18 (measured with this
# helper): TCP connect() ignores IP_UNICAST_IF and IPV6_UNICAST_IF (its
# SYN goes over lo), and IPV6_UNICAST_IF does not apply to
# ::ffff:127.0.0.1 (the IPv4 path reads IP_UNICAST_IF instead, tested).

. "$(dirname "$0")/lib.sh"

adv_init
adv_up
adv_start_servers

PORT=5555

lab_section "UDP to loopback through SO_BINDTODEVICE"
for dst in 127.0.0.1 127.1.2.3 ::ffff:127.0.0.1 ::1; do
	adv_attack "udp $(adv_hostport "$dst" $PORT), SO_BINDTODEVICE $LAB_VC" router text '' \
		send --dev "$LAB_VC" --marker @M@ udp "$dst" "$PORT"
done

lab_section "UDP to loopback through IP_UNICAST_IF / IPV6_UNICAST_IF"
for dst in 127.0.0.1 127.1.2.3; do
	adv_attack "udp $(adv_hostport "$dst" $PORT), IP_UNICAST_IF $LAB_VC" router text '' \
		send --ip-unicast-if "$LAB_VC" --marker @M@ udp "$dst" "$PORT"
done
adv_attack "udp [::ffff:127.0.0.1]:$PORT, IP_UNICAST_IF $LAB_VC on an AF_INET6 socket" \
	router text '' \
	send --ip-unicast-if "$LAB_VC" --marker @M@ udp ::ffff:127.0.0.1 "$PORT"
adv_attack "udp [::1]:$PORT, IPV6_UNICAST_IF $LAB_VC" router text '' \
	send --ipv6-unicast-if "$LAB_VC" --marker @M@ udp ::1 "$PORT"

# A SYN has no payload: its marker is the source and destination port.
lab_section "TCP SYN to loopback through SO_BINDTODEVICE"
for dst in 127.0.0.1 127.1.2.3 ::ffff:127.0.0.1 ::1; do
	adv_attack "tcp connect $dst, SO_BINDTODEVICE $LAB_VC (marker: the SYN's ports)" \
		router tcp '' \
		send --dev "$LAB_VC" --sport @S@ tcp "$dst" @P@
done

adv_finish
