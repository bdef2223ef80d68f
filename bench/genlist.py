#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""bench/genlist.py: a deterministic GitHub-meta-like allowlist for bench/.

  genlist.py N [--seed S] [--format list|meta] [--extra ENTRY]...

Prints N distinct CIDRs, about 70% IPv4 (/16 to /32, mostly /20-/24 and
/32, like GitHub's "web"/"api"/"git"/"actions" ranges) and 30% IPv6 (/32
to /64 and /128), the same N and seed giving the same list on every
machine.  No range overlaps TEST-NET (198.51.100.0/24, 2001:db8::/32),
where the bench's real targets live; --extra entries (the target) are
appended.  --format meta prints a GitHub /meta document instead, the
CIDRs split over web, api and git.
"""
import argparse
import ipaddress
import json
import random
import sys

V4_LENS = [(16, 2), (18, 3), (20, 12), (21, 8), (22, 15), (23, 8), (24, 22),
           (25, 3), (26, 4), (27, 3), (28, 3), (29, 2), (30, 1), (32, 14)]
V6_LENS = [(32, 10), (36, 8), (40, 14), (44, 12), (48, 25), (52, 6), (56, 10),
           (64, 10), (128, 5)]
TESTNET = [ipaddress.ip_network('198.51.100.0/24'), ipaddress.ip_network('2001:db8::/32')]


def pick(rng, table):
    total = sum(w for _, w in table)
    x = rng.uniform(0, total)
    for plen, w in table:
        x -= w
        if x <= 0:
            return plen
    return table[-1][0]


def gen(n, seed):
    rng = random.Random(seed)
    seen = set()
    out = []
    while len(out) < n:
        if rng.random() < 0.7:
            plen = pick(rng, V4_LENS)
            # Public-looking unicast space: 1.0.0.0 - 223.255.255.255.
            addr = rng.randrange(1 << 24, 224 << 24)
            net = ipaddress.IPv4Network((addr, plen), strict=False)
        else:
            plen = pick(rng, V6_LENS)
            # 2000::/4, global unicast.
            addr = (0x2 << 124) | rng.getrandbits(124)
            net = ipaddress.IPv6Network((addr, plen), strict=False)
        if net in seen or any(net.overlaps(t) for t in TESTNET if t.version == net.version):
            continue
        if net.is_private or net.is_multicast or net.is_reserved or net.is_loopback:
            continue
        seen.add(net)
        out.append(str(net))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('n', type=int)
    ap.add_argument('--seed', type=int, default=10)
    ap.add_argument('--format', choices=('list', 'meta'), default='list')
    ap.add_argument('--extra', action='append', default=[])
    a = ap.parse_args()
    if a.n < 0:
        sys.exit(f'genlist.py: N must be >= 0, not {a.n}')
    cidrs = gen(a.n, a.seed) + a.extra
    if a.format == 'list':
        sys.stdout.write(''.join(c + '\n' for c in cidrs))
    else:
        third = (len(cidrs) + 2) // 3
        doc = {'verifiable_password_authentication': False,
               'web': cidrs[:third], 'api': cidrs[third:2 * third], 'git': cidrs[2 * third:],
               'hooks': [], 'actions': []}
        json.dump(doc, sys.stdout)
        sys.stdout.write('\n')


if __name__ == '__main__':
    main()
