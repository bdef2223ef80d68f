#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The benchmark harness (bench/run.sh, `make bench`) in smoke mode: one
# short repetition of every metric, with tiny lists and durations.  It
# checks that the harness works and cleans up, and checks no timing:
#   - it exits 0 and writes results.json, benchmarks.md and three PNGs;
#   - results.json has a sample for every network metric under every
#     filter, the bpf_stats pass for egressd and the floor, test_run
#     figures for every list size, every start-up case for egressd and
#     the init-firewall method, memory for both sizes and the DNS proxy;
#   - its own sanity pass found egressd, iptables and nftables blocking an
#     address outside the list while no filter let it through (the
#     harness's negative control: a filter that passes everything fails);
#   - nothing is left: the run's namespaces, its cgroup, /etc/netns entry,
#     temp dir, and no process of it (iperf3, connsrv, floor, dnsmasq);
#     the bpf_stats sysctl is as it was;
#   - negative control: with a broken egressd (EGRESSD=/bin/false) the
#     harness fails (non-zero, "FAIL"), names it, and still cleans up;
#   - report.py refuses an empty sample file.

. "$(dirname "$0")/../lib/lab.sh"

lab_init
lab_require_egressd
for t in iperf3 ipset nft iptables ip6tables hyperfine gnuplot dig taskset curl jq openssl bpftool; do
	command -v "$t" >/dev/null 2>&1 || lab_skip "missing tool: $t (see the README's install line)"
done
[ "$(nproc)" -ge 2 ] || lab_skip "the bench needs 2 CPUs"
for f in connsrv connrate progcost floor noop.bpf.o; do
	[ -e "$LAB_REPO/build/bench/$f" ] || lab_skip "not built: build/bench/$f (run: make test-bins)"
done

RUN=$LAB_REPO/bench/run.sh
OUT=$LAB_DIR/out
stats_before=$(sysctl -n kernel.bpf_stats_enabled)

# lab_run_in's timeout: the smoke run takes about a minute.
LAB_RUN_TIMEOUT=150 lab_run_in plain env BENCH_SMOKE=1 OUTDIR="$OUT" EGRESSD="$EGRESSD" \
	bash "$RUN"
expect_rc 0 "BENCH_SMOKE=1 bench/run.sh succeeds"
ID=$(sed -n 's/.*\] lab \([0-9a-f]*\): .*/\1/p' "$LAB_ERR" | head -n1)
RUNTMP=$(sed -n 's/.*\] lab .*, tmp \([^,]*\),.*/\1/p' "$LAB_ERR" | head -n1)
if [ -n "$ID" ] && [ -n "$RUNTMP" ]; then
	lab_ok "the run named its lab ($ID)"
else
	lab_fail "the run named its lab" "no 'lab ID:' line in its output"
fi

for f in results.json benchmarks.md plots/network.png plots/progcost.png plots/startup.png; do
	if [ -s "$OUT/$f" ]; then
		lab_ok "wrote $f"
	else
		lab_fail "wrote $f" "$OUT/$f is missing or empty"
	fi
done

# Every metric, every filter: the structure, never the values.
"$LAB_PY" - "$OUT/results.json" >"$LAB_DIR/structure.out" 2>&1 <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
bad = []
filters = ['none', 'egressd', 'iptables', 'nftables', 'floor']
for m in ('udp_pps', 'tcp_conn', 'tcp_bulk'):
    for f in filters:
        x = r['network'][m]['filters'][f]
        if not x['values'] or not all(v and v > 0 for v in x['values']):
            bad.append(f'network {m} {f}: {x["values"]}')
        if x['median_ratio'] is None:
            bad.append(f'network {m} {f}: no ratio')
ip = r['in_place']
if not ip['egress_skb_ns'] or not ip['noop_ns'] or None in ip['egress_skb_ns'] + ip['noop_ns']:
    bad.append(f'bpf_stats: {ip}')
if len(r['test_run']) != 4:
    bad.append(f'test_run sizes: {list(r["test_run"])}')
for n, d in r['test_run'].items():
    for k in ('first_ns', 'decide_ns', 'estab_ns', 'hot_ns', 'parse_ms', 'fill_ms'):
        if k not in d or d[k]['median'] is None:
            bad.append(f'test_run {n} {k} missing')
for c in ('empty', 'names', 'meta'):
    for t in ('egressd', 'initfw'):
        if not r['startup'].get(c, {}).get(t, {}).get('values_ms'):
            bad.append(f'start-up {c} {t} missing')
if len([c for c in r['startup'] if c.startswith('file')]) < 3:
    bad.append(f'start-up file sizes: {list(r["startup"])}')
if not r.get('conn_programs') or 'egress_skb' not in r['conn_programs']:
    bad.append(f'per-program connection stats: {list(r.get("conn_programs", {}))}')
if len(r['memory']) != 2 or not all(m['maxrss_kb'] > 0 and m['bpf']['total'] > 0 for m in r['memory']):
    bad.append(f'memory: {r["memory"]}')
for k in ('cached_a', 'uncached_a'):
    if k not in r['dns_proxy']:
        bad.append(f'dns proxy {k} missing')
for k in ('uname', 'cpus', 'date'):
    if not r['machine'].get(k):
        bad.append(f'machine {k} missing')
if not r['goals'] or any('met' not in g for g in r['goals']):
    bad.append('goals missing')
san = {s['filter']: s for s in r['sanity']}
for f in filters:
    want = f in ('egressd', 'iptables', 'nftables')
    if f not in san or san[f]['denied_blocked'] != want or not san[f]['target_ok']:
        bad.append(f'sanity {f}: {san.get(f)}')
print('\n'.join(bad) if bad else 'complete')
sys.exit(1 if bad else 0)
PY
if [ $? -eq 0 ]; then
	lab_ok "results.json has every metric for every filter, and the sanity verdicts"
else
	lab_fail "results.json has every metric for every filter" "$(cat "$LAB_DIR/structure.out")"
fi
expect_grep "$OUT/benchmarks.md" '^\| UDP 64 B pps' "benchmarks.md has the network table"
expect_grep "$OUT/benchmarks.md" '^## Start-up' "benchmarks.md has the start-up section"

# Nothing of the run is left.
check_gone()
{
	local id=$1 tmp=$2 what=$3 left=

	ip netns list | grep -Eq "^b(cl|sv)-$id( |$)" && left+="netns "
	[ -e "/etc/netns/bcl-$id" ] && left+="/etc/netns/bcl-$id "
	[ -n "$(find /sys/fs/cgroup /sys/fs/cgroup/unified -maxdepth 1 -name "bench-$id" 2>/dev/null)" ] &&
		left+="cgroup bench-$id "
	[ -e "$tmp" ] && left+="$tmp "
	# Its processes: in its namespaces (gone with them) or run from its
	# temp dir (the floor, the load generators).
	pgrep -f "$tmp/|bcl-$id|bsv-$id" >/dev/null &&
		left+="processes($(pgrep -af "$tmp/|bcl-$id|bsv-$id" | head -n3 | tr '\n' ';')) "
	if [ -z "$left" ]; then
		lab_ok "$what: nothing left behind"
	else
		lab_fail "$what: nothing left behind" "left: $left"
	fi
}
if [ -n "$ID" ]; then
	check_gone "$ID" "$RUNTMP" "smoke run"
fi
if [ "$(sysctl -n kernel.bpf_stats_enabled)" = "$stats_before" ]; then
	lab_ok "kernel.bpf_stats_enabled restored ($stats_before)"
else
	lab_fail "kernel.bpf_stats_enabled restored" "was $stats_before, now $(sysctl -n kernel.bpf_stats_enabled)"
fi

# Negative control: a filter that does not work must fail the harness.
LAB_RUN_TIMEOUT=60 lab_run_in plain env BENCH_SMOKE=1 OUTDIR="$LAB_DIR/out2" EGRESSD=/bin/false \
	bash "$RUN"
if [ "$LAB_RC" -ne 0 ] && [ "$LAB_RC" -ne 77 ] && grep -q 'FAIL: egressd' "$LAB_ERR"; then
	lab_ok "a broken egressd fails the harness (rc=$LAB_RC), naming it"
else
	lab_fail "a broken egressd fails the harness" "rc=$LAB_RC"
fi
ID2=$(sed -n 's/.*\] lab \([0-9a-f]*\): .*/\1/p' "$LAB_ERR" | head -n1)
RUNTMP2=$(sed -n 's/.*\] lab .*, tmp \([^,]*\),.*/\1/p' "$LAB_ERR" | head -n1)
if [ -n "$ID2" ] && [ -n "$RUNTMP2" ]; then
	check_gone "$ID2" "$RUNTMP2" "failed run"
else
	lab_fail "the failed run named its lab" "no 'lab ID:' line"
fi
[ -e "$LAB_DIR/out2/results.json" ] && lab_fail "a failed run writes no results.json" ||
	lab_ok "a failed run writes no results.json"

: >"$LAB_DIR/empty.jsonl"
lab_run_in plain "$LAB_PY" "$LAB_REPO/bench/report.py" --raw "$LAB_DIR/empty.jsonl" \
	--out "$LAB_DIR/out3" --doc "$LAB_DIR/out3.md" --plots "$LAB_DIR/out3"
if [ "$LAB_RC" -ne 0 ] && grep -q 'no samples' "$LAB_ERR"; then
	lab_ok "report.py refuses an empty sample file"
else
	lab_fail "report.py refuses an empty sample file" "rc=$LAB_RC"
fi

lab_finish
