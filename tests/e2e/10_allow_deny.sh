#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Enforcing core: what the allowlist lets through and what it stops, over
# TCP, UDP (unconnected and connected), IPv6 and IPv4-mapped IPv6, with
# plain addresses, port-limited entries, CIDRs and --allow-file.
# Every "blocked" check first proves the destination answers without
# egressd (see expect_probe in lab.sh).

. "$(dirname "$0")/../lib/lab.sh"

lab_init
lab_require_egressd
lab_up
lab_start_servers

lab_section "allowlist 198.51.100.10,2001:db8::10: allowed destinations work"
EG_ARGS=(--allow-domains "198.51.100.10,2001:db8::10" --user nobody)
expect_probe ok "tcp 198.51.100.10:80" tcp 198.51.100.10 80
expect_probe ok "tcp 198.51.100.10:8080" tcp 198.51.100.10 8080
expect_probe ok "udp 198.51.100.10:7" udp 198.51.100.10 7
expect_probe ok "udp-connected 198.51.100.10:7" udp-connected 198.51.100.10 7
expect_probe ok "tcp [2001:db8::10]:80" tcp 2001:db8::10 80
expect_probe ok "udp [2001:db8::10]:7" udp 2001:db8::10 7
expect_probe ok "udp-connected [2001:db8::10]:7" udp-connected 2001:db8::10 7

lab_section "allowlist 198.51.100.10,2001:db8::10: everything else is blocked"
expect_probe blocked "tcp 198.51.100.20:80" tcp 198.51.100.20 80
expect_probe blocked "udp 198.51.100.20:7" udp 198.51.100.20 7
expect_probe blocked "udp-connected 198.51.100.20:7" udp-connected 198.51.100.20 7
expect_probe blocked "tcp [2001:db8::20]:80" tcp 2001:db8::20 80
expect_probe blocked "udp [2001:db8::20]:7" udp 2001:db8::20 7
expect_probe blocked "udp-connected [2001:db8::20]:7" udp-connected 2001:db8::20 7
expect_probe blocked "tcp 198.51.100.30:80 (not listed)" tcp 198.51.100.30 80
expect_probe blocked "tcp 198.51.100.1:80 (the resolver, not port 53)" tcp 198.51.100.1 80
expect_probe blocked "udp 198.51.100.1:7 (the resolver, not port 53)" udp 198.51.100.1 7

lab_section "ICMP echo (ping sockets: only the cgroup/skb program sees these)"
expect_probe ok "icmp 198.51.100.10" icmp 198.51.100.10 -
expect_probe ok "icmp 2001:db8::10" icmp 2001:db8::10 -
expect_probe blocked "icmp 198.51.100.20" icmp 198.51.100.20 -
expect_probe blocked "icmp 2001:db8::20" icmp 2001:db8::20 -

lab_section "IPv4-mapped IPv6 on an AF_INET6 socket"
expect_probe ok "tcp [::ffff:198.51.100.10]:80" tcp ::ffff:198.51.100.10 80
expect_probe ok "udp [::ffff:198.51.100.10]:7" udp ::ffff:198.51.100.10 7
expect_probe ok "udp-connected [::ffff:198.51.100.10]:7" udp-connected ::ffff:198.51.100.10 7
expect_probe blocked "tcp [::ffff:198.51.100.20]:80" tcp ::ffff:198.51.100.20 80
expect_probe blocked "udp [::ffff:198.51.100.20]:7" udp ::ffff:198.51.100.20 7
expect_probe blocked "udp-connected [::ffff:198.51.100.20]:7" udp-connected ::ffff:198.51.100.20 7

lab_section "port-limited entries: 198.51.100.10:80,[2001:db8::10]:80"
EG_ARGS=(--allow-domains "198.51.100.10:80,[2001:db8::10]:80" --user nobody)
expect_probe ok "tcp 198.51.100.10:80 (listed port)" tcp 198.51.100.10 80
expect_probe blocked "tcp 198.51.100.10:8080 (other port)" tcp 198.51.100.10 8080
expect_probe blocked "udp 198.51.100.10:7 (other port)" udp 198.51.100.10 7
expect_probe ok "tcp [::ffff:198.51.100.10]:80 (listed port, mapped)" tcp ::ffff:198.51.100.10 80
expect_probe blocked "tcp [::ffff:198.51.100.10]:8080 (other port, mapped)" tcp ::ffff:198.51.100.10 8080
expect_probe ok "tcp [2001:db8::10]:80 (listed port)" tcp 2001:db8::10 80
expect_probe blocked "tcp [2001:db8::10]:8080 (other port)" tcp 2001:db8::10 8080
expect_probe blocked "udp [2001:db8::10]:7 (other port)" udp 2001:db8::10 7
expect_probe blocked "tcp 198.51.100.20:80 (other address)" tcp 198.51.100.20 80
expect_probe blocked "icmp 198.51.100.10 (port-limited entry, no port)" icmp 198.51.100.10 -
expect_probe blocked "icmp 2001:db8::10 (port-limited entry, no port)" icmp 2001:db8::10 -

lab_section "CIDR entries: 198.51.100.8/29,2001:db8::10/124"
EG_ARGS=(--allow-domains "198.51.100.8/29,2001:db8::10/124" --user nobody)
expect_probe ok "tcp 198.51.100.10:80 (inside /29)" tcp 198.51.100.10 80
expect_probe ok "udp 198.51.100.10:7 (inside /29)" udp 198.51.100.10 7
expect_probe blocked "tcp 198.51.100.20:80 (outside /29)" tcp 198.51.100.20 80
expect_probe blocked "udp 198.51.100.1:7 (outside /29)" udp 198.51.100.1 7
expect_probe ok "tcp [2001:db8::10]:80 (inside /124)" tcp 2001:db8::10 80
expect_probe blocked "tcp [2001:db8::20]:80 (outside /124)" tcp 2001:db8::20 80
expect_probe blocked "udp [2001:db8::20]:7 (outside /124)" udp 2001:db8::20 7
expect_probe ok "icmp 198.51.100.10 (inside /29)" icmp 198.51.100.10 -
expect_probe blocked "icmp 198.51.100.20 (outside /29)" icmp 198.51.100.20 -

lab_section "wide CIDRs: 198.51.100.0/24,2001:db8::/32"
EG_ARGS=(--allow-domains "198.51.100.0/24,2001:db8::/32" --user nobody)
expect_probe ok "tcp 198.51.100.20:80 (inside /24)" tcp 198.51.100.20 80
expect_probe ok "udp 198.51.100.30:7 (inside /24)" udp 198.51.100.30 7
expect_probe ok "tcp [2001:db8::20]:80 (inside /32)" tcp 2001:db8::20 80
expect_probe ok "tcp [::ffff:198.51.100.20]:80 (inside /24, mapped)" tcp ::ffff:198.51.100.20 80

lab_section "--allow-file"
cat >"$LAB_WORK/allow.txt" <<'EOF'
# the allowed host, any port
198.51.100.10

[2001:db8::10]:80   # v6 web only
EOF
EG_ARGS=(--allow-file "$LAB_WORK/allow.txt" --user nobody)
expect_probe ok "tcp 198.51.100.10:8080 (from file)" tcp 198.51.100.10 8080
expect_probe ok "udp 198.51.100.10:7 (from file)" udp 198.51.100.10 7
expect_probe ok "tcp [2001:db8::10]:80 (from file)" tcp 2001:db8::10 80
expect_probe blocked "tcp [2001:db8::10]:8080 (port not in file)" tcp 2001:db8::10 8080
expect_probe blocked "tcp 198.51.100.20:80 (not in file)" tcp 198.51.100.20 80

lab_section "--allow-file and --allow-domains together"
EG_ARGS=(--allow-file "$LAB_WORK/allow.txt" --allow-domains 198.51.100.30 --user nobody)
expect_probe ok "tcp 198.51.100.30:80 (from --allow-domains)" tcp 198.51.100.30 80
expect_probe ok "tcp 198.51.100.10:80 (from --allow-file)" tcp 198.51.100.10 80
expect_probe blocked "tcp 198.51.100.20:80 (in neither)" tcp 198.51.100.20 80

lab_finish
