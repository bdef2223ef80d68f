#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# What the fixes for the attacks must not break: everyday traffic that
# looks like them, to the allowed router, as egressd's workload (nobody).
# Each must work without egressd (control) and under it.

. "$(dirname "$0")/lib.sh"

adv_init
adv_up
adv_start_servers
# Loopback servers in the client namespace (outside any egressd cgroup).
lab_start_udp_echo 7 "$LAB_CLIENT" 127.0.0.1 ::1

R4=$ADV_ROUTER4
R6=$ADV_ROUTER6

lab_section "bind to the client's own address, then UDP and TCP to the router"
adv_no_false_drop "bind($ADV_CLIENT4) + udp echo $R4:7" \
	send --bind "$ADV_CLIENT4" --marker ping --reply 2000 udp "$R4" 7
adv_no_false_drop "bind($ADV_CLIENT4) + tcp $R4:80" \
	send --bind "$ADV_CLIENT4" --reply 2000 tcp "$R4" 80
adv_no_false_drop "bind($ADV_CLIENT6) + udp echo [$R6]:7" \
	send --bind "$ADV_CLIENT6" --marker ping --reply 2000 udp "$R6" 7
adv_no_false_drop "bind($ADV_CLIENT6) + tcp [$R6]:80" \
	send --bind "$ADV_CLIENT6" --reply 2000 tcp "$R6" 80

lab_section "plain UDP (no multicast, no options)"
adv_no_false_drop "udp echo $R4:7" send --marker ping --reply 2000 udp "$R4" 7
adv_no_false_drop "udp echo [$R6]:7" send --marker ping --reply 2000 udp "$R6" 7
adv_no_false_drop "udp echo [::ffff:$R4]:7" send --marker ping --reply 2000 udp "::ffff:$R4" 7
adv_no_false_drop "DNS query router.test to $R4:53" \
	send --dns router.test --reply 2000 udp "$R4" 53

lab_section "the client's own source in IP_PKTINFO / IPV6_PKTINFO"
adv_no_false_drop "IP_PKTINFO src $ADV_CLIENT4 + udp echo $R4:7" \
	send --pktinfo "$ADV_CLIENT4" --marker ping --reply 2000 udp "$R4" 7
adv_no_false_drop "IPV6_PKTINFO src $ADV_CLIENT6 + udp echo [$R6]:7" \
	send --pktinfo "$ADV_CLIENT6" --marker ping --reply 2000 udp "$R6" 7

lab_section "loopback over lo is still always allowed"
adv_no_false_drop "udp echo 127.0.0.1:7 (lo)" send --marker ping --reply 2000 udp 127.0.0.1 7
adv_no_false_drop "udp echo [::1]:7 (lo)" send --marker ping --reply 2000 udp ::1 7

lab_section "IP_OPTIONS record route (RR, type 7) is not a source route"
adv_no_false_drop "IP_OPTIONS RR + udp echo $R4:7" \
	send --ipopt rr:4 --marker ping --reply 2000 udp "$R4" 7
adv_no_false_drop "IP_OPTIONS RR + tcp $R4:80" \
	send --ipopt rr:4 --reply 2000 tcp "$R4" 80
adv_no_false_drop "IP_OPTIONS NOP then RR (9 slots: all 40 bytes) + udp echo $R4:7" \
	send --ipopt nop+rr:9 --marker ping --reply 2000 udp "$R4" 7
adv_no_false_drop "IP_RETOPTS cmsg RR + udp echo $R4:7" \
	send --retopts rr:4 --marker ping --reply 2000 udp "$R4" 7

adv_finish
