#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Case 3: multicast joins.  Joining a group makes the kernel send an IGMP
# or MLD report that names the group; no socket owns the report, so no
# cgroup hook sees it.  The group address is the channel: 3 bytes of
# 239.R.R.R or 14 of ff0e:R...R per join.  The reports stay on the
# client's segment, so the capture is the router's client-facing veth.
#
# Expected under egressd: the join's setsockopt fails EPERM (natively and
# through the 32-bit compat syscall); no report with the marker.  A group
# that is in the allowlist joins as before.

. "$(dirname "$0")/lib.sh"

adv_init
adv_up
adv_start_servers

VC=$LAB_VC

lab_section "IPv4 joins (IGMP reports name 239.R.R.R)"
adv_attack "IP_ADD_MEMBERSHIP 239.R.R.R on $VC" router mcast4 \
	'setsockopt IP_ADD_MEMBERSHIP: EPERM' \
	join ip-add-membership "$VC" @M@
adv_attack "MCAST_JOIN_GROUP (SOL_IP) 239.R.R.R on $VC" router mcast4 \
	'setsockopt MCAST_JOIN_GROUP: EPERM' \
	join mcast-join-group "$VC" @M@
adv_attack "IP_ADD_SOURCE_MEMBERSHIP 239.R.R.R source $ADV_DENIED4" router mcast4 \
	'setsockopt IP_ADD_SOURCE_MEMBERSHIP: EPERM' \
	join ip-add-source-membership "$VC" @M@ "$ADV_DENIED4"
adv_attack "MCAST_JOIN_SOURCE_GROUP (SOL_IP) 239.R.R.R source $ADV_DENIED4" router mcast4 \
	'setsockopt MCAST_JOIN_SOURCE_GROUP: EPERM' \
	join mcast-join-source-group "$VC" @M@ "$ADV_DENIED4"

lab_section "IPv6 joins (MLD reports name ff0e:R...R)"
adv_attack "IPV6_JOIN_GROUP ff0e:R..R on $VC" router mcast6 \
	'setsockopt IPV6_JOIN_GROUP: EPERM' \
	join ipv6-join-group "$VC" @M@
adv_attack "MCAST_JOIN_GROUP (SOL_IPV6) ff0e:R..R on $VC" router mcast6 \
	'setsockopt MCAST_JOIN_GROUP: EPERM' \
	join mcast-join-group "$VC" @M@
adv_attack "MCAST_JOIN_SOURCE_GROUP (SOL_IPV6) ff0e:R..R source $ADV_DENIED6" router mcast6 \
	'setsockopt MCAST_JOIN_SOURCE_GROUP: EPERM' \
	join mcast-join-source-group "$VC" @M@ "$ADV_DENIED6"

lab_section "joins through the 32-bit compat syscall (int \$0x80)"
adv_attack "IP_ADD_MEMBERSHIP via int \$0x80, 239.R.R.R" router mcast4 \
	'setsockopt IP_ADD_MEMBERSHIP \(int 0x80\): EPERM' \
	join --compat ip-add-membership "$VC" @M@
adv_attack "IPV6_JOIN_GROUP via int \$0x80, ff0e:R..R" router mcast6 \
	'setsockopt IPV6_JOIN_GROUP \(int 0x80\): EPERM' \
	join --compat ipv6-join-group "$VC" @M@

lab_section "no false deny: groups in the allowlist join"
ADV_ALLOW_MORE=239.1.2.3,ff0e::db8:1:2:3
adv_no_false_drop "IP_ADD_MEMBERSHIP 239.1.2.3 (allowed)" \
	join ip-add-membership "$VC" 239.1.2.3
adv_no_false_drop "MCAST_JOIN_GROUP (SOL_IP) 239.1.2.3 (allowed)" \
	join mcast-join-group "$VC" 239.1.2.3
adv_no_false_drop "IPV6_JOIN_GROUP ff0e::db8:1:2:3 (allowed)" \
	join ipv6-join-group "$VC" ff0e::db8:1:2:3
adv_no_false_drop "MCAST_JOIN_GROUP (SOL_IPV6) ff0e::db8:1:2:3 (allowed)" \
	join mcast-join-group "$VC" ff0e::db8:1:2:3

lab_section "an option over a page is refused, even for an allowed group"
# Over a page the program judges a copy of the first page, and the kernel
# then reads the caller's buffer again: another thread can swap the group
# in between (a check-then-use race the red team won in under 100k tries).
# The race itself is not a pass/fail test; what closes it is this refusal.
desc="IP_ADD_MEMBERSHIP 239.1.2.3 (allowed) with optlen 8192"
printf '\n  -- %s\n' "$desc"
"$ADV_CONTROL" join --optlen 8192 ip-add-membership "$VC" 239.1.2.3
if [ "$LAB_RC" -ne 0 ]; then
	adv_fail "$desc" "control failed: the kernel refused optlen 8192 without egressd (exit $LAB_RC)"
else
	"$ADV_UNDER" join --optlen 8192 ip-add-membership "$VC" 239.1.2.3
	if [ "$LAB_RC" -eq 1 ] && grep -q 'setsockopt IP_ADD_MEMBERSHIP: EPERM' "$LAB_OUT"; then
		adv_pass "$desc (EPERM under egressd; joins without it)"
	else
		adv_fail "$desc" "expected EPERM under egressd, got exit $LAB_RC"
	fi
fi
ADV_ALLOW_MORE=

adv_finish
