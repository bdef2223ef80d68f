#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""bench/report.py: turn bench/run.sh's samples into results.json, plots and
docs/benchmarks.md.

Every repetition is kept; every figure is a median; every network figure is
the median over repetitions of (filter / no filter of the same repetition).
The hand-written analysis (bench/analysis.md) is appended verbatim, so a
re-run refreshes the numbers without losing the text.
"""
import argparse
import collections
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys

FILTERS = ['none', 'egressd', 'iptables', 'nftables', 'floor']
FILTER_NAMES = {'none': 'no filter', 'egressd': 'egressd', 'iptables': 'iptables+ipset+conntrack',
                'nftables': 'nft set+conntrack', 'floor': 'empty cgroup_skb (floor)'}
NET = [('udp_pps', 'UDP 64 B pps', 0.94), ('tcp_conn', 'new TCP conn/s', 0.98),
       ('tcp_bulk', 'TCP bulk', 0.98)]


def med(xs):
    return statistics.median(xs) if xs else None


def fmt(x, nd=3):
    if x is None:
        return 'n/a'
    return f'{x:.{nd}f}'


def met(ok):
    return '**met**' if ok else '**missed**'


def load_jsonl(path):
    if not path or not os.path.exists(path):
        return []
    return [json.loads(l) for l in open(path) if l.strip()]


def parse_dns(path):
    out = {}
    if not path or not os.path.exists(path):
        return out
    for line in open(path):
        m = re.match(r'(.*?)\s+direct\s+([\d.]+) us\s+through egressd\s+([\d.]+) us\s+added\s+(-?[\d.]+) us', line)
        if m:
            label = m.group(1).strip()
            key = 'uncached_a' if label.startswith('uncached') else (
                'cached_txt' if 'TXT' in label else 'cached_a')
            out[key] = {'label': label, 'direct_us': float(m.group(2)),
                        'proxy_us': float(m.group(3)), 'added_us': float(m.group(4))}
        m = re.match(r'learning one address.*: (-?[\d.]+) us', line)
        if m:
            out['learn_us'] = float(m.group(1))
    return out


def machine():
    cpu = ''
    try:
        for line in open('/proc/cpuinfo'):
            if line.startswith('model name'):
                cpu = line.split(':', 1)[1].strip()
                break
    except OSError:
        pass
    try:
        # Which egressd was measured: the tree's commit (and whether it was edited).
        here = os.path.dirname(os.path.abspath(__file__))
        rev = subprocess.run(['git', '-C', here, 'describe', '--always', '--dirty'],
                             capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        rev = ''
    return {'uname': ' '.join(platform.uname()), 'cpus': os.cpu_count(), 'cpu_model': cpu,
            'commit': rev or 'unknown',
            'date': datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}


def gnuplot(script):
    r = subprocess.run(['gnuplot'], input=script, text=True, capture_output=True)
    if r.returncode:
        sys.exit('report.py: gnuplot failed: ' + r.stderr)


def main():
    ap = argparse.ArgumentParser()
    for a in ('raw', 'sanity', 'memory', 'dns', 'out', 'doc', 'plots', 'analysis',
              'iptables-version'):
        ap.add_argument('--' + a, default='')
    for a in ('smoke', 'reps', 'seconds', 'nlist', 'nbig'):
        ap.add_argument('--' + a, type=int, default=0)
    ap.add_argument('--machine', help='a results.json whose machine block (commit, date) to keep: '
                    're-running the report over a saved run (build/bench/raw/) measures nothing new')
    a = ap.parse_args()

    raw = load_jsonl(a.raw)
    if not raw:
        sys.exit('report.py: no samples in ' + a.raw)
    mch = machine()
    if a.machine:
        try:
            mch = json.load(open(a.machine))['machine']
        except (OSError, ValueError, KeyError, TypeError) as e:
            sys.exit(f'report.py: ERROR: --machine {a.machine}: no machine block ({e})')
    R = {'machine': mch,
         'smoke': bool(a.smoke),
         'params': {'reps': a.reps, 'seconds_per_run': a.seconds, 'entries': a.nlist,
                    'entries_big': a.nbig, 'iptables': a.iptables_version},
         'samples': raw, 'sanity': load_jsonl(a.sanity)}

    # ---- network: ratios to none within each repetition ----
    by = collections.defaultdict(dict)
    for s in raw:
        if s['metric'] in dict((m, 1) for m, _, _ in NET):
            by[(s['metric'], s['rep'])][s['filter']] = s['value']
    net = {}
    for m, label, goal in NET:
        reps = sorted(r for (mm, r) in by if mm == m)
        ent = {'label': label, 'goal_egressd_ratio': goal, 'filters': {}}
        for f in FILTERS:
            vals = [by[(m, r)].get(f) for r in reps]
            ratios = [by[(m, r)][f] / by[(m, r)]['none'] for r in reps
                      if f in by[(m, r)] and by[(m, r)].get('none')]
            ent['filters'][f] = {'values': vals, 'median': med([v for v in vals if v is not None]),
                                 'ratios': ratios, 'median_ratio': med(ratios)}
        eg_floor = [by[(m, r)]['egressd'] / by[(m, r)]['floor'] for r in reps
                    if by[(m, r)].get('floor')]
        ent['egressd_over_floor'] = med(eg_floor)
        ent['met'] = (ent['filters']['egressd']['median_ratio'] or 0) >= goal
        net[m] = ent
    R['network'] = net

    # ---- bpf_stats in place ----
    st = collections.defaultdict(dict)
    for s in raw:
        if s['metric'] == 'stats_ns':
            st[s['rep']][s['filter']] = s['value']
    diffs = [v['egressd'] - v['floor'] for v in st.values() if 'egressd' in v and 'floor' in v]
    R['in_place'] = {'egress_skb_ns': [v.get('egressd') for v in st.values()],
                     'noop_ns': [v.get('floor') for v in st.values()],
                     'median_egress_skb_ns': med([v['egressd'] for v in st.values() if 'egressd' in v]),
                     'median_noop_ns': med([v['floor'] for v in st.values() if 'floor' in v]),
                     'above_noop_ns': diffs, 'median_above_noop_ns': med(diffs),
                     'goal_ns': 60}
    R['in_place']['met'] = (R['in_place']['median_above_noop_ns'] or 1e9) <= 60

    # ---- per-program cost of a new connection (bpf_stats, connrate) ----
    # (egressd: the socket hooks seed the per-socket verdict; egressd-noseed:
    # EGRESSD_NO_SEED=1, the same run without it, for the A/B.)
    def conn_progs(filt):
        cp = collections.defaultdict(lambda: collections.defaultdict(list))
        for s in raw:
            if s['metric'] == 'connprog' and s.get('filter', 'egressd') == filt:
                for k in ('value', 'runs_per_conn', 'ns_per_conn'):
                    cp[s['prog']][k].append(s[k])
        return {n: {'ns_per_run': med(d['value']), 'runs_per_conn': med(d['runs_per_conn']),
                    'ns_per_conn': med(d['ns_per_conn']), 'samples': d}
                for n, d in cp.items()}
    R['conn_programs'] = conn_progs('egressd')
    R['conn_programs_noseed'] = conn_progs('egressd-noseed')
    R['conn_stats_rate'] = {f: med([s['value'] for s in raw if s['metric'] == 'connrate_stats'
                                    and s['filter'] == f]) for f in ('egressd', 'egressd-noseed')}

    # ---- test_run cost and map fill ----
    pc = collections.defaultdict(lambda: collections.defaultdict(list))
    for s in raw:
        if s['metric'].startswith('pc_'):
            pc[s['size']][s['metric'][3:]].append(s['value'])
    sizes = sorted(pc)
    R['test_run'] = {str(n): {k: {'values': v, 'median': med(v)} for k, v in pc[n].items()}
                     for n in sizes}
    # The main allowlist: its rule count is the entries plus the target.
    mid = min(sizes, key=lambda n: abs(n - (a.nlist + 1))) if sizes else None

    def pcm(n, k):
        return med(pc[n][k]) if n in pc and pc[n][k] else None

    # ---- start-up ----
    su = collections.defaultdict(lambda: collections.defaultdict(list))
    for s in raw:
        if s['metric'].startswith('startup_'):
            su[s['metric'][8:]][s['filter']].append(s['value'])
    R['startup'] = {c: {t: {'values_ms': v, 'median_ms': med(v)} for t, v in d.items()}
                    for c, d in su.items()}

    def sum_(c, t):
        return med(su[c][t]) if c in su and su[c][t] else None

    files = sorted((int(c[4:]), sum_(c, 'egressd')) for c in su if c.startswith('file'))
    # The verifier's time per program (bench/verifier.c), root / container.
    vf = {}
    for x in raw:
        if x['metric'] == 'verify_us':
            vf.setdefault(x['filter'], {}).setdefault(x.get('list', 'empty'), {})[x['prog']] = {
                'verify_us': x['value'], 'insns': x['insns'], 'states': x['states']}
    R['verifier'] = vf
    R['memory'] = load_jsonl(a.memory)
    R['dns_proxy'] = parse_dns(a.dns)

    # ---- goals ----
    goals = []
    for m, label, goal in NET:
        r = net[m]['filters']['egressd']['median_ratio']
        goals.append((label + ' (ratio to none)', f'>= {goal}', fmt(r), r is not None and r >= goal))
    ip = R['in_place']['median_above_noop_ns']
    goals.append(('in place, egress_skb above the empty program (bpf_stats)', '<= 60 ns',
                  fmt(ip, 1) + ' ns', ip is not None and ip <= 60))
    es = pcm(mid, 'estab_ns')
    goals.append((f'test_run, established flow, {mid} entries', '<= 60 ns', fmt(es, 1) + ' ns',
                  es is not None and es <= 60))
    fp = pcm(mid, 'first_ns')
    goals.append((f'test_run, first packet (new socket), {mid} entries, rotated', '<= 120 ns',
                  fmt(fp, 1) + ' ns', fp is not None and fp <= 120))
    sp_eg, sp_fw = sum_('names', 'egressd'), sum_('names', 'initfw')
    sp = sp_fw / sp_eg if sp_eg and sp_fw else None
    goals.append(('start-up, names against a resolver 20 ms away (dig loop / egressd)', '>= 20x',
                  fmt(sp, 1) + 'x', sp is not None and sp >= 20))
    e0 = sum_('empty', 'egressd')
    goals.append(('fixed start-up, empty list', '<= 50 ms', fmt(e0, 1) + ' ms',
                  e0 is not None and e0 <= 50))
    ec = sum_('empty', 'egressd-ctr')
    goals.append(("fixed start-up, empty list, a container's capabilities (no CAP_PERFMON, CAP_SYS_ADMIN)",
                  '<= 50 ms', fmt(ec, 1) + ' ms', ec is not None and ec <= 50))
    ftm = (pcm(mid, 'parse_ms') or 0) + (pcm(mid, 'fill_ms') or 0) if mid in pc else None
    goals.append((f'file to filled maps, {mid} entries (read+compile + map fill)', '< 10 ms',
                  fmt(ftm, 1) + ' ms', ftm is not None and ftm < 10))
    lin = None
    # Per-entry cost of the largest list over that of the next largest,
    # both above the empty list: about 1 when growth is linear, far more
    # when it is quadratic.
    if len(files) >= 3 and files[0][0] == 0 and all(t for _, t in files):
        t0 = files[0][1]
        (n1, t1), (n2, t2) = files[-2], files[-1]
        if t1 > t0 and t2 > t0:
            lin = ((t2 - t0) / n2) / ((t1 - t0) / n1)
    goals.append(('linear growth: per-entry start-up cost, largest list / next largest', '<= 2',
                  fmt(lin, 2), lin is not None and lin <= 2))
    for key, label in (('cached_a', 'DNS proxy, cached answer, added'),
                       ('uncached_a', 'DNS proxy, uncached answer, added')):
        d = R['dns_proxy'].get(key)
        v = d['added_us'] / 1000 if d else None
        goals.append((label, '< 1 ms', fmt(v, 3) + ' ms', v is not None and v < 1))
    R['goals'] = [{'goal': g, 'target': t, 'measured': v, 'met': bool(ok)} for g, t, v, ok in goals]

    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, 'results.json'), 'w') as f:
        json.dump(R, f, indent=1)

    # ---- plots ----
    os.makedirs(a.plots, exist_ok=True)
    dat = os.path.join(a.out, 'plot-net.dat')
    with open(dat, 'w') as f:
        for m, label, _ in NET:
            f.write('"%s" ' % label + ' '.join(
                fmt(net[m]['filters'][x]['median_ratio'], 4) for x in FILTERS[1:]) + '\n')
    term = 'set terminal pngcairo size 720,360 font ",9" noenhanced\n'
    gnuplot(term + f'''set output "{a.plots}/network.png"
set title "Network, median ratio to no filter ({a.reps} interleaved repetitions)"
set style data histogram; set style histogram cluster gap 1; set style fill solid 0.8 border -1
set yrange [0.5:1.3]; set grid ytics; set key outside right
set arrow from -0.5,0.94 to 0.5,0.94 nohead dt 2 lc rgb "red"
set arrow from 0.5,0.98 to 2.5,0.98 nohead dt 2 lc rgb "red"
plot "{dat}" using 2:xtic(1) title "egressd", "" using 3 title "iptables+ipset", "" using 4 title "nftables", "" using 5 title "empty program"
''')
    dat = os.path.join(a.out, 'plot-pc.dat')
    with open(dat, 'w') as f:
        for n in sizes:
            f.write(f"{n} {fmt(pcm(n, 'first_ns'), 1)} {fmt(pcm(n, 'decide_ns'), 1)} "
                    f"{fmt(pcm(n, 'hot_ns'), 1)} {fmt(pcm(n, 'estab_ns'), 1)}\n")
    gnuplot(term + f'''set output "{a.plots}/progcost.png"
set title "egress_skb through test_run, ns/packet above the empty program"
set logscale x; set xrange [5:200000]; set xlabel "allowlist entries"; set ylabel "ns"; set grid; set key left top
plot "{dat}" u 1:2 w lp t "first packet (new socket, rotated)", "" u 1:3 w lp t "decision, no cache (rotated)", "" u 1:4 w lp t "decision, no cache (one hot address)", "" u 1:5 w lp t "established flow (cached verdict)", 60 dt 2 lc rgb "red" t "goal 60 ns", 120 dt 3 lc rgb "red" t "goal 120 ns"
''')
    dat = os.path.join(a.out, 'plot-su.dat')
    with open(dat, 'w') as f:
        for n, t in files:
            f.write(f'{n} {fmt(t, 2)} {fmt(sum_("file%d" % n, "initfw"), 2)}\n')
    gnuplot(term + f'''set output "{a.plots}/startup.png"
set title "Start-up, exec to enforcement, CIDRs from a file (median ms)"
set xlabel "allowlist entries"; set ylabel "ms"; set grid; set key left top; set logscale y
set yrange [50:300000]
plot "{dat}" u 1:2 w lp t "egressd run -- true", "" u 1:($3>0?$3:1/0) w p pt 7 ps 1.5 t "ipset add per CIDR (init-firewall.sh method)"
''')

    # ---- the document ----
    L = []
    w = L.append
    mch = R['machine']
    w('# Benchmarks\n')
    w('<!-- Generated by bench/report.py from `make bench`; edit bench/analysis.md, not the numbers. -->\n')
    w('## How to run\n')
    w('    sudo make bench          # everything, ~15 minutes; writes this file, docs/bench/*.png')
    w('                             # and build/bench/results.json (every repetition)')
    w('    sudo make bench-smoke    # one short repetition of each metric; checks the harness only')
    w('    sudo REPS=7 T=5 bench/run.sh   # more or longer repetitions\n')
    w('Needs the README install line (iperf3 iptables ipset nftables gnuplot-nox hyperfine, dnsmasq, dig). '
      'The suite builds its own topology: a client namespace whose load generator runs in a child cgroup '
      'pinned to CPU 0, a server namespace on CPU 1 (iperf3, bench/connsrv.c, dnsmasq, dnsdelay.py, '
      'https_server.py), joined by a veth, TEST-NET addresses only; all of it is removed on exit.\n')
    w('## The machine and the run\n')
    w(f"- {mch['date']}; egressd at commit `{mch.get('commit', 'unknown')}`; `{mch['uname']}`; {mch['cpus']} CPUs ({mch['cpu_model']}); shared with other "
      'engineers running tests, so absolute numbers are context only: compare within a repetition.')
    p = R['params']
    w(f"- {p['reps']} interleaved repetitions (none, egressd, iptables, nftables, floor, none, ...), "
      f"{p['seconds_per_run']} s per network run; every figure is a median; every network figure is the "
      'median of the per-repetition ratios to no filter.')
    w(f"- Allowlist: {p['entries']} CIDRs (bench/genlist.py, seed 10: ~70% IPv4 /16-/32, ~30% IPv6 "
      f"/32-/128, GitHub-meta-like) plus the target; {p['entries_big']} for the large size.")
    w(f"- iptables: `{p['iptables']}` (Debian 12's iptables is the nf_tables backend), "
      'ipset hash:net `allowed-domains` (+ `allowed-domains6`), INPUT/OUTPUT policy DROP, '
      '`-m state --state ESTABLISHED,RELATED -j ACCEPT` first, then `-m set --match-set allowed-domains dst -j ACCEPT`, '
      'for IPv4 and IPv6, in the client namespace only. nftables: `table inet` with interval sets '
      '(auto-merge) and `ct state established,related accept` first. egressd: '
      '`egressd run --user nobody --allow-file FILE -- LOAD` (DNS proxy on, every program attached). '
      'Floor: bench/noop.bpf.c attached to the load cgroup through a bpf_link.')
    san = R['sanity']
    if san:
        w('- Sanity, before timing: every filter passed the target, and egressd, iptables and nftables '
          'blocked an address outside the list (' +
          ', '.join(f"{s['filter']}: {'blocked' if s['denied_blocked'] else 'passed'}" for s in san) + ').')
    w('')
    w('## Goals\n')
    w('| goal | target | measured (median) | |')
    w('|---|---|---|---|')
    for g in R['goals']:
        w(f"| {g['goal']} | {g['target']} | {g['measured']} | {met(g['met'])} |")
    w('')
    w('## Network\n')
    w('Median ratio to no filter (absolute median in brackets). Goal for egressd in the last column.\n')
    w('| metric | ' + ' | '.join(FILTER_NAMES[f] for f in FILTERS[1:]) + ' | egressd / floor | goal |')
    w('|---|' + '---|' * (len(FILTERS) + 1))
    for m, label, goal in NET:
        e = net[m]
        unit = {'udp_pps': 'pps', 'tcp_conn': 'conn/s', 'tcp_bulk': 'Gbit/s'}[m]
        sc = 1e9 if m == 'tcp_bulk' else 1

        def cell(f):
            x = e['filters'][f]
            ab = x['median'] / sc if x['median'] else None
            return f"{fmt(x['median_ratio'])} ({fmt(ab, 2 if sc > 1 else 0)})"
        w(f"| {label} [no filter: {fmt(e['filters']['none']['median'] / sc if e['filters']['none']['median'] else None, 2 if sc > 1 else 0)} {unit}] | "
          + ' | '.join(cell(f) for f in FILTERS[1:]) +
          f" | {fmt(e['egressd_over_floor'])} | >= {goal}: {met(e['met'])} |")
    w('\n![network](bench/network.png)\n')
    w('Per repetition (ratios to none):\n')
    for m, label, _ in NET:
        w(f'- {label}: ' + '; '.join(
            f"{f} " + ' '.join(fmt(x, 3) for x in net[m]['filters'][f]['ratios'])
            for f in FILTERS[1:]))
    w('')
    w('## Per-packet cost\n')
    ipl = R['in_place']
    w(f"In place (`kernel.bpf_stats_enabled=1`, run_time_ns / run_cnt during a UDP 64 B run, a separate "
      f"pass, the sysctl restored after): egress_skb {fmt(ipl['median_egress_skb_ns'], 1)} ns, the empty "
      f"program {fmt(ipl['median_noop_ns'], 1)} ns, so **{fmt(ipl['median_above_noop_ns'], 1)} ns above "
      f"the empty program** (per repetition: {', '.join(fmt(x, 1) for x in ipl['above_noop_ns'])}). "
      'Nearly every packet of this run belongs to one established flow.\n')
    if R['conn_programs']:
        tot = sum(d['ns_per_conn'] or 0 for d in R['conn_programs'].values())
        w('Where a new TCP connection\'s BPF time goes (bpf_stats during a connrate run under egressd, '
          f'medians; {fmt(tot / 1000, 2)} us of BPF per connection in all):\n')
        w('| program | runs per connection | ns per run | ns per connection |')
        w('|---|---|---|---|')
        for n, d in sorted(R['conn_programs'].items(), key=lambda kv: -(kv[1]['ns_per_conn'] or 0)):
            w(f"| {n} | {fmt(d['runs_per_conn'], 2)} | {fmt(d['ns_per_run'], 1)} | {fmt(d['ns_per_conn'], 0)} |")
        w('')
        ns = R['conn_programs_noseed']
        if ns:
            def cpv(d, n, k):
                return fmt(d[n][k], 1) if n in d else '-'
            w('The verdict seeded at connect (above) against the same pass with `EGRESSD_NO_SEED=1` '
              '(the packet hook decides and creates the verdict), interleaved, medians: ' +
              '; '.join(f"{n} {cpv(R['conn_programs'], n, 'ns_per_run')} against {cpv(ns, n, 'ns_per_run')} "
                        f"ns per run" for n in ('egress_skb', 'egress_connect4')) +
              f"; all programs {fmt(tot / 1000, 2)} against "
              f"{fmt(sum(d['ns_per_conn'] or 0 for d in ns.values()) / 1000, 2)} us per connection; "
              f"{fmt(R['conn_stats_rate']['egressd'], 0)} against "
              f"{fmt(R['conn_stats_rate']['egressd-noseed'], 0)} conn/s under bpf_stats.\n")
    w('Through `bpf_prog_test_run_opts` (bench/progcost.c; the maps filled by the real loader as '
      '`egressd run` fills them; UDP packets, v4 and v6, each to an address inside a different rule), '
      'ns per packet above the empty program run the same way, medians:\n')
    w('| entries | first packet, new socket (rotated, repeat 1) | decision without the cache (rotated, repeat 1) '
      '| decision without the cache (one address, repeat 1e6) | established flow (cached verdict, repeat 1e6) '
      '| empty program itself, rotated / hot '
      '| first packet / decision, rotated over the /32 and /128 rules only (the exact hashes) |')
    w('|---|---|---|---|---|---|---|')
    for n in sizes:
        w(f"| {n} | {fmt(pcm(n, 'first_ns'), 1)} | {fmt(pcm(n, 'decide_ns'), 1)} | {fmt(pcm(n, 'hot_ns'), 1)} "
          f"| {fmt(pcm(n, 'estab_ns'), 1)} | {fmt(pcm(n, 'noop_rot_ns'), 1)} / {fmt(pcm(n, 'noop_hot_ns'), 1)} "
          f"| {fmt(pcm(n, 'first_exact_ns'), 1)} / {fmt(pcm(n, 'decide_exact_ns'), 1)} |")
    w('\n![test_run cost](bench/progcost.png)\n')
    w('## Start-up\n')
    w('Wall time of exec to enforcement (hyperfine, `egressd run --user nobody ... -- true`), against '
      "bench/initfw.sh, init-firewall.sh's method reproduced (flush, ipset create, curl + jq for /meta, "
      'one `ipset add` per CIDR, one sequential `dig` per name, iptables rules, exec). Medians:\n')
    w('| case | egressd | init-firewall method | ratio |')
    w('|---|---|---|---|')
    cases = [('empty', 'empty list'), ('names', f'{len(open(a.raw).read()) and "50"} names, resolver 20 ms away'),
             ('meta', f"{p['entries']} GitHub-meta CIDRs from a local HTTPS /meta")]
    cases[1] = ('names', 'names (A records), resolver 20 ms away (dnsdelay.py in front of dnsmasq)')
    for n, _ in files:
        cases.append((f'file{n}', f'{n} CIDRs from a file'))
    for c, label in cases:
        eg, fw = sum_(c, 'egressd'), sum_(c, 'initfw')
        ratio = f'{fw / eg:.1f}x' if eg and fw else ''
        w(f"| {label} | {fmt(eg, 1)} ms | {fmt(fw, 1) + ' ms' if fw else ''} | {ratio} |")
    ec = sum_('empty', 'egressd-ctr')
    if ec:
        w(f"\nWith a container's capabilities (`setpriv --bounding-set -perfmon,-sys_admin`, as Docker's "
          f"`--cap-add BPF --cap-add NET_ADMIN` leaves egressd), the empty list: **{fmt(ec, 1)} ms**.")
    for caps in ('root', 'container'):
        d = R['verifier'].get(caps, {})
        if not d:
            continue
        progs = sorted(set(d.get('empty', {})) | set(d.get('four', {})),
                       key=lambda n: -(d.get('four', {}).get(n, {}).get('insns') or 0))
        w(f"\nThe verifier, per program ({'as root' if caps == 'root' else 'with a container' + chr(39) + 's capabilities'}; "
          'bench/verifier.c: the kernel\'s own "verification time" and instructions processed, medians; '
          'an empty list, and one rule in each allowlist map):\n')
        w('| program | empty list: us | insns | one rule per map: us | insns |')
        w('|---|---|---|---|---|')
        for n in progs:
            e, f_ = d.get('empty', {}).get(n, {}), d.get('four', {}).get(n, {})
            w(f"| {n} | {e.get('verify_us', '')} | {e.get('insns', '')} | {f_.get('verify_us', '')} | {f_.get('insns', '')} |")
        te = sum(v['verify_us'] for v in d.get('empty', {}).values())
        tf = sum(v['verify_us'] for v in d.get('four', {}).values())
        w(f"| all | {fmt(te / 1000, 1)} ms | {sum(v['insns'] for v in d.get('empty', {}).values())} "
          f"| {fmt(tf / 1000, 1)} ms | {sum(v['insns'] for v in d.get('four', {}).values())} |")
    w('')
    w('File to filled maps (bench/progcost.c: `policy_add_file` + `policy_compile`, then `loader_load` '
      'minus `loader_load` of a four-rule list (one per allowlist map), the fastest of seven of each, interleaved; at a few entries the difference is '
      'below loader_load\'s run-to-run spread, so it can come out negative):\n')
    w('| entries | read + compile | map fill | total | loader_load |')
    w('|---|---|---|---|---|')
    for n in sizes:
        w(f"| {n} | {fmt(pcm(n, 'parse_ms'), 2)} ms | {fmt(pcm(n, 'fill_ms'), 2)} ms | "
          f"{fmt((pcm(n, 'parse_ms') or 0) + (pcm(n, 'fill_ms') or 0), 2)} ms | {fmt(pcm(n, 'load_ms'), 1)} ms |")
    w('\n![start-up](bench/startup.png)\n')
    w('## DNS proxy\n')
    w('bench/dns_proxy.sh (sequential queries, direct and through `egressd run`), medians:\n')
    w('| answer | direct | through egressd | added |')
    w('|---|---|---|---|')
    for k in ('cached_a', 'cached_txt', 'uncached_a'):
        d = R['dns_proxy'].get(k)
        if d:
            w(f"| {d['label']} | {d['direct_us']:.1f} us | {d['proxy_us']:.1f} us | {d['added_us']:.1f} us |")
    if 'learn_us' in R['dns_proxy']:
        w(f"\nLearning one address (A minus TXT through the proxy): {R['dns_proxy']['learn_us']:.1f} us.")
    w('')
    w('## Memory\n')
    w('| entries | peak RSS (egressd) | BPF maps (memlock) | largest maps |')
    w('|---|---|---|---|')
    for m in R['memory']:
        big = sorted(m['bpf']['maps'].items(), key=lambda kv: -kv[1])[:4]
        w(f"| {m['size']} | {m['maxrss_kb'] / 1024:.1f} MB | {m['bpf']['total'] / 2**20:.2f} MB | "
          + ', '.join(f'{k} {v / 2**20:.2f} MB' for k, v in big) + ' |')
    w('')
    if a.analysis and os.path.exists(a.analysis) and not a.smoke:
        w(open(a.analysis).read())
    with open(a.doc, 'w') as f:
        f.write('\n'.join(L) + '\n')


if __name__ == '__main__':
    main()
