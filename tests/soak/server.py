# SPDX-License-Identifier: GPL-2.0-only
#
# server.py: the soak's destination servers, in the lab's host namespace.
# One process answers TCP (greets "ok", closes) and UDP (echo) on PORT for
# every address given, and counts per destination address what it
# received: a TCP connection accepted, a UDP datagram read.  The counts go
# to COUNTS (a JSON object, rewritten atomically every second, at SIGUSR1
# and at SIGTERM), so the soak can tell whether a denied destination was ever
# reached (a false allow), whatever the client believed.
#
#   server.py PORT COUNTS ADDR...

import json
import os
import selectors
import signal
import socket
import sys
import time

port = int(sys.argv[1])
counts_path = sys.argv[2]
addrs = sys.argv[3:]
counts = {}  # "tcp 198.51.100.20" -> n
errors = 0


def norm(a):
    return a[7:] if a.startswith("::ffff:") else a


def dump():
    tmp = counts_path + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"counts": counts, "errors": errors, "time": time.time()}, f)
    os.replace(tmp, counts_path)


def on_term(*_):
    dump()
    sys.exit(0)


signal.signal(signal.SIGTERM, on_term)
signal.signal(signal.SIGUSR1, lambda *_: dump())
sel = selectors.DefaultSelector()
# One socket per address for each protocol: a TCP connection's local
# address, and a UDP echo that leaves from the address it was sent to.
for a in addrs:
    fam = socket.AF_INET6 if ":" in a else socket.AF_INET
    t = socket.socket(fam, socket.SOCK_STREAM)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if fam == socket.AF_INET6:
        t.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    t.bind((a, port))
    t.listen(256)
    t.setblocking(False)
    sel.register(t, selectors.EVENT_READ, ("tcp", a))
    u = socket.socket(fam, socket.SOCK_DGRAM)
    if fam == socket.AF_INET6:
        u.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    u.bind((a, port))
    u.setblocking(False)
    sel.register(u, selectors.EVENT_READ, ("udp", a))

dump()
print("ready", flush=True)
last = time.monotonic()
while True:
    for key, _ in sel.select(timeout=1.0):
        proto, a = key.data
        s = key.fileobj
        try:
            if proto == "tcp":
                c, _peer = s.accept()
                k = "tcp " + norm(c.getsockname()[0])
                counts[k] = counts.get(k, 0) + 1
                try:
                    c.sendall(b"ok\n")
                except OSError:
                    errors += 1
                c.close()
            else:
                data, peer = s.recvfrom(65535)
                k = "udp " + a
                counts[k] = counts.get(k, 0) + 1
                s.sendto(data, peer)
        except (BlockingIOError, InterruptedError):
            pass
        except OSError as e:
            errors += 1
            print("server error:", proto, a, e, flush=True)
    now = time.monotonic()
    if now - last >= 1.0:
        dump()
        last = now
