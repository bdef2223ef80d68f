#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# bench/resolve.sh: how long resolving 50 names takes, egressd's concurrent
# c-ares resolution vs. a sequential dig loop like init-firewall.sh's:
#
#     for domain in ...; do dig +noall +answer A "$domain"; done
#
# Both ask the same resolver: dnsmasq behind tests/lib/dnsdelay.py, which
# adds DELAY_MS (default 20) to every answer, like a resolver a few hops
# away.  Prints the medians and their ratio.
#
# Needs root, ip, dnsmasq, dig, hyperfine, python3, and an egressd with the
# hidden "egressd resolve NAME..." debug subcommand (EGRESSD=path to
# override; prints "NAME ADDR..." per line, exits 125 when a name fails).
#
# Network safety: everything runs inside one network namespace made here,
# holding only lo, with 198.51.100.1/32 (TEST-NET-2) added to it.
# dnsmasq answers only its own host-records (--no-resolv, --no-hosts), so
# no query ever leaves the namespace.  The EXIT trap removes the namespace,
# /etc/netns/NS and the processes, also on failure or ^C.
#
#   N=50 DELAY_MS=20 RUNS=20 bench/resolve.sh
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
EGRESSD=${EGRESSD:-$REPO/build/egressd}
N=${N:-50}
DELAY_MS=${DELAY_MS:-20}
RUNS=${RUNS:-20}
WARMUP=${WARMUP:-3}
NS=egbench-$$
ADDR=198.51.100.1
TMP=
PIDS=()

die() { echo "resolve.sh: $*" >&2; exit 1; }

cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "/etc/netns/$NS"
	[ -n "$TMP" ] && rm -rf "$TMP"
}

[ "$(id -u)" = 0 ] || die "needs root (network namespaces)"
for t in ip dnsmasq dig hyperfine python3; do
	command -v "$t" >/dev/null || die "$t not found"
done
[ -x "$EGRESSD" ] || die "$EGRESSD not found (build it, or set EGRESSD=)"

trap cleanup EXIT
trap 'exit 130' INT TERM
TMP=$(mktemp -d /tmp/egbench.XXXXXX)

# The namespace: only lo, so no route anywhere else.
ip netns add "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" addr add "$ADDR/32" dev lo
# ip netns exec bind-mounts this over /etc/resolv.conf: dig and egressd
# both see only the delaying resolver.
mkdir -p "/etc/netns/$NS"
echo "nameserver $ADDR" > "/etc/netns/$NS/resolv.conf"

names=()
records=()
for i in $(seq 1 "$N"); do
	names+=("host$i.bench.test")
	records+=("--host-record=host$i.bench.test,198.51.100.$((i % 200 + 20)),2001:db8::$i")
done

ip netns exec "$NS" dnsmasq --keep-in-foreground --conf-file=/dev/null \
	--no-resolv --no-hosts --no-poll --bind-interfaces \
	--listen-address="$ADDR" --port=5300 --pid-file= --log-facility=- \
	--quiet-dhcp "${records[@]}" >"$TMP/dnsmasq.log" 2>&1 &
PIDS+=($!)
ip netns exec "$NS" python3 "$REPO/tests/lib/dnsdelay.py" --listen "$ADDR:53" \
	--upstream "$ADDR:5300" --delay-ms "$DELAY_MS" 2>"$TMP/dnsdelay.log" &
PIDS+=($!)

# Wait until the chain answers.
for _ in $(seq 50); do
	if ip netns exec "$NS" dig +time=1 +tries=1 +short A host1.bench.test @"$ADDR" \
		| grep -q .; then
		break
	fi
	sleep 0.1
done

# Sanity: both sides must actually resolve every name.
out=$(ip netns exec "$NS" "$EGRESSD" resolve "${names[@]}") ||
	die "'egressd resolve' failed (exit $?): $out"
[ "$(printf '%s\n' "$out" | grep -c .)" = "$N" ] ||
	die "'egressd resolve' printed $(printf '%s\n' "$out" | grep -c .) lines, want $N"

printf '%s\n' "${names[@]}" > "$TMP/names"
cat > "$TMP/digloop.sh" <<'DIG'
#!/bin/bash
# What init-firewall.sh does: one dig per domain, one after the other.
while read -r domain; do
	ips=$(dig +noall +answer A "$domain" | awk '$4 == "A" {print $5}')
	[ -n "$ips" ] || { echo "no A for $domain" >&2; exit 1; }
done < "$1"
DIG
chmod +x "$TMP/digloop.sh"
ip netns exec "$NS" "$TMP/digloop.sh" "$TMP/names" || die "dig loop failed"

echo "resolving $N names (A + AAAA for egressd, A for dig), resolver delay ${DELAY_MS} ms"
ip netns exec "$NS" hyperfine --style basic --warmup "$WARMUP" --runs "$RUNS" \
	--export-json "$TMP/result.json" \
	-n "egressd resolve" "$EGRESSD resolve ${names[*]}" \
	-n "dig loop" "$TMP/digloop.sh $TMP/names" >"$TMP/hyperfine.log" 2>&1 ||
	{ cat "$TMP/hyperfine.log" >&2; die "hyperfine failed"; }

# The resolution phase alone, as egressd measures it (-v), without the
# ~25 ms of process start-up that loading libcurl's dependencies costs.
for _ in $(seq "$RUNS"); do
	ip netns exec "$NS" "$EGRESSD" resolve -v "${names[@]}" 2>&1 >/dev/null |
		sed -n 's/.*resolved [0-9]* names in \([0-9.]*\) ms.*/\1/p'
done > "$TMP/phase.txt"

python3 - "$TMP/result.json" "$TMP/phase.txt" "$DELAY_MS" <<'PY'
import json, statistics, sys
r = {x['command']: x for x in json.load(open(sys.argv[1]))['results']}
phase = [float(x) for x in open(sys.argv[2]) if x.strip()]
rtt = float(sys.argv[3])
eg = r['egressd resolve']['median'] * 1000
dg = r['dig loop']['median'] * 1000
print(f"egressd resolve: median {eg:8.1f} ms  ({len(r['egressd resolve']['times'])} runs)")
print(f"dig loop:        median {dg:8.1f} ms  ({len(r['dig loop']['times'])} runs)")
print(f"ratio (dig loop / egressd): {dg / eg:.1f}x")
if phase:
    ph = statistics.median(phase)
    print(f"egressd resolution phase alone: median {ph:.1f} ms = {ph / rtt:.2f} x the {rtt:.0f} ms round trip ({len(phase)} runs; goal < 3x)")
PY
