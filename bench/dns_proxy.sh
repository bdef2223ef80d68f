#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# bench/dns_proxy.sh: what egressd's DNS proxy adds to a lookup.
#
# One client asks Q sequential A queries (and, to isolate the cost of
# learning an address, TXT queries, which learn nothing) of:
#   cached:   dnsmasq answering from its own records at once;
#   uncached: dnsmasq behind tests/lib/dnsdelay.py, DELAY_MS away,
#             like a resolver that has to ask further;
# each directly and from inside `egressd run` (redirected to the proxy,
# which forwards upstream and learns the answer's address before it
# replies).  ROUNDS rounds alternate the conditions, and the medians of all
# samples are compared side by side.  Goal: under 1 ms added per answer.
#
# Network safety: one namespace made here, holding only lo with
# 198.51.100.1/32 and 198.51.100.2/32; dnsmasq answers only its records.
# The EXIT trap removes the namespace, /etc/netns/NS and the processes.
#
#   Q=200 ROUNDS=5 DELAY_MS=20 bench/dns_proxy.sh
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
EGRESSD=${EGRESSD:-$REPO/build/egressd}
Q=${Q:-200}
ROUNDS=${ROUNDS:-5}
DELAY_MS=${DELAY_MS:-20}
NS=egbench-dns-$$
FAST=198.51.100.1
SLOW=198.51.100.2
TMP=
PIDS=()

die() { echo "dns_proxy.sh: $*" >&2; exit 1; }

cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "/etc/netns/$NS"
	[ -n "$TMP" ] && rm -rf "$TMP"
}

[ "$(id -u)" = 0 ] || die "needs root (network namespaces, BPF)"
for t in ip dnsmasq python3; do command -v "$t" >/dev/null || die "$t not found"; done
[ -x "$EGRESSD" ] || die "$EGRESSD not found (build it, or set EGRESSD=)"
trap cleanup EXIT
trap 'exit 130' INT TERM
TMP=$(mktemp -d /tmp/egbench.XXXXXX)
chmod 0755 "$TMP"
mkdir -m 1777 "$TMP/out"

ip netns add "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" addr add "$FAST/32" dev lo
ip -n "$NS" addr add "$SLOW/32" dev lo
mkdir -p "/etc/netns/$NS"
echo "nameserver $FAST" >"/etc/netns/$NS/resolv.conf"

ip netns exec "$NS" dnsmasq --keep-in-foreground --conf-file=/dev/null \
	--no-resolv --no-hosts --no-poll --bind-interfaces --listen-address="$FAST" \
	--port=53 --pid-file= --log-facility=- --user=root --group=root \
	--host-record=q.bench.test,198.51.100.77 --txt-record=q.bench.test,x \
	>"$TMP/dnsmasq.log" 2>&1 &
PIDS+=($!)
ip netns exec "$NS" python3 "$REPO/tests/lib/dnsdelay.py" --listen "$SLOW:53" \
	--upstream "$FAST:53" --delay-ms "$DELAY_MS" 2>"$TMP/dnsdelay.log" &
PIDS+=($!)

# The client: Q queries, one at a time, each timed; one sample (us) a line.
cat >"$TMP/q.py" <<'EOF'
import os, socket, struct, sys, time
server, qtype, n, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
name = b"".join(bytes([len(l)]) + l for l in b"q.bench.test".split(b".")) + b"\0"
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
samples = []
for i in range(n):
    qid = int.from_bytes(os.urandom(2), "big")
    msg = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + name + struct.pack(">HH", qtype, 1)
    t0 = time.perf_counter_ns()
    s.sendto(msg, (server, 53))
    while True:
        data, _ = s.recvfrom(4096)
        if data[:2] == msg[:2]:
            break
    samples.append((time.perf_counter_ns() - t0) / 1000)
    if data[3] & 0x0f:
        sys.exit("rcode %d" % (data[3] & 0x0f))
with open(out, "a") as f:
    f.write("".join("%.1f\n" % x for x in samples))
EOF
chmod 0644 "$TMP/q.py"

in_ns() { ip netns exec "$NS" sh -c 'mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null; exec "$@"' sh "$@"; }

for _ in $(seq 50); do
	in_ns python3 "$TMP/q.py" "$SLOW" 1 1 /dev/null 2>/dev/null && break
	sleep 0.1
done

run() { # run KIND SERVER QTYPE RESOLVER
	local kind=$1 server=$2 qtype=$3 resolver=$4
	case $kind in
	direct) in_ns python3 "$TMP/q.py" "$server" "$qtype" "$Q" "$TMP/out/$kind-$server-$qtype" ;;
	proxy)
		in_ns "$EGRESSD" run -q --user nobody --resolver "$resolver" \
			--allow-domains '*.bench.test' -- \
			python3 "$TMP/q.py" "$server" "$qtype" "$Q" "$TMP/out/$kind-$server-$qtype" ||
			die "egressd run failed"
		;;
	esac
}

for _ in $(seq "$ROUNDS"); do
	run direct "$FAST" 1 -
	run proxy "$FAST" 1 "$FAST"
	run direct "$FAST" 16 -
	run proxy "$FAST" 16 "$FAST"
	run direct "$SLOW" 1 -
	run proxy "$SLOW" 1 "$SLOW"
done

median() { sort -n "$1" | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
report() { # report LABEL DIRECT PROXY
	local d p
	d=$(median "$TMP/out/$2")
	p=$(median "$TMP/out/$3")
	printf '%-34s direct %8.1f us   through egressd %8.1f us   added %7.1f us\n' "$1" "$d" "$p" \
		"$(awk -v a="$p" -v b="$d" 'BEGIN { print a - b }')"
}

echo "DNS proxy latency, medians of $((Q * ROUNDS)) sequential queries per row ($ROUNDS interleaved rounds)"
report "cached (local records), A" "direct-$FAST-1" "proxy-$FAST-1"
report "cached, TXT (nothing learned)" "direct-$FAST-16" "proxy-$FAST-16"
report "uncached (upstream ${DELAY_MS} ms away), A" "direct-$SLOW-1" "proxy-$SLOW-1"
a=$(median "$TMP/out/proxy-$FAST-1")
t=$(median "$TMP/out/proxy-$FAST-16")
printf 'learning one address (A minus TXT through the proxy): %.1f us\n' "$(awk -v a="$a" -v b="$t" 'BEGIN { print a - b }')"
