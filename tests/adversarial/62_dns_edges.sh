#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Case 6 (issue 11, family 10, what tests/e2e/64_dns_proxy.sh and
# 60_dns_smuggling.sh do not cover): DNS at the edges.
#   - a malformed query (the marker as the whole message, no DNS header or
#     question) to the resolver, over UDP and TCP: the proxy must drop or
#     answer it itself, never pass the bytes on;
#   - a query flood: 500 queries for a name not allowed (the marker its
#     first label): all REFUSED by the proxy, none reaches the resolver;
#     an allowed query right after is still answered;
#   - DNS over TLS (853) to the denied host: a denied TCP port like any;
#   - an allowed wildcard name whose answer is the cloud metadata address
#     169.254.169.254: never learned, so the connection the workload then
#     makes is EPERM and its SYN never leaves.
# Capture: the router's client-facing veth (the resolver is the router;
# for 853 the denied host).  Controls: without egressd the bytes reach the
# resolver, the SYNs leave.

. "$(dirname "$0")/lib.sh"

ADV_DNS_EXTRA="address=/meta.test/169.254.169.254"
adv_init
adv_up
adv_start_servers

R4=$ADV_ROUTER4
R6=$ADV_ROUTER6

lab_section "malformed queries to the resolver"
adv_attack "UDP to $R4:53, the marker as the whole message" router text '' \
	send --marker @M@ udp "$R4" 53
adv_attack "UDP to [$R6]:53, the marker as the whole message" router text '' \
	send --marker @M@ udp "$R6" 53
adv_attack "TCP to $R4:53, the marker as the stream" router text '' \
	send --marker @M@ tcp "$R4" 53

lab_section "a query flood for a name not allowed"
adv_attack "500 UDP queries for <marker>.nx.test to $R4:53" router text '' \
	send --dns @M@.nx.test --count 500 --hold 500 udp "$R4" 53
ADV_ALLOW_MORE=router.test
adv_no_false_drop "after the flood, router.test is answered" \
	send --dns router.test --reply 3000 udp "$R4" 53
ADV_ALLOW_MORE=

lab_section "DNS over TLS (853) to the denied host"
for dst in "$ADV_DENIED4" "$ADV_DENIED6"; do
	adv_attack "TCP $dst:853 (marker: the SYN's source port and 853)" denied tcp:853 \
		'connect: EPERM' send --sport @S@ tcp "$dst" @P@
done

lab_section "an allowed name answered with the metadata address"
# The workload looks x.meta.test up through the proxy (*.meta.test is
# allowed), then connects to the address it got.  Marker: the SYN's
# ports, on the router's side (where a route to 169.254.169.254 leads).
cat >"$LAB_DIR/meta.sh" <<EOSH
a=\$(getent ahostsv4 x.meta.test | { read -r a _; echo "\$a"; })
echo "resolved: \${a:-nothing}"
exec $ADV_ATTACK send --sport "\$1" tcp "\${a:-169.254.169.254}" "\$2"
EOSH
chmod 0755 "$LAB_DIR/meta.sh"
ip -n "$LAB_CLIENT" route add 169.254.169.254/32 via "$R4" || lab_die "route to the metadata address"
adv_marker tcp
adv_capture_start router "$ADV_MARK_HEX"
lab_run_in client "${LAB_NOBODY_CMD[@]}" sh "$LAB_DIR/meta.sh" "$ADV_S" "$ADV_P"
adv_capture_stop
ctl_n=$ADV_CAP_COUNT
ctl_ok=$(grep -c '^resolved: 169.254.169.254$' "$LAB_OUT")
adv_marker tcp
adv_capture_start router "$ADV_MARK_HEX"
lab_egressd run --user nobody --allow-domains "$ADV_ALLOW,*.meta.test" -- \
	sh "$LAB_DIR/meta.sh" "$ADV_S" "$ADV_P"
adv_capture_stop
if [ "$ctl_n" -eq 0 ] || [ "$ctl_ok" -ne 1 ]; then
	adv_fail "x.meta.test -> 169.254.169.254" "control failed: $ctl_n frames, resolved $ctl_ok"
elif [ "$ADV_CAP_COUNT" -eq 0 ] && grep -qx 'connect: EPERM' "$LAB_OUT"; then
	adv_pass "x.meta.test -> 169.254.169.254: not learned, connect EPERM, no SYN (control: $ctl_n frame(s); $(grep '^resolved' "$LAB_OUT"))"
else
	adv_fail "x.meta.test -> 169.254.169.254" "$ADV_CAP_COUNT frame(s): $(tr '\n' ';' <"$LAB_OUT")"
fi

adv_finish
