#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# DNS proxy mode, kernel side only (issue 8), in the lab: the programs are
# loaded by build/tests/test_dns_redirect (the real loader) in the client
# namespace, where 198.51.100.1:53 is a UDP echo across the veth.  Proves
# that port-53 traffic from the cgroup lands on a proxy socket on
# 127.0.0.1/::1, that answers and getpeername() show the address asked
# for, and that only an exempt socket reaches the resolver, through the
# socket hooks and through the packet hook on the real wire.

. "$(dirname "$0")/../lib/lab.sh"

lab_init
T=$LAB_REPO/build/tests/test_dns_redirect
[ -x "$T" ] || lab_skip "build/tests/test_dns_redirect missing (make test-bins)"
lab_up
lab_start_udp_echo 53 "$LAB_HOST" "$LAB_RESOLVER4"

lab_section "redirect, restore and exemption in the lab's client namespace"
out=$LAB_DIR/dns_redirect.out
lab_exec_client "$T" --remote >"$out" 2>&1
rc=$?
sed 's/^/  /' "$out"
n=$(grep -c '^ok - ' "$out")
if [ "$rc" = 0 ] && [ "$n" -ge 35 ] && ! grep -q '^not ok' "$out"; then
	lab_ok "test_dns_redirect --remote: $n checks passed"
else
	lab_fail "test_dns_redirect --remote" "exit $rc, $n ok lines"
fi
for want in "the resolver itself answers" "a non-exempt socket does not reach" \
	"the exempt socket gets the resolver's answer" "tcp: getpeername shows 8.8.8.8:53" \
	"udp 198.51.100.1:53: the answer's source is 198.51.100.1:53"; do
	if grep -q "^ok - .*$want" "$out"; then
		lab_ok "$want"
	else
		lab_fail "$want"
	fi
done
lab_finish
