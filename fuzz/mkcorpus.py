#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Write the seed corpora fuzz/corpus/NAME/ (checked in; rerun after a change).

Text targets get hand-written valid and near-valid inputs.  The DNS proxy
gets real wire messages built here, packed as fuzz_dnsproxy.c reads them:
[flags:1][qlen:2][query][alen:2][answer] per exchange.
"""
import os
import shutil
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, files):
    d = os.path.join(HERE, "corpus", target)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for name, data in files.items():
        if isinstance(data, str):
            data = data.encode()
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


ENTRY = {
    "v4": "198.51.100.7\n198.51.100.0/24\n198.51.100.7:443\n198.51.100.0/24:443\n",
    "v6": "2001:db8::1\n2001:db8::/32\n[2001:db8::1]:443\n[2001:db8::/32]:443\n",
    "mapped": "::ffff:198.51.100.7\n[::ffff:198.51.100.0/120]:53\n",
    "names": "example.com\nexample.com:443\nexample.com.\nWWW.Example.COM\n",
    "wildcard": "*.example.com\n*.example.com:443\n*.a.b.example.org:8443\n",
    "comments": "# allow file\n\nexample.com # the site\n   198.51.100.0/24   \n#only\n",
    "list": "example.com, 198.51.100.1,2001:db8::1 *.example.org:443\n",
    "noeol": "example.com\n198.51.100.9",
    "crlf": "example.com\r\n198.51.100.0/24\r\n",
    "bad": "example..com\n-a.example\n1.2.3\n198.51.100.0/33\n[2001:db8::1]\n*.*.x\nexample.com:0\nexample.com:65536\n",
    "ports": "".join("198.51.100.0/24:%d\n" % p for p in range(1, 20)),
    "hostbits": "198.51.100.7/24\n2001:db8::1/32\n0.0.0.0/0\n::/0\n",
    "nul": b"example.com\n\x00198.51.100.1\n",
    "long": "a" * 63 + "." + "b" * 63 + "." + "c" * 63 + "." + "d" * 61 + "\n",
    "idn": "xn--bcher-kva.example\nb\xc3\xbccher.example\n",
}

NAME = {
    "basic": "example.com\n*.example.org\n--\nexample.com\nwww.example.org\nexample.org\nEXAMPLE.COM.\n",
    "ports": "a.example:443\na.example:80\n*.example:8443\n--\na.example\nb.a.example\n",
    "deep": "*.example.com\n--\na.b.c.d.example.com\nexample.com\n.example.com\nexample.com..\n",
    "underscore": "example.com\n--\n_srv._tcp.example.com\nex_ample.com\n",
    "empty": "\n--\n\n.\n..\n",
    "long": "*.example\n--\n" + ".".join(["x" * 63] * 3) + ".example\n" + "y" * 64 + ".example\n",
    "bad": "*.*.example\nex*ample.com\n-x.example\n--\n*.example\nex\\046ample.com\nex ample.com\n",
    "manyports": "".join("*.example:%d\n" % p for p in range(1, 18)) + "--\na.example\n",
    "mixed": "www.example.com\n*.example.com:443\n*.com:80\n--\nwww.example.com\nx.www.example.com\n",
    "trailing": "example.com.\n*.example.net.\n--\nexample.com\nhost.example.net.\n",
    "case": "Example.COM\n*.EXAMPLE.org\n--\nexample.com\nA.example.ORG\n",
}

RESOLV = {
    "basic": "nameserver 198.51.100.53\n",
    "two": "# resolv.conf\nnameserver 198.51.100.53\nnameserver 2001:db8::53\n",
    "options": "search example.com\ndomain example.com\noptions ndots:2 edns0\nnameserver 198.51.100.1\n",
    "comments": "; generated\nnameserver 198.51.100.1 # main\nnameserver 198.51.100.2;alt\n",
    "dup": "nameserver 198.51.100.1\nnameserver 198.51.100.1\nnameserver ::ffff:198.51.100.1\n",
    "scoped": "nameserver fe80::1%eth0\n",
    "none": "search example.com\n",
    "empty": "nameserver\n",
    "many": "".join("nameserver 198.51.100.%d\n" % i for i in range(1, 12)),
    "resolver": "198.51.100.1:5353\n[2001:db8::1]:53\n2001:db8::2\n[2001:db8::3]\n",
    "badport": "198.51.100.1:0\n198.51.100.1:65536\n[2001:db8::1]:\n",
    "tabs": "\tnameserver\t198.51.100.9\t\r\n",
    "nul": b"nameserver 198.51.100.1\x00\nnameserver 198.51.100.2\n",
}

GHMETA = {
    "small": '{"web":["192.0.2.0/24"],"api":["198.51.100.0/24"],"git":["2001:db8::/32"]}',
    "real": """{
  "verifiable_password_authentication": false,
  "ssh_key_fingerprints": {"SHA256_ED25519": "+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU"},
  "hooks": ["192.30.252.0/22"],
  "web": ["192.30.252.0/22", "185.199.108.0/22", "140.82.112.0/20", "2a0a:a440::/29"],
  "api": ["192.30.252.0/22", "185.199.108.0/22", "2606:50c0::/32"],
  "git": ["192.30.252.0/22", "140.82.112.3/32", "2a0a:a440::/29"],
  "domains": {"website": ["*.github.com", "github.com"]}
}
""",
    "empty_arrays": '{"web":[],"api":[],"git":[]}',
    "one_empty": '{"web":[],"api":["198.51.100.0/24"],"git":[]}',
    "missing": '{"web":["198.51.100.0/24"],"api":["198.51.100.0/24"]}',
    "wide": '{"web":["0.0.0.0/0"],"api":["::/0"],"git":["10.0.0.0/7"]}',
    "hostbits": '{"web":["198.51.100.1/24"],"api":[],"git":[]}',
    "domain": '{"web":["github.com"],"api":[],"git":[]}',
    "port": '{"web":["198.51.100.0/24:443"],"api":[],"git":[]}',
    "types": '{"web":[1,true,null,{}],"api":"x","git":{}}',
    "trailing": '{"web":["198.51.100.0/24"],"api":[],"git":[]} x',
    "nul": b'{"web":["198.51.100.0/24\\u0000"],"api":[],"git":[]}',
    "notobject": '["198.51.100.0/24"]',
    "truncated": '{"web":["198.51.100.0/24"],"api":[',
    "escapes": '{"w\\u0065b":["198.51.100.0\\/24"],"api":[],"git":[]}',
}


# ---- DNS --------------------------------------------------------------

def wire_name(name, case=None):
    out = b""
    for label in name.rstrip(".").split(".") if name not in ("", ".") else []:
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def header(qid, flags, qd=1, an=0, ns=0, ar=0):
    return struct.pack(">HHHHHH", qid, flags, qd, an, ns, ar)


def query(name, qtype=1, qid=0x1234, rd=True, edns=None, extra=b""):
    ar = 1 if edns else 0
    msg = header(qid, 0x0100 if rd else 0, ar=ar) + wire_name(name) + struct.pack(">HH", qtype, 1)
    if edns:
        msg += b"\0" + struct.pack(">HHIH", 41, edns, 0x8000, 0)
    return msg + extra


def rr(owner, rtype, ttl, rdata):
    o = owner if isinstance(owner, bytes) else wire_name(owner)
    return o + struct.pack(">HHIH", rtype, 1, ttl, len(rdata)) + rdata


def a(ip):
    return bytes(int(x) for x in ip.split("."))


def aaaa(ip):
    import ipaddress
    return ipaddress.IPv6Address(ip).packed


PTR = b"\xc0\x0c"  # the question's name


def answer(name, qtype, records, qid=0xbeef, rcode=0, tc=False):
    flags = 0x8180 | rcode | (0x0200 if tc else 0)
    return header(qid, flags, an=len(records)) + wire_name(name) + \
        struct.pack(">HH", qtype, 1) + b"".join(records)


def exchange(flags, q, ans):
    return bytes([flags]) + struct.pack(">H", len(q)) + q + struct.pack(">H", len(ans)) + ans


def dns_corpus():
    ex = "example.com"
    www = "www.Example.com"
    cdn = "img.cdn.example.net"
    return {
        "a": exchange(0, query(ex), answer(ex, 1, [rr(PTR, 1, 300, a("198.51.100.7"))])),
        "aaaa_tcp": exchange(1, query(ex, 28), answer(ex, 28, [rr(PTR, 28, 60, aaaa("2001:db8::7"))])),
        "case": exchange(0, query(www), answer(www.lower(), 1, [rr(PTR, 1, 30, a("198.51.100.8")),
                                                               rr(PTR, 1, 30, a("198.51.100.9"))])),
        "cname": exchange(0, query(cdn), answer(cdn, 1, [
            rr(PTR, 5, 600, wire_name("edge.example.net")),
            rr("edge.example.net", 1, 20, a("198.51.100.20")),
            rr("other.example", 1, 20, a("198.51.100.21"))])),
        "edns": exchange(0, query(ex, edns=4096), answer(ex, 1, [rr(PTR, 1, 300, a("198.51.100.%d" % i))
                                                                  for i in range(1, 40)])),
        "big_udp": exchange(0, query(ex), answer(ex, 1, [rr(PTR, 1, 300, a("198.51.100.%d" % i))
                                                          for i in range(1, 40)])),
        "denied": exchange(0, query("evil.example"), answer("evil.example", 1, [rr(PTR, 1, 300, a("198.51.100.66"))])),
        "audit": exchange(2, query("evil.example"), answer("evil.example", 1, [rr(PTR, 1, 300, a("198.51.100.66"))])),
        "private": exchange(0, query("x.cdn.example.net"), answer("x.cdn.example.net", 1, [
            rr(PTR, 1, 300, a("10.1.2.3")), rr(PTR, 1, 300, a("169.254.169.254")),
            rr(PTR, 1, 300, a("198.51.100.1"))])),
        "private_exact": exchange(0, query("internal.example"), answer("internal.example", 28, [
            rr(PTR, 28, 300, aaaa("fd00::1")), rr(PTR, 28, 300, aaaa("::ffff:10.0.0.1"))])),
        "mapfail": exchange(4, query(ex), answer(ex, 1, [rr(PTR, 1, 300, a("198.51.100.7"))])),
        "timeout": exchange(8, query(ex), b""),
        "nxdomain": exchange(0, query("a.example.org"), answer("a.example.org", 1, [], rcode=3)),
        "any": exchange(0, query(ex, 255), b""),
        "axfr_tcp": exchange(1, query(ex, 252), b""),
        "mx": exchange(0, query(ex, 15), answer(ex, 15, [rr(PTR, 15, 300, b"\0\x0a" + wire_name("mail.example.com"))])),
        "formerr": exchange(0, header(0x4242, 0x0100, qd=2) + wire_name(ex) + b"\0\1\0\1", b""),
        "pointer": exchange(0, header(0x4243, 0x0100) + b"\xc0\x0c\0\1\0\1", b""),
        "response": exchange(0, header(0x4244, 0x8100) + wire_name(ex) + b"\0\1\0\1", b""),
        "extra": exchange(0, query(ex, extra=b"secret-bytes-to-exfiltrate"),
                          answer(ex, 1, [rr(PTR, 1, 300, a("198.51.100.7"))])),
        "mismatch": exchange(0, query(ex), answer("example.org", 1, [rr(PTR, 1, 300, a("198.51.100.7"))])),
        "sequence": exchange(0x10, query(ex), answer(ex, 1, [rr(PTR, 1, 30, a("198.51.100.7"))])) +
        exchange(0xf0, query("www.example.com"), answer("www.example.com", 1, [rr(PTR, 1, 30, a("198.51.100.7"))])) +
        exchange(0x31, query("b.example.org", 28), answer("b.example.org", 28, [rr(PTR, 28, 99999, aaaa("2001:db8::1"))])),
        "ttl_topbit": exchange(0, query(ex), answer(ex, 1, [rr(PTR, 1, 0x80000001, a("198.51.100.7"))])),
        "short_answer": exchange(0, query(ex), answer(ex, 1, [])[:11]),
    }


def learn_corpus():
    # Config: min_ttl, max_ttl (2), ips/name, names/addr, total, allow_private.
    cfg = bytes([60, 0, 120, 3, 2, 8, 0])
    cfg_private = bytes([0, 1, 0, 7, 3, 31, 1])

    def ans(op, name, n, ports, addrs):
        return bytes([op, name | (n << 3), len(ports)]) + bytes(ports) + b"".join(addrs)

    def v4(x, ttl=300):
        return bytes([0]) + struct.pack(">H", ttl) + bytes([x])

    def mapped(x, ttl=300):
        return bytes([1]) + struct.pack(">H", ttl) + bytes([x])

    def v6(x, ttl=300):
        return bytes([2]) + struct.pack(">H", ttl) + bytes([x])

    def priv(x):
        return bytes([3, 0, 60, x])

    def meta(form):
        return bytes([4, 0, 60, form])

    sweep = bytes([4])
    later = bytes([0xfc])  # sweep after 31 * 7 s
    fail = bytes([6, 1, 1])
    ok = bytes([6, 0, 0])
    return {
        "one": cfg + ans(1, 0, 1, [], [v4(1)]) + later,
        "shared": cfg + ans(1, 0, 2, [1], [v4(1), v6(1)]) + ans(0, 2, 2, [2, 3], [v4(1), mapped(1)]) + later,
        "evict": cfg + ans(1, 0, 4, [], [v4(i) for i in range(4)]) + ans(1, 0, 4, [], [v4(i) for i in range(4, 8)]),
        "names": cfg + b"".join(ans(1, i, 1, [i + 1], [v4(5)]) for i in range(5)) + sweep,
        "total": cfg + b"".join(ans(1, i, 3, [], [v4(3 * i + j) for j in range(3)]) for i in range(4)),
        "guard": cfg + ans(0, 3, 4, [], [priv(1), meta(0), meta(1), v4(2)]) + ans(1, 4, 2, [], [priv(1), meta(1)]),
        "private": cfg_private + ans(0, 3, 3, [], [priv(1), meta(0), v6(9)]) + later,
        "fail_update": cfg + fail + ans(1, 0, 2, [], [v4(1), v6(2)]) + ok + ans(1, 0, 1, [], [v4(1)]),
        "fail_remove": cfg + ans(1, 0, 2, [], [v4(1), v6(2)]) + fail + later + bytes([7]) + ok + sweep,
        "ttl": cfg + ans(1, 1, 3, [], [v4(1, 0), v4(2, 65535), bytes([0x80, 0xff, 0xff, 3])]) + later + later,
        "ports": cfg + b"".join(ans(1, 0, 1, [p, p + 1, p + 2], [v4(7)]) for p in range(1, 22, 3)),
        "odd": cfg + ans(1, 5, 3, [], [bytes([5, 0, 9, 1]) + bytes(range(16)), bytes([6, 0, 9, 77]), v4(1)]),
    }


def main():
    write("learn", learn_corpus())
    write("entry", ENTRY)
    write("name", NAME)
    write("resolvconf", RESOLV)
    write("ghmeta", GHMETA)
    write("dnsproxy", dns_corpus())
    return 0


if __name__ == "__main__":
    sys.exit(main())
