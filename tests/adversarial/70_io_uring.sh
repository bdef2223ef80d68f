#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Case 7 (issue 11, family 3): io_uring.  Its requests run in the kernel's
# own threads (io-wq workers with IOSQE_ASYNC, the SQPOLL thread), not in
# the syscall of the task that asked.  egressd's seccomp filter refuses
# only the compat (int $0x80) io_uring calls (user/seccomp.c); native
# io_uring is allowed, and must meet the same socket hooks: a socket made
# by the ring belongs to the workload's cgroup, and CONNECT and the sends
# run the connect/sendmsg hooks whichever thread issues them.  Each
# operation that can carry data out is tried, plain, with IOSQE_ASYNC and
# with SQPOLL, to the denied host over IPv4, IPv6 and IPv4-mapped IPv6:
#   socket      IORING_OP_SOCKET makes the UDP socket, sendto sends
#   connect     IORING_OP_CONNECT (a SYN; marker: its ports)
#   sendmsg     IORING_OP_SENDMSG with msg_name
#   send        IORING_OP_SEND with the destination in addr2 (6.0+)
#   send-zc     IORING_OP_SEND_ZC, the same
#   sendmsg-zc  IORING_OP_SENDMSG_ZC
# Control: the same run as nobody without egressd gets the marker to the
# denied host.  Under egressd: the operation completes with -EPERM (the
# completion's res), or sendto does; nothing reaches the denied host.

. "$(dirname "$0")/lib.sh"

adv_init
adv_up
adv_start_servers

if [ "$(cat /proc/sys/kernel/io_uring_disabled 2>/dev/null || echo 0)" != 0 ]; then
	lab_skip "kernel.io_uring_disabled is set: no io_uring for anyone, no control"
fi

PORT=5555
REFUSAL='(io_uring [a-z-]+( \([A-Z_]+\))?|sendto): EPERM'

for mode in "" --async --sqpoll; do
	lab_section "io_uring ${mode:-plain}"
	for dst in "$ADV_DENIED4" "$ADV_DENIED6" "::ffff:$ADV_DENIED4"; do
		for op in socket sendmsg send send-zc sendmsg-zc; do
			adv_attack "io_uring $op ${mode:+$mode }to $(adv_hostport "$dst" $PORT)" \
				denied text "$REFUSAL" \
				uring $mode --marker @M@ "$op" "$dst" "$PORT"
		done
		adv_attack "io_uring connect ${mode:+$mode }to $dst (marker: the SYN's ports)" \
			denied tcp "$REFUSAL" \
			uring $mode --sport @S@ connect "$dst" @P@
	done
done

# io_uring's own setsockopt (IORING_OP_URING_CMD, SOCKET_URING_OP_SETSOCKOPT,
# 6.7+) runs the cgroup sockopt hook only outside a compat syscall: from a
# native task and from the SQPOLL thread it must.  The options that matter
# are the ones tests/adversarial/20 and 30 judge: a multicast join (the
# IGMP/MLD report names the group) and IPV6_FREEBIND (a forged source the
# router's ICMPv6 error reflects to the denied host).
VC=$LAB_VC
for mode in --uring --uring-sqpoll; do
	m=${mode#--uring}
	tag="io_uring${m:+ SQPOLL}"
	lab_section "setsockopt through io_uring URING_CMD${m:+ with SQPOLL}"
	adv_attack "IP_ADD_MEMBERSHIP 239.R.R.R on $VC ($tag)" router mcast4 \
		"setsockopt IP_ADD_MEMBERSHIP \\($tag\\): EPERM" \
		join "$mode" ip-add-membership "$VC" @M@
	adv_attack "IPV6_JOIN_GROUP ff0e:R..R on $VC ($tag)" router mcast6 \
		"setsockopt IPV6_JOIN_GROUP \\($tag\\): EPERM" \
		join "$mode" ipv6-join-group "$VC" @M@
	adv_attack "IPV6_FREEBIND ($tag) + bind($ADV_DENIED6) -> [$ADV_ROUTER6]:$ADV_CLOSED_PORT/udp" \
		denied text "setsockopt IPV6_FREEBIND \\($tag\\): EPERM" \
		send "--sockopt-${mode#--}" --freebind --bind "$ADV_DENIED6" --marker @M@ \
		udp "$ADV_ROUTER6" "$ADV_CLOSED_PORT"
done

adv_finish
