#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# bench/initfw.sh: the start-up bench/run.sh compares egressd with, built
# the way para's init-firewall.sh builds its firewall (the method
# reproduced, not the script copied): flush, one ipset hash:net
# "allowed-domains" (and "allowed-domains6" for IPv6, which the original
# does not do), GitHub's /meta fetched with curl and parsed with jq, then
# one `ipset add` per CIDR; one sequential `dig` per domain and one
# `ipset add` per answer; then OUTPUT/INPUT policy DROP with
# ESTABLISHED,RELATED first and the set match; then exec the command.
#
#   initfw.sh [--meta URL --ca FILE] [--names FILE --resolver ADDR]
#             [--cidrs FILE] -- COMMAND...
#
# Runs inside bench's client namespace only (it rewrites that namespace's
# iptables and ipset state, nothing else).
set -euo pipefail

META='' CA='' NAMES='' RESOLVER='' CIDRS=''
while [ $# -gt 0 ]; do
	case $1 in
	--meta) META=$2; shift 2 ;;
	--ca) CA=$2; shift 2 ;;
	--names) NAMES=$2; shift 2 ;;
	--resolver) RESOLVER=$2; shift 2 ;;
	--cidrs) CIDRS=$2; shift 2 ;;
	--) shift; break ;;
	*) echo "initfw.sh: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
[ $# -gt 0 ] || { echo "initfw.sh: no command after --" >&2; exit 2; }

add_cidr() {
	case $1 in
	*:*) ipset add -exist allowed-domains6 "$1" ;;
	*) ipset add -exist allowed-domains "$1" ;;
	esac
}

# Start from nothing, as init-firewall.sh does.
for t in iptables ip6tables; do
	$t -P INPUT ACCEPT; $t -P OUTPUT ACCEPT
	$t -F; $t -X
done
ipset destroy allowed-domains 2>/dev/null || true
ipset destroy allowed-domains6 2>/dev/null || true
ipset create allowed-domains hash:net family inet maxelem 262144
ipset create allowed-domains6 hash:net family inet6 maxelem 262144

if [ -n "$META" ]; then
	meta=$(curl -sf --cacert "$CA" "$META") || { echo "initfw.sh: cannot fetch $META" >&2; exit 1; }
	while read -r cidr; do
		add_cidr "$cidr"
	done < <(jq -r '(.web + .api + .git)[]' <<<"$meta")
fi
if [ -n "$CIDRS" ]; then
	while read -r cidr; do
		add_cidr "$cidr"
	done <"$CIDRS"
fi
if [ -n "$NAMES" ]; then
	while read -r domain; do
		ips=$(dig +noall +answer ${RESOLVER:+@$RESOLVER} A "$domain" | awk '$4 == "A" { print $5 }')
		[ -n "$ips" ] || { echo "initfw.sh: no A record for $domain" >&2; exit 1; }
		while read -r ip; do
			ipset add -exist allowed-domains "$ip"
		done <<<"$ips"
	done <"$NAMES"
fi

for t in iptables ip6tables; do
	set=allowed-domains
	[ "$t" = ip6tables ] && set=allowed-domains6
	$t -A INPUT -i lo -j ACCEPT
	$t -A OUTPUT -o lo -j ACCEPT
	$t -A INPUT -m state --state ESTABLISHED,RELATED -j ACCEPT
	$t -A OUTPUT -m state --state ESTABLISHED,RELATED -j ACCEPT
	$t -A OUTPUT -m set --match-set "$set" dst -j ACCEPT
	$t -P INPUT DROP
	$t -P OUTPUT DROP
done
exec "$@"
