# SPDX-License-Identifier: GPL-2.0-only
#
# workload.py: the soak's client, run under egressd (`egressd run` on the
# lab's client side, or `egressd exec` in the container).  Until SECONDS
# have passed it opens connections at RATE a second, each a random pick
# of allowed|denied x tcp|udp x v4|v6, and writes one JSON line per
# attempt to OUT ("-": stdout):
#   allowed, fresh: resolve the name through the system resolver (so
#       egressd's DNS proxy), connect to the answer at once;
#   allowed, stale: connect to an address this process resolved earlier
#       (a client caching DNS longer than the TTL): after a rotation and
#       the TTL this may be refused, and the analysis judges it by the
#       time of the last lookup that returned that address;
#   denied, addr: connect to an address no allowed name ever has;
#   denied, name: look up a name that is not allowed (must fail).
# Times are CLOCK_MONOTONIC (time.monotonic), the clock egressd's learned
# entries expire by, so the analysis can compare them.
#
#   workload.py TAG SECONDS RATE PORT OUT NAMES DENIED_ADDRS DENIED_NAMES
# (the last three: comma-separated lists)

import json
import random
import socket
import sys
import time

tag = sys.argv[1]
seconds = float(sys.argv[2])
rate = float(sys.argv[3])
port = int(sys.argv[4])
out = sys.stdout if sys.argv[5] == "-" else open(sys.argv[5], "w")
names = sys.argv[6].split(",")
denied_addrs = sys.argv[7].split(",")
denied_names = sys.argv[8].split(",")
FAM = {"v4": socket.AF_INET, "v6": socket.AF_INET6}
rnd = random.Random()
# (name, fam) -> list of (addr, r0, r1), the last few lookups' answers
cache = {}


def resolve(name, fam):
    """(addr or None, error or None)"""
    try:
        ai = socket.getaddrinfo(name, port, FAM[fam], socket.SOCK_STREAM)
    except socket.gaierror as e:
        return None, "gai:%d" % e.errno
    except OSError as e:
        return None, "gai:" + e.__class__.__name__
    if not ai:
        return None, "gai:empty"
    return ai[0][4][0], None


def attempt(proto, fam, addr):
    af = FAM[fam]
    s = socket.socket(af, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
    s.settimeout(2.0 if proto == "tcp" else 1.0)
    try:
        s.connect((addr, port))
        if proto == "tcp":
            return "ok" if s.recv(16).startswith(b"ok") else "noanswer"
        msg = b"soak %f" % time.monotonic()
        s.send(msg)
        return "ok" if s.recv(64) == msg else "badecho"
    except PermissionError:
        return "eperm"
    except socket.timeout:
        return "timeout"
    except OSError as e:
        return "err:" + e.__class__.__name__
    finally:
        s.close()


def one():
    rec = {"tag": tag, "proto": rnd.choice(("tcp", "udp")), "fam": rnd.choice(("v4", "v6"))}
    proto, fam = rec["proto"], rec["fam"]
    if rnd.random() < 0.5:
        rec["cls"] = "allowed"
        name = rnd.choice(names)
        rec["name"] = name
        old = cache.get((name, fam))
        if old and rnd.random() < 0.25:
            rec["mode"] = "stale"
            addr, r0, r1 = rnd.choice(old)
        else:
            rec["mode"] = "fresh"
            r0 = time.monotonic()
            addr, err = resolve(name, fam)
            r1 = time.monotonic()
            if addr is None:
                rec.update(r0=r0, r1=r1, res=err)
                return rec
            lst = cache.setdefault((name, fam), [])
            lst.append((addr, r0, r1))
            # Keep lookups up to ~20 s old for the stale picks.
            while lst and r1 - lst[0][2] > 20:
                lst.pop(0)
        rec.update(addr=addr, r0=r0, r1=r1)
    else:
        rec["cls"] = "denied"
        if rnd.random() < 0.15:
            rec["mode"] = "name"
            name = rnd.choice(denied_names)
            rec["name"] = name
            r0 = time.monotonic()
            addr, err = resolve(name, fam)
            rec.update(r0=r0, r1=time.monotonic())
            if addr is None:
                rec["res"] = "refused"  # the expected outcome
                return rec
            rec["resolved"] = addr  # a denied name resolved: a false allow
        else:
            rec["mode"] = "addr"
            addr = rnd.choice([a for a in denied_addrs if (":" in a) == (fam == "v6")])
        rec["addr"] = addr
    rec["c0"] = time.monotonic()
    rec["res"] = attempt(proto, fam, addr)
    rec["c1"] = time.monotonic()
    return rec


def main():
    start = time.monotonic()
    n = 0
    while True:
        now = time.monotonic()
        if now - start >= seconds:
            break
        rec = one()
        rec["i"] = n
        out.write(json.dumps(rec) + "\n")
        n += 1
        if n % 50 == 0:
            out.flush()
        wait = start + n / rate - time.monotonic()
        if wait > 0:
            time.sleep(wait)
    out.write(json.dumps({"tag": tag, "done": n}) + "\n")
    out.flush()


main()
