#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Case 5: data smuggled in a DNS query for an ALLOWED name.  The proxy
# forwards allowed names, so a proxy that forwarded the client's bytes
# would carry whatever else the query holds to the resolver: an additional
# or answer record, an EDNS option, bytes after the question (the red team
# got 55 KB out in one TCP query that way).  egressd sends a query it
# rebuilds (header, question, a bare OPT), so none of it may appear on the
# wire toward the resolver.  Capture: the router's client-facing side,
# where the resolver is.  Control: the same query straight to the resolver
# without egressd carries the marker there.

. "$(dirname "$0")/lib.sh"

adv_init
adv_up
adv_start_servers

R4=$ADV_ROUTER4
ADV_ALLOW_MORE=router.test

lab_section "a query for an allowed name carries the marker to the resolver only without egressd"
for kind in ar an edns trail; do
	adv_attack "UDP query router.test + $kind:<marker> to $R4:53" router text '' \
		send --dns router.test --dns-smuggle "$kind:@M@" udp "$R4" 53
done
adv_attack "TCP query router.test + ar:<marker> to $R4:53" router text '' \
	send --dns router.test --dns-smuggle "ar:@M@" tcp "$R4" 53

lab_section "no false deny: a plain query for the allowed name still works"
adv_no_false_drop "UDP query router.test to $R4:53" send --dns router.test udp "$R4" 53
ADV_ALLOW_MORE=

adv_finish
