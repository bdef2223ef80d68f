#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Isolation OFF (no --allow-*): a warning, and traffic flows.
# --allow-domains "": nothing allowed except loopback and DNS to the
# resolvers (from resolv.conf, or --resolver when given).

. "$(dirname "$0")/../lib/lab.sh"

lab_init
lab_require_egressd
lab_up
lab_start_servers

WARN='WARNING: Network isolation: OFF (use --allow-domains to enable)'
NOBODY=("${LAB_NOBODY_CMD[@]}")
command -v dig >/dev/null 2>&1 || lab_skip "dig (bind9-dnsutils) is needed for the DNS checks"
DIG=(dig +time=1 +tries=1)

lab_section "isolation OFF: no --allow-* option"
lab_egressd run --user nobody -- "$LAB_PROBE" tcp 198.51.100.20 80
lab_check_verdict ok "tcp 198.51.100.20:80 flows"
expect_fgrep "$LAB_ERR" "$WARN" "stderr warns: $WARN"
lab_egressd run --user nobody -- "$LAB_PROBE" udp 2001:db8::20 7
lab_check_verdict ok "udp [2001:db8::20]:7 flows"
expect_fgrep "$LAB_ERR" "$WARN" "the warning is printed every time"
lab_egressd run --user nobody -- "${DIG[@]}" +short @198.51.100.30 denied.test A
expect_grep "$LAB_OUT" '^198\.51\.100\.20$' "DNS to any server flows"
lab_egressd run -q --user nobody -- true
expect_fgrep "$LAB_ERR" "$WARN" "-q does not hide the warning"

lab_section "--allow-domains \"\": isolation ON, nothing allowed"
EG_ARGS=(--allow-domains "" --user nobody)
expect_probe blocked "tcp 198.51.100.10:80" tcp 198.51.100.10 80
expect_probe blocked "udp 198.51.100.10:7" udp 198.51.100.10 7
expect_probe blocked "tcp [2001:db8::10]:80" tcp 2001:db8::10 80
expect_probe blocked "udp-connected [2001:db8::10]:7" udp-connected 2001:db8::10 7
expect_probe blocked "tcp 198.51.100.20:80" tcp 198.51.100.20 80
expect_probe blocked "tcp 198.51.100.1:80 (the resolver, not port 53)" tcp 198.51.100.1 80
expect_probe blocked "udp 198.51.100.1:7 (the resolver, not port 53)" udp 198.51.100.1 7
lab_egressd run --allow-domains "" --user nobody -- true
expect_no_grep "$LAB_ERR" 'Network isolation: OFF' "no OFF warning when isolation is on"

lab_section "--allow-domains \"\": loopback is always allowed"
expect_probe ok "tcp 127.0.0.1:9000" tcp 127.0.0.1 9000
expect_probe ok "tcp [::1]:9000" tcp ::1 9000
expect_probe ok "udp 127.0.0.1:7" udp 127.0.0.1 7
expect_probe ok "udp-connected [::1]:7" udp-connected ::1 7

lab_section "--no-dns-proxy --allow-domains \"\": DNS only to the resolver, any name (resolv.conf: 198.51.100.1)"
lab_egressd run --no-dns-proxy --allow-domains "" --user nobody -- "${DIG[@]}" +short @198.51.100.1 allowed.test A
expect_rc 0 "dig @198.51.100.1 (udp) succeeds"
expect_grep "$LAB_OUT" '^198\.51\.100\.10$' "dig @198.51.100.1 gets the answer"
lab_egressd run --no-dns-proxy --allow-domains "" --user nobody -- "${DIG[@]}" +short allowed.test A
expect_grep "$LAB_OUT" '^198\.51\.100\.10$' "dig via resolv.conf gets the answer"
lab_egressd run --no-dns-proxy --allow-domains "" --user nobody -- "${DIG[@]}" +tcp +short @198.51.100.1 allowed.test A
expect_grep "$LAB_OUT" '^198\.51\.100\.10$' "dig +tcp @198.51.100.1 gets the answer (DNS over TCP)"

# Control first: the non-resolver really is a working DNS server.
lab_run_in client "${NOBODY[@]}" "${DIG[@]}" +short @198.51.100.30 denied.test A
if grep -q '^198\.51\.100\.20$' "$LAB_OUT"; then
	lab_egressd run --no-dns-proxy --allow-domains "" --user nobody -- "${DIG[@]}" +short @198.51.100.30 denied.test A
	if [ "$LAB_RC" -ne 0 ] && ! grep -q '^198\.51\.100\.20$' "$LAB_OUT"; then
		lab_ok "dig @198.51.100.30 (not a resolver) is blocked"
	else
		lab_fail "dig @198.51.100.30 (not a resolver) is blocked" "rc=$LAB_RC, got an answer"
	fi
else
	lab_fail "dig @198.51.100.30 (not a resolver) is blocked" "control failed: 198.51.100.30 does not answer without egressd"
fi
EG_ARGS=(--no-dns-proxy --allow-domains "" --user nobody)
expect_probe blocked "tcp 198.51.100.30:53 (DNS over TCP, not a resolver)" tcp 198.51.100.30 53

lab_section "--no-dns-proxy: --resolver overrides resolv.conf"
lab_egressd run --no-dns-proxy --allow-domains "" --resolver 198.51.100.30 --user nobody -- "${DIG[@]}" +short @198.51.100.30 denied.test A
expect_grep "$LAB_OUT" '^198\.51\.100\.20$' "--resolver 198.51.100.30: dig @198.51.100.30 answers"
lab_egressd run --no-dns-proxy --allow-domains "" --resolver 198.51.100.30 --user nobody -- "${DIG[@]}" +short @198.51.100.1 allowed.test A
if [ "$LAB_RC" -ne 0 ] && ! grep -q '^198\.51\.100\.10$' "$LAB_OUT"; then
	lab_ok "--resolver 198.51.100.30: dig @198.51.100.1 (resolv.conf's) is blocked"
else
	lab_fail "--resolver 198.51.100.30: dig @198.51.100.1 (resolv.conf's) is blocked" "rc=$LAB_RC"
fi
lab_egressd run --no-dns-proxy --allow-domains "" --resolver 2001:db8::1 --user nobody -- "${DIG[@]}" +short @2001:db8::1 allowed.test AAAA
expect_grep "$LAB_OUT" '^2001:db8::10$' "--resolver 2001:db8::1: DNS over IPv6 answers"
lab_egressd run --no-dns-proxy --allow-domains "" --resolver 198.51.100.1:53 --user nobody -- "${DIG[@]}" +short @198.51.100.1 allowed.test A
expect_grep "$LAB_OUT" '^198\.51\.100\.10$' "--resolver ADDR:PORT form (198.51.100.1:53)"

lab_finish
