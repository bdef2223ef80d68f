#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# bench/run.sh: `make bench` -- egressd against no filter, iptables+ipset
# and nftables, and an empty cgroup_skb program (the floor), side by side.
# Writes build/bench/results.json (every repetition, the medians, the
# ratios, the machine) and, through bench/report.py, docs/benchmarks.md
# with its plots in docs/bench/*.png.
#
#   sudo make bench                 # full run, ~15 minutes
#   sudo BENCH_SMOKE=1 bench/run.sh # one short repetition of everything;
#                                   # checks the harness, no timing
#   REPS=7 T=5 sudo bench/run.sh    # more / longer repetitions
#
# Topology (made here, removed by the EXIT trap, names unique per run):
#   client ns bcl-ID  veth bvcID 198.51.100.2/24  2001:db8::2/64
#     the load generator runs in cgroup bench-ID/load, pinned to CPU 0
#   server ns bsv-ID  veth bvsID 198.51.100.1/24 (+ .5, not allowed)
#     iperf3 -s, connsrv, dnsmasq, dnsdelay.py, https_server.py on CPU 1
# Only TEST-NET addresses; the client namespace has no route but the
# veth's /24, so nothing can reach the machine's own network.
#
# Every network figure is the median of REPS repetitions interleaved
# filter by filter (none, egressd, iptables, nftables, floor, none, ...),
# each as a ratio to the no-filter run of the same repetition.
set -u -o pipefail

# bash reads a script while it runs it: run a private copy, so that an edit
# of bench/run.sh during a 15-minute run cannot change it half-way.
if [ -z "${BENCH_REPO:-}" ]; then
	BENCH_REPO=$(cd "$(dirname "$0")/.." && pwd) || exit 1
	copy=$(mktemp /tmp/egbench-run.XXXXXX) && cp "$0" "$copy" || exit 1
	BENCH_REPO=$BENCH_REPO BENCH_SELF=$copy exec bash "$copy" "$@"
fi
[ -n "${BENCH_SELF:-}" ] && rm -f "$BENCH_SELF"
REPO=$BENCH_REPO
BUILD=$REPO/build
EGRESSD_SRC=${EGRESSD:-$BUILD/egressd}
SMOKE=${BENCH_SMOKE:-0}
if [ "$SMOKE" = 1 ]; then
	REPS=${REPS:-1} T=${T:-1} NLIST=${NLIST:-200} NBIG=${NBIG:-2000}
	PC_CALLS=${PC_CALLS:-2000} PC_HOT=${PC_HOT:-10000} HF_RUNS=${HF_RUNS:-1}
	STATS_REPS=${STATS_REPS:-1} DNS_Q=${DNS_Q:-3} NNAMES=${NNAMES:-5}
	OUTDIR=${OUTDIR:-$BUILD/bench/smoke}
else
	REPS=${REPS:-5} T=${T:-4} NLIST=${NLIST:-5000} NBIG=${NBIG:-100000}
	PC_CALLS=${PC_CALLS:-1000000} PC_HOT=${PC_HOT:-1000000} HF_RUNS=${HF_RUNS:-10}
	STATS_REPS=${STATS_REPS:-3} DNS_Q=${DNS_Q:-100} NNAMES=${NNAMES:-50}
	OUTDIR=${OUTDIR:-$BUILD/bench}
fi
SEED=${SEED:-10}
DELAY_MS=${DELAY_MS:-20}
# BENCH_FILTERS / BENCH_METRICS / BENCH_ONLY=network: a subset, for a quick
# experiment (egressd-noproxy is `egressd run --no-dns-proxy`, which also
# turns the per-socket verdict cache off; egressd-noseed is egressd with
# EGRESSD_NO_SEED=1).  The full report needs all.  BENCH_ONLY=connstats:
# only the bpf_stats connrate passes, seed and no seed (with
# BENCH_FILTERS=egressd, so that the sanity pass runs for egressd alone).
read -r -a FILTERS <<<"${BENCH_FILTERS:-none egressd iptables nftables floor}"
read -r -a METRICS <<<"${BENCH_METRICS:-udp_pps tcp_conn tcp_bulk}"

ID=$(printf '%04x%04x' $(($$ & 0xffff)) $((RANDOM & 0xffff)))
CL=bcl-$ID
SV=bsv-$ID
VC=bvc$ID
VS=bvs$ID
TARGET=198.51.100.1
DENIED=198.51.100.5
DNSSLOW=198.51.100.3
CG2=
CGREL=bench-$ID
TMP=
PIDS=()
FLOOR_PID=
NETNS_MADE=0
STATS_OLD=

say() { printf '[bench %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { printf 'bench/run.sh: FAIL: %s\n' "$*" >&2; exit 1; }
skip() { printf 'bench/run.sh: SKIP: %s\n' "$*" >&2; exit 77; }

# run.sh of the tests sets LAB_RECORD: list what we make for its leak check.
record() { [ -n "${LAB_RECORD:-}" ] && printf '%s %s\n' "$1" "$2" >>"$LAB_RECORD"; return 0; }

cleanup() {
	local rc=$? p i

	trap - EXIT INT TERM HUP
	set +e
	[ -n "$STATS_OLD" ] && sysctl -qw kernel.bpf_stats_enabled="$STATS_OLD"
	for p in "${PIDS[@]}" $FLOOR_PID; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}" $FLOOR_PID; do wait "$p" 2>/dev/null; done
	if [ -n "$CG2" ] && [ -d "$CG2/$CGREL" ]; then
		for ((i = 0; i < 40; i++)); do
			find "$CG2/$CGREL" -name cgroup.kill -exec sh -c 'echo 1 >"$1"' sh {} \; 2>/dev/null
			[ -z "$(find "$CG2/$CGREL" -name cgroup.procs -exec cat {} \; 2>/dev/null)" ] && break
			sleep 0.05
		done
		find "$CG2/$CGREL" -depth -type d -exec rmdir {} \; 2>/dev/null
	fi
	for p in $CL $SV; do
		[ "$NETNS_MADE" -ge 1 ] || break
		for ((i = 0; i < 40; i++)); do
			pids=$(ip netns pids "$p" 2>/dev/null)
			[ -n "$pids" ] || break
			kill -9 $pids 2>/dev/null
			sleep 0.05
		done
		ip netns del "$p" 2>/dev/null
	done
	rm -rf "/etc/netns/$CL"
	[ -n "$TMP" ] && rm -rf "$TMP"
	# Verify: a leak is a failure of this run.
	local leaks=
	ip netns list 2>/dev/null | grep -Eq "^($CL|$SV)( |$)" && leaks+="netns "
	[ -n "$CG2" ] && [ -d "$CG2/$CGREL" ] && leaks+="$CG2/$CGREL "
	[ -d "/etc/netns/$CL" ] && leaks+="/etc/netns/$CL "
	if [ -n "$leaks" ]; then
		echo "bench/run.sh: FAIL: cleanup left behind: $leaks" >&2
		[ "$rc" -eq 0 ] && rc=1
	fi
	exit "$rc"
}

# ---- checks ----
[ "$(id -u)" -eq 0 ] || skip "needs root (namespaces, cgroups, BPF, netfilter)"
for t in ip iperf3 ipset nft iptables ip6tables hyperfine gnuplot dnsmasq dig \
	taskset python3 curl jq openssl bpftool; do
	command -v "$t" >/dev/null 2>&1 || skip "missing tool: $t (see the README's install line)"
done
[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs (client on CPU 0, server on CPU 1)"
for f in "$EGRESSD_SRC" "$BUILD/bench/connsrv" "$BUILD/bench/connrate" "$BUILD/bench/progcost" \
	"$BUILD/bench/verifier" \
	"$BUILD/bench/floor" "$BUILD/bench/noop.bpf.o"; do
	[ -e "$f" ] || skip "not built: $f (run: make bench-bins)"
done
# The first cgroup2 mount that is visible: another may cover it (a
# cgroup2 /sys/fs/cgroup over a hybrid /sys/fs/cgroup/unified), or come
# and go while other tests run.
CG2=$(awk '{ for (i = 7; i <= NF; i++) if ($i == "-") break;
	     if ($(i + 1) == "cgroup2" && system("test -e " $5 "/cgroup.procs") == 0) { print $5; exit } }' \
	/proc/self/mountinfo)
[ -n "$CG2" ] || skip "no cgroup2 mount"

trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

TMP=$(mktemp -d /tmp/egbench.XXXXXX) || die "mktemp"
record path "$TMP"
chmod 0755 "$TMP"
mkdir -m 1777 "$TMP/work"
mkdir -p "$OUTDIR" || die "mkdir $OUTDIR"
RAW=$TMP/samples.jsonl
: >"$RAW"
# Private copies the load (user nobody) can execute.
for f in connsrv connrate floor progcost verifier; do install -m 0755 "$BUILD/bench/$f" "$TMP/$f"; done
install -m 0755 "$EGRESSD_SRC" "$TMP/egressd"
install -m 0644 "$BUILD/bench/noop.bpf.o" "$TMP/noop.bpf.o"
EG=$TMP/egressd

# ---- topology ----
record netns "$CL"
record netns "$SV"
record path "/etc/netns/$CL"
record path "$CG2/$CGREL"
ip netns add "$CL" || die "ip netns add $CL"
NETNS_MADE=1
ip netns add "$SV" || die "ip netns add $SV"
ip link add "$VC" netns "$CL" type veth peer name "$VS" netns "$SV" || die "veth"
ip -n "$CL" link set lo up && ip -n "$SV" link set lo up &&
ip -n "$CL" addr add 198.51.100.2/24 dev "$VC" &&
ip -n "$CL" addr add 2001:db8::2/64 dev "$VC" nodad &&
ip -n "$SV" addr add "$TARGET/24" dev "$VS" &&
ip -n "$SV" addr add "$DENIED/24" dev "$VS" &&
ip -n "$SV" addr add "$DNSSLOW/24" dev "$VS" &&
ip -n "$SV" addr add 2001:db8::1/64 dev "$VS" nodad &&
ip -n "$CL" link set "$VC" up && ip -n "$SV" link set "$VS" up || die "addresses"
# Many short connections: ports and TIME_WAIT must not be the limit.
ip netns exec "$CL" sysctl -qw net.ipv4.ip_local_port_range="10000 65000" net.ipv4.tcp_tw_reuse=1
ip netns exec "$SV" sysctl -qw net.ipv4.tcp_tw_reuse=1 net.core.somaxconn=4096
mkdir -p "/etc/netns/$CL" && echo "nameserver $TARGET" >"/etc/netns/$CL/resolv.conf" ||
	die "resolv.conf"
mkdir "$CG2/$CGREL" "$CG2/$CGREL/load" || die "mkdir cgroup $CG2/$CGREL"

# client CMD...: in the client namespace, in cgroup bench-ID/load (cgroup2
# mounted where egressd looks for it), pinned to CPU 0.
client() {
	ip netns exec "$CL" sh -c 'mount -t cgroup2 cgroup2 /sys/fs/cgroup &&
		echo $$ >"/sys/fs/cgroup/$0/cgroup.procs" && exec taskset -c 0 "$@"' \
		"$CGREL/load" "$@"
}
server_bg() { # server_bg NAME CMD...: on CPU 1 in the server namespace
	local name=$1
	shift
	ip netns exec "$SV" taskset -c 1 "$@" >"$TMP/$name.log" 2>&1 </dev/null &
	PIDS+=($!)
}
wait_listen() { # wait_listen PROTO PORT
	local i
	for ((i = 0; i < 100; i++)); do
		[ -n "$(ip netns exec "$SV" ss -Hln"$1" "sport = :$2")" ] && return 0
		sleep 0.05
	done
	die "nothing listening on $1/$2 in $SV"
}

say "lab $ID: $CL <-> $SV, cgroup $CG2/$CGREL, tmp $TMP, smoke=$SMOKE reps=$REPS T=${T}s"
server_bg iperf3 iperf3 -s -p 5201
server_bg connsrv "$TMP/connsrv" 0.0.0.0 7000 7200
wait_listen t 5201
wait_listen t 7000

# ---- allowlists (seeded, the same for every filter) ----
gen() { python3 "$REPO/bench/genlist.py" "$@" --seed "$SEED"; }
gen "$NLIST" --extra "$TARGET" >"$TMP/list.txt" || die "genlist"
gen "$NBIG" --extra "$TARGET" >"$TMP/big.txt" || die "genlist"
for n in 10 1000; do gen "$n" --extra "$TARGET" >"$TMP/list$n.txt"; done
PC_FILES=("$TMP/list10.txt" "$TMP/list1000.txt" "$TMP/list.txt" "$TMP/big.txt")

rec() { # rec METRIC FILTER REP VALUE UNIT
	printf '{"metric": "%s", "filter": "%s", "rep": %s, "value": %s, "unit": "%s"}\n' \
		"$1" "$2" "$3" "$4" "$5" >>"$RAW"
}

# ---- the filters ----
ipt_up() {
	local f=$TMP/ipset.restore
	{
		echo "create allowed-domains hash:net family inet maxelem 262144"
		echo "create allowed-domains6 hash:net family inet6 maxelem 262144"
		awk '{ print "add " (index($0, ":") ? "allowed-domains6 " : "allowed-domains ") $0 }' "$TMP/list.txt"
	} >"$f"
	ip netns exec "$CL" ipset restore <"$f" || die "ipset restore"
	ip netns exec "$CL" sh -e -c '
		for t in iptables ip6tables; do
			s=allowed-domains; [ $t = ip6tables ] && s=allowed-domains6
			$t -A INPUT -i lo -j ACCEPT
			$t -A OUTPUT -o lo -j ACCEPT
			$t -A INPUT -m state --state ESTABLISHED,RELATED -j ACCEPT
			$t -A OUTPUT -m state --state ESTABLISHED,RELATED -j ACCEPT
			$t -A OUTPUT -m set --match-set $s dst -j ACCEPT
			$t -P INPUT DROP
			$t -P OUTPUT DROP
		done' || die "iptables rules"
}
ipt_down() {
	ip netns exec "$CL" sh -c '
		for t in iptables ip6tables; do
			$t -P INPUT ACCEPT; $t -P OUTPUT ACCEPT; $t -F; $t -X
		done
		ipset destroy allowed-domains; ipset destroy allowed-domains6
		nft flush ruleset' || die "iptables teardown"
}
nft_up() {
	{
		echo "table inet egbench {"
		echo " set allow4 { type ipv4_addr; flags interval; auto-merge; elements = {"
		grep -v : "$TMP/list.txt" | paste -sd, -
		echo " } }"
		echo " set allow6 { type ipv6_addr; flags interval; auto-merge; elements = {"
		grep : "$TMP/list.txt" | paste -sd, -
		echo " } }"
		echo " chain input { type filter hook input priority filter; policy drop;"
		echo "  iif lo accept; ct state established,related accept; }"
		echo " chain output { type filter hook output priority filter; policy drop;"
		echo "  oif lo accept; ct state established,related accept;"
		echo "  ip daddr @allow4 accept; ip6 daddr @allow6 accept; }"
		echo "}"
	} >"$TMP/nft.rules"
	ip netns exec "$CL" nft -f "$TMP/nft.rules" || die "nft -f"
}
nft_down() {
	ip netns exec "$CL" nft delete table inet egbench || die "nft teardown"
}
floor_up() {
	local i
	"$TMP/floor" "$TMP/noop.bpf.o" "$CG2/$CGREL/load" 3600 >"$TMP/floor.log" 2>&1 &
	FLOOR_PID=$!
	for ((i = 0; i < 100; i++)); do
		grep -q '^attached' "$TMP/floor.log" && return 0
		kill -0 "$FLOOR_PID" 2>/dev/null || break
		sleep 0.05
	done
	cat "$TMP/floor.log" >&2
	die "the floor program did not attach"
}
floor_down() {
	kill "$FLOOR_PID" 2>/dev/null
	wait "$FLOOR_PID" 2>/dev/null
	FLOOR_PID=
}
filter_up() {
	case $1 in
	iptables) ipt_up ;;
	nftables) nft_up ;;
	floor) floor_up ;;
	esac
}
filter_down() {
	case $1 in
	iptables) ipt_down ;;
	nftables) nft_down ;;
	floor) floor_down ;;
	esac
}
# under FILTER CMD...: the load under FILTER (egressd: as users run it,
# the load being egressd's command, DNS proxy on by default).
under() {
	local f=$1
	shift
	if [ "$f" = egressd ]; then
		client "$EG" run -q --user nobody --allow-file "$TMP/list.txt" -- "$@"
	elif [ "$f" = egressd-noseed ]; then
		client env EGRESSD_NO_SEED=1 "$EG" run -q --user nobody --allow-file "$TMP/list.txt" -- "$@"
	elif [ "$f" = egressd-noproxy ]; then
		client "$EG" run -q --user nobody --no-dns-proxy --allow-file "$TMP/list.txt" -- "$@"
	else
		client setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups "$@"
	fi
}

# ---- sanity: every filter passes the target and (but none and the
# floor) blocks an address outside the list; a filter that lets
# everything through would look fast ----
say "sanity: each filter passes $TARGET and blocks $DENIED"
for f in "${FILTERS[@]}"; do
	filter_up "$f"
	under "$f" "$TMP/connrate" "$TARGET" 7000 1 >"$TMP/sanity.out" 2>&1 ||
		{ cat "$TMP/sanity.out" >&2; die "$f: the target $TARGET:7000 is not reachable"; }
	if under "$f" timeout 2 "$TMP/connrate" "$DENIED" 7000 1 >"$TMP/sanity.out" 2>&1; then
		blocked=0
	else
		blocked=1
	fi
	case $f in
	none | floor) want=0 ;;
	*) want=1 ;;
	esac
	[ "$blocked" = "$want" ] ||
		die "$f: $DENIED:7000 was $([ "$blocked" = 1 ] && echo blocked || echo reachable), expected the opposite"
	echo "{\"filter\": \"$f\", \"target_ok\": true, \"denied_blocked\": $([ "$blocked" = 1 ] && echo true || echo false)}" >>"$TMP/sanity.jsonl"
	filter_down "$f"
done

# ---- network metrics ----
parse_iperf() { # parse_iperf udp|tcp FILE -> packets/s or bits/s
	python3 - "$1" "$2" <<'PY'
import json, sys
kind, path = sys.argv[1], sys.argv[2]
d = json.load(open(path))
if 'error' in d:
    sys.exit('iperf3: ' + d['error'])
e = d['end']
if kind == 'udp':
    s = e.get('sum_sent') or e['sum']
    print('%.1f' % (s['packets'] / s['seconds']))
else:
    print('%.1f' % e['sum_received']['bits_per_second'])
PY
}
measure() { # measure METRIC FILTER -> value on stdout
	local m=$1 f=$2 out=$TMP/m.out try
	for try in 1 2; do
		case $m in
		udp_pps) under "$f" iperf3 -c "$TARGET" -p 5201 -u -l 64 -b 0 -t "$T" -J >"$out" 2>"$TMP/m.err" &&
			parse_iperf udp "$out" && return 0 ;;
		tcp_bulk) under "$f" iperf3 -c "$TARGET" -p 5201 -t "$T" -J >"$out" 2>"$TMP/m.err" &&
			parse_iperf tcp "$out" && return 0 ;;
		tcp_conn) under "$f" "$TMP/connrate" "$TARGET" 7000 "$T" >"$out" 2>"$TMP/m.err" &&
			awk '/^conns/ { print $6 }' "$out" && return 0 ;;
		esac
		say "$m under $f failed (try $try): $(head -c 300 "$out" "$TMP/m.err" | tr '\n' ' ')"
		sleep 1
	done
	die "$m under $f failed twice"
}
[ "${BENCH_ONLY:-}" = connstats ] && METRICS=()
for m in "${METRICS[@]}"; do
	for ((r = 1; r <= REPS; r++)); do
		for f in "${FILTERS[@]}"; do
			filter_up "$f"
			v=$(measure "$m" "$f") || exit 1
			filter_down "$f"
			rec "$m" "$f" "$r" "$v" "$([ $m = udp_pps ] && echo pps || ([ $m = tcp_conn ] && echo conn/s || echo bit/s))"
			say "$m rep $r $f: $v"
		done
	done
done

if [ "${BENCH_ONLY:-}" = network ]; then
	mkdir -p "$OUTDIR/raw" && cp "$RAW" "$OUTDIR/raw/" || die "saving samples"
	say "network only: samples in $OUTDIR/raw/samples.jsonl"
	exit 0
fi

# ---- in place: bpf_stats run_time_ns / run_cnt during a UDP run ----
prog_stats() { # prog_stats ID -> "run_time_ns run_cnt"
	bpftool prog show id "$1" -j | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("run_time_ns",0), d.get("run_cnt",0))'
}
egressd_skb_id() { # the egress_skb attached under our load cgroup
	local d
	for d in "$CG2/$CGREL/load"/*/; do
		[ -d "$d" ] || continue
		bpftool cgroup show "$d" -j 2>/dev/null | python3 -c '
import json, sys
for p in json.load(sys.stdin):
    if p.get("name") == "egress_skb" and p.get("attach_type") == "cgroup_inet_egress":
        print(p["id"]); break'
	done | head -n1
}
stats_run() { # stats_run FILTER REP
	local f=$1 r=$2 id='' a b i st=$((T > 3 ? T : 3))
	filter_up "$f"
	under "$f" iperf3 -c "$TARGET" -p 5201 -u -l 64 -b 0 -t "$((st + 1))" -J >"$TMP/st.out" 2>&1 &
	local lp=$!
	sleep 0.7
	for ((i = 0; i < 20; i++)); do
		[ -n "$id" ] && break
		if [ "$f" = floor ]; then
			id=$(awk '/^attached/ { print $2 }' "$TMP/floor.log")
		else
			id=$(egressd_skb_id)
		fi
		[ -n "$id" ] || sleep 0.1
	done
	[ -n "$id" ] || die "bpf_stats: cannot find the $f program"
	a=$(prog_stats "$id")
	sleep "$((st - 1))"
	b=$(prog_stats "$id")
	wait "$lp"
	filter_down "$f"
	set -- $a $b
	[ "$4" -gt "$2" ] || die "bpf_stats: $f program $id ran no packets"
	rec stats_ns "$f" "$r" "$(awk -v t=$(($3 - $1)) -v n=$(($4 - $2)) 'BEGIN { printf "%.1f", t / n }')" ns
	say "bpf_stats rep $r $f: $(($3 - $1)) ns / $(($4 - $2)) runs"
}
# Where a new connection's cost goes: every egressd program's run time
# during a connrate run, per connection.  Run as egressd (the socket hooks
# seed the per-socket verdict, so the SYN finds it) and as egressd-noseed
# (EGRESSD_NO_SEED=1: the packet hook decides and creates it), interleaved
# rep by rep: the A/B of the seed.  Records: connprog (per program) and
# connrate_stats (the connections per second of that run).
all_stats() { # all_stats DIR -> "name id run_time_ns run_cnt" per program
	bpftool cgroup show "$1" -j | python3 -c '
import json, subprocess, sys
for p in json.load(sys.stdin):
    d = json.loads(subprocess.check_output(["bpftool", "prog", "show", "id", str(p["id"]), "-j"]))
    print(d.get("name", p["id"]), p["id"], d.get("run_time_ns", 0), d.get("run_cnt", 0))'
}
conn_stats_run() { # conn_stats_run REP [egressd|egressd-noseed]
	local r=$1 f=${2:-egressd} d='' i st=$((T > 3 ? T : 3))
	under "$f" "$TMP/connrate" "$TARGET" 7000 "$((st + 1))" >"$TMP/cs.out" 2>&1 &
	local lp=$!
	sleep 0.7
	for ((i = 0; i < 20; i++)); do
		d=$(find "$CG2/$CGREL/load" -mindepth 1 -maxdepth 1 -type d | head -n1)
		[ -n "$d" ] && break
		sleep 0.1
	done
	[ -n "$d" ] || die "conn stats: no egressd cgroup"
	all_stats "$d" >"$TMP/cs.a"
	local t0 t1
	t0=$(date +%s.%N)
	sleep "$((st - 1))"
	all_stats "$d" >"$TMP/cs.b"
	t1=$(date +%s.%N)
	wait "$lp" || die "conn stats: connrate failed"
	# Connections in the window: the run's mean rate times the window.
	python3 - "$TMP/cs.a" "$TMP/cs.b" "$TMP/cs.out" "$t0" "$t1" "$r" "$f" >>"$RAW" <<'PY'
import json, sys
a = {l.split()[1]: l.split() for l in open(sys.argv[1])}
b = {l.split()[1]: l.split() for l in open(sys.argv[2])}
rate = float(open(sys.argv[3]).read().split()[5])
conns = rate * (float(sys.argv[5]) - float(sys.argv[4]))
rep, f = int(sys.argv[6]), sys.argv[7]
for i, (name, _, t, n) in b.items():
    dt, dn = int(t) - int(a[i][2]), int(n) - int(a[i][3])
    if dn <= 0:
        continue
    print(json.dumps({'metric': 'connprog', 'filter': f, 'prog': name, 'rep': rep,
                      'value': dt / dn, 'runs_per_conn': dn / conns, 'ns_per_conn': dt / conns,
                      'unit': 'ns'}))
print(json.dumps({'metric': 'connrate_stats', 'filter': f, 'rep': rep, 'value': rate, 'unit': 'conn/s'}))
PY
	say "conn stats rep $r $f: $(wc -l <"$TMP/cs.b") programs, $(awk '/^conns/ { print $6 }' "$TMP/cs.out") conn/s"
}
STATS_OLD=$(sysctl -n kernel.bpf_stats_enabled)
sysctl -qw kernel.bpf_stats_enabled=1
for ((r = 1; r <= STATS_REPS; r++)); do
	if [ "${BENCH_ONLY:-}" != connstats ]; then
		stats_run egressd "$r"
		stats_run floor "$r"
	fi
	conn_stats_run "$r" egressd
	conn_stats_run "$r" egressd-noseed
done
sysctl -qw kernel.bpf_stats_enabled="$STATS_OLD"
STATS_OLD=
if [ "${BENCH_ONLY:-}" = connstats ]; then
	mkdir -p "$OUTDIR/raw" && cp "$RAW" "$OUTDIR/raw/" || die "saving samples"
	say "connection stats only: samples in $OUTDIR/raw/samples.jsonl"
	exit 0
fi

# ---- per-packet cost through test_run, and file to filled maps ----
for ((r = 1; r <= REPS; r++)); do
	"$TMP/progcost" --calls "$PC_CALLS" --hot "$PC_HOT" "$TMP/noop.bpf.o" "${PC_FILES[@]}" \
		>"$TMP/pc.out" 2>"$TMP/pc.err" || { cat "$TMP/pc.err" >&2; die "progcost failed"; }
	python3 - "$TMP/pc.out" "$r" >>"$RAW" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    d = json.loads(line)
    n = d['rules']
    for k in ('first_ns', 'decide_ns', 'estab_ns', 'hot_ns', 'noop_rot_ns', 'noop_hot_ns',
              'first_exact_ns', 'decide_exact_ns', 'parse_ms', 'load_ms', 'fill_ms'):
        if d.get(k) is None:  # the *_exact cases of a list with no /32 or /128
            continue
        print(json.dumps({'metric': 'pc_' + k, 'filter': 'egressd', 'size': n,
                          'rep': int(sys.argv[2]), 'value': d[k],
                          'unit': 'ms' if k.endswith('_ms') else 'ns'}))
PY
	say "progcost rep $r done"
done

# ---- the verifier's time per program: as root, and with Docker's caps ----
# --cap-add BPF --cap-add NET_ADMIN leaves out CAP_PERFMON and
# CAP_SYS_ADMIN; without them the verifier prunes less and checks
# speculative paths, so a container's start-up pays more (bench/verifier.c).
for caps in root container; do
	pre=()
	[ "$caps" = container ] && pre=(setpriv --bounding-set -perfmon,-sys_admin --)
	"${pre[@]}" "$TMP/verifier" --runs "$REPS" >"$TMP/vf.out" 2>"$TMP/vf.err" ||
		{ cat "$TMP/vf.err" >&2; die "verifier ($caps) failed"; }
	python3 - "$TMP/vf.out" "$caps" >>"$RAW" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    d = json.loads(line)
    print(json.dumps({'metric': 'verify_us', 'filter': sys.argv[2], 'list': d['list'], 'prog': d['prog'],
                      'value': d['verify_us'], 'insns': d['insns'], 'states': d['states'],
                      'unit': 'us'}))
PY
	say "verifier ($caps): $(python3 -c 'import json,sys; r=[json.loads(l) for l in open(sys.argv[1])]; print(", ".join("%s list %.1f ms" % (k, sum(d["verify_us"] for d in r if d["list"] == k) / 1000) for k in ("empty", "four")))' "$TMP/vf.out")"
done

# ---- start-up: exec to enforcement (hyperfine) ----
# DNS: dnsmasq on $TARGET:53 (records), dnsdelay.py on $DNSSLOW:53 in
# front of it, DELAY_MS away; api.github.test served by https_server.py.
: >"$TMP/names"
recs=("--host-record=github.com,$TARGET" "--host-record=api.github.test,$TARGET")
for ((i = 1; i <= NNAMES; i++)); do
	echo "host$i.bench.test" >>"$TMP/names"
	recs+=("--host-record=host$i.bench.test,198.51.100.$((i % 200 + 20))")
done
server_bg dnsmasq dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts \
	--no-poll --bind-interfaces --listen-address="$TARGET" --port=53 --user=root --group=root \
	--pid-file= --log-facility=- --local=/test/ --local=/github.com/ "${recs[@]}"
wait_listen u 53
server_bg dnsdelay python3 "$REPO/tests/lib/dnsdelay.py" --listen "$DNSSLOW:53" \
	--upstream "$TARGET:53" --delay-ms "$DELAY_MS"
bash "$REPO/tests/lib/mkca.sh" "$TMP/ca" api.github.test >/dev/null 2>&1 || die "mkca.sh"
gen "$NLIST" --format meta >"$TMP/meta.json"
server_bg https python3 "$REPO/tests/lib/https_server.py" --listen "$TARGET:443" \
	--cert "$TMP/ca/server.crt" --key "$TMP/ca/server.key" --status 200 --body "$TMP/meta.json"
wait_listen t 443
for ((i = 0; i < 50; i++)); do
	ip netns exec "$CL" dig +time=1 +tries=1 +short @"$DNSSLOW" A host1.bench.test | grep -q . && break
	sleep 0.1
done
chmod -R a+rX "$TMP/ca" "$TMP/names"
for n in 0 1000 20000; do [ "$SMOKE" = 1 ] && [ "$n" = 20000 ] && continue; gen "$n" --extra "$TARGET" >"$TMP/su$n.txt"; done
names_csv=$(paste -sd, "$TMP/names")
INITFW=$REPO/bench/initfw.sh
EGR="$EG run -q --user nobody"

hf() { # hf CASE TOOL RUNS RESOLVER CMD...: one hyperfine case -> samples
	local c=$1 tool=$2 runs=$3 ns=$4
	shift 4
	echo "nameserver $ns" >"/etc/netns/$CL/resolv.conf"
	# -N: no shell in between; hyperfine splits the line shell-style.
	client hyperfine -N --style none --warmup "$([ "$runs" -gt 2 ] && echo 1 || echo 0)" \
		--runs "$runs" --export-json "$TMP/hf.json" "$(printf '%q ' "$@")" >"$TMP/hf.log" 2>&1 ||
		{ cat "$TMP/hf.log" >&2; client "$@" 2>&1 | tail -n 5 >&2; tail -n 5 "$TMP"/dns*.log >&2; die "hyperfine: $c $tool: $*"; }
	# initfw.sh leaves its DROP policy in the client namespace.
	[ "$tool" = initfw ] && ipt_down
	python3 - "$TMP/hf.json" "$c" "$tool" >>"$RAW" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))['results'][0]
for i, t in enumerate(r['times']):
    print(json.dumps({'metric': 'startup_' + sys.argv[2], 'filter': sys.argv[3], 'rep': i + 1,
                      'value': t * 1000, 'unit': 'ms'}))
PY
	say "start-up $c $tool: median $(python3 -c 'import json,sys; print("%.1f ms" % (json.load(open(sys.argv[1]))["results"][0]["median"]*1000))' "$TMP/hf.json")"
}
SLOWRUNS=$((HF_RUNS > 5 ? 5 : HF_RUNS))
hf empty egressd "$HF_RUNS" "$TARGET" $EGR --allow-domains "" -- true
# The same with a container's capabilities (no CAP_PERFMON, CAP_SYS_ADMIN).
hf empty egressd-ctr "$HF_RUNS" "$TARGET" setpriv --bounding-set -perfmon,-sys_admin -- \
	$EGR --allow-domains "" -- true
hf empty initfw "$HF_RUNS" "$TARGET" "$INITFW" -- true
hf names egressd "$HF_RUNS" "$DNSSLOW" $EGR --allow-domains "$names_csv" -- true
hf names initfw "$SLOWRUNS" "$DNSSLOW" "$INITFW" --names "$TMP/names" -- true
hf meta egressd "$HF_RUNS" "$TARGET" $EGR --allow-domains github.com \
	--github-meta-url https://api.github.test/meta --ca-file "$TMP/ca/ca.crt" -- true
hf meta initfw "$((HF_RUNS > 3 ? 3 : HF_RUNS))" "$TARGET" "$INITFW" \
	--meta https://api.github.test/meta --ca "$TMP/ca/ca.crt" -- true
SU_SIZES=(0 1000 "$NLIST" 20000 "$NBIG")
[ "$SMOKE" = 1 ] && SU_SIZES=(0 "$NLIST" "$NBIG")
for n in "${SU_SIZES[@]}"; do
	case $n in
	"$NLIST") f=$TMP/list.txt ;;
	"$NBIG") f=$TMP/big.txt ;;
	*) f=$TMP/su$n.txt ;;
	esac
	hf "file$n" egressd "$SLOWRUNS" "$TARGET" $EGR --allow-file "$f" -- true
done
hf "file$NLIST" initfw "$((HF_RUNS > 3 ? 3 : HF_RUNS))" "$TARGET" "$INITFW" --cidrs "$TMP/list.txt" -- true
hf "file$NBIG" initfw 1 "$TARGET" "$INITFW" --cidrs "$TMP/big.txt" -- true
echo "nameserver $TARGET" >"/etc/netns/$CL/resolv.conf"

# ---- memory: peak RSS (VmHWM) and BPF map memory ----
map_mem() { # map_mem -> JSON {total, maps: {name: bytes}} of the egressd under load/
	local d
	d=$(find "$CG2/$CGREL/load" -mindepth 1 -maxdepth 1 -type d | head -n1)
	[ -n "$d" ] || return 1
	bpftool cgroup show "$d" -j | python3 -c '
import json, subprocess, sys
maps = {}
for p in json.load(sys.stdin):
    info = json.loads(subprocess.check_output(["bpftool", "prog", "show", "id", str(p["id"]), "-j"]))
    for m in info.get("map_ids", []):
        mi = json.loads(subprocess.check_output(["bpftool", "map", "show", "id", str(m), "-j"]))
        maps[mi.get("name", str(m))] = int(mi.get("bytes_memlock", 0))
print(json.dumps({"total": sum(maps.values()), "maps": maps}))'
}
for n in "$NLIST" "$NBIG"; do
	f=$TMP/list.txt
	[ "$n" = "$NBIG" ] && f=$TMP/big.txt
	client "$EG" run -q --user nobody --allow-file "$f" -- sleep 2 &
	lp=$!
	sleep 1.2
	mm=$(map_mem)
	# egressd itself stays in load/ (its command is in the child cgroup);
	# VmHWM is its peak RSS so far, and the peak is the start-up.
	rss=
	for p in $(cat "$CG2/$CGREL/load/cgroup.procs"); do
		grep -q egressd "/proc/$p/comm" 2>/dev/null &&
			rss=$(awk '/^VmHWM:/ { print $2 }' "/proc/$p/status")
	done
	wait "$lp" || die "memory run ($n entries) failed"
	[ -n "$rss" ] && [ -n "$mm" ] || die "memory: no figures for $n entries"
	echo "{\"size\": $n, \"maxrss_kb\": $rss, \"bpf\": $mm}" >>"$TMP/memory.jsonl"
	say "memory $n entries: peak RSS $rss KB, BPF maps $(echo "$mm" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])') bytes"
done

# ---- DNS proxy: bench/dns_proxy.sh (its own namespace) ----
Q=$DNS_Q ROUNDS=$([ "$SMOKE" = 1 ] && echo 1 || echo 5) DELAY_MS=$DELAY_MS \
	EGRESSD=$EG bash "$REPO/bench/dns_proxy.sh" >"$TMP/dns.out" 2>"$TMP/dns.err" ||
	{ cat "$TMP/dns.err" >&2; die "dns_proxy.sh failed"; }
cat "$TMP/dns.out" >&2

# ---- results (the raw samples kept, so report.py can be re-run) ----
mkdir -p "$OUTDIR/raw"
cp "$RAW" "$TMP/sanity.jsonl" "$TMP/memory.jsonl" "$TMP/dns.out" "$OUTDIR/raw/"
python3 "$REPO/bench/report.py" --raw "$RAW" --sanity "$TMP/sanity.jsonl" \
	--memory "$TMP/memory.jsonl" --dns "$TMP/dns.out" --out "$OUTDIR" \
	--smoke "$SMOKE" --reps "$REPS" --seconds "$T" --nlist "$NLIST" --nbig "$NBIG" \
	--iptables-version "$(iptables -V)" --doc "$([ "$SMOKE" = 1 ] && echo "$OUTDIR/benchmarks.md" || echo "$REPO/docs/benchmarks.md")" \
	--plots "$([ "$SMOKE" = 1 ] && echo "$OUTDIR/plots" || echo "$REPO/docs/bench")" \
	--analysis "$REPO/bench/analysis.md" || die "report.py failed"
# Which commit was measured, and when: a re-render keeps them (--machine).
python3 -c 'import json, sys; json.dump({"machine": json.load(open(sys.argv[1]))["machine"]}, open(sys.argv[2], "w"))' \
	"$OUTDIR/results.json" "$OUTDIR/raw/machine.json" || die "saving the machine block"
say "done: $OUTDIR/results.json"
