#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Case 4: IPv4 source routing.  With a loose (LSRR) or strict (SSRR)
# source route [router, denied host], a datagram "to the router" (what
# egressd's socket hooks and its packet hook see: the allowed address) is
# forwarded by the router (accept_source_route=1) to the denied host.
#
# The kernel gives source-route options only to CAP_NET_RAW (6.18: as
# nobody, setsockopt(IP_OPTIONS) and the IP_RETOPTS cmsg both fail EPERM),
# and egressd's workload has no capabilities, so the attacker here is a
# root process holding CAP_NET_RAW alone, which the test moves into
# egressd's cgroup (a sleeper's, as `egressd run --user nobody -- sleep`)
# before it attacks.  The control is the same process outside the cgroup.
#
# Expected under egressd: setsockopt(IP_OPTIONS) with a source route EPERM;
# the IP_RETOPTS cmsg (no setsockopt at all) dropped; no frame with the
# marker at the denied host.

. "$(dirname "$0")/lib.sh"

adv_init
adv_up
adv_start_servers

R4=$ADV_ROUTER4
D4=$ADV_DENIED4
CLOSED=$ADV_CLOSED_PORT
ADV_CONTROL=adv_run_netraw_control
ADV_UNDER=adv_run_netraw_in_egressd

lab_section "setsockopt(IP_OPTIONS) source routes, CAP_NET_RAW process in egressd's cgroup"
adv_attack "udp to $R4:$CLOSED with IP_OPTIONS LSRR $R4,$D4" denied text \
	'setsockopt IP_OPTIONS: EPERM' \
	send --ipopt "lsrr:$R4,$D4" --marker @M@ udp "$R4" "$CLOSED"
adv_attack "udp to $R4:$CLOSED with IP_OPTIONS SSRR $R4,$D4" denied text \
	'setsockopt IP_OPTIONS: EPERM' \
	send --ipopt "ssrr:$R4,$D4" --marker @M@ udp "$R4" "$CLOSED"
adv_attack "tcp connect $R4 with IP_OPTIONS LSRR $R4,$D4 (marker: the SYN's ports)" \
	denied tcp 'setsockopt IP_OPTIONS: EPERM' \
	send --ipopt "lsrr:$R4,$D4" --sport @S@ tcp "$R4" @P@
# Deeper into the list: the copy and the walk must reach every position.
adv_attack "udp to $R4:$CLOSED with IP_OPTIONS NOP NOP NOP then LSRR $R4,$D4" denied text \
	'setsockopt IP_OPTIONS: EPERM' \
	send --ipopt "nop+nop+nop+lsrr:$R4,$D4" --marker @M@ udp "$R4" "$CLOSED"
adv_attack "udp to $R4:$CLOSED with IP_OPTIONS RR (4 slots) then SSRR $R4,$D4" denied text \
	'setsockopt IP_OPTIONS: EPERM' \
	send --ipopt "rr:4+ssrr:$R4,$D4" --marker @M@ udp "$R4" "$CLOSED"

lab_section "IP_RETOPTS cmsg source routes (no setsockopt)"
adv_attack "udp to $R4:$CLOSED, sendmsg with IP_RETOPTS cmsg LSRR $R4,$D4" denied text '' \
	send --retopts "lsrr:$R4,$D4" --marker @M@ udp "$R4" "$CLOSED"
adv_attack "udp to $R4:$CLOSED, sendmsg with IP_RETOPTS cmsg SSRR $R4,$D4" denied text '' \
	send --retopts "ssrr:$R4,$D4" --marker @M@ udp "$R4" "$CLOSED"

adv_finish
